#!/usr/bin/env bash
# Copy the onnxruntime-web files that docs/index.html needs from node_modules/ (made by `npm ci`) to docs/ort/.
# The page loads them from there, next to itself, so it works offline and on GitHub Pages without a CDN.
#   ort.wasm.min.js               the WebAssembly-only build of onnxruntime-web (classic script, defines `ort`)
#   ort-wasm-simd-threaded.mjs    the loader it imports at run time
#   ort-wasm-simd-threaded.wasm   the runtime itself
set -euo pipefail
cd "$(dirname "$0")/.."
dist=node_modules/onnxruntime-web/dist
if [ ! -f "$dist/ort.wasm.min.js" ]; then
    echo "error: $dist/ort.wasm.min.js is missing: run 'npm ci' first (needs Node.js and npm)" >&2
    exit 1
fi
mkdir -p docs/ort
for name in ort.wasm.min.js ort-wasm-simd-threaded.mjs ort-wasm-simd-threaded.wasm; do
    cp "$dist/$name" "docs/ort/$name"
done
node -p '"onnxruntime-web " + require("./node_modules/onnxruntime-web/package.json").version' > docs/ort/VERSION
echo "copied $(cat docs/ort/VERSION) to docs/ort/"
