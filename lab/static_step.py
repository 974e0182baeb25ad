"""A training step with fixed shapes and every number on the device, so that CUDA can replay it as one graph.

``training.train_epoch`` launches about a hundred small kernels per step from Python; on a GPU those
launches, not the arithmetic, set the pace. :class:`StaticStep` makes the same step (gather the batch,
augment it, forward, backward, the SGD step, the EMA) on buffers that never move, so CUDA can capture it
once as a graph and replay it every step. Without capture (on a CPU) it runs the same code eagerly, and
``lab/tests/test_static_step.py`` checks that it makes the same optimizer steps as ``train_epoch``.

What capture needs, and why the maths stays the notebooks':

- **Fixed shapes.** Each batch size gets its own graph, so the last, smaller batch of an epoch is trained
  as the notebooks train it (not dropped, not padded).
- **No count that depends on the draws.** ``RandomRotateCrop`` zooms the images whose crop flag is set;
  here every image is zoomed and the zoom is kept where the flag is set, with the same warp.
- **The epoch's order and draws** are made by each loader's generator exactly as ``TensorLoader`` makes
  them, copied to the device once an epoch, and each step reads its slice through a step counter on the device.
- **The learning rate is a device tensor** (``SGD(fused=True)``); the scheduler writes it before each replay.
- **The EMA** moves every averaged tensor with ``lerp_`` by a weight computed on the device (a tensor weight:
  ``torch._foreach_lerp_`` would read it back to the host).
- **Losses and correct counts** stay on the device and are read once an epoch.

:class:`StackedModel` puts several models of one class side by side (one per seed), so that one step
trains them all: ``lab.sweep --together`` uses it.
"""
from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

from mnist_helpers.augment import RandomRotateCrop
from mnist_helpers.training import fit, progress_bar


class StackedModel(nn.Module):
    """``len(models)`` models of one class as one module: member ``k``'s weights are slice ``k`` of every
    parameter and buffer, and ``forward`` maps ``(K, B, ...)`` to ``(K, B, ...)``, each member on its own
    slice (``torch.func.vmap``). SGD and the EMA act element by element, so each member trains as it
    would alone, up to floating-point order."""

    def __init__(self, models: list[nn.Module]):
        super().__init__()
        if not models:
            raise ValueError("StackedModel needs at least one model")
        shapes = {tuple((k, tuple(v.shape)) for k, v in m.state_dict().items()) for m in models}
        if len({type(m).__qualname__ for m in models}) != 1 or len(shapes) != 1:
            raise TypeError("every member must be a model of the same class and shape")
        params, buffers = stack_module_state(models)
        self._names = {name: name.replace(".", "__") for name in [*params, *buffers]}
        for name, value in params.items():
            self.register_parameter(self._names[name], nn.Parameter(value.detach().clone()))
        for name, value in buffers.items():
            self.register_buffer(self._names[name], value.clone())
        self._param_names, self._buffer_names = list(params), list(buffers)
        self._base = [copy.deepcopy(models[0]).to("meta")]  # a list, so it is not a submodule with weights
        self.members = len(models)

    def train(self, mode: bool = True):
        self._base[0].train(mode)
        return super().train(mode)

    def _call(self, params, buffers, x):
        return functional_call(self._base[0], (params, buffers), (x,))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        params = {n: getattr(self, self._names[n]) for n in self._param_names}
        buffers = {n: getattr(self, self._names[n]) for n in self._buffer_names}
        return vmap(self._call, randomness="different")(params, buffers, x)  # dropout: each member its own mask

    def member(self, k: int) -> nn.Module:
        """A plain model holding member ``k``'s weights (a copy)."""
        model = copy.deepcopy(self._base[0]).to_empty(device=next(self.parameters()).device)
        model.load_state_dict({n: getattr(self, self._names[n])[k].detach().clone()
                               for n in [*self._param_names, *self._buffer_names]})
        return model


