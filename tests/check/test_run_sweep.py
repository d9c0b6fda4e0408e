from __future__ import annotations

import numpy as np
import pytest
import trimesh
from checkkit import box, machine, part

from fabthread.check import check_part
from fabthread.check.sweep import param_values, sweep_design
from fabthread.errors import ParamError
from fabthread.model.params import DesignSpec, ParamSpec


def test_check_part_runs_the_fdm_families_and_sorts_errors_first(fdm, pla) -> None:
    thin_and_big = box((0, 0, 0), (300, 100, 0.3))
    found = check_part(part(thin_and_big), fdm, pla)
    assert found.process == "fdm" and found.material == "pla"
    assert {"build_volume", "min_wall", "overhang", "open_edges"} <= set(found.rules)
    assert {f.rule for f in found.errors} == {"build_volume", "min_wall"}
    sev = [f.severity for f in found]
    assert sev == sorted(sev, key=["error", "warning", "info"].index)
    assert found.to_dict()["ok"] is False


def test_clean_part_has_no_findings_and_ok(fdm, pla) -> None:
    found = check_part(part(box((0, 0, 0), (20, 20, 20))), fdm, pla)
    assert len(found) == 0 and not found.has_errors and found.to_dict()["ok"] is True


def test_broken_mesh_skips_normal_based_rules(fdm) -> None:
    b = box((0, 0, 0), (20, 20, 0.3))
    found = check_part(part(b, faces=b.faces[:, ::-1]), fdm)
    assert [f.rule for f in found.errors] == ["inside_out"]
    assert "min_wall" not in found.rules
    assert any(f.rule == "min_wall" and f.severity == "info" for f in found)


def test_process_choice_picks_the_families(fdm, pla) -> None:
    cnc = check_part(part(box((0, 0, 0), (20, 20, 20))), fdm, pla, process="cnc")
    assert "internal_corner" in cnc.rules and "min_wall" not in cnc.rules
    # an FDM material on a CNC job is an error, an FDM machine as a stand-in a warning
    assert {(f.rule, f.severity) for f in cnc} == {
        ("material_process", "error"),
        ("material_process", "warning"),
    }
    with pytest.raises(ParamError):
        check_part(part(box((0, 0, 0), (1, 1, 1))), fdm, process="sla")


SPEC = DesignSpec(
    name="plate",
    title="plate",
    description="",
    params=(
        ParamSpec("thickness_mm", "float", 2.0, unit="mm", minimum=0.2, maximum=3.0, step=0.1),
        ParamSpec("width_mm", "float", 40.0, unit="mm", minimum=10.0, maximum=300.0, step=1.0),
        ParamSpec("ribbed", "bool", False),
    ),
)


def _build(raw: dict) -> trimesh.Trimesh:
    t, w = raw["thickness_mm"], raw["width_mm"]
    if w < 20 * t:
        raise ParamError(f"constraint width_mm >= 20 * thickness_mm violated ({w}, {t})")
    return part(box((0, 0, 0), (w, 40, t)), name="plate")


def test_param_values_stay_on_the_grid_and_in_range() -> None:
    values = param_values(SPEC.params[0], 5)
    assert values[0] == 0.2 and values[-1] == 3.0 and len(values) == 5
    assert all(abs(v * 10 - round(v * 10)) < 1e-9 for v in values)
    assert param_values(SPEC.params[2], 5) == [False, True]


def test_sweep_reports_which_values_break_which_rule(fdm) -> None:
    report = sweep_design(SPEC, _build, fdm, samples=5, seed=1)
    assert report.baseline == ()  # 40 x 40 x 2 mm is fine
    by = {(b.param, b.rule): b for b in report.breaks}
    thin = by[("thickness_mm", "min_wall")]
    assert thin.severity == "error"
    assert min(thin.values) == 0.2 and max(thin.values) < 0.9
    assert thin.summary.startswith("thickness_mm <= ") and "on test_fdm" in thin.summary
    wide = by[("width_mm", "build_volume")]
    assert wide.severity == "error" and min(wide.values) > 210
    assert all(v > 210 for v in wide.values) and 300.0 in wide.values
    assert not any(b.param == "ribbed" for b in report.breaks)
    statuses = {c.status for c in report.cases}
    assert "skipped" in statuses  # width 10 with thickness 2 breaks the constraint
    assert sum(c.varied == "*" for c in report.cases) == 5


def test_sweep_is_reproducible_with_a_seed(fdm) -> None:
    a = sweep_design(SPEC, _build, fdm, samples=3, seed=7).to_dict()
    b = sweep_design(SPEC, _build, fdm, samples=3, seed=7).to_dict()
    assert a == b
    c = sweep_design(SPEC, _build, fdm, samples=3, seed=8).to_dict()
    random_a = [x["params"] for x in a["cases"] if x["varied"] == "*"]
    random_c = [x["params"] for x in c["cases"] if x["varied"] == "*"]
    assert random_a != random_c


def test_machine_size_is_what_breaks_the_sweep(fdm) -> None:
    big = machine("fdm", size=(350.0, 350.0, 350.0))
    report = sweep_design(SPEC, _build, big, samples=5)
    assert not any(b.rule == "build_volume" for b in report.breaks)
    assert np.isclose(big.size_x_mm, 350)
