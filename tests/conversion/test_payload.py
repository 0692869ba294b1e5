"""Streaming the payload into the wheel: what is written, copied, rewritten or left out."""

from __future__ import annotations

import hashlib
import json
import random
import zipfile
from pathlib import Path
from typing import Any, Literal

import pytest

from builders import PREFIX_PLACEHOLDER, CondaPackageBuilder, sha256_hex
from condawheel.conversion.core import ConvertResult, convert, inspect_package
from validator import validate_wheel

Fmt = Literal["conda", "tar.bz2"]
FORMATS: tuple[Fmt, ...] = ("conda", "tar.bz2")
SP = "lib/python3.12/site-packages"
DATA = "demo-1.0.data/data"
SCRIPTS = "demo-1.0.data/scripts"


def builder() -> CondaPackageBuilder:
    return CondaPackageBuilder(name="demo", version="1.0", build="h0_0")


def run(tmp_path: Path, b: CondaPackageBuilder, fmt: Fmt = "conda", **build: Any) -> ConvertResult:
    package = b.build(tmp_path / "pkgs", fmt=fmt, **build)
    result = convert(package, tmp_path / "dist")
    validate_wheel(result.wheel)
    return result


def contents(result: ConvertResult) -> dict[str, bytes]:
    with zipfile.ZipFile(result.wheel) as archive:
        return {
            name: archive.read(name) for name in archive.namelist() if ".dist-info/" not in name
        }


def test_files_go_where_the_layout_says(tmp_path: Path) -> None:
    b = builder()
    b.add_file(f"{SP}/demo/__init__.py", "VALUE = 1\n")
    b.add_file("bin/demo-sh", "#!/bin/sh\necho demo\n", mode=0o755)
    b.add_file("include/demo.h", "int demo(void);\n")
    b.add_file("share/demo/data.txt", "data\n")
    result = run(tmp_path, b)
    assert contents(result) == {
        "demo/__init__.py": b"VALUE = 1\n",
        f"{SCRIPTS}/demo-sh": b"#!/bin/sh\necho demo\n",
        f"{DATA}/include/demo.h": b"int demo(void);\n",
        f"{DATA}/share/demo/data.txt": b"data\n",
    }
    payload = result.payload
    assert payload.root_files == ("demo/__init__.py",)
    assert payload.file_count == 4
    assert payload.files_by_scheme == {"data": 2, "root": 1, "scripts": 1}
    assert payload.warnings == ()
    with zipfile.ZipFile(result.wheel) as archive:
        mode = archive.getinfo(f"{SCRIPTS}/demo-sh").external_attr >> 16
    assert mode & 0o777 == 0o755


