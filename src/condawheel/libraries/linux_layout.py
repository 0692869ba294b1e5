"""The Linux bundle layout: auditwheel's ``{dist}.libs/``, hash-suffixed SONAMEs, and a
RUNPATH relative to ``$ORIGIN``."""

from __future__ import annotations

import posixpath
from collections.abc import Mapping

from condawheel.binaries.patcher import BinaryEdits, EditKind


class LinuxLayout:
    """Copies in ``{dist}.libs/``, named as auditwheel names them, so that a wheel
    repaired by either tool looks the same and neither copy clashes with the system's."""

    @property
    def platform(self) -> str:
        return "linux"

    def folder(self, dist: str) -> str:
        return f"{dist}.libs"

    def copy_name(self, name: str, digest: str) -> str:
        # auditwheel splits at the first dot: libz.so.1 -> libz-1a2b3c4d.so.1.
        stem, dot, rest = name.partition(".")
        return f"{stem}-{digest[:8]}{dot}{rest}"

    def wire(self, edits: BinaryEdits, binary: str, needs: Mapping[str, str]) -> None:
        """Rename each needed entry to its copy's SONAME and append the copies' folder
        to the search path queued for ``binary`` (the engine queues what it keeps)."""
        folders = []
        for linked, copy in sorted(needs.items()):
            edits.replace_needed(binary, linked, posixpath.basename(copy))
            relative = posixpath.relpath(posixpath.dirname(copy), posixpath.dirname(binary) or ".")
            folders.append("$ORIGIN" if relative == "." else f"$ORIGIN/{relative}")
        queued = [e.paths for e in edits.for_file(binary) if e.kind is EditKind.SET_SEARCH_PATH]
        existing = queued[0] if queued else ()
        edits.set_search_path(binary, tuple(dict.fromkeys((*existing, *folders))))

    def name_copy(self, edits: BinaryEdits, copy: str) -> None:
        edits.set_soname(copy, posixpath.basename(copy))

    def rewrite(self, member: str, data: bytes, folder: str) -> bytes | None:
        return None
