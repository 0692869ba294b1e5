"""`convert --standalone` and `repair --standalone` of macOS and Windows packages: conda
packages and wheels whose binaries zig links in the session, a library chain provided by
a local channel. The result wheel is checked structurally: the copies and their names,
install names and @loader_path entries, signatures, mangled DLL imports, the
``__init__.py`` block, the tag, the licences, and no Requires-External for what is
bundled."""

from __future__ import annotations

import hashlib
import posixpath
import zipfile
from pathlib import Path

import lief
import pefile
import pytest

from builders import CondaPackageBuilder
from clirun import one_line, run_cli
from compilers import compile_pe
from condawheel.binaries.read import read_binary
from cross_chain import CrossChain, macos_chain, windows_chain
from macho_signing import LIBSYSTEM, verify_adhoc_signature
from validator import validate_wheel
from wheelmaker import make_wheel

INIT = '"""The chain."""\n\nfrom chain._ext import *  # noqa\n'
MAC_EXT = "chain/_ext.cpython-312-darwin.so"
WIN_EXT = "chain/_ext.cp312-win_amd64.pyd"


def _sources(build: Path, chain: CrossChain, subdir: str, site: str, ext: str) -> dict[str, Path]:
    """``channel``, ``package`` (chain, whose extension links mid), ``wheel`` (the same
    extension in a wheel), ``dep`` and ``mid`` (the libraries as conda ships them)."""
    mid = chain.mid.name.split(".")[0]  # libmid on macOS, mid on Windows
    package = (
        CondaPackageBuilder(name="chain", version="1.0", subdir=subdir, depends=[f"{mid} >=1"])
        .add_file(f"{site}/chain/__init__.py", INIT)
        .add_file(f"{site}/{ext}", chain.ext.read_bytes())
        .build(build / "pkgs")
    )
    tag = "macosx_11_0_arm64" if subdir == "osx-arm64" else "win_amd64"
    wheel = make_wheel(
        build / "wheels",
        "chain",
        "1.0",
        tag=f"cp312-cp312-{tag}",
        files={"chain/__init__.py": INIT, ext: chain.ext.read_bytes()},
    )
    return {
        "channel": chain.channel,
        "package": package,
        "wheel": wheel,
        "dep": chain.dep,
        "mid": chain.mid,
        "wheel_ext": chain.ext,
    }


@pytest.fixture(scope="module")
def macos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    build = tmp_path_factory.mktemp("standalone-macos")
    site = "lib/python3.12/site-packages"
    return _sources(build, macos_chain(build), "osx-arm64", site, MAC_EXT)


