"""Writing a wheel: deterministic zip entries, RECORD, and an atomic rename at the end."""

from __future__ import annotations

import hashlib
import io
import itertools
import os
import tempfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Protocol

from zlib_ng import zlib_ng

from condawheel.exceptions import BadInputError
from condawheel.stale import PART_SUFFIX, part_prefix
from condawheel.streams import Readable
from condawheel.wheel.deflate import Deflater, blocks, deflate_block, ready
from condawheel.wheel.hashing import Digest, Hasher
from condawheel.wheel.record import format_rows, hash_field, record_path
from condawheel.wheel.zip_entries import EntryAppender, EntryQueue, needs_zip64
from condawheel.wheel.zip_index import EntryIndex, new_zip_info
from condawheel.wheel.zip_order import reorder, write_central_directory

CHUNK = 1024 * 1024
#: Blocks that may wait for compression or writing, per thread: enough to keep every
#: thread busy, few enough that memory stays a few MiB.
_BLOCKS_PER_THREAD = 4
_EPOCH_1980 = 315532800
#: 2107-12-31 23:59:58, the last time a zip entry can hold.
_LAST_ZIP_SECOND = 4354819198

#: RECORD rows formatted at a time.
_ROWS_PER_READ = 1024
#: A first chunk at least this large decides whether deflate is worth it.
_SAMPLE_BYTES = 256 * 1024
#: Deflate only what it shrinks by at least this much.
_WORTH_IT = 0.95


def compression_for(first_chunk: bytes) -> int:
    """ZIP_DEFLATED, or ZIP_STORED for data deflate cannot shrink (already compressed
    or random), judged on the first chunk: deflating it would cost most of the time
    of a conversion and save nothing. A pure function of the bytes, so output stays
    deterministic."""
    if len(first_chunk) < _SAMPLE_BYTES:
        return zipfile.ZIP_DEFLATED
    sample = first_chunk[:_SAMPLE_BYTES]
    shrunk = len(zlib_ng.compress(sample, 1))
    return zipfile.ZIP_DEFLATED if shrunk < _WORTH_IT * len(sample) else zipfile.ZIP_STORED


def _read_sample(stream: Readable) -> bytes:
    """A first chunk large enough for compression_for to judge, however the stream
    hands out its bytes."""
    chunk = stream.read(CHUNK)
    while chunk and len(chunk) < _SAMPLE_BYTES:
        more = stream.read(CHUNK)
        if not more:
            break
        chunk += more
    return chunk


@dataclass(frozen=True, slots=True)
class RecordEntry:
    path: str
    sha256: str
    size: int

    @property
    def hash_field(self) -> str:
        return hash_field(bytes.fromhex(self.sha256))


class Sink(Protocol):
    """Where payload files go: a `WheelWriter`, or a `DiscardingWriter` for inspect."""

    def has(self, arcname: str) -> bool: ...
    def write_stream(
        self,
        arcname: str,
        stream: Readable,
        *,
        executable: bool = ...,
        size_hint: int = ...,
    ) -> RecordEntry: ...
    def write_bytes(self, arcname: str, data: bytes, *, executable: bool = ...) -> RecordEntry: ...
    def copy(self, source: str, arcname: str, *, executable: bool = ...) -> RecordEntry: ...


def zip_timestamp(package_timestamp_ms: int | None) -> tuple[int, int, int, int, int, int]:
    """SOURCE_DATE_EPOCH if set, else the package's own timestamp, else 1980-01-01."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        seconds = int(epoch)
    elif package_timestamp_ms:
        seconds = (
            package_timestamp_ms // 1000 if package_timestamp_ms > 10**11 else package_timestamp_ms
        )
    else:
        seconds = _EPOCH_1980
    return time.gmtime(min(max(seconds, _EPOCH_1980), _LAST_ZIP_SECOND))[:6]


class _RowReader:
    """RECORD's text, formatted as it is read: memory stays flat in the number of rows."""

    def __init__(self, rows: Iterator[tuple[str, str, object]]) -> None:
        self._rows = rows
        self._buffer = b""

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            batch = list(itertools.islice(self._rows, _ROWS_PER_READ))
            if not batch:
                break
            self._buffer += format_rows(batch).encode()
        size = len(self._buffer) if size < 0 else size
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data


