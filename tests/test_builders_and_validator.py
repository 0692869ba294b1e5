"""Prove the test-side tools (builder, compilers, validator) before anything relies on them."""

from __future__ import annotations

import importlib.util
import json
import platform
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Any, Literal

import pytest
from conda_package_streaming.package_streaming import stream_conda_component

from builders import PREFIX_PLACEHOLDER, CondaPackageBuilder, sha256_hex
from compilers import (
    compile_executable,
    compile_python_extension,
    compile_shared_library,
    extension_source,
    requires_gcc,
)
from validator import install_wheel, validate_wheel
from wheelmaker import make_wheel, record_hash

Format = Literal["conda", "tar.bz2"]  # what CondaPackageBuilder.build writes
PY = f"cp{sys.version_info.major}{sys.version_info.minor}"
ARCH = platform.machine()


def read_component(path: Path, component: str) -> dict[str, tarfile.TarInfo | bytes]:
    """{name: bytes for files, TarInfo for links}, read with conda_package_streaming."""
    out: dict[str, Any] = {}
    for tar, member in stream_conda_component(path, component=component):
        fileobj = tar.extractfile(member) if member.isfile() else None
        out[member.name] = fileobj.read() if fileobj else member
    return out


def read_all(path: Path) -> dict[str, Any]:
    if path.name.endswith(".tar.bz2"):  # one tar: "pkg" yields everything
        return read_component(path, "pkg")
    return {**read_component(path, "info"), **read_component(path, "pkg")}


def sample() -> CondaPackageBuilder:
    return (
        CondaPackageBuilder(
            name="demo",
            version="1.2.3",
            build="h123_1",
            build_number=1,
            depends=["libzlib >=1.3,<2.0a0", "__glibc >=2.17"],
            constrains=["other <2"],
            license="MIT",
            about={"summary": "A demo", "home": "https://example.org"},
        )
        .add_file("lib/libdemo.so.1.2", b"\x7fELF fake", mode=0o755)
        .add_symlink("lib/libdemo.so.1", "libdemo.so.1.2")
        .add_symlink("lib/libdemo.so", "libdemo.so.1")
        .add_hardlink("bin/demo-copy", "lib/libdemo.so.1.2")
        .add_file(
            "etc/demo.conf", f"prefix={PREFIX_PLACEHOLDER}\n", prefix_placeholder=PREFIX_PLACEHOLDER
        )
        .add_file("share/demo/data.bin", b"\0\1", no_link=True)
        .add_info_file("licenses/LICENSE", "MIT licence text\n")
        .set_run_exports({"weak": ["demo >=1.2.3,<2.0a0"]})
    )


# -- builder -----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["conda", "tar.bz2"])
def test_built_package_opens_and_paths_json_is_right(tmp_path: Path, fmt: Format) -> None:
    path = sample().build(tmp_path, fmt)
    assert path.name == f"demo-1.2.3-h123_1.{fmt}"
    members = read_all(path)
    index = json.loads(members["info/index.json"])
    assert index["name"] == "demo" and index["build_number"] == 1
    assert (index["subdir"], index["arch"], index["platform"]) == ("linux-64", "x86_64", "linux")
    assert index["depends"][0] == "libzlib >=1.3,<2.0a0" and index["constrains"] == ["other <2"]
    assert json.loads(members["info/about.json"])["summary"] == "A demo"
    assert json.loads(members["info/run_exports.json"])["weak"] == ["demo >=1.2.3,<2.0a0"]
    assert members["info/licenses/LICENSE"] == b"MIT licence text\n"

    paths = {p["_path"]: p for p in json.loads(members["info/paths.json"])["paths"]}
    assert sorted(paths) == members["info/files"].decode().split()
    assert json.loads(members["info/paths.json"])["paths_version"] == 1
    real = members["lib/libdemo.so.1.2"]
    for name in ("lib/libdemo.so.1.2", "lib/libdemo.so.1", "lib/libdemo.so", "bin/demo-copy"):
        assert paths[name]["sha256"] == sha256_hex(real), name
        assert paths[name]["size_in_bytes"] == len(real)
    assert paths["lib/libdemo.so"]["path_type"] == "softlink"
    assert paths["bin/demo-copy"]["path_type"] == "hardlink"
    assert (
        members["lib/libdemo.so"].issym() and members["lib/libdemo.so"].linkname == "libdemo.so.1"
    )
    assert members["bin/demo-copy"].islnk()
    assert paths["etc/demo.conf"]["prefix_placeholder"] == PREFIX_PLACEHOLDER
    assert paths["etc/demo.conf"]["file_mode"] == "text"
    assert paths["share/demo/data.bin"]["no_link"] is True
    assert "no_link" not in paths["etc/demo.conf"]


