// Registers the pass page's service worker, so the pass opens with no signal once it has been seen.
if ("serviceWorker" in navigator) {
  const root = document.getElementById("my-pass");
  navigator.serviceWorker.register(root.dataset.sw, { scope: root.dataset.scope }).catch(() => {});
}
