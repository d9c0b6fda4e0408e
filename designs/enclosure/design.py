"""Electronics enclosure (see design.toml). Units: mm. The box stands at the origin, opening
up; the lid lies top face down at +X beside it (GAP_MM between them). Two bodies, box
and lid, so each can have its own color."""

import cadquery as cq

GAP_MM = 10.0


def rounded_box(x, y, h, r, z0=0.0):
    """A box x by y (centred on the Z axis) from z0 to z0 + h with vertical edges rounded."""
    box = cq.Workplane("XY", origin=(0, 0, z0)).rect(x, y).extrude(h)
    return box.edges("|Z").fillet(r) if r > 0.01 else box


def countersunk_hole(d, head_d, depth):
    """Cutting tool along +Z: shaft through 0..depth, 90 degree countersink opening to head_d
    at z = 0 (the lid's top face, which lies on the bed)."""
    cone_h = (head_d - d) / 2
    shaft = cq.Solid.makeCylinder(d / 2, depth + 2, cq.Vector(0, 0, -1))
    cone = cq.Solid.makeCone(head_d / 2, d / 2, cone_h, cq.Vector(0, 0, 0))
    cap = cq.Solid.makeCylinder(head_d / 2, 1, cq.Vector(0, 0, -1))
    return shaft.fuse(cone).fuse(cap)


def build(p):
    ix, iy, w = p.inner_x_mm, p.inner_y_mm, p.wall_mm
    ox, oy = ix + 2 * w, iy + 2 * w
    height = p.floor_mm + p.inner_z_mm
    r_out = p.corner_radius_mm
    r_in = max(r_out - w, 0.0)
    b = p.boss_d_mm
    # Boss centres sit one boss radius in from both inner walls.
    centres = [(sx * (ix / 2 - b / 2), sy * (iy / 2 - b / 2)) for sx in (-1, 1) for sy in (-1, 1)]

    box = rounded_box(ox, oy, height, r_out)
    box = box.cut(rounded_box(ix, iy, p.inner_z_mm + 1, r_in, z0=p.floor_mm))
    for cx, cy in centres:
        sx, sy = (1 if cx > 0 else -1), (1 if cy > 0 else -1)
        # Post = boss cylinder + the square between it and the corner, reaching 0.5 mm into
        # the walls so the union overlaps (no tangent faces for the kernel to trip on).
        post = (
            cq.Workplane("XY", origin=(0, 0, p.floor_mm - 0.5))
            .center(cx, cy)
            .circle(b / 2)
            .extrude(p.inner_z_mm + 0.5)
            .union(
                cq.Workplane("XY", origin=(0, 0, p.floor_mm - 0.5))
                .center(cx + sx * (b / 4 + 0.25), cy + sy * (b / 4 + 0.25))
                .rect(b / 2 + 0.5, b / 2 + 0.5)
                .extrude(p.inner_z_mm + 0.5)
            )
        )
        box = box.union(post)
    pilot = 0.8 * p.screw_d_mm
    pilot_depth = min(p.inner_z_mm - 0.5, 4 * p.screw_d_mm + 2)
    for cx, cy in centres:
        box = box.cut(
            cq.Workplane("XY", origin=(0, 0, height - pilot_depth))
            .center(cx, cy)
            .circle(pilot / 2)
            .extrude(pilot_depth + 1)
        )

    # Lid: plate (top face on the bed at z = 0) plus a lip ring that fits inside the walls.
    lid = rounded_box(ox, oy, p.lid_mm, r_out)
    if p.lip_mm > 0:
        c = p.lip_clearance_mm
        lx, ly = ix - 2 * c, iy - 2 * c
        lip_w = min(w, 1.6)
        ring = rounded_box(lx, ly, p.lip_mm + 0.5, max(r_in - c, 0.0), z0=p.lid_mm - 0.5)
        ring = ring.cut(
            rounded_box(
                lx - 2 * lip_w,
                ly - 2 * lip_w,
                p.lip_mm + 2,
                max(r_in - c - lip_w, 0.0),
                z0=p.lid_mm - 1,
            )
        )
        # Notch the lip around each corner post (boss plus the square to the corner).
        notch = b + c
        for cx, cy in centres:
            sx, sy = (1 if cx > 0 else -1), (1 if cy > 0 else -1)
            ring = ring.cut(
                cq.Workplane("XY", origin=(0, 0, p.lid_mm - 1))
                .center(sx * (ix / 2 - notch / 2 + 1), sy * (iy / 2 - notch / 2 + 1))
                .rect(notch + 2, notch + 2)
                .extrude(p.lip_mm + 2)
            )
        lid = lid.union(ring)
    clearance = p.screw_d_mm + 0.4
    tool = countersunk_hole(clearance, 2 * p.screw_d_mm, p.lid_mm)
    for cx, cy in centres:
        lid = lid.cut(cq.Workplane("XY").add(tool.moved(cq.Location(cq.Vector(cx, cy, 0)))))
    lid = lid.translate((ox + GAP_MM, 0, 0))
    return {"box": box, "lid": lid}
