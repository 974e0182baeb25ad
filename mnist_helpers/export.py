"""Save a trained model in a form that loads without its Python class, and load it back.

:func:`save_model` writes one consistent set: ``<name>.pt2`` with ``torch.export`` (the graph
and the weights, no pickled module), the same model as ``<name>.onnx`` for use without
PyTorch (onnxruntime, or a web page), and the metadata, inside the files and as
``<name>.json`` for people reading the repository. :func:`load_model` returns a callable
module. ``python -m mnist_helpers.export models/part3.pt2`` rewrites the ONNX file alone.

Given ``stages`` (``{label: module}``, in the order the model runs them), both files also return what
each stage sees: the ONNX file as extra outputs named ``stage_1``, ``stage_2``, ... after ``logits``, so
that the drawing page gets the prediction and every feature map from one run. The metadata describes
each stage (its label, shape and the kernels of the convolution that made it) and, with ``head``, the
weights that turn the last stage's averages into logits. :func:`load_model` returns the logits alone, stages or
not.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import torch

from .paths import models_dir
from .transforms import MNIST_MEAN, MNIST_STD

INPUT_SHAPE = (1, 28, 28)  # per image; the batch dimension is dynamic
_METADATA = "metadata.json"


def _exportable(model: torch.nn.Module) -> torch.nn.Module:
    """The module to export: the averaged copy inside an ``AveragedModel``, on the CPU, in eval mode."""
    module = getattr(model, "module", model)
    return module.to("cpu", memory_format=torch.contiguous_format).eval()


class WithStages(torch.nn.Module):
    """``model`` that returns ``(logits, stage 1 output, stage 2 output, ...)`` for the modules ``stages``."""

    def __init__(self, model: torch.nn.Module, stages: list):
        super().__init__()
        self.model = model
        self.stage_modules = list(stages)  # a plain list: the modules stay registered once, under self.model

    def forward(self, x):
        outputs = [None] * len(self.stage_modules)

        def keep(i):
            return lambda module, args, out: outputs.__setitem__(i, out)

        hooks = [m.register_forward_hook(keep(i)) for i, m in enumerate(self.stage_modules)]
        try:
            logits = self.model(x)
        finally:
            for hook in hooks:
                hook.remove()
        missing = [i + 1 for i, out in enumerate(outputs) if out is None]
        if missing:
            raise ValueError(f"stage(s) {missing} did not run in the model's forward pass")
        return (logits, *outputs)


def stage_metadata(model: torch.nn.Module, stages: dict, head: torch.nn.Module | None = None) -> dict:
    """What the page needs to draw ``stages`` (``{label: module}`` of ``model``): for each, its output name,
    label and shape, and the weights of the last convolution that ran before it (whose output channels it
    shows; a later stage made by the same convolution, such as the averages, names that stage in ``kernels_of``);
    with ``head`` (a ``Linear`` or 1x1 ``Conv2d`` reading the last stage's averages), its weights."""
    model = _exportable(model)
    order, last_conv, made_by = [], [None], {}
    wanted = {id(m): label for label, m in stages.items()}

    def on_forward(module, args, out):
        if isinstance(module, torch.nn.Conv2d):
            last_conv[0] = module
        if id(module) in wanted:
            order.append(wanted[id(module)])
            made_by[wanted[id(module)]] = (last_conv[0], tuple(out.shape[1:]))

    hooks = [m.register_forward_hook(on_forward) for m in model.modules()]
    try:
        with torch.no_grad():
            model(torch.zeros(1, *INPUT_SHAPE))
    finally:
        for hook in hooks:
            hook.remove()
    if order != list(stages):
        raise ValueError(f"stages must be given in the order the model runs them: it ran {order}, given {list(stages)}")
    described, kernels_of = [], {}
    for i, label in enumerate(stages, start=1):
        conv, shape = made_by[label]
        entry = {"name": f"stage_{i}", "label": label, "shape": list(shape)}
        if conv is not None and conv.out_channels == shape[0]:
            if id(conv) in kernels_of:  # a pool or the averages after a stage: the same kernels, named once
                entry["kernels_of"] = kernels_of[id(conv)]
            else:
                entry["kernels"] = _rounded(conv.weight)
                kernels_of[id(conv)] = entry["name"]
        described.append(entry)
    meta = {"outputs": ["logits"] + [s["name"] for s in described], "stages": described}
    if head is not None:
        weight = head.weight.detach().reshape(head.weight.shape[0], -1)
        if weight.shape != (10, described[-1]["shape"][0]) or described[-1]["shape"][1:] != [1, 1]:
            raise ValueError(f"head must map the last stage's {described[-1]['shape'][0]} averages to 10 logits; "
                             f"its weight is {tuple(head.weight.shape)} and the last stage {described[-1]['shape']}")
        meta["head"] = {"stage": described[-1]["name"], "weight": _rounded(weight),
                        "bias": _rounded(head.bias) if head.bias is not None else [0.0] * 10}
    return meta


def _rounded(tensor: torch.Tensor):
    return torch.round(tensor.detach().float().cpu(), decimals=6).tolist()


def _exported_program(model: torch.nn.Module, stages: dict | None = None) -> torch.export.ExportedProgram:
    example = torch.zeros(2, *INPUT_SHAPE)
    batch = torch.export.Dim("batch", min=1, max=1_000_000)
    module = _exportable(model)
    if stages:
        module = WithStages(module, list(stages.values()))
    return torch.export.export(module, (example,), dynamic_shapes=({0: batch},))


class _Logits(torch.nn.Module):
    """The logits alone of a loaded program that also returns its stages."""

    def __init__(self, program_module: torch.nn.Module):
        super().__init__()
        self.program = program_module

    def forward(self, x):
        out = self.program(x)
        return out[0] if isinstance(out, (tuple, list)) else out


def save_model(model: torch.nn.Module, name: str, metadata: dict, folder: Path | None = None, *,
               stages: dict | None = None, head: torch.nn.Module | None = None) -> Path:
    """Write ``<folder>/<name>.pt2``, ``<name>.onnx`` and ``<name>.json`` together; returns the ``.pt2`` path.

    The three always describe the same weights: they are written into a uniquely named folder inside ``folder``
    and renamed into place only when all three exist, so a run never leaves a new ``.pt2`` beside a stale
    ``.onnx``, and two runs never share a temporary file. ``metadata`` (parameters, seed, test accuracy, ...) is
    stored with the normalisation constants, the input shape and the torch version added. ``stages``
    (``{label: module}``, in the order the model runs them) and ``head`` add the stage outputs and their
    description (:func:`stage_metadata`).
    Works on a copy of the model.
    """
    import copy

    folder = Path(folder) if folder is not None else models_dir()
    folder.mkdir(parents=True, exist_ok=True)
    original = getattr(model, "module", model)  # the averaged copy inside an AveragedModel
    names = {id(m): n for n, m in original.named_modules()}

    def name_of(m):
        if id(m) not in names:
            raise ValueError(f"{type(m).__name__} is not a module of the model being saved: take the stages and the "
                             "head from the model you save (for an EMA, from ema.module)")
        return names[id(m)]

    if head is not None and not stages:
        raise ValueError("a head is described only with the stages it reads: give stages= as well")
    stage_names = {label: name_of(m) for label, m in (stages or {}).items()}
    head_name = name_of(head) if head is not None else None
    module = _exportable(copy.deepcopy(original))
    lookup = dict(module.named_modules())
    stages = {label: lookup[n] for label, n in stage_names.items()}
    meta = {"name": name, **metadata, "input_shape": ["batch", *INPUT_SHAPE],
            "input": "float32 images, (pixels / 255 - mean) / std",
            "mean": MNIST_MEAN, "std": MNIST_STD, "output": "10 logits (softmax for probabilities)",
            "torch_version": torch.__version__}
    if stages:
        meta.update(stage_metadata(module, stages, head=lookup[head_name] if head_name is not None else None))
    program = _exported_program(module, stages)
    final = {suffix: folder / f"{name}{suffix}" for suffix in (".pt2", ".onnx", ".json")}
    work = Path(tempfile.mkdtemp(dir=folder, prefix=f".{name}.", suffix=".tmp"))  # this call's own folder
    try:
        tmp = {suffix: work / path.name for suffix, path in final.items()}
        torch.export.save(program, tmp[".pt2"], extra_files={_METADATA: json.dumps(meta)})
        export_onnx(tmp[".pt2"], tmp[".onnx"])
        with open(tmp[".json"], "w", encoding="utf-8") as f:  # inside the private folder: no other writer
            f.write(json.dumps(meta, indent=1) + "\n")
        for suffix in final:
            os.chmod(tmp[suffix], 0o644)
            os.replace(tmp[suffix], final[suffix])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return final[".pt2"]


def _replace_atomically(path: Path, write) -> Path:
    """Call ``write(tmp)`` on a uniquely named file beside ``path``, then rename it over ``path``: a reader sees
    the old file or the new one, never half of one, and two writers never share a temporary file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}")
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_model(path) -> tuple[torch.nn.Module, dict]:
    """The model saved by :func:`save_model` as a callable module (in eval mode), and its metadata."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist; run the Part-3 notebook to train and save the model")
    extra = {_METADATA: ""}
    try:
        program = torch.export.load(path, extra_files=extra)
    except Exception as err:  # torch raises several types for a file that is not an exported program
        raise ValueError(f"{path} is not a model saved by mnist_helpers.export.save_model ({err})") from err
    return _Logits(program.module()), json.loads(extra[_METADATA] or "{}")


