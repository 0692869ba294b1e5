"""Binaries held on disk until de-vendoring and search-path checks decide their fate.

A vendored library can come anywhere in the archive, after the extension that uses
it, and any binary's search path may name the build machine's folders, so binaries
cannot be written as they stream past: they are spooled to a scratch folder (never
memory), then removed, edited or written as they are, last and in name order.
`repair` holds a wheel's binaries the same way; `conversion.relink` is the step both
then run on them.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from condawheel.binaries.patcher import BinaryEdits, apply_edits
from condawheel.stale import held_prefix
from condawheel.streams import Readable, spool
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
        self._count = 0

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
        path = self._place(arcname)
        digest, size = spool(stream, path, CHUNK)
        self._held[arcname] = _Held(path, executable)
        return path, digest, size

    def alias(self, source: str, arcname: str) -> None:
        """A second wheel entry with the content of a held one (a link's copy)."""
        held = self._held[source]
        copy = self._place(arcname)
        shutil.copyfile(held.path, copy)
        self._held[arcname] = _Held(copy, held.executable, held.source or source)

    def adopt(self, arcname: str, path: Path) -> None:
        """Hold a copy of the file at ``path`` as the wheel entry ``arcname`` (a library
        bundled from elsewhere)."""
        place = self._place(arcname)
        shutil.copyfile(path, place)
        self._held[arcname] = _Held(place, False)

    def path(self, arcname: str) -> Path:
        """Where the held file for ``arcname`` is."""
        return self._held[arcname].path

    def drop(self, arcnames: Iterable[str]) -> None:
        """Leave ``arcnames`` out of the wheel (de-vendored copies)."""
        for arcname in arcnames:
            self._held.pop(arcname, None)

    def apply(self, edits: BinaryEdits) -> list[str]:
        """Apply the queued edits to the held files (a link's copy shares the edits of
        the file it copies); return the entries edited, in name order."""
        edited: list[str] = []
        for arcname in sorted(self._held):
            held = self._held[arcname]
            own = edits.for_file(arcname) or edits.for_file(held.source)
            if own:
                apply_edits(held.path, own)
                edited.append(arcname)
        return edited

    def write(self, sink: Sink, *, placeholders: Mapping[str, str] | None = None) -> frozenset[str]:
        """Write the held files, in name order. Returns the files of ``placeholders``
        (wheel path -> prefix placeholder) that do not hold their placeholder (any
        more: it may have been in the search path only)."""
        cleared: set[str] = set()
        for arcname in sorted(self._held):
            held = self._held[arcname]
            placeholder = (placeholders or {}).get(arcname)
            if placeholder and not _holds(held.path, placeholder.encode()):
                cleared.add(arcname)
            with held.path.open("rb") as stream:
                sink.write_stream(
                    arcname, stream, executable=held.executable, size_hint=held.path.stat().st_size
                )
        return frozenset(cleared)

    def _place(self, arcname: str) -> Path:
        """A fresh scratch path that keeps the entry's file name: a re-signed Mach-O
        takes its file name as its identifier."""
        if self._scratch is None:
            self._scratch = tempfile.TemporaryDirectory(prefix=held_prefix())
        folder = Path(self._scratch.name) / str(self._count)
        self._count += 1
        folder.mkdir()
        return folder / arcname.rpartition("/")[2]


def _holds(path: Path, text: bytes) -> bool:
    """Whether the file at ``path`` holds ``text``, read in chunks that overlap by it."""
    tail = b""
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            if text in tail + chunk:
                return True
            tail = (tail + chunk)[-len(text) :]
    return False
