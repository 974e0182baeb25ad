"""Using the trained model: MNIST-style preprocessing, the saved model, ONNX, and the predict CLI."""
import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from mnist_helpers import TensorLoader
from mnist_helpers.digits import DigitImageError, ink_box, ink_on_dark, load_grayscale, mnist_style
from mnist_helpers.export import export_onnx, load_model
from mnist_helpers.paths import repo_root
from mnist_helpers.predict import main, predict_files
from mnist_helpers.results import load_results

ROOT = repo_root()
MODEL = ROOT / "models" / "part3.pt2"


def digit_image(test_split, index=0, scale=4, dark_on_light=True, canvas=(200, 160), at=(20, 30)):
    """An MNIST test digit, enlarged and placed off-centre on a bigger canvas."""
    digit = Image.fromarray(test_split.data[index].numpy()).resize((28 * scale, 28 * scale), Image.BILINEAR)
    page = Image.new("L", canvas, 0)
    page.paste(digit, at)
    return Image.fromarray(255 - np.asarray(page)) if dark_on_light else page


def centre_of_mass(image):
    rows, cols = np.indices(image.shape)
    return (rows * image).sum() / image.sum(), (cols * image).sum() / image.sum()


def test_dark_ink_on_light_paper_is_inverted_and_light_ink_is_not(test_split):
    light_page = np.asarray(digit_image(test_split, dark_on_light=True), dtype=float)
    dark_page = np.asarray(digit_image(test_split, dark_on_light=False), dtype=float)
    assert np.allclose(ink_on_dark(light_page), ink_on_dark(dark_page))
    assert np.allclose(mnist_style(light_page), mnist_style(dark_page))


def test_the_digit_is_centred_by_its_mass_and_fits_20_pixels(test_split):
    image = mnist_style(np.asarray(digit_image(test_split, at=(5, 40)), dtype=float))
    assert image.shape == (28, 28) and image.max() == pytest.approx(1.0)
    row, col = centre_of_mass(image)
    assert abs(row - 14) <= 0.5 and abs(col - 14) <= 0.5
    rows, cols = np.nonzero(image > 0.05)
    assert max(rows.max() - rows.min(), cols.max() - cols.min()) + 1 <= 21


def test_the_aspect_ratio_is_kept():
    page = np.full((100, 100), 255.0)
    page[10:90, 45:55] = 0  # a bar 80 high and 10 wide
    image = mnist_style(page)
    rows, cols = np.nonzero(image > 0.5)
    assert rows.max() - rows.min() + 1 == 20
    assert 2 <= cols.max() - cols.min() + 1 <= 3  # 10 * 20 / 80 = 2.5


def test_the_box_of_a_thin_stroke():
    page = np.zeros((60, 60))
    page[12:48, 30] = 200  # one pixel wide
    assert tuple(int(v) for v in ink_box(page)) == (12, 48, 30, 31)


def test_a_blank_image_has_no_ink():
    with pytest.raises(DigitImageError, match="no ink"):
        mnist_style(np.full((40, 40), 250.0))


def test_the_saved_model_gives_the_notebooks_test_accuracy(test_split):
    model, meta = load_model(MODEL)
    loader = TensorLoader(test_split.data, test_split.targets, 1000)
    correct = sum(int((model(x).argmax(1) == y).sum()) for x, y in loader)
    accuracy = 100.0 * correct / len(test_split)
    assert accuracy == meta["test_acc"] == load_results("part3", ROOT / "results")["final_test_acc"]
    assert meta["params"] == load_results("part3", ROOT / "results")["params"]


def test_onnx_predictions_equal_pytorchs_on_the_test_set(test_split, tmp_path):
    import onnxruntime as ort

    model, _ = load_model(MODEL)
    onnx_path = export_onnx(MODEL, tmp_path / "part3.onnx")
    session = ort.InferenceSession(str(onnx_path))
    name = session.get_inputs()[0].name
    x, _ = next(iter(TensorLoader(test_split.data, test_split.targets, len(test_split))))
    ours = model(x).argmax(1).numpy()
    theirs = session.run(None, {name: x.numpy()})[0].argmax(1)
    assert (ours == theirs).all()


