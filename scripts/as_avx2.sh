#!/usr/bin/env bash
# Run a command as an AVX2 machine (most laptops) runs it, on a machine with AVX-512:
#   bash scripts/as_avx2.sh bash scripts/test.sh
#   bash scripts/as_avx2.sh .venv/bin/python -m lab.sweep --part part3
# PyTorch picks its CPU kernels by instruction set, and AVX-512 and AVX2 kernels round differently, so one
# seed trains to slightly different accuracies on each. These are PyTorch's (and oneDNN's and MKL's) own
# switches; they act only when set before PyTorch starts, which is why this wraps the whole command.
set -euo pipefail
if [ "$#" -eq 0 ]; then
    echo "usage: bash scripts/as_avx2.sh COMMAND [ARGUMENTS...]" >&2
    exit 2
fi
if ! grep -qw avx2 /proc/cpuinfo 2>/dev/null; then
    echo "error: this CPU has no AVX2 (or no /proc/cpuinfo), so it cannot run as an AVX2 machine: run the command alone" >&2
    exit 1
fi
export ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 MKL_ENABLE_INSTRUCTIONS=AVX2
exec "$@"
