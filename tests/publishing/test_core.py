"""`publish()` and `condawheel publish`: URLs, credentials, checks, and what an index answers.

The index here is a small fake on 127.0.0.1 that answers uploads as it is told to; the
real pypiserver runs in tests/integration/test_publish_server.py.
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from condawheel.cli.main import main
from condawheel.exceptions import BadInputError
from condawheel.publishing.core import check_all, publish
from condawheel.publishing.target import PublishOptions
from demo_wheel import DIST_INFO, METADATA, NAME, WHEEL, write_wheel


def test_every_bad_wheel_is_named_at_once(tmp_path: Path) -> None:
    bad = write_wheel(tmp_path / NAME, {f"{DIST_INFO}/METADATA": METADATA.replace("demo", "x")})
    other = tmp_path / "other-1.0-py3-none-any.whl"
    other.write_bytes(b"not a zip")
    with pytest.raises(BadInputError) as caught:
        check_all([bad, other])
    message = str(caught.value)
    assert "METADATA names x" in message and "other-1.0-py3-none-any.whl" in message


def test_the_same_wheel_twice_is_one_and_two_different_ones_of_one_name_are_refused(
    tmp_path: Path,
) -> None:
    first = write_wheel(tmp_path / NAME)
    (tmp_path / "copy").mkdir()
    same = tmp_path / "copy" / NAME
    same.write_bytes(first.read_bytes())
    assert len(check_all([first, same])) == 1
    (tmp_path / "changed").mkdir()
    changed = write_wheel(tmp_path / "changed" / NAME, {"demo/more.py": "X = 1\n"})
    with pytest.raises(BadInputError, match="differ but have the same name"):
        check_all([first, changed])


# -- what the index answers ------------------------------------------------------------


@dataclass
class FakeIndex:
    """pypiserver's API in miniature: ``/simple/<name>/`` pages with sha256 fragments,
    ``/packages/<file>``, and uploads to ``/`` answered with ``upload`` (an HTTP status,
    "store" to keep the file, or "store-409" to keep it and still answer 409)."""

    url: str = ""
    files: dict[str, bytes] = field(default_factory=dict)
    upload: int | str = "store"
    forms: list[dict[str, str]] = field(default_factory=list)


@pytest.fixture
def index() -> Iterator[FakeIndex]:
    state = FakeIndex()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.startswith("/packages/"):
                body = state.files.get(self.path.removeprefix("/packages/"))
                self._answer(404 if body is None else 200, body or b"")
                return
            name = self.path.strip("/").removeprefix("simple/")
            links = [
                f'<a href="/packages/{f}#sha256={hashlib.sha256(d).hexdigest()}">{f}</a>'
                for f, d in state.files.items()
                if f.split("-")[0] == name
            ]
            self._answer(200 if links else 404, "".join(links).encode())

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            head = f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode()
            message = email.parser.BytesParser(policy=email.policy.default).parsebytes(head + body)
            form: dict[str, str] = {}
            for part in message.iter_parts():
                key = str(part.get_param("name", header="content-disposition"))
                payload = part.get_payload(decode=True)  # bytes for a non-multipart part
                assert isinstance(payload, bytes)
                if part.get_filename():
                    form["filename"] = str(part.get_filename())
                    content = payload
                else:
                    form[key] = payload.decode()
            state.forms.append(form)
            if state.upload in ("store", "store-409"):
                state.files[form["filename"]] = content
            status = 409 if state.upload == "store-409" else state.upload
            headers = {"Location": "https://elsewhere.example/"} if status == 301 else {}
            self._answer(200 if status == "store" else int(status), b"", headers)

        def _answer(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for key, value in {"Content-Length": str(len(body)), **(headers or {})}.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/"
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def _options(index: FakeIndex) -> PublishOptions:
    return PublishOptions(repository_url=index.url, use_keyring=False, timeout=10)


def test_upload_sends_the_metadata_twine_sends(tmp_path: Path, index: FakeIndex) -> None:
    extra = "requires-external: libanswer (>=1.0,<2.0a0)\n"
    wheel = write_wheel(tmp_path / NAME, {f"{DIST_INFO}/METADATA": METADATA + extra})
    (result,) = publish([wheel], _options(index))
    assert result.status == "uploaded" and result.url == f"{index.url}packages/{NAME}"
    assert index.files[NAME] == wheel.read_bytes()
    form = index.forms[0]
    assert form[":action"] == "file_upload" and form["filetype"] == "bdist_wheel"
    assert (form["name"], form["version"], form["pyversion"]) == ("demo", "1.0", "cp312")
    assert form["sha256_digest"] == hashlib.sha256(wheel.read_bytes()).hexdigest()
    assert form["requires_external"] == "libanswer (>=1.0,<2.0a0)"


def test_nothing_is_uploaded_when_one_wheel_conflicts(tmp_path: Path, index: FakeIndex) -> None:
    ours = write_wheel(tmp_path / NAME)
    index.files[NAME] = b"someone else's bytes"
    rebuilt = NAME.replace("3_abc", "4_abc")
    fresh = write_wheel(tmp_path / rebuilt, {f"{DIST_INFO}/WHEEL": WHEEL.replace("3_abc", "4_abc")})
    with pytest.raises(BadInputError, match="already holds a different file of that name"):
        publish([fresh, ours], _options(index))
    assert index.forms == []


def test_an_upload_that_races_with_an_identical_one_is_skipped(
    tmp_path: Path, index: FakeIndex
) -> None:
    index.upload = "store-409"
    (result,) = publish([write_wheel(tmp_path / NAME)], _options(index))
    assert result.status == "skipped-identical"


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (409, "says demo-1.0-3_abc-cp312-cp312-conda_linux_2_17_x86_64.whl already exists, but"),
        (405, "does not take uploads (HTTP 405"),
        (301, "redirects the upload to https://elsewhere.example/"),
        (401, "refused anonymous uploads (HTTP 401"),
        (500, "refused demo-1.0-3_abc-cp312-cp312-conda_linux_2_17_x86_64.whl (HTTP 500"),
    ],
)
def test_upload_answers_become_one_line(
    tmp_path: Path, index: FakeIndex, answer: int, expected: str
) -> None:
    index.upload = answer
    with pytest.raises(BadInputError) as caught:
        publish([write_wheel(tmp_path / NAME)], _options(index))
    assert expected in str(caught.value) and "\n" not in str(caught.value)


def test_an_index_that_does_not_list_the_upload_is_reported(
    tmp_path: Path, index: FakeIndex, caplog: pytest.LogCaptureFixture
) -> None:
    options = PublishOptions(
        repository_url=index.url, index_url=f"{index.url}elsewhere/", use_keyring=False
    )
    with caplog.at_level(logging.WARNING):
        (result,) = publish([write_wheel(tmp_path / NAME)], options)
    assert result.status == "uploaded" and result.url == index.url
    assert "does not list it; pass --index-url" in caplog.text


# -- the command ---------------------------------------------------------------------


def test_help_teaches_with_examples(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["publish", "--help"])
    text = capsys.readouterr().out
    assert "examples:" in text and "--repository-url" in text and "CONDAWHEEL_PASSWORD" in text


def test_a_missing_url_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["publish", str(write_wheel(tmp_path / NAME))]) == 2
    assert capsys.readouterr().err.strip().endswith("or repository-url in [tool.condawheel]")


def test_the_urls_may_come_from_pyproject(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.condawheel]\nrepository-url = "https://pypi.org/legacy/"\n'
    )
    monkeypatch.chdir(tmp_path)
    assert main(["publish", str(write_wheel(tmp_path / NAME))]) == 2
    assert "refusing to publish to PyPI (pypi.org)" in capsys.readouterr().err


def test_condawheel_variables_come_before_twine_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TWINE_REPOSITORY_URL", "ftp://twine/")
    assert main(["publish", str(write_wheel(tmp_path / NAME))]) == 2
    assert "'ftp://twine/'" in capsys.readouterr().err
    monkeypatch.setenv("CONDAWHEEL_REPOSITORY_URL", "ftp://condawheel/")
    assert main(["publish", str(write_wheel(tmp_path / NAME))]) == 2
    assert "'ftp://condawheel/'" in capsys.readouterr().err


def test_json_is_one_object_per_wheel(
    tmp_path: Path, index: FakeIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    wheel = write_wheel(tmp_path / NAME)
    args = ["publish", str(tmp_path), "--repository-url", index.url, "--no-keyring", "--json"]
    assert main(args) == 0
    assert main(args) == 0
    lines = capsys.readouterr().out.splitlines()
    objects = [json.loads(line) for line in lines]
    assert [o["status"] for o in objects] == ["uploaded", "skipped-identical"]
    assert objects[0] == {
        "wheel": str(wheel),
        "url": f"{index.url}packages/{NAME}",
        "status": "uploaded",
        "sha256": hashlib.sha256(wheel.read_bytes()).hexdigest(),
    }
