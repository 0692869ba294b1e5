"""Publishing to a static index and installing from it, end to end:

real conda packages from ``recipes-sample/`` (libanswer, a C library; pyanswer, a CPython
extension linking it; hello-noarch, noarch python) are converted into wheels, with a
small pure-Python wheel, answer-cli, that depends on pyanswer and hello-noarch.
`condawheel index` writes the static index; ``python -m http.server`` serves it on
127.0.0.1; then

- plain ``pip download`` finds the conda-tagged wheel there, when told the conda platform
  tag, through the PEP 658 metadata file (and refuses it when not told);
- `condawheel install NAME --index-url` installs into environments that py-rattler made
  from the channel (with the machine's CPython), dependencies and all, and leaves alone
  what is installed already.

pip's own configuration is set aside (``PIP_CONFIG_FILE`` is the null device), so that the
machine's mirrors and constraints play no part; nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import functools
import http.server
import io
import json
import platform
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from channel import convert_samples, create_environment, sample_channel
from clirun import one_line, run_cli
from compilers import requires_gcc
from condaenv import PY, add_python, add_record, make_env, run_python, site_packages, snapshot
from condawheel.publishing.static_index import JSON_CONTENT_TYPE
from servers import free_port, isolated_pip
from wheelmaker import make_wheel

pytestmark = [
    pytest.mark.skipif(sys.platform != "linux", reason="linux environments"),
    requires_gcc,
]

OTHER_ARCH = "aarch64" if platform.machine() == "x86_64" else "x86_64"
ANSWER_CLI = """\
import hello_noarch.cli
import pyanswer


def main():
    return pyanswer.answer()
"""


@pytest.fixture(scope="module", autouse=True)
def _pip_on_its_own() -> Iterator[None]:
    with isolated_pip():
        yield


@pytest.fixture(scope="module")
def channel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sample_channel(tmp_path_factory)


@pytest.fixture(scope="module")
def dist(channel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheels, and the static index `condawheel index` wrote for them."""
    dist = tmp_path_factory.mktemp("wheels")
    convert_samples(channel, dist)
    make_wheel(
        dist,
        "answer-cli",
        "0.1",
        requires_dist=["pyanswer>=1.0", 'hello-noarch>=1; python_version >= "3.9"'],
        requires_python=">=3.9",
        files={"answer_cli/__init__.py": ANSWER_CLI},
    )
    make_wheel(dist, "armonly", "1.0", tag=f"py3-none-conda_linux_2_17_{OTHER_ARCH}")
    make_wheel(dist, "needs-other-arch", "1.0", requires_dist=["armonly"])
    # the newest mid needs leaf>=2, whose only wheel needs a project the index lacks
    make_wheel(dist, "top", "1.0", requires_dist=["mid"])
    make_wheel(dist, "mid", "1.0", requires_dist=["leaf<2"])
    make_wheel(dist, "mid", "2.0", requires_dist=["leaf>=2"])
    make_wheel(dist, "leaf", "1.0")
    make_wheel(dist, "leaf", "2.0", requires_dist=["ghost"])
    # condadep is on the index, and conda's own in the environment of one test
    make_wheel(dist, "uses-condadep", "1.0", requires_dist=["condadep>=1"])
    make_wheel(dist, "condadep", "2.0")
    # what a noarch: generic package without Python content becomes
    zone = {"zonedata-2025.2.data/data/share/zoneinfo/UTC": "TZif2"}
    make_wheel(dist, "zonedata", "2025.2", tag="py3-none-conda_noarch", files=zone)
    done = run_cli(dist, "index", dist)
    assert done.returncode == 0, done.stderr
    return dist


@pytest.fixture(scope="module")
def server(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """``python -m http.server`` serving the folder: the index URL, and the server's log."""
    port = free_port()
    log = tmp_path_factory.mktemp("server") / "http.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)],
            cwd=dist,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"http.server did not start: {log.read_text()}") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/simple/", log
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wheel(dist: Path, name: str) -> Path:
    (wheel,) = dist.glob(f"{name}-*.whl")
    return wheel


def _environment(root: Path, channel: Path, specs: list[str]) -> Path:
    return add_python(create_environment(root / "env", channel, specs))


def _pip_download(url: str, dest: Path, *names: str) -> list[str]:
    return [
        *(sys.executable, "-m", "pip", "download", "--index-url", url),
        *("--only-binary=:all:", "--dest", str(dest), *names),
    ]


