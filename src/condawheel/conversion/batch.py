"""`convert_many()`: a batch of packages converted on several processes, in input order.

Conversion is CPU-bound Python, so a batch is spread over processes, not threads. Each
worker loads what ``options.with_sources`` describe once, then converts package after
package; results come back in input order, whatever order the workers finish in, and
only a bounded number of packages ahead of the one awaited are in flight, so memory stays
flat in the number of packages. A package's error is its item's, not the batch's.

Two inputs of one build given one after the other (`foo.conda foo.tar.bz2`) make one
wheel: the first writes it, as in one process, because both go to one worker, in order.
Two inputs far apart in the batch that make a wheel of the same name race for it (the
wheel is written once, atomically, and the other input gets "already exists"); which
one wins can differ from one process's run.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from multiprocessing import forkserver
from pathlib import Path
from types import FrameType
from typing import Any

from condawheel.conda.known import KnownPackages
from condawheel.conversion.core import ConvertResult, convert
from condawheel.conversion.plan import ConvertOptions
from condawheel.exceptions import CondawheelError
from condawheel.stale import sweep
from condawheel.wheel.deflate import available_cores

#: Tasks handed out ahead of the one whose result is awaited, per worker: enough that
#: the other workers keep going while one converts a large package (results are small).
_AHEAD_PER_WORKER = 8
#: How long a stopping worker may take to remove what it was writing.
_CLEAN_UP_SECONDS = 30
_BZ2 = ".tar.bz2"


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchItem:
    """One package of a batch: its result, or the error that stopped it."""

    input: Path
    result: ConvertResult | None = None
    error: CondawheelError | None = None


def convert_many(
    packages: Iterable[Path],
    out_dir: Path,
    options: ConvertOptions | None = None,
    *,
    jobs: int | None = None,
    known: KnownPackages | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> Iterator[BatchItem]:
    """Convert each of ``packages`` into ``out_dir``; yield one item per package, in
    input order. ``jobs`` processes (default: the machine's cores; 1 converts here, in
    this process). ``on_progress`` is told how many bytes of input have been read
    so far. Wheels are the same bytes whatever ``jobs`` is."""
    options = options or ConvertOptions()
    jobs = jobs or available_cores()
    groups = _by_build(packages)
    if jobs == 1:
        yield from _in_process(groups, out_dir, options, known, on_progress)
        return
    done = 0
    for item in _in_workers(groups, out_dir, options, jobs):
        done += _size(item.input)
        if on_progress is not None:
            on_progress(done)
        yield item


def _by_build(packages: Iterable[Path]) -> Iterator[list[Path]]:
    """Packages in order, an input of the same build as the one before it (`foo.conda`
    then `foo.tar.bz2`) in that one's group."""
    group: list[Path] = []
    for package in packages:
        if group and _stem(package) != _stem(group[0]):
            yield group
            group = []
        group.append(package)
    if group:
        yield group


def _stem(package: Path) -> Path:
    return package.parent / package.name.removesuffix(_BZ2).removesuffix(".conda")


def _in_process(
    groups: Iterable[list[Path]],
    out_dir: Path,
    options: ConvertOptions,
    known: KnownPackages | None,
    on_progress: Callable[[int], None] | None,
) -> Iterator[BatchItem]:
    known = known if known is not None else KnownPackages.load(options.with_sources)
    done = 0
    for group in groups:
        for package in group:
            size = _size(package)
            advance = None if on_progress is None else _offset(on_progress, done)
            yield _convert_one(package, out_dir, options, known, advance)
            done += size
            if on_progress is not None:
                on_progress(done)


