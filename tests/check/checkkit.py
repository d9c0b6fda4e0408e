"""Helpers for the check tests: machine profiles built in code and small trimesh solids, so
these tests depend on nothing but the model and trimesh."""

from __future__ import annotations

import numpy as np
import trimesh

from fabthread.model.part import Part
from fabthread.model.profiles import MachineProfile, MotionLimits

LIMITS = MotionLimits(200, 200, 12, 60, 3000, 3000, 200, 5000, 1500, 3000)


def machine(process: str = "fdm", size=(250.0, 210.0, 220.0), **kw) -> MachineProfile:
    return MachineProfile(
        id=f"test_{process}",
        name=f"test {process}",
        process=process,  # type: ignore[arg-type]
        dialect="marlin" if process == "fdm" else "grbl",
        size_x_mm=size[0],
        size_y_mm=size[1],
        size_z_mm=size[2],
        limits=LIMITS,
        **kw,
    )


def box(lo, hi) -> trimesh.Trimesh:
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    b = trimesh.creation.box(hi - lo)
    b.apply_translation((lo + hi) / 2)
    return b


def union(*meshes: trimesh.Trimesh) -> trimesh.Trimesh:
    return trimesh.boolean.union(meshes, engine="manifold")


def difference(a: trimesh.Trimesh, *b: trimesh.Trimesh) -> trimesh.Trimesh:
    return trimesh.boolean.difference([a, *b], engine="manifold")


def part(mesh: trimesh.Trimesh, name: str = "test", faces=None) -> Part:
    return Part(
        name=name,
        vertices_mm=np.asarray(mesh.vertices),
        faces=np.asarray(mesh.faces if faces is None else faces),
    )


def rules(findings, severity: str | None = None) -> set[str]:
    return {f.rule for f in findings if severity is None or f.severity == severity}
