import os

os.environ.setdefault("MPLBACKEND", "Agg")

import pytest  # noqa: E402

from mnist_helpers.data import load_mnist, prepare_mnist  # noqa: E402
from mnist_helpers.paths import default_data_root  # noqa: E402


@pytest.fixture(scope="session")
def data_root():
    """The real, verified MNIST root (prepared through the normal sources if needed)."""
    root = default_data_root()
    prepare_mnist(root, verbose=False)
    return root


@pytest.fixture(scope="session")
def test_split(data_root):
    return load_mnist("test", data_root)


@pytest.fixture(scope="session")
def train_split(data_root):
    return load_mnist("train", data_root)
