// The draw-a-digit page: a pen on a canvas, the MNIST-style 28x28 image (digits.js), and the Part-3
// model (part3.onnx) run by onnxruntime-web from ort/, next to this page; nothing comes from elsewhere.
"use strict";

const PEN_WIDTH = 20;        // canvas pixels on the 280-pixel pad: about 2 of the model's 28 after scaling
const MIN_BOX = 2 * PEN_WIDTH; // an ink box whose longer side is below this (canvas pixels) is too small to read
const MEAN = 0.1307, STD = 0.3081;
const MODEL_URLS = modelCandidates();

const pad = document.getElementById("pad");
const pen = pad.getContext("2d", { willReadFrequently: true });
const seen = document.getElementById("seen");
const prediction = document.getElementById("prediction");
const message = document.getElementById("message");
const bars = document.getElementById("bars");

const strokes = [];          // each stroke: a list of [x, y] points in canvas pixels
let current = null;          // the stroke being drawn
let session = null;
let running = false, pending = false;

// Served from the repository root (python -m mnist_helpers.web) the model is ../models/part3.onnx;
// on GitHub Pages the workflow puts it next to the page. The likely place is tried first, so neither
// setting makes a failing request; the other is the fallback.
function modelCandidates() {
  const inDocs = /\/docs\/(index\.html)?$/.test(location.pathname);
  const urls = ["part3.onnx", "../models/part3.onnx"];
  return inDocs ? urls.reverse() : urls;
}

function buildBars() {
  for (let digit = 0; digit < 10; digit++) {
    const row = document.createElement("div");
    row.className = "bar";
    row.innerHTML = `<span class="label">${digit}</span><span class="track"><span class="fill"></span></span><span class="value"></span>`;
    row.dataset.digit = String(digit);
    bars.appendChild(row);
  }
}

function showProbabilities(probs) {
  bars.querySelectorAll(".bar").forEach((row, digit) => {
    const p = probs ? probs[digit] : null;
    if (p === null) row.removeAttribute("data-prob"); else row.dataset.prob = String(p);
    row.querySelector(".fill").style.width = p === null ? "0" : `${(100 * p).toFixed(1)}%`;
    row.querySelector(".value").textContent = p === null ? "" : `${(100 * p).toFixed(1)}%`;
  });
}

function redraw() {
  pen.fillStyle = "#fff";
  pen.fillRect(0, 0, pad.width, pad.height);
  pen.strokeStyle = pen.fillStyle = "#000";
  pen.lineWidth = PEN_WIDTH;
  pen.lineCap = pen.lineJoin = "round";
  for (const stroke of current ? [...strokes, current] : strokes) {
    if (stroke.length === 1) {
      pen.beginPath();
      pen.arc(stroke[0][0], stroke[0][1], PEN_WIDTH / 2, 0, 2 * Math.PI);
      pen.fill();
      continue;
    }
    pen.beginPath();
    pen.moveTo(stroke[0][0], stroke[0][1]);
    for (const [x, y] of stroke.slice(1)) pen.lineTo(x, y);
    pen.stroke();
  }
  pad.dataset.strokes = String(strokes.length);
}

function pointOf(event) {
  const rect = pad.getBoundingClientRect();
  return [(event.clientX - rect.left) * (pad.width / rect.width), (event.clientY - rect.top) * (pad.height / rect.height)];
}

function showSeen(image) {
  const ctx = seen.getContext("2d");
  const pixels = ctx.createImageData(28, 28);
  for (let i = 0; i < 28 * 28; i++) {
    const v = image ? Math.round(255 * image[i]) : 0;
    pixels.data.set([v, v, v, 255], 4 * i);
  }
  ctx.putImageData(pixels, 0, 0);
}

function showNoDigit(text, state) {
  prediction.textContent = "?";
  prediction.dataset.digit = "";
  prediction.dataset.state = state;
  message.textContent = text;
  showProbabilities(null);
}

function softmax(logits) {
  const top = Math.max(...logits);
  const exps = Array.from(logits, (v) => Math.exp(v - top));
  const total = exps.reduce((a, b) => a + b, 0);
  return exps.map((v) => v / total);
}

async function classify(image) {
  const input = new Float32Array(28 * 28);
  for (let i = 0; i < input.length; i++) input[i] = (image[i] - MEAN) / STD;
  const feeds = { [session.inputNames[0]]: new ort.Tensor("float32", input, [1, 1, 28, 28]) };
  const output = await session.run(feeds);
  return softmax(output[session.outputNames[0]].data);
}