def _target(wheel: Path) -> list[str]:
    """pip's options for the environment the wheel is for, read from its actual tag."""
    python, abi, tag = wheel.name.removesuffix(".whl").split("-")[-3:]
    version = f"{python[2]}.{python[3:]}"
    return [
        *("--platform", tag, "--python-version", version),
        *("--implementation", "cp", "--abi", abi),
    ]


def test_pip_download_finds_the_conda_tagged_wheel(
    dist: Path, server: tuple[str, Path], tmp_path: Path
) -> None:
    url, log = server
    wheel = _wheel(dist, "pyanswer")
    target = _target(wheel)
    tag = target[target.index("--platform") + 1]
    assert tag.startswith("conda_linux_") and tag.endswith(f"_{platform.machine()}")
    command = _pip_download(url, tmp_path / "got", "pyanswer")

    done = subprocess.run([*command, *target], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    (got,) = (tmp_path / "got").iterdir()
    assert got.read_bytes() == wheel.read_bytes()  # the #sha256= of the link was checked
    served = log.read_text()
    assert f'"GET /{wheel.name}.metadata HTTP/1.1" 200' in served  # PEP 658

    # plain pip, for this machine's own tags, refuses it: that is what the tag is for
    plain = subprocess.run(command, capture_output=True, text=True, check=False)
    assert plain.returncode != 0
    assert "No matching distribution found for pyanswer" in plain.stderr


class _Negotiating(http.server.SimpleHTTPRequestHandler):
    """A host set up as `condawheel index --help` shows: a folder's URL gives its
    index.json to a client that accepts PEP 691's JSON, else its index.html."""

    served: ClassVar[list[tuple[str, str]]] = []

    def send_head(self) -> Any:
        page = Path(self.translate_path(self.path)) / "index.json"
        accepts = JSON_CONTENT_TYPE in self.headers.get("Accept", "")
        if self.path.endswith("/") and accepts and page.is_file():
            data = page.read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", JSON_CONTENT_TYPE)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.served.append((self.path, JSON_CONTENT_TYPE))
            return io.BytesIO(data)
        self.served.append((self.path, "file"))
        return super().send_head()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_pip_reads_the_json_pages(dist: Path, tmp_path: Path) -> None:
    handler = functools.partial(_Negotiating, directory=str(dist))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as httpd:
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        try:
            url = f"http://127.0.0.1:{httpd.server_address[1]}/simple/"
            wheel = _wheel(dist, "pyanswer")
            command = [*_pip_download(url, tmp_path, "pyanswer", "hello-noarch"), "--no-deps"]
            done = subprocess.run(
                [*command, *_target(wheel)], capture_output=True, text=True, check=False
            )
        finally:
            httpd.shutdown()
            thread.join()
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [wheel.name, _wheel(dist, "hello_noarch").name]
    )
    assert ("/simple/pyanswer/", JSON_CONTENT_TYPE) in _Negotiating.served
    assert (f"/{wheel.name}.metadata", "file") in _Negotiating.served  # core-metadata


