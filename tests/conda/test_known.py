"""Packages given with --with: a conda prefix, a local channel, or one package file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from builders import CondaPackageBuilder
from condawheel.conda.known import KnownPackage, KnownPackages
from condawheel.exceptions import BadInputError, ConfigurationError

PYYAML_FILES = [
    "lib/python3.12/site-packages/PyYAML-6.0.1.dist-info/INSTALLER",
    "lib/python3.12/site-packages/PyYAML-6.0.1.dist-info/METADATA",
    "lib/python3.12/site-packages/PyYAML-6.0.1.dist-info/RECORD",
    "lib/python3.12/site-packages/_yaml/__init__.py",
    "lib/python3.12/site-packages/yaml/__init__.py",
    "lib/python3.12/site-packages/yaml/_yaml.cpython-312-x86_64-linux-gnu.so",
]
LIBZLIB_FILES = ["lib/libz.so.1", "lib/libz.so.1.3.1"]
FLASK_FILES = [
    "bin/flask",
    "lib/python3.5/site-packages/Flask-0.11.1-py3.5.egg-info/PKG-INFO",
    "lib/python3.5/site-packages/Flask-0.11.1-py3.5.egg-info/SOURCES.txt",
    "lib/python3.5/site-packages/flask/__init__.py",
]


def conda_meta_record(
    name: str, version: str, build: str, files: list[str], **extra: Any
) -> dict[str, Any]:
    """A record as conda writes it into `conda-meta/` on install."""
    return {
        "build": build,
        "build_number": 0,
        "channel": "https://conda.anaconda.org/conda-forge/linux-64",
        "depends": [],
        "extracted_package_dir": f"/opt/conda/pkgs/{name}-{version}-{build}",
        "files": files,
        "fn": f"{name}-{version}-{build}.conda",
        "license": "MIT",
        "name": name,
        "paths_data": {"paths": [], "paths_version": 1},
        "requested_spec": name,
        "subdir": "linux-64",
        "timestamp": 1700000000000,
        "url": f"https://conda.anaconda.org/conda-forge/linux-64/{name}-{version}-{build}.conda",
        "version": version,
        **extra,
    }


def make_prefix(root: Path, records: list[dict[str, Any]]) -> Path:
    meta = root / "conda-meta"
    meta.mkdir(parents=True)
    for record in records:
        stem = f"{record['name']}-{record['version']}-{record['build']}"
        (meta / f"{stem}.json").write_text(json.dumps(record, indent=2), encoding="utf-8")
    (meta / "history").write_text("==> 2024-01-01 00:00:00 <==\n# cmd: conda create\n")
    (root / "lib").mkdir()
    return root


@pytest.fixture
def prefix(tmp_path: Path) -> Path:
    return make_prefix(
        tmp_path / "env",
        [
            conda_meta_record(
                "pyyaml",
                "6.0.1",
                "py312h66e93f0_1",
                PYYAML_FILES,
                run_exports={},
            ),
            conda_meta_record(
                "libzlib",
                "1.3.1",
                "hb9d3cd8_2",
                LIBZLIB_FILES,
                run_exports={"weak": ["libzlib >=1.3.1,<2.0a0"]},
            ),
            conda_meta_record("flask", "0.11.1", "py35_0", FLASK_FILES),
        ],
    )


def test_prefix_records(prefix: Path) -> None:
    known = KnownPackages.load([prefix])
    meta = prefix / "conda-meta"
    assert known.packages == (
        KnownPackage(
            name="flask",
            version="0.11.1",
            build="py35_0",
            files=tuple(FLASK_FILES),
            run_exports={},
            origin=str(meta / "flask-0.11.1-py35_0.json"),
        ),
        KnownPackage(
            name="libzlib",
            version="1.3.1",
            build="hb9d3cd8_2",
            files=tuple(LIBZLIB_FILES),
            run_exports={"weak": ["libzlib >=1.3.1,<2.0a0"]},
            origin=str(meta / "libzlib-1.3.1-hb9d3cd8_2.json"),
        ),
        KnownPackage(
            name="pyyaml",
            version="6.0.1",
            build="py312h66e93f0_1",
            files=tuple(PYYAML_FILES),
            run_exports={},
            origin=str(meta / "pyyaml-6.0.1-py312h66e93f0_1.json"),
        ),
    )


def test_prefix_names(prefix: Path) -> None:
    assert KnownPackages.load([prefix]).names() == {
        "flask": "Flask",
        "libzlib": None,
        "pyyaml": "PyYAML",
    }


def test_prefix_record_without_optional_keys(tmp_path: Path) -> None:
    record = {"name": "tzdata", "version": "2024a"}
    make_prefix(tmp_path / "env", [{**record, "build": "h0"}])
    (tmp_path / "env" / "conda-meta" / "tzdata-2024a-h0.json").write_text(json.dumps(record))
    assert KnownPackages.load([tmp_path / "env"]).packages == (
        KnownPackage(
            name="tzdata",
            version="2024a",
            build="",
            files=(),
            run_exports={},
            origin=str(tmp_path / "env" / "conda-meta" / "tzdata-2024a-h0.json"),
        ),
    )


def test_empty_prefix_knows_nothing(tmp_path: Path) -> None:
    assert KnownPackages.load([make_prefix(tmp_path / "env", [])]).packages == ()


@pytest.fixture
def channel(tmp_path: Path) -> Path:
    root = tmp_path / "channel"
    yaml_thing = CondaPackageBuilder(
        name="py-yaml-thing", version="6.0", build="pyhd8ed1ab_0", noarch="python"
    )
    yaml_thing.add_dist_info("YamlThing", "6.0")
    yaml_thing.add_file("site-packages/yaml_thing/__init__.py", "")
    yaml_thing.build(root / "noarch", fmt="conda")

    zlib = CondaPackageBuilder(name="libzlib", version="1.3.1", build="hb9d3cd8_2")
    zlib.add_file("lib/libz.so.1.3.1", b"\0not really a library\0")
    zlib.add_symlink("lib/libz.so.1", "libz.so.1.3.1")
    zlib.set_run_exports({"weak": ["libzlib >=1.3.1,<2.0a0"]})
    zlib.build(root / "linux-64", fmt="tar.bz2")

    flask = CondaPackageBuilder(
        name="flask", version="0.11.1", build="py35_0", python_version="3.5"
    )
    egg = f"{flask.site_packages}/Flask-0.11.1-py3.5.egg-info"
    flask.add_file(f"{egg}/PKG-INFO", "Metadata-Version: 1.1\nName: Flask\nVersion: 0.11.1\n")
    flask.add_file(f"{flask.site_packages}/flask/__init__.py", "")
    flask.build(root / "linux-64", fmt="conda")

    for subdir in ("noarch", "linux-64"):
        (root / subdir / "repodata.json").write_text('{"packages": {}}')
    (root / "channeldata.json").write_text("{}")
    return root


def test_channel_packages(channel: Path) -> None:
    known = KnownPackages.load([channel])
    assert [(p.name, p.version, p.build, p.origin) for p in known.packages] == [
        ("flask", "0.11.1", "py35_0", str(channel / "linux-64" / "flask-0.11.1-py35_0.conda")),
        (
            "libzlib",
            "1.3.1",
            "hb9d3cd8_2",
            str(channel / "linux-64" / "libzlib-1.3.1-hb9d3cd8_2.tar.bz2"),
        ),
        (
            "py-yaml-thing",
            "6.0",
            "pyhd8ed1ab_0",
            str(channel / "noarch" / "py-yaml-thing-6.0-pyhd8ed1ab_0.conda"),
        ),
    ]
    zlib = known.packages[1]
    assert zlib.files == ("lib/libz.so.1", "lib/libz.so.1.3.1")
    assert zlib.run_exports == {"weak": ["libzlib >=1.3.1,<2.0a0"]}


def test_channel_names(channel: Path) -> None:
    assert KnownPackages.load([channel]).names() == {
        "flask": "Flask",
        "libzlib": None,
        "py-yaml-thing": "YamlThing",
    }


def test_single_package_file(tmp_path: Path) -> None:
    builder = CondaPackageBuilder(name="pyyaml", version="6.0.1", build="py312h66e93f0_1")
    builder.add_dist_info("PyYAML", "6.0.1")
    builder.add_file(f"{builder.site_packages}/yaml/__init__.py", "")
    package = builder.build(tmp_path, fmt="tar.bz2")
    known = KnownPackages.load([package])
    sp = "lib/python3.12/site-packages"
    assert known.packages == (
        KnownPackage(
            name="pyyaml",
            version="6.0.1",
            build="py312h66e93f0_1",
            files=(
                f"{sp}/PyYAML-6.0.1.dist-info/INSTALLER",
                f"{sp}/PyYAML-6.0.1.dist-info/METADATA",
                f"{sp}/PyYAML-6.0.1.dist-info/RECORD",
                f"{sp}/PyYAML-6.0.1.dist-info/REQUESTED",
                f"{sp}/PyYAML-6.0.1.dist-info/direct_url.json",
                f"{sp}/yaml/__init__.py",
            ),
            run_exports={},
            origin=str(package),
        ),
    )
    assert known.names() == {"pyyaml": "PyYAML"}


def test_sources_are_read_in_order(prefix: Path, channel: Path) -> None:
    known = KnownPackages.load([channel, prefix])
    assert [p.name for p in known.packages] == [
        "flask",
        "libzlib",
        "py-yaml-thing",
        "flask",
        "libzlib",
        "pyyaml",
    ]
    assert KnownPackages.load([]).packages == ()
    assert KnownPackages().names() == {}


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (["lib/python3.12/site-packages/PyYAML-6.0.1.dist-info/METADATA"], "PyYAML"),
        (["site-packages/typing_extensions-4.9.0.dist-info/RECORD"], "typing_extensions"),
        (["Lib/site-packages/pywin32-306.dist-info/METADATA"], "pywin32"),
        (["lib/python3.5/site-packages/Flask-0.11.1-py3.5.egg-info/PKG-INFO"], "Flask"),
        (["lib/python2.7/site-packages/foo_bar-2.0-py2.7.egg-info"], "foo_bar"),  # a file
        (["lib/python3.12/site-packages/attrs-23.1.0.egg-info/PKG-INFO"], "attrs"),
        (["lib/python3.12/site-packages/unversioned.dist-info/METADATA"], "unversioned"),
        (["bin/tool", "lib/python3.12/site-packages/Tool-1.0.dist-info/METADATA"], "Tool"),
        (["lib/libz.so.1", "include/zlib.h"], None),
        # Vendored metadata is not the package's own distribution.
        (["lib/python3.12/site-packages/pip/_vendor/idna-3.4.dist-info/METADATA"], None),
        ([], None),
    ],
)
def test_pypi_name(files: list[str], expected: str | None) -> None:
    package = KnownPackage(name="conda-name", version="1", build="0", files=tuple(files))
    assert package.pypi_name == expected


def test_missing_path(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-env"
    with pytest.raises(ConfigurationError) as caught:
        KnownPackages.load([missing])
    assert str(caught.value) == f"--with {missing}: no such file or directory"


def test_directory_without_records_or_packages(tmp_path: Path) -> None:
    folder = tmp_path / "project"
    (folder / "src").mkdir(parents=True)
    (folder / "README.md").write_text("hello\n")
    (folder / "src" / "thing.tar.gz").write_bytes(b"not a conda package")
    with pytest.raises(ConfigurationError) as caught:
        KnownPackages.load([folder])
    message = str(caught.value)
    assert message.startswith(f"--with {folder}: neither a conda prefix")
    assert "\n" not in message


@pytest.mark.parametrize(
    "content",
    [
        b'{"name": "broken", "version": ',  # truncated JSON
        b"\xff\xfe not utf-8",
        b'{"version": "1.0", "build": "0"}',  # no name
        b'["name", "version"]',  # not an object
        b'{"name": "x", "version": "1", "files": 5}',
    ],
)
def test_corrupt_conda_meta_record(prefix: Path, content: bytes) -> None:
    record = prefix / "conda-meta" / "broken-1.0-0.json"
    record.write_bytes(content)
    with pytest.raises(BadInputError) as caught:
        KnownPackages.load([prefix])
    message = str(caught.value)
    assert message == (f"--with {prefix}: broken-1.0-0.json is not a valid conda-meta record")


def test_corrupt_package_in_a_channel(channel: Path) -> None:
    broken = channel / "linux-64" / "broken-1.0-0.conda"
    broken.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(BadInputError) as caught:
        KnownPackages.load([channel])
    message = str(caught.value)
    assert message.startswith("broken-1.0-0.conda: not a readable conda package")
    assert "\n" not in message
