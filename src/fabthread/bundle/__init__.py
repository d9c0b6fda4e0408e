"""Job bundles v1: a deterministic zip with a manifest that a hub pulls, verifies, extracts.

Example::

    >>> from fabthread.bundle import pack_bundle, verify_bundle
    >>> b = pack_bundle({"job.gcode": b"G28\\n"}, {"order_id": "A-1"}, Path("A-1.zip"))
    >>> verify_bundle(b.path).ok
    True
"""

from fabthread.bundle.names import MANIFEST_NAME, SCHEMA, unsafe_reason
from fabthread.bundle.pack import build_manifest, canonical_json, pack_bundle
from fabthread.bundle.verify import VerifyReport, extract_bundle, read_manifest, verify_bundle

__all__ = [
    "MANIFEST_NAME",
    "SCHEMA",
    "VerifyReport",
    "build_manifest",
    "canonical_json",
    "extract_bundle",
    "pack_bundle",
    "read_manifest",
    "unsafe_reason",
    "verify_bundle",
]
