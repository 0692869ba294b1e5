"""`repair()`: a wheel built against a conda environment becomes a conda-tagged wheel
that uses the environment's libraries instead of vendored copies."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from condawheel.binaries import BinaryReadError, read_binary, sniff
from condawheel.binaries.detect import MIN_SNIFF_BYTES
from condawheel.conda.known import KnownPackages
from condawheel.conversion.held import HeldBinaries
from condawheel.conversion.metadata import (
    add_license_files,
    add_requires_external,
    retag_wheel_file,
)
from condawheel.conversion.relink import relink
from condawheel.conversion.standalone import Standalone, bundle
from condawheel.conversion.tags import FoundBinary, platform_tag
from condawheel.exceptions import BadInputError, NothingToDoError
from condawheel.libraries.devendor import DevendorPlan, Satisfaction, plan_devendoring
from condawheel.libraries.providers import LibraryIndex
from condawheel.libraries.windows_layout import without_loader_patch
from condawheel.streams import Prefixed
from condawheel.wheel.reader import WheelInput
from condawheel.wheel.tags import subdir_for_platform_tag
from condawheel.wheel.verify import read_verified
from condawheel.wheel.writer import WheelWriter, ensure_output_dir, zip_timestamp

# delvewheel writes its patch with the file's own line endings.
_DELVEWHEEL_PATCH = re.compile(
    rb"(\r?\n)?# start delvewheel patch\r?\n.*?# end delvewheel patch(\r?\n)", re.DOTALL
)
_PE_NAMES = (".pyd", ".dll", ".exe")


@dataclass(frozen=True, slots=True, kw_only=True)
class RepairOptions:
    #: Conda prefixes, channels or packages that provide libraries; default: see
    #: ``default_sources``.
    with_sources: tuple[Path, ...] = ()
    plain_tags: bool = False
    #: An unsatisfied library is an error instead of a warning.
    strict: bool = False
    overwrite: bool = False
    #: Bundle the libraries the binaries need instead: a wheel for any CPython.
    standalone: bool = False
    #: With ``standalone``, warn when the bundled libraries add more bytes than this.
    max_size: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RepairResult:
    input: Path
    wheel: Path
    tag: str
    plan: DevendorPlan
    warnings: tuple[str, ...]
    standalone: Standalone | None = None


#: Where cibuildwheel's images keep one environment per CPython, as ``cpXY-cpXY``.
PYTHON_ROOT_VARIABLE = "CONDAWHEEL_PYTHON_ROOT"
DEFAULT_PYTHON_ROOT = "/opt/python"


def default_sources(wheel: Path) -> tuple[Path, ...]:
    """The active conda environment; else the conda environment of the wheel's CPython
    under $CONDAWHEEL_PYTHON_ROOT (default /opt/python), as condawheel's cibuildwheel
    image lays them out: cibuildwheel runs the repair command with none activated."""
    prefix = os.environ.get("CONDA_PREFIX")
    if prefix:
        return (Path(prefix),)
    try:
        interpreters = {tag.interpreter for tag in parse_wheel_filename(wheel.name)[3]}
    except InvalidWheelFilename:
        return ()  # repair() reports the bad name
    root = Path(os.environ.get(PYTHON_ROOT_VARIABLE) or DEFAULT_PYTHON_ROOT)
    envs = [root / f"{i}-{i}" for i in sorted(interpreters) if i.startswith("cp")]
    return tuple(env for env in envs if (env / "conda-meta").is_dir())[:1]


def repair(wheel: Path, out_dir: Path, options: RepairOptions | None = None) -> RepairResult:
    """Repair ``wheel`` into ``out_dir``; the input is never modified."""
    options = options or RepairOptions()
    return _run(wheel, out_dir, options, options.with_sources or default_sources(wheel))


def inspect_wheel(wheel: Path, options: RepairOptions | None = None) -> RepairResult:
    """Everything `repair` would do, and why, without writing a wheel. Without a conda
    environment to check against, every library the platform lacks is unsatisfied."""
    options = options or RepairOptions()
    return _run(wheel, None, options, options.with_sources or default_sources(wheel))


def _run(
    wheel: Path, out_dir: Path | None, options: RepairOptions, sources: tuple[Path, ...]
) -> RepairResult:
    with WheelInput(wheel) as source, HeldBinaries() as held:
        read_verified(source)  # RECORD, METADATA, WHEEL: hostile input, checked first
        # A wheel without binaries (py3-none-any) has nothing to repair, whatever its tag.
        binaries = _hold_binaries(source, held)
        if not binaries:
            raise NothingToDoError(
                f"{wheel.name}: holds no binaries, so there is nothing to repair"
            )
        subdir = _subdir(source)
        if out_dir is not None and not sources:
            raise BadInputError(
                f"{wheel.name}: no conda environment to repair against: activate one or "
                "pass --with PREFIX"
            )
        index = LibraryIndex.from_known(KnownPackages.load(sources))
        standalone: Standalone | None = None
        if options.standalone:
            standalone = bundle(
                held,
                binaries,
                index=index,
                subdir=subdir,
                dist=source.label.partition("-")[0],
                members=source.names,
                max_size=options.max_size,
            )
            plan = DevendorPlan()  # bundling instead: nothing is de-vendored
            tag, mismatches = standalone.platform, list(standalone.warnings)
        else:
            plan, tag, mismatches = _devendor(
                source, subdir, held, binaries, index, options, sources
            )
        result_name = _retagged_name(source, tag)
        if out_dir is not None:
            ensure_output_dir(out_dir)
            _write(source, out_dir / result_name, plan, held, tag, options, standalone)
    return RepairResult(
        input=wheel,
        wheel=(out_dir / result_name) if out_dir is not None else Path(result_name),
        tag=tag,
        plan=plan,
        warnings=(*plan.warnings, *mismatches),
        standalone=standalone,
    )


def _devendor(
    source: WheelInput,
    subdir: str,
    held: HeldBinaries,
    binaries: list[FoundBinary],
    index: LibraryIndex,
    options: RepairOptions,
    sources: tuple[Path, ...],
) -> tuple[DevendorPlan, str, list[str]]:
    """The conda wheel's side of the binary step: the plan, the tag, and warnings."""
    plan = plan_devendoring(
        {b.path: b.info for b in binaries},
        index=index,
        declared=(),
        platform=subdir.partition("-")[0],
        installed_root=_installed_root(source, subdir),
        prefixes=_environment_paths(sources),
    )
    unsatisfied = [u for u in plan.uses if u.satisfaction is Satisfaction.UNSATISFIED]
    if options.strict and unsatisfied:
        first = unsatisfied[0]
        raise BadInputError(
            f"{source.label}: {first.binary} needs {first.needed}, which nothing provides "
            "(--strict); pass --with the conda environment that has it"
        )
    # Relinked even for inspect: the tag is read from the edited files.
    kept = relink(held, binaries, remove=plan.remove, edits=plan.edits)
    tag, _, mismatches = platform_tag(subdir, kept, plain=options.plain_tags)
    return plan, tag, mismatches


