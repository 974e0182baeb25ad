"""The seed sweep records a seed that misses the target and stops on any other failure."""
import pytest
from nbclient.exceptions import CellExecutionError

from lab import sweep
from mnist_helpers.results import save_results


def _fake_run(accuracies_by_seed, error=None, part="part3"):
    def execute(copy, env):
        seed = int(env["MNIST_SEED"])
        acc = accuracies_by_seed[seed]
        history = {"train_loss": [0.5] * 5, "train_acc": [99.0] * 5, "test_loss": [0.1] * 5, "test_acc": acc,
                   "lr": [0.1] * 5, "epoch_seconds": [7.0] * 5, "test_seconds": [0.3] * 5}
        save_results(part, {"params": 7954, "epochs": 5, "seed": seed, "history": history,
                               "final_test_acc": acc[-1], "best_test_acc": max(acc),
                               "last5_min_test_acc": min(acc[-5:]), "final_train_acc": 99.0,
                               "seconds_per_epoch": 7.0, "device": "cpu", "torch_version": "x"},
                     env["MNIST_RESULTS_DIR"])
        if error is not None:
            raise error
        if min(acc[-5:]) < 99.4:
            raise CellExecutionError("traceback", "AssertionError", "last-5 test accuracies ... do not all reach 99.4%")
    return execute


def test_a_seed_that_misses_the_target_is_recorded_not_hidden(tmp_path, monkeypatch):
    runs = {0: [99.5] * 5, 1: [99.5, 99.5, 99.38, 99.5, 99.5]}
    monkeypatch.setattr(sweep, "execute_notebook", _fake_run(runs))
    nb = tmp_path / "part3_x.ipynb"
    nb.write_text("{}")
    result = sweep.run_sweep([0, 1], nb)
    assert result["all_seeds_hold_target"] is False
    assert result["worst_last5_min_test_acc"] == 99.38
    assert result["per_seed"]["1"]["test_acc"] == runs[1]


def test_any_other_notebook_failure_stops_the_sweep(tmp_path, monkeypatch):
    boom = CellExecutionError("traceback", "RuntimeError", "out of memory")
    monkeypatch.setattr(sweep, "execute_notebook", _fake_run({0: [99.5] * 5}, error=boom))
    nb = tmp_path / "part3_x.ipynb"
    nb.write_text("{}")
    with pytest.raises(CellExecutionError) as excinfo:
        sweep.run_sweep([0], nb)
    assert excinfo.value.ename == "RuntimeError"


def test_the_sweep_passes_extra_settings_and_reads_the_parts_own_results(tmp_path, monkeypatch):
    seen = []

    def execute(copy, env):
        seen.append(env["MNIST_WIDTH"])
        _fake_run({0: [99.5] * 5, 1: [99.45] * 5}, part="part4")(copy, env)

    monkeypatch.setattr(sweep, "execute_notebook", execute)
    nb = tmp_path / "part4_x.ipynb"
    nb.write_text("{}")
    result = sweep.run_sweep([0, 1], nb, env={"MNIST_WIDTH": 0.5})
    assert seen == [0.5, 0.5] and result["all_seeds_hold_target"] is True

    from lab.frontier import frontier_point

    point = frontier_point(result, width=0.5)
    assert point["width"] == 0.5 and point["params"] == 7954 and point["seconds_per_epoch"] == 7.0
    assert point["final_test_acc_mean"] == 99.475 and point["worst_last5_min_test_acc"] == 99.45


def test_each_finished_seed_is_reported_and_kept_runs_stay(tmp_path, monkeypatch):
    runs = {1: [99.5] * 5, 2: [99.45] * 5}
    monkeypatch.setattr(sweep, "execute_notebook", _fake_run(runs))
    nb = tmp_path / "part3_x.ipynb"
    nb.write_text("{}")
    kept = {"0": {"final_test_acc": 99.6, "last5_min_test_acc": 99.55, "params": 7954, "test_acc": [99.6] * 5}}
    partial = []
    result = sweep.run_sweep([2, 1], nb, per_seed=kept, on_seed=partial.append)
    assert [list(p["per_seed"]) for p in partial] == [["0", "2"], ["0", "1", "2"]]
    assert result["seeds"] == [0, 1, 2] and result["per_seed"]["0"] == kept["0"]
    assert result["per_seed"]["2"]["device"] == "cpu" and result["per_seed"]["2"]["torch_version"] == "x"


