"""How much of each layer the slicer covers, and where (issue 3, fidelity): skins grown into
the sparse infill, small and narrow sparse pieces printed solid, infill connectors next to the
perimeters instead of on them, sparse lines joined along holes, unprintable slivers dropped."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import shapely
import trimesh

from fabthread.geom import polygons as pg
from fabthread.geom.mesh_io import part_from_trimesh
from fabthread.geom.place import place_on_bed
from fabthread.model.settings import SliceSettings
from fabthread.model.toolpath import MoveKind
from fabthread.slice import infill
from fabthread.slice.regions import plan_island, spacing_mm
from fabthread.slice.skins import classify_skins, window_intersections
from fabthread.slice.slicer import slice_part

W, H = 0.45, 0.2
SP = spacing_mm(W, H)
SP_UM = SP * 1000.0


def _square(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    """A rectangle given in mm, as a region in µm."""
    return shapely.box(x0 * 1000, y0 * 1000, x1 * 1000, y1 * 1000)


def _length(p: np.ndarray) -> float:
    return float(np.hypot(*np.diff(p, axis=0).T).sum())


# --- connectors -----------------------------------------------------------------------------


def test_solid_connectors_lie_next_to_the_perimeters_and_keep_the_volume() -> None:
    region = _square(0, 0, 20, 20)
    ext = 0.1 * W * 1000
    lines = infill.hatch(region, 45.0, SP_UM, link_um=3 * SP_UM, extend_um=ext)
    assert len(lines) <= 3  # one zig-zag, give or take the corners
    boundary = shapely.boundary(region)
    for p, _ in lines:
        pts = shapely.points(p * 1000)
        d = shapely.distance(boundary, pts)
        # joined ends and connectors half a spacing inside (next to the perimeters' beads)
        assert np.all(d[1:-1] >= SP_UM / 2 - 2), d[1:-1].min()
        # free ends reach past the boundary by the overlap (along a 45° line)
        assert not shapely.contains(region, pts[[0, -1]]).any()
        np.testing.assert_allclose(d[[0, -1]], ext / np.sqrt(2), atol=3)
    # solid fill deposits area × height: sum of factor · length · spacing = area
    deposited = sum(f * _length(p) for p, f in lines) * SP
    assert deposited == pytest.approx(400.0, rel=0.01)


def test_sparse_lines_are_joined_along_a_hole() -> None:
    ring = (
        shapely.Point(0, 0)
        .buffer(20000, quad_segs=32)
        .difference(shapely.Point(0, 0).buffer(10000, quad_segs=32))
    )
    ring = pg.polygonal(shapely.set_precision(ring, 1.0))
    args = (ring, "rectilinear", 0.2, 45.0, 3, 0.7, SP)
    joined = infill.pattern_paths(*args, link_um=3000.0)
    straight_only = infill.hatch(ring, 135.0, SP_UM / 0.2, link_um=3000.0, inset_um=SP_UM / 2)
    assert len(joined) < len(straight_only) / 2
    # every path stays inside the region, connectors half a spacing off its boundary
    grown = shapely.buffer(ring, 2.0)
    for p in joined:
        assert grown.covers(shapely.LineString(p * 1000))
    # the lines themselves still have the density; the connectors add a little
    plain = infill.hatch(ring, 135.0, SP_UM / 0.2)
    lines = sum(_length(p) for p, _ in plain) * SP / (ring.area / 1e6)
    total = sum(_length(p) for p in joined) * SP / (ring.area / 1e6)
    assert lines == pytest.approx(0.2, rel=0.08)
    assert lines < total < 1.35 * lines


def test_free_ends_of_sparse_zigzags_are_anchored_along_the_boundary() -> None:
    region = _square(0, 0, 20, 20)
    paths = infill.pattern_paths(region, "rectilinear", 0.2, 45.0, 0, 1.1, SP, link_um=3000.0)
    boundary = shapely.boundary(region)
    for p in paths:
        d = shapely.distance(boundary, shapely.points(p * 1000))
        # a chain no longer ends on the boundary: its ends run on along the connectors' path
        np.testing.assert_allclose(d[[0, -1]], SP_UM / 2, atol=3)
        for q in (p, p[::-1]):
            # the anchor: the segments along the boundary before the line leaves it, <= 3 mm
            mids = shapely.points((q[1:] + q[:-1]) / 2 * 1000)
            off = np.flatnonzero(np.abs(shapely.distance(boundary, mids) - SP_UM / 2) > 3)
            k = off[0] if len(off) else len(q) - 1
            assert 0.2 < _length(q[: k + 1]) <= 3.0 + 1e-6


# --- skins ----------------------------------------------------------------------------------


def _cavity_stack() -> list[shapely.Geometry]:
    """20 layers of a 30 mm square; layers 4 and 5 have a 6 mm square cavity in the middle."""
    full = pg.polygonal(shapely.set_precision(_square(0, 0, 30, 30), 1.0))
    holed = pg.difference(full, _square(12, 12, 18, 18))
    return [holed if i in (4, 5) else full for i in range(20)]


def _skins(outlines: list, layer: int, **kw: float):  # type: ignore[no-untyped-def]
    fill = pg.shrink(outlines[layer], 860.0)
    above = window_intersections(outlines, 3)
    return classify_skins(fill, outlines, layer, above, above, 3, 3, spacing_um=SP_UM, **kw)


def test_skins_reach_into_the_sparse_infill_by_the_margin() -> None:
    outlines = _cavity_stack()
    # layer 7 rests on the cavity's ceiling (layer 6): solid above the 6 mm square
    bare = _skins(outlines, 7, margin_um=0.0)
    grown = _skins(outlines, 7, margin_um=3000.0)
    assert pg.area_mm2(bare.solid) == pytest.approx(36.0, rel=0.02)
    assert pg.area_mm2(grown.solid) == pytest.approx(144.0, rel=0.02)  # 6 + 2 × 3 mm
    assert not grown.sparse.is_empty
    assert pg.area_mm2(grown.solid) + pg.area_mm2(grown.sparse) == pytest.approx(
        pg.area_mm2(pg.shrink(outlines[7], 860.0)), rel=1e-3
    )


def test_a_bridge_lands_on_the_layer_below_at_both_ends() -> None:
    outlines = _cavity_stack()
    skins = _skins(outlines, 6, margin_um=3000.0)
    (bridge, _), *rest = skins.bridges
    assert not rest
    assert bridge.covers(_square(12, 12, 18, 18))
    assert pg.area_mm2(bridge) == pytest.approx(144.0, rel=0.02)


def test_small_and_narrow_sparse_pieces_are_solid() -> None:
    small = pg.polygonal(shapely.set_precision(_square(0, 0, 9, 9), 1.0))
    outlines = [small] * 10
    skins = _skins(outlines, 5)  # 7.3 mm square of fill < 70 mm²
    assert skins.sparse.is_empty and not skins.solid.is_empty
    assert _skins(outlines, 5, solid_below_um2=0.0).solid.is_empty
    # a top surface that leaves a 0.5 mm strip of sparse along the perimeters: the strip is solid
    big = pg.polygonal(shapely.set_precision(_square(0, 0, 30, 30), 1.0))
    wall = pg.polygonal(shapely.set_precision(_square(0, 0, 1.36, 30), 1.0))
    outlines = [big] * 6 + [wall] * 4
    skins = _skins(outlines, 5, margin_um=0.0)
    assert skins.sparse.is_empty
    assert pg.area_mm2(skins.solid) == pytest.approx(0.5 * 28.28, rel=0.02)


# --- gaps -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("wall_mm", "filled"), [(0.08, False), (0.3, True), (0.6, True)])
def test_slivers_too_thin_for_a_bead_get_no_gap_fill(wall_mm: float, filled: bool) -> None:
    island = pg.polygonal(shapely.set_precision(_square(0, 0, wall_mm, 20), 1.0))
    plan = plan_island(island, 2, W, SP)
    assert plan.gaps.is_empty != filled


def test_loops_stay_where_their_bead_fits_next_to_a_short_step() -> None:
    """angle_block: a 0.5 mm step next to a 45° chamfer. Shrinking drops the step and the
    mitre grow-back of the opening reached past it: the external loop ran 0.04 mm from the
    outline instead of half a width."""
    island = shapely.Polygon(
        [(0, 0), (20_000, 0), (20_000, 20_000), (3_000, 20_000), (3_000, 3_508), (0, 508)]
    )
    plan = plan_island(island, 2, W, SP)
    half_w = W * 1000 / 2
    outline = island.exterior
    for level in plan.loops:
        for ring in level:
            dist = shapely.distance(outline, shapely.points(ring.astype(float)))
            assert dist.min() >= half_w - 1.0


def test_gap_fill_leaves_out_segments_too_thin_for_a_bead() -> None:
    """A wedge: gap fill runs where it is at least a quarter bead wide, not into its tip."""
    from fabthread.slice import slicer
    from fabthread.slice.paths import LayerPaths

    wedge = shapely.Polygon([(0, 0), (20_000, 0), (20_000, 400)])  # 0 .. 0.4 mm wide
    lines = slicer._gap_centrelines(SimpleNamespace(gaps=wedge), W)  # reads only ``gaps``
    paths = LayerPaths()
    slicer._gap_fill(paths, lines, 0.2, W, 1200.0, 3, 0)
    xy = np.concatenate(paths.pts)
    # the wedge is 0.1125 mm (a quarter of 0.45) wide 5.6 mm from its tip
    assert xy[:, 0].min() >= 5.0
    assert xy[:, 0].max() > 15.0
    # the tip's volume goes to the rest of the line: the piece still gets area × height
    mm3 = sum(
        float((np.hypot(*np.diff(p, axis=0).T) * r[:-1]).sum())
        for p, r in zip(paths.pts, paths.rate, strict=True)
    )
    assert mm3 == pytest.approx(pg.area_mm2(wedge) * 0.2, rel=1e-6)


def test_shrink_is_an_inward_offset() -> None:
    rng = np.random.default_rng(7)
    for _ in range(20):
        pts = rng.uniform(0, 20000, (12, 2))
        hull = shapely.convex_hull(shapely.multipoints(pts))
        region = pg.polygonal(shapely.set_precision(hull, 1.0))
        got = pg.shrink(region, 500.0)
        ref = shapely.buffer(region, -500.0, join_style="mitre", mitre_limit=pg.MITRE_LIMIT)
        assert got.area == pytest.approx(ref.area, rel=1e-3, abs=1e3)
        assert shapely.buffer(region, 1.0).covers(got)


# --- on a real part -------------------------------------------------------------------------


def test_a_part_with_a_cavity_prints_anchored_skins_at_full_volume() -> None:
    """A 20 mm cube with a 6 mm cavity: the ceiling and floor skins spread 3 mm into the
    sparse infill, and at 100 % infill the extruded volume is still the part's."""
    outer = trimesh.creation.box(extents=(20, 20, 12)).apply_translation([0, 0, 6])
    cavity = trimesh.creation.box(extents=(6, 6, 3)).apply_translation([0, 0, 5])
    mesh = trimesh.boolean.difference([outer, cavity], engine="manifold")
    part = place_on_bed(part_from_trimesh(mesh, "cavity"), 100.0, 100.0)
    s = SliceSettings(min_layer_time_s=0, skirt_loops=0)
    tp = slice_part(part, s, workers=1)
    ceiling = tp.layer == 33  # 6.5-6.7 mm: the second layer over the cavity (6.5 mm)
    solid = ceiling & np.isin(tp.kind, [MoveKind.SOLID_INFILL, MoveKind.BRIDGE])
    xy = tp.xyz_mm[solid, :2] - tp.xyz_mm[ceiling, :2].mean(axis=0)
    assert np.abs(xy).max() > 3.0 + 3.0 - 0.5  # beyond the cavity's 3 mm half-width
    full = slice_part(part, SliceSettings(infill_density=1.0, skirt_loops=0), workers=1)
    volume = 20 * 20 * 12 - 6 * 6 * 3  # (the boolean's mesh adds the cavity to its volume)
    assert full.extrude_mm3[full.object_id == 0].sum() == pytest.approx(volume, rel=0.03)


