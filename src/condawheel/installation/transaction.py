"""A journaled record of every change an installation makes, to put the environment
back exactly as it was, even after the installer was killed.

The journal lives in the prefix (`PREFIX/.condawheel/journal`: the same file system as
what it describes, and it survives a reboot). Each step is written down, and flushed to
disk, before it is taken; files being replaced are moved aside into
`PREFIX/.condawheel/aside/`, not deleted, until the whole installation has succeeded.
The next installation into the prefix finds a journal left behind by a killed one and
rolls it back (`recover`), undoing the steps in reverse; a step that was written down
but never taken undoes to nothing.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from condawheel.crash import crash_point
from condawheel.exceptions import CondawheelError

logger = logging.getLogger(__name__)

#: condawheel's folder in the prefix: the lock, the journal, files moved aside.
STATE_DIR = ".condawheel"
JOURNAL = "journal"
ASIDE = "aside"


class RollbackError(CondawheelError):
    """An installation failed and the environment could not be fully restored."""

    exit_code = 2


@dataclass(frozen=True, slots=True, kw_only=True)
class Recovery:
    """An interrupted installation found in the prefix, and what was done about it."""

    pid: int | None
    #: Whether it had finished (only its clean-up was left) or was rolled back.
    committed: bool
    undone: int


class Transaction:
    """The changes made to the environment at ``prefix``; a context manager that keeps
    them on success and undoes them on any exception (the caller holds the lock)."""

    def __init__(self, prefix: Path) -> None:
        self.prefix = prefix
        self._state = prefix / STATE_DIR
        self._aside = self._state / ASIDE
        self._steps: list[dict[str, Any]] = []
        self._moved = 0
        self._state.mkdir(exist_ok=True)
        self._journal = (self._state / JOURNAL).open("x", encoding="utf-8")
        self._log({"op": "begin", "pid": os.getpid()})

    def __enter__(self) -> Transaction:
        return self

    def __exit__(self, kind: object, exc: BaseException | None, traceback: object) -> None:
        if exc is None:
            self._log({"op": "commit"})
            self._journal.close()
            _finish(self.prefix)
            return
        self._journal.close()
        failed = _undo(self.prefix, self._steps, set())
        if failed:
            raise RollbackError(
                f"installation failed ({exc}) and could not be fully undone: {failed[0]}; "
                f"the journal and the replaced files are kept in {self._state}, "
                "run condawheel install --recover to try again"
            ) from exc
        _finish(self.prefix)

    def _log(self, step: dict[str, Any]) -> None:
        self._journal.write(json.dumps(step) + "\n")
        self._journal.flush()
        os.fsync(self._journal.fileno())
        self._steps.append(step)
        crash_point(f"journal-{step['op']}")

    def move_aside(self, paths: Sequence[Path]) -> None:
        """Move files (or links) out of the way, to be put back on failure."""
        present = [p for p in paths if os.path.lexists(p)]
        if not present:
            return
        self._aside.mkdir(exist_ok=True)
        pairs = []
        for path in present:
            self._moved += 1
            pairs.append([str(path), str(self._aside / str(self._moved))])
        self._log({"op": "move", "pairs": pairs})
        for original, aside in pairs:
            Path(original).rename(aside)
            crash_point("move")

    def remove_empty_dir(self, directory: Path) -> None:
        mode = directory.stat().st_mode & 0o7777
        self._log({"op": "rmdir", "path": str(directory), "mode": mode})
        directory.rmdir()

    def make_parents(self, paths: Iterable[Path]) -> None:
        """Make the missing folders above ``paths``, to be removed on failure."""
        missing: dict[str, None] = {}
        for path in paths:
            chain = []
            parent = path.parent
            while not os.path.lexists(parent) and str(parent) not in missing:
                chain.append(str(parent))
                parent = parent.parent
            missing.update(dict.fromkeys(reversed(chain)))
        if missing:
            self._log({"op": "mkdir", "paths": list(missing)})
            for directory in missing:
                Path(directory).mkdir()

    def will_create(self, paths: Iterable[Path]) -> None:
        """These files are about to be written: on failure they are removed."""
        self._log({"op": "create", "paths": [str(p) for p in paths]})

    def will_create_tree(self, path: Path) -> None:
        """This folder is about to be made and filled: on failure it goes, whole."""
        self._log({"op": "tree", "path": str(path)})


def journal_path(prefix: Path) -> Path:
    return prefix / STATE_DIR / JOURNAL


def recover(prefix: Path) -> Recovery | None:
    """Roll back (or finish cleaning up after) an installation into ``prefix`` that was
    interrupted; None when there was none. The caller holds the prefix's lock."""
    journal = journal_path(prefix)
    if not journal.exists():
        return None
    steps, done = _read_journal(journal)
    pid = next((s.get("pid") for s in steps if s.get("op") == "begin"), None)
    committed = any(s.get("op") == "commit" for s in steps)
    failed = [] if committed else _undo(prefix, steps, done)
    if failed:
        raise RollbackError(
            f"an interrupted installation into {prefix} could not be fully rolled back: "
            f"{failed[0]}; the journal and the files it moved aside are kept in "
            f"{prefix / STATE_DIR}"
        )
    _finish(prefix)
    undone = 0 if committed else sum(1 for s in steps if s.get("op") not in ("begin", "commit"))
    return Recovery(pid=pid if isinstance(pid, int) else None, committed=committed, undone=undone)


