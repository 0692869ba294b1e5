"""The conda package model: what `info/` says about a package, validated once."""

from __future__ import annotations

import enum
import re
import shlex
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import rattler

from condawheel.conda.infojson import MALFORMED, check_index, json_object
from condawheel.conda.path_table import PathEntry, PathPacker, PathType
from condawheel.exceptions import BadInputError
from condawheel.quoting import quote

#: The placeholder conda-build writes where the build prefix stood.
DEFAULT_PLACEHOLDER = "/opt/anaconda1anaconda2anaconda3"

#: `info/` files copied into the wheel for provenance (design section 1).
PROVENANCE_FILES = ("index.json", "about.json", "paths.json", "run_exports.json")

#: What to do about a package that tries to write outside its prefix.
UNTRUSTED = "do not use this package: rebuild it from a trusted recipe"
#: Larger than any file (an exabyte).
_MAX_SIZE = 2**60
#: Longer than any path a file system takes (PATH_MAX).
_MAX_PATH = 4096
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
#: Control, surrogate (bytes that were not UTF-8) and line-separator characters.
_NOT_IN_PATHS = frozenset({"Cc", "Cs", "Zl", "Zp"})

#: Old packages name a platform and an arch instead of a subdir.
_LEGACY_PLATFORMS = {"linux": "linux", "osx": "osx", "win": "win", "darwin": "osx"}
_LEGACY_ARCHS = {
    "x86_64": "64",
    "x86": "32",
    "aarch64": "aarch64",
    "arm64": "arm64",
    "ppc64le": "ppc64le",
    "s390x": "s390x",
    "armv7l": "armv7l",
}


class NoarchType(enum.Enum):
    NONE = "none"
    PYTHON = "python"
    GENERIC = "generic"


@dataclass(frozen=True, slots=True, kw_only=True)
class CondaPackage:
    """A conda package as described by its `info/` directory."""

    filename: str
    name: str
    version: str
    build: str
    build_number: int
    subdir: str
    noarch: NoarchType
    depends: tuple[str, ...]
    constrains: tuple[str, ...]
    license: str | None
    timestamp_ms: int | None
    about: Mapping[str, Any]
    #: Entries keyed by path; ``None`` when the package lists no files at all.
    paths: Mapping[str, PathEntry] | None
    entry_points: tuple[str, ...]
    run_exports: Mapping[str, Any]
    #: Licence files from `info/licenses/`, by path relative to it.
    licenses: Mapping[str, bytes]
    #: Which `info/` files the model was built from.
    info_keys: frozenset[str] = frozenset()

    @property
    def platform(self) -> str:
        """`linux`, `osx`, `win`, ... or `noarch`."""
        return self.subdir.partition("-")[0]

    @property
    def is_windows(self) -> bool:
        return self.platform == "win"

    @property
    def label(self) -> str:
        return f"{self.name}-{self.version}-{self.build}"

    @classmethod
    def from_info(cls, filename: str, info: Mapping[str, bytes]) -> CondaPackage:
        """Build the model from the raw `info/` members (keys relative to `info/`).

        Raises BadInputError naming the file and the problem.
        """
        index = _json_object(filename, info, "index.json", required=True)
        problems = [
            f"index.json has no {key!r}"
            for key in ("name", "version")
            if not isinstance(index.get(key), str | int | float) or not str(index[key]).strip()
        ]
        for key in ("depends", "constrains"):
            value = index.get(key)
            if value is not None and (
                not isinstance(value, list) or not all(isinstance(v, str) for v in value)
            ):
                problems.append(f"index.json {key!r} is not a list of strings")
        if problems:
            raise BadInputError(f"{filename}: {'; '.join(problems)}: {MALFORMED}")
        check_index(filename, index)
        noarch = _noarch(index)
        link = _json_object(filename, info, "link.json", required=False)
        noarch_link: dict[str, Any] = link["noarch"] if isinstance(link.get("noarch"), dict) else {}
        raw_entry_points = noarch_link.get("entry_points") or []
        if not isinstance(raw_entry_points, list) or not all(
            isinstance(e, str) for e in raw_entry_points
        ):
            raise BadInputError(
                f"{filename}: info/link.json entry_points is not a list of strings: {MALFORMED}"
            )
        entry_points = tuple(raw_entry_points)
        return cls(
            filename=filename,
            name=str(index["name"]),
            version=str(index["version"]),
            build=str(index.get("build", "0")),
            build_number=index.get("build_number", 0),
            subdir=_subdir(filename, index, noarch),
            noarch=noarch,
            depends=tuple(str(d) for d in index.get("depends") or ()),
            constrains=tuple(str(d) for d in index.get("constrains") or ()),
            license=str(index["license"]) if index.get("license") else None,
            timestamp_ms=_int(filename, index["timestamp"]) if index.get("timestamp") else None,
            about=_json_object(filename, info, "about.json", required=False),
            paths=_paths(filename, info),
            entry_points=entry_points,
            run_exports=_json_object(filename, info, "run_exports.json", required=False),
            licenses={
                k.removeprefix("licenses/"): v
                for k, v in sorted(info.items())
                if k.startswith("licenses/")
            },
            info_keys=frozenset(info),
        )


