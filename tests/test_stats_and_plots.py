import matplotlib.figure
import pytest
import torch

from mnist_helpers import plots
from mnist_helpers.stats import data_statistics
from mnist_helpers.training import History


def test_statistics_of_the_training_split(train_split):
    s = data_statistics(train_split)
    assert s.shape == (60000, 1, 28, 28)
    assert abs(s.mean) < 1e-3 and abs(s.std - 1) < 1e-3  # the constants are the train split's own
    assert s.min == pytest.approx(-0.1307 / 0.3081) and s.max == pytest.approx((1 - 0.1307) / 0.3081)
    assert sum(s.class_counts.values()) == 60000 and s.class_counts[1] == 6742
    assert "per class" in str(s)


def test_statistics_reject_bad_input():
    with pytest.raises(ValueError, match=r"\.data"):
        data_statistics([1, 2, 3])

    class Empty:
        data = torch.zeros(0, 28, 28, dtype=torch.uint8)
        targets = torch.zeros(0, dtype=torch.long)
    with pytest.raises(ValueError, match="empty"):
        data_statistics(Empty())


@pytest.fixture
def images_to_tmp(tmp_path, monkeypatch):
    monkeypatch.setattr(plots, "images_dir", lambda: tmp_path)
    return tmp_path


def test_every_plot_returns_a_figure_and_saves_a_png(test_split, images_to_tmp):
    x, y = test_split.data[:40], test_split.targets[:40]
    h = History(train_loss=[1.0, 0.5], train_acc=[80, 90], test_loss=[0.6, 0.4], test_acc=[85, 91],
                lr=[0.1, 0.01], epoch_seconds=[1, 1], test_seconds=[0.1, 0.1])
    preds = y.clone()
    preds[:5] = (preds[:5] + 1) % 10
    figures = {
        "grid.png": plots.sample_grid(x, y, n=16, save="grid.png"),
        "counts.png": plots.class_counts({i: i + 1 for i in range(10)}, save="counts.png"),
        "curves.png": plots.training_curves(h, target=88.0, save="curves.png"),
        "cm.png": plots.confusion_matrix(preds, y, save="cm.png"),
        "wrong.png": plots.misclassified(x, preds, y, save="wrong.png"),
    }
    for name, fig in figures.items():
        assert isinstance(fig, matplotlib.figure.Figure)
        assert (images_to_tmp / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "5 errors of 40" in figures["cm.png"].axes[0].get_title()
    accuracy, loss, lr = figures["curves.png"].axes  # accuracy and loss panels, plus the learning-rate axis
    assert [line.get_label() for line in accuracy.get_lines()][:3] == ["train", "test", "target 88%"]
    assert [line.get_label() for line in loss.get_lines()] == ["train (the training objective)", "test (cross-entropy)"]
    assert list(lr.get_lines()[0].get_ydata()) == [0.1, 0.01]


def test_plot_inputs_are_checked():
    with pytest.raises(ValueError, match="one channel"):
        plots.sample_grid(torch.zeros(2, 3, 28, 28), [0, 1])
    with pytest.raises(ValueError, match="history is empty"):
        plots.training_curves(History())
    with pytest.raises(ValueError, match="no misclassified"):
        plots.misclassified(torch.zeros(2, 28, 28), torch.tensor([1, 2]), torch.tensor([1, 2]))


def test_frontier_plot_and_own_digit_gallery(tmp_path, monkeypatch):
    import numpy as np
    from PIL import Image

    from mnist_helpers import plots
    from mnist_helpers.predict import Prediction

    monkeypatch.setenv("MNIST_IMAGES_DIR", str(tmp_path))
    points = [{"width": w, "params": int(8000 * w * w), "final_test_acc_mean": 99.0 + w / 2, "final_test_acc_std": 0.03,
               "worst_last5_min_test_acc": 98.9 + w / 2} for w in (0.5, 1.0, 0.7)]
    plots.frontier(points, {"Part-3": (7954, 99.44)}, save="frontier.png")
    assert (tmp_path / "frontier.png").is_file()
    other = [{**p, "c2": int(20 * p["width"])} for p in points[:2]]
    fig = plots.frontier({"width": points, "separable": other}, save="families.png")
    assert (tmp_path / "families.png").is_file()
    assert len(fig.axes[0].get_legend().get_texts()) == 5  # two lines per family and the target
    with pytest.raises(ValueError, match="no frontier points"):
        plots.frontier([])
    with pytest.raises(ValueError, match="no frontier points"):
        plots.frontier({"width": [], "separable": []})
    Image.new("L", (40, 30), 255).save(tmp_path / "d.png")
    shown = [Prediction(file=str(tmp_path / "d.png"), digit=3, probability=0.9, image=np.zeros((28, 28))),
             Prediction(file="missing.png", error="no such file")]
    plots.own_digit_predictions(shown, [3, None], save="own.png")
    assert (tmp_path / "own.png").is_file()


def test_the_accuracy_axis_shows_every_epoch_on_the_courses_shared_range():
    h = History(train_loss=[1.0, 0.5], train_acc=[86.0, 99.1], test_loss=[0.6, 0.4], test_acc=[97.5, 99.0],
                lr=[0.02, 0.02], epoch_seconds=[1, 1], test_seconds=[0.1, 0.1])
    accuracy = plots.training_curves(h).axes[0]
    assert accuracy.get_ylim() == pytest.approx(plots.ACC_RANGE)  # the same range for every part ...
    low = History(**{**h.to_dict(), "train_acc": [60.0, 99.1]})
    bottom, _ = plots.training_curves(low).axes[0].get_ylim()
    assert bottom < 60.0  # ... widened, never cut, when an epoch falls below it


def test_kernels_feature_maps_and_ladder_plots(images_to_tmp):
    from torch import nn

    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 6, 3))
    fig = plots.kernels(model[0].weight, save="k.png")
    assert len([ax for ax in fig.axes if ax.images]) == 4 and len(fig.axes) == 4 + 1  # four kernels, a colour bar
    with pytest.raises(ValueError, match="one input channel"):
        plots.kernels(model[3].weight)
    outputs = plots.stage_outputs(model, torch.randn(1, 1, 28, 28), {"pool": model[2], "conv2": model[3]})
    assert [tuple(o.shape) for o in outputs.values()] == [(4, 13, 13), (6, 11, 11)]
    fig = plots.feature_maps(model, torch.randn(1, 1, 28, 28), {"pool": model[2], "conv2": model[3]}, save="f.png")
    assert sum(1 for ax in fig.axes if ax.images) == 1 + 4 + 6  # the input, then every map of every stage
    assert not model[0]._forward_hooks  # the hooks are removed
    with pytest.raises(ValueError, match="did not run"):
        plots.stage_outputs(model, torch.randn(1, 1, 28, 28), {"unused": nn.ReLU()})
    runs = {"100": {"final_val_acc": 99.0, "last5_min_val_acc": 98.9}, "101": {"final_val_acc": 99.1, "last5_min_val_acc": 99.0}}
    ladder = {"part": "part2", "split": {"val_images": 10_000},
              "rungs": [{"rung": 0, "change": "base", "summary": {"final_val_acc_mean": 99.05, "worst_last5_min_val_acc": 98.9,
                                                                  "seeds": [100, 101]}, "per_seed": runs},
                        {"rung": 1, "change": "+ x", "summary": {"final_val_acc_mean": 99.2, "worst_last5_min_val_acc": 99.1,
                                                                 "seeds": [100, 101],
                                                                 "images_gained": {"mean": 15, "min": 10, "max": 20}},
                         "per_seed": runs}]}
    fig = plots.ladder(ladder, save="ladder.png")
    assert (images_to_tmp / "ladder.png").is_file() and len(fig.axes[1].patches) == 1
    with pytest.raises(ValueError, match="no measured rungs"):
        plots.ladder({**ladder, "rungs": [{"rung": 0, "change": "base"}]})
    gained = lambda *per_seed: {"summary": {"seeds": [100, 101, 102, 103, 104],  # noqa: E731
                                            "images_gained_last5": {"per_seed": list(per_seed)}}}
    study = {"part": "part3", "split": {"val_images": 10_000},
             "branches": [{"change": "EMA out (no EMA)", **gained(-3, -1, -2, 1, -4)},
                          {"change": "crop out (no crop)", **gained(2, 0, 1, -1, 3)}, {"change": "x out (not run)"}]}
    fig = plots.leave_one_out(study, save="loo.png")
    ax = fig.axes[0]
    assert (images_to_tmp / "loo.png").is_file() and [t.get_text() for t in ax.get_yticklabels()] == ["EMA", "crop"]
    assert [round(p.get_width(), 1) for p in ax.patches] == [1.8, -1.0]  # the mean cost of taking each out
    with pytest.raises(ValueError, match="no measured branches"):
        plots.leave_one_out({**study, "branches": study["branches"][2:]})


