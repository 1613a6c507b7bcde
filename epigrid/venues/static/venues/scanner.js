// The venue's door scanner (R5.1, R4.2, R4.3), working without a network: reads a health
// code (camera or photo with jsQR, or pasted text) and verifies it on the phone with verify.js
// against the key list kept in localStorage (the same as the checkpoint scanner's), checks it
// against the signed colour-change feed kept in IndexedDB, or takes a typed ID number; with a
// temperature, each entry gets its id and time on the phone and waits in the queue
// (scanner-queue.js) until an upload is answered. With a network the server's answer adds the
// holder's masked name and the current colour.
import { loadTrustList, verifyToken } from "../healthcode/verify.js";
import { openStore, Store } from "./scanner-queue.js";

const root = document.getElementById("vs-scanner");
const texts = JSON.parse(document.getElementById("vs-texts").textContent);
const config = JSON.parse(document.getElementById("vs-config").textContent);
const TRUST_CACHE = "epigrid.healthcode.trust"; // shared with the checkpoint scanner
const DEVICE_KEY = "epigrid.venues.device";
const UPLOAD_EVERY_MS = 15 * 1000;
const FEED_EVERY_MS = 60 * 1000;
const TEMPERATURE_RE = /^\d{2}(\.\d)?$/;

const $ = (id) => document.getElementById(id);
const els = {
  net: $("vs-net"),
  queueCount: $("vs-queue-count"),
  lastUpload: $("vs-last-upload"),
  feedState: $("vs-feed-state"),
  uploadState: $("vs-upload-state"),
  result: $("vs-result"),
  big: $("vs-result-colour"),
  holder: $("vs-result-holder"),
  note: $("vs-result-note"),
  line: $("vs-result-line"),
  warning: $("vs-result-warning"),
  camera: $("vs-camera"),
  photo: $("vs-photo"),
  cameraState: $("vs-camera-state"),
  video: $("vs-video"),
  pasteForm: $("vs-paste-form"),
  token: $("vs-token-input"),
  documentForm: $("vs-document-form"),
  document: $("vs-document-input"),
  temperature: $("vs-temperature"),
  tempWarning: $("vs-temp-warning"),
  record: $("vs-record"),
  recordState: $("vs-record-state"),
  recent: $("vs-recent"),
  refusedBox: $("vs-refused-box"),
  refused: $("vs-refused"),
  keysState: $("vs-keys-state"),
};

// Times in Beijing time whatever zone the phone is set to (the rules' and the code page's)
const BEIJING = new Intl.DateTimeFormat("en-CA", {
  timeZone: "Asia/Shanghai",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  hourCycle: "h23",
});

function beijingTime(date) {
  const part = Object.fromEntries(BEIJING.formatToParts(date).map((p) => [p.type, p.value]));
  return `${part.month}-${part.day} ${part.hour}:${part.minute}:${part.second}`;
}

function format(template, values) {
  return template.replace(/%\((\w+)\)s/g, (_, name) => values[name] ?? "");
}

function lang() {
  return document.documentElement.lang === "en" ? "en" : "zh-hans";
}

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : root.dataset.csrf;
}

function deviceId() {
  let id = localStorage.getItem(DEVICE_KEY);
  if (!id) {
    id = crypto.randomUUID();
    localStorage.setItem(DEVICE_KEY, id);
  }
  return id;
}

let store = null;
let trust = null;
// who is at the door now: {method, token?, codeId?, document_number?, colour, scannedAt}
let pending = null;
let lastToken = null;
let lastAt = 0;
const recent = [];

// --- the key list --------------------------------------------------------------------------

