"""Read mesh files (STL binary and ASCII, 3MF, OBJ) into numpy arrays, without trimesh.

Every reader returns what the file holds, in file units, nothing merged or cleaned (that is
``mesh_io``'s job): ``read_stl`` the triangles, float64 (m, 3, 3); ``read_3mf`` and
``read_obj`` ``(vertices, faces)``: float64 (n, 3) and int64 (m, 3) indices into vertices;
``read_mesh`` dispatches on the file type and always returns ``(vertices, faces)`` (an STL's
vertices are its triangle corners in file order, faces ``[[0, 1, 2], [3, 4, 5], ...]``).

Anything unreadable raises ``MeshError`` naming the file and what is wrong with it.

Numbers are parsed as float64 and correctly rounded (as Python's ``float`` does), so a 3MF
or ASCII file gives the same values as trimesh's readers. The bulk of a 3MF (its ``<vertex>``
and ``<triangle>`` elements) and the numbers of an ASCII STL go through kernels
(``kernels.xml_scan``): a 225k-triangle 3MF model in ~60 ms, against ~0.5 s with regular
expressions and ``float``, ~4 s with ElementTree. The small rest of a 3MF document
(objects, components, build items, namespaces) goes through ElementTree, meshes cut out.
"""

from __future__ import annotations

import io
import re
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from fabthread.errors import MeshError

if TYPE_CHECKING:  # imported where a 3MF is read: an STL slice need not load them (4 ms)
    import xml.etree.ElementTree as ET
    import zipfile

_STL_HEADER_BYTES = 84
_STL_RECORD = np.dtype([("normal", "<f4", (3,)), ("vertices", "<f4", (3, 3)), ("attr", "<u2")])

_OBJ_VERTEX = re.compile(rb"^[ \t]*v[ \t]+(\S+)[ \t]+(\S+)[ \t]+(\S+)", re.MULTILINE)
_OBJ_FACE = re.compile(rb"^[ \t]*f[ \t]+([^\r\n#]*)", re.MULTILINE)
_OBJ_SLASH_PART = re.compile(rb"/\S*")

CORE_NS = "http://schemas.microsoft.com/3dmanufacturing/core/2015/02"
_RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_MODEL_REL_TYPE = "http://schemas.microsoft.com/3dmanufacturing/2013/01/3dmodel"
_COMMENT = re.compile(rb"<!--.*?-->", re.DOTALL)
_ROOT_TAG = re.compile(rb"<(?:([A-Za-z_][\w.-]*):)?model[\s>]")
#: Components may nest; deeper than this is taken for a reference cycle.
MAX_COMPONENT_DEPTH = 32


def read_mesh(data: bytes, file_type: str, where: str) -> tuple[np.ndarray, np.ndarray]:
    """``(vertices, faces)`` of a mesh file's bytes; file_type: "stl", "3mf" or "obj";
    ``where`` names the file in error messages."""
    if file_type == "stl":
        tri = read_stl(data, where)
        return tri.reshape(-1, 3), np.arange(3 * len(tri), dtype=np.int64).reshape(-1, 3)
    if file_type == "3mf":
        return read_3mf(data, where)
    if file_type == "obj":
        return read_obj(data, where)
    raise MeshError(f"{where}: unknown mesh format '.{file_type}'; allowed: .stl, .3mf, .obj")


# --- STL --------------------------------------------------------------------------------


