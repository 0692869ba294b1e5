"""What `PayloadWriter` keeps while it streams a payload, shared with the link writer."""

from __future__ import annotations

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


@dataclass(slots=True)
class Written:
    """A payload file as written into the wheel."""

    arcname: str
    executable: bool
    scheme: Scheme
    sha256: str = ""


@dataclass(slots=True)
class PayloadState:
    """What streaming the payload has met so far, by conda path."""

    written: dict[str, Written] = field(default_factory=dict)
    held: dict[str, tuple[Member, bytes, Destination]] = field(default_factory=dict)
    links: list[Member] = field(default_factory=list)
    binaries: dict[str, FoundBinary] = field(default_factory=dict)
    metadata: dict[str, bytes] = field(default_factory=dict)
    prefix: list[PrefixRecord] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
