"""Handlebar mount (see design.toml). Units: mm. The bar axis is Z (print on the side: the
ring stands on the bed); the platform is on +Y, the clamp ears with the bolt on -Y."""

import cadquery as cq


def build(p):
    bore = float(p.clamp_d_mm) + p.bore_allowance_mm
    r_in = bore / 2
    r_out = r_in + p.wall_mm
    w = p.width_mm
    ring = cq.Workplane("XY").circle(r_out).extrude(w)
    # Platform: a slab tangent to the ring on +Y, joined by a web to the ring.
    plat = (
        cq.Workplane("XY")
        .center(0, r_out + p.platform_mm / 2 - 0.5)
        .rect(p.platform_length_mm, p.platform_mm)
        .extrude(w)
    )
    web = cq.Workplane("XY").center(0, r_out / 2 + 0.5).rect(r_out * 1.2, r_out).extrude(w)
    # Ears: a block on -Y, long enough for the bolt with a wall around it.
    ear_len = p.bolt_d_mm + 2 * p.wall_mm
    ears = (
        cq.Workplane("XY")
        .center(0, -(r_in + ear_len / 2))
        .rect(p.gap_mm + 2 * (p.bolt_d_mm + 2), ear_len)
        .extrude(w)
    )
    body = ring.union(plat).union(web).union(ears)
    body = body.cut(cq.Workplane("XY", origin=(0, 0, -1)).circle(r_in).extrude(w + 2))
    slot = cq.Workplane("XY", origin=(0, 0, -1)).center(0, -(r_in + ear_len) / 2 - 1)
    body = body.cut(slot.rect(p.gap_mm, r_in + ear_len + 2).extrude(w + 2))
    bolt_y = -(r_in + ear_len / 2)
    bolt = cq.Solid.makeCylinder(
        p.bolt_d_mm / 2 + 0.2, 4 * r_out, cq.Vector(-2 * r_out, bolt_y, w / 2), cq.Vector(1, 0, 0)
    )
    body = body.cut(cq.Workplane("XY").add(bolt))
    top = r_out + p.platform_mm
    for x in (-p.screw_spacing_mm / 2, p.screw_spacing_mm / 2):
        hole = cq.Solid.makeCylinder(
            p.screw_d_mm / 2 + 0.15,
            p.platform_mm + 2,
            cq.Vector(x, top + 1, w / 2),
            cq.Vector(0, -1, 0),
        )
        body = body.cut(cq.Workplane("XY").add(hole))
    return body
