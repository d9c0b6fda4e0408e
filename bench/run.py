"""FDM slicer benchmark (issue 3): fabthread vs PrusaSlicer 2.5 vs CuraEngine 4.13.

For every mesh in the shared mesh folder (units from its SOURCES.md), the three slicers run
as programs at the same settings (bench/peers.py), interleaved A B C and repeated N times
(median wall time). fabthread runs with its ahead-of-time kernels (``make kernels``; falling
back to a warm numba cache where a kernel source changed since the build) and once "cold":
JIT kernels with an empty numba cache, what a user without the AOT build waits; the
library call ``slice_mesh`` is also timed in-process. Every program is read back with
fabthread's G-code reader (layers, filament) and scored against the mesh (bench/fidelity.py).
Then a scaling run: fabthread on subdivided meshes up to ~1M triangles and at several layer
heights.

    .venv/bin/python bench/run.py                       # everything (make bench)
    .venv/bin/python bench/run.py --mesh 20mm-xyz-cube.stl --mesh angle_block.stl -n 1
    .venv/bin/python bench/run.py --only scaling

Markdown tables go to stdout, progress to stderr, JSON to out/bench/latest.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

import peers  # noqa: E402

MESH_DIR = Path("/work/shared/meshes")
OUT = ROOT / "out" / "bench"
SETTINGS = peers.BenchSettings()
MACHINE = "bench_400"
MATERIAL = "pla"
TOOLS = ("fabthread", "prusaslicer", "curaengine")
SCALING_MESH = ("featuretype.stl", "inch")
#: The mesh subdivided to at least a million triangles for the CLI run that must slice without
#: error (featuretype's series stops at 890k; the tray: 4**4 x 4520 = 1,157,120).
MILLION_MESH = ("1002_tray_bottom.stl", "mm")
MILLION = 1_000_000


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# -- meshes and environment ------------------------------------------------------------------


def mesh_units(mesh_dir: Path) -> dict[str, str]:
    """file name -> units, from the "units" column of ``mesh_dir/SOURCES.md``."""
    out: dict[str, str] = {}
    src = mesh_dir / "SOURCES.md"
    if not src.is_file():
        return out
    header: list[str] = []
    for line in src.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if "units" in cells:
            header = cells
        elif header and len(cells) == len(header) and not set(cells[0]) <= set("-: "):
            out[cells[0]] = {"inch": "inch", "in": "inch", "m": "m", "cm": "cm"}.get(
                cells[header.index("units")], "mm"
            )
    return out


def list_meshes(mesh_dir: Path, only: list[str]) -> list[tuple[Path, str]]:
    units = mesh_units(mesh_dir)
    files = sorted(p for p in mesh_dir.iterdir() if p.suffix.lower() in (".stl", ".3mf", ".obj"))
    if only:
        files = [p for p in files if p.name in only or p.stem in only]
    for p in files:
        if p.name not in units:
            log(f"warning: {p.name} has no units in SOURCES.md; assuming mm")
    return [(p, units.get(p.name, "mm")) for p in files]


def fabthread_home() -> Path:
    """A FABTHREAD_HOME whose profiles are the project's plus bench/profiles (symlinks)."""
    home = OUT / "home"
    prof = home / "profiles"
    if prof.exists():
        shutil.rmtree(prof)
    (prof / "machines").mkdir(parents=True)
    for kind in ("dialects", "materials"):
        (prof / kind).symlink_to(ROOT / "profiles" / kind)
    for src in [*(ROOT / "profiles" / "machines").glob("*.toml"),
                *(BENCH / "profiles" / "machines").glob("*.toml")]:  # fmt: skip
        dst = prof / "machines" / src.name
        dst.unlink(missing_ok=True)
        dst.symlink_to(src)
    return home


def fabthread_bin() -> str:
    exe = Path(sys.executable).parent / "fabthread"
    return str(exe) if exe.is_file() else (shutil.which("fabthread") or "fabthread")


