"""Entry names inside a bundle: relative POSIX paths that cannot escape the extract folder.

Refused: empty names, absolute paths (``/x``), drive letters (``C:x``), backslashes, ``..``
or ``.`` segments, empty segments (``a//b``, trailing ``/``), control characters, and names
over 255 characters. These are the zip-slip shapes; a hub extracts bundles from the network.
"""

from __future__ import annotations

import re

MANIFEST_NAME = "manifest.json"
SCHEMA = "fabthread.bundle/1"

_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def unsafe_reason(name: object) -> str | None:
    """Why ``name`` is not a safe entry name, or None when it is."""
    if not isinstance(name, str) or not name:
        return "empty or not a string"
    if len(name) > 255:
        return "longer than 255 characters"
    if _CONTROL.search(name):
        return "contains control characters"
    if "\\" in name:
        return "contains a backslash"
    if name.startswith("/"):
        return "is an absolute path"
    if _DRIVE.match(name):
        return "starts with a drive letter"
    parts = name.split("/")
    if any(p == ".." for p in parts):
        return "contains '..'"
    if any(p in ("", ".") for p in parts):
        return "has an empty or '.' path segment"
    return None
