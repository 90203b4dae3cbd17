// The scanner's offline queue in IndexedDB: each scan with its nonce and original time.
// An item leaves the queue only after the server has answered for it, so nothing queued
// is lost; a sync cut off halfway simply sends the rest (or all of it) again.
const DB_NAME = "youthclub-scanner";
const STORE = "scans";

function open() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => {
      const store = req.result.createObjectStore(STORE, { keyPath: "nonce" });
      store.createIndex("session_id", "session_id");
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function run(mode, work) {
  return open().then((db) => new Promise((resolve, reject) => {
    const tx = db.transaction(STORE, mode);
    const result = work(tx.objectStore(STORE));
    tx.oncomplete = () => { db.close(); resolve(result && "result" in result ? result.result : undefined); };
    tx.onerror = () => { db.close(); reject(tx.error); };
    tx.onabort = () => { db.close(); reject(tx.error); };
  }));
}

export function add(scan) {
  return run("readwrite", (store) => { store.put(scan); });
}

export function all() {
  return run("readonly", (store) => store.getAll());
}

export function remove(nonces) {
  return run("readwrite", (store) => { nonces.forEach((n) => store.delete(n)); });
}

export function count() {
  return run("readonly", (store) => store.count());
}
