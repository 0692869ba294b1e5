"""Where `condawheel publish` sends wheels and as whom: URLs checked, PyPI refused,
credentials from options, the URL, keyring or a prompt."""

from __future__ import annotations

from collections.abc import Iterator

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.credentials import SimpleCredential

from condawheel.exceptions import ConfigurationError
from condawheel.publishing.target import PublishOptions, target


class MemoryKeyring(KeyringBackend):
    """keyring's own extension point: a backend holding passwords in memory."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # keyring leaves it unannotated
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.passwords.pop((service, username), None)

    def get_credential(self, service: str, username: str | None) -> SimpleCredential | None:
        for (known_service, user), password in self.passwords.items():
            if known_service == service and username in (None, user):
                return SimpleCredential(user, password)
        return None


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


# -- where, and as whom -------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["not a url", "ftp://host/", "http://", "http://127.0.0.1:abc/", "127.0.0.1:8080", ""],
)
def test_malformed_urls_are_refused_before_anything_is_sent(url: str) -> None:
    with pytest.raises(ConfigurationError, match="is not a valid repository URL") as caught:
        target(PublishOptions(repository_url=url, use_keyring=False))
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("url", "index"),
    [
        ("https://upload.pypi.org/legacy/", None),
        ("https://test.pypi.org/legacy/", None),
        ("http://127.0.0.1:8080/", "https://pypi.org/simple/"),
    ],
)
def test_pypi_is_refused(url: str, index: str | None) -> None:
    options = PublishOptions(repository_url=url, index_url=index, use_keyring=False)
    with pytest.raises(ConfigurationError, match=r"refusing to publish to PyPI .*conda_\*"):
        target(options)


def test_credentials_in_the_url_are_taken_out_of_it() -> None:
    where = target(PublishOptions(repository_url="https://ci:p%40ss@idx.example:8443/up/"))
    assert where.repository_url == "https://idx.example:8443/up/"
    assert where.index_url == "https://idx.example:8443/up/simple/"
    assert (where.username, where.password) == ("ci", "p@ss")
    assert "p@ss" not in repr(where)


def test_credentials_options_then_url_then_keyring_then_prompt(
    memory_keyring: MemoryKeyring,
) -> None:
    url = "https://idx.example/"
    memory_keyring.set_password(url, "kim", "from-keyring")
    asked: list[str] = []

    def ask(prompt: str) -> str:
        asked.append(prompt)
        return "typed"

    def who(
        username: str | None = None, password: str | None = None, at: str = url
    ) -> tuple[str | None, str | None]:
        options = PublishOptions(repository_url=at, username=username, password=password)
        where = target(options, ask)
        return where.username, where.password

    assert who(username="ann", password="given") == ("ann", "given")
    assert who(at="https://bob:inurl@idx.example/") == ("bob", "inurl")
    assert who() == ("kim", "from-keyring")  # user and password, both from keyring
    assert who(username="kim") == ("kim", "from-keyring")
    assert asked == []
    assert who(username="zoe") == ("zoe", "typed")  # not in keyring: asked
    assert asked == ["Password for zoe at https://idx.example/: "]


def test_no_user_is_anonymous_and_a_user_without_password_is_an_error(
    memory_keyring: MemoryKeyring,
) -> None:
    where = target(PublishOptions(repository_url="http://127.0.0.1:1/"))
    assert (where.username, where.password) == (None, None)
    memory_keyring.set_password("http://127.0.0.1:1/", "kim", "secret")
    options = PublishOptions(repository_url="http://127.0.0.1:1/", username="ann")
    with pytest.raises(ConfigurationError, match=r"no password for ann at http://127\.0\.0\.1:1/"):
        target(options)
    off = PublishOptions(repository_url="http://127.0.0.1:1/", use_keyring=False)
    assert target(off).username is None  # keyring's kim is not consulted


# -- the wheels ----------------------------------------------------------------------