def _environment_paths(sources: tuple[Path, ...]) -> tuple[str, ...]:
    """The conda environments among ``sources``, as the build may have named them: a
    search path entry inside one becomes relative, since it is the environment's."""
    found: list[str] = []
    for source in sources:
        if (source / "conda-meta").is_dir():
            found += [str(source.absolute()), str(source.resolve())]
    return tuple(dict.fromkeys(found))


def _subdir(source: WheelInput) -> str:
    platforms = source.name.platforms
    subdirs = {subdir_for_platform_tag(p) for p in platforms}
    if len(subdirs) != 1 or None in subdirs:
        raise BadInputError(
            f"{source.label}: platform tag {'.'.join(platforms)} is not one conda builds "
            "for (a glibc Linux, macOS or Windows tag); repair a wheel built for one platform"
        )
    return str(subdirs.pop())


def _installed_root(source: WheelInput, subdir: str) -> str:
    """Where the wheel root lands, relative to the environment prefix."""
    if subdir.startswith("win-"):
        return "Lib/site-packages"
    version = re.search(r"(?:cp|py)(\d)(\d*)", source.name.python)
    if not version:
        raise BadInputError(
            f"{source.label}: python tag {source.name.python} names no Python version, "
            "so where its files install is unknown"
        )
    # A py3 wheel installs under whichever lib/python3.X: only the folder's depth
    # matters here, to reach the prefix's lib/ from the wheel root.
    minor = version.group(2) or "X"
    return f"lib/python{version.group(1)}.{minor}/site-packages"


