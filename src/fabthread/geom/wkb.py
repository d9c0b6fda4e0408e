"""The rings of a polygonal region read straight from its WKB, and a region written as WKB.

Going through WKB is 3-4 times faster than shapely's ring accessors (each a Python wrapper
around a few GEOS calls) and a slice reads rings thousands of times: the scan lines of every
infill region, every Clipper2 boolean. Rings come out in WKB order (each polygon's exterior,
then its holes) and as GEOS stores them: any orientation, no canonical start.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

_POLYGON = 3
_MULTIPOLYGON = 6
_HEAD = struct.Struct("<BII")  # byte order (1: little endian), geometry type, count
_COUNT = struct.Struct("<I")

# shapely.from_wkb and to_wkb check and convert their options on every call (an enum lookup,
# numpy scalars): 2-3 us of a 4-10 us call, and a slice makes tens of thousands of them.
# ``read`` and ``write`` call the same ufuncs with the options converted once. The ufuncs'
# arguments are shapely's internals (these are 2.1's and 2.2's): ``_ufuncs`` checks them on a
# probe at import and falls back to the public functions when they differ.


def read(blob: bytes) -> BaseGeometry:
    """``shapely.from_wkb(blob)`` for one WKB byte string (raises on malformed WKB)."""
    return _read_wkb(blob)


def write(geometry: BaseGeometry, *, little_endian: bool = False) -> bytes:
    """``shapely.to_wkb(geometry)`` (``byte_order=1`` when ``little_endian``)."""
    return _write_wkb(geometry, little_endian)


def _public_read(blob: bytes) -> BaseGeometry:
    return shapely.from_wkb(blob)


def _public_write(geometry: BaseGeometry, little_endian: bool) -> bytes:
    return shapely.to_wkb(geometry, byte_order=1 if little_endian else -1)


def _ufuncs() -> tuple[Callable[[bytes], BaseGeometry], Callable[[BaseGeometry, bool], bytes]]:
    """(read, write) straight on shapely's ufuncs where they take the arguments they took in
    shapely 2.1 and 2.2 and give the public functions' results on a probe; otherwise the
    public functions."""
    try:
        from shapely import lib
        from shapely.io import DecodingErrorOptions, WKBFlavorOptions

        on_invalid = np.uint8(DecodingErrorOptions.get_value("raise"))
        dimension = np.intc(4 if shapely.geos_version >= (3, 12, 0) else 3)  # the default
        no, flavor = np.bool_(False), np.intc(WKBFlavorOptions.get_value("extended"))
        native, little = np.intc(-1), np.intc(1)

        def fast_read(blob: bytes) -> BaseGeometry:
            # an object array: numpy would make a bytes scalar a fixed-length string, which
            # drops trailing null bytes (the last coordinate's)
            return lib.from_wkb(np.array(blob, dtype=object), on_invalid)

        def fast_write(geometry: BaseGeometry, little_endian: bool) -> bytes:
            order = little if little_endian else native
            return lib.to_wkb(geometry, no, dimension, order, no, flavor)

        probe = shapely.Polygon(
            [(0, 0), (2, 0), (0, 1)], holes=[[(0.1, 0.1), (0.5, 0.1), (0.1, 0.3)]]
        )
        for little_endian in (False, True):
            blob = _public_write(probe, little_endian)
            if (
                fast_write(probe, little_endian) != blob
                or _public_write(fast_read(blob), little_endian) != blob
            ):
                return _public_read, _public_write
        return fast_read, fast_write
    except (ImportError, AttributeError, TypeError, ValueError):
        return _public_read, _public_write


_read_wkb, _write_wkb = _ufuncs()


def rings(region: BaseGeometry) -> list[np.ndarray]:
    """Every ring of a (multi)polygon as float64 (n, 2) views without the closing point;
    TypeError for any other geometry."""
    return _read(region, [])


def _read(region: BaseGeometry, holes: list[bool]) -> list[np.ndarray]:
    """``rings(region)``, and whether each is a hole appended to ``holes``."""
    buf = write(region, little_endian=True)
    _, kind, count = _HEAD.unpack_from(buf, 0)
    out: list[np.ndarray] = []
    if kind == _POLYGON:
        _read_polygon(buf, 5, out, holes)
    elif kind == _MULTIPOLYGON:
        at = 9
        for _ in range(count):
            at = _read_polygon(buf, at + 5, out, holes)
    else:
        raise TypeError(f"not a polygonal region: {region.geom_type}")
    return out


def _read_polygon(buf: bytes, at: int, out: list[np.ndarray], holes: list[bool]) -> int:
    """Append the rings of the WKB polygon whose ring count is at byte ``at`` (and whether
    each is a hole); returns the offset just past it."""
    (n_rings,) = _COUNT.unpack_from(buf, at)
    at += 4
    for k in range(n_rings):
        (n,) = _COUNT.unpack_from(buf, at)
        out.append(np.frombuffer(buf, np.float64, 2 * n, at + 4).reshape(n, 2)[:-1])
        holes.append(k > 0)
        at += 4 + 16 * n
    return at


def ring_arrays(region: BaseGeometry) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(points float64 (P, 2), ring_start int64 (R + 1,), is_hole bool (R,)) of every ring,
    in WKB order, for kernels (scan lines count crossings even-odd; ``ring_table`` orients
    the rings by ``is_hole``). TypeError for a geometry that is not polygonal."""
    holes: list[bool] = []
    rs = _read(region, holes)
    if not rs:
        return np.zeros((0, 2)), np.zeros(1, np.int64), np.zeros(0, bool)
    start = np.zeros(len(rs) + 1, np.int64)
    np.cumsum([len(r) for r in rs], out=start[1:])
    return np.concatenate(rs), start, np.array(holes, dtype=bool)


def polygons(shells_and_holes: Sequence[Sequence[np.ndarray]]) -> BaseGeometry:
    """A Polygon (one entry) or MultiPolygon from rings given per polygon as [exterior,
    holes...], each (n, 2) without the closing point; an empty MultiPolygon for none."""
    parts: list[bytes] = []
    for polygon in shells_and_holes:
        chunks = [_HEAD.pack(1, _POLYGON, len(polygon))]
        for ring in polygon:
            closed = np.empty((len(ring) + 1, 2))
            closed[:-1] = ring
            closed[-1] = ring[0]
            chunks += [_COUNT.pack(len(closed)), closed.tobytes()]
        parts.append(b"".join(chunks))
    if not parts:
        return shapely.MultiPolygon()
    if len(parts) == 1:
        return read(parts[0])
    return read(_HEAD.pack(1, _MULTIPOLYGON, len(parts)) + b"".join(parts))
