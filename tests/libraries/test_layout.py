"""The lookup of a platform's bundle layout, and of a wheel's top-level packages."""

from __future__ import annotations

import pytest

from condawheel.libraries.bundle_names import BundleNameError
from condawheel.libraries.layout import layout_for, top_level_packages


def test_top_level_packages() -> None:
    members = [
        "pkg/__init__.py",
        "pkg/sub/__init__.py",
        "other/__init__.py",
        "_top.cpython-312-darwin.so",
        "my_dist-1.0.data/purelib/third/__init__.py",
        "my_dist-1.0.dist-info/METADATA",
        "not-a-name/__init__.py",
        # a namespace package: its sub-packages are the outermost ones
        "ns/a/__init__.py",
        "ns/a/inner/__init__.py",
        "ns/b/__init__.py",
        "ns/data.txt",
    ]
    assert top_level_packages(members) == ("ns/a", "ns/b", "other", "pkg", "third")


def test_unknown_platform() -> None:
    with pytest.raises(
        BundleNameError, match=r"^no standalone layout for platform 'beos'; known: "
    ):
        layout_for("beos")


@pytest.mark.parametrize("platform", ["linux", "osx", "win"])
def test_each_platform_has_a_layout(platform: str) -> None:
    assert layout_for(platform, packages=["pkg"]).platform == platform
