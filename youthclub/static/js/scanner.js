// The door scanner: rapid-mode QR scanning with colour, sound and vibration, a name search,
// and an offline mode that needs no signal. Data comes from the page's data-* attributes.
//
// Online, the server decides each scan. Offline (no network, a request that times out, or an
// answer that is not the expected JSON, as from a captive portal), the scanner decides from
// today's door roster with the same rule (door-rules.js) and shows the first name and outcome
// at once; every scan it accepts is queued in IndexedDB and sent in batches the server takes.
// When the server answers differently, the difference is listed for staff, never dropped.
import QrScanner from "../vendor/qr-scanner/qr-scanner.min.js";
import * as store from "./offline-queue.js";
import { decide, passHash, rosterUsable } from "./door-rules.js";

const root = document.getElementById("scanner");
const sessionId = Number(root.dataset.sessionId);
const texts = JSON.parse(root.dataset.texts);
let csrf = root.dataset.csrf;
const BATCH_MAX = Math.max(1, Number(root.dataset.batchMax) || 100);
const FETCH_TIMEOUT_MS = 4000;  // a weak signal: give up, decide on the device and queue
const $ = (id) => document.getElementById(id);
const els = {
  video: $("scan-video"), result: $("scan-result"), name: $("scan-result-name"), text: $("scan-result-text"),
  override: $("scan-override"), count: $("scan-count"), network: $("scan-network"), queue: $("scan-queue"),
  sync: $("scan-sync"), storageError: $("scan-storage-error"), notNow: $("scan-not-now"),
  differencesBox: $("scan-differences-box"), differences: $("scan-differences"), roster: $("scan-roster"),
  cameraError: $("scan-camera-error"), login: $("scan-login"), search: $("scan-search"), q: $("scan-search-q"),
  results: $("scan-search-results"),
};
const SHOW_MS = 2000;      // how long a result stays on screen
const REPEAT_MS = 3000;    // the same pass seen again within this time is the same scan
const recent = new Map();  // token -> last time seen
const localIn = new Map(); // roster hash -> time: checked in on this device, not yet synced
let roster = null;         // today's door roster (IndexedDB, refreshed from the server)
let online = navigator.onLine;
let hideTimer = null;
let syncing = false;
let audio = null;

// measurements for the browser journeys (scan-to-name latency)
window.scannerLog = [];

class Offline extends Error {}

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
  // the override only where it can apply: someone outside the age range
  els.override.hidden = !extra.override;
  els.override.onclick = extra.override || null;
  beep(kind === "ok" || kind === "repeat" || kind === "saved");
  window.scannerLog.push({ kind, name, text, code: extra.code, offline: !!extra.offline, at: performance.now(),
    decodedAt: extra.decodedAt });
  root.dispatchEvent(new CustomEvent("scan-shown", { detail: { kind, name, code: extra.code } }));
  hideTimer = setTimeout(() => { els.result.hidden = true; }, extra.override ? SHOW_MS * 3 : SHOW_MS);
}

function timeOf(iso) {
  return new Date(iso).toLocaleTimeString(document.documentElement.lang === "en" ? "en-GB" : "da-DK",
    { hour: "2-digit", minute: "2-digit", timeZone: "Europe/Copenhagen" });
}

// The count on screen: the server's count as this device last knew it, plus this device's
// check-ins still in its queue (localIn). The server's count comes with the page, grows by each
// check-in answered online (a single answer carries no count: issue 17) and is set again by each
// synced batch. It is kept per session in localStorage (a number, nothing about anyone), so a page
// reopened offline from the service worker's copy, older than what the device has seen since,
// does not count its queue out.
const COUNT_KEY = `youthclub-scan-count:${sessionId}`;
let known = { n: Number(root.dataset.count) || 0, at: Number(root.dataset.countAt) || 0 };
try {
  const kept = JSON.parse(localStorage.getItem(COUNT_KEY) || "null");
  if (kept && typeof kept.n === "number" && typeof kept.at === "number" && kept.at > known.at) known = kept;
} catch (e) { /* no storage: the page's count */ }
function showCount() { els.count.textContent = String(known.n + localIn.size); }
function keepCount(n) {
  known = { n, at: Date.now() };
  try { localStorage.setItem(COUNT_KEY, JSON.stringify(known)); } catch (e) { /* shown, not kept */ }
  showCount();
}
function setCount(n) { if (typeof n === "number") keepCount(n); }
function countOne() { keepCount(known.n + 1); }

