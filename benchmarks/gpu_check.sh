#!/usr/bin/env bash
# The GPU checks, prepared to run in one call on the GPU machine (see ../shared/gpu/README.md):
#   here:       bash scripts/setup.sh && bash ../shared/gpu/prepare.sh        (builds .gpu/)
#   device run: bash benchmarks/gpu_check.sh                                 (carry [".gpu"], about 6 minutes)
# Writes to $OUT: benchmark_gpu.json (commit it as results/benchmark_gpu.json, then python -m tools.readme),
# benchmark_gpu.txt, host_syncs.txt (the CUDA synchronisation test), and Part-3 on seeds 0-3 through
# its notebook (part3_augmentation_lr_schedule_seeds.json and _logs.txt, from .gpu/run.sh).
set -u
: "${OUT:?set OUT to the folder that should receive the results}"
[ -d .gpu/whl ] || { echo "no .gpu/: run bash ../shared/gpu/prepare.sh here first and carry .gpu" >&2; exit 2; }
python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .gpu/whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1 MPLBACKEND=Agg TQDM_DISABLE=1
mkdir -p data/MNIST/raw && for f in .gpu/data/*.gz; do gunzip -c "$f" > "data/MNIST/raw/$(basename "$f" .gz)"; done
nvidia-smi -L
python3 -m pytest -q -p no:cacheprovider tests/test_host_syncs.py > "$OUT/host_syncs.txt" 2>&1
tail -n 3 "$OUT/host_syncs.txt"
MNIST_RESULTS_DIR="$OUT" python3 -m benchmarks.gpu --save 2>&1 | tee "$OUT/benchmark_gpu.txt"
bash .gpu/run.sh notebooks/part3_augmentation_lr_schedule.ipynb 0 1 2 3
