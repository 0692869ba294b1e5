"""A batch across processes: results in input order, the same wheels as one process."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from builders import CondaPackageBuilder
from condawheel.conversion.batch import BatchItem, convert_many
from condawheel.conversion.plan import ConvertOptions
from condawheel.wheel.deflate import available_cores


def _package(out: Path, index: int) -> Path:
    noise = random.Random(index).randbytes(300_000)
    builder = CondaPackageBuilder(name=f"pkg{index}", version="1.0", noarch="python")
    builder.add_file(f"site-packages/pkg{index}/__init__.py", f"VALUE = {index}\n" * 2000)
    builder.add_file(f"site-packages/pkg{index}/blob.bin", noise)
    builder.add_symlink(f"site-packages/pkg{index}/link.py", "__init__.py")
    return builder.build(out)


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    out = tmp_path_factory.mktemp("batch")
    packages = [_package(out, i) for i in range(5)]
    broken = out / "broken-1.0-0.conda"
    broken.write_bytes(b"not a zip")
    twin = CondaPackageBuilder(name="pkg0", version="1.0", noarch="python")
    twin.add_file("site-packages/pkg0/__init__.py", "VALUE = 0\n" * 2000)
    twin.add_file("site-packages/pkg0/blob.bin", random.Random(0).randbytes(300_000))
    twin.add_symlink("site-packages/pkg0/link.py", "__init__.py")
    same_build = twin.build(out / "bz2", "tar.bz2")
    # A broken package in the middle; the .tar.bz2 of the first build right after it.
    return [packages[0], same_build, packages[1], broken, *packages[2:]]


def _run(packages: list[Path], out: Path, jobs: int) -> list[BatchItem]:
    return list(convert_many(packages, out, ConvertOptions(), jobs=jobs))


def _wheels(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


def test_processes_give_the_same_items_in_order_and_the_same_bytes(
    batch: list[Path], tmp_path: Path
) -> None:
    one = _run(batch, tmp_path / "one", 1)
    two = _run(batch, tmp_path / "two", 2)
    for items in (one, two):
        assert [item.input for item in items] == batch
        assert [item.error is None for item in items] == [
            True, False, True, False, True, True, True
        ]  # fmt: skip
        assert "already exists" in str(items[1].error)
        assert "not a readable conda package" in str(items[3].error)
    assert [i.result.wheel.name for i in one if i.result] == [
        i.result.wheel.name for i in two if i.result
    ]
    assert _wheels(tmp_path / "one") == _wheels(tmp_path / "two")
    assert len(_wheels(tmp_path / "two")) == 5


def test_progress_reaches_the_batch_size(batch: list[Path], tmp_path: Path) -> None:
    seen: list[int] = []
    items = convert_many(batch[:3], tmp_path, jobs=2, on_progress=seen.append)
    assert [item.input for item in items] == batch[:3]
    assert seen == sorted(seen)
    assert seen[-1] == sum(p.stat().st_size for p in batch[:3])


def test_the_default_is_the_cores_this_process_may_use() -> None:
    assert available_cores() == len(os.sched_getaffinity(0))