def test_layers_inside_their_neighbours_skip_the_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    """A layer whose infill lies inside each of the layers above and below needs none of the
    window intersections: the skins are the same as with every window computed, and on a
    tapering part (a cone: every section differs) most windows are never computed."""
    from fabthread.slice import skins as skins_mod
    from fabthread.slice.sections import layer_planes, section_mesh

    cone = trimesh.creation.cone(15.0, 20.0, sections=48)
    part = place_on_bed(part_from_trimesh(cone, "cone"), 100.0, 100.0)
    tops, heights = layer_planes(part, SliceSettings())
    outlines = section_mesh(part, tops - heights / 2.0)
    fills = [pg.shrink(o, 860.0) for o in outlines]
    lazy = skins_mod.Windows(outlines, 3)
    got = [
        classify_skins(f, outlines, i, lazy, lazy, 3, 3, spacing_um=SP_UM)
        for i, f in enumerate(fills)
    ]
    assert len(lazy._done) < len(outlines) / 4
    monkeypatch.setattr(skins_mod, "_inside_each", lambda *a: False)
    eager = window_intersections(outlines, 3)
    want = [
        classify_skins(f, outlines, i, eager, eager, 3, 3, spacing_um=SP_UM)
        for i, f in enumerate(fills)
    ]
    for g, w in zip(got, want, strict=True):
        for name in ("top", "solid", "sparse"):
            assert pg.same(getattr(g, name), getattr(w, name)), name
        assert len(g.bridges) == len(w.bridges)
    # both kinds compared: layers with sparse infill and (near the tip and base) solid ones
    assert sum(pg.area_mm2(g.sparse) > 0 for g in got) > len(got) / 3
    assert sum(pg.area_mm2(g.solid) > 0 for g in got) >= 6
