"""save_model writes the .pt2, the .onnx and the metadata as one consistent set."""
import json

import numpy as np
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
