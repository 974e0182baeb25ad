"""The ladders of Parts 2 and 3: one change at a time, each rung measured on the validation split.

    python -m lab.ladder --part part2                  # results/ladder_part2.json
    python -m lab.ladder --part part3                  # results/ladder_part3.json
    python -m lab.ladder --part part3 --leave-one-out  # results/leave_one_out_part3.json
    python -m lab.ladder --part part3 --tune           # lab/results/tuning_part3.json
The tuning study keeps every ingredient and changes one setting of the recipe at a time, or a batch and its rate
together (``TUNINGS``), looking for margin above the target; a setting is worth changing by the same rule, read the
other way.

A ladder adds one ingredient at a time, so it measures each on a model that later rungs change.
The leave-one-out study takes each ingredient out of the finished recipe instead, one at a time
(and two that interact, together): its one rung is the recipe, its branches are the recipe less one thing.

Each rung adds one change to the previous rung and is trained on the 50,000 training images of
``mnist_helpers.data.load_train_val`` and measured on its 10,000 validation images, on the same
seeds (the same initial weights and first epoch's batches for every rung, so the differences pair seed by
seed; the loader's one generator draws the shuffles and the augmentation, so after the first epoch a rung
with other augmentation draws sees its batches in another order).
The models are the notebooks' own (``scripts.notebook_code``), and every number of a recipe is read
from the notebook that teaches it (``LR``, ``PEAK_LR``, ``EMA_DECAY``, ...), so the top rung of a ladder is
the notebook's recipe. The file is written after every run, with the split, the CPU kind and the
command; rerunning the command resumes it, keeping the runs whose recipe has not changed.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import time
from pathlib import Path

import torch

from mnist_helpers import RandomRotateCrop, TensorLoader, count_parameters, ema_model, fit, set_seed, warmup_cosine_floor
from mnist_helpers.cpu_kind import command_prefix, cpu_kind
from mnist_helpers.data import SPLIT_SEED, VAL_SIZE, load_mnist_tensors, load_train_val, train_val_indices
from mnist_helpers.paths import results_dir
from mnist_helpers.results import device_description, leave_one_out_table, load_results, save_results

from mnist_helpers.recipes import notebook_recipe
from scripts.notebook_code import notebook_model

from . import RESULTS as LAB_RESULTS

LADDERS = ("part2", "part3")
SMOOTHING_TRIED = 0.1  # the label smoothing that Part-3's recipe search and the frontier screen measure
SEEDS = (100, 101, 102, 103, 104)  # not the notebooks' seed (1) nor the sweeps' (0-11)
LAST_EPOCHS = 5

# A recipe: which notebook's Net, with which arguments, trained how. The names are the notebooks'.
RECIPE_DEFAULTS = {
    "MODEL": None,            # the notebook whose model is built: "part1", "part2", "part3" or "part4"
    "NET": "Net",             # the model's class in that notebook (Part-4 also has "SeparableNet")
    "NET_ARGS": {},           # keyword arguments of that class
    "CHANNELS_LAST": False,   # the memory layout Part-3 uses for speed
    "BATCH_SIZE": 128,
    "EPOCHS": 15,
    "LR": None,               # a constant learning rate (Parts 1 and 2) ...
    "PEAK_LR": None,          # ... or the peak of Part-3's warm-up/cosine/floor schedule
    "WARMUP_EPOCHS": None,
    "FLOOR_EPOCH": None,
    "NESTEROV": False,
    "DEGREES": 0,             # training-time rotation, ±degrees (0: no augmentation)
    "CROP_PROB": 0.0,
    "CROP_SIZE": 22,
    "TRANSLATE": 0,           # training-time shifts of up to ±TRANSLATE pixels along each axis
    "EMA_DECAY": None,        # None: evaluate the live weights
    "LABEL_SMOOTHING": 0.0,
    "GENTLE_EPOCHS": 0,       # the last epochs train with rotation within ±GENTLE_DEGREES and no crop
    "GENTLE_DEGREES": 0,
}
# Keys a recipe holds only when set, so the recipes that leave them alone compare equal to the committed ones:
# {name: (its value when absent, what it is)}
OPTIONAL_KEYS = {
    "MOMENTUM": (0.9, "SGD's momentum (the notebooks' MOMENTUM)"),
    "STEM_KERNEL": (None, "the first convolution's kernel size (absent: the notebook's own)"),
    "WEIGHT_DECAY": (0, "SGD's weight decay, on every parameter"),
}


def recipe(**changes) -> dict:
    """``RECIPE_DEFAULTS`` with ``changes`` (which may also set ``OPTIONAL_KEYS``; one at its absent value is left
    out), as its JSON file will hold it (tuples become lists, so a recipe read back from the file compares equal);
    an unknown name raises."""
    unknown = set(changes) - set(RECIPE_DEFAULTS) - set(OPTIONAL_KEYS)
    if unknown:
        raise KeyError(f"unknown recipe key(s) {sorted(unknown)}; known: {sorted(RECIPE_DEFAULTS) + sorted(OPTIONAL_KEYS)}")
    changes = {k: v for k, v in changes.items() if not (k in OPTIONAL_KEYS and v == OPTIONAL_KEYS[k][0])}
    return json.loads(json.dumps({**RECIPE_DEFAULTS, **changes}))


def _constants(part: str, *names: str) -> dict:
    """``names`` from ``part``'s recipe cell; a name the cell leaves out takes ``RECIPE_DEFAULTS``'s value (off),
    or its absent value for one of ``OPTIONAL_KEYS``."""
    recipe = notebook_recipe(part)
    return {name: recipe[name] if name in recipe else setting(RECIPE_DEFAULTS, name) for name in names}


def rungs(part: str) -> list[dict]:
    """The rungs of ``part``'s ladder, bottom first: ``{"rung", "change", "recipe"}``; each adds one change."""
    p1 = _constants("part1", "BATCH_SIZE", "EPOCHS", "LR", "MOMENTUM")
    p2 = _constants("part2", "BATCH_SIZE", "EPOCHS", "LR", "MOMENTUM", "DROPOUT")
    p3 = _constants("part3", "BATCH_SIZE", "EPOCHS", "MOMENTUM", "PEAK_LR", "WARMUP_EPOCHS", "FLOOR_EPOCH", "EMA_DECAY",
                    "LABEL_SMOOTHING", "GENTLE_EPOCHS", "GENTLE_DEGREES", "DEGREES", "CROP_PROB", "CROP_SIZE", "TRANSLATE")
    wide = (10, 16, 16, 16)  # Part-1's channels
    part2_final = recipe(MODEL="part2", NET_ARGS={"dropout": p2["DROPOUT"]}, BATCH_SIZE=p2["BATCH_SIZE"],
                         EPOCHS=p2["EPOCHS"], LR=p2["LR"], MOMENTUM=p2["MOMENTUM"])
    if part == "part2":
        steps = [
            ("Part-1's model and recipe", recipe(MODEL="part1", **p1)),
            ("+ BatchNorm (same channels, same learning rate)",
             recipe(MODEL="part2", NET_ARGS={"channels": wide, "gap": False, "dropout": 0.0}, **p1)),
            (f"+ the higher learning rate BatchNorm allows ({p1['LR']:g} to {p2['LR']:g})",
             recipe(MODEL="part2", NET_ARGS={"channels": wide, "gap": False, "dropout": 0.0}, **{**p1, "LR": p2["LR"]})),
            ("global average pooling instead of the big last kernel",
             recipe(MODEL="part2", NET_ARGS={"channels": wide, "dropout": 0.0}, **{**p1, "LR": p2["LR"]})),
            ("narrowed to 8-12-12-12 channels (at most 4,000 parameters)",
             recipe(MODEL="part2", NET_ARGS={"dropout": 0.0}, **{**p1, "LR": p2["LR"]})),
            (f"+ dropout {p2['DROPOUT']:g}: Part-2's model and recipe", part2_final),
        ]
    elif part == "part3":
        augmented = {**part2_final, "DEGREES": p3["DEGREES"], "CROP_PROB": p3["CROP_PROB"], "CROP_SIZE": p3["CROP_SIZE"],
                     "TRANSLATE": p3["TRANSLATE"]}
        scheduled = {**augmented, "LR": None, "PEAK_LR": p3["PEAK_LR"], "WARMUP_EPOCHS": p3["WARMUP_EPOCHS"],
                     "FLOOR_EPOCH": p3["FLOOR_EPOCH"]}
        averaged = {**scheduled, "EMA_DECAY": p3["EMA_DECAY"]}
        steps = [
            ("Part-2's model and recipe", part2_final),
            (f"+ augmentation (rotation ±{p3['DEGREES']:g}°, a {p3['CROP_SIZE']}×{p3['CROP_SIZE']} crop "
             f"with p = {p3['CROP_PROB']:g}" + (f", shifts of up to ±{p3['TRANSLATE']:g} px" if p3["TRANSLATE"] else "")
             + ")", augmented),
            (f"+ the warm-up/cosine/floor schedule, peak {p3['PEAK_LR']:g}", scheduled),
            (f"+ the EMA of the weights (decay {p3['EMA_DECAY']:g})", averaged),
        ]
        if p3["LABEL_SMOOTHING"]:  # a rung only while the notebook's recipe smooths its labels (a branch otherwise)
            averaged = {**averaged, "LABEL_SMOOTHING": p3["LABEL_SMOOTHING"]}
            steps.append((f"+ label smoothing {p3['LABEL_SMOOTHING']:g}", averaged))
        designed = {**averaged, "MODEL": "part3", "NET_ARGS": {}, "CHANNELS_LAST": True,
                    "BATCH_SIZE": p3["BATCH_SIZE"], "EPOCHS": p3["EPOCHS"], "MOMENTUM": p3["MOMENTUM"]}
        steps.append(("the < 8,000-parameter design (5×5 stem, no dropout)", designed))
        if p3["GENTLE_EPOCHS"]:  # a rung only while the notebook's recipe has gentle last epochs
            steps.append((f"+ the gentle last {p3['GENTLE_EPOCHS']} epochs",
                          {**designed, "GENTLE_EPOCHS": p3["GENTLE_EPOCHS"], "GENTLE_DEGREES": p3["GENTLE_DEGREES"]}))
        steps[-1] = (steps[-1][0] + ": Part-3's model and recipe", steps[-1][1])
    else:
        raise ValueError(f"no ladder for {part!r}; use 'part2' or 'part3'")
    return [{"rung": i, "change": change, "recipe": recipe(**r)} for i, (change, r) in enumerate(steps)]


