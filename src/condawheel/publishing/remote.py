"""What a package index already holds, read from its simple API, for `publish`.

Before uploading, `publish` asks the index for the project's page (PEP 691 JSON, or the
PEP 503 HTML every index serves) and compares a file of the same name with the wheel:
by the hash the page gives, and, when that differs or is missing, by downloading it,
which also tells an incomplete copy (a strict prefix of the wheel, left by an
interrupted upload to a server that does not check uploads) from a different file.
Also here: one-line descriptions of what went wrong on the network.
"""

from __future__ import annotations

import enum
import hashlib
import json
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

import requests

from condawheel.exceptions import BadInputError
from condawheel.wheel.check import CheckedWheel

logger = logging.getLogger(__name__)

__all__ = [
    "IndexFile",
    "Match",
    "compare",
    "default_index_url",
    "describe_network_error",
    "read_project",
]

_ACCEPT = (
    "application/vnd.pypi.simple.v1+json, "
    "application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1"
)
_MAX_REDIRECTS = 5
_TIMEOUTS = {"ReadTimeoutError", "ConnectTimeoutError", "TimeoutError", "timeout"}
_CHUNK = 1024 * 1024


class Match(enum.Enum):
    """How a file on the index compares with a local wheel of the same name."""

    IDENTICAL = "identical"
    #: The index's copy is a strict prefix of the wheel: an interrupted upload.
    INCOMPLETE = "incomplete"
    DIFFERENT = "different"


@dataclass(frozen=True, slots=True, kw_only=True)
class IndexFile:
    filename: str
    url: str
    #: hash name -> hex digest, as the page gives them.
    hashes: Mapping[str, str]


def default_index_url(repository_url: str) -> str:
    """The simple API beside an upload URL: pypiserver, Nexus, Artifactory and GitLab serve
    ``<upload URL>/simple/``, warehouse-like servers ``/simple/`` in place of ``/legacy/``."""
    parts = urlsplit(repository_url)
    path = parts.path.rstrip("/").removesuffix("/legacy")
    return urlunsplit((parts.scheme, parts.netloc, f"{path}/simple/", "", ""))


def project_url(index_url: str, name: str) -> str:
    return f"{index_url.rstrip('/')}/{name}/"


def read_project(session: requests.Session, index_url: str, name: str) -> dict[str, IndexFile]:
    """The files the index lists for project ``name`` (normalized), by file name.

    A project the index does not have (404), or for which it redirects to another
    server (pypiserver's fall-back to PyPI), has no files here.
    """
    url = project_url(index_url, name)
    try:
        response = _get(session, url, headers={"Accept": _ACCEPT})
    except requests.RequestException as exc:
        raise BadInputError(describe_network_error(exc, url, "read the index")) from None
    if response is None or response.status_code in (404, 410):
        return {}
    with response:
        if response.status_code in (401, 403):
            raise BadInputError(
                f"{url}: the index refused to list the project (HTTP {response.status_code}); "
                "give credentials that may read it (--username/--password, "
                "CONDAWHEEL_USERNAME/CONDAWHEEL_PASSWORD, or keyring)"
            )
        if response.status_code != 200:
            raise BadInputError(
                f"{url}: cannot read the index (HTTP {response.status_code} "
                f"{response.reason}); pass --index-url with the index's simple API URL"
            )
        content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        if content_type == "application/vnd.pypi.simple.v1+json":
            files = list(_json_files(response.text, response.url))
        else:
            files = list(_html_files(response.text, response.url))
    return {f.filename: f for f in files}


def compare(session: requests.Session, existing: IndexFile, wheel: CheckedWheel) -> Match:
    """Compare the index's ``existing`` file with ``wheel``; downloads it unless a hash
    the page gives already shows they are identical."""
    for algorithm in ("sha256", *sorted(existing.hashes)):
        if algorithm in existing.hashes and algorithm in hashlib.algorithms_guaranteed:
            expected = wheel.sha256 if algorithm == "sha256" else _digest(wheel, algorithm)
            if existing.hashes[algorithm].lower() == expected:
                return Match.IDENTICAL
            break
    try:
        response = _get(session, existing.url, stream=True)
        if response is None or response.status_code != 200:
            logger.info("cannot download %s to compare it; taking it as different", existing.url)
            return Match.DIFFERENT
        with response, wheel.path.open("rb") as local:
            return _compare_streams(response.iter_content(_CHUNK), local.read, wheel.size)
    except requests.RequestException as exc:
        raise BadInputError(describe_network_error(exc, existing.url, "download")) from None


