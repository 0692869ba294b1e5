"""The stream helpers below the readers and writers: a sniffed head put back, a spooled
copy, and a file's hash."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from condawheel.streams import Prefixed, file_sha256, spool


def test_prefixed_gives_the_head_then_the_rest() -> None:
    stream = io.BytesIO(b"ELF-and-the-rest")
    head = stream.read(3)
    prefixed = Prefixed(head, stream)
    assert prefixed.read(100) + prefixed.read(100) + prefixed.read(100) == b"ELF-and-the-rest"


def test_spool_and_file_sha256_agree_across_chunks(tmp_path: Path) -> None:
    data = bytes(range(256)) * 1000
    expected = (hashlib.sha256(data).hexdigest(), len(data))
    assert spool(io.BytesIO(data), tmp_path / "copy", chunk=4096) == expected
    assert (tmp_path / "copy").read_bytes() == data
    assert file_sha256(tmp_path / "copy", chunk=1000) == expected
    (tmp_path / "empty").write_bytes(b"")
    assert file_sha256(tmp_path / "empty") == (hashlib.sha256(b"").hexdigest(), 0)
