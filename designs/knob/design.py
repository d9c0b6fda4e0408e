"""Control knob with a D-shaft bore (see design.toml). Units: mm. Print orientation: the
face on the bed (z = 0), the bore opening at z = height."""

import math

import cadquery as cq


def build(p):
    r, h = p.knob_d_mm / 2, p.height_mm
    body = cq.Workplane("XY").circle(r).extrude(h)
    body = body.faces("<Z").edges().chamfer(min(0.8, h / 10))
    body = body.faces(">Z").edges().chamfer(min(0.6, h / 10))
    if p.grip_ribs:
        rib_r = max(0.6, min(1.5, math.pi * r / p.grip_ribs / 2.5))
        angles = [2 * math.pi * i / p.grip_ribs for i in range(p.grip_ribs)]
        pts = [(r * math.cos(a), r * math.sin(a)) for a in angles]
        body = body.cut(
            cq.Workplane("XY", origin=(0, 0, -1)).pushPoints(pts).circle(rib_r).extrude(h + 2)
        )
    if p.pointer:
        # Groove from near the centre to the rim, 1.2 mm wide and 0.6 mm deep, in the face.
        body = body.cut(
            cq.Workplane("XY", origin=(0, 0, -1)).center(r * 0.6, 0).rect(r * 0.9, 1.2).extrude(1.6)
        )
    c = p.clearance_mm
    bore_r = p.shaft_d_mm / 2 + c
    flat_from_centre = p.shaft_flat_mm - p.shaft_d_mm / 2 + c
    z0 = h - p.bore_depth_mm
    bore = cq.Workplane("XY", origin=(0, 0, z0)).circle(bore_r).extrude(p.bore_depth_mm + 1)
    # Keep the part of the circle with x <= flat_from_centre: that is the D.
    keep = (
        cq.Workplane("XY", origin=(0, 0, z0 - 1))
        .center((flat_from_centre - bore_r - 1) / 2, 0)
        .rect(flat_from_centre + bore_r + 1, 2 * bore_r + 2)
        .extrude(p.bore_depth_mm + 3)
    )
    return body.cut(bore.intersect(keep))