def read_stl(data: bytes, where: str) -> np.ndarray:
    """Triangles of a binary or ASCII STL, float64 (m, 3, 3).

    Binary when the size is exactly 84 + 50 × (the triangle count in the header), whatever
    the first bytes say (many binary writers start the header with "solid"); else ASCII."""
    size = len(data)
    count = int.from_bytes(data[80:84], "little") if size >= _STL_HEADER_BYTES else -1
    expected = _STL_HEADER_BYTES + _STL_RECORD.itemsize * count
    if count >= 0 and size == expected:
        records = np.frombuffer(data, dtype=_STL_RECORD, count=count, offset=_STL_HEADER_BYTES)
        return records["vertices"].astype(np.float64)
    # binary triangle data is full of NUL bytes (zero coordinates, attribute words); text is not
    if data.lstrip()[:5].lower() == b"solid" and b"\x00" not in data[:4096]:
        return _read_stl_ascii(data, where)
    if count < 0:
        raise MeshError(
            f"{where}: not an STL file: {size} bytes is shorter than the 84-byte header of a "
            "binary STL and the file does not start with 'solid' (ASCII STL)"
        )
    if size < expected:
        raise MeshError(
            f"{where}: truncated binary STL: the header says {count} triangles "
            f"({expected} bytes) but the file has {size} bytes"
        )
    raise MeshError(
        f"{where}: not a valid STL file: as binary STL the header says {count} triangles "
        f"({expected} bytes) but the file has {size} bytes, and it is not ASCII STL "
        "(it does not start with 'solid')"
    )


def _read_stl_ascii(data: bytes, where: str) -> np.ndarray:
    """Triangles of an ASCII STL: the three numbers after every ``vertex`` keyword, in any
    letter case, several ``solid``s in one file allowed. Tokens are found with numpy over the
    bytes and the numbers parsed by ``parse_floats`` (10x faster than a regex per line)."""
    from fabthread.geom.kernels.xml_scan import parse_floats

    low = data.lower()
    if b"endsolid" not in low:
        raise MeshError(f"{where}: ASCII STL without 'endsolid': the file looks truncated")
    buf = np.frombuffer(low, dtype=np.uint8)
    space = (buf == 32) | ((buf >= 9) & (buf <= 13))
    word = ~space
    starts = np.flatnonzero(word & np.r_[True, space[:-1]])
    ends = np.flatnonzero(word & np.r_[space[1:], True]) + 1
    keyword = np.flatnonzero(ends - starts == 6)
    for i, ch in enumerate(b"vertex"):
        keyword = keyword[buf[starts[keyword] + i] == ch]
    n_facets = low.count(b"endfacet")
    if len(keyword) != 3 * n_facets:
        raise MeshError(
            f"{where}: ASCII STL: {len(keyword)} vertices for {n_facets} facets; every facet "
            "must have exactly 3 vertices"
        )
    if len(keyword) and keyword[-1] + 3 >= len(starts):
        raise MeshError(f"{where}: ASCII STL: the last 'vertex' line has no three numbers")
    token = keyword[:, None] + np.arange(1, 4)  # (n, 3): the tokens after each keyword
    spans = np.stack([starts[token], ends[token]], axis=2).reshape(-1, 6)
    values, done = parse_floats(buf.copy(), spans)
    for i, a in zip(*np.nonzero(~done), strict=True):  # rare: long or exotic numbers
        text = low[spans[i, 2 * a] : spans[i, 2 * a + 1]]
        try:
            values[i, a] = float(text)
        except ValueError:
            raise MeshError(
                f"{where}: ASCII STL: {text.decode(errors='replace')!r} at line "
                f"{_line(low, spans[i, 2 * a])} where a vertex coordinate "
                "should be"
            ) from None
    return values.reshape(-1, 3, 3)


# --- OBJ --------------------------------------------------------------------------------


