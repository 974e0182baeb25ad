// The draw-a-digit page: a pen on a canvas, the MNIST-style 28x28 image (digits.js), a model of the course
// (part3.onnx by default) run by onnxruntime-web from ort/, and what each of its layers sees (layers.js).
// Nothing comes from elsewhere, and nothing drawn leaves the page.
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
const picker = document.getElementById("model-pick");
const fileInput = document.getElementById("model-file");
const modelMessage = document.getElementById("model-message");
const layers = new MnistLayers.LayerView(document.getElementById("layers"), document.getElementById("kernel-view"),
                                         document.getElementById("why"));

const strokes = [];          // each stroke: a list of [x, y] points in canvas pixels
let current = null;          // the stroke being drawn
let session = null;
let running = false, pending = false;
const timings = [];          // milliseconds of each update that ran the model: inference plus drawing the maps

// Served from the repository root (python -m mnist_helpers.web) the model is ../models/part3.onnx;
// on GitHub Pages the workflow puts it next to the page. The likely place is tried first, so neither
// setting makes a failing request; the other is the fallback.
function servedFromTheRepository() {
  return /\/docs\/(index\.html)?$/.test(location.pathname);
}

function modelCandidates() {
  const urls = ["part3.onnx", "../models/part3.onnx"];
  return servedFromTheRepository() ? urls.reverse() : urls;
}

