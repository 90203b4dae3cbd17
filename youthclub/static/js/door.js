// The scanner's start page (/scan/): install the scanner's service worker, so that this page and
// the scanner open with no signal after one visit.
const root = document.getElementById("door");
if (root && "serviceWorker" in navigator) {
  navigator.serviceWorker.register(root.dataset.sw, { scope: root.dataset.scope }).catch(() => {});
}
