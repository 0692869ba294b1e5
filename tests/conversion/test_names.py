"""Which PyPI distribution a conda name stands for, in design section 3's order."""

from __future__ import annotations

from pathlib import Path

import pytest

from condawheel.conversion.names import (
    NameResolver,
    NameSource,
    built_in_names,
    load_name_map,
    valid_distribution_name,
)
from condawheel.exceptions import ConfigurationError


@pytest.mark.parametrize(
    ("conda_name", "pypi_name"),
    [
        ("matplotlib-base", "matplotlib"),
        ("pytorch", "torch"),
        ("py-opencv", "opencv-python"),
        ("python-tzdata", "tzdata"),
    ],
)
def test_built_in_renames(conda_name: str, pypi_name: str) -> None:
    decision = NameResolver().resolve(conda_name, python_package=True)
    assert decision.conda_name == conda_name
    assert decision.pypi_name == pypi_name
    assert decision.source is NameSource.BUILT_IN


@pytest.mark.parametrize("conda_name", ["zlib", "openssl", "ca-certificates", "libgdal"])
def test_built_in_native_names(conda_name: str) -> None:
    decision = NameResolver().resolve(conda_name, python_package=True)
    assert decision.pypi_name is None
    assert decision.source is NameSource.BUILT_IN


def test_built_in_table_holds_renames_and_natives() -> None:
    table = built_in_names()
    assert table["matplotlib-base"] == "matplotlib"
    assert table["pytorch"] == "torch"
    assert table["zlib"] is None
    assert "_comment" not in table


def test_name_map_overrides_the_built_in_table() -> None:
    resolver = NameResolver(name_map={"matplotlib-base": "mpl-fork", "pytorch": None})
    mpl = resolver.resolve("matplotlib-base", python_package=True)
    assert (mpl.pypi_name, mpl.source) == ("mpl-fork", NameSource.NAME_MAP)
    torch = resolver.resolve("pytorch", python_package=True)
    assert (torch.pypi_name, torch.source) == (None, NameSource.NAME_MAP)


def test_with_packages_override_the_name_map_and_the_table() -> None:
    resolver = NameResolver(
        from_packages={"matplotlib-base": "matplotlib-from-dist-info", "zlib": None},
        name_map={"matplotlib-base": "mpl-fork"},
    )
    mpl = resolver.resolve("matplotlib-base", python_package=True)
    assert (mpl.pypi_name, mpl.source) == ("matplotlib-from-dist-info", NameSource.WITH)
    zlib = resolver.resolve("zlib", python_package=True)
    assert (zlib.pypi_name, zlib.source) == (None, NameSource.WITH)


def test_native_name_in_the_name_map_is_none() -> None:
    resolver = NameResolver(name_map={"hdf5-plugins": None})
    decision = resolver.resolve("hdf5-plugins", python_package=True)
    assert decision.pypi_name is None
    assert decision.source is NameSource.NAME_MAP


def test_unknown_name_in_a_python_package_is_assumed() -> None:
    resolver = NameResolver(built_in={})
    decision = resolver.resolve("requests", python_package=True)
    assert decision.pypi_name == "requests"
    assert decision.source is NameSource.ASSUMED


@pytest.mark.parametrize("conda_name", ["libzlib", "libcurl", "_libgcc_mutex", "_openmp_mutex"])
def test_unknown_lib_and_underscore_names_are_guessed_native(conda_name: str) -> None:
    decision = NameResolver(built_in={}).resolve(conda_name, python_package=True)
    assert decision.pypi_name is None
    assert decision.source is NameSource.NATIVE_GUESS


@pytest.mark.parametrize("conda_name", ["requests", "numpy", "attrs"])
def test_unknown_names_in_a_non_python_package_are_native(conda_name: str) -> None:
    decision = NameResolver(built_in={}).resolve(conda_name, python_package=False)
    assert decision.pypi_name is None
    assert decision.source is NameSource.NATIVE_GUESS


