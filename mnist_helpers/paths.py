"""Where the repository keeps its data, images and results.

In an editable install (``pip install -e .``) the package lives inside the
repository, so paths resolve to the repository whatever the working directory.
Otherwise they fall back to folders under the current directory.
"""
from __future__ import annotations

import os
from pathlib import Path

DATA_ENV = "MNIST_DATA_DIR"
IMAGES_ENV = "MNIST_IMAGES_DIR"
RESULTS_ENV = "MNIST_RESULTS_DIR"
MODELS_ENV = "MNIST_MODELS_DIR"


def repo_root() -> Path | None:
    """The repository root when installed editable, else None."""
    candidate = Path(__file__).resolve().parent.parent
    pyproject = candidate / "pyproject.toml"
    if pyproject.is_file() and 'name = "mnist-helpers"' in pyproject.read_text(encoding="utf-8"):
        return candidate
    return None


def _under_repo(name: str) -> Path:
    root = repo_root()
    return (root / name) if root is not None else Path.cwd() / name


def default_data_root() -> Path:
    """``$MNIST_DATA_DIR`` if set, else the repository's ``data/`` (or ``./data``)."""
    env = os.environ.get(DATA_ENV)
    return Path(env).expanduser() if env else _under_repo("data")


def images_dir() -> Path:
    """Where plots are saved: ``$MNIST_IMAGES_DIR``, else the repository's ``images/`` (or ``./images``)."""
    env = os.environ.get(IMAGES_ENV)
    return Path(env).expanduser() if env else _under_repo("images")


def results_dir() -> Path:
    """Where run summaries go: ``$MNIST_RESULTS_DIR``, else the repository's ``results/`` (or ``./results``)."""
    env = os.environ.get(RESULTS_ENV)
    return Path(env).expanduser() if env else _under_repo("results")


def models_dir() -> Path:
    """Where trained models go: ``$MNIST_MODELS_DIR``, else the repository's ``models/`` (or ``./models``)."""
    env = os.environ.get(MODELS_ENV)
    return Path(env).expanduser() if env else _under_repo("models")
