"""Reading what an index holds from its simple API, comparing files, naming network errors."""

from __future__ import annotations

import hashlib
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from condawheel.exceptions import BadInputError
from condawheel.publishing.remote import (
    IndexFile,
    Match,
    compare,
    default_index_url,
    describe_network_error,
    read_project,
)
from condawheel.wheel.check import CheckedWheel, check_wheel
from demo_wheel import NAME, write_wheel

Route = tuple[int, dict[str, str], bytes]


@dataclass
class Canned:
    """An HTTP server on 127.0.0.1 answering each path with a canned response."""

    url: str
    routes: dict[str, Route] = field(default_factory=dict)
    accepts: list[str] = field(default_factory=list)


@pytest.fixture
def canned() -> Iterator[Canned]:
    state = Canned(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.accepts.append(self.headers.get("Accept", ""))
            status, headers, body = state.routes.get(self.path, (404, {}, b"not here"))
            self.send_response(status)
            for key, value in {"Content-Length": str(len(body)), **headers}.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def wheel(tmp_path: Path) -> CheckedWheel:
    return check_wheel(write_wheel(tmp_path / NAME))


@pytest.mark.parametrize(
    ("upload", "simple"),
    [
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080/simple/"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080/simple/"),
        ("https://pypi.example/legacy/", "https://pypi.example/simple/"),
        (
            "https://nexus.example/repository/hosted/",
            "https://nexus.example/repository/hosted/simple/",
        ),
        (
            "https://gl.example/api/v4/projects/7/packages/pypi",
            "https://gl.example/api/v4/projects/7/packages/pypi/simple/",
        ),
    ],
)
def test_the_simple_api_beside_the_upload_url(upload: str, simple: str) -> None:
    assert default_index_url(upload) == simple


def test_pep_503_html_page(canned: Canned) -> None:
    page = (
        b'<html><body><a href="../../packages/demo-1.0-py3-none-any.whl#sha256=ABC">x</a>'
        b'<a href="https://files.example/demo-1.1%2Bl-py3-none-any.whl">demo</a></body></html>'
    )
    canned.routes["/simple/demo/"] = (200, {"Content-Type": "text/html"}, page)
    files = read_project(requests.Session(), f"{canned.url}/simple/", "demo")
    assert files == {
        "demo-1.0-py3-none-any.whl": IndexFile(
            filename="demo-1.0-py3-none-any.whl",
            url=f"{canned.url}/packages/demo-1.0-py3-none-any.whl",
            hashes={"sha256": "ABC"},
        ),
        "demo-1.1+l-py3-none-any.whl": IndexFile(
            filename="demo-1.1+l-py3-none-any.whl",
            url="https://files.example/demo-1.1%2Bl-py3-none-any.whl",
            hashes={},
        ),
    }
    assert "application/vnd.pypi.simple.v1+json" in canned.accepts[0]  # PEP 691 asked first


def test_pep_691_json_page(canned: Canned) -> None:
    data = {
        "meta": {"api-version": "1.1"},
        "name": "demo",
        "files": [{"filename": "demo-1.0.whl", "url": "/f/demo-1.0.whl", "hashes": {"md5": "d"}}],
    }
    headers = {"Content-Type": "application/vnd.pypi.simple.v1+json"}
    canned.routes["/simple/demo/"] = (200, headers, json.dumps(data).encode())
    files = read_project(requests.Session(), f"{canned.url}/simple", "demo")
    assert files["demo-1.0.whl"].url == f"{canned.url}/f/demo-1.0.whl"
    assert files["demo-1.0.whl"].hashes == {"md5": "d"}


def test_unknown_projects_and_redirects_elsewhere_hold_nothing(canned: Canned) -> None:
    # pypiserver sends projects it lacks to PyPI: not on this index, and never followed
    canned.routes["/simple/elsewhere/"] = (303, {"Location": "https://pypi.org/simple/x/"}, b"")
    canned.routes["/simple/moved/"] = (301, {"Location": "/other/moved/"}, b"")
    canned.routes["/other/moved/"] = (200, {}, b'<a href="/p/moved-1.0-py3-none-any.whl">m</a>')
    session, index = requests.Session(), f"{canned.url}/simple/"
    assert read_project(session, index, "missing") == {}
    assert read_project(session, index, "elsewhere") == {}
    assert list(read_project(session, index, "moved")) == ["moved-1.0-py3-none-any.whl"]


@pytest.mark.parametrize(
    ("status", "expected"),
    [(401, "refused to list the project (HTTP 401)"), (500, "pass --index-url")],
)
def test_index_errors_are_one_line(canned: Canned, status: int, expected: str) -> None:
    canned.routes["/simple/demo/"] = (status, {}, b"no")
    with pytest.raises(BadInputError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        read_project(requests.Session(), f"{canned.url}/simple/", "demo")


def test_identical_by_the_hash_the_page_gives(canned: Canned, wheel: CheckedWheel) -> None:
    md5 = hashlib.md5(wheel.path.read_bytes()).hexdigest()
    session = requests.Session()
    for hashes in ({"sha256": wheel.sha256.upper()}, {"md5": md5}):
        found = IndexFile(filename=wheel.filename, url=f"{canned.url}/nothing", hashes=hashes)
        assert compare(session, found, wheel) is Match.IDENTICAL
    assert canned.accepts == []  # nothing downloaded


@pytest.mark.parametrize(
    ("served", "hashes", "expected"),
    [
        ("same", {}, Match.IDENTICAL),  # no hash: downloaded and compared
        ("prefix", {"sha256": "0" * 64}, Match.INCOMPLETE),  # an interrupted upload
        ("other", {"sha256": "0" * 64}, Match.DIFFERENT),
        ("longer", {}, Match.DIFFERENT),
        ("missing", {"sha256": "0" * 64}, Match.DIFFERENT),
    ],
)
def test_compare_by_content(
    canned: Canned, wheel: CheckedWheel, served: str, hashes: dict[str, str], expected: Match
) -> None:
    data = wheel.path.read_bytes()
    bodies = {
        "same": data,
        "prefix": data[: len(data) // 2],
        "other": b"x" * len(data),
        "longer": data + b"!",
    }
    if served in bodies:
        canned.routes["/f.whl"] = (200, {}, bodies[served])
    found = IndexFile(filename=wheel.filename, url=f"{canned.url}/f.whl", hashes=hashes)
    assert compare(requests.Session(), found, wheel) is expected


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _serve(behaviour: str) -> tuple[int, threading.Event]:
    """A socket server that accepts and then closes, or accepts and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.2)
    stop = threading.Event()

    def run() -> None:
        held = []
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            if behaviour == "close":
                connection.close()
            else:
                held.append(connection)
        for connection in held:
            connection.close()
        listener.close()

    threading.Thread(target=run, daemon=True).start()
    return int(listener.getsockname()[1]), stop


@pytest.mark.parametrize(
    ("behaviour", "expected"),
    [
        ("refuse", "cannot connect (nothing answers there)"),
        ("close", "the server closed the connection without answering"),
        ("hang", "no answer in time"),
    ],
)
def test_network_errors_get_one_line_each(behaviour: str, expected: str) -> None:
    stop = threading.Event()
    if behaviour == "refuse":
        port = _free_port()
    else:
        port, stop = _serve(behaviour)
    url = f"http://127.0.0.1:{port}/simple/demo/"
    try:
        with pytest.raises(requests.RequestException) as caught:
            requests.get(url, timeout=0.5)
    finally:
        stop.set()
    message = describe_network_error(caught.value, url, "read the index")
    assert message.startswith(f"{url}: cannot read the index: {expected}")
    assert "\n" not in message
