"""CNC and laser data: tools, feeds, stock and sheet materials, and operation specs.

Units are in the names: ``_mm``, ``_mm_min`` (feed), ``_rpm``; ``power`` is a fraction 0..1 of
the machine's full spindle speed or laser power (as in ``Toolpath.power``). Tool numbers are
the machine's tool table numbers (``T1``...); ``Toolpath.tool`` holds them too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from fabthread.errors import ParamError

ToolKind = Literal["flat", "ball", "vbit", "drill"]
TOOL_KINDS: tuple[ToolKind, ...] = ("flat", "ball", "vbit", "drill")


@dataclass(frozen=True, slots=True)
class Feeds:
    """Cutting data of one tool in one material.

    ``stepdown_mm``: depth per pass; ``stepover_frac``: radial engagement as a fraction of the
    tool diameter; ``peck_mm``: depth per peck when drilling (0: no pecking).
    """

    material: str
    spindle_rpm: float
    feed_mm_min: float
    plunge_mm_min: float
    stepdown_mm: float
    stepover_frac: float = 0.4
    peck_mm: float = 0.0


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A cutting tool. ``number`` is its slot in the machine's tool table (>= 1).

    ``flute_length_mm`` bounds the depth of a cut; ``length_mm`` is the stick-out below the
    holder. ``angle_deg`` is the included angle of a V-bit or drill point (0 otherwise).
    """

    id: str
    name: str
    kind: ToolKind
    number: int
    diameter_mm: float
    flutes: int
    flute_length_mm: float
    length_mm: float
    angle_deg: float = 0.0
    feeds: tuple[Feeds, ...] = ()
    path: str = ""

    @property
    def radius_mm(self) -> float:
        return self.diameter_mm / 2.0

    def feeds_for(self, material: str) -> Feeds:
        """The cutting data for ``material``; ParamError listing the materials it has."""
        for f in self.feeds:
            if f.material == material:
                return f
        have = ", ".join(f.material for f in self.feeds) or "(none)"
        raise ParamError(f"tool {self.id} has no feeds for material '{material}'; has: {have}")


@dataclass(frozen=True, slots=True)
class ToolLibrary:
    """The tools a machine (or a shop) has, by id."""

    tools: tuple[ToolSpec, ...]

    def get(self, tool_id: str) -> ToolSpec:
        for t in self.tools:
            if t.id == tool_id:
                return t
        have = ", ".join(t.id for t in self.tools) or "(none)"
        raise ParamError(f"unknown tool '{tool_id}'; available: {have}")

    def by_number(self, number: int) -> ToolSpec:
        for t in self.tools:
            if t.number == number:
                return t
        raise ParamError(f"no tool with number T{number} in the library")

    def ids(self) -> tuple[str, ...]:
        return tuple(t.id for t in self.tools)


@dataclass(frozen=True, slots=True)
class LaserSetting:
    """Laser data for one sheet thickness on lasers of at least ``laser_w`` watts: cut
    ``power`` 0..1 at ``speed_mm_min`` in ``passes``, the ``kerf_mm`` (width of the cut), and
    the engraving values."""

    thickness_mm: float
    laser_w: float
    power: float
    speed_mm_min: float
    passes: int = 1
    kerf_mm: float = 0.15
    engrave_power: float = 0.3
    engrave_speed_mm_min: float = 3000.0


@dataclass(frozen=True, slots=True)
class StockMaterial:
    """CNC stock or laser sheet: density, the sheet thicknesses a hub stocks, and laser data
    per thickness and laser class (laser materials)."""

    id: str
    name: str
    process: str
    density_g_cm3: float
    thicknesses_mm: tuple[float, ...] = ()
    laser: tuple[LaserSetting, ...] = ()
    path: str = ""

    def laser_for(self, thickness_mm: float, laser_w: float) -> LaserSetting:
        """The setting for ``thickness_mm`` (within 0.05 mm) from the strongest laser class
        not above ``laser_w``; ParamError when there is none."""
        same = [s for s in self.laser if abs(s.thickness_mm - thickness_mm) <= 0.05]
        if not same:
            have = ", ".join(sorted({f"{s.thickness_mm:g}" for s in self.laser})) or "(none)"
            raise ParamError(
                f"material {self.id} has no laser setting for {thickness_mm:g} mm; has: {have} mm"
            )
        usable = [s for s in same if s.laser_w <= laser_w + 1e-9]
        if not usable:
            weakest = min(s.laser_w for s in same)
            raise ParamError(
                f"material {self.id} at {thickness_mm:g} mm needs a laser of at least "
                f"{weakest:g} W; the machine has {laser_w:g} W"
            )
        return max(usable, key=lambda s: s.laser_w)


