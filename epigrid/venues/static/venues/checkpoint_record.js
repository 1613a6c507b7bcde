// The checkpoint's record page (R5.2): "+ person" adds an occupant from the template, each
// occupant's "scan" button reads their health code with the camera (jsQR) and checks it in the
// browser against the published keys (verify.js), so staff see the colour at once; the token
// goes to the server, which verifies it again. No ID number is ever shown back.
import { loadTrustList, verifyToken } from "../healthcode/verify.js";

const form = document.getElementById("cp-form");
const list = document.getElementById("cp-occupants");
const template = document.getElementById("cp-occupant-template");
const video = document.getElementById("cp-video");
const cameraState = document.getElementById("cp-camera-state");
const TRUST_CACHE = "epigrid.healthcode.trust";

function renumber() {
  list.querySelectorAll(".cp-occupant").forEach((block, i) => {
    block.querySelector(".cp-number").textContent = String(i + 1);
  });
}

function nextIndex() {
  let max = -1;
  list.querySelectorAll(".cp-occupant").forEach((block) => {
    max = Math.max(max, Number(block.dataset.n));
  });
  return max + 1;
}

function addOccupant() {
  const n = String(nextIndex());
  const html = template.innerHTML.replaceAll("__N__", n);
  const holder = document.createElement("div");
  holder.innerHTML = html;
  const block = holder.firstElementChild;
  list.appendChild(block);
  renumber();
  block.querySelector(".cp-document").focus();
}

let trust = null;
async function trustList() {
  if (trust) return trust;
  let doc = null;
  try {
    const response = await fetch(form.dataset.trustUrl, { credentials: "same-origin", cache: "no-cache" });
    if (!response.ok) throw new Error(String(response.status));
    doc = await response.json();
    localStorage.setItem(TRUST_CACHE, JSON.stringify({ at: new Date().toISOString(), doc }));
  } catch {
    const cached = localStorage.getItem(TRUST_CACHE);
    if (cached) doc = JSON.parse(cached).doc;
  }
  if (doc) trust = await loadTrustList(doc);
  return trust;
}

// --- the camera ---------------------------------------------------------------------------

const canvas = document.createElement("canvas");
const context = canvas.getContext("2d", { willReadFrequently: true });
let stream = null;
let target = null;

function stopCamera() {
  if (stream) for (const track of stream.getTracks()) track.stop();
  stream = null;
  video.hidden = true;
  cameraState.textContent = "";
}

async function accept(block, token) {
  const state = block.querySelector(".cp-code-state");
  const keys = await trustList();
  const verdict = keys ? await verifyToken(token, keys, new Date(), { leeway: 300 }) : null;
  if (verdict && !verdict.valid) {
    state.textContent = form.dataset.textInvalid;
    state.dataset.colour = "";
    return;
  }
  block.querySelector(".cp-token").value = token;
  const colour = verdict ? verdict.colour : "";
  state.textContent = `${form.dataset.textRead} ${colour ? form.dataset[`text${colour[0].toUpperCase()}${colour.slice(1)}`] || "" : "✓"}`;
  state.dataset.colour = colour || "";
  block.querySelector(".cp-temperature").focus();
}

function tick() {
  if (!stream || !target) return;
  if (video.readyState >= 2 && typeof window.jsQR === "function") {
    const scale = Math.min(1, 800 / Math.max(video.videoWidth, video.videoHeight));
    canvas.width = Math.round(video.videoWidth * scale);
    canvas.height = Math.round(video.videoHeight * scale);
    context.drawImage(video, 0, 0, canvas.width, canvas.height);
    const image = context.getImageData(0, 0, canvas.width, canvas.height);
    const found = window.jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" });
    if (found && found.data) {
      const block = target;
      target = null;
      stopCamera();
      accept(block, found.data.trim());
      return;
    }
  }
  requestAnimationFrame(tick);
}

async function scan(block) {
  if (stream) {
    stopCamera();
    if (target === block) {
      target = null;
      return;
    }
  }
  target = block;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
  } catch (error) {
    cameraState.textContent = `${form.dataset.textCameraDenied} (${error.name})`;
    target = null;
    return;
  }
  block.after(video);
  video.srcObject = stream;
  video.hidden = false;
  cameraState.textContent = form.dataset.textScanning;
  await video.play();
  requestAnimationFrame(tick);
}

document.getElementById("cp-add").addEventListener("click", addOccupant);
list.addEventListener("click", (event) => {
  const block = event.target.closest(".cp-occupant");
  if (!block) return;
  if (event.target.closest(".cp-scan")) scan(block);
  if (event.target.closest(".cp-remove") && list.querySelectorAll(".cp-occupant").length > 1) {
    block.remove();
    renumber();
  }
});
// a typed ID number replaces a code read earlier for the same person
list.addEventListener("input", (event) => {
  if (event.target.classList.contains("cp-document")) {
    const block = event.target.closest(".cp-occupant");
    block.querySelector(".cp-token").value = "";
    block.querySelector(".cp-code-state").textContent = "";
  }
});
// a second press while the answer is on its way would record the car twice
form.addEventListener("submit", () => {
  document.getElementById("cp-submit").disabled = true;
});
renumber();
trustList();
// the page works before this module ran (one occupant, plain submit); tests and staff
// tooling can tell when "+ person" answers
form.dataset.ready = "1";
