"""`mirror`: every build of a channel converted into a folder of wheels, with its index.

The builds are read from the channel's index one package name at a time, in a stable
order (`ChannelIndex`), those of another shard and those already converted or failed
(`MirrorState`) are passed over, and the rest are downloaded a few at a time through
the checked cache (sha256-verified) and converted by `convert_many` on ``jobs``
processes, in order. Each wheel is made in a staging folder, renamed into the output
folder, and then written down. Nothing is held per build but the few in flight, so
memory is flat in the number of builds. A build that cannot be downloaded or converted
is reported and skipped (with ``strict``, it stops the run). At the end, with
``prune``, what came from builds the channel dropped is removed, and the static index
of the folder is written, as `condawheel index` writes it.
"""

from __future__ import annotations

import json
import logging
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from itertools import chain, islice
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from condawheel.conda.cache import ArchiveCache, ChannelPackage, Solution
from condawheel.conda.fetch import channel_url
from condawheel.conversion.plan import ConvertOptions
from condawheel.crash import crash_point
from condawheel.defaults import default_cache_dir
from condawheel.exceptions import BadInputError, NothingToDoError
from condawheel.mirroring.channel import (
    ChannelIndex,
    build_key,
    check_subdirs,
    default_subdirs,
)
from condawheel.mirroring.prune import prune
from condawheel.mirroring.shard import Shard
from condawheel.mirroring.state import MirrorState, WheelFacts
from condawheel.publishing.static_index import IndexResult, build_index
from condawheel.quoting import one_line
from condawheel.streams import file_sha256
from condawheel.version import __version__
from condawheel.wheel.writer import ensure_output_dir

if TYPE_CHECKING:
    from condawheel.conversion.batch import BatchItem

log = logging.getLogger(__name__)

#: Builds downloaded together (the cache downloads them concurrently) before converting.
_BATCH = 8

Status = Literal["converted", "done", "skipped", "pruned"]


@dataclass(frozen=True, slots=True, kw_only=True)
class MirrorOptions:
    """How to mirror a channel."""

    #: Subdirs to mirror; empty: this machine's and noarch.
    subdirs: tuple[str, ...] = ()
    #: Only this part of the builds (for N workers); None: all of them.
    shard: Shard | None = None
    #: Stop at the first build that cannot be converted, instead of skipping it.
    strict: bool = False
    #: Remove what was converted from builds the channel no longer has.
    prune: bool = False
    #: Where downloads and channel indexes are kept; None: the default cache.
    cache_dir: Path | None = None
    #: Where the index links to the wheels (as `condawheel index --base-url`).
    base_url: str | None = None
    #: How each build is converted (``overwrite`` is always on: a changed build
    #: replaces its wheel).
    convert: ConvertOptions = field(default_factory=ConvertOptions)
    #: Conversions at once, each in its own process (1: in this one; None: one per core).
    #: The wheels are the same bytes whatever it is.
    jobs: int | None = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class MirroredBuild:
    """What became of one build."""

    #: ``subdir/file name``.
    build: str
    url: str
    sha256: str | None
    status: Status
    wheel: Path | None = None
    #: Why it was skipped.
    reason: str | None = None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class MirrorResult:
    """What a run did: counts of the builds of its shard, and the index it wrote."""

    out_dir: Path
    converted: int
    done: int
    skipped: int
    #: Builds the channel no longer has, whose wheels were removed (with ``prune``).
    pruned: int
    #: Builds of the channel left to other shards.
    other_shards: int
    #: None when the folder holds no wheel to index.
    index: IndexResult | None