def test_results_give_accuracy_in_test_images_and_per_digit():
    from mnist_helpers.results import comparison_table, format_result, per_class_accuracy, per_class_text

    h = {"train_loss": [0.1], "train_acc": [99.0], "test_loss": [0.05], "test_acc": [98.87], "lr": [0.05],
         "epoch_seconds": [1.0], "test_seconds": [0.1]}
    run = {"params": 3746, "epochs": 1, "seed": 1, "history": h, "final_test_acc": 98.87, "best_test_acc": 98.87,
           "best_epoch": 1, "last5_min_test_acc": 98.87, "final_train_acc": 99.0, "seconds_per_epoch": 1.0, "device": "cpu"}
    assert "(9,887 of the 10,000 test images right)" in format_result(run)
    assert "9,887" in comparison_table({"Part-2": run})
    preds, targets = torch.tensor([0, 1, 1, 2, 2, 2]), torch.tensor([0, 1, 2, 2, 2, 1])
    per = per_class_accuracy(preds, targets)
    assert per[2] == {"right": 2, "total": 3, "acc": pytest.approx(200 / 3)} and per[0]["acc"] == 100.0
    rows = per_class_text(per).splitlines()
    assert rows[1].split()[0] == "1" and rows[1].split()[2] == "1"  # digit 1 is the worst: 1 wrong of 2
    assert per[5]["total"] == 0


def test_a_run_that_never_trained_is_named_and_the_other_seeds_are_summed_without_it():
    from mnist_helpers.results import ladder_effect

    def run(final, first=None):
        return {"final_val_acc": final, "val_acc": [first or final, final, final]}

    base = {"rung": 0, "change": "base", "per_seed": {"1": run(98.0), "2": run(98.0), "3": run(98.0)}}
    branch = {"branch": 0, "change": "a higher rate", "base": 0,
              "per_seed": {"1": run(97.9), "2": run(11.0, first=10.5), "3": run(97.5)},
              "summary": {"images_gained": {"mean": -2903.3, "min": -8700, "max": -10, "per_seed": [-10, -8700, -50]}}}
    text = ladder_effect({"part": "part2", "rungs": [base], "branches": [branch]}, branch=0)
    assert "1 of those runs never trained" in text and "seed 2: 10.50%, 11.00%, 11.00% ... 11.00%" in text
    assert text.endswith("On the other 2 seeds: cost 30 validation images on average, on each of the 2 seeds (from 10 to 50)")
    branch["per_seed"]["2"] = run(97.0)
    assert "never trained" not in ladder_effect({"part": "part2", "rungs": [base], "branches": [branch]}, branch=0)
