"""Binaries held on disk until de-vendoring and search-path checks decide their fate.

A vendored library can come anywhere in the archive, after the extension that uses
it, and any binary's search path may name the build machine's folders, so binaries
cannot be written as they stream past: they are spooled to a scratch folder (never
memory), then removed, edited or written as they are, last and in name order.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from condawheel.binaries.patcher import BinaryEdits, apply_edits
from condawheel.stale import held_prefix
from condawheel.streams import Readable
from condawheel.wheel.writer import CHUNK, Sink


@dataclass(frozen=True, slots=True)
class _Held:
    path: Path
    executable: bool
    #: The held file this one copies (a link's copy), whose edits it shares.
    source: str = ""


class HeldBinaries:
    """A context manager owning the scratch folder."""

    def __init__(self) -> None:
        self._scratch: tempfile.TemporaryDirectory[str] | None = None
        self._held: dict[str, _Held] = {}

    def __enter__(self) -> HeldBinaries:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._scratch is not None:
            self._scratch.cleanup()

    def __contains__(self, arcname: object) -> bool:
        return arcname in self._held

    def hold(self, arcname: str, stream: Readable, *, executable: bool) -> tuple[Path, str, int]:
        """Spool ``stream``; return where it is, its sha256 and its size."""
        if self._scratch is None:
            self._scratch = tempfile.TemporaryDirectory(prefix=held_prefix())
        path = Path(self._scratch.name) / str(len(self._held))
        digest = hashlib.sha256()
        size = 0
        with path.open("wb") as out:
            while chunk := stream.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
        self._held[arcname] = _Held(path, executable)
        return path, digest.hexdigest(), size

    def alias(self, source: str, arcname: str) -> None:
        """A second wheel entry with the content of a held one (a link's copy)."""
        held = self._held[source]
        copy = held.path.with_name(f"{held.path.name}-{len(self._held)}")
        shutil.copyfile(held.path, copy)
        self._held[arcname] = _Held(copy, held.executable, held.source or source)

    def write(
        self,
        sink: Sink,
        *,
        remove: frozenset[str],
        edits: BinaryEdits,
        placeholders: Mapping[str, str] | None = None,
    ) -> frozenset[str]:
        """Edit what the plan edits, leave out what it removes, write the rest. Returns
        the files of ``placeholders`` (wheel path -> prefix placeholder) that do not hold
        their placeholder (any more: it may have been in the search path only)."""
        cleared: set[str] = set()
        for arcname in sorted(self._held):
            if arcname in remove:
                continue
            held = self._held[arcname]
            own = edits.for_file(arcname) or edits.for_file(held.source)
            if own:
                apply_edits(held.path, own)
            placeholder = (placeholders or {}).get(arcname)
            if placeholder and not _holds(held.path, placeholder.encode()):
                cleared.add(arcname)
            with held.path.open("rb") as stream:
                sink.write_stream(
                    arcname, stream, executable=held.executable, size_hint=held.path.stat().st_size
                )
        return frozenset(cleared)


def _holds(path: Path, text: bytes) -> bool:
    """Whether the file at ``path`` holds ``text``, read in chunks that overlap by it."""
    tail = b""
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            if text in tail + chunk:
                return True
            tail = (tail + chunk)[-len(text) :]
    return False