@pytest.fixture(scope="module")
def windows(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    build = tmp_path_factory.mktemp("standalone-windows")
    return _sources(build, windows_chain(build), "win-64", "Lib/site-packages", WIN_EXT)


def _run(command: str, source: Path, channel: Path, out: Path) -> dict[str, bytes]:
    result = run_cli(out.parent, command, source, "--standalone", "--with", channel, "-w", out)
    assert result.returncode == 0, result.stderr
    (wheel,) = out.glob("*.whl")
    validate_wheel(wheel)
    with zipfile.ZipFile(wheel) as archive:
        return {"": wheel.name.encode()} | {n: archive.read(n) for n in archive.namelist()}


def _standalone(sources: dict[str, Path], command: str, out: Path) -> dict[str, bytes]:
    """``command --standalone`` of the package (convert) or the wheel (repair); checks
    what every standalone wheel here has: the bundled packages' licences, and no
    Requires-External for them."""
    source = sources["package" if command == "convert" else "wheel"]
    files = _run(command, source, sources["channel"], out)
    metadata = next(data for name, data in files.items() if name.endswith(".dist-info/METADATA"))
    # The bundled package is neither a native nor a Python dependency any more.
    assert b"Requires-External" not in metadata and b"Requires-Dist" not in metadata
    licences = {
        n.partition(".dist-info/licenses/")[2] for n in files if ".dist-info/licenses/" in n
    }
    stems = sorted(posixpath.basename(sources[name]).split(".")[0] for name in ("dep", "mid"))
    assert {f"{stem}/LICENSE" for stem in stems} <= licences
    return files


@pytest.mark.parametrize("command", ["convert", "repair"])
def test_macos_standalone(macos: dict[str, Path], tmp_path: Path, command: str) -> None:
    files = _standalone(macos, command, tmp_path / "dist")

    assert files[""].decode().endswith("-macosx_11_0_arm64.whl")
    copies = sorted(name for name in files if name.startswith("chain/.dylibs/"))
    assert [posixpath.basename(c).split("-")[0] for c in copies] == ["libdep", "libmid"]
    dep, mid = copies
    expected = {
        MAC_EXT: ("_ext.so", [LIBSYSTEM, f"@loader_path/.dylibs/{posixpath.basename(mid)}"]),
        mid: (
            f"@rpath/{posixpath.basename(mid)}",
            [LIBSYSTEM, f"@loader_path/{posixpath.basename(dep)}"],
        ),
        dep: (f"@rpath/{posixpath.basename(dep)}", [LIBSYSTEM]),
    }
    for path, (install, needed) in expected.items():
        fat = lief.MachO.parse(list(files[path]))
        assert fat is not None
        binary = fat.at(0)
        assert binary is not None
        ident = lief.MachO.LoadCommand.TYPE.ID_DYLIB
        names = [(lib.command == ident, lib.name) for lib in binary.libraries]
        assert [n for is_id, n in names if is_id] == [install]
        assert sorted(n for is_id, n in names if not is_id) == sorted(needed)
        assert verify_adhoc_signature(files[path]).identifier == posixpath.basename(path)


@pytest.mark.parametrize("command", ["convert", "repair"])
def test_windows_standalone(windows: dict[str, Path], tmp_path: Path, command: str) -> None:
    files = _standalone(windows, command, tmp_path / "dist")

    assert files[""].decode().endswith("-win_amd64.whl")
    copies = sorted(name for name in files if name.startswith("chain.libs/"))
    assert len(copies) == 2
    dep, mid = copies
    # Named by the hash of the conda package's file, before its imports were renamed.
    for copy, stem in ((dep, "dep"), (mid, "mid")):
        digest = hashlib.sha256(windows[stem].read_bytes()).hexdigest()
        assert copy == f"chain.libs/{stem}-{digest[:32]}.dll"
    expected = {WIN_EXT: [posixpath.basename(mid)], mid: [posixpath.basename(dep)], dep: []}
    for path, needed in expected.items():
        pe = pefile.PE(data=files[path])
        assert [e.dll.decode() for e in getattr(pe, "DIRECTORY_ENTRY_IMPORT", [])] == needed
        pe.close()
    # The package finds its DLLs through the block the Windows layout adds.
    init = files["chain/__init__.py"].decode()
    assert init.startswith('"""The chain."""\n# start condawheel dll directory\n')
    assert "os.pardir, 'chain.libs')" in init and "os.add_dll_directory(libs)" in init
    assert init.endswith("\nfrom chain._ext import *  # noqa\n")


@pytest.mark.parametrize("name", [b"m\xe9d.dll", b"..\\.dll", b"m/d.dll"])
def test_a_hostile_dll_name_is_one_line_and_no_wheel(
    windows: dict[str, Path], tmp_path: Path, name: bytes
) -> None:
    with zipfile.ZipFile(windows["wheel"]) as archive:
        ext = archive.read(WIN_EXT)
    assert ext.count(b"mid.dll\0") == 1 and len(name) == len(b"mid.dll")
    wheel = make_wheel(
        tmp_path / "in",
        "chain",
        "1.0",
        tag="cp312-cp312-win_amd64",
        files={"chain/__init__.py": INIT, WIN_EXT: ext.replace(b"mid.dll\0", name + b"\0")},
    )
    out = tmp_path / "dist"
    result = run_cli(
        tmp_path, "repair", wheel, "--standalone", "--with", windows["channel"], "-w", out
    )
    assert result.returncode == 2
    assert f"{WIN_EXT} needs " in one_line(result.stderr)
    assert not out.exists() or not any(out.iterdir())


def test_windows_extension_outside_a_package_is_warned_about(
    windows: dict[str, Path], tmp_path: Path
) -> None:
    with zipfile.ZipFile(windows["wheel"]) as archive:
        ext = archive.read(WIN_EXT)
    wheel = make_wheel(
        tmp_path / "in", "chain", "1.0", tag="cp312-cp312-win_amd64", files={"_ext.pyd": ext}
    )
    out = tmp_path / "dist"
    result = run_cli(
        tmp_path, "repair", wheel, "--standalone", "--with", windows["channel"], "-w", out
    )
    assert result.returncode == 0, result.stderr
    assert "could add chain.libs to the DLL search path" in result.stderr
    (repaired,) = out.glob("*.whl")
    with zipfile.ZipFile(repaired) as archive:
        assert sum(n.startswith("chain.libs/") for n in archive.namelist()) == 2


def test_nothing_bundled_leaves_init_alone(windows: dict[str, Path], tmp_path: Path) -> None:
    # An extension that imports no DLL a conda package provides.
    ext = compile_pe(
        tmp_path / "_ext.pyd", "__declspec(dllexport) int PyInit__ext(void) { return 1; }\n"
    )
    wheel = make_wheel(
        tmp_path / "in",
        "chain",
        "1.0",
        tag="cp312-cp312-win_amd64",
        files={"chain/__init__.py": INIT, WIN_EXT: ext.read_bytes()},
    )
    files = _run("repair", wheel, windows["channel"], tmp_path / "dist")
    assert files["chain/__init__.py"] == INIT.encode()
    assert not any(name.startswith("chain.libs/") for name in files)


@pytest.mark.parametrize(
    ("platform", "ext", "linked"),
    [("macos", MAC_EXT, "@rpath/libmid.1.dylib"), ("windows", WIN_EXT, "mid.dll")],
)
def test_a_standalone_wheel_repaired_back_for_conda(
    request: pytest.FixtureRequest, tmp_path: Path, platform: str, ext: str, linked: str
) -> None:
    sources: dict[str, Path] = request.getfixturevalue(platform)
    _standalone(sources, "repair", tmp_path / "standalone")
    (standalone,) = (tmp_path / "standalone").glob("*.whl")

    files = _run_plain(standalone, sources["channel"], tmp_path / "conda")

    assert not any(".dylibs/" in name or ".libs/" in name for name in files)
    with (tmp_path / "ext").open("wb") as out:
        out.write(files[ext])
    with (tmp_path / "ext").open("rb") as stream:
        assert linked in read_binary(stream).needed
    assert files["chain/__init__.py"] == INIT.encode()
    metadata = next(data for name, data in files.items() if name.endswith("/METADATA"))
    assert b"Requires-External: " in metadata


def _run_plain(wheel: Path, channel: Path, out: Path) -> dict[str, bytes]:
    result = run_cli(out.parent, "repair", wheel, "--with", channel, "-w", out)
    assert result.returncode == 0, result.stderr
    (repaired,) = out.glob("*.whl")
    with zipfile.ZipFile(repaired) as archive:
        return {n: archive.read(n) for n in archive.namelist()}


@pytest.mark.parametrize("command", ["convert", "repair"])
def test_windows_namespace_package_gets_the_block(
    windows: dict[str, Path], tmp_path: Path, command: str
) -> None:
    """``ns`` has no ``__init__.py``: its sub-package ``ns/chain`` carries the block."""
    ext = windows["wheel_ext"].read_bytes()
    init, pyd = "ns/chain/__init__.py", "ns/chain/_ext.cp312-win_amd64.pyd"
    sources = {
        "channel": windows["channel"],
        "package": CondaPackageBuilder(
            name="ns-chain", version="1.0", subdir="win-64", depends=["mid >=1"]
        )
        .add_file(f"Lib/site-packages/{init}", INIT)
        .add_file(f"Lib/site-packages/{pyd}", ext)
        .build(tmp_path / "pkgs"),
        "wheel": make_wheel(
            tmp_path / "wheels",
            "ns_chain",
            "1.0",
            tag="cp312-cp312-win_amd64",
            files={init: INIT, pyd: ext},
        ),
        "dep": windows["dep"],
        "mid": windows["mid"],
    }
    files = _standalone(sources, command, tmp_path / "dist")

    assert sum(name.startswith("ns_chain.libs/") for name in files) == 2
    block = files[init].decode()
    assert "os.pardir, os.pardir, 'ns_chain.libs')" in block
    assert block.endswith(INIT.split("\n", 1)[1])
