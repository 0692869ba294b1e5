"""Running pip for a conda environment, and its failures told in one line.

pip does the index work (PEP 503/691 pages, PEP 658 metadata, hashes, Requires-Python,
picking the best wheel for a set of tags, credentials, certificates and proxies from the
user's pip configuration). It is told the environment's interpreter and platform through
``--python-version``, ``--implementation``, ``--abi`` and one ``--platform`` per conda
platform tag the environment takes (`target_arguments`); pip adds the pure-Python tags
(``py3-none-any``) itself. Standard ``manylinux``/``linux`` tags are left out on purpose:
`condawheel install` refuses those wheels (they bring their own copies of libraries), so
choosing them would only fail later.

`condawheel.installation.resolve` has pip resolve; `download` then fetches exactly the wheels
chosen, one per pin, and checks each against the sha256 the resolution reported.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

from condawheel.exceptions import BadInputError, ConfigurationError
from condawheel.installation.environment import CondaEnvironment
from condawheel.streams import file_sha256

logger = logging.getLogger(__name__)

Runner = Callable[..., "subprocess.CompletedProcess[str]"]

_ERROR = re.compile(r"^ERROR: (.*)$", re.MULTILINE)
_NO_VERSION = re.compile(
    r"Could not find a version that satisfies the requirement (.+?)"
    r"(?: \(from ((?:[^()]|\([^()]*\))+)\))? \(from versions: (.*)\)"
)
_ERRNO = re.compile(r"\[Errno -?\d+\] ([^\"')\]]+)")
_FETCH_FAILED = re.compile(r"Could not fetch URL (\S+): (.*) - skipping")
_TAGS = re.compile(r"none of the wheel's tags \(([^)]*)\) are compatible")
_REQUIRES_PYTHON = re.compile(r"Link requires a different Python \(\S+ not in: '([^']*)'\)")
_UNTRUSTED = re.compile(r"The repository located at (\S+) is not a trusted or secure host")
_CONFLICT = re.compile(r"^ERROR: Cannot install (.+?) because", re.MULTILINE)
_UNSUPPORTED = re.compile(r"^ERROR: (\S+\.whl) is not a supported wheel", re.MULTILINE)


@dataclass(frozen=True, slots=True, kw_only=True)
class IndexOptions:
    """Where to look for wheels: a simple index (PEP 503), and more."""

    index_url: str
    extra_index_urls: tuple[str, ...] = ()

    @property
    def urls(self) -> tuple[str, ...]:
        return (self.index_url, *self.extra_index_urls)


@dataclass(frozen=True, slots=True, kw_only=True)
class Pin:
    """One wheel to download: a distribution at one version, and its hash when known."""

    name: str
    version: str
    sha256: str | None = None

    @property
    def requirement(self) -> str:
        return f"{self.name}=={self.version}"


def check_index_url(url: str, option: str = "--index-url") -> str:
    """``url`` if it can be an index URL; raises ConfigurationError otherwise."""
    parts = urlsplit(url)
    if (parts.scheme in ("http", "https") and parts.netloc) or parts.scheme == "file":
        return url
    raise ConfigurationError(
        f"{option} {url!r} is not an http(s):// or file:// URL; give the URL of the "
        "index's simple/ page, such as https://pypi.internal.example/simple/"
    )


def target_arguments(environment: CondaEnvironment) -> list[str]:
    """pip's options that describe ``environment`` instead of the running interpreter."""
    interpreter = environment.interpreter
    if interpreter.implementation != "cpython":
        raise BadInputError(
            f"installing from an index needs a CPython environment, {environment.prefix} has "
            f"{interpreter.implementation}; download the wheels and give their paths instead"
        )
    major, minor, micro = interpreter.version
    abi = f"cp{major}{minor}{'t' if interpreter.free_threading else ''}"
    arguments = [
        "--implementation",
        "cp",
        "--python-version",
        f"{major}.{minor}.{micro}",
        "--abi",
        abi,
    ]
    for platform in environment.platform_tags():
        arguments.extend(["--platform", platform])
    return arguments


def common_options(environment: CondaEnvironment, index: IndexOptions) -> list[str]:
    """The options every pip command here takes: binary wheels for ``environment``, from
    ``index``, and the verbose log `explain_failure` reads."""
    options = [
        "--disable-pip-version-check",
        "--no-input",
        # pip says why it skipped a page or a file only at debug level
        "-vv",
        "--progress-bar",
        "off",
        "--only-binary=:all:",
        "--index-url",
        index.index_url,
    ]
    for url in index.extra_index_urls:
        options.extend(["--extra-index-url", url])
    options.extend(target_arguments(environment))
    return options


