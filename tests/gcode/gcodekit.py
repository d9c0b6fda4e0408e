"""Builders for the G-code tests: machines, materials, dialects and small toolpaths by hand."""

from __future__ import annotations

import math

import numpy as np

from fabthread.model import (
    Color,
    Dialect,
    MachineProfile,
    MaterialProfile,
    MotionLimits,
    MoveKind,
    Retraction,
    Toolpath,
)

LIMITS = MotionLimits(
    max_feed_x_mm_s=300,
    max_feed_y_mm_s=300,
    max_feed_z_mm_s=40,
    max_feed_e_mm_s=100,
    max_accel_x_mm_s2=4000,
    max_accel_y_mm_s2=4000,
    max_accel_z_mm_s2=200,
    max_accel_e_mm_s2=2500,
    print_accel_mm_s2=2500,
    travel_accel_mm_s2=4000,
    square_corner_velocity_mm_s=8.0,
)

MARLIN = Dialect(name="marlin")
KLIPPER = Dialect(
    name="klipper",
    set_accel="M204 S{accel_mm_s2}",
    tool_change="",
    object_start="EXCLUDE_OBJECT_START NAME={name}",
    object_end="EXCLUDE_OBJECT_END NAME={name}",
    object_define="EXCLUDE_OBJECT_DEFINE NAME={name}",
    layer_change="SET_PRINT_STATS_INFO CURRENT_LAYER=1",
    arc_support=False,
)
RRF = Dialect(
    name="rrf",
    set_hotend_temp="M568 S{temp_c} A2",
    fan_on="M106 S{pwm}",
    fan_off="M106 S0",
    fan_scale=1.0,
    set_accel="M204 P{accel_mm_s2} T{accel_mm_s2}",
    object_define='M486 S{id} A"{name}"',
)
DIALECTS = {"marlin": MARLIN, "klipper": KLIPPER, "rrf": RRF}

START = (
    "M140 S{first_layer_bed_temp_c}\nM104 S{first_layer_nozzle_temp_c}\nG28\n"
    "M190 S{first_layer_bed_temp_c}\nM109 S{first_layer_nozzle_temp_c}\n"
)
END = "; end program\nG1 Z{park_z_mm} F720\nM104 S0\nM140 S0\nM84\n"


def machine(
    *,
    size=(200.0, 180.0, 150.0),
    retraction: Retraction | None = None,
    start=START,
    end=END,
    extruders: int = 1,
) -> MachineProfile:
    return MachineProfile(
        id="testbox",
        name="Test box",
        process="fdm",
        dialect="marlin",
        size_x_mm=size[0],
        size_y_mm=size[1],
        size_z_mm=size[2],
        limits=LIMITS,
        extruder_count=extruders,
        max_hotend_temp_c=280,
        max_bed_temp_c=110,
        retraction=retraction or Retraction(length_mm=0.8, speed_mm_s=35, min_travel_mm=1.5),
        start_gcode=start,
        end_gcode=end,
    )


def material(**kw) -> MaterialProfile:
    base = dict(
        id="pla",
        name="PLA",
        process="fdm",
        density_g_cm3=1.24,
        colors=(Color("red", "#C62828"), Color("white", "#F2F2F2")),
        filament_diameter_mm=1.75,
        nozzle_temp_c=210,
        first_layer_nozzle_temp_c=215,
        bed_temp_c=60,
        first_layer_bed_temp_c=65,
        fan_min_pct=100,  # constant fan unless a test asks for cooling by layer time
        fan_max_pct=100,
        disable_fan_first_layers=1,
    )
    base.update(kw)
    return MaterialProfile(**base)


def filament_area(d: float = 1.75) -> float:
    return math.pi * (d / 2.0) ** 2


def toolpath_from_rows(
    rows: list[tuple], layer_z: list[float], *, names: tuple[str, ...] = (), colors=()
) -> Toolpath:
    """rows: (x, y, z, feed, kind, mm3, retract, layer, object_id[, tool])."""
    a = np.array([r[:9] for r in rows], dtype=float).reshape(-1, 9)
    n = len(a)
    tool = np.array([r[9] if len(r) > 9 else 0 for r in rows], dtype=np.int8)
    return Toolpath(
        process="fdm",
        xyz_mm=a[:, :3],
        feed_mm_min=a[:, 3],
        kind=a[:, 4].astype(np.uint8),
        extrude_mm3=a[:, 5],
        power=np.zeros(n),
        layer=a[:, 7].astype(np.int32),
        retract=a[:, 6].astype(bool),
        object_id=a[:, 8].astype(np.int16),
        tool=tool,
        layer_z_mm=layer_z,
        layer_height_mm=[layer_z[0]] + list(np.diff(layer_z)),
        object_names=names,
        color_changes=tuple(colors),
    )


