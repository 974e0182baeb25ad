#!/usr/bin/env bash
# The GPU checks, in one run of about 5 minutes on one H100/H200 (at most 10): the static step's tests on CUDA
# (the graphs train as the eager step, no step synchronises), the GPU benchmark with the graph path and twelve
# seeds together, and seeds 0-4 of Part-3's recipe trained together on the GPU, to compare with the CPU sweeps.
# Run from the repository root with torch (CUDA), pytest and MNIST under data/ (bash scripts/setup.sh prepares it):
#   bash lab/gpu_check.sh            # writes lab/results/benchmark_gpu.json and results/part3_seeds_together_gpu.json
# Set MNIST_RESULTS_DIR to write the sweep's file elsewhere (the benchmark's always goes to lab/results/).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python )}
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
"$PYTHON" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else "no CUDA device: run this on a GPU machine")'
"$PYTHON" -m pytest -q -p no:cacheprovider lab/tests/test_static_step.py lab/tests/test_host_syncs.py lab/tests/test_together.py
"$PYTHON" -m lab.benchmarks.gpu --parts part3 --modes sync-free "static step" "static step + CUDA graph" \
    --epochs 3 --warmup 1 --together 12 --save
"$PYTHON" -m lab.sweep --together --device cuda --seeds 0 1 2 3 4 --name part3_seeds_together_gpu
