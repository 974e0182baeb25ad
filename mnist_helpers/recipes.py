"""Each Part's recipe, defined once: the notebook's recipe cell, read by whatever else needs it.

A notebook's recipe cell is the code cell that begins with ``# The recipe``. It holds only ``NAME = <literal>``
lines (comments allowed): every number the notebook trains with, under the names the notebook uses. Part-4
takes Part-3's recipe from it (``notebook_recipe("part3")``), and the research in ``lab/`` reads every recipe
the same way, so a change to a notebook's cell changes every run that uses it.
"""
from __future__ import annotations

import ast
import json
from pathlib import Path

from .paths import repo_root

RECIPE_CELL = "# The recipe"


def notebook_file(part: str) -> Path:
    """``notebooks/<part>_*.ipynb``, e.g. ``notebook_file("part3")``."""
    root = repo_root() or Path.cwd()
    found = sorted((root / "notebooks").glob(f"{part}_*.ipynb"))
    if len(found) != 1:
        raise FileNotFoundError(f"expected exactly one notebooks/{part}_*.ipynb under {root}, found {len(found)}")
    return found[0]


def recipe_source(part: str) -> str:
    """The source of ``part``'s recipe cell."""
    path = notebook_file(part)
    cells = ["".join(c["source"]) for c in json.loads(path.read_text(encoding="utf-8"))["cells"]
             if c["cell_type"] == "code" and "".join(c["source"]).startswith(RECIPE_CELL)]
    if len(cells) != 1:
        raise ValueError(f"{path.name}: expected one code cell starting with {RECIPE_CELL!r}, found {len(cells)}")
    return cells[0]


def notebook_recipe(part: str, **changes) -> dict:
    """``{NAME: value}`` of ``part``'s recipe cell, with ``changes`` applied; a change to a name the recipe
    does not have raises, as does a line of the cell that is not ``NAME = <literal>``."""
    recipe = {}
    for node in ast.parse(recipe_source(part)).body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            raise ValueError(f"{notebook_file(part).name}, recipe cell, line {node.lineno}: only NAME = <literal> lines")
        name = node.targets[0].id
        if name in recipe:
            raise ValueError(f"{notebook_file(part).name}, recipe cell: {name} is set twice")
        recipe[name] = ast.literal_eval(node.value)
    unknown = set(changes) - set(recipe)
    if unknown:
        raise KeyError(f"{part}'s recipe has no {', '.join(sorted(unknown))}; it has {', '.join(recipe)}")
    return {**recipe, **changes}


def trains_with(part: str) -> dict:
    """The recipe ``part``'s notebook trains with: its own recipe cell, or Part-3's for Part-4, which takes it
    unchanged. A sweep stores it, so that a sweep of another recipe is not read as this one's."""
    return notebook_recipe("part3" if part == "part4" else part)
