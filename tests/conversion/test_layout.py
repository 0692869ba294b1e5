"""Where each file of a conda package goes in the wheel (design section 1)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from builders import CondaPackageBuilder
from condawheel.conda.package import CondaPackage, NoarchType
from condawheel.conversion.core import convert
from condawheel.conversion.layout import (
    Destination,
    Layout,
    Scheme,
    choose_metadata_dir,
    metadata_dir_name_version,
)


def make_package(paths: list[str], **index: Any) -> CondaPackage:
    data = {"name": "foo", "version": "1.0", "build": "0", "subdir": "linux-64", **index}
    info = {
        "index.json": json.dumps(data).encode(),
        "paths.json": json.dumps(
            {"paths": [{"_path": p, "path_type": "hardlink"} for p in paths], "paths_version": 1}
        ).encode(),
    }
    return CondaPackage.from_info("foo-1.0-0.conda", info)


def layout_for(paths: list[str], **index: Any) -> Layout:
    return Layout.for_package(make_package(paths, **index), paths)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("lib/python3.12/site-packages/x", Destination(scheme=Scheme.ROOT, path="x")),
        (
            "lib/python3.12/site-packages/foo/__init__.py",
            Destination(scheme=Scheme.ROOT, path="foo/__init__.py"),
        ),
        (
            "lib/python3.13t/site-packages/foo/_core.so",
            Destination(scheme=Scheme.ROOT, path="foo/_core.so"),
        ),
        ("bin/foo", Destination(scheme=Scheme.SCRIPTS, path="foo")),
        ("bin/sub/foo", Destination(scheme=Scheme.DATA, path="bin/sub/foo")),
        ("lib/libz.so", Destination(scheme=Scheme.DATA, path="lib/libz.so")),
        ("lib/libz.so.1.3.1", Destination(scheme=Scheme.DATA, path="lib/libz.so.1.3.1")),
        ("include/zlib.h", Destination(scheme=Scheme.DATA, path="include/zlib.h")),
        ("share/man/man1/foo.1", Destination(scheme=Scheme.DATA, path="share/man/man1/foo.1")),
        (
            "etc/conda/activate.d/foo.sh",
            Destination(scheme=Scheme.DATA, path="etc/conda/activate.d/foo.sh"),
        ),
        # The standard library directory is not site-packages.
        ("lib/python3.12/foo.py", Destination(scheme=Scheme.DATA, path="lib/python3.12/foo.py")),
    ],
)
def test_unix(path: str, expected: Destination) -> None:
    assert layout_for([path]).destination(path) == expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("Lib/site-packages/x", Destination(scheme=Scheme.ROOT, path="x")),
        ("Lib/site-packages/foo/_core.pyd", Destination(scheme=Scheme.ROOT, path="foo/_core.pyd")),
        ("Scripts/foo.exe", Destination(scheme=Scheme.SCRIPTS, path="foo.exe")),
        ("Scripts/foo-script.py", Destination(scheme=Scheme.SCRIPTS, path="foo-script.py")),
        ("Library/bin/zlib.dll", Destination(scheme=Scheme.DATA, path="Library/bin/zlib.dll")),
        ("Library/include/zlib.h", Destination(scheme=Scheme.DATA, path="Library/include/zlib.h")),
    ],
)
def test_windows(path: str, expected: Destination) -> None:
    layout = layout_for([path], subdir="win-64")
    assert layout.windows
    assert layout.destination(path) == expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("site-packages/foo/__init__.py", Destination(scheme=Scheme.ROOT, path="foo/__init__.py")),
        ("python-scripts/foo", Destination(scheme=Scheme.SCRIPTS, path="foo")),
        ("share/foo/data.txt", Destination(scheme=Scheme.DATA, path="share/foo/data.txt")),
    ],
)
def test_noarch_python(path: str, expected: Destination) -> None:
    layout = layout_for([path], noarch="python", subdir="noarch")
    assert layout.destination(path) == expected


def test_site_packages_relative() -> None:
    unix = layout_for([])
    assert unix.site_packages_relative("lib/python3.12/site-packages/a/b.py") == "a/b.py"
    assert unix.site_packages_relative("lib/libz.so") is None
    windows = layout_for([], subdir="win-64")
    assert windows.site_packages_relative("Lib/site-packages/a/b.py") == "a/b.py"
    assert windows.site_packages_relative("Library/bin/zlib.dll") is None
    noarch = layout_for([], noarch="python", subdir="noarch")
    assert noarch.site_packages_relative("site-packages/a/b.py") == "a/b.py"
    assert noarch.site_packages_relative("lib/python3.12/site-packages/a/b.py") is None


def test_own_dist_info_is_metadata_and_others_are_dropped() -> None:
    site = "lib/python3.12/site-packages"
    paths = [
        f"{site}/foo/__init__.py",
        f"{site}/foo-1.0.dist-info/METADATA",
        f"{site}/foo-1.0.dist-info/entry_points.txt",
        f"{site}/bar-2.0.dist-info/METADATA",
    ]
    layout = layout_for(paths)
    assert layout.metadata_dir == "foo-1.0.dist-info"
    assert layout.destination(paths[1]) == Destination(scheme=Scheme.METADATA, path="METADATA")
    assert layout.destination(paths[2]) == Destination(
        scheme=Scheme.METADATA, path="entry_points.txt"
    )
    assert layout.destination(paths[3]) == Destination(
        scheme=Scheme.DROP, path="bar-2.0.dist-info/METADATA"
    )
    assert layout.destination(paths[0]) == Destination(scheme=Scheme.ROOT, path="foo/__init__.py")


def test_metadata_dirs() -> None:
    site = "lib/python3.12/site-packages"
    paths = [
        f"{site}/foo-1.0.dist-info/METADATA",
        f"{site}/foo-1.0.dist-info/RECORD",
        f"{site}/foo-1.0-py3.12.egg-info/PKG-INFO",
        f"{site}/foo/__init__.py",
        "bin/foo",
    ]
    assert layout_for([]).metadata_dirs(paths) == [
        "foo-1.0-py3.12.egg-info",
        "foo-1.0.dist-info",
    ]


def test_dist_info_is_chosen_before_egg_info() -> None:
    site = "lib/python3.12/site-packages"
    paths = [f"{site}/foo-1.0-py3.12.egg-info/PKG-INFO", f"{site}/foo-1.0.dist-info/METADATA"]
    layout = layout_for(paths)
    assert layout.metadata_dir == "foo-1.0.dist-info"
    assert layout.destination(paths[1]) == Destination(scheme=Scheme.METADATA, path="METADATA")


def test_egg_info_alone_is_the_basis() -> None:
    site = "lib/python3.12/site-packages"
    paths = [
        f"{site}/Foo-1.0-py3.12.egg-info/PKG-INFO",
        f"{site}/Foo-1.0-py3.12.egg-info/SOURCES.txt",
    ]
    layout = layout_for(paths)
    assert layout.metadata_dir == "Foo-1.0-py3.12.egg-info"
    assert layout.destination(paths[0]) == Destination(scheme=Scheme.METADATA, path="PKG-INFO")


def test_egg_info_file_is_the_basis() -> None:
    # Old setuptools writes the egg-info as a single PKG-INFO-like file.
    path = "lib/python3.12/site-packages/foo-1.0-py3.12.egg-info"
    layout = layout_for([path, "lib/python3.12/site-packages/foo.py"])
    assert layout.metadata_dir == "foo-1.0-py3.12.egg-info"
    assert layout.destination(path) == Destination(scheme=Scheme.METADATA, path="")


def test_windows_metadata_dir() -> None:
    paths = ["Lib/site-packages/foo-1.0.dist-info/METADATA", "Lib/site-packages/foo/__init__.py"]
    layout = layout_for(paths, subdir="win-64")
    assert layout.metadata_dir == "foo-1.0.dist-info"
    assert layout.destination(paths[0]) == Destination(scheme=Scheme.METADATA, path="METADATA")


def test_noarch_metadata_dir() -> None:
    paths = ["site-packages/foo-1.0.dist-info/METADATA", "site-packages/foo/__init__.py"]
    layout = layout_for(paths, noarch="python", subdir="noarch")
    assert layout.metadata_dir == "foo-1.0.dist-info"


def test_no_metadata_dir() -> None:
    assert layout_for(["lib/libz.so", "include/zlib.h"]).metadata_dir is None


@pytest.mark.parametrize(
    ("conda_name", "dirs", "expected"),
    [
        ("foo", ["foo-1.0-py3.12.egg-info", "foo-1.0.dist-info"], "foo-1.0.dist-info"),
        ("foo", ["bar-2.0.dist-info", "foo-1.0.dist-info"], "foo-1.0.dist-info"),
        ("foo", ["foo-1.0.dist-info", "zzz-2.0.dist-info"], "foo-1.0.dist-info"),
        # conda and Python spell names differently; both are normalised.
        (
            "ruamel.yaml",
            ["bar-1.0.dist-info", "ruamel_yaml-0.18.dist-info"],
            "ruamel_yaml-0.18.dist-info",
        ),
        (
            "typing-extensions",
            ["a-1.dist-info", "typing_extensions-4.12.dist-info"],
            "typing_extensions-4.12.dist-info",
        ),
        # A dist-info named otherwise still wins over an egg-info named like the package.
        ("foo", ["foo-1.0-py3.12.egg-info", "bar-1.0.dist-info"], "bar-1.0.dist-info"),
        ("foo", ["Foo-1.0-py3.12.egg-info"], "Foo-1.0-py3.12.egg-info"),
        ("foo", [], None),
    ],
)
def test_choose_metadata_dir(conda_name: str, dirs: list[str], expected: str | None) -> None:
    assert choose_metadata_dir(conda_name, dirs) == expected


@pytest.mark.parametrize(
    ("directory", "expected"),
    [
        ("foo-1.0.dist-info", ("foo", "1.0")),
        ("foo_bar-1.0.post1.dist-info", ("foo_bar", "1.0.post1")),
        ("Foo-1.0-py3.9.egg-info", ("Foo", "1.0")),
        ("Foo-1.0-py3.12.egg-info", ("Foo", "1.0")),
        ("foo-1.0.egg-info", ("foo", "1.0")),
        ("foo-1.0-py3.egg-info", ("foo", "1.0")),
        # An egg-info without a version (setuptools' develop/egg_info layout).
        ("foo.egg-info", ("foo", "")),
    ],
)
def test_metadata_dir_name_version(directory: str, expected: tuple[str, str]) -> None:
    assert metadata_dir_name_version(directory) == expected


def test_egg_info_beside_its_own_dist_info_is_dropped() -> None:
    layout = Layout(noarch=NoarchType.PYTHON, windows=False, metadata_dir="foo-1.0.dist-info")
    stale = layout.destination("site-packages/Foo-1.0-py3.9.egg-info/PKG-INFO")
    other = layout.destination("site-packages/bar-1.0.egg-info/PKG-INFO")
    assert stale.scheme is Scheme.DROP
    assert other == Destination(scheme=Scheme.ROOT, path="bar-1.0.egg-info/PKG-INFO")


@pytest.mark.parametrize(
    "path",
    [
        "lib/python3.12/site-packages/foo-1.0.data/scripts/evil",
        "lib/python3.12/site-packages/bar-2.0.data/purelib/x.py",
    ],
)
def test_a_wheel_data_folder_in_site_packages_is_left_out(path: str) -> None:
    package = make_package([path])
    layout = Layout.for_package(package, [path])
    assert layout.destination(path).scheme is Scheme.DROP


def test_a_wheel_data_folder_in_site_packages_never_becomes_a_script(tmp_path: Path) -> None:
    builder = CondaPackageBuilder(name="foo", version="1.0", build="py_0", noarch="python")
    builder.add_file("site-packages/foo/__init__.py", "")
    builder.add_file("site-packages/foo-1.0.data/scripts/evil", "#!/bin/sh\n", mode=0o755)
    result = convert(builder.build(tmp_path / "in", "conda"), tmp_path / "out")
    with zipfile.ZipFile(result.wheel) as wheel:
        assert not [n for n in wheel.namelist() if "scripts/evil" in n], wheel.namelist()
    assert any("foo-1.0.data/scripts/evil" in w and "left out" in w for w in result.warnings)
