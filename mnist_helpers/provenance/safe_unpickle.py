"""Unpickle numpy arrays and nothing else.

A pickle can call any importable function while it loads. The MNIST copy we
fall back on is a pickle, so it is read with an unpickler that resolves only
the three globals a numpy array needs; anything else is refused before it runs.
"""
from __future__ import annotations

import io
import pickle

import numpy as np

try:  # numpy >= 2 keeps the array internals in numpy._core, numpy 1.x in numpy.core
    from numpy._core import multiarray as _multiarray
except ImportError:  # pragma: no cover - numpy 1.x
    from numpy.core import multiarray as _multiarray

ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _multiarray._reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _multiarray._reconstruct,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}


class NumpyOnlyUnpickler(pickle.Unpickler):
    """An Unpickler whose ``find_class`` knows only numpy's array rebuild."""

    def find_class(self, module: str, name: str):
        try:
            return ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refused to load global {module}.{name}: this unpickler only rebuilds numpy arrays"
            ) from None


def load_numpy_pickle(data: bytes):
    """Load pickle bytes that hold only numpy arrays (and tuples, lists, numbers)."""
    return NumpyOnlyUnpickler(io.BytesIO(data), encoding="latin1").load()
