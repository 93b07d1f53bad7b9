/* The new-call form's terminal picker (issue 17.7): asks the server as the desk types (serial,
 * merchant name, phone, terminal ID) instead of shipping every terminal in the page. Choosing a
 * result fills the serial field and the hidden terminal_id. Without this script the serial
 * field alone still works. */
(function () {
  'use strict';
  const box = document.querySelector('.terminal-picker');
  if (!box) return;
  const L = JSON.parse(document.getElementById('picker-labels').textContent);
  const input = document.getElementById('terminal-search');
  const results = document.getElementById('terminal-results');
  const status = document.getElementById('terminal-status');
  const hidden = box.querySelector('input[name=terminal_id]');
  const serial = document.querySelector('input[name=terminal_serial]');
  let timer = null;
  let asked = '';

  function clear() {
    results.replaceChildren();
    input.setAttribute('aria-expanded', 'false');
  }

  function choose(t) {
    hidden.value = t.id;
    if (serial) serial.value = t.serial;
    input.value = '';
    clear();
    status.textContent = `${L.chosen} ${t.merchant.name} — ${t.serial} (${t.model})`;
  }

  function render(list) {
    clear();
    if (!list.length) { status.textContent = L.none; return; }
    status.textContent = '';
    for (const t of list) {
      const item = document.createElement('button');
      item.type = 'button';
      item.className = 'list-group-item list-group-item-action';
      item.setAttribute('role', 'option');
      const name = document.createElement('bdi');
      name.textContent = t.merchant.name;
      const code = document.createElement('span');
      code.className = 'code small ms-2';
      code.dir = 'ltr';
      code.translate = false;
      code.textContent = `${t.serial} | ${t.model}${t.merchant.phone ? ' | ' + t.merchant.phone : ''}`;
      item.append(name, code);
      item.addEventListener('click', () => choose(t));
      results.append(item);
    }
    input.setAttribute('aria-expanded', 'true');
  }

  async function search() {
    const q = input.value.trim();
    if (q.length < 2) { clear(); status.textContent = q ? L.short : ''; return; }
    asked = q;
    try {
      const resp = await fetch(`${box.dataset.searchUrl}?q=${encodeURIComponent(q)}`, { headers: { Accept: 'application/json' } });
      if (!resp.ok) throw new Error(String(resp.status));
      const list = await resp.json();
      if (asked === q) render(list);
    } catch (e) {
      status.textContent = L.error;
    }
  }

  input.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(search, 250); });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') { e.preventDefault(); const first = results.querySelector('button'); if (first) first.click(); }
  });
})();
