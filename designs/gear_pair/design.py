"""Involute spur gear pair (see design.toml). Units: mm. Both gears lie on the bed; the pinion
is centred at the origin, the gear at +X at the centre distance (teeth meshing)."""

import math

import cadquery as cq

PRESSURE_ANGLE = math.radians(20.0)
FLANK_POINTS = 8


def involute(rb, r):
    """Polar angle of the point at radius r on the involute of the base circle rb."""
    t = math.sqrt(max((r / rb) ** 2 - 1.0, 0.0))
    return t - math.atan(t)


def gear_outline(m, z, backlash):
    """Points (x, y) of the gear outline, counter-clockwise, one tooth after another."""
    rp = m * z / 2
    rb = rp * math.cos(PRESSURE_ANGLE)
    ra = rp + m
    rf = max(rp - 1.25 * m, 0.5 * rp)
    # Half the tooth's angular thickness at the pitch circle, thinned for backlash.
    half = (math.pi * m / 2 - backlash / 2) / (2 * rp) + involute(rb, rp)
    r_start = max(rb, rf)
    radii = [r_start + (ra - r_start) * (i / FLANK_POINTS) ** 0.8 for i in range(FLANK_POINTS + 1)]
    pts = []
    for k in range(z):
        c = 2 * math.pi * k / z
        # Rising flank (right side of the tooth), then the tip, then the falling flank.
        right = [(r, c - half + involute(rb, r)) for r in radii]
        left = [(r, c + half - involute(rb, r)) for r in reversed(radii)]
        gap_mid = c + math.pi / z
        root = [(rf, c + half - involute(rb, r_start) + 1e-3)] if rf < r_start else []
        root_next = [(rf, gap_mid)]
        for r, a in [(rf, c - half + involute(rb, r_start) - 1e-3)] * (rf < r_start) + right:
            pts.append((r * math.cos(a), r * math.sin(a)))
        for r, a in left + root + root_next:
            pts.append((r * math.cos(a), r * math.sin(a)))
    return pts


def gear(m, z, width, bore, backlash):
    body = cq.Workplane("XY").polyline(gear_outline(m, z, backlash)).close().extrude(width)
    return body.cut(cq.Workplane("XY", origin=(0, 0, -1)).circle(bore / 2).extrude(width + 2))


def build(p):
    m, bl = p.module_mm, p.backlash_mm
    bore = p.shaft_d_mm + p.bore_allowance_mm
    centre = m * (p.pinion_teeth + p.gear_teeth) / 2
    pinion = gear(m, p.pinion_teeth, p.face_width_mm, bore, bl)
    # An even tooth count puts a tooth on the line of centres: turn it by half a pitch so a
    # gap faces the pinion's tooth (an odd count already has a gap there).
    big = gear(m, p.gear_teeth, p.face_width_mm, bore, bl).rotate(
        (0, 0, 0), (0, 0, 1), 180.0 / p.gear_teeth * (1 - p.gear_teeth % 2)
    )
    return {"pinion": pinion, "gear": big.translate((centre, 0, 0))}
