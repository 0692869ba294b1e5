"""`condawheel install` killed at every kind of step, and run by several processes at
once into one prefix: afterwards the environment is consistent (every RECORD matches
the disk, no file that no RECORD lists), and a killed run is rolled back exactly.

The kill is the test-only hook `CONDAWHEEL_TEST_CRASH_AT=STEP:N` (SIGKILL at the Nth
step named STEP: a journal entry written, a file moved aside or written, a
`.dist-info` renamed into place)."""

from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from clirun import run_cli
from condaenv import make_env, site_packages, snapshot
from condawheel.crash import CRASH_ENV
from condawheel.installation.lock import prefix_lock
from wheelmaker import record_hash, wheel_members, write_wheel

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the test environments are linux")


def _wheel(out: Path, name: str, version: str, modules: int, shared: str) -> Path:
    files: dict[str, bytes | str] = {
        f"{name}/mod{i}.py": f"VERSION = {version!r}\nI = {i}\n" for i in range(modules)
    }
    files[f"{name}/__init__.py"] = f"VERSION = {version!r}\n"
    files[f"{name}-{version}.data/data/share/{name}/{shared}.txt"] = f"{name} {version}\n"
    entry_points = f"[console_scripts]\n{name}-cli = {name}:main\n"
    members = wheel_members(
        name, version, files, dist_info_files={"entry_points.txt": entry_points}
    )
    return write_wheel(out / f"{name}-{version}-py3-none-any.whl", members)


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("crash-wheels")
    return {
        "alpha1": _wheel(out, "alpha", "1.0", 6, "one"),
        "alpha2": _wheel(out, "alpha", "2.0", 3, "two"),
        "beta": _wheel(out, "beta", "1.0", 4, "b"),
        "gamma": _wheel(out, "gamma", "1.0", 2, "g"),
    }


@pytest.fixture(scope="module")
def venv_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("venv-cache")


@pytest.fixture
def prefix(tmp_path: Path, venv_cache: Path) -> Path:
    return make_env(tmp_path, cache=venv_cache)