def branches(part: str) -> list[dict]:
    """Changes measured off the ladder, each against one rung (``"base"``), for the notebooks' exercises:
    ``{"branch", "change", "base", "recipe"}``. Each is the edit of one named constant of a notebook."""
    steps = rungs(part)
    found = []
    if part == "part2":
        higher = steps[2]["recipe"]["LR"]
        found = [(f"Part-1 at the higher learning rate, without BatchNorm (LR = {higher:g})", 0,
                  {**steps[0]["recipe"], "LR": higher})]
    elif part == "part3":
        top = steps[-1]["recipe"]
        found = [("Part-3 without augmentation (DEGREES = 0, CROP_PROB = 0" + (", TRANSLATE = 0" if top["TRANSLATE"] else "")
                  + (", GENTLE_DEGREES = 0)" if top["GENTLE_EPOCHS"] else ")"), len(steps) - 1,
                  {**top, "DEGREES": 0, "CROP_PROB": 0.0, "TRANSLATE": 0, "GENTLE_DEGREES": 0, "GENTLE_EPOCHS": 0})]
        if top["LABEL_SMOOTHING"]:
            found.append(("Part-3 without label smoothing (LABEL_SMOOTHING = 0)", len(steps) - 1,
                          {**top, "LABEL_SMOOTHING": 0.0}))
        else:
            found.append((f"Part-3 with label smoothing (LABEL_SMOOTHING = {SMOOTHING_TRIED:g})", len(steps) - 1,
                          {**top, "LABEL_SMOOTHING": SMOOTHING_TRIED}))
    return [{"branch": i, "change": change, "base": base, "recipe": recipe(**r)}
            for i, (change, base, r) in enumerate(found)]


