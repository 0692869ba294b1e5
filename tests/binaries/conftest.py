"""Shared fixtures for the binary readers: ELF files built with gcc, corpus members."""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import subprocess
from collections.abc import Callable, Sequence
from functools import cache, partial
from pathlib import Path
from typing import Any, BinaryIO, cast

import pytest
from conda_package_streaming.package_streaming import CondaComponent, stream_conda_component

LIBFOO_SOURCE = r"""
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
int foo(char *buf, size_t n) {
    /* getrandom is GLIBC_2.25: a floor newer than the x86-64 baseline 2.2.5 */
    if (getrandom(buf, n, 0) < 0) return -1;
    return snprintf(buf, n, "%zu", strlen(buf));
}
"""
APP_SOURCE = r"""
#include <stdio.h>
int foo(char *buf, unsigned long n);
int main(void) { char b[16]; printf("%d\n", foo(b, sizeof b)); return 0; }
"""
HELLO_SOURCE = r"""
#include <stdio.h>
int main(void) { puts("hello"); return 0; }
"""
EXTENSION_LIKE_SOURCE = "int answer(void) { return 42; }\n"
# 20 MB of initialised data: the file is big, the headers we need are not.
BIG_SOURCE = r"""
const char padding[20 * 1024 * 1024] = {1};
const char *get_padding(void) { return padding; }
"""


def _gcc(out: Path, source: str, args: Sequence[str]) -> Path:
    src = out.with_name(out.name + ".c")
    src.write_text(source)
    command = ["gcc", "-O1", "-o", str(out), str(src), *args]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"gcc failed: {' '.join(command)}\n{result.stderr}")
    return out


@pytest.fixture(scope="session")
def elf_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """ELF files built once per session, by name.

    - ``libfoo``: shared library, SONAME libfoo.so.1, DT_RUNPATH
    - ``app``: non-PIE executable linked to libfoo, DT_RPATH
    - ``pie``: PIE executable (ET_DYN with PT_INTERP)
    - ``extension``: ET_DYN without SONAME or PT_INTERP, like a Python extension
    - ``obj``: relocatable object (gcc -c)
    - ``static``: static executable; missing without a static libc
    - ``big``: shared library padded with 20 MB of .rodata
    """
    if shutil.which("gcc") is None:
        pytest.skip("gcc is not installed")
    tmp = tmp_path_factory.mktemp("elf")
    built: dict[str, Path] = {}
    built["libfoo"] = _gcc(
        tmp / "libfoo.so.1",
        LIBFOO_SOURCE,
        [
            "-shared",
            "-fPIC",
            "-Wl,-soname,libfoo.so.1",
            "-Wl,-rpath,$ORIGIN/../lib:/opt/foo/lib",
            "-Wl,--enable-new-dtags",
        ],
    )
    built["app"] = _gcc(
        tmp / "app",
        APP_SOURCE,
        [str(built["libfoo"]), "-no-pie", "-Wl,-rpath,$ORIGIN", "-Wl,--disable-new-dtags"],
    )
    built["pie"] = _gcc(tmp / "pie", HELLO_SOURCE, ["-fPIE", "-pie"])
    built["extension"] = _gcc(tmp / "ext.so", EXTENSION_LIKE_SOURCE, ["-shared", "-fPIC"])
    built["obj"] = _gcc(tmp / "foo.o", LIBFOO_SOURCE, ["-c", "-fPIC"])
    built["big"] = _gcc(
        tmp / "libbig.so", BIG_SOURCE, ["-shared", "-fPIC", "-Wl,-soname,libbig.so"]
    )
    with contextlib.suppress(RuntimeError):  # no libc.a installed
        built["static"] = _gcc(tmp / "static", HELLO_SOURCE, ["-static"])
    return built


def _readelf_glibc_floor(path: Path) -> tuple[int, int] | None:
    output = subprocess.run(
        ["readelf", "-V", "--wide", str(path)], capture_output=True, text=True, check=True
    ).stdout
    _, _, needs = output.partition("Version needs section")
    versions = [
        (int(x), int(y), int(z or 0))
        for x, y, z in re.findall(r"Name: GLIBC_(\d+)\.(\d+)(?:\.(\d+))?\s", needs)
    ]
    return max(versions)[:2] if versions else None


@pytest.fixture(scope="session")
def readelf_glibc_floor() -> Callable[[Path], tuple[int, int] | None]:
    """The newest GLIBC_x.y[.z] in a file's version *needs* section, according to binutils."""
    if shutil.which("readelf") is None:
        pytest.skip("readelf is not installed")
    return _readelf_glibc_floor


@cache
def _corpus_member(corpus: Path, package: str, member: str) -> bytes:
    path = corpus / package
    with path.open("rb") as f:
        for tar, info in stream_conda_component(path.name, f, CondaComponent.pkg):
            if info.name == member:
                extracted = tar.extractfile(info)
                assert extracted is not None, f"{member} is not a regular file"
                return cast(bytes, extracted.read())
    raise LookupError(f"{member} not in {package}")


@pytest.fixture(scope="session")
def corpus_member(corpus: Path) -> Callable[[str, str], bytes]:
    """Load ``member`` of ``package`` (relative to the shared corpus) into memory.

    The corpus is read in place (``corpus`` comes from tests/conftest.py), never copied.
    """
    return partial(_corpus_member, corpus)


class CountingReader:
    """A seekable binary reader that counts the bytes handed out by ``read``."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self.bytes_read = 0

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        self.bytes_read += len(data)
        return data

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


@pytest.fixture
def counting_reader() -> Callable[[BinaryIO], CountingReader]:
    """Wrap a file object so that a test can see how many bytes a reader pulled from it."""
    return CountingReader


# The session's Mach-O files (zig-built), for the signing and patcher tests.
from macho_signing import build_macho_files  # noqa: E402, F401
