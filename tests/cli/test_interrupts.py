"""Runs that end early or overlap: signals, what a killed run leaves, racing writers.

A conversion is held at a chosen point by a small wrapper around the real command,
so that a signal lands while the partial wheel and the held binaries exist, or so
that several writers reach the end at once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from builders import CondaPackageBuilder
from clirun import one_line, run_cli
from condawheel.exceptions import BadInputError
from condawheel.wheel.writer import WheelWriter

#: Runs `condawheel ARGS` with a method (CONDAWHEEL_TEST_WAIT_IN, "module.Class.method")
#: made to wait for the file CONDAWHEEL_TEST_GATE, announcing in the folder
#: CONDAWHEEL_TEST_READY that it got there.
_GATED = """
import importlib, os, sys, time
from pathlib import Path
from condawheel.cli import main as cli
gate, ready = Path(os.environ["CONDAWHEEL_TEST_GATE"]), os.environ["CONDAWHEEL_TEST_READY"]
module, cls, where = os.environ["CONDAWHEEL_TEST_WAIT_IN"].rsplit(".", 2)
owner = getattr(importlib.import_module(f"condawheel.{module}"), cls)
original = getattr(owner, where)
def waiting(self, *args, **kwargs):
    Path(ready).mkdir(exist_ok=True)
    (Path(ready) / str(os.getpid())).touch()
    while not gate.exists():
        time.sleep(0.01)
    return original(self, *args, **kwargs)
setattr(owner, where, waiting)
sys.exit(cli.main(sys.argv[1:]))
"""

#: Where both the partial wheel and the held binaries exist.
HELD = "conversion.held.HeldBinaries.write"


def _package(folder: Path) -> Path:
    """A package with a root binary (held on disk) and a data file."""
    builder = CondaPackageBuilder(name="slowpkg", version="1.0", build="py312h0_0")
    site = "lib/python3.12/site-packages"
    builder.add_file(f"{site}/slowpkg/_ext.so", b"\x7fELF" + bytes(60) + b"fake")
    builder.add_file(f"{site}/slowpkg/__init__.py", "X = 1\n")
    builder.add_file("share/slowpkg/data.txt", "data\n")
    return builder.build(folder, "conda")


def _gated(
    tmp_path: Path, package: Path, out: Path, *, wait_in: str, tag: str, extra: tuple[str, ...] = ()
) -> tuple[subprocess.Popen[str], Path, Path]:
    gate, ready = tmp_path / f"gate-{tag}", tmp_path / f"ready-{tag}"
    env = {
        **os.environ,
        "TMPDIR": str(tmp_path / "tmp"),
        "CONDAWHEEL_TEST_GATE": str(gate),
        "CONDAWHEEL_TEST_READY": str(ready),
        "CONDAWHEEL_TEST_WAIT_IN": wait_in,
    }
    (tmp_path / "tmp").mkdir(exist_ok=True)
    process = subprocess.Popen(
        [sys.executable, "-c", _GATED, "convert", str(package), "-w", str(out), *extra],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return process, gate, ready


def _wait_for(condition: object, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def _leftovers(out: Path, tmp: Path) -> list[str]:
    parts = [p.name for p in out.iterdir() if p.name.endswith(".part")] if out.exists() else []
    return parts + [p.name for p in tmp.iterdir()]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_signal_cleans_up(tmp_path: Path, signum: signal.Signals) -> None:
    package = _package(tmp_path / "in")
    out = tmp_path / "out"
    process, _gate, ready = _gated(tmp_path, package, out, wait_in=HELD, tag="one")
    _wait_for(lambda: ready.exists(), "the conversion to reach the end")
    assert any(p.name.endswith(".whl.part") for p in out.iterdir())
    assert any((tmp_path / "tmp").iterdir()), "the binary should be held on disk"
    process.send_signal(signum)
    _stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signum, stderr
    assert "Traceback" not in stderr and "interrupted" in one_line(stderr)
    assert _leftovers(out, tmp_path / "tmp") == []
    assert not list(out.iterdir())


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_next_run_removes_what_a_killed_run_left(tmp_path: Path) -> None:
    package = _package(tmp_path / "in")
    out = tmp_path / "out"
    process, _gate, ready = _gated(tmp_path, package, out, wait_in=HELD, tag="kill")
    _wait_for(lambda: ready.exists(), "the conversion to reach the end")
    process.kill()
    process.communicate(timeout=60)
    left = _leftovers(out, tmp_path / "tmp")
    assert any(name.endswith(".whl.part") for name in left), left
    assert any(name.startswith("condawheel-held-") for name in left), left

    result = run_cli(tmp_path, "convert", package, "-w", out, env={"TMPDIR": str(tmp_path / "tmp")})
    assert result.returncode == 0, result.stderr
    assert _leftovers(out, tmp_path / "tmp") == []
    assert [p.name for p in out.iterdir()] == [Path(result.stdout.strip()).name]


def test_stale_files_of_live_or_unknown_runs(tmp_path: Path) -> None:
    """A live run's files stay; a file without an owner is named in a warning; a
    dead run's files go."""
    package = _package(tmp_path / "in")
    out, tmp = tmp_path / "out", tmp_path / "tmp"
    out.mkdir()
    tmp.mkdir()
    dead = _dead_pid()
    live = os.getpid()
    (out / f".condawheel-{dead}-abc.whl.part").write_bytes(b"partial")
    (out / f".condawheel-{live}-def.whl.part").write_bytes(b"partial")
    (out / ".condawheel-oldstyle.whl.part").write_bytes(b"partial")
    (tmp / f"condawheel-held-{dead}-x").mkdir()
    (tmp / f"condawheel-held-{dead}-x" / "0").write_bytes(b"held")
    (tmp / f"condawheel-held-{live}-y").mkdir()

    result = run_cli(tmp_path, "convert", package, "-w", out, env={"TMPDIR": str(tmp)})
    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in out.iterdir())
    assert f".condawheel-{dead}-abc.whl.part" not in names
    assert f".condawheel-{live}-def.whl.part" in names
    assert ".condawheel-oldstyle.whl.part" in names
    assert ".condawheel-oldstyle.whl.part" in result.stderr
    assert sorted(p.name for p in tmp.iterdir()) == [f"condawheel-held-{live}-y"]