def load_model_with_stages(path) -> tuple[torch.nn.Module, dict]:
    """Like :func:`load_model`, but the module returns ``(logits, stage 1, stage 2, ...)`` as the metadata's
    ``outputs`` list them (the logits alone for a model saved without stages)."""
    module, meta = load_model(path)
    return module.program, meta


def export_onnx(pt2_path, onnx_path=None) -> Path:
    """Write the model of ``pt2_path`` as ONNX (default: the same name with ``.onnx``), atomically; needs
    ``onnxscript``."""
    pt2_path = Path(pt2_path)
    onnx_path = Path(onnx_path) if onnx_path is not None else pt2_path.with_suffix(".onnx")
    extra = {_METADATA: ""}
    program = torch.export.load(pt2_path, extra_files=extra)
    meta = json.loads(extra[_METADATA] or "{}")
    onnx_program = torch.onnx.export(program, dynamo=True, verbose=False, output_names=meta.get("outputs", ["logits"]))
    for key, value in meta.items():
        entry = onnx_program.model.metadata_props
        entry[key] = json.dumps(value)
    return _replace_atomically(onnx_path, lambda tmp: onnx_program.save(str(tmp)))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mnist_helpers.export", description=export_onnx.__doc__)
    parser.add_argument("model", nargs="?", default=str(models_dir() / "part3.pt2"), help="default: models/part3.pt2")
    parser.add_argument("--output", help="the ONNX file (default: the model's name with .onnx)")
    args = parser.parse_args(argv)
    if not Path(args.model).is_file():
        print(f"error: {args.model} does not exist; run the Part-3 notebook first", file=sys.stderr)
        return 1
    print(export_onnx(args.model, args.output))
    return 0


if __name__ == "__main__":
    sys.exit(main())
