"""The four MNIST files, their SHA-256 pins, and how they are checked and written."""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

# SHA-256 of the official, uncompressed IDX files.
PINS = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}


def raw_dir(root: Path) -> Path:
    """The folder torchvision's ``datasets.MNIST(root)`` reads: ``root/MNIST/raw``."""
    return Path(root) / "MNIST" / "raw"


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_status(root: Path, name: str) -> str:
    """'ok' if the file matches its pin, 'missing' if absent, else 'corrupt'."""
    path = raw_dir(root) / name
    if not path.is_file():
        return "missing"
    return "ok" if sha256_file(path) == PINS[name] else "corrupt"


def write_verified(root: Path, name: str, data: bytes) -> Path:
    """Write ``data`` as file ``name`` only if it matches the pin, atomically.

    The bytes go to a uniquely named file beside the real one first and are renamed into place, so a
    crash never leaves a partial file under the real name and two writers never share a temporary file.
    """
    if name not in PINS:
        raise ValueError(f"unknown MNIST file {name!r}; expected one of {sorted(PINS)}")
    got = sha256_bytes(data)
    if got != PINS[name]:
        raise ValueError(f"{name}: SHA-256 {got} does not match the pin {PINS[name]}")
    folder = raw_dir(root)
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / name
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
    tmp = Path(tmp)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if sha256_file(tmp) != PINS[name]:
            raise OSError(f"{tmp}: bytes on disk differ from what was written")
        os.chmod(tmp, 0o644)
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
    return final