def _compare_streams(remote: Iterator[bytes], read: Callable[[int], bytes], size: int) -> Match:
    seen = 0
    for chunk in remote:
        if seen + len(chunk) > size or read(len(chunk)) != chunk:
            return Match.DIFFERENT
        seen += len(chunk)
    return Match.IDENTICAL if seen == size else Match.INCOMPLETE


def _digest(wheel: CheckedWheel, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with wheel.path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _get(session: requests.Session, url: str, **kwargs: Any) -> requests.Response | None:
    """GET ``url``, following redirects on the same server only: a redirect elsewhere
    means the file or project is not on this index. None for such a redirect."""
    origin = urlsplit(url)[:2]
    for _ in range(_MAX_REDIRECTS):
        response = session.get(url, allow_redirects=False, **kwargs)
        if not response.is_redirect:
            return response
        response.close()
        target = urljoin(url, response.headers["Location"])
        if urlsplit(target)[:2] != origin:
            logger.info("%s redirects to another server (%s): not on this index", url, target)
            return None
        url = target
    raise BadInputError(f"{url}: too many redirects; pass --index-url with the final URL")


def _json_files(text: str, base: str) -> Iterator[IndexFile]:
    try:
        data = json.loads(text)
        entries = data["files"]
        for entry in entries:
            hashes = entry.get("hashes") or {}
            yield IndexFile(
                filename=str(entry["filename"]),
                url=urljoin(base, str(entry["url"])),
                hashes={str(k): str(v) for k, v in hashes.items()},
            )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BadInputError(f"{base}: not a PEP 691 project page ({exc})") from None


class _Anchors(HTMLParser):
    def __init__(self, base: str) -> None:
        super().__init__()
        self.base = base
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "base" and href:
            self.base = urljoin(self.base, href)
        elif tag == "a" and href:
            self.hrefs.append(urljoin(self.base, href))


def _html_files(text: str, base: str) -> Iterator[IndexFile]:
    parser = _Anchors(base)
    parser.feed(text)
    parser.close()
    for href in parser.hrefs:
        parts = urlsplit(href)
        filename = unquote(parts.path.rsplit("/", 1)[-1])
        algorithm, _, digest = parts.fragment.partition("=")
        yield IndexFile(
            filename=filename,
            url=urlunsplit(parts._replace(fragment="")),
            hashes={algorithm: digest} if digest else {},
        )


def describe_network_error(exc: BaseException, url: str, doing: str) -> str:
    """One line for a failed request: what happened at ``url`` while trying to ``doing``."""
    causes = list(_causes(exc))
    names = {type(c).__name__ for c in causes}
    if isinstance(exc, requests.exceptions.SSLError):
        what = "the TLS handshake failed; pass --cert with the CA bundle for its certificate"
    elif isinstance(exc, requests.exceptions.Timeout) or names & _TIMEOUTS:
        what = "no answer in time (see --timeout); check that the server is up"
    elif "NameResolutionError" in names or "gaierror" in names:
        what = "cannot resolve the host name; check the URL"
    elif "NewConnectionError" in names or "ConnectionRefusedError" in names:
        what = "cannot connect (nothing answers there); check the URL and that the server is up"
    elif names & {"RemoteDisconnected", "ConnectionResetError", "BrokenPipeError", "ProtocolError"}:
        what = "the server closed the connection without answering"
    elif isinstance(exc, requests.exceptions.RetryError):
        what = "the server kept answering with a server error (HTTP 5xx)"
    elif isinstance(exc, (requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema)):
        what = "not a valid http(s) URL"
    else:
        what = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"{url}: cannot {doing}: {what}"


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and everything it wraps: requests and urllib3 nest the real cause in
    ``args``, ``reason``, ``__cause__`` and ``__context__``."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        nested = [*current.args, getattr(current, "reason", None)]
        nested += [current.__cause__, current.__context__]
        todo.extend(n for n in nested if isinstance(n, BaseException))