def _install(
    prefix: Path, *args: str | Path, crash: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {CRASH_ENV: crash} if crash else {}
    return run_cli(prefix.parent, "install", "--prefix", prefix, *args, env=env)


def _start(prefix: Path, *args: str | Path, crash: str | None = None) -> subprocess.Popen[str]:
    """An install running in the background."""
    environ = {k: v for k, v in os.environ.items() if k not in ("CONDA_PREFIX", CRASH_ENV)}
    if crash:
        environ[CRASH_ENV] = crash
    command = [sys.executable, "-m", "condawheel", "install", "--prefix", str(prefix)]
    return subprocess.Popen(
        [*command, *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environ,
    )


def orphans(prefix: Path, baseline: set[str]) -> list[str]:
    """Check every installed RECORD against the disk; return the files under the prefix
    that neither the baseline environment nor any RECORD accounts for."""
    listed: set[str] = set()
    for dist_info in site_packages(prefix).glob("*.dist-info"):
        record = dist_info / "RECORD"
        assert record.is_file(), f"{dist_info} has no RECORD"
        for row in csv.reader(io.StringIO(record.read_text())):
            path = Path(os.path.normpath(dist_info.parent / row[0]))
            assert path.is_file(), f"{dist_info.name} lists {row[0]}, which is missing"
            if row[1]:
                data = path.read_bytes()
                assert (row[1], int(row[2])) == (record_hash(data), len(data)), path
            listed.add(path.relative_to(prefix).as_posix())
    files = {k for k, v in snapshot(prefix, directories=False).items() if "__pycache__" not in k}
    return sorted(files - baseline - listed)


def _installed(prefix: Path) -> list[str]:
    return sorted(p.name for p in site_packages(prefix).glob("*.dist-info"))


CRASH_POINTS = [
    "journal-begin:1",
    "journal-move:1",
    "move:3",
    "move:10",
    "journal-rmdir:1",
    "journal-create:1",
    "write:2",
    "journal-tree:2",
    "dist-info:1",
    "write:14",
]


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_a_kill_is_rolled_back_exactly(prefix: Path, wheels: dict[str, Path], point: str) -> None:
    baseline = set(snapshot(prefix, directories=False))
    assert _install(prefix, wheels["alpha1"]).returncode == 0
    before = snapshot(prefix)

    killed = _install(prefix, wheels["alpha2"], wheels["beta"], crash=point)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert (prefix / ".condawheel" / "journal").exists()
    for dist_info in site_packages(prefix).glob("*.dist-info"):
        assert (dist_info / "RECORD").is_file(), f"{dist_info.name} without its RECORD"

    recovered = _install(prefix, "--recover")
    assert recovered.returncode == 0, recovered.stderr
    assert "rolled back an interrupted installation (pid " in recovered.stderr
    assert "the environment is as it was before it" in recovered.stderr
    assert snapshot(prefix) == before
    assert orphans(prefix, baseline) == []

    again = _install(prefix, wheels["alpha2"], wheels["beta"])
    assert again.returncode == 0, again.stderr
    assert _installed(prefix) == ["alpha-2.0.dist-info", "beta-1.0.dist-info"]
    assert orphans(prefix, baseline) == []


def test_the_next_install_recovers_by_itself(prefix: Path, wheels: dict[str, Path]) -> None:
    baseline = set(snapshot(prefix, directories=False))
    killed = _install(prefix, wheels["alpha1"], wheels["gamma"], crash="write:5")
    assert killed.returncode == -signal.SIGKILL
    done = _install(prefix, wheels["beta"])
    assert done.returncode == 0, done.stderr
    assert "rolled back an interrupted installation" in done.stderr
    assert _installed(prefix) == ["beta-1.0.dist-info"]
    assert orphans(prefix, baseline) == []
    assert not (prefix / ".condawheel").exists()


def test_a_kill_after_the_commit_keeps_the_installation(
    prefix: Path, wheels: dict[str, Path]
) -> None:
    baseline = set(snapshot(prefix, directories=False))
    killed = _install(prefix, wheels["alpha1"], crash="journal-commit:1")
    assert killed.returncode == -signal.SIGKILL
    done = _install(prefix, "--recover")
    assert "finished cleaning up after a completed installation" in done.stderr
    assert _installed(prefix) == ["alpha-1.0.dist-info"]
    assert orphans(prefix, baseline) == []
    assert not (prefix / ".condawheel").exists()


@pytest.mark.parametrize("signal_name", ["SIGTERM", "SIGHUP"])
def test_terminate_rolls_back_at_once(
    prefix: Path, wheels: dict[str, Path], signal_name: str
) -> None:
    assert _install(prefix, wheels["alpha1"]).returncode == 0
    before = snapshot(prefix)
    # stopped half way by the hook, then terminated
    process = _start(prefix, wheels["alpha2"], wheels["beta"], crash="write:4:SIGSTOP")
    deadline = time.monotonic() + 60
    while _state(process.pid) != "T" and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(getattr(signal, signal_name))
    process.send_signal(signal.SIGCONT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 128 + getattr(signal, signal_name), err
    assert err.strip() == f"condawheel: interrupted by {signal_name}"
    assert snapshot(prefix) == before


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "?"


def test_concurrent_installs_into_one_prefix(prefix: Path, wheels: dict[str, Path]) -> None:
    baseline = set(snapshot(prefix, directories=False))
    runs = [
        [wheels["alpha1"], wheels["beta"]],
        [wheels["alpha2"]],
        [wheels["gamma"], wheels["beta"]],
        [wheels["alpha1"]],
        [wheels["beta"], wheels["alpha2"]],
    ]
    processes = [_start(prefix, *run) for run in runs]
    results = [p.communicate(timeout=300) for p in processes]
    assert [p.returncode for p in processes] == [0] * len(runs), results
    installed = _installed(prefix)
    assert len([n for n in installed if n.startswith("alpha-")]) == 1
    assert "beta-1.0.dist-info" in installed and "gamma-1.0.dist-info" in installed
    assert orphans(prefix, baseline) == []
    assert not (prefix / ".condawheel").exists()


def test_no_wait_names_the_holder(prefix: Path, wheels: dict[str, Path]) -> None:
    before = snapshot(prefix)
    with prefix_lock(prefix):
        done = _install(prefix, "--no-wait", wheels["gamma"])
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"condawheel: error: {prefix} is being installed into by another condawheel "
        f"(pid {os.getpid()}); wait for it, or run again without --no-wait"
    )
    assert snapshot(prefix) == before


def test_a_second_install_waits_and_says_so(prefix: Path, wheels: dict[str, Path]) -> None:
    with prefix_lock(prefix):
        process = _start(prefix, wheels["gamma"])
        assert process.stderr is not None
        line = process.stderr.readline()
        assert line.strip() == (
            f"condawheel: waiting for another condawheel installing into {prefix} "
            f"(pid {os.getpid()})"
        )
        time.sleep(0.2)
        assert process.poll() is None  # still waiting
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert "installed gamma 1.0" in out
