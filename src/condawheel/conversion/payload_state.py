"""What `PayloadWriter` keeps while it streams a payload, shared with the link writer."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from condawheel.conda.source import Member
from condawheel.conversion.layout import Destination, Scheme
from condawheel.conversion.tags import FoundBinary


@dataclass(frozen=True, slots=True, kw_only=True)
class PrefixRecord:
    """A file in the wheel that still holds the conda build prefix."""

    path: str
    conda_path: str
    placeholder: str
    mode: str


@dataclass(frozen=True, slots=True)
class Written:
    """How a payload file went into the wheel; its name there follows from its conda
    path through the layout. Made by `written`, so that one instance stands for every
    file written alike: a package may hold 100,000 files."""

    executable: bool
    scheme: Scheme
    #: Streamed from the archive and checked against paths.json, whose sha256 then
    #: stands for its content.
    checked: bool = False


@functools.cache
def written(executable: bool, scheme: Scheme, checked: bool = False) -> Written:
    return Written(executable, scheme, checked)


@dataclass(slots=True)
class PayloadState:
    """What streaming the payload has met so far, by conda path."""

    written: dict[str, Written] = field(default_factory=dict)
    held: dict[str, tuple[Member, bytes, Destination]] = field(default_factory=dict)
    links: list[Member] = field(default_factory=list)
    binaries: dict[str, FoundBinary] = field(default_factory=dict)
    metadata: dict[str, bytes] = field(default_factory=dict)
    prefix: list[PrefixRecord] = field(default_factory=list)
    #: Members met and not in `written` (links, metadata, scripts held, dropped).
    seen: set[str] = field(default_factory=set)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
