"""The wheel's METADATA, WHEEL and entry_points.txt (design section 1)."""

from __future__ import annotations

import configparser
import email.parser
import email.policy
import json
from collections.abc import Sequence
from typing import Any

import pytest
from packaging.metadata import Metadata

from condawheel.conda.package import CondaPackage
from condawheel.conversion.dependencies import Dependencies, classify
from condawheel.conversion.metadata import (
    DistributionId,
    add_requires_external,
    check_own_metadata,
    edit_metadata,
    generate_metadata,
    license_expression,
    merge_entry_points,
    script_names,
    wheel_file,
)
from condawheel.conversion.names import NameResolver
from condawheel.exceptions import BadInputError
from condawheel.version import __version__

DIST = DistributionId(name="foo", version="1.0")


def make_package(
    about: dict[str, Any] | None = None, depends: Sequence[str] = (), **index: Any
) -> CondaPackage:
    data: dict[str, Any] = {"name": "foo", "version": "1.0", "build": "0", "subdir": "linux-64"}
    data.update(depends=list(depends), **index)
    info = {"index.json": json.dumps(data).encode()}
    if about is not None:
        info["about.json"] = json.dumps(about).encode()
    return CondaPackage.from_info("foo-1.0-0.conda", info)


def dependencies_of(package: CondaPackage) -> Dependencies:
    return classify(package.depends, NameResolver(), python_package=True)


def generate(package: CondaPackage, license_files: Sequence[str] = ()) -> tuple[bytes, Metadata]:
    data = generate_metadata(package, DIST, dependencies_of(package), license_files)
    return data, Metadata.from_email(data, validate=True)


def headers(data: bytes) -> email.message.Message:
    return email.parser.BytesParser(policy=email.policy.compat32).parsebytes(data)


# --- generate_metadata ---


def test_generated_metadata_is_valid_2_4() -> None:
    package = make_package(
        about={"summary": "A thing", "home": "https://foo.org"},
        depends=["python >=3.12,<3.13.0a0", "numpy >=1.26", "libzlib >=1.3.1,<2.0a0"],
        license="MIT",
    )
    data, metadata = generate(package, ["LICENSE"])
    assert headers(data)["Metadata-Version"] == "2.4"
    assert metadata.metadata_version == "2.4"
    assert metadata.name == "foo"
    assert str(metadata.version) == "1.0"
    assert metadata.summary == "A thing"
    assert str(metadata.requires_python) == "<3.13.0a0,>=3.12"
    assert [str(r) for r in metadata.requires_dist or []] == ["numpy>=1.26"]
    assert metadata.requires_external == ["libzlib (>=1.3.1,<2.0a0)"]


def test_generated_field_names_are_spelled_as_the_specification_does() -> None:
    package = make_package(
        about={"summary": "A thing", "home": "https://foo.org", "description": "Long.\nText"},
        depends=["numpy >=1.26", "libzlib >=1.3"],
        license="MIT",
    )
    data, _ = generate(package, ["LICENSE"])
    head = data.decode().partition("\n\n")[0]
    names = [line.partition(":")[0] for line in head.splitlines() if line[:1] not in " \t"]
    assert data.startswith(b"Metadata-Version: 2.4\n")  # twine finds METADATA by this
    assert names == [
        "Metadata-Version",
        "Name",
        "Version",
        "Summary",
        "Description-Content-Type",
        "License-Expression",
        "License-File",
        "Requires-Dist",
        "Requires-External",
        "Project-URL",
    ]
    assert data.decode().partition("\n\n")[2] == "Long.\nText"  # the body is untouched


@pytest.mark.parametrize(
    ("licence", "expression"),
    [("MIT", "MIT"), ("BSD-3-Clause", "BSD-3-Clause"), ("Apache-2.0 OR MIT", "Apache-2.0 OR MIT")],
)
def test_spdx_licence_becomes_license_expression(licence: str, expression: str) -> None:
    data, metadata = generate(make_package(license=licence))
    assert metadata.license_expression == expression
    assert metadata.license is None
    assert headers(data)["License"] is None


@pytest.mark.parametrize("licence", ["GPL", "Apache", "BSD", "Public Domain"])
def test_other_licence_becomes_license(licence: str) -> None:
    data, metadata = generate(make_package(license=licence))
    assert metadata.license == licence
    assert metadata.license_expression is None
    assert headers(data)["License-Expression"] is None


