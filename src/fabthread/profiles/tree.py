"""Reading profile files and resolving ``inherits`` chains.

Profiles live in ``<root>/<kind>/<id>.toml`` (kind: machines, materials, dialects). A file may
name a family base with ``inherits = "_base"``; bases are files whose stem starts with ``_``
in the same folder, usable by ``inherits`` but not listed. Chains resolve recursively; child
tables deep-merge over their parent's tables; scalars and arrays (``[[color]]``,
``thumbnails``) replace the parent's. Each resolved leaf remembers the file that set it, so
later errors name the file that is actually wrong.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fabthread.errors import ProfileError
from fabthread.profiles.schema import BASE_PATTERN, ID_PATTERN

if TYPE_CHECKING:
    from fabthread.model.params import Process

Origins = dict[str, str]  # dotted key -> display path of the file that set it


@dataclass(frozen=True, slots=True)
class Resolved:
    """A profile after ``inherits``: the merged data, where each key came from, the chain."""

    id: str
    path: Path
    source: str  # display path of the leaf file, e.g. "profiles/machines/prusa_mk4.toml"
    data: dict[str, Any]
    origins: Origins
    chain: tuple[str, ...]  # display paths, leaf first

    def where(self, dotted: str) -> str:
        """The display path of the file that set ``dotted`` (or of its nearest table)."""
        key = dotted
        while key:
            if key in self.origins:
                return self.origins[key]
            key = key.rpartition(".")[0]
        return self.source


def check_process_keys(
    res: Resolved,
    kind: str,
    sections: Mapping[str, Any],
    required: Mapping[str, Any],
) -> Process:
    """The resolved file's process, after checking that every top-level key is one that
    process uses and every required dotted key is set (here or in an inherited base).
    ``kind`` ("machines", "materials") words the messages."""
    data = res.data
    process = data.get("process")
    if process is None:
        raise ProfileError(f"{res.source}: missing key 'process'; allowed: fdm, cnc, laser")
    for key in data:
        if key not in sections[process]:
            raise ProfileError(
                f"{res.where(key)}: key '{key}' is not used by {process} {kind}; allowed: "
                + ", ".join(sorted(sections[process]))
            )
    for dotted in required[process]:
        node: Any = data
        for part in dotted.split("."):
            node = node.get(part) if isinstance(node, Mapping) else None
        if node is None:
            raise ProfileError(
                f"{res.source}: missing key '{dotted}' (required for {process} {kind}, "
                "here or in an inherited base)"
            )
    return process  # type: ignore[no-any-return]  # the schema allows fdm, cnc, laser only


def display(path: Path, root: Path) -> str:
    """``profiles/machines/x.toml`` style: relative to the profiles root's parent."""
    try:
        return path.relative_to(root.parent).as_posix()
    except ValueError:
        return path.as_posix()


def read_toml(path: Path, source: str) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ProfileError(f"{source}: file not found") from None
    except OSError as exc:
        raise ProfileError(f"{source}: cannot read ({exc.strerror or exc})") from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ProfileError(f"{source}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{source}: not valid TOML ({exc})") from None


def available(folder: Path) -> list[str]:
    """Ids of the listed (non-base) profiles in ``folder``, sorted."""
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.toml") if not p.stem.startswith("_"))


def resolve(
    root: Path,
    kind: str,
    profile_id: str,
    check_file: Callable[[dict[str, Any], str], None],
    noun: str,
) -> Resolved:
    """Read ``<root>/<kind>/<profile_id>.toml`` and its ``inherits`` chain, merged.

    ``check_file(doc, source)`` validates each file on its own (keys, types, ranges) before
    merging, so an error names the file that holds the bad key. Unknown ids list the
    available ones; cycles and missing bases are ProfileErrors naming the file.
    """
    folder = root / kind
    if not isinstance(profile_id, str) or not ID_PATTERN.fullmatch(profile_id):
        raise ProfileError(
            f"{noun} id {profile_id!r} is not valid (lower-case letters, digits and _, "
            f"starting with a letter or digit); available: {_avail(folder)}"
        )
    path = folder / f"{profile_id}.toml"
    if not path.is_file():
        raise ProfileError(f"unknown {noun} '{profile_id}'; available: {_avail(folder)}")
    docs: list[tuple[str, dict[str, Any]]] = []
    seen: list[str] = []
    current: Path | None = path
    while current is not None:
        source = display(current, root)
        if current.stem in seen:
            cycle = " -> ".join([*seen, current.stem])
            raise ProfileError(f"{display(path, root)}: inherits cycle {cycle}")
        seen.append(current.stem)
        doc = read_toml(current, source)
        check_file(doc, source)
        docs.append((source, doc))
        parent = doc.get("inherits")
        if parent is None:
            current = None
            continue
        if not isinstance(parent, str) or not BASE_PATTERN.fullmatch(parent):
            raise ProfileError(
                f"{source}: inherits={parent!r} must name a base file starting with '_' "
                f'(e.g. inherits = "_fdm_base"); bases: {_bases(folder)}'
            )
        current = folder / f"{parent}.toml"
        if not current.is_file():
            raise ProfileError(
                f"{source}: inherits '{parent}', but {display(current, root)} does not exist; "
                f"bases: {_bases(folder)}"
            )
    data: dict[str, Any] = {}
    origins: Origins = {}
    for source, doc in reversed(docs):  # base first, leaf last
        _merge(data, doc, origins, source, "")
    data.pop("inherits", None)
    return Resolved(
        id=profile_id,
        path=path,
        source=docs[0][0],
        data=data,
        origins=origins,
        chain=tuple(s for s, _ in docs),
    )


def _merge(
    into: dict[str, Any], doc: Mapping[str, Any], origins: Origins, source: str, prefix: str
) -> None:
    for key, value in doc.items():
        dotted = prefix + key
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value, origins, source, dotted + ".")
        else:
            into[key] = _copy(value)
            for k in [k for k in origins if k.startswith(dotted + ".")]:
                del origins[k]
            _record(value, origins, source, dotted)


def _record(value: Any, origins: Origins, source: str, dotted: str) -> None:
    origins[dotted] = source
    if isinstance(value, dict):
        for k, v in value.items():
            _record(v, origins, source, f"{dotted}.{k}")


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _avail(folder: Path) -> str:
    return ", ".join(available(folder)) or "(none)"


def _bases(folder: Path) -> str:
    names = sorted(p.stem for p in folder.glob("_*.toml")) if folder.is_dir() else []
    return ", ".join(names) or "(none)"
