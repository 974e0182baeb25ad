"""Using the trained model: MNIST-style preprocessing, the saved model, ONNX, and the predict CLI."""
import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from mnist_helpers import TensorLoader
from mnist_helpers.digits import (DigitImageError, ink_and_evidence, ink_box, ink_on_dark, ink_threshold, load_grayscale,
                                   mnist_style)
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


# A handwritten-looking 2, 4 and 7 as pen strokes: (x, y) points on a 280x280 square, one list per stroke.
PEN_DIGITS = {
    2: [[(86, 92), (100, 62), (130, 48), (165, 54), (186, 82), (180, 118), (150, 156), (115, 192), (84, 226),
         (130, 224), (175, 226), (205, 228)]],
    4: [[(160, 46), (132, 100), (100, 150), (82, 176), (130, 176), (180, 174), (206, 172)],
        [(170, 108), (169, 150), (168, 190), (167, 236)]],
    7: [[(78, 62), (120, 60), (165, 58), (204, 60), (184, 100), (160, 145), (140, 190), (126, 236)]],
}


def shaded_photo(strokes, size=(2000, 1500), pen=4, at=(450, 120), scale=4.4, seed=0, ink_level=30, noise=3):
    """A photo-like page: a thin dark pen line on paper darkening to the right and down, with a shadow blob."""
    width, height = size
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float64)
    paper = 238 - 60 * cols / width - 25 * rows / height
    paper -= 95 * np.exp(-(((cols - 0.32 * width) / (0.22 * width)) ** 2 + ((rows - 0.7 * height) / (0.3 * height)) ** 2))
    ink = Image.new("L", size, 0)
    draw = ImageDraw.Draw(ink)
    for stroke in strokes:
        draw.line([(at[0] + scale * x, at[1] + scale * y) for x, y in stroke], fill=255, width=pen, joint="curve")
    cover = np.asarray(ink, dtype=np.float64) / 255
    grain = np.random.default_rng(seed).normal(0, noise, paper.shape)
    return np.clip(paper * (1 - cover) + ink_level * cover + grain, 0, 255)


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


@pytest.mark.parametrize("pen", [3, 4])
def test_a_thin_pen_line_on_shaded_paper_is_recognised(pen, tmp_path):
    paths = []
    for digit, strokes in PEN_DIGITS.items():
        paths.append(tmp_path / f"pen{digit}.jpg")
        Image.fromarray(shaded_photo(strokes, pen=pen).astype(np.uint8)).save(paths[-1], quality=90)
    predictions = predict_files(paths, load_model(MODEL)[0])
    assert [p.digit for p in predictions] == list(PEN_DIGITS)


@pytest.mark.parametrize("digit", sorted(PEN_DIGITS))
def test_a_grey_pen_on_a_grainy_photo_is_recognised(digit, tmp_path):
    """A mid-grey 3-pixel line on a large, shaded and grainy photo: the grain alone reaches a fifth of the ink's
    contrast, so only a threshold above the noise keeps the box on the digit."""
    path = tmp_path / f"grey{digit}.jpg"
    page = shaded_photo(PEN_DIGITS[digit], size=(3000, 2200), pen=3, at=(1300, 700), scale=3.0, ink_level=100, noise=4)
    Image.fromarray(page.astype(np.uint8)).save(path, quality=80)
    prediction, = predict_files([path], load_model(MODEL)[0])
    assert prediction.digit == digit


def test_an_isolated_speck_does_not_stretch_the_box():
    page = np.full((300, 300), 240.0)
    page[100:200, 150:153] = 20.0   # the stroke
    page[10, 10] = 20.0             # a speck of dust far from it
    assert tuple(int(v) for v in ink_box(ink_on_dark(page))) == (100, 200, 150, 153)


def test_a_blank_grainy_photo_has_no_ink():
    blank = 200 + np.random.default_rng(1).normal(0, 6, (1200, 1600))
    with pytest.raises(DigitImageError, match="no ink"):
        mnist_style(np.clip(blank, 0, 255))


def test_shadows_stay_out_of_the_box():
    page = shaded_photo(PEN_DIGITS[7], pen=4)
    top, bottom, left, right = (int(v) for v in ink_box(ink_on_dark(page)))
    rows = [120 + 4.4 * y for _, y in PEN_DIGITS[7][0]]
    cols = [450 + 4.4 * x for x, _ in PEN_DIGITS[7][0]]
    assert abs(top - min(rows)) <= 4 and abs(bottom - max(rows)) <= 4
    assert abs(left - min(cols)) <= 4 and abs(right - max(cols)) <= 4


def test_a_thin_stroke_keeps_mnists_contrast_and_width():
    image = mnist_style(shaded_photo(PEN_DIGITS[7], pen=3))
    assert image.max() == pytest.approx(1.0)
    assert (image > 0.5).sum() >= 40  # MNIST test 7s: 47-128 (5th-95th percentile), this one 74


def test_a_heic_photo_is_read(tmp_path):
    import pillow_heif

    page = Image.fromarray(shaded_photo(PEN_DIGITS[4], size=(1000, 750), pen=3, at=(200, 40), scale=2.4).astype(np.uint8))
    path = tmp_path / "photo.heic"
    pillow_heif.from_pillow(page.convert("RGB")).save(path, quality=90)
    assert np.abs(load_grayscale(path) - np.asarray(page, dtype=np.float64)).mean() < 3
    assert predict_files([path], load_model(MODEL)[0])[0].digit == 4


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
    for kind, needle in [("missing", "no such file"), ("text", "expected PNG, JPEG or HEIC"), ("truncated", "could not read"),
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


def test_a_hard_edged_shadow_stays_out_of_the_box():
    """The shadow of a phone across part of the page: darker than the paper, sharp-edged, and far too wide to be a
    stroke, so the paper is not taken as flat and the shadow does not become ink."""
    width, height = 1600, 1200
    ink = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(ink)
    draw.line([(200 + 3.5 * x, 150 + 3.5 * y) for x, y in PEN_DIGITS[7][0]], fill=255, width=5, joint="curve")
    paper = np.full((height, width), 225.0)
    paper[:, 1100:] = 140  # the shadow, right of the digit
    cover = np.asarray(ink, dtype=np.float64) / 255
    page = np.clip(paper * (1 - cover) + 30 * cover + np.random.default_rng(0).normal(0, 2, paper.shape), 0, 255)
    ink_map, evidence = ink_and_evidence(page)
    top, bottom, left, right = (int(v) for v in ink_box(evidence, ink_threshold(evidence)))
    cols = [200 + 3.5 * x for x, _ in PEN_DIGITS[7][0]]
    assert abs(left - min(cols)) <= 6 and abs(right - max(cols)) <= 6, (left, right, min(cols), max(cols))
