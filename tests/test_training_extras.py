"""The warm-up/cosine/floor schedule, the EMA model and the allocator setting."""
import pytest
import torch
from torch import nn

from mnist_helpers import ema_model, warmup_cosine_floor


def _lrs(scheduler, optimizer, steps):
    out = []
    for _ in range(steps):
        out.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return out


def test_warmup_cosine_floor_shape():
    opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.2)
    sched = warmup_cosine_floor(opt, steps_per_epoch=10, warmup_epochs=3, floor_epoch=12)
    lrs = _lrs(sched, opt, 150)
    assert lrs[0] == pytest.approx(0.2 * 0.04)
    assert max(lrs) == pytest.approx(0.2) and lrs.index(max(lrs)) == 30          # peak after 3 epochs
    assert all(a <= b for a, b in zip(lrs[:30], lrs[1:31]))                      # rising
    assert all(a >= b for a, b in zip(lrs[30:120], lrs[31:121]))                 # falling
    assert lrs[75] == pytest.approx(0.2 * (0.01 + 0.99 * 0.5))                   # half-way down the cosine
    assert lrs[120:] == pytest.approx([0.2 * 0.01] * 30)                         # flat floor from epoch 13 on


def test_warmup_cosine_floor_rejects_bad_epochs():
    opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.1)
    with pytest.raises(ValueError, match="warmup_epochs < floor_epoch"):
        warmup_cosine_floor(opt, 10, warmup_epochs=5, floor_epoch=5)
    with pytest.raises(ValueError, match="steps_per_epoch"):
        warmup_cosine_floor(opt, 0, warmup_epochs=1, floor_epoch=5)


def test_ema_model_averages_weights_and_buffers():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    ema = ema_model(model, decay=0.9)
    start = [p.detach().clone() for p in model.parameters()]
    ema.update_parameters(model)                      # first update copies
    for p in model.parameters():
        p.data.add_(1.0)
    model(torch.randn(8, 3))                          # moves the BN running stats
    ema.update_parameters(model)                      # n=1: weight 1 - min(0.9, 2/11) = 9/11
    for avg, s in zip(ema.module.parameters(), start):
        assert torch.allclose(avg, s + 9 / 11)
    bn_avg, bn = ema.module[1], model[1]
    assert torch.allclose(bn_avg.running_mean, bn.running_mean * 9 / 11)
    assert int(bn_avg.num_batches_tracked) == int(bn.num_batches_tracked) == 1


def test_ema_decay_reaches_its_cap():
    model = nn.Linear(1, 1, bias=False)
    ema = ema_model(model, decay=0.5)
    nn.init.zeros_(model.weight)
    for _ in range(100):
        ema.update_parameters(model)
    with torch.no_grad():
        model.weight.fill_(1.0)
    ema.update_parameters(model)                      # min(0.5, 101/110) = 0.5
    assert ema.module.weight.item() == pytest.approx(0.5)


def test_ema_decay_0_is_an_exact_copy_of_the_live_weights():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    ema = ema_model(model, decay=0.0)
    for _ in range(3):
        with torch.no_grad():
            model[0].weight.add_(torch.randn_like(model[0].weight))
        model(torch.randn(8, 3))  # moves BatchNorm's running statistics
        ema.update_parameters(model)
    for average, live in zip(ema.module.state_dict().values(), model.state_dict().values()):
        assert torch.equal(average, live)


def test_ema_decay_must_be_a_fraction():
    with pytest.raises(ValueError, match="decay must be in"):
        ema_model(nn.Linear(1, 1), decay=1.0)


def test_keep_freed_memory_applies_on_linux_glibc_and_checks_its_input():
    import platform
    import sys

    from mnist_helpers import keep_freed_memory

    applied = keep_freed_memory()
    if sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc":
        assert applied is True
    else:
        assert applied is False
    with pytest.raises(ValueError, match="thresholds must be positive"):
        keep_freed_memory(mmap_threshold=0)
