"""Serve the draw-a-digit page (docs/index.html) with your trained model, on this computer only.

    python -m mnist_helpers.web [--port 8000] [--no-browser] [--models DIR]

The server listens on 127.0.0.1 and answers with only what the page needs:

- ``/docs/index.html`` (also ``/docs/``), ``/docs/style.css``, ``/docs/*.js``, and ``/docs/ort/*``:
  the page, and the onnxruntime-web runtime files that ``bash docs/build.sh`` copies to docs/ort/;
- ``/models/*.onnx`` and ``/models/*.json``: the models and their metadata, from the models folder
  (``models/``, or ``$MNIST_MODELS_DIR``, or ``--models DIR``), so the page finds your model at
  ``../models/part3.onnx`` as it finds it next to itself on GitHub Pages;
- ``/models/index.json``: every ``.onnx`` file of that folder, with its metadata, for the page's model picker.

Any other path is 404. A request whose Host header is not ``127.0.0.1:PORT`` or ``localhost:PORT`` is
refused (403), so that a web page cannot read these files through DNS rebinding.

Without docs/ort/'s files (``bash docs/build.sh``) or an up-to-date ONNX export of the model
(``python -m mnist_helpers.export``) this command says which to run and stops.
"""
from __future__ import annotations

import argparse
import functools
import io
import json
import re
import sys
import threading
import urllib.parse
import webbrowser
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from .paths import models_dir, repo_root

PAGE = "docs/index.html"
ORT_FILES = ("ort.wasm.min.js", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm")
BUILD_COMMAND = "bash docs/build.sh"
EXPORT_COMMAND = "python -m mnist_helpers.export"
# The URL paths served, as an allow-list: the page's own files (under the repository root) and the model files
# (in the models folder). A name starts with a letter, digit or _ and holds no "/", so it cannot climb out.
PAGE_PATHS = re.compile(r"/docs/(index\.html|style\.css|\w[\w.-]*\.js|ort/\w[\w.-]*)")
MODEL_PATHS = re.compile(r"/models/(\w[\w.-]*\.(onnx|json))")
# part3.onnx counts as older than part3.pt2 only by more than this: a fresh clone writes both within a
# moment, in any order, while retraining rewrites part3.pt2 minutes after the last export.
STALE_AFTER_S = 60


class PageError(RuntimeError):
    """Something the page needs is missing; the message says which command makes it."""


def site_root() -> Path:
    """The repository root, which holds docs/ and models/."""
    root = repo_root()
    if root is None or not (root / PAGE).is_file():
        raise PageError(f"{PAGE} not found: run this from a clone of the repository (pip install -e .)")
    return root


def check_page(root: Path, models: Path | None = None) -> None:
    """Raise :class:`PageError` if the ort runtime files or an up-to-date ``part3.onnx`` in ``models``
    (default: :func:`~mnist_helpers.paths.models_dir`) are missing."""
    missing = [name for name in ORT_FILES if not (root / "docs" / "ort" / name).is_file()]
    if missing:
        raise PageError(f"docs/ort/ lacks {', '.join(missing)} (onnxruntime-web): run '{BUILD_COMMAND}' "
                        "in the repository root (needs Node.js and npm)")
    models = Path(models) if models is not None else models_dir()
    onnx, pt2 = models / "part3.onnx", models / "part3.pt2"
    if not onnx.is_file():
        raise PageError(f"{onnx} is missing: run '{EXPORT_COMMAND}' (after the Part-3 notebook saved {pt2.name})")
    if pt2.is_file() and pt2.stat().st_mtime > onnx.stat().st_mtime + STALE_AFTER_S:
        raise PageError(f"{onnx} is older than {pt2}: run '{EXPORT_COMMAND}' so the page uses your latest model")


def model_index(models: Path) -> dict:
    """``{"models": [...]}``: each ``.onnx`` file of ``models`` by name, with the parameters, seed and test
    accuracy of its ``.json`` where there is one; Part-3's first, as the page loads it by default."""
    entries = []
    found = [p for p in Path(models).glob("*.onnx") if not p.name.startswith(".")]  # a hidden name: a save under way
    for onnx in sorted(found, key=lambda p: (p.stem != "part3", p.stem)):
        meta_path = onnx.with_suffix(".json")
        entry = {"name": onnx.stem, "file": onnx.name, "has_metadata": meta_path.is_file()}
        if meta_path.is_file():
            try:
                meta = json.loads(meta_path.read_text(encoding="utf-8"))
                if not isinstance(meta, dict):
                    raise ValueError("not a JSON object")
                entry.update({k: meta[k] for k in ("params", "seed", "test_acc", "width") if k in meta})
            except (ValueError, UnicodeDecodeError) as err:  # json.JSONDecodeError is a ValueError
                entry.update(has_metadata=False, metadata_error=f"{meta_path.name} is not valid JSON: {err}")
        entries.append(entry)
    return {"models": entries}


def served_file(root: Path, models: Path, url_path: str) -> Path | None:
    """The file that the URL path ``url_path`` names if it is one the page needs (see PAGE_PATHS and MODEL_PATHS),
    else None."""
    path = urllib.parse.unquote(url_path)
    if path == "/docs/":
        path = "/docs/index.html"
    if PAGE_PATHS.fullmatch(path):
        return root / path[1:]
    model = MODEL_PATHS.fullmatch(path)
    return models / model[1] if model else None


class QuietHandler(SimpleHTTPRequestHandler):
    """The page's files under ``directory`` (the repository root) and the model files from ``models``, answered
    only to requests addressed to 127.0.0.1 or localhost; errors in plain text, no log line per request."""

    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, ".mjs": "text/javascript",
                      ".js": "text/javascript", ".wasm": "application/wasm", ".onnx": "application/octet-stream"}
    error_content_type = "text/plain; charset=utf-8"
    error_message_format = "%(code)d %(message)s: %(explain)s\n"

    def __init__(self, *args, models: Path, **kwargs):
        self.models = Path(models)
        super().__init__(*args, **kwargs)

    def send_head(self):
        """Answer GET and HEAD: refuse other hosts, else send the model index, an allowed file, or 404."""
        # DNS rebinding: a web page can point a name of its own at 127.0.0.1, but its requests then bear that
        # name in the Host header, so only the loopback names with this server's port are answered.
        port = self.server.server_address[1]
        if self.headers.get_all("Host") not in ([f"127.0.0.1:{port}"], [f"localhost:{port}"]):
            self.send_error(HTTPStatus.FORBIDDEN,
                            explain=f"this server answers only requests for 127.0.0.1:{port} or localhost:{port}")
            return None
        path = urllib.parse.urlsplit(self.path).path
        if path == "/models/index.json":
            return self._send(json.dumps(model_index(self.models), indent=1).encode("utf-8"), "application/json")
        file = served_file(Path(self.directory), self.models, path)
        if file is None or not file.is_file():
            self.send_error(HTTPStatus.NOT_FOUND)
            return None
        return self._send(file.read_bytes(), self.guess_type(file.name))

    def _send(self, body: bytes, content_type: str):
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")  # a re-exported model shows at the next reload
        self.end_headers()
        return io.BytesIO(body)

    def log_message(self, format, *args):  # noqa: A002 - the name http.server uses
        pass


