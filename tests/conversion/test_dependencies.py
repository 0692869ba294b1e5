"""`index.json` depends classified into wheel metadata (design section 3)."""

from __future__ import annotations

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from condawheel.conda.specs import translate_version_spec
from condawheel.conversion.dependencies import DependencyKind, classify
from condawheel.conversion.names import NameResolver
from condawheel.exceptions import BadInputError

DEPENDS = [
    "python >=3.12,<3.13.0a0",
    "python_abi 3.12.* *_cp312",
    "__glibc >=2.17,<3.0.a0",
    "libzlib >=1.3.1,<2.0a0",
    "numpy >=1.26,<3",
    "matplotlib-base >=3.8",
]


def test_realistic_depends() -> None:
    deps = classify(DEPENDS, NameResolver(), python_package=True)

    assert deps.requires_python == ">=3.12,<3.13.0a0"
    assert deps.requires_external == ["__glibc (>=2.17,<3.0.a0)", "libzlib (>=1.3.1,<2.0a0)"]

    numpy, matplotlib = deps.requires_dist
    assert matplotlib == "matplotlib>=3.8"
    # numpy's PyPI name with its translated specifier; whatever the spelling, it must
    # hold what the conda spec holds.
    assert numpy == "numpy" + translate_version_spec(">=1.26,<3")[0]
    requirement = Requirement(numpy)
    assert requirement.name == "numpy"
    for inside in ("1.26.0", "1.26.4", "2.2.6"):
        assert requirement.specifier.contains(Version(inside), prereleases=True)
    for outside in ("1.25.2", "3.0.0", "3.1"):
        assert not requirement.specifier.contains(Version(outside), prereleases=True)

    # numpy is not in the built-in table: its name is assumed, and that is reported.
    assert len(deps.warnings) == 1
    assert deps.warnings[0].startswith("numpy:")
    assert "assumed" in deps.warnings[0]


def test_kinds() -> None:
    deps = classify(DEPENDS, NameResolver(), python_package=True)
    kinds = {d.spec.name: d.kind for d in deps.items}
    assert kinds == {
        "python": DependencyKind.PYTHON,
        "python_abi": DependencyKind.PYTHON_ABI,
        "__glibc": DependencyKind.VIRTUAL,
        "libzlib": DependencyKind.EXTERNAL,
        "numpy": DependencyKind.DIST,
        "matplotlib-base": DependencyKind.DIST,
    }
    assert [d.conda_spec for d in deps.items] == DEPENDS
    abi = deps.find("python_abi")
    assert abi is not None
    assert abi.spec.build == "*_cp312"
    assert deps.find("scipy") is None


def test_reasons_name_the_source() -> None:
    deps = classify(DEPENDS, NameResolver(), python_package=True)
    matplotlib = deps.find("matplotlib-base")
    assert matplotlib is not None
    assert "'matplotlib'" in matplotlib.reason
    assert "table" in matplotlib.reason


def test_name_map_removes_the_assumed_warning() -> None:
    resolver = NameResolver(name_map={"numpy": "numpy"})
    deps = classify(DEPENDS, resolver, python_package=True)
    assert deps.warnings == []
    assert len(deps.requires_dist) == 2


def test_no_version_bound() -> None:
    deps = classify(["requests", "libzlib", "__unix"], NameResolver(), python_package=True)
    assert deps.requires_dist == ["requests"]
    assert deps.requires_external == ["libzlib", "__unix"]
    assert deps.requires_python is None


def test_python_without_bound_gives_no_requires_python() -> None:
    deps = classify(["python"], NameResolver(), python_package=True)
    assert deps.requires_python is None


def test_non_python_package_makes_unknown_names_external() -> None:
    deps = classify(["numpy >=1.26", "pytorch >=2.3"], NameResolver(), python_package=False)
    assert deps.requires_external == ["numpy (>=1.26)"]
    assert deps.requires_dist == ["torch>=2.3"]


def test_native_named_by_the_name_map() -> None:
    resolver = NameResolver(name_map={"hdf5-plugins": None})
    deps = classify(["hdf5-plugins >=1.14"], resolver, python_package=True)
    assert deps.requires_external == ["hdf5-plugins (>=1.14)"]
    assert deps.requires_dist == []
    assert deps.warnings == []


def test_invalid_conda_name_is_normalised_and_reported() -> None:
    resolver = NameResolver(from_packages={}, name_map={}, built_in={})
    deps = classify(["foo_ >=1"], resolver, python_package=True)
    assert deps.requires_dist == ["foo>=1"]
    assert len(deps.warnings) == 2
    assert any("'foo'" in warning for warning in deps.warnings)


def test_translation_note_becomes_a_warning() -> None:
    deps = classify(["libfoo >=1,<2|>=3,<4"], NameResolver(), python_package=True)
    assert deps.requires_external == ["libfoo (>=1,<4)"]
    assert len(deps.warnings) == 1
    assert deps.warnings[0].startswith("libfoo >=1,<2|>=3,<4:")


def test_invalid_dependency_raises_bad_input() -> None:
    with pytest.raises(BadInputError):
        classify(["numpy >=>=1"], NameResolver(), python_package=True)
