"""Packed records in a list sorted by name: order, lookup and duplicates."""

from __future__ import annotations

import pytest

from condawheel import packed

NAMES = ["a", "a/b", "a-b", "ab", "é", "\U0001f600", "Z", "a.b", "a/b.c"]


def records(names: list[str]) -> list[bytes]:
    return sorted(packed.pack(name, b"\0\1fields") for name in names)


def test_a_sorted_list_is_in_the_order_of_the_names() -> None:
    assert [packed.split(r)[0] for r in records(NAMES)] == sorted(NAMES)


def test_split_gives_the_name_and_where_the_fields_start() -> None:
    record = packed.pack("a/é", b"xyz")
    name, at = packed.split(record)
    assert name == "a/é" and record[at:] == b"xyz"


def test_a_name_with_a_nul_is_refused() -> None:
    with pytest.raises(ValueError, match="NUL"):
        packed.pack("a\0b", b"")


def test_find_by_name_and_only_that_name() -> None:
    listed = records(NAMES)
    for name in NAMES:
        found = packed.find(listed, name)
        assert found is not None and packed.split(found)[0] == name
    # Prefixes, extensions, a NUL (whatever the fields hold) and a surrogate escaping
    # the UTF-8 of "é" find nothing.
    for missing in ("", "a/", "a/b/", "abc", "a\0", "a\0\1", "\udcc3\udca9", "zz"):
        assert packed.find(listed, missing) is None


def test_find_looks_only_below_the_end_given() -> None:
    listed = records(["a", "b", "c"])
    assert packed.find(listed, "c", 2) is None
    assert packed.find(listed, "b", 2) is not None


def test_first_duplicate() -> None:
    assert packed.first_duplicate(records(NAMES)) is None
    assert packed.first_duplicate(records([*NAMES, "a/b"])) == "a/b"
    assert packed.first_duplicate([]) is None
