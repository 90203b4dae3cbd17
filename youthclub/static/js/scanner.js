// The door scanner: rapid-mode QR scanning with colour, sound and vibration, a name search,
// and an offline queue that syncs by itself. Data comes from the page's data-* attributes.
import QrScanner from "../vendor/qr-scanner/qr-scanner.min.js";
import * as queue from "./offline-queue.js";

const root = document.getElementById("scanner");
const sessionId = Number(root.dataset.sessionId);
const texts = JSON.parse(root.dataset.texts);
const csrf = root.dataset.csrf;
const $ = (id) => document.getElementById(id);
const els = {
  video: $("scan-video"), result: $("scan-result"), name: $("scan-result-name"), text: $("scan-result-text"),
  override: $("scan-override"), count: $("scan-count"), network: $("scan-network"), queue: $("scan-queue"),
  cameraError: $("scan-camera-error"), login: $("scan-login"), search: $("scan-search"), q: $("scan-search-q"), results: $("scan-search-results"),
};
const SHOW_MS = 2000;      // how long a result stays on screen
const REPEAT_MS = 3000;    // the same pass seen again within this time is the same scan
const recent = new Map();  // token -> last time seen
const queuedTokens = new Set();
let hideTimer = null;
let syncing = false;
let audio = null;

// measurements for the browser journeys (scan-to-confirmation latency)
window.scannerLog = [];

function fill(template, values) {
  return template.replace(/\{(\w+)\}/g, (_, k) => (k in values ? values[k] : ""));
}

function nonce() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

function audioContext() {
  audio = audio || new (window.AudioContext || window.webkitAudioContext)();
  if (audio.state === "suspended") audio.resume();
  return audio;
}

function beep(ok) {
  try {
    audioContext();
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = ok ? 880 : 220;
    osc.type = ok ? "sine" : "square";
    gain.gain.value = 0.15;
    osc.connect(gain).connect(audio.destination);
    osc.start();
    osc.stop(audio.currentTime + (ok ? 0.12 : 0.35));
  } catch (e) { /* no sound on this device */ }
  if (navigator.vibrate) navigator.vibrate(ok ? 80 : [120, 60, 120]);
}

function show(kind, name, text, extra = {}) {
  clearTimeout(hideTimer);
  els.result.hidden = false;
  els.result.className = `scan-result scan-${kind}`;
  els.name.textContent = name || "";
  els.text.textContent = text;
  els.override.hidden = !extra.override;
  els.override.onclick = extra.override || null;
  beep(kind === "ok" || kind === "repeat" || kind === "saved");
  window.scannerLog.push({ kind, name, at: performance.now(), decodedAt: extra.decodedAt });
  root.dispatchEvent(new CustomEvent("scan-shown", { detail: { kind, name } }));
  hideTimer = setTimeout(() => { els.result.hidden = true; }, extra.override ? SHOW_MS * 3 : SHOW_MS);
}

function timeOf(iso) {
  return new Date(iso).toLocaleTimeString(document.documentElement.lang === "en" ? "en-GB" : "da-DK",
    { hour: "2-digit", minute: "2-digit", timeZone: "Europe/Copenhagen" });
}

function setCount(n) { if (typeof n === "number") els.count.textContent = String(n); }

async function refreshQueue() {
  let n = 0;
  try { n = await queue.count(); } catch (e) { /* no IndexedDB */ }
  els.queue.hidden = n === 0;
  els.queue.textContent = fill(texts.queued, { n });
  return n;
}

function setNetwork(online) {
  els.network.textContent = online ? texts.online : texts.offline;
  els.network.className = `badge ${online ? "ok" : "danger"}`;
}

function showAnswer(status, body, item, decodedAt) {
  if (status === 201 || status === 200) {
    const y = body.youth;
    const age = fill(texts.years, { age: y.age });
    if (status === 201) {
      show("ok", y.first_name, `${texts.checked_in} · ${age}${body.attendance.drop_in ? " · " + texts.drop_in : ""}`, { decodedAt });
    } else {
      show("repeat", y.first_name, fill(texts.already, { time: timeOf(body.attendance.scanned_at) }), { decodedAt });
    }
    setCount(body.checked_in_count);
    return;
  }
  const err = (body && body.error) || {};
  const youth = err.youth || {};
  const text = texts.codes[err.code] || err.message || texts.error;
  const extra = { decodedAt };
  if (err.code === "outside_age") {
    extra.override = () => { els.override.hidden = true; send({ ...item, nonce: nonce(), override_age: true }); };
  }
  show(err.code === "outside_age" || err.code === "waitlisted" ? "warn" : "refused",
    youth.first_name || "", youth.age != null ? `${text} (${fill(texts.years, { age: youth.age })})` : text, extra);
}

