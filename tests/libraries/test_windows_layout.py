"""The Windows bundle layout: delvewheel-style mangled DLLs wired into PE files zig links
in the session (imports and delay imports, names longer than the old ones), read back
with pefile; and the ``__init__.py`` block that adds the DLL folder, run for real."""

from __future__ import annotations

import hashlib
import os
import posixpath
import runpy
from pathlib import Path

import pefile
import pytest

from compilers import compile_pe
from condawheel.binaries import BinaryEditError, BinaryEdits, apply_edits
from condawheel.exceptions import BadInputError
from condawheel.libraries.layout import layout_for
from condawheel.libraries.windows_layout import LOADER_START, WindowsLayout, loader_patch

BAR = "__declspec(dllexport) int bar(int x) { return x * 2; }\n"
FOO = (
    "__declspec(dllimport) int bar(int x);\n"
    "__declspec(dllexport) int foo(int x) { return bar(x) + 1; }\n"
)
EXT = (
    "__declspec(dllimport) int foo(int x);\n"
    "__declspec(dllimport) int bar(int x);\n"
    "__declspec(dllexport) int PyInit__ext(void) { return foo(1) + bar(2); }\n"
    "void *__delayLoadHelper2(const void *d, void **f) { return 0; }\n"
)
EXTENSION = "pkg/sub/_ext.cp312-win_amd64.pyd"


