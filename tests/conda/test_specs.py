"""Conda match specs translated to PEP 440 specifiers (design section 3)."""

from __future__ import annotations

import pytest
import rattler
from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from condawheel.conda.specs import parse_spec, translate_version_spec
from condawheel.exceptions import BadInputError


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        # conda-forge's run_exports idiom stays as it is.
        ("libzlib >=1.3.1,<2.0a0", ">=1.3.1,<2.0a0"),
        ("foo >=1.2,<2.0a0", ">=1.2,<2.0a0"),
        ("foo 1.2.*", "==1.2.*"),
        ("foo =1.2", "==1.2.*"),  # conda's fuzzy match
        ("foo 1.2", "==1.2"),  # a bare version is an exact match
        ("foo ==1.2.3", "==1.2.3"),
        ("foo >=1.2", ">=1.2"),
        ("foo <=1.2", "<=1.2"),
        ("foo ~=1.2", "~=1.2"),
        ("foo !=1.2.*", "!=1.2.*"),
        ("foo 1.2.*,!=1.2.3", "==1.2.*,!=1.2.3"),
        ("foo 2023.1.*", "==2023.1.*"),
        ("foo 1!2.0", "==1!2.0"),
        ("foo *", ""),
        ("foo", ""),
        ('foo[version=">=1.2"]', ">=1.2"),
        ("conda-forge::foo >=1.2", ">=1.2"),
    ],
)
def test_translation(spec: str, expected: str) -> None:
    parsed = parse_spec(spec)
    assert parsed.specifier == expected
    assert parsed.note is None


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("foo >=1,<2|>=3,<4", ">=1,<4"),
        ("foo 1.2|1.4", ">=1.2,<=1.4"),
        ("foo >=1.2,<2|>=3", ">=1.2"),
        ("foo >=1|<0.5", ""),  # no common bound at all: any version
    ],
)
def test_union_is_widened_with_a_note(spec: str, expected: str) -> None:
    parsed = parse_spec(spec)
    assert parsed.specifier == expected
    assert parsed.note is not None
    assert "widened" in parsed.note


@pytest.mark.parametrize(
    ("spec", "expected", "dropped"),
    [
        ("openssl >=1.0.1k", "", "1.0.1k"),
        ("foo >=1.0.1k,<2", "<2", "1.0.1k"),
        ("foo 1.2.3.g1234", "", "1.2.3.g1234"),
        ("foo >=1.0.1_1", "", "1.0.1_1"),
    ],
)
def test_non_pep440_versions_are_dropped_with_a_note(
    spec: str, expected: str, dropped: str
) -> None:
    parsed = parse_spec(spec)
    assert parsed.specifier == expected
    assert parsed.note is not None
    assert dropped in parsed.note


def test_union_with_a_non_pep440_alternative_is_unbounded() -> None:
    parsed = parse_spec("foo 1.0.1k|1.0.2")
    assert parsed.specifier == ""
    assert parsed.note is not None
    assert "1.0.1k" in parsed.note


@pytest.mark.parametrize(
    ("spec", "name", "version", "build"),
    [
        ("python_abi 3.12.* *_cp312", "python_abi", "3.12.*", "*_cp312"),
        ("numpy 1.26.4 py312h8753938_0", "numpy", "==1.26.4", "py312h8753938_0"),
        ("foo >=1.2 *_cp312", "foo", ">=1.2", "*_cp312"),
        ("foo >=1.2", "foo", ">=1.2", None),
        ("foo", "foo", "*", None),
        ("__glibc >=2.17,<3.0.a0", "__glibc", ">=2.17,<3.0.a0", None),
    ],
)
def test_parsed_fields(spec: str, name: str, version: str, build: str | None) -> None:
    parsed = parse_spec(spec)
    assert parsed.name == name
    assert parsed.version == version
    assert parsed.build == build


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("python >=3.12,<3.13.0a0", Version("3.12")),
        ("python_abi 3.12.* *_cp312", Version("3.12")),
        ("foo 1.2", Version("1.2")),
        ("foo ~=1.4", Version("1.4")),
        ("foo >=1,<2|>=3,<4", Version("1")),
        ("foo <2", None),
        ("foo !=1.2", None),
        ("foo", None),
    ],
)
def test_lower_bound(spec: str, expected: Version | None) -> None:
    assert parse_spec(spec).lower_bound == expected


@pytest.mark.parametrize("spec", ["", ">=1.2", "foo >=>=1", "foo ==", "foo >=1.2|"])
def test_invalid_spec_raises_bad_input(spec: str) -> None:
    with pytest.raises(BadInputError) as raised:
        parse_spec(spec)
    assert repr(spec) in str(raised.value)
    assert raised.value.exit_code == 2


