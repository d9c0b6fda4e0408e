"""How a kernel is compiled: ahead of time (AOT, ``numba.pycc``) or just in time (``njit``).

Every ``*/kernels/*.py`` module on the slicing path declares its public kernels with
``@kernel("arg types", returns="type")`` (numba type strings) and its inner helpers with
``@helper``. ``python -m fabthread.kernels.build`` (run by ``make``) compiles all public
kernels with their signatures into one extension module, ``fabthread.kernels._aot``, next to
a manifest ``_aot.json`` holding the sha256 of every kernel source file it was built from.

At import, a kernel module uses the AOT build when the manifest's numpy version matches and
its own source file is unchanged since the build: then numba is never imported (about 0.6 s
and 150 MB less for every command) and nothing is compiled on first use. Otherwise (no
build, an edited kernel, ``FABTHREAD_KERNELS=jit``) it falls back to ``njit(cache=True)``, so
a working tree always runs its current source.

AOT entry points do not check argument types (an int64 array read as float64 gives wrong
numbers), so each is wrapped: arrays are converted to the declared dtype (no copy when it
already matches, so output arrays filled in place keep working) and their dimensions
checked; scalars go through ``float``/``int``/``bool``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

F = TypeVar("F", bound=Callable[..., Any])

HERE = Path(__file__).resolve().parent
PACKAGE_ROOT = HERE.parent  # src/fabthread
MANIFEST = HERE / "_aot.json"
#: "auto" (AOT when built and fresh, else JIT), "jit" (always JIT), "aot" (AOT or fail).
MODE_ENV = "FABTHREAD_KERNELS"
#: Set by ``build``: decorators return njit dispatchers and record what to export.
BUILDING_ENV = "FABTHREAD_KERNELS_BUILDING"

_DTYPES = {
    "f8": np.float64,
    "f4": np.float32,
    "i8": np.int64,
    "i4": np.int32,
    "i2": np.int16,
    "i1": np.int8,
    "u8": np.uint64,
    "u1": np.uint8,
    "b1": np.bool_,
}
_ARG = re.compile(r"^(f8|f4|i8|i4|i2|i1|u8|u1|b1)(\[[:, ]*\])?$")


@dataclass(frozen=True, slots=True)
class Export:
    """One public kernel as the build compiles it."""

    module: str  # e.g. fabthread.slice.kernels.section
    name: str
    args: str
    returns: str

    @property
    def symbol(self) -> str:
        return export_symbol(self.module, self.name)

    @property
    def signature(self) -> str:
        return f"{self.returns}({self.args})"


#: Filled while building (module -> exports, with the njit dispatcher to compile).
REGISTRY: list[tuple[Export, Any]] = []


def export_symbol(module: str, name: str) -> str:
    """The AOT module attribute of kernel ``name`` in ``module``."""
    short = module.removeprefix("fabthread.").replace(".kernels.", "_").replace(".", "_")
    return f"{short}__{name}"


def source_sha256(module: str) -> str:
    rel = module.removeprefix("fabthread.").replace(".", "/") + ".py"
    return hashlib.sha256((PACKAGE_ROOT / rel).read_bytes()).hexdigest()


@functools.cache
def _manifest() -> dict[str, Any] | None:
    try:
        data = json.loads(MANIFEST.read_text())
    except (OSError, ValueError):
        return None
    if data.get("numpy") != np.__version__:
        return None
    return data if isinstance(data, dict) else None


@functools.cache
def _aot_module() -> Any:
    from fabthread.kernels import _aot  # type: ignore[attr-defined]

    return _aot


#: Kernel modules whose kernels compile in helpers of the others: the AOT build of each is
#: fresh only while all of their sources are unchanged (a stale one runs JIT, and calls the
#: others' helpers, which must then be JIT dispatchers too).
KERNEL_GROUPS: tuple[tuple[str, ...], ...] = (
    ("fabthread.geom.kernels.rings", "fabthread.geom.kernels.offset"),
)


def _group(module: str) -> tuple[str, ...]:
    return next((g for g in KERNEL_GROUPS if module in g), (module,))


@functools.cache
def aot_fresh(module: str) -> bool:
    """Whether the AOT build holds the current source of ``module`` (and of the modules it
    shares helpers with, ``KERNEL_GROUPS``)."""
    if os.environ.get(BUILDING_ENV) or os.environ.get(MODE_ENV, "auto") == "jit":
        return False
    data = _manifest()
    files = data.get("files", {}) if data is not None else {}
    ok = data is not None and all(files.get(m) == source_sha256(m) for m in _group(module))
    if ok:
        try:
            _aot_module()
        except ImportError:
            ok = False
    if not ok and os.environ.get(MODE_ENV) == "aot":
        raise RuntimeError(
            f"{MODE_ENV}=aot but the AOT kernels of {module} are missing or out of date; "
            "run `python -m fabthread.kernels.build`"
        )
    return ok


def mode(module: str) -> str:
    """Either "aot" or "jit": how the kernels of ``module`` run in this process."""
    return "aot" if aot_fresh(module) else "jit"


def _converter(spec: str) -> Callable[[Any], Any]:
    m = _ARG.match(spec.replace(" ", ""))
    if m is None:
        raise ValueError(f"kernel argument type {spec!r}: use f8, i8, u1, b1, ... with [:] dims")
    dtype = _DTYPES[m.group(1)]
    dims = m.group(2)
    if dims is None:
        return {np.float64: float, np.float32: float, np.bool_: bool}.get(dtype, int)
    ndim = dims.count(":")
    want = np.dtype(dtype)

    def convert(a: Any) -> np.ndarray:
        # the common case first, by identity (builtin dtypes are singletons): 0.1 us
        if type(a) is np.ndarray and a.dtype is want and a.ndim == ndim:
            return a
        arr = a if isinstance(a, np.ndarray) and a.dtype == want else np.asarray(a, want)
        if arr.ndim != ndim:
            raise TypeError(f"expected a {ndim}-d {want.name} array, got {arr.ndim}-d")
        return arr

    return convert


def _split_args(args: str) -> list[str]:
    out, depth, cur = [], 0, ""
    for ch in args:
        depth += ch == "["
        depth -= ch == "]"
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


def _checked_call(name: str, target: Callable[..., Any], args: str) -> Callable[..., Any]:
    """``target`` (an AOT entry point) with its arguments converted to the declared types.
    Kernels of up to four arguments, the ones called most often per layer (offsets, ring
    reading), get a call of their own arity: no argument tuple walked (a microsecond a
    call, tens of thousands of calls a slice)."""
    convert = [_converter(a) for a in _split_args(args)]
    n = len(convert)
    if n == 1:
        (c0,) = convert
        return lambda x0: target(c0(x0))
    if n == 2:
        c0, c1 = convert
        return lambda x0, x1: target(c0(x0), c1(x1))
    if n == 3:
        c0, c1, c2 = convert
        return lambda x0, x1, x2: target(c0(x0), c1(x1), c2(x2))
    if n == 4:
        c0, c1, c2, c3 = convert
        return lambda x0, x1, x2, x3: target(c0(x0), c1(x1), c2(x2), c3(x3))

    def call(*a: Any) -> Any:
        if len(a) != n:
            raise TypeError(f"{name}() takes {n} arguments, got {len(a)}")
        return target(*[c(x) for c, x in zip(convert, a)])  # noqa: B905 - length checked

    return call


def kernel(args: str, *, returns: str) -> Callable[[F], F]:
    """A public kernel with its numba signature, e.g.
    ``@kernel("f8[:], i8[:, :]", returns="Tuple((i8[:, :], i8[:]))")``."""

    def wrap(fn: F) -> F:
        module, name = fn.__module__, fn.__name__
        if aot_fresh(module):
            target = getattr(_aot_module(), export_symbol(module, name))
            call = functools.wraps(fn)(_checked_call(name, target, args))
            call.py_func = fn  # type: ignore[attr-defined]
            return call  # type: ignore[return-value]
        from numba import njit

        dispatcher = njit(cache=True)(fn)
        if os.environ.get(BUILDING_ENV):
            REGISTRY.append((Export(module, name, args, returns), dispatcher))
        return dispatcher  # type: ignore[return-value]

    return wrap


def helper(fn: F) -> F:
    """A kernel called only from other kernels (compiled into them). Under AOT it stays a
    plain Python function (for tests); under JIT it is ``njit(cache=True)``."""
    return _helper(fn, inline=False)


def inline_helper(fn: F) -> F:
    """A ``helper`` that numba inlines into each kernel that calls it (``inline="always"``):
    for small functions called millions of times per run, where the call and its error
    checks cost more than the body (``format._put_num``: format_moves 41 -> 33 ms on the
    tray's 450k rows). Sparingly: with numba 0.6x, inlining ``format._put_word`` as well
    made the AOT build fail to type an unrelated kernel (parse_gcode: "No conversion from
    Literal[int](3) to Literal[int](0)"), though each compiled on its own under JIT."""
    return _helper(fn, inline=True)


def _helper(fn: F, *, inline: bool) -> F:
    if aot_fresh(fn.__module__):
        fn.py_func = fn  # type: ignore[attr-defined]
        return fn
    from numba import njit

    if inline:
        return njit(cache=True, inline="always")(fn)  # type: ignore[return-value]
    return njit(cache=True)(fn)  # type: ignore[return-value]