def download_command(
    requirements_file: Path, environment: CondaEnvironment, index: IndexOptions, dest: Path
) -> list[str]:
    """The ``pip download`` command line that fetches what ``requirements_file`` pins."""
    return [
        sys.executable,
        "-m",
        "pip",
        "download",
        *common_options(environment, index),
        "--no-deps",
        "--dest",
        str(dest),
        "--requirement",
        str(requirements_file),
    ]


def download(
    pins: Sequence[Pin],
    dest: Path,
    *,
    environment: CondaEnvironment,
    index: IndexOptions,
    run: Runner = subprocess.run,
) -> dict[str, Path]:
    """Download the wheel of each pin into ``dest``; canonical name -> wheel.

    With a sha256 for every pin, pip runs in hash-checking mode and picks the file of that
    hash; each file is checked here again in any case. A failure raises BadInputError
    with one line that says what went wrong.
    """
    dest.mkdir(parents=True, exist_ok=True)
    hashed = all(pin.sha256 for pin in pins)
    lines = [
        f"{pin.requirement} --hash=sha256:{pin.sha256}" if hashed else pin.requirement
        for pin in pins
    ]
    requirements_file = dest / "pins.txt"
    requirements_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    command = download_command(requirements_file, environment, index, dest)
    run_pip(
        command,
        action="download",
        requirements=[pin.requirement for pin in pins],
        environment=environment,
        index=index,
        run=run,
    )
    found = {name: path for path in dest.glob("*.whl") if (name := _wheel_name(path))}
    wheels: dict[str, Path] = {}
    for pin in pins:
        name = canonicalize_name(pin.name)
        wheel = found.get(name)
        if wheel is None:
            raise BadInputError(
                f"pip downloaded no wheel for {pin.requirement} from {index.urls[0]}"
            )
        if pin.sha256 and file_sha256(wheel)[0] != pin.sha256.lower():
            raise BadInputError(
                f"{wheel.name} from the index does not have the sha256 pip resolved with "
                f"({pin.sha256}); the index changed meanwhile, or serves different files: "
                "try again, and check the index"
            )
        wheels[name] = wheel
    return wheels