def base_env(home: Path, numba_cache: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["FABTHREAD_HOME"] = str(home)
    env["NUMBA_CACHE_DIR"] = str(numba_cache)
    return env


# -- running a child -------------------------------------------------------------------------


def run_child(
    cmd: list[str], *, env: dict[str, str] | None, log_path: Path, timeout_s: float
) -> dict[str, Any]:
    """Run ``cmd`` through the launcher (see ``Launcher``); wall time (s), CPU time (user+sys,
    s), peak RSS of the child (MB), exit code; stdout+stderr to ``log_path``."""
    return LAUNCHER.run(cmd, env=env, log_path=log_path, timeout_s=timeout_s)


def _wait4_child(
    cmd: list[str], env: dict[str, str] | None, log_path: str, timeout_s: float
) -> dict[str, Any]:
    with open(log_path, "wb") as sink:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=sink, stderr=subprocess.STDOUT)
        timer = threading.Timer(timeout_s, proc.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - t0
    rc = os.waitstatus_to_exitcode(status)
    proc.returncode = rc
    return {
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "max_rss_mb": usage.ru_maxrss / 1024.0,  # KiB on Linux
        "rc": rc,
        "timed_out": wall >= timeout_s and rc != 0,
    }


class Launcher:
    """A small helper process (this file, --launcher) that starts the slicers and reports
    ``os.wait4``'s rusage.

    Why not start them from here: on Linux a child's ``ru_maxrss`` starts at the RSS of the
    process that forked it (exec keeps the high-water mark of the forked image), and this
    process grows to a gigabyte while it scores G-code. The launcher stays at ~10 MB, which is
    then the floor of every RSS reported."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[str] | None = None

    def run(self, cmd: list[str], *, env: dict[str, str] | None, log_path: Path,
            timeout_s: float) -> dict[str, Any]:  # fmt: skip
        if self.proc is None:
            self.proc = subprocess.Popen(
                [sys.executable, __file__, "--launcher"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            )  # fmt: skip
        job = {"cmd": cmd, "env": env, "log": str(log_path), "timeout_s": timeout_s}
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(job) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self) -> None:
        if self.proc is not None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            self.proc.wait()
            self.proc = None


def launcher_loop() -> None:
    """--launcher: one JSON job per stdin line, one JSON result per stdout line."""
    for line in sys.stdin:
        job = json.loads(line)
        result = _wait4_child(job["cmd"], job["env"], job["log"], job["timeout_s"])
        sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()


LAUNCHER = Launcher()


def tool_cmd(tool: str, mesh: Path, units: str, cura_mesh: Path, out: Path) -> list[str]:
    scale = {"mm": 1.0, "cm": 10.0, "m": 1000.0, "inch": 25.4}[units]
    if tool == "fabthread":
        return [fabthread_bin(), "-q", "slice", str(mesh), "-m", MACHINE, "-M", MATERIAL,
                "--units", units, *SETTINGS.fabthread_sets(), "--json", "-o", str(out)]  # fmt: skip
    if tool == "prusaslicer":
        return peers.prusaslicer_cmd(mesh, out, SETTINGS, scale)
    return peers.curaengine_cmd(cura_mesh, out, SETTINGS, scale)


def cura_input(mesh: Path, tmp: Path) -> Path:
    """CuraEngine reads STL only: other formats are converted (same file units) with trimesh."""
    if mesh.suffix.lower() == ".stl":
        return mesh
    import trimesh

    tmp.mkdir(parents=True, exist_ok=True)
    out = tmp / (mesh.stem + ".stl")
    if not out.is_file():
        trimesh.load(str(mesh), force="mesh").export(str(out))
    return out


def claims(tool: str, gcode_path: Path, log_path: Path) -> dict[str, Any]:
    """The slicer's own layer count and filament length, for comparison with our reader."""
    text = log_path.read_text(errors="replace") if log_path.is_file() else ""
    if tool == "curaengine":
        return peers.cura_claims(text)
    if tool == "prusaslicer":
        return peers.prusaslicer_claims(gcode_path.read_text(errors="replace"))
    m = re.search(r"^\{.*\}\s*$", text, re.M | re.S)
    try:
        data = json.loads(m.group(0)) if m else {}
    except json.JSONDecodeError:
        data = {}
    return {"layers": data.get("layers"), "filament_mm": data.get("filament_mm")}


# -- analysis --------------------------------------------------------------------------------


def analyse(gcode_path: Path, part: Any) -> dict[str, Any]:
    """Our reader's layers and filament and the fidelity score of one program."""
    import fidelity

    from fabthread.gcode.reader import read_gcode

    moves = read_gcode(gcode_path.read_text(errors="replace"), source=str(gcode_path))
    t0 = time.perf_counter()
    fid = fidelity.score_moves(
        moves,
        part,
        width_mm=SETTINGS.width_mm,
        layer_mm=SETTINGS.layer_mm,
        bed_centre_xy_mm=(SETTINGS.bed_x_mm / 2.0, SETTINGS.bed_y_mm / 2.0),
    )
    return {
        "layers": moves.layer_count,
        "extruding_z_levels": len(fidelity.extrusion_layers(moves)),
        "filament_mm": float(moves.e_mm.sum()),
        "fidelity": fid.as_dict(),
        "fidelity_s": time.perf_counter() - t0,
    }


def inproc(jobs: list[dict[str, Any]], home: Path, numba_cache: Path, reps: int) -> list[Any]:
    """Time ``slice_job.slice_mesh`` in a fresh worker process (this file, --inproc)."""
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "jobs.json"
        spec.write_text(json.dumps({"jobs": jobs, "reps": reps}))
        proc = subprocess.run(
            [sys.executable, __file__, "--inproc", str(spec)],
            env=base_env(home, numba_cache), capture_output=True, text=True,
        )  # fmt: skip
    if proc.returncode != 0:
        log(f"in-process worker failed:\n{proc.stderr[-2000:]}")
        return [None] * len(jobs)
    return json.loads(proc.stdout)["results"]


def inproc_worker(spec_path: str) -> None:
    """Worker: import time, then per job the median of ``reps`` slice_mesh calls (after one
    untimed call, so kernels are loaded), or the error."""
    spec = json.loads(Path(spec_path).read_text())
    import importlib

    t0 = time.perf_counter()
    for module in SLICE_IMPORTS:
        importlib.import_module(module)
    from fabthread.slice_job import slice_mesh

    import_s = time.perf_counter() - t0
    results = []
    for job in spec["jobs"]:
        overrides = dict(job.get("overrides", {}))
        times = []
        try:
            for _ in range(1 + spec["reps"]):
                t = time.perf_counter()
                _, program = slice_mesh(job["mesh"], MACHINE, MATERIAL, overrides=overrides,
                                        units=job["units"])  # fmt: skip
                times.append(time.perf_counter() - t)
            results.append({"first_s": times[0], "median_s": statistics.median(times[1:]),
                            "layers": program.stats.layers})  # fmt: skip
        except Exception as exc:  # report and go on: one mesh must not stop the bench
            results.append({"error": f"{type(exc).__name__}: {exc}"[:300]})
    print(json.dumps({"import_s": import_s, "results": results}))


# -- the comparison --------------------------------------------------------------------------


def bench_mesh(
    mesh: Path, units: str, *, reps: int, home: Path, warm: Path, cold: bool, timeout_s: float
) -> dict[str, Any]:
    from fabthread.errors import FabError
    from fabthread.geom.mesh_io import load_mesh

    work = OUT / "gcode" / mesh.stem
    work.mkdir(parents=True, exist_ok=True)
    try:
        part = load_mesh(mesh, units=units)
    except FabError as exc:
        return {"mesh": mesh.name, "units": units, "error": str(exc)}
    lo, hi = part.bounds_mm
    row: dict[str, Any] = {
        "mesh": mesh.name,
        "units": units,
        "triangles": int(len(part.faces)),
        "size_mm": [round(float(v), 1) for v in hi - lo],
        "tools": {t: {"runs": []} for t in TOOLS},
    }
    cura_mesh = cura_input(mesh, OUT / "cura_inputs")
    available = {"fabthread": True, "prusaslicer": peers.have_prusaslicer(),
                 "curaengine": peers.have_curaengine()}  # fmt: skip
    for rep in range(reps):
        for tool in TOOLS:
            if not available[tool]:
                continue
            gcode = work / f"{tool}.gcode"
            gcode.unlink(missing_ok=True)
            env = base_env(home, warm) if tool == "fabthread" else None
            cmd = tool_cmd(tool, mesh, units, cura_mesh, gcode)
            r = run_child(cmd, env=env, log_path=work / f"{tool}.log", timeout_s=timeout_s)
            row["tools"][tool]["runs"].append(r)
            log(f"  {mesh.name} rep {rep + 1}/{reps} {tool}: {r['wall_s']:.2f} s rc={r['rc']}")
    if cold:
        with tempfile.TemporaryDirectory(prefix="numba-cold-") as tmp:
            gcode = work / "fabthread-cold.gcode"
            env = dict(base_env(home, Path(tmp)), FABTHREAD_KERNELS="jit")
            r = run_child(tool_cmd("fabthread", mesh, units, cura_mesh, gcode),
                          env=env, log_path=work / "fabthread-cold.log",
                          timeout_s=timeout_s)  # fmt: skip
        row["tools"]["fabthread"]["cold"] = r
        log(f"  {mesh.name} fabthread cold: {r['wall_s']:.2f} s rc={r['rc']}")
    for tool in TOOLS:
        t = row["tools"][tool]
        ok = [r for r in t["runs"] if r["rc"] == 0]
        gcode = work / f"{tool}.gcode"
        if not available[tool]:
            t["error"] = "not installed"
            continue
        if not ok or not gcode.is_file():
            tail = (work / f"{tool}.log").read_text(errors="replace").strip().splitlines()[-3:]
            t["error"] = f"exit {t['runs'][-1]['rc']}: " + " | ".join(tail)[:300]
            continue
        t["wall_s"] = statistics.median(r["wall_s"] for r in ok)
        t["cpu_s"] = statistics.median(r["cpu_s"] for r in ok)
        t["max_rss_mb"] = max(r["max_rss_mb"] for r in ok)
        t["claims"] = claims(tool, gcode, work / f"{tool}.log")
        try:
            t.update(analyse(gcode, part))
        except Exception as exc:  # a program our reader rejects is a finding, not a crash
            t["error"] = f"analysis: {type(exc).__name__}: {exc}"[:300]
    return row


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    ratios, mem, faster, fid = [], [], {}, {}
    for row in rows:
        t = row.get("tools", {})
        ft, ps, ce = (t.get(k, {}) for k in TOOLS)
        if "wall_s" in ft and "wall_s" in ps:
            ratios.append(ft["wall_s"] / ps["wall_s"])
            mem.append(ft["max_rss_mb"] / ps["max_rss_mb"])
        if "wall_s" in ft:
            peer_times = [p["wall_s"] for p in (ps, ce) if "wall_s" in p]
            faster[row["mesh"]] = bool(peer_times) and ft["wall_s"] < min(peer_times)
        if "fidelity" in ft:
            peers_f = [p["fidelity"] for p in (ps, ce) if "fidelity" in p]
            if peers_f:
                f = ft["fidelity"]
                fid[row["mesh"]] = {
                    "coverage_minus_best_peer": f["coverage"] - max(p["coverage"] for p in peers_f),
                    "ring_coverage_minus_best_peer": f["ring_coverage"]
                    - max(p["ring_coverage"] for p in peers_f),
                    "overflow_minus_best_peer": f["overflow"] - min(p["overflow"] for p in peers_f),
                }
    return {
        "median_time_ratio_fabthread_over_prusaslicer": statistics.median(ratios)
        if ratios
        else None,
        "median_rss_ratio_fabthread_over_prusaslicer": statistics.median(mem) if mem else None,
        "faster_than_both": faster,
        "fidelity_vs_best_peer": fid,
        "meshes_compared": len(ratios),
    }


# -- scaling ---------------------------------------------------------------------------------


def scaling(home: Path, warm: Path, reps: int, timeout_s: float) -> dict[str, Any]:
    """fabthread time vs triangle count (subdivided mesh) and vs layer count."""
    import trimesh

    from fabthread.geom.mesh_io import UNIT_SCALE

    name, units = SCALING_MESH
    src = trimesh.load(str(MESH_DIR / name), force="mesh")
    src.apply_scale(UNIT_SCALE[units])
    folder = OUT / "scaling"
    folder.mkdir(parents=True, exist_ok=True)
    meshes: list[tuple[int, Path]] = []
    mesh = src
    for level in range(5):  # 4**4 x 3476 = 890k triangles
        path = folder / f"{Path(name).stem}_sub{level}.stl"
        if not path.is_file():
            mesh.export(str(path))
        meshes.append((len(mesh.faces), path))
        if level < 4:
            mesh = mesh.subdivide()
    jobs = [{"mesh": str(p), "units": "mm"} for _, p in meshes[1:]]
    big = str(meshes[-1][1])
    layer_jobs = [
        {"mesh": big, "units": "mm", "overrides": {"layer_height_mm": h,
                                                   "first_layer_height_mm": h}}
        for h in (0.3, 0.2, 0.1)
    ]  # fmt: skip
    log(f"  scaling: in-process slice_mesh on {len(jobs) + len(layer_jobs)} jobs")
    res = inproc(jobs + layer_jobs, home, warm, reps)
    tri_rows = [
        {"triangles": n, **(r or {"error": "worker failed"})}
        for (n, _), r in zip(meshes[1:], res[: len(jobs)], strict=True)
    ]
    layer_rows = [
        {"layer_mm": j["overrides"]["layer_height_mm"], **(r or {"error": "worker failed"})}
        for j, r in zip(layer_jobs, res[len(jobs) :], strict=True)
    ]
    # A mesh of a million triangles or more through the CLI: it must slice without error.
    million, million_path = _million_mesh(folder)
    cli = run_child(
        [fabthread_bin(), "-q", "slice", str(million_path), "-m", MACHINE, "-M", MATERIAL,
         *SETTINGS.fabthread_sets(), "--json", "-o", str(folder / "big.gcode")],
        env=base_env(home, warm), log_path=folder / "big.log", timeout_s=timeout_s,
    )  # fmt: skip
    return {
        "mesh": name,
        "vs_triangles": tri_rows,
        "vs_layers": layer_rows,
        "triangle_exponent": _exponent([(r["triangles"], r.get("median_s")) for r in tri_rows]),
        "layer_exponent": _exponent([(r.get("layers"), r.get("median_s")) for r in layer_rows]),
        "cli_1m": {"mesh": million_path.name, "triangles": million, **cli},
    }


def _million_mesh(folder: Path) -> tuple[int, Path]:
    """``MILLION_MESH`` subdivided until it has ``MILLION`` triangles or more (written once):
    (triangle count, STL path)."""
    name, units = MILLION_MESH
    path = folder / f"{Path(name).stem}_1m.stl"
    if path.is_file():  # a binary STL: the triangle count follows the 80-byte header
        with path.open("rb") as f:
            f.seek(80)
            return int.from_bytes(f.read(4), "little"), path
    import trimesh

    from fabthread.geom.mesh_io import UNIT_SCALE

    mesh = trimesh.load(str(MESH_DIR / name), force="mesh")
    mesh.apply_scale(UNIT_SCALE[units])
    while len(mesh.faces) < MILLION:
        mesh = mesh.subdivide()
    mesh.export(str(path))
    return len(mesh.faces), path


def _exponent(points: list[tuple[Any, Any]]) -> float | None:
    """Least-squares slope of log(time) against log(size): 1 is linear."""
    pts = [(math.log(x), math.log(y)) for x, y in points if x and y]
    if len(pts) < 2:
        return None
    mx = sum(p[0] for p in pts) / len(pts)
    my = sum(p[1] for p in pts) / len(pts)
    sxx = sum((p[0] - mx) ** 2 for p in pts)
    return sum((p[0] - mx) * (p[1] - my) for p in pts) / sxx if sxx else None


# -- report ----------------------------------------------------------------------------------


def _f(v: Any, fmt: str = ".2f") -> str:
    return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, fmt)


