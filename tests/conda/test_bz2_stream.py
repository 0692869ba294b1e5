"""`.tar.bz2` decoded by indexed_bzip2: the same members on any number of threads, and
a stream left half-read never takes the interpreter down with it."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest

from builders import CondaPackageBuilder
from condawheel.conda.source import PackageSource


@pytest.fixture(scope="module")
def large_bz2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Over the size from which several threads decode it."""
    builder = CondaPackageBuilder(name="big", version="1.0")
    noise = random.Random(11)
    for i in range(5):
        builder.add_file(f"share/big/part{i}.bin", noise.randbytes(2_000_000))
    return builder.build(tmp_path_factory.mktemp("bz2"), "tar.bz2")


def _members(package: Path, threads: int) -> list[tuple[str, bytes]]:
    source = PackageSource(package, threads=threads)
    source.read_info()
    return [(m.path, m.stream.read() if m.stream else b"") for m in source.members()]


def test_threads_decode_the_same_members(large_bz2: Path) -> None:
    assert large_bz2.stat().st_size > 8 * 1024 * 1024
    one = _members(large_bz2, 1)
    assert one == _members(large_bz2, 2)
    assert [path for path, _ in one] == [f"share/big/part{i}.bin" for i in range(5)]


def test_a_stream_abandoned_half_read_ends_cleanly(large_bz2: Path) -> None:
    code = (
        "import sys\nfrom pathlib import Path\n"
        "from condawheel.conda.source import PackageSource\n"
        "source = PackageSource(Path(sys.argv[1]), threads=2)\n"
        "source.read_info()\n"
        "member = next(source.members())\n"
        "member.stream.read(1000)\n"
        "print('left')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(large_bz2)], capture_output=True, text=True
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "left\n", "")
