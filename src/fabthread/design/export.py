"""Export a built design to a file chosen by suffix: .step/.stp (B-rep via cadquery), .stl and
.3mf (the tessellated Part via ``fabthread.geom.mesh_export``). Files are written atomically:
a failed build or a bad suffix leaves no file behind.
"""

from __future__ import annotations

import os
from pathlib import Path

from fabthread.errors import UserError
from fabthread.model.params import DesignSpec, ParamSet
from fabthread.model.part import Part

SUFFIXES = (".step", ".stp", ".stl", ".3mf")


def export(
    spec: DesignSpec,
    params: ParamSet,
    path: str | os.PathLike[str],
    *,
    cache_dir: Path | None = None,
    timeout_s: float = 120.0,
    color_hex: str = "",
) -> Part | None:
    """Build ``spec`` with ``params`` and write it to ``path`` (format by suffix).

    Returns the Part for mesh formats (None for STEP). Raises UserError for an unknown suffix,
    DesignError when the build fails.
    """
    from fabthread.design.build import build_part, build_step
    from fabthread.io_atomic import write_bytes_atomic

    target = Path(path)
    suffix = check_suffix(target)
    if suffix in (".step", ".stp"):
        data = build_step(spec, params, cache_dir=cache_dir, timeout_s=timeout_s)
        write_bytes_atomic(target, data)
        return None
    from fabthread.geom.mesh_export import stl_bytes, threemf_bytes

    part = build_part(spec, params, cache_dir=cache_dir, timeout_s=timeout_s)
    if suffix == ".stl":
        data = stl_bytes(part)
    else:
        data = threemf_bytes(part, color_hex=color_hex, name=spec.name)
    write_bytes_atomic(target, data)
    return part


def check_suffix(path: str | os.PathLike[str]) -> str:
    """The lower-case suffix of ``path`` if it is one we export, else UserError."""
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        raise UserError(
            f"{path}: cannot export '{suffix or '(no suffix)'}'; allowed: {', '.join(SUFFIXES)}"
        )
    return suffix


__all__ = ["SUFFIXES", "check_suffix", "export"]
