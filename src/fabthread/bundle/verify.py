"""Verify, read and extract job bundles (what a hub does with a zip from the network).

``verify_bundle`` never raises for a bad bundle: it returns every problem it finds. It checks
that the zip opens, that ``manifest.json`` is the first entry, parses as a JSON object with
``schema == "fabthread.bundle/1"`` and a well-formed ``files`` list, that every listed file is
present with the listed size and SHA-256, that nothing unlisted is inside, and that no entry
name could escape an extract folder (zip-slip). Reads are bounded by the listed sizes, so a
zip bomb is reported, not inflated.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fabthread.bundle.names import MANIFEST_NAME, SCHEMA, unsafe_reason
from fabthread.errors import BundleError
from fabthread.io_atomic import write_bytes_atomic

MAX_MANIFEST_BYTES = 16 * 1024 * 1024
_SHA = re.compile(r"[0-9a-f]{64}")
_CHUNK = 1 << 20
_READ_ERRORS = (zipfile.BadZipFile, OSError, zlib.error, EOFError)


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """The result of ``verify_bundle``: ``ok`` when ``problems`` is empty. ``manifest`` is the
    parsed manifest (empty when it could not be read)."""

    ok: bool
    problems: tuple[str, ...]
    manifest: dict = field(default_factory=dict)


def verify_bundle(path: str | os.PathLike[str]) -> VerifyReport:
    """Check the bundle at ``path``; see the module docstring for what is checked."""
    problems: list[str] = []
    manifest: dict[str, Any] = {}
    try:
        zf = zipfile.ZipFile(path)
    except FileNotFoundError:
        return VerifyReport(False, (f"{path}: file not found",), {})
    except (zipfile.BadZipFile, OSError) as exc:
        return VerifyReport(False, (f"{path}: not a readable zip ({exc})",), {})
    with zf:
        infos = zf.infolist()
        names = [i.filename for i in infos]
        for name in sorted({n for n in names if names.count(n) > 1}):
            problems.append(f"{name}: appears {names.count(name)} times in the zip")
        for name in names:
            reason = unsafe_reason(name)
            if reason:
                problems.append(f"{name!r}: unsafe entry name ({reason})")
        by_name = {i.filename: i for i in infos}
        if MANIFEST_NAME not in by_name:
            problems.append(f"{MANIFEST_NAME}: missing")
            return VerifyReport(False, tuple(problems), {})
        if names[0] != MANIFEST_NAME:
            problems.append(f"{MANIFEST_NAME}: not the first entry")
        manifest, listed = _manifest(zf, by_name[MANIFEST_NAME], problems)
        for entry in listed:
            _check_file(zf, by_name.get(entry["path"]), entry, problems)
        listed_names = {e["path"] for e in listed}
        for name in names:
            if name != MANIFEST_NAME and name not in listed_names:
                problems.append(f"{name}: in the zip but not listed in the manifest")
    return VerifyReport(not problems, tuple(problems), manifest)


def read_manifest(path: str | os.PathLike[str]) -> dict:
    """The parsed manifest of the bundle at ``path`` (not verified); BundleError if unreadable."""
    try:
        with zipfile.ZipFile(path) as zf:
            try:
                info = zf.getinfo(MANIFEST_NAME)
            except KeyError:
                raise BundleError(f"{path}: no {MANIFEST_NAME} in the bundle") from None
            problems: list[str] = []
            manifest, _ = _manifest(zf, info, problems)
    except FileNotFoundError:
        raise BundleError(f"{path}: file not found") from None
    except (zipfile.BadZipFile, OSError) as exc:
        raise BundleError(f"{path}: not a readable zip ({exc})") from None
    if not manifest:
        raise BundleError(f"{path}: {problems[0] if problems else 'empty manifest'}")
    return manifest


def extract_bundle(path: str | os.PathLike[str], dest: str | os.PathLike[str]) -> Path:
    """Verify the bundle, then write its manifest and listed files under ``dest``.

    Refuses (BundleError, nothing written) when verification fails, which includes every
    unsafe entry name. Each file is written atomically; returns ``dest``.
    """
    report = verify_bundle(path)
    if not report.ok:
        raise BundleError(
            f"{path}: refusing to extract a bundle that fails verification: "
            + "; ".join(report.problems)
        )
    out = Path(dest)
    out.mkdir(parents=True, exist_ok=True)
    base = out.resolve()
    with zipfile.ZipFile(path) as zf:
        names = [MANIFEST_NAME] + [e["path"] for e in report.manifest["files"]]
        for name in names:
            target = (base / name).resolve()
            if base not in target.parents:  # belt and braces: symlinked folders in dest
                raise BundleError(f"{path}: entry '{name}' would be written outside {out}")
            write_bytes_atomic(target, zf.read(name))
    return out


def _manifest(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, problems: list[str]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Parse and shape-check the manifest; returns it and its valid ``files`` entries."""
    if info.file_size > MAX_MANIFEST_BYTES:
        problems.append(
            f"{MANIFEST_NAME}: {info.file_size} bytes, above the {MAX_MANIFEST_BYTES} byte limit"
        )
        return {}, []
    try:
        raw = _read_bounded(zf, info, MAX_MANIFEST_BYTES)
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        problems.append(f"{MANIFEST_NAME}: not valid JSON ({exc})")
        return {}, []
    except (*_READ_ERRORS, ValueError) as exc:
        problems.append(f"{MANIFEST_NAME}: cannot be read ({exc})")
        return {}, []
    if not isinstance(data, dict):
        problems.append(f"{MANIFEST_NAME}: not a JSON object")
        return {}, []
    if data.get("schema") != SCHEMA:
        problems.append(
            f"{MANIFEST_NAME}: schema is {data.get('schema')!r}; this fabthread reads {SCHEMA!r}"
        )
    files = data.get("files")
    if not isinstance(files, list):
        problems.append(f"{MANIFEST_NAME}: 'files' must be a list of {{path, sha256, size}}")
        return data, []
    listed: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, entry in enumerate(files):
        where = f"{MANIFEST_NAME}: files[{i}]"
        if not isinstance(entry, Mapping):
            problems.append(f"{where} is not an object")
            continue
        name, sha, size = entry.get("path"), entry.get("sha256"), entry.get("size")
        reason = unsafe_reason(name)
        if reason:
            problems.append(f"{where}: path {name!r} {reason}")
            continue
        if name == MANIFEST_NAME or name in seen:
            problems.append(f"{where}: path '{name}' is reserved or listed twice")
            continue
        if not isinstance(sha, str) or not _SHA.fullmatch(sha):
            problems.append(f"{where}: sha256 of '{name}' is not 64 lower-case hex digits")
            continue
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            problems.append(f"{where}: size of '{name}' is not a non-negative integer")
            continue
        seen.add(str(name))
        listed.append({"path": name, "sha256": sha, "size": size})
    return data, listed