// One prediction at a time; strokes drawn meanwhile are picked up by one more run when it ends.
async function update() {
  if (running) { pending = true; return; }
  running = true;
  document.body.dataset.busy = "";
  try {
    do {
      pending = false;
      await predictOnce();
    } while (pending);
  } catch (err) {
    showNoDigit(`The prediction failed: ${err.message}. Reload the page; if it persists, please report it.`, "error");
    console.error(err);
  } finally {
    running = false;
    delete document.body.dataset.busy;
  }
}

async function predictOnce() {
  const drawn = strokes.length;
  prediction.dataset.forStrokes = String(drawn);
  const gray = MnistDigits.grayFromRGBA(pen.getImageData(0, 0, pad.width, pad.height).data, pad.width, pad.height);
  let result;
  try {
    result = MnistDigits.mnistStyle(gray);
  } catch (err) {
    if (!(err instanceof MnistDigits.DigitImageError)) throw err;
    window.lastInput = null;
    showSeen(null);
    showNoDigit(drawn ? "Too faint to read: draw with more ink." : "Draw a digit (0-9) in the box.", "blank");
    return;
  }
  const [top, bottom, left, right] = result.box;
  window.lastInput = Array.from(result.image);
  showSeen(result.image);
  if (Math.max(bottom - top, right - left) < MIN_BOX) {
    showNoDigit("Too small to read: draw the digit larger, filling most of the box.", "too-small");
    return;
  }
  if (!session) {
    showNoDigit("The model is not loaded, so there is no prediction.", "no-model");
    return;
  }
  const probs = await classify(result.image);
  const digit = probs.indexOf(Math.max(...probs));
  prediction.textContent = String(digit);
  prediction.dataset.digit = String(digit);
  prediction.dataset.state = "digit";
  message.textContent = `The model says ${digit}, with ${(100 * probs[digit]).toFixed(1)}% probability.`;
  showProbabilities(probs);
}

function startStroke(event) {
  if (event.button !== 0 && event.pointerType === "mouse") return;
  pad.setPointerCapture(event.pointerId);
  current = [pointOf(event)];
  redraw();
  event.preventDefault();
}

function extendStroke(event) {
  if (!current) return;
  const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
  for (const e of events.length ? events : [event]) current.push(pointOf(e));
  redraw();
  event.preventDefault();
}

function endStroke(event) {
  if (!current) return;
  strokes.push(current);
  current = null;
  if (pad.hasPointerCapture(event.pointerId)) pad.releasePointerCapture(event.pointerId);
  redraw();
  update();
}

function clearAll() {
  strokes.length = 0;
  current = null;
  redraw();
  update();
}

function undo() {
  strokes.pop();
  redraw();
  update();
}

async function fetchModel() {
  const failures = [];
  for (const url of MODEL_URLS) {
    let response;
    try {
      response = await fetch(url);
    } catch (err) {
      failures.push(`${url}: ${err.message}`);
      continue;
    }
    if (response.ok) return response.arrayBuffer();
    failures.push(`${url}: HTTP ${response.status}`);
  }
  throw new Error(`could not fetch the model (${failures.join("; ")}). Serve the repository with ` +
    "'python -m mnist_helpers.web', or run 'python -m mnist_helpers.export' if models/part3.onnx is missing.");
}

async function loadModel() {
  if (typeof ort === "undefined") {
    throw new Error("onnxruntime-web (ort/ort.wasm.min.js) did not load: run 'npm ci && bash scripts/build_web.sh'.");
  }
  ort.env.wasm.numThreads = 1;   // GitHub Pages is not cross-origin isolated, so no threads
  ort.env.wasm.wasmPaths = new URL("ort/", document.baseURI).href;
  const model = await fetchModel();
  return ort.InferenceSession.create(model, { executionProviders: ["wasm"] });
}

async function main() {
  buildBars();
  redraw();
  pad.addEventListener("pointerdown", startStroke);
  pad.addEventListener("pointermove", extendStroke);
  pad.addEventListener("pointerup", endStroke);
  pad.addEventListener("pointercancel", endStroke);
  document.getElementById("clear").addEventListener("click", clearAll);
  document.getElementById("undo").addEventListener("click", undo);
  try {
    session = await loadModel();
    document.getElementById("status").textContent = "Model loaded: draw a digit.";
  } catch (err) {
    document.getElementById("status").textContent = `Error: ${err.message}`;
    document.getElementById("status").classList.add("error");
    document.body.dataset.error = err.message;
    return;
  }
  await update();
  document.body.dataset.ready = "";
}

main();
