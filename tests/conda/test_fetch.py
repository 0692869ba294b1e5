"""Packages by match spec: solved with py-rattler from local channels, downloaded into the cache.

Channels are local (``file://``, or served by a thread on 127.0.0.1); every HTTP(S) proxy
points at a closed port, so that anything else that tried the network would fail at once.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from channel import build_small_channel, copy_channel, find_package, sample_channel
from compilers import requires_gcc
from condawheel.conda.cache import ArchiveCache
from condawheel.conda.fetch import (
    FetchRequest,
    assumed_virtual_packages,
    channel_url,
    fetch,
    solve,
)
from condawheel.defaults import DEFAULT_GLIBC, DEFAULT_MACOS
from condawheel.exceptions import BadInputError, ConfigurationError
from servers import serve_folder

_CLOSED_PORT = "http://127.0.0.1:9"
_PROXIES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy")


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _PROXIES:
        monkeypatch.setenv(name, _CLOSED_PORT)
    # Only the test's own server, on 127.0.0.1, is reached directly.
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    for name in ("GLIBC", "OSX", "CUDA", "LINUX"):
        monkeypatch.delenv(f"CONDA_OVERRIDE_{name}", raising=False)


@pytest.fixture(scope="module")
def small_channel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_small_channel(tmp_path_factory.mktemp("small-channel"))


def request(
    channel: Path | str, *specs: str, cache: Path, subdir: str | None = None
) -> FetchRequest:
    url = channel.as_uri() if isinstance(channel, Path) else channel
    return FetchRequest(specs=specs, channels=(url,), subdir=subdir, cache_dir=cache)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def cached_files(cache: Path) -> list[Path]:
    return sorted(p for p in (cache / "pkgs").rglob("*") if p.is_file())


# -- the sample recipes: pyanswer needs libanswer -------------------------------


@requires_gcc
def test_spec_names_what_is_converted_and_the_rest_are_dependencies(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    channel = sample_channel(tmp_path_factory)
    solution = solve(request(channel, "pyanswer", cache=tmp_path / "cache"))
    assert [p.name for p in solution.requested] == ["pyanswer"]
    assert [p.name for p in solution.dependencies] == ["libanswer"]
    (pyanswer,) = solution.requested
    assert pyanswer.url == find_package(channel, "pyanswer").as_uri()
    assert pyanswer.sha256 == sha256(find_package(channel, "pyanswer"))


@requires_gcc
def test_fetch_verifies_into_the_cache_and_a_second_run_needs_no_channel_files(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    channel = copy_channel(sample_channel(tmp_path_factory), tmp_path / "channel")
    cache = tmp_path / "cache"
    seen: list[int] = []
    first = fetch(request(channel, "pyanswer", cache=cache), on_progress=seen.append)

    pyanswer, libanswer = find_package(channel, "pyanswer"), find_package(channel, "libanswer")
    assert first.requested == (cache / "pkgs" / sha256(pyanswer) / pyanswer.name,)
    assert first.dependencies == (cache / "pkgs" / sha256(libanswer) / libanswer.name,)
    assert sorted(first.downloaded) == sorted([pyanswer.as_uri(), libanswer.as_uri()])
    assert cached_files(cache) == sorted([*first.requested, *first.dependencies])
    for copy, original in ((first.requested[0], pyanswer), (first.dependencies[0], libanswer)):
        assert copy.read_bytes() == original.read_bytes()
    assert seen == sorted(seen) and seen[-1] == pyanswer.stat().st_size + libanswer.stat().st_size

    # The index stays, the archives go: only the cache can provide them now.
    pyanswer.unlink()
    libanswer.unlink()
    second = fetch(request(channel, "pyanswer", cache=cache))
    assert (second.requested, second.dependencies) == (first.requested, first.dependencies)
    assert second.downloaded == ()


# -- specs ----------------------------------------------------------------------


def test_version_spec_selects(small_channel: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    newest = fetch(request(small_channel, "app", cache=cache))
    assert [p.name for p in newest.requested] == ["app-2.0-pyh0_0.conda"]
    older = fetch(request(small_channel, "app 1.*", cache=cache))
    assert [p.name for p in older.requested] == ["app-1.0-pyh0_0.tar.bz2"]
    assert [p.name for p in older.dependencies] == ["py-foo-1.0-pyh0_0.conda"]
    # py-foo came from the cache the second time.
    assert older.downloaded == ((small_channel / "noarch" / "app-1.0-pyh0_0.tar.bz2").as_uri(),)


def test_every_named_package_is_requested(small_channel: Path, tmp_path: Path) -> None:
    solution = solve(request(small_channel, "app", "py-foo", cache=tmp_path))
    assert [p.name for p in solution.requested] == ["app", "py-foo"]
    assert solution.dependencies == ()


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        ("app 3.*", "No candidates were found for app 3.*"),
        ("nothing-here", "nothing-here"),
    ],
)
def test_unsatisfiable_spec_is_one_line(
    small_channel: Path, tmp_path: Path, spec: str, needle: str
) -> None:
    with pytest.raises(BadInputError) as caught:
        solve(request(small_channel, spec, cache=tmp_path))
    message = str(caught.value)
    assert message.startswith(f"cannot solve {spec!r} from {small_channel.as_uri()}")
    assert needle in message and "\n" not in message
    assert not (tmp_path / "pkgs").exists()


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        ("app >=>", "--spec 'app >=>': unable to parse"),
        ("__unix", "--spec '__unix': __unix is a virtual package, there is nothing to convert"),
    ],
)
def test_spec_that_names_nothing_to_convert(
    small_channel: Path, tmp_path: Path, spec: str, needle: str
) -> None:
    with pytest.raises(BadInputError, match="^" + re.escape(needle)):
        solve(request(small_channel, spec, cache=tmp_path))


# -- subdirs and virtual packages -----------------------------------------------


def test_another_subdir_gets_assumed_virtual_packages(small_channel: Path, tmp_path: Path) -> None:
    solution = solve(request(small_channel, "macthing", cache=tmp_path, subdir="osx-arm64"))
    assert solution.subdir == "osx-arm64"
    assert [(p.name, p.subdir) for p in solution.requested] == [("macthing", "osx-arm64")]


def test_conda_override_changes_the_assumed_machine(
    small_channel: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONDA_OVERRIDE_OSX", "11.0")
    with pytest.raises(BadInputError, match=r"macthing 1\.0 would require __osx >=12"):
        solve(request(small_channel, "macthing", cache=tmp_path, subdir="osx-arm64"))


def test_noarch_is_in_every_solve(small_channel: Path, tmp_path: Path) -> None:
    for subdir in ("osx-arm64", "win-64", None):
        solution = solve(request(small_channel, "app", cache=tmp_path, subdir=subdir))
        assert {p.subdir for p in solution.requested + solution.dependencies} == {"noarch"}


def test_assumed_virtual_packages() -> None:
    assert assumed_virtual_packages("linux-aarch64", {}) == (
        ("__unix", "0", "0"),
        ("__linux", "4.18", "0"),
        ("__glibc", DEFAULT_GLIBC, "0"),
        ("__archspec", "1", "aarch64"),
    )
    assert assumed_virtual_packages("osx-arm64", {}) == (
        ("__unix", "0", "0"),
        ("__osx", DEFAULT_MACOS, "0"),
        ("__archspec", "1", "arm64"),
    )
    overrides = {"CONDA_OVERRIDE_GLIBC": "2.17", "CONDA_OVERRIDE_CUDA": "12.4"}
    assert assumed_virtual_packages("win-64", overrides) == (
        ("__win", "0", "0"),
        ("__cuda", "12.4", "0"),
        ("__archspec", "1", "x86_64"),
    )
    assert ("__glibc", "2.17", "0") in assumed_virtual_packages("linux-64", overrides)


@pytest.mark.parametrize(
    ("subdir", "needle"),
    [("noarch", "--subdir noarch: give a platform"), ("linux-65", "--subdir linux-65: not a")],
)
def test_bad_subdir(small_channel: Path, tmp_path: Path, subdir: str, needle: str) -> None:
    with pytest.raises(ConfigurationError, match="^" + needle):
        solve(request(small_channel, "app", cache=tmp_path, subdir=subdir))


# -- channels -------------------------------------------------------------------


def test_channel_names_urls_and_paths(
    small_channel: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert channel_url("conda-forge") == "https://conda.anaconda.org/conda-forge/"
    assert channel_url("https://prefix.dev/conda-forge") == "https://prefix.dev/conda-forge/"
    assert channel_url(small_channel.as_uri()) == small_channel.as_uri() + "/"
    assert channel_url(str(small_channel)) == small_channel.as_uri() + "/"
    monkeypatch.chdir(small_channel.parent)
    assert channel_url(f"./{small_channel.name}") == small_channel.as_uri() + "/"
    # A bare name is a channel on anaconda.org, unless a channel of that name is here.
    assert channel_url(small_channel.name) == small_channel.as_uri() + "/"
    (tmp_path / "plain").mkdir()
    monkeypatch.chdir(tmp_path)
    assert channel_url("plain") == "https://conda.anaconda.org/plain/"


def test_missing_local_channel(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"^--channel .*: no such directory"):
        solve(request(tmp_path / "nowhere", "app", cache=tmp_path))


def test_unreachable_channel_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(BadInputError) as caught:
        solve(request("http://127.0.0.1:9/channel", "app", cache=tmp_path / "cache"))
    message = str(caught.value)
    assert message.startswith("cannot read the channel index from http://127.0.0.1:9/channel/")
    assert "Connection refused" in message and "\n" not in message


def test_http_channel(small_channel: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with serve_folder(small_channel) as url:
        fetched = fetch(request(url, "app", cache=cache))
    assert sorted(fetched.downloaded) == [
        f"{url}noarch/app-2.0-pyh0_0.conda",
        f"{url}noarch/py-foo-1.0-pyh0_0.conda",
    ]
    (app,) = fetched.requested
    assert app.read_bytes() == (small_channel / "noarch" / "app-2.0-pyh0_0.conda").read_bytes()
    assert (cache / "repodata").is_dir()  # rattler's copy of the index


def test_http_download_error(small_channel: Path, tmp_path: Path) -> None:
    channel = copy_channel(small_channel, tmp_path / "channel")
    (channel / "noarch" / "py-foo-1.0-pyh0_0.conda").unlink()
    with serve_folder(channel) as url, pytest.raises(BadInputError) as caught:
        fetch(request(url, "app", cache=tmp_path / "cache"))
    message = str(caught.value)
    assert message.startswith(f"cannot download {url}noarch/py-foo-1.0-pyh0_0.conda: ")
    assert "404" in message and "\n" not in message
    assert not [p.name for p in cached_files(tmp_path / "cache") if "py-foo" in p.name]


# -- the cache ------------------------------------------------------------------


def test_a_corrupt_download_leaves_nothing_in_the_cache(
    small_channel: Path, tmp_path: Path
) -> None:
    channel = copy_channel(small_channel, tmp_path / "channel")
    package = channel / "noarch" / "app-2.0-pyh0_0.conda"
    data = bytearray(package.read_bytes())
    data[-1] ^= 0xFF  # same size, other bytes: only the hash tells
    package.write_bytes(bytes(data))
    cache = tmp_path / "cache"
    with pytest.raises(BadInputError, match=r"app-2\.0-pyh0_0\.conda: sha256 [0-9a-f]{64} does"):
        fetch(request(channel, "app", cache=cache))
    assert [p.name for p in cached_files(cache) if p.name.startswith(("app", ".app"))] == []


def test_a_truncated_cache_entry_is_downloaded_again(small_channel: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = fetch(request(small_channel, "app", cache=cache))
    (app,) = first.requested
    app.write_bytes(app.read_bytes()[:100])
    solution = solve(request(small_channel, "app", cache=cache))
    assert not ArchiveCache(cache).holds(solution.requested[0])
    assert ArchiveCache(cache).missing(solution) == solution.requested
    again = ArchiveCache(cache).fetch(solution)
    assert again.downloaded == (solution.requested[0].url,)
    assert sha256(app) == solution.requested[0].sha256
