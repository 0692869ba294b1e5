"""`condawheel convert --spec ... --channel ...`: solved, downloaded, converted, as a user runs it.

The channels are local (``file://`` or a path); every HTTP(S) proxy points at a closed port
in the environment the command inherits, so an accidental download fails at once. The
other `convert` command-line tests are in test_cli.py.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from channel import build_small_channel, find_package, sample_channel
from clirun import one_line, run_cli
from compilers import requires_gcc
from condawheel.building.recipes import index_channel
from validator import validate_wheel

PIN = ">=1.0,<2.0a0"  # libanswer's run_exports, as tests/integration/test_recipes_sample.py
_PROXIES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy")


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _PROXIES:
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    for name in ("GLIBC", "OSX", "CUDA", "LINUX"):
        monkeypatch.delenv(f"CONDA_OVERRIDE_{name}", raising=False)


@pytest.fixture(scope="module")
def small_channel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_small_channel(tmp_path_factory.mktemp("small-channel"))


def json_lines(stdout: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


@requires_gcc
def test_spec_converts_the_named_package_with_its_dependency_known(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    channel = tmp_path / "channel"
    for subdir in sample_channel(tmp_path_factory).iterdir():
        if (subdir / "repodata.json").is_file():
            shutil.copytree(subdir, channel / subdir.name)
    cache, out = tmp_path / "cache", tmp_path / "out"
    args: list[str | Path] = [
        "convert",
        "--spec",
        "pyanswer",
        "--channel",
        channel.as_uri(),
        "--cache-dir",
        cache,
    ]
    result = run_cli(tmp_path, *args, "-w", out, "--json", "--strict")
    assert result.returncode == 0, result.stderr

    (obj,) = json_lines(result.stdout)
    assert obj["warnings"] == []
    pyanswer, libanswer = find_package(channel, "pyanswer"), find_package(channel, "libanswer")
    assert Path(str(obj["input"])).name == pyanswer.name
    assert Path(str(obj["input"])).is_relative_to(cache)
    # Only pyanswer is converted; libanswer was downloaded to be known, not converted.
    (wheel,) = out.iterdir()
    assert wheel.name.startswith("pyanswer-1.0.0-") and Path(str(obj["wheel"])).name == wheel.name
    report = validate_wheel(wheel)
    assert report.metadata.requires_external == [f"libanswer ({PIN})"]
    assert not report.metadata.requires_dist
    cached = sorted(p.name for p in (cache / "pkgs").rglob("*.conda"))
    assert cached == sorted([pyanswer.name, libanswer.name])

    # A second run needs nothing from the channel but its index.
    first = wheel.read_bytes()
    pyanswer.unlink()
    libanswer.unlink()
    again = run_cli(tmp_path, *args, "-w", out, "--overwrite")
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == str(wheel)
    assert wheel.read_bytes() == first


def test_dependencies_give_python_names(small_channel: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_cli(
        tmp_path,
        "convert",
        *("--spec", "app 1.*", "-c", str(small_channel), "--cache-dir", tmp_path / "cache"),
        *("-w", out, "--json"),
    )
    assert result.returncode == 0, result.stderr
    (obj,) = json_lines(result.stdout)
    assert Path(str(obj["input"])).name == "app-1.0-pyh0_0.tar.bz2"  # the version asked for
    assert obj["warnings"] == []
    report = validate_wheel(Path(str(obj["wheel"])))
    assert (report.name, str(report.version)) == ("app", "1.0")
    # py-foo's own dist-info names it foo-dist: the dependency was known, not guessed.
    assert report.metadata.requires_dist is not None
    assert [str(r) for r in report.metadata.requires_dist] == ["foo_dist>=1"]

    # Without it, the conversion has to guess, and says so.
    direct = run_cli(
        tmp_path, "convert", small_channel / "noarch" / "app-1.0-pyh0_0.tar.bz2", "-w", "direct"
    )
    assert direct.returncode == 0, direct.stderr
    assert "py-foo: PyPI name assumed" in direct.stderr


def test_packages_and_specs_together(small_channel: Path, tmp_path: Path) -> None:
    package = small_channel / "noarch" / "py-foo-1.0-pyh0_0.conda"
    result = run_cli(
        tmp_path,
        "convert",
        package,
        *("--spec", "app", "-c", small_channel.as_uri(), "--cache-dir", tmp_path / "cache"),
        *("-w", tmp_path / "out"),
    )
    assert result.returncode == 0, result.stderr
    wheels = [Path(line).name for line in result.stdout.splitlines()]
    assert [w.split("-")[:2] for w in wheels] == [["foo_dist", "1.0"], ["app", "2.0"]]


def test_another_subdir(
    small_channel: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ["convert", "--spec", "macthing", "-c", small_channel.as_uri(), "--subdir", "osx-arm64"]
    result = run_cli(tmp_path, *args, "--cache-dir", tmp_path / "cache", "-w", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    # data only, no Python: the subdir's tag, with __osx's floor
    name = "macthing-1.0-0_h0_0-py3-none-conda_macosx_12_0_arm64.whl"
    assert Path(result.stdout.strip()).name == name

    monkeypatch.setenv("CONDA_OVERRIDE_OSX", "11.0")  # an older Mac than the one assumed
    refused = run_cli(tmp_path, *args, "--cache-dir", tmp_path / "cache")
    assert refused.returncode == 2
    assert "would require __osx >=12" in one_line(refused.stderr)


def test_default_cache_is_under_xdg_cache_home(
    small_channel: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    result = run_cli(tmp_path, "convert", "--spec", "app", "-c", small_channel.as_uri())
    assert result.returncode == 0, result.stderr
    cached = sorted(p.name for p in (tmp_path / "xdg" / "condawheel" / "pkgs").rglob("*.conda"))
    assert cached == ["app-2.0-pyh0_0.conda", "py-foo-1.0-pyh0_0.conda"]
    assert [p.name for p in (tmp_path / "dist").iterdir()] == ["app-2.0-0_pyh0_0-py3-none-any.whl"]


# -- errors ---------------------------------------------------------------------


def test_unsatisfiable_spec_is_exit_2_in_one_line(small_channel: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    result = run_cli(
        tmp_path, "convert", "--spec", "app 9.*", "-c", small_channel.as_uri(), "--cache-dir", cache
    )
    assert result.returncode == 2
    line = one_line(result.stderr)
    assert line.startswith("condawheel: error: cannot solve 'app 9.*' from file://")
    assert "No candidates were found for app 9.*" in line
    assert not (tmp_path / "dist").exists()
    assert not (cache / "pkgs").exists()


def test_unsatisfiable_spec_json(small_channel: Path, tmp_path: Path) -> None:
    result = run_cli(
        tmp_path,
        *("convert", "--spec", "app 9.*", "-c", small_channel.as_uri()),
        *("--cache-dir", tmp_path / "cache", "--json"),
    )
    assert result.returncode == 2
    (obj,) = json_lines(result.stdout)
    assert obj["spec"] == ["app 9.*"] and obj["exit_code"] == 2
    assert str(obj["error"]).startswith("cannot solve 'app 9.*'")


def test_unreachable_channel_is_exit_2_in_one_line(tmp_path: Path) -> None:
    result = run_cli(
        tmp_path,
        *("convert", "--spec", "app", "-c", "http://127.0.0.1:9/channel"),
        *("--cache-dir", tmp_path / "cache"),
    )
    assert result.returncode == 2
    line = one_line(result.stderr)
    assert line.startswith("condawheel: error: cannot read the channel index from http://127.0.0.1")
    assert "check --channel and the network connection" in line


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--spec", "app"], "--spec needs --channel"),
        (
            ["--channel", "conda-forge", "pkg.conda"],
            "--channel and --cache-dir are only used with --spec",
        ),
        (["--spec", "app", "-c", "./nowhere"], "no such directory"),
        (["--spec", "app", "-c", "./nowhere", "--subdir", "bogus-64"], "--subdir bogus-64"),
    ],
)
def test_usage_mistakes_are_exit_2_in_one_line(
    tmp_path: Path, args: list[str], needle: str
) -> None:
    result = run_cli(tmp_path, "convert", *args, "--cache-dir", tmp_path / "cache")
    assert result.returncode == 2
    line = one_line(result.stderr)
    assert line.startswith("condawheel: error: ") and needle in line, line
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_help_teaches_spec(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "convert", "--help")
    assert result.returncode == 0, result.stderr
    for flag in ("--spec", "--channel", "--subdir", "--cache-dir", "XDG_CACHE_HOME"):
        assert flag in result.stdout
    assert "condawheel convert --spec " in result.stdout


def test_spec_converts_real_conda_forge_packages_from_a_corpus_channel(
    corpus: Path, tmp_path: Path
) -> None:
    """A local channel of the corpus's genuine conda-forge builds (copied into the test's
    own folder: rattler's indexer skips symlinks), solved and converted with --strict."""
    channel = tmp_path / "channel"
    for subdir in ("linux-64", "noarch"):
        shutil.copytree(corpus / "real" / subdir, channel / subdir)
    index_channel(channel)
    cache = tmp_path / "cache"
    specs = ("openssl 3.3.*", "libsqlite", "libexpat >=2.6")
    result = run_cli(
        tmp_path,
        *("convert", "--subdir", "linux-64", "-c", channel.as_uri(), "--cache-dir", cache),
        *(arg for spec in specs for arg in ("--spec", spec)),
        *("-w", tmp_path / "dist", "--strict", "--json"),
    )
    assert result.returncode == 0, result.stderr
    converted = {Path(json.loads(line)["input"]).name for line in result.stdout.splitlines()}
    assert converted == {
        "openssl-3.3.1-h4ab18f5_1.conda",
        "libsqlite-3.46.0-hde9e2c9_0.conda",
        "libexpat-2.6.2-h59595ed_0.conda",
    }
    # their dependencies were downloaded (and known to the conversion), not converted
    cached = {p.name for p in (cache / "pkgs").glob("*/*")}
    assert {"libzlib-1.3.1-h4ab18f5_1.conda", "libgcc-ng-14.2.0-h69a702a_1.conda"} <= cached
    reports = [validate_wheel(w) for w in (tmp_path / "dist").glob("*.whl")]
    wheels = {str(report.name): report for report in reports}
    assert set(wheels) == {"openssl", "libsqlite", "libexpat"}
    assert wheels["libsqlite"].metadata.requires_external == [
        "libgcc-ng (>=12)",
        "libzlib (>=1.2.13,<2.0a0)",
    ]
    assert all(tag.platform == "conda_linux_2_17_x86_64" for w in wheels.values() for tag in w.tags)
