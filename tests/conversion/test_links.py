"""Symlinks become copies: resolving them inside the package (design section 1)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from builders import CondaPackageBuilder
from condawheel.conversion.core import convert
from condawheel.conversion.links import (
    LinkError,
    is_needless_chain_link,
    link_target,
    linker_name,
    resolve,
)
from condawheel.exceptions import BadInputError


@pytest.mark.parametrize(
    ("path", "target", "expected"),
    [
        ("lib/libz.so", "libz.so.1.3.1", "lib/libz.so.1.3.1"),
        ("bin/python", "python3.12", "bin/python3.12"),
        ("lib/a/b.so", "../c.so", "lib/c.so"),
        ("lib/x", "./y", "lib/y"),
        ("bin/tool", "../libexec/tool/run", "libexec/tool/run"),
        ("lib/a/b/c", "../../d/../e", "lib/e"),
        ("top", "other", "other"),
        ("share/x", "../share/./y", "share/y"),
    ],
)
def test_link_target(path: str, target: str, expected: str) -> None:
    assert link_target(path, target) == expected


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ("lib/x", "../../etc/passwd"),
        ("x", "../y"),
        ("x", ".."),
        ("lib/x", "/usr/lib/libz.so"),
        ("lib/x", "../lib/../../y"),
    ],
)
def test_link_target_escaping_the_package(path: str, target: str) -> None:
    with pytest.raises(LinkError) as raised:
        link_target(path, target)
    assert path in str(raised.value)


def test_resolve_follows_a_chain() -> None:
    links = {"lib/libz.so": "lib/libz.so.1", "lib/libz.so.1": "lib/libz.so.1.3.1"}
    assert resolve("lib/libz.so", links) == "lib/libz.so.1.3.1"
    assert resolve("lib/libz.so.1", links) == "lib/libz.so.1.3.1"


def test_resolve_a_path_that_is_not_a_link() -> None:
    assert resolve("lib/libz.so.1.3.1", {"lib/libz.so": "lib/libz.so.1.3.1"}) == (
        "lib/libz.so.1.3.1"
    )
    assert resolve("a", {}) == "a"


@pytest.mark.parametrize(
    "links",
    [
        {"a": "b", "b": "a"},
        {"a": "a"},
        {"a": "b", "b": "c", "c": "d", "d": "b"},
    ],
)
def test_resolve_a_loop(links: dict[str, str]) -> None:
    with pytest.raises(LinkError, match="loop"):
        resolve("a", links)


def test_resolve_a_long_chain() -> None:
    links = {f"l{i}": f"l{i + 1}" for i in range(30)}
    assert resolve("l0", links) == "l30"


def test_link_error_is_a_value_error() -> None:
    assert issubclass(LinkError, ValueError)


@pytest.mark.parametrize(
    ("chain", "expected"),
    [
        (["libz.so.1", "libz.so"], "libz.so"),
        (["libglib-2.0.so.0", "libglib-2.0.so"], "libglib-2.0.so"),
        (["libz.1.dylib", "libz.dylib"], "libz.dylib"),
        # The linker name of glib on macOS: the version is part of the library name.
        (["libglib-2.0.dylib"], "libglib-2.0.dylib"),
        (["libpng16.16.dylib", "libpng16.dylib", "libpng.dylib"], "libpng.dylib"),
    ],
)
def test_linker_name(chain: list[str], expected: str) -> None:
    assert linker_name(chain) == expected


@pytest.mark.parametrize(
    ("link_name", "soname", "needed", "expected"),
    [
        # Intermediate links of a SONAME chain that nothing needs.
        ("libfoo.so.1.2", "libfoo.so.1", frozenset(), True),
        ("libz.1.3.dylib", "@rpath/libz.1.dylib", frozenset(), True),
        # The SONAME / install name: the loader looks for it.
        ("libfoo.so.1", "libfoo.so.1", frozenset(), False),
        ("libz.1.dylib", "@rpath/libz.1.dylib", frozenset(), False),
        # The dev name: the linker looks for it.
        ("libfoo.so", "libfoo.so.1", frozenset(), False),
        ("libz.dylib", "@rpath/libz.1.dylib", frozenset(), False),
        # Something needs it.
        ("libfoo.so.1.2", "libfoo.so.1", frozenset({"libfoo.so.1.2"}), False),
        # A library without a SONAME: not a chain.
        ("libfoo.so.1.2", None, frozenset(), False),
    ],
)
def test_is_needless_chain_link(
    link_name: str, soname: str | None, needed: frozenset[str], expected: bool
) -> None:
    # The chain as a package ships it: the link itself and the linker's name.
    linker = "libfoo.so" if ".so" in link_name else "libz.dylib"
    assert is_needless_chain_link(link_name, soname, needed, [link_name, linker]) is expected


def test_glib_linker_name_on_macos_is_kept() -> None:
    soname = "@rpath/libglib-2.0.0.dylib"
    assert not is_needless_chain_link(
        "libglib-2.0.dylib", soname, frozenset(), ["libglib-2.0.dylib"]
    )


def test_resolve_tells_a_long_chain_from_a_loop() -> None:
    links = {f"l{i}": f"l{i + 1}" for i in range(300)}
    with pytest.raises(LinkError, match="chain of more than 40 links"):
        resolve("l0", links)


def test_resolve_goes_up_from_where_a_folder_link_leads() -> None:
    # lib/up is the package root; lib/up/../etc is outside, though it looks inside.
    links = {"lib/up": "lib/..", "lib/out": "lib/up/../etc"}
    with pytest.raises(LinkError, match="outside the package"):
        resolve("lib/out", links)
    # Through a link to a folder, to a file in the folder it leads to.
    links = {"lib/alias": "lib/real", "lib/x.so": "lib/alias/x.so.1"}
    assert resolve("lib/x.so", links) == "lib/real/x.so.1"
    assert resolve("lib/up", {"lib/up": "lib/.."}) == "."


def _convert_with_links(tmp_path: Path, add: Callable[[CondaPackageBuilder], None]) -> str:
    builder = CondaPackageBuilder(name="links", version="1.0", build="h0_0")
    builder.add_file("lib/real/x.so.1", "x\n")
    add(builder)
    package = builder.build(tmp_path / "in", "conda")
    with pytest.raises(BadInputError) as caught:
        convert(package, tmp_path / "out")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    return str(caught.value)


def test_a_link_escaping_through_a_folder_link_is_an_error(tmp_path: Path) -> None:
    def add(builder: CondaPackageBuilder) -> None:
        builder.add_symlink("lib/up", "..")
        builder.add_symlink("lib/out", "up/../etc")

    message = _convert_with_links(tmp_path, add)
    assert "lib/out resolves outside the package" in message and "do not use" in message


def test_a_hard_link_to_itself_is_not_a_symlink_loop(tmp_path: Path) -> None:
    def add(builder: CondaPackageBuilder) -> None:
        builder.add_hardlink("lib/self", "lib/self")

    message = _convert_with_links(tmp_path, add)
    assert "hard link 'lib/self' names itself" in message


def test_a_symlink_loop_and_a_long_chain_are_told_apart(tmp_path: Path) -> None:
    def loop(builder: CondaPackageBuilder) -> None:
        builder.add_symlink("lib/la", "lb")
        builder.add_symlink("lib/lb", "la")

    def chain(builder: CondaPackageBuilder) -> None:
        for i in range(1, 60):
            builder.add_symlink(f"lib/c{i}", f"c{i - 1}" if i > 1 else "real/x.so.1")

    assert "symlink loop" in _convert_with_links(tmp_path / "a", loop)
    assert "chain of more than 40 links" in _convert_with_links(tmp_path / "b", chain)