def leave_one_out(part: str) -> list[dict]:
    """``part``'s finished recipe less one ingredient at a time, as branches of its one rung (the recipe):
    ``{"branch", "change", "base", "recipe"}``. Each change says what "out" means for that ingredient."""
    if part != "part3":
        raise ValueError(f"no leave-one-out study for {part!r}; use 'part3'")
    top = rungs(part)[-1]["recipe"]
    constant_lr = notebook_recipe("part2")["LR"]
    no_augmentation = {"DEGREES": 0, "CROP_PROB": 0.0, "TRANSLATE": 0, "GENTLE_EPOCHS": 0, "GENTLE_DEGREES": 0}
    rotation_out = {"DEGREES": 0, "GENTLE_DEGREES": 0} if top["GENTLE_EPOCHS"] else {"DEGREES": 0}
    found = [  # (the ingredient is in the recipe, what "out" means, the change)
        (top["DEGREES"], "rotation out (" + " and ".join(f"{k} = 0" for k in rotation_out)
         + ("; the crop and the shifts stay)" if top["TRANSLATE"] else "; the crop stays)"), rotation_out),
        (top["CROP_PROB"], "crop out (CROP_PROB = 0; the rotation " + ("and the shifts stay)" if top["TRANSLATE"] else "stays)"),
         {"CROP_PROB": 0.0}),
        (top["TRANSLATE"], "shift out (TRANSLATE = 0; the rotation and the crop stay)", {"TRANSLATE": 0}),
        (top["PEAK_LR"], f"schedule out (a constant rate of {constant_lr:g}, Part-2's, not tuned for this model, instead "
         "of the warm-up, cosine and floor)", {"LR": constant_lr, "PEAK_LR": None, "WARMUP_EPOCHS": None, "FLOOR_EPOCH": None}),
        (top["NESTEROV"], "Nesterov out (plain momentum 0.9)", {"NESTEROV": False}),
        (top["EMA_DECAY"], "EMA out (the live weights are evaluated)", {"EMA_DECAY": None}),
        (top["LABEL_SMOOTHING"], "label smoothing out (LABEL_SMOOTHING = 0)", {"LABEL_SMOOTHING": 0.0}),
        (top["GENTLE_EPOCHS"], "gentle epochs out (the full augmentation to the end: GENTLE_EPOCHS = 0)", {"GENTLE_EPOCHS": 0}),
        (True, "5×5 stem out (a 3×3 first convolution: 128 parameters fewer; the maps run 26, 13, 11, 9, 4 wide)",
         {"STEM_KERNEL": 3}),
        (top["DEGREES"] and top["CROP_PROB"], "augmentation out (no rotation, no crop" + (", no shift" if top["TRANSLATE"] else "")
         + (", no gentle epochs)" if top["GENTLE_EPOCHS"] else ")"), no_augmentation),
        (top["DEGREES"] and top["LABEL_SMOOTHING"], "augmentation and label smoothing out (both at once)",
         {**no_augmentation, "LABEL_SMOOTHING": 0.0}),
    ]
    found = [(change, edit) for present, change, edit in found if present]
    return [{"branch": i, "change": change, "base": 0, "recipe": recipe(**{**top, **edit})}
            for i, (change, edit) in enumerate(found)]


