/* Logging out on this device also forgets what the technician's page kept for offline use: the
 * service worker's copies of the route (merchants' names and phones) and its registration. The
 * outbox of unsent check-ins/check-outs is deleted only when it is empty, or once the user has
 * been shown what would be lost and agreed. */
(() => {
  'use strict';
  const form = document.getElementById('logout-form');
  if (!form) return;
  const DB_NAME = 'fieldsvc-tech';
  const STORE = 'outbox';

  function unsent() {
    return new Promise((resolve) => {
      if (!window.indexedDB) { resolve([]); return; }
      const req = indexedDB.open(DB_NAME, 1);
      req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: 'client_event_id' });
      req.onerror = () => resolve([]);
      req.onsuccess = () => {
        const db = req.result;
        try {
          const all = db.transaction(STORE, 'readonly').objectStore(STORE).getAll();
          all.onsuccess = () => { db.close(); resolve(all.result || []); };
          all.onerror = () => { db.close(); resolve([]); };
        } catch (e) {
          db.close();
          resolve([]);
        }
      };
    });
  }

  function forget() {
    const jobs = [];
    if (window.caches) {
      jobs.push(caches.keys().then((keys) => Promise.all(
        keys.filter((k) => k.startsWith('fieldsvc-tech-')).map((k) => caches.delete(k)))));
    }
    if (window.indexedDB) {
      jobs.push(new Promise((resolve) => {
        const del = indexedDB.deleteDatabase(DB_NAME);
        del.onsuccess = del.onerror = del.onblocked = () => resolve();
      }));
    }
    if (navigator.serviceWorker) {
      jobs.push(navigator.serviceWorker.getRegistrations()
        .then((regs) => Promise.all(regs.map((r) => r.unregister()))));
    }
    return Promise.all(jobs.map((p) => p.catch(() => null)));
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const items = await unsent();
    if (items.length) {
      const lines = items.map((it) => `• ${it.label || ''} — ${it.kind === 'check_in' ? form.dataset.checkIn
        : form.dataset.checkOut}`);
      const text = form.dataset.unsent.replace('%(n)s', String(items.length));
      if (!window.confirm(`${text}\n${lines.join('\n')}`)) return;
    }
    await forget();
    form.submit();
  });
})();