def _check_file(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo | None, entry: Mapping[str, Any], problems: list[str]
) -> None:
    name, size, sha = entry["path"], entry["size"], entry["sha256"]
    if info is None:
        problems.append(f"{name}: listed in the manifest but missing from the zip")
        return
    if info.file_size != size:
        problems.append(f"{name}: size {info.file_size} bytes, manifest says {size}")
        return
    try:
        data = _read_bounded(zf, info, size)
    except ValueError:
        problems.append(f"{name}: inflates beyond its listed size {size} bytes")
        return
    except _READ_ERRORS as exc:  # CRC mismatch, corrupt deflate stream, truncated data
        problems.append(f"{name}: cannot be read ({exc})")
        return
    if len(data) != size:
        problems.append(f"{name}: size {len(data)} bytes, manifest says {size}")
        return
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha:
        problems.append(
            f"{name}: sha256 mismatch (manifest {sha[:12]}..., content {actual[:12]}...)"
        )


def _read_bounded(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """The entry's bytes; ValueError when it inflates to more than ``limit`` bytes."""
    chunks: list[bytes] = []
    total = 0
    with zf.open(info) as fh:
        while True:
            chunk = fh.read(min(_CHUNK, limit + 1 - total))
            if not chunk:
                break
            total += len(chunk)
            if total > limit:
                raise ValueError(f"more than {limit} bytes")
            chunks.append(chunk)
    return b"".join(chunks)