def scaled_with_the_batch(r: dict, batch_size: int) -> float:
    """Recipe ``r``'s peak rate for ``batch_size`` images a step instead of its own: the rate per image kept."""
    return r["PEAK_LR"] * batch_size / r["BATCH_SIZE"]


# The tuning study's changes: one setting of the recipe at a time (names of RECIPE_DEFAULTS or OPTIONAL_KEYS), or
# two that go together; a value may be a function of the recipe
TUNINGS = (
    {"FLOOR_EPOCH": 10},    # five epochs at the floor instead of three: every epoch the target reads is settled
    {"FLOOR_EPOCH": 14},    # a longer cosine, one epoch at the floor
    {"EMA_DECAY": 0.999},   # an average over about 1,000 steps instead of 500
    {"PEAK_LR": 0.4},
    {"PEAK_LR": 1.2},
    {"WARMUP_EPOCHS": 2},
    {"TRANSLATE": 1},       # a third kind of augmentation: shifts of up to 1 pixel along each axis, at no cost in time
    {"TRANSLATE": 2},
    {"WEIGHT_DECAY": 5e-5},  # at Part-3's peak (0.8), about the product of rate and decay of the common 0.1 and 5e-4
    {"WEIGHT_DECAY": 2e-4},
    {"DEGREES": 10},        # a gentler rotation: the model fits its augmented training images less well than validation
    {"BATCH_SIZE": 64, "PEAK_LR": lambda r: scaled_with_the_batch(r, 64)},  # twice the steps in 15 epochs
    # the layout within 8,000 parameters: Part-5's model (16 channels everywhere, pooled to 5x5 after one block),
    # with Part-3's stem (a 5x5 convolution and a max-pool) and with its own (a 5x5 convolution with stride 2)
    {"MODEL": "part5", "NET_ARGS": {"stem": "pool"}},
    {"MODEL": "part5", "NET_ARGS": {"stem": "stride2"}},
)