def markdown(result: dict[str, Any]) -> str:
    rows, s = result["meshes"], result["summary"]
    out = [f"## FDM slicer benchmark ({result['repeats']} runs per slicer, median)", ""]
    out += ["### Time (wall s) and peak memory (max RSS MB)", "",
            "| mesh | triangles | fabthread warm | fabthread cold | slice_mesh (lib) | "
            "PrusaSlicer | CuraEngine | ft/Prusa | faster than both | RSS ft | RSS Prusa | "
            "RSS Cura |",
            "|---|--:|--:|--:|--:|--:|--:|--:|:-:|--:|--:|--:|"]  # fmt: skip
    for row in rows:
        if "error" in row:
            out.append(f"| {row['mesh']} | error: {row['error'][:80]} |" + " |" * 10)
            continue
        ft, ps, ce = (row["tools"][k] for k in TOOLS)
        lib = row.get("inproc") or {}
        ratio = ft["wall_s"] / ps["wall_s"] if "wall_s" in ft and "wall_s" in ps else None
        fast = s["faster_than_both"].get(row["mesh"])
        cold = ft.get("cold", {})
        out.append(
            f"| {row['mesh']} | {row['triangles']:,} | {_cell_t(ft)} | "
            f"{_f(cold.get('wall_s')) if cold.get('rc') == 0 else _cold_err(cold)} | "
            f"{_f(lib.get('median_s')) if 'error' not in lib else 'error'} | "
            f"{_cell_t(ps)} | {_cell_t(ce)} | {_f(ratio)} | "
            f"{'yes' if fast else ('no' if fast is not None else '—')} | "
            f"{_f(ft.get('max_rss_mb'), '.0f')} | {_f(ps.get('max_rss_mb'), '.0f')} | "
            f"{_f(ce.get('max_rss_mb'), '.0f')} |"
        )
    out += ["", "### Output read back by fabthread's reader (slicer's own claim in brackets)", "",
            "| mesh | layers ft | layers Prusa | layers Cura | filament m ft | filament m Prusa | "
            "filament m Cura |",
            "|---|--:|--:|--:|--:|--:|--:|"]  # fmt: skip
    for row in rows:
        if "error" in row:
            continue
        t = [row["tools"][k] for k in TOOLS]
        cells = [_cell_layers(x) for x in t] + [_cell_fil(x) for x in t]
        out.append(f"| {row['mesh']} | " + " | ".join(cells) + " |")
    out += ["", "### Fidelity (coverage / ring coverage within 1 mm of the outline / overflow)",
            "",
            "| mesh | fabthread | PrusaSlicer | CuraEngine | ft − best peer (cov / ring / over) |",
            "|---|---|---|---|---|"]  # fmt: skip
    for row in rows:
        if "error" in row:
            continue
        t = [row["tools"][k] for k in TOOLS]
        d = s["fidelity_vs_best_peer"].get(row["mesh"])
        diff = (
            f"{d['coverage_minus_best_peer']:+.3f} / {d['ring_coverage_minus_best_peer']:+.3f} / "
            f"{d['overflow_minus_best_peer']:+.3f}"
            if d
            else "—"
        )
        out.append(f"| {row['mesh']} | " + " | ".join(_cell_fid(x) for x in t) + f" | {diff} |")
    errors = [(row["mesh"], k, row["tools"][k]["error"]) for row in rows if "tools" in row
              for k in TOOLS if "error" in row["tools"][k]]  # fmt: skip
    if errors:
        out += ["", "Errors:", ""] + [f"- {m} / {k}: {e}" for m, k, e in errors]
    st = result.get("startup", {})
    modes = result.get("kernels", {})
    jit_mods = sorted(m for m, v in modes.items() if v != "aot")
    out += [
        "",
        "### Summary",
        "",
        f"- median time ratio fabthread/PrusaSlicer (warm, wall): "
        f"{_f(s['median_time_ratio_fabthread_over_prusaslicer'])} over "
        f"{s['meshes_compared']} meshes",
        f"- median peak-memory ratio fabthread/PrusaSlicer: "
        f"{_f(s['median_rss_ratio_fabthread_over_prusaslicer'])}",
        "- faster than both peers on: "
        + (", ".join(m for m, v in s["faster_than_both"].items() if v) or "none"),
        f"- start-up in every CLI run: Python {_f(st.get('python_s'))} s + fabthread imports "
        f"{_f(st.get('imports_s'))} s (fresh interpreter, median of 3); fabthread warm minus "
        "slice_mesh is the whole CLI overhead (start-up, kernel loading, writing the file)",
    ]
    if modes:
        out.append(
            f"- kernels: ahead-of-time build for {len(modes) - len(jit_mods)} of {len(modes)} "
            "modules" + (f" (JIT: {', '.join(jit_mods)})" if jit_mods else "")
        )
    sc = result.get("scaling")
    if sc:
        out += ["", f"### Scaling: fabthread `slice_mesh` on {sc['mesh']} subdivided "
                "(in-process, warm, median)", "",
                "| triangles | time s | layers | µs per triangle |",
                "|--:|--:|--:|--:|"]  # fmt: skip
        for r in sc["vs_triangles"]:
            per = r["median_s"] / r["triangles"] * 1e6 if "median_s" in r else None
            out.append(
                f"| {r['triangles']:,} | {_f(r.get('median_s'))} | {r.get('layers', '—')} | "
                f"{_f(per, '.4f')} |"
                if "error" not in r
                else f"| {r['triangles']:,} | error: {r['error'][:80]} | | |"
            )
        out += ["", "| layer height mm | layers | time s |", "|--:|--:|--:|"]
        for r in sc["vs_layers"]:
            out.append(
                f"| {r['layer_mm']} | {r.get('layers', '—')} | {_f(r.get('median_s'))} |"
                if "error" not in r
                else f"| {r['layer_mm']} | error: {r['error'][:80]} | |"
            )
        cli = sc["cli_1m"]
        out += [
            "",
            f"- growth exponent (log-log slope, 1 = linear): triangles "
            f"{_f(sc['triangle_exponent'])}, layers {_f(sc['layer_exponent'])}",
            f"- CLI on {cli['mesh']} ({cli['triangles']:,} triangles): "
            f"exit {cli['rc']}, {_f(cli['wall_s'])} s, "
            f"{_f(cli['max_rss_mb'], '.0f')} MB",
        ]
    return "\n".join(out) + "\n"


