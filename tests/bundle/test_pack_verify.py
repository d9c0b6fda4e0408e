"""Job bundles: deterministic packing, verification of real zips, refusal of unsafe ones."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fabthread.bundle import (
    SCHEMA,
    extract_bundle,
    pack_bundle,
    read_manifest,
    unsafe_reason,
    verify_bundle,
)
from fabthread.errors import BundleError

FILES = {
    "job.gcode": b"G28\nG1 X10 Y10 Z0.2 F3000\nG1 X20 E1.2\n" * 200,
    "report.json": b'{"ok": true}\n',
    "thumbs/small.png": bytes(range(256)),
}
MANIFEST = {"order": {"order_id": "A-1001"}, "machine": {"id": "prusa_mk4"}}


def _pack(tmp_path: Path, name: str = "b.zip", files=FILES, manifest=MANIFEST):
    return pack_bundle(files, dict(manifest), tmp_path / name)


def _rewrite(src: Path, dst: Path, change) -> None:
    """Copy the zip ``src`` to ``dst`` entry by entry through ``change(name, data)``, which
    returns new (name, data) or None to drop the entry."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            out = change(info.filename, zin.read(info))
            if out is not None:
                zout.writestr(out[0], out[1])


def test_pack_twice_is_byte_identical(tmp_path: Path) -> None:
    a = _pack(tmp_path, "a.zip")
    b = pack_bundle(dict(reversed(list(FILES.items()))), dict(MANIFEST), tmp_path / "b.zip")
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()
    assert a.sha256 == b.sha256 == hashlib.sha256((tmp_path / "a.zip").read_bytes()).hexdigest()
    assert a.order_id == "A-1001"


def test_zip_layout_is_fixed(tmp_path: Path) -> None:
    bundle = _pack(tmp_path)
    with zipfile.ZipFile(bundle.path) as zf:
        infos = zf.infolist()
        assert [i.filename for i in infos] == ["manifest.json", *sorted(FILES)]
        for info in infos:
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            assert info.compress_type == zipfile.ZIP_DEFLATED
            assert info.external_attr >> 16 == 0o100644
            assert info.extra == b""
        text = zf.read("manifest.json").decode()
    assert text == bundle.manifest_json and text.endswith("}\n")
    manifest = json.loads(text)
    assert text == json.dumps(manifest, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert manifest["schema"] == SCHEMA
    assert manifest["files"] == [
        {"path": n, "sha256": hashlib.sha256(FILES[n]).hexdigest(), "size": len(FILES[n])}
        for n in sorted(FILES)
    ]
    assert manifest["order"] == MANIFEST["order"]
    assert list(tmp_path.iterdir()) == [tmp_path / "b.zip"]  # no temporary files left


def test_verify_ok_and_extract(tmp_path: Path) -> None:
    bundle = _pack(tmp_path)
    report = verify_bundle(bundle.path)
    assert report.ok and report.problems == ()
    assert report.manifest == bundle.manifest == read_manifest(bundle.path)
    out = extract_bundle(bundle.path, tmp_path / "out")
    for name, data in FILES.items():
        assert (out / name).read_bytes() == data
    assert json.loads((out / "manifest.json").read_text()) == bundle.manifest


def test_tampered_byte_names_the_file(tmp_path: Path) -> None:
    bundle = _pack(tmp_path)

    def flip(name: str, data: bytes):
        if name == "job.gcode":
            data = data[:100] + bytes([data[100] ^ 1]) + data[101:]
        return name, data

    bad = tmp_path / "bad.zip"
    _rewrite(Path(bundle.path), bad, flip)
    report = verify_bundle(bad)
    assert not report.ok
    assert len(report.problems) == 1 and report.problems[0].startswith("job.gcode: sha256")
    with pytest.raises(BundleError, match="job.gcode: sha256"):
        extract_bundle(bad, tmp_path / "out")
    assert not (tmp_path / "out" / "job.gcode").exists()


def test_corrupted_compressed_data_is_reported(tmp_path: Path) -> None:
    bundle = _pack(tmp_path)
    raw = bytearray(Path(bundle.path).read_bytes())
    with zipfile.ZipFile(bundle.path) as zf:
        info = zf.getinfo("job.gcode")
    start = info.header_offset + 30 + len(info.filename.encode()) + 5  # inside the data
    raw[start] ^= 0xFF
    bad = tmp_path / "bad.zip"
    bad.write_bytes(bytes(raw))
    report = verify_bundle(bad)
    assert not report.ok and any(p.startswith("job.gcode:") for p in report.problems)


def test_missing_and_extra_files(tmp_path: Path) -> None:
    bundle = _pack(tmp_path)
    missing = tmp_path / "missing.zip"
    _rewrite(Path(bundle.path), missing, lambda n, d: None if n == "report.json" else (n, d))
    report = verify_bundle(missing)
    assert report.problems == ("report.json: listed in the manifest but missing from the zip",)

    extra = tmp_path / "extra.zip"
    with zipfile.ZipFile(bundle.path) as zin, zipfile.ZipFile(extra, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info))
        zout.writestr("payload.sh", b"rm -rf /\n")
    report = verify_bundle(extra)
    assert report.problems == ("payload.sh: in the zip but not listed in the manifest",)
    with pytest.raises(BundleError, match="payload.sh"):
        extract_bundle(extra, tmp_path / "out")


