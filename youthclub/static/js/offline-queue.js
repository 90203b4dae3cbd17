// The scanner's storage in IndexedDB: the offline queue (each scan with its nonce and original
// time) and today's door roster. An item leaves the queue only after the server has answered
// for it, so nothing queued is lost; a sync cut off halfway simply sends the rest again.
// Every function rejects when the browser refuses (private mode, storage full): the scanner
// then says loudly that the scan was NOT saved.
const DB_NAME = "youthclub-scanner";
const STORE = "scans";
const ROSTER = "roster";

function open() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 2);
    req.onupgradeneeded = (event) => {
      const db = req.result;
      if (event.oldVersion < 1) {
        db.createObjectStore(STORE, { keyPath: "nonce" }).createIndex("session_id", "session_id");
      }
      if (event.oldVersion < 2) db.createObjectStore(ROSTER);
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
    req.onblocked = () => reject(new Error("blocked"));
  });
}

function run(storeName, mode, work) {
  return open().then((db) => new Promise((resolve, reject) => {
    let result;
    try {
      const tx = db.transaction(storeName, mode);
      tx.oncomplete = () => { db.close(); resolve(result && "result" in result ? result.result : undefined); };
      tx.onerror = () => { db.close(); reject(tx.error); };
      tx.onabort = () => { db.close(); reject(tx.error || new Error("aborted")); };
      result = work(tx.objectStore(storeName));
    } catch (e) {
      db.close();
      reject(e);
    }
  }));
}

export function add(scan) {
  return run(STORE, "readwrite", (store) => { store.put(scan); });
}

export function all() {
  return run(STORE, "readonly", (store) => store.getAll());
}

// The first `n` queued scans (a batch the server accepts).
export function first(n) {
  return run(STORE, "readonly", (store) => store.getAll(null, n));
}

export function remove(nonces) {
  return run(STORE, "readwrite", (store) => { nonces.forEach((n) => store.delete(n)); });
}

export function count() {
  return run(STORE, "readonly", (store) => store.count());
}

export function getRoster() {
  return run(ROSTER, "readonly", (store) => store.get("today"));
}

export function putRoster(roster) {
  return run(ROSTER, "readwrite", (store) => { store.put(roster, "today"); });
}

export function clearRoster() {
  return run(ROSTER, "readwrite", (store) => { store.clear(); });
}
