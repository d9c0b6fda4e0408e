"""The shape of the code is the shape of the thread (../shared/STYLE.md), kept by a test.

- stages do not import each other; only pipeline.py, cli/ and hub/ compose them;
- only design/ imports cadquery; only */kernels/ import numba;
- importing the package, the pipeline or the slicer does not import cadquery.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "fabthread"
STAGES = {"design", "check", "customize", "slice", "cam", "gcode", "profiles", "bundle"}
SHARED = {"model", "errors", "templates", "io_atomic", "paths", "geom", "expr", "__init__"}
COMPOSERS = {"pipeline", "cli", "hub"}


def _modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py"))


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _top(path: Path) -> str:
    rel = path.relative_to(SRC)
    return rel.parts[0].removesuffix(".py")


def test_there_is_code_to_check() -> None:
    assert len(_modules()) > 10


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_stage_boundaries(path: Path) -> None:
    owner = _top(path)
    rel = path.relative_to(SRC)
    for name in _imports(path):
        root = name.split(".")[0]
        if root == "cadquery" or root == "OCP":
            assert owner == "design", f"{rel} imports {name}: only design/ may import cadquery"
        if root == "numba":
            assert "kernels" in rel.parts, f"{rel} imports numba: only */kernels/ may"
        if root != "fabthread" or owner in COMPOSERS:
            continue
        parts = name.split(".")
        if len(parts) < 2:
            continue
        target = parts[1]
        if owner in STAGES and target in STAGES and target != owner:
            pytest.fail(f"{rel} imports {name}: stages do not import each other")
        if owner in SHARED and owner != "__init__" and target in STAGES | COMPOSERS:
            pytest.fail(f"{rel} imports {name}: shared modules do not import stages")


def test_slicing_path_does_not_import_cadquery() -> None:
    code = (
        "import sys, fabthread, fabthread.pipeline, fabthread.cli.main\n"
        "import importlib.util\n"
        "for mod in ('fabthread.slice.slicer', 'fabthread.gcode.emit', 'fabthread.profiles'):\n"
        "    if importlib.util.find_spec(mod) is not None: __import__(mod)\n"
        "assert 'cadquery' not in sys.modules, 'cadquery was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
