"""Library search paths a published binary may keep.

A wheel is installed on other machines than the one that built it, so its binaries must
not search the build machine's directories (a pyenv's `lib/`, a build prefix, conda's
placeholder prefix). As auditwheel does, absolute entries go; those that point inside
the environment (the prefix the binary was built against) become relative to the
binary's own folder, which is where it lands in the environment too. Entries relative
to the working directory go as well: they would load whatever the current folder holds.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from dataclasses import dataclass

#: The token that names a binary's own folder, per platform.
ORIGINS = {"linux": "$ORIGIN", "osx": "@loader_path"}
_RELATIVE = ("$ORIGIN", "${ORIGIN}", "@loader_path", "@executable_path")
#: Every Mac has these; an `@rpath` Swift runtime is found through /usr/lib/swift.
_MACOS_SYSTEM = ("/usr/lib/", "/System/Library/")


@dataclass(frozen=True, slots=True, kw_only=True)
class PortableSearchPath:
    """The entries to keep, in order, and what became of the others (for notes)."""

    entries: tuple[str, ...]
    #: ``(entry, replacement)``; replacement is None for an entry removed.
    changed: tuple[tuple[str, str | None], ...] = ()


def is_relative_to_binary(entry: str) -> bool:
    return any(entry == token or entry.startswith(f"{token}/") for token in _RELATIVE)


def portable_search_path(
    entries: Sequence[str], *, installed: str, prefixes: Sequence[str], platform: str
) -> PortableSearchPath:
    """``entries`` of the binary installed at ``installed`` (relative to the prefix),
    with each absolute entry inside one of ``prefixes`` (absolute paths that stand for
    the environment) made relative to the binary, and the rest of the absolute and
    working-directory-relative entries left out."""
    kept: list[str] = []
    changed: list[tuple[str, str | None]] = []
    for entry in entries:
        if is_relative_to_binary(entry) or (platform == "osx" and entry.startswith(_MACOS_SYSTEM)):
            kept.append(entry)
            continue
        replacement = _inside(entry, installed, prefixes, platform)
        changed.append((entry, replacement))
        if replacement is not None:
            kept.append(replacement)
    return PortableSearchPath(entries=tuple(dict.fromkeys(kept)), changed=tuple(changed))


def _inside(entry: str, installed: str, prefixes: Sequence[str], platform: str) -> str | None:
    """The entry relative to the binary, if it names a folder of the environment."""
    if not entry.startswith("/") or platform not in ORIGINS:
        return None
    folder = posixpath.normpath(entry)
    for prefix in prefixes:
        root = posixpath.normpath(prefix)
        if folder == root or folder.startswith(root.rstrip("/") + "/"):
            inner = posixpath.relpath(folder, root)
            relative = posixpath.relpath(inner, posixpath.dirname(installed) or ".")
            origin = ORIGINS[platform]
            return origin if relative == "." else f"{origin}/{relative}"
    return None
