"""paths.json's entries packed one bytes object each: a mapping like a dict of them."""

from __future__ import annotations

import hashlib
import sys

import pytest

from condawheel.conda.path_table import PathEntry, PathPacker, PathTable, PathType
from condawheel.exceptions import BadInputError

PLACEHOLDER = "/opt/anaconda1anaconda2anaconda3" + "_placehold" * 20

ENTRIES = [
    PathEntry(
        path="lib/libfoo.so.1",
        sha256=hashlib.sha256(b"foo").digest(),
        size=3,
        prefix_placeholder=PLACEHOLDER,
        file_mode="binary",
    ),
    PathEntry(path="lib/libfoo.so", path_type=PathType.SYMLINK),
    PathEntry(path="share/empty", path_type=PathType.DIRECTORY),
    PathEntry(path="bin/foo", size=0, prefix_placeholder=PLACEHOLDER),
    PathEntry(path="share/naïve/ü.txt", size=2**59, sha256=bytes(32)),
]


def table(entries: list[PathEntry]) -> PathTable:
    packer = PathPacker()
    return packer.table("foo.conda", [packer.pack(e) for e in entries])


def test_every_field_comes_back() -> None:
    paths = table(ENTRIES)
    assert paths == {e.path: e for e in ENTRIES}
    for entry in ENTRIES:
        assert paths[entry.path] == entry
        assert paths.get(entry.path) == entry
        assert entry.path in paths


def test_iterated_in_path_order() -> None:
    paths = table(ENTRIES)
    ordered = sorted(e.path for e in ENTRIES)
    assert list(paths) == ordered and len(paths) == len(ENTRIES)
    assert [e.path for e in paths.values()] == ordered
    assert [p for p, _ in paths.items()] == ordered
    assert dict(paths.items()) == {e.path: e for e in ENTRIES}


def test_what_is_not_listed_is_not_found() -> None:
    paths = table(ENTRIES)
    # "\udcc3\udca9" would be the UTF-8 of "ï" read with surrogateescape.
    for missing in (
        "lib",
        "lib/libfoo",
        "lib/libfoo.so.1.2",
        "a",
        "zzz",
        "",
        "bin/foo\0",
        "share/na\udcc3\udcafve/\u00fc.txt",
    ):
        assert paths.get(missing) is None and missing not in paths
        with pytest.raises(KeyError):
            paths[missing]
    number: object = 3
    assert number not in paths
    sentinel = PathEntry(path="x")
    assert paths.get("nothing", sentinel) is sentinel


def test_a_path_listed_twice_is_refused() -> None:
    with pytest.raises(BadInputError, match=r"foo\.conda: info/paths\.json lists 'bin/foo' twice"):
        table([*ENTRIES, PathEntry(path="bin/foo", size=1)])


def test_a_prefix_of_another_path_is_not_a_duplicate() -> None:
    paths = table([PathEntry(path="a/b"), PathEntry(path="a/b/c"), PathEntry(path="a/b.c")])
    assert list(paths) == ["a/b", "a/b.c", "a/b/c"]


def test_an_entry_is_its_path_and_a_few_dozen_bytes() -> None:
    """A placeholder is kept once, however many files name it; no digest, no room."""
    packer = PathPacker()
    path = "share/many/d012/f01234.txt"
    full = packer.pack(
        PathEntry(path=path, sha256=bytes(32), size=300, prefix_placeholder=PLACEHOLDER)
    )
    assert sys.getsizeof(full) <= 33 + len(path) + 1 + 17 + 32
    bare = packer.pack(PathEntry(path=path, prefix_placeholder=PLACEHOLDER))
    assert len(bare) == len(full) - 32