def read_obj(data: bytes, where: str) -> tuple[np.ndarray, np.ndarray]:
    """``(vertices, faces)`` from the ``v`` and ``f`` lines of a Wavefront OBJ.

    Face corners may be ``a``, ``a/b``, ``a//c`` or ``a/b/c`` (only the vertex index is used),
    indices start at 1, negative ones count back from the last vertex defined before the
    face; polygons are split into a fan of triangles around their first corner. Texture and
    normal data, groups, objects and materials are ignored."""
    rows = _OBJ_VERTEX.findall(data)
    vertices = _floats(rows, where, "OBJ vertex").reshape(-1, 3)
    lines = [(m.start(), m.group(1)) for m in _OBJ_FACE.finditer(data)]
    if not lines:
        return vertices, np.zeros((0, 3), dtype=np.int64)
    counts = np.array([len(text.split()) for _, text in lines], dtype=np.int64)
    tokens = _OBJ_SLASH_PART.sub(b"", b" ".join(text for _, text in lines)).split()
    if len(tokens) != int(counts.sum()):
        raise MeshError(f"{where}: OBJ face corner without a vertex index (e.g. '/2' or '//3')")
    try:
        index = np.array(tokens, dtype=np.bytes_).astype(np.int64)
    except ValueError:
        word = next(t for t in tokens if not t.lstrip(b"-+").isdigit())
        raise MeshError(
            f"{where}: OBJ face refers to vertex {word.decode(errors='replace')!r}; "
            "vertex indices are whole numbers"
        ) from None
    if np.any(counts < 3):
        raise MeshError(f"{where}: OBJ face with fewer than 3 corners")
    if np.any(index == 0):
        raise MeshError(f"{where}: OBJ face refers to vertex 0; OBJ indices start at 1")
    written = index
    negative = index < 0
    if negative.any():
        # relative to the vertices defined before the face line
        v_starts = np.array([m.start() for m in _OBJ_VERTEX.finditer(data)], dtype=np.int64)
        f_starts = np.array([start for start, _ in lines], dtype=np.int64)
        before = np.repeat(np.searchsorted(v_starts, f_starts), counts)
        index = np.where(negative, before + index, index - 1)
    else:
        index = index - 1
    n = len(vertices)
    bad = (index < 0) | (index >= n)
    if bad.any():
        k = int(written[bad][0])
        why = f"the file has {n} vertices" if k > 0 else "fewer vertices come before the face"
        raise MeshError(f"{where}: OBJ face refers to vertex {k}, but {why}")
    return vertices, _fan_triangles(index, counts)