@pytest.fixture(scope="module")
def dlls(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``bar.dll``; ``foo.dll`` needing it; ``ext``: an extension importing foo.dll and
    delay-loading bar.dll."""
    tmp = tmp_path_factory.mktemp("windows-layout")
    bar = compile_pe(tmp / "bar.dll", BAR)
    foo = compile_pe(tmp / "foo.dll", FOO, [str(bar.with_suffix(".lib"))])
    libs = [str(foo.with_suffix(".lib")), str(bar.with_suffix(".lib")), "/delayload:bar.dll"]
    return {"bar": bar, "foo": foo, "ext": compile_pe(tmp / "_ext.pyd", EXT, libs)}


def _imports(path: Path) -> tuple[list[str], list[str]]:
    pe = pefile.PE(str(path))
    try:
        return (
            [e.dll.decode() for e in getattr(pe, "DIRECTORY_ENTRY_IMPORT", [])],
            [e.dll.decode() for e in getattr(pe, "DIRECTORY_ENTRY_DELAY_IMPORT", [])],
        )
    finally:
        pe.close()


def test_mangled_dlls_wired_into_every_binary(dlls: dict[str, Path], tmp_path: Path) -> None:
    layout = layout_for("win")
    folder = layout.folder("my_dist")
    assert (layout.platform, folder) == ("win", "my_dist.libs")
    paths = {"ext": EXTENSION}
    for name in ("foo", "bar"):
        digest = hashlib.sha256(dlls[name].read_bytes()).hexdigest()
        paths[name] = f"{folder}/{layout.copy_name(f'{name}.dll', digest)}"
        assert paths[name] == f"my_dist.libs/{name}-{digest[:32]}.dll"
    edits = BinaryEdits()
    # As linked: Windows matches DLL names whatever their case.
    layout.wire(edits, paths["ext"], {"FOO.dll": paths["foo"], "bar.dll": paths["bar"]})
    layout.wire(edits, paths["foo"], {"bar.dll": paths["bar"]})
    for name in ("foo", "bar"):
        layout.name_copy(edits, paths[name])
    for name, path in paths.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(dlls[name].read_bytes())
        apply_edits(tmp_path / path, edits.for_file(path))

    foo, bar = (posixpath.basename(paths[name]) for name in ("foo", "bar"))
    assert _imports(tmp_path / paths["ext"]) == ([foo], [bar])
    assert _imports(tmp_path / paths["foo"]) == ([bar], [])
    assert (tmp_path / paths["bar"]).read_bytes() == dlls["bar"].read_bytes()
    # Every name an import table gives is a file in the DLL folder.
    assert {foo, bar} <= {p.name for p in (tmp_path / folder).iterdir()}


def test_copy_name_keeps_the_stem_and_extension() -> None:
    layout = WindowsLayout()
    digest = hashlib.sha256(b"x").hexdigest()
    assert layout.copy_name("libcrypto-3-x64.dll", digest) == f"libcrypto-3-x64-{digest[:32]}.dll"
    assert layout.copy_name("zlib", digest) == f"zlib-{digest[:32]}"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda lay, e: lay.copy_name("sub/zlib.dll", "0" * 64), "has a '/'"),
        (lambda lay, e: lay.copy_name("..\\zlib.dll", "0" * 64), "not a plain ASCII"),
        (lambda lay, e: lay.copy_name("..", "0" * 64), "has no file name"),
        (lambda lay, e: lay.copy_name("zlïb.dll", "0" * 64), "not a plain ASCII file name"),
        (lambda lay, e: lay.wire(e, "pkg/x.pyd", {"z.dll": "my.libs/../z.dll"}), "not a path"),
        (lambda lay, e: lay.wire(e, "pkg/x.pyd", {"a/z.dll": "my.libs/z.dll"}), "has a '/'"),
        (lambda lay, e: lay.wire(e, "pkg/x.pyd", {"z.dll": "my.libs/zé.dll"}), "not a plain"),
    ],
)
def test_hostile_names_are_refused(call: object, message: str) -> None:
    edits = BinaryEdits()
    with pytest.raises(BadInputError, match=message) as raised:
        call(WindowsLayout(), edits)  # type: ignore[operator]
    assert "\n" not in str(raised.value)
    assert not edits


def test_wiring_a_dll_the_binary_does_not_import_fails(
    dlls: dict[str, Path], tmp_path: Path
) -> None:
    edits = BinaryEdits()
    WindowsLayout().wire(edits, "x.pyd", {"missing.dll": "d.libs/missing-0.dll"})
    target = tmp_path / "x.pyd"
    target.write_bytes(dlls["ext"].read_bytes())
    with pytest.raises(BinaryEditError, match=r"does not need missing\.dll$"):
        apply_edits(target, edits.for_file("x.pyd"))


# --- the loader patch ---------------------------------------------------------------

INIT = b'''"""The package."""

from __future__ import annotations

from pkg.sub._ext import answer
'''


def test_patch_goes_after_docstring_and_future_imports() -> None:
    patched = WindowsLayout().rewrite("pkg/__init__.py", INIT, "my_dist.libs")
    assert patched is not None
    head, _, rest = patched.partition(LOADER_START.encode())
    future = b"from __future__ import annotations\n"
    assert head == INIT[: INIT.index(future) + len(future)]
    assert rest.endswith(INIT[len(head) :])
    assert (
        b"os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, 'my_dist.libs')"
        in rest
    )
    compile(patched, "pkg/__init__.py", "exec")


@pytest.mark.parametrize(
    ("member", "rewritten"),
    [
        ("pkg/__init__.py", True),
        ("my_dist-1.0.data/platlib/pkg/__init__.py", True),
        ("pkg/sub/__init__.py", False),
        ("pkg/module.py", False),
        ("my_dist-1.0.dist-info/__init__.py", False),
    ],
)
def test_only_top_level_packages_are_patched(member: str, rewritten: bool) -> None:
    result = WindowsLayout().rewrite(member, INIT, "my_dist.libs")
    assert (result is not None) == rewritten


def test_patch_is_idempotent_and_keeps_line_endings() -> None:
    layout = WindowsLayout()
    crlf = INIT.replace(b"\n", b"\r\n")
    once = layout.rewrite("pkg/__init__.py", crlf, "my_dist.libs")
    assert once is not None and b"\n" not in once.replace(b"\r\n", b"")
    assert layout.rewrite("pkg/__init__.py", once, "my_dist.libs") is None
    # A block for another folder is replaced, not added to.
    moved = layout.rewrite("pkg/__init__.py", once, "other.libs")
    assert moved is not None and moved.count(LOADER_START.encode()) == 1
    assert moved == loader_patch("pkg/__init__.py", crlf, "other.libs")


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"x = 1",
        b'"""Only a docstring."""',
        # The encoding must still be declared on one of the first two lines.
        b"#!/usr/bin/env python\n# -*- coding: latin-1 -*-\nname = '\xe9t\xe9'\n",
        b"\xef\xbb\xbf# a comment\nx = 1\n",
    ],
)
def test_patch_of_small_files(data: bytes) -> None:
    patched = loader_patch("pkg/__init__.py", data, "my_dist.libs")
    namespace: dict[str, object] = {"__file__": "pkg/__init__.py"}
    exec(compile(patched, "pkg/__init__.py", "exec"), namespace)
    assert patched.count(b"os.add_dll_directory(libs)") == 1
    if b"latin-1" in data:
        assert namespace["name"] == "\xe9t\xe9"
    if data.removeprefix(b"\xef\xbb\xbf").startswith(b"#"):  # the comments stay on top
        assert patched.startswith(data.splitlines(keepends=True)[0])


def test_invalid_python_is_refused() -> None:
    with pytest.raises(
        BadInputError, match=r"^cannot add the DLL folder to pkg/__init__.py: "
    ) as raised:
        WindowsLayout().rewrite("pkg/__init__.py", b"def (:\n", "my_dist.libs")
    assert "\n" not in str(raised.value)


def test_the_patch_adds_the_folder_when_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site-packages"
    (site / "pkg").mkdir(parents=True)
    (site / "my_dist.libs").mkdir()
    patched = loader_patch("pkg/__init__.py", b'"""Doc."""\nVALUE = 1\n', "my_dist.libs")
    (site / "pkg" / "__init__.py").write_bytes(patched)
    added: list[str] = []
    monkeypatch.setattr(os, "add_dll_directory", added.append, raising=False)

    namespace = runpy.run_path(str(site / "pkg" / "__init__.py"))

    assert added == [f"{site / 'pkg'}{os.sep}{os.pardir}{os.sep}my_dist.libs"]
    assert Path(added[0]).samefile(site / "my_dist.libs")
    assert namespace["VALUE"] == 1 and namespace["__doc__"] == "Doc."
    assert "_condawheel_dll_directory" not in namespace


def test_namespace_sub_packages_get_the_block() -> None:
    layout = layout_for("win", packages=["ns/sub", "pkg"])
    patched = layout.rewrite("ns/sub/__init__.py", INIT, "my_dist.libs")
    assert patched is not None
    assert b"(os.path.abspath(__file__)), os.pardir, os.pardir, 'my_dist.libs')" in patched
    assert layout.rewrite("my_dist-1.0.data/purelib/pkg/__init__.py", INIT, "d.libs") is not None
    for other in ("ns/__init__.py", "ns/other/__init__.py", "ns/sub/inner/__init__.py", "ns/sub"):
        assert layout.rewrite(other, INIT, "my_dist.libs") is None