async function loadKeys() {
  let doc = null;
  let from = "network";
  try {
    const response = await fetch(config.trust_url, { credentials: "same-origin", cache: "no-cache" });
    if (!response.ok) throw new Error(String(response.status));
    doc = await response.json();
    localStorage.setItem(TRUST_CACHE, JSON.stringify({ at: new Date().toISOString(), doc }));
  } catch (error) {
    const cached = localStorage.getItem(TRUST_CACHE);
    if (!cached) {
      els.keysState.textContent = texts.no_keys;
      return;
    }
    const parsed = JSON.parse(cached);
    doc = parsed.doc;
    from = parsed.at;
  }
  trust = await loadTrustList(doc);
  const issuers = [...trust.issuers.keys()].map((issuer) => texts.issuers[issuer] || issuer).join(", ");
  els.keysState.textContent =
    from === "network" ? `${texts.keys_loaded} ${issuers}` : `${texts.keys_cached} ${beijingTime(new Date(from))} (${issuers})`;
  root.dataset.keysReady = "true";
}

// --- what is on screen -----------------------------------------------------------------------

function show(colourClass, big, line, holder = "") {
  els.result.className = `hc-result ${colourClass}`;
  els.result.dataset.colour = colourClass;
  els.big.textContent = big;
  els.line.textContent = line;
  // the offline note is not a name: it goes in small type under the colour
  const offlineNote = holder === texts.holder_offline;
  els.holder.textContent = offlineNote ? "" : holder;
  els.note.textContent = offlineNote ? holder : "";
  els.warning.hidden = true;
  els.warning.textContent = "";
}

function warn(text) {
  els.warning.textContent = text;
  els.warning.hidden = !text;
}

function showColour(colour, holder, warning = "") {
  show(colour, texts.colours[colour], texts.advice[colour], holder);
  warn(warning);
}

function updateRecordButton() {
  els.record.disabled = !pending;
}

async function refreshStatus() {
  const online = navigator.onLine;
  els.net.textContent = online ? texts.online : texts.offline;
  els.net.className = `vs-pill ${online ? "on" : "off"}`;
  root.dataset.online = online ? "true" : "false";
  if (!store) return;
  const count = await store.count();
  els.queueCount.textContent = String(count);
  els.queueCount.dataset.count = String(count);
  root.dataset.queue = String(count);
  const last = await store.meta("last_upload");
  els.lastUpload.textContent = last ? beijingTime(new Date(last)) : texts.never;
  if (last) els.lastUpload.dataset.at = last;
  const pulled = await store.meta("feed_pulled");
  if (pulled && !root.dataset.feedBad) els.feedState.textContent = beijingTime(new Date(pulled));
}

// --- a code --------------------------------------------------------------------------------

async function checkCode(token) {
  // only line breaks: a space is a base45 digit
  token = token.replace(/[\r\n]+/g, "");
  if (!token) return;
  // the camera sees the same code many times a second: one check per code and three seconds
  const now = Date.now();
  if (token === lastToken && now - lastAt < 3000) return;
  lastToken = token;
  lastAt = now;
  if (!trust) await loadKeys();
  pending = null;
  updateRecordButton();
  els.result.dataset.reason = "";
  els.result.dataset.changed = "";
  if (!trust) {
    show("invalid", "?", texts.no_keys);
    return;
  }
  const scannedAt = new Date();
  const result = await verifyToken(token, trust, scannedAt, { leeway: 30 });
  els.result.dataset.reason = result.reason;
  if (!result.valid) {
    show("invalid", "✕", `${texts.reasons[result.reason] || result.reason} · ${texts.code_invalid}`);
    return;
  }
  let colour = result.colour;
  let warning = "";
  const change = store ? await store.laterChange(result.codeId, result.issuedAt, result.colour) : null;
  if (change) {
    colour = change.colour;
    warning = format(texts.changed_warning, { colour: texts.colours[colour], time: beijingTime(new Date(change.at)) });
    els.result.dataset.changed = "feed";
  }
  pending = { method: "staff_scan", token, codeId: result.codeId, colour, scannedAt };
  showColour(colour, navigator.onLine ? "…" : texts.holder_offline, warning);
  updateRecordButton();
  if (navigator.onLine) await checkOnline(token, pending);
}

