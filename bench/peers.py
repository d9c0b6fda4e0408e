"""Run PrusaSlicer and CuraEngine (Debian packages) at fabthread's benchmark settings.

Same settings for every slicer: 0.4 mm nozzle, 0.2 mm layers (first layer too), 0.45 mm
lines, 2 perimeters, 3 top and 3 bottom layers, 20 % rectilinear infill, no supports, one
skirt loop, 1.75 mm filament. CuraEngine evaluates none of Cura's setting formulas, so every
derived setting is passed explicitly here.

Each slicer's own claims (layer count, filament length) are parsed for comparison only; the
benchmark measures with fabthread's reader. CuraEngine cannot read 3MF: give it an STL.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

CURA_DEFS = Path("/usr/share/cura/resources/definitions")


@dataclass(frozen=True)
class BenchSettings:
    nozzle_mm: float = 0.4
    layer_mm: float = 0.2
    width_mm: float = 0.45
    perimeters: int = 2
    top_layers: int = 3
    bottom_layers: int = 3
    infill: float = 0.20
    bed_x_mm: float = 400.0
    bed_y_mm: float = 400.0
    bed_z_mm: float = 400.0

    def fabthread_sets(self) -> list[str]:
        pairs = {
            "layer_height_mm": self.layer_mm,
            "first_layer_height_mm": self.layer_mm,
            "extrusion_width_mm": self.width_mm,
            "first_layer_width_mm": self.width_mm,
            "perimeters": self.perimeters,
            "top_layers": self.top_layers,
            "bottom_layers": self.bottom_layers,
            "infill_density": self.infill,
            "infill_pattern": "rectilinear",
            "supports": "false",
        }
        out: list[str] = []
        for k, v in pairs.items():
            out += ["--set", f"{k}={v}"]
        return out


def prusaslicer_claims(gcode: str) -> dict[str, float | None]:
    """PrusaSlicer's own numbers from its G-code comments: layers (count of ;LAYER_CHANGE, it
    writes no total) and filament (mm)."""
    m = re.search(r"^; filament used \[mm\] = ([0-9.]+)", gcode, re.M)
    return {
        "layers": float(gcode.count(";LAYER_CHANGE")),
        "filament_mm": float(m.group(1)) if m else None,
    }


def cura_claims(log: str) -> dict[str, float | None]:
    """CuraEngine's own numbers from its verbose log (-v): layers and filament (mm)."""
    layers = re.search(r"Layer count: (\d+)", log)
    fil = re.findall(r";Filament used: ([0-9.eE+-]+)m", log)
    return {
        "layers": float(layers.group(1)) if layers else None,
        "filament_mm": float(fil[-1]) * 1000.0 if fil else None,
    }


def have_prusaslicer() -> bool:
    return shutil.which("prusa-slicer") is not None


def have_curaengine() -> bool:
    return shutil.which("CuraEngine") is not None and (CURA_DEFS / "fdmprinter.def.json").is_file()


def prusaslicer_cmd(mesh: Path, out: Path, s: BenchSettings, scale: float) -> list[str]:
    bed = f"0x0,{s.bed_x_mm:g}x0,{s.bed_x_mm:g}x{s.bed_y_mm:g},0x{s.bed_y_mm:g}"
    return [
        "prusa-slicer",
        "--export-gcode",
        "--bed-shape",
        bed,
        "--max-print-height",
        f"{s.bed_z_mm:g}",
        "--center",
        f"{s.bed_x_mm / 2:g},{s.bed_y_mm / 2:g}",
        "--scale",
        f"{scale:g}",
        "--nozzle-diameter",
        f"{s.nozzle_mm}",
        "--filament-diameter",
        "1.75",
        "--layer-height",
        f"{s.layer_mm}",
        "--first-layer-height",
        f"{s.layer_mm}",
        "--extrusion-width",
        f"{s.width_mm}",
        "--first-layer-extrusion-width",
        f"{s.width_mm}",
        "--perimeters",
        str(s.perimeters),
        "--top-solid-layers",
        str(s.top_layers),
        "--bottom-solid-layers",
        str(s.bottom_layers),
        "--fill-density",
        f"{s.infill * 100:g}%",
        "--fill-pattern",
        "rectilinear",
        "--no-support-material",
        "--skirts",
        "1",
        "--gcode-flavor",
        "marlin2",
        "--use-relative-e-distances",
        "--layer-gcode",
        "G92 E0",
        "--output",
        str(out),
        str(mesh),
    ]


def curaengine_cmd(mesh: Path, out: Path, s: BenchSettings, scale: float) -> list[str]:
    w = s.width_mm
    line_distance = w * 100.0 / (s.infill * 100.0) if s.infill > 0 else 0.0
    settings = {
        "machine_width": s.bed_x_mm,
        "machine_depth": s.bed_y_mm,
        "machine_height": s.bed_z_mm,
        "machine_center_is_zero": "false",
        "center_object": "true",
        "machine_gcode_flavor": "RepRap (Marlin/Sprinter)",
        "machine_nozzle_size": s.nozzle_mm,
        "material_diameter": 1.75,
        "layer_height": s.layer_mm,
        "layer_height_0": s.layer_mm,
        "line_width": w,
        "wall_line_width": w,
        "wall_line_width_0": w,
        "wall_line_width_x": w,
        "skin_line_width": w,
        "infill_line_width": w,
        "skirt_brim_line_width": w,
        "initial_layer_line_width_factor": 100,
        "wall_line_count": s.perimeters,
        "wall_thickness": s.perimeters * w,
        "top_layers": s.top_layers,
        "bottom_layers": s.bottom_layers,
        # a formula in Cura (= bottom_layers) that CuraEngine does not evaluate: its default
        # is 6, which printed 6 solid bottom layers instead of 3
        "initial_bottom_layers": s.bottom_layers,
        "top_thickness": s.top_layers * s.layer_mm,
        "bottom_thickness": s.bottom_layers * s.layer_mm,
        "infill_sparse_density": s.infill * 100,
        "infill_pattern": "lines",
        "infill_line_distance": line_distance,
        "infill_sparse_thickness": s.layer_mm,
        "top_bottom_pattern": "lines",
        "top_bottom_pattern_0": "lines",
        "support_enable": "false",
        "adhesion_type": "skirt",
        "skirt_line_count": 1,
        "retraction_amount": 0.8,
        "retraction_enable": "true",
        "relative_extrusion": "true",
        "mesh_position_x": 0,
        "mesh_position_y": 0,
        "mesh_position_z": 0,
        "mesh_rotation_matrix": f"[[{scale},0,0],[0,{scale},0],[0,0,{scale}]]",
    }
    # -v: the engine logs its own layer count and filament use (the header it writes from the
    # command line keeps placeholders); see cura_claims.
    cmd = ["CuraEngine", "slice", "-v", "-j", str(CURA_DEFS / "fdmprinter.def.json")]
    for k, v in settings.items():
        cmd += ["-s", f"{k}={v}"]
    cmd += ["-e0", "-s", "material_diameter=1.75", "-s", f"machine_nozzle_size={s.nozzle_mm}"]
    cmd += ["-l", str(mesh), "-o", str(out)]
    return cmd