def _read_journal(journal: Path) -> tuple[list[dict[str, Any]], set[int]]:
    """The steps written down, and which of them a rollback already undid."""
    steps: list[dict[str, Any]] = []
    done: set[int] = set()
    for line in journal.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            step = json.loads(line)
        except ValueError:
            break  # the last line, cut short by the kill: that step was never taken
        if not isinstance(step, dict):
            continue
        if step.get("op") == "undone":
            done.add(step.get("step", -1))
        else:
            steps.append(step)
    return steps, done


def _undo(prefix: Path, steps: Sequence[dict[str, Any]], done: set[int]) -> list[str]:
    """Undo ``steps`` in reverse order, but those in ``done``; the problems met, as text.

    Each step undone is written down, so that a rollback cut short is finished later
    without undoing a step twice (a file put back must not be removed as new again)."""
    inside = str(prefix / "x")[:-1]  # the prefix and a separator
    failed: list[str] = []
    with _journal_for_marks(journal_path(prefix)) as journal:
        for index in reversed(range(len(steps))):
            if index in done:
                continue
            try:
                _undo_step(steps[index], inside)
            except (OSError, KeyError, TypeError, ValueError) as exc:
                logger.warning("could not undo a change: %s", exc)
                failed.append(str(exc))
                continue
            journal.write(json.dumps({"op": "undone", "step": index}) + "\n")
            journal.flush()
            os.fsync(journal.fileno())
    return failed


@contextlib.contextmanager
def _journal_for_marks(journal: Path) -> Iterator[TextIO]:
    """The journal opened to append to, a last line cut short by a kill dropped first."""
    with journal.open("r+b") as raw:
        data = raw.read()
        raw.truncate(data.rfind(b"\n") + 1)
    with journal.open("a", encoding="utf-8") as stream:
        yield stream


def _undo_step(step: dict[str, Any], inside: str) -> None:
    def checked(path: object) -> Path:
        # the journal is condawheel's own file, but undo never reaches outside the prefix
        if not isinstance(path, str) or not path.startswith(inside) or "/../" in path:
            raise ValueError(f"journal entry {path!r} is outside the prefix")
        return Path(path)

    op = step.get("op")
    if op == "create":
        for path in map(checked, step["paths"]):
            if path.is_symlink() or (path.exists() and not path.is_dir()):
                path.unlink()
    elif op == "tree":
        path = checked(step["path"])
        if path.is_symlink():
            path.unlink()
        elif path.is_dir():
            shutil.rmtree(path)
    elif op == "move":
        for original, aside in reversed(step["pairs"]):
            _put_back(checked(original), checked(aside))
    elif op == "rmdir":
        path = checked(step["path"])
        if not os.path.lexists(path):
            path.mkdir(parents=True)
            path.chmod(int(step["mode"]))
    elif op == "mkdir":
        for path in reversed([checked(p) for p in step["paths"]]):
            if path.is_dir() and not path.is_symlink() and not any(path.iterdir()):
                path.rmdir()


def _put_back(original: Path, aside: Path) -> None:
    if not os.path.lexists(aside):
        return  # the kill came before this file was moved
    original.parent.mkdir(parents=True, exist_ok=True)
    if original.is_symlink() or (original.exists() and not original.is_dir()):
        original.unlink()
    aside.rename(original)


def _finish(prefix: Path) -> None:
    """Drop what a finished (or rolled back) transaction kept: the files moved aside,
    then the journal, last, so that a kill in between leaves a journal to finish."""
    state = prefix / STATE_DIR
    shutil.rmtree(state / ASIDE, ignore_errors=True)
    journal_path(prefix).unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # the lock is still in it
        state.rmdir()