def _cell_t(t: dict[str, Any]) -> str:
    return _f(t.get("wall_s")) if "wall_s" in t else "error"


def _cold_err(cold: dict[str, Any]) -> str:
    return "—" if not cold else f"exit {cold.get('rc')}"


def _cell_layers(t: dict[str, Any]) -> str:
    if "layers" not in t:
        return "—"
    c = t.get("claims", {}).get("layers")
    return f"{t['layers']} ({_f(c, '.0f')})"


def _cell_fil(t: dict[str, Any]) -> str:
    if "filament_mm" not in t:
        return "—"
    c = t.get("claims", {}).get("filament_mm")
    return f"{t['filament_mm'] / 1000:.2f} ({_f(c / 1000 if c else None)})"


def _cell_fid(t: dict[str, Any]) -> str:
    f = t.get("fidelity")
    if not f:
        return "—"
    return f"{f['coverage']:.3f} / {f['ring_coverage']:.3f} / {f['overflow']:.3f}"


# -- main ------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mesh", action="append", default=[], help="only this mesh (repeatable)")
    ap.add_argument("-n", "--repeats", type=int, default=3, help="runs per slicer and mesh")
    ap.add_argument("--only", choices=["compare", "scaling"], help="run one part only")
    ap.add_argument("--no-cold", action="store_true", help="skip the cold-cache fabthread run")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per slicer run")
    ap.add_argument("--inproc", help=argparse.SUPPRESS)
    ap.add_argument("--launcher", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.launcher:
        launcher_loop()
        return
    if a.inproc:
        inproc_worker(a.inproc)
        return
    OUT.mkdir(parents=True, exist_ok=True)
    home = fabthread_home()
    warm = OUT / "numba-warm"
    warm.mkdir(exist_ok=True)
    result: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "host": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "machine": platform.machine(),
        },  # fmt: skip
        "settings": dataclasses.asdict(SETTINGS),
        "repeats": a.repeats,
        "meshes": [],
    }
    # Warm the numba cache once (untimed) so "warm" means what a user sees on the second run.
    log("warming the numba cache ...")
    cube = MESH_DIR / "20mm-xyz-cube.stl"
    warm_cmd = tool_cmd("fabthread", cube, "mm", cube, OUT / "warmup.gcode")
    run_child(warm_cmd, env=base_env(home, warm), log_path=OUT / "warmup.log", timeout_s=a.timeout)
    if a.only != "scaling":
        meshes = list_meshes(MESH_DIR, a.mesh)
        for mesh, units in meshes:
            log(f"{mesh.name} ({units})")
            result["meshes"].append(
                bench_mesh(
                    mesh,
                    units,
                    reps=a.repeats,
                    home=home,
                    warm=warm,
                    cold=not a.no_cold,
                    timeout_s=a.timeout,
                )  # fmt: skip
            )
        log("in-process slice_mesh ...")
        jobs = [{"mesh": str(m), "units": u} for m, u in meshes]
        res = inproc(jobs, home, warm, max(1, a.repeats))
        for row, r in zip(result["meshes"], res, strict=True):
            row["inproc"] = r
        result["startup"] = startup_times(home, warm)
        result["kernels"] = kernel_modes()
    result["summary"] = summarize(result["meshes"])
    if a.only != "compare":
        log("scaling ...")
        result["scaling"] = scaling(home, warm, max(1, min(a.repeats, 3)), a.timeout)
    LAUNCHER.close()
    result["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    # A partial run (--only, --mesh) does not overwrite the last complete one.
    partial = a.only or a.mesh
    name = f"latest-{a.only or 'subset'}.json" if partial else "latest.json"
    (OUT / name).write_text(json.dumps(result, indent=2, default=str) + "\n")
    sys.stdout.write(markdown(result))
    log(f"JSON: {OUT / name}")


#: What a `fabthread slice` run imports before it slices (the CLI imports lazily).
SLICE_IMPORTS = (
    "fabthread.cli.main",
    "fabthread.cli.slice_cmd",
    "fabthread.slice_job",
    "fabthread.profiles",
    "fabthread.geom.mesh_io",
    "fabthread.slice.slicer",
    "fabthread.gcode.emit",
    "fabthread.gcode.reader",
)


def kernel_modes() -> dict[str, str]:
    """How each kernel module runs in a fresh interpreter: "aot" or "jit"."""
    code = (
        "from fabthread.kernels import jit, build\n"
        "print(' '.join(m + '=' + jit.mode(m) for m in build.AOT_MODULES))"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    return dict(kv.split("=", 1) for kv in p.stdout.split()) if p.returncode == 0 else {}


def startup_times(home: Path, warm: Path) -> dict[str, float | None]:
    """Median of 3 fresh interpreters: bare Python start-up (s), and importing the modules a
    slice run needs (s, numba kernels loaded lazily on first call are not included)."""
    code = (
        "import time, importlib; t = time.perf_counter()\n"
        f"for m in {SLICE_IMPORTS!r}: importlib.import_module(m)\n"
        "print(time.perf_counter() - t)"
    )
    bare, imports = [], []
    for _ in range(3):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        bare.append(time.perf_counter() - t)
        p = subprocess.run([sys.executable, "-c", code], env=base_env(home, warm),
                           capture_output=True, text=True)  # fmt: skip
        if p.returncode == 0:
            imports.append(float(p.stdout.strip()))
    return {
        "python_s": statistics.median(bare),
        "imports_s": statistics.median(imports) if imports else None,
    }


if __name__ == "__main__":
    main()
