"""The grouped pilot model is n plain models side by side: same outputs, same gradients."""
import pytest
import torch

from lab.part3_recipe.pilots import DESIGNS, GroupedBatches, config, grouped_model, plain_model
from lab.part3_recipe.tolerance import drift
from mnist_helpers import RandomRotateCrop, TensorLoader


# How close a grouped model must be to each member computed in float64 (the exact answer), relative to the
# largest value compared. Measured with `python -m lab.part3_recipe.tolerance` (30 draws for each design
# and mode), natively on AVX-512 and with bash scripts/as_avx2.sh:
# - float32 outputs: at most 7.3e-7 on either kind; a member with one weight moved by 1e-2 of the largest is off
#   by at least 1.0e-5. The limit, 5e-6, is 7 times the drift and half the smallest bug.
# - gradients: in float32 they drift by up to 1e-2 in some draws, on both kinds and in the plain model as much as
#   in the grouped one (the first layer's gradient is a small difference of large terms), so no float32 tolerance
#   separates rounding from a bug. In float64 the grouped model's gradients equal the member's exactly (0.0 on both
#   kinds) and the bug moves them by at least 2.4e-2: the limit is 1e-9.
OUTPUT_LIMIT = 5e-6
GRADIENT_LIMIT_FLOAT64 = 1e-9


@pytest.mark.parametrize("design", ["S8", "P14", "F2"])
@pytest.mark.parametrize("train", [True, False])
def test_grouped_model_equals_its_members(design, train):
    outputs, _, _, _, gradients64 = drift(design, train, seed=0)
    assert outputs <= OUTPUT_LIMIT and gradients64 <= GRADIENT_LIMIT_FLOAT64, (outputs, gradients64)


@pytest.mark.parametrize("design", ["S8", "P14", "F2"])
@pytest.mark.parametrize("train", [True, False])
def test_the_tolerance_still_catches_a_member_with_a_wrong_weight(design, train):
    outputs, _, _, _, gradients64 = drift(design, train, seed=0, perturb=1e-2)
    assert outputs > OUTPUT_LIMIT and gradients64 > GRADIENT_LIMIT_FLOAT64, (outputs, gradients64)


def test_grouped_batches_are_the_notebook_loaders_batches():
    torch.manual_seed(0)
    images = torch.randint(0, 256, (300, 28, 28), dtype=torch.uint8)
    labels = torch.randint(0, 10, (300,))
    seeds = [3, 7]
    grouped = GroupedBatches(images, labels, seeds, {**config("base"), "BATCH_SIZE": 128}, "cpu")
    loaders = [TensorLoader(images, labels, 128, shuffle=True, seed=s, augment=RandomRotateCrop(15, 0.1))
               for s in seeds]
    for _ in range(2):  # two epochs: the generators advance alike
        for (x, y), *singles in zip(grouped.epoch(), *loaders):
            for i, (xs, ys) in enumerate(singles):
                torch.testing.assert_close(x[:, i], xs[:, 0], rtol=0, atol=1e-5)
                assert torch.equal(y[:, i], ys)


def test_every_design_is_under_the_part3_budget():
    for design in DESIGNS:
        assert sum(p.numel() for p in plain_model(design).parameters()) < 8000, design


def test_pilot_tables_compare_each_config_with_the_rounds_baseline():
    from lab.experiment_tables import config_change, design_tradeoff_table, pilot_table

    def run(cfg, mean, worst, lasts):
        return {"config": cfg, "params": 7954, "final_test_acc_mean": mean, "final_test_acc_std": 0.04,
                "worst_last5_min_test_acc": worst,
                "per_seed": {str(i): {"last5_min_test_acc": v} for i, v in enumerate(lasts)}}

    base_cfg = {"DESIGN": "S8", "PEAK_LR": 0.2}
    round_ = {"name": "r", "device": "gpu", "seeds": [100, 101], "configs": {
        "base": run(base_cfg, 99.45, 99.38, [99.38, 99.5]),
        "lr8": run({**base_cfg, "PEAK_LR": 0.8}, 99.53, 99.47, [99.47, 99.6]),
        "P14": run({**base_cfg, "DESIGN": "P14"}, 99.44, 99.31, [99.31, 99.5])}}
    assert config_change({**base_cfg, "PEAK_LR": 0.8}, base_cfg) == "PEAK_LR=0.8"
    table = pilot_table(round_, 99.4)
    lr8 = next(line for line in table.splitlines() if line.startswith("lr8"))
    assert "PEAK_LR=0.8" in lr8 and "+0.080" in lr8 and "99.47%" in lr8 and lr8.endswith("2/2")
    assert next(line for line in table.splitlines() if line.startswith("base")).endswith("1/2")
    tradeoff = design_tradeoff_table({"rounds": [round_], "cpu_seconds_per_epoch": {
        "threads": 2, "torch_version": "x", "S8": 8.0, "P14": 14.3}}, "r")
    assert [line.split()[0] for line in tradeoff.splitlines()[2:]] == ["S8", "P14"]  # not lr8: it changes the recipe
    with pytest.raises(KeyError, match="no 'base' config"):
        pilot_table({**round_, "configs": {"lr8": round_["configs"]["lr8"]}}, 99.4)


def test_paired_sweep_table_lines_up_the_common_seeds():
    from lab.experiment_tables import paired_sweep_table
    run = lambda final, low: {"final_test_acc": final, "last5_min_test_acc": low}
    before = {"per_seed": {"0": run(99.40, 99.38), "1": run(99.50, 99.45), "2": run(99.5, 99.5)}}
    after = {"target": 99.4, "per_seed": {"0": run(99.50, 99.47), "1": run(99.46, 99.41)}}
    table = paired_sweep_table(before, after, "peak 0.2", "peak 0.8").splitlines()
    assert [line.split()[0] for line in table[2:4]] == ["0", "1"]  # seed 2 is not in both
    assert table[2].endswith("+0.10") and table[3].endswith("-0.04")
    assert table[4].split()[-1] == "+0.030"
    assert "1/2 before, 2/2 after" in table[5] and "99.38% before, 99.41% after" in table[5]
    with pytest.raises(ValueError, match="no seed in common"):
        paired_sweep_table({"per_seed": {"5": run(1, 1)}}, after, "a", "b")


def test_a_config_that_sets_a_name_the_base_lacks_raises(monkeypatch):
    from lab.part3_recipe import pilots

    monkeypatch.setitem(pilots.CONFIGS, "typo", {"PEAK_RL": 0.3})
    with pytest.raises(KeyError, match="PEAK_RL"):
        pilots.config("typo")
    assert pilots.config("lr3")["PEAK_LR"] == 0.3
