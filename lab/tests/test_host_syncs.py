"""The training step makes no host round-trips: the count of host reads per epoch does not grow with its length.

On a GPU every read of a tensor's value on the host (``.item()``, ``int()``, ``bool()``,
``.tolist()``, ``.cpu()``, ...) waits for all queued work to finish, so one per step
stalls the whole loop. The CPU test counts those calls while ``fit`` trains; on a
machine with CUDA, a second test also asks CUDA itself to report every synchronisation.
"""
import pytest
import torch
from torch import nn

from mnist_helpers import RandomRotateCrop, TensorLoader, ema_model, fit, set_seed, warmup_cosine_floor

HOST_READS = ("item", "tolist", "cpu", "numpy", "__int__", "__float__", "__bool__", "__index__")


def small_bn_cnn():
    return nn.Sequential(nn.Conv2d(1, 8, 3, bias=False), nn.MaxPool2d(2), nn.BatchNorm2d(8), nn.ReLU(),
                         nn.Conv2d(8, 16, 3, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 10))


def train_one_epoch(batches: int, device="cpu") -> None:
    """One epoch of ``batches`` augmented batches, with every option of the Part-3 recipe."""
    set_seed(0)
    images = torch.randint(0, 256, (batches * 32, 28, 28), dtype=torch.uint8)
    labels = torch.randint(0, 10, (batches * 32,))
    train = TensorLoader(images, labels, 32, shuffle=True, seed=0, device=device,
                         augment=RandomRotateCrop(degrees=15, crop_prob=0.3))
    test = TensorLoader(images[:64], labels[:64], 32, device=device)
    model = small_bn_cnn().to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True)
    scheduler = warmup_cosine_floor(optimizer, len(train), warmup_epochs=0.5, floor_epoch=1)
    fit(model, train, test, optimizer, scheduler, epochs=1, step_scheduler_per_batch=True,
        label_smoothing=0.1, ema=ema_model(model, 0.998), verbose=False)


def host_reads_of(monkeypatch, run) -> int:
    """How many times ``run()`` reads a tensor's value on the host through the methods of ``HOST_READS``."""
    count = 0
    for name in HOST_READS:
        original = getattr(torch.Tensor, name)

        def counted(self, *args, _original=original, **kwargs):
            nonlocal count
            count += 1
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, name, counted)
    run()
    monkeypatch.undo()
    return count


def count_host_reads(monkeypatch, batches: int) -> int:
    return host_reads_of(monkeypatch, lambda: train_one_epoch(batches))


def test_host_reads_per_epoch_do_not_grow_with_the_number_of_batches(monkeypatch):
    short, long = count_host_reads(monkeypatch, 4), count_host_reads(monkeypatch, 16)
    assert short > 0, "the counter saw no reads at all: it is not hooked in"
    assert long == short, f"{short} host reads for 4 batches but {long} for 16: something reads every step"


def test_the_counter_catches_a_per_step_read(monkeypatch):
    """The guard can fail: a per-step ``.item()`` in the loss makes the count grow with the batches."""
    original = torch.nn.functional.cross_entropy

    def reading_loss(*args, **kwargs):
        loss = original(*args, **kwargs)
        loss.item()
        return loss

    monkeypatch.setattr("mnist_helpers.training.F.cross_entropy", reading_loss)
    short = count_host_reads(monkeypatch, 4)
    monkeypatch.setattr("mnist_helpers.training.F.cross_entropy", reading_loss)
    long = count_host_reads(monkeypatch, 16)
    assert long - short == 16 - 4  # one more read for each extra training step (the test pass is the same)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA (CI has none)")
def test_cuda_reports_no_synchronisation_per_step():
    import warnings

    def warnings_for(batches):
        torch.cuda.set_sync_debug_mode("warn")
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                train_one_epoch(batches, device="cuda")
        finally:
            torch.cuda.set_sync_debug_mode("default")
        return sum("synchroniz" in str(w.message) for w in caught)

    assert warnings_for(16) == warnings_for(4)
