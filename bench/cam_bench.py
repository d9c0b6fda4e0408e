"""3D drop-cutter finishing: fabthread's numba kernel vs OpenCAMLib, side by side.

Same mesh, cutter, stepover and sampling (a raster grid of cutter locations); reports cold
(first call, includes numba compile or cache load) and warm times, the time ratio
(ours warm / OpenCAMLib) and the largest height difference. OpenCAMLib (LGPL) is only
called, never copied: ``.venv/bin/pip install opencamlib``.

    .venv/bin/python bench/cam_bench.py
    .venv/bin/python bench/cam_bench.py --mesh idler_riser.stl --units inch --stepover 0.25
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from fabthread.cam.dropcut import DropSurface
from fabthread.geom.mesh_io import load_mesh


def ocl_heights(
    part, cutter: str, diameter: float, xs: np.ndarray, ys: np.ndarray, floor_z: float
) -> tuple[np.ndarray, float, float]:
    """Heights, total seconds (setup, points, run) and seconds of ``run()`` alone."""
    from opencamlib import ocl

    surf = ocl.STLSurf()
    for tri in part.vertices_mm[part.faces]:
        surf.addTriangle(ocl.Triangle(*(ocl.Point(*map(float, p)) for p in tri)))
    tool = ocl.CylCutter(diameter, 50.0) if cutter == "flat" else ocl.BallCutter(diameter, 50.0)
    t0 = time.perf_counter()
    bdc = ocl.BatchDropCutter()
    bdc.setSTL(surf)
    bdc.setCutter(tool)
    for x, y in zip(xs.ravel().tolist(), ys.ravel().tolist(), strict=True):
        bdc.appendPoint(ocl.CLPoint(x, y, floor_z))
    t1 = time.perf_counter()
    bdc.run()
    t_run = time.perf_counter() - t1
    z = np.array([p.z for p in bdc.getCLPoints()]).reshape(xs.shape)
    return z, time.perf_counter() - t0, t_run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mesh", default="idler_riser.stl")
    ap.add_argument("--units", default="inch")
    ap.add_argument("--diameter", type=float, default=6.0)
    ap.add_argument("--stepover", type=float, default=0.2)
    ap.add_argument("--sampling", type=float, default=0.2)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    part = load_mesh(f"/work/shared/meshes/{a.mesh}", units=a.units)
    lo, hi = part.bounds_mm
    r = a.diameter / 2
    # an offset of 1.37 µm keeps grid points off exact tangencies (distance == radius), where
    # "touching" is a matter of rounding for both libraries
    xs1 = np.arange(lo[0] - r, hi[0] + r, a.sampling) + 1.37e-3
    ys1 = np.arange(lo[1] - r, hi[1] + r, a.stepover) + 1.37e-3
    xs, ys = np.meshgrid(xs1, ys1)
    floor = float(lo[2])
    rows = []
    for cutter in ("flat", "ball"):
        code = 0 if cutter == "flat" else 1
        t0 = time.perf_counter()
        ours = DropSurface(part, r, code, floor_z=floor).heights(xs, ys)
        cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        ours = DropSurface(part, r, code, floor_z=floor).heights(xs, ys)
        warm = time.perf_counter() - t0
        theirs, t_ocl, t_run = ocl_heights(part, cutter, a.diameter, xs, ys, floor)
        diff = np.abs(ours - theirs)
        rows.append(
            {
                "cutter": cutter,
                "points": int(xs.size),
                "triangles": int(len(part.faces)),
                "ours_cold_s": round(cold, 4),
                "ours_warm_s": round(warm, 4),
                "ocl_s": round(t_ocl, 4),
                "ocl_run_s": round(t_run, 4),
                "ratio": round(warm / t_ocl, 4),
                "ratio_vs_run": round(warm / t_run, 4),
                "max_diff_mm": float(diff.max()),
                "points_over_1um": int((diff > 1e-3).sum()),
            }
        )
    if a.json:
        print(json.dumps(rows, indent=2))
        return
    print(
        f"mesh {a.mesh} ({a.units}), D={a.diameter} mm, stepover {a.stepover} mm, "
        f"sampling {a.sampling} mm"
    )
    print(
        f"{'cutter':6} {'points':>8} {'cold s':>8} {'warm s':>8} {'ocl s':>8} "
        f"{'ocl run':>8} {'ratio':>7} {'vs run':>7} {'max diff mm':>12}"
    )
    for row in rows:
        print(
            f"{row['cutter']:6} {row['points']:8d} {row['ours_cold_s']:8.3f} "
            f"{row['ours_warm_s']:8.3f} {row['ocl_s']:8.3f} {row['ocl_run_s']:8.3f} "
            f"{row['ratio']:7.3f} {row['ratio_vs_run']:7.3f} "
            f"{row['max_diff_mm']:12.2e}"
        )


if __name__ == "__main__":
    main()
