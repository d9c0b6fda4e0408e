"""Per-body tools: print each body of a multi-body part with the tool loaded with its colour.

``assign_tools(toolpath, footprints, tools)`` takes a toolpath sliced from the whole part and
the XY footprint (a shapely polygon, mm) of every body with the tool that prints it. Each
chunk of moves (a travel and the extrusions that follow it, up to the next travel) belongs to
the body whose footprint holds its extrusions; within a layer the chunks are regrouped by tool
(keeping their order inside a tool, starting with the tool the previous layer ended on), so a
layer has at most one change per tool. Moves outside every footprint (the skirt) print with
the first body's tool. Every chunk starts with a travel, so regrouping keeps the path valid; a
regrouped chunk's travel retracts. Volumes, feeds and kinds are unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from fabthread.model.toolpath import EXTRUDING, MoveKind, Toolpath


def assign_tools(
    toolpath: Toolpath, footprints: Sequence[BaseGeometry], tools: Sequence[int]
) -> Toolpath:
    """``toolpath`` with ``tool`` set per body and each layer grouped by tool (see module)."""
    if len(footprints) != len(tools) or not footprints:
        raise ValueError("assign_tools needs one tool per footprint")
    n = len(toolpath)
    if n == 0 or len(set(tools)) == 1:
        return _with(toolpath, np.arange(n), np.full(n, tools[0], np.int8), toolpath.retract)
    xy = toolpath.xyz_mm[:, :2]
    move_tool = np.full(n, -1, dtype=np.int16)
    for poly, tool in zip(footprints, tools, strict=True):
        inside = shapely.contains_xy(shapely.buffer(poly, 0.5), xy[:, 0], xy[:, 1])
        move_tool[(move_tool < 0) & inside] = tool
    extruding = EXTRUDING[toolpath.kind]
    # A chunk starts at every travel (and at each layer's first move).
    starts = (toolpath.kind == MoveKind.TRAVEL) | np.r_[
        True, toolpath.layer[1:] != toolpath.layer[:-1]
    ]
    chunk = np.cumsum(starts) - 1
    n_chunks = int(chunk[-1]) + 1
    chunk_tool = np.full(n_chunks, -1, dtype=np.int16)
    first = extruding & (move_tool >= 0)
    # the first extruding move inside a footprint decides the chunk's tool
    idx = np.flatnonzero(first)[::-1]
    chunk_tool[chunk[idx]] = move_tool[idx]
    chunk_tool[chunk_tool < 0] = tools[0]
    chunk_layer = toolpath.layer[np.flatnonzero(starts)]
    order: list[np.ndarray] = []
    current = int(tools[0])
    bounds = np.flatnonzero(starts).tolist() + [n]
    for layer in np.unique(chunk_layer):
        ids = np.flatnonzero(chunk_layer == layer)
        layer_tools = list(dict.fromkeys(int(t) for t in chunk_tool[ids]))
        if current in layer_tools:  # carry on with the loaded tool, then the others
            layer_tools.remove(current)
            layer_tools.insert(0, current)
        for t in layer_tools:
            for c in ids[chunk_tool[ids] == t]:
                order.append(np.arange(bounds[c], bounds[c + 1]))
        current = layer_tools[-1]
    perm = np.concatenate(order)
    new_tool = chunk_tool[chunk][perm].astype(np.int8)
    retract = toolpath.retract[perm].copy()
    # a travel that now follows a different move than before (regrouped) retracts
    jumped = np.r_[False, np.diff(perm) != 1] & (toolpath.kind[perm] == MoveKind.TRAVEL)
    retract |= jumped
    return _with(toolpath, perm, new_tool, retract)


def _with(tp: Toolpath, perm: np.ndarray, tool: np.ndarray, retract: np.ndarray) -> Toolpath:
    return Toolpath(
        process=tp.process,
        xyz_mm=tp.xyz_mm[perm],
        feed_mm_min=tp.feed_mm_min[perm],
        kind=tp.kind[perm],
        extrude_mm3=tp.extrude_mm3[perm],
        power=tp.power[perm],
        layer=tp.layer[perm],
        retract=retract,
        object_id=tp.object_id[perm],
        tool=tool,
        layer_z_mm=tp.layer_z_mm,
        layer_height_mm=tp.layer_height_mm,
        object_names=tp.object_names,
        color_changes=tp.color_changes,
    )
