"""The wheel writer: deterministic entries, RECORD, and an atomic, refusable rename."""

from __future__ import annotations

import hashlib
import io
import random
import stat
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import pytest

from condawheel.exceptions import BadInputError
from condawheel.wheel.deflate import deflate
from condawheel.wheel.writer import (
    CHUNK,
    DiscardingWriter,
    RecordEntry,
    WheelWriter,
    compression_for,
    zip_timestamp,
)
from wheelmaker import record_hash

DATE = (2023, 11, 14, 22, 13, 20)
DIST_INFO = "demo-1.0.dist-info"
WHEEL_NAME = "demo-1.0-py3-none-any.whl"
BIG = random.Random(7).randbytes(CHUNK * 2 + 123)


def write_demo(writer: WheelWriter | DiscardingWriter) -> list[RecordEntry]:
    return [
        writer.write_bytes("demo/__init__.py", b"VALUE = 1\n"),
        writer.write_bytes("demo-1.0.data/scripts/demo", b"#!python\nprint(1)\n", executable=True),
        writer.write_stream("demo/big.bin", io.BytesIO(BIG), size_hint=len(BIG)),
        writer.copy("demo/__init__.py", "demo/alias.py"),
        writer.write_bytes(f"{DIST_INFO}/METADATA", b"Metadata-Version: 2.4\nName: demo\n"),
    ]


def build_wheel(out_dir: Path, *, date_time: tuple[int, int, int, int, int, int] = DATE) -> Path:
    with WheelWriter(out_dir, date_time=date_time) as writer:
        write_demo(writer)
        return writer.finish(DIST_INFO, out_dir / WHEEL_NAME, overwrite=False, label="demo.conda")


