"""The step convert and repair share: removed copies go, edits are applied to the held
files, and the binaries that stay are read again as edited."""

from __future__ import annotations

import io
from pathlib import Path

from compilers import compile_shared_library, requires_gcc
from condawheel.binaries import read_binary
from condawheel.binaries.patcher import BinaryEdits
from condawheel.conversion.held import HeldBinaries
from condawheel.conversion.relink import relink
from condawheel.conversion.tags import FoundBinary
from condawheel.wheel.writer import DiscardingWriter


@requires_gcc
def test_removed_copies_go_and_edited_binaries_are_read_again(tmp_path: Path) -> None:
    ext = compile_shared_library(tmp_path, "_ext.so", "int f(void){return 1;}\n")
    copy = compile_shared_library(
        tmp_path, "libcopy.so.1", "int g(void){return 2;}\n", soname="libcopy.so.1"
    )
    edits = BinaryEdits()
    edits.set_search_path("pkg/_ext.so", ["$ORIGIN/../../.."])
    sink = DiscardingWriter()
    with HeldBinaries() as held:
        found = []
        for arcname, path in (("pkg/_ext.so", ext), ("pkg.libs/libcopy.so.1", copy)):
            with path.open("rb") as stream:
                held.hold(arcname, stream, executable=False)
            with path.open("rb") as stream:
                found.append(FoundBinary(path=arcname, in_root=True, info=read_binary(stream)))
        kept = relink(held, found, remove={"pkg.libs/libcopy.so.1"}, edits=edits)
        held.write(sink)
    assert [b.path for b in kept] == ["pkg/_ext.so"]
    assert kept[0].info.runpath == ("$ORIGIN/../../..",)
    assert found[0].info.runpath != kept[0].info.runpath
    assert list(sink.entries()) == ["pkg/_ext.so"]


def test_unedited_binaries_are_not_read_again() -> None:
    info = object()
    found = [FoundBinary(path="pkg/x.so", in_root=True, info=info)]  # type: ignore[arg-type]
    with HeldBinaries() as held:
        held.hold("pkg/x.so", io.BytesIO(b"not read"), executable=False)
        assert relink(held, found, remove=(), edits=BinaryEdits()) == tuple(found)
