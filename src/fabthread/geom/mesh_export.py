"""Write a ``Part`` as binary STL or 3MF bytes, byte-deterministic (no clocks, no randomness).

STL: the 80-byte header carries the part name and hash, then one record per triangle (normal,
three vertices as float32, attribute 0). 3MF (3MF Core Specification 1.x): a zip with
``[Content_Types].xml``, ``_rels/.rels`` and ``3D/3dmodel.model`` in millimetres; with a
color, a ``basematerials`` group with one ``base`` (displaycolor) that the object uses. Zip
entries are written in a fixed order with a fixed timestamp (1980-01-01) and fixed
permissions, so the same part always gives the same bytes.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
from collections.abc import Sequence
from xml.sax.saxutils import escape, quoteattr

import numpy as np

from fabthread.model.part import Part

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
CORE_NS = "http://schemas.microsoft.com/3dmanufacturing/core/2015/02"
#: Our own metadata names are namespaced, as the 3MF spec asks of non-standard metadata.
FABTHREAD_NS = "https://github.com/fabthread/fabthread/3mf"
MODEL_PATH = "3D/3dmodel.model"
_HEX = re.compile(r"#?([0-9a-fA-F]{6})([0-9a-fA-F]{2})?")


def stl_bytes(part: Part) -> bytes:
    """Binary STL of ``part`` (float32 mm). Normals are the unit face normals (0 if degenerate)."""
    tri = part.vertices_mm[part.faces]  # (m, 3, 3)
    normals = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    length = np.linalg.norm(normals, axis=1, keepdims=True)
    normals = np.divide(normals, length, out=np.zeros_like(normals), where=length > 0)
    record = np.dtype([("n", "<f4", (3,)), ("v", "<f4", (3, 3)), ("attr", "<u2")])
    data = np.zeros(len(tri), dtype=record)
    data["n"] = normals
    data["v"] = tri
    label = f"fabthread {part.name} {part.source_sha256[:16]}".encode("ascii", "replace")
    header = label[:80].ljust(80, b" ")
    return header + struct.pack("<I", len(tri)) + data.tobytes()


def threemf_bytes(
    part: Part,
    color_hex: str = "",
    name: str = "",
    face_colors: Sequence[tuple[int, int, str]] = (),
) -> bytes:
    """A 3MF package of ``part`` in mm; ``color_hex`` ("#RRGGBB" or "#RRGGBBAA", default
    ``part.color_hex``) becomes the object's display color; ``name`` the object's name.
    ``face_colors``: (first face, end face, color) ranges, e.g. one per body of a multi-body
    part, written as per-triangle materials (3MF core ``pid``/``p1``)."""
    color = normalize_color(color_hex or part.color_hex)
    ranges = [(s, e, normalize_color(c)) for s, e, c in face_colors]
    entries = [
        ("[Content_Types].xml", _content_types()),
        ("_rels/.rels", _rels()),
        (MODEL_PATH, _model_xml(part, color, name or part.name, ranges)),
    ]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for path, payload in entries:
            info = zipfile.ZipInfo(path, date_time=ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3  # unix, so external_attr means the same everywhere
            zf.writestr(info, payload, compresslevel=6)
    return buf.getvalue()


def normalize_color(color_hex: str) -> str:
    """ "#rrggbb" or "#rrggbbaa" -> upper-case "#RRGGBB[AA]"; "" stays ""; ValueError else."""
    if not color_hex:
        return ""
    m = _HEX.fullmatch(color_hex.strip())
    if not m:
        raise ValueError(f"color {color_hex!r} is not #RRGGBB or #RRGGBBAA")
    return "#" + (m.group(1) + (m.group(2) or "")).upper()


def _content_types() -> bytes:
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        b'<Default Extension="rels" '
        b'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        b'<Default Extension="model" '
        b'ContentType="application/vnd.ms-package.3dmanufacturing-3dmodel+xml"/>'
        b"</Types>\n"
    )


def _rels() -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Target="/{MODEL_PATH}" Id="rel0" '
        'Type="http://schemas.microsoft.com/3dmanufacturing/2013/01/3dmodel"/>'
        "</Relationships>\n"
    ).encode()


def _model_xml(
    part: Part, color: str, name: str, ranges: Sequence[tuple[int, int, str]] = ()
) -> bytes:
    out = io.StringIO()
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write(
        f'<model unit="millimeter" xml:lang="en-US" xmlns="{CORE_NS}" '
        f'xmlns:fabthread="{FABTHREAD_NS}">\n'
    )
    out.write(f'<metadata name="Title">{escape(name)}</metadata>\n')
    out.write('<metadata name="Application">fabthread</metadata>\n')
    if part.source_sha256:
        out.write(f'<metadata name="fabthread:source_sha256">{part.source_sha256}</metadata>\n')
    out.write("<resources>\n")
    material = ""
    palette = list(dict.fromkeys([color] + [c for _, _, c in ranges if c])) if color else []
    if palette:
        bases = "".join(f'<base name="{c}" displaycolor="{c}"/>' for c in palette)
        out.write(f'<basematerials id="1">{bases}</basematerials>\n')
        material = ' pid="1" pindex="0"'
    out.write(f'<object id="2" type="model" name={quoteattr(name)}{material}>\n<mesh>\n')
    out.write("<vertices>\n")
    # repr-exact coordinates would bloat the file; 1 nm is far below any machine's resolution.
    v = np.round(part.vertices_mm, 6) + 0.0  # + 0.0 turns -0.0 into 0.0
    out.writelines(f'<vertex x="{x:.10g}" y="{y:.10g}" z="{z:.10g}"/>\n' for x, y, z in v.tolist())
    out.write("</vertices>\n<triangles>\n")
    index = np.zeros(len(part.faces), dtype=np.int64)
    for start, end, c in ranges:
        if c and palette:
            index[start:end] = palette.index(c)
    out.writelines(
        f'<triangle v1="{a}" v2="{b}" v3="{c}"' + (f' pid="1" p1="{k}"/>\n' if k else "/>\n")
        for (a, b, c), k in zip(part.faces.tolist(), index.tolist(), strict=True)
    )
    out.write("</triangles>\n</mesh>\n</object>\n</resources>\n")
    out.write('<build><item objectid="2"/></build>\n</model>\n')
    return out.getvalue().encode("utf-8")


__all__ = ["normalize_color", "stl_bytes", "threemf_bytes"]