function buildBars() {
  for (let digit = 0; digit < 10; digit++) {
    const row = document.createElement("div");
    row.className = "bar";
    row.innerHTML = `<span class="label">${digit}</span><span class="track"><span class="fill"></span></span><span class="value"></span>`;
    row.dataset.digit = String(digit);
    row.tabIndex = 0;
    for (const type of ["pointerenter", "click", "focus"]) row.addEventListener(type, () => layers.explain(digit));
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

// One session.run gives the logits and every stage's maps; the maps are drawn before it returns.
async function classify(image) {
  const model = session;   // a model switch waits for this run to end (useModel), so this session stays
  const input = new Float32Array(28 * 28);
  for (let i = 0; i < input.length; i++) input[i] = (image[i] - MEAN) / STD;
  const feeds = { [model.inputNames[0]]: new ort.Tensor("float32", input, [1, 1, 28, 28]) };
  const output = await model.run(feeds);
  layers.draw(output);
  window.lastStages = Object.fromEntries(layers.stages.map((s) => [s.name, Array.from(output[s.name].data)]));
  return softmax(output[MnistLayers.logitsName(model)].data);
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
    window.lastStages = null;
    layers.clear();
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
  const start = performance.now();
  const probs = await classify(result.image);
  timings.push(performance.now() - start);
  const digit = probs.indexOf(Math.max(...probs));
  prediction.textContent = String(digit);
  prediction.dataset.digit = String(digit);
  prediction.dataset.state = "digit";
  message.textContent = `The model says ${digit}, with ${(100 * probs[digit]).toFixed(1)}% probability.`;
  showProbabilities(probs);
  layers.explain(digit);
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

async function fetchFirst(urls, what) {
  const failures = [];
  for (const url of urls) {
    let response;
    try {
      response = await fetch(url);
    } catch (err) {
      failures.push(`${url}: ${err.message}`);
      continue;
    }
    if (response.ok) return { url, response };
    failures.push(`${url}: HTTP ${response.status}`);
  }
  throw new Error(`could not fetch ${what} (${failures.join("; ")})`);
}

async function fetchModel(urls) {
  let found;
  try {
    found = await fetchFirst(urls, "the model");
  } catch (err) {
    throw new Error(`${err.message}. Serve the repository with 'python -m mnist_helpers.web', or run ` +
      "'python -m mnist_helpers.export' if models/part3.onnx is missing.");
  }
  const bytes = await found.response.arrayBuffer();
  // the metadata beside it (stage labels, kernels, the head's weights) is optional
  let meta = null;
  try {
    const json = await fetch(found.url.replace(/\.onnx$/, ".json"));
    if (json.ok) meta = await json.json();
  } catch (err) {
    console.warn(`no metadata for ${found.url}: ${err.message}`);
  }
  return { bytes, meta, name: (meta && meta.name) || found.url.split("/").pop().replace(/\.onnx$/, "") };
}

function startRuntime() {
  if (typeof ort === "undefined") {
    throw new Error("onnxruntime-web (ort/ort.wasm.min.js) did not load: run 'bash docs/build.sh'.");
  }
  ort.env.wasm.numThreads = 1;   // GitHub Pages is not cross-origin isolated, so no threads
  ort.env.wasm.wasmPaths = new URL("ort/", document.baseURI).href;
}

let choices = 0;             // counts model choices, so that only the latest one is made the page's model

function idle() {
  return new Promise((resolve) => {
    const check = () => (running ? setTimeout(check, 5) : resolve());
    check();
  });
}

// Make a model the page's model, once it has passed the checks; until then the old one stays. Returns the
// number of stages, or null if a later choice was made meanwhile.
async function useModel({ bytes, meta, name }) {
  const choice = ++choices;
  let candidate;
  try {
    candidate = await ort.InferenceSession.create(bytes, { executionProviders: ["wasm"] });
  } catch (err) {
    throw new MnistLayers.ModelError(`onnxruntime cannot read it as an ONNX model (${err.message.split("\n")[0]})`);
  }
  let stages;
  try {
    const sample = await MnistLayers.checkSession(candidate);
    if (meta && meta.outputs && meta.outputs.join() !== candidate.outputNames.join()) {
      throw new MnistLayers.ModelError("its .json lists other outputs than the model has: is it another model's?");
    }
    stages = MnistLayers.describeStages(candidate, meta, sample);
    await idle();            // no run of the old model is under way from here to the swap
  } catch (err) {
    candidate.release();
    throw err;
  }
  if (choice !== choices) {  // a later choice overtook this one
    candidate.release();
    return null;
  }
  if (session) session.release();
  session = candidate;
  layers.build(stages, meta && meta.head);
  document.body.dataset.model = name;
  const about = meta && meta.params ? ` (${meta.params.toLocaleString("en")} parameters)` : "";
  document.getElementById("status").textContent = `Model ${name}${about} loaded: draw a digit.`;
  if (![...picker.options].some((o) => o.value === name)) picker.add(new Option(`${name} (your file)`, name));
  picker.value = name;
  return stages.length;
}

async function fillPicker() {
  picker.add(new Option("part3", "part3"));
  if (!servedFromTheRepository()) return;  // on GitHub Pages only the Part-3 model is published
  let models;
  try {
    const listing = await fetch("../models/index.json");
    if (!listing.ok) throw new Error(`HTTP ${listing.status}`);
    models = (await listing.json()).models;
  } catch (err) {
    modelMessage.textContent = `The list of saved models could not be read (${err.message}); the Part-3 model is used.`;
    return;
  }
  picker.replaceChildren();
  for (const model of models) {
    const about = model.params ? ` · ${model.params.toLocaleString("en")} parameters` : "";
    picker.add(new Option(`${model.name}${about}`, model.name));
  }
}

const uploaded = new Map();  // name -> {bytes, meta, name} of the files chosen on this page (they win over the
                             // saved model of the same name, as the learner's latest choice)

async function pickModel() {
  const name = picker.value;
  modelMessage.textContent = "";
  try {
    const model = uploaded.get(name) ||
      await fetchModel(name === "part3" ? MODEL_URLS : [`../models/${encodeURIComponent(name)}.onnx`]);
    if (await useModel(model) !== null) await update();
  } catch (err) {
    refuse(`Could not load ${name}: ${err.message}.`);
  }
}

async function chooseFiles(files) {
  fileInput.value = "";
  const onnx = files.find((f) => f.name.toLowerCase().endsWith(".onnx"));
  const json = files.find((f) => f.name.toLowerCase().endsWith(".json"));
  if (!onnx) {
    refuse(`${files.map((f) => f.name).join(", ") || "Nothing"}: choose an .onnx file (with its .json, where there is one).`);
    return;
  }
  let meta = null;
  if (json) {
    try {
      meta = JSON.parse(await json.text());
    } catch (err) {
      refuse(`${json.name} is not valid JSON (${err.message}); the model was not changed.`);
      return;
    }
  }
  try {
    const model = { bytes: new Uint8Array(await onnx.arrayBuffer()), meta,
                    name: (meta && meta.name) || onnx.name.replace(/\.onnx$/i, "") };
    const count = await useModel(model);
    if (count === null) return;
    uploaded.set(model.name, model);
    modelMessage.textContent = `${onnx.name} loaded, with ${count} stage${count === 1 ? "" : "s"} to show` +
      (count && !meta ? " (add its .json for the kernels and labels)." : ".");
    modelMessage.dataset.state = "ok";
    await update();
  } catch (err) {
    refuse(`${onnx.name} cannot be used: ${err.message}. The page keeps ${document.body.dataset.model || "no model"}.`);
  }
}

function refuse(text) {
  modelMessage.textContent = text;
  modelMessage.dataset.state = "refused";
  picker.value = document.body.dataset.model || "";
}

// For the tests and the speed benchmark: the current drawing's update, n times, in milliseconds.
window.mnistPage = {
  async timeUpdates(n) {
    await idle();
    running = true;
    try {
      const start = timings.length;
      for (let i = 0; i < n; i++) await predictOnce();
      return timings.slice(start);
    } finally {
      running = false;
    }
  },
};

async function main() {
  buildBars();
  redraw();
  pad.addEventListener("pointerdown", startStroke);
  pad.addEventListener("pointermove", extendStroke);
  pad.addEventListener("pointerup", endStroke);
  pad.addEventListener("pointercancel", endStroke);
  document.getElementById("clear").addEventListener("click", clearAll);
  document.getElementById("undo").addEventListener("click", undo);
  picker.addEventListener("change", pickModel);
  fileInput.addEventListener("change", () => chooseFiles([...fileInput.files]));
  const inside = document.getElementById("inside");   // a model file can also be dropped on the layer view
  inside.addEventListener("dragover", (event) => { event.preventDefault(); inside.classList.add("dropping"); });
  inside.addEventListener("dragleave", () => inside.classList.remove("dropping"));
  inside.addEventListener("drop", (event) => {
    event.preventDefault();
    inside.classList.remove("dropping");
    chooseFiles([...event.dataTransfer.files]);
  });
  try {
    startRuntime();
    await fillPicker();
    await useModel(await fetchModel(MODEL_URLS));
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