def run_pip(
    command: Sequence[str],
    *,
    action: str,
    requirements: Sequence[str],
    environment: CondaEnvironment,
    index: IndexOptions,
    run: Runner = subprocess.run,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run pip; its failure raises BadInputError with one line (see `explain_failure`)."""
    logger.info("running %s", " ".join(command))
    try:
        done = run(list(command), capture_output=True, text=True, check=False, env=env)
    except OSError as exc:
        raise BadInputError(f"cannot run pip ({exc})") from None
    if done.returncode != 0:
        output = f"{done.stdout}\n{done.stderr}"
        raise BadInputError(explain_failure(output, requirements, environment, index, action))
    return done


def explain_failure(
    output: str,
    requirements: Sequence[str],
    environment: CondaEnvironment,
    index: IndexOptions,
    action: str = "download",
) -> str:
    """pip's failure, from its verbose output, as one line: what went wrong, what to do.

    ``action`` is what pip was asked to do with ``requirements`` ("download", "resolve").
    """
    where = " or ".join(index.urls)
    if "No module named pip" in output:
        return (
            f"finding wheels on an index needs pip in the Python that runs condawheel "
            f"({sys.executable}); install it with {sys.executable} -m ensurepip"
        )
    if "no such option: --python" in output or "no such option: --report" in output:
        return (
            f"installing from an index needs pip 23 or later in {sys.executable}; "
            f"upgrade it with {sys.executable} -m pip install -U pip"
        )
    untrusted = _UNTRUSTED.search(output)
    if untrusted:
        host = untrusted.group(1)
        return (
            f"pip ignores the index at {host}: it is plain http and not trusted; serve it "
            f"over https, or trust it with PIP_TRUSTED_HOST={host}"
        )
    no_version = _NO_VERSION.search(output)
    if no_version:
        requirement, needed_by, versions = no_version.groups()
        # pip gives up on a page it cannot fetch quietly, as if the project had no files
        about = [line for line in output.splitlines() if f"/{_project(requirement)}/" in line]
        failed = [m for line in about if (m := _FETCH_FAILED.search(line))]
        if failed:
            message = _fetch_failure(failed[0].group(1), failed[0].group(2), requirement, where)
        else:
            message = _nothing_fits(requirement, versions, about, environment, where)
        if needed_by:
            message += f" (needed: {_project(requirement)} by {needed_by})"
        return message
    conflict = _CONFLICT.search(output)
    if conflict:
        return _conflict(conflict.group(1), output)
    unsupported = _UNSUPPORTED.search(output)
    if unsupported:
        return (
            f"{unsupported.group(1)} does not fit this environment ({_describe(environment)}); "
            "give a wheel built for it"
        )
    errors = _ERROR.findall(output)
    last = errors[-1] if errors else (output.strip().splitlines() or ["no output"])[-1]
    return f"pip could not {action} {' '.join(requirements)} from {where}: {last.strip()}"


def _conflict(what: str, output: str) -> str:
    """pip's ResolutionImpossible: the requirements that clash, from the lines under
    "The conflict is caused by:"."""
    lines = output.splitlines()
    causes: list[str] = []
    unavailable: list[str] = []
    section: list[str] | None = None
    for line in lines:
        if line.startswith("The conflict is caused by"):
            section = causes
        elif line.startswith("Additionally, some packages"):
            section = unavailable
        elif section is not None and line.startswith("    "):
            # pip's wording is for its own command line
            section.append(line.strip().replace("The user requested ", "you asked for "))
        elif line.strip():
            section = None
    found = "; ".join(dict.fromkeys(causes)) or "conflicting dependencies"
    missing = ""
    if unavailable:
        names = ", ".join(dict.fromkeys(unavailable))
        missing = f" (no wheel of {names} on the index meets all of these)"
    return (
        f"cannot install {what}: {found}{missing}; loosen the versions you ask for, or "
        "install versions that fit together"
    )


def _fetch_failure(url: str, reason: str, requirement: str, where: str) -> str:
    if reason.startswith("connection error"):
        errno = _ERRNO.search(reason)
        why = errno.group(1).strip() if errno else reason.removeprefix("connection error: ")
        return f"cannot reach the index at {url}: {why}; check the URL and that the server is up"
    if reason.startswith("404"):
        return (
            f"{_project(requirement)} is not on {where} ({url} was not found); "
            "check the name and the index URL"
        )
    if reason.startswith(("401", "403")):
        return (
            f"the index refused {url} ({reason}); give credentials in the URL "
            "(https://user:token@host/simple/) or in pip's configuration (netrc, keyring)"
        )
    return f"cannot read the index page {url}: {reason}"


def _nothing_fits(
    requirement: str, versions: str, about: Sequence[str], environment: CondaEnvironment, where: str
) -> str:
    details = []
    if versions != "none":
        details.append(f"versions for this environment: {versions}")
    tags = sorted({m.group(1) for line in about if (m := _TAGS.search(line))})
    if tags:
        shown = "; ".join(tags[:4]) + ("; ..." if len(tags) > 4 else "")
        details.append(f"the index has wheels of it for {shown}")
    pythons = sorted({m.group(1) for line in about if (m := _REQUIRES_PYTHON.search(line))})
    if pythons:
        details.append(f"its wheels need Python {' or '.join(pythons)}")
    found = "; ".join(details) if details else "no wheels of it found"
    return (
        f"no wheel of {requirement} on {where} fits this environment "
        f"({_describe(environment)}): {found}; condawheel installs conda-tagged and "
        f"pure-Python wheels: check the name and the index, or install it with conda or "
        f"with {environment.interpreter.executable} -m pip first"
    )


def _project(requirement: str) -> str:
    try:
        return canonicalize_name(Requirement(requirement).name)
    except InvalidRequirement:
        return canonicalize_name(requirement)


def _describe(environment: CondaEnvironment) -> str:
    interpreter = environment.interpreter
    flavour = "t" if interpreter.free_threading else ""
    *platforms, noarch = environment.platform_tags()
    shown = platforms[0] if len(platforms) == 1 else f"{platforms[0]} ... {platforms[-1]}"
    return f"CPython {interpreter.short_version}{flavour}, {shown}, {noarch} or any"


def _wheel_name(path: Path) -> str | None:
    try:
        return canonicalize_name(parse_wheel_filename(path.name)[0])
    except InvalidWheelFilename:
        return None


#: pip's variables that add places to find distributions in.
_SOURCES = ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_NO_INDEX")


def isolated_environ(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment pip runs the target interpreter in, so that it sees the
    distributions condawheel's own probe of that interpreter sees (``python -I``)."""
    environ = dict(os.environ if environ is None else environ)
    environ.pop("PYTHONPATH", None)
    # wheels come only from --index-url and --extra-index-url: no configuration file is
    # read (one may add indexes or find-links), nor a variable naming where to look;
    # the others (certificates, proxies, timeouts) still apply
    environ["PIP_CONFIG_FILE"] = os.devnull
    for name in _SOURCES:
        environ.pop(name, None)
    environ["PYTHONNOUSERSITE"] = "1"
    # a dry run installs nothing: a global require-virtualenv must not refuse it
    environ["PIP_REQUIRE_VIRTUALENV"] = "0"
    return environ
