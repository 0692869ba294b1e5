#!/usr/bin/env python
"""Benchmark a batch across cores, and memory against the number of files.

* ``batch``: every package of the corpus (``../shared/corpus`` beside the checkout) converted
  by ``convert_many`` with ``-j 1`` and with ``-j`` the machine's cores, each in a fresh
  process: packages per second, and the two sets of wheels compared byte for byte.
* ``files``: synthetic packages of many small files (10,000 and 100,000 by default),
  each converted on all cores in a fresh process: peak RSS, which must stay flat in the
  number of files (the growth per file is printed).

Run ``python benchmarks/batch_bench.py --help`` for the options. It exits 0 when
everything ran, whether or not the targets were met, and 1 if something failed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import convert_bench as cb  # the package builder, beside this script

MIB = 1024 * 1024
#: `-j 2` at least this much faster than `-j 1` on the corpus.
TARGET_BATCH_SPEEDUP = 1.5
TARGET_RSS_MIB = 150.0
DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


def cores() -> int:
    return len(os.sched_getaffinity(0))


def corpus_packages(corpus: Path) -> list[Path]:
    return sorted(p for p in corpus.rglob("*") if p.name.endswith((".conda", ".tar.bz2")))


# --------------------------------------------------------------------------------------
# Children: each measurement runs alone in a fresh interpreter
# --------------------------------------------------------------------------------------


def child_batch(packages: list[Path], out: Path, jobs: int) -> dict[str, Any]:
    from condawheel.conversion.batch import convert_many

    start = time.perf_counter()
    items = list(convert_many(packages, out, jobs=jobs))
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "converted": sum(1 for i in items if i.result is not None)}


def child_convert(package: Path, out: Path) -> dict[str, Any]:
    from condawheel.conversion.core import convert
    from condawheel.conversion.plan import ConvertOptions

    start = time.perf_counter()
    result = convert(package, out, ConvertOptions(overwrite=True))
    return {"seconds": time.perf_counter() - start, "output": str(result.wheel)}


def own_peak_rss_mib() -> float | None:
    """This process's peak RSS since it started (VmHWM). wait4's ru_maxrss is not that
    on Linux: it also counts the parent's memory that the child shared before exec."""
    peak: float | None = cb.status_mib("VmHWM")
    return peak


def run_child(args: list[str]) -> tuple[dict[str, Any], float]:
    """Run this script as a child; its result and its peak RSS in MiB (wait4)."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        result = Path(handle.name)
    try:
        proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--child", str(result), *args],
            stdout=subprocess.DEVNULL,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"error: child {args} failed")
        return json.loads(result.read_text()), usage.ru_maxrss / 1024
    finally:
        result.unlink(missing_ok=True)


# --------------------------------------------------------------------------------------
# The measurements
# --------------------------------------------------------------------------------------


def _hashes(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def bench_batch(corpus: Path, work: Path, repeat: int) -> dict[str, Any]:
    packages = corpus_packages(corpus)
    if not packages:
        raise SystemExit(f"error: no packages in {corpus}")
    listing = work / "packages.json"
    listing.write_text(json.dumps([str(p) for p in packages]))
    times: dict[int, list[float]] = {1: [], cores(): []}
    outputs: dict[int, dict[str, str]] = {}
    converted = 0
    for _ in range(repeat):
        for jobs in times:  # interleaved, so drift hits both alike
            out = work / f"batch-{jobs}"
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir()
            result, _rss = run_child(["batch", str(listing), str(out), str(jobs)])
            times[jobs].append(result["seconds"])
            converted = result["converted"]
            outputs[jobs] = _hashes(out)
            cb._log(f"  batch -j {jobs}: {result['seconds']:.2f} s")
    best = {jobs: min(t) for jobs, t in times.items()}
    return {
        "packages": len(packages),
        "converted": converted,
        "seconds": times,
        "packages_per_second": {jobs: len(packages) / s for jobs, s in best.items()},
        "speedup": best[1] / best[cores()],
        "same_wheels": len(set(map(json.dumps, outputs.values()))) == 1,
    }


def many_files_package(work: Path, count: int) -> Path:
    """A `.conda` of ``count`` small text files, built with convert_bench's builder."""
    folder = work / f"files-{count}"
    folder.mkdir(exist_ok=True)
    specs = []
    for i in range(count):
        data = b"".join(b"file %d, line %d of a small text file\n" % (i, k) for k in range(8))
        path = f"share/many/d{i // 1000:03d}/f{i:06d}.txt"
        specs.append(cb.FileSpec(path, "fixed", len(data), i, data=data))
    stem = f"{cb.NAME}-{cb.VERSION}-{cb.BUILD}"
    package = folder / f"{stem}.conda"
    with tempfile.TemporaryFile(dir=folder) as pkg_tar:
        entries, _end = cb.write_payload_tar(specs, pkg_tar, None)
        size = pkg_tar.tell()
        pkg_tar.seek(0)
        cb._write_conda(package, stem, cb.info_files(entries), pkg_tar, size)
    return package


