"""`condawheel mirror` as a user runs it: the lines it prints, its exit codes, its JSON,
and a run killed mid-way then run again."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import pytest

from channel import MIRROR_BROKEN, MIRROR_GOOD, build_mirror_channel, copy_channel, mirror_output
from clirun import one_line, run_cli
from condawheel.crash import CRASH_ENV

SUBDIRS = ("--subdir", "linux-64", "--subdir", "noarch")


@pytest.fixture(scope="module")
def channel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_mirror_channel(tmp_path_factory.mktemp("mirror-channel"))


def mirror_cli(
    tmp_path: Path, channel: Path, out: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    cache = ("--cache-dir", str(tmp_path / "cache"))
    return run_cli(tmp_path, "mirror", channel, "-w", out, *SUBDIRS, *cache, *args, env=env)


def test_a_run_and_a_second_run(channel: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = mirror_cli(tmp_path, channel, out)
    assert first.returncode == 2
    assert one_line(first.stderr).startswith(
        f"condawheel: error: {MIRROR_BROKEN}: skipped: broken-1.0-h0_0.conda: symlink"
    )
    assert first.stdout == (
        f"5 new builds converted, 0 already done, 1 skipped; index of 5 wheel(s) in {out}/simple/\n"
    )
    second = mirror_cli(tmp_path, channel, out, "--json")
    assert second.returncode == 2
    lines = [json.loads(line) for line in second.stdout.splitlines()]
    assert [(line["build"], line["status"]) for line in lines[:-1]] == sorted(
        [(MIRROR_BROKEN, "skipped"), *((build, "done") for build in MIRROR_GOOD)]
    )
    summary = {"converted": 0, "done": 5, "skipped": 1, "pruned": 0, "other_shards": 0}
    assert lines[-1]["summary"] == summary
    assert second.stderr == ""


def test_killed_after_a_wheel_then_run_again(channel: Path, tmp_path: Path) -> None:
    whole = tmp_path / "whole"
    assert mirror_cli(tmp_path, channel, whole).returncode == 2
    out = tmp_path / "out"
    # SIGKILL after the second wheel is in place, before the state says so; in one
    # process, since a killed process's workers are not this test's subject.
    killed = mirror_cli(tmp_path, channel, out, "-j", "1", env={CRASH_ENV: "mirror-wheel:2"})
    assert killed.returncode == -signal.SIGKILL
    assert len(list(out.glob("*.whl"))) == 2
    again = mirror_cli(tmp_path, channel, out)
    assert again.returncode == 2
    assert again.stdout.startswith("4 new builds converted, 1 already done, 1 skipped;")
    assert mirror_output(out) == mirror_output(whole)
    assert not [p for p in out.rglob(".*") if p.is_file()], "no partial file is left"


@pytest.mark.parametrize("shard", ["0/3", "4/3", "x", "-1/2"])
def test_a_bad_shard_is_one_line(channel: Path, tmp_path: Path, shard: str) -> None:
    done = mirror_cli(tmp_path, channel, tmp_path / "out", f"--shard={shard}")
    assert done.returncode == 2
    assert one_line(done.stderr).startswith(f"condawheel: error: --shard {shard!r}: give K/N")
    assert not (tmp_path / "out").exists()


def test_a_hostile_index_is_one_line(channel: Path, tmp_path: Path) -> None:
    channel = copy_channel(channel, tmp_path / "channel")
    path = channel / "linux-64" / "repodata.json"
    index = json.loads(path.read_text())
    index["packages.conda"]["../../../evil-1.0-0.conda"] = {"name": "evil", "version": "1.0"}
    path.write_text(json.dumps(index))
    done = mirror_cli(tmp_path, channel, tmp_path / "out")
    assert done.returncode == 2
    line = one_line(done.stderr)
    assert line.startswith(f"condawheel: error: {channel.as_uri()}/linux-64/repodata.json: ")
    assert "the channel's index is not valid" in line
    assert not list((tmp_path / "out").glob("*.whl"))


def test_a_missing_channel_is_one_line(tmp_path: Path) -> None:
    done = mirror_cli(tmp_path, tmp_path / "nowhere", tmp_path / "out")
    assert done.returncode == 2
    assert "nowhere" in one_line(done.stderr)
