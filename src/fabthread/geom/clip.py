"""Booleans on micrometre regions by Clipper2 (Angus Johnson's integer polygon clipper).

GEOS (shapely) stays the region type and does everything else; Clipper2 only does the
booleans where it is measured faster: intersecting two layer sections of 200-500 vertices
takes GEOS 1.5-2.6 ms and Clipper2 0.2-0.6 ms here, conversions both ways included
(``bench/polygon_ops.py``). Clipper2 works on int64 coordinates, the same micrometre grid as
``polygons``, so its results need no snapping.

Clipper2 may return polygons that touch themselves at a point or along an edge, which GEOS
calls invalid. Rings that pass a point twice are split there into simple rings (the
``split_touching`` kernel: an outer around an inverted hole becomes an outer and a hole,
a figure eight two outers), which takes 26 of the 35 such differences of an idler_riser
slice off GEOS's snap-rounding overlay (0.7 ms each). Every result is checked and ``None``
returned for one that is still invalid (edges that cross or run along each other), so the
caller falls back to GEOS.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from types import ModuleType

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from fabthread.geom import wkb
from fabthread.geom.kernels import rings as ring_kernels


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
EMPTY = shapely.MultiPolygon()


def paths(region: BaseGeometry) -> list[np.ndarray]:
    """Every ring of a (multi)polygon as int64 (n, 2) without the closing point (one
    coordinate read and a kernel: a fifth of reading the rings from WKB)."""
    status, pts, starts = ring_kernels.ring_points(shapely.get_coordinates(region))
    if status != ring_kernels.OK:  # a ring that does not close: not a valid region
        return [ring.astype(np.int64) for ring in wkb.rings(region)]
    bounds = starts.tolist()
    return [pts[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def tree_polygons(tree: object) -> list[list[np.ndarray]]:
    """The polygons of a Clipper2 PolyTree (outers, their holes, islands inside the holes,
    ...), each as its outer ring followed by its holes."""
    polys: list[list[np.ndarray]] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        for outer in node:  # type: ignore[attr-defined]
            rings = [outer.polygon]
            for hole in outer:
                rings.append(hole.polygon)
                stack.append(hole)
            polys.append(rings)
    return polys


def region(tree: object) -> BaseGeometry:
    """A shapely (multi)polygon from a Clipper2 PolyTree; empty MultiPolygon for an empty
    tree."""
    return wkb.polygons(tree_polygons(tree))


#: Below this many vertices in both operands together GEOS is as fast: the conversions cost
#: Clipper2 about 0.1 ms whatever the size (``bench/polygon_ops.py``: 0.10 ms both for 14
#: vertices, 0.64 vs 0.28 ms for 350, 2.6 vs 0.6 ms for 1000).
MIN_VERTICES = 24


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
    """The region of a PolyTree when GEOS calls it valid. Most results are plainly valid
    (no two edges meet, holes only one level deep), which ``clipper_wkb`` checks on the
    flat paths while writing their WKB (conversions and check: 25 us against 105 us for
    a 400-vertex result); the others go through the tree, ``split_touching`` (rings
    touching themselves split; the same WKB as the tree's where none does) and GEOS's
    validity test, and then, if that fails, the tree's region and the test again."""
    flat = _c2.poly_tree_to_paths64(tree)
    if not flat:
        return EMPTY
    starts = np.zeros(len(flat) + 1, dtype=np.int64)
    np.cumsum([len(p) for p in flat], out=starts[1:])
    status, blob = ring_kernels.clipper_wkb(np.concatenate(flat), starts)
    if status == ring_kernels.OK:
        return wkb.read(blob.tobytes())
    polys = tree_polygons(tree)
    rings = [ring for poly in polys for ring in poly]
    is_hole = np.array([k > 0 for poly in polys for k in range(len(poly))])
    bounds = np.zeros(len(rings) + 1, dtype=np.int64)
    np.cumsum([len(r) for r in rings], out=bounds[1:])
    status, blob = ring_kernels.split_touching(np.concatenate(rings), bounds, is_hole)
    if status == ring_kernels.OK:
        out = wkb.read(blob.tobytes())
        if shapely.is_valid(out):
            return out
    out = wkb.polygons(polys)
    return out if shapely.is_valid(out) else None
