#!/usr/bin/env python
"""Benchmark `condawheel mirror`: a first run over a local channel, then a second one.

The channel is made in a temporary folder: ``--builds`` synthetic builds (noarch Python
packages and linux-64 library packages, from a seed, made with the tests'
CondaPackageBuilder) and, unless ``--no-corpus``, the real conda-forge packages of
``../shared/corpus/real/{linux-64,noarch}``, indexed with py-rattler. Both runs are the
command as a user types it, in a fresh process, against a ``file://`` URL of the channel
with an empty cache at first: the first downloads (copies) and converts everything, the
second finds everything done. The figure is the second run's wall time over the first's
(target: at most 0.20), measured in the same invocation. Peak RSS is the command's own
(its conversion workers are not its children). Exits 0 when both runs ran, whether or
not the target was met; 1 if a run failed or the second converted anything.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "real"
SUBDIRS = ("linux-64", "noarch")
TARGET = 0.20
sys.path.insert(0, str(ROOT / "tests" / "support"))


def make_channel(channel: Path, builds: int, *, seed: int, corpus: bool) -> int:
    """Write the channel; returns how many package files it holds."""
    from builders import CondaPackageBuilder
    from condawheel.building.recipes import index_channel

    rng = random.Random(seed)
    words = [f"word{i}" for i in range(2000)]
    for i in range(builds):
        version = f"1.{i % 7}"
        if i % 2:
            builder = CondaPackageBuilder(
                name=f"py-bench{i}", version=version, build="pyh0_0", noarch="python"
            )
            for module in range(30):
                text = " ".join(rng.choices(words, k=rng.randint(300, 3000)))
                builder.add_file(f"site-packages/bench{i}/m{module}.py", f'"""{text}"""\n')
            builder.add_dist_info(f"bench{i}", version)
            builder.build(channel / "noarch")
        else:
            builder = CondaPackageBuilder(
                name=f"libbench{i}", version=version, build="h0_0", subdir="linux-64"
            )
            builder.add_file(f"lib/libbench{i}.a", rng.randbytes(rng.randint(100_000, 600_000)))
            for header in range(20):
                text = " ".join(rng.choices(words, k=rng.randint(100, 1000)))
                builder.add_file(f"include/bench{i}/h{header}.h", f"/* {text} */\n")
            builder.build(channel / "linux-64")
    if corpus and CORPUS.is_dir():
        for subdir in SUBDIRS:
            for package in sorted((CORPUS / subdir).iterdir()):
                shutil.copy(package, channel / subdir / package.name)
    (channel / "noarch").mkdir(parents=True, exist_ok=True)
    index_channel(channel)
    return sum(1 for s in SUBDIRS for p in (channel / s).iterdir() if p.name != "repodata.json")


def run_mirror(channel: Path, out: Path, cache: Path, jobs: int) -> dict[str, object]:
    """One run of the command: its wall time, peak RSS and summary."""
    command = [sys.executable, "-m", "condawheel", "mirror", channel.as_uri(), "-w", str(out)]
    command += ["--cache-dir", str(cache), "-j", str(jobs), "--json"]
    for subdir in SUBDIRS:
        command += ["--subdir", subdir]
    # Byte-code cached as an installed condawheel has it (the tests' setting may say not).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=stdout, stderr=stderr, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = code = os.waitstatus_to_exitcode(status)
        stdout.seek(0)
        stderr.seek(0)
        lines, errors = stdout.read().decode().splitlines(), stderr.read().decode()
    if code not in (0, 2):
        raise SystemExit(f"mirror failed (exit {code}):\n{errors[-3000:]}")
    summary = json.loads(lines[-1])["summary"]
    rss = usage.ru_maxrss / 1024  # KiB on Linux
    return {"seconds": seconds, "peak_rss_mib": rss, **summary}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--builds", type=int, default=200, help="synthetic builds (200)")
    parser.add_argument("--no-corpus", action="store_true", help="leave the real corpus out")
    parser.add_argument("-j", "--jobs", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", type=Path, help="where to work (default: a temp folder)")
    parser.add_argument("--json", action="store_true", help="the figures as JSON")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="mirror-bench-", dir=args.workdir))
    try:
        files = make_channel(
            work / "channel", args.builds, seed=args.seed, corpus=not args.no_corpus
        )
        out, cache = work / "out", work / "cache"
        first = run_mirror(work / "channel", out, cache, args.jobs)
        second = run_mirror(work / "channel", out, cache, args.jobs)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    ratio = float(second["seconds"]) / float(first["seconds"])  # type: ignore[arg-type]
    figures = {"package_files": files, "jobs": args.jobs, "first": first, "second": second}
    figures["second_over_first"] = ratio
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(f"channel: {files} package files, -j {args.jobs}")
        for name, run in (("first", first), ("second", second)):
            print(
                f"{name:>6} run: {run['seconds']:7.2f} s  peak RSS {run['peak_rss_mib']:6.1f} MiB"
                f"  converted {run['converted']}, done {run['done']}, skipped {run['skipped']}"
            )
        verdict = "met" if ratio <= TARGET else "NOT met"
        print(f"second / first: {ratio:.3f} (target <= {TARGET:.2f}: {verdict})")
    return 0 if second["converted"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
