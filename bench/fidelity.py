"""Fidelity of a G-code program to its mesh: how much of each layer's cross-section the
deposited lines cover, near the outline and overall, and how much they spill outside.

Slicer-neutral by construction: every program (fabthread, PrusaSlicer, CuraEngine) is read
back by fabthread's own G-code reader, and the reference cross-sections come from trimesh
(not from fabthread's slicer), so fabthread is not graded against its own sectioning.

Per layer (extruding moves grouped by their Z):

- deposit D = union of the extruding segments buffered by half the nominal line width (round
  caps and joins, mm). Arcs count by their chord. The nominal width is used for every slicer
  (not a width derived from E), so flow differences show in the filament length, not here.
- section S = the mesh cut at the layer's mid-height (layer top minus half its thickness).
- ring R = S - S.buffer(-ring_mm): the band within ``ring_mm`` of the outline, where the
  perimeters are and where dimensional accuracy is decided.
- coverage = |D n S| / |S|, ring coverage = |D n R| / |R|, overflow = |D - S| / |S|; the
  overall numbers are sums over layers (area-weighted), not means of ratios.

Layers the mesh has but the program does not print (no extrusion within half a nominal layer
of a nominal mid-height) count with zero coverage, so skipping layers is not free.

Registration: every slicer here is told to centre the mesh's bounding box on the bed
(PrusaSlicer ``--center``, CuraEngine ``center_object``, fabthread ``place_on_bed``), so the
translation from program to mesh is known (mesh centre - bed centre) and used, as long as the
centring rule below lands within ``KNOWN_OFFSET_SLACK_MM`` of it (it always has: 0.09 mm at
most). Without a known placement, or when a program is further off, the rule decides: the
program is translated so that the XY centre of its extrusion bounding box lands on the mesh's
XY bounding-box centre. The skirt is excluded first: after a first registration that ignores
the first layer (the only one with a skirt at the benchmark settings), first-layer moves that
do not touch the first layer's section grown by ``skirt_margin_mm`` (2 mm; the skirts sit
3-6 mm out) are dropped, then the centre is taken again. Z needs no registration: all three
slicers put the part's lowest point on the bed. The rule's caveat, and why the known
placement comes first: a deposit that is lopsided is re-centred and the error is split
between both sides (angle_block's sloped top face ends in a knife edge that no slicer prints:
the rule shifted every slicer's deposit by 0.08-0.09 mm, which showed as overflow along one
side and missing coverage along the other).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
import trimesh
from shapely.geometry import MultiLineString, Polygon
from shapely.geometry.base import BaseGeometry

from fabthread.gcode.moves import GcodeKind, GcodeMoves
from fabthread.model.part import Part

#: Extruding moves whose Z differs by less than this share a layer (mm).
Z_TOL_MM = 1e-3
#: How far (mm) the centring rule may land from a known placement for that to be taken:
#: the rule is off by up to a tenth of a millimetre on parts whose deposit is lopsided
#: (angle_block: a sloped face's knife edge is never printed, 0.09 mm for every slicer).
KNOWN_OFFSET_SLACK_MM = 1.0


@dataclass(frozen=True, slots=True)
class Layer:
    """The extruding segments of one layer. segments_mm: float64 (k, 2, 2) XY start/end."""

    z_top_mm: float
    thickness_mm: float
    segments_mm: np.ndarray

    @property
    def mid_mm(self) -> float:
        return self.z_top_mm - self.thickness_mm / 2.0


@dataclass(frozen=True, slots=True)
class LayerScore:
    """Areas (mm²) of one scored layer: section, deposit inside it, deposit outside it, ring,
    deposit inside the ring. ``printed`` is False for a mesh layer the program skipped."""

    mid_mm: float
    section_mm2: float
    covered_mm2: float
    overflow_mm2: float
    ring_mm2: float
    ring_covered_mm2: float
    printed: bool = True


@dataclass(frozen=True, slots=True)
class Fidelity:
    """Area-weighted scores over all layers (ratios, 0..1; overflow can exceed 1), the XY
    translation applied to the program (mm, program -> mesh), the number of extruding moves
    dropped as skirt, and the per-layer areas."""

    coverage: float
    ring_coverage: float
    overflow: float
    offset_xy_mm: tuple[float, float]
    skirt_moves: int
    layers: tuple[LayerScore, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "coverage": self.coverage,
            "ring_coverage": self.ring_coverage,
            "overflow": self.overflow,
            "offset_xy_mm": list(self.offset_xy_mm),
            "skirt_moves": self.skirt_moves,
            "layers_scored": len(self.layers),
            "layers_missing": sum(1 for s in self.layers if not s.printed),
        }


def extrusion_layers(moves: GcodeMoves) -> list[Layer]:
    """Group the extruding moves of ``moves`` by Z (ascending). A layer's thickness is the gap
    to the layer below (the first layer's: its Z above the bed)."""
    mask = (moves.kind == GcodeKind.EXTRUDE) & (moves.length_mm > 0)
    start = moves.start_mm[mask]
    end = moves.xyz_mm[mask]
    if len(end) == 0:
        return []
    z = np.round(end[:, 2] / Z_TOL_MM).astype(np.int64)
    levels, inverse = np.unique(z, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[order], np.arange(len(levels) + 1))
    segs = np.stack([start[:, :2], end[:, :2]], axis=1)[order]
    out: list[Layer] = []
    below = 0.0
    for i, level in enumerate(levels):
        top = float(level) * Z_TOL_MM
        out.append(Layer(top, top - below, segs[bounds[i] : bounds[i + 1]]))
        below = top
    return out


def deposit_region(segments_mm: np.ndarray, width_mm: float) -> BaseGeometry:
    """Union of ``segments_mm`` (float64 (k, 2, 2)) buffered by ``width_mm / 2``.

    Consecutive segments that share an end point are chained into one polyline first:
    buffering a polyline is much faster than buffering its pieces and gives the same region.
    """
    if len(segments_mm) == 0:
        return Polygon()
    chains = _chains(segments_mm)
    return shapely.buffer(MultiLineString(chains), width_mm / 2.0, quad_segs=4)


def _chains(segments_mm: np.ndarray) -> list[np.ndarray]:
    gap = np.any(np.abs(segments_mm[1:, 0] - segments_mm[:-1, 1]) > 1e-6, axis=1)
    cuts = np.flatnonzero(gap) + 1
    out = []
    for piece in np.split(segments_mm, cuts):
        out.append(np.vstack([piece[:1, 0], piece[:, 1]]))
    return out


def layer_score(
    deposit: BaseGeometry, section: BaseGeometry, *, mid_mm: float = 0.0, ring_mm: float = 1.0
) -> LayerScore:
    """Areas of ``deposit`` against ``section`` (both shapely, mm)."""
    ring = section.difference(section.buffer(-ring_mm)) if not section.is_empty else section
    return LayerScore(
        mid_mm=mid_mm,
        section_mm2=section.area,
        covered_mm2=deposit.intersection(section).area,
        overflow_mm2=deposit.difference(section).area,
        ring_mm2=ring.area,
        ring_covered_mm2=deposit.intersection(ring).area,
    )


def summarize(scores: list[LayerScore]) -> tuple[float, float, float]:
    """(coverage, ring coverage, overflow), area-weighted over ``scores``."""
    area = sum(s.section_mm2 for s in scores)
    ring = sum(s.ring_mm2 for s in scores)
    if area <= 0:
        return math.nan, math.nan, math.nan
    return (
        sum(s.covered_mm2 for s in scores) / area,
        sum(s.ring_covered_mm2 for s in scores) / ring if ring > 0 else math.nan,
        sum(s.overflow_mm2 for s in scores) / area,
    )


def sections(mesh: trimesh.Trimesh, z_mm: np.ndarray) -> list[BaseGeometry]:
    """Cross-sections (shapely, mm, mesh XY) of ``mesh`` at heights ``z_mm`` (mesh Z)."""
    if len(z_mm) == 0:
        return []
    paths = mesh.section_multiplane(
        plane_origin=[0.0, 0.0, 0.0], plane_normal=[0.0, 0.0, 1.0], heights=list(z_mm)
    )
    out: list[BaseGeometry] = []
    for path in paths:
        polys = list(path.polygons_full) if path is not None else []
        out.append(shapely.union_all(polys) if polys else Polygon())
    return out


def register_xy(
    layers: list[Layer],
    mesh_lo: np.ndarray,
    mesh_hi: np.ndarray,
    first_section: BaseGeometry,
    skirt_margin_mm: float,
    known: np.ndarray | None = None,
) -> tuple[np.ndarray, list[Layer], int]:
    """The XY translation (program -> mesh), the layers in mesh coordinates without skirt
    moves, and the number of moves dropped as skirt.

    ``known``: the translation where the slicer was told to put the part (every slicer here
    centres the mesh's bounding box on the bed); used when the centring rule below lands
    within ``KNOWN_OFFSET_SLACK_MM`` of it, else the program put the part elsewhere and the
    rule decides.

    ``first_section``: the mesh section (mesh XY, mm) at the first layer's mid-height. The skirt
    is a first-layer thing at these settings: first-layer segments that do not touch
    ``first_section`` grown by ``skirt_margin_mm`` are dropped (a bounding box would keep the
    skirt along a diagonal edge)."""
    centre = (mesh_lo[:2] + mesh_hi[:2]) / 2.0
    # First guess without the first layer, which carries the skirt; a one-layer part has
    # nothing else to use.
    guess_from = [la for la in layers[1:] if len(la.segments_mm)] or layers
    offset = centre - _box_centre(guess_from)
    use_known = known is not None and bool(np.all(np.abs(known - offset) <= KNOWN_OFFSET_SLACK_MM))
    if use_known:
        offset = known
    first = layers[0]
    near = first_section.buffer(skirt_margin_mm) if not first_section.is_empty else None
    if near is not None and len(first.segments_mm):
        keep = shapely.intersects(shapely.linestrings(first.segments_mm + offset), near)
    else:
        keep = np.ones(len(first.segments_mm), dtype=bool)
    dropped = int((~keep).sum())
    kept = [Layer(first.z_top_mm, first.thickness_mm, first.segments_mm[keep]), *layers[1:]]
    kept_any = [k for k in kept if len(k.segments_mm)]
    if kept_any and not use_known:
        offset = centre - _box_centre(kept_any)
    moved = [Layer(k.z_top_mm, k.thickness_mm, k.segments_mm + offset) for k in kept]
    return offset, moved, dropped


def _box_centre(layers: list[Layer]) -> np.ndarray:
    pts = np.concatenate([layer.segments_mm.reshape(-1, 2) for layer in layers])
    return (pts.min(axis=0) + pts.max(axis=0)) / 2.0


def score_moves(
    moves: GcodeMoves,
    part: Part,
    *,
    width_mm: float,
    layer_mm: float,
    ring_mm: float = 1.0,
    skirt_margin_mm: float = 2.0,
    bed_centre_xy_mm: tuple[float, float] | None = None,
) -> Fidelity:
    """Score a program read back by ``read_gcode`` against ``part`` (mm, any placement).

    ``width_mm``: nominal line width; ``layer_mm``: nominal layer height, used to find the
    mesh layers the program skipped. ``bed_centre_xy_mm``: where the slicer was told to centre
    the part's bounding box (see Registration above), if it was.
    """
    verts = np.asarray(part.vertices_mm, dtype=np.float64)
    mesh = trimesh.Trimesh(verts, np.asarray(part.faces), process=False)
    lo, hi = verts.min(axis=0), verts.max(axis=0)
    layers = extrusion_layers(moves)
    if not layers:
        return Fidelity(0.0, 0.0, 0.0, (0.0, 0.0), 0, ())
    printed_mid = np.array([layer.mid_mm for layer in layers])
    cuts = sections(mesh, lo[2] + printed_mid)
    known = None
    if bed_centre_xy_mm is not None:
        known = (lo[:2] + hi[:2]) / 2.0 - np.asarray(bed_centre_xy_mm, dtype=np.float64)
    offset, layers, dropped = register_xy(layers, lo, hi, cuts[0], skirt_margin_mm, known)
    scores = [
        layer_score(
            deposit_region(layer.segments_mm, width_mm), sec, mid_mm=layer.mid_mm, ring_mm=ring_mm
        )
        for layer, sec in zip(layers, cuts, strict=True)
    ]
    # Mesh layers with nothing printed near them (a skipped top or bottom) count as uncovered.
    height = float(hi[2] - lo[2])
    nominal = (np.arange(max(1, math.ceil(height / layer_mm - 1e-6))) + 0.5) * layer_mm
    nominal = nominal[nominal < height]
    gaps = np.min(np.abs(nominal[:, None] - printed_mid[None, :]), axis=1) >= layer_mm / 2
    missing = nominal[gaps]
    for mid, sec in zip(missing, sections(mesh, lo[2] + missing), strict=True):
        s = layer_score(Polygon(), sec, mid_mm=float(mid), ring_mm=ring_mm)
        scores.append(LayerScore(s.mid_mm, s.section_mm2, 0.0, 0.0, s.ring_mm2, 0.0, printed=False))
    coverage, ring_coverage, overflow = summarize(scores)
    return Fidelity(
        coverage=coverage,
        ring_coverage=ring_coverage,
        overflow=overflow,
        offset_xy_mm=(float(offset[0]), float(offset[1])),
        skirt_moves=dropped,
        layers=tuple(scores),
    )
