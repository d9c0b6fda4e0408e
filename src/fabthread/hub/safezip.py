"""Refuse unsafe bundle zips before anything is extracted.

A hub agent unpacks files that came over the network. Refused: absolute paths (``/x``,
``C:\\x``, ``\\\\server``), ``..`` components, backslashes, symlinks, duplicate names, and more
than ``max_entries`` entries or ``max_total_bytes`` uncompressed (zip bombs).
"""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import PurePosixPath

from fabthread.errors import BundleError

MAX_ENTRIES = 64
MAX_TOTAL_BYTES = 512 * 1024 * 1024


def check_member_name(name: str) -> None:
    """Raise BundleError for a zip entry name that could escape the extraction folder."""
    if not name or "\\" in name or "\x00" in name:
        raise BundleError(f"bundle entry {name!r}: empty, backslash or NUL in the name")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise BundleError(f"bundle entry {name!r}: absolute path")
    if any(part == ".." for part in PurePosixPath(name).parts):
        raise BundleError(f"bundle entry {name!r}: '..' in the path")


def open_safe(
    data: bytes, max_entries: int = MAX_ENTRIES, max_total_bytes: int = MAX_TOTAL_BYTES
) -> zipfile.ZipFile:
    """Open zip bytes after checking every entry; BundleError if anything is unsafe."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise BundleError(f"bundle is not a zip file: {exc}") from None
    infos = zf.infolist()
    if len(infos) > max_entries:
        raise BundleError(f"bundle has {len(infos)} entries; at most {max_entries}")
    seen: set[str] = set()
    total = 0
    for info in infos:
        check_member_name(info.filename)
        if info.filename in seen:
            raise BundleError(f"bundle entry {info.filename!r} appears twice")
        seen.add(info.filename)
        if stat.S_ISLNK(info.external_attr >> 16):
            raise BundleError(f"bundle entry {info.filename!r} is a symlink")
        total += info.file_size
        if total > max_total_bytes:
            raise BundleError(f"bundle unpacks to more than {max_total_bytes} bytes")
    return zf


def read_member(zf: zipfile.ZipFile, name: str, limit: int = MAX_TOTAL_BYTES) -> bytes:
    """Read one entry, refusing to inflate past ``limit`` bytes whatever the header says."""
    with zf.open(name) as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise BundleError(f"bundle entry {name!r} is larger than {limit} bytes")
    return data
