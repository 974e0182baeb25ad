"""The separable family: its parameter count follows 9·c + c², and its table reads the saved runs."""
import torch

from experiments.part4_family.separable import SeparableNet, separable_block, separable_table
from mnist_helpers import count_parameters


def test_a_separable_block_costs_9c_plus_c_squared_weights_and_keeps_the_size_with_padding():
    block = separable_block(16, 16, padding=1)
    convs = [m for m in block if isinstance(m, torch.nn.Conv2d)]
    assert sum(c.weight.numel() for c in convs) == 9 * 16 + 16 * 16
    assert block(torch.zeros(2, 16, 4, 4)).shape == (2, 16, 4, 4)


def test_the_family_maps_digits_to_ten_logits_within_its_budget():
    model = SeparableNet(22, 14).eval()
    assert count_parameters(model) <= 4000
    assert model(torch.zeros(3, 1, 28, 28)).shape == (3, 10)


def test_the_table_has_a_row_per_member_sorted_by_parameters():
    run = {"final_test_acc": 99.4, "last5_min_test_acc": 99.3, "train_seconds_per_epoch": 4.0}
    saved = {"c2=26": {"c2": 26, "c3": 16, "params": 4916, "per_seed": {"0": run}, "device": "cpu", "torch_version": "x"},
             "c2=18": {"c2": 18, "c3": 11, "params": 3094, "per_seed": {"0": run, "1": run}, "device": "cpu",
                       "torch_version": "x"}}
    lines = separable_table(saved).splitlines()
    assert lines[2].startswith("| 18 | 11 | 3,094 | 0, 1 |") and lines[3].startswith("| 26 | 16 | 4,916 | 0 |")
