"""Drill guide jig (see design.toml). Units: mm. Holes run along X at y = 0; the fence runs
along the edge at y = -edge distance. As printed the fence stands up from the block; in use
the jig is turned over so the fence hangs down against the workpiece edge."""

import cadquery as cq


def build(p):
    n, s = p.hole_count, p.spacing_mm
    margin = max(p.bushing_od_mm, p.hole_d_mm) / 2 + 8
    length = (n - 1) * s + 2 * margin
    e = p.edge_distance_mm
    depth = e + margin
    fence_w = 5.0
    # Block in y from -e (fence side) to +margin; the fence sits on the block's top as printed.
    block = (
        cq.Workplane("XY").center(0, (margin - e) / 2).rect(length, depth).extrude(p.thickness_mm)
    )
    if p.fence_mm > 0:
        fence = (
            cq.Workplane("XY", origin=(0, 0, p.thickness_mm - 0.5))
            .center(0, -e - fence_w / 2 + 0.01)
            .rect(length, fence_w)
            .extrude(p.fence_mm + 0.5)
        )
        # The fence overhangs the block edge by its width so the workpiece edge registers.
        bridge = (
            cq.Workplane("XY")
            .center(0, -e - fence_w / 2 + 0.01)
            .rect(length, fence_w)
            .extrude(p.thickness_mm)
        )
        block = block.union(bridge).union(fence)
    d = p.bushing_od_mm + p.bushing_allowance_mm if p.bushing else p.hole_d_mm + 0.1
    xs = [-(n - 1) * s / 2 + i * s for i in range(n)]
    holes = cq.Workplane("XY", origin=(0, 0, -1)).pushPoints([(x, 0) for x in xs]).circle(d / 2)
    return block.cut(holes.extrude(p.thickness_mm + 2))