def _augment_key(augment):
    """What a captured step bakes in of an augmentation: an augmentation differing only in its draws
    (angles, crop probability) reuses the graphs."""
    if augment is None:
        return None
    return (augment.crop_size, augment.image_size, augment.interpolation, bool(augment.translate))


def _settings(optimizer) -> list[tuple]:
    """What a captured SGD step bakes in besides the rate's tensor: each group's rate tensor and constants."""
    return [(id(g["lr"]), g["momentum"], g["dampening"], g["weight_decay"], g["nesterov"], g["maximize"])
            for g in optimizer.param_groups]


def unsupported(model, loaders, optimizer, ema=None, scheduler=None) -> str | None:
    """Why :class:`StaticStep` cannot train this setup, in one line, or None when it can."""
    if not isinstance(optimizer, torch.optim.SGD):
        return f"the static step supports torch.optim.SGD, not {type(optimizer).__name__}"
    if any(group.get("differentiable") for group in optimizer.param_groups):
        return "the optimizer is differentiable"
    if any(group["dampening"] for group in optimizer.param_groups):
        return "SGD with dampening (its first step differs from the later ones)"
    if getattr(scheduler, "cycle_momentum", False):
        return f"{type(scheduler).__name__} cycles the momentum, which a captured step keeps fixed"
    first = loaders[0]
    device = next(model.parameters()).device
    for loader in loaders:
        if not hasattr(loader, "batch_sizes") or not hasattr(loader, "images"):
            return f"the training data is a {type(loader).__name__}, not a TensorLoader"
        if loader.images.device != device:
            return f"the loader's images are on {loader.images.device}, the model on {device}"
        if loader.augment is not None and not isinstance(loader.augment, RandomRotateCrop):
            return f"the augmentation is a {type(loader.augment).__name__}, not a RandomRotateCrop"
        if (loader.images.data_ptr() != first.images.data_ptr() or loader.batch_sizes() != first.batch_sizes()
                or (loader.mean, loader.std) != (first.mean, first.std)):
            return "the members' loaders differ in their images, batches or normalisation"
        if _augment_key(loader.augment) != _augment_key(first.augment):
            return "the members' augmentations differ in kind"
    if ema is not None and not hasattr(ema, "updates"):
        return f"the EMA is a {type(ema).__name__}, not mnist_helpers.ema_model's"
    stacked = isinstance(model, StackedModel)
    if stacked and model.members != len(loaders):
        return f"{model.members} stacked members but {len(loaders)} loaders"
    if not stacked and len(loaders) != 1:
        return "several loaders need a StackedModel"
    return None


