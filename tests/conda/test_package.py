"""The conda package model built from `info/` (CondaPackage.from_info)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from condawheel.conda.package import DEFAULT_PLACEHOLDER, CondaPackage, NoarchType
from condawheel.conda.path_table import PathEntry, PathType
from condawheel.exceptions import BadInputError
from sample_index import FILENAME, INDEX


def dumps(data: Any) -> bytes:
    return json.dumps(data).encode()


def from_info(info: dict[str, bytes], filename: str = FILENAME) -> CondaPackage:
    return CondaPackage.from_info(filename, info)


def with_index(**changes: Any) -> CondaPackage:
    index = {k: v for k, v in {**INDEX, **changes}.items() if v is not None}
    return from_info({"index.json": dumps(index)})


def test_index_fields() -> None:
    package = with_index()
    assert package.filename == FILENAME
    assert package.name == "foo"
    assert package.version == "1.0"
    assert package.build == "py312_0"
    assert package.build_number == 0
    assert package.subdir == "linux-64"
    assert package.platform == "linux"
    assert not package.is_windows
    assert package.noarch is NoarchType.NONE
    assert package.depends == ("python >=3.12,<3.13.0a0", "libzlib >=1.3.1,<2.0a0")
    assert package.constrains == ("bar >=2",)
    assert package.license == "MIT"
    assert package.timestamp_ms == 1700000000000
    assert package.label == "foo-1.0-py312_0"
    assert package.paths is None
    assert package.entry_points == ()
    assert package.about == {}
    assert package.run_exports == {}
    assert package.licenses == {}


def test_windows_package() -> None:
    package = with_index(subdir="win-64")
    assert package.platform == "win"
    assert package.is_windows


def test_defaults_for_optional_index_fields() -> None:
    package = from_info(
        {"index.json": dumps({"name": "foo", "version": "1.0", "subdir": "linux-64"})}
    )
    assert package.build == "0"
    assert package.build_number == 0
    assert package.depends == ()
    assert package.constrains == ()
    assert package.license is None
    assert package.timestamp_ms is None


def test_paths_json() -> None:
    paths = {
        "paths_version": 1,
        "paths": [
            {
                "_path": "lib/libfoo.so.1.0",
                "path_type": "hardlink",
                "sha256": "ab" * 32,
                "size_in_bytes": 1234,
                "prefix_placeholder": "/opt/anaconda1anaconda2anaconda3",
                "file_mode": "binary",
            },
            {"_path": "lib/libfoo.so", "path_type": "softlink", "sha256": "cd" * 32},
            {"_path": "bin/foo", "path_type": "hardlink"},
            {"_path": "share/empty", "path_type": "directory"},
        ],
    }
    package = from_info({"index.json": dumps(INDEX), "paths.json": dumps(paths)})
    assert package.paths == {
        "lib/libfoo.so.1.0": PathEntry(
            path="lib/libfoo.so.1.0",
            path_type=PathType.FILE,
            sha256=bytes.fromhex("ab" * 32),
            size=1234,
            prefix_placeholder="/opt/anaconda1anaconda2anaconda3",
            file_mode="binary",
        ),
        "lib/libfoo.so": PathEntry(
            path="lib/libfoo.so", path_type=PathType.SYMLINK, sha256=bytes.fromhex("cd" * 32)
        ),
        "bin/foo": PathEntry(path="bin/foo"),
        "share/empty": PathEntry(path="share/empty", path_type=PathType.DIRECTORY),
    }


def test_paths_are_normalised() -> None:
    paths = {
        "paths": [
            {"_path": "./lib//libfoo.so"},
            {"_path": "Lib\\site-packages\\foo\\__init__.py"},
        ]
    }
    package = from_info({"index.json": dumps(INDEX), "paths.json": dumps(paths)})
    assert package.paths is not None
    assert set(package.paths) == {"lib/libfoo.so", "Lib/site-packages/foo/__init__.py"}


def test_legacy_files_and_has_prefix() -> None:
    files = b"bin/foo\nlib/libfoo.so\nlib/pkgconfig/foo.pc\nshare/doc/foo.txt\n\n"
    has_prefix = (
        b"/opt/anaconda1anaconda2anaconda3 text bin/foo\n"
        b"/opt/anaconda1anaconda2anaconda3 binary lib/libfoo.so\n"
        b"lib/pkgconfig/foo.pc\n"
    )
    package = from_info({"index.json": dumps(INDEX), "files": files, "has_prefix": has_prefix})
    assert package.paths == {
        "bin/foo": PathEntry(path="bin/foo", prefix_placeholder=DEFAULT_PLACEHOLDER),
        "lib/libfoo.so": PathEntry(
            path="lib/libfoo.so", prefix_placeholder=DEFAULT_PLACEHOLDER, file_mode="binary"
        ),
        "lib/pkgconfig/foo.pc": PathEntry(
            path="lib/pkgconfig/foo.pc", prefix_placeholder=DEFAULT_PLACEHOLDER
        ),
        "share/doc/foo.txt": PathEntry(path="share/doc/foo.txt"),
    }


def test_legacy_has_prefix_with_a_custom_placeholder_and_quotes() -> None:
    files = b"bin/my script\nbin/foo\n"
    has_prefix = (
        b'"/home/build/my env" text "bin/my script"\n'
        b"/home/build/_b_env_placehold_placehold text bin/foo\n"
    )
    package = from_info({"index.json": dumps(INDEX), "files": files, "has_prefix": has_prefix})
    assert package.paths is not None
    assert package.paths["bin/my script"].prefix_placeholder == "/home/build/my env"
    assert package.paths["bin/foo"].prefix_placeholder == "/home/build/_b_env_placehold_placehold"


def test_legacy_has_prefix_with_a_windows_placeholder() -> None:
    # conda reads has_prefix with shlex.split(line, posix=False): backslashes are literal.
    files = b"Scripts/foo-script.py\n"
    has_prefix = b"C:\\bld\\foo_1234\\_h_env text Scripts/foo-script.py\n"
    index = {**INDEX, "subdir": "win-64"}
    package = from_info({"index.json": dumps(index), "files": files, "has_prefix": has_prefix})
    assert package.paths is not None
    assert package.paths["Scripts/foo-script.py"].prefix_placeholder == "C:\\bld\\foo_1234\\_h_env"


def test_paths_json_is_preferred_to_legacy_files() -> None:
    info = {
        "index.json": dumps(INDEX),
        "paths.json": dumps({"paths": [{"_path": "bin/new"}]}),
        "files": b"bin/old\n",
    }
    package = from_info(info)
    assert package.paths is not None
    assert list(package.paths) == ["bin/new"]


@pytest.mark.parametrize(
    ("platform", "arch", "subdir"),
    [
        ("osx", "x86_64", "osx-64"),
        ("linux", "x86_64", "linux-64"),
        ("linux", "x86", "linux-32"),
        ("win", "x86_64", "win-64"),
        ("win", "x86", "win-32"),
        ("linux", "aarch64", "linux-aarch64"),
        ("linux", "ppc64le", "linux-ppc64le"),
    ],
)
def test_subdir_from_legacy_platform_and_arch(platform: str, arch: str, subdir: str) -> None:
    package = with_index(subdir=None, platform=platform, arch=arch)
    assert package.subdir == subdir


@pytest.mark.parametrize(
    ("noarch", "expected"),
    [
        ("python", NoarchType.PYTHON),
        ("generic", NoarchType.GENERIC),
        (True, NoarchType.GENERIC),  # old conda-build, read as conda reads it
        (False, NoarchType.NONE),
        ("", NoarchType.NONE),
    ],
)
def test_noarch(noarch: object, expected: NoarchType) -> None:
    package = with_index(noarch=noarch)
    assert package.noarch is expected


@pytest.mark.parametrize("noarch", ["python", "generic", True])
def test_noarch_without_subdir_is_noarch(noarch: object) -> None:
    package = with_index(subdir=None, noarch=noarch)
    assert package.subdir == "noarch"
    assert package.platform == "noarch"


def test_entry_points_from_link_json() -> None:
    link = {
        "noarch": {"type": "python", "entry_points": ["foo = foo.cli:main", "bar=foo.bar:run"]},
        "package_metadata_version": 1,
    }
    index = {**INDEX, "subdir": "noarch", "noarch": "python"}
    package = from_info({"index.json": dumps(index), "link.json": dumps(link)})
    assert package.entry_points == ("foo = foo.cli:main", "bar=foo.bar:run")


def test_link_json_without_entry_points() -> None:
    link = {"noarch": {"type": "python"}, "package_metadata_version": 1}
    package = from_info({"index.json": dumps(INDEX), "link.json": dumps(link)})
    assert package.entry_points == ()


def test_licenses_about_and_run_exports() -> None:
    about = {"summary": "A thing", "home": "https://foo.org"}
    run_exports = {"weak": ["foo >=1.0,<2.0a0"]}
    paths = {"paths": [{"_path": "bin/foo"}], "paths_version": 1}
    info = {
        "index.json": dumps(INDEX),
        "about.json": dumps(about),
        "run_exports.json": dumps(run_exports),
        "paths.json": dumps(paths),
        "link.json": dumps({}),
        "recipe/meta.yaml": b"package: {name: foo}\n",
        "licenses/LICENSE": b"MIT License\n",
        "licenses/vendor/COPYING": b"zlib License\n",
    }
    package = from_info(info)
    assert package.about == about
    assert package.run_exports == run_exports
    assert package.licenses == {"LICENSE": b"MIT License\n", "vendor/COPYING": b"zlib License\n"}
    assert package.info_keys == frozenset(info)


# --- errors ---


def _error(info: dict[str, bytes]) -> str:
    with pytest.raises(BadInputError) as raised:
        from_info(info)
    assert raised.value.exit_code == 2
    message = str(raised.value)
    assert message.startswith(FILENAME)
    return message


def test_missing_index_json() -> None:
    assert "index.json" in _error({"about.json": dumps({})})


@pytest.mark.parametrize("member", ["index.json", "about.json", "paths.json", "link.json"])
def test_bad_json(member: str) -> None:
    info = {"index.json": dumps(INDEX), member: b"{not json"}
    assert member in _error(info)


@pytest.mark.parametrize("member", ["index.json", "about.json", "run_exports.json"])
def test_json_that_is_not_an_object(member: str) -> None:
    info = {"index.json": dumps(INDEX), member: b"[1, 2]"}
    assert member in _error(info)


def test_not_utf8_json() -> None:
    assert "index.json" in _error({"index.json": b'{"name": "f\xe9e"}'})


@pytest.mark.parametrize("key", ["name", "version"])
def test_index_without_name_or_version(key: str) -> None:
    index = {k: v for k, v in INDEX.items() if k != key}
    assert repr(key) in _error({"index.json": dumps(index)})


def test_build_number_that_is_not_a_number() -> None:
    assert "'x'" in _error({"index.json": dumps({**INDEX, "build_number": "x"})})


@pytest.mark.parametrize(
    "path", ["../etc/passwd", "lib/../../etc/passwd", "/etc/passwd", "C:/Windows/evil.dll", "C:\\x"]
)
def test_path_escaping_the_package(path: str) -> None:
    info = {"index.json": dumps(INDEX), "paths.json": dumps({"paths": [{"_path": path}]})}
    assert repr(path) in _error(info)


def test_legacy_path_escaping_the_package() -> None:
    info = {"index.json": dumps(INDEX), "files": b"bin/foo\n../../etc/passwd\n"}
    assert "'../../etc/passwd'" in _error(info)


@pytest.mark.parametrize(
    "paths",
    [{"files": []}, {"paths": "bin/foo"}, {"paths": [{"path": "bin/foo"}]}, {"paths": ["bin/foo"]}],
)
def test_malformed_paths_json(paths: object) -> None:
    assert "paths.json" in _error({"index.json": dumps(INDEX), "paths.json": dumps(paths)})


def test_a_path_listed_twice_is_refused() -> None:
    paths = {"paths": [{"_path": "bin/foo"}, {"_path": "lib/x"}, {"_path": "./bin//foo"}]}
    message = _error({"index.json": dumps(INDEX), "paths.json": dumps(paths)})
    assert "lists 'bin/foo' twice" in message


@pytest.mark.parametrize("size", [2**60, 2**64, 10**19 + 7])
def test_a_size_no_file_has_is_refused(size: int) -> None:
    paths = {"paths": [{"_path": "bin/foo", "size_in_bytes": size}]}
    assert "size_in_bytes" in _error({"index.json": dumps(INDEX), "paths.json": dumps(paths)})


def test_unknown_path_type() -> None:
    paths = {"paths": [{"_path": "bin/foo", "path_type": "junction"}]}
    assert "'junction'" in _error({"index.json": dumps(INDEX), "paths.json": dumps(paths)})


def test_unknown_subdir() -> None:
    assert "'foo-99'" in _error({"index.json": dumps({**INDEX, "subdir": "foo-99"})})


def test_no_subdir() -> None:
    index = {k: v for k, v in INDEX.items() if k != "subdir"}
    assert "subdir" in _error({"index.json": dumps(index)})


def test_unknown_legacy_platform() -> None:
    index = {k: v for k, v in INDEX.items() if k != "subdir"}
    assert "subdir" in _error({"index.json": dumps({**index, "platform": "beos", "arch": "x86"})})