async function enqueue(item, decodedAt) {
  const key = item.token || `youth:${item.youth_id}`;
  if (!queuedTokens.has(key)) {
    queuedTokens.add(key);
    await queue.add({ ...item, session_id: sessionId });
  }
  await refreshQueue();
  show("saved", "", texts.saved, { decodedAt });
}

// A staff session that ran out while offline: keep the queue and ask for a new log-in.
function loggedOut(status, body) {
  const code = body && body.error && body.error.code;
  const out = status === 401 || code === "csrf_failed";
  els.login.hidden = !out;
  return out;
}

async function send(item, decodedAt) {
  if (!navigator.onLine) return enqueue(item, decodedAt);
  let response;
  try {
    response = await fetch(root.dataset.checkinUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(item),
    });
  } catch (e) {
    return enqueue(item, decodedAt);  // the network went away mid-request: keep the scan
  }
  let body = null;
  try { body = await response.json(); } catch (e) { /* not JSON */ }
  if (response.status >= 500 || response.status === 429 || loggedOut(response.status, body)) {
    return enqueue(item, decodedAt);
  }
  showAnswer(response.status, body, item, decodedAt);
}

async function sync() {
  if (syncing || !navigator.onLine) return;
  syncing = true;
  try {
    const items = await queue.all();
    if (!items.length) return;
    const response = await fetch(root.dataset.batchUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ items }),
    });
    let body = null;
    try { body = await response.json(); } catch (e) { /* not JSON */ }
    if (loggedOut(response.status, body) || !response.ok) return;
    const answered = body.results.filter((r) => r && r.status < 500).map((r) => r.nonce);
    await queue.remove(answered);
    queuedTokens.clear();
    (await queue.all()).forEach((it) => queuedTokens.add(it.token || `youth:${it.youth_id}`));
    const c = body.checked_in_counts && body.checked_in_counts[String(sessionId)];
    setCount(c);
    root.dispatchEvent(new CustomEvent("scan-synced", { detail: { results: body.results } }));
  } catch (e) {
    /* cut off halfway: everything still queued is sent again next time */
  } finally {
    syncing = false;
    await refreshQueue();
  }
}

function onDecode(result) {
  const decodedAt = performance.now();
  const token = (result && result.data ? result.data : String(result)).trim();
  if (!token) return;
  const last = recent.get(token);
  recent.set(token, decodedAt);
  if (last && decodedAt - last < REPEAT_MS) return;
  send({ token, nonce: nonce(), scanned_at: new Date().toISOString() }, decodedAt);
}

async function search(event) {
  event.preventDefault();
  const q = els.q.value.trim();
  els.results.replaceChildren();
  if (q.length < 2) return;
  let data;
  try {
    const r = await fetch(`${root.dataset.searchUrl}?q=${encodeURIComponent(q)}`, { credentials: "same-origin" });
    data = await r.json();
  } catch (e) {
    els.results.append(Object.assign(document.createElement("li"), { textContent: texts.offline }));
    return;
  }
  if (!data.results.length) {
    els.results.append(Object.assign(document.createElement("li"), { textContent: texts.no_results }));
  }
  for (const y of data.results) {
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "button secondary block";
    button.textContent = `${texts.check_in}: ${y.details}` +
      (y.checked_in ? ` · ${texts.checked_in}` : "");
    button.addEventListener("click", () => {
      send({ youth_id: y.id, nonce: nonce(), scanned_at: new Date().toISOString() }, performance.now());
      els.results.replaceChildren();
      els.q.value = "";
    });
    li.append(button);
    els.results.append(li);
  }
}

async function start() {
  setNetwork(navigator.onLine);
  window.addEventListener("online", () => { setNetwork(true); sync(); });
  window.addEventListener("offline", () => setNetwork(false));
  els.search.addEventListener("submit", search);
  // phones only allow sound after a touch: the first tap anywhere unlocks it
  document.addEventListener("pointerdown", () => { try { audioContext(); } catch (e) { /* no audio */ } }, { once: true });
  setInterval(() => { if (!els.queue.hidden) sync(); }, 15000);
  await refreshQueue();
  sync();
  const scanner = new QrScanner(els.video, onDecode, {
    preferredCamera: "environment", maxScansPerSecond: 15, returnDetailedScanResult: true,
    onDecodeError: () => {},
  });
  try {
    await scanner.start();
    root.dataset.camera = "on";
  } catch (e) {
    els.cameraError.hidden = false;
    els.cameraError.textContent = texts.camera_error;
    root.dataset.camera = "error";
  }
}

start();
