"""The wheel's one .dist-info: what is kept, dropped, moved and added."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from packaging.metadata import Metadata
from packaging.specifiers import SpecifierSet

from builders import PREFIX_PLACEHOLDER, CondaPackageBuilder
from condawheel.conda.known import KnownPackages
from condawheel.conda.package import CondaPackage
from condawheel.conversion.core import convert
from condawheel.conversion.distinfo import dist_info_files, prefix_manifest
from condawheel.conversion.payload import Payload
from condawheel.conversion.payload_state import PrefixRecord
from condawheel.conversion.plan import ConvertOptions, Plan, make_plan
from condawheel.conversion.tags import TagDecision
from condawheel.version import __version__
from validator import validate_wheel

SP = "lib/python3.12/site-packages"
DIST = f"{SP}/demo-1.0.dist-info"
INDEX = {
    "name": "demo",
    "version": "1.0",
    "build": "py312_0",
    "build_number": 0,
    "subdir": "linux-64",
    "depends": ["python >=3.12,<3.13.0a0", "click >=8"],
    "license": "MIT",
}
ABOUT = {"summary": "A demo", "license": "MIT"}
PURE = TagDecision(python="py3", abi="none", platform="any", reasons=())
CONDA_TAGGED = TagDecision(
    python="cp312", abi="cp312", platform="conda_linux_2_17_x86_64", reasons=()
)


def dumps(data: Any) -> bytes:
    return json.dumps(data, indent=2, sort_keys=True).encode()


def make_info(paths: list[str], **extra: bytes) -> dict[str, bytes]:
    entries = [{"_path": p, "path_type": "hardlink"} for p in paths]
    return {
        "index.json": dumps(INDEX),
        "about.json": dumps(ABOUT),
        "paths.json": dumps({"paths": entries, "paths_version": 1}),
        **extra,
    }


def make_plan_for(info: Mapping[str, bytes]) -> Plan:
    package = CondaPackage.from_info("demo-1.0-py312_0.conda", info)
    return make_plan(package, ConvertOptions(), KnownPackages())


def make_payload(
    metadata_files: Mapping[str, bytes] | None = None,
    prefix_records: tuple[PrefixRecord, ...] = (),
) -> Payload:
    return Payload(
        binaries=(),
        root_files=("demo/__init__.py",),
        metadata_files=dict(metadata_files or {}),
        prefix_records=prefix_records,
        file_count=1,
        files_by_scheme={"root": 1},
        warnings=(),
        notes=(),
    )


def wheel_files(wheel: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(wheel) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_kept_dist_info_drops_installation_records() -> None:
    info = make_info(
        [f"{DIST}/{name}" for name in ("METADATA", "RECORD", "entry_points.txt")],
        **{"licenses/LICENSE": b"MIT licence\n"},
    )
    kept = {
        "INSTALLER": b"conda\n",
        "METADATA": b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nSummary: A demo\n"
        b"Requires-Dist: click>=7\nRequires-Dist: pytest; extra == 'test'\n",
        "RECORD": b"demo/__init__.py,sha256=x,1\n",
        "REQUESTED": b"",
        "direct_url.json": b'{"dir_info": {}, "url": "file:///work"}',
        "entry_points.txt": b"[console_scripts]\ndemo = demo:main\n",
        "top_level.txt": b"demo\n",
    }
    result = dist_info_files(make_plan_for(info), make_payload(kept), CONDA_TAGGED)
    assert list(result.files) == [
        "METADATA",
        "WHEEL",
        "entry_points.txt",
        "licenses/LICENSE",
        "top_level.txt",
    ]
    assert result.files["METADATA"] == (
        b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nSummary: A demo\n"
        b"Requires-Dist: pytest; extra == 'test'\n"
        b"Requires-Python: >=3.12,<3.13.0a0\nRequires-Dist: click>=8\n"
    )
    assert result.files["entry_points.txt"] == kept["entry_points.txt"]
    assert result.files["top_level.txt"] == b"demo\n"
    assert result.files["licenses/LICENSE"] == b"MIT licence\n"
    assert result.warnings == ()


@pytest.mark.parametrize(
    ("tags", "purelib"),
    [
        (PURE, "true"),
        (CONDA_TAGGED, "false"),
        (TagDecision(python="py3", abi="none", platform="linux_x86_64", reasons=()), "false"),
        (TagDecision(python="cp312", abi="abi3", platform="conda_win_amd64", reasons=()), "false"),
    ],
)
def test_wheel_file(tags: TagDecision, purelib: str) -> None:
    result = dist_info_files(make_plan_for(make_info([])), make_payload(), tags)
    assert (
        result.files["WHEEL"]
        == (
            f"Wheel-Version: 1.0\nGenerator: condawheel {__version__}\n"
            f"Root-Is-Purelib: {purelib}\nTag: {tags.tag}\nBuild: 0_py312_0\n"
        ).encode()
    )


def test_generated_metadata_names_the_licence_files() -> None:
    info = make_info(
        [f"{SP}/demo/__init__.py"],
        **{"licenses/LICENSE": b"MIT\n", "licenses/vendor/COPYING": b"zlib\n"},
    )
    result = dist_info_files(make_plan_for(info), make_payload(), PURE)
    assert result.files["licenses/LICENSE"] == b"MIT\n"
    assert result.files["licenses/vendor/COPYING"] == b"zlib\n"
    metadata = Metadata.from_email(result.files["METADATA"], validate=True)
    assert metadata.metadata_version == "2.4"
    assert (metadata.name, str(metadata.version), metadata.summary) == ("demo", "1.0", "A demo")
    assert str(metadata.license_expression) == "MIT"
    assert metadata.license_files == ["LICENSE", "vendor/COPYING"]
    assert metadata.requires_python == SpecifierSet(">=3.12,<3.13.0a0")
    assert [str(r) for r in metadata.requires_dist or []] == ["click>=8"]


def test_prefix_manifest() -> None:
    records = (
        PrefixRecord(
            path="demo-1.0.data/data/etc/demo.conf",
            conda_path="etc/demo.conf",
            placeholder="/opt/anaconda1anaconda2anaconda3",
            mode="text",
        ),
        PrefixRecord(
            path="demo-1.0.data/data/lib/libdemo.so",
            conda_path="lib/libdemo.so",
            placeholder=PREFIX_PLACEHOLDER,
            mode="binary",
        ),
    )
    payload = make_payload(prefix_records=records)
    expected = {
        "files": [
            {
                "conda_path": "etc/demo.conf",
                "mode": "text",
                "path": "demo-1.0.data/data/etc/demo.conf",
                "placeholder": "/opt/anaconda1anaconda2anaconda3",
            },
            {
                "conda_path": "lib/libdemo.so",
                "mode": "binary",
                "path": "demo-1.0.data/data/lib/libdemo.so",
                "placeholder": PREFIX_PLACEHOLDER,
            },
        ],
        "version": 1,
    }
    assert prefix_manifest(payload) == (json.dumps(expected, indent=2) + "\n").encode()
    files = dist_info_files(make_plan_for(make_info([])), payload, CONDA_TAGGED).files
    assert files["conda/prefix.json"] == prefix_manifest(payload)


def test_no_prefix_manifest_without_placeholders() -> None:
    files = dist_info_files(make_plan_for(make_info([])), make_payload(), PURE).files
    assert "conda/prefix.json" not in files


# -- through convert ----------------------------------------------------------


def test_converted_dist_info(tmp_path: Path) -> None:
    builder = CondaPackageBuilder(
        name="tool-kit", version="2.1", build="pyhd8ed1ab_0", noarch="python"
    )
    builder.add_dist_info("tool_kit", "2.1", entry_points="[console_scripts]\ntk = tool_kit:main\n")
    builder.add_file("site-packages/tool_kit/__init__.py", "def main():\n    pass\n")
    builder.add_info_file("licenses/LICENSE", "BSD\n")
    builder.set_run_exports({"noarch": ["tool-kit"]})
    result = convert(builder.build(tmp_path / "pkgs"), tmp_path / "dist")
    report = validate_wheel(result.wheel)
    names = [n for n in report.files if n.startswith("tool_kit-2.1.dist-info/")]
    assert names == [
        "tool_kit-2.1.dist-info/METADATA",
        "tool_kit-2.1.dist-info/RECORD",
        "tool_kit-2.1.dist-info/WHEEL",
        "tool_kit-2.1.dist-info/conda/about.json",
        "tool_kit-2.1.dist-info/conda/index.json",
        "tool_kit-2.1.dist-info/conda/paths.json",
        "tool_kit-2.1.dist-info/conda/run_exports.json",
        "tool_kit-2.1.dist-info/entry_points.txt",
        "tool_kit-2.1.dist-info/licenses/LICENSE",
    ]
    files = wheel_files(result.wheel)
    assert files["tool_kit-2.1.dist-info/licenses/LICENSE"] == b"BSD\n"
    assert json.loads(files["tool_kit-2.1.dist-info/conda/run_exports.json"]) == {
        "noarch": ["tool-kit"]
    }


def root_licence_wheel(tmp_path: Path, metadata_version: str) -> tuple[Path, tuple[str, ...]]:
    """A kept METADATA naming `License-File: LICENSE`, the file at the dist-info root, as
    setuptools wrote it before Metadata 2.4."""
    builder = CondaPackageBuilder(name="licpkg", version="1.0", noarch="python")
    dist_info = "site-packages/licpkg-1.0.dist-info"
    builder.add_file(
        f"{dist_info}/METADATA",
        f"Metadata-Version: {metadata_version}\nName: licpkg\nVersion: 1.0\n"
        "License-File: LICENSE\n",
    )
    builder.add_file(f"{dist_info}/INSTALLER", "conda\n")
    builder.add_file(f"{dist_info}/LICENSE", "the licence\n")
    builder.add_file("site-packages/licpkg/__init__.py", "")
    result = convert(builder.build(tmp_path / "pkgs"), tmp_path / "dist")
    return result.wheel, result.warnings


@pytest.mark.parametrize("metadata_version", ["2.1", "2.4"])
def test_root_licence_file_moves_to_licenses(tmp_path: Path, metadata_version: str) -> None:
    wheel, _ = root_licence_wheel(tmp_path, metadata_version)
    report = validate_wheel(wheel)
    assert wheel_files(wheel)["licpkg-1.0.dist-info/licenses/LICENSE"] == b"the licence\n"
    assert [n for n in report.files if n.startswith("licpkg-1.0.dist-info/")] == [
        "licpkg-1.0.dist-info/METADATA",
        "licpkg-1.0.dist-info/RECORD",
        "licpkg-1.0.dist-info/WHEEL",
        "licpkg-1.0.dist-info/conda/about.json",
        "licpkg-1.0.dist-info/conda/index.json",
        "licpkg-1.0.dist-info/conda/paths.json",
        "licpkg-1.0.dist-info/licenses/LICENSE",
    ]


@pytest.mark.parametrize("metadata_version", ["2.1", "2.4"])
def test_root_licence_file_stays_named_in_metadata(tmp_path: Path, metadata_version: str) -> None:
    # The file is moved so that License-File can name it; the header must survive.
    wheel, warnings = root_licence_wheel(tmp_path, metadata_version)
    report = validate_wheel(wheel)
    assert report.metadata.license_files == ["LICENSE"]
    assert warnings == ()


def test_egg_info_basis(tmp_path: Path) -> None:
    builder = CondaPackageBuilder(name="flask", version="0.11.1", build="py312_0")
    egg = f"{builder.site_packages}/Flask-0.11.1-py3.12.egg-info"
    builder.add_file(
        f"{egg}/PKG-INFO",
        "Metadata-Version: 1.1\nName: Flask\nVersion: 0.11.1\nSummary: A microframework\n"
        "Home-page: https://palletsprojects.com/p/flask/\n",
    )
    builder.add_file(f"{egg}/SOURCES.txt", "flask/__init__.py\n")
    builder.add_file(f"{egg}/requires.txt", "Werkzeug>=0.7\n")
    builder.add_file(f"{egg}/dependency_links.txt", "\n")
    builder.add_file(f"{egg}/not-zip-safe", "\n")
    builder.add_file(f"{egg}/top_level.txt", "flask\n")
    builder.add_file(f"{egg}/entry_points.txt", "[console_scripts]\nflask = flask.cli:main\n")
    builder.add_file(f"{builder.site_packages}/flask/__init__.py", "")
    result = convert(builder.build(tmp_path / "pkgs"), tmp_path / "dist")
    assert result.wheel.name == "flask-0.11.1-0_py312_0-py3-none-any.whl"
    report = validate_wheel(result.wheel)
    assert [n for n in report.files if ".dist-info/" in n and "/conda/" not in n] == [
        "flask-0.11.1.dist-info/METADATA",
        "flask-0.11.1.dist-info/RECORD",
        "flask-0.11.1.dist-info/WHEEL",
        "flask-0.11.1.dist-info/entry_points.txt",
        "flask-0.11.1.dist-info/top_level.txt",
    ]
    assert not any(".egg-info" in n for n in report.files)
    files = wheel_files(result.wheel)
    assert files["flask-0.11.1.dist-info/METADATA"] == (
        b"Metadata-Version: 2.1\nName: Flask\nVersion: 0.11.1\nSummary: A microframework\n"
        b"Home-page: https://palletsprojects.com/p/flask/\n"
    )
    assert files["flask-0.11.1.dist-info/entry_points.txt"] == (
        b"[console_scripts]\nflask = flask.cli:main\n"
    )


def test_prefix_json_through_convert(tmp_path: Path) -> None:
    builder = CondaPackageBuilder(name="placeholders", version="1.0", build="h0_0")
    builder.add_file(
        "etc/placeholders.conf",
        f"prefix={PREFIX_PLACEHOLDER}\n",
        prefix_placeholder=PREFIX_PLACEHOLDER,
    )
    builder.add_file(
        "share/placeholders/blob.bin",
        b"\0\0" + PREFIX_PLACEHOLDER.encode() + b"\0",
        prefix_placeholder=PREFIX_PLACEHOLDER,
        file_mode="binary",
    )
    builder.add_file("share/placeholders/plain.txt", "no prefix here\n")
    result = convert(builder.build(tmp_path / "pkgs"), tmp_path / "dist")
    validate_wheel(result.wheel)
    manifest = json.loads(wheel_files(result.wheel)["placeholders-1.0.dist-info/conda/prefix.json"])
    assert manifest == {
        "version": 1,
        "files": [
            {
                "path": "placeholders-1.0.data/data/etc/placeholders.conf",
                "conda_path": "etc/placeholders.conf",
                "placeholder": PREFIX_PLACEHOLDER,
                "mode": "text",
            },
            {
                "path": "placeholders-1.0.data/data/share/placeholders/blob.bin",
                "conda_path": "share/placeholders/blob.bin",
                "placeholder": PREFIX_PLACEHOLDER,
                "mode": "binary",
            },
        ],
    }
