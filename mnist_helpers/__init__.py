"""Shared helpers for the MNIST tiny-CNN notebook series.

What the notebooks teach with:
    training        the train/test loop (Part-1 writes it out; ``fit`` adds schedules, averaged weights, timing)
    tensor_loader   batches from in-memory MNIST, shuffled and augmented on the fly
    augment         rotation and centre crop of a whole batch at once
    layers          ``block``: convolution, BatchNorm, ReLU (and dropout)
    schedules       warm-up, cosine, floor
    averaging       the exponential moving average of the weights
    plots           curves, sample grids, confusion matrix, the frontier
    targets         each part's target, in one place
    recipes         each part's recipe, read from its notebook's recipe cell
Around them: data (verified MNIST; its sources in provenance/), transforms, stats, model_utils, results,
reproducibility, allocator, paths, cpu_kind (which CPU arithmetic runs); and, for using the trained model, export,
digits, predict and web. Importing the package changes nothing outside it.
"""
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
