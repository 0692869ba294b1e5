"""`condawheel repair` on macOS and Windows wheels that delocate and delvewheel repaired.

The wheels are assembled here around binaries that zig builds in the session (see
tests/support/compilers.py): an arm64 extension
that loads ``@loader_path/.dylibs/libfoo.1.dylib`` as delocate leaves it, and a
``.pyd`` that imports delvewheel's ``foo-<32 hex>.dll`` from ``fastfoo.libs/``,
with delvewheel's own patch in ``__init__.py``. The environment is a folder of
conda packages built with CondaPackageBuilder and passed with ``--with``.
"""

from __future__ import annotations

import hashlib
import io
import json
import sys
import zipfile
from collections.abc import Mapping
from pathlib import Path

import pefile
import pytest

from builders import CondaPackageBuilder
from clirun import one_line, run_cli
from compilers import MACOS_ARM64 as ARM64
from compilers import compile_macho, compile_pe
from condawheel.binaries import read_binary, read_pe
from condawheel.conversion.repair import RepairOptions, repair
from macho_signing import LIBSYSTEM, verify_adhoc_signature
from validator import validate_wheel
from wheelmaker import make_wheel

DIST_INFO = "fastfoo-1.0.dist-info"
MAC_WHEEL = "fastfoo-1.0-cp312-cp312-macosx_11_0_arm64.whl"
WIN_WHEEL = "fastfoo-1.0-cp312-cp312-win_amd64.whl"
MAC_EXTENSION = "fastfoo/_core.cpython-312-darwin.so"
WIN_EXTENSION = "fastfoo/_core.cp312-win_amd64.pyd"
# delocate's folder and the install id it gives copies (DLC_PREFIX + the folder).
DYLIBS_COPY = "fastfoo/.dylibs/libfoo.1.dylib"
DELOCATE_ID = "/DLC/fastfoo/.dylibs/libfoo.1.dylib"

FOO_SOURCE = "int foo(int x) { return x + 41; }\n"
EXTENSION_SOURCE = "int foo(int x);\nint PyInit__core(void) { return foo(1); }\n"
MISSING_SOURCE = (
    "int foo(int x);\nint bar(int x);\nint PyInit__core(void) { return foo(1) + bar(1); }\n"
)
WIN_FOO = "__declspec(dllexport) int foo(int x) { return x + 41; }\n"
WIN_BAR = "__declspec(dllexport) int bar(int x) { return x * 2; }\n"
WIN_EXTENSION_SOURCE = (
    "__declspec(dllimport) int foo(int x);\n"
    "__declspec(dllexport) int PyInit__core(void) { return foo(1); }\n"
)
WIN_TWO = (
    "__declspec(dllimport) int foo(int x);\n"
    "__declspec(dllimport) int bar(int x);\n"
    "__declspec(dllexport) int PyInit__core(void) { return foo(1) + bar(1); }\n"
)
# delvewheel appends 32 hex of the file's SHA-256 to the stem; any 32 hex do here.
FOO_DLL = f"foo-{hashlib.sha256(WIN_FOO.encode()).hexdigest()[:32]}.dll"
BAR_DLL = f"bar-{hashlib.sha256(WIN_BAR.encode()).hexdigest()[:32]}.dll"
LOAD_ORDER = "fastfoo.libs/.load-order-fastfoo-1.0"
INIT_BODY = (
    '"""fastfoo: foo, fast."""\n\nfrom fastfoo._core import answer\n\n__all__ = ["answer"]\n'
)


# --- building wheels and environments ---------------------------------------------------


def write_wheel(
    path: Path, files: Mapping[str, bytes], extra_dist_info: Mapping[str, bytes] | None = None
) -> Path:
    """The fastfoo 1.0 wheel ``path`` names, holding ``files`` and ``extra_dist_info``."""
    tag = path.name.removesuffix(".whl").split("-", 2)[2]
    extra = {f"{DIST_INFO}/{name}": data for name, data in (extra_dist_info or {}).items()}
    wheel = make_wheel(
        path.parent, "fastfoo", "1.0", tag=tag, purelib=False, files={**files, **extra}
    )
    assert wheel == path, wheel
    return wheel


def _member(wheel: Path, name: str) -> bytes:
    with zipfile.ZipFile(wheel) as archive:
        return archive.read(name)