def test_frontier_text_prints_a_line_per_member_by_parameters():
    from mnist_helpers.results import frontier_text

    run = {"final_train_acc": 99.2}
    width = {"width": 0.7, "params": 3898, "seeds": [0, 1, 2], "final_test_acc_mean": 99.28,
             "worst_last5_min_test_acc": 99.22, "all_seeds_hold_target": False, "seconds_per_epoch": 4.1,
             "per_seed": {"0": run, "1": run, "2": run}}
    separable = {**width, "c2": 22, "params": 3980, "seeds": [0], "all_seeds_hold_target": True, "per_seed": {"0": run}}
    lines = frontier_text([separable, width]).splitlines()
    assert lines[0].split()[:3] == ["member", "params", "seeds"]
    assert lines[1].split()[:5] == ["w=0.7", "3,898", "0-2", "99.28%", "99.22%"] and lines[1].split()[5] == "no"
    assert lines[2].split()[:3] == ["c2=22", "3,980", "0"] and lines[2].split()[5] == "yes"


def test_together_writes_a_sweep_of_the_notebooks_recipe(tmp_path, monkeypatch):
    """``--together``: one call trains every seed; the file has a sweep's form, with the recipe and device."""
    import lab.together
    from mnist_helpers import data

    calls = []

    def fake_together(r, seeds, train, test, device, capture=None, log=print):
        calls.append((r, list(seeds), str(device)))
        acc = {s: [99.0 + 0.1 * i + 0.01 * s for i in range(r["EPOCHS"])] for s in seeds}
        return {"params": 7954, "seconds_per_epoch": [2.0] * r["EPOCHS"],
                "per_seed": {s: {"test_acc": acc[s], "train_acc": [99.0] * r["EPOCHS"]} for s in seeds}}

    monkeypatch.setattr(lab.together, "train_together", fake_together)
    monkeypatch.setattr(data, "load_mnist_tensors", lambda split: (None, None))
    monkeypatch.setenv("MNIST_RESULTS_DIR", str(tmp_path))
    assert sweep.main(["--together", "--seeds", "0", "1", "2", "--name", "together_test"]) == 0
    from lab.ladder import ladder_recipe

    assert calls == [(ladder_recipe("part3"), [0, 1, 2], "cpu")]
    from mnist_helpers.results import load_results

    saved = load_results("together_test", tmp_path)
    assert saved["together"] == 3 and saved["recipe"] == ladder_recipe("part3") and saved["seconds_per_epoch"] == 2.0
    assert set(saved["per_seed"]) == {"0", "1", "2"} and saved["all_seeds_hold_target"]
    assert saved["command"] == "python -m lab.sweep --together --seeds 0 1 2 --name together_test"
    with pytest.raises(SystemExit):
        sweep.main(["--together", "--part", "part4"])


def test_a_sweep_stores_the_recipe_it_ran_and_add_keeps_runs_of_that_recipe_only(tmp_path, monkeypatch):
    from mnist_helpers.cpu_kind import kind_suffix
    from mnist_helpers.recipes import trains_with
    from mnist_helpers.results import load_results, save_results

    monkeypatch.setenv("MNIST_RESULTS_DIR", str(tmp_path))
    ran = []

    def fake_sweep(seeds, notebook, per_seed=None, on_seed=None):
        ran.append(list(seeds))
        runs = {**(per_seed or {}), **{str(s): {"final_test_acc": 99.5, "last5_min_test_acc": 99.45} for s in seeds}}
        return {"notebook": notebook.name, **sweep.summarize_seeds(runs), "per_seed": runs}

    monkeypatch.setattr(sweep, "run_sweep", fake_sweep)
    name = "recipe_test" + kind_suffix()
    assert sweep.main(["--part", "part4", "--seeds", "0", "1", "--name", name]) == 0
    assert load_results(name, tmp_path)["recipe"] == trains_with("part4") == trains_with("part3")
    assert sweep.main(["--part", "part4", "--seeds", "0", "1", "2", "--name", name, "--add"]) == 0
    assert ran == [[0, 1], [2]]  # the runs of the same recipe are kept
    save_results(name, {**load_results(name, tmp_path), "recipe": {**trains_with("part4"), "PEAK_LR": 0.2}}, tmp_path)
    with pytest.raises(SystemExit):  # a file of another recipe is not added to
        sweep.main(["--part", "part4", "--seeds", "3", "--name", name, "--add"])