class StaticStep:
    """Train ``model`` one epoch at a time with a static step: ``loss, acc = step.train_epoch()``.

    ``loaders``: one ``TensorLoader`` per member (one for a plain model, one per seed for a
    :class:`StackedModel`), sharing the images. ``capture``: record the step as CUDA graphs (the default on
    CUDA; a CPU runs it eagerly). The optimizer is switched to a device-tensor learning rate and the fused
    SGD kernel, which makes the same update as the default one. Raises ``ValueError`` for a setup it cannot train
    (:func:`unsupported` says why).
    """

    def __init__(self, model, loaders, optimizer, scheduler=None, *, step_scheduler_per_batch: bool = False,
                 label_smoothing: float = 0.0, ema=None, capture: bool | None = None, warmup_steps: int = 3):
        reason = unsupported(model, loaders, optimizer, ema, scheduler)
        if reason:
            raise ValueError(reason)
        self.model, self.loaders, self.optimizer, self.ema = model, list(loaders), optimizer, ema
        self.scheduler = scheduler if step_scheduler_per_batch else None
        self.label_smoothing = float(label_smoothing)
        self.stacked = isinstance(model, StackedModel)
        self.device = next(model.parameters()).device
        self.capture = self.device.type == "cuda" if capture is None else capture
        if self.capture and self.device.type != "cuda":
            raise ValueError(f"capture needs a CUDA device; the model is on {self.device}")
        self.warmup_steps = warmup_steps
        first, d = self.loaders[0], self.device
        self.images, self.labels, self.mean, self.std = first.images, first.labels, first.mean, first.std
        self.sizes = first.batch_sizes()
        k, n = len(self.loaders), first.num_samples
        self.order = torch.zeros(k, n, dtype=torch.long, device=d)
        self.angles = torch.zeros(k, n, device=d)
        self.crop = torch.zeros(k, n, dtype=torch.bool, device=d)
        self.shifts = torch.zeros(k, n, 2, device=d)
        self.offset = torch.zeros((), dtype=torch.long, device=d)    # where the next batch starts
        self.step = torch.zeros((), dtype=torch.long, device=d)      # the step within the epoch
        self.losses = torch.zeros(k, len(self.sizes), device=d)
        self.correct = torch.zeros(k, len(self.sizes), dtype=torch.long, device=d)
        self.arange = {size: torch.arange(size, device=d) for size in set(self.sizes)}
        for group in optimizer.param_groups:
            if not torch.is_tensor(group["lr"]) or group["lr"].device != d or group["lr"].dtype != torch.float32:
                group["lr"] = torch.tensor(float(group["lr"]), dtype=torch.float32, device=d)
            group["fused"], group["foreach"] = True, False
        if ema is not None:
            self.ema_n = torch.tensor(float(ema.updates), dtype=torch.float64, device=d)
            self.ema_decay = torch.tensor(ema.decay, dtype=torch.float64, device=d)
            pairs = list(zip(ema.module.state_dict().values(), model.state_dict().values()))
            self.ema_float = [(a, c) for a, c in pairs if a.is_floating_point()]
            self.ema_other = [(a, c) for a, c in pairs if not a.is_floating_point()]
        self.graphs, self.graph_key = {}, "none yet"
        self._inputs = self._loader_inputs()

    # -- the step ---------------------------------------------------------------------------------------

    def _augmented(self, x, positions, augment):
        shifts = self.shifts.index_select(1, positions).flatten(0, 1) if augment.translate else None
        return augment.apply_flags(x, self.angles.index_select(1, positions).flatten(),
                                   self.crop.index_select(1, positions).flatten(), shifts)

    def _step(self, size: int, augment) -> None:
        k = len(self.loaders)
        positions = self.offset + self.arange[size]
        idx = self.order.index_select(1, positions).flatten()                    # (k * size,)
        x = self.images.index_select(0, idx).float().div_(255.0)
        if augment is not None:
            x = self._augmented(x, positions, augment)
        x = x.sub_(self.mean).div_(self.std)
        y = self.labels.index_select(0, idx).view(k, size)
        self.optimizer.zero_grad(set_to_none=True)
        if self.stacked:
            logits = self.model(x.view(k, size, *x.shape[1:]))                    # (k, size, classes)
            losses = F.cross_entropy(logits.flatten(0, 1), y.flatten(), label_smoothing=self.label_smoothing,
                                     reduction="none").view(k, size).mean(1)
            losses.sum().backward()  # each member's gradient is that of its own mean loss
        else:
            logits = self.model(x).unsqueeze(0)
            losses = F.cross_entropy(logits[0], y[0], label_smoothing=self.label_smoothing).view(1)
            losses.backward()
        self.optimizer.step()
        if self.ema is not None:
            with torch.no_grad():
                n = self.ema_n
                weight = (1.0 - torch.minimum(self.ema_decay, (1.0 + n) / (10.0 + n))).float()
                for a, c in self.ema_float:
                    a.lerp_(c, weight)
                for a, c in self.ema_other:
                    a.copy_(c)
                n.add_(1)
        with torch.no_grad():
            at = self.step.view(1)
            self.losses.index_copy_(1, at, losses.detach().view(k, 1))
            self.correct.index_copy_(1, at, (logits.detach().argmax(-1) == y).sum(-1).view(k, 1))
            self.offset.add_(size)
            self.step.add_(1)

    # -- capture ----------------------------------------------------------------------------------------

    def _state(self) -> list[torch.Tensor]:
        tensors = [*self.model.parameters(), *self.model.buffers()]
        if self.ema is not None:
            tensors += [*self.ema.module.parameters(), *self.ema.module.buffers(), self.ema_n]
        return tensors

    def _momentum(self) -> list[tuple[nn.Parameter, torch.Tensor | None]]:
        return [(p, self.optimizer.state.get(p, {}).get("momentum_buffer")) for g in self.optimizer.param_groups
                for p in g["params"]]

    def _capture(self, augment) -> None:
        """Warm up on a side stream, put every tensor back as it was, and record one graph per batch size."""
        saved = [t.detach().clone() for t in self._state()]
        momentum = [(p, None if b is None else b.clone()) for p, b in self._momentum()]
        torch.backends.cudnn.benchmark = True  # before the warm-up, so the graphs record the tuned kernels
        self.graphs, graphs, pool = {}, {}, None
        try:
            side = torch.cuda.Stream(self.device)
            side.wait_stream(torch.cuda.current_stream(self.device))
            torch.cuda.set_sync_debug_mode("error")  # a step that synchronises fails here, with its reason, not in capture
            try:
                with torch.cuda.stream(side):
                    for size in sorted(set(self.sizes), reverse=True):
                        for _ in range(self.warmup_steps):
                            self.offset.zero_(), self.step.zero_()
                            self._step(size, augment)
            finally:
                torch.cuda.set_sync_debug_mode("default")
            torch.cuda.current_stream(self.device).wait_stream(side)
            for size in sorted(set(self.sizes), reverse=True):
                self.offset.zero_(), self.step.zero_()
                graph = torch.cuda.CUDAGraph()
                with torch.cuda.graph(graph, pool=pool):
                    self._step(size, augment)
                pool, graphs[size] = graph.pool(), graph
        finally:  # the warm-up trained: every weight, statistic and buffer goes back as it was
            self._restore(saved, momentum)
        self.graphs = graphs

    def _restore(self, saved, momentum) -> None:
        with torch.no_grad():
            for t, s in zip(self._state(), saved):
                t.copy_(s)
            for p, before in momentum:  # a buffer that did not exist yet starts at 0: the same first step
                now = self.optimizer.state[p].get("momentum_buffer")
                if now is not None and before is not None:
                    now.copy_(before)
                elif now is not None:
                    now.zero_()

    # -- an epoch ---------------------------------------------------------------------------------------

    def _loader_inputs(self) -> list[tuple]:
        return [(loader.images.data_ptr(), loader.labels.data_ptr(), tuple(loader.batch_sizes()), loader.mean,
                 loader.std, loader.shuffle) for loader in self.loaders]

    def _new_epoch(self) -> None:
        """Each loader's shuffle and draws, from its own generator, in ``TensorLoader``'s order."""
        orders, angles, crops, shifts = [], [], [], []
        for loader in self.loaders:
            n = loader.num_samples
            orders.append(torch.randperm(n, generator=loader.generator) if loader.shuffle else torch.arange(n))
            if loader.augment is not None:
                a, c, s = loader.augment.draw_epoch(self.sizes, loader.generator)
                angles.append(a), crops.append(c), shifts.append(s if s is not None else torch.zeros(len(a), 2))
        pin = self.device.type == "cuda"
        pairs = [(self.order, orders)] + ([(self.angles, angles), (self.crop, crops), (self.shifts, shifts)]
                                          if angles else [])
        self._host = [torch.stack(values).pin_memory() if pin else torch.stack(values) for _, values in pairs]
        for (buffer, _), host in zip(pairs, self._host):
            buffer.copy_(host, non_blocking=pin)
        self.offset.zero_()
        self.step.zero_()
        if self.ema is not None:
            self.ema_n.fill_(float(self.ema.updates))

    def train_epoch(self, desc: str = "train"):
        """One epoch; returns (mean training loss, accuracy %), or lists of them for a stacked model."""
        augment = self.loaders[0].augment
        if any(_augment_key(loader.augment) != _augment_key(augment) for loader in self.loaders):
            raise ValueError("the members' augmentations differ in kind")
        if self._loader_inputs() != self._inputs:
            raise ValueError("a loader's images, labels, batches or normalisation changed since the static step was "
                             "built: build a new StaticStep")
        self.model.train()
        key = (_augment_key(augment), _settings(self.optimizer))
        if self.capture and self.graph_key != key:  # a new kind of augmentation, or new optimizer constants
            self._capture(augment)
            self.graph_key = key
        self._new_epoch()
        for size in progress_bar(self.sizes, desc):
            if self.capture:
                self.graphs[size].replay()
            else:
                self._step(size, augment)
            if self.scheduler is not None:
                self.scheduler.step()
        if self.ema is not None:
            self.ema.updates += len(self.sizes)
            self.ema.n_averaged.add_(len(self.sizes))
        self.optimizer.zero_grad(set_to_none=True)  # the graphs' gradient buffers are theirs, not the model's
        losses, correct = torch.stack([self.losses.double(), self.correct.double()]).tolist()  # the one read
        results = []
        seen = sum(self.sizes)
        for member_losses, member_correct in zip(losses, correct):
            for batch, value in enumerate(member_losses):
                if value != value or value in (float("inf"), float("-inf")):
                    raise FloatingPointError(f"loss became {value} at batch {batch}; "
                                             "lower the learning rate or check the inputs for NaN/inf")
            total = sum(v * n for v, n in zip(member_losses, self.sizes))
            results.append((total / seen, 100.0 * int(sum(member_correct)) / seen))
        return results if self.stacked else results[0]


