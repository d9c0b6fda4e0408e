"""Accumulate CNC/laser moves and freeze them into a ``Toolpath``.

A ``MoveBuilder`` keeps the current position; ``rapid``/``cut``/``plunge``/``laser`` append
one move each (absolute mm). ``retract_to`` goes straight up first, then across, the way every
move between features is made.
"""

from __future__ import annotations

import numpy as np

from fabthread.model.params import Process
from fabthread.model.toolpath import MoveKind, Toolpath


class MoveBuilder:
    def __init__(self, process: Process, rapid_mm_min: float) -> None:
        self.process = process
        self.rapid_mm_min = rapid_mm_min
        self.xyz: list[tuple[float, float, float]] = []
        self.feed: list[float] = []
        self.kind: list[int] = []
        self.power: list[float] = []
        self.layer: list[int] = []
        self.tool: list[int] = []
        self.pos: tuple[float, float, float] | None = None
        self.cur_tool = 0
        self.cur_power = 0.0
        self.cur_layer = 0
        self.layer_z: dict[int, float] = {}

    def set(
        self,
        *,
        tool: int | None = None,
        power: float | None = None,
        layer: int | None = None,
        layer_z: float | None = None,
    ) -> None:
        if tool is not None:
            self.cur_tool = tool
        if power is not None:
            self.cur_power = float(min(1.0, max(0.0, power)))
        if layer is not None:
            self.cur_layer = layer
            if layer_z is not None:
                self.layer_z.setdefault(layer, layer_z)

    def _add(self, p: tuple[float, float, float], feed: float, kind: MoveKind) -> None:
        p = (float(p[0]), float(p[1]), float(p[2]))
        last = self.pos
        if last is not None and max(abs(a - b) for a, b in zip(p, last, strict=True)) < 1e-9:
            return
        self.xyz.append(p)
        self.feed.append(float(feed))
        self.kind.append(int(kind))
        self.power.append(
            0.0 if kind == MoveKind.RAPID and self.process == "laser" else self.cur_power
        )
        self.layer.append(self.cur_layer)
        self.tool.append(self.cur_tool)
        self.pos = p

    def here(self) -> tuple[float, float, float]:
        """The current position (InternalError-free: callers use it after a first move)."""
        if self.pos is None:
            raise ValueError("no move yet")
        return self.pos

    def rapid(self, x: float, y: float, z: float) -> None:
        self._add((x, y, z), self.rapid_mm_min, MoveKind.RAPID)

    def cut(self, x: float, y: float, z: float, feed: float) -> None:
        self._add((x, y, z), feed, MoveKind.CUT)

    def plunge(self, x: float, y: float, z: float, feed: float) -> None:
        self._add((x, y, z), feed, MoveKind.PLUNGE)

    def laser(self, x: float, y: float, z: float, feed: float, engrave: bool = False) -> None:
        self._add((x, y, z), feed, MoveKind.LASER_ENGRAVE if engrave else MoveKind.LASER_CUT)

    def retract_to(self, x: float, y: float, z_safe: float) -> None:
        """Straight up to ``z_safe`` (if below), then across to (x, y) at ``z_safe``."""
        if self.pos is not None and self.pos[2] < z_safe:
            self.rapid(self.pos[0], self.pos[1], z_safe)
        self.rapid(x, y, z_safe)

    def polyline(self, pts: np.ndarray, feed: float) -> None:
        for p in pts:
            self.cut(p[0], p[1], p[2], feed)

    def build(self, names: tuple[str, ...] = ()) -> Toolpath:
        n = len(self.xyz)
        layers = max(self.layer, default=-1) + 1
        lz = np.array([self.layer_z.get(i, 0.0) for i in range(layers)], dtype=np.float64)
        return Toolpath(
            process=self.process,
            xyz_mm=np.array(self.xyz, dtype=np.float64).reshape(n, 3),
            feed_mm_min=np.array(self.feed, dtype=np.float64),
            kind=np.array(self.kind, dtype=np.uint8),
            extrude_mm3=np.zeros(n),
            power=np.array(self.power, dtype=np.float64),
            layer=np.array(self.layer, dtype=np.int32),
            retract=np.zeros(n, dtype=bool),
            object_id=np.zeros(n, dtype=np.int16),
            tool=np.array(self.tool, dtype=np.int8),
            layer_z_mm=lz,
            layer_height_mm=np.zeros(layers),
            object_names=names,
        )


def concat(paths: list[Toolpath]) -> Toolpath:
    """One toolpath from several of the same process, in order (layers renumbered)."""
    if not paths:
        raise ValueError("concat of no toolpaths")
    offs = np.cumsum([0] + [p.layer_count for p in paths[:-1]])
    return Toolpath(
        process=paths[0].process,
        xyz_mm=np.concatenate([p.xyz_mm for p in paths]),
        feed_mm_min=np.concatenate([p.feed_mm_min for p in paths]),
        kind=np.concatenate([p.kind for p in paths]),
        extrude_mm3=np.concatenate([p.extrude_mm3 for p in paths]),
        power=np.concatenate([p.power for p in paths]),
        layer=np.concatenate([p.layer + o for p, o in zip(paths, offs, strict=True)]),
        retract=np.concatenate([p.retract for p in paths]),
        object_id=np.concatenate([p.object_id for p in paths]),
        tool=np.concatenate([p.tool for p in paths]),
        layer_z_mm=np.concatenate([p.layer_z_mm for p in paths]),
        layer_height_mm=np.concatenate([p.layer_height_mm for p in paths]),
        object_names=paths[0].object_names,
    )
