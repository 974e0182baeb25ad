"""The ladders of Parts 2 and 3: one change per rung, the notebooks' own recipes, and committed files that say
which split, seeds and CPU kind they were measured on."""
import copy

import pytest
import torch

from mnist_helpers import count_parameters, plots, set_seed
from mnist_helpers.results import (committed_results, earns_its_place, ladder_table, ladder_verdicts, leave_one_out_table,
                                   load_results)
from lab import RESULTS, ladder
from mnist_helpers.recipes import notebook_recipe


def _changed(a: dict, b: dict) -> set:
    return {k for k in a.keys() | b.keys() if a.get(k) != b.get(k)}


def test_an_unknown_recipe_key_raises():
    with pytest.raises(KeyError, match="MAX_LR"):
        ladder.recipe(MAX_LR=0.8)


def test_an_optional_key_at_its_absent_value_is_left_out_and_the_optimizer_reads_it():
    assert ladder.recipe(MOMENTUM=0.9, WEIGHT_DECAY=0) == ladder.recipe()  # so committed recipes compare equal
    r = ladder.recipe(MODEL="part1", LR=0.02, MOMENTUM=0.5)
    assert r["MOMENTUM"] == 0.5 and ladder.setting(ladder.recipe(), "MOMENTUM") == 0.9
    optimizer, _, _ = ladder.optimizer_schedule_ema(r, torch.nn.Linear(2, 2), steps_per_epoch=10)
    assert optimizer.param_groups[0]["momentum"] == 0.5


# the keys each rung may change over the one below: one idea each (a schedule brings its own numbers with it)
ONE_IDEA = {
    "part2": [{"MODEL", "NET_ARGS"}, {"LR"}, {"NET_ARGS"}, {"NET_ARGS"}, {"NET_ARGS"}],
    "part3": [{"DEGREES", "CROP_PROB", "TRANSLATE"}, {"LR", "PEAK_LR", "WARMUP_EPOCHS", "FLOOR_EPOCH"}, {"EMA_DECAY"},
              {"MODEL", "NET_ARGS", "CHANNELS_LAST"}],
}


@pytest.mark.parametrize("part", ["part2", "part3"])
def test_each_rung_adds_one_change(part):
    rungs = ladder.rungs(part)
    assert len(ONE_IDEA[part]) == len(rungs) - 1
    for below, rung, allowed in zip(rungs, rungs[1:], ONE_IDEA[part]):
        changed = _changed(rung["recipe"], below["recipe"])
        assert changed and changed <= allowed, (rung["change"], changed)


BRANCH_EDITS = {
    "part2": [{"LR"}],
    "part3": [{"DEGREES", "CROP_PROB", "TRANSLATE", "GENTLE_DEGREES", "GENTLE_EPOCHS"}, {"LABEL_SMOOTHING"}],
}


@pytest.mark.parametrize("part", ["part2", "part3"])
def test_each_branch_is_one_edit_of_a_rung(part):
    rungs = ladder.rungs(part)
    for branch, allowed in zip(ladder.branches(part), BRANCH_EDITS[part], strict=True):
        changed = _changed(branch["recipe"], rungs[branch["base"]]["recipe"])
        assert changed and changed <= allowed, (branch["change"], changed)


def test_the_ladders_climb_to_the_notebooks_recipes():
    p2, p3 = ladder.rungs("part2"), ladder.rungs("part3")
    assert p2[0]["recipe"]["MODEL"] == "part1" and p2[0]["recipe"]["LR"] == notebook_recipe("part1")["LR"]
    top2 = p2[-1]["recipe"]
    assert top2["MODEL"] == "part2" and top2["NET_ARGS"] == {"dropout": notebook_recipe("part2")["DROPOUT"]}
    assert top2["LR"] == notebook_recipe("part2")["LR"]
    assert p3[0]["recipe"] == top2  # Part-3 starts where Part-2 ends
    top3, cell = p3[-1]["recipe"], notebook_recipe("part3")
    assert {k: ladder.setting(top3, k) for k in cell} == cell  # every number of the recipe cell, under its name
    off = set(ladder.RECIPE_DEFAULTS) - set(cell) - {"MODEL", "NET", "NET_ARGS", "CHANNELS_LAST", "LR"}
    assert {k: top3[k] for k in off} == {k: ladder.RECIPE_DEFAULTS[k] for k in off}  # what the cell leaves out is off
    assert top3["MODEL"] == "part3" and top3["NET_ARGS"] == {} and top3["CHANNELS_LAST"] and not top3["NESTEROV"]


