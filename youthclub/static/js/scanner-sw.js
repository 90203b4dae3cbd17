// Service worker of the door scanner, scoped to /scan/ (served as /scan/sw.js).
// It keeps what the scanner needs to open with no signal: its scripts, styles and QR decoder,
// and the scanner pages of today's sessions (the page asks for those after it has fetched
// today's door roster). Pages: network first with a short timeout, then the copy. Scripts
// and styles: the copy at once, refreshed in the background. Nothing else is touched, and
// a page that now answers with a log-in redirect drops every kept page.
const SHELL = "youthclub-scanner-shell-v1";
const PAGES = "youthclub-scanner-pages";
const NETWORK_TIMEOUT_MS = 3000;
const SHELL_URLS = [
  "/static/css/app.css",
  "/static/js/scanner.js",
  "/static/js/offline-queue.js",
  "/static/js/door-rules.js",
  "/static/js/door.js",
  "/static/vendor/qr-scanner/qr-scanner.min.js",
  "/static/vendor/qr-scanner/qr-scanner-worker.min.js",
  "/static/img/icon.svg",
  "/scan/manifest.webmanifest",
];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(SHELL).then((cache) => cache.addAll(SHELL_URLS)).catch(() => {}).then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys
        .filter((k) => k.startsWith("youthclub-scanner-shell") && k !== SHELL)
        .map((k) => caches.delete(k))))
      .then(() => self.clients.claim())
  );
});

function forgetPages() {
  return caches.delete(PAGES);
}

function isPage(url) {
  return url.pathname === "/scan/" || /^\/scan\/\d+$/.test(url.pathname);
}

function isShell(url) {
  return SHELL_URLS.includes(url.pathname);
}

function withTimeout(promise, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timeout")), ms);
    promise.then((r) => { clearTimeout(timer); resolve(r); }, (e) => { clearTimeout(timer); reject(e); });
  });
}

async function page(request) {
  const url = new URL(request.url);
  const key = url.origin + url.pathname;
  try {
    const response = await withTimeout(fetch(request), NETWORK_TIMEOUT_MS);
    if (response.type === "opaqueredirect" || response.redirected) {
      // logged out or access ended: no personal page stays on the device
      await forgetPages();
    } else if (response.ok && (response.headers.get("Content-Type") || "").includes("text/html")) {
      const copy = response.clone();
      await caches.open(PAGES).then((cache) => cache.put(key, copy));
    }
    return response;
  } catch (e) {
    const hit = await caches.match(key, { cacheName: PAGES });
    return hit || Response.error();
  }
}

async function shell(request, event) {
  const url = new URL(request.url);
  const hit = await caches.match(url.pathname, { cacheName: SHELL });
  const fresh = fetch(request).then((response) => {
    if (response.ok) {
      const copy = response.clone();
      caches.open(SHELL).then((cache) => cache.put(url.pathname, copy));
    }
    return response;
  });
  if (hit) {
    event.waitUntil(fresh.catch(() => {}));
    return hit;
  }
  return fresh;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (isPage(url)) event.respondWith(page(request));
  else if (isShell(url)) event.respondWith(shell(request, event));
});

// The scanner page asks to keep today's scanner pages, or to forget them (access ended).
self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type === "keep-pages" && Array.isArray(data.urls)) {
    event.waitUntil(caches.open(PAGES).then((cache) => Promise.all(data.urls.map((u) => {
      const url = new URL(u, self.location.origin);
      if (url.origin !== self.location.origin || !isPage(url)) return null;
      return fetch(url, { credentials: "same-origin", redirect: "manual" }).then((response) => {
        if (response.ok && !response.redirected) return cache.put(url.origin + url.pathname, response);
        return null;
      }).catch(() => null);
    }))));
  } else if (data.type === "forget-pages") {
    event.waitUntil(forgetPages());
  }
});