def _fan_triangles(index: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Triangles (first, j, j + 1) of polygons given as concatenated corners; int64 (m, 3)."""
    if np.all(counts == 3):
        return index.reshape(-1, 3)
    starts = np.cumsum(counts) - counts
    n_tri = counts - 2
    poly = np.repeat(np.arange(len(counts)), n_tri)
    j = np.arange(int(n_tri.sum())) - np.repeat(np.cumsum(n_tri) - n_tri, n_tri) + 1
    first = starts[poly]
    return np.stack([index[first], index[first + j], index[first + j + 1]], axis=1)


# --- 3MF --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Ref:
    """A build item or component: an object, where it is defined, where it goes."""

    objectid: str
    model: str  # archive member holding the object
    transform: np.ndarray | None  # float64 (4, 4); None for identity


@dataclass(frozen=True, slots=True)
class _Object:
    mesh: int  # index of the object's mesh block in its model, -1 for none
    components: tuple[_Ref, ...]


class _Model:
    """One model part of a 3MF archive: its objects and build items. Mesh blocks are cut
    out of the XML before ElementTree sees it and parsed on demand with ``_mesh_arrays``."""

    def __init__(self, data: bytes, name: str, where: str) -> None:
        self.name = name
        self.where = f"{where}: 3MF model {name}"
        if b"<!--" in data:
            data = _COMMENT.sub(b"", data)
        root_tag = _ROOT_TAG.search(data)
        if root_tag is None:
            raise MeshError(f"{self.where} has no <model> element")
        prefix = root_tag.group(1)
        self.prefix = prefix + b":" if prefix else b""
        self.data = data
        self.spans: list[tuple[int, int]] = []
        stripped = self._cut_meshes()
        import xml.etree.ElementTree as ET

        try:
            root = ET.fromstring(stripped)
        except ET.ParseError as exc:
            raise MeshError(f"{self.where} is not well-formed XML: {exc}") from None
        if root.tag != f"{{{CORE_NS}}}model":
            raise MeshError(
                f"{self.where}: the root element is {root.tag}, not a model in the 3MF core "
                f"namespace {CORE_NS}"
            )
        self.objects: dict[str, _Object] = {}
        for obj in root.iter(f"{{{CORE_NS}}}object"):
            oid = obj.get("id")
            if oid is None:
                raise MeshError(f"{self.where}: an <object> has no id")
            mesh = obj.find(f"{{{CORE_NS}}}mesh")
            comps = tuple(self._ref(c, "component") for c in obj.iter(f"{{{CORE_NS}}}component"))
            self.objects[oid] = _Object(-1 if mesh is None else int(mesh.get("ftmesh", -1)), comps)
        self.items = tuple(self._ref(i, "build item") for i in root.iter(f"{{{CORE_NS}}}item"))
        self._arrays: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._buf: np.ndarray | None = None

    def _cut_meshes(self) -> bytes:
        """The document with every ``<mesh>...</mesh>`` replaced by ``<mesh ftmesh="k"/>``;
        fills ``self.spans`` with the byte range of each mesh's content."""
        data, p = self.data, self.prefix
        open_tag, close_tag = b"<" + p + b"mesh", b"</" + p + b"mesh"
        pieces: list[bytes] = []
        pos = 0
        search = 0
        while True:
            start = data.find(open_tag, search)
            if start < 0:
                break
            after = start + len(open_tag)
            if data[after : after + 1] not in (b" ", b"\t", b"\r", b"\n", b">", b"/"):
                search = after  # <meshfoo ...>: not ours
                continue
            gt = data.find(b">", after)
            if gt < 0:
                raise MeshError(f"{self.where}: unterminated <mesh> tag")
            if data[gt - 1 : gt] == b"/":
                content, end = (gt + 1, gt + 1), gt + 1
            else:
                close = data.find(close_tag, gt)
                end = data.find(b">", close) + 1 if close >= 0 else 0
                if end <= 0:
                    raise MeshError(f"{self.where}: <mesh> without </mesh>: the file is truncated")
                content = (gt + 1, close)
            pieces += [data[pos:start], b"<" + p + b'mesh ftmesh="%d"/>' % len(self.spans)]
            self.spans.append(content)
            pos = search = end
        pieces.append(data[pos:])
        return b"".join(pieces)

    def _ref(self, el: ET.Element, what: str) -> _Ref:
        oid = el.get("objectid")
        if oid is None:
            raise MeshError(f"{self.where}: a {what} has no objectid")
        # the production extension's p:path: the object lives in another model part
        path = next((v for k, v in el.attrib.items() if k == "path" or k.endswith("}path")), "")
        return _Ref(oid, path.lstrip("/") or self.name, _transform(el.get("transform"), self.where))

    def mesh_arrays(self, index: int, oid: str) -> tuple[np.ndarray, np.ndarray]:
        if index not in self._arrays:
            if self._buf is None:  # the kernels take a writable uint8 array
                self._buf = np.frombuffer(self.data, dtype=np.uint8).copy()
            s, e = self.spans[index]
            where = f"{self.where}, object {oid}"
            self._arrays[index] = _mesh_arrays(self.data, self._buf, s, e, self.prefix, where)
        return self._arrays[index]


def read_3mf(data: bytes, where: str) -> tuple[np.ndarray, np.ndarray]:
    """``(vertices, faces)`` of every build item of a 3MF, transforms applied, in file units
    (the model's ``unit`` attribute is not applied: the caller's units are).

    Follows the root relationship to the model part (``3D/3dmodel.model`` by convention),
    build items → objects → components (nested, with their transforms, also in other model
    parts via the production extension's ``p:path``). An object placed twice is emitted
    twice. A transform that mirrors (negative determinant) has its triangles reversed so
    they keep facing out."""
    import zipfile

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise MeshError(f"{where}: not a 3MF file (not a zip archive: {exc})") from None
    with archive:
        names = {n.lstrip("/"): n for n in archive.namelist()}
        models: dict[str, _Model] = {}

        def model(name: str) -> _Model:
            if name not in models:
                member = names.get(name) or next(
                    (n for k, n in names.items() if k.lower() == name.lower()), None
                )
                if member is None:
                    raise MeshError(f"{where}: 3MF archive has no part {name}")
                models[name] = _Model(_read_member(archive, member, where), name, where)
            return models[name]

        root = model(_root_model_name(archive, names, where))
        if not root.items:
            raise MeshError(f"{where}: 3MF model {root.name} has no build items: nothing to print")
        vertices: list[np.ndarray] = []
        faces: list[np.ndarray] = []
        offset = [0]

        def place(ref: _Ref, parent: np.ndarray | None, depth: int) -> None:
            if depth > MAX_COMPONENT_DEPTH:
                raise MeshError(
                    f"{where}: 3MF components nest deeper than {MAX_COMPONENT_DEPTH} levels "
                    f"(object {ref.objectid} refers back to itself?)"
                )
            m = model(ref.model)
            obj = m.objects.get(ref.objectid)
            if obj is None:
                raise MeshError(
                    f"{m.where}: refers to object {ref.objectid}, which it does not define"
                )
            transform = _compose(parent, ref.transform)
            if obj.mesh >= 0:
                v, f = m.mesh_arrays(obj.mesh, ref.objectid)
                if transform is not None:
                    v = v @ transform[:3, :3].T + transform[:3, 3]
                    if np.linalg.det(transform[:3, :3]) < 0:
                        f = f[:, ::-1]
                faces.append(f + offset[0])
                vertices.append(v)
                offset[0] += len(v)
            for comp in obj.components:
                place(comp, transform, depth + 1)

        for item in root.items:
            place(item, None, 0)
    if not vertices:
        return np.zeros((0, 3)), np.zeros((0, 3), dtype=np.int64)
    return np.concatenate(vertices), np.concatenate(faces)


def _read_member(archive: zipfile.ZipFile, member: str, where: str) -> bytes:
    import zipfile

    try:
        return archive.read(member)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError) as exc:
        raise MeshError(f"{where}: corrupt 3MF archive: cannot read {member}: {exc}") from None