async function checkOnline(token, seen) {
  let answer;
  try {
    const response = await fetch(config.verify_url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ token }).replace(/%/g, "\\u0025"),
    });
    if (!response.ok) throw new Error(String(response.status));
    answer = await response.json();
  } catch (error) {
    if (pending === seen) {
      els.holder.textContent = "";
      els.note.textContent = texts.holder_offline;
    }
    return;
  }
  if (pending !== seen) return; // a newer scan is on screen
  els.result.dataset.online = answer.online;
  if (answer.online === "revoked" || answer.online === "unknown_code") {
    pending = null;
    updateRecordButton();
    show("invalid", "✕", `${texts.online[answer.online] || answer.online} · ${texts.code_invalid}`);
    return;
  }
  let warning = els.warning.textContent;
  if (answer.current_colour && answer.current_colour !== seen.colour) {
    seen.colour = answer.current_colour;
    warning = texts.online.stale || warning;
  } else if (answer.current_colour) {
    warning = els.result.dataset.changed ? warning : "";
  }
  const action = answer.action ? answer.action[lang()] : "";
  showColour(seen.colour, answer.holder || "", [warning, action].filter(Boolean).join(" · "));
}

// --- an ID number ------------------------------------------------------------------------------

function useDocument(number) {
  number = number.replace(/\s+/g, "").toUpperCase();
  if (!number) {
    show("invalid", "?", texts.document_missing);
    return;
  }
  lastToken = null;
  pending = { method: "document", document_number: number, colour: "", scannedAt: new Date() };
  // the number is never shown back: staff see the colour and the masked name from the server
  show("", texts.document_entered, "", "");
  els.result.dataset.colour = "document";
  updateRecordButton();
}

// --- the temperature ---------------------------------------------------------------------------

function temperatureValue() {
  const text = els.temperature.value.trim().replace(",", ".");
  if (!text) return { ok: true, value: null };
  if (!TEMPERATURE_RE.test(text)) return { ok: false };
  const value = Number(text);
  if (value < 34 || value > 43) return { ok: false };
  return { ok: true, value: value.toFixed(1) };
}

function checkTemperature() {
  const reading = temperatureValue();
  if (!reading.ok) {
    els.tempWarning.textContent = texts.temperature_range;
    els.tempWarning.hidden = false;
    return reading;
  }
  const limit = Number(config.fever_threshold);
  if (reading.value !== null && Number(reading.value) >= limit) {
    els.tempWarning.textContent = format(texts.fever, { t: reading.value, limit: config.fever_threshold });
    els.tempWarning.hidden = false;
  } else {
    els.tempWarning.hidden = true;
  }
  return reading;
}

for (const button of document.querySelectorAll(".vs-step")) {
  button.addEventListener("click", () => {
    const current = Number(els.temperature.value.replace(",", ".")) || 36.5;
    const next = Math.min(43, Math.max(34, current + Number(button.dataset.step)));
    els.temperature.value = next.toFixed(1);
    checkTemperature();
  });
}
for (const button of document.querySelectorAll(".vs-preset")) {
  button.addEventListener("click", () => {
    els.temperature.value = button.dataset.value;
    checkTemperature();
  });
}
els.temperature.addEventListener("input", checkTemperature);

// --- recording and uploading ---------------------------------------------------------------------

function renderRecent() {
  els.recent.replaceChildren(
    ...recent.slice(0, 10).map((item) => {
      const li = document.createElement("li");
      li.dataset.id = item.id;
      li.dataset.state = item.state;
      const dot = document.createElement("span");
      dot.className = `hc-dot ${item.colour}`;
      const parts = [beijingTime(new Date(item.entered_at)), texts.methods[item.method]];
      if (item.colour) parts.push(texts.colours[item.colour]);
      if (item.holder) parts.push(item.holder);
      if (item.temperature) parts.push(`${item.temperature} °C`);
      let state = { queued: texts.queued, refused: texts.refused }[item.state] || texts.uploaded;
      if (item.state === "uploaded") state += ` · ${item.admitted ? texts.admitted : texts.not_admitted}`;
      if (item.actions && item.actions.length) state += ` · ${item.actions.map((a) => texts.actions[a.code] || a.code).join("；")}`;
      li.append(dot, `${parts.join(" · ")} — ${state}`);
      return li;
    }),
  );
}