def test_known_names_in_a_non_python_package_still_resolve() -> None:
    decision = NameResolver().resolve("pytorch", python_package=False)
    assert decision.pypi_name == "torch"
    assert decision.source is NameSource.BUILT_IN


@pytest.mark.parametrize(
    ("conda_name", "expected"),
    [
        ("_libgcc_mutex", "libgcc_mutex"),
        ("requests", "requests"),
        ("ruamel.yaml", "ruamel.yaml"),
        ("typing_extensions", "typing_extensions"),
        ("jupyter-core", "jupyter-core"),
    ],
)
def test_valid_distribution_name(conda_name: str, expected: str) -> None:
    assert valid_distribution_name(conda_name) == expected


def test_load_name_map(tmp_path: Path) -> None:
    path = tmp_path / "map.json"
    path.write_text('{"pytorch-nightly": "torch", "hdf5-plugins": null}', encoding="utf-8")
    assert load_name_map(path) == {"pytorch-nightly": "torch", "hdf5-plugins": None}


def test_load_name_map_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.json"
    with pytest.raises(ConfigurationError) as raised:
        load_name_map(path)
    assert str(path) in str(raised.value)


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b"",
        # JSON is UTF-8; a Latin-1 file is as bad as a syntax error.
        '{"pytorch": "t\u00e9rch"}'.encode("latin-1"),
    ],
    ids=["syntax", "empty", "not-utf8"],
)
def test_load_name_map_bad_json(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "map.json"
    path.write_bytes(content)
    with pytest.raises(ConfigurationError) as raised:
        load_name_map(path)
    assert str(path) in str(raised.value)


@pytest.mark.parametrize(
    "content",
    ['["pytorch", "torch"]', '"torch"', '{"pytorch": 1}', '{"pytorch": ["torch"]}'],
)
def test_load_name_map_wrong_shape(tmp_path: Path, content: str) -> None:
    path = tmp_path / "map.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigurationError) as raised:
        load_name_map(path)
    assert str(path) in str(raised.value)
    assert raised.value.exit_code == 2


def test_the_published_mapping_comes_after_the_name_map_and_before_the_table() -> None:
    resolver = NameResolver(
        name_map={"py-foo": "foo-from-map"},
        downloaded={"py-foo": "foo-published", "pytorch": "torch-published", "pandoc": None},
    )
    decisions = {
        n: resolver.resolve(n, python_package=True) for n in ("py-foo", "pytorch", "pandoc")
    }
    assert decisions["py-foo"].pypi_name == "foo-from-map"
    assert decisions["py-foo"].source is NameSource.NAME_MAP
    assert decisions["pytorch"].pypi_name == "torch-published"
    assert decisions["pytorch"].source is NameSource.MAPPING
    assert decisions["pandoc"].pypi_name is None  # known not to be Python


def test_a_pypi_name_the_mapping_gives_to_another_conda_package_is_claimed() -> None:
    # conda's tzdata is the IANA data; PyPI's tzdata is conda's python-tzdata.
    claims = NameResolver().claimed_by("tzdata", "tzdata")
    assert claims == [("python-tzdata", NameSource.BUILT_IN)]
    assert NameResolver().claimed_by("Matplotlib", "matplotlib") == [
        ("matplotlib-base", NameSource.BUILT_IN)
    ]


def test_a_pypi_name_mapped_to_the_package_itself_is_not_claimed() -> None:
    resolver = NameResolver(name_map={"my-tzdata": "tzdata"})
    assert resolver.claimed_by("tzdata", "my-tzdata") == []
    assert NameResolver().claimed_by("torch", "pytorch") == []  # pytorch-cpu too: fine
    assert NameResolver().claimed_by("requests", "requests") == []


def test_claims_come_from_every_source() -> None:
    resolver = NameResolver(from_packages={"py-thing": "thing"}, downloaded={"thing2": "thing"})
    assert resolver.claimed_by("thing", "thing") == [
        ("py-thing", NameSource.WITH),
        ("thing2", NameSource.MAPPING),
    ]