def _in_workers(
    groups: Iterable[list[Path]],
    out_dir: Path,
    options: ConvertOptions,
    jobs: int,
) -> Iterator[BatchItem]:
    if options.with_sources:  # a bad --with is one error, here, not one per worker
        KnownPackages.load(options.with_sources)
    # Cores are shared between the workers, not each worker's to fill with threads.
    threads = options.threads or max(1, available_cores() // jobs)
    options = replace(options, threads=threads)
    context = multiprocessing.get_context("forkserver" if os.name == "posix" else "spawn")
    if context.get_start_method() == "forkserver":
        _start_server(context)
    pool = ProcessPoolExecutor(
        max_workers=jobs, mp_context=context, initializer=_start_worker, initargs=(options,)
    )
    pending: deque[tuple[list[Path], Future[list[BatchItem]]]] = deque()
    try:
        for group in groups:
            pending.append((group, pool.submit(_work, group, out_dir)))
            while len(pending) >= jobs * _AHEAD_PER_WORKER or (pending and pending[0][1].done()):
                yield from _collect(*pending.popleft())
        while pending:
            yield from _collect(*pending.popleft())
    except BaseException:
        _stop(pool, out_dir)
        raise
    pool.shutdown(wait=True)


def _start_server(context: Any) -> None:
    """Workers fork from a server that has imported the converter once. It starts with
    Ctrl-C ignored: it would print a traceback from the middle of its imports (the
    workers it forks set their own handlers)."""
    context.set_forkserver_preload([__name__])
    if threading.current_thread() is not threading.main_thread():
        forkserver.ensure_running()
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        forkserver.ensure_running()
    finally:
        signal.signal(signal.SIGINT, previous)


def _collect(group: list[Path], future: Future[list[BatchItem]]) -> list[BatchItem]:
    try:
        return future.result()
    except BrokenProcessPool:
        error = CondawheelError(
            "a conversion process ended abruptly (out of memory, or killed); "
            "convert this package alone to see why"
        )
        return [BatchItem(input=package, error=error) for package in group]


def _stop(pool: ProcessPoolExecutor, out_dir: Path) -> None:
    """Interrupt the workers (a SIGINT from the terminal reaches them already; a SIGTERM
    to this process does not), give them time to clean up, and wait for them; then
    remove what one could not (interrupted just as it made a file)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.pid is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(process.pid, signal.SIGTERM)
    for process in processes:
        process.join(_CLEAN_UP_SECONDS)
        if process.is_alive():
            process.kill()
    pool.shutdown(wait=True)
    sweep(out_dir)


def _size(package: Path) -> int:
    try:
        return package.stat().st_size
    except OSError:
        return 0


def _offset(on_progress: Callable[[int], None], base: int) -> Callable[[int], None]:
    return lambda n: on_progress(base + n)


def _convert_one(
    package: Path,
    out_dir: Path,
    options: ConvertOptions,
    known: KnownPackages,
    on_progress: Callable[[int], None] | None,
) -> BatchItem:
    try:
        result = convert(package, out_dir, options, known=known, on_progress=on_progress)
    except CondawheelError as exc:
        return BatchItem(input=package, error=exc)
    return BatchItem(input=package, result=result)


# A worker process's state: set by _start_worker, read by _work.
_worker_options = ConvertOptions()
_worker_known: KnownPackages | None = None
_busy = False
_stopping = False


def _start_worker(options: ConvertOptions) -> None:
    global _worker_options, _worker_known
    # An idle worker ignores an interrupt (the batch is stopping, and will tell it);
    # a busy one stops converting, by an exception, so that its partial wheel goes.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    _worker_options = options
    _worker_known = KnownPackages.load(options.with_sources)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """A busy worker stops converting by an exception, once (Ctrl-C reaches it, then the
    batch's SIGTERM: the second must not break into the clean-up the first started);
    an idle one has nothing to clean up, and ends."""
    global _stopping
    if not _busy:
        os._exit(128 + signum)
    if not _stopping:
        _stopping = True
        raise KeyboardInterrupt


def _work(group: list[Path], out_dir: Path) -> list[BatchItem]:
    global _busy
    assert _worker_known is not None
    _busy = True
    try:
        return [_convert_one(p, out_dir, _worker_options, _worker_known, None) for p in group]
    except KeyboardInterrupt:
        # Its partial wheel is gone (the with-blocks ran); the batch is stopping, and
        # needs no answer from a worker that may be blocked sending one.
        os._exit(128 + signal.SIGINT)
    finally:
        _busy = False
