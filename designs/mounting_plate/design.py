"""CNC mounting plate (see design.toml). Units: mm. The plate lies on z = 0 centred on the
origin; pockets open up (machined from the top). The dowel holes sit on the plate's long
centre line, half way between the pocket and the end holes."""

import cadquery as cq


def build(p):
    L, W, T = p.length_mm, p.width_mm, p.thickness_mm
    plate = cq.Workplane("XY").rect(L, W).extrude(T)
    if p.corner_radius_mm > 0:
        plate = plate.edges("|Z").fillet(p.corner_radius_mm)
    m = p.margin_mm
    xs = [-L / 2 + m + i * (L - 2 * m) / (p.holes_x - 1) for i in range(p.holes_x)]
    ys = [-W / 2 + m + j * (W - 2 * m) / (p.holes_y - 1) for j in range(p.holes_y)]
    # Only the ring of holes around the edge: inner grid points would land in the pocket.
    pts = [(x, y) for x in xs for y in ys if x in (xs[0], xs[-1]) or y in (ys[0], ys[-1])]
    holes = cq.Workplane("XY", origin=(0, 0, -1)).pushPoints(pts).circle(p.hole_d_mm / 2)
    plate = plate.cut(holes.extrude(T + 2))
    if p.pocket_x_mm > 0:
        r = min(p.tool_d_mm / 2 + 0.01, min(p.pocket_x_mm, p.pocket_y_mm) / 2 - 0.01)
        pocket = (
            cq.Workplane("XY", origin=(0, 0, T - p.pocket_depth_mm))
            .rect(p.pocket_x_mm, p.pocket_y_mm)
            .extrude(p.pocket_depth_mm + 1)
            .edges("|Z")
            .fillet(r)
        )
        plate = plate.cut(pocket)
    dowel_x = (p.pocket_x_mm / 2 + (L / 2 - m)) / 2
    d = p.dowel_d_mm + p.dowel_allowance_mm
    dowels = cq.Workplane("XY", origin=(0, 0, -1)).pushPoints([(-dowel_x, 0), (dowel_x, 0)])
    return plate.cut(dowels.circle(d / 2).extrude(T + 2))
