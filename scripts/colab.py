"""The repository URL, the "Open in Colab" badges and the notebooks' Colab setup cell.

The URL lives in ``pyproject.toml`` (``[project.urls] Repository``). To point the
notebooks at a fork, run ``python -m scripts.colab https://github.com/you/fork``:
it updates that line and rewrites every notebook's badge and first code cell. On Colab, that cell
clones the repository into ``/content/<repo>`` and installs it (``pip install -e``), so every
notebook sees the committed results and models; ``sys.path`` gets the clone as well, because an
editable install only takes effect in a new Python process.

``.github/workflows/colab.yml`` runs it on every push to main with the URL of the repository the
workflow runs in, and commits the change, so a fork's badges point at the fork with no hand edit. It needs
only ``nbformat``: this module imports nothing of the package (which would import torch).
"""
from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path


PLACEHOLDER = "YOUR-GITHUB-USER"
_URL_LINE = re.compile(r'^Repository = "([^"]+)"$', re.M)
SETUP_MARKER = "# Colab setup"


def _write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a uniquely named file beside it, then one rename, as
    ``mnist_helpers.results.write_atomic`` does (this module imports nothing of the package)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _pyproject() -> Path:
    path = Path(__file__).resolve().parents[1] / "pyproject.toml"
    if not path.is_file():
        raise RuntimeError(f"no {path}: run this from a checkout of the repository")
    return path


def repo_url() -> str:
    match = _URL_LINE.search(_pyproject().read_text(encoding="utf-8"))
    if match is None:
        raise ValueError('pyproject.toml has no [project.urls] line `Repository = "..."`')
    return match.group(1)


def _github_path(url: str) -> str:
    match = re.fullmatch(r"https://github\.com/([^/\s]+/[^/\s]+?)(?:\.git)?/?", url)
    if match is None:
        raise ValueError(f"expected a GitHub URL like https://github.com/OWNER/REPO, got {url!r}")
    return match.group(1)


def badge(url: str, notebook: str) -> str:
    """Markdown for an "Open in Colab" badge of ``notebooks/<notebook>`` on the main branch."""
    target = f"https://colab.research.google.com/github/{_github_path(url)}/blob/main/notebooks/{notebook}"
    return f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({target})"


def setup_cell(url: str) -> str:
    """The first code cell, four lines: on Colab only, clone the whole repository (helpers, committed
    results and models), install it, and work inside it, so a fresh runtime has what the notebook needs."""
    folder = f"/content/{_github_path(url).split('/')[1]}"
    return f'''{SETUP_MARKER}: on Google Colab only, clone and install this repository and work inside it (elsewhere: nothing).
import os, subprocess, sys
if "google.colab" in sys.modules and not os.path.isdir("{folder}"): subprocess.run(f"git clone -q {url} {folder} && {{sys.executable}} -m pip install -q -e {folder}", shell=True, check=True)
if "google.colab" in sys.modules: os.chdir("{folder}/notebooks"); sys.path.insert(0, "{folder}")'''


def sync_notebook(path: Path, url: str) -> bool:
    """Rewrite the badge line and the setup cell of one notebook; True if it changed."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    before = nbformat.writes(nb)
    new_badge = badge(url, path.name)
    for cell in nb.cells:
        if cell.cell_type == "markdown" and "colab-badge.svg" in cell.source:
            cell.source = re.sub(r"\[!\[Open In Colab\]\([^)]*\)\]\([^)]*\)", lambda m: new_badge, cell.source)
        elif cell.cell_type == "code" and cell.source.startswith(SETUP_MARKER):
            cell.source = setup_cell(url)
    after = nbformat.writes(nb)
    if after != before:
        _write_atomic(path, after if after.endswith("\n") else after + "\n")  # as nbformat.write ends the file
    return after != before


def set_repo_url(url: str) -> None:
    _github_path(url)
    path = _pyproject()
    text, count = _URL_LINE.subn(f'Repository = "{url}"', path.read_text(encoding="utf-8"))
    if count != 1:
        raise ValueError('pyproject.toml needs exactly one line `Repository = "..."`')
    _write_atomic(path, text)


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) > 1 or (args and args[0].startswith("-")):
        print("usage: python -m scripts.colab [https://github.com/OWNER/REPO]", file=sys.stderr)
        return 2
    if args:
        set_repo_url(args[0])
    url = repo_url()
    for path in sorted((_pyproject().parent / "notebooks").glob("*.ipynb")):
        print(f"{path.name}: {'updated' if sync_notebook(path, url) else 'already up to date'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