def test_licence_from_about_json() -> None:
    _, metadata = generate(make_package(about={"license": "BSD-3-Clause"}))
    assert metadata.license_expression == "BSD-3-Clause"


def test_no_licence() -> None:
    _, metadata = generate(make_package())
    assert metadata.license is None
    assert metadata.license_expression is None


def test_project_urls() -> None:
    about = {
        "home": "https://foo.org",
        "dev_url": "https://github.com/foo/foo",
        "doc_url": "https://foo.readthedocs.io",
    }
    _, metadata = generate(make_package(about=about))
    assert metadata.project_urls == {
        "Homepage": "https://foo.org",
        "Source": "https://github.com/foo/foo",
        "Documentation": "https://foo.readthedocs.io",
    }


def test_some_project_urls() -> None:
    _, metadata = generate(make_package(about={"dev_url": "https://github.com/foo/foo"}))
    assert metadata.project_urls == {"Source": "https://github.com/foo/foo"}


def test_license_files() -> None:
    _, metadata = generate(make_package(license="MIT"), ["LICENSE", "vendor/COPYING.txt"])
    assert metadata.license_files == ["LICENSE", "vendor/COPYING.txt"]


def test_summary_is_one_line_and_description_is_the_body() -> None:
    about = {"summary": "A thing\n  that   does", "description": "# Foo\n\nLong text.\n"}
    data, metadata = generate(make_package(about=about))
    assert metadata.summary == "A thing that does"
    assert metadata.description == "# Foo\n\nLong text.\n"
    assert metadata.description_content_type == "text/markdown"
    assert data.endswith(b"\n\n# Foo\n\nLong text.\n")


def test_minimal_metadata() -> None:
    _, metadata = generate(make_package())
    assert metadata.name == "foo"
    assert metadata.requires_dist is None
    assert metadata.requires_python is None
    assert metadata.project_urls is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [("MIT", "MIT"), ("mit", "MIT"), ("BSD-3-Clause", "BSD-3-Clause"), ("GPL", None), ("", None)],
)
def test_license_expression(text: str, expected: str | None) -> None:
    assert license_expression(text) == expected
    assert license_expression(None) is None


# --- edit_metadata ---

ORIGINAL = (
    b"Metadata-Version: 2.1\n"
    b"Name: foo\n"
    b"Version: 0.9.dev0\n"
    b"Summary: A thing\n"
    b"Home-page: https://foo.org\n"
    b"License: BSD 3-Clause License\n"
    b"        \n"
    b"        Copyright (c) Foo\n"
    b"Classifier: Programming Language :: Python :: 3\n"
    b"Requires-Python: >=3.8\n"
    b"Requires-Dist: requests>=2\n"
    b'Requires-Dist: pytest; extra == "test"\n'
    b"Requires-Dist: sphinx ; extra=='docs'\n"
    b"Requires-Dist: colorama; sys_platform == 'win32'\n"
    b"Requires-External: libfoo\n"
    b"Provides-Extra: test\n"
    b"Description-Content-Type: text/markdown\n"
    b"\n"
    b"# Foo\n"
    b"\n"
    b"Requires-Dist: not a header, part of the body\n"
    b"  indented\n"
)


def edited(original: bytes = ORIGINAL) -> bytes:
    package = make_package(
        depends=["python >=3.12,<3.13.0a0", "numpy >=1.26", "libzlib >=1.3.1,<2.0a0"]
    )
    return edit_metadata(
        original, DistributionId(name="foo", version="1.0"), dependencies_of(package)
    )


def _head_and_body(data: bytes) -> tuple[list[bytes], bytes]:
    head, _, body = data.partition(b"\n\n")
    return head.split(b"\n"), body


def test_edit_keeps_other_headers_and_the_body_byte_for_byte() -> None:
    head, body = _head_and_body(edited())
    assert body == ORIGINAL.partition(b"\n\n")[2]
    replaced = (b"Version:", b"Requires-Python:", b"Requires-Dist:", b"Requires-External:")
    kept = [line for line in head if not line.startswith(replaced)]
    assert kept == [
        b"Metadata-Version: 2.1",
        b"Name: foo",
        b"Summary: A thing",
        b"Home-page: https://foo.org",
        b"License: BSD 3-Clause License",
        b"        ",
        b"        Copyright (c) Foo",
        b"Classifier: Programming Language :: Python :: 3",
        b"Provides-Extra: test",
        b"Description-Content-Type: text/markdown",
    ]


