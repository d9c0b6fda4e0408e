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


@kernel("i8[:], i8[:], i8", returns="Tuple((i8[:], i8[:], i8[:]))")
def edge_uses(
    a: np.ndarray, b: np.ndarray, n_nodes: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct undirected edges among a[k]-b[k] (int64 (E,) each, nodes 0..n_nodes-1;
    the caller checks), in order of first appearance: how many k use each, the first such
    k and the second (-1 when there is none). Returns three int64 (U,) arrays.

    The edges are bucketed by their smaller node (a counting pass, then each edge looked
    for among the few already in its bucket): matching the 675k edges of a 225k-triangle
    mesh by sorting their keys took 38 ms, by a hash table 52 ms (cache misses)."""
    n = a.shape[0]
    start = np.zeros(n_nodes + 1, dtype=np.int64)
    for i in range(n):
        start[min(a[i], b[i]) + 1] += 1
    for v in range(n_nodes):
        start[v + 1] += start[v]
    fill = start[:-1].copy()
    bucket = np.empty(n, dtype=np.int64)  # the distinct edges of each smaller node
    uses = np.zeros(n, dtype=np.int64)
    first = np.empty(n, dtype=np.int64)
    second = np.full(n, -1, dtype=np.int64)
    other = np.empty(n, dtype=np.int64)  # larger node of each distinct edge
    count = 0
    for i in range(n):
        lo, hi = min(a[i], b[i]), max(a[i], b[i])
        found = -1
        for k in range(start[lo], fill[lo]):
            if other[bucket[k]] == hi:
                found = bucket[k]
                break
        if found < 0:
            bucket[fill[lo]] = count
            fill[lo] += 1
            other[count] = hi
            uses[count] = 1
            first[count] = i
            count += 1
        else:
            if uses[found] == 1:
                second[found] = i
            uses[found] += 1
    return uses[:count].copy(), first[:count].copy(), second[:count].copy()


@kernel("f8[:, :], i8[:, :], f8", returns="b1[:]")
def nondegenerate(vertices: np.ndarray, faces: np.ndarray, min_height: float) -> np.ndarray:
    """bool (m,): triangles ``vertices[faces]`` whose heights over the sides from corner 0 to
    corners 1 and 2 both exceed ``min_height`` (trimesh's ``nondegenerate_faces``, the
    arithmetic of numpy's ``cross`` and sums, in one pass instead of a dozen arrays)."""
    m = faces.shape[0]
    keep = np.empty(m, dtype=np.bool_)
    for t in range(m):
        p, q, r = faces[t, 0], faces[t, 1], faces[t, 2]
        ux = vertices[q, 0] - vertices[p, 0]
        uy = vertices[q, 1] - vertices[p, 1]
        uz = vertices[q, 2] - vertices[p, 2]
        vx = vertices[r, 0] - vertices[q, 0]
        vy = vertices[r, 1] - vertices[q, 1]
        vz = vertices[r, 2] - vertices[q, 2]
        cx = uy * vz - uz * vy
        cy = uz * vx - ux * vz
        cz = ux * vy - uy * vx
        area = np.sqrt(cx * cx + cy * cy + cz * cz) / 2.0
        ok = True
        for c in (q, r):
            sx = vertices[c, 0] - vertices[p, 0]
            sy = vertices[c, 1] - vertices[p, 1]
            sz = vertices[c, 2] - vertices[p, 2]
            length = np.sqrt(sx * sx + sy * sy + sz * sz)
            height = (area * 2.0) / length if length > min_height else 0.0
            if not height > min_height:
                ok = False
        keep[t] = ok
    return keep


@kernel("i8[:], i8[:], i8", returns="Tuple((i8[:], i8[:, :]))")
def sorted_edges(a: np.ndarray, b: np.ndarray, n_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct undirected edges among a[k]-b[k] (int64 (E,) each, nodes 0..n_nodes-1;
    the caller checks) in ascending (smaller, larger) node order: the id of every k's edge
    int64 (E,) and each edge's nodes int64 (U, 2), smaller first (what ``np.unique`` of the
    keys smaller * n + larger gives, by a counting sort on the smaller node and an
    insertion sort of the few in each bucket instead of a sort of all the keys)."""
    n = a.shape[0]
    start = np.zeros(n_nodes + 1, dtype=np.int64)
    for i in range(n):
        start[min(a[i], b[i]) + 1] += 1
    for v in range(n_nodes):
        start[v + 1] += start[v]
    fill = start[:-1].copy()
    his = np.empty(n, dtype=np.int64)
    idx = np.empty(n, dtype=np.int64)
    for i in range(n):
        lo = min(a[i], b[i])
        p = fill[lo]
        fill[lo] += 1
        his[p] = max(a[i], b[i])
        idx[p] = i
    edge_id = np.empty(n, dtype=np.int64)
    nodes = np.empty((n, 2), dtype=np.int64)
    count = 0
    for v in range(n_nodes):
        s, e = start[v], start[v + 1]
        for k in range(s + 1, e):  # insertion sort by the larger node (buckets are small)
            h, j = his[k], idx[k]
            m = k - 1
            while m >= s and his[m] > h:
                his[m + 1] = his[m]
                idx[m + 1] = idx[m]
                m -= 1
            his[m + 1] = h
            idx[m + 1] = j
        prev = -1
        for k in range(s, e):
            if his[k] != prev:
                nodes[count, 0] = v
                nodes[count, 1] = his[k]
                count += 1
                prev = his[k]
            edge_id[idx[k]] = count - 1
    return edge_id, nodes[:count].copy()


@kernel("f8[:, :], i8[:, :], i8[:], i8", returns="Tuple((b1, i8[:], f8[:]))")
def body_volumes(
    vertices: np.ndarray, faces: np.ndarray, body: np.ndarray, n_bodies: int
) -> tuple[bool, np.ndarray, np.ndarray]:
    """The bodies of a mesh checked and weighed: vertices float64 (n, 3), faces int64 (m, 3),
    body int64 (m,) each triangle's body in 0..n_bodies-1. Returns (whether no vertex
    belongs to triangles of two bodies, each vertex's body int64 (n,) (-1 when unused),
    each body's signed volume float64 (n_bodies,) times 6 as trimesh sums it: x-component
    of the triangle's normal times the sum of its corners' x, in triangle order)."""
    vertex_body = np.full(vertices.shape[0], -1, dtype=np.int64)
    volume = np.zeros(n_bodies)
    apart = True
    for t in range(faces.shape[0]):
        p, q, r = faces[t, 0], faces[t, 1], faces[t, 2]
        g = body[t]
        for v in (p, q, r):
            if vertex_body[v] < 0:
                vertex_body[v] = g
            elif vertex_body[v] != g:
                apart = False
        uy = vertices[q, 1] - vertices[p, 1]
        uz = vertices[q, 2] - vertices[p, 2]
        vy = vertices[r, 1] - vertices[q, 1]
        vz = vertices[r, 2] - vertices[q, 2]
        cross_x = uy * vz - uz * vy
        volume[g] += cross_x * (vertices[p, 0] + vertices[q, 0] + vertices[r, 0])
    return apart, vertex_body, volume