def _json_object(
    filename: str, info: Mapping[str, bytes], name: str, *, required: bool
) -> dict[str, Any]:
    raw = info.get(name)
    if raw is None:
        if required:
            raise BadInputError(
                f"{filename}: info/{name} is missing: this is not a conda package "
                "(or a damaged one); rebuild or re-download it"
            )
        return {}
    return json_object(filename, name, raw)


def _int(filename: str, value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63:
        return value
    raise BadInputError(
        f"{filename}: index.json holds {quote(value)} where a number belongs; {MALFORMED}"
    )


def _noarch(index: Mapping[str, Any]) -> NoarchType:
    value = index.get("noarch")
    if value in (None, False, ""):
        return NoarchType.NONE
    # Old conda-build wrote `noarch_python: true` or `noarch: true`.
    if value is True:
        return NoarchType.GENERIC
    return NoarchType.PYTHON if str(value) == "python" else NoarchType.GENERIC


def _subdir(filename: str, index: Mapping[str, Any], noarch: NoarchType) -> str:
    subdir = index.get("subdir")
    if not subdir and noarch is not NoarchType.NONE:
        subdir = "noarch"
    if not subdir:
        platform = _LEGACY_PLATFORMS.get(str(index.get("platform")))
        arch = _LEGACY_ARCHS.get(str(index.get("arch")))
        if platform and arch:
            subdir = f"{platform}-{arch}"
    if not subdir:
        raise BadInputError(
            f"{filename}: index.json names no subdir (nor platform and arch), so the "
            "target platform is unknown: rebuild the package with a current conda-build "
            "or rattler-build"
        )
    try:
        rattler.Subdir(str(subdir))
    except Exception:
        raise BadInputError(
            f"{filename}: unknown conda subdir {quote(subdir)} in index.json: "
            "use a package built for a platform conda knows (e.g. linux-64, osx-arm64, win-64)"
        ) from None
    return str(subdir)


def _paths(filename: str, info: Mapping[str, bytes]) -> Mapping[str, PathEntry] | None:
    if "paths.json" in info:
        # Each entry is packed as it is parsed: the dicts of a package of 100,000
        # files, all alive at once, would hold more memory than the rest.
        packer = PathPacker()
        data = json_object(
            filename,
            "paths.json",
            info["paths.json"],
            object_hook=lambda raw: (
                packer.pack(_path_entry(filename, raw)) if "_path" in raw else raw
            ),
        )
        entries = data.get("paths")
        if not isinstance(entries, list):
            raise BadInputError(f"{filename}: info/paths.json has no 'paths' list")
        for at, raw in enumerate(entries):
            if not isinstance(raw, bytes):  # not an object with a '_path': refused
                entries[at] = packer.pack(_path_entry(filename, raw))
        return packer.table(filename, entries)
    if "files" in info:
        return _legacy_paths(filename, info)
    return None


def _path_entry(filename: str, raw: object) -> PathEntry:
    if not isinstance(raw, dict) or not isinstance(raw.get("_path"), str):
        raise BadInputError(f"{filename}: info/paths.json has an entry without a '_path'")
    path = clean_path(filename, raw["_path"])
    sha256, size = raw.get("sha256"), raw.get("size_in_bytes")
    placeholder, mode = raw.get("prefix_placeholder"), raw.get("file_mode") or "text"
    for key, fine in (
        ("sha256", sha256 is None or (isinstance(sha256, str) and _SHA256.fullmatch(sha256))),
        (
            "size_in_bytes",
            size is None or (type(size) is int and 0 <= size < _MAX_SIZE),  # not a bool
        ),
        (
            "prefix_placeholder",
            placeholder is None
            or (isinstance(placeholder, str) and len(placeholder) > 0 and _clean(placeholder)),
        ),
        ("file_mode", mode in ("text", "binary")),
    ):
        if not fine:
            raise BadInputError(
                f"{filename}: info/paths.json gives {quote(path)} a {key} of "
                f"{quote(raw.get(key))}: {MALFORMED}"
            )
    return PathEntry(
        path=path,
        path_type=_path_type(filename, raw.get("path_type", "hardlink")),
        sha256=bytes.fromhex(sha256) if sha256 else None,
        size=size,
        prefix_placeholder=placeholder,
        file_mode=mode,
    )


def _legacy_paths(filename: str, info: Mapping[str, bytes]) -> dict[str, PathEntry]:
    """Packages older than paths.json list files in `info/files` and placeholders in
    `info/has_prefix` (`placeholder mode path`, or a bare path meaning the default)."""
    placeholders: dict[str, tuple[str, str]] = {}
    for line in info.get("has_prefix", b"").decode("utf-8", "replace").splitlines():
        if not line.strip():
            continue
        # As conda reads it: non-POSIX splitting keeps Windows backslashes.
        try:
            parts = [part.strip("\"'") for part in shlex.split(line, posix=False)]
        except ValueError:  # an unbalanced quote
            raise BadInputError(
                f"{filename}: info/has_prefix line {quote(line)} is not valid: {MALFORMED}"
            ) from None
        if len(parts) == 3:
            placeholders[parts[2]] = (parts[0], parts[1])
        else:
            placeholders[parts[-1]] = (DEFAULT_PLACEHOLDER, "text")
    result: dict[str, PathEntry] = {}
    for line in info["files"].decode("utf-8", "replace").splitlines():
        if not line.strip():
            continue
        path = clean_path(filename, line.strip())
        placeholder, mode = placeholders.get(path, (None, "text"))
        result[path] = PathEntry(path=path, prefix_placeholder=placeholder, file_mode=mode)
    return result


def _path_type(filename: str, value: object) -> PathType:
    try:
        return PathType(str(value))
    except ValueError:
        raise BadInputError(
            f"{filename}: info/paths.json has unknown path_type {quote(value)}"
        ) from None


def _clean(text: str) -> bool:
    """No longer than a path can be, and no control, surrogate or line-separator
    character (a file name or a placeholder in bytes holds none)."""
    if len(text) > _MAX_PATH:
        return False
    if text.isascii():  # the usual case, at C speed: ASCII's only such are controls
        return text.isprintable()
    return not any(unicodedata.category(ch) in _NOT_IN_PATHS for ch in text)


def clean_path(filename: str, path: str) -> str:
    """Normalise a package-relative path, refusing any that could escape the prefix."""
    if not _clean(path):
        raise BadInputError(
            f"{filename}: member path {quote(path)} holds control characters, bytes that "
            f"are not UTF-8, or over {_MAX_PATH} characters; {UNTRUSTED}"
        )
    text = path.replace("\\", "/")
    # Split by hand: pathlib interns every part, which grows with the number of files.
    parts = [p for p in text.split("/") if p not in (".", "")]
    if text.startswith("/") or ".." in parts or (text[1:2] == ":"):
        raise BadInputError(
            f"{filename}: member path {quote(path)} escapes the package, so it would write "
            f"outside the prefix; {UNTRUSTED}"
        )
    cleaned = "/".join(parts)
    if not cleaned:
        raise BadInputError(f"{filename}: an empty member path is in the package")
    return path if cleaned == path else cleaned  # one string kept, not two
