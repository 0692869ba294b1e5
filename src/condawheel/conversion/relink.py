"""The step `convert` and `repair` share, on binaries held on disk: de-vendor (leave
the vendored copies out), apply the edits, and read each edited binary again, so that
the platform tag is decided from the files the wheel will hold."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace

from condawheel.binaries import BinaryInfo, BinaryReadError, read_binary
from condawheel.binaries.patcher import BinaryEdits
from condawheel.conversion.held import HeldBinaries
from condawheel.conversion.tags import FoundBinary
from condawheel.exceptions import BadInputError


def relink(
    held: HeldBinaries,
    binaries: Sequence[FoundBinary],
    *,
    remove: Collection[str],
    edits: BinaryEdits,
) -> tuple[FoundBinary, ...]:
    """The ``binaries`` (all held) that stay, after ``edits``, as they now read."""
    held.drop(remove)
    edited = set(held.apply(edits))
    return tuple(
        replace(b, info=_reread(held, b.path)) if b.path in edited else b
        for b in binaries
        if b.path not in remove
    )


def _reread(held: HeldBinaries, arcname: str) -> BinaryInfo:
    with held.path(arcname).open("rb") as stream:
        try:
            return read_binary(stream)
        except BinaryReadError as exc:
            raise BadInputError(f"{arcname}: unreadable after editing: {exc}") from None