def _names(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        return archive.namelist()


def _channel(root: Path, builder: CondaPackageBuilder) -> Path:
    """A folder holding one conda package, for ``--with``."""
    builder.build(root)
    return root


@pytest.fixture(scope="module")
def mac(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``wheel``: delocate's shape; ``missing``: also needs @rpath/libbar.1.dylib, which
    nothing provides; ``channel``: a folder with the osx-arm64 package libfoo 1.2.3."""
    tmp = tmp_path_factory.mktemp("mac")
    # What the extension was linked against, as delocate rewrote its load command.
    stub = compile_macho(
        tmp / "stub" / "libfoo.1.dylib",
        FOO_SOURCE,
        ARM64,
        args=["-Wl,-install_name,@loader_path/.dylibs/libfoo.1.dylib"],
    )
    bar = compile_macho(
        tmp / "bar" / "libbar.1.dylib",
        "int bar(int x) { return x; }\n",
        ARM64,
        args=["-Wl,-install_name,@rpath/libbar.1.dylib"],
    )
    # ld64's default header room (32 bytes), without -headerpad_max_install_names: the
    # new LC_RPATH needs the header to grow. zig links no MH_BUNDLE; a dylib loads the same.
    ext = ["-Wl,-headerpad,0x20"]
    extension = compile_macho(
        tmp / "ext" / MAC_EXTENSION.rpartition("/")[2],
        EXTENSION_SOURCE,
        ARM64,
        args=[*ext, str(stub)],
    )
    missing = compile_macho(
        tmp / "missing" / MAC_EXTENSION.rpartition("/")[2],
        MISSING_SOURCE,
        ARM64,
        args=[*ext, str(stub), str(bar)],
    )
    copy = compile_macho(
        tmp / "copy" / "libfoo.1.dylib",
        FOO_SOURCE,
        ARM64,
        args=[f"-Wl,-install_name,{DELOCATE_ID}"],
    )
    conda_lib = compile_macho(
        tmp / "conda" / "libfoo.1.dylib",
        FOO_SOURCE,
        ARM64,
        args=["-Wl,-install_name,@rpath/libfoo.1.dylib"],
    )
    package = CondaPackageBuilder(
        name="libfoo", version="1.2.3", build="h0123456_0", subdir="osx-arm64"
    )
    package.add_file("lib/libfoo.1.dylib", conda_lib.read_bytes(), mode=0o755, file_mode="binary")
    package.add_symlink("lib/libfoo.dylib", "libfoo.1.dylib")
    package.set_run_exports({"weak": ["libfoo >=1.2.3,<2.0a0"]})
    dylibs = {DYLIBS_COPY: copy.read_bytes()}
    return {
        "wheel": write_wheel(
            tmp / "in" / MAC_WHEEL, {MAC_EXTENSION: extension.read_bytes(), **dylibs}
        ),
        "missing": write_wheel(
            tmp / "missing-in" / MAC_WHEEL, {MAC_EXTENSION: missing.read_bytes(), **dylibs}
        ),
        "channel": _channel(tmp / "channel", package),
    }


def delvewheel_patched(init: bytes, tmp: Path, *, load_order: bool) -> bytes:
    """``init`` (a package's ``__init__.py``) as delvewheel's own code patches it.

    With ``load_order``, delvewheel's template for wheels that may run on Python
    < 3.10, which reads ``.load-order-fastfoo-1.0``; else the 3.10+ template."""
    # Importing delvewheel sets pefile.fast_load for the whole process, which would
    # leave the import directories of every later test's pefile.PE() unparsed.
    fast_load = pefile.fast_load
    try:
        wheel_repair = pytest.importorskip("delvewheel._wheel_repair")
    finally:
        pefile.fast_load = fast_load
    repairer = object.__new__(wheel_repair.WheelRepair)
    repairer._extract_dir = str(tmp)
    repairer._min_supported_python = None if load_order else (3, 12)
    path = tmp / "fastfoo" / "__init__.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(init)
    order = LOAD_ORDER.rpartition("/")[2] if load_order else None
    # A top-level package: depth 1, as delvewheel's _patch_package passes.
    repairer._patch_py_file(str(path), "fastfoo.libs", order, 1)
    return path.read_bytes()


@pytest.fixture(scope="module")
def win(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """PE files: ``foo``/``bar`` (delvewheel's copies), ``pyd`` (imports foo's copy),
    ``two`` (imports both copies); ``channel``: a folder with the win-64 package foo 1.0."""
    tmp = tmp_path_factory.mktemp("win")
    foo = compile_pe(tmp / "libs" / FOO_DLL, WIN_FOO)
    bar = compile_pe(tmp / "libs" / BAR_DLL, WIN_BAR)
    implibs = {p: str(p.with_suffix(".lib")) for p in (foo, bar)}
    pyd = compile_pe(
        tmp / "ext" / "_core.cp312-win_amd64.pyd", WIN_EXTENSION_SOURCE, [implibs[foo]]
    )
    two = compile_pe(tmp / "two" / "_core.cp312-win_amd64.pyd", WIN_TWO, list(implibs.values()))
    conda_foo = compile_pe(tmp / "conda" / "foo.dll", WIN_FOO)
    package = CondaPackageBuilder(name="foo", version="1.0", build="h0123456_0", subdir="win-64")
    package.add_file("Library/bin/foo.dll", conda_foo.read_bytes(), file_mode="binary")
    return {
        "foo": foo,
        "bar": bar,
        "pyd": pyd,
        "two": two,
        "channel": _channel(tmp / "ch", package),
    }


def delvewheel_wheel(
    path: Path, extension: Path, copies: list[Path], init: bytes, *, load_order: bool
) -> Path:
    files = {
        "fastfoo/__init__.py": init,
        WIN_EXTENSION: extension.read_bytes(),
        **{f"fastfoo.libs/{copy.name}": copy.read_bytes() for copy in copies},
    }
    if load_order:
        files[LOAD_ORDER] = "".join(f"{copy.name}\n" for copy in copies).encode()
    delvewheel = b"Version: 1.13.2\nArguments: ['delvewheel', 'repair', 'fastfoo.whl']\n"
    return write_wheel(path, files, {"DELVEWHEEL": delvewheel})


@pytest.fixture(scope="module")
def linux_channel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with a linux-64 package (only its info/ is read): errors need no compiler."""
    package = CondaPackageBuilder(name="libfoo", version="1.2.3", subdir="linux-64")
    package.add_file("lib/libfoo.so.1", b"\x7fELF not really", file_mode="binary")
    return _channel(tmp_path_factory.mktemp("linux-channel"), package)


def _text_lines(data: bytes) -> list[str]:
    return [line for line in data.decode().splitlines() if line.strip()]


# --- macOS: delocate ------------------------------------------------------------------


def _check_mac_repaired(wheel: Path) -> None:
    assert wheel.name == "fastfoo-1.0-cp312-cp312-conda_macosx_11_0_arm64.whl"
    report = validate_wheel(wheel)
    assert {str(t) for t in report.tags} == {"cp312-cp312-conda_macosx_11_0_arm64"}
    assert not any(".dylibs" in name for name in report.files), report.files
    assert report.metadata.requires_external == ["libfoo (>=1.2.3,<2.0a0)"]
    data = _member(wheel, MAC_EXTENSION)
    info = read_binary(io.BytesIO(data))
    assert info.needed == (LIBSYSTEM, "@rpath/libfoo.1.dylib")
    # fastfoo/ installs to lib/python3.12/site-packages/fastfoo: three up is lib/.
    assert info.runpath == ("@loader_path/../../..",)
    assert info.macos_floor == (11, 0)
    verify_adhoc_signature(data)


def test_delocated_wheel(mac: dict[str, Path], tmp_path: Path) -> None:
    before = mac["wheel"].read_bytes()
    original = read_binary(io.BytesIO(_member(mac["wheel"], MAC_EXTENSION)))
    assert original.needed == (LIBSYSTEM, "@loader_path/.dylibs/libfoo.1.dylib")
    copy = read_binary(io.BytesIO(_member(mac["wheel"], DYLIBS_COPY)))
    assert copy.soname == DELOCATE_ID

    result = repair(mac["wheel"], tmp_path / "out", RepairOptions(with_sources=(mac["channel"],)))

    assert [p.name for p in (tmp_path / "out").iterdir()] == [result.wheel.name]
    assert result.plan.remove == (DYLIBS_COPY,)
    assert [v.tool for v in result.plan.vendored] == ["delocate"]
    assert result.tag == "conda_macosx_11_0_arm64"
    assert result.warnings == ()
    _check_mac_repaired(result.wheel)
    assert mac["wheel"].read_bytes() == before


def test_resigned_extension_keeps_its_name_as_identifier(
    mac: dict[str, Path], tmp_path: Path
) -> None:
    # The linker names the signature after the file; a re-signature should do the same.
    name = MAC_EXTENSION.rpartition("/")[2]
    assert verify_adhoc_signature(_member(mac["wheel"], MAC_EXTENSION)).identifier == name
    result = repair(mac["wheel"], tmp_path / "out", RepairOptions(with_sources=(mac["channel"],)))
    signature = verify_adhoc_signature(_member(result.wheel, MAC_EXTENSION))
    assert signature.identifier == name


def test_delocated_wheel_cli_json(mac: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "w"
    done = run_cli(tmp_path, "repair", mac["wheel"], "-w", out, "--with", mac["channel"], "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["removed"] == [DYLIBS_COPY]
    assert data["requires_external"] == ["libfoo (>=1.2.3,<2.0a0)"]
    assert data["tag"] == "conda_macosx_11_0_arm64"
    assert data["libraries"] == [
        {
            "binary": MAC_EXTENSION,
            "needs": LIBSYSTEM,
            "satisfied_by": "platform",
            "detail": "macOS system library",
        },
        {
            "binary": MAC_EXTENSION,
            "needs": "@loader_path/.dylibs/libfoo.1.dylib",
            "satisfied_by": "provider",
            "detail": "libfoo",
        },
    ]
    assert [p.name for p in out.iterdir()] == [Path(data["wheel"]).name]
    _check_mac_repaired(Path(data["wheel"]))


def test_the_build_machines_rpaths_are_not_published(tmp_path: Path) -> None:
    """Linked in a conda environment with `-rpath` to it and to a pyenv's lib/: the
    environment's entry becomes @loader_path-relative, the pyenv's goes."""
    prefix = tmp_path / "build-env"
    (prefix / "conda-meta").mkdir(parents=True)
    conda_lib = compile_macho(
        prefix / "lib" / "libfoo.1.dylib", FOO_SOURCE, ARM64,
        args=["-Wl,-install_name,@rpath/libfoo.1.dylib"],
    )  # fmt: skip
    record = {"name": "libfoo", "version": "1.2.3", "build": "h0_0", "build_number": 0,
              "files": ["lib/libfoo.1.dylib"]}  # fmt: skip
    (prefix / "conda-meta" / "libfoo-1.2.3-h0_0.json").write_text(json.dumps(record))
    pyenv = "/Users/runner/.pyenv/versions/3.12.0/lib"
    extension = compile_macho(
        tmp_path / "ext" / MAC_EXTENSION.rpartition("/")[2], EXTENSION_SOURCE, ARM64,
        args=[str(conda_lib), f"-Wl,-rpath,{pyenv}", f"-Wl,-rpath,{prefix / 'lib'}"],
    )  # fmt: skip
    assert read_binary(io.BytesIO(extension.read_bytes())).runpath == (pyenv, f"{prefix}/lib")
    wheel = write_wheel(tmp_path / "in" / MAC_WHEEL, {MAC_EXTENSION: extension.read_bytes()})

    result = repair(wheel, tmp_path / "out", RepairOptions(with_sources=(prefix,)))

    data = _member(result.wheel, MAC_EXTENSION)
    info = read_binary(io.BytesIO(data))
    assert info.runpath == ("@loader_path/../../..",)
    assert info.needed == (LIBSYSTEM, "@rpath/libfoo.1.dylib")
    assert pyenv.encode() not in data and str(prefix).encode() not in data
    verify_adhoc_signature(data)
    assert result.plan.requirements == ("libfoo (>=1.2.3,<2.0a0)",)


# --- Windows: delvewheel --------------------------------------------------------------


@pytest.mark.parametrize(
    ("load_order", "newline"),
    [(True, "\n"), (False, "\n"), (True, "\r\n")],
    ids=["load-order", "python310-template", "crlf"],
)
def test_delvewheel_wheel(
    win: dict[str, Path], tmp_path: Path, load_order: bool, newline: str
) -> None:
    init = delvewheel_patched(
        INIT_BODY.replace("\n", newline).encode(), tmp_path / "patch", load_order=load_order
    )
    assert b"# start delvewheel patch" in init
    wheel = delvewheel_wheel(
        tmp_path / "in" / WIN_WHEEL, win["pyd"], [win["foo"]], init, load_order=load_order
    )
    assert read_pe(io.BytesIO(_member(wheel, WIN_EXTENSION))).needed == (FOO_DLL,)
    before = wheel.read_bytes()

    result = repair(wheel, tmp_path / "out", RepairOptions(with_sources=(win["channel"],)))

    assert result.plan.remove == (f"fastfoo.libs/{FOO_DLL}",)
    assert [v.tool for v in result.plan.vendored] == ["delvewheel"]
    assert result.wheel.name == "fastfoo-1.0-cp312-cp312-conda_win_amd64.whl"
    report = validate_wheel(result.wheel)
    assert {str(t) for t in report.tags} == {"cp312-cp312-conda_win_amd64"}
    assert not any(n.startswith("fastfoo.libs/") for n in report.files), report.files
    assert read_pe(io.BytesIO(_member(result.wheel, WIN_EXTENSION))).needed == ("foo.dll",)
    assert report.metadata.requires_external == ["foo (>=1.0,<2.0a0)"]
    repaired_init = _member(result.wheel, "fastfoo/__init__.py")
    assert b"delvewheel" not in repaired_init, repaired_init.decode()
    assert _text_lines(repaired_init) == _text_lines(INIT_BODY.encode())
    assert wheel.read_bytes() == before


def test_delvewheel_copy_nothing_provides_keeps_the_patch(
    win: dict[str, Path], tmp_path: Path
) -> None:
    # foo's copy goes, bar's stays in fastfoo.libs/: the .pyd still loads bar-<hash>.dll
    # from there, which only delvewheel's patch (add_dll_directory, or preloading the
    # DLLs the load-order file lists on Python < 3.10) makes Windows find.
    init = delvewheel_patched(INIT_BODY.encode(), tmp_path / "patch", load_order=True)
    wheel = delvewheel_wheel(
        tmp_path / "in" / WIN_WHEEL, win["two"], [win["foo"], win["bar"]], init, load_order=True
    )

    result = repair(wheel, tmp_path / "out", RepairOptions(with_sources=(win["channel"],)))

    assert result.plan.remove == (f"fastfoo.libs/{FOO_DLL}",)
    assert read_pe(io.BytesIO(_member(result.wheel, WIN_EXTENSION))).needed == (
        "foo.dll",
        BAR_DLL,
    )
    names = _names(result.wheel)
    assert f"fastfoo.libs/{BAR_DLL}" in names
    assert b"# start delvewheel patch" in _member(result.wheel, "fastfoo/__init__.py")
    assert LOAD_ORDER in names
    assert BAR_DLL in _member(result.wheel, LOAD_ORDER).decode().split()
    validate_wheel(result.wheel)


# --- errors, through the command line -------------------------------------------------


def _failed(done_stderr: str, out: Path) -> str:
    line = one_line(done_stderr)
    assert line.startswith("condawheel: error: "), line
    assert not out.exists() or not any(out.iterdir())
    return line


def test_corrupt_binary_is_bad_input(linux_channel: Path, tmp_path: Path) -> None:
    member = "fastfoo/_core.cpython-312-x86_64-linux-gnu.so"
    corrupt = b"\x7fELF" + bytes(range(256)) * 4
    wheel = write_wheel(
        tmp_path / "fastfoo-1.0-cp312-cp312-linux_x86_64.whl",
        {"fastfoo/__init__.py": b"", member: corrupt},
    )
    before = wheel.read_bytes()
    out = tmp_path / "out"

    done = run_cli(tmp_path, "repair", wheel, "-w", out, "--with", linux_channel)

    assert done.returncode == 2, done.stderr
    line = _failed(done.stderr, out)
    assert wheel.name in line and member in line
    assert wheel.read_bytes() == before


def test_musllinux_wheel_is_bad_input(linux_channel: Path, tmp_path: Path) -> None:
    wheel = write_wheel(
        tmp_path / "fastfoo-1.0-cp312-cp312-musllinux_1_2_x86_64.whl",
        # any ELF will do: the tag is refused before the binaries are looked at closely
        {
            "fastfoo/__init__.py": b"",
            "fastfoo/_core.cpython-312-x86_64-linux-musl.so": Path(sys.executable)
            .resolve()
            .read_bytes(),
        },
    )
    out = tmp_path / "out"

    done = run_cli(tmp_path, "repair", wheel, "-w", out, "--with", linux_channel)

    assert done.returncode == 2, done.stderr
    assert "musllinux_1_2_x86_64" in _failed(done.stderr, out)


def test_wheel_without_binaries_has_nothing_to_repair(linux_channel: Path, tmp_path: Path) -> None:
    wheel = write_wheel(
        tmp_path / "fastfoo-1.0-cp312-cp312-linux_x86_64.whl",
        {"fastfoo/__init__.py": b"", "fastfoo/core.py": b"ANSWER = 42\n"},
    )
    out = tmp_path / "out"

    done = run_cli(tmp_path, "repair", wheel, "-w", out, "--with", linux_channel)

    assert done.returncode == 3, done.stderr
    assert "nothing to repair" in _failed(done.stderr, out)


def test_strict_with_an_unsatisfied_library(mac: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ("repair", mac["missing"], "-w", out, "--with", mac["channel"])

    done = run_cli(tmp_path, *args, "--strict")

    assert done.returncode == 2, done.stderr
    line = _failed(done.stderr, out)
    assert "@rpath/libbar.1.dylib" in line and "--strict" in line

    # Without --strict the same wheel is repaired, with a warning.
    done = run_cli(tmp_path, *args)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "warning" in done.stderr and "libbar.1.dylib" in done.stderr
    assert [p.name for p in out.iterdir()] == [Path(done.stdout.strip()).name]
