"""Flat-pack finger-joint box (see design.toml). Units: mm. Panels lie flat in XY, plates of
the sheet thickness, in a row along X with GAP_MM between them: bottom, front, back, left,
right. Joints: along each shared edge the inner span is split into an odd number of
segments; one panel keeps the even segments as fingers, its neighbour has slots there.
Kerf k: fingers are drawn k/2 wider per side, slots k/2 narrower; the fit clearance c widens
slots by c per side."""

import cadquery as cq

GAP_MM = 5.0


def segments(a, b, finger):
    """Even-index segments (start, end) of [a, b] split into an odd count near ``finger``."""
    n = max(3, int((b - a) / finger))
    n -= 1 - n % 2
    step = (b - a) / n
    return [(a + i * step, a + (i + 1) * step) for i in range(0, n, 2)]


def rect(u0, u1, v0, v1, t):
    return cq.Workplane("XY").center((u0 + u1) / 2, (v0 + v1) / 2).rect(u1 - u0, v1 - v0).extrude(t)


def panel(base, tabs, slots, t, k, c):
    """base (u0, u1, v0, v1) + tabs - slots; tab/slot = (axis, s0, s1, d0, d1): along u or v
    from s0 to s1, across from d0 to d1."""
    body = rect(*[x + d for x, d in zip(base, (-k / 2, k / 2, -k / 2, k / 2))], t)
    for axis, s0, s1, d0, d1 in tabs:
        lo, hi = s0 - k / 2, s1 + k / 2
        body = body.union(rect(lo, hi, d0, d1, t) if axis == "u" else rect(d0, d1, lo, hi, t))
    for axis, s0, s1, d0, d1 in slots:
        lo, hi = s0 - c + k / 2, s1 + c - k / 2
        cut = rect(lo, hi, d0, d1, t + 2) if axis == "u" else rect(d0, d1, lo, hi, t + 2)
        body = body.cut(cut.translate((0, 0, -1)))
    return body


def build(p):
    X, Y, Z, t = p.outer_x_mm, p.outer_y_mm, p.outer_z_mm, p.sheet_mm
    k, c, f = p.kerf_mm, p.joint_clearance_mm, p.finger_mm
    e = 1.0  # slots run this far past the panel edge so the cut is clean
    # Vertical joints start one sheet above the bottom joint: if both started at t, the
    # slots of the front panel would meet at its bottom corners and cut the corner off.
    sx, sy, sz = segments(t, X - t, f), segments(t, Y - t, f), segments(2 * t, Z, f)
    bottom = panel(
        (t, X - t, t, Y - t),
        [("u", a, b, 0, t + 0.01) for a, b in sx]
        + [("u", a, b, Y - t - 0.01, Y) for a, b in sx]
        + [("v", a, b, 0, t + 0.01) for a, b in sy]
        + [("v", a, b, X - t - 0.01, X) for a, b in sy],
        [],
        t,
        k,
        c,
    )
    front = panel(
        (0, X, 0, Z),
        [],
        [("u", a, b, -e, t) for a, b in sx]
        + [("v", a, b, -e, t) for a, b in sz]
        + [("v", a, b, X - t, X + e) for a, b in sz],
        t,
        k,
        c,
    )
    side = panel(
        (t, Y - t, 0, Z),
        [("v", a, b, 0, t + 0.01) for a, b in sz] + [("v", a, b, Y - t - 0.01, Y) for a, b in sz],
        [("u", a, b, -e, t) for a, b in sy],
        t,
        k,
        c,
    )
    out = cq.Workplane("XY")
    x = 0.0
    for shape, width in ((bottom, X), (front, X), (front, X), (side, Y), (side, Y)):
        out = out.add(shape.translate((x, 0, 0)).val())
        x += width + k + GAP_MM
    return out
