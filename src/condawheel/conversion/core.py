"""`convert()`: one conda package in, one wheel out. The only module that sees every layer."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from condawheel.conda.known import KnownPackages
from condawheel.conda.package import PROVENANCE_FILES, CondaPackage
from condawheel.conda.source import PackageSource
from condawheel.conversion.dependencies import Dependencies
from condawheel.conversion.distinfo import dist_info_files
from condawheel.conversion.held import HeldBinaries
from condawheel.conversion.linkage import LibraryCheck, check_libraries
from condawheel.conversion.payload import Payload, PayloadWriter
from condawheel.conversion.plan import ConvertOptions, Plan, make_plan
from condawheel.conversion.relink import relink
from condawheel.conversion.tags import FoundBinary, TagDecision, decide_tags
from condawheel.exceptions import BadInputError
from condawheel.libraries.providers import LibraryIndex
from condawheel.quoting import quote
from condawheel.stale import sweep
from condawheel.wheel.deflate import available_cores
from condawheel.wheel.writer import (
    DiscardingWriter,
    Sink,
    WheelWriter,
    ensure_output_dir,
    zip_timestamp,
)

if TYPE_CHECKING:  # --standalone's modules load only when it is asked for
    from condawheel.conversion.standalone import Standalone

ProgressCallback = Callable[[int], None]
#: The longest file name common file systems take, in bytes.
_MAX_FILE_NAME = 255


@dataclass(frozen=True, slots=True, kw_only=True)
class ConvertResult:
    """What a conversion did: the wheel written (or that would be), and why."""

    input: Path
    wheel: Path
    plan: Plan
    tags: TagDecision
    payload: Payload
    libraries: LibraryCheck = field(default_factory=LibraryCheck)
    metadata_warnings: tuple[str, ...] = ()
    #: What --standalone bundled, and the tag it gives.
    standalone: Standalone | None = None

    @property
    def package(self) -> CondaPackage:
        return self.plan.package

    @property
    def dependencies(self) -> Dependencies:
        return self.plan.dependencies

    @property
    def warnings(self) -> tuple[str, ...]:
        prefix_warning = (
            (
                f"{len(self.payload.prefix_records)} file(s) hold the conda build prefix; "
                "`condawheel install` rewrites it, plain pip leaves it unreplaced",
            )
            if self.payload.prefix_records
            else ()
        )
        return (
            *self.plan.warnings,
            *self.tags.warnings,
            *self.dependencies.warnings,
            *self.payload.warnings,
            *self.libraries.unsatisfied,
            *self.metadata_warnings,
            *(self.standalone.warnings if self.standalone else ()),
            *prefix_warning,
        )


def convert(
    package: Path,
    out_dir: Path,
    options: ConvertOptions | None = None,
    *,
    known: KnownPackages | None = None,
    on_progress: ProgressCallback | None = None,
) -> ConvertResult:
    """Convert the conda package at ``package`` into a wheel in ``out_dir``.

    ``known`` are the dependency packages (``options.with_sources`` loaded), so that a
    batch of conversions reads them once. Raises CondawheelError subclasses; on error
    nothing is left in ``out_dir``.
    """
    options = options or ConvertOptions()
    source, plan, known = _prepare(package, options, known, on_progress)
    ensure_output_dir(out_dir)
    sweep(out_dir)
    date_time = zip_timestamp(plan.package.timestamp_ms)
    threads = options.threads or available_cores()
    with WheelWriter(out_dir, date_time=date_time, threads=threads) as writer:
        result = _write(package, source, plan, writer, options, known)
        wheel = out_dir / result.wheel.name
        writer.finish(plan.dist.dist_info, wheel, overwrite=options.overwrite, label=package.name)
    return replace(result, wheel=wheel)


def inspect_package(
    package: Path,
    options: ConvertOptions | None = None,
    *,
    known: KnownPackages | None = None,
    on_progress: ProgressCallback | None = None,
) -> ConvertResult:
    """Everything `convert` would do, and why, without writing a wheel."""
    options = options or ConvertOptions()
    source, plan, known = _prepare(package, options, known, on_progress)
    return _write(package, source, plan, DiscardingWriter(), options, known)


def _prepare(
    package: Path,
    options: ConvertOptions,
    known: KnownPackages | None,
    on_progress: ProgressCallback | None,
) -> tuple[PackageSource, Plan, KnownPackages]:
    threads = options.threads or available_cores()
    source = PackageSource(package, on_read=on_progress, threads=threads)
    model = CondaPackage.from_info(source.label, source.read_info())
    if known is None:
        known = KnownPackages.load(options.with_sources)
    return source, make_plan(model, options, known), known


def _write(
    package: Path,
    source: PackageSource,
    plan: Plan,
    sink: Sink,
    options: ConvertOptions,
    known: KnownPackages,
) -> ConvertResult:
    """Stream the payload, relink the binaries, decide the tags, write the dist-info: all
    but the rename."""
    standalone: Standalone | None = None
    libraries = LibraryCheck()
    # The `info/` files kept for provenance go in first, and are then let go: paths.json
    # of a package of many files is tens of MB, not to be held while the payload streams.
    provenance = _write_provenance(sink, plan.dist.dist_info, source.info_files, set())
    source.release_info()
    with HeldBinaries() as held:
        hold_inits = options.standalone and plan.package.is_windows
        payload_writer = PayloadWriter(plan, sink, held, hold_inits=hold_inits)
        payload = payload_writer.run(source)
        plan = payload_writer.plan  # with any `info/` files met after the payload began
        _write_provenance(sink, plan.dist.dist_info, source.info_files, provenance)
        if options.standalone and payload.binaries:
            standalone = _bundle(plan, payload, held, known, options)
            kept: tuple[FoundBinary, ...] = standalone.binaries
        else:
            libraries, kept = _devendor(package, plan, payload, held, known, options)
        cleared = held.write(
            sink, placeholders={r.path: r.placeholder for r in payload.prefix_records}
        )
    payload = payload.without(libraries.remove).without_placeholders(cleared)
    plan = replace(plan, dependencies=plan.dependencies.with_external(libraries.requirements))
    if standalone is not None:
        plan = _standalone_plan(plan, standalone)
    tags = _tags(plan, payload, kept, options, standalone)
    dist_info = dist_info_files(plan, payload, tags)
    for name, data in dist_info.files.items():
        sink.write_bytes(f"{plan.dist.dist_info}/{name}", data)
    return ConvertResult(
        input=package,
        wheel=Path(wheel_filename(plan, tags)),
        plan=plan,
        tags=tags,
        payload=payload,
        libraries=libraries,
        metadata_warnings=dist_info.warnings,
        standalone=standalone,
    )


def _write_provenance(
    sink: Sink, dist_info: str, info: Mapping[str, bytes], written: set[str]
) -> set[str]:
    """Copy the `info/` files kept for provenance (design section 1) into the
    `.dist-info/conda/` folder, as they are: those not in ``written`` already."""
    for name in PROVENANCE_FILES:
        if name in info and name not in written:
            sink.write_bytes(f"{dist_info}/conda/{name}", info[name])
            written.add(name)
    return written


def _devendor(
    package: Path,
    plan: Plan,
    payload: Payload,
    held: HeldBinaries,
    known: KnownPackages,
    options: ConvertOptions,
) -> tuple[LibraryCheck, tuple[FoundBinary, ...]]:
    """The conda wheel's side of the binary step: vendored copies out, the environment's
    libraries declared."""
    libraries = check_libraries(plan, payload.binaries, known)
    if options.strict and libraries.unsatisfied:
        raise BadInputError(
            f"{package.name}: {libraries.unsatisfied[0]} (--strict); pass --with the "
            "environment that provides it, or declare the dependency that does"
        )
    kept = relink(held, payload.binaries, remove=libraries.remove, edits=libraries.edits)
    return libraries, kept


def _bundle(
    plan: Plan, payload: Payload, held: HeldBinaries, known: KnownPackages, options: ConvertOptions
) -> Standalone:
    """The standalone wheel's side of the binary step: the libraries bundled."""
    from condawheel.conversion.standalone import bundle

    return bundle(
        held,
        payload.binaries,
        index=LibraryIndex.from_known(known),
        subdir=plan.package.subdir,
        dist=plan.dist.stem.rpartition("-")[0],
        members=payload.root_files,
        max_size=options.max_size,
    )