def cube(
    *,
    layers: int = 5,
    origin=(40.0, 30.0),
    size: float = 20.0,
    objects: int = 1,
    h: float = 0.2,
    colors=(),
) -> Toolpath:
    """``objects`` square-walled cubes side by side: per layer and object a travel (flagged
    retract) to the corner, an external loop, an inner loop (perimeter) and a few infill
    lines; the first travel of every layer changes Z."""
    rows: list[tuple] = []
    z_list = [h * (i + 1) for i in range(layers)]
    w = 0.45 * h  # mm3 per mm
    for layer, z in enumerate(z_list):
        for obj in range(objects):
            x0 = origin[0] + obj * (size + 10.0)
            y0 = origin[1]
            for inset, kind in ((0.0, MoveKind.EXTERNAL_PERIMETER), (0.45, MoveKind.PERIMETER)):
                pts = [
                    (x0 + inset, y0 + inset),
                    (x0 + size - inset, y0 + inset),
                    (x0 + size - inset, y0 + size - inset),
                    (x0 + inset, y0 + size - inset),
                    (x0 + inset, y0 + inset),
                ]
                rows.append((*pts[0], z, 9000.0, MoveKind.TRAVEL, 0.0, True, layer, obj))
                feed = 1200.0 if kind == MoveKind.EXTERNAL_PERIMETER else 2400.0
                for (xa, ya), (xb, yb) in zip(pts, pts[1:], strict=False):
                    mm3 = math.hypot(xb - xa, yb - ya) * w
                    rows.append((xb, yb, z, feed, kind, mm3, False, layer, obj))
            kind = MoveKind.SOLID_INFILL if layer in (0, layers - 1) else MoveKind.SPARSE_INFILL
            for k in range(1, 6):
                y = y0 + k * size / 6.0
                xa, xb = (x0 + 1.0, x0 + size - 1.0) if k % 2 else (x0 + size - 1.0, x0 + 1.0)
                rows.append((xa, y, z, 9000.0, MoveKind.TRAVEL, 0.0, False, layer, obj))
                rows.append((xb, y, z, 3000.0, kind, (size - 2.0) * w, False, layer, obj))
    names = tuple(f"cube {i}" for i in range(objects))
    return toolpath_from_rows(rows, z_list, names=names, colors=colors)


def body_mask(text: str, moves) -> np.ndarray:
    """bool (n,): the moves between the first layer change and the end program."""
    lines = text.split("\n")
    first = lines.index(";LAYER_CHANGE") + 1
    last = lines.index("; end program") + 1 if "; end program" in lines else len(lines) + 1
    return (moves.line > first) & (moves.line < last)


def cylinder(
    *,
    layers: int = 5,
    centre=(100.0, 90.0),
    radius: float = 10.0,
    segments: int = 120,
    loops: int = 2,
    infill: int = 6,
    h: float = 0.2,
) -> Toolpath:
    """A hollow-ish cylinder: per layer ``loops`` concentric perimeter polylines of
    ``segments`` segments each (the outer one external), each reached by a retracting travel,
    then ``infill`` straight infill lines across the inside. Circle-heavy on purpose."""
    rows: list[tuple] = []
    z_list = [h * (i + 1) for i in range(layers)]
    w = 0.45 * h
    cx, cy = centre
    for layer, z in enumerate(z_list):
        for loop in range(loops):
            r = radius - 0.45 * loop
            kind = MoveKind.EXTERNAL_PERIMETER if loop == 0 else MoveKind.PERIMETER
            a0 = 0.3 * layer  # the seam wanders
            angles = a0 + np.linspace(0.0, 2.0 * math.pi, segments + 1)
            pts = np.c_[cx + r * np.cos(angles), cy + r * np.sin(angles)]
            rows.append((*pts[0], z, 9000.0, MoveKind.TRAVEL, 0.0, True, layer, 0))
            seg = 2.0 * r * math.sin(math.pi / segments)
            for x, y in pts[1:]:
                rows.append((x, y, z, 1800.0, kind, seg * w, False, layer, 0))
        r_in = radius - 0.45 * loops
        for k in range(1, infill + 1):
            y = cy - r_in + 2.0 * r_in * k / (infill + 1)
            half = math.sqrt(max(r_in**2 - (y - cy) ** 2, 0.0))
            xa, xb = (cx - half, cx + half) if k % 2 else (cx + half, cx - half)
            rows.append((xa, y, z, 9000.0, MoveKind.TRAVEL, 0.0, False, layer, 0))
            rows.append((xb, y, z, 3000.0, MoveKind.SPARSE_INFILL, 2 * half * w, False, layer, 0))
    return toolpath_from_rows(rows, z_list, names=("cylinder",))
