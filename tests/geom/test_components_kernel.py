"""The mesh-cleaning and 3MF kernels against slow, obviously-correct Python twins on seeded
random input."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import deque

import numpy as np
import pytest

from fabthread.geom.kernels import xml_scan
from fabthread.geom.kernels.components import connected_components, equal_row_groups

# --- equal_row_groups ---------------------------------------------------------------------


def groups_twin(keys: np.ndarray) -> list[int]:
    seen: dict[tuple[int, ...], int] = {}
    return [seen.setdefault(tuple(int(x) for x in row), len(seen)) for row in keys]


@pytest.mark.parametrize("seed", range(8))
def test_equal_row_groups_matches_twin(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 3000))
    k = int(rng.integers(1, 5))
    spread = int(rng.choice([2, 10, 1000, 2**62]))
    keys = rng.integers(-spread, spread, size=(n, k), dtype=np.int64)
    if n:
        keys[rng.integers(0, n, 5)] = np.iinfo(np.int64).min  # extremes hash too
    assert equal_row_groups(keys).tolist() == groups_twin(keys)


def test_equal_row_groups_on_a_view_and_nothing() -> None:
    keys = np.arange(24, dtype=np.int64).reshape(6, 4)[:, ::2] % 3  # non-contiguous
    assert equal_row_groups(keys).tolist() == groups_twin(keys)
    assert equal_row_groups(np.zeros((0, 3), dtype=np.int64)).tolist() == []


# --- connected_components -----------------------------------------------------------------


def components_twin(n: int, a: np.ndarray, b: np.ndarray) -> list[int]:
    """Breadth-first search from each unlabelled node in turn, smallest first."""
    nbrs: list[list[int]] = [[] for _ in range(n)]
    for x, y in zip(a.tolist(), b.tolist(), strict=True):
        nbrs[x].append(y)
        nbrs[y].append(x)
    label = [-1] * n
    count = 0
    for s in range(n):
        if label[s] >= 0:
            continue
        label[s] = count
        todo = deque([s])
        while todo:
            x = todo.popleft()
            for y in nbrs[x]:
                if label[y] < 0:
                    label[y] = count
                    todo.append(y)
        count += 1
    return label


@pytest.mark.parametrize("seed", range(8))
def test_connected_components_matches_twin(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 2000))
    m = int(rng.integers(0, 2 * n))  # from many singletons to one giant component
    a = rng.integers(0, n, m, dtype=np.int64)
    b = rng.integers(0, n, m, dtype=np.int64)
    b[: m // 10] = a[: m // 10]  # self-loops
    assert connected_components(n, a, b).tolist() == components_twin(n, a, b)


def test_connected_components_edge_cases() -> None:
    none = np.zeros(0, dtype=np.int64)
    assert connected_components(0, none, none).tolist() == []
    assert connected_components(3, none, none).tolist() == [0, 1, 2]
    # a long chain given backwards: labels by smallest node, not by edge order
    a = np.arange(999, 0, -1, dtype=np.int64)
    assert set(connected_components(1000, a, a - 1).tolist()) == {0}


# --- element_attributes, parse_floats, parse_ints -------------------------------------------


def _number(rng: np.random.Generator) -> str:
    x = float(rng.normal(0, 10.0 ** int(rng.integers(-3, 4))))
    form = int(rng.integers(0, 9))
    if form == 0:
        return f"{x:.3f}"
    if form == 1:
        return repr(x)  # up to 17 significant digits: often past the exact fast path
    if form == 2:
        return f"{x:.6e}"
    if form == 3:
        return f"{x:.2E}".replace("E+0", "E")
    if form == 4:
        return str(int(rng.integers(-1000, 1000)))
    if form == 5:
        return ["0", "-0", "-0.000", ".5", "5.", "+3.25", "1e-22", "9007199254740993"][
            int(rng.integers(0, 8))
        ]
    if form == 6:
        return f"{x:.12f}"
    if form == 7:
        return "0.000" + str(int(rng.integers(1, 10**6)))
    return f"{x:.15g}"


def _element(rng: np.random.Generator, names: list[str], values: list[str]) -> str:
    attrs = list(zip(names, values, strict=True))
    if rng.random() < 0.3:
        attrs.append(("p1", str(int(rng.integers(0, 9)))))  # other attributes are skipped
    if rng.random() < 0.2:
        attrs.append(("ext:x", "7"))  # another namespace's x is not x
    order = rng.permutation(len(attrs))
    parts = []
    for i in order:
        name, value = attrs[i]
        quote = '"' if rng.random() < 0.8 else "'"
        eq = ["=", " = ", "=\n"][int(rng.integers(0, 3))]
        parts.append(f"{name}{eq}{quote}{value}{quote}")
    sep = [" ", "\t", "\n  "][int(rng.integers(0, 3))]
    close = ["/>", " />", "></vertex>", "> </vertex >"][int(rng.integers(0, 4))]
    return "<vertex" + sep + sep.join(parts) + close


def _scan(block: str, names: tuple[bytes, ...] = (b"x", b"y", b"z")) -> tuple:
    prefix = "<mesh><vertices>"
    data = (prefix + block + "</vertices></mesh>").encode()
    buf = np.frombuffer(data, dtype=np.uint8).copy()
    name_start = np.cumsum([0, *map(len, names)])
    spans, status = xml_scan.element_attributes(
        buf,
        len(prefix),
        len(prefix) + len(block.encode()),
        np.frombuffer(b"vertex", dtype=np.uint8).copy(),
        np.frombuffer(b"".join(names), dtype=np.uint8).copy(),
        name_start,
    )
    return data, buf, spans, status


def attributes_twin(block: str) -> list[list[str]]:
    """ElementTree's reading of the block: x, y, z of every vertex element."""
    root = ET.fromstring(f'<r xmlns:ext="urn:x">{block}</r>')
    return [[el.attrib[n] for n in ("x", "y", "z")] for el in root]


