"""Which kind of CPU arithmetic PyTorch runs on, and how to run as the other kind.

PyTorch picks its CPU kernels by instruction set: AVX-512 where the processor has it, else AVX2 (most
laptops). The two round differently, so the same seed trains to slightly different accuracies on each.
``MNIST_CPU_ISA=avx2`` makes an AVX-512 machine run as an AVX2 one: it sets PyTorch's own switches
(``ATEN_CPU_CAPABILITY``, ``ONEDNN_MAX_CPU_ISA``, ``MKL_ENABLE_INSTRUCTIONS``) when ``mnist_helpers`` is
imported, which must happen before PyTorch runs its first operation. Processes started afterwards
(notebook kernels, sweeps) inherit them. This module imports torch only inside its functions.
"""
from __future__ import annotations

import os
import platform
from pathlib import Path

ISA_ENV = "MNIST_CPU_ISA"
SETTINGS = {
    "avx2": {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_ENABLE_INSTRUCTIONS": "AVX2"},
}


def requested(environ=None) -> str | None:
    """The kind ``$MNIST_CPU_ISA`` asks for (``"avx2"``), or None when unset or ``native``."""
    environ = os.environ if environ is None else environ
    value = environ.get(ISA_ENV, "").strip().lower()
    if value in ("", "native"):
        return None
    if value not in SETTINGS:
        raise ValueError(f"${ISA_ENV} must be 'native' or one of {', '.join(SETTINGS)}; got {value!r}")
    return value


def apply_from_env(environ=None) -> str | None:
    """Set PyTorch's switches for the kind ``$MNIST_CPU_ISA`` asks for; return that kind (None: native)."""
    environ = os.environ if environ is None else environ
    kind = requested(environ)
    if kind is not None and hardware_kind() not in ("AVX512", "AVX2"):
        raise ValueError(f"${ISA_ENV}={kind} runs an x86-64 CPU with AVX-512 or AVX2 as an AVX2 one; this CPU is "
                         f"{hardware_kind()}: unset {ISA_ENV}")
    for name, value in SETTINGS.get(kind, {}).items():
        if environ.get(name, value).lower() != value.lower():
            raise ValueError(f"${ISA_ENV}={kind} needs ${name}={value}, but it is set to {environ[name]!r}: "
                             f"unset one of them")
        environ[name] = value
    return kind


def check_applied() -> None:
    """Raise if ``$MNIST_CPU_ISA`` asks for a kind that PyTorch is not running as (it read its switch too early)."""
    kind = requested()
    if kind is None:
        return
    import torch

    running = torch.backends.cpu.get_cpu_capability()
    if running.lower() != kind:
        raise RuntimeError(f"${ISA_ENV}={kind}, but PyTorch already runs {running} kernels: it had run an "
                           f"operation before mnist_helpers was imported. Set {ISA_ENV} before starting Python "
                           f"or Jupyter (or import mnist_helpers first).")


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
