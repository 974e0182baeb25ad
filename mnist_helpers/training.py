"""The train/test loop of Part-1, made fast and given what Parts 2-4 need: ``train_epoch``, ``evaluate``, ``fit``.

Part-1 writes its loop in a notebook cell, in the manner of pytorch/examples ``mnist/main.py``.
``train_epoch`` makes the same optimizer steps (``tests/test_training.py`` checks that the weights
come out equal) and adds: a learning-rate schedule stepped per batch, an EMA of the weights, label
smoothing, a progress bar, and a check for NaN/inf losses, with each step's numbers kept on the
device and read once per epoch. ``fit`` runs it for some epochs and evaluates after each.
"""
from __future__ import annotations

import math
import os
import time
from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm


@dataclass
class History:
    """Per-epoch metrics; accuracies are in percent, losses are per-sample means."""

    train_loss: list = field(default_factory=list)
    train_acc: list = field(default_factory=list)
    test_loss: list = field(default_factory=list)
    test_acc: list = field(default_factory=list)
    lr: list = field(default_factory=list)
    epoch_seconds: list = field(default_factory=list)  # wall time of the training pass
    test_seconds: list = field(default_factory=list)   # wall time of the evaluation pass

    def add(self, **metrics) -> None:
        """Record one epoch: ``history.add(train_loss=..., train_acc=..., test_loss=..., test_acc=..., lr=...,
        epoch_seconds=..., test_seconds=...)``; every field must be given, so the lists stay aligned."""
        missing = {f for f in self.__dataclass_fields__} - set(metrics)
        unknown = set(metrics) - set(self.__dataclass_fields__)
        if missing or unknown:
            raise ValueError(f"History.add needs exactly {sorted(self.__dataclass_fields__)}; "
                             f"missing {sorted(missing)}, unknown {sorted(unknown)}")
        for key, value in metrics.items():
            getattr(self, key).append(value)

    def to_dict(self) -> dict:
        return asdict(self)

    def __len__(self) -> int:
        return len(self.test_acc)


def _device_of(model: torch.nn.Module) -> torch.device:
    param = next(model.parameters(), None)
    return param.device if param is not None else torch.device("cpu")


def progress_bar(iterable, desc: str):
    """A tqdm bar over ``iterable`` that is removed when done; ``TQDM_DISABLE=1`` turns it off everywhere.

    tqdm's notebook bar ignores ``TQDM_DISABLE`` (it sets ``disable=False`` itself), so the setting is
    passed explicitly. ``scripts/test.sh`` sets it: under nbval, each update of a notebook bar is a
    message that waits in a queue until the cell ends, and a long cell's messages overflow it.
    """
    return tqdm(iterable, desc=desc, leave=False, dynamic_ncols=True,
                disable=os.environ.get("TQDM_DISABLE", "") not in ("", "0"))


def epoch_means(total_loss, correct, seen: int) -> tuple[float, float]:
    """An epoch's mean loss and accuracy (%) from its summed loss and correct count (tensors, possibly on the GPU:
    read here, once) and its number of images. Raises on an empty epoch and on a NaN/inf loss."""
    if seen == 0:
        raise ValueError("the training loader yielded no batches; is the dataset empty?")
    total_loss, correct = float(total_loss), int(correct)
    if not math.isfinite(total_loss):
        raise FloatingPointError(f"the epoch's loss became {total_loss}; "
                                 "lower the learning rate or check the inputs for NaN/inf")
    return total_loss / seen, 100.0 * correct / seen


def train_epoch(model, loader, optimizer, scheduler=None, *, label_smoothing: float = 0.0, ema=None,
                desc: str = "train") -> tuple[float, float]:
    """Part-1's ``train``, with what later Parts add: a ``scheduler`` stepped after every batch, an average of the
    weights (``ema``, from ``ema_model``), label smoothing, and a progress bar. Returns (mean loss, accuracy %)."""
    model.train()
    device = next(model.parameters()).device
    total_loss, correct, seen = 0.0, 0, 0
    for data, target in progress_bar(loader, desc):
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad(set_to_none=True)
        output = model(data)
        loss = F.cross_entropy(output, target, label_smoothing=label_smoothing)
        loss.backward()
        optimizer.step()
        if ema is not None:
            ema.update_parameters(model)  # the average takes a small step towards the new weights
        if scheduler is not None:
            scheduler.step()
        total_loss += loss.detach() * len(target)  # stays on the device, as in Part-1
        correct += (output.argmax(dim=1) == target).sum()
        seen += len(target)
    return epoch_means(total_loss, correct, seen)  # the one read; raises on an empty epoch or a NaN/inf loss