def setting(r: dict, name: str):
    """Recipe ``r``'s value of ``name``; an optional key that ``r`` leaves out takes its absent value (``OPTIONAL_KEYS``)."""
    return r[name] if name in r else OPTIONAL_KEYS[name][0]


def _shown(value) -> str:
    """A recipe value as a change's text names it: numbers as %g, the rest as JSON."""
    return f"{value:g}" if isinstance(value, (int, float)) and not isinstance(value, bool) else json.dumps(value)


def resolved(change: dict, r: dict) -> dict:
    """A ``TUNINGS`` change with its values for recipe ``r`` (a value that is a function of the recipe, called)."""
    return {name: value(r) if callable(value) else value for name, value in change.items()}


def tunings(part: str) -> list[dict]:
    """``part``'s recipe with one change of ``TUNINGS``, as branches of its one rung (the recipe); a change the recipe
    already has is left out."""
    if part != "part3":
        raise ValueError(f"no tuning study for {part!r}; use 'part3'")
    top = rungs(part)[-1]["recipe"]
    changes = [resolved(change, top) for change in TUNINGS]
    changes = [change for change in changes if any(setting(top, name) != value for name, value in change.items())]
    return [{"branch": i, "change": ", ".join(f"{name} {_shown(setting(top, name))} → {_shown(value)}"
                                              for name, value in change.items()),
             "base": 0, "recipe": recipe(**{**top, **change})}
            for i, change in enumerate(changes)]


def study(part: str, leave_out: bool = False, tune: bool = False) -> tuple[str, list[dict], list[dict]]:
    """The file name, rungs and branches of ``part``'s ladder, of its leave-one-out study or of its tuning study."""
    if tune:
        top = rungs(part)[-1]
        return f"tuning_{part}", [{**top, "rung": 0, "change": "Part-3's model and recipe"}], tunings(part)
    if leave_out:
        top = rungs(part)[-1]
        return f"leave_one_out_{part}", [{**top, "rung": 0, "change": "Part-3's model and recipe"}], leave_one_out(part)
    return f"ladder_{part}", rungs(part), branches(part)


def ladder_recipe(part: str) -> dict:
    """``part``'s recipe cell in the ladder's form (the model, its arguments and the recipe's names): the top
    rung of its ladder."""
    if part not in LADDERS:
        raise ValueError(f"no recipe for {part!r}; the notebooks with one are {', '.join(LADDERS)}")
    return rungs(part)[-1]["recipe"]


def split_description() -> dict:
    """What the ladder trains and validates on, so its file says which split it used."""
    _, labels = load_mnist_tensors("train")
    train, val = train_val_indices(labels)
    return {"train_images": len(train), "val_images": len(val), "val_size": VAL_SIZE, "split_seed": SPLIT_SEED,
            "stratified": True, "val_indices_sha256": hashlib.sha256(val.numpy().tobytes()).hexdigest()}


def augmentations(r: dict) -> tuple:
    """Recipe ``r``'s training augmentation (None without one) and the gentle one of its last epochs."""
    augment = (RandomRotateCrop(degrees=r["DEGREES"], crop_prob=r["CROP_PROB"], crop_size=r["CROP_SIZE"],
                                interpolation="nearest", translate=r["TRANSLATE"])
               if r["DEGREES"] or r["CROP_PROB"] or r["TRANSLATE"] else None)
    gentle = RandomRotateCrop(degrees=r["GENTLE_DEGREES"], crop_prob=0.0, crop_size=r["CROP_SIZE"], interpolation="nearest")
    return augment, gentle


