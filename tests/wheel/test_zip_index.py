"""The writer's packed index of its entries: lookups, order, and its size."""

from __future__ import annotations

import hashlib
import sys
import zipfile

import pytest

from condawheel.wheel.zip_index import EntryIndex, IndexEntry

DATE = (2023, 11, 14, 22, 13, 20)


def entry(name: str, offset: int = 0, *, zip64: bool = False) -> IndexEntry:
    return IndexEntry(
        name=name,
        header_offset=offset,
        compress_size=7,
        file_size=2**33 if zip64 else 11,
        crc=0xDEADBEEF,
        compress_type=zipfile.ZIP_DEFLATED,
        executable=name.endswith(".sh"),
        zip64=zip64,
        digest=hashlib.sha256(name.encode()).digest(),
    )


def test_an_entry_survives_packing() -> None:
    for original in (entry("a/b.py", 12), entry("bin/x.sh", 2**40, zip64=True), entry("é/ü")):
        assert IndexEntry.unpack(original.pack()) == original


def test_a_packed_entry_is_its_name_and_about_a_hundred_bytes() -> None:
    name = "pkg-1.0.data/data/share/many/d012/f01234.txt"
    packed = entry(name).pack()
    assert packed.startswith(name.encode() + b"\0")
    assert sys.getsizeof(packed) <= 110 + len(name)


def test_a_name_with_a_nul_is_refused() -> None:
    with pytest.raises(ValueError, match="NUL"):
        entry("a\0b").pack()


def test_found_whether_added_lately_or_long_ago() -> None:
    index = EntryIndex()
    names = [f"d/f{i:05d}" for i in reversed(range(5000))]  # past the small dict's size
    for offset, name in enumerate(names):
        index.add(entry(name, offset))
    for offset, name in enumerate(names):
        found = index.find(name)
        assert found is not None and found.header_offset == offset
    index.add(entry("é"))
    for missing in ("d/f", "d/f000000", "d/f00000\0", "d/f00001\0\0", "\udcc3\udca9"):
        assert index.find(missing) is None
    index.add(entry("a/late"))  # after the sort: found through the dict
    assert index.find("a/late") == entry("a/late")
    assert len(index) == 5002


def test_in_order_puts_the_dist_info_last_and_its_record_last_of_all() -> None:
    index = EntryIndex()
    for name in ("z.py", "demo-1.0.dist-info/RECORD", "demo-1.0.dist-info/METADATA", "a/b"):
        index.add(entry(name))
    assert [e.name for e in index.in_order("demo-1.0.dist-info")] == [
        "a/b",
        "z.py",
        "demo-1.0.dist-info/METADATA",
        "demo-1.0.dist-info/RECORD",
    ]
    assert list(index.names()) == sorted(
        ["z.py", "a/b", *(f"demo-1.0.dist-info/{n}" for n in ("RECORD", "METADATA"))]
    )


def test_name_order_is_the_order_of_code_points() -> None:
    """UTF-8 bytes sort as the names do, and a name before any longer one it starts."""
    names = ["a", "a/b", "a-b", "ab", "é", "\U0001f600", "Z", "a.b"]
    index = EntryIndex()
    for name in names:
        index.add(entry(name))
    assert list(index.names()) == sorted(names)


def test_a_name_written_twice_is_an_error() -> None:
    index = EntryIndex()
    index.add(entry("a/b"))
    index.add(entry("a/b", 5))
    with pytest.raises(ValueError, match="a/b was written twice"):
        list(index.names())  # as when the wheel is finished


def test_zip_info_is_what_zipfile_kept_after_writing_the_header() -> None:
    for original in (entry("bin/run.sh", 99), entry("big.bin", 5, zip64=True)):
        info = zipfile.ZipInfo(original.name, DATE)
        info.create_system = 3
        info.external_attr = (0o100755 if original.executable else 0o100644) << 16
        info.compress_type = original.compress_type
        info.file_size, info.compress_size = original.file_size, original.compress_size
        info.CRC, info.header_offset = original.crc, original.header_offset
        info.FileHeader(original.zip64)  # what writing the local header leaves behind
        made = original.zip_info(DATE)
        for field in zipfile.ZipInfo.__slots__:
            assert getattr(made, field, None) == getattr(info, field, None), field
        assert original.zip_info(DATE, header_offset=1234).header_offset == 1234
