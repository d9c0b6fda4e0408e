"""Per-body tools: moves of each body print with its tool, grouped per layer."""

from __future__ import annotations

import numpy as np
from shapely.geometry import box

from fabthread.model.toolpath import MoveKind, Toolpath
from fabthread.slice.tools import assign_tools


def _square_loops(layers: int) -> Toolpath:
    """Per layer: a loop in the left square, one in the right, one in the left again."""
    rows = []
    for layer in range(layers):
        z = 0.2 * (layer + 1)
        for x0 in (10.0, 60.0, 12.0):
            pts = [(x0, 10), (x0 + 20, 10), (x0 + 20, 30), (x0, 30), (x0, 10)]
            rows.append((pts[0], MoveKind.TRAVEL, layer, z))
            rows += [(p, MoveKind.PERIMETER, layer, z) for p in pts[1:]]
    n = len(rows)
    xyz = np.array([(p[0], p[1], z) for p, _, _, z in rows], dtype=float)
    kind = np.array([k for _, k, _, _ in rows], dtype=np.uint8)
    return Toolpath(
        process="fdm",
        xyz_mm=xyz,
        feed_mm_min=np.full(n, 1800.0),
        kind=kind,
        extrude_mm3=np.where(kind == MoveKind.TRAVEL, 0.0, 1.0),
        power=np.zeros(n),
        layer=np.array([ly for _, _, ly, _ in rows], dtype=np.int32),
        retract=np.zeros(n, dtype=bool),
        object_id=np.zeros(n, dtype=np.int16),
        tool=np.zeros(n, dtype=np.int8),
        layer_z_mm=0.2 * np.arange(1, layers + 1),
        layer_height_mm=np.full(layers, 0.2),
    )


def test_each_body_gets_its_tool_and_layers_are_grouped() -> None:
    tp = _square_loops(4)
    out = assign_tools(tp, [box(5, 5, 40, 35), box(55, 5, 90, 35)], [0, 1])
    # same moves, same volume
    assert len(out) == len(tp)
    assert np.isclose(out.extrude_mm3.sum(), tp.extrude_mm3.sum())
    key = lambda t: sorted(map(tuple, np.c_[t.xyz_mm, t.kind, t.layer].round(6)))  # noqa: E731
    assert key(out) == key(tp)
    # tool by body
    right = out.xyz_mm[:, 0] > 50
    assert np.all(out.tool[right] == 1) and np.all(out.tool[~right] == 0)
    # per layer at most one block per tool, and each block starts with a travel
    for layer in range(4):
        tools = out.tool[out.layer == layer]
        changes = np.count_nonzero(tools[1:] != tools[:-1])
        assert changes == 1
    starts = np.flatnonzero(np.r_[True, out.tool[1:] != out.tool[:-1]])
    assert np.all(out.kind[starts] == MoveKind.TRAVEL)
    assert np.all(out.retract[starts[1:]])
    # the tool loaded at the end of a layer starts the next one
    for layer in range(3):
        assert out.tool[out.layer == layer][-1] == out.tool[out.layer == layer + 1][0]


def test_one_tool_keeps_the_order() -> None:
    tp = _square_loops(2)
    out = assign_tools(tp, [box(0, 0, 100, 100)], [0])
    assert np.array_equal(out.xyz_mm, tp.xyz_mm)
    assert np.all(out.tool == 0)
