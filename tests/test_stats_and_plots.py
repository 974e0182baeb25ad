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
