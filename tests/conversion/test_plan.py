"""The plan: wheel name, version and build tag, decided from info/ alone."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from condawheel.conda.known import KnownPackage, KnownPackages
from condawheel.conda.package import CondaPackage
from condawheel.conversion.dependencies import DependencyKind
from condawheel.conversion.metadata import DistributionId
from condawheel.conversion.plan import ConvertOptions, Plan, make_plan
from condawheel.exceptions import BadInputError

SP = "lib/python3.12/site-packages"


def package(
    paths: Sequence[str] = (),
    *,
    filename: str = "pkg.conda",
    **index: Any,
) -> CondaPackage:
    data = {"name": "pkg", "version": "1.0", "build": "0", "subdir": "linux-64", **index}
    paths_json = {"paths": [{"_path": p, "path_type": "hardlink"} for p in paths]}
    info = {
        "index.json": json.dumps(data).encode(),
        "paths.json": json.dumps({**paths_json, "paths_version": 1}).encode(),
    }
    return CondaPackage.from_info(filename, info)


def plan_for(
    pkg: CondaPackage, options: ConvertOptions | None = None, known: KnownPackages | None = None
) -> Plan:
    return make_plan(pkg, options or ConvertOptions(), known or KnownPackages())


def test_name_and_version_from_the_dist_info() -> None:
    pyyaml = package(
        [
            f"{SP}/PyYAML-6.0.1.dist-info/METADATA",
            f"{SP}/PyYAML-6.0.1.dist-info/RECORD",
            f"{SP}/yaml/__init__.py",
        ],
        name="pyyaml",
        version="6.0.1",
        build="py312h66e93f0_1",
        build_number=1,
    )
    plan = plan_for(pyyaml)
    assert plan.dist == DistributionId(name="PyYAML", version="6.0.1")
    assert plan.dist.dist_info == "pyyaml-6.0.1.dist-info"
    assert plan.layout.metadata_dir == "PyYAML-6.0.1.dist-info"
    assert plan.build_tag == "1_py312h66e93f0_1"
    assert plan.notes == ("name and version from the package's PyYAML-6.0.1.dist-info",)


def test_dist_info_version_is_the_wheel_version() -> None:
    # conda re-versions some packages; the wheel keeps the Python distribution's own.
    plan = plan_for(package([f"{SP}/Jinja2-3.1.dev0.dist-info/METADATA"], name="jinja2"))
    assert plan.dist == DistributionId(name="Jinja2", version="3.1.dev0")


def test_name_and_version_from_an_egg_info() -> None:
    flask = package(
        ["lib/python3.5/site-packages/Flask-0.11.1-py3.5.egg-info/PKG-INFO"],
        name="flask",
        version="0.11.1",
        build="py35_0",
    )
    plan = plan_for(flask)
    assert plan.dist == DistributionId(name="Flask", version="0.11.1")
    assert plan.build_tag == "0_py35_0"


def test_name_from_the_conda_name_without_a_dist_info() -> None:
    plan = plan_for(package(["lib/libz.so.1"], name="libzlib", version="1.3.1", build="h4ab18f5_1"))
    assert plan.dist == DistributionId(name="libzlib", version="1.3.1")
    assert plan.build_tag == "0_h4ab18f5_1"
    assert plan.notes == ()


def test_invalid_conda_name_is_made_valid_with_a_warning() -> None:
    plan = plan_for(package([], name="_libgcc_mutex", version="0.1", build="conda_forge"))
    assert plan.dist == DistributionId(name="libgcc_mutex", version="0.1")
    assert plan.dist.stem == "libgcc_mutex-0.1"
    # A warning, not a note: pip sees the wheel as the project `libgcc_mutex`.
    assert plan.warnings == (
        "conda name '_libgcc_mutex' is not a valid Python distribution name; the wheel is "
        "named 'libgcc_mutex'",
    )


@pytest.mark.parametrize(
    ("build_number", "build", "tag"),
    [
        (0, "pyhd8ed1ab_0", "0_pyhd8ed1ab_0"),
        (3, "py312h5eee18b_3", "3_py312h5eee18b_3"),
        (12, "cuda120.h1234", "12_cuda120.h1234"),  # conda allows no `-` in a build
    ],
)
def test_build_tag(build_number: int, build: str, tag: str) -> None:
    plan = plan_for(package(["share/x"], build=build, build_number=build_number))
    assert plan.build_tag == tag


def test_version_is_normalised() -> None:
    plan = plan_for(package(["share/x"], version="2.0.0.rc1"))
    assert plan.dist.version == "2.0.0rc1"


@pytest.mark.parametrize(
    ("conda", "wheel", "kind"),
    [
        ("2025b", "2025b0", "pre-release"),
        ("1.0_beta", "1.0b0", "pre-release"),
        ("1.0.dev", "1.0.dev0", "pre-release"),
        ("1.0r1", "1.0.post1", "post-release"),  # conda allows no `-` in a version
    ],
)
def test_a_version_read_as_another_kind_of_release_warns(conda: str, wheel: str, kind: str) -> None:
    plan = plan_for(package(["share/x"], version=conda))
    assert plan.dist.version == wheel
    (warning,) = plan.warnings
    assert f"{conda!r} reads as {wheel!r}" in warning
    assert kind in warning and "--version" in warning


@pytest.mark.parametrize("version", ["1.0", "1.0rc1", "2.0.post1", "v1.0", "01.2"])
def test_a_version_that_means_what_it_says_does_not_warn(version: str) -> None:
    assert plan_for(package(["share/x"], version=version)).warnings == ()


def test_a_version_given_with_version_does_not_warn() -> None:
    plan = plan_for(package(["share/x"], version="2025b"), ConvertOptions(version="2025.2"))
    assert (plan.dist.version, plan.warnings) == ("2025.2", ())


def test_version_override() -> None:
    pkg = package(["share/x"], name="openssl", version="1.1.1w", filename="openssl.conda")
    plan = plan_for(pkg, ConvertOptions(version="1.1.1.23"))
    assert plan.dist == DistributionId(name="openssl", version="1.1.1.23")


def test_version_override_beats_the_dist_info() -> None:
    pkg = package([f"{SP}/PyYAML-6.0.1.dist-info/METADATA"], name="pyyaml")
    plan = plan_for(pkg, ConvertOptions(version="6.0.1.post1"))
    assert plan.dist == DistributionId(name="PyYAML", version="6.0.1.post1")


def test_invalid_version() -> None:
    pkg = package(["share/x"], name="openssl", version="1.1.1w", filename="openssl-1.1.1w.conda")
    with pytest.raises(BadInputError) as caught:
        plan_for(pkg)
    assert str(caught.value) == (
        "openssl-1.1.1w.conda: version '1.1.1w' is not a valid PEP 440 version, so no "
        "wheel can carry it; pass --version with the version the wheel should have"
    )


def test_invalid_version_override() -> None:
    with pytest.raises(BadInputError) as caught:
        plan_for(package(["share/x"]), ConvertOptions(version="latest"))
    assert str(caught.value) == "--version 'latest' is not a valid PEP 440 version"


@pytest.mark.parametrize("bad", ["numpy >=>1", "numpy ==", "foo[bar"])
def test_invalid_depends_entry(bad: str) -> None:
    pkg = package(["share/x"], depends=["python >=3.12", bad], filename="broken-1.0-0.conda")
    with pytest.raises(BadInputError) as caught:
        plan_for(pkg)
    message = str(caught.value)
    assert message.startswith(
        f"broken-1.0-0.conda: index.json depends: invalid conda dependency {bad!r}: "
    )
    assert message.endswith("; the package is malformed")
    assert "\n" not in message  # the CLI prints one line per error


def test_dependencies_use_known_packages_and_the_name_map(tmp_path: Path) -> None:
    name_map = tmp_path / "names.json"
    name_map.write_text(json.dumps({"libfoo": None, "py-bar": "bar-py"}))
    known = KnownPackages(
        (
            KnownPackage(
                name="py-yaml-thing",
                version="6.0",
                build="pyhd8ed1ab_0",
                files=("site-packages/YamlThing-6.0.dist-info/METADATA",),
            ),
        )
    )
    pkg = package(
        [f"{SP}/consumer/__init__.py"],
        name="consumer",
        depends=["python >=3.12,<3.13.0a0", "py-yaml-thing >=6", "libfoo 1.2.*", "py-bar"],
    )
    plan = plan_for(pkg, ConvertOptions(name_map=name_map), known)
    deps = plan.dependencies
    assert [(d.conda_spec, d.kind, d.requirement) for d in deps.items] == [
        ("python >=3.12,<3.13.0a0", DependencyKind.PYTHON, ">=3.12,<3.13.0a0"),
        ("py-yaml-thing >=6", DependencyKind.DIST, "YamlThing>=6"),
        ("libfoo 1.2.*", DependencyKind.EXTERNAL, "libfoo (==1.2.*)"),
        ("py-bar", DependencyKind.DIST, "bar-py"),
    ]


def test_noarch_python_without_files_is_still_python() -> None:
    pkg = package([], name="meta", noarch="python", subdir="noarch", depends=["somepkg"])
    plan = plan_for(pkg)
    # An unknown dependency of a Python package is assumed to be a Python distribution.
    assert plan.dependencies.requires_dist == ["somepkg"]