def gentle_epoch(r: dict, epoch: int) -> bool:
    """Whether epoch ``epoch`` (from 1) of recipe ``r`` trains on the gentle augmentation."""
    return bool(r["GENTLE_EPOCHS"]) and epoch > r["EPOCHS"] - r["GENTLE_EPOCHS"]


def optimizer_schedule_ema(r: dict, model: torch.nn.Module, steps_per_epoch: int) -> tuple:
    """Recipe ``r``'s SGD, its warm-up/cosine/floor schedule stepped per batch (None at a constant rate) and its
    EMA (None without one), for ``model``."""
    scheduled = r["PEAK_LR"] is not None
    optimizer = torch.optim.SGD(model.parameters(), lr=r["PEAK_LR"] if scheduled else r["LR"],
                                momentum=setting(r, "MOMENTUM"),
                                nesterov=r["NESTEROV"], weight_decay=setting(r, "WEIGHT_DECAY"))
    scheduler = (warmup_cosine_floor(optimizer, steps_per_epoch, warmup_epochs=r["WARMUP_EPOCHS"],
                                     floor_epoch=r["FLOOR_EPOCH"]) if scheduled else None)
    ema = ema_model(model, decay=r["EMA_DECAY"]) if r["EMA_DECAY"] is not None else None
    return optimizer, scheduler, ema


def rung_model(r: dict) -> torch.nn.Module:
    """Recipe ``r``'s model, with its initial weights drawn from torch's generator as it stands."""
    model = notebook_model(r["MODEL"], r["NET"], **r["NET_ARGS"])
    if "STEM_KERNEL" in r:  # drawn after the rest of the model, whose initial weights stay those of the recipe
        stem = model.conv1
        model.conv1 = torch.nn.Conv2d(stem.in_channels, stem.out_channels, r["STEM_KERNEL"], stride=stem.stride,
                                      padding=stem.padding, bias=stem.bias is not None)
    return model


def train_rung(r: dict, seed: int, data: dict, device=torch.device("cpu"), keep: bool = False) -> dict:
    """Train one rung's recipe ``r`` with ``seed`` on ``data["train"]`` and validate on ``data["val"]`` each epoch;
    ``keep`` adds the trained ``model`` and its ``ema`` to the result."""
    set_seed(seed)
    model = rung_model(r).to(device)
    if r["CHANNELS_LAST"]:
        model = model.to(memory_format=torch.channels_last)
    augment, gentle = augmentations(r)
    train_loader = TensorLoader(*data["train"], r["BATCH_SIZE"], shuffle=True, seed=seed, device=device, augment=augment)
    val_loader = TensorLoader(*data["val"], 1000, device=device)
    optimizer, scheduler, ema = optimizer_schedule_ema(r, model, len(train_loader))

    def gentler_at_the_end(epoch):
        if r["GENTLE_EPOCHS"]:
            train_loader.augment = gentle if gentle_epoch(r, epoch) else augment

    history = fit(model, train_loader, val_loader, optimizer, scheduler, epochs=r["EPOCHS"],
                  step_scheduler_per_batch=scheduler is not None, label_smoothing=r["LABEL_SMOOTHING"], ema=ema,
                  before_epoch=gentler_at_the_end, verbose=False)
    return {"params": count_parameters(model), "val_acc": history.test_acc, "train_acc": history.train_acc,
            "final_val_acc": history.test_acc[-1], "last5_min_val_acc": min(history.test_acc[-LAST_EPOCHS:]),
            "seconds_per_epoch": statistics.fmean(history.epoch_seconds), **({"model": model, "ema": ema} if keep else {})}


