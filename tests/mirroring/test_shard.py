"""`--shard K/N`: parsed strictly, and a partition of the builds that does not depend
on which other builds there are."""

from __future__ import annotations

import pytest

from condawheel.conda.cache import ChannelPackage
from condawheel.exceptions import ConfigurationError
from condawheel.mirroring.shard import Shard


def build(subdir: str, file_name: str) -> ChannelPackage:
    name, version, rest = file_name.rsplit("-", 2)
    return ChannelPackage(
        name=name,
        version=version,
        build=rest.split(".")[0],
        subdir=subdir,
        url=f"https://example.org/{subdir}/{file_name}",
        file_name=file_name,
    )


BUILDS = [
    build(subdir, f"pkg{i}-1.{j}-h{i}_0.conda")
    for subdir in ("linux-64", "noarch")
    for i in range(20)
    for j in range(3)
]


@pytest.mark.parametrize("text", ["1/1", "3/7", " 2/2 "])
def test_k_of_n(text: str) -> None:
    shard = Shard.parse(text)
    assert str(shard) == text.strip()


@pytest.mark.parametrize("text", ["0/1", "2/1", "1/0", "1", "a/b", "1/2/3", "-1/2", ""])
def test_anything_else_is_a_configuration_error(text: str) -> None:
    with pytest.raises(ConfigurationError, match=r"give K/N with 1 <= K <= N"):
        Shard.parse(text)


@pytest.mark.parametrize("count", [1, 2, 3, 8])
def test_the_shards_partition_the_builds(count: int) -> None:
    parts = [
        [b for b in BUILDS if Shard(index=k, count=count).holds(b)] for k in range(1, count + 1)
    ]
    assert sorted(b.url for part in parts for b in part) == sorted(b.url for b in BUILDS)
    assert all(parts)  # 120 builds spread over at most 8 parts: none empty


def test_a_build_stays_in_its_shard_whatever_else_the_channel_holds() -> None:
    shard = Shard(index=2, count=5)
    mine = {b.url for b in BUILDS if shard.holds(b)}
    assert {b.url for b in BUILDS[::-1][:50] if shard.holds(b)} <= mine
    rebuilt = build("linux-64", "pkg3-1.0-h3_0.conda")  # another sha256, the same name
    assert shard.holds(rebuilt) == (rebuilt.url in mine)
