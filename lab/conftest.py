"""The research tests use the course's fixtures (verified MNIST, its splits)."""
from tests.conftest import data_root, test_split, train_split  # noqa: F401