async function renderRefused() {
  const refused = await store.refused();
  els.refusedBox.hidden = refused.length === 0;
  els.refused.replaceChildren(
    ...refused.map((item) => {
      const li = document.createElement("li");
      li.dataset.id = item.id;
      li.textContent = `${beijingTime(new Date(item.entered_at))} · ${texts.methods[item.method]} — ${item.refused_message}`;
      return li;
    }),
  );
}

async function record() {
  if (!pending) {
    els.recordState.textContent = texts.nothing_to_record;
    return;
  }
  const reading = checkTemperature();
  if (!reading.ok) return;
  const entry = {
    id: crypto.randomUUID(),
    venue_id: config.venue_id,
    method: pending.method,
    entered_at: pending.scannedAt.toISOString(),
    temperature: reading.value,
    colour_seen: pending.colour || "",
    device_id: deviceId(),
  };
  if (pending.token) entry.token = pending.token;
  if (pending.document_number) entry.document_number = pending.document_number;
  await store.add(entry);
  recent.unshift({ id: entry.id, entered_at: entry.entered_at, method: entry.method, colour: entry.colour_seen, holder: els.holder.textContent === "…" ? "" : els.holder.textContent, temperature: entry.temperature, state: "queued" });
  renderRecent();
  els.recordState.textContent = format(texts.recorded, { time: beijingTime(new Date(entry.entered_at)) });
  pending = null;
  lastToken = null;
  els.token.value = "";
  els.document.value = "";
  els.temperature.value = "";
  els.tempWarning.hidden = true;
  updateRecordButton();
  show("", "—", texts.nothing_to_record);
  await refreshStatus();
  upload();
}

async function upload() {
  if (!store) return;
  if ((await store.count()) === 0) return;
  els.uploadState.textContent = texts.uploading;
  const summary = await store.upload();
  for (const answer of summary.answered) {
    const item = recent.find((r) => r.id === String(answer.id).toLowerCase());
    if (!item) continue;
    Object.assign(item, { state: "uploaded", colour: answer.colour, holder: answer.holder, admitted: answer.admitted, actions: answer.actions });
  }
  for (const refused of summary.refused) {
    const item = recent.find((r) => r.id === refused.id);
    if (item) item.state = "refused";
  }
  if (summary.answered.length || summary.refused.length) renderRecent();
  // the entry just recorded, answered while nobody new is on screen: its colour and masked
  // name (how staff see the colour of a person without a phone)
  const latest = recent[0];
  const answer = latest && summary.answered.find((a) => String(a.id).toLowerCase() === latest.id);
  if (answer && !pending && answer.colour) {
    const steps = answer.actions.map((a) => texts.actions[a.code] || a.code).join("；");
    showColour(answer.colour, answer.holder || "", [answer.admitted ? texts.admitted : texts.not_admitted, steps].filter(Boolean).join(" · "));
    els.result.dataset.answered = latest.id;
  }
  if (summary.refused.length) await renderRefused();
  root.dataset.uploadError = summary.error || "";
  // offline the status line already says the entries wait on the phone
  if (summary.error === "network") els.uploadState.textContent = navigator.onLine ? texts.upload_failed : "";
  else if (summary.error && (summary.status === 401 || summary.status === 403)) els.uploadState.textContent = texts.sign_in_again;
  else if (summary.error) els.uploadState.textContent = `${texts.upload_failed} ${summary.message}`;
  else els.uploadState.textContent = "";
  root.dataset.uploads = String(Number(root.dataset.uploads || 0) + 1);
  await refreshStatus();
}

async function pullFeed() {
  if (!store || !trust) return;
  try {
    await store.pullFeed(trust);
    delete root.dataset.feedBad;
    root.dataset.feed = "loaded";
  } catch (error) {
    if (error.badSignature) {
      root.dataset.feedBad = "true";
      els.feedState.textContent = texts.feed_bad;
    }
  }
  await refreshStatus();
}

// --- camera and photo (jsQR) ---------------------------------------------------------------------

const canvas = document.createElement("canvas");
const context = canvas.getContext("2d", { willReadFrequently: true });
let stream = null;