@pytest.mark.parametrize("fmt", FORMATS)
def test_file_not_in_paths_json_is_left_out(tmp_path: Path, fmt: Fmt) -> None:
    b = builder()
    b.add_file("share/demo/listed.txt", "listed\n")
    b.add_raw_member("share/demo/unlisted.txt", "unlisted\n")
    result = run(tmp_path, b, fmt)
    assert contents(result) == {f"{DATA}/share/demo/listed.txt": b"listed\n"}
    assert result.payload.warnings == (
        "share/demo/unlisted.txt: in the archive but not in info/paths.json, so conda "
        "would not install it; left out",
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_symlink_to_a_directory_copies_every_file_under_it(tmp_path: Path, fmt: Fmt) -> None:
    b = builder()
    b.add_file("share/demo/real/a.txt", "a\n")
    b.add_file("share/demo/real/sub/b.txt", "b\n")
    b.add_symlink("share/demo/alias", "real")
    result = run(tmp_path, b, fmt)
    assert contents(result) == {
        f"{DATA}/share/demo/real/a.txt": b"a\n",
        f"{DATA}/share/demo/real/sub/b.txt": b"b\n",
        f"{DATA}/share/demo/alias/a.txt": b"a\n",
        f"{DATA}/share/demo/alias/sub/b.txt": b"b\n",
    }
    assert result.payload.warnings == ()


def test_symlink_to_a_directory_holding_a_symlink(tmp_path: Path) -> None:
    # conda installs share/demo/alias/current (a link through a link); so must the wheel,
    # whatever the names sort like.
    b = builder()
    b.add_file("share/demo/real/v1.txt", "v1\n")
    b.add_symlink("share/demo/real/current", "v1.txt")
    b.add_symlink("share/demo/alias", "real")
    result = run(tmp_path, b)
    assert contents(result) == {
        f"{DATA}/share/demo/real/v1.txt": b"v1\n",
        f"{DATA}/share/demo/real/current": b"v1\n",
        f"{DATA}/share/demo/alias/v1.txt": b"v1\n",
        f"{DATA}/share/demo/alias/current": b"v1\n",
    }


@pytest.mark.parametrize("fmt", FORMATS)
def test_dangling_symlink_is_left_out(tmp_path: Path, fmt: Fmt) -> None:
    b = builder()
    b.add_file("share/demo/data.txt", "data\n")
    b.add_symlink("share/demo/python", "../../bin/python3.12")  # another package's file
    result = run(tmp_path, b, fmt)
    assert contents(result) == {f"{DATA}/share/demo/data.txt": b"data\n"}
    assert result.payload.warnings == (
        "share/demo/python: links to bin/python3.12, which this package does not hold; left out",
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_symlink_to_a_file_becomes_a_copy(tmp_path: Path, fmt: Fmt) -> None:
    b = builder()
    b.add_file("share/demo/v2/data.txt", "data\n", mode=0o755)
    b.add_symlink("share/demo/data.txt", "v2/data.txt")
    result = run(tmp_path, b, fmt)
    assert contents(result) == {
        f"{DATA}/share/demo/v2/data.txt": b"data\n",
        f"{DATA}/share/demo/data.txt": b"data\n",
    }
    with zipfile.ZipFile(result.wheel) as archive:
        mode = archive.getinfo(f"{DATA}/share/demo/data.txt").external_attr >> 16
    assert mode & 0o777 == 0o755


@pytest.mark.parametrize("fmt", FORMATS)
def test_hardlink_becomes_a_copy(tmp_path: Path, fmt: Fmt) -> None:
    b = builder()
    b.add_file(f"{SP}/demo/__init__.py", "VALUE = 1\n")
    b.add_hardlink("share/demo/init-copy.py", f"{SP}/demo/__init__.py")
    result = run(tmp_path, b, fmt)
    assert contents(result) == {
        "demo/__init__.py": b"VALUE = 1\n",
        f"{DATA}/share/demo/init-copy.py": b"VALUE = 1\n",
    }
    assert result.payload.file_count == 2


def test_symlink_stored_as_an_empty_file_is_restored(tmp_path: Path) -> None:
    library = b"pretend library contents\n"
    b = builder()
    b.add_file("lib/libdemo.so.1.2", library)
    b.add_file("lib/libdemo.so", b"")

    def as_softlink(paths: dict[str, Any]) -> None:
        for entry in paths["paths"]:
            if entry["_path"] == "lib/libdemo.so":
                entry.update(
                    path_type="softlink", sha256=sha256_hex(library), size_in_bytes=len(library)
                )

    result = run(tmp_path, b, paths_json_override=as_softlink)
    assert contents(result) == {
        f"{DATA}/lib/libdemo.so.1.2": library,
        f"{DATA}/lib/libdemo.so": library,
    }
    assert result.payload.warnings == (
        "lib/libdemo.so: symlink stored without its target; restored from lib/libdemo.so.1.2",
    )


def _prefix_json(result: ConvertResult) -> dict[str, Any] | None:
    with zipfile.ZipFile(result.wheel) as archive:
        name = "demo-1.0.dist-info/conda/prefix.json"
        return json.loads(archive.read(name)) if name in archive.namelist() else None


def test_placeholder_shebang_becomes_python(tmp_path: Path) -> None:
    b = builder()
    b.add_file(
        "bin/demo-tool",
        f"#!{PREFIX_PLACEHOLDER}/bin/python3.12\nimport sys\nprint(sys.argv)\n",
        mode=0o755,
        prefix_placeholder=PREFIX_PLACEHOLDER,
    )
    result = run(tmp_path, b)
    assert contents(result) == {
        f"{SCRIPTS}/demo-tool": b"#!python\nimport sys\nprint(sys.argv)\n",
    }
    assert _prefix_json(result) is None
    assert result.payload.prefix_records == ()
    assert result.warnings == ()


def test_placeholder_left_in_a_script_is_listed(tmp_path: Path) -> None:
    b = builder()
    b.add_file(
        "bin/demo-tool",
        f"#!{PREFIX_PLACEHOLDER}/bin/python3.12\nPREFIX = '{PREFIX_PLACEHOLDER}'\n",
        mode=0o755,
        prefix_placeholder=PREFIX_PLACEHOLDER,
    )
    b.add_file(
        "bin/demo-sh",
        f"#!/bin/sh\nexec {PREFIX_PLACEHOLDER}/bin/demo-tool\n",
        mode=0o755,
        prefix_placeholder=PREFIX_PLACEHOLDER,
    )
    result = run(tmp_path, b)
    assert contents(result) == {
        f"{SCRIPTS}/demo-tool": f"#!python\nPREFIX = '{PREFIX_PLACEHOLDER}'\n".encode(),
        f"{SCRIPTS}/demo-sh": f"#!/bin/sh\nexec {PREFIX_PLACEHOLDER}/bin/demo-tool\n".encode(),
    }
    assert _prefix_json(result) == {
        "version": 1,
        "files": [
            {
                "path": f"{SCRIPTS}/demo-sh",
                "conda_path": "bin/demo-sh",
                "placeholder": PREFIX_PLACEHOLDER,
                "mode": "text",
            },
            {
                "path": f"{SCRIPTS}/demo-tool",
                "conda_path": "bin/demo-tool",
                "placeholder": PREFIX_PLACEHOLDER,
                "mode": "text",
            },
        ],
    }


def test_large_data_file_streams_through_unchanged(tmp_path: Path) -> None:
    big = random.Random(3).randbytes(1024 * 1024 + 4097)
    b = builder()
    b.add_file("share/demo/big.bin", big)
    result = run(tmp_path, b)
    data = contents(result)[f"{DATA}/share/demo/big.bin"]
    assert hashlib.sha256(data).hexdigest() == hashlib.sha256(big).hexdigest()
    assert len(data) == len(big)


def test_large_incompressible_file_is_stored(tmp_path: Path) -> None:
    # Deflating data that cannot shrink costs time and saves nothing: the writer stores
    # it, judging on the first chunk of the member, whatever reads the member.
    b = builder()
    b.add_file("share/demo/random.bin", random.Random(4).randbytes(1024 * 1024 + 17))
    b.add_file("share/demo/text.txt", "text\n" * 100_000)
    result = run(tmp_path, b)
    with zipfile.ZipFile(result.wheel) as archive:
        assert archive.getinfo(f"{DATA}/share/demo/random.bin").compress_type == (
            zipfile.ZIP_STORED
        )
        assert archive.getinfo(f"{DATA}/share/demo/text.txt").compress_type == (
            zipfile.ZIP_DEFLATED
        )


def test_bytecode_is_dropped(tmp_path: Path) -> None:
    b = builder()
    b.add_file(f"{SP}/demo/__init__.py", "VALUE = 1\n")
    b.add_file(f"{SP}/demo/__pycache__/__init__.cpython-312.pyc", b"\xcb\r\r\n bytecode")
    b.add_file(f"{SP}/__pycache__/top.cpython-312.pyc", b"\xcb\r\r\n bytecode")
    result = run(tmp_path, b)
    assert contents(result) == {"demo/__init__.py": b"VALUE = 1\n"}
    assert result.payload.files_by_scheme == {"root": 1}
    assert result.payload.notes == (
        f"{SP}/__pycache__/top.cpython-312.pyc: bytecode or another distribution's "
        "metadata; left out",
        f"{SP}/demo/__pycache__/__init__.cpython-312.pyc: bytecode or another "
        "distribution's metadata; left out",
    )


def test_another_distributions_dist_info_is_dropped(tmp_path: Path) -> None:
    b = builder()
    b.add_dist_info("demo", "1.0")
    b.add_dist_info("vendored_helper", "2.0")
    b.add_file(f"{SP}/demo/__init__.py", "")
    b.add_file(f"{SP}/vendored_helper.py", "")
    result = run(tmp_path, b)
    with zipfile.ZipFile(result.wheel) as archive:
        names = archive.namelist()
    assert sorted({n.split("/")[0] for n in names if ".dist-info/" in n}) == ["demo-1.0.dist-info"]
    assert not any("vendored_helper-2.0" in n for n in names)
    assert sorted(contents(result)) == ["demo/__init__.py", "vendored_helper.py"]
    assert result.plan.layout.metadata_dir == "demo-1.0.dist-info"


def test_inspect_sees_the_same_payload(tmp_path: Path) -> None:
    b = builder()
    b.add_file("share/demo/real/a.txt", "a\n")
    b.add_symlink("share/demo/alias", "real")
    b.add_hardlink("share/demo/hard.txt", "share/demo/real/a.txt")
    b.add_file("bin/tool", f"#!{PREFIX_PLACEHOLDER}/bin/python\n", mode=0o755)
    package = b.build(tmp_path / "pkgs")
    inspected = inspect_package(package).payload
    converted = convert(package, tmp_path / "dist").payload
    assert inspected == converted
    assert converted.file_count == 4
