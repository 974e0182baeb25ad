"""The code exercises' worked solutions: each notebook's "Solution N (code)" block runs, in a namespace that holds
what the notebook has defined by then, and every check it prints is True."""
import contextlib
import io
import json
import math
import re

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mnist_helpers import count_parameters, layers, warmup_cosine_floor
from mnist_helpers.recipes import notebook_file, notebook_recipe
from scripts.notebook_code import model_source

SOLUTION = re.compile(r"<summary><b>Solution \d+ \(code\)</b></summary>\s*```python\n(.*?)```", re.S)


def solutions(part: str) -> list[str]:
    cells = json.loads(notebook_file(part).read_text(encoding="utf-8"))["cells"]
    return [code for c in cells if c["cell_type"] == "markdown" for code in SOLUTION.findall("".join(c["source"]))]


def models(part: str) -> dict:
    """The notebook's model classes and block functions, as its code cells define them."""
    scope = {"torch": torch, "nn": nn, "F": F, "block": layers.block}
    exec(compile(model_source(part), f"<{part}>", "exec"), scope)
    return scope


def part2_model() -> nn.Module:
    """Part-2's model in evaluation mode, its BatchNorm statistics and scales drawn away from their defaults."""
    torch.manual_seed(0)
    model = models("part2")["Net"]()
    for bn in (m for m in model.modules() if isinstance(m, nn.BatchNorm2d)):
        bn.running_mean.normal_(); bn.running_var.uniform_(0.5, 2.0); bn.weight.data.normal_(); bn.bias.data.normal_()
    return model


def part3_scope() -> dict:
    recipe, steps = notebook_recipe("part3"), 469  # 60,000 training images in batches of 128
    probe = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=recipe["PEAK_LR"])
    schedule = warmup_cosine_floor(probe, steps, warmup_epochs=recipe["WARMUP_EPOCHS"], floor_epoch=recipe["FLOOR_EPOCH"])
    rates = []
    for _ in range(recipe["EPOCHS"] * steps):  # as step 7 records them
        rates.append(probe.param_groups[0]["lr"])
        probe.step()
        schedule.step()
    return {**recipe, "math": math, "rates": rates, "train_loader": range(steps)}


SCOPES = {
    "part1": lambda: {"Net": models("part1")["Net"]},
    "part2": lambda: {"model": part2_model()},
    "part3": part3_scope,
    "part4": lambda: models("part4"),
}
# what each solution's text says its output shows
SAYS = {"part1": ["conv5: 2,570 by hand", "conv5 reading a 9x9 map: 12,970"], "part2": ["largest difference"], "part3": ["first below 0.1 in epoch 11"],
        "part4": ["separable 22->22: 726 by hand", "a 3x3 block: 4400", "largest c2 under 4,000: 22"]}


@pytest.mark.parametrize("part", list(SCOPES))
def test_each_code_solution_runs_and_its_checks_hold(part):
    found = solutions(part)
    assert len(found) == 1, f"{part}: expected one code exercise with a worked solution, found {len(found)}"
    scope = {"torch": torch, "nn": nn, "F": F, "count_parameters": count_parameters, "block": layers.block,
             **SCOPES[part]()}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(found[0], f"<{part} solution>", "exec"), scope)
    printed = out.getvalue()
    assert "True" in printed and "False" not in printed, printed
    for line in SAYS[part]:
        assert line in printed, (line, printed)