def test_concurrent_writers_exactly_one_wins(tmp_path: Path) -> None:
    """Processes held at the very end of a conversion, then let go at once."""
    package = _package(tmp_path / "in")
    out = tmp_path / "out"
    runs = [
        _gated(tmp_path, package, out, wait_in="wheel.writer.WheelWriter.finish", tag="race")
        for _ in range(6)
    ]
    ready = runs[0][2]
    _wait_for(lambda: ready.exists() and len(list(ready.iterdir())) == 6, "all writers")
    runs[0][1].touch()  # the shared gate
    results = [(p, *p.communicate(timeout=120)) for p, _g, _r in runs]
    codes = sorted(p.returncode for p, _o, _e in results)
    assert codes == [0, 2, 2, 2, 2, 2], [(p.returncode, e) for p, _o, e in results]
    for process, _stdout, stderr in results:
        if process.returncode == 2:
            assert "already exists" in one_line(stderr) and "--overwrite" in stderr
    assert [p.suffix for p in out.iterdir()] == [".whl"]


def _finish(
    writer: WheelWriter, destination: Path, barrier: threading.Barrier, outcomes: list[str]
) -> None:
    barrier.wait()
    try:
        writer.finish("x-1.0.dist-info", destination, overwrite=False, label="x")
    except BadInputError:
        outcomes.append("refused")
    else:
        outcomes.append("written")


def test_writers_in_threads_exactly_one_wins(tmp_path: Path) -> None:
    """The same race inside one process, many times over: the check before the
    rename cannot be what decides."""
    destination = tmp_path / "x-1.0-py3-none-any.whl"
    for _round in range(10):
        destination.unlink(missing_ok=True)
        writers = []
        for _ in range(6):
            writer = WheelWriter(tmp_path, date_time=(1980, 1, 1, 0, 0, 0))
            writer.write_bytes("x/__init__.py", b"")
            writers.append(writer)
        barrier = threading.Barrier(len(writers))
        outcomes: list[str] = []

        threads = [
            threading.Thread(target=_finish, args=(w, destination, barrier, outcomes))
            for w in writers
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes) == ["refused"] * 5 + ["written"]
        assert sorted(p.name for p in tmp_path.iterdir()) == [destination.name]


def test_output_folder_is_a_file(tmp_path: Path) -> None:
    package = _package(tmp_path / "in")
    afile = tmp_path / "afile"
    afile.write_text("not a folder\n")
    result = run_cli(tmp_path, "convert", package, package, "-w", afile)
    assert result.returncode == 2
    line = one_line(result.stderr)
    assert "afile is a file, not a folder" in line and "-w" in line
    assert afile.read_text() == "not a folder\n"


def _batch(folder: Path, count: int) -> list[Path]:
    """Packages slow enough to convert that a signal lands while they are."""
    packages = []
    for i in range(count):
        builder = CondaPackageBuilder(name=f"batch{i}", version="1.0", build="py312h0_0")
        for j in range(4):
            text = b"".join(b"%d %d line of text\n" % (i, k) for k in range(300_000))
            builder.add_file(f"share/batch{i}/part{j}.txt", text)
        packages.append(builder.build(folder, "conda"))
    return packages


@pytest.mark.parametrize("to_group", [True, False], ids=["ctrl-c", "sigterm"])
def test_a_batch_on_processes_stops_cleanly(tmp_path: Path, to_group: bool) -> None:
    """Ctrl-C reaches the command and its workers (the terminal's process group); a
    SIGTERM reaches the command alone, which stops its workers."""
    packages = _batch(tmp_path / "in", 4)
    out, tmp = tmp_path / "out", tmp_path / "tmp"
    tmp.mkdir()
    process = subprocess.Popen(
        [sys.executable, "-m", "condawheel", "convert", *map(str, packages), "-w", str(out),
         "-j", "2"],
        env={**os.environ, "TMPDIR": str(tmp)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )  # fmt: skip
    _wait_for(
        lambda: out.exists() and any(p.name.endswith(".part") for p in out.iterdir()),
        "a worker to start a wheel",
    )
    if to_group:
        os.killpg(process.pid, signal.SIGINT)
    else:
        process.send_signal(signal.SIGTERM)
    _stdout, stderr = process.communicate(timeout=120)
    signum = signal.SIGINT if to_group else signal.SIGTERM
    assert process.returncode == 128 + signum, stderr
    assert "Traceback" not in stderr and "interrupted" in one_line(stderr)
    assert [p.name for p in out.iterdir() if not p.name.endswith(".whl")] == []
    assert list(tmp.iterdir()) == []