def test_translate_version_spec_without_bounds() -> None:
    assert translate_version_spec("*") == ("", None)
    assert translate_version_spec("") == ("", None)


# --- property: every translation parses, and is never narrower than the conda spec ---

SPECS = [
    ">=1.2,<2.0a0",
    ">=1.2,<2.0a0|>=3.0,<4.0a0",
    ">=2.17,<3.0.a0",
    ">=3.12,<3.13.0a0",
    "1.2.*",
    "=1.2",
    "1.2",
    "==1.2.3",
    "1.2.3.*",
    "3.12.*",
    "2023.1.*",
    "*",
    ">=1.2",
    "<=1.2",
    "!=1.2",
    "!=1.2.*",
    "~=1.2",
    "1.2.*,!=1.2.3",
    ">=1.2.0rc1",
    "<2.0rc1",
    "1!2.0",
    ">=1.0.1k,<2.0a0",
    "1.0.1k|1.0.2",
    "1.2|>=2",
    "1.2|1.4",
    # The cases below exercise conda semantics PEP 440 spells differently.
    "<2",
    ">1.2",
    ">=1.2,<2",
    ">=1,<2|>=3,<4",
    ">=1.2,<2|>=3",
    "1.2.*|1.4.*",
]

# Pre-, dev- and post-release suffixes sit on a third release component: conda orders
# `2.0rc1` below `2.0.a0` (it compares `0rc1` with `0`), PEP 440 does not, and no
# translation can follow that quirk of spelling. Local versions are checked separately.
VERSIONS = [
    "0.1",
    "1",
    "1.0",
    "1.0.1",
    "1.0.2",
    "1.1.9",
    "1.2.0dev0",
    "1.2.0a1",
    "1.2.0rc1",
    "1.2",
    "1.2.0",
    "1.2.1",
    "1.2.3",
    "1.2.0post1",
    "1.3",
    "1.4",
    "1.4.1",
    "1.9.9",
    "2.0.0dev0",
    "2.0.0a0",
    "2.0.0a1",
    "2.0.0rc1",
    "2.0",
    "2.0.0",
    "2.0.0post1",
    "2.1",
    "2.17",
    "2.28",
    "3.0.0a1",
    "3.0.0rc1",
    "3.0",
    "3.4",
    "3.9",
    "3.12.0",
    "3.12.7",
    "3.13.0a0",
    "3.13.0rc1",
    "3.13.0",
    "4.0.0rc1",
    "4.0",
    "4.0.1",
    "2023.1",
    "2023.1.0",
    "2023.10",
    "1!1.0",
    "1!2.0",
]


def _pep440_boundary_rule(version: Version, specifier: SpecifierSet) -> bool:
    """True where PEP 440's own rules decide, as specs.py documents: `<V` and `>V`
    (and the `>=V` that bounds a union of `V.*`) leave out pre-, post- and
    dev-releases of V, and `!=` ignores local labels. conda-forge spells its bounds
    `<2.0a0`, which translate exactly."""
    for clause in specifier:
        bound = Version(clause.version.removesuffix(".*"))
        same_release = Version(version.base_version) == Version(bound.base_version)
        special = version.is_prerelease or version.is_postrelease or version.is_devrelease
        if clause.operator in ("<", ">", ">=") and same_release and special:
            return True
        if clause.operator == "!=" and version.local is not None:
            return True
    return False


def _narrower(conda_spec: str, versions: list[str]) -> list[str]:
    """The versions the conda spec matches that the translation leaves out."""
    specifier = SpecifierSet(parse_spec(f"foo {conda_spec}").specifier)
    matcher = rattler.VersionSpec(conda_spec)
    missed = []
    for text in versions:
        try:
            version = Version(text)
        except InvalidVersion:
            continue
        if _pep440_boundary_rule(version, specifier):
            continue
        if matcher.matches(rattler.Version(text)) and not specifier.contains(
            version, prereleases=True
        ):
            missed.append(text)
    return missed


@pytest.mark.parametrize("conda_spec", SPECS)
def test_translation_parses_under_pep440(conda_spec: str) -> None:
    SpecifierSet(parse_spec(f"foo {conda_spec}").specifier)


@pytest.mark.parametrize("conda_spec", SPECS)
def test_translation_is_never_narrower(conda_spec: str) -> None:
    assert _narrower(conda_spec, VERSIONS) == []


@pytest.mark.parametrize("conda_spec", ["!=1.2", "1.2.*,!=1.2.3", ">=1.2", "<=1.2", "1.2.*"])
def test_translation_is_never_narrower_for_local_versions(conda_spec: str) -> None:
    assert _narrower(conda_spec, ["1.2+abc", "1.2.3+local", "1.3+cuda"]) == []