def _tags(
    plan: Plan,
    payload: Payload,
    kept: tuple[FoundBinary, ...],
    options: ConvertOptions,
    standalone: Standalone | None,
) -> TagDecision:
    """The wheel's tags, from the binaries as it holds them; a standalone wheel's
    platform is the one its bundling satisfies."""
    tags = decide_tags(
        plan.package,
        plan.dependencies,
        kept,
        payload.root_files,
        plain=options.plain_tags or options.standalone,
    )
    if standalone is None:
        return tags
    reasons = (*tags.reasons[:-1], f"platform {standalone.platform}: {standalone.why}")
    return replace(tags, platform=standalone.platform, reasons=reasons)


def _standalone_plan(plan: Plan, standalone: Standalone) -> Plan:
    """What is bundled is no longer a dependency; its licences join the package's."""
    licences = {**standalone.licence_files(), **plan.package.licenses}
    return replace(
        plan,
        package=replace(plan.package, licenses=licences),
        dependencies=plan.dependencies.without(standalone.packages),
    )


def wheel_filename(plan: Plan, tags: TagDecision) -> str:
    """The wheel's file name; BadInputError if the package's name, version or build
    cannot make one that installers parse and file systems take."""
    name = f"{plan.dist.stem}-{plan.build_tag}-{tags.tag}.whl"
    try:
        parse_wheel_filename(name)
    except InvalidWheelFilename as exc:
        raise BadInputError(
            f"{plan.package.filename}: the wheel name {quote(name)} would not be valid "
            f"({quote(str(exc), 100)[1:-1]}): the package's name, version or build string "
            "is malformed; rebuild it, or pass --version"
        ) from None
    if len(name.encode()) > _MAX_FILE_NAME:
        raise BadInputError(
            f"{plan.package.filename}: the wheel name would be {len(name.encode())} bytes "
            f"long, more than a file name can hold ({_MAX_FILE_NAME}); rebuild the package "
            "with a shorter name or build string"
        )
    return name
