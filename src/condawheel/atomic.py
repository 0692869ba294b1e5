"""Files that appear whole or not at all."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


@contextmanager
def atomic_output(path: Path) -> Iterator[BinaryIO]:
    """A file that becomes ``path`` only when the block succeeds.

    It is written under a temporary name beside ``path``, given the permissions a new
    file gets here (mkstemp's are private, and channels, sdists and index pages are
    for others to read), and renamed; on any error it is removed.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    temp = Path(name)
    try:
        with os.fdopen(fd, "wb") as stream:
            yield stream
        temp.chmod(0o666 & ~_umask())
        temp.replace(path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