def test_install_by_name_with_dependencies(
    channel: Path, dist: Path, server: tuple[str, Path], tmp_path: Path
) -> None:
    url, _ = server
    prefix = _environment(tmp_path, channel, ["libanswer"])
    before = snapshot(prefix)

    dry = run_cli(
        tmp_path, "install", "answer-cli", "--index-url", url, "--prefix", prefix, "--dry-run"
    )
    assert dry.returncode == 0, dry.stderr
    assert f"would install pyanswer 1.0.0 from {_wheel(dist, 'pyanswer').name}" in dry.stdout
    assert snapshot(prefix) == before

    done = run_cli(tmp_path, "install", "answer-cli", "-i", url, "--prefix", prefix, "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["installed"]
    fetched = [(f["name"], f["needed_by"]) for f in report["index"]["fetched"]]
    assert fetched == [
        ("answer-cli", None),
        ("hello-noarch", "answer-cli"),
        ("pyanswer", "answer-cli"),
    ]
    external = [c for c in report["checks"] if c["check"] == "requires-external"]
    assert [c["ok"] for c in external] == [True]  # pyanswer's libanswer: conda's

    run = run_python(
        prefix, "import answer_cli, pyanswer; print(answer_cli.main(), pyanswer.__file__)"
    )
    assert run.returncode == 0, run.stderr
    answer, module = run.stdout.split()
    assert answer == "42" and Path(module).is_relative_to(site_packages(prefix))
    hello = subprocess.run(
        [str(prefix / "bin" / "hello-noarch"), "index"], capture_output=True, text=True, check=False
    )
    assert hello.stdout == "Hello, index!\n", hello.stderr
    installer = site_packages(prefix) / "pyanswer-1.0.0.dist-info" / "INSTALLER"
    assert installer.read_text() == "condawheel\n"

    # again: everything is there, nothing is fetched or touched
    installed = snapshot(prefix)
    again = run_cli(tmp_path, "install", "answer-cli", "--index-url", url, "--prefix", prefix)
    assert again.returncode == 0, again.stderr
    assert again.stdout == (
        "requirement already satisfied: answer-cli (answer-cli 0.1 is installed)\n"
    )
    assert snapshot(prefix) == installed


def test_a_conda_noarch_wheel_installs_by_name(
    channel: Path, server: tuple[str, Path], tmp_path: Path
) -> None:
    url, _ = server
    prefix = _environment(tmp_path, channel, ["libanswer"])
    done = run_cli(tmp_path, "install", "zonedata", "--index-url", url, "--prefix", prefix)
    assert done.returncode == 0, done.stderr
    assert (prefix / "share" / "zoneinfo" / "UTC").read_text() == "TZif2"


def test_installed_dependencies_are_left_alone(
    channel: Path, dist: Path, server: tuple[str, Path], tmp_path: Path
) -> None:
    url, _ = server
    prefix = _environment(tmp_path, channel, ["libanswer"])
    # a wheel file, as before: no index needed
    first = run_cli(tmp_path, "install", _wheel(dist, "hello_noarch"), "--prefix", prefix)
    assert first.returncode == 0, first.stderr
    hello = {k: v for k, v in snapshot(prefix).items() if "hello" in k}

    done = run_cli(tmp_path, "install", "answer-cli", "--index-url", url, "--prefix", prefix)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == (
        "requirement already satisfied: hello-noarch>=1 "
        "(hello-noarch 1.0.0 is installed, needed by answer-cli)"
    )
    # each wheel says where it came from
    assert sorted(lines[1:]) == [
        f"installed answer-cli 0.1 into {prefix} from {url.removesuffix('simple/')}"
        "answer_cli-0.1-py3-none-any.whl",
        f"installed pyanswer 1.0.0 into {prefix} from {url.removesuffix('simple/')}"
        f"{_wheel(dist, 'pyanswer').name}",
    ]
    assert {k: v for k, v in snapshot(prefix).items() if "hello" in k} == hello


def test_pip_backtracks(server: tuple[str, Path], tmp_path: Path) -> None:
    url, _ = server
    prefix = make_env(tmp_path)
    # a wheel file takes part in the resolution too: pip reads what it needs from it
    app = make_wheel(tmp_path / "local", "app", "1.0", requires_dist=["leaf"])
    done = run_cli(tmp_path, "install", app, "top", "-i", url, "--prefix", prefix, "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    fetched = {f["name"]: (f["version"], f["needed_by"]) for f in report["index"]["fetched"]}
    # mid 2.0 is newer, but leads to a dead end: pip went back to mid 1.0 and leaf 1.0
    assert fetched == {
        "top": ("1.0", None),
        "mid": ("1.0", "top"),
        "leaf": ("1.0", fetched["leaf"][1]),
    }
    assert fetched["leaf"][1] in ("app", "mid")
    assert sorted(w["name"] for w in report["wheels"]) == ["app", "leaf", "mid", "top"]
    assert report["wheels"][0]["wheel"] == str(app)
    run = run_python(
        prefix,
        "import importlib.metadata as m, app, leaf, mid, top; "
        "print(*(m.version(n) for n in ('mid', 'leaf')))",
    )
    assert run.stdout.split() == ["1.0", "1.0"], run.stderr


def test_only_the_given_index_is_used(server: tuple[str, Path], tmp_path: Path) -> None:
    url, _ = server
    prefix = make_env(tmp_path)
    # a newer top (and leaf) where the user's pip settings look: never taken
    elsewhere = tmp_path / "elsewhere"
    make_wheel(elsewhere, "top", "9.0")
    make_wheel(elsewhere, "leaf", "9.0")
    config = tmp_path / "pip.conf"
    config.write_text(f"[global]\nextra-index-url = file://{elsewhere}\nfind-links = {elsewhere}\n")
    settings = {"PIP_CONFIG_FILE": str(config), "PIP_FIND_LINKS": str(elsewhere)}
    done = run_cli(tmp_path, "install", "top", "-i", url, "--prefix", prefix, env=settings)
    assert done.returncode == 0, done.stderr
    base = url.removesuffix("simple/")
    assert sorted(done.stdout.splitlines()) == [
        f"installed leaf 1.0 into {prefix} from {base}leaf-1.0-py3-none-any.whl",
        f"installed mid 1.0 into {prefix} from {base}mid-1.0-py3-none-any.whl",
        f"installed top 1.0 into {prefix} from {base}top-1.0-py3-none-any.whl",
    ]


def test_a_dependency_conda_installed_is_not_fetched(
    server: tuple[str, Path], tmp_path: Path
) -> None:
    url, log = server
    prefix = make_env(tmp_path)
    dist_info = f"lib/python{PY}/site-packages/condadep-1.5.dist-info"
    (prefix / dist_info).mkdir(parents=True)
    (prefix / dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: condadep\nVersion: 1.5\n"
    )
    (prefix / dist_info / "INSTALLER").write_text("conda\n")
    files = [f"{dist_info}/METADATA", f"{dist_info}/INSTALLER"]
    add_record(prefix, {"name": "condadep", "version": "1.5", "build": "py_0", "files": files})
    before = {k: v for k, v in snapshot(prefix).items() if "condadep-" in k}
    served = len(log.read_text())

    # --upgrade is for what is named: the index's condadep 2.0 is not taken
    done = run_cli(
        tmp_path, "install", "uses-condadep", "-U", "-i", url, "--prefix", prefix, "--json"
    )
    assert done.returncode == 0, done.stderr
    index = json.loads(done.stdout)["index"]
    assert [(f["name"], f["version"]) for f in index["fetched"]] == [("uses-condadep", "1.0")]
    assert index["satisfied"] == [
        {
            "name": "condadep",
            "version": "1.5",
            "requirement": "condadep>=1",
            "needed_by": "uses-condadep",
        }
    ]
    assert "condadep-2.0" not in log.read_text()[served:]  # neither its metadata nor wheel
    assert {
        k: v for k, v in snapshot(prefix).items() if "condadep-" in k and "uses" not in k
    } == before


def test_what_the_environment_lacks_is_reported(
    channel: Path, server: tuple[str, Path], tmp_path: Path
) -> None:
    url, _ = server
    prefix = _environment(tmp_path, channel, [])  # no libanswer
    before = snapshot(prefix)
    done = run_cli(tmp_path, "install", "pyanswer", "--index-url", url, "--prefix", prefix)
    assert done.returncode == 2
    line = one_line(done.stderr)
    assert "needs conda package libanswer >=1.0,<2.0a0 (not installed)" in line
    assert line.endswith(f'to fix: conda install -p {prefix} "libanswer >=1.0,<2.0a0"')
    assert snapshot(prefix) == before


def test_index_errors_are_one_line(
    server: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = server
    prefix = make_env(tmp_path)
    before = snapshot(prefix)

    def refused(*args: str) -> str:
        done = run_cli(tmp_path, "install", *args, "--prefix", prefix)
        assert done.returncode == 2, done.stdout
        return one_line(done.stderr)

    assert refused("nosuch", "--index-url", url) == (
        f"condawheel: error: nosuch is not on {url} ({url}nosuch/ was not found); "
        "check the name and the index URL"
    )
    line = refused("pyanswer>=2", "--index-url", url)
    assert f"no wheel of pyanswer>=2 on {url} fits this environment" in line
    assert "versions for this environment: 1.0.0" in line

    # the dependency is on the index, for another machine only
    line = refused("needs-other-arch", "--index-url", url)
    assert f"no wheel of armonly on {url} fits this environment" in line
    assert f"the index has wheels of it for py3-none-conda_linux_2_17_{OTHER_ARCH}" in line
    assert line.endswith("(needed: armonly by needs-other-arch)")

    line = refused("mid>=2", "leaf<2", "--index-url", url)
    assert line.startswith("condawheel: error: cannot install ")
    assert "mid 2.0 depends on leaf>=2" in line

    monkeypatch.setenv("PIP_RETRIES", "0")  # a refused connection is retried otherwise
    closed = f"http://127.0.0.1:{free_port()}/simple/"
    assert refused("pyanswer", "--index-url", closed) == (
        f"condawheel: error: cannot reach the index at {closed}pyanswer/: Connection refused; "
        "check the URL and that the server is up"
    )
    assert "not an http(s):// or file:// URL" in refused(
        "pyanswer", "--index-url", "127.0.0.1/simple"
    )
    assert "give --index-url URL" in refused("pyanswer")
    assert snapshot(prefix) == before
