"""Progress bars on a terminal, nothing otherwise."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from condawheel.cli import output

if TYPE_CHECKING:  # rich is imported only to draw, on a terminal
    from rich.progress import Progress, TaskID


@contextmanager
def progress_bar(label: str, total: int, *, enabled: bool) -> Iterator[Callable[[int], None]]:
    """Yield a callback taking how far a pass has read; draws on stderr only when it
    is a terminal."""
    if not enabled or not sys.stderr.isatty():
        yield lambda _n: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, transient=True, console=Console(stderr=True)) as progress:
        task = progress.add_task(label, total=total)
        yield lambda n: progress.update(task, completed=n)


@contextmanager
def log_display(label: str, *, enabled: bool, echo: bool) -> Iterator[Callable[[str], None]]:
    """Yield a callback taking log lines.

    ``echo`` prints every line to stderr (for CI logs and ``-v``); otherwise, on a
    terminal, a spinner shows the latest line under ``label``.
    """
    if echo:
        yield output.note
        return
    if not enabled or not sys.stderr.isatty():
        yield lambda _line: None
        return
    from rich.console import Console

    console = Console(stderr=True)
    with console.status(label) as status:
        yield lambda line: status.update(f"{label}: {line[: console.width - len(label) - 6]}")


class Counter:
    """A count of items done out of a total learnt later, shown with the current item."""

    def __init__(self, progress: Progress | None = None, task: TaskID | None = None) -> None:
        self._progress, self._task = progress, task

    def start(self, total: int) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, total=total)

    def advance(self, item: str) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, advance=1, item=item)


@contextmanager
def count_display(label: str, *, enabled: bool) -> Iterator[Counter]:
    """Yield a `Counter`; draws on stderr only when it is a terminal. Lines printed
    meanwhile appear above the display."""
    if not enabled or not sys.stderr.isatty():
        yield Counter()
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[item]}"),
    )
    # Soft wrap: a line printed meanwhile (an error) stays one line, as without a display.
    console = Console(stderr=True, soft_wrap=True)
    with Progress(*columns, transient=True, console=console) as progress:
        yield Counter(progress, progress.add_task(label, total=None, item=""))
