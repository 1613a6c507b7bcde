// The scanner for checkpoint and venue staff (R4.2, R4.3): reads a health code from the camera
// (jsQR, installed from npm at build time), from a photo, or from pasted text; verifies it in
// the browser against the published key lists with verify.js (works without a network once
// the list was loaded), then asks the server whether the colour changed since the code was
// issued. The big colour shows the current colour when the server answered.
import { loadTrustList, verifyToken } from "./verify.js";

const root = document.getElementById("hc-scanner");
const texts = JSON.parse(document.getElementById("hc-texts").textContent);
const trustUrl = root.dataset.trustUrl;
const verifyUrl = root.dataset.verifyUrl;
const TRUST_CACHE = "epigrid.healthcode.trust";

const els = {
  result: document.getElementById("hc-result"),
  big: document.getElementById("hc-result-colour"),
  line: document.getElementById("hc-result-line"),
  online: document.getElementById("hc-result-online"),
  details: document.getElementById("hc-result-details"),
  input: document.getElementById("hc-token-input"),
  form: document.getElementById("hc-paste-form"),
  keysState: document.getElementById("hc-keys-state"),
  video: document.getElementById("hc-video"),
  cameraButton: document.getElementById("hc-camera"),
  photo: document.getElementById("hc-photo"),
  cameraState: document.getElementById("hc-camera-state"),
};

// Times in Beijing time whatever zone the device is set to: the staff compare them with the
// code's own page and with the rules' times, which are China time
const BEIJING = new Intl.DateTimeFormat("en-CA", {
  timeZone: "Asia/Shanghai",
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  hourCycle: "h23",
});

function beijingTime(date) {
  const part = Object.fromEntries(BEIJING.formatToParts(date).map((p) => [p.type, p.value]));
  return `${part.year}-${part.month}-${part.day} ${part.hour}:${part.minute}:${part.second}`;
}

function lang() {
  return document.documentElement.lang === "en" ? "en" : "zh-hans";
}

let trust = null;
let lastToken = null;
let lastAt = 0;

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : root.dataset.csrf;
}

async function loadKeys() {
  let doc = null;
  let from = "network";
  try {
    const response = await fetch(trustUrl, { credentials: "same-origin", cache: "no-cache" });
    if (!response.ok) throw new Error(String(response.status));
    doc = await response.json();
    localStorage.setItem(TRUST_CACHE, JSON.stringify({ at: new Date().toISOString(), doc }));
  } catch (error) {
    const cached = localStorage.getItem(TRUST_CACHE);
    if (!cached) {
      els.keysState.textContent = root.dataset.textNoKeys;
      return;
    }
    const parsed = JSON.parse(cached);
    doc = parsed.doc;
    from = parsed.at;
  }
  trust = await loadTrustList(doc);
  const issuers = [...trust.issuers.keys()].map((issuer) => texts.issuers[issuer] || issuer).join(", ");
  els.keysState.textContent =
    from === "network"
      ? `${root.dataset.textKeysLoaded} ${issuers}`
      : `${root.dataset.textKeysCached} ${beijingTime(new Date(from))} (${issuers})`;
  root.dataset.keysReady = "true";
}

function show(colourClass, big, line) {
  els.result.className = `hc-result ${colourClass}`;
  els.result.dataset.colour = colourClass;
  els.big.textContent = big;
  els.line.textContent = line;
}

function detail(rows) {
  els.details.replaceChildren();
  appendRows(rows);
}

