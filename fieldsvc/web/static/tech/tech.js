/* Technician's route page: check-in with the phone's location, check-out with outcome and photos,
 * and an outbox in IndexedDB so that nothing done offline is lost. Every event carries a
 * client_event_id (crypto.randomUUID) and the device time; the server applies each one exactly
 * once, so sending again after a lost answer is always safe. */
(() => {
  'use strict';
  const app = document.getElementById('tech-app');
  if (!app) return;
  const T = JSON.parse(document.getElementById('tech-messages').textContent);
  const OUTCOMES = JSON.parse(document.getElementById('tech-outcomes').textContent);
  const CSRF = (document.querySelector('meta[name="csrf-token"]') || {}).content || '';
  const MAX_PHOTOS = Number(app.dataset.maxPhotos);
  const MAX_PHOTO_BYTES = Number(app.dataset.maxPhotoBytes);
  const PHOTO_TYPES = ['image/jpeg', 'image/png', 'image/webp'];
  const FIX_MAX_AGE_MS = 120000;
  const MIN_VISIT_MS = 120000;
  const RESIZE_ABOVE = 1500000;
  const RETRY_MS = 20000;

  const NUM = new Intl.NumberFormat(document.documentElement.lang || undefined, { maximumFractionDigits: 0 });
  const showNum = (v) => (typeof v === 'number' || /^\d+$/.test(String(v)) ? NUM.format(Number(v)) : v);
  const fmt = (s, args) => String(s).replace(/%\((\w+)\)s/g, (_, k) => (args && k in args ? showNum(args[k]) : ''));
  const $ = (root, sel) => root.querySelector(sel);
  const show = (el, on) => el && el.classList.toggle('d-none', !on);
  const cards = () => Array.from(document.querySelectorAll('article.stop'));
  const cardOf = (visitId) => document.getElementById(`stop-${visitId}`);

  function uuid() {
    if (self.crypto && crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  /* ------------------------------------------------------------------ outbox (IndexedDB) */
  const DB_NAME = 'fieldsvc-tech';
  const STORE = 'outbox';
  let dbPromise = null;
  function idb() {
    if (!dbPromise) {
      dbPromise = new Promise((resolve, reject) => {
        const req = indexedDB.open(DB_NAME, 1);
        req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: 'client_event_id' });
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
      });
    }
    return dbPromise;
  }
  async function store(mode, fn) {
    const db = await idb();
    return new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const req = fn(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(req ? req.result : undefined);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  }
  const outbox = {
    put: (item) => store('readwrite', (s) => s.put(item)),
    remove: (id) => store('readwrite', (s) => s.delete(id)),
    all: async () => ((await store('readonly', (s) => s.getAll())) || []).sort((a, b) => a.seq - b.seq),
  };
  let seqCounter = 0;
  const nextSeq = () => Date.now() * 1000 + (seqCounter++ % 1000);

  /* ------------------------------------------------------------------ page state */
  let overlay = new Map(); // visit id → {checkIn: item, checkOut: item} still waiting to be sent

  function setMessage(card, text, kind) {
    const el = $(card, '.stop-message');
    el.textContent = text || '';
    el.className = `stop-message small mb-2${kind ? ` text-${kind}-emphasis fw-semibold` : ''}`;
  }

  function flagText(card, flags, distance, accuracy) {
    const r = card.dataset.geofence;
    return flags.map((f) => ({
      distance: fmt(T.too_far, { d: distance, r }),
      stale_fix: T.stale,
      accuracy: fmt(T.inaccurate, { a: accuracy == null ? '?' : Math.round(accuracy), r }),
      no_position: T.no_position,
      off_day: T.off_day,
      closed_hours: T.closed_hours,
    }[f] || f)).join('; ');
  }

  function render(card) {
    const o = overlay.get(card.dataset.visitId) || {};
    const status = card.dataset.status;
    const done = ['completed', 'failed', 'missed', 'cancelled'].includes(status) || !!o.checkOut;
    const checkedIn = !done && (status === 'checked_in' || !!o.checkIn);
    show($(card, '.checkin-panel'), !done && !checkedIn);
    show($(card, '.checkout-form'), checkedIn);
    card.classList.toggle('is-done', done);
    const badge = $(card, '.stop-status');
    if (o.checkOut) {
      setMessage(card, T.checked_out_waiting, 'warning');
      badge.textContent = T.kind_check_out;
    } else if (o.checkIn && status !== 'checked_in') {
      setMessage(card, T.checked_in_waiting, 'warning');
      badge.textContent = T.kind_check_in;
    } else if (done && card.dataset.outcome) {
      setMessage(card, fmt(T.done, { outcome: OUTCOMES[card.dataset.outcome] || card.dataset.outcome }), 'success');
    } else if (checkedIn && card.dataset.verified === '1') {
      setMessage(card, fmt(T.verified, { d: card.dataset.distance }), 'success');
    } else if (checkedIn && card.dataset.verified === '0') {
      const flags = (card.dataset.flags || '').split(',').filter(Boolean);
      setMessage(card, fmt(T.flagged, { why: flagText(card, flags, card.dataset.distance) }), 'warning');
    }
  }

  function applyServerVisit(visit) {
    const card = cardOf(visit.id);
    if (!card) return;
    card.dataset.status = visit.status;
    if (visit.checkin) {
      card.dataset.verified = visit.checkin.verified ? '1' : '0';
      card.dataset.distance = visit.checkin.distance_m == null ? '' : Math.round(visit.checkin.distance_m);
      card.dataset.flags = (visit.checkin.flags || []).join(',');
      card.dataset.checkinAt = visit.checkin.at || card.dataset.checkinAt || '';
    }
    card.dataset.outcome = (visit.checkout && visit.checkout.outcome) || '';
    $(card, '.stop-status').textContent = (T.statuses || {})[visit.status] || visit.status;
  }

  /* ------------------------------------------------------------------ outbox view and sending */
  async function refresh() {
    const items = await outbox.all();
    overlay = new Map();
    for (const it of items) {
      if (it.status !== 'waiting') continue;
      const o = overlay.get(String(it.visit_id)) || {};
      o[it.kind === 'check_in' ? 'checkIn' : 'checkOut'] = it;
      overlay.set(String(it.visit_id), o);
    }
    const waiting = items.filter((it) => it.status === 'waiting');
    $(document, '#outbox-count').textContent = waiting.length ? fmt(T.waiting, { n: waiting.length }) : T.all_sent;
    show($(document, '#outbox-send'), waiting.length > 0);
    const list = $(document, '#outbox-list');
    list.replaceChildren(...items.map((it) => {
      const li = document.createElement('li');
      const span = document.createElement('span');
      span.textContent = `${it.label} | ${it.kind === 'check_in' ? T.kind_check_in : T.kind_check_out} | `
        + `${new Date(it.body.at).toLocaleTimeString()}${it.status === 'failed' ? ` — ${fmt(T.failed, { msg: it.error })}` : ''}`;
      li.append(span);
      li.dataset.eventId = it.client_event_id;
      li.className = it.status === 'failed' ? 'outbox-failed' : 'outbox-waiting';
      if (it.status === 'failed') {
        const btn = document.createElement('button');
        btn.type = 'button';
        btn.className = 'btn btn-sm btn-outline-danger outbox-remove';
        btn.textContent = T.remove;
        btn.addEventListener('click', async () => { await outbox.remove(it.client_event_id); refresh(); });
        li.append(btn);
      }
      return li;
    }));
    cards().forEach(render);
  }

  function send(item) {
    const headers = { 'X-CSRFToken': CSRF, Accept: 'application/json' };
    let body;
    if (item.photos && item.photos.length) {
      body = new FormData();
      body.append('payload', JSON.stringify(item.body));
      item.photos.forEach((p) => body.append('photos', p.blob, p.name));
    } else {
      body = JSON.stringify(item.body);
      headers['Content-Type'] = 'application/json';
    }
    const ctrl = new AbortController();
    inFlight = ctrl;
    const timer = setTimeout(() => ctrl.abort(), item.photos && item.photos.length ? 60000 : 20000);
    return fetch(item.url, { method: 'POST', headers, body, credentials: 'same-origin', signal: ctrl.signal })
      .finally(() => { clearTimeout(timer); if (inFlight === ctrl) inFlight = null; });
  }

  let flushing = null;
  let inFlight = null;
  function flush() {
    if (!flushing) flushing = doFlush().finally(() => { flushing = null; });
    return flushing;
  }
  /* Back online: a request started on a dead connection may hang; drop it and send again
   * (safe: the server applies each client_event_id once). */
  function flushNow() {
    if (inFlight) inFlight.abort();
    const running = flushing || Promise.resolve();
    return running.then(flush);
  }
  async function doFlush() {
    if (!navigator.onLine) return;
    try {
      for (const item of await outbox.all()) {
        if (item.status !== 'waiting') continue;
        let resp;
        try {
          resp = await send(item);
        } catch (e) {
          return; // no connection: the outbox is kept and sent later
        }
        const json = (resp.headers.get('Content-Type') || '').includes('application/json');
        if ((resp.status === 200 || resp.status === 202) && json && !resp.redirected) {
          const visit = await resp.json();
          await outbox.remove(item.client_event_id);
          applyServerVisit(visit);
        } else if (resp.status === 401 || resp.redirected) {
          setBanner(T.logged_out);
          return;
        } else if (resp.status >= 500 || resp.status === 408 || resp.status === 429 || !json) {
          return;
        } else {
          let msg = `HTTP ${resp.status}`;
          try { msg = (await resp.json()).error.message || msg; } catch (e) { /* keep the status */ }
          item.status = 'failed';
          item.error = msg;
          await outbox.put(item);
          const card = cardOf(item.visit_id);
          if (card) {
            await refresh();
            setMessage(card, fmt(T.failed, { msg }), 'danger');
            if (item.kind === 'check_in' && /reason/i.test(msg)) show($(card, '.reason-box'), true);
          }
        }
      }
    } finally {
      await refresh();
    }
  }

  async function enqueue(card, kind, body, photos) {
    const item = {
      client_event_id: body.client_event_id, visit_id: Number(card.dataset.visitId), kind,
      url: kind === 'check_in' ? card.dataset.checkinUrl : card.dataset.checkoutUrl,
      body, photos: photos || [], seq: nextSeq(), status: 'waiting', error: '',
      label: $(card, 'h2').textContent.trim(),
    };
    await outbox.put(item);
    await refresh();
    if (!navigator.onLine) setMessage(card, T.queued, 'warning');
    flush();
  }

  /* ------------------------------------------------------------------ check-in */
  function haversine(lat1, lon1, lat2, lon2) {
    const rad = Math.PI / 180;
    const dLat = (lat2 - lat1) * rad;
    const dLon = (lon2 - lon1) * rad;
    const h = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
    return 2 * 6371008.8 * Math.asin(Math.min(1, Math.sqrt(h)));
  }

  function assess(card, reading, at) {
    const radius = Number(card.dataset.geofence);
    if (reading.lat == null) return { flags: ['no_position'], distance: null };
    const distance = Math.round(haversine(reading.lat, reading.lon, Number(card.dataset.lat), Number(card.dataset.lon)));
    const flags = [];
    if (distance > radius) flags.push('distance');
    if (at - new Date(reading.fix_at) > FIX_MAX_AGE_MS) flags.push('stale_fix');
    if (reading.accuracy_m > radius) flags.push('accuracy');
    return { flags, distance };
  }

  /* Issue 17.3: the same timing rules as the server (fieldsvc/visits/checkin_rules.py). */
  function localParts(at) {
    const tz = app.dataset.tz || 'Asia/Tehran';
    const date = new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
    const hm = new Intl.DateTimeFormat('en-GB', { timeZone: tz, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(at);
    return { date, hm };
  }

  function timeFlags(card, at) {
    const { date, hm } = localParts(at);
    const flags = [];
    if (card.dataset.plannedDate && card.dataset.plannedDate !== date) flags.push('off_day');
    const hours = JSON.parse(card.dataset.hours || 'null');
    if (hours && date === app.dataset.date && !hours.some(([a, b]) => a <= hm && hm <= b)) flags.push('closed_hours');
    return flags;
  }

  function askReason(card, message) {
    setMessage(card, message, 'warning');
    show($(card, '.reason-box'), true);
    $(card, '.reason').focus();
  }

  function checkInBody(at, reading, reason) {
    return {
      lat: reading.lat, lon: reading.lon, accuracy_m: reading.accuracy_m, fix_at: reading.fix_at,
      position_error: reading.position_error || null, at: at.toISOString(), reason: reason || null,
      client_event_id: uuid(),
    };
  }

  function startCheckIn(card) {
    const at = new Date();
    show($(card, '.location-help'), false);
    show($(card, '.reason-box'), false);
    if (!navigator.geolocation) {
      card.pendingCheckIn = { at, reading: { lat: null, lon: null, accuracy_m: null, fix_at: null, position_error: 'unavailable' } };
      askReason(card, T.no_geolocation);
      return;
    }
    setMessage(card, T.locating);
    navigator.geolocation.getCurrentPosition((pos) => {
      const c = pos.coords;
      const reading = { lat: c.latitude, lon: c.longitude, accuracy_m: c.accuracy, fix_at: new Date(pos.timestamp).toISOString() };
      const { flags, distance } = assess(card, reading, at);
      const timing = timeFlags(card, at);
      card.pendingCheckIn = { at, reading };
      if (flags.length) {
        askReason(card, fmt(T.need_reason, { why: flagText(card, flags, distance, c.accuracy) }));
      } else if (timing.length) {
        askReason(card, fmt(T.need_reason_time, { why: timing.map((f) => T[f]).join('; ') }));
      } else {
        card.dataset.verified = '1';
        card.dataset.distance = distance;
        card.dataset.checkinAt = at.toISOString();
        enqueue(card, 'check_in', checkInBody(at, reading, null));
      }
    }, (err) => {
      const code = { 1: 'denied', 2: 'unavailable', 3: 'timeout' }[err.code] || 'unavailable';
      card.pendingCheckIn = { at, reading: { lat: null, lon: null, accuracy_m: null, fix_at: null, position_error: code } };
      show($(card, '.location-help'), code === 'denied');
      askReason(card, T[code]);
    }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 0 });
  }

  function checkInWithReason(card) {
    const reason = $(card, '.reason').value.trim();
    if (!reason) { setMessage(card, T.reason_empty, 'danger'); return; }
    const pending = card.pendingCheckIn;
    if (!pending) { startCheckIn(card); return; }
    card.pendingCheckIn = null;
    show($(card, '.reason-box'), false);
    show($(card, '.location-help'), false);
    card.dataset.checkinAt = pending.at.toISOString();
    enqueue(card, 'check_in', checkInBody(pending.at, pending.reading, reason));
  }

  /* ------------------------------------------------------------------ check-out */
  async function shrink(file) {
    if (file.size <= RESIZE_ABOVE || !self.createImageBitmap) return file;
    try {
      const bmp = await createImageBitmap(file);
      const scale = Math.min(1, 2000 / Math.max(bmp.width, bmp.height));
      const canvas = document.createElement('canvas');
      canvas.width = Math.round(bmp.width * scale);
      canvas.height = Math.round(bmp.height * scale);
      canvas.getContext('2d').drawImage(bmp, 0, 0, canvas.width, canvas.height);
      const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', 0.85));
      return blob && blob.size < file.size ? blob : file;
    } catch (e) {
      return file;
    }
  }

  /* PM inspection (issue 23.5): the answers travel inside the check-out, so the outbox keeps them
   * offline with it. Required items must be answered unless nothing could be done on site. Photo
   * items add their photo to the check-out's photos and send its 1-based position. */
  const NOTHING_DONE = ['merchant_closed', 'merchant_refused'];
  async function readChecklist(card, form, outcome, photos) {
    const checklist = [];
    const strict = !NOTHING_DONE.includes(outcome);
    for (const box of form.querySelectorAll('.checklist-terminal')) {
      for (const el of box.querySelectorAll('.checklist-item')) {
        const label = el.querySelector('.small').textContent.replace('*', '').trim();
        const answer = { terminal: box.dataset.terminal, item_id: Number(el.dataset.itemId) };
        const kind = el.dataset.kind;
        if (kind === 'pass_fail') {
          const picked = el.querySelector('input:checked');
          if (picked) answer.passed = picked.value === 'pass';
        } else if (kind === 'reading') {
          const raw = el.querySelector('.ck-value').value.trim();
          if (raw) {
            const n = typedNumber(raw);
            if (Number.isNaN(n)) { setMessage(card, fmt(T.checklist_number, { label }), 'danger'); return null; }
            answer.value = n;
          }
        } else {
          const file = (el.querySelector('.ck-photo').files || [])[0];
          if (file) {
            if (!PHOTO_TYPES.includes(file.type)) { setMessage(card, fmt(T.photo_type, { name: file.name }), 'danger'); return null; }
            if (photos.length >= MAX_PHOTOS) { setMessage(card, fmt(T.too_many_photos, { n: MAX_PHOTOS }), 'danger'); return null; }
            const small = await shrink(file);
            photos.push({ name: file.name, blob: new Blob([await small.arrayBuffer()], { type: small.type || file.type }) });
            answer.photo = photos.length;
          }
        }
        const answered = 'passed' in answer || 'value' in answer || 'photo' in answer;
        if (!answered) {
          if (strict && el.dataset.required === '1') { setMessage(card, fmt(T.checklist_missing, { label }), 'danger'); return null; }
          continue;
        }
        checklist.push(answer);
      }
    }
    let feedback = null;
    const fb = form.querySelector('.feedback');
    if (fb) {
      const score = fb.querySelector('.fb-score:checked');
      const declined = fb.querySelector('.fb-declined').checked;
      const comment = fb.querySelector('.fb-comment').value.trim();
      if (score || declined || comment) feedback = { score: score && !declined ? Number(score.value) : null, comment, declined };
    }
    return { checklist, feedback };
  }

  async function submitCheckOut(card, form) {
    const at = new Date();
    const outcome = $(form, '.outcome').value;
    if (!outcome) { setMessage(card, T.choose_outcome, 'danger'); return; }
    const oldSerial = $(form, '.old-serial').value.trim();
    const newSerial = $(form, '.new-serial').value.trim();
    if (outcome === 'swapped' && (!oldSerial || !newSerial)) { setMessage(card, T.need_serials, 'danger'); return; }
    const codeInput = $(form, '.code');
    if (codeInput && !codeInput.value.trim()) { setMessage(card, T.need_code, 'danger'); return; }
    const files = Array.from($(form, '.photos').files || []);
    if (files.length > MAX_PHOTOS) { setMessage(card, fmt(T.too_many_photos, { n: MAX_PHOTOS }), 'danger'); return; }
    const photos = [];
    for (const f of files) {
      if (!PHOTO_TYPES.includes(f.type)) { setMessage(card, fmt(T.photo_type, { name: f.name }), 'danger'); return; }
      const small = await shrink(f);
      if (small.size > MAX_PHOTO_BYTES) { setMessage(card, fmt(T.photo_too_big, { name: f.name }), 'danger'); return; }
      // a copy of the bytes, so the outbox keeps them even if the picked file goes away
      photos.push({ name: f.name, blob: new Blob([await small.arrayBuffer()], { type: small.type || f.type }) });
    }
    const inspection = await readChecklist(card, form, outcome, photos);
    if (!inspection) return;
    const consumables = countedParts(card, form);
    if (!consumables) return;
    const reason = $(form, '.checkout-reason').value.trim();
    const arrived = card.dataset.checkinAt ? new Date(card.dataset.checkinAt) : null;
    if (arrived && at - arrived < MIN_VISIT_MS && !reason) {
      show($(form, '.short-reason-box'), true);
      setMessage(card, T.short_visit, 'warning');
      $(form, '.checkout-reason').focus();
      return;
    }
    const body = {
      reason: reason || null,
      outcome, notes: $(form, '.notes').value.trim(), at: at.toISOString(), client_event_id: uuid(),
      parts_used: $(form, '.parts').value.split('\n').map((s) => s.trim()).filter(Boolean),
      consumables_used: consumables,
      old_serial: ['swapped', 'removed'].includes(outcome) ? oldSerial : null, new_serial: ['swapped', 'installed'].includes(outcome) ? newSerial : null,
      confirmation_code: codeInput ? codeInput.value.trim() : null,
      checklist: inspection.checklist, feedback: inspection.feedback,
    };
    await enqueue(card, 'check_out', body, photos);
    form.reset();
  }

  /** A number typed with Persian or Latin digits (NaN when it is not one). */
  function typedNumber(raw) {
    return Number(raw.replace(/[۰-۹]/g, (d) => '۰۱۲۳۴۵۶۷۸۹'.indexOf(d)).replace('٫', '.'));
  }

  /** Counted parts used: item → a whole number above zero (empty and zero left out); null, with
   * a message on the card, when one is not a whole number in range. */
  function countedParts(card, form) {
    const used = {};
    for (const el of form.querySelectorAll('.consumable')) {
      const raw = el.value.trim();
      if (!raw) continue;
      const n = typedNumber(raw), max = Number(el.dataset.max);
      if (!Number.isInteger(n) || n < 0 || n > max) {
        setMessage(card, fmt(T.parts_count, { label: el.dataset.label, max }), 'danger');
        el.focus();
        return null;
      }
      if (n > 0) used[el.dataset.item] = n;
    }
    return used;
  }

  /* ------------------------------------------------------------------ wiring */
  function setBanner(text) {
    const el = $(document, '#old-route');
    el.textContent = text;
    show(el, true);
  }

  function setNetStatus() {
    const el = $(document, '#net-status');
    el.textContent = navigator.onLine ? T.online : T.offline;
    el.className = `badge ${navigator.onLine ? 'text-bg-success' : 'text-bg-warning'}`;
  }

  function checkDay() {
    if (new URLSearchParams(location.search).has('date')) return;
    const tz = app.dataset.tz || 'Asia/Tehran';
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
    if (today !== app.dataset.date) setBanner(fmt(T.old_route, { date: app.dataset.dateLabel }));
  }

  function registerWorker() {
    if (!('serviceWorker' in navigator)) return;
    const swUrl = app.dataset.sw;
    navigator.serviceWorker.register(swUrl, { scope: new URL('./', new URL(swUrl, location.href)).pathname })
      .then(() => navigator.serviceWorker.ready)
      .then((reg) => {
        const urls = [location.href];
        document.querySelectorAll('link[rel="stylesheet"], link[rel="manifest"], script[src]')
          .forEach((el) => urls.push(el.href || el.src));
        (reg.active || navigator.serviceWorker.controller).postMessage({ type: 'cache', urls });
      })
      .catch(() => { /* no offline copy of the page; the outbox still works */ });
  }

  cards().forEach((card) => {
    $(card, '.checkin-btn').addEventListener('click', () => startCheckIn(card));
    $(card, '.checkin-reason-btn').addEventListener('click', () => checkInWithReason(card));
    const form = $(card, '.checkout-form');
    const outcome = $(form, '.outcome');
    outcome.addEventListener('change', () => show($(form, '.swap-fields'), ['swapped', 'installed', 'removed'].includes(outcome.value)));
    form.addEventListener('submit', (e) => { e.preventDefault(); submitCheckOut(card, form); });
  });
  $(document, '#outbox-send').addEventListener('click', () => flushNow());
  window.addEventListener('online', () => { setNetStatus(); flushNow(); });
  window.addEventListener('offline', setNetStatus);
  document.addEventListener('visibilitychange', () => { if (!document.hidden && navigator.onLine) flush(); });
  setInterval(() => { if (navigator.onLine) flush(); }, RETRY_MS);

  setNetStatus();
  checkDay();
  refresh().then(flush);
  registerWorker();
})();