def _hold_binaries(source: WheelInput, held: HeldBinaries) -> list[FoundBinary]:
    """Hold every binary of the wheel on disk (to read, and maybe edit)."""
    found: list[FoundBinary] = []
    for member in sorted(source.names):
        with source.stream(member) as stream:
            head = stream.read(MIN_SNIFF_BYTES)
            fmt = sniff(head)
            if fmt is None:
                continue
            executable = source.is_executable(member)
            path, _, _ = held.hold(member, Prefixed(head, stream), executable=executable)
        with path.open("rb") as stream:
            try:
                info = read_binary(stream, fmt)
            except BinaryReadError as exc:
                # "MZ" starts many files that are not PE; one named like a DLL must be.
                if fmt.value != "pe" or member.lower().endswith(_PE_NAMES):
                    raise BadInputError(f"{source.label}: {member}: {exc}") from None
                held.drop((member,))
                continue
        found.append(FoundBinary(path=member, in_root=True, info=info))
    return found


def _retagged_name(source: WheelInput, platform: str) -> str:
    parts = source.label.removesuffix(".whl").split("-")
    parts[-1] = platform
    return "-".join(parts) + ".whl"


def _write(
    source: WheelInput,
    destination: Path,
    plan: DevendorPlan,
    held: HeldBinaries,
    platform: str,
    options: RepairOptions,
    standalone: Standalone | None = None,
) -> None:
    removed = set(plan.remove)
    # A folder of copies is gone only when no binary is left in it; then delvewheel's
    # load-order file and its __init__ patch, which point at the folder, go too.
    left = {name.rpartition("/")[0] for name in source.names if name in held}
    emptied = {name.rpartition("/")[0] for name in removed} - left
    tags = sorted(
        {f"{t.interpreter}-{t.abi}-{p}" for t in source.name.tags for p in platform.split(".")}
    )
    dist_info = source.dist_info
    rewrites: dict[str, Callable[[bytes], bytes]] = {
        f"{dist_info}/METADATA": lambda data: add_license_files(
            add_requires_external(
                data, plan.requirements, drop=standalone.packages if standalone else ()
            ),
            sorted(standalone.licence_files()) if standalone else (),
        ),
        f"{dist_info}/WHEEL": lambda data: retag_wheel_file(data, tags),
    }
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    date_time = zip_timestamp(None) if epoch else source.date_time()
    with WheelWriter(destination.parent, date_time=date_time) as writer:
        for member in sorted(source.names):
            if member in removed or member in held or _left_out(member, dist_info, emptied):
                continue
            executable = source.is_executable(member)
            base = member.rpartition("/")[2]
            rewrite = rewrites.get(member)
            if rewrite is None and base == "__init__.py" and emptied:
                rewrite = _without_delvewheel_patch
            if rewrite is None and base == "__init__.py" and standalone is not None:
                rewrite = standalone.rewriter(member)
            if rewrite is not None:
                writer.write_bytes(member, rewrite(source.read(member)))
            else:
                with source.stream(member) as stream:
                    writer.write_stream(member, stream, executable=executable)
        held.write(writer)  # the binaries, relinked
        for name, data in (standalone.licence_files() if standalone else {}).items():
            writer.write_bytes(f"{dist_info}/licenses/{name}", data)
        writer.finish(dist_info, destination, overwrite=options.overwrite, label=source.label)


def _left_out(member: str, dist_info: str, emptied: set[str]) -> bool:
    """RECORD (the writer makes a new one), and delvewheel's files about the copies
    removed: its list of the DLLs, and its record of what it vendored."""
    directory, _, base = member.rpartition("/")
    return (
        member == f"{dist_info}/RECORD"
        or (base.startswith(".load-order-") and directory in emptied)
        or (member == f"{dist_info}/DELVEWHEEL" and bool(emptied))
    )


def _without_delvewheel_patch(data: bytes) -> bytes:
    """Without delvewheel's patch, or the one a standalone wheel's Windows layout adds."""
    return without_loader_patch(_DELVEWHEEL_PATCH.sub(lambda m: m.group(1) or b"", data))
