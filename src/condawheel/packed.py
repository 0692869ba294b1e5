"""Records packed one bytes object each, kept in a list sorted by name.

A record is a name in UTF-8, a NUL, then fixed fields. UTF-8 keeps the order of code
points and NUL sorts before any character a name may hold, so the list sorts in name
order in place, with no key made per record, and a name is found by binary search.
For what a package of 100,000 files would otherwise keep as 100,000 objects and a
dict: paths.json's entries, and the entries of the wheel being written.
"""

from __future__ import annotations

import bisect
import itertools


def pack(name: str, fields: bytes) -> bytes:
    """The record of ``name`` with ``fields``; ValueError for a name with a NUL."""
    if "\0" in name:
        raise ValueError(f"a name with a NUL: {name!r}")
    return b"%s\0%s" % (name.encode(), fields)


def split(record: bytes) -> tuple[str, int]:
    """A record's name, and where its fields start."""
    end = record.index(b"\0")
    return record[:end].decode(), end + 1


def find(records: list[bytes], name: str, end: int | None = None) -> bytes | None:
    """The record of ``name`` in ``records[:end]``, sorted; None if there is none."""
    if "\0" in name:  # it would end the name in a record: none holds one
        return None
    try:
        key = name.encode() + b"\0"
    except UnicodeEncodeError:  # a surrogate: no record's name holds one
        return None
    end = len(records) if end is None else end
    at = bisect.bisect_left(records, key, 0, end)
    return records[at] if at < end and records[at].startswith(key) else None


def first_duplicate(records: list[bytes]) -> str | None:
    """The first name two records of the sorted ``records`` have, if any."""
    for previous, current in itertools.pairwise(records):
        if current.startswith(previous[: previous.index(b"\0") + 1]):
            return split(current)[0]
    return None
