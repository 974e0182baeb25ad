#!/usr/bin/env bash
# The Part-3 design search, prepared to run in one call on the GPU machine (see ../shared/gpu/README.md):
#   here:       bash ../shared/gpu/prepare.sh                    (builds .gpu/: MNIST gzipped)
#   device run: bash benchmarks/pilots_gpu.sh [SECONDS]            (carry [".gpu"])
# Trains every config of benchmarks/part3_pilots.py on seeds 100-111 (12 members per grouped model, six configs
# at a time) and the base recipe on seeds 0-11, within SECONDS (default 400); whatever finished is in
# $OUT/part3_pilots.json (and, when time ran out, in its .part files) and the logs in $OUT/pilots_log.txt.
set -u
: "${OUT:?set OUT to the folder that should receive the results}"
[ -d .gpu/data ] || { echo "no .gpu/: run bash ../shared/gpu/prepare.sh here first and carry .gpu" >&2; exit 2; }
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1
mkdir -p data/MNIST/raw && for f in .gpu/data/*.gz; do gunzip -c "$f" > "data/MNIST/raw/$(basename "$f" .gz)"; done
nvidia-smi -L; python3 -c 'import torch; print("torch", torch.__version__, torch.cuda.get_device_name())'
limit=${1:-400}
configs=${PILOT_CONFIGS:-"base b64 P14 P12 N4 M20 shift1 shift2 P14_b64 P12_b64 F28 wd5e-4 ema999 lr3 bilinear
  ls0 drop05 floor13 bnm01 scale10 T3 S3 W12 F2 N4_b64 M20_b64 F28_b64 b64_lr2 wd1e-4 lr1"}
timeout "$limit" python3 -m benchmarks.part3_pilots --configs base --seeds 0 1 2 3 4 5 6 7 8 9 10 11 \
  --out "$OUT/part3_pilots_seeds0-11.json" > "$OUT/pilots_base_log.txt" 2>&1 &
timeout "$limit" python3 -m benchmarks.part3_pilots --configs $configs --workers ${PILOT_WORKERS:-6} \
  --seeds 100 101 102 103 104 105 106 107 108 109 110 111 --out "$OUT/part3_pilots.json" > "$OUT/pilots_log.txt" 2>&1
wait
grep -h "params: final" "$OUT"/pilots_*log.txt
