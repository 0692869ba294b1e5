"""Fuzzing `convert` and `inspect --json` with hostile variants of real packages.

Every input must end in exit 0 with a valid wheel (or a JSON report), or in exit 2
with one line under 500 characters; never an internal error, a write outside the
output folder, a leftover after a failure, or an input that takes more than a few
seconds. The corpus is fixed (hypothesis, derandomized): the suite runs the same
5,000 inputs every time; CONDAWHEEL_FUZZ_EXAMPLES asks for more (or fewer), and
CONDAWHEEL_FUZZ_REPORT names a JSON file to receive the figures.

Runs in-process through ``condawheel.cli.main.main`` (a subprocess per input would cost
more than the conversion), with ``-v`` so that an internal error surfaces as the
exception itself.
"""

from __future__ import annotations

import contextlib
import csv
import email.parser
import hashlib
import io
import json
import os
import random
import re
import shutil
import signal
import tempfile
import time
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import FrameType

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import Version

from condawheel.cli import main as cli
from fuzz_mutants import Parts, built_seeds, corpus_seeds, mutant, parts_of
from wheelmaker import record_hash

EXAMPLES = int(os.environ.get("CONDAWHEEL_FUZZ_EXAMPLES", "5000"))
#: Seconds one input may take; far above what any input of this size needs.
SLOW_SECONDS = float(os.environ.get("CONDAWHEEL_FUZZ_SECONDS", "5"))
MAX_LINE = 500


@dataclass(slots=True)
class Figures:
    inputs: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    by_mutation: Counter[str] = field(default_factory=Counter)
    slowest: tuple[float, str] = (0.0, "")
    started: float = field(default_factory=time.monotonic)

    def as_json(self) -> dict[str, object]:
        return {
            "inputs": self.inputs,
            "outcomes": dict(sorted(self.outcomes.items())),
            "by_mutation": dict(sorted(self.by_mutation.items())),
            "slowest_seconds": round(self.slowest[0], 3),
            "slowest_input": self.slowest[1],
            "runtime_seconds": round(time.monotonic() - self.started, 1),
        }


class TookTooLong(Exception):
    """Raised by the alarm when one input runs far past the limit (a hang)."""


@contextlib.contextmanager
def alarm(seconds: float) -> Iterator[None]:
    def fire(signum: int, frame: FrameType | None) -> None:
        raise TookTooLong(f"still running after {seconds:.0f} s")

    previous = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass(frozen=True, slots=True)
class Run:
    code: int
    stdout: str
    stderr: str
    seconds: float


def run_main(*args: str) -> Run:
    out, err = io.StringIO(), io.StringIO()
    start = time.monotonic()
    with alarm(SLOW_SECONDS * 6), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(["-v", *args])
    return Run(code, out.getvalue(), err.getvalue(), time.monotonic() - start)


def snapshot(root: Path) -> dict[str, bytes | str | None]:
    found: dict[str, bytes | str | None] = {}
    for path in sorted(root.rglob("*")):
        key = str(path.relative_to(root))
        if path.is_symlink():
            found[key] = str(path.readlink())
        elif path.is_file():
            found[key] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            found[key] = None
    return found


def check_wheel(path: Path) -> None:
    """What any installer relies on: the name, the zip, RECORD, member names."""
    name, version, _build, tags = parse_wheel_filename(path.name)
    assert str(name) and str(version) and tags
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
        names = zf.namelist()
        assert len(names) == len(set(names)), "duplicate zip entries"
        for member in names:
            pure = PurePosixPath(member)
            assert not pure.is_absolute() and ".." not in pure.parts, member
            assert "\\" not in member and "\x00" not in member, member
        metadata = [n for n in names if re.fullmatch(r"[^/]+\.dist-info/METADATA", n)]
        assert len(metadata) == 1, metadata
        headers = email.parser.BytesHeaderParser().parsebytes(zf.read(metadata[0]))
        assert len(headers.get_all("Name") or []) == 1
        assert canonicalize_name(headers["Name"]) == name, (headers["Name"], name)
        assert Version(headers["Version"]) == version, (headers["Version"], version)
        records = [n for n in names if re.fullmatch(r"[^/]+\.dist-info/RECORD", n)]
        assert len(records) == 1, records
        rows = list(csv.reader(io.StringIO(zf.read(records[0]).decode())))
        listed = {row[0]: row for row in rows}
        assert set(listed) == set(names), set(listed) ^ set(names)
        for member, row in listed.items():
            if member == records[0]:
                continue
            data = zf.read(member)
            assert row[1] == record_hash(data), member
            assert int(row[2]) == len(data), member