def test_edit_replaces_version_and_dependencies() -> None:
    head, _ = _head_and_body(edited())
    assert [line for line in head if line.startswith(b"Version:")] == [b"Version: 1.0"]
    assert [line for line in head if line.startswith(b"Requires-Python:")] == [
        b"Requires-Python: >=3.12,<3.13.0a0"
    ]
    assert [line for line in head if line.startswith(b"Requires-External:")] == [
        b"Requires-External: libzlib (>=1.3.1,<2.0a0)"
    ]
    # Unconditional Requires-Dist give way to conda's; the ones for extras stay.
    assert [line for line in head if line.startswith(b"Requires-Dist:")] == [
        b'Requires-Dist: pytest; extra == "test"',
        b"Requires-Dist: sphinx ; extra=='docs'",
        b"Requires-Dist: numpy>=1.26",
    ]


def test_edited_metadata_parses() -> None:
    metadata = Metadata.from_email(edited(), validate=True)
    assert metadata.name == "foo"
    assert str(metadata.version) == "1.0"
    assert str(metadata.requires_python) == "<3.13.0a0,>=3.12"
    assert metadata.provides_extra == ["test"]


def test_version_follows_name() -> None:
    head, _ = _head_and_body(edited())
    assert head[1:3] == [b"Name: foo", b"Version: 1.0"]


@pytest.mark.parametrize("old", [b"1.0", b"1.1"])
def test_old_metadata_version_is_bumped(old: bytes) -> None:
    original = b"Metadata-Version: " + old + b"\nName: foo\nVersion: 0.9\nSummary: A thing\n"
    head, _ = _head_and_body(edited(original))
    assert head[0] == b"Metadata-Version: 2.1"
    assert b"Summary: A thing" in head


@pytest.mark.parametrize("version", [b"1.2", b"2.1", b"2.4"])
def test_newer_metadata_version_is_kept(version: bytes) -> None:
    original = b"Metadata-Version: " + version + b"\nName: foo\nVersion: 0.9\n"
    head, _ = _head_and_body(edited(original))
    assert head[0] == b"Metadata-Version: " + version


def test_edit_without_a_body() -> None:
    original = b"Metadata-Version: 2.1\nName: foo\nVersion: 0.9\n"
    data = edited(original)
    assert b"\n\n" not in data
    assert data.endswith(b"\n")
    assert Metadata.from_email(data, validate=True).name == "foo"


# --- WHEEL ---


def test_wheel_file() -> None:
    data = wheel_file(
        ["cp312-cp312-conda_linux_2_17_x86_64"], purelib=False, build="0_py312h1234_0"
    )
    assert data == (
        b"Wheel-Version: 1.0\n"
        + f"Generator: condawheel {__version__}\n".encode()
        + b"Root-Is-Purelib: false\n"
        b"Tag: cp312-cp312-conda_linux_2_17_x86_64\n"
        b"Build: 0_py312h1234_0\n"
    )


def test_wheel_file_purelib_without_build() -> None:
    data = wheel_file(["py3-none-any"], purelib=True, build=None)
    assert data == (
        b"Wheel-Version: 1.0\n"
        + f"Generator: condawheel {__version__}\n".encode()
        + b"Root-Is-Purelib: true\n"
        b"Tag: py3-none-any\n"
    )


# --- entry points ---


def _sections(data: bytes) -> dict[str, dict[str, str]]:
    parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(data.decode())
    return {name: dict(parser[name]) for name in parser.sections()}


def test_merge_entry_points_from_link_json() -> None:
    data = merge_entry_points(None, ["foo = foo.cli:main", "foo-gui=foo.gui:run"])
    assert data is not None
    assert _sections(data) == {"console_scripts": {"foo": "foo.cli:main", "foo-gui": "foo.gui:run"}}


def test_merge_entry_points_into_the_kept_file() -> None:
    original = (
        b"[console_scripts]\nbar = foo.bar:main\n\n"
        b"[gui_scripts]\nfoo-app = foo.app:run\n\n"
        b"[foo.plugins]\nbaz = foo.baz\n"
    )
    data = merge_entry_points(original, ["foo = foo.cli:main"])
    assert data is not None
    assert _sections(data) == {
        "console_scripts": {"bar": "foo.bar:main", "foo": "foo.cli:main"},
        "gui_scripts": {"foo-app": "foo.app:run"},
        "foo.plugins": {"baz": "foo.baz"},
    }


