"""The draw-a-digit page (docs/index.html) in headless Chromium, served by ``python -m mnist_helpers.web``.

Needs Debian's Chromium (``apt-get install chromium``), the Python ``playwright`` package
(requirements.txt) and onnxruntime-web's files in docs/ort/ (``bash docs/build.sh``).
Without them these tests are skipped, saying what to install; in CI (``$CI`` set) they fail instead.
"""
import functools
import http.client
import os
import shutil
import threading
import time
import warnings
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest

from mnist_helpers import web
from mnist_helpers.digits import mnist_style, to_model_input
from mnist_helpers.paths import repo_root

ROOT = repo_root()
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
# The page's JavaScript preprocessing (docs/digits.js) repeats digits.py step for step, with Pillow's
# LANCZOS resampling written out; on the same canvas pixels the two 28x28 images differ by float rounding
# only. Measured mean absolute difference: at most 1.3e-9 (of 1; Chromium 156, Pillow 13.0), so the
# bound below is float rounding with room to spare, not a tolerance for a different algorithm.
MAX_MEAN_PIXEL_DIFFERENCE = 1e-5

# Handwritten-looking strokes on the 280x280 pad: lists of (x, y) points, one list per stroke.
DIGIT_STROKES = {
    0: [[(140, 48), (112, 56), (92, 80), (82, 115), (80, 150), (86, 185), (104, 215), (130, 232), (156, 230),
         (180, 212), (196, 180), (200, 140), (194, 100), (178, 68), (158, 50), (138, 47)]],
    1: [[(132, 62), (148, 48), (147, 80), (145, 120), (144, 160), (142, 200), (141, 234)]],
    2: [[(86, 92), (100, 62), (130, 48), (165, 54), (186, 82), (180, 118), (150, 156), (115, 192), (84, 226),
         (130, 224), (175, 226), (205, 228)]],
    4: [[(160, 46), (132, 100), (100, 150), (82, 176), (130, 176), (180, 174), (206, 172)],
        [(170, 108), (169, 150), (168, 190), (167, 236)]],
    7: [[(78, 62), (120, 60), (165, 58), (204, 60), (184, 100), (160, 145), (140, 190), (126, 236)]],
}


