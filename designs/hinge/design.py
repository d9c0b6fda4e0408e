"""Print-in-place hinge (see design.toml). Units: mm. The pin axis runs along X at
y = 0, z = knuckle radius; leaf A lies on -Y, leaf B on +Y, both flat on the bed. Leaf A,
its knuckles and the pin are one solid; leaf B and its knuckles another, never touching A."""

import cadquery as cq


def cyl_x(r, x0, x1, z):
    return cq.Workplane("YZ", origin=(x0, 0, z)).circle(r).extrude(x1 - x0)


def slab(x0, x1, y0, y1, t):
    return (
        cq.Workplane("XY", origin=((x0 + x1) / 2, (y0 + y1) / 2, 0))
        .rect(x1 - x0, y1 - y0)
        .extrude(t)
    )


def build(p):
    n, length, c = p.knuckles, p.length_mm, p.pin_clearance_mm
    R, t, W = p.knuckle_d_mm / 2, p.leaf_mm, p.leaf_width_mm
    seg = length / n
    gap = max(c, 0.3)  # axial gap between neighbouring knuckles
    hole_r = p.pin_d_mm / 2 + c
    a_parts, b_parts = [], []
    for k in range(n):
        x0, x1 = k * seg, (k + 1) * seg
        if k % 2 == 0:  # leaf A: knuckle plus the web down to its leaf
            x0 += gap / 2 if k else 0
            x1 -= gap / 2 if k < n - 1 else 0
            a_parts.append(cyl_x(R, x0, x1, R).union(slab(x0, x1, -R - gap, 0, t)))
        else:
            x0, x1 = x0 + gap / 2, x1 - gap / 2
            knuckle = cyl_x(R, x0, x1, R).union(slab(x0, x1, 0, R + gap, t))
            b_parts.append(knuckle.cut(cyl_x(hole_r, x0 - 1, x1 + 1, R)))
    leaf_a = slab(0, length, -W, -R - gap + 0.01, t)
    leaf_b = slab(0, length, R + gap - 0.01, W, t)
    for part in a_parts:
        leaf_a = leaf_a.union(part)
    for part in b_parts:
        leaf_b = leaf_b.union(part)
    leaf_a = leaf_a.union(cyl_x(p.pin_d_mm / 2, 0.5 * seg, length - 0.5 * seg, R))
    # Screw holes with a countersink, two per leaf, centred in the flat part of the leaf.
    for sign, leaf_name in ((-1, "a"), (1, "b")):
        y = sign * (R + gap + (W - R - gap) / 2)
        pts = [(length * 0.2, y), (length * 0.8, y)]
        holes = (
            cq.Workplane("XY", origin=(0, 0, -1))
            .pushPoints(pts)
            .circle(p.screw_d_mm / 2 + 0.2)
            .extrude(t + 2)
        )
        sinks = cq.Workplane("XY")
        for x, yy in pts:  # 90 degree countersink opening to twice the screw diameter at the top
            r0, r1 = p.screw_d_mm / 2 + 0.2, p.screw_d_mm + 0.2
            cone = cq.Solid.makeCone(r0, r1 + 0.5, r1 - r0 + 0.5, cq.Vector(x, yy, t - (r1 - r0)))
            sinks = sinks.add(cone)
        sinks = cq.Workplane("XY").add(cq.Compound.makeCompound(sinks.vals()))
        if leaf_name == "a":
            leaf_a = leaf_a.cut(holes).cut(sinks)
        else:
            leaf_b = leaf_b.cut(holes).cut(sinks)
    return cq.Workplane("XY").add(leaf_a.val()).add(leaf_b.val())
