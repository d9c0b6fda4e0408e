"""Bundle: the job package a hub pulls (a deterministic zip with a manifest)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Bundle:
    """A packed job. ``path`` is the zip on disk, ``sha256`` its hash, ``manifest_json`` the
    exact manifest bytes inside it (decoded), so callers need not reopen the zip."""

    path: str
    sha256: str
    order_id: str
    manifest_json: str

    @property
    def manifest(self) -> dict:
        import json

        return json.loads(self.manifest_json)
