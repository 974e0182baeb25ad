"""save_model writes the .pt2, the .onnx and the metadata as one consistent set."""
import json

import numpy as np
import pytest
import torch
from torch import nn

from mnist_helpers.export import load_model, save_model


def test_save_model_writes_pt2_onnx_and_json_of_the_same_weights(tmp_path):
    import onnxruntime as ort

    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 10))
    path = save_model(model, "tiny", {"params": 90}, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.json", "tiny.onnx", "tiny.pt2"]  # no temporary left
    x = torch.randn(5, 1, 28, 28)
    loaded, meta = load_model(path)
    assert meta["params"] == 90 and json.loads((tmp_path / "tiny.json").read_text())["params"] == 90
    session = ort.InferenceSession(str(tmp_path / "tiny.onnx"))
    onnx_out = session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]
    with torch.no_grad():
        expected = model(x).numpy()
        assert np.allclose(loaded(x).numpy(), expected, atol=1e-5)
    assert np.allclose(onnx_out, expected, atol=1e-5)


def test_a_failed_save_leaves_the_earlier_set_untouched(tmp_path, monkeypatch):
    import mnist_helpers.export as export

    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    save_model(model, "m", {"run": 1}, tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def broken(*args, **kwargs):
        raise RuntimeError("onnx export failed")

    monkeypatch.setattr(export, "export_onnx", broken)
    with torch.no_grad():
        model[1].weight.add_(1.0)
    try:
        save_model(model, "m", {"run": 2}, tmp_path)
    except RuntimeError as err:
        assert "onnx export failed" in str(err)
    else:
        raise AssertionError("save_model should have raised")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


class _Staged(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 3, 3, bias=False)
        self.pool = nn.MaxPool2d(2)
        self.block = nn.Sequential(nn.Conv2d(3, 5, 3, bias=False), nn.BatchNorm2d(5), nn.ReLU())
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(5, 10)

    def forward(self, x):
        x = self.block(self.pool(torch.relu(self.conv1(x))))
        return self.head(self.gap(x).flatten(1))


def test_stages_become_named_onnx_outputs_described_in_the_metadata(tmp_path):
    import onnxruntime as ort

    from mnist_helpers.export import load_model_with_stages
    from mnist_helpers.plots import stage_outputs

    torch.manual_seed(0)
    model = _Staged().eval()
    stages = {"conv1, ReLU, pool": model.pool, "block": model.block, "averages": model.gap}
    path = save_model(model, "staged", {"params": 1}, tmp_path, stages=stages, head=model.head)
    meta = json.loads((tmp_path / "staged.json").read_text())
    assert meta["outputs"] == ["logits", "stage_1", "stage_2", "stage_3"] and meta["name"] == "staged"
    assert [(s["label"], s["shape"]) for s in meta["stages"]] == [
        ("conv1, ReLU, pool", [3, 13, 13]), ("block", [5, 11, 11]), ("averages", [5, 1, 1])]
    assert np.allclose(meta["stages"][0]["kernels"], model.conv1.weight.detach().numpy(), atol=1e-6)
    assert np.allclose(meta["stages"][1]["kernels"], model.block[0].weight.detach().numpy(), atol=1e-6)
    assert meta["stages"][2]["kernels_of"] == "stage_2" and "kernels" not in meta["stages"][2]  # named once
    assert np.allclose(meta["head"]["weight"], model.head.weight.detach().numpy(), atol=1e-6)
    x = torch.randn(1, 1, 28, 28)
    session = ort.InferenceSession(str(tmp_path / "staged.onnx"))
    assert [o.name for o in session.get_outputs()] == meta["outputs"]
    onnx_out = session.run(None, {session.get_inputs()[0].name: x.numpy()})
    expected = stage_outputs(model, x, stages)
    with torch.no_grad():
        assert np.allclose(onnx_out[0], model(x).numpy(), atol=1e-5)
    for got, want in zip(onnx_out[1:], expected.values()):
        assert np.allclose(got[0], want.numpy(), atol=1e-5)
    logits_only, _ = load_model(path)  # the Python API returns the logits alone, stages or not
    with torch.no_grad():
        assert logits_only(x).shape == (1, 10)
        staged, _ = load_model_with_stages(path)
        assert [tuple(o.shape) for o in staged(x)] == [(1, 10), (1, 3, 13, 13), (1, 5, 11, 11), (1, 5, 1, 1)]


def test_stages_must_be_the_models_own_and_in_running_order(tmp_path):
    model = _Staged()
    with pytest.raises(ValueError, match="in the order the model runs them"):
        save_model(model, "m", {}, tmp_path, stages={"block": model.block, "pool": model.pool})
    with pytest.raises(ValueError, match="not a module of the model"):
        save_model(model, "m", {}, tmp_path, stages={"other": nn.ReLU()})
    with pytest.raises(ValueError, match="head must map"):
        save_model(model, "m", {}, tmp_path, stages={"pool": model.pool}, head=model.head)
    with pytest.raises(ValueError, match="give stages= as well"):
        save_model(model, "m", {}, tmp_path, head=model.head)
    assert not list(tmp_path.iterdir())
