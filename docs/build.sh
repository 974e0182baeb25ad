#!/usr/bin/env bash
# Install onnxruntime-web (pinned in docs/package-lock.json) and copy the files that docs/index.html needs
# to docs/ort/. The page loads them from there, next to itself, so it works offline and on GitHub Pages without a CDN.
#   ort.wasm.min.js               the WebAssembly-only build of onnxruntime-web (classic script, defines `ort`)
#   ort-wasm-simd-threaded.mjs    the loader it imports at run time
#   ort-wasm-simd-threaded.wasm   the runtime itself
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v npm >/dev/null; then
    echo "error: npm not found: install Node.js and npm, then run 'bash docs/build.sh'" >&2
    exit 1
fi
npm ci --no-audit --no-fund --loglevel=error
dist=node_modules/onnxruntime-web/dist
mkdir -p ort
for name in ort.wasm.min.js ort-wasm-simd-threaded.mjs ort-wasm-simd-threaded.wasm; do
    cp "$dist/$name" "ort/$name"
done
node -p '"onnxruntime-web " + require("./node_modules/onnxruntime-web/package.json").version' > ort/VERSION
echo "copied $(cat ort/VERSION) to docs/ort/"