@pytest.mark.parametrize("fmt", ["conda", "tar.bz2"])
def test_build_is_deterministic_and_tar_headers_anonymous(tmp_path: Path, fmt: Format) -> None:
    first = sample().build(tmp_path / "a", fmt).read_bytes()
    path = sample().build(tmp_path / "b", fmt)
    assert first == path.read_bytes()
    names = []
    for _tar, member in stream_conda_component(path, component="pkg"):
        assert (member.uid, member.gid, member.uname) == (0, 0, "")
        names.append(member.name)
    if fmt == "tar.bz2":  # info/ first, so that readers can stop early
        is_info = [n.startswith("info/") for n in names]
        assert is_info == sorted(is_info, reverse=True) and is_info[0]


@pytest.mark.parametrize("fmt", ["conda", "tar.bz2"])
def test_built_package_extracts_with_links(tmp_path: Path, fmt: Format) -> None:
    from conda_package_streaming.extract import extract

    extract(sample().build(tmp_path, fmt), tmp_path / "x")
    lib = tmp_path / "x" / "lib"
    assert (lib / "libdemo.so").is_symlink() and (
        lib / "libdemo.so"
    ).read_bytes() == b"\x7fELF fake"
    assert (tmp_path / "x" / "bin" / "demo-copy").stat().st_ino == (
        lib / "libdemo.so.1.2"
    ).stat().st_ino
    assert json.loads((tmp_path / "x" / "info" / "index.json").read_text())["name"] == "demo"


def test_conda_format_layout(tmp_path: Path) -> None:
    path = sample().build(tmp_path, "conda")
    with zipfile.ZipFile(path) as zf:
        assert sorted(zf.namelist()) == [
            "info-demo-1.2.3-h123_1.tar.zst",
            "metadata.json",
            "pkg-demo-1.2.3-h123_1.tar.zst",
        ]
        assert json.loads(zf.read("metadata.json")) == {"conda_pkg_format_version": 2}
        assert all(i.compress_type == zipfile.ZIP_STORED for i in zf.infolist())
    assert all(n.startswith("info/") for n in read_component(path, "info"))
    assert not any(n.startswith("info/") for n in read_component(path, "pkg"))


def test_noarch_python_layout_entry_points_and_dist_info(tmp_path: Path) -> None:
    builder = (
        CondaPackageBuilder(name="tool", version="0.1", noarch="python", depends=["python >=3.9"])
        .add_file("site-packages/tool/__init__.py", "def main(): pass\n")
        .add_entry_points(["tool = tool:main"])
        .add_dist_info("Tool", "0.1", metadata_extra="Requires-Dist: rich", entry_points="[x]\n")
    )
    members = read_all(builder.build(tmp_path))
    index = json.loads(members["info/index.json"])
    assert (index["subdir"], index["noarch"], index["arch"], index["platform"]) == (
        "noarch",
        "python",
        None,
        None,
    )
    assert json.loads(members["info/link.json"]) == {
        "noarch": {"type": "python", "entry_points": ["tool = tool:main"]},
        "package_metadata_version": 1,
    }
    dist = "site-packages/Tool-0.1.dist-info"
    assert members[f"{dist}/METADATA"].decode().splitlines() == [
        "Metadata-Version: 2.1",
        "Name: Tool",
        "Version: 0.1",
        "Requires-Dist: rich",
    ]
    assert members[f"{dist}/entry_points.txt"] == b"[x]\n"
    assert {"INSTALLER", "REQUESTED", "direct_url.json", "RECORD"} <= {
        n.rsplit("/", 1)[1] for n in members if n.startswith(dist)
    }
    record = dict(
        (row.split(",")[0], row.split(",", 1)[1])
        for row in members[f"{dist}/RECORD"].decode().splitlines()
    )
    init = members["site-packages/tool/__init__.py"]
    assert record["tool/__init__.py"] == f"{record_hash(init)},{len(init)}"
    assert record["Tool-0.1.dist-info/RECORD"] == ","
    paths = {p["_path"]: p for p in json.loads(members["info/paths.json"])["paths"]}
    assert paths[f"{dist}/RECORD"]["sha256"] == sha256_hex(members[f"{dist}/RECORD"])


