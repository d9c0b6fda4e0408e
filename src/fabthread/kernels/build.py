"""Compile the kernels ahead of time: ``python -m fabthread.kernels.build``.

Imports every module in ``AOT_MODULES`` with JIT decorators that record each public kernel's
signature, compiles them all into the extension module ``fabthread/kernels/_aot*.so`` with
``numba.pycc`` and writes ``_aot.json`` (numpy and numba versions, sha256 of every source
file) last, so a failed build leaves no manifest and the kernels fall back to JIT. Takes
about a minute; ``make`` runs it after installing.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
from pathlib import Path

#: The kernel modules built ahead of time (the ones a slice, emit and read-back run uses).
AOT_MODULES = (
    "fabthread.slice.kernels.section",
    "fabthread.slice.kernels.hatch",
    "fabthread.slice.kernels.ring_walk",
    "fabthread.slice.kernels.order",
    "fabthread.slice.kernels.travel",
    "fabthread.slice.kernels.seam",
    "fabthread.gcode.kernels.arcs",
    "fabthread.gcode.kernels.format",
    "fabthread.gcode.kernels.parse",
    "fabthread.gcode.kernels.planner",
    "fabthread.gcode.kernels.raster",
    "fabthread.gcode.kernels.stats",
    "fabthread.geom.kernels.components",
    "fabthread.geom.kernels.xml_scan",
    "fabthread.geom.kernels.medial",
    "fabthread.geom.kernels.rings",
    "fabthread.geom.kernels.offset",
)


def build(out_dir: Path | None = None, *, verbose: bool = True) -> Path:
    """Build ``_aot`` and its manifest into ``out_dir`` (default: this package). Returns the
    manifest path."""
    os.environ["FABTHREAD_KERNELS_BUILDING"] = "1"
    import numba
    import numpy as np
    from numba.pycc import CC

    from fabthread.kernels import jit

    target = Path(out_dir) if out_dir is not None else jit.HERE
    (target / "_aot.json").unlink(missing_ok=True)
    for module in AOT_MODULES:
        importlib.import_module(module)
    cc = CC("_aot")
    cc.output_dir = str(target)
    cc.verbose = False
    for exp, dispatcher in jit.REGISTRY:
        cc.export(exp.symbol, exp.signature)(dispatcher.py_func)
    t0 = time.perf_counter()
    cc.compile()
    manifest = {
        "numpy": np.__version__,
        "numba": numba.__version__,
        "python": sys.version.split()[0],
        "files": {m: jit.source_sha256(m) for m in AOT_MODULES},
        "exports": [e.symbol for e, _ in jit.REGISTRY],
    }
    path = target / "_aot.json"
    tmp_path = path.with_suffix(".json.tmp")
    tmp_path.write_text(json.dumps(manifest, indent=1) + "\n")
    tmp_path.replace(path)
    if verbose:
        print(
            f"built {len(jit.REGISTRY)} kernels from {len(AOT_MODULES)} modules "
            f"in {time.perf_counter() - t0:.0f} s -> {target}",
            file=sys.stderr,
        )
    return path


def main() -> int:
    try:
        build()
    except Exception as exc:  # a failed build is not fatal: the kernels run JIT
        print(
            f"warning: AOT kernel build failed ({exc}); kernels will compile JIT", file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