def run_summary(runs: dict, base: dict | None, val_images: int) -> dict | None:
    """Seed runs' summary: mean final validation accuracy, worst of the last 5 epochs, seconds per epoch and,
    against ``base``'s runs, the validation images gained at the final epoch (``images_gained``) and in the worst
    of the last 5 epochs (``images_gained_last5``), paired seed by seed."""
    if not runs:
        return None
    finals = {s: run["final_val_acc"] for s, run in runs.items()}
    summary = {"seeds": [int(s) for s in runs], "params": next(iter(runs.values()))["params"],
               "final_val_acc_mean": statistics.fmean(finals.values()),
               "worst_last5_min_val_acc": min(run["last5_min_val_acc"] for run in runs.values()),
               "seconds_per_epoch": statistics.fmean(run["seconds_per_epoch"] for run in runs.values())}
    for key, measure in (("images_gained", "final_val_acc"), ("images_gained_last5", "last5_min_val_acc")):
        paired = [round((runs[s][measure] - base[s][measure]) * val_images / 100) for s in runs if s in (base or {})]
        if paired:
            summary[key] = {"mean": statistics.fmean(paired), "min": min(paired), "max": max(paired), "per_seed": paired}
    return summary


def summarize(ladder: dict) -> dict:
    """Each rung's mean final validation accuracy, worst of the last 5 epochs over its seeds, and what the rung
    bought over the previous rung: the mean change in validation images right at the final epoch, and its range
    (paired seed by seed). A branch is compared with its base rung in the same way."""
    val_images = ladder["split"]["val_images"]
    below = None
    for rung in ladder["rungs"]:
        summary = run_summary(rung["per_seed"], below, val_images)
        rung.pop("summary", None)
        if summary is not None:
            rung["summary"] = summary
        below = rung["per_seed"]
    for branch in ladder.get("branches", []):
        summary = run_summary(branch["per_seed"], ladder["rungs"][branch["base"]]["per_seed"], val_images)
        branch.pop("summary", None)
        if summary is not None:
            branch["summary"] = summary
    return ladder


def study_file(name: str) -> Path:
    """Where study ``name`` is kept: a tuning study, which only the lab reads, in ``lab/results/``; a ladder or a
    leave-one-out study, which the notebooks read, in ``results/``."""
    return (LAB_RESULTS if name.startswith("tuning_") else results_dir()) / f"{name}.json"


def file_label(path: Path) -> str:
    """``results/NAME.json`` or ``lab/results/NAME.json``, as a study names the file its runs came from."""
    return f"lab/results/{path.name}" if path.parent == LAB_RESULTS else f"results/{path.name}"


def committed_runs(paths, split: dict, kind: str) -> list[tuple[dict, dict, str]]:
    """(recipe, per-seed runs, file) of every rung, branch and candidate in the committed validation results
    at ``paths`` (ladders, studies, the frontier screen) measured on ``split`` as ``kind``: a recipe trained
    there is not trained again."""
    found = []
    for path in paths:
        if not path.is_file():
            continue
        other = load_results(path.stem, path.parent)
        if other["split"] != split or other.get("cpu_kind") != kind:
            continue
        entries = other.get("rungs", []) + other.get("branches", []) + list(other.get("candidates", {}).values())
        found += [(e["recipe"], e["per_seed"], file_label(path)) for e in entries if e["per_seed"]]
    return found


def with_runs(step: dict, pool: list, own: str) -> dict:
    """``step`` (a rung, a branch or a candidate) with every run of its recipe in ``pool`` (``committed_runs``'s
    form; the first of a seed wins), and which files other than ``own`` they came from."""
    runs, sources = {}, []
    for recipe_, per_seed, where in pool:
        if recipe_ == step["recipe"]:
            runs = {**per_seed, **runs}
            if where != own and where not in sources:
                sources.append(where)
    runs = dict(sorted(runs.items(), key=lambda item: int(item[0])))
    return {**step, **({"runs_from": ", ".join(sources)} if sources else {}), "per_seed": runs}