def one_error_line(text: str) -> str:
    lines = text.splitlines()
    assert len(lines) == 1, f"expected one line, got {len(lines)}: {text[:2000]!r}"
    assert len(lines[0]) < MAX_LINE, f"{len(lines[0])} characters: {lines[0][:600]!r}"
    return lines[0]


def check_convert(run: Run, out: Path) -> str:
    wheels = sorted(out.iterdir()) if out.exists() else []
    if run.code == 0:
        assert len(wheels) == 1 and wheels[0].suffix == ".whl", wheels
        check_wheel(wheels[0])
        return "convert: wheel"
    assert run.code == 2, (run.code, run.stderr[-3000:])
    line = one_error_line(run.stderr)
    assert line.startswith("condawheel: error: "), line
    assert not wheels, f"left in the output folder after a failure: {wheels}"
    return "convert: exit 2"


def check_inspect(run: Run, out: Path) -> str:
    assert not out.exists() or not any(out.iterdir()), "inspect wrote something"
    objects = [json.loads(line) for line in run.stdout.splitlines()]
    assert all(isinstance(o, dict) for o in objects)
    if run.code == 0:
        assert len(objects) == 1 and "wheel" in objects[0], run.stdout[:2000]
        return "inspect: report"
    assert run.code == 2, (run.code, run.stderr[-3000:])
    errors = [o["error"] for o in objects if "error" in o]
    if errors:
        assert len(errors) == 1 and not run.stderr.strip(), (errors, run.stderr)
        one_error_line(errors[0])
    else:
        one_error_line(run.stderr)
    return "inspect: exit 2"


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory, corpus: Path) -> list[Parts]:
    folder = tmp_path_factory.mktemp("fuzz-seeds")
    paths = [*built_seeds(folder), *corpus_seeds(corpus)]
    assert any(p.name.endswith(".conda") for p in paths)
    assert any(p.name.endswith(".tar.bz2") for p in paths)
    return [parts_of(p) for p in paths]


def test_seeds_convert_cleanly(seeds: list[Parts], tmp_path: Path) -> None:
    """Unmutated, every seed gives a valid wheel: the mutants start from good input."""
    for index, parts in enumerate(seeds):
        package = tmp_path / "in" / str(index) / parts.filename
        package.parent.mkdir(parents=True)
        package.write_bytes(parts.build())
        out = tmp_path / "out" / str(index)
        run = run_main("convert", str(package), "-w", str(out))
        assert run.code == 0, (parts.filename, run.stderr)
        check_wheel(next(out.iterdir()))


def test_fuzz(seeds: list[Parts], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    # Held binaries go to TMPDIR: a leftover there is a leak too.
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    figures = Figures()

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=(Phase.generate, Phase.shrink),
        suppress_health_check=list(HealthCheck),
    )
    @given(
        seed=st.integers(0, len(seeds) - 1),
        rng_seed=st.integers(0, 2**32 - 1),
        rounds=st.integers(1, 3),
        command=st.sampled_from(("convert", "inspect")),
    )
    def one_input(seed: int, rng_seed: int, rounds: int, command: str) -> None:
        parts, mutations = mutant(seeds[seed], random.Random(rng_seed), rounds=rounds)
        label = f"seed={seed} rng_seed={rng_seed} rounds={rounds} {command} {mutations}"
        work = tmp_path / "work"
        shutil.rmtree(work, ignore_errors=True)
        package = work / "in" / parts.filename
        package.parent.mkdir(parents=True)
        package.write_bytes(parts.build())
        out = work / "out"
        before = snapshot(work)
        with contextlib.chdir(work):
            if command == "convert":
                run = run_main("convert", str(package), "-w", str(out))
                outcome = check_convert(run, out)
            else:
                run = run_main("inspect", str(package), "--json")
                outcome = check_inspect(run, out)
        after = {k: v for k, v in snapshot(work).items() if not k.startswith("out")}
        assert after == before, f"written outside the output folder: {set(after) ^ set(before)}"
        assert not any(scratch.iterdir()), f"left in TMPDIR: {list(scratch.iterdir())}"
        assert run.seconds < SLOW_SECONDS, f"{label} took {run.seconds:.1f} s"
        figures.inputs += 1
        figures.outcomes[outcome] += 1
        for name in set(mutations):
            figures.by_mutation[f"{name}: {outcome}"] += 1
        if run.seconds > figures.slowest[0]:
            figures.slowest = (run.seconds, label)

    one_input()
    report = figures.as_json()
    print(json.dumps(report, indent=2))
    if target := os.environ.get("CONDAWHEEL_FUZZ_REPORT"):
        Path(target).write_text(json.dumps(report, indent=2) + "\n")
    assert figures.inputs >= min(EXAMPLES, 5000) * 0.95
