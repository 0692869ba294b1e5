"""`mirror` on a channel made in code: every good build converted, the broken one
skipped, a second run converting nothing, changed builds converted again, shards that
split the work and merge into the index of one run, and a channel served over HTTP."""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from pathlib import Path

import pytest

from builders import CondaPackageBuilder
from channel import (
    MIRROR_BROKEN,
    MIRROR_GOOD,
    build_mirror_channel,
    copy_channel,
    mirror_output,
    mirror_package,
)
from condawheel.building.recipes import index_channel
from condawheel.conversion.plan import ConvertOptions
from condawheel.exceptions import BadInputError
from condawheel.mirroring.core import MirroredBuild, MirrorOptions, MirrorResult, mirror
from condawheel.mirroring.shard import Shard
from condawheel.mirroring.state import STATE_DIR
from condawheel.publishing import static_index
from condawheel.publishing.static_index import build_index
from servers import serve_folder
from validator import validate_wheel
from wheelmaker import make_wheel

SUBDIRS = ("linux-64", "noarch")


@pytest.fixture(scope="module")
def channel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_mirror_channel(tmp_path_factory.mktemp("mirror-channel"))


def run(
    channel: Path | str, out: Path, cache: Path, **options: object
) -> tuple[MirrorResult, list[MirroredBuild]]:
    outcomes: list[MirroredBuild] = []
    settings = MirrorOptions(subdirs=SUBDIRS, cache_dir=cache, **options)  # type: ignore[arg-type]
    result = mirror(str(channel), out, settings, on_build=outcomes.append)
    return result, outcomes


def by_status(outcomes: list[MirroredBuild], status: str) -> list[str]:
    return [o.build for o in outcomes if o.status == status]


def test_every_good_build_is_converted_and_the_broken_one_skipped(
    channel: Path, tmp_path: Path
) -> None:
    started: list[int] = []
    outcomes: list[MirroredBuild] = []
    options = MirrorOptions(subdirs=SUBDIRS, cache_dir=tmp_path / "cache")
    out = tmp_path / "out"
    result = mirror(
        channel.as_uri(), out, options, on_start=started.append, on_build=outcomes.append
    )
    assert started == [6]
    assert [o.build for o in outcomes] == sorted([*MIRROR_GOOD, MIRROR_BROKEN])
    assert by_status(outcomes, "converted") == list(MIRROR_GOOD)
    (broken,) = [o for o in outcomes if o.status == "skipped"]
    assert broken.build == MIRROR_BROKEN and broken.wheel is None
    assert broken.reason is not None and "escapes the package" in broken.reason
    assert (result.converted, result.done, result.skipped) == (5, 0, 1)
    wheels = sorted(out.glob("*.whl"))
    assert [w for w in (o.wheel for o in outcomes) if w is not None] == [
        out / name
        for name in (
            "libgamma-1.0-0_h0_0-py3-none-conda_linux_2_17_x86_64.whl",
            "libgamma-1.1-0_h0_0-py3-none-conda_linux_2_17_x86_64.whl",
            "data_beta-1.0-0_0-py3-none-conda_noarch.whl",
            "alpha-1.0-0_pyh0_0-py3-none-any.whl",
            "alpha-1.1-0_pyh0_0-py3-none-any.whl",
        )
    ]
    for wheel in wheels:
        validate_wheel(wheel)
    # The index is the one `condawheel index` writes for the folder.
    assert result.index is not None and len(result.index.wheels) == 5
    index = mirror_output(out / "simple")
    assert build_index(out).written == ()
    assert mirror_output(out / "simple") == index