@pytest.mark.parametrize(
    ("subdir", "site_packages", "arch"),
    [
        ("linux-64", "lib/python3.13/site-packages", "x86_64"),
        ("win-64", "Lib/site-packages", "x86_64"),
        ("win-32", "Lib/site-packages", "x86"),
        ("osx-arm64", "lib/python3.13/site-packages", "arm64"),
    ],
)
def test_site_packages_per_subdir(
    tmp_path: Path, subdir: str, site_packages: str, arch: str
) -> None:
    builder = CondaPackageBuilder(name="p", version="1", subdir=subdir, python_version="3.13")
    members = read_all(builder.add_dist_info("p", "1", installer_files=False).build(tmp_path))
    assert f"{site_packages}/p-1.dist-info/METADATA" in members
    assert f"{site_packages}/p-1.dist-info/INSTALLER" not in members
    assert json.loads(members["info/index.json"])["arch"] == arch


@pytest.mark.parametrize("fmt", ["conda", "tar.bz2"])
def test_hostile_hooks_put_what_they_say_into_the_archive(tmp_path: Path, fmt: Format) -> None:
    builder = (
        CondaPackageBuilder(name="evil", version="1")
        .add_file("lib/ok.txt", "ok\n")
        .add_raw_member("../escape", b"x")
        .add_raw_member("/etc/evil", b"y")
        .add_raw_member("lib/link-out", type=tarfile.SYMTYPE, linkname="/etc/passwd")
        .add_raw_member("info/planted", b"z")
        .wrong_sha256_for("lib/ok.txt")
        .list_missing("lib/ghost.so")
    )
    members = read_all(builder.build(tmp_path, fmt))
    assert members["../escape"] == b"x" and members["/etc/evil"] == b"y"
    assert members["lib/link-out"].linkname == "/etc/passwd"
    if fmt == "conda":  # a raw member stays in pkg even when named like info/
        assert "info/planted" in read_component(tmp_path / "evil-1-0.conda", "pkg")
    paths = {p["_path"]: p for p in json.loads(members["info/paths.json"])["paths"]}
    assert sorted(paths) == ["lib/ghost.so", "lib/ok.txt"]
    assert paths["lib/ok.txt"]["sha256"] != sha256_hex(b"ok\n")
    assert "lib/ghost.so" not in members
    assert "lib/ghost.so" in members["info/files"].decode().split()


def test_build_overrides(tmp_path: Path) -> None:
    builder = CondaPackageBuilder(name="o", version="1").add_file("a.txt", "a")

    def drop_hashes(paths: dict[str, Any]) -> None:
        for entry in paths["paths"]:
            del entry["sha256"]

    members = read_all(
        builder.build(tmp_path / "1", index_json_override=None, omit_paths_json=True)
    )
    assert "info/index.json" not in members and "info/paths.json" not in members
    members = read_all(
        builder.build(
            tmp_path / "2", index_json_override=b"{not json", paths_json_override=drop_hashes
        )
    )
    assert members["info/index.json"] == b"{not json"
    assert "sha256" not in json.loads(members["info/paths.json"])["paths"][0]
    members = read_all(
        builder.build(
            tmp_path / "3", index_json_override={"name": "x"}, paths_json_override={"paths": []}
        )
    )
    assert json.loads(members["info/index.json"]) == {"name": "x"}
    assert json.loads(members["info/paths.json"]) == {"paths": []}


def test_builder_rejects_mistakes() -> None:
    builder = CondaPackageBuilder(name="m", version="1").add_file("a", "")
    for bad in ("a", "../a", "/a", "info/index.json"):
        with pytest.raises(ValueError):
            builder.add_file(bad, "")
    with pytest.raises(ValueError, match="noarch"):
        builder.add_entry_points(["x = y:z"])


# -- compilers ---------------------------------------------------------------------------


@requires_gcc
def test_compilers_build_working_binaries(tmp_path: Path) -> None:
    source = "int answer(void) { return 42; }"
    lib = compile_shared_library(tmp_path, "libanswer.so.1.0", source, "libanswer.so.1")
    assert lib.name == "libanswer.so.1.0" and lib.read_bytes()[:4] == b"\x7fELF"
    assert b"libanswer.so.1\0" in lib.read_bytes()  # the SONAME
    (tmp_path / "libanswer.so.1").symlink_to(lib.name)
    exe = compile_executable(
        tmp_path,
        "ask",
        "int answer(void); int main(void) { return answer(); }",
        ["-L", str(tmp_path), "-l:libanswer.so.1.0", f"-Wl,-rpath,{tmp_path}"],
    )
    assert subprocess.run([exe], check=False).returncode == 42
    mtime = lib.stat().st_mtime_ns
    compile_shared_library(tmp_path, "libanswer.so.1.0", source, "libanswer.so.1")
    assert lib.stat().st_mtime_ns == mtime  # same source and args: not rebuilt

    ext = compile_python_extension(tmp_path, "_demo", extension_source("_demo", 7))
    spec = importlib.util.spec_from_file_location("_demo", ext)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.answer() == 7


