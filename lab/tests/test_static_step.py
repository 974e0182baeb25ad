"""The static training step (``lab.static_step``): on a CPU, run without capture, it makes the same
optimizer steps as ``train_epoch``; stacked members train as they would alone; it reads the host once an epoch;
and ``fit`` says why when it cannot use it. On a machine with CUDA, the captured graphs are checked too."""
import pytest
import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode

from mnist_helpers import RandomRotateCrop, TensorLoader, ema_model, fit, set_seed, warmup_cosine_floor
from lab.static_step import StackedModel, StaticStep, fit_static, unsupported

# 200 images in batches of 64: three full batches and a last one of 8, which the static step trains as it is
G = torch.Generator().manual_seed(0)
IMAGES = torch.randint(0, 256, (200, 28, 28), dtype=torch.uint8, generator=G)
LABELS = torch.randint(0, 10, (200,), generator=G)


def small_bn_cnn():
    return nn.Sequential(nn.Conv2d(1, 8, 3, bias=False), nn.MaxPool2d(2), nn.BatchNorm2d(8), nn.ReLU(),
                         nn.Conv2d(8, 16, 3, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 10))


def part3_like(seed, device="cpu", translate=0.0):
    """Every part of Part-3's recipe: augmentation, Nesterov SGD, a per-batch schedule, label smoothing, an EMA."""
    set_seed(seed)
    model = small_bn_cnn().to(device)
    loader = TensorLoader(IMAGES, LABELS, 64, shuffle=True, seed=seed, device=device,
                          augment=RandomRotateCrop(15, 0.3, translate=translate))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True)
    scheduler = warmup_cosine_floor(optimizer, len(loader), warmup_epochs=0.5, floor_epoch=1.5)
    return model, loader, optimizer, scheduler, ema_model(model, 0.9)


def trained(seed, graph, device="cpu", translate=0.0, epochs=2):
    model, loader, optimizer, scheduler, ema = part3_like(seed, device, translate)
    gentle = RandomRotateCrop(5, 0.0, translate=translate)

    def gentler(epoch):  # as the notebooks' gentle last epochs: another augmentation of the same kind
        loader.augment = gentle if epoch == epochs else loader.augment

    test = TensorLoader(IMAGES[:64], LABELS[:64], 32, device=device)
    history = fit_static(model, loader, test, optimizer, scheduler, epochs=epochs, step_scheduler_per_batch=True,
                         label_smoothing=0.1, ema=ema, verbose=False, before_epoch=gentler, graph=graph)
    return model, ema, history


def largest_difference(a: nn.Module, b: nn.Module) -> float:
    return max((x.float() - y.float()).abs().max().item() for x, y in zip(a.state_dict().values(), b.state_dict().values()))


@pytest.mark.parametrize("translate", [0.0, 2.0])
def test_the_static_step_makes_the_same_steps_as_train_epoch(translate):
    eager, eager_ema, eager_history = trained(3, graph=False, translate=translate)
    static, static_ema, static_history = trained(3, graph=True, translate=translate)
    assert largest_difference(eager, static) <= 1e-6
    assert largest_difference(eager_ema.module, static_ema.module) <= 1e-6
    assert static_ema.updates == eager_ema.updates == 8
    assert static_history.train_loss == pytest.approx(eager_history.train_loss, rel=1e-6)
    assert static_history.test_acc == eager_history.test_acc
    assert static_history.lr == pytest.approx(eager_history.lr)


def test_the_comparison_can_fail():
    """Another seed's run differs by far more than the tolerance above."""
    a, _, _ = trained(3, graph=False)
    b, _, _ = trained(4, graph=True)
    assert largest_difference(a, b) > 1e-2


def test_stacked_members_train_as_they_would_alone():
    seeds = [3, 4]
    alone = [trained(seed, graph=False, epochs=2) for seed in seeds]
    models, loaders = [], []
    for seed in seeds:
        set_seed(seed)
        models.append(small_bn_cnn())
    stacked = StackedModel(models)
    loaders = [TensorLoader(IMAGES, LABELS, 64, shuffle=True, seed=s, augment=RandomRotateCrop(15, 0.3)) for s in seeds]
    for loader in loaders[1:]:  # the members share one copy of the images
        loader.images, loader.labels = loaders[0].images, loaders[0].labels
    optimizer = torch.optim.SGD(stacked.parameters(), lr=0.05, momentum=0.9, nesterov=True)
    scheduler = warmup_cosine_floor(optimizer, len(loaders[0]), warmup_epochs=0.5, floor_epoch=1.5)
    ema = ema_model(stacked, 0.9)
    step = StaticStep(stacked, loaders, optimizer, scheduler, step_scheduler_per_batch=True, label_smoothing=0.1,
                      ema=ema)
    for epoch in (1, 2):
        for loader in loaders:
            loader.augment = RandomRotateCrop(5, 0.0) if epoch == 2 else loader.augment
        results = step.train_epoch()
    for k, (model, model_ema, history) in enumerate(alone):
        assert largest_difference(model, stacked.member(k)) <= 1e-5
        assert largest_difference(model_ema.module, ema.module.member(k)) <= 1e-5
        assert results[k][0] == pytest.approx(history.train_loss[-1], rel=1e-5)


