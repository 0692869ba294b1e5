"""Root binaries wait on disk, then are written, edited or left out as the plan says."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from compilers import compile_shared_library, requires_gcc
from condawheel.binaries import read_binary
from condawheel.binaries.patcher import BinaryEdits
from condawheel.conversion.held import HeldBinaries
from condawheel.wheel.writer import DiscardingWriter


def test_held_files_are_written_last_in_name_order_and_removed_ones_skipped() -> None:
    sink = DiscardingWriter()
    with HeldBinaries() as held:
        _, sha_b, size_b = held.hold("pkg/b.so", io.BytesIO(b"bbb"), executable=True)
        held.hold("pkg/a.so", io.BytesIO(b"aa"), executable=False)
        held.hold("pkg.libs/copy.so", io.BytesIO(b"copy"), executable=False)
        held.alias("pkg/b.so", "pkg/b-link.so")
        assert "pkg/b.so" in held and "pkg/c.so" not in held
        held.drop(["pkg.libs/copy.so"])
        held.write(sink)
    assert list(sink.entries()) == ["pkg/a.so", "pkg/b-link.so", "pkg/b.so"]
    assert (sha_b, size_b) == (
        "3e744b9dc39389baf0c5a0660589b8402f3dbb49b89b3e75f2c9355852a3c677",
        3,
    )


def test_scratch_folder_is_removed_on_exit() -> None:
    with HeldBinaries() as held:
        path, _, _ = held.hold("x.so", io.BytesIO(b"x"), executable=False)
        assert path.is_file()
    assert not path.exists() and not path.parent.exists()


def test_held_files_keep_their_file_name() -> None:
    """A re-signed Mach-O takes its file name as its signature's identifier."""
    with HeldBinaries() as held:
        first, _, _ = held.hold("pkg/_ext.so", io.BytesIO(b"x"), executable=False)
        second, _, _ = held.hold("other/_ext.so", io.BytesIO(b"y"), executable=False)
        held.alias("pkg/_ext.so", "pkg/_ext2.so")
        assert (first.name, second.name, held.path("pkg/_ext2.so").name) == (
            "_ext.so",
            "_ext.so",
            "_ext2.so",
        )
        assert first != second


@requires_gcc
def test_queued_edits_are_applied_to_the_held_copy(tmp_path: Path) -> None:
    lib = compile_shared_library(
        tmp_path, "libfoo.so.1", "int f(void){return 1;}\n", soname="libfoo.so.1"
    )
    written: dict[str, bytes] = {}

    class Sink:
        def write_stream(self, arcname: str, stream: io.BufferedReader, **_: object) -> None:
            written[arcname] = stream.read()

    edits = BinaryEdits()
    edits.set_soname("pkg/libfoo.so.1", "libfoo.so.2")
    with HeldBinaries() as held, lib.open("rb") as stream:
        held.hold("pkg/libfoo.so.1", stream, executable=True)
        assert held.apply(edits) == ["pkg/libfoo.so.1"]
        held.write(Sink())  # type: ignore[arg-type]
    assert read_binary(io.BytesIO(written["pkg/libfoo.so.1"])).soname == "libfoo.so.2"
    assert lib.read_bytes() != written["pkg/libfoo.so.1"]  # the source is untouched


def test_alias_of_unknown_entry_fails() -> None:
    with HeldBinaries() as held, pytest.raises(KeyError):
        held.alias("missing.so", "other.so")
