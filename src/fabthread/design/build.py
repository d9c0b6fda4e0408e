"""Build a design: run its ``design.py`` with resolved parameters and tessellate the result.

``build_part`` returns a closed, outward-wound triangle mesh in mm with z-min at 0. The time
limit is real: the script runs in a worker process (``fork`` where the OS has it, else
``spawn``) that is killed when ``timeout_s`` passes; OpenCASCADE spends its time in C++ where
a Python signal could not interrupt it. The parent imports cadquery once before forking so a
second build in the same process does not pay the import again (about 1-3 s).

Build cache (``cache_dir``): ``<cache_dir>/builds/<key>.npz`` (vertices_mm, faces, and for
multi-body designs body_names/body_starts) and ``<key>.step``, where ``key`` = sha256(design
source hash + canonical JSON of the parameters and, when not 1, the scale), which is also the
Part's ``source_sha256``. A hit reads the npz and never imports cadquery.

Scale: ``params.scale`` scales the built shape uniformly about the origin. Fit features (the
parameters ``spec.fits`` set) are passed to ``design.py`` divided by the scale, so a resolved
0.2 mm gap is 0.2 mm in the scaled part.

Bodies: a design with ``bodies = ["box", "lid"]`` returns ``{"box": ..., "lid": ...}``; the
Part holds all bodies, one after the other in that order, and its meta has
``("bodies", "box:0:5120;lid:5120:8000")`` (face ranges), read back by ``body_ranges``, so an
exporter can give each body its own object and color.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import multiprocessing as mp
import re
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from fabthread.errors import DesignError
from fabthread.model.params import DesignSpec, ParamSet, ParamValue
from fabthread.model.part import Part

log = logging.getLogger(__name__)

#: Tessellation: max chord deviation (mm) and max angle between adjacent facets (rad). Fine
#: enough that a 0.1 mm layer slice of a curved wall is within 0.01 mm of the true surface.
LINEAR_TOLERANCE_MM = 0.01
ANGULAR_TOLERANCE_RAD = 0.1
#: STEP header timestamps are replaced by this, so the same build gives the same bytes.
STEP_EPOCH = "1970-01-01T00:00:00"


@dataclass(frozen=True, slots=True)
class _Built:
    """What a worker sends back: raw tessellation per body (name, float64 (n, 3) vertices,
    int64 (m, 3) faces; one unnamed body for single-body designs) and STEP."""

    bodies: tuple[tuple[str, np.ndarray, np.ndarray], ...]
    step: bytes


class Params:
    """Read-only attribute access to resolved values for ``design.py``: ``p.width_mm``."""

    __slots__ = ("_design", "_values")

    def __init__(self, design: str, values: dict[str, ParamValue]) -> None:
        object.__setattr__(self, "_design", design)
        object.__setattr__(self, "_values", dict(values))

    def __getattr__(self, name: str) -> ParamValue:
        values = object.__getattribute__(self, "_values")
        if name in values:
            return values[name]  # type: ignore[no-any-return]
        design = object.__getattribute__(self, "_design")
        raise AttributeError(
            f"design {design} has no parameter '{name}'; parameters: {', '.join(values)}"
        )

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("parameters are read-only")

    def __repr__(self) -> str:
        return f"Params({object.__getattribute__(self, '_values')!r})"


def build_key(spec: DesignSpec, params: ParamSet) -> str:
    """sha256 hex of the design source hash and the canonical JSON of ``params``."""
    _check_pair(spec, params)
    canonical = json.dumps(dict(params.values), sort_keys=True, separators=(",", ":"))
    if params.scale != 1.0:  # keeps the keys of unscaled builds as they were
        canonical += f"|scale={params.scale!r}"
    return hashlib.sha256((spec.source_sha256 + canonical).encode("utf-8")).hexdigest()


def body_ranges(part: Part) -> tuple[tuple[str, int, int], ...]:
    """``(name, first face, end face)`` per named body of a built Part; () for one body."""
    text = dict(part.meta).get("bodies", "")
    out = []
    for item in text.split(";") if text else ():
        name, start, end = item.split(":")
        out.append((name, int(start), int(end)))
    return tuple(out)


def build_part(
    spec: DesignSpec,
    params: ParamSet,
    *,
    cache_dir: Path | None = None,
    timeout_s: float = 120.0,
) -> Part:
    """Build ``spec`` with ``params`` into a Part (closed mesh, mm, z-min at 0).

    ``timeout_s`` <= 0 runs the script in this process without a time limit (debugging).
    Raises DesignError when the script fails, times out, or makes something that is not a
    closed solid.
    """
    key = build_key(spec, params)
    cached = _cache_paths(cache_dir, key)
    if cached is not None:
        part = _load_cached(cached[0], spec, params, key)
        if part is not None:
            log.debug("build cache hit %s %s", spec.name, key[:12])
            return part
    t0 = time.perf_counter()
    built = _run(spec, params, want_step=cached is not None, timeout_s=timeout_s)
    part = _part_from_tessellation(spec, params, key, built.bodies)
    log.info(
        "built %s in %.2f s (%d triangles)", spec.name, time.perf_counter() - t0, len(part.faces)
    )
    if cached is not None:
        from fabthread.io_atomic import write_bytes_atomic

        buf = io.BytesIO()
        ranges = body_ranges(part)
        np.savez(
            buf,
            vertices_mm=part.vertices_mm,
            faces=part.faces,
            body_names=np.array([r[0] for r in ranges], dtype="U64"),
            body_starts=np.array([r[1] for r in ranges] + [len(part.faces)], dtype=np.int64),
        )
        write_bytes_atomic(cached[1], built.step)  # STEP first: a present npz implies both
        write_bytes_atomic(cached[0], buf.getvalue())
    return part


def build_step(
    spec: DesignSpec,
    params: ParamSet,
    *,
    cache_dir: Path | None = None,
    timeout_s: float = 120.0,
) -> bytes:
    """The STEP file (AP214, mm) of the build, from the cache when it is there."""
    key = build_key(spec, params)
    cached = _cache_paths(cache_dir, key)
    if cached is not None and cached[1].is_file() and cached[0].is_file():
        return cached[1].read_bytes()
    if cached is not None:
        build_part(spec, params, cache_dir=cache_dir, timeout_s=timeout_s)
        return cached[1].read_bytes()
    return _run(spec, params, want_step=True, timeout_s=timeout_s).step


def build_shape(spec: DesignSpec, params: ParamSet) -> Any:
    """Run ``design.py`` in this process and return the cadquery Shape, scaled (no time
    limit). Multi-body designs give a Compound of their bodies."""
    import cadquery as cq

    _check_pair(spec, params)
    shapes = [s for _, s in _bodies(spec, params)]
    return shapes[0] if len(shapes) == 1 else cq.Compound.makeCompound(shapes)


# --- running the script -------------------------------------------------------------------


def _run(spec: DesignSpec, params: ParamSet, *, want_step: bool, timeout_s: float) -> _Built:
    _check_pair(spec, params)
    if timeout_s <= 0:
        return _build_here(spec, params, want_step)
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    if ctx.get_start_method() == "fork":
        import cadquery  # noqa: F401  - imported once here, inherited by every forked worker
    receiver, sender = ctx.Pipe(duplex=False)
    proc = ctx.Process(  # type: ignore[attr-defined]
        target=_worker,
        args=(sender, spec, params, want_step),
        name=f"build-{spec.name}",
        daemon=True,
    )
    proc.start()
    sender.close()
    try:
        if not receiver.poll(timeout_s):
            raise DesignError(
                f"design {spec.name} took longer than {timeout_s:g} s to build and was stopped; "
                "simplify the parameters or raise the time limit"
            )
        try:
            status, payload = receiver.recv()
        except EOFError:
            proc.join(5)
            raise DesignError(
                f"design {spec.name}: the build process died (exit code {proc.exitcode})"
            ) from None
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join(5)
        receiver.close()
    if status != "ok":
        raise DesignError(payload)
    return payload  # type: ignore[no-any-return]


def _worker(conn: Any, spec: DesignSpec, params: ParamSet, want_step: bool) -> None:
    try:
        result: tuple[str, object] = ("ok", _build_here(spec, params, want_step))
    except DesignError as exc:
        result = ("error", str(exc))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent as a DesignError
        result = ("error", _failure_message(spec, exc))
    conn.send(result)
    conn.close()


def _build_here(spec: DesignSpec, params: ParamSet, want_step: bool) -> _Built:
    import cadquery as cq

    bodies = _bodies(spec, params)
    out = []
    try:
        for name, shape in bodies:
            vertices, triangles = shape.tessellate(LINEAR_TOLERANCE_MM, ANGULAR_TOLERANCE_RAD)
            v = np.array([(p.x, p.y, p.z) for p in vertices], dtype=np.float64).reshape(-1, 3)
            f = np.array(triangles, dtype=np.int64).reshape(-1, 3)
            out.append((name, v, f))
        step = b""
        if want_step:
            shapes = [s for _, s in bodies]
            step = _step_bytes(shapes[0] if len(shapes) == 1 else cq.Compound.makeCompound(shapes))
    except DesignError:
        raise
    except Exception as exc:
        raise DesignError(_failure_message(spec, exc)) from None
    return _Built(bodies=tuple(out), step=step)


def _bodies(spec: DesignSpec, params: ParamSet) -> list[tuple[str, Any]]:
    """The checked, scaled shapes of a build: [("", shape)] or one per named body."""
    result = _call_build(spec, params)
    if spec.bodies:
        if not isinstance(result, dict) or list(result) != list(spec.bodies):
            got = list(result) if isinstance(result, dict) else type(result).__name__
            raise DesignError(
                f"design {spec.name}: build() must return a dict with the bodies "
                f"{', '.join(spec.bodies)} in that order, got {got}"
            )
        named = [(name, _to_shape(f"{spec.name} (body {name})", result[name])) for name in result]
    else:
        named = [("", _to_shape(spec.name, result))]
    if params.scale != 1.0:
        named = [(name, shape.scale(params.scale)) for name, shape in named]
    return named


def _call_build(spec: DesignSpec, params: ParamSet) -> Any:
    import importlib.util

    from fabthread.design.catalog import script_path

    path = script_path(spec)
    module_spec = importlib.util.spec_from_file_location(f"fabthread_design_{spec.name}", path)
    if module_spec is None or module_spec.loader is None:  # pragma: no cover - a .py path
        raise DesignError(f"{path}: cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(module_spec)
    try:
        module_spec.loader.exec_module(module)
    except Exception as exc:
        raise DesignError(_failure_message(spec, exc, what="failed to load")) from None
    build = getattr(module, "build", None)
    if not callable(build):
        raise DesignError(f"{path}: no build(p) function")
    values = dict(params.values)
    if params.scale != 1.0:  # fit features stay absolute in the scaled part
        for fit in spec.fits:
            values[fit.feature] = values[fit.feature] / params.scale  # type: ignore[operator]
    try:
        return build(Params(spec.name, values))
    except Exception as exc:
        raise DesignError(_failure_message(spec, exc)) from None


def _to_shape(design: str, result: Any) -> Any:
    import cadquery as cq

    if isinstance(result, cq.Workplane):
        shapes = [v for v in result.vals() if isinstance(v, cq.Shape)]
        if not shapes:
            raise DesignError(f"design {design}: build() returned a Workplane with no solid")
        shape = shapes[0] if len(shapes) == 1 else cq.Compound.makeCompound(shapes)
    elif isinstance(result, cq.Shape):
        shape = result
    else:
        raise DesignError(
            f"design {design}: build() returned {type(result).__name__}; return a cadquery "
            "Workplane, Solid or Compound"
        )
    if not shape.Solids():
        raise DesignError(f"design {design}: build() made no solid (only faces or wires)")
    if not shape.isValid():
        raise DesignError(f"design {design}: build() made an invalid solid (OCC check failed)")
    return shape


def _step_bytes(shape: Any) -> bytes:
    import os
    import tempfile

    import cadquery as cq

    fd, tmp = tempfile.mkstemp(suffix=".step")
    os.close(fd)
    try:
        cq.exporters.export(shape, tmp, exportType="STEP")
        data = Path(tmp).read_bytes()
    finally:
        os.unlink(tmp)
    # FILE_NAME('name','<timestamp>',...): the one time-dependent field of the header.
    return re.sub(
        rb"(FILE_NAME\('[^']*',')[^']*(')", rb"\g<1>" + STEP_EPOCH.encode() + rb"\2", data, count=1
    )


def _failure_message(spec: DesignSpec, exc: BaseException, what: str = "failed to build") -> str:
    where = ""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename.endswith("design.py"):
            where = f" (design.py line {frame.lineno})"
            break
    return f"design {spec.name} {what}: {type(exc).__name__}: {exc}{where}"


# --- mesh and cache -----------------------------------------------------------------------


def _part_from_tessellation(
    spec: DesignSpec,
    params: ParamSet,
    key: str,
    bodies: tuple[tuple[str, np.ndarray, np.ndarray], ...],
) -> Part:
    import trimesh

    from fabthread.geom.mesh_io import open_edge_count

    vertex_blocks, face_blocks, ranges = [], [], []
    n_vertices = n_faces = 0
    for name, vertices, faces in bodies:
        what = f"design {spec.name}" + (f" (body {name})" if name else "")
        if len(faces) == 0:
            raise DesignError(f"{what}: the build has no triangles")
        # process=True merges the per-face vertex copies OCC emits along shared edges.
        mesh = trimesh.Trimesh(vertices=vertices, faces=faces, process=True)
        mesh.update_faces(mesh.nondegenerate_faces())
        mesh.remove_unreferenced_vertices()
        n_open = open_edge_count(np.asarray(mesh.faces))
        if n_open or not mesh.is_winding_consistent:
            raise DesignError(
                f"{what}: the tessellated solid is not closed ({n_open} open edges); "
                "check build() for touching or zero-thickness geometry"
            )
        if mesh.volume < 0:
            mesh.invert()
        vertex_blocks.append(np.asarray(mesh.vertices, dtype=np.float64))
        face_blocks.append(np.asarray(mesh.faces, dtype=np.int64) + n_vertices)
        ranges.append((name, n_faces, n_faces + len(mesh.faces)))
        n_vertices += len(mesh.vertices)
        n_faces += len(mesh.faces)
    v = np.concatenate(vertex_blocks)
    v[:, 2] -= v[:, 2].min()
    named = tuple(r for r in ranges if r[0])
    return _make_part(spec, params, key, v, np.concatenate(face_blocks), named)


def _make_part(
    spec: DesignSpec,
    params: ParamSet,
    key: str,
    vertices: np.ndarray,
    faces: np.ndarray,
    bodies: tuple[tuple[str, int, int], ...] = (),
) -> Part:
    meta: tuple[tuple[str, str], ...] = (
        ("design", spec.name),
        ("design_sha256", spec.source_sha256),
        ("params", json.dumps(dict(params.values), sort_keys=True, separators=(",", ":"))),
    )
    if params.scale != 1.0:
        meta += (("scale", repr(params.scale)),)
    if bodies:
        meta += (("bodies", ";".join(f"{n}:{a}:{b}" for n, a, b in bodies)),)
    return Part(name=spec.name, vertices_mm=vertices, faces=faces, source_sha256=key, meta=meta)


def _cache_paths(cache_dir: Path | None, key: str) -> tuple[Path, Path] | None:
    if cache_dir is None:
        return None
    folder = Path(cache_dir) / "builds"
    return folder / f"{key}.npz", folder / f"{key}.step"


def _load_cached(path: Path, spec: DesignSpec, params: ParamSet, key: str) -> Part | None:
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            vertices, faces = data["vertices_mm"], data["faces"]
            names = [str(n) for n in data["body_names"]] if "body_names" in data else []
            starts = [int(i) for i in data["body_starts"]] if "body_starts" in data else []
        if vertices.ndim != 2 or vertices.shape[1:] != (3,) or faces.shape[1:] != (3,):
            raise ValueError("bad shapes")
        if len(faces) and (faces.min() < 0 or faces.max() >= len(vertices)):
            raise ValueError("face index out of range")
        if names != list(spec.bodies) or (names and len(starts) != len(names) + 1):
            raise ValueError("bodies do not match the design")
    except Exception as exc:  # a corrupt cache entry is rebuilt, never trusted
        log.warning("ignoring unreadable build cache entry %s: %s", path, exc)
        return None
    bodies = tuple(zip(names, starts[:-1], starts[1:], strict=False))
    return _make_part(spec, params, key, vertices, faces, bodies)


def _check_pair(spec: DesignSpec, params: ParamSet) -> None:
    if params.design != spec.name:
        raise DesignError(
            f"parameters were resolved for design {params.design}, not for {spec.name}"
        )
    declared = [p.name for p in spec.params]
    if [k for k, _ in params.values] != declared:
        raise DesignError(
            f"parameters for design {spec.name} must hold every declared parameter in order "
            "(use fabthread.customize.params.resolve_params)"
        )


__all__ = ["Params", "body_ranges", "build_key", "build_part", "build_shape", "build_step"]