def test_entries_are_deterministic_zip_members(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as archive:
        infos = archive.infolist()
        # In name order whatever the order of writing, the dist-info last.
        assert [i.filename for i in infos] == [
            "demo-1.0.data/scripts/demo",
            "demo/__init__.py",
            "demo/alias.py",
            "demo/big.bin",
            f"{DIST_INFO}/METADATA",
            f"{DIST_INFO}/RECORD",
        ]
        assert {i.date_time for i in infos} == {DATE}
        # Deflated, except what deflate cannot shrink (BIG is random).
        assert {i.filename for i in infos if i.compress_type == zipfile.ZIP_STORED} == {
            "demo/big.bin"
        }
        assert {i.compress_type for i in infos} == {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED}
        assert {i.create_system for i in infos} == {3}
        modes = {i.filename: i.external_attr >> 16 for i in infos}
        assert modes == {
            "demo/__init__.py": stat.S_IFREG | 0o644,
            "demo-1.0.data/scripts/demo": stat.S_IFREG | 0o755,
            "demo/big.bin": stat.S_IFREG | 0o644,
            "demo/alias.py": stat.S_IFREG | 0o644,
            f"{DIST_INFO}/METADATA": stat.S_IFREG | 0o644,
            f"{DIST_INFO}/RECORD": stat.S_IFREG | 0o644,
        }
        assert archive.read("demo/big.bin") == BIG
        assert archive.testzip() is None


def test_deflated_in_blocks_as_deflate_does(tmp_path: Path) -> None:
    text = b"".join(b"line %d of a text file\n" % i for i in range(50_000))
    out = tmp_path / "out"
    with WheelWriter(out, date_time=DATE) as writer:
        writer.write_bytes("demo/text.txt", text)
        wheel = writer.finish(DIST_INFO, out / WHEEL_NAME, overwrite=False, label="x")
    with zipfile.ZipFile(wheel) as archive:
        info = archive.getinfo("demo/text.txt")
        assert info.compress_type == zipfile.ZIP_DEFLATED
        assert info.compress_size == len(deflate(text))
        assert archive.read("demo/text.txt") == text


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", zipfile.ZIP_DEFLATED),
        (random.Random(2).randbytes(1000), zipfile.ZIP_DEFLATED),  # too small to judge
        (random.Random(2).randbytes(CHUNK), zipfile.ZIP_STORED),
        (b"abc" * (CHUNK // 3), zipfile.ZIP_DEFLATED),
        (zlib.compress(random.Random(2).randbytes(CHUNK)), zipfile.ZIP_STORED),
    ],
)
def test_compression_for(data: bytes, expected: int) -> None:
    assert compression_for(data) == expected


class ShortReads:
    """A stream whose first read returns a short head, as a sniffing reader does."""

    def __init__(self, data: bytes, head: int = 64) -> None:
        self._data = data
        self._head = head
        self._offset = 0

    def read(self, size: int = -1) -> bytes:
        if self._offset == 0:
            size = self._head
        elif size < 0:
            size = len(self._data)
        chunk = self._data[self._offset : self._offset + size]
        self._offset += len(chunk)
        return chunk


def test_incompressible_stream_is_stored_whatever_its_first_read(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with WheelWriter(out, date_time=DATE) as writer:
        record = writer.write_stream("demo/big.bin", ShortReads(BIG), size_hint=len(BIG))
        wheel = writer.finish(DIST_INFO, out / WHEEL_NAME, overwrite=False, label="x")
    assert record == RecordEntry("demo/big.bin", hashlib.sha256(BIG).hexdigest(), len(BIG))
    with zipfile.ZipFile(wheel) as archive:
        assert archive.read("demo/big.bin") == BIG
        assert archive.getinfo("demo/big.bin").compress_type == zipfile.ZIP_STORED


def test_same_input_same_bytes(tmp_path: Path) -> None:
    first = build_wheel(tmp_path / "a").read_bytes()
    second = build_wheel(tmp_path / "b").read_bytes()
    assert first == second


@pytest.fixture(autouse=True)
def _out_dirs(tmp_path: Path) -> None:
    for name in ("a", "b", "out"):
        (tmp_path / name).mkdir()


def test_finish_needs_little_memory_per_entry(tmp_path: Path) -> None:
    """RECORD is formatted as it is written, and the entries are put in order from the
    index the writer has: finishing a wheel of many files holds little more memory."""
    count = 20_000
    with WheelWriter(tmp_path, date_time=DATE) as writer:
        for i in reversed(range(count)):  # the reverse of the order finish puts them in
            writer.write_bytes(f"demo/f{i:05d}.txt", b"x")
        tracemalloc.start()
        try:
            before, _ = tracemalloc.get_traced_memory()
            wheel = writer.finish(DIST_INFO, tmp_path / WHEEL_NAME, overwrite=False, label="x")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    # A few MiB for RECORD's blocks whatever the count; all rows at once took 21 MB here.
    assert peak - before < 8_000_000, f"{peak - before} bytes for {count} entries"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        assert names[0] == "demo/f00000.txt" and names[-1] == f"{DIST_INFO}/RECORD"
        record = archive.read(f"{DIST_INFO}/RECORD").decode().splitlines()
    assert len(record) == count + 1 and record[0].startswith("demo/f00000.txt,sha256=")


def test_record(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path / "out")
    with zipfile.ZipFile(wheel) as archive:
        record = archive.read(f"{DIST_INFO}/RECORD").decode()
    init = b"VALUE = 1\n"
    script = b"#!python\nprint(1)\n"
    metadata = b"Metadata-Version: 2.4\nName: demo\n"
    assert record == (
        f"demo-1.0.data/scripts/demo,{record_hash(script)},{len(script)}\n"
        f"demo/__init__.py,{record_hash(init)},{len(init)}\n"
        f"demo/alias.py,{record_hash(init)},{len(init)}\n"
        f"demo/big.bin,{record_hash(BIG)},{len(BIG)}\n"
        f"{DIST_INFO}/METADATA,{record_hash(metadata)},{len(metadata)}\n"
        f"{DIST_INFO}/RECORD,,\n"
    )


def test_write_returns_the_record_entry(tmp_path: Path) -> None:
    with WheelWriter(tmp_path / "out", date_time=DATE) as writer:
        entries = write_demo(writer)
        assert list(writer.entries()) == sorted(e.path for e in entries)
        assert writer.has("demo/big.bin") and not writer.has("demo/missing.py")
        writer.abort()
    assert entries[2] == RecordEntry("demo/big.bin", hashlib.sha256(BIG).hexdigest(), len(BIG))
    assert entries[2].hash_field == record_hash(BIG)
    assert entries[3] == RecordEntry(
        "demo/alias.py", hashlib.sha256(b"VALUE = 1\n").hexdigest(), 10
    )


def test_copy_duplicates_content_with_its_own_mode(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with WheelWriter(out, date_time=DATE) as writer:
        writer.write_stream("lib/big.so", io.BytesIO(BIG), size_hint=len(BIG))
        writer.copy("lib/big.so", "lib/big.so.1", executable=True)
        wheel = writer.finish(DIST_INFO, out / WHEEL_NAME, overwrite=False, label="x")
    with zipfile.ZipFile(wheel) as archive:
        assert archive.read("lib/big.so.1") == BIG
        assert archive.getinfo("lib/big.so.1").external_attr >> 16 == stat.S_IFREG | 0o755


def test_finish_renames_the_temporary_file(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with WheelWriter(out, date_time=DATE) as writer:
        write_demo(writer)
        (temp,) = out.iterdir()
        assert temp.name.startswith(".condawheel-") and temp.name.endswith(".whl.part")
        wheel = writer.finish(DIST_INFO, out / WHEEL_NAME, overwrite=False, label="x")
    assert wheel == out / WHEEL_NAME
    assert list(out.iterdir()) == [wheel]
    assert stat.S_IMODE(wheel.stat().st_mode) == 0o644


def test_finish_refuses_an_existing_wheel(tmp_path: Path) -> None:
    out = tmp_path / "out"
    destination = out / WHEEL_NAME
    destination.write_bytes(b"the wheel from yesterday")
    with pytest.raises(BadInputError) as caught, WheelWriter(out, date_time=DATE) as writer:
        write_demo(writer)
        writer.finish(DIST_INFO, destination, overwrite=False, label="demo-1.0-0.conda")
    assert str(caught.value) == (
        f"demo-1.0-0.conda: {WHEEL_NAME} already exists in {out}: pass --overwrite to replace it"
    )
    assert list(out.iterdir()) == [destination]
    assert destination.read_bytes() == b"the wheel from yesterday"


def test_finish_overwrites_when_asked(tmp_path: Path) -> None:
    out = tmp_path / "out"
    destination = out / WHEEL_NAME
    destination.write_bytes(b"the wheel from yesterday")
    with WheelWriter(out, date_time=DATE) as writer:
        write_demo(writer)
        writer.finish(DIST_INFO, destination, overwrite=True, label="x")
    assert list(out.iterdir()) == [destination]
    assert destination.read_bytes() == build_wheel(tmp_path / "a").read_bytes()


class Boom(Exception):
    pass


def test_an_exception_leaves_nothing_behind(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(Boom), WheelWriter(out, date_time=DATE) as writer:
        write_demo(writer)
        raise Boom
    assert list(out.iterdir()) == []


def test_an_exception_while_streaming_leaves_nothing_behind(tmp_path: Path) -> None:
    class Broken:
        def __init__(self) -> None:
            self.calls = 0

        def read(self, size: int = -1) -> bytes:
            self.calls += 1
            if self.calls > 2:
                raise Boom
            return b"x" * 1000

    out = tmp_path / "out"
    with pytest.raises(Boom), WheelWriter(out, date_time=DATE) as writer:
        writer.write_stream("demo/broken.bin", Broken())
    assert list(out.iterdir()) == []


def test_zip_timestamp_without_anything_is_1980() -> None:
    assert zip_timestamp(None) == (1980, 1, 1, 0, 0, 0)
    assert zip_timestamp(0) == (1980, 1, 1, 0, 0, 0)


def test_zip_timestamp_from_the_package() -> None:
    assert zip_timestamp(1_700_000_000_000) == (2023, 11, 14, 22, 13, 20)  # conda: ms
    assert zip_timestamp(1_700_000_000_999) == (2023, 11, 14, 22, 13, 20)
    assert zip_timestamp(1_700_000_000) == (2023, 11, 14, 22, 13, 20)  # old packages: s


def test_zip_timestamp_clamps_to_1980() -> None:
    assert zip_timestamp(100_000_000_001) == (1980, 1, 1, 0, 0, 0)  # 1973, in ms
    assert zip_timestamp(86_400) == (1980, 1, 1, 0, 0, 0)  # 1970-01-02, in s


def test_source_date_epoch_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1600000000")
    assert zip_timestamp(1_700_000_000_000) == (2020, 9, 13, 12, 26, 40)
    assert zip_timestamp(None) == (2020, 9, 13, 12, 26, 40)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", " 1600000000\n")
    assert zip_timestamp(None) == (2020, 9, 13, 12, 26, 40)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    assert zip_timestamp(1_700_000_000_000) == (1980, 1, 1, 0, 0, 0)


@pytest.mark.parametrize("value", ["", "yesterday", "-5", "1.5e9"])
def test_unusable_source_date_epoch_is_ignored(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", value)
    assert zip_timestamp(1_700_000_000_000) == (2023, 11, 14, 22, 13, 20)


def test_zip_timestamp_clamps_to_the_last_zip_date(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A zip (DOS) date ends at 2107-12-31 23:59:58; later must not crash the writer.
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "5000000000")  # 2128
    assert zip_timestamp(None) == (2107, 12, 31, 23, 59, 58)
    build_wheel(tmp_path / "out", date_time=zip_timestamp(None))


def test_discarding_writer_keeps_nothing_and_records_the_same(tmp_path: Path) -> None:
    discarding = DiscardingWriter()
    discarded = write_demo(discarding)
    with WheelWriter(tmp_path / "out", date_time=DATE) as writer:
        written = write_demo(writer)
        writer.abort()
    assert list(discarding.entries()) == sorted(e.path for e in written)
    assert discarding.has("demo/alias.py") and not discarding.has("demo/missing.py")
    assert discarded == written


def test_a_copy_is_the_entry_written_again_byte_for_byte(tmp_path: Path) -> None:
    text = b"".join(b"line %d of a text file\n" % i for i in range(100_000))
    wheels = []
    for name, copy in (("a", False), ("b", True)):
        with WheelWriter(tmp_path / name, date_time=DATE) as writer:
            writer.write_bytes("lib/libfoo.so.1.2", text)
            writer.write_stream("lib/big.bin", io.BytesIO(BIG), size_hint=len(BIG))
            for source, target in (("lib/libfoo.so.1.2", "lib/libfoo.so"), ("lib/big.bin", "b")):
                if copy:
                    writer.copy(source, target, executable=True)
                else:
                    data = text if source.endswith(".2") else BIG
                    writer.write_bytes(target, data, executable=True)
            wheels.append(
                writer.finish(DIST_INFO, tmp_path / name / WHEEL_NAME, overwrite=False, label="x")
            )
    assert wheels[0].read_bytes() == wheels[1].read_bytes()
    with zipfile.ZipFile(wheels[1]) as archive:
        assert archive.read("lib/libfoo.so") == text
        assert archive.testzip() is None
