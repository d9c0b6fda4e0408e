"""Helpers for frozen dataclasses that carry numpy arrays."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, DTypeLike


def readonly(a: ArrayLike, dtype: DTypeLike, shape_tail: tuple[int, ...] = ()) -> np.ndarray:
    """A contiguous, read-only copy of ``a`` with ``dtype``; checks the trailing shape."""
    arr = np.ascontiguousarray(a, dtype=dtype)
    if shape_tail and arr.shape[1:] != shape_tail:
        raise ValueError(f"expected shape (n, {', '.join(map(str, shape_tail))}), got {arr.shape}")
    if arr.base is not None or arr.flags.writeable:
        arr = arr.copy()
    arr.flags.writeable = False
    return arr


def handed_over(a: np.ndarray) -> np.ndarray:
    """``a``, a new array that nothing else refers to, made read-only in place: ``readonly``
    then takes it as it is instead of copying it (a frozen dataclass built from arrays its
    caller has just made and lets go of)."""
    a.flags.writeable = False
    return a