def test_a_second_run_converts_nothing_and_reads_no_wheel(
    channel: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, cache = tmp_path / "out", tmp_path / "cache"
    run(channel, out, cache)
    before = {p: p.stat().st_mtime_ns for p in out.glob("*.whl")}
    index = mirror_output(out / "simple")

    def no_reading(path: Path) -> None:
        raise AssertionError(f"{path} was read again")

    monkeypatch.setattr(static_index, "WheelInput", no_reading)
    result, outcomes = run(channel, out, cache)
    assert mirror_output(out / "simple") == index
    assert (result.converted, result.done, result.skipped) == (0, 5, 1)
    assert by_status(outcomes, "done") == list(MIRROR_GOOD)
    assert {p: p.stat().st_mtime_ns for p in out.glob("*.whl")} == before


def test_other_settings_convert_everything_again(channel: Path, tmp_path: Path) -> None:
    out, cache = tmp_path / "out", tmp_path / "cache"
    run(channel, out, cache)
    failure = json.loads((out / STATE_DIR / f"{MIRROR_BROKEN}.json").read_text())
    assert "escapes the package" in failure["failed"]
    plain = ConvertOptions(plain_tags=True)
    result, outcomes = run(channel, out, cache, convert=plain)
    assert (result.converted, result.done, result.skipped) == (5, 0, 1)
    assert "libgamma-1.0-0_h0_0-py3-none-linux_x86_64.whl" in {
        o.wheel.name for o in outcomes if o.wheel is not None
    }


def test_a_changed_build_and_a_lost_wheel_are_converted_again(
    channel: Path, tmp_path: Path
) -> None:
    channel = copy_channel(channel, tmp_path / "channel")
    out, cache = tmp_path / "out", tmp_path / "cache"
    _, first = run(channel, out, cache)
    wheels = {o.build: o.wheel for o in first if o.wheel is not None}
    old = wheels["noarch/py-alpha-1.0-pyh0_0.conda"]
    assert old is not None
    old_bytes = old.read_bytes()
    mirror_package("py-alpha", "1.0", content="  # rebuilt").build(channel / "noarch")
    index_channel(channel)
    lost = wheels["noarch/data-beta-1.0-0.conda"]
    assert lost is not None
    lost.unlink()
    result, outcomes = run(channel, out, cache)
    assert by_status(outcomes, "converted") == [
        "noarch/data-beta-1.0-0.conda",
        "noarch/py-alpha-1.0-pyh0_0.conda",
    ]
    assert (result.converted, result.done, result.skipped) == (2, 3, 1)
    assert old.read_bytes() != old_bytes and lost.is_file()
    entry = json.loads((out / STATE_DIR / "noarch/py-alpha-1.0-pyh0_0.conda.json").read_text())
    package = channel / "noarch/py-alpha-1.0-pyh0_0.conda"
    assert entry["sha256"] == hashlib.sha256(package.read_bytes()).hexdigest()


def test_strict_stops_at_the_first_build_that_cannot_be_converted(
    channel: Path, tmp_path: Path
) -> None:
    with pytest.raises(BadInputError, match=f"^{MIRROR_BROKEN}: .*escapes the package.*--strict"):
        run(channel, tmp_path / "out", tmp_path / "cache", strict=True)


def test_shards_are_disjoint_and_merge_into_the_index_of_one_run(
    channel: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    # The whole on two processes, the parts in this one: the same bytes either way.
    whole, _ = run(channel, tmp_path / "whole", cache, jobs=2)
    merged = tmp_path / "merged"
    merged.mkdir()
    parts: list[set[str]] = []
    for k in (1, 2, 3):
        part = tmp_path / f"part-{k}"
        result, outcomes = run(channel, part, cache, shard=Shard(index=k, count=3))
        assert result.other_shards == 6 - len(outcomes)
        parts.append({o.build for o in outcomes})
        shutil.copytree(part, merged, dirs_exist_ok=True)
    assert sum(len(p) for p in parts) == len(set().union(*parts)) == 6
    assert all(parts), "with these names each of the 3 shards has builds"
    build_index(merged)
    assert mirror_output(merged) == mirror_output(tmp_path / "whole")
    # The merged state is the state of one run: nothing left to convert.
    again, _ = run(channel, merged, cache)
    assert (again.converted, again.done, whole.converted) == (0, 5, 5)


def test_a_channel_over_http_with_a_corrupt_download(channel: Path, tmp_path: Path) -> None:
    longer_key = "linux-64/libgamma-1.0-h0_0.conda"
    served = copy_channel(channel, tmp_path / "served")
    (served / "noarch/data-beta-1.0-0.conda").write_bytes(b"not the package the index describes")
    longer = served / "linux-64/libgamma-1.0-h0_0.conda"
    longer.write_bytes(longer.read_bytes() + b"and more")
    with serve_folder(served) as url:
        result, outcomes = run(url, tmp_path / "out", tmp_path / "cache")
    skipped = {o.build: o.reason or "" for o in outcomes if o.status == "skipped"}
    assert set(skipped) == {MIRROR_BROKEN, "noarch/data-beta-1.0-0.conda", longer_key}
    assert "does not match the channel's index" in skipped["noarch/data-beta-1.0-0.conda"]
    assert "bytes the channel's index gives" in skipped[longer_key], skipped[longer_key]
    assert result.converted == 3
    assert all(o.url.startswith(url) for o in outcomes)
    assert not list((tmp_path / "cache" / "pkgs").rglob("data-beta*"))
    assert not list((tmp_path / "cache" / "pkgs").rglob("libgamma-1.0*"))


def _edit_repodata(channel: Path, subdir: str, edit: str) -> None:
    path = channel / subdir / "repodata.json"
    index = json.loads(path.read_text())
    (name, record), *_ = index["packages.conda"].items()
    if edit == "traversal":
        del index["packages.conda"][name]
        index["packages.conda"][f"../../{name}"] = record
    elif edit == "type":
        record["size"] = "large"
    elif edit == "no-sha256":
        del record["sha256"]
    path.write_text(json.dumps(index))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ("traversal", "is not a valid package name"),
        ("type", 'invalid type: string "large"'),
    ],
)
def test_a_hostile_index_converts_nothing(
    channel: Path, tmp_path: Path, edit: str, message: str
) -> None:
    channel = copy_channel(channel, tmp_path / "channel")
    _edit_repodata(channel, "noarch", edit)
    with pytest.raises(BadInputError) as caught:
        run(channel, tmp_path / "out", tmp_path / "cache")
    text = str(caught.value)
    assert text.startswith(f"{channel.as_uri()}/noarch/repodata.json: ") and message in text
    assert "\n" not in text
    assert not list((tmp_path / "out").glob("*.whl"))