def test_a_rung_trains_on_what_it_is_given_and_reports_validation_accuracy(train_split):
    data = {"train": (train_split.data[:512], train_split.targets[:512]),
            "val": (train_split.data[-256:], train_split.targets[-256:])}
    r = {**ladder.rungs("part3")[-1]["recipe"], "EPOCHS": 2, "WARMUP_EPOCHS": 1, "FLOOR_EPOCH": 2, "GENTLE_EPOCHS": 1}
    run = ladder.train_rung(r, 100, data)
    assert len(run["val_acc"]) == 2 and run["final_val_acc"] == run["val_acc"][-1]
    assert run["params"] == 7954 and 0 <= run["last5_min_val_acc"] <= 100
    again = ladder.train_rung(r, 100, data)
    assert again["val_acc"] == run["val_acc"]  # a seed reproduces its run


def test_a_3x3_stem_replaces_only_the_first_convolution(train_split):
    stem_out = next(b for b in ladder.leave_one_out("part3") if "stem" in b["change"])["recipe"]
    set_seed(100)
    ours = ladder.rung_model(stem_out)
    set_seed(100)
    theirs = ladder.rung_model(ladder.rungs("part3")[-1]["recipe"])
    assert ours.conv1.kernel_size == (3, 3) and count_parameters(ours) == count_parameters(theirs) - 8 * (25 - 9)
    rest = {k: v for k, v in theirs.state_dict().items() if not k.startswith("conv1.")}
    assert all(torch.equal(ours.state_dict()[k], v) for k, v in rest.items())  # the rest starts as the recipe's
    assert ours.eval()(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    data = {"train": (train_split.data[:256], train_split.targets[:256]),
            "val": (train_split.data[-128:], train_split.targets[-128:])}
    run = ladder.train_rung({**stem_out, "EPOCHS": 1, "WARMUP_EPOCHS": 0, "FLOOR_EPOCH": 1, "GENTLE_EPOCHS": 0}, 100, data)
    assert run["params"] == 7954 - 8 * (25 - 9)


# what taking each ingredient out may change in the finished recipe, and nothing else
LEFT_OUT = {
    "rotation": {"DEGREES", "GENTLE_DEGREES"}, "crop": {"CROP_PROB"}, "shift": {"TRANSLATE"},
    "schedule": {"LR", "PEAK_LR", "WARMUP_EPOCHS", "FLOOR_EPOCH"}, "Nesterov": {"NESTEROV"}, "EMA": {"EMA_DECAY"},
    "label smoothing": {"LABEL_SMOOTHING"}, "gentle epochs": {"GENTLE_EPOCHS"}, "5×5 stem": {"STEM_KERNEL"},
    "augmentation": {"DEGREES", "CROP_PROB", "TRANSLATE", "GENTLE_EPOCHS", "GENTLE_DEGREES"},
    "augmentation and label smoothing": {"DEGREES", "CROP_PROB", "TRANSLATE", "GENTLE_EPOCHS", "GENTLE_DEGREES",
                                         "LABEL_SMOOTHING"},
}


def test_leave_one_out_takes_one_ingredient_out_of_the_finished_recipe_and_says_what_out_means():
    top = ladder.rungs("part3")[-1]["recipe"]
    found = ladder.leave_one_out("part3")
    names = [b["change"].split(" out")[0] for b in found]
    assert names == [n for n in LEFT_OUT if n in names]  # in the study's order
    present = {"rotation": "DEGREES", "crop": "CROP_PROB", "shift": "TRANSLATE", "schedule": "PEAK_LR", "Nesterov": "NESTEROV",
               "EMA": "EMA_DECAY", "label smoothing": "LABEL_SMOOTHING", "gentle epochs": "GENTLE_EPOCHS"}
    assert {n for n, key in present.items() if top[key]} | {"5×5 stem"} <= set(names)  # every ingredient in the recipe
    assert not {n for n, key in present.items() if not top[key]} & set(names)  # and none that it lacks
    for branch, name in zip(found, names):
        changed = {k for k in set(top) | set(branch["recipe"]) if top.get(k, "absent") != branch["recipe"].get(k, "absent")}
        assert changed and changed <= LEFT_OUT[name], (branch["change"], changed)
        assert branch["base"] == 0 and "(" in branch["change"]  # what "out" means, in its own words
    name, rungs, _ = ladder.study("part3", leave_out=True)
    assert name == "leave_one_out_part3" and [r["recipe"] for r in rungs] == [top]
    with pytest.raises(ValueError, match="part3"):
        ladder.leave_one_out("part2")


@pytest.mark.parametrize("per_seed, earns", [
    ([-3, -5, -1, -2, -8], True),     # taking it out cost images on every seed
    ([-3, -5, -1, 2, -8], True),      # on 4 of 5, and on average
    ([-3, -5, 1, 2, -8], False),      # on 3 of 5
    ([-1, -1, -1, -1, 9], False),     # on 4 of 5, but it gained on average
    ([0, 0, 0, 0, 0], False),
])
def test_an_ingredient_earns_its_place_when_taking_it_out_costs_on_average_and_on_4_of_5_seeds(per_seed, earns):
    assert earns_its_place({"images_gained_last5": {"per_seed": per_seed}}) is earns


def test_the_summary_pairs_seeds_and_counts_validation_images():
    runs = lambda *accs: {str(s): {"final_val_acc": a, "last5_min_val_acc": a - 0.1, "params": 10, "seconds_per_epoch": 1.0}
                          for s, a in zip((100, 101), accs)}  # noqa: E731
    lad = {"part": "part2", "split": {"val_images": 10_000, "train_images": 50_000}, "cpu_kind": "AVX512",
           "rungs": [{"rung": 0, "change": "a", "per_seed": runs(99.00, 99.10)},
                     {"rung": 1, "change": "b", "per_seed": runs(99.20, 99.15)},
                     {"rung": 2, "change": "c", "per_seed": runs(99.10, 99.25)}]}
    lad = ladder.summarize(lad)
    assert "images_gained" not in lad["rungs"][0]["summary"]
    assert lad["rungs"][1]["summary"]["images_gained"]["per_seed"] == [20, 5]
    assert lad["rungs"][2]["summary"]["images_gained"]["per_seed"] == [-10, 10]
    assert lad["rungs"][2]["summary"]["images_gained_last5"]["per_seed"] == [-10, 10]
    verdicts = ladder_verdicts(lad).splitlines()
    assert "bought 12 more validation images right on average, on each of the 2 seeds (from +5 to +20)" in verdicts[0]
    assert "bought nothing clear" in verdicts[1]
    assert "+12.5 (+5 to +20)" in ladder_table(lad)


@pytest.mark.parametrize("part", ["part2", "part3"])
def test_the_committed_ladder_has_its_rungs_seeds_and_split(part):
    committed = committed_results(f"ladder_{part}")
    if committed is None and committed_results(f"ladder_{part}_unpruned") is not None:
        pytest.skip(f"results/ladder_{part}.json of the pruned recipe is not measured yet: python -m lab.ladder --part {part}")
    assert committed is not None, f"results/ladder_{part}.json is missing: python -m lab.ladder --part {part}"
    expected = ladder.rungs(part)
    assert [(r["change"], r["recipe"]) for r in committed["rungs"]] == [(r["change"], r["recipe"]) for r in expected]
    assert [(b["change"], b["base"], b["recipe"]) for b in committed["branches"]] == \
        [(b["change"], b["base"], b["recipe"]) for b in ladder.branches(part)]
    assert committed["split"] == ladder.split_description()
    assert committed["split"]["train_images"] == 50_000 and committed["split"]["val_images"] == 10_000
    assert committed["cpu_kind"] and committed["command"].startswith("python -m lab.ladder")
    for rung in committed["rungs"] + committed["branches"]:
        assert len(rung["per_seed"]) >= 5 and set(rung["per_seed"]) == {str(s) for s in ladder.SEEDS}, rung["change"]
        for run in rung["per_seed"].values():
            assert len(run["val_acc"]) == rung["recipe"]["EPOCHS"]
    assert ladder.summarize(copy.deepcopy(committed)) == committed  # the summaries are those of the runs
    assert plots.ladder(committed) is not None


def test_label_smoothing_is_a_rung_while_the_recipe_has_it_and_a_branch_once_it_does_not(monkeypatch):
    def smoothing(value):
        def read(part, **changes):
            return {**notebook_recipe(part, **changes), **({"LABEL_SMOOTHING": value} if part == "part3" else {})}
        return read

    monkeypatch.setattr(ladder, "notebook_recipe", smoothing(0.1))
    assert any("label smoothing 0.1" in r["change"] for r in ladder.rungs("part3"))
    assert ladder.branches("part3")[1]["recipe"]["LABEL_SMOOTHING"] == 0.0
    monkeypatch.setattr(ladder, "notebook_recipe", smoothing(0.0))
    assert not any("label smoothing" in r["change"] for r in ladder.rungs("part3"))
    assert ladder.branches("part3")[1]["recipe"]["LABEL_SMOOTHING"] == ladder.SMOOTHING_TRIED


def test_the_ladders_seeds_are_not_the_seeds_the_course_reports():
    from mnist_helpers.targets import TARGETS

    reported = {1} | {s for t in TARGETS.values() for s in (t.seeds or [])}
    assert not reported & set(ladder.SEEDS)


def _committed_study(flag: str, name: str | None = None, **which) -> tuple[dict, list]:
    """The committed study that ``python -m lab.ladder --part part3 FLAG`` writes (or wrote, into ``results/NAME.json``,
    for a recipe tried), checked against the study the code defines for the recipe as it is now: the same steps
    and recipes, every seed, this split, and summaries that are those of the runs."""
    own, rungs, branches = ladder.study("part3", **which)
    name = name or own
    in_lab = (RESULTS / f"{name}.json").is_file()  # the studies only the lab reads
    committed = load_results(name, RESULTS) if in_lab else committed_results(name)
    assert committed is not None, f"results/{name}.json is missing: python -m lab.ladder --part part3 {flag}"
    assert [(r["change"], r["recipe"]) for r in committed["rungs"]] == [(r["change"], r["recipe"]) for r in rungs]
    assert [(b["change"], b["recipe"]) for b in committed["branches"]] == [(b["change"], b["recipe"]) for b in branches]
    assert committed["split"] == ladder.split_description() and committed["cpu_kind"]
    assert committed["command"].endswith(f"python -m lab.ladder --part part3 {flag}")
    for step in committed["rungs"] + committed["branches"]:
        assert set(step["per_seed"]) == {str(s) for s in ladder.SEEDS}, step["change"]
    assert ladder.summarize(copy.deepcopy(committed)) == committed  # the summaries are those of the runs
    return committed, branches


@pytest.fixture
def with_the_shift(monkeypatch):
    """The recipe with shifts, tried and not kept: Part-3's recipe cell with ``TRANSLATE = 2``."""
    monkeypatch.setattr(ladder, "notebook_recipe",
                        lambda part, **changes: {**notebook_recipe(part, **changes),
                                                 **({"TRANSLATE": 2} if part == "part3" else {})})


def test_the_committed_leave_one_out_study_has_every_ingredient_on_every_seed():
    committed, branches = _committed_study("--leave-one-out", leave_out=True)
    table = leave_one_out_table(committed)
    assert len(table.splitlines()) == 1 + len(branches) + 2 and "not measured" not in table


def test_the_leave_one_out_table_says_what_taking_each_ingredient_out_cost():
    def runs(*accs):
        return {str(s): {"final_val_acc": a, "last5_min_val_acc": a - 0.05, "params": 10, "seconds_per_epoch": 1.0}
                for s, a in zip(ladder.SEEDS, accs)}
    study = {"split": {"val_images": 10_000, "train_images": 50_000}, "cpu_kind": "AVX2",
             "rungs": [{"rung": 0, "change": "the recipe", "per_seed": runs(99.3, 99.3, 99.3, 99.3, 99.3)}],
             "branches": [{"branch": 0, "base": 0, "change": "EMA out (no EMA)", "per_seed": runs(99.2, 99.25, 99.3, 99.1, 99.2)},
                          {"branch": 1, "base": 0, "change": "crop out (no crop)", "per_seed": runs(99.4, 99.2, 99.3, 99.3, 99.3)},
                          {"branch": 2, "base": 0, "change": "Nesterov out (plain)", "per_seed": {}}]}
    lines = leave_one_out_table(ladder.summarize(study)).splitlines()
    assert lines[1].split() == ["EMA", "+9.0", "(+0", "to", "+20)", "+9.0", "(+0", "to", "+20)", "yes"]  # it cost on 4 of 5 seeds
    assert lines[2].split()[:2] == ["crop", "+0.0"] and lines[2].endswith("no")
    assert "not measured yet" in lines[3] and "99.30% mean final" in lines[4] and "0 images apart" in lines[4] and "100, 101, 102, 103, 104" in lines[5]


@pytest.mark.parametrize("name", ["leave_one_out_part3_unpruned", "ladder_part3_unpruned"])
def test_the_studies_of_the_recipe_part3_was_pruned_from_stay_as_they_were_measured(name):
    committed = committed_results(name)
    assert committed is not None, f"results/{name}.json is missing"
    recipe = committed["rungs"][-1]["recipe"]
    assert (recipe["LABEL_SMOOTHING"], recipe["NESTEROV"], recipe["GENTLE_EPOCHS"]) == (0.1, True, 5)
    assert recipe != ladder.ladder_recipe("part3")
    assert ladder.summarize(copy.deepcopy(committed)) == committed  # the summaries are those of the runs


def test_the_tuning_study_changes_one_setting_of_the_recipe_at_a_time():
    name, rungs, branches = ladder.study("part3", tune=True)
    top = rungs[0]["recipe"]
    assert name == "tuning_part3" and top == ladder.ladder_recipe("part3")
    resolved = [ladder.resolved(change, top) for change in ladder.TUNINGS]
    changes = [set(change) for change in resolved  # a change the recipe already has is none
               if any(ladder.setting(top, name) != value for name, value in change.items())]
    assert {"BATCH_SIZE": 64, "PEAK_LR": top["PEAK_LR"] / 2} in [
        {k: b["recipe"][k] for k in ("BATCH_SIZE", "PEAK_LR")} for b in branches]  # the rate per image kept
    assert [_changed(top, b["recipe"]) for b in branches] == changes
    with pytest.raises(ValueError, match="no tuning study"):
        ladder.tunings("part2")


def test_the_committed_tuning_study_has_every_setting_on_every_seed_and_a_verdict():
    from lab.tables import tuning_table

    committed, branches = _committed_study("--tune", tune=True)
    lines = tuning_table(committed).splitlines()
    assert len(lines) == 1 + len(branches) + 2 and all(line.split()[-1] in ("yes", "no") for line in lines[1:-2])


def test_the_study_of_the_recipe_with_shifts_stays_as_it_was_measured(with_the_shift):
    committed, branches = _committed_study("--leave-one-out", "leave_one_out_part3_shift", leave_out=True)
    assert committed["rungs"][0]["recipe"]["TRANSLATE"] == 2
    assert [b["change"].split(" out")[0] for b in branches] == [
        "rotation", "crop", "shift", "schedule", "EMA", "5×5 stem", "augmentation"]
    assert branches[2]["recipe"] == {**committed["rungs"][0]["recipe"], "TRANSLATE": 0}
