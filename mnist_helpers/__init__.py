"""Shared helpers for the MNIST tiny-CNN notebook series."""
from .allocator import keep_freed_memory
from .augment import RandomRotateCrop
from .averaging import ema_model
from .data import MNISTUnavailableError, load_mnist, load_mnist_tensors, prepare_mnist
from .model_utils import count_parameters, model_summary, receptive_field_table
from .tensor_loader import TensorLoader
from .reproducibility import pick_device, seed_from_env, set_seed
from .schedules import warmup_cosine_floor
from .stats import data_statistics
from .training import History, evaluate, fit, predict_labels
from .targets import TARGETS
from .transforms import MNIST_MEAN, MNIST_STD, torchvision_reference

__all__ = [
    "keep_freed_memory", "RandomRotateCrop", "ema_model", "warmup_cosine_floor", "MNISTUnavailableError", "load_mnist", "load_mnist_tensors", "prepare_mnist",
    "count_parameters", "model_summary", "receptive_field_table", "TensorLoader", "pick_device",
    "seed_from_env", "set_seed", "data_statistics", "History", "evaluate", "fit", "predict_labels",
    "MNIST_MEAN", "MNIST_STD", "torchvision_reference", "TARGETS",
]