def test_a_build_without_sha256_is_skipped(channel: Path, tmp_path: Path) -> None:
    channel = copy_channel(channel, tmp_path / "channel")
    _edit_repodata(channel, "noarch", "no-sha256")
    result, outcomes = run(channel, tmp_path / "out", tmp_path / "cache")
    skipped = [o for o in outcomes if o.status == "skipped" and o.build != MIRROR_BROKEN]
    assert len(skipped) == 1 and "gives no sha256" in (skipped[0].reason or "")
    assert result.skipped == 2


def test_the_default_subdirs_may_be_missing_a_given_one_may_not(
    channel: Path, tmp_path: Path
) -> None:
    noarch_only = tmp_path / "noarch-only"
    shutil.copytree(channel / "noarch", noarch_only / "noarch")
    options = MirrorOptions(cache_dir=tmp_path / "cache")  # this machine's subdir, and noarch
    result = mirror(str(noarch_only), tmp_path / "out", options)
    assert (result.converted, result.skipped) == (3, 0)
    with pytest.raises(BadInputError) as caught:
        run(noarch_only, tmp_path / "out", tmp_path / "cache")
    assert str(caught.value).startswith(
        f"cannot read {noarch_only.as_uri()}/linux-64/repodata.json: repodata not found"
    )


def test_two_builds_that_give_one_wheel(channel: Path, tmp_path: Path) -> None:
    """Two conda packages with one PyPI name and the same version and build string: the
    first (in the channel's order) keeps the wheel, on every run; the other is skipped."""
    channel = copy_channel(channel, tmp_path / "channel")
    twin = CondaPackageBuilder(name="alpha", version="1.0", build="pyh0_0", noarch="python")
    twin.add_file("site-packages/alpha/__init__.py", "TWIN = True\n").add_dist_info("alpha", "1.0")
    twin.build(channel / "noarch")
    index_channel(channel)
    out, cache = tmp_path / "out", tmp_path / "cache"
    for converted in (5, 0):  # the twin is tried again, in case alpha left the channel
        result, outcomes = run(channel, out, cache)
        reasons = {o.build: o.reason or "" for o in outcomes if o.status == "skipped"}
        assert set(reasons) == {MIRROR_BROKEN, "noarch/py-alpha-1.0-pyh0_0.conda"}
        assert reasons["noarch/py-alpha-1.0-pyh0_0.conda"].startswith(
            "it gives the wheel alpha-1.0-0_pyh0_0-py3-none-any.whl, which "
            "noarch/alpha-1.0-pyh0_0.conda gave first"
        )
        assert result.converted == converted
        wheel = out / "alpha-1.0-0_pyh0_0-py3-none-any.whl"
        assert validate_wheel(wheel).files and b"TWIN" in _member(wheel, "alpha/__init__.py")


