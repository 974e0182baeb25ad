"""Many seeds of one recipe trained at once, as one stacked model (``python -m lab.sweep --together``).

Member ``k`` is seed ``seeds[k]`` of the notebook's own run: its initial weights (``set_seed(seed)`` just
before the model is built, as the notebooks do), its loader's shuffle and augmentation draws
(``TensorLoader(..., seed=seed)``), and the recipe, in ``lab.ladder``'s names, read from the notebook.
The members share one static step (``lab.static_step``): on a GPU, replayed as a CUDA graph,
twelve seeds cost about what one does; on a CPU they cost what twelve runs cost.
``lab/tests/test_together.py`` checks that a member trained together equals the seed trained alone.
"""
from __future__ import annotations

import time

import torch
import torch.nn.functional as F

from mnist_helpers import TensorLoader, count_parameters, set_seed
from lab.static_step import StackedModel, StaticStep

from .ladder import augmentations, gentle_epoch, optimizer_schedule_ema
from scripts.notebook_code import notebook_model


@torch.no_grad()
def _evaluate(model: StackedModel, loader: TensorLoader) -> tuple[list[float], list[float]]:
    """Each member's mean test loss and accuracy %, every member on the same batches."""
    model.eval()
    k, loss, correct = model.members, 0.0, 0
    for x, y in loader:
        logits = model(x.expand(k, *x.shape))                                  # (k, b, classes)
        loss = loss + F.cross_entropy(logits.flatten(0, 1), y.repeat(k), reduction="none").view(k, -1).double().sum(1)
        correct = correct + (logits.argmax(-1) == y).sum(1)
    loss, correct = torch.stack([loss, correct.double()]).tolist()  # the one read
    n = loader.num_samples
    return [v / n for v in loss], [100.0 * c / n for c in correct]


def train_together(r: dict, seeds: list[int], train: tuple, test: tuple, device=torch.device("cpu"),
                   capture: bool | None = None, log=print) -> dict:
    """Train recipe ``r`` (``lab.ladder.recipe``) once per seed, all at once, on ``train`` = (images, labels),
    testing on ``test`` after every epoch. Returns {"params", "seconds_per_epoch", "per_seed": {seed: history},
    "model", "ema"}: the stacked model and its average (``.member(k)`` is seed ``seeds[k]``'s)."""
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"give distinct seeds, got {seeds}")
    models = []
    for seed in seeds:  # one class for every member, as torch.func.stack_module_state needs
        set_seed(seed)
        models.append(type(models[0])(**r["NET_ARGS"]) if models else notebook_model(r["MODEL"], r["NET"], **r["NET_ARGS"]))
    params = count_parameters(models[0])
    model = StackedModel(models).to(device)
    full, gentle = augmentations(r)
    images = train[0].to(device)
    loaders = [TensorLoader(images, train[1], r["BATCH_SIZE"], shuffle=True, seed=seed, device=device, augment=full)
               for seed in seeds]
    test_loader = TensorLoader(*test, 1000, device=device)
    optimizer, scheduler, ema = optimizer_schedule_ema(r, model, len(loaders[0]))
    step = StaticStep(model, loaders, optimizer, scheduler, step_scheduler_per_batch=scheduler is not None,
                      label_smoothing=r["LABEL_SMOOTHING"], ema=ema, capture=capture)
    histories = {seed: {k: [] for k in ("train_loss", "train_acc", "test_loss", "test_acc", "lr")} for seed in seeds}
    seconds = []
    for epoch in range(1, r["EPOCHS"] + 1):
        for loader in loaders:
            loader.augment = gentle if gentle_epoch(r, epoch) else full
        lr = float(optimizer.param_groups[0]["lr"])
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        trained = step.train_epoch(desc=f"epoch {epoch}/{r['EPOCHS']} ({len(seeds)} seeds)")
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        seconds.append(time.perf_counter() - start)
        test_loss, test_acc = _evaluate(ema.module if ema is not None else model, test_loader)
        for k, seed in enumerate(seeds):
            h = histories[seed]
            h["train_loss"].append(trained[k][0]), h["train_acc"].append(trained[k][1])
            h["test_loss"].append(test_loss[k]), h["test_acc"].append(test_acc[k]), h["lr"].append(lr)
        log(f"epoch {epoch:2d}/{r['EPOCHS']}: test accuracy {min(test_acc):.2f}-{max(test_acc):.2f}% over "
            f"{len(seeds)} seeds ({seconds[-1]:.2f} s)")
    return {"params": params, "seconds_per_epoch": seconds, "per_seed": histories, "model": model, "ema": ema}