function setOnline(value) {
  online = value;
  els.network.textContent = value ? texts.online : texts.offline;
  els.network.className = `badge ${value ? "ok" : "danger"}`;
}

function notSaved(error) {
  els.storageError.hidden = false;
  els.storageError.textContent = texts.not_saved;
  show("refused", "", texts.not_saved, { code: "not_saved" });
  root.dispatchEvent(new CustomEvent("scan-not-saved", { detail: { error: String(error) } }));
}

async function refreshQueue() {
  let n = 0;
  try { n = await store.count(); } catch (e) { /* no IndexedDB: nothing can be queued */ }
  els.queue.hidden = n === 0;
  els.queue.textContent = fill(texts.queued, { n });
  return n;
}

// The scanner's window in time: outside it the page says so (the server refuses such scans).
function inWindow(at) {
  return at >= new Date(root.dataset.opens) && at <= new Date(root.dataset.closes);
}

function checkWindow(at = new Date()) {
  const open = inWindow(at);
  els.notNow.hidden = open;
  return open;
}

// -- requests: a timeout on each, and anything but the expected JSON counts as offline ------

async function request(url, { method = "GET", body } = {}) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), FETCH_TIMEOUT_MS);
  try {
    const response = await fetch(url, {
      method, credentials: "same-origin", signal: controller.signal, cache: "no-store",
      headers: body === undefined ? { Accept: "application/json" }
        : { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!(response.headers.get("Content-Type") || "").includes("application/json")) {
      throw new Offline(`not JSON (${response.status})`);  // a captive portal's page, a proxy's error
    }
    let data;
    try { data = await response.json(); } catch (e) { throw new Offline("broken JSON"); }
    if (data === null || typeof data !== "object") throw new Offline("unexpected JSON");
    return { status: response.status, body: data };
  } catch (e) {
    throw e instanceof Offline ? e : new Offline(e.message);  // no network, a timeout
  } finally {
    clearTimeout(timer);
  }
}

const errorCode = (body) => (body && body.error && body.error.code) || null;

// A request with the session's CSRF token; after a re-login in another tab the token is
// fetched afresh once. A session that ran out shows the log-in link and keeps the queue.
async function authed(url, options) {
  let answer = await request(url, options);
  if (answer.status === 400 && errorCode(answer.body) === "csrf_failed") {
    const fresh = await request(root.dataset.csrfUrl);
    if (fresh.status === 200 && typeof fresh.body.csrf_token === "string") {
      csrf = fresh.body.csrf_token;
      answer = await request(url, options);
    }
  }
  const out = answer.status === 401 || (answer.status === 400 && errorCode(answer.body) === "csrf_failed");
  els.login.hidden = !out;
  return { ...answer, loggedOut: out };
}

// -- the door roster ------------------------------------------------------------------------

function showRosterInfo() {
  els.roster.textContent = roster ? fill(texts.roster_age, { time: timeOf(roster.generated_at) }) : texts.roster_none;
}

async function forgetRoster() {
  roster = null;
  try { await store.clearRoster(); } catch (e) { /* nothing stored */ }
  const worker = navigator.serviceWorker && navigator.serviceWorker.controller;
  if (worker) worker.postMessage({ type: "forget-pages" });
  showRosterInfo();
}

async function keepPages() {
  if (!("serviceWorker" in navigator) || !roster) return;
  try {
    const registration = await navigator.serviceWorker.ready;
    const scope = root.dataset.scope;
    const urls = [scope, location.pathname, ...Object.keys(roster.sessions).map((id) => `${scope}${id}`)];
    registration.active.postMessage({ type: "keep-pages", urls: [...new Set(urls)] });
  } catch (e) { /* no service worker: the page needs the network to open */ }
}

async function loadRoster() {
  try {
    roster = (await store.getRoster()) || null;
  } catch (e) { roster = null; }
  if (roster && !rosterUsable(roster)) await forgetRoster();  // yesterday's: gone at the end of the day
  showRosterInfo();
  if (navigator.onLine === false) return;
  try {
    const answer = await request(root.dataset.rosterUrl);
    if (answer.status === 401 || answer.status === 403) {
      await forgetRoster();  // logged out, or access ended: no names stay on the device
      return;
    }
    const body = answer.body;
    if (answer.status === 200 && typeof body.salt === "string" && body.passes && body.sessions) {
      roster = body;
      setOnline(true);
      try { await store.putRoster(roster); } catch (e) { /* kept in memory for this visit */ }
      showRosterInfo();
      keepPages();
      // gone at the end of its day even if the page stays open
      const left = new Date(roster.expires_at) - new Date();
      if (left > 0 && left < 2 ** 31) setTimeout(() => { if (roster && !rosterUsable(roster)) forgetRoster(); }, left + 1000);
    }
  } catch (e) {
    if (e instanceof Offline) setOnline(false);
  }
}

async function rebuildLocal() {
  localIn.clear();
  try {
    for (const item of await store.all()) {
      if (item.session_id === sessionId && item.device && item.device.code === "checked_in" && item.device.hash) {
        localIn.set(item.device.hash, item.scanned_at);
      }
    }
  } catch (e) { /* no IndexedDB */ }
  showCount();
}

// -- one scan -------------------------------------------------------------------------------

function showAnswer(status, body, item, decodedAt) {
  if (status === 201 || status === 200) {
    const y = body.youth;
    const age = fill(texts.years, { age: y.age });
    if (status === 201) {
      show("ok", y.first_name, `${texts.checked_in} · ${age}${body.attendance.drop_in ? " · " + texts.drop_in : ""}`,
        { decodedAt, code: "checked_in" });
    } else {
      show("repeat", y.first_name, fill(texts.already, { time: timeOf(body.attendance.scanned_at) }),
        { decodedAt, code: "already_checked_in" });
    }
    if (status === 201) countOne();
    return;
  }
  const err = (body && body.error) || {};
  const youth = err.youth || {};
  const text = texts.codes[err.code] || err.message || texts.error;
  const extra = { decodedAt, code: err.code };
  if (err.code === "outside_age") {
    extra.override = () => { els.override.hidden = true; send({ ...item, nonce: nonce(), override_age: true }); };
  }
  show(err.code === "outside_age" || err.code === "waitlisted" ? "warn" : "refused",
    youth.first_name || "", youth.age != null ? `${text} (${fill(texts.years, { age: youth.age })})` : text, extra);
}

async function save(item) {
  try {
    await store.add(item);
  } catch (e) {
    notSaved(e);
    return false;
  }
  await refreshQueue();
  return true;
}

// Decide on the device (no signal): show the first name and outcome, queue what it accepts.
async function decideHere(item, decodedAt) {
  const extra = { decodedAt, offline: true };
  if (roster && !rosterUsable(roster)) await forgetRoster();  // the day is over
  if (!(roster && roster.sessions[String(sessionId)]) && !inWindow(new Date(item.scanned_at))) {
    // a session the roster does not hold (another day's): the page knows its window, so nothing is saved
    checkWindow();
    show("refused", "", els.notNow.textContent.trim() || texts.codes.session_not_now, { ...extra, code: "session_not_now" });
    return;
  }
  if (item.youth_id != null || !roster) {
    // no roster (or a name search): the server decides when the queue is sent
    if (await save({ ...item, device: { code: "no_roster" } })) show("saved", "", texts.saved, { ...extra, code: "no_roster" });
    return;
  }
  const hash = await passHash(roster.salt, item.token);
  const at = new Date(item.scanned_at);
  const d = decide(roster, sessionId, hash, at, { local: localIn, override: !!item.override_age });
  const device = { code: d.code, hash, first_name: d.first_name || "" };
  const years = d.age != null ? fill(texts.years, { age: d.age }) : "";
  extra.code = d.code;
  if (d.code === "checked_in") {
    if (!(await save({ ...item, device }))) return;
    localIn.set(hash, item.scanned_at);
    showCount();
    show("ok", d.first_name, `${texts.checked_in} · ${years}${d.drop_in ? " · " + texts.drop_in : ""}`, extra);
  } else if (d.code === "already_checked_in") {
    show("repeat", d.first_name, fill(texts.already, { time: timeOf(d.scanned_at) }), extra);
  } else if (d.code === "unknown_token" || d.code === "no_roster") {
    // not in today's roster: perhaps a drop-in the institution has not met yet; the server decides
    if (await save({ ...item, device })) show("saved", "", texts.unknown_saved, extra);
  } else if (d.code === "outside_age") {
    extra.override = () => { els.override.hidden = true; decideHere({ ...item, nonce: nonce(), override_age: true }, performance.now()); };
    show("warn", d.first_name, `${texts.codes.outside_age} (${years})`, extra);
  } else {
    show(d.code === "waitlisted" ? "warn" : "refused", d.first_name || "",
      (texts.codes[d.code] || texts.error) + (years ? ` (${years})` : ""), extra);
  }
}

async function send(item, decodedAt) {
  if (navigator.onLine === false) {
    setOnline(false);
    return decideHere(item, decodedAt);
  }
  let answer;
  try {
    answer = await authed(root.dataset.checkinUrl, { method: "POST", body: item });
  } catch (e) {
    setOnline(false);
    return decideHere(item, decodedAt);  // no network, too slow, or not our server answering
  }
  if (answer.status >= 500 || answer.status === 429 || answer.loggedOut) {
    return decideHere(item, decodedAt);
  }
  setOnline(true);
  showAnswer(answer.status, answer.body, item, decodedAt);
  if (answer.status === 201 || answer.status === 200) await learnCheckIn(item, answer.body);
  if (online && !els.queue.hidden) sync();
}

// A pass checked in online is in the roster too: scanned again after the signal is gone, the
// device says "already in" as the server would, instead of queueing (and counting) it again.
async function learnCheckIn(item, body) {
  const day = roster && roster.sessions[String(sessionId)];
  if (!day || !item.token || !body || !body.attendance) return;
  try {
    day.checked_in[await passHash(roster.salt, item.token)] = body.attendance.scanned_at;
    await store.putRoster(roster);
  } catch (e) { /* kept in memory for this visit */ }
}

// -- sending the queue ----------------------------------------------------------------------

function serverCode(result) {
  if (result.error) return result.error.code;
  return result.status === 201 ? "checked_in" : "already_checked_in";
}

function outcomeText(code) {
  if (code === "checked_in") return texts.checked_in;
  if (code === "already_checked_in") return fill(texts.already, { time: "" }).trim();
  if (code === "unknown_token" || code === "no_roster") return texts.codes.unknown_token;
  return texts.codes[code] || code;
}

function compare(item, result) {
  const device = (item.device && item.device.code) || "no_roster";
  const server = serverCode(result);
  const accepted = server === "checked_in" || server === "already_checked_in";
  if (accepted && result.youth && item.device && item.device.hash && roster && roster.sessions[String(item.session_id)]) {
    roster.sessions[String(item.session_id)].checked_in[item.device.hash] = result.attendance.scanned_at;
  }
  if (device === "checked_in" && accepted) return null;
  const name = (result.youth && result.youth.first_name) || (result.error && result.error.youth && result.error.youth.first_name)
    || (item.device && item.device.first_name) || "?";
  const difference = { nonce: item.nonce, name, device, server };
  const li = document.createElement("li");
  li.dataset.nonce = item.nonce;
  li.dataset.server = server;
  li.textContent = fill(texts.difference, {
    name, device: outcomeText(device), server: accepted ? texts.accepted_later : outcomeText(server),
  });
  els.differences.append(li);
  els.differencesBox.hidden = false;
  return difference;
}

async function sync() {
  if (syncing) return;
  syncing = true;
  const differences = [];
  try {
    const total = await store.count();
    let done = 0;
    while (done < total + BATCH_MAX) {  // bounded: each round removes what the server answered
      const items = await store.first(BATCH_MAX);
      if (!items.length) break;
      els.sync.hidden = false;
      els.sync.textContent = fill(texts.syncing, { done, total });
      const payload = items.map(({ device, ...scan }) => scan);
      const answer = await authed(root.dataset.batchUrl, { method: "POST", body: { items: payload } });
      if (answer.loggedOut) break;
      const results = answer.body.results;
      if (answer.status !== 200 || !Array.isArray(results) || results.length !== items.length) {
        throw new Offline(`unexpected answer (${answer.status})`);
      }
      setOnline(true);
      const answered = [];
      results.forEach((result, i) => {
        if (!result || result.nonce !== items[i].nonce || typeof result.status !== "number") return;
        // not decided: sent again later (session_changed: the session changed while it was decided)
        if (result.status >= 500 || result.status === 429 || serverCode(result) === "session_changed") return;
        answered.push(items[i].nonce);
        const difference = compare(items[i], result);
        if (difference) differences.push(difference);
      });
      if (!answered.length) break;
      await store.remove(answered);
      await rebuildLocal();  // what was sent is in the server's count now, no longer the queue's
      done += answered.length;
      setCount(answer.body.checked_in_counts && answer.body.checked_in_counts[String(sessionId)]);
      root.dispatchEvent(new CustomEvent("scan-synced", { detail: { results, done, total } }));
    }
  } catch (e) {
    if (e instanceof Offline) setOnline(false);
    /* cut off halfway: everything still queued is sent again next time */
  } finally {
    syncing = false;
    els.sync.hidden = true;
    await rebuildLocal();
    await refreshQueue();
    if (differences.length) root.dispatchEvent(new CustomEvent("scan-differences", { detail: { differences } }));
  }
}

// -- camera, search, start ------------------------------------------------------------------

function onDecode(result) {
  const decodedAt = performance.now();
  const token = (result && result.data ? result.data : String(result)).trim();
  if (!token) return;
  const last = recent.get(token);
  recent.set(token, decodedAt);
  if (last && decodedAt - last < REPEAT_MS) return;
  send({ token, nonce: nonce(), scanned_at: new Date().toISOString(), session_id: sessionId }, decodedAt);
}

async function search(event) {
  event.preventDefault();
  const q = els.q.value.trim();
  els.results.replaceChildren();
  if (q.length < 2) return;
  let answer;
  try {
    answer = await request(`${root.dataset.searchUrl}?q=${encodeURIComponent(q)}`);
    if (!Array.isArray(answer.body.results)) throw new Offline("unexpected");
  } catch (e) {
    els.results.append(Object.assign(document.createElement("li"), { textContent: texts.offline }));
    return;
  }
  if (!answer.body.results.length) {
    els.results.append(Object.assign(document.createElement("li"), { textContent: texts.no_results }));
  }
  for (const y of answer.body.results) {
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "button secondary block";
    button.textContent = `${texts.check_in}: ${y.details}` +
      (y.checked_in ? ` · ${texts.checked_in}` : "");
    button.addEventListener("click", () => {
      send({ youth_id: y.id, nonce: nonce(), scanned_at: new Date().toISOString(), session_id: sessionId },
        performance.now());
      els.results.replaceChildren();
      els.q.value = "";
    });
    li.append(button);
    els.results.append(li);
  }
}

// Log-out empties the roster here too (the server also sends Clear-Site-Data); with scans
// still queued it asks first, as they would be lost.
function guardLogout() {
  document.querySelectorAll("form[action$='/logout']").forEach((form) => {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const queued = await refreshQueue();
      if (queued && !window.confirm(fill(texts.logout_queued, { n: queued }))) return;
      await forgetRoster();
      form.submit();
    });
  });
}

async function start() {
  setOnline(navigator.onLine);
  checkWindow();
  setInterval(checkWindow, 30000);
  window.addEventListener("online", () => { sync(); loadRoster(); });
  window.addEventListener("offline", () => setOnline(false));
  els.search.addEventListener("submit", search);
  guardLogout();
  // decoded passes from elsewhere (a hardware scanner's keyboard wedge, the tests) take the camera's path
  root.addEventListener("decoded", (event) => onDecode(event.detail));
  // phones only allow sound after a touch: the first tap anywhere unlocks it
  document.addEventListener("pointerdown", () => { try { audioContext(); } catch (e) { /* no audio */ } }, { once: true });
  setInterval(() => { if (!els.queue.hidden) sync(); }, 15000);
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(root.dataset.sw, { scope: root.dataset.scope }).catch(() => {});
  }
  await rebuildLocal();
  await refreshQueue();
  await loadRoster();
  root.dataset.ready = "yes";
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