def run_ladder(part: str, seeds=SEEDS, *, command: str, only=None, leave_out: bool = False, tune: bool = False) -> dict:
    """Train every rung of ``part`` (or the rungs ``only``) on ``seeds``, resuming ``results/ladder_PART.json``
    (``leave_out``: its leave-one-out study, ``results/leave_one_out_PART.json``; ``tune``: its tuning study,
    ``lab/results/tuning_PART.json``)."""
    name, steps, off = study(part, leave_out, tune)
    path = study_file(name)
    own = file_label(path)
    split = split_description()
    kind = cpu_kind()
    earlier = load_results(name, path.parent) if path.is_file() else None
    if earlier is not None and earlier["split"] != split:
        raise RuntimeError(f"{own} was measured on another split ({earlier['split']}); "
                           f"move it away to start the ladder again")
    if earlier is not None and earlier.get("cpu_kind") != kind:
        raise RuntimeError(f"{own} was measured on {earlier.get('cpu_kind')}, this machine runs {kind}; "
                           f"a ladder keeps to one CPU kind (move the file away to start again)")
    # every committed run on this split and CPU kind, by recipe: this file's, the other ladders' and studies', the frontier screen's
    pool = [(r["recipe"], r["per_seed"], own) for r in (earlier or {}).get("rungs", []) + (earlier or {}).get("branches", [])]
    others = sorted((p for folder in (results_dir(), LAB_RESULTS) for p in folder.glob("*.json")
                     if p.stem.startswith(("ladder_", "leave_one_out_", "tuning_")) or p.stem == "frontier_screen"),
                    key=lambda p: p.stem)
    pool += committed_runs([other for other in others if other != path], split, kind)
    ladder = {"about": __doc__.splitlines()[0], "part": part, "split": split, "cpu_kind": kind,
              "device": device_description(torch.device("cpu")), "torch_version": torch.__version__,
              "command": command, "last_epochs": LAST_EPOCHS, "rungs": []}
    for r in steps:
        ladder["rungs"].append(with_runs(r, pool, own))
    ladder["branches"] = [with_runs(b, pool, own) for b in off]
    data = load_train_val()
    for rung in ladder["rungs"] + ladder["branches"]:
        if only is not None and rung.get("rung") not in only:
            continue
        for seed in seeds:
            if str(seed) in rung["per_seed"]:
                continue
            start = time.perf_counter()
            run = train_rung(rung["recipe"], seed, data)
            rung["per_seed"][str(seed)] = run
            rung["per_seed"] = dict(sorted(rung["per_seed"].items(), key=lambda item: int(item[0])))
            where = f"rung {rung['rung']}" if "rung" in rung else f"branch {rung['branch']}"
            print(f"{where} ({rung['change']}), seed {seed}: final {run['final_val_acc']:.2f}%, "
                  f"worst of last 5 {run['last5_min_val_acc']:.2f}% ({time.perf_counter() - start:.0f} s)", flush=True)
            save_results(name, summarize(ladder), path.parent)
    return summarize(ladder)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.ladder", description=__doc__.splitlines()[0])
    parser.add_argument("--part", required=True, choices=LADDERS)
    parser.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    parser.add_argument("--rungs", type=int, nargs="+", default=None,
                        help="train only these rungs and no branch (default: every rung, then every branch)")
    parser.add_argument("--leave-one-out", action="store_true",
                        help="take each ingredient out of the finished recipe instead of climbing to it")
    parser.add_argument("--tune", action="store_true", help="change one setting of the finished recipe at a time")
    args = parser.parse_args(argv)
    if args.tune and args.leave_one_out:
        parser.error("--tune and --leave-one-out are two studies; run them one at a time")
    command = "python -m lab.ladder " + " ".join(argv if argv is not None else sys.argv[1:])
    command = command_prefix() + command
    ladder = run_ladder(args.part, args.seeds, command=command, only=args.rungs, leave_out=args.leave_one_out,
                        tune=args.tune)
    name = study(args.part, args.leave_one_out, args.tune)[0]
    path = save_results(name, ladder, study_file(name).parent)
    if args.leave_one_out:
        print(leave_one_out_table(ladder))
    else:
        for rung in ladder["rungs"] + ladder["branches"]:
            s = rung.get("summary")
            if s:
                gained = s.get("images_gained")
                print(f"{rung.get('rung', 'branch')}. {rung['change']}: {s['final_val_acc_mean']:.2f}% mean final, "
                      f"worst of last 5 {s['worst_last5_min_val_acc']:.2f}%" + (f", {gained['mean']:+.1f} images" if gained else ""))
    print(f"wrote {file_label(path)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
