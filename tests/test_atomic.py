"""A file written through atomic_output appears whole, readable by others, or not at all."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from condawheel.atomic import atomic_output


@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def test_the_file_appears_with_the_usual_permissions(tmp_path: Path, umask_022: None) -> None:
    target = tmp_path / "deep" / "page.html"
    with atomic_output(target) as out:
        out.write(b"<html>")
        assert not target.exists()  # nothing under the final name until the end
    assert target.read_bytes() == b"<html>"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644  # not mkstemp's 0o600
    assert [p.name for p in target.parent.iterdir()] == ["page.html"]


def test_a_failure_leaves_nothing_and_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "mapping.json"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_output(target) as out:
        out.write(b"half of the new")
        raise RuntimeError("interrupted")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["mapping.json"]
