#!/usr/bin/env bash
# Create .venv (if missing), install the pinned requirements, prepare verified MNIST, and (with npm) the web page's files.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
.venv/bin/python -m mnist_helpers.data
# The draw-a-digit page (docs/index.html) runs the model with onnxruntime-web, pinned in docs/package-lock.json:
# where Node.js is installed, copy its files next to the page. Without npm, the page's browser tests skip
# (outside CI) and say how to enable them.
if command -v npm >/dev/null; then
    bash docs/build.sh
else
    echo "npm not found: skipping the draw-a-digit page's files (install Node.js, then rerun this script)"
fi
