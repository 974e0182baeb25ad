"""scripts.run_notebooks: a notebook that fails leaves the checkout as it was; all passing moves every output in."""
import json

import nbformat
import pytest

from scripts.run_notebooks import run_all


def _notebook(path, code):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


WRITES = ("import os, pathlib\n"
          "folder = pathlib.Path(os.environ['MNIST_RESULTS_DIR']); folder.mkdir(parents=True, exist_ok=True)\n"
          "(folder / '{name}.json').write_text('{{\"new\": true}}')\n"
          "print('wrote {name}')")


@pytest.fixture
def checkout(tmp_path):
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "results").mkdir()
    for name in ("part1", "part2"):
        (tmp_path / "results" / f"{name}.json").write_text('{"new": false}')
    _notebook(tmp_path / "notebooks" / "part1_a.ipynb", WRITES.format(name="part1"))
    return tmp_path


def _state(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and "build" not in p.parts}


def test_a_failing_notebook_changes_nothing(checkout, capsys):
    _notebook(checkout / "notebooks" / "part2_b.ipynb", WRITES.format(name="part2") + "\nassert False, 'missed'")
    before = _state(checkout)
    paths = sorted((checkout / "notebooks").glob("*.ipynb"))
    assert run_all(paths, checkout, update_tables=False) == 1
    assert _state(checkout) == before  # neither part1's results nor its executed notebook came in
    err = capsys.readouterr().err
    assert "FAILED: part2_b.ipynb" in err and "AssertionError" in err and "Nothing was changed" in err


def test_every_notebook_passing_moves_every_output_in(checkout):
    _notebook(checkout / "notebooks" / "part2_b.ipynb", WRITES.format(name="part2"))
    paths = sorted((checkout / "notebooks").glob("*.ipynb"))
    assert run_all(paths, checkout, update_tables=False) == 0
    for name in ("part1", "part2"):
        assert json.loads((checkout / "results" / f"{name}.json").read_text()) == {"new": True}
    executed = nbformat.read(checkout / "notebooks" / "part2_b.ipynb", as_version=4)
    assert executed.cells[0].outputs[0]["text"] == "wrote part2\n"
    assert not (checkout / "build" / "run_all").exists()


def test_a_new_part3_model_is_scored_on_the_stress_set(checkout, data_root):
    """The stress scores belong to one model: run_all rescores them with the Part-3 model it has just trained, on
    the set rendered outside the checkout."""
    from mnist_helpers.paths import repo_root
    from mnist_helpers.results import load_results
    from scripts.stress_digits import model_sha256

    root = repo_root()
    saves_model = ("import os, pathlib, shutil\n"
                   "folder = pathlib.Path(os.environ['MNIST_MODELS_DIR']); folder.mkdir(parents=True, exist_ok=True)\n"
                   f"shutil.copy({str(root / 'models' / 'part3.pt2')!r}, folder / 'part3.pt2')")
    _notebook(checkout / "notebooks" / "part3_c.ipynb", saves_model)
    paths = sorted((checkout / "notebooks").glob("*.ipynb"))
    assert run_all(paths, checkout, update_tables=False) == 0
    scored, committed = load_results("stress_digits", checkout / "results"), load_results("stress_digits", root / "results")
    assert scored["model_sha256"] == model_sha256(checkout / "models" / "part3.pt2") == committed["model_sha256"]
    assert scored["kinds"] == committed["kinds"]
    assert not (checkout / "images").exists()


def test_a_stress_scoring_that_fails_changes_nothing(checkout, capsys):
    broken = ("import os, pathlib\n"
              "folder = pathlib.Path(os.environ['MNIST_MODELS_DIR']); folder.mkdir(parents=True, exist_ok=True)\n"
              "(folder / 'part3.pt2').write_bytes(b'not a model')")
    _notebook(checkout / "notebooks" / "part3_c.ipynb", broken)
    before = _state(checkout)
    assert run_all(sorted((checkout / "notebooks").glob("*.ipynb")), checkout, update_tables=False) == 1
    assert _state(checkout) == before
    err = capsys.readouterr().err
    assert "FAILED: scoring the stress set" in err and "Nothing was changed" in err