def _member(wheel: Path, name: str) -> bytes:
    with zipfile.ZipFile(wheel) as archive:
        return archive.read(name)


def test_a_conda_file_added_beside_a_tar_bz2_takes_its_wheel_over(
    channel: Path, tmp_path: Path
) -> None:
    channel = copy_channel(channel, tmp_path / "channel")
    out, cache = tmp_path / "out", tmp_path / "cache"
    _, first = run(channel, out, cache)
    (wheel,) = [o.wheel for o in first if o.build == "linux-64/libgamma-1.1-h0_0.tar.bz2"]
    assert wheel is not None
    before = wheel.read_bytes()
    mirror_package("libgamma", "1.1").build(channel / "linux-64", "conda")
    index_channel(channel)
    result, outcomes = run(channel, out, cache)
    assert (result.converted, result.done) == (1, 4)
    assert by_status(outcomes, "converted") == ["linux-64/libgamma-1.1-h0_0.conda"]
    assert by_status(outcomes, "skipped") == [MIRROR_BROKEN]
    assert wheel.read_bytes() == before  # either format gives the same wheel


def test_prune_removes_what_came_from_builds_the_channel_dropped(
    channel: Path, tmp_path: Path
) -> None:
    channel = copy_channel(channel, tmp_path / "channel")
    out, cache = tmp_path / "out", tmp_path / "cache"
    run(channel, out, cache)
    foreign = make_wheel(out, "someone_else", "1.0")
    (channel / "noarch" / "data-beta-1.0-0.conda").unlink()
    index_channel(channel)
    dropped = out / "data_beta-1.0-0_0-py3-none-conda_noarch.whl"
    kept, _ = run(channel, out, cache)
    assert (kept.done, kept.pruned) == (4, 0) and dropped.is_file()
    result, outcomes = run(channel, out, cache, prune=True)
    assert [(o.build, o.wheel) for o in outcomes if o.status == "pruned"] == [
        ("noarch/data-beta-1.0-0.conda", dropped)
    ]
    assert (result.done, result.pruned) == (4, 1)
    assert not dropped.exists() and not Path(f"{dropped}.metadata").exists()
    assert not (out / STATE_DIR / "noarch" / "data-beta-1.0-0.conda.json").exists()
    assert not (out / "simple" / "data-beta").exists()
    assert foreign.is_file()  # never written by the mirror: never removed by it
    again, _ = run(channel, out, cache, prune=True)
    assert again.pruned == 0
