"""Read and write the IDX format the MNIST files use (unsigned-byte data only)."""
from __future__ import annotations

import struct

import numpy as np

_UBYTE = 0x08


def encode_idx(array: np.ndarray) -> bytes:
    """Serialise a uint8 array as IDX: magic (0, 0, 0x08, ndim), big-endian dims, data."""
    if array.dtype != np.uint8:
        raise ValueError(f"IDX encoding here supports uint8 only, got {array.dtype}")
    if not 1 <= array.ndim <= 255:
        raise ValueError(f"IDX needs 1 to 255 dimensions, got {array.ndim}")
    header = struct.pack(">BBBB", 0, 0, _UBYTE, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array).tobytes()


def decode_idx(data: bytes) -> np.ndarray:
    """Parse unsigned-byte IDX bytes back into an array."""
    if len(data) < 4:
        raise ValueError("not an IDX file: shorter than its 4-byte magic number")
    zero1, zero2, dtype, ndim = struct.unpack(">BBBB", data[:4])
    if zero1 or zero2 or dtype != _UBYTE:
        raise ValueError(f"not an unsigned-byte IDX file (magic bytes {data[:4].hex()})")
    shape = struct.unpack(f">{ndim}I", data[4:4 + 4 * ndim])
    body = data[4 + 4 * ndim:]
    if len(body) != int(np.prod(shape)):
        raise ValueError(f"IDX body has {len(body)} bytes, its header promises {int(np.prod(shape))}")
    return np.frombuffer(body, dtype=np.uint8).reshape(shape)
