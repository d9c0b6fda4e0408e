"""Wall shelf bracket (see design.toml). Units: mm. Print orientation: shelf arm on the bed
(z = 0 .. thickness), wall arm standing at x = 0 .. thickness; the wall is the plane x = 0."""

import cadquery as cq


def countersunk_hole(d, head_d, depth):
    """A cutting tool along +Z: a d-diameter shaft through 0..depth and a 90 degree
    countersink opening to head_d at z = depth (plus clearance beyond both ends)."""
    cone_h = (head_d - d) / 2
    shaft = cq.Solid.makeCylinder(d / 2, depth + 2, cq.Vector(0, 0, -1))
    cone = cq.Solid.makeCone(d / 2, head_d / 2, cone_h, cq.Vector(0, 0, depth - cone_h))
    cap = cq.Solid.makeCylinder(head_d / 2, 1, cq.Vector(0, 0, depth))
    return shaft.fuse(cone).fuse(cap)


def hole_positions(start, end, n):
    """n positions spread evenly over the free length start..end of an arm."""
    return [start + (end - start) * (i + 0.5) / n for i in range(n)]


def build(p):
    t, w = p.thickness_mm, p.width_mm
    profile = [
        (0, 0),
        (p.shelf_arm_mm, 0),
        (p.shelf_arm_mm, t),
        (t, t),
        (t, p.wall_arm_mm),
        (0, p.wall_arm_mm),
    ]
    # The XZ workplane's normal is -Y, so extrude negative to grow towards +Y.
    body = cq.Workplane("XZ").polyline(profile).close().extrude(-w)
    if p.gusset:
        g = p.gusset_mm
        # Reaches half-way into both arms so the union overlaps instead of touching faces.
        tri = [(t / 2, t / 2), (t + g, t / 2), (t + g, t), (t, t + g), (t / 2, t + g)]
        for y0 in (0.0, w - t):
            rib = cq.Workplane("XZ", origin=(0, y0, 0)).polyline(tri).close().extrude(-t)
            body = body.union(rib)
    tool = countersunk_hole(p.hole_d_mm, p.head_d_mm, t)
    for x in hole_positions(t, p.shelf_arm_mm, p.holes_per_arm):
        body = body.cut(tool.moved(cq.Location(cq.Vector(x, w / 2, 0))))
    wall_tool = tool.rotate(cq.Vector(0, 0, 0), cq.Vector(0, 1, 0), 90)  # +Z -> +X
    for z in hole_positions(t, p.wall_arm_mm, p.holes_per_arm):
        body = body.cut(wall_tool.moved(cq.Location(cq.Vector(0, w / 2, z))))
    return body
