#!/usr/bin/env bash
# Install (scripts/setup.sh), then run the unit tests and execute every notebook under nbval.
# The notebooks' images, results and models go to a scratch folder, so a test run leaves the
# committed images/, results/ and models/ untouched.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
# TQDM_DISABLE: nbval reads a cell's messages only after the cell has finished. Each update of a notebook progress
# bar is a message; a 2-minute training cell sends thousands, more than the kernel's message queue holds, and the
# overflow is dropped, the cell's closing message with it. nbval then waits in vain ("Timeout ... waiting for output").
# The tests need no progress bars (mnist_helpers.training.progress_bar honours this in notebooks too).
export TQDM_DISABLE=1
# The notebooks run on their own seed and width, whatever the shell exports (MNIST_SEED=2 for run_all, say).
unset MNIST_SEED MNIST_WIDTH
export MPLBACKEND=Agg MNIST_IMAGES_DIR="$scratch/images" MNIST_RESULTS_DIR="$scratch/results" MNIST_MODELS_DIR="$scratch/models"
.venv/bin/python -m pytest tests lab --nbval-lax notebooks "$@"
