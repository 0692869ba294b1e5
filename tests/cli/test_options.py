"""Command-line options of convert and inspect, merged with [tool.condawheel]."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from condawheel.cli.options import (
    add_convert_arguments,
    convert_options,
    expand_packages,
    output_dir,
    parse_size,
)
from condawheel.conversion.plan import ConvertOptions
from condawheel.exceptions import ConfigurationError, NothingToDoError


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="condawheel convert")
    parser.add_argument("-w", "--wheel-dir")
    parser.add_argument("--overwrite", action="store_true", default=None)
    add_convert_arguments(parser)
    return parser.parse_args(argv)


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


# -- expand_packages ----------------------------------------------------------


def test_files_are_kept_in_the_order_given(tmp_path: Path) -> None:
    b = touch(tmp_path / "b-1.0-0.conda")
    a = touch(tmp_path / "a-1.0-0.tar.bz2")
    assert expand_packages([b, a, b]) == [b, a, b]


def test_files_are_passed_on_unchecked(tmp_path: Path) -> None:
    # Whether a file exists or is a package is for the converter to say, with its error.
    missing = tmp_path / "missing-1.0-0.conda"
    text = touch(tmp_path / "notes.txt")
    assert expand_packages([missing, text]) == [missing, text]


def test_folders_are_expanded_and_sorted(tmp_path: Path) -> None:
    channel = tmp_path / "channel"
    names = [
        "noarch/zeta-1.0-pyh_0.conda",
        "linux-64/beta-2.0-h0_0.tar.bz2",
        "linux-64/alpha-1.0-h0_0.conda",
        "linux-64/alpha-1.0-h0_0.tar.bz2",
    ]
    for name in names:
        touch(channel / name)
    touch(channel / "linux-64" / "repodata.json")
    touch(channel / "noarch" / "readme.md")
    (channel / "linux-64" / "empty.conda.d").mkdir()
    single = touch(tmp_path / "single-1.0-0.conda")
    # One build in both formats is taken once, from the .conda.
    assert expand_packages([single, channel]) == [
        single,
        channel / "linux-64/alpha-1.0-h0_0.conda",
        channel / "linux-64/beta-2.0-h0_0.tar.bz2",
        channel / "noarch/zeta-1.0-pyh_0.conda",
    ]


def test_nothing_found(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    other = tmp_path / "other"
    touch(other / "repodata.json")
    with pytest.raises(NothingToDoError) as caught:
        expand_packages([empty, other])
    assert str(caught.value) == f"no .conda or .tar.bz2 packages found in {empty}, {other}"
    assert caught.value.exit_code == 3


# -- convert_options ----------------------------------------------------------


def test_defaults_without_a_pyproject(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    args = parse("pkg.conda")
    assert convert_options(args) == ConvertOptions()
    assert output_dir(args) == Path("dist")


def test_flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    args = parse(
        "--with",
        "/opt/conda",
        "--with",
        "channel",
        "--name-map",
        "names.json",
        "--plain-tags",
        "--version",
        "1.1.1.23",
        "--overwrite",
        "-w",
        "wheels",
        "pkg.conda",
    )
    assert convert_options(args) == ConvertOptions(
        with_sources=(Path("/opt/conda"), Path("channel")),
        name_map=Path("names.json"),
        plain_tags=True,
        version="1.1.1.23",
        overwrite=True,
    )
    assert output_dir(args) == Path("wheels")
    assert args.packages == [Path("pkg.conda")]


PYPROJECT = """\
[project]
name = "downstream"

[tool.condawheel]
output-dir = "wheelhouse"
with = ["../channel", "/opt/conda"]
name-map = "names.json"
plain-tags = true
overwrite = true
"""


def test_config_in_the_current_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    monkeypatch.chdir(tmp_path)
    args = parse("pkg.conda")
    assert convert_options(args) == ConvertOptions(
        with_sources=(tmp_path / "../channel", Path("/opt/conda")),
        name_map=tmp_path / "names.json",
        plain_tags=True,
        version=None,
        overwrite=True,
    )
    assert output_dir(args) == tmp_path / "wheelhouse"


def test_flags_override_the_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    monkeypatch.chdir(tmp_path)
    args = parse("--with", "env", "--name-map", "other.json", "-w", "out", "pkg.conda")
    options = convert_options(args)
    assert options.with_sources == (Path("env"),)
    assert options.name_map == Path("other.json")
    assert options.plain_tags is True  # no flag given: the config's
    assert output_dir(args) == Path("out")


def test_config_of_another_directory_is_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert convert_options(parse("pkg.conda")) == ConvertOptions()


def test_bad_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.condawheel]\nplain-tags = "yes"\n')
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigurationError) as caught:
        convert_options(parse("pkg.conda"))
    assert str(caught.value) == (
        f"{tmp_path / 'pyproject.toml'}: [tool.condawheel] plain-tags must be a bool, not str"
    )


@pytest.mark.parametrize(
    ("text", "size"), [("1000", 1000), ("50M", 50 * 1024**2), ("2kb", 2048), ("1GiB", 1024**3)]
)
def test_max_size_takes_bytes_or_units(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "5X", "-1", "1.5M", "M"])
def test_a_max_size_that_is_not_one_is_a_usage_error(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="not a size"):
        parse_size(text)
