"""Take a model from the notebook that defines it, so a model has one source of truth.

The notebooks define their models (designing them is the lesson). Benchmarks and
candidate scripts do not copy those classes: :func:`notebook_model` runs the code
cells that define ``Net`` (and whatever they need, such as ``block``) from the
committed notebook and returns a fresh instance.
"""
from __future__ import annotations

import json
import re

import torch
import torch.nn.functional as F
from torch import nn

from mnist_helpers import layers
from mnist_helpers.recipes import notebook_file

_DEFINES = re.compile(r"^(class \w+\(nn\.Module\)|def \w*block\()", re.M)


def code_cells(part: str) -> list[str]:
    """The sources of the code cells of ``part``'s committed notebook, in order."""
    cells = json.loads(notebook_file(part).read_text(encoding="utf-8"))["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]


def model_source(part: str, name: str = "Net") -> str:
    """The source of the code cells of ``part``'s notebook that define a model class (``class ...(nn.Module)``)
    or a block function (``def ...block(``); one of them must define ``name``."""
    found = [s for s in code_cells(part) if _DEFINES.search(s)]
    if not any(re.search(rf"^class {re.escape(name)}\b", s, re.M) for s in found):
        raise ValueError(f"{notebook_file(part).name} has no code cell defining `class {name}`")
    return "\n\n".join(found)


def notebook_model(part: str, name: str = "Net", **kwargs) -> nn.Module:
    """A fresh ``name(**kwargs)`` (``Net`` by default) as defined in ``part``'s notebook."""
    namespace = {"torch": torch, "nn": nn, "F": F, "block": layers.block}
    exec(compile(model_source(part, name), f"<{notebook_file(part).name}>", "exec"), namespace)
    return namespace[name](**kwargs)


def notebook_functions(part: str, *names: str, **namespace) -> tuple:
    """The functions ``names`` as defined in ``part``'s notebook (e.g. Part-1's ``train`` and ``test``).

    The cell that defines them is run in a fresh namespace holding ``torch``, ``nn``, ``F`` and
    ``namespace`` (for the globals the cell reads, such as ``device``).
    """
    sources = code_cells(part)
    scope = {"torch": torch, "nn": nn, "F": F, **namespace}
    for name in names:
        found = [s for s in sources if re.search(rf"^def {re.escape(name)}\(", s, re.M)]
        if len(found) != 1:
            raise ValueError(f"{notebook_file(part).name}: expected one code cell defining `{name}`, found {len(found)}")
        if name not in scope:
            exec(compile(found[0], f"<{notebook_file(part).name}>", "exec"), scope)
    return tuple(scope[name] for name in names)