@pytest.mark.parametrize("seed", range(10))
def test_element_attributes_and_parse_floats_match_twins(seed: int) -> None:
    rng = np.random.default_rng(seed)
    rows = [[_number(rng) for _ in range(3)] for _ in range(int(rng.integers(0, 300)))]
    block = "\n".join(_element(rng, ["x", "y", "z"], row) for row in rows)
    data, buf, spans, status = _scan(block)
    assert status[1] == xml_scan.OK and status[0] == len(rows)
    got = [[data[s:e].decode() for s, e in zip(r[0::2], r[1::2], strict=True)] for r in spans]
    assert got == attributes_twin(block) == rows
    values, done = xml_scan.parse_floats(buf, spans)
    for i, row in enumerate(rows):
        for a, text in enumerate(row):
            digits = text.lstrip("+-").split("e")[0].split("E")[0].replace(".", "").lstrip("0")
            if len(digits) <= 15 and "e" not in text.lower():
                assert done[i, a], text  # plain numbers take the fast path
            if done[i, a]:  # bit for bit what float() gives, the sign of zero included
                assert np.float64(values[i, a]).tobytes() == np.float64(float(text)).tobytes()


def test_parse_floats_hands_back_what_it_cannot_do_exactly() -> None:
    texts = ["1e400", "nan", "inf", "1.2.3", "", "-", "e5", "1e", "0x10", "12345678901234567890"]
    block = "".join(f'<vertex x="{t}" y="1" z="2"/>' for t in texts)
    _, buf, spans, status = _scan(block)
    assert status[1] == xml_scan.OK
    _, done = xml_scan.parse_floats(buf, spans)
    assert not done[:, 0].any() and done[:, 1:].all()


@pytest.mark.parametrize("seed", range(4))
def test_parse_ints_matches_int(seed: int) -> None:
    rng = np.random.default_rng(seed)
    texts = [str(int(v)) for v in rng.integers(0, 10 ** int(rng.integers(1, 18)), 200)]
    texts += ["-1", "+2", "1.0", "", " 3", "1234567890123456789"]
    block = "".join(f'<vertex x="{t}" y="0" z="0"/>' for t in texts)
    _, buf, spans, _ = _scan(block)
    values, done = xml_scan.parse_ints(buf, spans)
    for text, v, ok in zip(texts, values[:, 0], done[:, 0], strict=True):
        assert ok == (text.isdigit() and len(text) <= 18)
        if ok:
            assert v == int(text)


@pytest.mark.parametrize(
    "block,kind",
    [
        ('<vertex x="1" y="2" z="3"/>text', xml_scan.UNEXPECTED),
        ('<vertex x="1" y="2" z="3"/><other/>', xml_scan.UNEXPECTED),
        ('<vertexx x="1" y="2" z="3"/>', xml_scan.UNEXPECTED),
        ('<vertex x="1" y="2" z="3"', xml_scan.MALFORMED),
        ('<vertex x="1" y="2" z="3/>', xml_scan.MALFORMED),
        ('<vertex x=1 y="2" z="3"/>', xml_scan.MALFORMED),
        ('<vertex x="1" y="2" z="3" /', xml_scan.MALFORMED),
        ('</vertex><vertex x="1" y="2" z="3"/>', xml_scan.MALFORMED),
        ('<vertex x="1" y="2" x="3" z="4"/>', xml_scan.DUPLICATE),
        ('<vertex x="1" y="2"/>', xml_scan.MISSING),
        ('<vertex x="1" y="2" ext:z="3"/>', xml_scan.MISSING),
    ],
)
def test_element_attributes_reports_what_is_wrong(block: str, kind: int) -> None:
    _, _, spans, status = _scan(block)
    assert status[1] == kind and len(spans) == 0


# --- edge_uses and nondegenerate ------------------------------------------------------------


def edge_uses_twin(a: np.ndarray, b: np.ndarray) -> tuple[list[int], list[int], list[int]]:
    seen: dict[tuple[int, int], list[int]] = {}
    for k, (x, y) in enumerate(zip(a.tolist(), b.tolist(), strict=True)):
        seen.setdefault((min(x, y), max(x, y)), []).append(k)
    runs = list(seen.values())
    return [len(r) for r in runs], [r[0] for r in runs], [r[1] if len(r) > 1 else -1 for r in runs]


