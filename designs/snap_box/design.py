"""Snap-fit box (see design.toml). Units: mm. The box stands at the origin, opening up; the lid
lies upside down (its top face on the bed) beside it at +X. The lid's lip reaches LIP_MM into
the box; a hook on each long side of the lip is a tongue freed by two slots, with a wedge
catch at its tip that clicks into a window through the box wall."""

import cadquery as cq

LIP_MM = 8.0
GAP_MM = 10.0
SLOT_MM = 1.0


def box_at(x, y, h, z0=0.0, cx=0.0, cy=0.0):
    return cq.Workplane("XY", origin=(cx, cy, z0)).rect(x, y).extrude(h)


def build(p):
    ix, iy, iz, w = p.inner_x_mm, p.inner_y_mm, p.inner_z_mm, p.wall_mm
    ox, oy = ix + 2 * w, iy + 2 * w
    c = p.lid_clearance_mm
    lip_t = min(w, 1.6)
    hook_w, catch = p.hook_width_mm, p.hook_depth_mm
    catch_h = 2.0  # height of the catch along the lip
    catch_z = LIP_MM - 1.5 - catch_h  # catch position from the lid's inner face

    box = box_at(ox, oy, w + iz).cut(box_at(ix, iy, iz + 1, z0=w))
    # Windows through both long walls where the catches land (the lid sits on the rim).
    win_z0 = w + iz - catch_z - catch_h - 0.3
    for sy in (-1, 1):
        box = box.cut(box_at(hook_w + 1, 2 * w, catch_h + 0.6, z0=win_z0, cy=sy * (iy / 2 + w / 2)))

    # Lid: plate (top face on the bed) and a lip ring inside the box walls.
    lid = box_at(ox, oy, w)
    lx, ly = ix - 2 * c, iy - 2 * c
    ring = box_at(lx, ly, LIP_MM + 0.5, z0=w - 0.5).cut(
        box_at(lx - 2 * lip_t, ly - 2 * lip_t, LIP_MM + 2, z0=w - 1)
    )
    for sy in (-1, 1):
        y_lip = sy * (ly / 2 - lip_t / 2)
        # Two slots free a tongue of the lip; it bends inwards while the lid goes on.
        for sx in (-1, 1):
            ring = ring.cut(
                box_at(
                    SLOT_MM,
                    lip_t + 2,
                    LIP_MM - 2,
                    z0=w + 2,
                    cx=sx * (hook_w + SLOT_MM) / 2,
                    cy=y_lip,
                )
            )
        # Wedge catch on the outside of the tongue: flat face towards the plate, ramp outwards.
        y0 = sy * ly / 2
        pts = [(0, 0), (catch, catch_h * 0.4), (catch, catch_h), (0, catch_h)]
        wedge = (
            cq.Workplane("YZ", origin=(-hook_w / 2, y0 - sy * 0.2, w + LIP_MM - catch_z - catch_h))
            .polyline([(sy * (u + 0.2), v) for u, v in pts])
            .close()
            .extrude(hook_w)
        )
        ring = ring.union(wedge)
    lid = lid.union(ring)
    return {"box": box, "lid": lid.translate((ox + GAP_MM + catch, 0, 0))}
