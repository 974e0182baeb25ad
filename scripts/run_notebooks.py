"""Execute the notebooks top to bottom and keep their saved outputs clean.

``python -m scripts.run_notebooks`` runs every notebook in ``notebooks/``, drops live progress-bar
widgets and execution timestamps from the saved outputs (each epoch's printed summary line
stays), and regenerates ``images/``, ``results/`` and ``models/``, the stress set's scores with the new
Part-3 model (``results/stress_digits.json``), and the README tables. It
works in a scratch folder (``build/run_all/``): the executed notebooks and the files they write
are moved into the checkout, file by file, only once every notebook has completed, so a notebook
that fails (a missed target, say) leaves the committed notebooks, results, images and models as
they were.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import time
from pathlib import Path

from mnist_helpers.paths import IMAGES_ENV, MODELS_ENV, RESULTS_ENV, repo_root

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
    output = Path(output or path)
    output.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, output)
    return nb


def _move_into(scratch: Path, target: Path) -> list[Path]:
    """Move every file under ``scratch`` to the same place under ``target`` (each by one rename)."""
    moved = []
    for source in sorted(p for p in scratch.rglob("*") if p.is_file()):
        destination = target / source.relative_to(scratch)
        destination.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, destination)
        moved.append(destination)
    return moved


def target_line(path: Path, results: Path) -> str:
    """", seed 2: final 99.48%, holds its target" for a part notebook that wrote ``results/PART.json``."""
    from mnist_helpers.results import load_results
    from mnist_helpers.targets import TARGETS

    part = path.name.split("_")[0]
    if part not in TARGETS or not (results / f"{part}.json").is_file():
        return ""
    r = load_results(part, results)
    if "history" not in r:  # not a run summary (results.build_results)
        return ""
    missed = TARGETS[part].accuracy_problems(r["history"]["test_acc"])
    return (f", seed {r['seed']}: final {r['final_test_acc']:.2f}%, "
            + (f"MISSES its target ({missed[0]})" if missed else "holds its target"))


def run_all(paths: list[Path], root: Path, update_tables: bool = True) -> int:
    """Execute ``paths`` in order in ``root/build/run_all``; move everything in only if every one completes,
    then (``update_tables``) regenerate the README tables."""
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    scratch = root / "build" / "run_all"
    shutil.rmtree(scratch, ignore_errors=True)
    outputs = {name: scratch / name for name in ("images", "results", "models", "notebooks")}
    env = {IMAGES_ENV: outputs["images"], RESULTS_ENV: outputs["results"], MODELS_ENV: outputs["models"]}
    for path in paths:
        start = time.perf_counter()
        print(f"executing {path.name} ...", flush=True)
        try:
            execute_notebook(path, output=outputs["notebooks"] / path.name, env=env)
        except (CellExecutionError, CellTimeoutError, DeadKernelError) as err:
            what = f"{err.ename}: {err.evalue}" if isinstance(err, CellExecutionError) else f"{type(err).__name__}: {err}"
            print(f"\nFAILED: {path.name} stopped with {what}\n"
                  f"Nothing was changed: notebooks/, results/, images/, models/ and the README are as they were "
                  f"(this run's partial outputs are in {scratch.relative_to(root)}/).", file=sys.stderr, flush=True)
            return 1
        print(f"  done in {time.perf_counter() - start:.0f} s{target_line(path, outputs['results'])}", flush=True)
    model = outputs["models"] / "part3.pt2"
    if model.is_file():  # the stress scores belong to one model: score the one just trained
        from mnist_helpers.results import save_results

        from .stress_digits import scored_record
        print("scoring the stress set with the new Part-3 model ...", flush=True)
        try:
            save_results("stress_digits", scored_record(model), outputs["results"])
        except Exception as err:
            print(f"\nFAILED: scoring the stress set with the new Part-3 model stopped with {type(err).__name__}: {err}\n"
                  f"Nothing was changed (this run's outputs are in {scratch.relative_to(root)}/). "
                  f"python -m scripts.stress_digits --score repeats the step on the committed model.",
                  file=sys.stderr, flush=True)
            return 1
    for name, folder in outputs.items():
        if folder.is_dir():
            moved = _move_into(folder, root / name)
            print(f"{name}/: {len(moved)} files updated")
    shutil.rmtree(scratch, ignore_errors=True)
    if update_tables:
        from .readme import update_readme
        update_readme()
        print("README tables updated from results/*.json")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.run_notebooks", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="notebook files (default: all notebooks/*.ipynb)")
    args = parser.parse_args(argv)
    root = repo_root()
    if root is None:
        parser.error("run it from a checkout installed with pip install -e . (scripts/setup.sh)")
    paths = [Path(n).resolve() for n in args.names] or notebook_paths()
    outside = [str(p) for p in paths if p.parent != root / "notebooks"]
    if outside:
        parser.error(f"these are not notebooks of {root / 'notebooks'}: {', '.join(outside)}")
    return run_all(paths, root)


if __name__ == "__main__":
    sys.exit(main())
