#!/usr/bin/env bash
# Install (scripts/setup.sh), then execute every notebook: regenerates images/, results/part*.json, models/
# and the README's tables. It works in build/run_all/ and changes the checkout only if every notebook passes.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m scripts.run_notebooks "$@"
