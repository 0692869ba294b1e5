"""`condawheel publish` against a real pypiserver on 127.0.0.1, with wheels converted from
the real conda packages of recipes-sample/ (built offline by rattler-build).

Also: a server that requires a login (pypiserver's own app with an authentication
function, since passlib, which its htpasswd files need, is not installed), a server
that closes every connection, one that never answers, and a proxy that cuts an upload
in the middle, after which pypiserver keeps a truncated file.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from channel import convert_samples, find_package, sample_channel
from clirun import one_line, run_cli
from compilers import requires_gcc
from condawheel.conversion.core import convert
from condawheel.conversion.plan import ConvertOptions
from servers import free_port, pypiserver, serve
from validator import validate_wheel

pytestmark = [
    pytest.mark.skipif(sys.platform != "linux", reason="the sample recipes build ELF with gcc"),
    requires_gcc,
]

_AUTH_SERVER = """
import sys
from pathlib import Path
import pypiserver
from pypiserver import bottle_wrapper as bottle
app = pypiserver.app(
    roots=[Path(sys.argv[1]).resolve()], authenticate=["update"], disable_fallback=True,
    auther=lambda user, password: (user, password) == ("alice", "s3cret"),
)
bottle.run(app=app, host="127.0.0.1", port=int(sys.argv[2]), server="wsgiref", quiet=True)
"""


@pytest.fixture(scope="module")
def channel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sample_channel(tmp_path_factory)


@pytest.fixture(scope="module")
def wheels(channel: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    made = convert_samples(channel, tmp_path_factory.mktemp("dist"))
    for wheel in made.values():
        validate_wheel(wheel)
    assert "conda_linux_2_17_" in made["pyanswer"].name  # the private tags go up as they are
    return made


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # no credentials or keyring of the machine's user leak into these runs
    for name in ("USERNAME", "PASSWORD", "REPOSITORY_URL"):
        monkeypatch.delenv(f"CONDAWHEEL_{name}", raising=False)
        monkeypatch.delenv(f"TWINE_{name}", raising=False)
    monkeypatch.delenv("CONDAWHEEL_INDEX_URL", raising=False)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")


@contextmanager
def _listener() -> Iterator[tuple[socket.socket, str, threading.Event]]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.1)
    stop = threading.Event()
    try:
        yield listener, f"http://127.0.0.1:{listener.getsockname()[1]}/", stop
    finally:
        stop.set()
        time.sleep(0.2)
        listener.close()


def _accepting(listener: socket.socket, stop: threading.Event) -> Iterator[socket.socket]:
    while not stop.is_set():
        try:
            connection, _ = listener.accept()
        except TimeoutError:
            continue
        yield connection


@contextmanager
def closing_server() -> Iterator[str]:
    """Accepts each connection and closes it at once."""
    with _listener() as (listener, url, stop):

        def run() -> None:
            for connection in _accepting(listener, stop):
                connection.close()

        threading.Thread(target=run, daemon=True).start()
        yield url


@contextmanager
def silent_server() -> Iterator[str]:
    """Accepts each connection and never answers."""
    with _listener() as (listener, url, stop):
        held: list[socket.socket] = []

        def run() -> None:
            held.extend(_accepting(listener, stop))

        threading.Thread(target=run, daemon=True).start()
        yield url
        for connection in held:
            connection.close()


@contextmanager
def cutting_proxy(upstream: str, wheel: Path) -> Iterator[str]:
    """Passes an upload on to ``upstream`` until half of ``wheel`` went through, then
    closes both connections, as a network failure would."""
    port = int(upstream.rstrip("/").rsplit(":", 1)[1])
    marker = f'filename="{wheel.name}"'.encode()
    with _listener() as (listener, url, stop):

        def run() -> None:
            for client in _accepting(listener, stop):
                with client, socket.create_connection(("127.0.0.1", port)) as server:
                    client.settimeout(10)
                    seen = b""
                    while (at := seen.find(marker)) < 0 or len(
                        seen
                    ) < at + wheel.stat().st_size // 2:
                        chunk = client.recv(65536)
                        if not chunk:
                            break
                        seen += chunk
                    server.sendall(seen[: at + wheel.stat().st_size // 2] if at >= 0 else seen)

        threading.Thread(target=run, daemon=True).start()
        yield url


def _files(packages: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(packages.iterdir())}


def _publish(cwd: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return run_cli(cwd, "publish", *args)


def test_publish_republish_and_a_different_file_of_the_same_name(
    tmp_path: Path, channel: Path, wheels: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    two = [wheels["libanswer"], wheels["pyanswer"]]
    with pypiserver(tmp_path / "packages") as url:
        done = _publish(tmp_path, *two, "--repository-url", url, "--json")
        assert done.returncode == 0, done.stderr
        objects = [json.loads(line) for line in done.stdout.splitlines()]
        assert [(o["wheel"], o["status"]) for o in objects] == [(str(w), "uploaded") for w in two]
        assert [o["url"] for o in objects] == [f"{url}packages/{w.name}" for w in two]
        assert _files(tmp_path / "packages") == {w.name: w.read_bytes() for w in two}
        with urllib.request.urlopen(objects[1]["url"]) as served:
            assert served.read() == wheels["pyanswer"].read_bytes()
        stamps = [p.stat().st_mtime_ns for p in sorted((tmp_path / "packages").iterdir())]

        again = _publish(tmp_path, *two, "--repository-url", url)
        assert again.returncode == 0, again.stderr
        for wheel in two:
            assert f"{wheel.name}: already on the index, identical; nothing to do" in again.stdout
        assert [p.stat().st_mtime_ns for p in sorted((tmp_path / "packages").iterdir())] == stamps

        # the same package converted again at another time: same name, other bytes
        monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
        options = ConvertOptions(with_sources=(channel,))
        rebuilt = convert(find_package(channel, "pyanswer"), tmp_path / "rebuilt", options).wheel
        validate_wheel(rebuilt)
        assert rebuilt.name == wheels["pyanswer"].name
        assert rebuilt.read_bytes() != wheels["pyanswer"].read_bytes()
        refused = _publish(tmp_path, rebuilt, "--repository-url", url)
        assert refused.returncode == 2
        assert "already holds a different file of that name" in one_line(refused.stderr)
        assert _files(tmp_path / "packages") == {w.name: w.read_bytes() for w in two}


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http//oops", "is not a valid repository URL"),
        ("http://127.0.0.1:99999/", "is not a valid repository URL"),
        (None, "cannot connect (nothing answers there)"),
    ],
)
def test_bad_urls(tmp_path: Path, wheels: dict[str, Path], url: str | None, expected: str) -> None:
    url = url or f"http://127.0.0.1:{free_port()}/"
    failed = _publish(tmp_path, wheels["libanswer"], "--repository-url", url)
    assert failed.returncode == 2 and expected in one_line(failed.stderr)


def test_credentials(
    tmp_path: Path, wheels: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    packages = tmp_path / "packages"
    packages.mkdir()
    port = free_port()
    command = [sys.executable, "-c", _AUTH_SERVER, str(packages), str(port)]
    wheel = wheels["pyanswer"]
    with serve(command, port) as url:
        anonymous = _publish(tmp_path, wheel, "--repository-url", url, "--non-interactive")
        assert anonymous.returncode == 2
        assert "refused anonymous uploads (HTTP 401" in one_line(anonymous.stderr)
        wrong = _publish(tmp_path, wheel, "--repository-url", url, "-u", "alice", "-p", "nope")
        assert wrong.returncode == 2
        assert "refused the credentials of alice (HTTP 403" in one_line(wrong.stderr)
        no_password = _publish(tmp_path, wheel, "--repository-url", url, "-u", "alice")
        assert no_password.returncode == 2
        assert "no password for alice" in one_line(no_password.stderr)
        assert list(packages.iterdir()) == []
        monkeypatch.setenv("TWINE_USERNAME", "alice")
        monkeypatch.setenv("CONDAWHEEL_PASSWORD", "s3cret")
        right = _publish(tmp_path, wheel, "--repository-url", url)
        assert right.returncode == 0, right.stderr
    assert _files(packages) == {wheel.name: wheel.read_bytes()}


def test_a_server_that_closes_the_connection(tmp_path: Path, wheels: dict[str, Path]) -> None:
    with closing_server() as url:
        failed = _publish(tmp_path, wheels["libanswer"], "--repository-url", url)
    assert failed.returncode == 2
    assert "the server closed the connection without answering" in one_line(failed.stderr)


def test_a_server_that_never_answers(tmp_path: Path, wheels: dict[str, Path]) -> None:
    started = time.monotonic()
    with silent_server() as url:
        failed = _publish(tmp_path, wheels["libanswer"], "--repository-url", url, "--timeout", "1")
    assert failed.returncode == 2 and "no answer in time" in one_line(failed.stderr)
    assert time.monotonic() - started < 60


def test_a_retry_after_a_failed_upload_ends_with_one_correct_file(
    tmp_path: Path, wheels: dict[str, Path]
) -> None:
    wheel = wheels["hello-noarch"]
    packages = tmp_path / "packages"
    with pypiserver(packages) as url, closing_server() as broken:
        failed = _publish(
            tmp_path, wheel, "--repository-url", broken, "--index-url", f"{url}simple/"
        )
        assert failed.returncode == 2
        line = one_line(failed.stderr)
        assert "closed the connection" in line and "does not hold it: publish again" in line
        assert list(packages.iterdir()) == []
        retried = _publish(tmp_path, wheel, "--repository-url", url)
        assert retried.returncode == 0, retried.stderr
    assert _files(packages) == {wheel.name: wheel.read_bytes()}


def test_an_upload_cut_midway_leaves_a_truncated_file_that_is_never_taken_for_the_wheel(
    tmp_path: Path, wheels: dict[str, Path]
) -> None:
    wheel = wheels["libanswer"]
    packages = tmp_path / "packages"
    with pypiserver(packages) as url:
        with cutting_proxy(url, wheel) as proxy:
            failed = _publish(
                tmp_path, wheel, "--repository-url", proxy, "--index-url", f"{url}simple/"
            )
        assert failed.returncode == 2
        assert "holds an incomplete copy of this wheel" in one_line(failed.stderr)
        kept = (packages / wheel.name).read_bytes()  # pypiserver kept what it got
        assert 0 < len(kept) < wheel.stat().st_size and wheel.read_bytes().startswith(kept)

        retried = _publish(tmp_path, wheel, "--repository-url", url)
        assert retried.returncode == 2  # never skipped as if it were there, never replaced
        assert "delete that file on the server, then publish again" in one_line(retried.stderr)
        assert (packages / wheel.name).read_bytes() == kept

        (packages / wheel.name).unlink()  # what the message says to do
        fixed = _publish(tmp_path, wheel, "--repository-url", url)
        assert fixed.returncode == 0, fixed.stderr
    assert _files(packages) == {wheel.name: wheel.read_bytes()}


def test_a_server_that_allows_overwriting_gets_its_incomplete_copy_replaced(
    tmp_path: Path, wheels: dict[str, Path]
) -> None:
    wheel = wheels["pyanswer"]
    packages = tmp_path / "packages"
    with pypiserver(packages, overwrite=True) as url:
        with cutting_proxy(url, wheel) as proxy:
            failed = _publish(
                tmp_path, wheel, "--repository-url", proxy, "--index-url", f"{url}simple/"
            )
        assert failed.returncode == 2 and "incomplete copy" in one_line(failed.stderr)
        assert (packages / wheel.name).stat().st_size < wheel.stat().st_size
        retried = _publish(tmp_path, wheel, "--repository-url", url, "--json")
        assert retried.returncode == 0, retried.stderr
        assert '"status": "uploaded"' in retried.stdout
    assert _files(packages) == {wheel.name: wheel.read_bytes()}
    assert [p.name for p in packages.iterdir()] == [wheel.name]