def test_the_committed_onnx_file_matches_the_model(test_split):
    import onnxruntime as ort

    model, _ = load_model(MODEL)
    session = ort.InferenceSession(str(MODEL.with_suffix(".onnx")))
    x, _ = next(iter(TensorLoader(test_split.data[:2000], test_split.targets[:2000], 2000)))
    assert (model(x).argmax(1).numpy() == session.run(None, {session.get_inputs()[0].name: x.numpy()})[0].argmax(1)).all()


def test_re_drawn_test_digits_are_recognised(test_split, tmp_path):
    paths = []
    for i in range(40):
        path = tmp_path / f"d{i}.png"
        digit_image(test_split, i, scale=3 + i % 3, at=(10 + 3 * (i % 7), 5 + 4 * (i % 5))).save(path)
        paths.append(path)
    predictions = predict_files(paths, load_model(MODEL)[0])
    accuracy = np.mean([p.digit == int(test_split.targets[i]) for i, p in enumerate(predictions)])
    assert accuracy >= 0.95


@pytest.fixture
def bad_files(tmp_path, test_split):
    files = {}
    files["missing"] = tmp_path / "missing.png"
    files["text"] = tmp_path / "notes.png"
    files["text"].write_text("not an image")
    good = tmp_path / "good.png"
    digit_image(test_split).save(good)
    files["truncated"] = tmp_path / "truncated.png"
    files["truncated"].write_bytes(good.read_bytes()[:300])
    files["blank"] = tmp_path / "blank.png"
    Image.new("L", (64, 64), 255).save(files["blank"])
    files["huge"] = tmp_path / "huge.png"
    Image.new("1", (8000, 6000), 1).save(files["huge"])
    return good, files


def test_every_bad_file_gets_a_one_line_error_and_the_others_still_run(bad_files, tmp_path):
    good, files = bad_files
    rgba = Image.new("RGBA", (120, 120), (0, 0, 0, 0))
    rgba.paste(Image.new("RGBA", (12, 70), (0, 0, 0, 255)), (54, 25))  # a black "1" on a transparent page
    rgba.save(tmp_path / "alpha.png")
    Image.open(good).convert("P").save(tmp_path / "palette.png")
    args = [str(good), *(str(p) for p in files.values()), str(tmp_path / "alpha.png"), str(tmp_path / "palette.png")]
    run = subprocess.run([sys.executable, "-m", "mnist_helpers.predict", "--model", str(MODEL), "--json", *args],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    errors = [line for line in run.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == len(files)
    for kind, needle in [("missing", "no such file"), ("text", "not an image"), ("truncated", "could not read"),
                         ("blank", "no ink"), ("huge", "too large")]:
        assert any(str(files[kind]) in e and needle in e for e in errors), kind
    results = {r["file"]: r for r in json.loads(run.stdout)}
    assert results[str(good)]["digit"] == 7  # the first MNIST test digit
    assert results[str(tmp_path / "palette.png")]["digit"] == 7
    assert results[str(tmp_path / "alpha.png")]["digit"] == 1


def test_cli_text_output_and_saved_preprocessed_images(test_split, tmp_path, capsys):
    good = tmp_path / "seven.jpg"
    digit_image(test_split).convert("RGB").save(good, quality=90)
    assert main([str(good), "--model", str(MODEL), "--save-preprocessed", str(tmp_path / "seen")]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{good}: 7 (") and "top 3:" in out
    saved = np.asarray(Image.open(tmp_path / "seen" / "seven.png"))
    assert saved.shape == (28, 28) and saved.max() == 255


def test_cli_without_a_model_says_what_to_do(tmp_path, capsys):
    assert main(["x.png", "--model", str(tmp_path / "none.pt2")]) == 2
    assert "run the Part-3 notebook" in capsys.readouterr().err


def test_load_grayscale_refuses_a_folder(tmp_path):
    with pytest.raises(DigitImageError, match="folder"):
        load_grayscale(tmp_path)
