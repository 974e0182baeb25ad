"""The separable family comes from the Part-4 notebook, its cost follows 9·c + c², and its files read back."""
import pytest
import torch

from lab.part4_family.separable import (default_c3, load_points, member_label, member_point, parse_changes,
                                                part4_recipe, save_points, separable_net, with_mid_bn)
from lab.experiment_tables import changes_table, separable_table
from lab.experiment_tables import separable_screen_table as screen_table
from mnist_helpers import count_parameters
from scripts.notebook_code import notebook_model


def test_a_separable_block_costs_9c_plus_c_squared_weights_and_keeps_the_size_with_padding():
    block = separable_net(16, 12).block4
    convs = [m for m in block if isinstance(m, torch.nn.Conv2d)]
    assert sum(c.weight.numel() for c in convs) == 9 * 16 + 16 * 16
    assert block(torch.zeros(2, 16, 4, 4)).shape == (2, 16, 4, 4)


def test_the_family_maps_digits_to_ten_logits_and_its_4000_member_is_as_big_as_width_07():
    model = separable_net(22, default_c3(22)).eval()
    assert count_parameters(model) <= 4000
    assert abs(count_parameters(model) - count_parameters(notebook_model("part4", width=0.7))) < 100
    assert model(torch.zeros(3, 1, 28, 28)).shape == (3, 10)


def _member(label, c2, params, finals, first_seed=0):
    runs = {str(s): {"final_test_acc": a, "last5_min_test_acc": a - 0.02, "final_train_acc": 99.0, "params": params,
                     "seconds_per_epoch": 4.0 + s, "device": "cpu", "torch_version": "x"}
            for s, a in enumerate(finals, start=first_seed)}
    return {"label": label, "c2": c2, "c3": default_c3(c2), "params": params, "device": "cpu", "torch_version": "x",
            "per_seed": runs}


def test_points_summarise_their_seeds_and_round_trip_through_the_file(tmp_path):
    point = member_point(_member("c2=22", 22, 3980, [99.40, 99.44, 99.42]))
    assert point["seeds"] == [0, 1, 2] and abs(point["final_test_acc_mean"] - 99.42) < 1e-9
    assert point["worst_last5_min_test_acc"] == pytest.approx(99.38) and not point["all_seeds_hold_target"]
    assert point["seconds_per_epoch"] == 5.0
    save_points(tmp_path / "f.json", {"c2=22": point})
    assert load_points(tmp_path / "f.json") == {"c2=22": point}
    assert load_points(tmp_path / "missing.json") == {}


def test_the_table_has_a_row_per_member_sorted_by_parameters():
    points = [member_point(_member("c2=26", 26, 4916, [99.5])), member_point(_member("c2=18", 18, 3094, [99.4, 99.3]))]
    lines = separable_table(points).splitlines()
    assert lines[2].startswith("| c2=18 | 18 | 11 | 3,094 | 0, 1 |") and lines[3].startswith("| c2=26 | 26 | 16 | 4,916 | 0 |")
    assert member_label(22, 14) == "c2=22" and member_label(22, 16, mid_bn=True) == "c2=22/16, mid BN"


def test_the_committed_points_were_trained_on_the_notebooks_model():
    from mnist_helpers.paths import repo_root

    points = load_points(repo_root() / "results" / "part4_separable.json")
    assert points, "results/part4_separable.json is missing"
    for label, point in points.items():
        assert count_parameters(separable_net(point["c2"], point["c3"])) == point["params"], label
        assert all(seed < 100 for seed in point["seeds"]), label  # screening seeds stay in screen.json


def test_recipe_changes_are_numbers_for_known_keys_and_name_the_member():
    recipe = part4_recipe()
    changes = parse_changes(["GENTLE_EPOCHS=10", "LABEL_SMOOTHING=0"], recipe)
    assert changes == {"GENTLE_EPOCHS": 10, "LABEL_SMOOTHING": 0.0} and isinstance(changes["GENTLE_EPOCHS"], int)
    assert member_label(22, 14, changes=changes) == "c2=22, GENTLE_EPOCHS=10, LABEL_SMOOTHING=0"
    for bad in (["GENTLE_EPOCHS"], ["STEM=pool"], ["no_such_key=1"]):
        with pytest.raises(ValueError, match="KEY=NUMBER"):
            parse_changes(bad, recipe)


def test_the_screen_table_pairs_each_member_with_the_baseline_on_shared_seeds():
    base = member_point(_member("c2=22", 22, 3980, [99.40, 99.30], first_seed=100))
    other = member_point(_member("c2=22, x=1", 22, 3980, [99.36], first_seed=101))
    lines = screen_table([base, other]).splitlines()
    assert lines[2] == "| c2=22 | 3,980 | 100, 101 | 99.350% | - | 99.28% |"
    assert lines[3] == "| c2=22, x=1 | 3,980 | 101 | 99.360% | +0.060 | 99.34% |"


def test_the_recipe_is_the_part4_notebooks():
    from mnist_helpers.recipes import notebook_recipe

    recipe = part4_recipe()
    cell = notebook_recipe("part3")  # a name the cell leaves out is off
    assert (recipe["PEAK_LR"], recipe["EMA_DECAY"], recipe["LABEL_SMOOTHING"], recipe["GENTLE_EPOCHS"], recipe["NESTEROV"]) == (
        cell["PEAK_LR"], cell["EMA_DECAY"], cell.get("LABEL_SMOOTHING", 0.0), cell.get("GENTLE_EPOCHS", 0), False)
    assert isinstance(recipe["GENTLE_DEGREES"], float) and isinstance(recipe["EPOCHS"], int)


def test_the_changes_table_pairs_a_changed_member_with_the_same_member_unchanged():
    base = member_point(_member("c2=22", 22, 3980, [99.40, 99.30]))
    changed = member_point(_member("c2=22, LABEL_SMOOTHING=0", 22, 3980, [99.45, 99.38, 99.50]))
    lonely = member_point(_member("c2=30, LABEL_SMOOTHING=0", 30, 5000, [99.5]))
    lines = changes_table([base, changed, lonely]).splitlines()
    assert len(lines) == 3
    assert lines[2] == "| c2=22 | 3,980 | LABEL_SMOOTHING=0 | 0, 1 | 99.350% | 99.415% | +0.065 | 99.36% | 99.00% | 99.00% |"


def test_mid_bn_puts_batchnorm_and_relu_between_the_depthwise_and_pointwise_convolutions():
    plain = separable_net(22, 14)
    model = with_mid_bn(separable_net(22, 14)).eval()
    assert [type(m).__name__ for m in model.block4] == ["Conv2d", "BatchNorm2d", "ReLU", "Conv2d", "BatchNorm2d", "ReLU"]
    assert count_parameters(model) == count_parameters(plain) + 3 * 2 * 22
    assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