function decodeFrom(source, width, height) {
  if (typeof window.jsQR !== "function") return null;
  const scale = Math.min(1, 800 / Math.max(width, height));
  canvas.width = Math.round(width * scale);
  canvas.height = Math.round(height * scale);
  context.drawImage(source, 0, 0, canvas.width, canvas.height);
  const image = context.getImageData(0, 0, canvas.width, canvas.height);
  const found = window.jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" });
  return found && found.data ? found.data : null;
}

function tick() {
  if (!stream) return;
  if (els.video.readyState >= 2) {
    const text = decodeFrom(els.video, els.video.videoWidth, els.video.videoHeight);
    if (text) checkCode(text);
  }
  requestAnimationFrame(tick);
}

async function toggleCamera() {
  if (stream) {
    for (const track of stream.getTracks()) track.stop();
    stream = null;
    els.video.hidden = true;
    els.camera.textContent = texts.camera_start;
    return;
  }
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
  } catch (error) {
    els.cameraState.textContent = `${texts.camera_denied} (${error.name})`;
    return;
  }
  els.video.srcObject = stream;
  els.video.hidden = false;
  await els.video.play();
  els.camera.textContent = texts.camera_stop;
  requestAnimationFrame(tick);
}

if (typeof window.jsQR === "function") {
  els.camera.addEventListener("click", toggleCamera);
  els.photo.addEventListener("change", async () => {
    const file = els.photo.files && els.photo.files[0];
    if (!file) return;
    const bitmap = await createImageBitmap(file);
    const text = decodeFrom(bitmap, bitmap.width, bitmap.height);
    if (text) {
      lastToken = null;
      els.token.value = text;
      checkCode(text);
    } else {
      show("invalid", "?", texts.no_qr);
    }
  });
} else {
  els.camera.disabled = true;
  els.photo.disabled = true;
}

els.pasteForm.addEventListener("submit", (event) => {
  event.preventDefault();
  lastToken = null;
  checkCode(els.token.value.trim());
});
els.documentForm.addEventListener("submit", (event) => {
  event.preventDefault();
  useDocument(els.document.value);
});
els.record.addEventListener("click", record);
$("vs-refused-clear").addEventListener("click", async () => {
  await store.clearRefused();
  await renderRefused();
});

window.addEventListener("online", async () => {
  await refreshStatus();
  // the code on screen was checked on the phone only: now the server adds the name
  if (pending && pending.token) checkOnline(pending.token, pending);
  await upload();
  await pullFeed();
});
window.addEventListener("offline", refreshStatus);

// A service worker keeps the page and its scripts, so it opens again without a network; it is
// told what to keep once it runs (the first visit loaded them before it existed).
async function keepForOffline() {
  if (!("serviceWorker" in navigator) || !config.service_worker_url) return;
  try {
    await navigator.serviceWorker.register(config.service_worker_url, { scope: "/venues/" });
    const registration = await navigator.serviceWorker.ready;
    const keep = [
      location.pathname,
      ...[...document.querySelectorAll("script[src]")].map((s) => s.src),
      ...[...document.querySelectorAll("link[rel=stylesheet], link[rel=icon]")].map((l) => l.href),
      new URL("./scanner-queue.js", import.meta.url).href,
      new URL("./vendor/idb.js", import.meta.url).href,
      new URL("../healthcode/verify.js", import.meta.url).href,
    ];
    navigator.serviceWorker.addEventListener("message", (event) => {
      if (event.data && "kept" in event.data) root.dataset.offlineCopy = String(event.data.kept);
    });
    registration.active.postMessage({ keep });
  } catch (error) {
    // without it the open page still works offline; only a reload needs the network
  }
}

async function start() {
  store = new Store(await openStore(), {
    uploadUrl: config.upload_url,
    feedUrl: config.feed_url,
    batch: config.batch,
    csrf: csrfToken,
  });
  await refreshStatus();
  await renderRefused();
  await loadKeys();
  root.dataset.ready = "true";
  keepForOffline();
  await pullFeed();
  await upload();
  setInterval(upload, UPLOAD_EVERY_MS);
  setInterval(pullFeed, FEED_EVERY_MS);
}

start();
