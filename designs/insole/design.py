"""Custom insole (see design.toml). Units: mm. Heel at y = 0, toe at y = foot length, bottom
on z = 0. The solid is a loft through spline cross-sections across the foot (x), so the
surface is smooth in both directions; medial (inner) side is -x for a right foot."""

import math

import cadquery as cq

#: (fraction of length, width as a fraction of the forefoot width) along the foot. The arch
#: (a bump 0.12 of the length wide) needs the sections at 0.30 and 0.50 (their widths are
#: what the loft gave there without them): with sections only at 0.20, 0.40 and 0.60 the
#: loft overshot the arch by up to 2.8 mm beside it and, with no heel cup, a 2 mm base and a
#: 10.5 mm or higher arch, folded its medial wall through the bottom near the heel (an open
#: mesh: 16 of the 96 corner combinations of the parameters failed to build).
OUTLINE = (
    (0.015, 0.40),
    (0.08, 0.62),
    (0.20, 0.66),
    (0.30, 0.62),
    (0.40, 0.62),
    (0.50, 0.72),
    (0.60, 0.88),
    (0.72, 1.00),
    (0.85, 0.92),
    (0.95, 0.70),
    (0.99, 0.42),
)
#: Points across each section (the top spline).
ACROSS = 9


def section(p, f, w):
    """A closed wire across the foot at y = f * length: flat bottom, spline top."""
    y = f * p.foot_length_mm
    medial = -1.0 if p.side == "right" else 1.0
    # Heel cup: the rim rises towards the edges at the back, fading out by 30 % of the length.
    # It eases in over the last 8 % at the very back so the rim ends in a rounded lip instead
    # of a knife edge where the outline closes (a fin no nozzle can print).
    cup = p.heel_cup_mm * max(0.0, 1.0 - f / 0.3) * min(1.0, f / 0.08) ** 0.5
    # Arch: a bump along the medial edge, centred at 40 % of the length.
    arch = p.arch_height_mm * math.exp(-(((f - 0.40) / 0.12) ** 2))
    # The base thins a little towards the toe so the insole rolls off.
    base = p.base_mm * (1.0 - 0.35 * max(0.0, f - 0.75) / 0.25)
    top = []
    for i in range(ACROSS):
        s = -1.0 + 2.0 * i / (ACROSS - 1)  # -1 .. 1 across the section
        edge = s * s
        z = base + cup * edge**2 + arch * max(0.0, s * medial) ** 1.5
        top.append(cq.Vector(s * w / 2, y, z))
    left, right = top[0], top[-1]
    edges = [
        cq.Edge.makeSpline(top),
        cq.Edge.makeLine(right, cq.Vector(right.x, y, 0)),
        cq.Edge.makeLine(cq.Vector(right.x, y, 0), cq.Vector(left.x, y, 0)),
        cq.Edge.makeLine(cq.Vector(left.x, y, 0), left),
    ]
    return cq.Wire.assembleEdges(edges)


def build(p):
    wires = [section(p, f, k * p.foot_width_mm) for f, k in OUTLINE]
    return cq.Solid.makeLoft(wires, ruled=False)
