"""`--shard K/N`: a stable, disjoint part of a channel's builds, for one of N workers.

Standard library only, so that a wrong ``--shard`` is answered before the converter is
imported.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from condawheel.exceptions import ConfigurationError

if TYPE_CHECKING:
    from condawheel.conda.cache import ChannelPackage

_SHARD = re.compile(r"([0-9]+)/([0-9]+)\Z")


@dataclass(frozen=True, slots=True, kw_only=True)
class Shard:
    """Part ``index`` of ``count`` (1-based): the builds whose key hashes to it."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        """``K/N`` with 1 <= K <= N; raises ConfigurationError on anything else."""
        found = _SHARD.match(text.strip())
        if found is None or not 1 <= int(found[1]) <= int(found[2]):
            raise ConfigurationError(
                f"--shard {text!r}: give K/N with 1 <= K <= N, such as 1/4 for the first "
                "of four workers"
            )
        return cls(index=int(found[1]), count=int(found[2]))

    def holds(self, build: ChannelPackage) -> bool:
        """Whether ``build`` is in this shard. The key is the build's subdir and file
        name, not its place in a list, so a shard keeps its builds as the channel grows,
        and a rebuilt file (a new sha256 under the same name) stays in the same shard,
        whose output holds the old wheel."""
        key = f"{build.subdir}/{build.file_name}".encode()
        return int.from_bytes(hashlib.sha256(key).digest()[:8], "big") % self.count == (
            self.index - 1
        )

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"
