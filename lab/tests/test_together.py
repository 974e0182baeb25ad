"""``lab.together``: seeds of Part-3's recipe trained at once equal the same seeds trained alone.

They are equal up to floating-point order: a stacked model runs its convolutions grouped, which rounds a
little differently from one model's. Over a few steps the difference stays at that level; over a run,
as between two CPU kinds, it flips the odd max-pooling choice, and the runs part within the seed noise.
"""
import pytest
import torch

from mnist_helpers.data import load_mnist_tensors
from lab.ladder import ladder_recipe, recipe, train_rung
from lab.together import train_together


def _data(n_train: int):
    images, labels = load_mnist_tensors("train")
    test_images, test_labels = load_mnist_tensors("test")
    return (images[:n_train], labels[:n_train]), (test_images[:500], test_labels[:500])


def largest_difference(a, b, skip: str = "") -> float:
    """The largest difference between the floating-point tensors of ``a`` and ``b`` whose names do not start with
    ``skip`` (when given)."""
    return max((x - y).abs().max().item() for (name, x), y in zip(a.state_dict().items(), b.state_dict().values())
               if x.is_floating_point() and not (skip and name.startswith(skip)))


def test_a_member_trained_together_equals_the_seed_trained_alone():
    """Part-3's model and recipe (augmentation, schedule, EMA) for two steps, one of them the last, smaller batch:
    each member's weights and averaged weights equal its seed's run alone to 1e-5 after the first convolution."""
    train, test = _data(200)
    r = recipe(**{**ladder_recipe("part3"), "EPOCHS": 1, "WARMUP_EPOCHS": 0.5, "FLOOR_EPOCH": 1, "GENTLE_EPOCHS": 0,
                  "CHANNELS_LAST": False})
    together = train_together(r, [7, 8], train, test, log=lambda line: None)
    for k, seed in enumerate((7, 8)):
        alone = train_rung(r, seed, {"train": train, "val": test}, keep=True)
        # the first convolution's gradient passes through the first max-pool, where two values equal to rounding
        # can be picked the other way: then one gradient lands on a neighbouring pixel (seed 8 here, 8e-5)
        assert largest_difference(alone["model"], together["model"].member(k), skip="conv1.") <= 1e-5
        assert largest_difference(alone["ema"].module, together["ema"].module.member(k), skip="conv1.") <= 1e-5
        assert largest_difference(alone["model"], together["model"].member(k)) <= 1e-3
        assert together["per_seed"][seed]["test_acc"] == alone["val_acc"]
    assert largest_difference(together["model"].member(0), together["model"].member(1)) > 1e-2  # two seeds
    assert together["params"] == alone["params"] == 7954


def test_distinct_seeds_are_needed():
    train, test = _data(200)
    with pytest.raises(ValueError, match="distinct"):
        train_together(ladder_recipe("part3"), [1, 1], train, test)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA (CI has none)")
def test_stacked_members_captured_as_cuda_graphs_train_as_without_capture():
    train, test = _data(200)
    r = recipe(**{**ladder_recipe("part3"), "EPOCHS": 2, "WARMUP_EPOCHS": 0.5, "FLOOR_EPOCH": 1, "GENTLE_EPOCHS": 1,
                  "CHANNELS_LAST": False})
    device = torch.device("cuda")
    graphed = train_together(r, [7, 8], train, test, device, capture=True, log=lambda line: None)
    eager = train_together(r, [7, 8], train, test, device, capture=False, log=lambda line: None)
    for k in (0, 1):
        assert largest_difference(graphed["model"].member(k), eager["model"].member(k)) <= 1e-4