@dataclass(frozen=True, slots=True)
class Stock:
    """The raw block (CNC) or sheet (laser): an axis-aligned box in machine coordinates."""

    min_xyz_mm: tuple[float, float, float]
    max_xyz_mm: tuple[float, float, float]

    @property
    def top_z_mm(self) -> float:
        return self.max_xyz_mm[2]

    @property
    def thickness_mm(self) -> float:
        return self.max_xyz_mm[2] - self.min_xyz_mm[2]


Side = Literal["outside", "inside"]
Entry = Literal["plunge", "ramp", "helix"]
PocketPattern = Literal["offset", "zigzag"]


@dataclass(frozen=True, slots=True)
class FaceOp:
    """Face the stock top down to ``depth_mm`` below it (zigzag, ``stepover_frac`` of D)."""

    tool: str
    depth_mm: float = 0.5
    stepover_frac: float = 0.0  # 0: the tool's feeds value


@dataclass(frozen=True, slots=True)
class ProfileOp:
    """Cut along the part outline (``outside``) or its through holes (``inside``), with tool
    radius compensation, step-downs, holding tabs and a ramp or helix entry.

    ``bottom_z_mm``: None cuts ``through_mm`` below the part's lowest point. Tabs are
    ``tab_count`` per contour (outside only), ``tab_width_mm`` long, ``tab_height_mm`` high.
    """

    tool: str
    side: Side = "outside"
    bottom_z_mm: float | None = None
    through_mm: float = 0.3
    stepdown_mm: float = 0.0  # 0: the tool's feeds value
    stock_to_leave_mm: float = 0.0
    tab_count: int = 4
    tab_width_mm: float = 6.0
    tab_height_mm: float = 1.5
    entry: Entry = "ramp"
    ramp_angle_deg: float = 3.0
    lead_in_mm: float = 1.0


@dataclass(frozen=True, slots=True)
class PocketOp:
    """Clear every pocket of the part (regions open from above, islands kept) by ``offset``
    rings or ``zigzag`` lines, then a finishing contour leaving ``stock_to_leave_mm``."""

    tool: str
    pattern: PocketPattern = "offset"
    stepover_frac: float = 0.0  # 0: the tool's feeds value
    stepdown_mm: float = 0.0
    stock_to_leave_mm: float = 0.0
    entry: Entry = "helix"
    ramp_angle_deg: float = 3.0
    zigzag_angle_deg: float = 0.0


@dataclass(frozen=True, slots=True)
class DrillOp:
    """Drill holes: explicit ``holes`` (x, y, depth below stock top) or, when empty, every
    vertical round through/blind hole of the part whose diameter is within ``match_mm`` of
    the drill's. ``peck_mm`` 0: the tool's feeds value (0 there too: no pecking)."""

    tool: str
    holes: tuple[tuple[float, float, float], ...] = ()
    peck_mm: float = 0.0
    match_mm: float = 0.2
    retract_mm: float = 1.0  # the R plane above the stock top
    through_mm: float = 0.5


@dataclass(frozen=True, slots=True)
class FinishOp:
    """3D raster finishing by drop-cutter: parallel lines ``stepover_mm`` apart at
    ``angle_deg`` (0: along X, 90: along Y), sampled every ``sampling_mm`` and refined where
    the surface bends more than ``tolerance_mm``."""

    tool: str
    stepover_mm: float = 0.0  # 0: the tool's feeds value
    angle_deg: float = 0.0
    sampling_mm: float = 0.5
    tolerance_mm: float = 0.005
    stock_to_leave_mm: float = 0.0
    margin_mm: float = 0.0  # extend the raster beyond the part by this much (plus the radius)
    zigzag: bool = True