def mirror(
    channel: str,
    out_dir: Path,
    options: MirrorOptions | None = None,
    *,
    on_start: Callable[[int], None] | None = None,
    on_build: Callable[[MirroredBuild], None] | None = None,
) -> MirrorResult:
    """Convert every build of ``channel`` (a name, URL or local path) into ``out_dir``
    that is not there already, and write the folder's static index.

    ``on_start`` is called with the number of builds of this shard once the channel's
    index has been read and checked, ``on_build`` with each build's outcome, in order.
    Raises BadInputError for a channel that cannot be read or whose index is not valid
    (before anything is converted), and with ``strict`` for the first build skipped.
    """
    options = options or MirrorOptions()
    ensure_output_dir(out_dir)
    subdirs = check_subdirs(options.subdirs) if options.subdirs else default_subdirs()
    cache = ArchiveCache(options.cache_dir or default_cache_dir())
    run = _Run(out_dir, cache, replace(options.convert, overwrite=True))
    with (
        run.state.held(),
        ChannelIndex(
            channel_url(channel), subdirs, cache.root, optional=not options.subdirs
        ) as index,
    ):
        run.state.sweep()
        # A first pass checks the whole index, so that a broken one converts nothing.
        total = sum(1 for _ in _in_shard(index.builds(), options.shard))
        every = sum(1 for _ in index.builds()) if options.shard else total
        if on_start is not None:
            on_start(total)
        builds = _in_shard(index.builds(), options.shard)
        pruned = _pruned(index, run.state) if options.prune else iter(())
        for outcome in chain(run.outcomes(builds, options.jobs), pruned):
            run.counts[outcome.status] += 1
            if on_build is not None:
                on_build(outcome)
            if outcome.status == "skipped" and options.strict:
                raise BadInputError(
                    f"{outcome.build}: {outcome.reason} (--strict: stopped at the first "
                    "build that cannot be converted)"
                )
        indexed = _index(out_dir, options.base_url)
    return MirrorResult(
        out_dir=out_dir,
        converted=run.counts["converted"],
        done=run.counts["done"],
        skipped=run.counts["skipped"],
        pruned=run.counts["pruned"],
        other_shards=every - total,
        index=indexed,
    )


class _Run:
    """One run's builds, through the state, the cache and `convert_many`.

    Builds already done, and those that cannot be downloaded, get their outcome at once;
    the others go to `convert_many` as archives. A queue of builds, each with its
    outcome or waiting for its conversion, gives the outcomes in the channel's order,
    and holds only the builds between the one being converted and the last handed out.
    """

    def __init__(self, out_dir: Path, cache: ArchiveCache, options: ConvertOptions) -> None:
        self.out_dir, self.cache, self.options = out_dir, cache, options
        self.state = MirrorState(out_dir, _settings(options))
        self.counts: dict[Status, int] = {"converted": 0, "done": 0, "skipped": 0, "pruned": 0}
        self._queue: deque[tuple[ChannelPackage, MirroredBuild | None]] = deque()

    def outcomes(
        self, builds: Iterator[ChannelPackage], jobs: int | None
    ) -> Iterator[MirroredBuild]:
        archives = self._archives(builds)
        first = next(archives, None)
        if first is None:  # nothing new: no worker processes to start, nor the converter
            yield from self._ready()
            return
        from condawheel.conversion.batch import convert_many

        # Wheels are made in a small folder of their own and then renamed into OUT: each
        # conversion looks through its output folder for what killed runs left, which
        # in OUT, with every wheel of the channel, would cost more with each build.
        staging = self.state.staging
        batch = convert_many(chain([first], archives), staging, self.options, jobs=jobs)
        for item in batch:
            yield from self._ready()
            build, _ = self._queue.popleft()
            yield self._finish(build, item)
        yield from self._ready()

    def _finish(self, build: ChannelPackage, item: BatchItem) -> MirroredBuild:
        """The wheel of ``build`` renamed into OUT and written down, or why not."""
        if item.result is None:
            reason = one_line(str(item.error))
            if isinstance(item.error, BadInputError):  # the build's fault: not retried
                self.state.record_failure(build, reason)
            return _skipped(build, reason)
        wheel = self.out_dir / item.result.wheel.name
        owner = self.state.owner(wheel.name)
        # The same build in the other format (a .conda added beside a .tar.bz2) takes
        # the wheel over; another build does not, and is tried again on the next run,
        # in case the one that holds the wheel has left the channel.
        if owner is not None and _stem(owner) != _stem(build_key(build)):
            item.result.wheel.unlink()
            return _skipped(
                build,
                f"it gives the wheel {wheel.name}, which {owner} gave first; tell them "
                "apart with --name-map, or leave one out of the channel",
            )
        item.result.wheel.replace(wheel)
        crash_point("mirror-wheel")  # the test hook: killed between wheel and record
        self.state.record(build, wheel)
        return MirroredBuild(
            build=build_key(build),
            url=build.url,
            sha256=build.sha256,
            status="converted",
            wheel=wheel,
            warnings=tuple(item.result.warnings),
        )

    def _ready(self) -> Iterator[MirroredBuild]:
        """The outcomes at the head of the queue, up to the next build being converted."""
        while self._queue and self._queue[0][1] is not None:
            _, outcome = self._queue.popleft()
            assert outcome is not None
            yield outcome

    def _archives(self, builds: Iterator[ChannelPackage]) -> Iterator[Path]:
        """The archives to convert, downloaded a few at a time; every build queued."""
        for batch in _batches(builds):
            done = {build: self.state.done(build) or self.state.failed(build) for build in batch}
            archives = _download([b for b in batch if b.sha256 and done[b] is None], self.cache)
            for build in batch:
                wheel, archive = done[build], archives.get(build)
                if isinstance(wheel, str):  # failed before, and nothing has changed since
                    self._queue.append((build, _skipped(build, wheel)))
                elif wheel is not None:
                    outcome = MirroredBuild(
                        build=build_key(build),
                        url=build.url,
                        sha256=build.sha256,
                        status="done",
                        wheel=wheel,
                    )
                    self._queue.append((build, outcome))
                elif isinstance(archive, Path):
                    self._queue.append((build, None))
                    yield archive
                else:
                    reason = archive or (
                        "the channel's index gives no sha256 for it, so the download "
                        "cannot be checked; re-index the channel"
                    )
                    self._queue.append((build, _skipped(build, reason)))


