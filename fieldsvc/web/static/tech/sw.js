/* Service worker of the technician's pages (scope /tech/).
 * Pages under /tech/: network first, the last copy from the cache when offline (the page itself
 * warns when that copy is not today's). Assets (/static/, /vendor/): cache first, refreshed in the
 * background. POSTs are never touched: the page keeps its own outbox in IndexedDB. Logging out
 * (static/logout.js) deletes these caches; a page answered by the login page deletes them too. */
'use strict';
const CACHE = 'fieldsvc-tech-v1';

self.addEventListener('install', () => self.skipWaiting());

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith('fieldsvc-tech-') && k !== CACHE)
      .map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

/* The page sends the URLs it was built from (itself, its styles and scripts) to keep for offline use. */
self.addEventListener('message', (event) => {
  const data = event.data || {};
  if (data.type !== 'cache' || !Array.isArray(data.urls)) return;
  event.waitUntil(caches.open(CACHE).then((cache) => Promise.all(data.urls.map((url) => {
    const u = new URL(url, self.location.origin);
    if (u.origin !== self.location.origin) return null;
    return fetch(u.href, { credentials: 'same-origin', cache: 'no-cache' })
      .then((resp) => (resp.ok && !resp.redirected ? cache.put(u.href, resp) : null))
      .catch(() => null);
  }))));
});

function networkFirst(request) {
  return fetch(request).then((resp) => {
    if (resp.redirected && new URL(resp.url).pathname === '/login') {
      caches.delete(CACHE); // logged out (here or elsewhere): keep no copy of the route
    } else if (resp.ok && !resp.redirected) {
      const copy = resp.clone();
      caches.open(CACHE).then((cache) => cache.put(request, copy));
    }
    return resp;
  }).catch(() => caches.match(request).then((hit) => hit || caches.match(new URL('/tech/', self.location.origin).href))
    .then((hit) => hit || new Response('offline', { status: 503, headers: { 'Content-Type': 'text/plain' } })));
}

function cacheFirst(request) {
  return caches.match(request).then((hit) => {
    const refresh = fetch(request).then((resp) => {
      if (resp.ok) {
        const copy = resp.clone();
        caches.open(CACHE).then((cache) => cache.put(request, copy));
      }
      return resp;
    });
    if (hit) {
      refresh.catch(() => null);
      return hit;
    }
    return refresh;
  });
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/tech/') || url.pathname.startsWith('/api/v1/tech/')) {
    if (url.pathname === '/tech/sw.js') return;
    event.respondWith(networkFirst(request));
  } else if (url.pathname.startsWith('/static/') || url.pathname.startsWith('/vendor/')) {
    event.respondWith(cacheFirst(request));
  }
});
