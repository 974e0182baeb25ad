"""Which kind of CPU arithmetic PyTorch runs on, so that every result says where it was made.

PyTorch picks its CPU kernels by instruction set: AVX-512 where the processor has it, else AVX2 (most
laptops). The two round differently, so the same seed trains to slightly different accuracies on each.
``bash scripts/as_avx2.sh COMMAND`` runs a command on an AVX-512 machine as an AVX2 one. This module only
reads; it changes nothing, and imports torch only inside its functions.
"""
from __future__ import annotations

import platform
from pathlib import Path

# PyTorch's own switches that make an AVX-512 machine run as an AVX2 one; scripts/as_avx2.sh sets them
# before a command starts (they act only before PyTorch runs its first operation).
AVX2_SWITCHES = {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_ENABLE_INSTRUCTIONS": "AVX2"}
AS_AVX2 = "bash scripts/as_avx2.sh"


def hardware_kind() -> str:
    """The best kind this processor supports: ``AVX512``, ``AVX2``, or its architecture where unknown."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        flags = next((line.split(":", 1)[1].split() for line in cpuinfo.read_text().splitlines()
                      if line.startswith("flags")), [])
        if "avx512f" in flags:
            return "AVX512"
        if "avx2" in flags:
            return "AVX2"
    return platform.machine()


def cpu_kind() -> str:
    """The kind PyTorch's CPU kernels run as, e.g. ``AVX512``, or ``AVX2 emulated on AVX512``."""
    import torch

    running = torch.backends.cpu.get_cpu_capability()
    hardware = hardware_kind()
    if hardware in ("AVX512", "AVX2") and running != hardware:
        return f"{running} emulated on {hardware}"
    return running


# the suffix of a sweep's results file -> the CPU kind its runs were made on (results/part3_seeds_avx2.json)
KIND_SUFFIXES = {"": "AVX-512", "_avx2": "AVX2"}


def kind_suffix(kind: str | None = None) -> str:
    """The suffix of a sweep's results file for CPU ``kind``: ``""`` for AVX-512, ``"_avx2"`` for AVX2, and
    ``"_<kind>"`` for any other (an Arm laptop's ``_default``, say), which the README's tables do not show."""
    running = (cpu_kind() if kind is None else kind).split()[0]
    return {"AVX512": "", "AVX2": "_avx2"}.get(running, f"_{running.lower()}")


def command_prefix() -> str:
    """What a stored command needs in front to run as this process runs: ``bash scripts/as_avx2.sh `` when
    PyTorch runs AVX2 kernels on an AVX-512 machine, else nothing."""
    return f"{AS_AVX2} " if "emulated" in cpu_kind() else ""
