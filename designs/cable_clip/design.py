"""Screw-on cable clip (see design.toml). Units: mm. Print orientation: the profile lies in
XY and is extruded up Z by the clip width; the cable runs along Z. The wall is the plane
y = 0, the tabs lie against it, the push-in opening faces +Y."""

import cadquery as cq


def countersunk_hole(d, head_d, depth):
    """Cutting tool along +Z: shaft through 0..depth, 90 degree countersink opening to head_d
    at z = depth (plus clearance beyond both ends)."""
    cone_h = (head_d - d) / 2
    shaft = cq.Solid.makeCylinder(d / 2, depth + 2, cq.Vector(0, 0, -1))
    cone = cq.Solid.makeCone(d / 2, head_d / 2, cone_h, cq.Vector(0, 0, depth - cone_h))
    cap = cq.Solid.makeCylinder(head_d / 2, 1, cq.Vector(0, 0, depth))
    return shaft.fuse(cone).fuse(cap)


def build(p):
    r_in = p.cable_d_mm / 2
    r_out = r_in + p.ring_mm
    w = p.width_mm
    centre_y = r_out  # ring touches the wall plane y = 0
    right = r_out + p.tab_len_mm
    left = -right if p.tabs == "two" else -r_out
    body = cq.Workplane("XY").center(0, centre_y).circle(r_out).extrude(w)
    body = body.union(
        cq.Workplane("XY")
        .center((left + right) / 2, p.tab_mm / 2)
        .rect(right - left, p.tab_mm)
        .extrude(w)
    )
    # Cut the cable bore after the union so the tabs cannot fill it.
    body = body.cut(
        cq.Workplane("XY", origin=(0, 0, -1)).center(0, centre_y).circle(r_in).extrude(w + 2)
    )
    if p.opening_mm > 0:
        body = body.cut(
            cq.Workplane("XY", origin=(0, 0, -1))
            .center(0, centre_y + r_out / 2 + 0.5)
            .rect(p.opening_mm, r_out + 1)
            .extrude(w + 2)
        )
    tool = countersunk_hole(p.screw_d_mm, 2 * p.screw_d_mm, p.tab_mm)
    # Tool axis +Z -> +Y (through the tab from the wall side; head side away from the wall).
    tool = tool.rotate(cq.Vector(0, 0, 0), cq.Vector(1, 0, 0), -90)
    xs = [r_out + p.tab_len_mm / 2] + ([-(r_out + p.tab_len_mm / 2)] if p.tabs == "two" else [])
    for x in xs:
        body = body.cut(tool.moved(cq.Location(cq.Vector(x, 0, w / 2))))
    return body
