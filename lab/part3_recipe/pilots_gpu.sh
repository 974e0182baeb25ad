#!/usr/bin/env bash
# The Part-3 recipe search in one go on any CUDA machine, from the repository root, after bash scripts/setup.sh:
#   bash lab/part3_recipe/pilots_gpu.sh [SECONDS] [OUTDIR]
# Trains every config in PILOT_CONFIGS on seeds 100-111 (12 members per grouped model, PILOT_WORKERS configs at a
# time) and the base recipe on seeds 0-11, within SECONDS (default 400). Whatever finished is in OUTDIR/pilots.json
# (and, when time ran out, in the .part files of OUTDIR/pilots.json.*.parts/), the logs in OUTDIR/pilots_log.txt.
# OUTDIR defaults to pilots_out/.
set -euo pipefail
limit=${1:-400}
out=${2:-pilots_out}
mkdir -p "$out"
python=${PYTHON:-.venv/bin/python}
export PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1
nvidia-smi -L; "$python" -c 'import torch; print("torch", torch.__version__, torch.cuda.get_device_name())'
"$python" -m mnist_helpers.data
configs=${PILOT_CONFIGS:-"base b64 lr3 lr4 shift1 ls0 ema999 wd5e-4 floor13 bilinear"}
seeds100="100 101 102 103 104 105 106 107 108 109 110 111"
timeout "$limit" "$python" -m lab.part3_recipe.pilots --configs base --seeds 0 1 2 3 4 5 6 7 8 9 10 11 \
  --out "$out/pilots_seeds0-11.json" > "$out/pilots_base_log.txt" 2>&1 &
base=$!
search=0
timeout "$limit" "$python" -m lab.part3_recipe.pilots --configs $configs --workers "${PILOT_WORKERS:-6}" \
  --seeds $seeds100 --out "$out/pilots.json" > "$out/pilots_log.txt" 2>&1 || search=$?
baseline=0
wait "$base" || baseline=$?
grep -h "params: final" "$out"/pilots_*log.txt || true  # nothing finished: the logs say why
# 124 is the time limit (the finished configs are kept); anything else is a failure: see the logs
echo "exit status: search $search, seeds 0-11 baseline $baseline (124 = stopped at the $limit s limit)"
for status in "$search" "$baseline"; do
  [ "$status" -eq 0 ] || [ "$status" -eq 124 ] || exit "$status"
done
