"""The mirror's state: a build is done only while its sha256, the settings and its wheel
(present, the size written down) all still hold."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from condawheel.conda.cache import ChannelPackage
from condawheel.exceptions import BadInputError
from condawheel.mirroring.state import STATE_DIR, MirrorState

BUILD = ChannelPackage(
    name="foo",
    version="1.0",
    build="h0_0",
    subdir="linux-64",
    url="https://example.org/linux-64/foo-1.0-h0_0.conda",
    file_name="foo-1.0-h0_0.conda",
    sha256="a" * 64,
)


def recorded(tmp_path: Path) -> tuple[MirrorState, Path]:
    state = MirrorState(tmp_path, "settings")
    wheel = tmp_path / "foo-1.0-0_h0_0-py3-none-any.whl"
    wheel.write_bytes(b"wheel bytes")
    state.record(BUILD, wheel)
    return state, wheel


def test_a_recorded_build_is_done(tmp_path: Path) -> None:
    state, wheel = recorded(tmp_path)
    assert state.done(BUILD) == wheel
    assert state.path(BUILD) == tmp_path / STATE_DIR / "linux-64" / "foo-1.0-h0_0.conda.json"
    assert [p.name for p in state.path(BUILD).parent.iterdir()] == ["foo-1.0-h0_0.conda.json"]


def test_a_changed_build_or_other_settings_are_not_done(tmp_path: Path) -> None:
    state, _ = recorded(tmp_path)
    changed = dataclasses.replace(BUILD, sha256="b" * 64)
    assert state.done(changed) is None
    assert MirrorState(tmp_path, "other settings").done(BUILD) is None


def test_a_wheel_gone_or_cut_is_not_done(tmp_path: Path) -> None:
    state, wheel = recorded(tmp_path)
    wheel.write_bytes(b"cut")
    assert state.done(BUILD) is None
    wheel.unlink()
    assert state.done(BUILD) is None


def test_a_damaged_state_file_is_nothing_done(tmp_path: Path) -> None:
    state, _ = recorded(tmp_path)
    for damage in (b"{", b"[]", b'{"version": 1, "wheel": "../../etc/passwd"}'):
        state.path(BUILD).write_bytes(damage)
        assert state.done(BUILD) is None


def test_sweep_removes_what_a_killed_write_left(tmp_path: Path) -> None:
    state, _ = recorded(tmp_path)
    leftover = state.path(BUILD).parent / ".foo-1.0-h0_0.conda.json.x1y2.part"
    leftover.write_bytes(b"{")
    state.sweep()
    assert not leftover.exists() and state.done(BUILD) is not None


def test_a_failure_is_remembered_for_this_build_and_settings(tmp_path: Path) -> None:
    state = MirrorState(tmp_path, "settings")
    state.record_failure(BUILD, "broken: a link escapes the package")
    assert state.failed(BUILD) == "broken: a link escapes the package"
    assert state.done(BUILD) is None
    assert state.failed(dataclasses.replace(BUILD, sha256="c" * 64)) is None
    assert MirrorState(tmp_path, "other settings").failed(BUILD) is None


def test_one_mirror_at_a_time_in_a_folder(tmp_path: Path) -> None:
    state = MirrorState(tmp_path, "settings")
    other = MirrorState(tmp_path, "settings")
    with state.held():
        refused = other.held()
        with pytest.raises(BadInputError, match="another condawheel mirror is writing there"):
            refused.__enter__()
    with state.held():  # released at the end of the block
        pass
