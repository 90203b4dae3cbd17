// Service worker for the young person's pass (/me/pass). Network first, so a new pass
// (after a revoke) shows at once; the last copy is served when there is no signal.
const CACHE = "youthclub-pass-v1";
const PASS = "/me/pass";

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE)
      .then((cache) => cache.addAll([PASS, "/static/css/app.css", "/me/pass.webmanifest"]))
      .catch(() => {})
      .then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim())
  );
});

function cacheable(url) {
  return url.origin === self.location.origin &&
    (url.pathname === PASS || url.pathname.startsWith("/static/") || url.pathname === "/me/pass.webmanifest");
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (!cacheable(url)) return;
  event.respondWith(
    fetch(request)
      .then((response) => {
        // keep only a real pass page, never a redirect to log-in
        if (response.ok && !response.redirected) {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(url.pathname === PASS ? PASS : request, copy));
        }
        return response;
      })
      .catch(() => caches.match(url.pathname === PASS ? PASS : request).then((hit) => hit || Response.error()))
  );
});
