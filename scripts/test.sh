#!/usr/bin/env bash
# Install (scripts/setup.sh), then run the unit tests and execute every notebook under nbval.
# The notebooks' images, results and models go to a scratch folder, so a test run leaves the
# committed images/, results/ and models/ untouched.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
export MPLBACKEND=Agg MNIST_IMAGES_DIR="$scratch/images" MNIST_RESULTS_DIR="$scratch/results" MNIST_MODELS_DIR="$scratch/models"
.venv/bin/python -m pytest tests --nbval-lax notebooks "$@"