def bench_files(work: Path, counts: list[int]) -> dict[str, Any]:
    peaks: dict[int, float] = {}
    seconds: dict[int, float] = {}
    for count in counts:
        cb._log(f"  building a package of {count} files ...")
        package = many_files_package(work, count)
        out = work / f"files-out-{count}"
        out.mkdir()
        result, rss = run_child(["convert", str(package), str(out)])
        peaks[count] = result["own_peak_rss_mib"] or rss
        seconds[count] = result["seconds"]
        cb._log(f"  {count} files: {seconds[count]:.2f} s, peak RSS {peaks[count]:.1f} MiB")
        shutil.rmtree(package.parent)
        shutil.rmtree(out)
    low, high = min(counts), max(counts)
    growth = (peaks[high] - peaks[low]) * MIB / (high - low) if high > low else 0.0
    return {"seconds": seconds, "peak_rss_mib": peaks, "bytes_per_file": growth}


def report(batch: dict[str, Any] | None, files: dict[str, Any] | None) -> str:
    lines = [f"setup: python {sys.version.split()[0]}, {cores()} cores"]
    if batch:
        n = cores()
        lines += [
            f"batch: {batch['packages']} corpus packages ({batch['converted']} convert)",
            f"  -j 1: {batch['packages_per_second'][1]:.1f} packages/s; "
            f"-j {n}: {batch['packages_per_second'][n]:.1f} packages/s",
            f"  -j {n} / -j 1 speed-up: {batch['speedup']:.2f} "
            f"(target >= {TARGET_BATCH_SPEEDUP}: "
            f"{'PASS' if batch['speedup'] >= TARGET_BATCH_SPEEDUP else 'FAIL'})",
            f"  same wheels at -j 1 and -j {n}: {'yes' if batch['same_wheels'] else 'NO'}",
        ]
    if files:
        peaks = files["peak_rss_mib"]
        worst = max(peaks.values())
        lines += [
            "files: " + ", ".join(f"{c} files {peaks[c]:.1f} MiB" for c in sorted(peaks)),
            f"  growth per file: {files['bytes_per_file']:.0f} bytes; peak RSS under "
            f"{TARGET_RSS_MIB:.0f} MiB: {'PASS' if worst < TARGET_RSS_MIB else 'FAIL'}",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        result_path, kind, *rest = argv[1:]
        if kind == "batch":
            packages = [Path(p) for p in json.loads(Path(rest[0]).read_text())]
            result = child_batch(packages, Path(rest[1]), int(rest[2]))
        else:
            result = child_convert(Path(rest[0]), Path(rest[1]))
        result["own_peak_rss_mib"] = own_peak_rss_mib()
        Path(result_path).write_text(json.dumps(result))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--repeat", type=int, default=3, help="batch runs per -j (3)")
    parser.add_argument(
        "--files", default="10000,100000", help="file counts of the many-files packages"
    )
    parser.add_argument("--skip", choices=("batch", "files"), action="append", default=[])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="condawheel-batch-bench-") as temp:
        work = Path(temp)
        batch = None if "batch" in args.skip else bench_batch(args.corpus, work, args.repeat)
        counts = [int(c) for c in args.files.split(",") if c.strip()]
        files = None if "files" in args.skip else bench_files(work, counts)
    if args.json:
        print(json.dumps({"batch": batch, "files": files}, indent=2))
    else:
        print(report(batch, files))
    return 0


if __name__ == "__main__":
    sys.exit(main())
