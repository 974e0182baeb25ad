// The MNIST-style preprocessing of mnist_helpers/digits.py, step for step, in JavaScript.
//
// A drawing becomes the 28x28 image the model takes: the ink's box is cropped, scaled (keeping the
// aspect ratio) so that its longer side is 20 pixels, and placed in a 28x28 frame with its centre of
// mass at (14, 14). The resampling is Pillow's LANCZOS filter written out (Resample.c: a horizontal
// pass, then a vertical one, float32 pixels, double weights), and Python's round-half-to-even is used
// wherever Python calls round(), so that this file and digits.py give the same image. tests/test_web.py
// runs both on the same canvas pixels and checks that the mean absolute difference stays below 1e-5
// (of a pixel range of 1); measured: at most 1.3e-9, float rounding only.
//
// The page draws on a clean white canvas, where digits.py's paper_is_flat finds the paper flat and
// takes the median of the border; so that is all inkOnDark does here (the shadow and uneven-paper
// step for photos, and the levelled, grain-averaged map that digits.py finds a photo's box on, are
// left out: on flat paper digits.py finds the box on the ink itself). Every step after it is the same:
// Otsu's threshold for the box, which ignores isolated specks, thickening of thin strokes, scaling,
// restoring the contrast, centring by mass.
"use strict";