def _settings(options: ConvertOptions) -> str:
    """What shapes a wheel's bytes besides the build, as the state writes it down: a
    change of any converts every build again."""
    name_map = options.name_map
    return json.dumps(
        {
            "condawheel": __version__,
            "plain_tags": options.plain_tags,
            "version": options.version,
            "with": [str(source) for source in options.with_sources],
            "name_map": [str(name_map), _file_sha256(name_map)] if name_map else None,
            "mapping": _file_sha256(options.mapping) if options.mapping else None,
        },
        sort_keys=True,
    )


def _file_sha256(path: Path) -> str | None:
    try:
        return file_sha256(path)[0]
    except OSError:
        return None  # the conversion says what is wrong with it


def _in_shard(builds: Iterable[ChannelPackage], shard: Shard | None) -> Iterator[ChannelPackage]:
    return (b for b in builds if shard is None or shard.holds(b))


def _batches(builds: Iterator[ChannelPackage]) -> Iterator[tuple[ChannelPackage, ...]]:
    while batch := tuple(islice(builds, _BATCH)):
        yield batch


def _download(
    builds: list[ChannelPackage], cache: ArchiveCache
) -> dict[ChannelPackage, Path | str]:
    """Each build's archive in the cache, or why it could not be downloaded."""
    if not builds:
        return {}
    try:
        fetched = cache.fetch(
            Solution(subdir=builds[0].subdir, requested=tuple(builds), dependencies=())
        )
        return dict(zip(builds, fetched.requested, strict=True))
    except BadInputError:
        pass  # one of them failed: fetch each alone (what did arrive is in the cache)
    found: dict[ChannelPackage, Path | str] = {}
    for build in builds:
        try:
            solution = Solution(subdir=build.subdir, requested=(build,), dependencies=())
            (found[build],) = cache.fetch(solution).requested
        except BadInputError as exc:
            found[build] = one_line(str(exc))
    return found


def _pruned(index: ChannelIndex, state: MirrorState) -> Iterator[MirroredBuild]:
    for key, wheel in prune(index, state):
        yield MirroredBuild(build=key, url="", sha256=None, status="pruned", wheel=wheel)


def _stem(key: str) -> str:
    return key.removesuffix(".conda").removesuffix(".tar.bz2")


def _skipped(build: ChannelPackage, reason: str) -> MirroredBuild:
    return MirroredBuild(
        build=build_key(build), url=build.url, sha256=build.sha256, status="skipped", reason=reason
    )


def _index(out_dir: Path, base_url: str | None) -> IndexResult | None:
    """The folder's static index, reading only the wheels that are new or changed."""
    facts = WheelFacts(out_dir)
    try:
        result = build_index(out_dir, base_url=base_url, known=facts.known)
    except NothingToDoError:  # no wheel yet (an empty shard, or every build skipped)
        return None
    missed = set(facts.missed)
    for wheel in result.wheels:
        if wheel.path in missed:
            facts.remember(wheel)
    return result
