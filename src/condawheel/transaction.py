"""A record of every change an installation makes, to put the environment back."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from condawheel.exceptions import CondawheelError

logger = logging.getLogger(__name__)


class RollbackError(CondawheelError):
    """An installation failed and the environment could not be fully restored."""


class Transaction:
    """Every change made to the environment, with how to undo it; replaced files wait in
    a temporary directory until the whole installation has succeeded."""

    def __init__(self) -> None:
        self._undo: list[Callable[[], None]] = []
        self._backup = Path(tempfile.mkdtemp(prefix="condawheel-install-"))

    def __enter__(self) -> Transaction:
        return self

    def __exit__(self, kind: object, exc: BaseException | None, traceback: object) -> None:
        if exc is None:
            shutil.rmtree(self._backup, ignore_errors=True)
            return
        failed = self._rollback()
        if failed:
            raise RollbackError(
                f"installation failed ({exc}) and could not be fully undone: {failed[0]}; "
                f"the replaced files are kept in {self._backup}"
            ) from exc
        shutil.rmtree(self._backup, ignore_errors=True)

    def remove(self, path: Path) -> None:
        """Move ``path`` (a file or link) out of the way, to be put back on failure."""
        if not os.path.lexists(path):  # another wheel of the call removed it already
            return
        kept = self._backup / str(len(self._undo))
        shutil.move(path, kept)

        def restore() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(kept, path)

        self._undo.append(restore)

    def remove_empty_dir(self, directory: Path) -> None:
        mode = directory.stat().st_mode & 0o7777
        directory.rmdir()

        def restore() -> None:
            directory.mkdir(parents=True, exist_ok=True)
            directory.chmod(mode)

        self._undo.append(restore)

    def create(self, path: Path) -> None:
        """``path`` is about to be written: make its missing folders, and on failure
        remove both."""
        missing = []
        parent = path.parent
        while not parent.exists():
            missing.append(parent)
            parent = parent.parent
        for directory in reversed(missing):
            directory.mkdir()
            self._undo.append(directory.rmdir)
        self._undo.append(lambda: path.unlink(missing_ok=True))

    def _rollback(self) -> list[str]:
        failed = []
        for undo in reversed(self._undo):
            try:
                undo()
            except OSError as exc:
                logger.warning("could not undo a change: %s", exc)
                failed.append(str(exc))
        self._undo.clear()
        return failed