@pytest.mark.parametrize("seed", range(6))
def test_edge_uses_matches_twin(seed: int) -> None:
    from fabthread.geom.kernels.components import edge_uses

    rng = np.random.default_rng(40 + seed)
    n = int(rng.integers(0, 4000))
    span = int(rng.choice([3, 40, 10**6]))
    a = rng.integers(0, span, n).astype(np.int64)
    b = rng.integers(0, span, n).astype(np.int64)
    got = [x.tolist() for x in edge_uses(a, b, span)]
    assert got == [*edge_uses_twin(a, b)]


def nondegenerate_twin(vertices: np.ndarray, faces: np.ndarray, min_height: float) -> np.ndarray:
    """trimesh's nondegenerate_faces arithmetic in numpy (what mesh_io computed before)."""
    tri = vertices[faces]
    vec = tri[:, 1:] - tri[:, :2]
    area = np.sqrt((np.cross(vec[:, 0], vec[:, 1]) ** 2).sum(axis=1)) / 2.0
    keep = np.ones(len(faces), dtype=bool)
    for corner in (1, 2):
        side = tri[:, corner] - tri[:, 0]
        length = (side**2).sum(axis=1) ** 0.5
        height = np.zeros(len(faces))
        ok = length > min_height
        height[ok] = (area[ok] * 2) / length[ok]
        keep &= height > min_height
    return keep


@pytest.mark.parametrize("seed", range(6))
def test_nondegenerate_matches_twin(seed: int) -> None:
    from fabthread.geom.kernels.components import nondegenerate

    rng = np.random.default_rng(60 + seed)
    vertices = rng.normal(0, 10, (300, 3))
    vertices[:40] = vertices[40:80] + rng.normal(0, 1e-9, (40, 3))  # near-duplicates
    vertices[80:120, 2] = 0.0
    vertices[120:160] = vertices[160:200] * 0.5 + vertices[200:240] * 0.5  # on segments
    faces = rng.integers(0, 300, (5000, 3)).astype(np.int64)
    faces[:500, 1] = faces[:500, 0]  # repeated corners
    faces[500:900] = np.stack([np.arange(120, 160), np.arange(160, 200), np.arange(200, 240)], 1)[
        rng.integers(0, 40, 400)
    ]  # collinear corners
    for h in (1e-8, 1e-3, 1.0):
        got = nondegenerate(vertices, faces, h)
        np.testing.assert_array_equal(got, nondegenerate_twin(vertices, faces, h))
    assert not nondegenerate(vertices, faces, 1e-8)[:900].any()


@pytest.mark.parametrize("seed", range(6))
def test_sorted_edges_is_unique_of_the_keys(seed: int) -> None:
    from fabthread.geom.kernels.components import sorted_edges

    rng = np.random.default_rng(80 + seed)
    n_nodes = int(rng.choice([1, 5, 300, 100_000]))
    m = int(rng.integers(0, 5000))
    a = rng.integers(0, n_nodes, m).astype(np.int64)
    b = rng.integers(0, n_nodes, m).astype(np.int64)
    key = np.minimum(a, b) * n_nodes + np.maximum(a, b)
    uniq, inverse = np.unique(key, return_inverse=True)
    edge_id, nodes = sorted_edges(a, b, n_nodes)
    np.testing.assert_array_equal(edge_id, inverse.ravel())
    np.testing.assert_array_equal(nodes, np.stack([uniq // n_nodes, uniq % n_nodes], 1))


@pytest.mark.parametrize("seed", range(4))
def test_body_volumes_matches_numpy(seed: int) -> None:
    from fabthread.geom.kernels.components import body_volumes

    rng = np.random.default_rng(90 + seed)
    vertices = rng.normal(0, 5, (400, 3))
    n_bodies = 4
    faces = np.concatenate(
        [rng.integers(100 * g, 100 * g + 100, (300, 3)) for g in range(n_bodies)]
    ).astype(np.int64)
    body = np.repeat(np.arange(n_bodies), 300).astype(np.int64)
    tri = vertices[faces]
    vec = tri[:, 1:] - tri[:, :2]
    cross_x = vec[:, 0, 1] * vec[:, 1, 2] - vec[:, 0, 2] * vec[:, 1, 1]
    want = np.bincount(body, cross_x * (tri[:, 0, 0] + tri[:, 1, 0] + tri[:, 2, 0]), n_bodies)
    apart, vertex_body, volume = body_volumes(vertices, faces, body, n_bodies)
    assert apart
    np.testing.assert_array_equal(volume, want)
    assert vertex_body.tolist() == [g for g in range(n_bodies) for _ in range(100)]
    faces[0, 0] = 150  # a triangle of body 0 touching body 1
    assert not body_volumes(vertices, faces, body, n_bodies)[0]
