"""Polygon booleans: GEOS (shapely, ``grid_size=1``) vs Clipper2 (``fabthread.geom.clip``),
and offsets: GEOS's mitre buffer vs ``polygons.offset`` (the offset kernel, GEOS where it
defers).

The workload the slicer runs most: intersections and differences of consecutive layer
sections of the shared meshes (skin detection), side by side in one run. Clipper2's times
include the conversions both ways and the validity check; "fallback" counts the results GEOS
calls invalid (``polygons`` then recomputes them with GEOS). "polygons" is what the slicer
runs: ``polygons.intersection``/``difference``, which pick the engine by size.

Offsets: every island of every layer section shrunk by half a line width and by a line width,
then grown back by half a line width (what perimeter planning does first), timed with
``shapely.buffer`` plus the rounding onto the grid the slicer applies to its output
(``polygons._snap``) and with ``polygons.offset``; "kernel" is the share the kernel answers,
"same" how many of its answers are GEOS's polygon vertex for vertex.

    .venv/bin/python bench/polygon_ops.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import shapely

from fabthread.geom import clip
from fabthread.geom import polygons as pg
from fabthread.geom.mesh_io import load_mesh
from fabthread.geom.place import place_on_bed
from fabthread.model.settings import SliceSettings
from fabthread.slice.sections import layer_planes, section_loops, section_region

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import MESH_DIR, list_meshes  # noqa: E402


def _per_op_ms(fn, pairs) -> float:  # noqa: ANN001
    t = time.perf_counter()
    for a, b in pairs:
        fn(a, b)
    return (time.perf_counter() - t) * 1e3 / max(len(pairs), 1)


def main() -> None:
    settings = SliceSettings()
    sections = [(path, _sections(path, units, settings)) for path, units in
                list_meshes(MESH_DIR, [])]  # fmt: skip
    booleans(sections)
    offsets(sections, settings)


def _sections(path: Path, units: str, settings: SliceSettings) -> list:
    """The layer sections (µm regions) of a mesh, as the slicer makes them."""
    part = place_on_bed(load_mesh(path, units=units), 1000.0, 1000.0)
    tops, heights = layer_planes(part, settings)
    return [section_region(*lp) for lp in section_loops(part, tops - heights / 2.0)]


def booleans(sections: list) -> None:
    print("## Polygon booleans on consecutive layer sections (ms per operation)\n")
    print("| mesh | vertices/layer | op | GEOS | Clipper2 | polygons | GEOS/polygons | fallback |")
    print("|---|--:|---|--:|--:|--:|--:|--:|")
    ratios = []
    for path, regions in sections:
        pairs = [
            (a, b) for a, b in zip(regions[:-1], regions[1:], strict=True)
            if not (a.is_empty or b.is_empty)
        ]  # fmt: skip
        verts = statistics.mean(shapely.get_num_coordinates(r) for r in regions)
        for op in ("intersection", "difference"):
            geos = _per_op_ms(lambda a, b, op=op: getattr(shapely, op)(a, b, grid_size=1.0), pairs)
            fast = getattr(clip, op)
            c2 = _per_op_ms(fast, pairs)
            chosen = _per_op_ms(getattr(pg, op), pairs)
            fallback = sum(fast(a, b) is None for a, b in pairs)
            ratios.append(geos / chosen)
            print(f"| {path.name} | {verts:.0f} | {op} | {geos:.3f} | {c2:.3f} | {chosen:.3f} | "
                  f"{geos / chosen:.2f} | {fallback}/{len(pairs)} |")  # fmt: skip
    print(f"\nmedian GEOS/polygons: {statistics.median(ratios):.2f}")


def offsets(sections: list, settings: SliceSettings) -> None:
    w_um = settings.extrusion_width_mm * pg.UM_PER_MM
    print("\n## Offsets of layer islands (us per offset)\n")
    print("| mesh | offsets | GEOS buffer + snap | polygons.offset | ratio | kernel | same |")
    print("|---|--:|--:|--:|--:|--:|--:|")
    ratios = []
    for path, regions in sections:
        islands = [i for r in regions for i in pg.islands(r)]
        jobs = [(i, -w_um / 2.0) for i in islands] + [(i, -w_um) for i in islands]
        jobs += [(pg.offset(i, -w_um), w_um / 2.0) for i in islands]
        jobs = [(r, d) for r, d in jobs if not r.is_empty]

        def geos(r, d):  # noqa: ANN001, ANN202
            return pg._snap(shapely.buffer(r, d, join_style="mitre", mitre_limit=pg.MITRE_LIMIT))

        t_geos = _per_op_ms(geos, jobs) * 1e3
        t_ours = _per_op_ms(pg.offset, jobs) * 1e3
        answered = [(r, d) for r, d in jobs if pg._raw_offset(r, d) is not None]
        same = sum(shapely.equals_exact(pg._raw_offset(r, d), geos(r, d), 0) for r, d in answered)
        ratios.append(t_geos / t_ours)
        print(f"| {path.name} | {len(jobs)} | {t_geos:.1f} | {t_ours:.1f} | {t_geos / t_ours:.2f} "
              f"| {len(answered) / len(jobs):.0%} | {same}/{len(answered)} |")  # fmt: skip
    print(f"\nmedian GEOS/polygons.offset: {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