def make_server(root: Path, port: int = 0, models: Path | None = None) -> ThreadingHTTPServer:
    """A server of the page in ``root`` (the repository root) and of ``/models/`` from ``models`` (default:
    :func:`~mnist_helpers.paths.models_dir`) on 127.0.0.1 (``port`` 0 picks a free one); call ``serve_forever``
    to run it."""
    handler = functools.partial(QuietHandler, directory=str(root),
                                models=Path(models) if models is not None else models_dir())
    return ThreadingHTTPServer(("127.0.0.1", port), handler)


def page_url(server: ThreadingHTTPServer) -> str:
    host, port = server.server_address[:2]
    return f"http://{host}:{port}/{PAGE}"


def start_in_thread(port: int = 0, models: Path | None = None) -> tuple[ThreadingHTTPServer, str]:
    """Check the page, start its server in a daemon thread; returns the server (``shutdown()`` it) and the URL."""
    root = site_root()
    check_page(root, models)
    server = make_server(root, port, models)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, page_url(server)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mnist_helpers.web", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000, help="port on 127.0.0.1 (0 = any free port; default 8000)")
    parser.add_argument("--no-browser", action="store_true", help="only print the URL, do not open a browser")
    parser.add_argument("--models", type=Path, default=None,
                        help="the folder holding part3.onnx (default: models/, or $MNIST_MODELS_DIR)")
    args = parser.parse_args(argv)
    try:
        root = site_root()
        check_page(root, args.models)
        server = make_server(root, args.port, args.models)
    except PageError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except OSError as err:
        print(f"error: cannot listen on 127.0.0.1:{args.port} ({err}); try another --port, or --port 0", file=sys.stderr)
        return 1
    url = page_url(server)
    print(f"The draw-a-digit page: {url}\n(Ctrl+C stops the server)", flush=True)
    if not args.no_browser and not webbrowser.open(url):
        print("No browser could be opened here: open the URL above yourself.", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopped")
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
