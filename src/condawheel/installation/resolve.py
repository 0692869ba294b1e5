"""Which wheels `condawheel install NAME --index-url URL` installs, as pip resolves them.

pip's own resolver decides, with full backtracking, run for the environment's own
interpreter: ``pip --python ENV/bin/python install --dry-run --report``. So markers are
evaluated by that interpreter, and a distribution installed in the environment (conda's
numpy, say) satisfies a requirement as it is: it is neither fetched nor replaced. The
report lists each distribution to install, its metadata and the sha256 of the wheel
chosen; `condawheel.installation.download.download` then fetches exactly those wheels. pip
installs nothing: `condawheel.installation.core` checks the wheels and installs them.
"""

from __future__ import annotations

import importlib.metadata
import json
import logging
import subprocess
import sys
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from condawheel.exceptions import BadInputError
from condawheel.installation.download import (
    IndexOptions,
    Pin,
    Runner,
    common_options,
    download,
    isolated_environ,
    run_pip,
)
from condawheel.installation.environment import CondaEnvironment
from condawheel.wheel.reader import WheelInput

logger = logging.getLogger(__name__)

#: The first pip whose ``install --dry-run`` takes --platform, --abi and --python-version
#: without --target (23.2 refuses them); condawheel's dependencies ask for it.
MIN_PIP = Version("23.3")


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportItem:
    """One distribution pip would install, from its installation report."""

    name: str
    version: str
    url: str
    sha256: str | None
    #: Named on the command line (a requirement or a wheel file).
    requested: bool
    extras: tuple[str, ...] = ()
    requires_dist: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return canonicalize_name(self.name)


@dataclass(frozen=True, slots=True, kw_only=True)
class Satisfied:
    """A requirement that an installed distribution meets already: not installed again."""

    name: str
    version: str
    requirement: str
    #: The distribution that needs it; "" for the command line.
    needed_by: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Fetched:
    """A wheel downloaded from the index, to be installed."""

    name: str
    version: str
    wheel: Path
    needed_by: str
    url: str
    sha256: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Resolution:
    #: Every wheel to install: those given, then those fetched.
    wheels: tuple[Path, ...]
    fetched: tuple[Fetched, ...]
    satisfied: tuple[Satisfied, ...]


def split_targets(targets: Sequence[str]) -> tuple[list[Path], list[str]]:
    """Wheel files and requirements among ``targets``: an argument ending in ``.whl`` is a
    file; one that reads as a requirement (``foo``, ``foo>=1.2``, ``foo[extra]``) is one."""
    wheels: list[Path] = []
    requirements: list[str] = []
    for target in targets:
        if target.lower().endswith(".whl"):
            wheels.append(Path(target))
            continue
        try:
            Requirement(target)
        except InvalidRequirement as exc:
            if Path(target).exists():
                wheels.append(Path(target))  # WheelInput says what is wrong with it
                continue
            raise BadInputError(
                f"{target!r} is neither a wheel file nor a requirement ({_first_line(exc)}); "
                "give the path of a .whl file, or a requirement such as foo or 'foo>=1.2'"
            ) from None
        parse_requirement(target)
        requirements.append(target)
    return wheels, requirements


def parse_requirement(text: str, origin: str = "") -> Requirement:
    """A requirement by name; raises on a direct reference (``foo @ URL``) or bad syntax."""
    try:
        requirement = Requirement(text)
    except InvalidRequirement as exc:
        where = f"{origin}: " if origin else ""
        raise BadInputError(f"{where}invalid requirement {text!r} ({_first_line(exc)})") from None
    if requirement.url:
        raise BadInputError(
            f"{requirement.name} @ {requirement.url}: condawheel installs from an index by name; "
            "download the wheel and give its path instead"
        )
    return requirement


def report_command(
    requirements: Sequence[str],
    wheels: Sequence[Path],
    environment: CondaEnvironment,
    index: IndexOptions,
    report: Path,
    *,
    upgrade: bool = False,
    no_deps: bool = False,
) -> list[str]:
    """The ``pip install --dry-run --report`` that resolves for ``environment``."""
    command = [
        sys.executable,
        "-m",
        "pip",
        "--python",
        str(environment.interpreter.executable),
        "install",
        "--dry-run",
        "--report",
        str(report),
        *common_options(environment, index),
    ]
    if upgrade:
        command.extend(["--upgrade", "--upgrade-strategy", "only-if-needed"])
    if no_deps:
        command.append("--no-deps")
    command.extend(str(wheel.absolute()) for wheel in wheels)
    command.extend(requirements)
    return command


def check_pip() -> None:
    """Raise BadInputError when the pip beside condawheel cannot resolve for another
    interpreter's platform, which a pip older than ``MIN_PIP`` refuses to."""
    fix = f"{sys.executable} -m pip install 'pip>={MIN_PIP}'"
    try:
        found = importlib.metadata.version("pip")
        if Version(found) >= MIN_PIP:
            return
    except importlib.metadata.PackageNotFoundError:
        raise BadInputError(f"installing by name needs pip beside condawheel: {fix}") from None
    except InvalidVersion:
        return  # a development pip: let it try
    raise BadInputError(
        f"installing by name needs pip {MIN_PIP} or newer beside condawheel, which has pip "
        f"{found}: {fix}"
    )