def fit_static(model, train_data, test_data, optimizer, scheduler=None, *, epochs: int, graph: bool | None = None,
               step_scheduler_per_batch: bool = False, label_smoothing: float = 0.0, ema=None, **fit_args):
    """``mnist_helpers.fit`` with :class:`StaticStep` as its training step, captured as CUDA graphs on a GPU
    (``graph=None``: on CUDA only; ``False``: ``fit`` as the notebooks run it). Where the static step cannot
    train the setup, or capture fails before the first graph, it says why in one line and trains eagerly."""
    common = dict(step_scheduler_per_batch=step_scheduler_per_batch, label_smoothing=label_smoothing, ema=ema)
    if not (graph if graph is not None else next(model.parameters()).device.type == "cuda"):
        return fit(model, train_data, test_data, optimizer, scheduler, epochs=epochs, **common, **fit_args)
    reason = unsupported(model, [train_data], optimizer, ema, scheduler)
    if reason is not None:
        print(f"training step by step, without the static step: {reason}", flush=True)
        return fit(model, train_data, test_data, optimizer, scheduler, epochs=epochs, **common, **fit_args)
    static = StaticStep(model, [train_data], optimizer, scheduler, ema=ema, label_smoothing=label_smoothing,
                        step_scheduler_per_batch=step_scheduler_per_batch)

    def train_one_epoch(desc):
        try:
            return static.train_epoch(desc=desc)
        except RuntimeError as err:  # capture failed before the first graph: the state is restored
            if not static.capture or static.graphs:
                raise
            cause = err.__context__ or err.__cause__ or err  # capture's own error hides the first one
            print(f"training without CUDA graphs: capture failed ({str(cause).splitlines()[0]})", flush=True)
            static.capture = False
            return static.train_epoch(desc=desc)

    return fit(model, train_data, test_data, optimizer, scheduler, epochs=epochs, **common, train_one_epoch=train_one_epoch,
               **fit_args)