def test_merge_entry_points_does_not_duplicate() -> None:
    original = b"[console_scripts]\nfoo = foo.cli:main\nbar = foo.bar:main\n"
    assert merge_entry_points(original, ["foo = foo.cli:main"]) == original
    assert merge_entry_points(original, ["foo=foo.cli:main", "bar = foo.bar:main"]) == original


def test_merge_entry_points_adds_only_what_is_missing() -> None:
    original = b"[console_scripts]\nfoo = foo.cli:main\n"
    data = merge_entry_points(original, ["foo = foo.cli:main", "bar = foo.bar:main"])
    assert data is not None
    assert data.count(b"foo = ") == 1
    assert _sections(data) == {"console_scripts": {"foo": "foo.cli:main", "bar": "foo.bar:main"}}


def test_merge_without_console_scripts_keeps_the_original() -> None:
    original = b"[gui_scripts]\nfoo-app = foo.app:run\n"
    assert merge_entry_points(original, []) == original
    assert merge_entry_points(None, []) is None


def test_script_names() -> None:
    entry_points = (
        b"[console_scripts]\nbar = foo.bar:main\n\n"
        b"[gui_scripts]\nfoo-app = foo.app:run\n\n"
        b"[foo.plugins]\nbaz = foo.baz\n"
    )
    assert script_names(entry_points, ["foo = foo.cli:main"]) == {"foo", "bar", "foo-app"}
    assert script_names(None, ["foo = foo.cli:main", "qux=foo.qux:main"]) == {"foo", "qux"}
    assert script_names(None, []) == set()


def test_script_names_of_a_broken_entry_points_file() -> None:
    assert script_names(b"not an ini file", ["foo = foo.cli:main"]) == {"foo"}


@pytest.mark.parametrize(
    ("name", "data", "problem"),
    [
        ("METADATA", b"\xff\xfe", "can't decode"),
        ("METADATA", b"[console_scripts]\nx = y:z\n", "one Name and one Version"),
        ("PKG-INFO", b"Name: a\nName: b\nVersion: 1\n", "one Name"),
        ("entry_points.txt", b"no section\n", "no section headers"),
        ("entry_points.txt", b"[console_scripts]\na = b:c\na = d:e\n", "already exists"),
    ],
)
def test_own_metadata_that_cannot_be_read(name: str, data: bytes, problem: str) -> None:
    with pytest.raises(BadInputError, match=problem) as caught:
        check_own_metadata("foo-1.0-0.conda", name, data)
    assert "\n" not in str(caught.value) and f"package's {name}" in str(caught.value)


def test_own_metadata_that_reads() -> None:
    check_own_metadata("foo-1.0-0.conda", "METADATA", b"Name: foo\nVersion: 1.0\n\nbody")
    check_own_metadata("foo-1.0-0.conda", "entry_points.txt", b"[console_scripts]\na = b:c\n")
    check_own_metadata("foo-1.0-0.conda", "RECORD", b"\xff anything")


def test_own_metadata_naming_another_distribution() -> None:
    data = b"Metadata-Version: 2.1\nName: other\nVersion: 1.0\n"
    with pytest.raises(BadInputError, match="it names other, its folder foo"):
        check_own_metadata("foo-1.0-0.conda", "METADATA", data, dist_name="foo")
    check_own_metadata("foo-1.0-0.conda", "METADATA", data, dist_name="Other")


def test_requires_external_of_bundled_packages_goes() -> None:
    original = (
        b"Metadata-Version: 2.4\nName: foo\nVersion: 1.0\n"
        b"Requires-External: libchain (>=1.0,<2.0a0)\nRequires-External: libzlib\n"
        b"Requires-External: libchaindep; sys_platform == 'linux'\n"
        b"Requires-Dist: libchain-python\n\nbody\n"
    )
    edited = add_requires_external(original, ["libpng (>=1.6)"], drop={"libchain", "libchaindep"})
    assert edited == (
        b"Metadata-Version: 2.4\nName: foo\nVersion: 1.0\nRequires-External: libzlib\n"
        b"Requires-Dist: libchain-python\nRequires-External: libpng (>=1.6)\n\nbody\n"
    )
