"""What readers hand out and writers take: anything with ``read(size)``.

The conda reader yields archive members as such streams and the wheel writer copies
them, so the protocol lives here, below both, rather than in either.
"""

from __future__ import annotations

from typing import Protocol


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...
