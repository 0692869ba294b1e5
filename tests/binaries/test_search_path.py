"""Search path entries a published binary may keep."""

from __future__ import annotations

import pytest

from condawheel.binaries.search_path import PortableSearchPath, portable_search_path

LIB = "lib/libfoo.so"
EXT = "lib/python3.12/site-packages/pkg/_ext.so"


def portable(
    *entries: str, installed: str = LIB, prefixes: tuple[str, ...] = ("/build/env",)
) -> PortableSearchPath:
    return portable_search_path(entries, installed=installed, prefixes=prefixes, platform="linux")


@pytest.mark.parametrize(
    ("entry", "installed", "expected"),
    [
        ("/build/env/lib", LIB, "$ORIGIN"),
        ("/build/env/lib/", LIB, "$ORIGIN"),
        ("/build/env", LIB, "$ORIGIN/.."),
        ("/build/env/lib", EXT, "$ORIGIN/../../.."),
        ("/build/env/lib/python3.12/site-packages/pkg.libs", EXT, "$ORIGIN/../pkg.libs"),
        ("/build/env/bin/../lib", "bin/tool", "$ORIGIN/../lib"),
    ],
)
def test_an_entry_inside_the_environment_becomes_relative(
    entry: str, installed: str, expected: str
) -> None:
    assert portable(entry, installed=installed) == PortableSearchPath(
        entries=(expected,), changed=((entry, expected),)
    )


@pytest.mark.parametrize(
    "entry",
    [
        "/usr/lib",
        "/build/environment/lib",  # a sibling whose name starts like the prefix
        "/build/env/../other/lib",  # leaves the prefix
        "lib",  # relative to the working directory
        ".",
        "$LIB/foo",
    ],
)
def test_other_entries_go(entry: str) -> None:
    assert portable(entry, "$ORIGIN") == PortableSearchPath(
        entries=("$ORIGIN",), changed=((entry, None),)
    )


def test_relative_entries_stay_in_order_once() -> None:
    result = portable("$ORIGIN/../lib", "${ORIGIN}", "/build/env/lib", "$ORIGIN")
    assert result.entries == ("$ORIGIN/../lib", "${ORIGIN}", "$ORIGIN")


def test_mach_o_keeps_the_loader_and_the_system() -> None:
    result = portable_search_path(
        ["@loader_path/../lib", "@executable_path/../lib", "/usr/lib/swift", "/opt/x/lib",
         "/build/env/lib"],
        installed="lib/libfoo.dylib",
        prefixes=("/build/env",),
        platform="osx",
    )  # fmt: skip
    assert result.entries == (
        "@loader_path/../lib",
        "@executable_path/../lib",
        "/usr/lib/swift",
        "@loader_path",
    )
    assert result.changed == (("/opt/x/lib", None), ("/build/env/lib", "@loader_path"))
