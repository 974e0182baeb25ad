import math

import pytest
import torch
from torch import nn

from mnist_helpers.tensor_loader import TensorLoader
from mnist_helpers.reproducibility import pick_device, seed_from_env, set_seed
from mnist_helpers.training import History, evaluate, fit, predict_labels


def small_cnn():
    return nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 3), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16 * 5 * 5, 10))


def run(train_split, test_split, seed, epochs=2):
    set_seed(seed)
    model = small_cnn()
    train = TensorLoader(train_split.data[:3000], train_split.targets[:3000], 64, shuffle=True, seed=seed)
    test = TensorLoader(test_split.data[:1000], test_split.targets[:1000], 500)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    return model, test, fit(model, train, test, opt, sched, epochs=epochs, verbose=False)


def test_fit_lowers_the_loss_and_beats_chance(train_split, test_split):
    model, test, history = run(train_split, test_split, seed=0, epochs=3)
    assert history.train_loss[-1] < history.train_loss[0] < math.log(10) + 0.1
    assert history.test_acc[-1] > 50.0  # chance is 10%
    assert history.lr == pytest.approx([0.05, 0.025, 0.0125])  # per-epoch scheduler stepped once per epoch
    assert set(history.to_dict()) >= {"train_loss", "train_acc", "test_loss", "test_acc", "lr", "epoch_seconds"}
    loss, acc = evaluate(model, test)
    assert acc == pytest.approx(history.test_acc[-1]) and loss == pytest.approx(history.test_loss[-1])
    preds, targets = predict_labels(model, test)
    assert (preds == targets).float().mean().item() * 100 == pytest.approx(acc)


def test_same_seed_gives_identical_history_on_cpu(train_split, test_split):
    strip = lambda h: {k: v for k, v in h.to_dict().items() if not k.endswith("seconds")}
    _, _, a = run(train_split, test_split, seed=5)
    _, _, b = run(train_split, test_split, seed=5)
    _, _, c = run(train_split, test_split, seed=6)
    assert strip(a) == strip(b)
    assert strip(a) != strip(c)


def test_before_epoch_runs_before_each_epoch_is_trained(test_split):
    from mnist_helpers.augment import RandomRotateCrop

    set_seed(0)
    model = small_cnn()
    loader = TensorLoader(test_split.data[:256], test_split.targets[:256], 128, shuffle=True,
                          augment=RandomRotateCrop(degrees=15, crop_prob=0.1))
    gentle = RandomRotateCrop(degrees=5, crop_prob=0.0)
    seen = []

    def gentler_at_the_end(epoch):
        seen.append((epoch, loader.augment.degrees))
        if epoch > 2:
            loader.augment = gentle

    fit(model, loader, loader, torch.optim.SGD(model.parameters(), lr=0.01), epochs=3, before_epoch=gentler_at_the_end,
        verbose=False)
    assert seen == [(1, 15), (2, 15), (3, 15)] and loader.augment is gentle
    with pytest.raises(TypeError, match="before_epoch must be a function"):
        fit(model, loader, loader, torch.optim.SGD(model.parameters(), lr=0.01), epochs=1, before_epoch=3,
            verbose=False)


def test_nan_loss_stops_training():
    class Broken(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.zeros(1))

        def forward(self, x):
            return torch.full((x.shape[0], 10), float("nan")) + self.w

    images, labels = torch.zeros(8, 28, 28, dtype=torch.uint8), torch.zeros(8, dtype=torch.long)
    loader = TensorLoader(images, labels, 4)
    model = Broken()
    with pytest.raises(FloatingPointError, match="lower the learning rate"):
        fit(model, loader, loader, torch.optim.SGD(model.parameters(), lr=0.1), epochs=1, verbose=False)