def _missing(reason):
    """Fail in CI; elsewhere skip, with a warning so that the reason shows in pytest's summary without -rs."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so this is an error, not a skip)")
    warnings.warn(f"browser tests of docs/index.html skipped: {reason}", pytest.PytestWarning, stacklevel=2)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def served_page():
    if not Path(CHROMIUM).is_file():
        _missing(f"{CHROMIUM} not found: install Debian's Chromium (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package is missing: pip install -r requirements.txt")
    try:
        server, url = web.start_in_thread(port=0, models=ROOT / "models")  # the committed model
    except web.PageError as err:
        _missing(str(err))
    requests, failed = [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1100, "height": 800})
        page.on("request", lambda request: requests.append(request.url))
        page.on("response", lambda response: failed.append(response.url) if response.status >= 400 else None)
        page.goto(url)
        page.wait_for_selector("body[data-ready]", timeout=30_000)
        yield browser, page, url, requests, failed
        browser.close()
    server.shutdown()
    server.server_close()


@pytest.fixture
def page(served_page):
    page = served_page[1]
    page.click("#clear")
    wait_for_prediction(page, 0)
    return page


def draw(page, strokes):
    box = page.locator("#pad").bounding_box()
    scale = box["width"] / 280
    for stroke in strokes:
        x0, y0 = stroke[0]
        page.mouse.move(box["x"] + x0 * scale, box["y"] + y0 * scale)
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(box["x"] + x * scale, box["y"] + y * scale, steps=4)
        page.mouse.up()


def wait_for_prediction(page, strokes):
    """Wait until the prediction shown is the one for ``strokes`` strokes and none is being computed."""
    page.wait_for_function(
        "n => !document.body.hasAttribute('data-busy') && document.getElementById('pad').dataset.strokes === String(n)"
        " && document.getElementById('prediction').dataset.forStrokes === String(n)", arg=strokes, timeout=10_000)


def shown(page):
    return page.evaluate("""() => ({
        digit: document.getElementById('prediction').getAttribute('data-digit'),
        message: document.getElementById('message').textContent,
        probs: [...document.querySelectorAll('[data-prob]')].map(e => Number(e.dataset.prob)),
        input: window.lastInput,
    })""")


def canvas_gray(page):
    """The pad's pixels as the grayscale array Pillow's convert('L') makes of them (the pen is black on white)."""
    rgba = page.evaluate("() => { const c = document.getElementById('pad');"
                         " return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data); }")
    rgba = np.asarray(rgba, dtype=np.int64).reshape(280, 280, 4)
    return ((rgba[..., 0] * 19595 + rgba[..., 1] * 38470 + rgba[..., 2] * 7471 + 0x8000) >> 16).astype(np.float64)


def test_a_blank_pad_gives_a_message_and_no_digit(page):
    result = shown(page)
    assert result["digit"] == ""
    assert "Draw a digit" in result["message"]
    assert result["probs"] == []


@pytest.mark.parametrize("digit", sorted(DIGIT_STROKES))
def test_a_drawn_digit_is_recognised(page, digit):
    draw(page, DIGIT_STROKES[digit])
    wait_for_prediction(page, len(DIGIT_STROKES[digit]))
    result = shown(page)
    assert result["digit"] == str(digit), result["message"]
    assert len(result["probs"]) == 10 and sum(result["probs"]) == pytest.approx(1.0, abs=1e-5)
    assert int(np.argmax(result["probs"])) == digit


def test_clear_empties_the_prediction(page):
    draw(page, DIGIT_STROKES[7])
    wait_for_prediction(page, 1)
    assert shown(page)["digit"] == "7"
    page.click("#clear")
    wait_for_prediction(page, 0)
    result = shown(page)
    assert result["digit"] == "" and result["probs"] == [] and result["input"] is None


def test_undo_removes_the_last_stroke(page):
    first, second = DIGIT_STROKES[4]
    draw(page, [first])
    wait_for_prediction(page, 1)
    only_first = shown(page)["input"]
    draw(page, [second])
    wait_for_prediction(page, 2)
    assert shown(page)["digit"] == "4"
    page.click("#undo")
    wait_for_prediction(page, 1)
    assert shown(page)["input"] == only_first


def test_a_tiny_stroke_is_too_small_to_read(page):
    draw(page, [[(140, 140), (143, 144), (146, 141)]])
    wait_for_prediction(page, 1)
    result = shown(page)
    assert result["digit"] == "" and result["probs"] == []
    assert "Too small" in result["message"]


@pytest.mark.parametrize("digit", sorted(DIGIT_STROKES))
def test_the_pages_preprocessing_matches_python(page, digit):
    import onnxruntime as ort

    draw(page, DIGIT_STROKES[digit])
    wait_for_prediction(page, len(DIGIT_STROKES[digit]))
    result = shown(page)
    theirs = np.asarray(result["input"], dtype=np.float64).reshape(28, 28)
    ours = mnist_style(canvas_gray(page))
    difference = np.abs(ours - theirs).mean()
    print(f"digit {digit}: mean absolute pixel difference JS vs Python {difference:.2e}")
    assert difference < MAX_MEAN_PIXEL_DIFFERENCE
    session = ort.InferenceSession(str(ROOT / "models" / "part3.onnx"))
    logits = session.run(None, {session.get_inputs()[0].name: to_model_input(ours[None]).numpy()})[0]
    assert str(int(logits.argmax())) == result["digit"]


@pytest.mark.parametrize("digit, light_ink", [(2, False), (4, True)])
def test_thin_strokes_on_a_large_image_are_prepared_as_in_python(page, digit, light_ink):
    """Not drawable with the page's pen, but the same code: Otsu's box, thickening, restoring the contrast."""
    from PIL import Image, ImageDraw

    image = Image.new("L", (520, 470), 20 if light_ink else 235)
    pen = ImageDraw.Draw(image)
    for stroke in DIGIT_STROKES[digit]:
        pen.line([(40 + 1.6 * x, 10 + 1.6 * y) for x, y in stroke], fill=230 if light_ink else 30, width=3, joint="curve")
    gray = np.asarray(image, dtype=np.float64)
    theirs = page.evaluate("([w, h, data]) => Array.from(MnistDigits.mnistStyle({width: w, height: h,"
                           " data: Float64Array.from(data)}).image)", [gray.shape[1], gray.shape[0], gray.ravel().tolist()])
    ours = mnist_style(gray)
    difference = np.abs(ours - np.asarray(theirs).reshape(28, 28)).mean()
    print(f"thin {digit}: mean absolute pixel difference JS vs Python {difference:.2e}")
    assert difference < MAX_MEAN_PIXEL_DIFFERENCE


def test_a_digit_drawn_off_the_edge_of_the_pad_is_prepared_as_in_python(page):
    """Strokes that run along and off the canvas's edge: digits.py judges the page with a margin of paper around it, finds it flat,
    and so prepares it as the page does (which only knows flat paper)."""
    from PIL import Image, ImageDraw

    image = Image.new("L", (280, 280), 255)
    pen = ImageDraw.Draw(image)
    pen.line([(40, 4), (230, 4), (150, 290)], fill=0, width=20, joint="curve")  # a 7: its bar along the top edge
    gray = np.asarray(image, dtype=np.float64)
    theirs = page.evaluate("([w, h, data]) => Array.from(MnistDigits.mnistStyle({width: w, height: h,"
                           " data: Float64Array.from(data)}).image)", [gray.shape[1], gray.shape[0], gray.ravel().tolist()])
    difference = np.abs(mnist_style(gray) - np.asarray(theirs).reshape(28, 28)).mean()
    assert difference < MAX_MEAN_PIXEL_DIFFERENCE, difference


def test_a_model_that_cannot_be_fetched_is_reported_in_words(served_page):
    browser, _, url, _, _ = served_page
    page = browser.new_page()
    page.route("**/*.onnx", lambda route: route.fulfill(status=404, body="not here"))
    page.goto(url)
    page.wait_for_selector("body[data-error]", timeout=30_000)
    status = page.text_content("#status")
    page.close()
    assert "could not fetch the model" in status and "HTTP 404" in status
    assert "python -m mnist_helpers.web" in status


def test_the_page_made_no_request_outside_127_0_0_1(served_page):
    requests = served_page[3]
    assert any(u.endswith("/ort-wasm-simd-threaded.wasm") for u in requests)
    assert any(u.endswith("/models/part3.onnx") for u in requests)
    outside = [u for u in requests if urlparse(u).hostname != "127.0.0.1"]
    assert outside == []
    assert served_page[4] == []  # and none failed: the model was looked for where it is first


class StaticSite(SimpleHTTPRequestHandler):
    """Every file of ``directory``, with the types that web.py gives the page's files."""

    extensions_map = web.QuietHandler.extensions_map

    def log_message(self, format, *args):  # noqa: A002 - the name http.server uses
        pass