# -- validator ---------------------------------------------------------------------------


PURE = {"demo/__init__.py": "x = 1\n"}


def test_validator_accepts_a_correct_pure_wheel(tmp_path: Path) -> None:
    files = {
        **PURE,
        "demo-1.0.dist-info/licenses/LICENSE": "MIT\n",
        "demo-1.0.dist-info/METADATA": "Metadata-Version: 2.4\nName: Demo\nVersion: 1.0\n"
        "License-File: LICENSE\n",
    }
    report = validate_wheel(make_wheel(tmp_path, "demo", "1.0", files=files))
    assert report.name == "demo" and str(report.version) == "1.0" and report.build == ()
    assert {str(t) for t in report.tags} == {"py3-none-any"}
    assert report.metadata.license_files == ["LICENSE"] and report.root_is_purelib
    assert "demo/__init__.py" in report.files and not report.binaries and not report.warnings


@requires_gcc
def test_validator_accepts_a_conda_tagged_extension_wheel(tmp_path: Path) -> None:
    ext = compile_python_extension(tmp_path / "cc", "_demo", extension_source("_demo"))
    lib = compile_shared_library(tmp_path / "cc", "dep", "int f(void) { return 1; }", "libdep.so")
    files = {
        f"demo/{ext.name}": ext.read_bytes(),
        "demo-1.0.data/data/lib/libdep.so": lib.read_bytes(),
    }
    tag = f"{PY}-{PY}-conda_linux_2_17_{ARCH}"
    report = validate_wheel(
        make_wheel(tmp_path, "demo", "1.0", files=files, tag=tag, purelib=False)
    )
    assert report.binaries == {f"demo/{ext.name}": "elf", "demo-1.0.data/data/lib/libdep.so": "elf"}
    assert report.data_dir == "demo-1.0.data"


def rejects(path: Path, *needles: str) -> str:
    with pytest.raises(AssertionError) as info:
        validate_wheel(path)
    message = str(info.value)
    for needle in needles:
        assert needle in message, message
    return message


def test_validator_rejects_bad_record_hash(tmp_path: Path) -> None:
    def corrupt(rows: list[str]) -> list[str]:
        return [r.replace(record_hash(b"x = 1\n"), record_hash(b"other")) for r in rows]

    rejects(
        make_wheel(tmp_path, "demo", "1.0", files=PURE, record_edit=corrupt),
        "RECORD hash mismatch",
        "demo/__init__.py",
    )


def test_validator_rejects_missing_record_entry(tmp_path: Path) -> None:
    def drop(rows: list[str]) -> list[str]:
        return [r for r in rows if not r.startswith("demo/__init__.py")]

    rejects(
        make_wheel(tmp_path, "demo", "1.0", files=PURE, record_edit=drop),
        "'demo/__init__.py' is not listed in RECORD",
    )


def test_validator_rejects_two_dist_info_dirs(tmp_path: Path) -> None:
    files = {
        **PURE,
        "other-2.0.dist-info/METADATA": "Metadata-Version: 2.4\nName: other\nVersion: 2.0\n",
    }
    rejects(
        make_wheel(tmp_path, "demo", "1.0", files=files),
        "exactly one .dist-info",
        "other-2.0.dist-info",
    )


def test_validator_rejects_path_escape(tmp_path: Path) -> None:
    rejects(
        make_wheel(tmp_path, "demo", "1.0", files={**PURE, "demo/../../evil.py": ""}),
        "escapes",
        "demo/../../evil.py",
    )


def test_validator_rejects_binary_in_any_wheel(tmp_path: Path) -> None:
    elf = Path(sys.executable).resolve().read_bytes()
    message = rejects(
        make_wheel(tmp_path, "demo", "1.0", files={**PURE, "demo/tool": elf}), "'any'", "demo/tool"
    )
    assert "Root-Is-Purelib is true" in message  # every problem is listed, not just the first


def test_validator_wants_a_conda_tag_on_a_wheel_without_python_content(tmp_path: Path) -> None:
    data = {"demo-1.0.data/data/share/zoneinfo/UTC": "TZif2"}
    rejects(
        make_wheel(tmp_path / "any", "demo", "1.0", files=data),
        "'any' but the wheel holds no Python content",
    )
    noarch = make_wheel(
        tmp_path / "noarch", "demo", "1.0", files=data, tag="py3-none-conda_noarch", purelib=False
    )
    assert validate_wheel(noarch).files
    linux = make_wheel(
        tmp_path / "linux",
        "demo",
        "1.0",
        files=data,
        tag="py3-none-conda_linux_2_17_x86_64",
        purelib=False,
    )
    assert validate_wheel(linux).files