@torch.no_grad()
def evaluate(model, loader) -> tuple[float, float]:
    """Mean loss (summed with reduction='sum', divided by samples) and accuracy % on ``loader``."""
    model.eval()
    device = _device_of(model)
    total_loss = torch.zeros((), dtype=torch.float64, device=device)
    correct = torch.zeros((), dtype=torch.long, device=device)
    seen = 0
    for data, target in loader:
        data, target = data.to(device), target.to(device)
        output = model(data)
        total_loss += F.cross_entropy(output, target, reduction="sum")
        correct += (output.argmax(dim=1) == target).sum()
        seen += len(target)
    if seen == 0:
        raise ValueError("the evaluation loader yielded no batches; is the dataset empty?")
    return total_loss.item() / seen, 100.0 * correct.item() / seen


@torch.no_grad()
def predict_labels(model, loader) -> tuple[torch.Tensor, torch.Tensor]:
    """(predicted labels, true labels) over ``loader``, on the CPU."""
    model.eval()
    device = _device_of(model)
    preds, targets = [], []
    for data, target in loader:
        preds.append(model(data.to(device)).argmax(dim=1))
        targets.append(target)
    return torch.cat(preds).cpu(), torch.cat(targets).cpu()


def fit(model, train_data, test_data, optimizer, scheduler=None, *, epochs: int,
        step_scheduler_per_batch: bool | None = None, label_smoothing: float = 0.0, ema=None,
        before_epoch=None, verbose: bool = True, train_one_epoch=None) -> History:
    """Train for ``epochs`` and evaluate after each; returns a :class:`History`.

    ``scheduler`` is stepped once per batch for ``OneCycleLR``/``CyclicLR`` (or when
    ``step_scheduler_per_batch=True``), otherwise once per epoch. ``label_smoothing`` applies to
    training only. With ``ema`` (an ``AveragedModel`` of ``model``), the test metrics measure the
    averaged weights. ``before_epoch(epoch)`` is called before each epoch (counting from 1), for
    example to change the training loader's augmentation. ``train_one_epoch(desc)``, if given,
    replaces :func:`train_epoch` and returns (mean loss, accuracy %): it then steps a per-batch ``scheduler``,
    updates ``ema`` and applies ``label_smoothing`` itself, while ``fit`` still evaluates ``ema`` and steps a
    per-epoch scheduler (``lab.static_step`` passes its CUDA-graph step).
    """
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    if before_epoch is not None and not callable(before_epoch):
        raise TypeError(f"before_epoch must be a function of the epoch number, got {type(before_epoch).__name__}")
    if not 0.0 <= label_smoothing < 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing}")
    if step_scheduler_per_batch is None:
        step_scheduler_per_batch = isinstance(
            scheduler, (torch.optim.lr_scheduler.OneCycleLR, torch.optim.lr_scheduler.CyclicLR))
    if train_one_epoch is None:
        def train_one_epoch(desc):
            return train_epoch(model, train_data, optimizer, scheduler if step_scheduler_per_batch else None,
                               label_smoothing=label_smoothing, ema=ema, desc=desc)
    history = History()
    for epoch in range(1, epochs + 1):
        if before_epoch is not None:
            before_epoch(epoch)
        lr = float(optimizer.param_groups[0]["lr"])
        start = time.perf_counter()
        train_loss, train_acc = train_one_epoch(f"epoch {epoch}/{epochs}")
        train_seconds = time.perf_counter() - start
        start = time.perf_counter()
        test_loss, test_acc = evaluate(ema if ema is not None else model, test_data)
        test_seconds = time.perf_counter() - start
        if scheduler is not None and not step_scheduler_per_batch:
            scheduler.step()
        history.add(train_loss=train_loss, train_acc=train_acc, test_loss=test_loss, test_acc=test_acc, lr=lr,
                    epoch_seconds=train_seconds, test_seconds=test_seconds)
        if verbose:
            print(f"epoch {epoch:2d}/{epochs}  lr {lr:.4f}  train loss {train_loss:.4f} acc {train_acc:6.2f}%  "
                  f"test loss {test_loss:.4f} acc {test_acc:6.2f}%  ({train_seconds:.1f}s)", flush=True)
    return history