async function checkOnline(token, offline) {
  els.online.textContent = "…";
  let answer;
  try {
    const response = await fetch(verifyUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      // "%" as the JSON escape \u0025: the site's NUL filter refuses a body holding "%00",
      // which a base45 token may contain
      body: JSON.stringify({ token }).replace(/%/g, "\\u0025"),
    });
    if (!response.ok) throw new Error(String(response.status));
    answer = await response.json();
  } catch (error) {
    els.online.textContent = texts.online.offline;
    els.result.dataset.online = "offline";
    // the token carries no name: the holder is known only to the server
    appendRows([[root.dataset.textHolder, root.dataset.textHolderOffline]]);
    return;
  }
  if (token !== lastToken) return; // a newer scan is on screen
  els.result.dataset.online = answer.online;
  els.online.textContent = texts.online[answer.online] || answer.online;
  if (answer.stale) {
    els.online.className = "warn";
  } else {
    els.online.className = "";
  }
  if (answer.current_colour && offline.valid) {
    const current = answer.current_colour;
    show(current, texts.colours[current], texts.advice[current]);
    els.result.dataset.currentColour = current;
  } else if (answer.online === "revoked" || answer.online === "unknown_code") {
    show("invalid", texts.reasons.malformed, texts.online[answer.online]);
  }
  const rows = [];
  if (answer.holder) rows.push([root.dataset.textHolder, answer.holder]);
  if (answer.action) rows.push([root.dataset.textAction, answer.action[lang()]]);
  if (answer.person) rows.push([root.dataset.textName, answer.person.name]);
  if (answer.reasons) {
    rows.push([root.dataset.textReasons, answer.reasons.map((r) => `${r[lang()]} (${r.rule})`).join("; ")]);
  }
  if (answer.requirements && answer.requirements.length) rows.push([root.dataset.textClauses, answer.requirements.join(", ")]);
  if (answer.release) rows.push([root.dataset.textRelease, answer.release[lang()]]);
  appendRows(rows);
}

function appendRows(rows) {
  for (const [name, value] of rows) {
    if (value === null || value === undefined || value === "") continue;
    const dt = document.createElement("dt");
    dt.textContent = name;
    const dd = document.createElement("dd");
    dd.textContent = value;
    els.details.append(dt, dd);
  }
}

async function check(token) {
  token = token.replace(/[\r\n]+/g, "");
  if (!token) return;
  // the camera sees the same code many times a second: one check per code and second
  const now = Date.now();
  if (token === lastToken && now - lastAt < 3000) return;
  lastToken = token;
  lastAt = now;
  if (!trust) await loadKeys();
  els.result.dataset.online = "";
  els.result.dataset.currentColour = "";
  els.online.textContent = "";
  els.online.className = "";
  if (!trust) {
    show("invalid", "?", root.dataset.textNoKeys);
    return;
  }
  const result = await verifyToken(token, trust, new Date(), { leeway: 30 });
  els.result.dataset.reason = result.reason;
  els.result.dataset.tokenColour = result.colour || "";
  if (result.valid) {
    show(result.colour, texts.colours[result.colour], texts.advice[result.colour]);
  } else {
    show("invalid", "✕", texts.reasons[result.reason] || result.reason);
  }
  detail([
    [root.dataset.textCheck, texts.reasons[result.reason] || result.reason],
    [root.dataset.textShown, result.colour ? texts.colours[result.colour] : ""],
    [root.dataset.textIssuer, texts.issuers[result.issuer] || result.issuer],
    [root.dataset.textExpires, result.expires ? beijingTime(result.expires) : ""],
  ]);
  if (result.colour) await checkOnline(token, result);
}

els.form.addEventListener("submit", (event) => {
  event.preventDefault();
  lastToken = null;
  check(els.input.value.trim());
});

// --- camera and photo (jsQR) ---------------------------------------------------------------

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
    if (text) check(text);
  }
  requestAnimationFrame(tick);
}

async function startCamera() {
  if (stream) {
    for (const track of stream.getTracks()) track.stop();
    stream = null;
    els.video.hidden = true;
    els.cameraButton.textContent = root.dataset.textCameraStart;
    return;
  }
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
  } catch (error) {
    els.cameraState.textContent = `${root.dataset.textCameraDenied} (${error.name})`;
    return;
  }
  els.video.srcObject = stream;
  els.video.hidden = false;
  await els.video.play();
  els.cameraButton.textContent = root.dataset.textCameraStop;
  root.dataset.cameraRunning = "true";
  requestAnimationFrame(tick);
}

if (typeof window.jsQR === "function") {
  els.cameraButton.addEventListener("click", startCamera);
  els.photo.addEventListener("change", async () => {
    const file = els.photo.files && els.photo.files[0];
    if (!file) return;
    const bitmap = await createImageBitmap(file);
    const text = decodeFrom(bitmap, bitmap.width, bitmap.height);
    if (text) {
      lastToken = null;
      els.input.value = text;
      check(text);
    } else {
      show("invalid", "?", root.dataset.textNoQr);
    }
  });
} else {
  els.cameraButton.disabled = true;
  els.photo.disabled = true;
}

loadKeys();
root.dataset.ready = "true";
