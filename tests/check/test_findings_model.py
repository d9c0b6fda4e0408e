from __future__ import annotations

import json

import pytest

from fabthread.model.findings import Finding, Findings


def test_finding_rejects_unknown_severity() -> None:
    with pytest.raises(ValueError):
        Finding("x", "fatal", "boom")  # type: ignore[arg-type]


def test_findings_dict_is_json_with_stable_keys() -> None:
    f = Finding(
        "min_wall",
        "error",
        "thin",
        measured=0.3,
        limit=0.4,
        unit="mm",
        location=((1, 2, 3),),
        fix="thicken",
        face_ids=(4,),
    )
    fs = Findings(part="p", machine="m", process="fdm", items=(f,), rules=("min_wall",))
    data = json.loads(json.dumps(fs.to_dict()))
    assert set(data) == {
        "part",
        "machine",
        "material",
        "process",
        "ok",
        "counts",
        "rules",
        "findings",
    }
    assert data["ok"] is False and fs.has_errors
    assert data["counts"] == {"error": 1, "warning": 0, "info": 0}
    assert set(data["findings"][0]) == {
        "rule",
        "severity",
        "message",
        "measured",
        "limit",
        "unit",
        "location",
        "face_ids",
        "fix",
    }
    assert data["findings"][0]["location"] == [[1.0, 2.0, 3.0]]