@dataclass(frozen=True, slots=True)
class LaserCutOp:
    """Cut every contour of the part's outline (a 2D section) through the sheet: holes
    first, then outlines, each offset by half the kerf away from the part."""

    passes: int = 0  # 0: the material's value for the thickness
    kerf_mm: float = -1.0  # < 0: the material's value
    power: float = -1.0
    speed_mm_min: float = -1.0
    section_z_mm: float | None = None  # None: the middle of the part


Dither = Literal["floyd-steinberg", "threshold"]
DITHERS: tuple[Dither, ...] = ("floyd-steinberg", "threshold")


@dataclass(frozen=True, slots=True)
class EngraveOp:
    """Raster-engrave ``image`` on the part's top face (bidirectional scanlines along X).

    ``image`` float64 (h, w): darkness 0 (white, no burn) .. 1 (black), row 0 at the top (+Y
    end), read-only. Pixels are ``pixel_mm`` square, which is also the line spacing; with
    ``width_mm`` > 0 the image is resampled to that width at ``pixel_mm`` (aspect kept).
    ``origin_xy_mm``: lower-left corner of the image relative to the lower-left of the part's
    box; None centres it on the part. ``power``/``speed_mm_min`` < 0: the material's engrave
    values; ``overscan_mm`` < 0: from the machine's acceleration. ``dither``: Floyd-Steinberg
    error diffusion or a plain 50 % threshold. Put it before a ``LaserCutOp`` of the same part,
    so the piece is engraved before it is cut free.
    """

    image: np.ndarray
    pixel_mm: float = 0.1
    width_mm: float = 0.0
    origin_xy_mm: tuple[float, float] | None = None
    power: float = -1.0
    speed_mm_min: float = -1.0
    overscan_mm: float = -1.0
    dither: Dither = "floyd-steinberg"

    def __post_init__(self) -> None:
        img = np.array(self.image, dtype=np.float64)
        if img.ndim != 2 or img.size == 0:
            raise ParamError(f"engrave image must be a non-empty 2D array (h, w); got {img.shape}")
        img.flags.writeable = False
        object.__setattr__(self, "image", img)


Operation = FaceOp | ProfileOp | PocketOp | DrillOp | FinishOp | LaserCutOp | EngraveOp


@dataclass(frozen=True, slots=True)
class CamSettings:
    """Heights and motion for a CNC job: ``clearance_mm`` above the stock top for rapids
    between features, ``retract_mm`` above the cut top for moves within a feature."""

    clearance_mm: float = 5.0
    retract_mm: float = 1.0
    rapid_mm_min: float = 5000.0


#: How far above the previous peck bottom a peck drilling cycle rapids back down (mm).
PECK_CLEARANCE_MM = 0.5


def peck_steps(r_z: float, bottom_z: float, peck_mm: float) -> list[tuple[bool, float]]:
    """The canonical expansion of a peck drilling cycle (LinuxCNC G83 semantics) after the
    tool has arrived at the R plane ``r_z``: (is_feed, z) steps, each a vertical move.

    Peck ``peck_mm`` deep, rapid out to R after each peck, rapid back down to
    ``PECK_CLEARANCE_MM`` above the last bottom. ``peck_mm`` <= 0 drills in one feed. The
    last step is the feed to ``bottom_z``; the return to the initial height is not included.
    Shared by the CAM stage (which writes it) and the emitter (which recognises it to write
    a canned cycle where the dialect has one).
    """
    if peck_mm <= 0 or r_z - bottom_z <= peck_mm:
        return [(True, bottom_z)]
    steps: list[tuple[bool, float]] = []
    depth = r_z
    while depth > bottom_z + 1e-9:
        nxt = max(bottom_z, depth - peck_mm)
        if depth < r_z:
            steps += [(False, r_z), (False, depth + PECK_CLEARANCE_MM)]
        steps.append((True, nxt))
        depth = nxt
    return steps