def _root_model_name(archive: zipfile.ZipFile, names: dict[str, str], where: str) -> str:
    """The model part the package's root relationship points at (else 3D/3dmodel.model)."""
    import xml.etree.ElementTree as ET

    rels = next((n for k, n in names.items() if k.lower() == "_rels/.rels"), None)
    if rels is not None:
        try:
            root = ET.fromstring(_read_member(archive, rels, where))
        except ET.ParseError:
            root = None
        for rel in root.iter(f"{{{_RELS_NS}}}Relationship") if root is not None else ():
            target = rel.get("Target", "").lstrip("/")
            if rel.get("Type") == _MODEL_REL_TYPE and target:
                return target
    for key in names:
        if key.lower() == "3d/3dmodel.model":
            return key
    raise MeshError(
        f"{where}: 3MF archive without a 3D model (no 3D/3dmodel.model, no model "
        "relationship in _rels/.rels)"
    )


def _transform(text: str | None, where: str) -> np.ndarray | None:
    """A 3MF transform "m00 m01 m02 m10 ... m32" (row vectors: p' = [x y z 1] · M, M 4×3) as
    a 4×4 matrix for column vectors; None when absent."""
    if text is None:
        return None
    try:
        values = np.array(text.split(), dtype=np.float64)
    except ValueError:
        values = np.zeros(0)
    if values.shape != (12,) or not np.all(np.isfinite(values)):
        raise MeshError(f"{where}: transform={text!r}; a 3MF transform is 12 numbers")
    out = np.eye(4)
    out[:3, :4] = values.reshape(4, 3).T
    return out


def _compose(parent: np.ndarray | None, child: np.ndarray | None) -> np.ndarray | None:
    if parent is None:
        return child
    if child is None:
        return parent
    return parent @ child


