"""The frontier screen: candidates are one named change to their base, screens keep off the reported seeds,
confirmations keep to them, and the committed files say what they measured."""
import pytest

from lab.frontier_aim import screen
from mnist_helpers.results import committed_results
from lab.ladder import ladder_recipe


def test_each_candidate_is_its_base_with_its_changes():
    plan = screen.candidates()
    assert plan["part3, label smoothing 0.1"]["recipe"] == {**ladder_recipe("part3"), "LABEL_SMOOTHING": 0.1}  # Part-3's, smoothed
    for name, c in plan.items():
        if c["base"] is None:
            continue
        base = plan[c["base"]]["recipe"]
        changed = {k for k in base if base[k] != c["recipe"][k]}
        assert changed == set(c["changes"]), name


def test_screens_and_confirmations_keep_to_their_seeds():
    with pytest.raises(SystemExit):
        screen.main(["--candidates", "part3, no label smoothing", "--seeds", "1"])
    with pytest.raises(SystemExit):
        screen.main(["--confirm", "--candidates", "part3, no label smoothing", "--seeds", "100"])
    with pytest.raises(SystemExit):
        screen.main(["--candidates", "no such candidate"])


def test_the_committed_screen_is_on_the_validation_split():
    found = committed_results(screen.NAME)
    if found is None:
        pytest.skip("no committed screen")
    assert found["split"]["val_images"] == 10_000
    for name, c in found["candidates"].items():
        assert all(int(seed) >= 100 for seed in c["per_seed"]), name
        assert not c["per_seed"] or c["commands"] or c.get("runs_from"), name


def test_the_confirmation_is_a_screened_candidate_tested_on_the_aims_seeds():
    from mnist_helpers.targets import FRONTIER_BAR, PART4_AIM_SEEDS

    confirmed, screened = committed_results(screen.CONFIRMED), committed_results(screen.NAME)
    if confirmed is None:
        pytest.skip("no committed confirmation")
    for p in confirmed["points"]:
        c = screened["candidates"][p["label"]]  # confirmed only after it was screened
        assert p["recipe"] == c["recipe"] and c["per_seed"], p["label"]
        assert {int(s) for s in p["per_seed"]} >= set(PART4_AIM_SEEDS) and all(int(s) < 100 for s in p["per_seed"])
        assert p["commands"] and all("--confirm" in command for command in p["commands"])
        lows = [min(r["test_acc"][-5:]) for r in p["per_seed"].values()]
        assert p["worst_last5_min_test_acc"] == min(lows)
        assert p["all_seeds_hold_target"] == (min(lows) >= FRONTIER_BAR)