def test_unsupported_setups_say_why_and_fit_trains_step_by_step(capsys):
    model, loader, _, scheduler, ema = part3_like(0)
    adam = torch.optim.Adam(model.parameters())
    assert "torch.optim.SGD, not Adam" in unsupported(model, [loader], adam, ema)
    assert "StackedModel" in unsupported(model, [loader, loader], torch.optim.SGD(model.parameters(), lr=0.1))
    assert unsupported(model, [loader], torch.optim.SGD(model.parameters(), lr=0.1), ema) is None
    with pytest.raises(ValueError, match="Adam"):
        StaticStep(model, [loader], adam)
    test = TensorLoader(IMAGES[:64], LABELS[:64], 32)
    fit_static(model, loader, test, adam, epochs=1, verbose=False, graph=True)
    assert "training step by step, without the static step: the static step supports torch.optim.SGD" in \
        capsys.readouterr().out


def test_capture_needs_cuda():
    model, loader, optimizer, _, _ = part3_like(0)
    with pytest.raises(ValueError, match="CUDA"):
        StaticStep(model, [loader], optimizer, capture=True)


def test_the_static_step_reads_the_host_once_an_epoch(monkeypatch):
    from lab.tests.test_host_syncs import host_reads_of

    def reads(images):
        set_seed(0)
        model = small_bn_cnn()
        loader = TensorLoader(images, LABELS[:len(images)], 32, shuffle=True, augment=RandomRotateCrop(15, 0.3))
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        step = StaticStep(model, [loader], optimizer, ema=ema_model(model, 0.998))
        return host_reads_of(monkeypatch, step.train_epoch)

    short, long = reads(IMAGES[:128]), reads(IMAGES[:512])
    assert short > 0 and long == short, f"{short} host reads for 4 batches, {long} for 16"


class ScalarReads(TorchDispatchMode):
    """Counts the reads of a tensor's value that happen inside torch's own kernels (``aten._local_scalar_dense``),
    such as an overload that takes a Python number being given a tensor: the Python-level counter cannot see them."""

    def __init__(self):
        super().__init__()
        self.count = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if func is torch.ops.aten._local_scalar_dense.default:
            self.count += 1
        return func(*args, **(kwargs or {}))


def test_no_kernel_of_the_step_reads_a_value_back():
    model, loader, optimizer, scheduler, ema = part3_like(0, translate=2.0)
    step = StaticStep(model, [loader], optimizer, scheduler, step_scheduler_per_batch=True, label_smoothing=0.1,
                      ema=ema)
    step._new_epoch()
    with ScalarReads() as reads:
        for size in step.sizes:
            step._step(size, loader.augment)
            scheduler.step()
    assert reads.count == 0


def test_the_kernel_counter_catches_a_read():
    with ScalarReads() as reads:
        torch._foreach_lerp_([torch.zeros(3)], [torch.ones(3)], torch.tensor(0.5))  # a tensor weight, read as a number
    assert reads.count == 1


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA (CI has none)")
def test_cuda_graphs_train_as_the_eager_step_and_never_synchronise():
    eager, eager_ema, _ = trained(3, graph=False, device="cuda")
    model, loader, optimizer, scheduler, ema = part3_like(3, "cuda")
    step = StaticStep(model, [loader], optimizer, scheduler, step_scheduler_per_batch=True, label_smoothing=0.1,
                      ema=ema)
    assert step.capture
    step.train_epoch()  # captures
    loader.augment = RandomRotateCrop(5, 0.0)
    step._new_epoch()  # the epoch's draws, copied once
    torch.cuda.set_sync_debug_mode("error")
    try:
        for size in step.sizes:  # the replays and the scheduler's writes: no synchronisation
            step.graphs[size].replay()
            scheduler.step()
    finally:
        torch.cuda.set_sync_debug_mode("default")
    torch.cuda.synchronize()
    assert largest_difference(eager, model) <= 1e-4
    assert largest_difference(eager_ema.module, ema.module) <= 1e-4


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA (CI has none)")
def test_fit_captures_by_default_on_cuda(capsys):
    model, _, history = trained(3, graph=None, device="cuda")
    out = capsys.readouterr().out
    assert "without" not in out and "capture failed" not in out, out  # no fallback to the eager step
    eager, _, eager_history = trained(3, graph=False, device="cuda")
    assert largest_difference(eager, model) <= 1e-4
    assert history.train_loss == pytest.approx(eager_history.train_loss, rel=1e-4)
