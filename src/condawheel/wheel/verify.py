"""What `condawheel install` reads from a wheel, checked as untrusted input before
anything is placed: WHEEL, METADATA, RECORD (every member listed, sha256 and size of
each verified, as pip does), entry point names, `conda/prefix.json` and
`conda/index.json`. Any fault raises BadInputError naming the wheel and the member."""

from __future__ import annotations

import configparser
import email.parser
import hashlib
import json
import re
from dataclasses import dataclass
from email.message import Message
from typing import Any

from installer.utils import parse_entrypoints
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from condawheel.exceptions import BadInputError
from condawheel.wheel.prefix import PREFIX_MANIFEST, PlaceholderFile, read_manifest
from condawheel.wheel.reader import WheelInput
from condawheel.wheel.record import RecordError, encode_digest, parse_rows, record_path

#: Bounds on the small text members read whole (METADATA carries the long description).
_MAX_TEXT = 1 << 20
_MAX_METADATA = 16 << 20
_MAX_RECORD = 64 << 20
#: Hashes strong enough to trust a RECORD with (pip refuses md5 and sha1 too).
_HASHES = frozenset({"sha256", "sha384", "sha512"})
_NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)
#: A console script's file name: no separators, no leading dot, no control characters.
_SCRIPT = re.compile(r"^[A-Za-z0-9_+\-][A-Za-z0-9_.+\-]{0,200}$")
CONDA_INDEX = "conda/index.json"


@dataclass(frozen=True, slots=True, kw_only=True)
class CondaIndex:
    """The conda package a wheel was converted from (its `conda/index.json`)."""

    name: str
    version: str
    build: str
    build_number: int
    subdir: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifiedWheel:
    """A wheel's install-time facts, all of them checked."""

    metadata: Message
    #: The name as METADATA spells it, and in canonical form.
    display_name: str
    name: str
    version: str
    purelib: bool
    #: The console and GUI scripts its entry points make (file names, no suffix).
    scripts: tuple[str, ...]
    placeholders: tuple[PlaceholderFile, ...]
    conda_index: CondaIndex | None
    #: Uncompressed size of every member.
    size: int


def read_verified(wheel: WheelInput, *, free_bytes: int | None = None) -> VerifiedWheel:
    """Check ``wheel`` whole: metadata, names, and every member against RECORD.

    ``free_bytes`` is the room left where the wheel goes: a wheel that would not fit
    is refused before its members are read."""
    label, dist_info = wheel.label, wheel.dist_info
    size = sum(wheel.size(m) for m in wheel.names)
    if free_bytes is not None and size > free_bytes:
        raise BadInputError(
            f"{label}: unpacks to {size} bytes, the file system of the environment has "
            f"{free_bytes} free; make room first"
        )
    wheel_file = _headers(wheel, f"{dist_info}/WHEEL", _MAX_TEXT)
    purelib = _wheel_file(label, dist_info, wheel_file)
    metadata = _headers(wheel, f"{dist_info}/METADATA", _MAX_METADATA)
    display, version = _metadata(wheel, metadata)
    verify_record(wheel)
    entry_points = _optional_text(wheel, f"{dist_info}/entry_points.txt")
    manifest = f"{dist_info}/{PREFIX_MANIFEST}"
    placeholders: tuple[PlaceholderFile, ...] = ()
    if manifest in wheel.names:
        placeholders = read_manifest(_bounded(wheel, manifest, _MAX_TEXT), label)
    return VerifiedWheel(
        metadata=metadata,
        display_name=display,
        name=canonicalize_name(display),
        version=version,
        purelib=purelib,
        scripts=_scripts(label, dist_info, entry_points),
        placeholders=placeholders,
        conda_index=_conda_index(wheel),
        size=size,
    )


def _short(text: str) -> str:
    """A name from the wheel, quoted in an error: escaped, and cut when long."""
    shown = text.encode("ascii", "backslashreplace").decode()
    return shown if len(shown) <= 160 else f"{shown[:157]}..."


def _bounded(wheel: WheelInput, member: str, limit: int) -> bytes:
    if wheel.size(member) > limit:
        raise BadInputError(
            f"{wheel.label}: {member} is {wheel.size(member)} bytes, more than the "
            f"{limit} allowed; do not install this wheel"
        )
    return wheel.read(member)


def _text(wheel: WheelInput, member: str, limit: int) -> str:
    try:
        return _bounded(wheel, member, limit).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadInputError(
            f"{wheel.label}: {member} is not UTF-8 ({exc.reason} at byte {exc.start}); "
            "build the wheel again"
        ) from None


def _optional_text(wheel: WheelInput, member: str) -> str | None:
    return _text(wheel, member, _MAX_TEXT) if member in wheel.names else None


def _headers(wheel: WheelInput, member: str, limit: int) -> Message:
    if member not in wheel.names:
        raise BadInputError(f"{wheel.label}: {member} is missing; build the wheel again")
    return email.parser.Parser().parsestr(_text(wheel, member, limit))


def _wheel_file(label: str, dist_info: str, wheel_file: Message) -> bool:
    version = str(wheel_file.get("Wheel-Version") or "").strip()
    if version.split(".")[0] != "1":
        raise BadInputError(
            f"{label}: {dist_info}/WHEEL has Wheel-Version {version[:40]!r}; only 1.x is understood"
        )
    purelib = str(wheel_file.get("Root-Is-Purelib") or "").strip().lower()
    if purelib not in ("true", "false"):
        raise BadInputError(
            f"{label}: {dist_info}/WHEEL has no Root-Is-Purelib: true or false; "
            "build the wheel again"
        )
    return purelib == "true"


