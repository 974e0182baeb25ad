#!/usr/bin/env bash
# Install (scripts/setup.sh), then execute every notebook in place: regenerates
# images/, results/part*.json, models/ and the README's tables.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m tools.run_notebooks "$@"
