"""Numba kernels for mesh cleaning: groups of equal rows (vertex welding) and connected
components (bodies of a mesh, loops of a boundary).

Both number their groups 0, 1, 2 ... in order of first appearance, so results do not depend
on hashing or on the order edges are given in: the same input always gives the same labels.
"""

from __future__ import annotations

import numpy as np

from fabthread.kernels.jit import kernel


@kernel("i8[:, :]", returns="i8[:]")
def equal_row_groups(keys: np.ndarray) -> np.ndarray:
    """Group id of every row of ``keys`` (int64 (n, k)): rows that are equal share a group,
    groups are numbered in order of their first row. Returns int64 (n,).

    An open-addressing hash table of 2-4 slots per row: one pass, no sort (a lexsort of the
    675k corner rows of a 225k-triangle STL takes ten times as long)."""
    n = keys.shape[0]
    k = keys.shape[1]
    groups = np.empty(n, dtype=np.int64)
    size = 16
    while size < 2 * n:
        size *= 2
    mask = size - 1
    slot_row = np.full(size, -1, dtype=np.int64)  # first row of the group in this slot
    slot_group = np.empty(size, dtype=np.int64)
    count = 0
    for i in range(n):
        h = np.uint64(14695981039346656037)
        for c in range(k):
            h = (h ^ np.uint64(keys[i, c])) * np.uint64(1099511628211)
        h ^= h >> np.uint64(29)
        s = np.int64(h & np.uint64(mask))
        while True:
            r = slot_row[s]
            if r < 0:
                slot_row[s] = i
                slot_group[s] = count
                groups[i] = count
                count += 1
                break
            same = True
            for c in range(k):
                if keys[r, c] != keys[i, c]:
                    same = False
                    break
            if same:
                groups[i] = slot_group[s]
                break
            s = (s + 1) & mask
    return groups


@kernel("i8, i8[:], i8[:]", returns="i8[:]")
def connected_components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Component of every node 0..n-1 of the undirected graph with edges (a[i], b[i]).

    a, b: int64 (E,), every value in [0, n) (the caller checks). Returns int64 (n,) labels,
    components numbered in order of their smallest node. Union-find with path halving; the
    smaller root always wins, so every root is the smallest node of its component."""
    parent = np.arange(n, dtype=np.int64)
    for i in range(a.shape[0]):
        x = a[i]
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        y = b[i]
        while parent[y] != y:
            parent[y] = parent[parent[y]]
            y = parent[y]
        if x < y:
            parent[y] = x
        elif y < x:
            parent[x] = y
    labels = np.empty(n, dtype=np.int64)
    count = 0
    for i in range(n):
        r = i
        while parent[r] != r:
            parent[r] = parent[parent[r]]
            r = parent[r]
        if r == i:
            labels[i] = count
            count += 1
        else:
            labels[i] = labels[r]  # r < i: already labelled
    return labels