def _metadata(wheel: WheelInput, metadata: Message) -> tuple[str, str]:
    label, member = wheel.label, f"{wheel.dist_info}/METADATA"
    name, text = str(metadata.get("Name") or "").strip(), str(metadata.get("Version") or "")
    if not _NAME.match(name):
        raise BadInputError(f"{label}: {member} has no valid Name ({name[:80]!r})")
    try:
        version = Version(text.strip())
    except (InvalidVersion, ValueError):  # ValueError: a number of over 4,300 digits
        raise BadInputError(
            f"{label}: {member} has an invalid Version {text[:80]!r} (PEP 440)"
        ) from None
    if canonicalize_name(name) != canonicalize_name(wheel.name.name):
        raise BadInputError(
            f"{label}: the file name says {wheel.name.name}, METADATA says {name[:80]}"
        )
    if version != Version(wheel.name.version):
        raise BadInputError(
            f"{label}: the file name says version {wheel.name.version}, METADATA says {version}"
        )
    return name, str(version)


def verify_record(wheel: WheelInput) -> None:
    """Every member listed in RECORD with a strong hash and its size, and matching
    them; every row naming a member of the wheel."""
    label, record = wheel.label, record_path(wheel.dist_info)
    if record not in wheel.names:
        raise BadInputError(f"{label}: {record} is missing; build the wheel again")
    text = _text(wheel, record, _MAX_RECORD)
    listed: dict[str, tuple[str, str, int]] = {}
    try:
        rows = parse_rows(text)
    except RecordError as exc:
        raise BadInputError(f"{label}: {record} is not valid CSV ({str(exc)[:80]})") from None
    for row in rows:
        if not row:
            continue
        if len(row) != 3 or row[0] in listed:
            raise BadInputError(f"{label}: {record} has a malformed or repeated row {row!r:.120}")
        path, digest, size = row
        if path == record or path.startswith(f"{record}."):  # RECORD, RECORD.jws, .p7s
            continue
        listed[path] = _record_entry(label, record, path, digest, size)
    for member in wheel.names:
        if member == record or member.startswith(f"{record}."):
            continue
        entry = listed.pop(member, None)
        if entry is None:
            raise BadInputError(
                f"{label}: {_short(member)} is not in {record}; build the wheel again"
            )
        _check_member(wheel, member, entry)
    if listed:
        missing = sorted(listed)[0]
        raise BadInputError(f"{label}: {record} lists {_short(missing)}, which the wheel lacks")


def _record_entry(
    label: str, record: str, path: str, digest: str, size: str
) -> tuple[str, str, int]:
    algorithm, _, value = digest.partition("=")
    if algorithm not in _HASHES or not value or not size.isdigit():
        raise BadInputError(
            f"{label}: {record} gives {_short(path)} no sha256 hash and size "
            f"({digest!r:.80}, {size!r:.20})"
        )
    return algorithm, value, int(size)


def _check_member(wheel: WheelInput, member: str, entry: tuple[str, str, int]) -> None:
    algorithm, expected, size = entry
    if wheel.size(member) != size:
        raise BadInputError(
            f"{wheel.label}: {_short(member)} is {wheel.size(member)} bytes, RECORD says {size}; "
            "do not install this wheel"
        )
    digest = hashlib.new(algorithm)
    for chunk in wheel.open(member):
        digest.update(chunk)
    actual = encode_digest(digest.digest())
    if actual != expected.rstrip("="):
        raise BadInputError(
            f"{wheel.label}: {_short(member)} does not match its {algorithm} in RECORD; "
            "do not install this wheel"
        )


def _scripts(label: str, dist_info: str, entry_points: str | None) -> tuple[str, ...]:
    if not entry_points:
        return ()
    try:
        # a generator: the parse errors come while it is read; installer checks each
        # entry with assert
        found = list(parse_entrypoints(entry_points))
    except (configparser.Error, ValueError, AssertionError, AttributeError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise BadInputError(
            f"{label}: {dist_info}/entry_points.txt cannot be read ({first:.120})"
        ) from None
    names = []
    for name, _, _, _ in found:
        if not _SCRIPT.match(name) or ".." in name:
            raise BadInputError(
                f"{label}: {dist_info}/entry_points.txt names a script {name!r:.80}, which is "
                "not a plain file name; do not install this wheel"
            )
        names.append(name)
    return tuple(names)


def _conda_index(wheel: WheelInput) -> CondaIndex | None:
    """The conda package the wheel stands for, or None (absent or unreadable: it only
    ever helps another wheel's Requires-External, so a bad one just does not)."""
    member = f"{wheel.dist_info}/{CONDA_INDEX}"
    if member not in wheel.names or wheel.size(member) > _MAX_TEXT:
        return None
    return parse_conda_index(wheel.read(member))


def parse_conda_index(data: bytes) -> CondaIndex | None:
    try:
        index: Any = json.loads(data)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(index, dict):
        return None
    fields = [index.get(k) for k in ("name", "version", "build")]
    number = index.get("build_number", 0)
    subdir = index.get("subdir")
    if not all(isinstance(f, str) and f and len(f) < 256 for f in fields):
        return None
    if not isinstance(number, int) or not 0 <= number < 1 << 31:
        return None
    return CondaIndex(
        name=str(fields[0]),
        version=str(fields[1]),
        build=str(fields[2]),
        build_number=number,
        subdir=subdir if isinstance(subdir, str) else None,
    )
