"""Execute the notebooks top to bottom and keep their saved outputs clean.

``python -m tools.run_notebooks`` runs every notebook in ``notebooks/`` in place
(so ``images/``, ``results/`` and ``models/`` are regenerated), drops live progress-bar
widgets and execution timestamps from the saved outputs (each epoch's printed summary
line stays), and then refreshes the README tables.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from pathlib import Path

from mnist_helpers.paths import repo_root

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def notebook_paths(pattern: str = "*.ipynb") -> list[Path]:
    """The notebooks in the order they run: part1, part2, part3, then try_your_own_digit (it uses Part-3's model)."""
    root = repo_root() or Path.cwd()
    paths = sorted((root / "notebooks").glob(pattern))
    if not paths:
        raise FileNotFoundError(f"no notebooks/{pattern} under {root}")
    return paths


@contextlib.contextmanager
def _environment(overrides: dict | None):
    saved = {k: os.environ.get(k) for k in (overrides or {})}
    os.environ.update({k: str(v) for k, v in (overrides or {}).items()})
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def strip_progress_widgets(nb) -> None:
    """Remove tqdm widget outputs, carriage-return progress streams and execution timestamps from ``nb``."""
    for cell in nb.cells:
        cell.get("metadata", {}).pop("execution", None)  # timestamps would churn every rerun's diff
        if cell.get("cell_type") != "code":
            continue
        kept = []
        for out in cell.get("outputs", []):
            if WIDGET_MIME in out.get("data", {}):
                continue
            if out.get("output_type") == "stream" and out.get("name") == "stderr" and "\r" in out.get("text", ""):
                continue
            kept.append(out)
        cell["outputs"] = kept
    nb.metadata.pop("widgets", None)


def execute_notebook(path: Path, output: Path | None = None, env: dict | None = None, timeout: int = 3600):
    """Run ``path`` in a fresh kernel (working directory: its folder) and save it to ``output``."""
    import nbformat
    from nbclient import NotebookClient

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    with _environment({"MPLBACKEND": "module://matplotlib_inline.backend_inline", **(env or {})}):
        client.execute()
    strip_progress_widgets(nb)
    nbformat.write(nb, output or path)
    return nb


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.run_notebooks", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="notebook files (default: all notebooks/*.ipynb)")
    args = parser.parse_args(argv)
    paths = [Path(n) for n in args.names] or notebook_paths()
    for path in paths:
        start = time.perf_counter()
        print(f"executing {path.name} ...", flush=True)
        execute_notebook(path)
        print(f"  done in {time.perf_counter() - start:.0f} s", flush=True)
    from .readme import update_readme
    update_readme()
    print("README tables updated from results/*.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