@pytest.mark.parametrize("evil", ["../evil", "/etc/evil", "a/../../evil", "C:evil", "a\\evil"])
def test_unsafe_entries_are_refused(tmp_path: Path, evil: str) -> None:
    with pytest.raises(BundleError, match="entry"):
        pack_bundle({evil: b"x"}, {}, tmp_path / "p.zip")
    assert not (tmp_path / "p.zip").exists()
    # a hand-made zip whose manifest even lists the evil entry correctly
    data = b"pwned\n"
    manifest = {
        "schema": SCHEMA,
        "files": [{"path": evil, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}],
    }
    bad = tmp_path / "evil.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("manifest.json", json.dumps(manifest))
        zf.writestr(evil, data)
    report = verify_bundle(bad)
    assert not report.ok and any("unsafe" in p for p in report.problems)
    dest = tmp_path / "deep" / "out"
    with pytest.raises(BundleError, match="refusing"):
        extract_bundle(bad, dest)
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p.read_bytes() == data]
    assert written == []


def test_bad_manifests(tmp_path: Path) -> None:
    cases = {
        "no-manifest.zip": [("job.gcode", b"G28\n")],
        "not-json.zip": [("manifest.json", b"{nope")],
        "old-schema.zip": [("manifest.json", b'{"schema": "fabthread.bundle/0", "files": []}')],
        "files-not-list.zip": [
            ("manifest.json", json.dumps({"schema": SCHEMA, "files": {}}).encode())
        ],
    }
    needles = {
        "no-manifest.zip": "manifest.json: missing",
        "not-json.zip": "not valid JSON",
        "old-schema.zip": "schema is 'fabthread.bundle/0'",
        "files-not-list.zip": "'files' must be a list",
    }
    for name, entries in cases.items():
        path = tmp_path / name
        with zipfile.ZipFile(path, "w") as zf:
            for entry, data in entries:
                zf.writestr(entry, data)
        report = verify_bundle(path)
        assert not report.ok and any(needles[name] in p for p in report.problems), report
    (tmp_path / "plain.zip").write_bytes(b"not a zip at all")
    assert "not a readable zip" in verify_bundle(tmp_path / "plain.zip").problems[0]
    assert "file not found" in verify_bundle(tmp_path / "nope.zip").problems[0]
    with pytest.raises(BundleError, match="no manifest.json"):
        read_manifest(tmp_path / "no-manifest.zip")


def test_size_lie_is_caught_without_inflating_everything(tmp_path: Path) -> None:
    big = b"\0" * 5_000_000
    bundle = pack_bundle({"job.gcode": big}, {}, tmp_path / "b.zip")
    manifest = bundle.manifest
    manifest["files"][0]["size"] = 10
    bad = tmp_path / "bad.zip"
    _rewrite(
        Path(bundle.path),
        bad,
        lambda n, d: (n, json.dumps(manifest).encode()) if n == "manifest.json" else (n, d),
    )
    assert verify_bundle(bad).problems == ("job.gcode: size 5000000 bytes, manifest says 10",)


def test_pack_refuses_bad_inputs(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="reserved"):
        pack_bundle({"manifest.json": b"{}"}, {}, tmp_path / "x.zip")
    with pytest.raises(BundleError, match="differ only by case"):
        pack_bundle({"Job.gcode": b"", "job.gcode": b""}, {}, tmp_path / "x.zip")
    with pytest.raises(BundleError, match="both a file and the folder"):
        pack_bundle({"a": b"", "a/b": b""}, {}, tmp_path / "x.zip")
    with pytest.raises(BundleError, match="plain JSON"):
        pack_bundle({"a": b""}, {"t": float("nan")}, tmp_path / "x.zip")
    with pytest.raises(BundleError, match="must be bytes"):
        pack_bundle({"a": "text"}, {}, tmp_path / "x.zip")  # type: ignore[dict-item]
    assert list(tmp_path.iterdir()) == []


_name = st.text(alphabet="abcdefghij_.-", min_size=1, max_size=8).filter(
    lambda s: s not in (".", "..") and s.casefold() != "manifest.json"
)


@settings(max_examples=40, deadline=None)
@given(st.dictionaries(_name, st.binary(max_size=300), min_size=1, max_size=5))
def test_round_trip_any_files(tmp_path_factory, files: dict[str, bytes]) -> None:
    folded = {n.casefold() for n in files}
    if len(folded) != len(files):
        return
    tmp = tmp_path_factory.mktemp("rt")
    a = pack_bundle(files, {"k": 1}, tmp / "a.zip")
    b = pack_bundle(files, {"k": 1}, tmp / "b.zip")
    assert a.sha256 == b.sha256
    assert verify_bundle(a.path).ok
    out = extract_bundle(a.path, tmp / "out")
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.name != "manifest.json"} == files


def test_unsafe_reason_accepts_normal_names() -> None:
    for ok in ("job.gcode", "thumbs/220x124.png", "a.b/c-d_e"):
        assert unsafe_reason(ok) is None
    for bad in ("", "a//b", "a/", "./a", "a\x00b", "x" * 300):
        assert unsafe_reason(bad) is not None
