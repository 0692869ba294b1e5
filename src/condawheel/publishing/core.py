"""`publish()`: checked wheels to a package index, with twine, never replacing a file.

Every wheel is checked first (`wheelcheck`), and the index's simple API is asked what it
already holds (`publish_index`): a file of the same name that is identical is skipped,
a different one is refused, all before anything is uploaded. Each wheel then goes up
with twine's `Repository.upload()` as one POST of the whole file. A retry after any
failure is safe: a file that reached the index is found identical and skipped, one that
did not is uploaded, and an incomplete copy kept by a server that does not check uploads
(pypiserver keeps a truncated body when the connection breaks mid-upload) is recognised
as a prefix of the wheel and reported, never mistaken for a finished upload.

Where to and as whom is settled by `publish_target`.
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import requests
from requests.adapters import HTTPAdapter
from requests.models import PreparedRequest, Response
from twine.exceptions import InvalidDistribution
from twine.package import PackageFile
from twine.repository import Repository
from urllib3.util.retry import Retry

from condawheel.exceptions import BadInputError
from condawheel.publishing.remote import (
    IndexFile,
    Match,
    compare,
    describe_network_error,
    read_project,
)
from condawheel.publishing.target import PublishOptions, Target, target
from condawheel.wheel.check import CheckedWheel, check_wheel

logger = logging.getLogger(__name__)

__all__ = ["PublishResult", "check_all", "publish"]

Status = Literal["uploaded", "skipped-identical"]


@dataclass(frozen=True, slots=True, kw_only=True)
class PublishResult:
    wheel: Path
    #: The file's URL on the index, or the repository URL when the index does not list it.
    url: str
    status: Status
    sha256: str


def check_all(wheels: Sequence[Path]) -> list[CheckedWheel]:
    """Check every wheel; one error naming every problem of every wheel."""
    checked, problems = [], []
    for path in wheels:
        try:
            checked.append(check_wheel(path))
        except BadInputError as exc:
            problems.append(str(exc))
    by_name: dict[str, CheckedWheel] = {}
    for wheel in checked:
        other = by_name.setdefault(wheel.filename, wheel)
        if other.sha256 != wheel.sha256:
            problems.append(f"{other.path} and {wheel.path} differ but have the same name")
    if problems:
        raise BadInputError("; ".join(problems))
    unique = {wheel.filename: wheel for wheel in checked}
    return list(unique.values())


def publish(
    wheels: Sequence[Path],
    options: PublishOptions,
    *,
    ask_password: Callable[[str], str] | None = None,
    on_result: Callable[[PublishResult], None] | None = None,
) -> list[PublishResult]:
    """Check ``wheels`` and upload those the index lacks; see the module's docstring.

    Raises BadInputError (bad wheel, URL or credentials, a different file of the same
    name on the index, a network failure) with one line saying what to do. Before any
    upload, every wheel is checked and compared; ``on_result`` hears of each wheel done.
    """
    where = target(options, ask_password)
    checked = check_all(wheels)
    repository = Repository(
        where.repository_url, where.username, where.password, disable_progress_bar=True
    )
    try:
        _configure_session(repository.session, options)
        plan = _plan(repository.session, where.index_url, checked)
        results = []
        for wheel, existing in plan:
            if existing is not None and existing[1] is Match.IDENTICAL:
                result = _skipped(wheel, existing[0])
            else:
                result = _upload(repository, where, wheel)
            results.append(result)
            if on_result is not None:
                on_result(result)
        return results
    finally:
        repository.close()


class _TimeoutAdapter(HTTPAdapter):
    """twine's adapter (its retries kept), with a timeout: twine sets none, and a server
    that accepts a connection and never answers would hang the upload forever."""

    def __init__(self, timeout: float, max_retries: Any) -> None:
        super().__init__(max_retries=max_retries)
        self.timeout = timeout

    def send(
        self,
        request: PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float | None, float | None] | None = None,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        proxies: dict[str, str] | None = None,
    ) -> Response:
        return super().send(
            request,
            stream=stream,
            timeout=self.timeout if timeout is None else timeout,
            verify=verify,
            cert=cert,
            proxies=proxies,
        )


def _configure_session(session: requests.Session, options: PublishOptions) -> None:
    for prefix in ("http://", "https://"):
        adapter = session.get_adapter(prefix)
        retries = adapter.max_retries if isinstance(adapter, HTTPAdapter) else Retry(0)
        # twine retries a failed read of a GET ten times: ten timeouts for a server that
        # never answers; once is enough to ride out a dropped connection.
        retries = retries.new(read=1)
        session.mount(prefix, _TimeoutAdapter(options.timeout, retries))
    if options.cacert is not None:
        session.verify = str(options.cacert)


def _plan(
    session: requests.Session, index_url: str, wheels: Sequence[CheckedWheel]
) -> list[tuple[CheckedWheel, tuple[IndexFile, Match] | None]]:
    """Each wheel, and the index's file of that name compared with it; refuses before
    any upload when one of them is a different file."""
    pages: dict[str, dict[str, IndexFile]] = {}
    plan: list[tuple[CheckedWheel, tuple[IndexFile, Match] | None]] = []
    conflicts = []
    for wheel in wheels:
        if wheel.name not in pages:
            pages[wheel.name] = read_project(session, index_url, wheel.name)
        existing = pages[wheel.name].get(wheel.filename)
        if existing is None:
            plan.append((wheel, None))
            continue
        match = compare(session, existing, wheel)
        if match is Match.DIFFERENT:
            conflicts.append(_conflict(wheel, existing))
        plan.append((wheel, (existing, match)))
    if conflicts:
        raise BadInputError("; ".join(conflicts))
    return plan


def _conflict(wheel: CheckedWheel, existing: IndexFile) -> str:
    there = existing.hashes.get("sha256", "")[:12] or "another file"
    return (
        f"{wheel.filename}: the index already holds a different file of that name "
        f"({there} there, {wheel.sha256[:12]} here) and a published file is never replaced: "
        "give the new build another build number or version"
    )


def _incomplete(wheel: CheckedWheel, url: str) -> str:
    return (
        f"{wheel.filename}: the index holds an incomplete copy of this wheel at {url}, left by "
        "an interrupted upload (the server does not check uploads): delete that file on the "
        "server, then publish again"
    )


def _skipped(wheel: CheckedWheel, existing: IndexFile) -> PublishResult:
    logger.info("%s is already on the index, identical", wheel.filename)
    return PublishResult(
        wheel=wheel.path, url=existing.url, status="skipped-identical", sha256=wheel.sha256
    )


def _upload(repository: Repository, where: Target, wheel: CheckedWheel) -> PublishResult:
    try:
        package = PackageFile.from_filename(str(wheel.path), None)
    except InvalidDistribution:
        # twine finds METADATA by the bytes "Metadata-Version"; a wheel from a tool that
        # writes field names in lower case (packaging 26 does) is read as packaging did.
        package = PackageFile(
            str(wheel.path), None, wheel.metadata, wheel.python_tag, "bdist_wheel"
        )
    url = where.repository_url
    try:
        # twine prints "Uploading <file>" with rich; the library prints nothing.
        with contextlib.redirect_stdout(io.StringIO()) as said:
            response = repository.upload(package)
        logger.info("twine: %s", said.getvalue().strip())
    except requests.RequestException as exc:
        problem = describe_network_error(exc, url, f"upload {wheel.filename}")
        return _after_broken_upload(repository, where, wheel, problem)
    with response:
        status, reason = response.status_code, response.reason
        text = response.text if not response.is_redirect else ""
        location = response.headers.get("Location", "")
    if 200 <= status < 300:
        return _verified(repository, where, wheel)
    if 300 <= status < 400:
        raise BadInputError(
            f"{url}: redirects the upload to {location}: use that as --repository-url"
        )
    if status in (401, 403):
        who = f"the credentials of {where.username}" if where.username else "anonymous uploads"
        hint = "check" if where.username else "pass"
        raise BadInputError(
            f"{url}: refused {who} (HTTP {status} {reason}); {hint} --username and "
            "--password (or CONDAWHEEL_USERNAME/CONDAWHEEL_PASSWORD, or keyring)"
        )
    if status == 409 or (status == 400 and "exist" in f"{reason} {text}".lower()):
        return _already_there(repository, where, wheel)
    if status in (404, 405):
        raise BadInputError(
            f"{url}: does not take uploads (HTTP {status} {reason}); give the index's upload "
            "URL (pypiserver: its root; devpi: the index URL; warehouse: .../legacy/)"
        )
    raise BadInputError(f"{url}: refused {wheel.filename} (HTTP {status} {reason})")


def _find(
    repository: Repository, where: Target, wheel: CheckedWheel
) -> tuple[IndexFile, Match] | None:
    existing = read_project(repository.session, where.index_url, wheel.name).get(wheel.filename)
    return None if existing is None else (existing, compare(repository.session, existing, wheel))


def _verified(repository: Repository, where: Target, wheel: CheckedWheel) -> PublishResult:
    """After a successful upload: the index should now list the very same file."""
    try:
        found = _find(repository, where, wheel)
    except BadInputError as exc:
        logger.warning("%s: uploaded, but cannot check it on the index: %s", wheel.filename, exc)
        found = None
    if found is None:
        logger.warning(
            "%s: uploaded, but %s does not list it; pass --index-url so that a retry can "
            "tell what the index holds",
            wheel.filename,
            where.index_url,
        )
        url = where.repository_url
    elif found[1] is not Match.IDENTICAL:
        raise BadInputError(
            f"{wheel.filename}: uploaded, but the index serves a different file at "
            f"{found[0].url}; check the server"
        )
    else:
        url = found[0].url
    return PublishResult(wheel=wheel.path, url=url, status="uploaded", sha256=wheel.sha256)


def _already_there(repository: Repository, where: Target, wheel: CheckedWheel) -> PublishResult:
    """The server says the file exists (someone uploaded it since we looked, or our
    look missed it): compare again."""
    found = _find(repository, where, wheel)
    if found is None:
        raise BadInputError(
            f"{where.repository_url}: says {wheel.filename} already exists, but "
            f"{where.index_url} does not list it: pass --index-url with the index's simple "
            "API so that condawheel can compare the two"
        )
    existing, match = found
    if match is Match.IDENTICAL:
        return _skipped(wheel, existing)
    if match is Match.INCOMPLETE:
        raise BadInputError(_incomplete(wheel, existing.url))
    raise BadInputError(_conflict(wheel, existing))


def _after_broken_upload(
    repository: Repository, where: Target, wheel: CheckedWheel, problem: str
) -> PublishResult:
    """The connection failed during the upload: did the file arrive, whole or in part?"""
    try:
        found = _find(repository, where, wheel)
    except BadInputError:
        raise BadInputError(
            f"{problem}; publish again when the server is back: files already on the index "
            "are skipped"
        ) from None
    if found is None:
        raise BadInputError(f"{problem}; the index does not hold it: publish again to retry")
    existing, match = found
    if match is Match.IDENTICAL:  # it arrived whole before the connection broke
        return PublishResult(
            wheel=wheel.path, url=existing.url, status="uploaded", sha256=wheel.sha256
        )
    if match is Match.INCOMPLETE:
        raise BadInputError(f"{problem}; {_incomplete(wheel, existing.url)}")
    raise BadInputError(f"{problem}; {_conflict(wheel, existing)}")
