"""Save a trained model in a form that loads without its Python class, and load it back.

:func:`save_model` writes one consistent set: ``<name>.pt2`` with ``torch.export`` (the graph
and the weights, no pickled module), the same model as ``<name>.onnx`` for use without
PyTorch (onnxruntime, or a web page), and the metadata, inside the files and as
``<name>.json`` for people reading the repository. :func:`load_model` returns a callable
module. ``python -m mnist_helpers.export models/part3.pt2`` rewrites the ONNX file alone.
"""
from __future__ import annotations

import argparse
import json
import sys
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


def _exported_program(model: torch.nn.Module) -> torch.export.ExportedProgram:
    example = torch.zeros(2, *INPUT_SHAPE)
    batch = torch.export.Dim("batch", min=1, max=1_000_000)
    return torch.export.export(_exportable(model), (example,), dynamic_shapes=({0: batch},))


def save_model(model: torch.nn.Module, name: str, metadata: dict, folder: Path | None = None) -> Path:
    """Write ``<folder>/<name>.pt2``, ``<name>.onnx`` and ``<name>.json`` together; returns the ``.pt2`` path.

    The three always describe the same weights: each is written under a temporary name first and
    renamed into place only when all three exist, so a run never leaves a new ``.pt2`` beside a stale
    ``.onnx``. ``metadata`` (parameters, seed, test accuracy, ...) is stored with the normalisation
    constants, the input shape and the torch version added. Works on a copy of the model.
    """
    import copy

    folder = Path(folder) if folder is not None else models_dir()
    folder.mkdir(parents=True, exist_ok=True)
    meta = {**metadata, "input_shape": ["batch", *INPUT_SHAPE], "input": "float32 images, (pixels / 255 - mean) / std",
            "mean": MNIST_MEAN, "std": MNIST_STD, "output": "10 logits (softmax for probabilities)",
            "torch_version": torch.__version__}
    program = _exported_program(copy.deepcopy(model))
    final = {suffix: folder / f"{name}{suffix}" for suffix in (".pt2", ".onnx", ".json")}
    tmp = {suffix: folder / f".{name}.tmp{suffix}" for suffix in final}
    try:
        torch.export.save(program, tmp[".pt2"], extra_files={_METADATA: json.dumps(meta)})
        export_onnx(tmp[".pt2"], tmp[".onnx"])
        tmp[".json"].write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
        for suffix in final:
            tmp[suffix].replace(final[suffix])
    finally:
        for path in tmp.values():
            path.unlink(missing_ok=True)
    return final[".pt2"]


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
    return program.module(), json.loads(extra[_METADATA] or "{}")


def export_onnx(pt2_path, onnx_path=None) -> Path:
    """Write the model of ``pt2_path`` as ONNX (default: the same name with ``.onnx``); needs ``onnxscript``."""
    pt2_path = Path(pt2_path)
    onnx_path = Path(onnx_path) if onnx_path is not None else pt2_path.with_suffix(".onnx")
    extra = {_METADATA: ""}
    program = torch.export.load(pt2_path, extra_files=extra)
    onnx_program = torch.onnx.export(program, dynamo=True, verbose=False)
    for key, value in json.loads(extra[_METADATA] or "{}").items():
        entry = onnx_program.model.metadata_props
        entry[key] = json.dumps(value)
    onnx_program.save(str(onnx_path))
    return onnx_path


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