def test_one_cycle_is_stepped_per_batch(test_split):
    set_seed(0)
    model = small_cnn()
    loader = TensorLoader(test_split.data[:512], test_split.targets[:512], 128)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, epochs=2, steps_per_epoch=len(loader))
    fit(model, loader, loader, opt, sched, epochs=2, verbose=False)
    assert sched.last_epoch == 2 * len(loader)


def test_ema_weights_are_what_the_test_metrics_measure(test_split):
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    set_seed(0)
    model = small_cnn()
    ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.9), use_buffers=True)
    loader = TensorLoader(test_split.data[:1024], test_split.targets[:1024], 128, shuffle=True)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    history = fit(model, loader, loader, opt, epochs=2, ema=ema, verbose=False)
    assert int(ema.n_averaged) == 2 * len(loader)
    assert history.test_acc[-1] == pytest.approx(evaluate(ema, loader)[1])
    assert not torch.equal(next(ema.module.parameters()), next(model.parameters()))


def test_bad_arguments(monkeypatch):
    with pytest.raises(ValueError, match="epochs must be >= 1"):
        fit(small_cnn(), [], [], torch.optim.SGD(small_cnn().parameters(), lr=0.1), epochs=0)
    with pytest.raises(ValueError, match="label_smoothing must be in"):
        fit(small_cnn(), [], [], torch.optim.SGD(small_cnn().parameters(), lr=0.1), epochs=1, label_smoothing=1.0)
    monkeypatch.setenv("MNIST_SEED", "abc")
    with pytest.raises(ValueError, match="MNIST_SEED must be an integer"):
        seed_from_env(1)
    monkeypatch.setenv("MNIST_SEED", "42")
    assert seed_from_env(1) == 42
    assert pick_device().type in {"cpu", "cuda", "mps"}
    assert len(History()) == 0


def test_part1s_notebook_loop_and_the_package_loop_make_the_same_steps(train_split, test_split):
    """Part-1 writes its loop in a cell; Parts 2-4 use mnist_helpers.training. From the same weights and
    batches, both must leave exactly the same weights, and report the same loss and accuracy."""
    from scripts.notebook_code import notebook_functions, notebook_model
    from mnist_helpers.training import train_epoch

    notebook_train, notebook_test = notebook_functions("part1", "train", "test", device=torch.device("cpu"))
    models, results = [], []
    for loop in ("notebook", "package"):
        set_seed(3)
        model = notebook_model("part1")
        initial = [p.detach().clone() for p in model.parameters()]
        optimizer = torch.optim.SGD(model.parameters(), lr=0.02, momentum=0.9)
        loader = TensorLoader(train_split.data[:640], train_split.targets[:640], 128, shuffle=True, seed=3)
        if loop == "notebook":
            results.append(notebook_train(model, loader, optimizer))
        else:
            results.append(train_epoch(model, loader, optimizer))
        models.append(model)
    for a, b in zip(models[0].state_dict().values(), models[1].state_dict().values()):
        assert torch.equal(a, b)
    assert results[0][1] == results[1][1] and results[0][0] == pytest.approx(results[1][0], rel=1e-6)
    test = TensorLoader(test_split.data[:1000], test_split.targets[:1000], 500)
    loss, acc = notebook_test(models[0], test)
    assert (loss, acc) == pytest.approx(evaluate(models[1], test), rel=1e-6)
    assert all(not torch.equal(p, q) for p, q in zip(models[0].parameters(), initial))  # the steps did move them


def test_tqdm_disable_turns_off_the_notebook_progress_bar_too(monkeypatch):
    # tqdm's notebook bar ignores TQDM_DISABLE by itself; under nbval its messages overflow the kernel's queue.
    from tqdm.notebook import tqdm as notebook_tqdm
    from mnist_helpers import training

    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    assert not training.progress_bar(range(3), "train").disable
    monkeypatch.setattr(training, "tqdm", notebook_tqdm)
    monkeypatch.setenv("TQDM_DISABLE", "1")
    assert training.progress_bar(range(3), "train").disable
