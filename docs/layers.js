// What every layer sees: the feature maps of each stage of the model, drawn from one session.run, the
// kernels behind a map (click or tap it), and which averages fed a digit's score (hover or tap its bar).
//
// A model saved by mnist_helpers.export.save_model returns "logits" and, after it, one output per stage
// ("stage_1", "stage_2", ...); its .json file describes each stage (label, shape, the kernels of the
// convolution that made it) and the head (the weights from the last stage's averages to the logits).
// A model without that file still shows its stages, named by their outputs, without kernels.
"use strict";

(function (global) {
  // magma-like colours for activations: dark for the map's lowest value, bright for its highest
  const STOPS = [[0, 0, 4], [80, 18, 123], [182, 54, 121], [251, 136, 97], [252, 253, 191]];
  const LUT = new Uint8ClampedArray(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = (i / 255) * (STOPS.length - 1), k = Math.min(Math.floor(t), STOPS.length - 2), f = t - k;
    for (let c = 0; c < 3; c++) LUT[3 * i + c] = Math.round(STOPS[k][c] + f * (STOPS[k + 1][c] - STOPS[k][c]));
  }

  class ModelError extends Error {}

  // Check a session as the page needs it: one input that takes a 1x1x28x28 image, 10 logits first.
  async function checkSession(session) {
    if (session.inputNames.length !== 1) {
      throw new ModelError(`it has ${session.inputNames.length} inputs; the page gives one 1×1×28×28 image`);
    }
    const zeros = new ort.Tensor("float32", new Float32Array(28 * 28), [1, 1, 28, 28]);
    let out;
    try {
      out = await session.run({ [session.inputNames[0]]: zeros });
    } catch (err) {
      throw new ModelError(`it does not take a 1×1×28×28 image (${err.message.split("\n")[0]})`);
    }
    const logits = out[logitsName(session)];
    if (!logits || logits.dims.length !== 2 || logits.dims[1] !== 10) {
      throw new ModelError(`its first output has shape [${logits ? logits.dims.join(", ") : ""}], not 10 logits`);
    }
    return out;
  }

  function logitsName(session) {
    return session.outputNames.includes("logits") ? "logits" : session.outputNames[0];
  }

  // The stages of a checked session: from its metadata where it has some, else from its outputs' shapes.
  // Metadata that does not fit the model (other kernels' counts, a head of another size) raises.
  function describeStages(session, meta, sample) {
    const names = session.outputNames.filter((n) => n !== logitsName(session));
    const known = new Map(((meta && meta.stages) || []).map((s) => [s.name, s]));
    const stages = names.map((name) => {
      const dims = sample[name].dims;
      const shape = dims.length === 4 ? dims.slice(1) : [dims[1], 1, 1];
      const about = known.get(name) || {};
      const kernels = about.kernels || (about.kernels_of && (known.get(about.kernels_of) || {}).kernels) || null;
      if (kernels && (!Array.isArray(kernels) || kernels.length !== shape[0])) {
        throw new ModelError(`its .json gives ${name} ${kernels.length} channels of kernels, but the model's ${name} has ${shape[0]}`);
      }
      return { name, label: about.label || name, shape, kernels };
    });
    const head = meta && meta.head;
    if (head && stages.length) {
      const channels = stages[stages.length - 1].shape[0];
      if (!Array.isArray(head.weight) || head.weight.length !== 10 || head.weight.some((row) => row.length !== channels)
          || !Array.isArray(head.bias) || head.bias.length !== 10) {
        throw new ModelError(`its .json describes a head that does not read the model's ${channels} averages`);
      }
    }
    return stages;
  }

  class LayerView {
    constructor(container, kernelView, why) {
      this.container = container;
      this.kernelView = kernelView;
      this.why = why;
      this.stages = [];
      this.head = null;
      this.last = null;
    }

    // Build one grid per stage, each map a canvas of the stage's own size (CSS scales it up).
    build(stages, head) {
      this.stages = stages;
      this.head = head && stages.length && head.stage === stages[stages.length - 1].name ? head : null;
      this.container.replaceChildren();
      this.kernelView.hidden = true;
      this.why.textContent = "";
      for (const stage of stages) {
        const [channels, h, w] = stage.shape;
        const box = document.createElement("div");
        box.className = "stage";
        box.dataset.stage = stage.name;
        const title = document.createElement("h3");
        title.textContent = `${stage.label}: ${channels} map${channels === 1 ? "" : "s"} of ${h}×${w}`;
        const maps = document.createElement("div");
        maps.className = h === 1 && w === 1 ? "maps averages" : "maps";
        for (let c = 0; c < channels; c++) {
          const canvas = document.createElement("canvas");
          canvas.width = w;
          canvas.height = h;
          canvas.dataset.channel = String(c);
          canvas.title = `channel ${c}` + (stage.kernels ? ": click for its kernels" : "");
          canvas.addEventListener("click", () => this.showKernels(stage, c));
          maps.appendChild(canvas);
        }
        box.append(title, maps);
        this.container.appendChild(box);
      }
    }

    // Draw every stage's maps from one run's outputs; each map on its own scale, averages on a shared one.
    draw(outputs) {
      this.last = outputs;
      for (const stage of this.stages) {
        const data = outputs[stage.name].data;
        const [channels, h, w] = stage.shape;
        const size = h * w;
        const canvases = this.container.querySelectorAll(`[data-stage="${stage.name}"] canvas`);
        let sharedLow = Infinity, sharedHigh = -Infinity;
        if (size === 1) for (let i = 0; i < channels; i++) { sharedLow = Math.min(sharedLow, data[i]); sharedHigh = Math.max(sharedHigh, data[i]); }
        for (let c = 0; c < channels; c++) {
          let low = sharedLow, high = sharedHigh;
          if (size > 1) {
            low = Infinity; high = -Infinity;
            for (let i = c * size; i < (c + 1) * size; i++) { low = Math.min(low, data[i]); high = Math.max(high, data[i]); }
          }
          const scale = high > low ? 255 / (high - low) : 0;
          const ctx = canvases[c].getContext("2d");
          const pixels = ctx.createImageData(w, h);
          for (let i = 0; i < size; i++) {
            const v = Math.round((data[c * size + i] - low) * scale);
            pixels.data[4 * i] = LUT[3 * v];
            pixels.data[4 * i + 1] = LUT[3 * v + 1];
            pixels.data[4 * i + 2] = LUT[3 * v + 2];
            pixels.data[4 * i + 3] = 255;
          }
          ctx.putImageData(pixels, 0, 0);
        }
      }
    }

    clear() {
      this.last = null;
      for (const canvas of this.container.querySelectorAll("canvas")) {
        canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height);
      }
      this.why.textContent = "";
    }

    // A channel's kernels: one small image per input channel, red positive, blue negative, one shared scale.
    showKernels(stage, channel) {
      const grid = this.kernelView.querySelector(".kernel-grid");
      const title = this.kernelView.querySelector("h3");
      grid.replaceChildren();
      this.kernelView.hidden = false;
      this.kernelView.dataset.stage = stage.name;
      this.kernelView.dataset.channel = String(channel);
      if (!stage.kernels) {
        title.textContent = `${stage.label}, channel ${channel}: this model file came without its .json, so its kernels are not known here`;
        return;
      }
      const kernels = stage.kernels[channel];  // [input channel][row][column]
      let limit = 0;
      for (const k of kernels) for (const row of k) for (const v of row) limit = Math.max(limit, Math.abs(v));
      title.textContent = `${stage.label}, channel ${channel}: its ${kernels.length} kernel${kernels.length === 1 ? "" : "s"} ` +
        `of ${kernels[0].length}×${kernels[0][0].length}, one per input channel (red adds, blue subtracts; largest |weight| ${limit.toFixed(3)})`;
      for (const k of kernels) {
        const canvas = document.createElement("canvas");
        canvas.width = k[0].length;
        canvas.height = k.length;
        const ctx = canvas.getContext("2d");
        const pixels = ctx.createImageData(canvas.width, canvas.height);
        k.flat().forEach((v, i) => {
          const t = limit ? Math.abs(v) / limit : 0;
          const [r, g, b] = v >= 0 ? [255, 255 * (1 - t), 255 * (1 - t)] : [255 * (1 - t), 255 * (1 - t), 255];
          pixels.data.set([r, g, b, 255], 4 * i);
        });
        ctx.putImageData(pixels, 0, 0);
        grid.appendChild(canvas);
      }
    }

    // Which averages fed one digit's logit most: the head's weight times each average.
    explain(digit) {
      if (!this.head || !this.last) {
        this.why.textContent = this.head ? "" : "This model has no averages before its last layer, so there is nothing to split a score into.";
        return;
      }
      const stage = this.stages[this.stages.length - 1];
      const averages = this.last[stage.name].data;
      const parts = Array.from(averages, (a, c) => ({ c, v: this.head.weight[digit][c] * a }));
      const logit = parts.reduce((s, p) => s + p.v, this.head.bias[digit]);
      parts.sort((a, b) => b.v - a.v);
      const top = parts.slice(0, 3).map((p) => `average ${p.c} (${p.v >= 0 ? "+" : ""}${p.v.toFixed(2)})`);
      this.why.dataset.digit = String(digit);
      this.why.textContent = `Score of ${digit}: ${logit.toFixed(2)}. Fed most by ${top.join(", ")}; ` +
        `bias ${this.head.bias[digit].toFixed(2)}.`;
      const canvases = this.container.querySelectorAll(`[data-stage="${stage.name}"] canvas`);
      const fed = new Set(parts.slice(0, 3).map((p) => p.c));
      canvases.forEach((canvas, c) => canvas.classList.toggle("fed", fed.has(c)));
    }
  }

  global.MnistLayers = { LayerView, ModelError, checkSession, describeStages, logitsName };
})(typeof window !== "undefined" ? window : globalThis);