class WheelWriter:
    """Streams entries into a temporary file next to the destination, then renames.

    Entries get a fixed timestamp, normalised permissions and fixed compression, so
    the same input gives the same bytes. Used as a context manager: leaving it by an
    exception removes the temporary file.
    """

    def __init__(
        self,
        out_dir: Path,
        *,
        date_time: tuple[int, int, int, int, int, int],
        threads: int = 1,
    ) -> None:
        """``threads`` deflate members at once; the bytes are the same for any number."""
        self.out_dir = out_dir
        self._date_time = date_time
        #: Each entry written, with its digest: the central directory and RECORD.
        self._index = EntryIndex()
        fd, name = tempfile.mkstemp(prefix=part_prefix(), suffix=PART_SUFFIX, dir=out_dir)
        self._temp = Path(name)
        self._file = os.fdopen(fd, "w+b")
        self._appender = EntryAppender(self._file, self._index)
        self._deflater = Deflater(threads)
        self._hasher = Hasher(threaded=self._deflater.threads > 1)
        self._queue = EntryQueue(self._appender, limit=_BLOCKS_PER_THREAD * self._deflater.threads)

    def __enter__(self) -> WheelWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            self.abort()

    def has(self, arcname: str) -> bool:
        self._queue.flush()  # entries are indexed once written
        return self._index.find(arcname) is not None

    def write_stream(
        self,
        arcname: str,
        stream: Readable,
        *,
        executable: bool = False,
        size_hint: int = 0,
        in_line: bool = False,
    ) -> RecordEntry:
        """Hash the stream here; hand its blocks over to be deflated (on the threads)
        and written in order. The entry is written by the time `finish` returns.

        ``in_line``: deflate and hash on this thread, one block at a time (the same
        bytes), for what is written when memory is at its highest: RECORD."""
        sample = _read_sample(stream)
        info = new_zip_info(
            arcname,
            self._date_time,
            executable=executable,
            size=size_hint,
            compress_type=compression_for(sample),
        )
        self._queue.begin(info, zip64=needs_zip64(size_hint))
        deflated = info.compress_type == zipfile.ZIP_DEFLATED
        digest = Digest(None) if in_line else self._hasher.start()
        history = b""
        for block, last in blocks(sample, stream):
            digest.update(block)
            if deflated and in_line:
                self._queue.data(ready(deflate_block(block, history, last=last)))
                history = block
            elif deflated:
                self._queue.data(self._deflater.submit(block, history, last=last))
                history = block
            else:
                self._queue.data(ready(block))
        raw, crc = digest.result()
        size = digest.size
        self._queue.end(crc=crc, size=size, digest=raw)
        return RecordEntry(arcname, raw.hex(), size)

    def write_bytes(self, arcname: str, data: bytes, *, executable: bool = False) -> RecordEntry:
        return self.write_stream(
            arcname, io.BytesIO(data), executable=executable, size_hint=len(data)
        )

    def copy(self, source: str, arcname: str, *, executable: bool = False) -> RecordEntry:
        """Write a second entry with the content of one already written: its compressed
        bytes, as they are (a link's copy costs no compression)."""
        self._queue.flush()  # the source's bytes are in the file, and indexed
        written = self._index.find(source)
        if written is None:
            raise KeyError(f"{source} is not in the wheel")
        info = new_zip_info(
            arcname,
            self._date_time,
            executable=executable,
            size=written.file_size,
            compress_type=written.compress_type,
        )
        appender = self._appender
        appender.begin(info, zip64=needs_zip64(written.file_size))
        for chunk in appender.compressed(written):
            appender.write(chunk)
        appender.end(crc=written.crc, size=written.file_size, digest=written.digest)
        return RecordEntry(arcname, written.digest.hex(), written.file_size)

    def entries(self) -> Iterator[str]:
        """The names written so far, in name order."""
        self._queue.flush()
        return self._index.names()

    def finish(self, dist_info: str, destination: Path, *, overwrite: bool, label: str) -> Path:
        """Write RECORD, close the archive and move it to ``destination``.

        ``label`` names the input in the error raised when the wheel exists already.
        Without ``overwrite`` the move is a hard link, which fails if the name is
        taken: of several runs writing one wheel at once, exactly one succeeds.
        """
        if destination.exists() and not overwrite:
            self.abort()
            raise _exists(label, destination)
        record = record_path(dist_info)
        self._queue.flush()  # every entry so far is in the index, with its size
        rows = itertools.chain(
            (
                (entry.name, hash_field(entry.digest), entry.file_size)
                for entry in self._index.in_order(dist_info)
            ),
            [(record, "", "")],
        )
        self.write_stream(record, _RowReader(rows), in_line=True)
        self._queue.flush()
        self._deflater.close()
        self._hasher.close()
        self._put_in_order(dist_info)
        self._temp.chmod(0o644)
        if overwrite:
            self._temp.replace(destination)
            return destination
        try:
            os.link(self._temp, destination)
        except FileExistsError:
            self.abort()
            raise _exists(label, destination) from None
        except OSError:  # a file system without hard links: check, then rename
            if destination.exists():
                self.abort()
                raise _exists(label, destination) from None
            self._temp.replace(destination)
        else:
            self._temp.unlink()
        return destination

    def _put_in_order(self, dist_info: str) -> None:
        """End the wheel with its central directory, its entries in the order
        `EntryIndex.in_order` gives: as written if they are, else copied into it."""
        index, date_time = self._index, self._date_time
        offsets = (entry.header_offset for entry in index.in_order(dist_info))
        if all(a < b for a, b in itertools.pairwise(offsets)):
            self._file.seek(self._appender.end_offset)
            write_central_directory(
                self._file,
                lambda: (entry.zip_info(date_time) for entry in index.in_order(dist_info)),
                len(index),
            )
            self._file.close()
            return
        fd, name = tempfile.mkstemp(prefix=part_prefix(), suffix=PART_SUFFIX, dir=self.out_dir)
        ordered = Path(name)
        try:
            with os.fdopen(fd, "w+b") as target:
                moved = reorder(self._file, target, index.in_order(dist_info))
                write_central_directory(
                    target,
                    lambda: (
                        entry.zip_info(date_time, header_offset=offset)
                        for entry, offset in zip(index.in_order(dist_info), moved, strict=True)
                    ),
                    len(index),
                )
        except BaseException:
            ordered.unlink(missing_ok=True)
            raise
        self._file.close()
        self._temp.unlink()
        self._temp = ordered

    def abort(self) -> None:
        self._deflater.close()
        self._hasher.close()
        self._file.close()
        self._temp.unlink(missing_ok=True)