def test_validator_rejects_mismatched_tag(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "demo", "1.0", files=PURE, wheel_tags=["py2-none-any"])
    rejects(wheel, "WHEEL Tag lines ['py2-none-any'] != filename tags ['py3-none-any']")


@requires_gcc
def test_validator_rejects_wrong_abi_and_arch(tmp_path: Path) -> None:
    ext = compile_python_extension(tmp_path / "cc", "_demo", extension_source("_demo"))
    other = "aarch64" if ARCH != "aarch64" else "x86_64"
    wheel = make_wheel(
        tmp_path,
        "demo",
        "1.0",
        files={f"demo/{ext.name}": ext.read_bytes()},
        tag=f"py3-none-conda_linux_2_17_{other}",
        purelib=False,
    )
    rejects(wheel, "ABI tag 'none'", f"tag says conda_linux_2_17_{other}")


def test_validator_allows_launcher_templates_in_pure_wheels(tmp_path: Path) -> None:
    pe = (
        b"MZ" + b"\0" * 58 + (64).to_bytes(4, "little") + b"PE\0\0" + (0x8664).to_bytes(2, "little")
    )
    assert not validate_wheel(
        make_wheel(tmp_path, "demo", "1.0", files={**PURE, "demo/cli-64.exe": pe})
    ).binaries
    rejects(make_wheel(tmp_path, "demo", "1.0", files={**PURE, "demo/helper.dll": pe}), "'any'")


def test_validator_checks_build_tag(tmp_path: Path) -> None:
    report = validate_wheel(make_wheel(tmp_path / "a", "demo", "1.0", files=PURE, build="1_h123"))
    assert report.build == (1, "_h123")
    wheel = make_wheel(tmp_path / "b", "demo", "1.0", files=PURE, build="1_h123")
    renamed = wheel.with_name("demo-1.0-2_h123-py3-none-any.whl")
    wheel.rename(renamed)
    rejects(renamed, "WHEEL Build is '1_h123', filename says '2_h123'")


def elf_header(machine: int) -> bytes:
    """Just enough of an ELF header for magic-byte detection."""
    return b"\x7fELF\x02\x01\x01" + b"\0" * 11 + machine.to_bytes(2, "little") + b"\0" * 44


@pytest.mark.parametrize(
    ("machine", "platform_tag", "problem"),
    [
        (183, "conda_linux_2_17_aarch64", None),
        (62, "manylinux_2_28_x86_64", None),
        (62, "linux_x86_64", None),
        (183, "conda_linux_2_17_x86_64", "built for aarch64"),
        (62, "conda_linux_64", "unknown platform tag 'conda_linux_64'"),
        (62, "conda_win_amd64", "is elf, which does not run on conda_win_amd64"),
    ],
)
def test_validator_matches_elf_arch_to_platform(
    tmp_path: Path, machine: int, platform_tag: str, problem: str | None
) -> None:
    files: dict[str, bytes | str] = {**PURE, "demo-1.0.data/data/lib/libx.so": elf_header(machine)}
    wheel = make_wheel(
        tmp_path, "demo", "1.0", files=files, tag=f"py3-none-{platform_tag}", purelib=False
    )
    if problem is None:
        assert validate_wheel(wheel).binaries == {"demo-1.0.data/data/lib/libx.so": "elf"}
    else:
        rejects(wheel, problem)


def test_install_wheel_places_data_and_scripts(tmp_path: Path) -> None:
    files = {
        **PURE,
        "demo-1.0.data/data/share/demo/readme.txt": "hello\n",
        "demo-1.0.data/scripts/demo-tool": "#!python\nprint('hi')\n",
    }
    scheme = install_wheel(
        make_wheel(tmp_path / "dist", "demo", "1.0", files=files), tmp_path / "root"
    )
    assert (scheme["purelib"] / "demo" / "__init__.py").read_text() == "x = 1\n"
    assert (scheme["data"] / "share" / "demo" / "readme.txt").read_text() == "hello\n"
    script = scheme["scripts"] / "demo-tool"
    assert script.read_text().splitlines()[0] == f"#!{sys.executable}"
    assert script.stat().st_mode & 0o111
    assert (scheme["purelib"] / "demo-1.0.dist-info" / "RECORD").exists()
