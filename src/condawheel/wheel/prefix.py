"""Prefix placeholders (design section 4): `{dist}.dist-info/conda/prefix.json` lists the
installed files that still hold the conda build prefix; they get the real one, as conda
does it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from condawheel.exceptions import BadInputError

PREFIX_MANIFEST = "conda/prefix.json"


@dataclass(frozen=True, slots=True, kw_only=True)
class PlaceholderFile:
    """One file to rewrite: its path in the wheel, and how."""

    path: str
    placeholder: str
    mode: Literal["text", "binary"]


class PrefixRecord(Protocol):
    """What the writer needs of one file holding the build prefix."""

    @property
    def path(self) -> str: ...
    @property
    def conda_path(self) -> str: ...
    @property
    def placeholder(self) -> str: ...
    @property
    def mode(self) -> str: ...


def write_manifest(records: Iterable[PrefixRecord]) -> bytes:
    """The `prefix.json` for ``records``: what `condawheel install` must rewrite, as conda would."""
    entries = [
        {
            "path": r.path,
            "conda_path": r.conda_path,
            "placeholder": r.placeholder,
            "mode": r.mode,
        }
        for r in records
    ]
    return (json.dumps({"version": 1, "files": entries}, indent=2, sort_keys=True) + "\n").encode()


def read_manifest(data: bytes, label: str) -> tuple[PlaceholderFile, ...]:
    """The entries of a `prefix.json`; ``label`` names the wheel in errors."""
    try:
        manifest: Any = json.loads(data)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise BadInputError(f"{label}: {PREFIX_MANIFEST} is not JSON ({exc!s:.120})") from None
    if not isinstance(manifest, dict) or manifest.get("version") != 1:
        raise BadInputError(
            f"{label}: {PREFIX_MANIFEST} is not version 1; upgrade condawheel to install it"
        )
    entries = manifest.get("files")
    if not isinstance(entries, list):
        raise BadInputError(f"{label}: {PREFIX_MANIFEST} has no 'files' list")
    found: list[PlaceholderFile] = []
    for entry in entries:
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("path"), str)
            and isinstance(entry.get("placeholder"), str)
            and entry.get("placeholder")
            and entry.get("mode") in ("text", "binary")
        ):
            raise BadInputError(f"{label}: {PREFIX_MANIFEST} has a malformed entry {entry!r:.120}")
        found.append(
            PlaceholderFile(
                path=entry["path"], placeholder=entry["placeholder"], mode=entry["mode"]
            )
        )
    return tuple(found)


class PaddingError(BadInputError):
    """The new prefix is longer than the placeholder in a binary file."""


def replace_text(data: bytes, placeholder: bytes, prefix: bytes) -> bytes:
    return data.replace(placeholder, prefix)


def replace_binary(data: bytes, placeholder: bytes, prefix: bytes) -> bytes:
    """conda's binary replacement: each NUL-terminated string holding the placeholder
    gets the prefix and is padded with NULs, so every offset in the file stays put."""
    if len(prefix) > len(placeholder):
        raise PaddingError(
            f"the prefix ({len(prefix)} bytes) is longer than the placeholder "
            f"({len(placeholder)} bytes) it replaces in a binary file"
        )

    def padded(match: re.Match[bytes]) -> bytes:
        text = match.group()
        count = text.count(placeholder)
        return text.replace(placeholder, prefix) + b"\0" * (
            (len(placeholder) - len(prefix)) * count
        )

    result = re.sub(re.escape(placeholder) + rb"([^\0]*?)\0", padded, data)
    if len(result) != len(data):  # cannot happen; a changed size would break the binary
        raise AssertionError("binary placeholder replacement changed the file size")
    return result


def replace_in_file(path: Path, entry: PlaceholderFile, prefix: str) -> bool:
    """Rewrite the installed file at ``path``; return whether it changed."""
    data = path.read_bytes()
    placeholder, new = entry.placeholder.encode(), prefix.encode()
    if entry.mode == "binary":
        try:
            result = replace_binary(data, placeholder, new)
        except PaddingError as exc:
            raise PaddingError(
                f"{path}: {exc}; install into an environment with a shorter path"
            ) from None
    else:
        result = replace_text(data, placeholder, new)
    if result == data:
        return False
    path.write_bytes(result)
    return True
