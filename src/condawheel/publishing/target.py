"""Where `condawheel publish` sends wheels, and as whom: URLs checked (never PyPI) and
credentials settled before anything is sent.

Credentials come from the options, then the URL's ``user:password@``, then keyring under
the repository URL (as twine looks them up), then ``ask_password`` for a known user;
with no user at all the upload is anonymous.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

import keyring
import keyring.errors

from condawheel.exceptions import ConfigurationError
from condawheel.publishing.remote import default_index_url

logger = logging.getLogger(__name__)

__all__ = ["PYPI_HOSTS", "PublishOptions", "Target", "target"]

#: PyPI's hosts: PyPI refuses wheels with private platform tags such as conda_*.
PYPI_HOSTS = (
    "pypi.org",
    "upload.pypi.org",
    "test.pypi.org",
    "pypi.python.org",
    "testpypi.python.org",
    "upload.pypi.io",
    "files.pythonhosted.org",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class PublishOptions:
    #: Where wheels are uploaded (the legacy upload API, as for twine).
    repository_url: str
    #: The index's simple API; by default derived from ``repository_url``.
    index_url: str | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    #: Look credentials up in keyring when they are not given.
    use_keyring: bool = True
    #: A CA bundle for TLS.
    cacert: Path | None = None
    #: Seconds to wait for a connection, and for each answer.
    timeout: float = 60.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """Where to publish, after parsing: URLs without credentials, and the credentials."""

    repository_url: str
    index_url: str
    username: str | None
    password: str | None = field(repr=False)


def target(options: PublishOptions, ask_password: Callable[[str], str] | None = None) -> Target:
    """Parse and check the URLs and settle the credentials (nothing is sent yet)."""
    repository_url, url_user, url_password = _parse_url(options.repository_url, "repository URL")
    index_url = default_index_url(repository_url)
    if options.index_url:
        index_url, _, _ = _parse_url(options.index_url, "index URL")
    for url in (repository_url, index_url):
        host = urlsplit(url).hostname or ""
        if any(host == h or host.endswith(f".{h}") for h in PYPI_HOSTS):
            raise ConfigurationError(
                f"refusing to publish to PyPI ({host}): PyPI refuses wheels with private "
                "platform tags such as conda_*; publish to your own index (pypiserver, "
                "devpi, Nexus, Artifactory...)"
            )
    username = options.username or url_user
    password = options.password or url_password
    if options.use_keyring and not username:
        username = _keyring_username(repository_url)
    if username and not password and options.use_keyring:
        password = _keyring_password(repository_url, username)
    if username and not password and ask_password is not None:
        password = ask_password(f"Password for {username} at {repository_url}: ")
    if username and not password:
        raise ConfigurationError(
            f"no password for {username} at {repository_url}: pass --password, set "
            "CONDAWHEEL_PASSWORD, or store it with `keyring set URL USER`"
        )
    return Target(
        repository_url=repository_url, index_url=index_url, username=username, password=password
    )


def _parse_url(url: str, what: str) -> tuple[str, str | None, str | None]:
    """``url`` without credentials, and the user and password it held."""
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018  # raises ValueError for a port that is not a number
    except ValueError as exc:
        raise ConfigurationError(f"{url!r} is not a valid {what} ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or " " in url.strip():
        raise ConfigurationError(
            f"{url!r} is not a valid {what}: give an http:// or https:// URL with a host, "
            "e.g. https://pypi.internal.example/"
        )
    netloc = parts.netloc.rpartition("@")[2]
    clean = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    return clean, user, password


def _keyring_username(service: str) -> str | None:
    try:
        credential = keyring.get_credential(service, None)
    except Exception as exc:  # any backend failure: keyring is optional here
        logger.info("keyring: no username for %s (%s)", service, exc)
        return None
    return credential.username if credential else None


def _keyring_password(service: str, username: str) -> str | None:
    try:
        return keyring.get_password(service, username)
    except keyring.errors.NoKeyringError:
        return None
    except Exception as exc:  # any backend failure: keyring is optional here
        logger.info("keyring: no password for %s at %s (%s)", username, service, exc)
        return None
