"""`--prune`: what a mirror converted from builds the channel no longer has, removed.

A channel drops builds (a broken one marked removed, an old one cleaned up); without
pruning, their wheels stay in the mirror's folder and index. Only what the state says
this mirror wrote is removed: a wheel is removed when it is still the one its build
gave (the claim names that build), never a wheel put there by someone else.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import groupby
from pathlib import Path

from condawheel.mirroring.channel import ChannelIndex
from condawheel.mirroring.state import MirrorState


def prune(index: ChannelIndex, state: MirrorState) -> Iterator[tuple[str, Path | None]]:
    """Forget each build of ``index``'s subdirs that the state holds and the channel no
    longer lists; yields its ``subdir/file name`` and the wheel removed, if any. The
    channel is asked one package name at a time, so memory holds one package's files."""
    for subdir in index.subdirs:
        recorded = sorted(state.recorded(subdir), key=lambda name: (_package(name), name))
        for package, file_names in groupby(recorded, key=_package):
            listed = index.file_names(subdir, package)
            for file_name in file_names:
                if file_name not in listed:
                    yield f"{subdir}/{file_name}", state.forget(subdir, file_name)


def _package(file_name: str) -> str:
    """The package name of ``name-version-build.ext``."""
    return file_name.rsplit("-", 2)[0]