def _exists(label: str, destination: Path) -> BadInputError:
    return BadInputError(
        f"{label}: {destination.name} already exists in {destination.parent}: "
        "pass --overwrite to replace it"
    )


def check_output_dir(out_dir: Path) -> None:
    """One clear error when the output folder given is a file."""
    if out_dir.exists() and not out_dir.is_dir():
        raise BadInputError(
            f"output folder {out_dir} is a file, not a folder: name a folder with -w "
            "(or move the file away)"
        )


def ensure_output_dir(out_dir: Path) -> None:
    """Create the output folder, with one clear error when a file is in the way."""
    check_output_dir(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise BadInputError(
            f"cannot create output folder {out_dir}: a file is in the way; name another "
            "folder with -w"
        ) from None
    except OSError as exc:
        raise BadInputError(f"cannot create output folder {out_dir}: {exc.strerror}") from None


class DiscardingWriter:
    """The writer interface, keeping nothing: what `inspect` runs convert against."""

    def __init__(self) -> None:
        self._names: dict[str, RecordEntry] = {}

    def has(self, arcname: str) -> bool:
        return arcname in self._names

    def write_stream(
        self,
        arcname: str,
        stream: Readable,
        *,
        executable: bool = False,
        size_hint: int = 0,
    ) -> RecordEntry:
        digest = hashlib.sha256()
        size = 0
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
        self._names[arcname] = RecordEntry(arcname, digest.hexdigest(), size)
        return self._names[arcname]

    def write_bytes(self, arcname: str, data: bytes, *, executable: bool = False) -> RecordEntry:
        return self.write_stream(arcname, io.BytesIO(data), executable=executable)

    def copy(self, source: str, arcname: str, *, executable: bool = False) -> RecordEntry:
        source_entry = self._names[source]
        self._names[arcname] = RecordEntry(arcname, source_entry.sha256, source_entry.size)
        return self._names[arcname]

    def entries(self) -> Iterator[str]:
        """The names written so far, in name order (as `WheelWriter.entries`)."""
        return iter(sorted(self._names))
