"""Booleans on micrometre regions by Clipper2 (Angus Johnson's integer polygon clipper).

GEOS (shapely) stays the region type and does everything else; Clipper2 only does the
booleans where it is measured faster: intersecting two layer sections of 200-500 vertices
takes GEOS 1.5-3.9 ms and Clipper2 0.3-1.0 ms here, conversions both ways included
(``bench/polygon_ops.py``). Clipper2 works on int64 coordinates, the same micrometre grid as
``polygons``, so its results need no snapping.

Clipper2 may return polygons that touch themselves at a point or along an edge, which GEOS
calls invalid; every result is checked and ``None`` returned for such a one, so the caller
falls back to GEOS.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from types import ModuleType

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry


def _load_clipper2() -> ModuleType:
    """The compiled module of the ``clipper2-py`` package. Its ``__init__`` only re-exports
    it but reads the package metadata for ``__version__`` (40 ms of every start-up), so the
    extension is loaded from its file directly when it can be found."""
    name = "clipper2._clipper2"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec("clipper2")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = f"{folder}/_clipper2{suffix}"
            ext = importlib.util.spec_from_file_location(name, path)
            if ext is None or ext.loader is None:
                continue
            try:
                module = importlib.util.module_from_spec(ext)
            except (ImportError, OSError):
                continue
            ext.loader.exec_module(module)
            sys.modules[name] = module
            return module
    import clipper2  # the regular way (a layout this loader does not know)

    return clipper2


_c2 = _load_clipper2()
_EVEN_ODD = _c2.FillRule.EVEN_ODD
_INTERSECTION = _c2.ClipType.INTERSECTION
_DIFFERENCE = _c2.ClipType.DIFFERENCE


def paths(region: BaseGeometry) -> list[np.ndarray]:
    """Every ring of a (multi)polygon as int64 (n, 2) without the closing point."""
    rings = shapely.get_rings(shapely.get_parts(region))
    xy = np.round(shapely.get_coordinates(rings)).astype(np.int64)
    counts = shapely.get_num_coordinates(rings)
    ends = np.cumsum(counts)
    return [xy[a : b - 1] for a, b in zip(ends - counts, ends, strict=True)]


def region(tree: object) -> BaseGeometry:
    """A shapely (multi)polygon from a Clipper2 PolyTree (outers, their holes, islands
    inside the holes, ...); empty MultiPolygon for an empty tree."""
    rings: list[np.ndarray] = []
    owner: list[int] = []
    stack = [tree]
    n_polys = 0
    while stack:
        node = stack.pop()
        for outer in node:  # type: ignore[attr-defined]
            rings.append(outer.polygon)
            owner.append(n_polys)
            for hole in outer:
                rings.append(hole.polygon)
                owner.append(n_polys)
                stack.append(hole)
            n_polys += 1
    if not rings:
        return shapely.MultiPolygon()
    closed = [np.vstack([r, r[:1]]) for r in rings]
    ring_of = np.repeat(np.arange(len(closed)), [len(c) for c in closed])
    lr = shapely.linearrings(np.concatenate(closed).astype(np.float64), indices=ring_of)
    polys = shapely.polygons(lr, indices=np.array(owner))
    return polys[0] if len(polys) == 1 else shapely.MultiPolygon(list(polys))


#: Below this many vertices in both operands together GEOS is faster: the conversions cost
#: Clipper2 about 0.3 ms whatever the size (``bench/polygon_ops.py``: 0.12 vs 0.33 ms for
#: 14 vertices, 0.92 vs 0.47 ms for 350).
MIN_VERTICES = 100


def worth_it(a: BaseGeometry, b: BaseGeometry) -> bool:
    """Whether Clipper2 is likely faster than GEOS on these operands."""
    return int(shapely.get_num_coordinates(a)) + int(shapely.get_num_coordinates(b)) >= MIN_VERTICES


def intersection(a: BaseGeometry, b: BaseGeometry) -> BaseGeometry | None:
    """``a`` ∩ ``b`` for two non-empty regions, or None when Clipper2's result is not a valid
    GEOS geometry (then ask GEOS)."""
    return _checked(_c2.boolean_op_tree(_INTERSECTION, _EVEN_ODD, paths(a), paths(b)))


def difference(a: BaseGeometry, b: BaseGeometry) -> BaseGeometry | None:
    """``a`` - ``b`` for two non-empty regions, or None as for ``intersection``."""
    return _checked(_c2.boolean_op_tree(_DIFFERENCE, _EVEN_ODD, paths(a), paths(b)))


def _checked(tree: object) -> BaseGeometry | None:
    out = region(tree)
    return out if shapely.is_valid(out) else None
