"""The archive cache on its own: package records made by hand, archives from file://."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from builders import CondaPackageBuilder
from condawheel.conda.cache import ArchiveCache, ChannelPackage, Solution, local_path
from condawheel.exceptions import BadInputError


def _record(archive: Path, **overrides: object) -> ChannelPackage:
    data = archive.read_bytes()
    fields: dict[str, object] = {
        "name": "demo",
        "version": "1.0",
        "build": "0",
        "subdir": "noarch",
        "url": archive.as_uri(),
        "file_name": archive.name,
        "sha256": hashlib.sha256(data).hexdigest(),
        "md5": hashlib.md5(data, usedforsecurity=False).hexdigest(),
        "size": len(data),
    }
    fields.update(overrides)
    return ChannelPackage(**fields)  # type: ignore[arg-type]


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    builder = CondaPackageBuilder(name="demo", version="1.0", noarch="python")
    return builder.add_file("site-packages/demo/__init__.py", "").build(tmp_path / "channel")


def _solution(*requested: ChannelPackage) -> Solution:
    return Solution(subdir="linux-64", requested=requested, dependencies=())


def test_a_package_is_stored_under_its_sha256_and_its_own_name(
    archive: Path, tmp_path: Path
) -> None:
    cache = ArchiveCache(tmp_path / "cache")
    record = _record(archive)
    fetched = cache.fetch(_solution(record))
    (path,) = fetched.requested
    assert path == tmp_path / "cache" / "pkgs" / str(record.sha256) / archive.name
    assert path.read_bytes() == archive.read_bytes()
    assert fetched.downloaded == (record.url,)
    assert cache.holds(record)
    assert cache.fetch(_solution(record)).downloaded == ()  # the second time, from the cache


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"sha256": "0" * 64}, "sha256 [0-9a-f]{64} does not match the channel's index"),
        ({"sha256": None, "md5": "0" * 32}, "md5 [0-9a-f]{32} does not match"),
        ({"sha256": None, "md5": None, "size": 3}, "more than the 3 bytes"),
        ({"sha256": None, "md5": None, "size": 10**6}, "size [0-9]+ does not match"),
    ],
)
def test_what_does_not_match_the_index_never_enters_the_cache(
    archive: Path, tmp_path: Path, overrides: dict[str, object], message: str
) -> None:
    cache = ArchiveCache(tmp_path / "cache")
    with pytest.raises(BadInputError, match=message):
        cache.fetch(_solution(_record(archive, **overrides)))
    assert [p for p in (tmp_path / "cache").rglob("*") if p.is_file()] == []


def test_a_file_whose_size_changed_is_fetched_again(archive: Path, tmp_path: Path) -> None:
    cache = ArchiveCache(tmp_path / "cache")
    record = _record(archive)
    (path,) = cache.fetch(_solution(record)).requested
    path.write_bytes(b"cut")
    assert not cache.holds(record)
    assert cache.missing(_solution(record)) == (record,)
    cache.fetch(_solution(record))
    assert path.read_bytes() == archive.read_bytes()


def test_a_download_longer_than_the_index_says_stops_there(archive: Path, tmp_path: Path) -> None:
    record = _record(archive, size=100)
    with pytest.raises(BadInputError, match=r"more than the 100 bytes the channel's index gives"):
        ArchiveCache(tmp_path / "cache").fetch(_solution(record))
    assert [p for p in (tmp_path / "cache").rglob("*") if p.is_file()] == []


def test_a_missing_local_package_is_one_line(tmp_path: Path, archive: Path) -> None:
    record = _record(archive, url=(tmp_path / "gone.conda").as_uri())
    with pytest.raises(
        BadInputError, match=r"cannot read file://.*gone\.conda: No such file.*index up to date"
    ):
        ArchiveCache(tmp_path / "cache").fetch(_solution(record))


def test_local_path_of_a_file_url(tmp_path: Path) -> None:
    assert local_path((tmp_path / "a b.conda").as_uri()) == tmp_path / "a b.conda"