def read_report(path: Path) -> tuple[ReportItem, ...]:
    """The ``install`` list of pip's installation report (format version 1)."""
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
        return tuple(_item(entry) for entry in data["install"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BadInputError(
            f"pip wrote no readable installation report ({type(exc).__name__}: {exc}); "
            "upgrade pip in the Python that runs condawheel"
        ) from None


def _item(entry: Mapping[str, Any]) -> ReportItem:
    metadata = entry["metadata"]
    info = entry["download_info"]
    archive = info.get("archive_info") or {}
    sha256 = (archive.get("hashes") or {}).get("sha256")
    if sha256 is None and str(archive.get("hash", "")).startswith("sha256="):
        sha256 = archive["hash"].removeprefix("sha256=")
    return ReportItem(
        name=str(metadata["name"]),
        version=str(metadata["version"]),
        url=str(info["url"]),
        sha256=sha256,
        requested=bool(entry.get("requested")),
        extras=tuple(entry.get("requested_extras") or ()),
        requires_dist=tuple(metadata.get("requires_dist") or ()),
    )


def resolve(
    requirements: Sequence[str],
    wheels: Sequence[Path],
    environment: CondaEnvironment,
    index: IndexOptions,
    workdir: Path,
    *,
    upgrade: bool = False,
    no_deps: bool = False,
    run: Runner = subprocess.run,
) -> Resolution:
    """The wheels to install for ``requirements`` and the given ``wheels``: pip resolves
    them with what the environment has, and the wheels it chose are fetched into
    ``workdir``.

    ``upgrade`` is pip's ``--upgrade`` (only what needs it); ``no_deps`` pip's
    ``--no-deps``. A failure of pip raises BadInputError with one line.
    """
    check_pip()
    roots = [parse_requirement(text) for text in requirements]
    given: set[str] = set()
    for wheel in wheels:
        with WheelInput(wheel) as opened:  # says what is wrong with a file before pip does
            given.add(canonicalize_name(opened.name.name))
    workdir.mkdir(parents=True, exist_ok=True)
    report = workdir / "report.json"
    run_pip(
        report_command(
            requirements, wheels, environment, index, report, upgrade=upgrade, no_deps=no_deps
        ),
        action="resolve",
        requirements=[*requirements, *(wheel.name for wheel in wheels)],
        environment=environment,
        index=index,
        run=run,
        env=isolated_environ(),
    )
    items = read_report(report)
    logger.info("pip resolved: %s", ", ".join(f"{i.name} {i.version}" for i in items))
    pins = [
        Pin(name=item.name, version=item.version, sha256=item.sha256)
        for item in items
        if item.key not in given
    ]
    downloaded = (
        download(pins, workdir / "wheels", environment=environment, index=index, run=run)
        if pins
        else {}
    )
    return _resolution(items, roots, wheels, given, downloaded, environment)


def _resolution(
    items: Sequence[ReportItem],
    roots: Sequence[Requirement],
    wheels: Sequence[Path],
    given: set[str],
    downloaded: Mapping[str, Path],
    environment: CondaEnvironment,
) -> Resolution:
    """What pip resolved, told as condawheel tells it: each wheel fetched and who needs
    it, and each requirement that an installed distribution met."""
    markers = environment.interpreter.markers
    needs = _needs(items, markers)
    needed_by: dict[str, str] = {}
    for who, requirement in needs:
        needed_by.setdefault(canonicalize_name(requirement.name), who)
    fetched = [
        Fetched(
            name=item.name,
            version=item.version,
            wheel=downloaded[item.key],
            needed_by="" if item.requested else needed_by.get(item.key, ""),
            url=item.url,
            sha256=item.sha256,
        )
        for item in sorted(items, key=lambda i: (not i.requested, i.key))
        if item.key not in given
    ]
    resolved = {item.key for item in items} | given
    asked = [("", root) for root in roots if _applies(root, markers, ())]
    return Resolution(
        wheels=(*wheels, *(f.wheel for f in fetched)),
        fetched=tuple(fetched),
        satisfied=_satisfied([*asked, *needs], resolved, environment),
    )


def _needs(
    items: Sequence[ReportItem], markers: Mapping[str, str]
) -> list[tuple[str, Requirement]]:
    """(who, requirement) for each Requires-Dist of ``items`` that applies in the
    environment, with the extras asked of each: on the command line or by another item."""
    extras = {item.key: set(item.extras) for item in items}
    ordered = sorted(items, key=lambda i: not i.requested)
    while True:
        needs = []
        grown = False
        for item in ordered:
            for line in item.requires_dist:
                try:
                    requirement = Requirement(line)
                except InvalidRequirement:
                    continue  # pip accepted the metadata; it is not ours to judge
                if not _applies(requirement, markers, extras[item.key]):
                    continue
                needs.append((item.name, requirement))
                known = extras.get(canonicalize_name(requirement.name))
                if known is not None and not requirement.extras <= known:
                    known.update(requirement.extras)
                    grown = True
        if not grown:
            return needs


def _satisfied(
    needs: Sequence[tuple[str, Requirement]], resolved: set[str], environment: CondaEnvironment
) -> tuple[Satisfied, ...]:
    """The requirements pip left to installed distributions: those it does not install."""
    found: dict[str, Satisfied] = {}
    for who, requirement in needs:
        name = canonicalize_name(requirement.name)
        if name in resolved or name in found:
            continue
        installed = environment.installed(name)
        if not installed:
            continue
        found[name] = Satisfied(
            name=installed[0].name,
            version=installed[0].version,
            requirement=_plain(requirement),
            needed_by=who,
        )
    return tuple(found[name] for name in sorted(found))


def _applies(requirement: Requirement, markers: Mapping[str, str], extras: Collection[str]) -> bool:
    marker = requirement.marker
    if marker is None:
        return True
    return any(marker.evaluate({**markers, "extra": extra}) for extra in ("", *sorted(extras)))


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or ["invalid"])[0]


def _plain(requirement: Requirement) -> str:
    """The requirement without its marker, which was evaluated already."""
    extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
    return f"{requirement.name}{extras}{requirement.specifier}"