def _mesh_arrays(
    data: bytes, buf: np.ndarray, start: int, end: int, prefix: bytes, where: str
) -> tuple[np.ndarray, np.ndarray]:
    """Vertices float64 (n, 3) and triangles int64 (m, 3) of the ``<mesh>`` whose content is
    ``data[start:end]``; buf: the same document as a writable uint8 array."""
    from fabthread.geom.kernels.xml_scan import parse_floats, parse_ints

    vs, ve = _block(data, start, end, prefix + b"vertices", where)
    ts, te = _block(data, start, end, prefix + b"triangles", where)
    vspans = _attribute_spans(data, buf, vs, ve, prefix + b"vertex", (b"x", b"y", b"z"), where)
    tspans = _attribute_spans(data, buf, ts, te, prefix + b"triangle", (b"v1", b"v2", b"v3"), where)
    vertices, done = parse_floats(buf, vspans)
    for i, a in zip(*np.nonzero(~done), strict=True):  # rare: long or exotic numbers
        text = data[vspans[i, 2 * a] : vspans[i, 2 * a + 1]]
        try:
            vertices[i, a] = float(text)
        except ValueError:
            raise MeshError(
                f"{where}: vertex coordinate {text.decode(errors='replace')!r} at line "
                f"{_line(data, vspans[i, 2 * a])} is not a number"
            ) from None
    faces, done = parse_ints(buf, tspans)
    for i, a in zip(*np.nonzero(~done), strict=True):
        text = data[tspans[i, 2 * a] : tspans[i, 2 * a + 1]]
        try:
            faces[i, a] = int(text)
        except (ValueError, OverflowError):
            raise MeshError(
                f"{where}: triangle corner {text.decode(errors='replace')!r} at line "
                f"{_line(data, tspans[i, 2 * a])} is not a vertex index"
            ) from None
    n = len(vertices)
    bad = (faces < 0) | (faces >= n)
    if bad.any():
        raise MeshError(
            f"{where}: a triangle refers to missing vertex {_first_bad(faces, bad, 0)} "
            f"(the mesh has {n} vertices)"
        )
    return vertices, faces


def _block(data: bytes, start: int, end: int, tag: bytes, where: str) -> tuple[int, int]:
    """Offsets of the content of the element ``tag`` in ``data[start:end]`` (an empty range
    when it is absent or empty)."""
    begin = data.find(b"<" + tag, start, end)
    if begin < 0:
        return start, start
    gt = data.find(b">", begin, end)
    if gt < 0:
        raise MeshError(f"{where}: unterminated <{tag.decode()}> tag")
    if data[gt - 1 : gt] == b"/":
        return gt, gt
    close = data.find(b"</" + tag, gt, end)
    if close < 0:
        raise MeshError(f"{where}: <{tag.decode()}> without </{tag.decode()}>")
    return gt + 1, close


def _attribute_spans(
    data: bytes,
    buf: np.ndarray,
    start: int,
    end: int,
    tag: bytes,
    names: tuple[bytes, ...],
    where: str,
) -> np.ndarray:
    """Value offsets int64 (n, 2 · len(names)) of ``names`` on every ``tag`` element in
    ``data[start:end]``, which must hold nothing but those elements."""
    from fabthread.geom.kernels import xml_scan

    name_start = np.cumsum([0, *map(len, names)])
    spans, status = xml_scan.element_attributes(
        buf,
        start,
        end,
        np.frombuffer(tag, dtype=np.uint8).copy(),
        np.frombuffer(b"".join(names), dtype=np.uint8).copy(),
        name_start,
    )
    kind = int(status[1])
    if kind != xml_scan.OK:
        element = tag.decode()
        at = f"line {_line(data, int(status[2]))}"
        problem = {
            xml_scan.UNEXPECTED: f"something other than <{element}> elements at {at}",
            xml_scan.MALFORMED: f"a malformed <{element}> tag at {at}",
            xml_scan.DUPLICATE: f"a <{element}> with an attribute given twice at {at}",
            xml_scan.MISSING: (
                f"a <{element}> at {at} without "
                + " and ".join(n.decode() for n in names)
                + " (all are required)"
            ),
        }[kind]
        raise MeshError(f"{where}: {problem}")
    return spans


def _line(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


# --- shared -----------------------------------------------------------------------------


def _floats(values: list[bytes] | list[tuple[bytes, ...]], where: str, what: str) -> np.ndarray:
    """float64 array of the numbers in ``values`` (bytes, or tuples of bytes), flattened."""
    if not values:
        return np.zeros(0)
    try:
        return np.array(values, dtype=np.bytes_).astype(np.float64).ravel()
    except ValueError:
        flat = [v for row in values for v in (row if isinstance(row, tuple) else (row,))]
        for v in flat:
            try:
                float(v)
            except ValueError:
                raise MeshError(
                    f"{where}: {what} {v.decode(errors='replace')!r} is not a number"
                ) from None
        raise MeshError(f"{where}: bad {what}") from None


def _first_bad(index: np.ndarray, bad: np.ndarray, base: int) -> int:
    return int(index[bad].ravel()[0]) + base