(function (global) {
  const FIT = 20;          // the longer side of the digit's box, as in MNIST
  const SIZE = 28;
  const CENTRE = 14.0;     // MNIST's mean centre of mass (row, column)
  const MIN_CONTRAST = 32; // ink must differ from the background by this much (of 255)
  const STROKE = 0.12;     // MNIST's strokes are about 2.4 pixels wide in its 20-pixel box
  const WORK_SIZE = 100;   // thin strokes are thickened on an image about this large
  const INK_PERCENTILE = 90; // after scaling down, this percentile of the ink is made 255

  const NO_INK = "no ink found: the image is blank or the ink is too faint (a dark pen on white paper works best)";

  class DigitImageError extends Error {}

  // Python's round(): halves go to the even neighbour.
  function roundHalfEven(x) {
    const r = Math.round(x);
    return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
  }

  function clip(x, lo, hi) {
    return Math.min(Math.max(x, lo), hi);
  }

  function median(values) {
    const sorted = Float64Array.from(values).sort();
    const mid = sorted.length >> 1;
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  }

  // A grayscale image: {width, height, data} with data a Float64Array, row by row, values in [0, 255].
  // From canvas RGBA pixels with Pillow's convert("L") weights (equal R, G, B give back that value).
  function grayFromRGBA(rgba, width, height) {
    const data = new Float64Array(width * height);
    for (let i = 0; i < width * height; i++) {
      const r = rgba[4 * i], g = rgba[4 * i + 1], b = rgba[4 * i + 2];
      data[i] = (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;
    }
    return { width, height, data };
  }

  // Ink as bright values on 0 (digits.py ink_on_dark on flat paper): the background is the median of the
  // border pixels, and the ink is whichever side of it reaches further.
  function inkOnDark(gray) {
    const { width: w, height: h, data } = gray;
    const border = [];
    for (let x = 0; x < w; x++) border.push(data[x]);
    for (let x = 0; x < w; x++) border.push(data[(h - 1) * w + x]);
    for (let y = 0; y < h; y++) border.push(data[y * w]);
    for (let y = 0; y < h; y++) border.push(data[y * w + w - 1]);
    const background = median(border);
    let lo = Infinity, hi = -Infinity;
    for (const v of data) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    const darkInk = background - lo > hi - background;
    const ink = new Float64Array(w * h);
    for (let i = 0; i < w * h; i++) ink[i] = Math.max(0, darkInk ? background - data[i] : data[i] - background);
    return { width: w, height: h, data: ink };
  }

  function peak(image) {
    let m = 0;
    for (const v of image.data) m = Math.max(m, v);
    return m;
  }

  // digits.py otsu_threshold: Otsu's threshold over 256 bins; ink is >= it.
  function otsuThreshold(ink) {
    const counts = new Float64Array(256);
    for (const v of ink.data) counts[Math.trunc(clip(v, 0, 255))] += 1;
    let total = 0, totalMoment = 0;
    for (let i = 0; i < 256; i++) { total += counts[i]; totalMoment += counts[i] * i; }
    let below = 0, belowMoment = 0, best = -Infinity, bestAt = 0;
    for (let i = 0; i < 255; i++) {
      below += counts[i];
      belowMoment += counts[i] * i;
      const above = total - below;
      const meanBelow = belowMoment / Math.max(below, 1), meanAbove = (totalMoment - belowMoment) / Math.max(above, 1);
      const between = below * above * (meanBelow - meanAbove) ** 2;
      if (between > best) { best = between; bestAt = i; }
    }
    return bestAt + 1;
  }

  // digits.py ink_threshold: Otsu's threshold, and at least a fifth of the peak.
  function inkThreshold(ink) {
    const top = peak(ink);
    if (top < MIN_CONTRAST) throw new DigitImageError(NO_INK);
    return Math.max(otsuThreshold(ink), 0.2 * top);
  }

  // digits.py ink_box: [top, bottom, left, right], exclusive ends, of the ink pixels (at or above
  // inkThreshold) that touch another ink pixel, so that an isolated speck does not stretch the box.
  function inkBox(ink) {
    const threshold = inkThreshold(ink);
    const { width, height, data } = ink;
    const isInk = (y, x) => y >= 0 && y < height && x >= 0 && x < width && data[y * width + x] >= threshold;
    let top = Infinity, bottom = -1, left = Infinity, right = -1;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        if (!isInk(y, x)) continue;
        let touches = false;
        for (let dy = -1; dy <= 1 && !touches; dy++) {
          for (let dx = -1; dx <= 1; dx++) {
            if ((dy || dx) && isInk(y + dy, x + dx)) { touches = true; break; }
          }
        }
        if (touches) {
          top = Math.min(top, y); bottom = Math.max(bottom, y + 1);
          left = Math.min(left, x); right = Math.max(right, x + 1);
        }
      }
    }
    if (bottom < 0) throw new DigitImageError("no ink found: only isolated specks, no stroke");
    return [top, bottom, left, right];
  }

  // digits.py stroke_width: area over half the outline (ink pixels with a 4-neighbour that is not ink).
  function strokeWidth(image, threshold) {
    const { width: w, height: h, data } = image;
    const on = (x, y) => x >= 0 && y >= 0 && x < w && y < h && data[y * w + x] >= threshold;
    let area = 0, outline = 0;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        if (!on(x, y)) continue;
        area++;
        if (!(on(x - 1, y) && on(x + 1, y) && on(x, y - 1) && on(x, y + 1))) outline++;
      }
    }
    return (2.0 * area) / Math.max(outline, 1);
  }

  // digits.py thicken_thin_strokes: block maxima down to about WORK_SIZE, then a square maximum filter
  // (Pillow's MaxFilter; at the edges the window keeps to the image). With the page's 20-pixel pen on the
  // 280-pixel pad the strokes are already wide enough, so this does nothing there; it is here to stay in step.
  function thickenThinStrokes(ink, threshold) {
    if (strokeWidth(ink, threshold) >= 0.5 * STROKE * Math.max(ink.width, ink.height)) return ink;
    const block = Math.max(1, Math.floor(Math.max(ink.width, ink.height) / WORK_SIZE));
    if (block > 1) {
      const w = Math.ceil(ink.width / block), h = Math.ceil(ink.height / block);
      const data = new Float64Array(w * h);
      for (let y = 0; y < ink.height; y++) {
        for (let x = 0; x < ink.width; x++) {
          const i = Math.floor(y / block) * w + Math.floor(x / block);
          data[i] = Math.max(data[i], ink.data[y * ink.width + x]);
        }
      }
      ink = { width: w, height: h, data };
    }
    const missing = STROKE * Math.max(ink.width, ink.height) - strokeWidth(ink, threshold);
    const radius = Math.max(1, roundHalfEven(missing / 2));
    const src = Float32Array.from(ink.data);
    const out = new Float64Array(src.length);
    for (let y = 0; y < ink.height; y++) {
      for (let x = 0; x < ink.width; x++) {
        let m = -Infinity;
        for (let yy = Math.max(0, y - radius); yy <= Math.min(ink.height - 1, y + radius); yy++) {
          for (let xx = Math.max(0, x - radius); xx <= Math.min(ink.width - 1, x + radius); xx++) m = Math.max(m, src[yy * ink.width + xx]);
        }
        out[y * ink.width + x] = m;
      }
    }
    return { width: ink.width, height: ink.height, data: out };
  }

  // digits.py restore_contrast: the INK_PERCENTILE-th percentile (numpy's linear method) of the pixels with
  // at least a fifth of the peak becomes 255.
  function restoreContrast(small) {
    const top = peak(small);
    const values = Float64Array.from(small.data.filter((v) => v >= 0.2 * top)).sort();
    const position = (INK_PERCENTILE / 100) * (values.length - 1);
    const below = Math.floor(position), t = position - below;
    const a = values[below], b = values[Math.min(below + 1, values.length - 1)];
    const level = t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t;
    for (let i = 0; i < small.data.length; i++) small.data[i] = clip(small.data[i] * (255.0 / level), 0, 255);
  }

  function crop(image, [top, bottom, left, right]) {
    const w = right - left, h = bottom - top;
    const data = new Float64Array(w * h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[y * w + x] = image.data[(top + y) * image.width + left + x];
    return { width: w, height: h, data };
  }

  // Pillow's Lanczos kernel (support 3).
  function sinc(x) {
    if (x === 0) return 1.0;
    x *= Math.PI;
    return Math.sin(x) / x;
  }
  function lanczos(x) {
    return -3.0 <= x && x < 3.0 ? sinc(x) * sinc(x / 3) : 0.0;
  }

  // Pillow's precompute_coeffs: for each output pixel, the first input pixel and the normalised weights.
  function coefficients(inSize, outSize) {
    const scale = inSize / outSize;
    const filterScale = Math.max(scale, 1.0);
    const support = 3.0 * filterScale;
    const result = [];
    for (let xx = 0; xx < outSize; xx++) {
      const center = (xx + 0.5) * scale;
      const ss = 1.0 / filterScale;
      let xmin = Math.trunc(center - support + 0.5);
      if (xmin < 0) xmin = 0;
      let xmax = Math.trunc(center + support + 0.5);
      if (xmax > inSize) xmax = inSize;
      xmax -= xmin;
      const weights = new Float64Array(xmax);
      let total = 0.0;
      for (let x = 0; x < xmax; x++) {
        weights[x] = lanczos((x + xmin - center + 0.5) * ss);
        total += weights[x];
      }
      if (total !== 0.0) for (let x = 0; x < xmax; x++) weights[x] /= total;
      result.push({ xmin, weights });
    }
    return result;
  }

  // Image.fromarray(float32).resize((newW, newH), Image.LANCZOS): horizontal pass, then vertical, float32 pixels.
  function resizeLanczos(image, newW, newH) {
    const { width: w, height: h } = image;
    const src = Float32Array.from(image.data);
    const horizontal = coefficients(w, newW), vertical = coefficients(h, newH);
    const tmp = new Float32Array(newW * h);
    for (let y = 0; y < h; y++) {
      for (let xx = 0; xx < newW; xx++) {
        const { xmin, weights } = horizontal[xx];
        let s = 0.0;
        for (let k = 0; k < weights.length; k++) s += src[y * w + xmin + k] * weights[k];
        tmp[y * newW + xx] = s;
      }
    }
    const out = new Float32Array(newW * newH);
    for (let yy = 0; yy < newH; yy++) {
      const { xmin: ymin, weights } = vertical[yy];
      for (let x = 0; x < newW; x++) {
        let s = 0.0;
        for (let k = 0; k < weights.length; k++) s += tmp[(ymin + k) * newW + x] * weights[k];
        out[yy * newW + x] = s;
      }
    }
    return { width: newW, height: newH, data: Float64Array.from(out) };
  }

  // digits.py mnist_style: a 28x28 Float32Array in [0, 1], light digit on black, centred by mass.
  function mnistStyle(gray) {
    const ink = inkOnDark(gray);
    const threshold = inkThreshold(ink);
    const box = inkBox(ink);
    let digit = crop(ink, box);
    const top_ = peak(digit);
    for (let i = 0; i < digit.data.length; i++) if (digit.data[i] < 0.1 * top_) digit.data[i] = 0.0; // clean background
    digit = thickenThinStrokes(digit, threshold);
    for (let i = 0; i < digit.data.length; i++) digit.data[i] *= 255.0 / top_; // full contrast
    const { width: w, height: h } = digit;
    const scale = FIT / Math.max(h, w);
    const newH = Math.max(1, roundHalfEven(h * scale)), newW = Math.max(1, roundHalfEven(w * scale));
    const small = resizeLanczos(digit, newW, newH);
    for (let i = 0; i < small.data.length; i++) small.data[i] = clip(small.data[i], 0, 255);
    restoreContrast(small);
    let mass = 0, rowMoment = 0, colMoment = 0;
    for (let y = 0; y < newH; y++) {
      for (let x = 0; x < newW; x++) {
        const v = small.data[y * newW + x];
        mass += v; rowMoment += y * v; colMoment += x * v;
      }
    }
    const top = clip(roundHalfEven(CENTRE - rowMoment / mass), 0, SIZE - newH);
    const left = clip(roundHalfEven(CENTRE - colMoment / mass), 0, SIZE - newW);
    const frame = new Float32Array(SIZE * SIZE);
    for (let y = 0; y < newH; y++) for (let x = 0; x < newW; x++) frame[(top + y) * SIZE + left + x] = small.data[y * newW + x] / 255.0;
    return { image: frame, box };
  }

  global.MnistDigits = { DigitImageError, grayFromRGBA, inkOnDark, inkBox, mnistStyle, roundHalfEven, SIZE };
})(typeof window !== "undefined" ? window : globalThis);