def test_the_page_finds_the_model_next_to_itself_as_on_github_pages(served_page, tmp_path):
    """The Pages workflow publishes docs/ with part3.onnx and part3.json copied into it, and the page at the
    site's root. GitHub Pages serves every file of that folder, as a plain static server does."""
    site = tmp_path / "site"
    shutil.copytree(ROOT / "docs", site, ignore=shutil.ignore_patterns("part3.onnx", "part3.json"))
    shutil.copy(ROOT / "models" / "part3.onnx", site / "part3.onnx")
    shutil.copy(ROOT / "models" / "part3.json", site / "part3.json")
    assert "cp models/part3.onnx models/part3.json docs/" in (ROOT / ".github/workflows/pages.yml").read_text()
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(StaticSite, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    page = served_page[0].new_page()
    requests, failed = [], []
    page.on("request", lambda request: requests.append(urlparse(request.url).path))
    page.on("response", lambda response: failed.append(response.url) if response.status >= 400 else None)
    try:
        page.goto(f"http://127.0.0.1:{server.server_address[1]}/")
        page.wait_for_selector("body[data-ready]", timeout=30_000)
        draw(page, DIGIT_STROKES[7])
        wait_for_prediction(page, 1)
        assert shown(page)["digit"] == "7"
    finally:
        page.close()
        server.shutdown()
        server.server_close()
    assert "/part3.onnx" in requests and failed == []


def test_missing_ort_files_name_the_command_that_makes_them(tmp_path):
    (tmp_path / "docs").mkdir()
    with pytest.raises(web.PageError, match="bash docs/build.sh"):
        web.check_page(tmp_path)


def test_models_are_served_from_the_models_folder_and_nothing_else_from_it(tmp_path):
    import urllib.error
    import urllib.request

    models = tmp_path / "elsewhere"
    (models / "sub").mkdir(parents=True)
    (models / "part3.onnx").write_bytes(b"my model")
    (models / "sub" / "secret.txt").write_bytes(b"no")
    server = web.make_server(ROOT, 0, models)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        assert urllib.request.urlopen(f"{base}/models/part3.onnx", timeout=10).read() == b"my model"
        for bad in ("/models/sub/secret.txt", "/models/", "/models/../../etc/passwd", "/models/%2e%2e/%2e%2e/etc/passwd"):
            with pytest.raises(urllib.error.HTTPError):
                urllib.request.urlopen(base + bad, timeout=10)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def repository_server():
    """The port of ``web.make_server`` serving this repository and its models/, in a thread."""
    server = web.make_server(ROOT, 0, ROOT / "models")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def get(port, path, host="default"):
    """``(status, body)`` of GET ``path`` from 127.0.0.1:``port`` with that Host header (None: no Host header)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.putrequest("GET", path, skip_host=True)
        if host is not None:
            connection.putheader("Host", f"127.0.0.1:{port}" if host == "default" else host)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_the_page_its_runtime_and_the_models_are_served(repository_server):
    port = repository_server
    files = ["docs/index.html", "docs/style.css", "docs/app.js", "docs/digits.js", "docs/layers.js",
             "models/part3.onnx", "models/part3.json"]
    files += [f"docs/ort/{name}" for name in web.ORT_FILES if (ROOT / "docs/ort" / name).is_file()]  # once built
    for file in files:
        assert get(port, f"/{file}") == (200, (ROOT / file).read_bytes()), file
    assert get(port, "/docs/") == (200, (ROOT / "docs/index.html").read_bytes())
    assert get(port, "/models/part3.onnx", host=f"localhost:{port}") == (200, (ROOT / "models/part3.onnx").read_bytes())
    status, body = get(port, "/models/index.json")
    assert status == 200 and b'"part3.onnx"' in body


def test_nothing_else_of_the_repository_is_served(repository_server):
    port = repository_server
    for file in ("README.md", "pyproject.toml", "mnist_helpers/web.py", "docs/development.md",
                 "docs/package.json", "docs/build.sh", "models/part3.pt2"):
        assert (ROOT / file).is_file(), file  # each exists, so a 404 is the allow-list's doing
    assert (ROOT / ".git").exists()  # a clone's folder, or a worktree's file
    for path in ("/.git/HEAD", "/.git/config", "/README.md", "/pyproject.toml", "/mnist_helpers/web.py",
                 "/docs/development.md", "/docs/package.json", "/docs/build.sh", "/models/part3.pt2",
                 "/.venv/pyvenv.cfg", "/data/", "/", "/docs", "/docs/node_modules/onnxruntime-web/package.json", "/models/",
                 "/docs/../README.md", "/docs/ort/../../pyproject.toml", "/models/../README.md",
                 "/docs/%2e%2e/README.md", "/docs/..%2fREADME.md", "/models/%2e%2e%2fmodels%2fpart3.json",
                 "/docs/ort/%2e%2e/%2e%2e/.git/HEAD", "/docs/index.html/"):
        status, body = get(port, path)
        assert status == 404, path
        assert body.startswith(b"404 "), body


def test_a_request_for_another_host_is_refused(repository_server):
    port = repository_server
    for host in (f"evil.example:{port}", "127.0.0.1", f"127.0.0.1:{port + 1}", f"localhost.evil.example:{port}", None):
        for path in ("/docs/index.html", "/models/part3.onnx", "/models/index.json", "/README.md"):
            status, body = get(port, path, host=host)
            assert status == 403 and f"127.0.0.1:{port}".encode() in body, (host, path, status)
    assert get(port, "/docs/index.html")[0] == 200  # with the right Host, the same server answers


def test_a_missing_or_stale_onnx_file_asks_for_the_export(tmp_path, monkeypatch):
    (tmp_path / "docs" / "ort").mkdir(parents=True)
    for name in web.ORT_FILES:
        (tmp_path / "docs" / "ort" / name).touch()
    models = tmp_path / "models"
    models.mkdir()
    monkeypatch.setenv("MNIST_MODELS_DIR", str(models))
    (models / "part3.pt2").write_bytes(b"model")
    with pytest.raises(web.PageError, match="python -m mnist_helpers.export"):
        web.check_page(tmp_path)
    (models / "part3.onnx").write_bytes(b"onnx")
    now = time.time()
    os.utime(models / "part3.onnx", (now, now))
    os.utime(models / "part3.pt2", (now + web.STALE_AFTER_S - 1, now + web.STALE_AFTER_S - 1))
    web.check_page(tmp_path)  # as a fresh clone may leave them: written within moments, in any order
    os.utime(models / "part3.pt2", (now + web.STALE_AFTER_S + 1, now + web.STALE_AFTER_S + 1))
    with pytest.raises(web.PageError, match="older than"):
        web.check_page(tmp_path)


def test_the_command_prints_the_url_and_serves_the_page_and_the_model():
    import subprocess
    import sys
    import urllib.request

    try:
        web.check_page(ROOT, ROOT / "models")
    except web.PageError as err:
        _missing(str(err))
    server = subprocess.Popen([sys.executable, "-m", "mnist_helpers.web", "--no-browser", "--port", "0",
                               "--models", str(ROOT / "models")],
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = server.stdout.readline()
        assert first.startswith("The draw-a-digit page: http://127.0.0.1:"), first + server.stderr.read()
        url = first.split(": ", 1)[1].strip()
        assert b'id="pad"' in urllib.request.urlopen(url, timeout=10).read()
        model = urllib.request.urlopen(url.replace("docs/index.html", "models/part3.onnx"), timeout=10)
        assert model.read() == (ROOT / "models" / "part3.onnx").read_bytes()
    finally:
        server.terminate()
        server.wait(timeout=10)


# ---- What every layer sees -------------------------------------------------------------------------------------
# The page's maps are onnxruntime-web's outputs of the exported model; PyTorch's are the same stages of the saved
# program (load_model_with_stages). Measured largest absolute difference over all stages and digits: 2.1e-6
# (float32 rounding in a different order), so the bound is float rounding with room, not a different computation.
MAX_STAGE_DIFFERENCE = 1e-4


def _meta(name="part3"):
    import json

    return json.loads((ROOT / "models" / f"{name}.json").read_text(encoding="utf-8"))


def _stage_grids(page):
    return page.evaluate("""() => [...document.querySelectorAll('#layers [data-stage]')].map(e => ({
        stage: e.dataset.stage, canvases: e.querySelectorAll('canvas').length,
        sizes: [...e.querySelectorAll('canvas')].map(c => [c.height, c.width])}))""")


@pytest.mark.parametrize("digit", [2, 7])
def test_every_stage_is_drawn_and_equals_pytorchs_activations(page, digit):
    import torch

    from mnist_helpers.export import load_model_with_stages

    meta = _meta()
    grids = _stage_grids(page)
    assert [g["stage"] for g in grids] == [s["name"] for s in meta["stages"]]
    for grid, stage in zip(grids, meta["stages"]):
        channels, h, w = stage["shape"]
        assert grid["canvases"] == channels and set(map(tuple, grid["sizes"])) == {(h, w)}
    draw(page, DIGIT_STROKES[digit])
    wait_for_prediction(page, len(DIGIT_STROKES[digit]))
    result = page.evaluate("() => ({input: window.lastInput, stages: window.lastStages})")
    model, _ = load_model_with_stages(ROOT / "models" / "part3.pt2")
    with torch.no_grad():
        outputs = model(to_model_input(np.asarray(result["input"]).reshape(1, 28, 28)))
    worst = 0.0
    for stage, ours in zip(meta["stages"], outputs[1:]):
        theirs = np.asarray(result["stages"][stage["name"]], dtype=np.float32).reshape(ours.shape)
        worst = max(worst, float(np.abs(theirs - ours.numpy()).max()))
    print(f"digit {digit}: largest stage difference page vs PyTorch {worst:.1e}")
    assert worst < MAX_STAGE_DIFFERENCE


def test_a_map_shows_its_kernels_and_a_bar_which_averages_fed_it(page):
    meta = _meta()
    draw(page, DIGIT_STROKES[7])
    wait_for_prediction(page, 1)
    second = meta["stages"][1]
    page.click(f'#layers [data-stage="{second["name"]}"] canvas >> nth=3')
    view = page.evaluate("""() => { const v = document.getElementById('kernel-view');
        return {hidden: v.hidden, stage: v.dataset.stage, channel: v.dataset.channel,
                kernels: v.querySelectorAll('.kernel-grid canvas').length, title: v.querySelector('h3').textContent}; }""")
    assert not view["hidden"] and view["stage"] == second["name"] and view["channel"] == "3"
    assert view["kernels"] == len(second["kernels"][3]) and second["label"] in view["title"]
    page.hover('.bar[data-digit="3"]')
    why = page.text_content("#why")
    assert why.startswith("Score of 3:") and "Fed most by average" in why
    assert page.evaluate("document.querySelectorAll('#layers canvas.fed').length") == 3


def _probs(page):
    return np.asarray(shown(page)["probs"])


def test_the_model_picker_lists_the_saved_models_and_the_prediction_follows_the_choice(served_page):
    import onnxruntime as ort

    page = served_page[1]
    options = page.evaluate("[...document.querySelectorAll('#model-pick option')].map(o => o.value)")
    saved = sorted(p.stem for p in (ROOT / "models").glob("*.onnx"))
    assert options[0] == "part3" and sorted(options) == saved and {"part1", "part2", "part4", "part5"} <= set(saved)
    page.click("#clear")
    wait_for_prediction(page, 0)
    draw(page, DIGIT_STROKES[4])
    wait_for_prediction(page, 2)
    before = _probs(page)
    try:
        page.select_option("#model-pick", "part1")
        page.wait_for_function("document.body.dataset.model === 'part1' && !document.body.hasAttribute('data-busy')")
        wait_for_prediction(page, 2)
        after = _probs(page)
        assert len(_stage_grids(page)) == len(_meta("part1")["stages"])
        image = np.asarray(shown(page)["input"]).reshape(1, 28, 28)
        log = lambda p: np.log(np.clip(p, 1e-30, None))  # noqa: E731  (two sure models differ in their small odds)
        for name, probs in (("part3", before), ("part1", after)):
            session = ort.InferenceSession(str(ROOT / "models" / f"{name}.onnx"))
            logits = session.run(["logits"], {session.get_inputs()[0].name: to_model_input(image).numpy()})[0][0]
            expected = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
            assert np.allclose(probs, expected, atol=1e-5), name  # each model's own prediction ...
            assert np.allclose(log(probs), log(expected), atol=1e-2), name  # ... down to its smallest odds ...
        assert np.abs(log(before) - log(after)).max() > 0.1  # ... and the two differ
    finally:
        page.select_option("#model-pick", "part3")
        page.wait_for_function("document.body.dataset.model === 'part3' && !document.body.hasAttribute('data-busy')")


def _wrong_input_model(path):
    import torch
    from torch import nn

    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.LazyLinear(10))
    model(torch.zeros(1, 1, 32, 32))
    torch.onnx.export(model.eval(), (torch.zeros(1, 1, 32, 32),), str(path), dynamo=True, verbose=False,
                      external_data=False)


def test_a_chosen_file_replaces_the_model_and_a_bad_one_is_refused(served_page, tmp_path):
    page = served_page[1]
    try:
        page.set_input_files("#model-file", [str(ROOT / "models" / "part2.onnx"), str(ROOT / "models" / "part2.json")])
        page.wait_for_function("document.body.dataset.model === 'part2'")
        assert "part2.onnx loaded" in page.text_content("#model-message")
        assert len(_stage_grids(page)) == len(_meta("part2")["stages"])
        (tmp_path / "notes.onnx").write_text("not a model")
        _wrong_input_model(tmp_path / "big.onnx")
        for bad, says in (("notes.onnx", "cannot read it as an ONNX model"), ("big.onnx", "1×1×28×28")):
            page.set_input_files("#model-file", str(tmp_path / bad))
            page.wait_for_function("n => document.getElementById('model-message').textContent.startsWith(n)", arg=bad)
            message = page.text_content("#model-message")
            assert says in message and "keeps part2" in message, message
            assert page.evaluate("document.body.dataset.model") == "part2"
        page.evaluate("""async () => {  // dropped on the layer view, as from a file manager
            const bytes = await (await fetch('../models/part1.onnx')).arrayBuffer();
            const files = new DataTransfer();
            files.items.add(new File([bytes], 'part1.onnx'));
            document.getElementById('inside').dispatchEvent(new DragEvent('drop', {dataTransfer: files, bubbles: true}));
        }""")
        page.wait_for_function("document.body.dataset.model === 'part1'")
        assert "part1.onnx loaded" in page.text_content("#model-message") and "add its .json" in page.text_content("#model-message")
        (tmp_path / "readme.txt").write_text("x")
        page.set_input_files("#model-file", str(tmp_path / "readme.txt"))
        page.wait_for_function("document.getElementById('model-message').textContent.includes('choose an .onnx file')")
    finally:
        page.select_option("#model-pick", "part3")
        page.wait_for_function("document.body.dataset.model === 'part3' && !document.body.hasAttribute('data-busy')")


def test_the_page_works_on_a_phone(served_page):
    browser, _, url, _, _ = served_page
    phone = browser.new_page(viewport={"width": 375, "height": 740}, has_touch=True, is_mobile=True)
    try:
        phone.goto(url)
        phone.wait_for_selector("body[data-ready]", timeout=30_000)
        assert phone.evaluate("document.documentElement.scrollWidth") <= 375  # nothing wider than the screen
        box = phone.locator("#pad").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 375
        phone.locator('#layers [data-stage="stage_1"] canvas').first.tap()  # a tapped map shows its kernels
        phone.wait_for_function("!document.getElementById('kernel-view').hidden", timeout=5_000)
        phone.locator("#pad").scroll_into_view_if_needed()  # the tap scrolled the page down to the maps
        box = phone.locator("#pad").bounding_box()
        # a finger drawing a 7: touch events, which Chromium turns into pointer events of type touch
        scale = box["width"] / 280
        points = [{"x": box["x"] + x * scale, "y": box["y"] + y * scale} for x, y in DIGIT_STROKES[7][0]]
        cdp = phone.context.new_cdp_session(phone)
        cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [points[0]]})
        for point in points[1:]:
            cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [point]})
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        wait_for_prediction(phone, 1)
        assert shown(phone)["digit"] == "7"
        assert phone.locator("#layers").bounding_box()["width"] <= 375
    finally:
        phone.close()


def test_the_models_index_lists_each_onnx_file_with_its_metadata(tmp_path):
    import json
    import urllib.request

    (tmp_path / "part3.onnx").write_bytes(b"3")
    (tmp_path / "part3.json").write_text(json.dumps({"params": 7954, "seed": 1, "other": "x"}))
    (tmp_path / "mine.onnx").write_bytes(b"m")
    server = web.make_server(ROOT, 0, tmp_path)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        index = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{server.server_address[1]}/models/index.json",
                                                  timeout=10).read())
    finally:
        server.shutdown()
        server.server_close()
    assert index == {"models": [{"name": "part3", "file": "part3.onnx", "has_metadata": True, "params": 7954, "seed": 1},
                                {"name": "mine", "file": "mine.onnx", "has_metadata": False}]}
