"""The pip commands run for a conda environment, the `pip download` of exactly the
wheels resolved, and pip's failures told in one line. The index itself is exercised in
tests/integration/test_index_install.py; the pip output here is what pip printed there,
cut down."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from condawheel.exceptions import BadInputError, ConfigurationError
from condawheel.installation.download import (
    IndexOptions,
    Pin,
    check_index_url,
    common_options,
    download,
    download_command,
    explain_failure,
    isolated_environ,
)
from condawheel.installation.environment import CondaEnvironment
from condawheel.installation.interpreter import Interpreter
from wheelmaker import make_wheel

INDEX = IndexOptions(index_url="http://127.0.0.1:8000/simple/")


def _environment(tmp_path: Path, **interpreter: Any) -> CondaEnvironment:
    python = Interpreter(
        executable=tmp_path / "bin" / "python",
        version=(3, 13, 1),
        implementation="cpython",
        abiflags="",
        free_threading=False,
        in_venv=False,
        paths={},
        distributions=(),
        markers={},
    )
    return CondaEnvironment(
        prefix=tmp_path,
        records=(),
        interpreter=replace(python, **interpreter),
        subdir="linux-64",
        glibc=(2, 28),
        macos=None,
        externally_managed=None,
    )


def _values(command: list[str], option: str) -> list[str]:
    return [command[i + 1] for i, part in enumerate(command) if part == option]


def test_command_describes_the_environment_not_the_running_python(tmp_path: Path) -> None:
    index = IndexOptions(index_url=INDEX.index_url, extra_index_urls=("https://pypi.org/simple/",))
    pins = tmp_path / "pins.txt"
    command = download_command(pins, _environment(tmp_path), index, tmp_path / "d")
    assert command[:4] == [sys.executable, "-m", "pip", "download"]
    assert {"--only-binary=:all:", "--no-deps", "-vv"} <= set(command)
    assert _values(command, "--implementation") == ["cp"]
    assert _values(command, "--python-version") == ["3.13.1"]
    assert _values(command, "--abi") == ["cp313"]
    platforms = _values(command, "--platform")
    # every glibc floor up to the system's, best first; no manylinux, which install refuses
    linux = [f"conda_linux_2_{minor}_x86_64" for minor in range(28, -1, -1)]
    assert platforms == [*linux, "conda_noarch"]
    assert _values(command, "--index-url") == [INDEX.index_url]
    assert _values(command, "--extra-index-url") == ["https://pypi.org/simple/"]
    assert _values(command, "--dest") == [str(tmp_path / "d")]
    assert _values(command, "--requirement") == [str(pins)]

    threaded = common_options(_environment(tmp_path, free_threading=True), INDEX)
    assert _values(threaded, "--abi") == ["cp313t"]
    with pytest.raises(BadInputError, match="needs a CPython environment"):
        common_options(_environment(tmp_path, implementation="pypy"), INDEX)


def test_index_urls() -> None:
    assert check_index_url("https://pypi.internal.example/simple/")
    assert check_index_url("file:///srv/wheels/simple/")
    for bad in ("pypi.internal.example/simple", "ftp://host/simple/", "http:///simple/"):
        with pytest.raises(ConfigurationError, match="not an http"):
            check_index_url(bad)


NO_VERSION = (
    "ERROR: Could not find a version that satisfies the requirement {req} (from versions: "
    "{versions})\nERROR: No matching distribution found for {req}\n"
)


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        (
            "Could not fetch URL http://127.0.0.1:9/simple/foo/: connection error: "
            "[Errno 111] Connection refused - skipping\n",
            "cannot reach the index at http://127.0.0.1:9/simple/foo/: Connection refused; "
            "check the URL and that the server is up",
        ),
        (
            "Could not fetch URL http://127.0.0.1:8000/simple/foo/: 404 Client Error: File "
            "not found for url: http://127.0.0.1:8000/simple/foo/ - skipping\n",
            "foo is not on http://127.0.0.1:8000/simple/ (http://127.0.0.1:8000/simple/foo/ "
            "was not found); check the name and the index URL",
        ),
        (
            "Could not fetch URL http://127.0.0.1:8000/simple/foo/: 401 Client Error: "
            "Unauthorized - skipping\n",
            "the index refused http://127.0.0.1:8000/simple/foo/ (401 Client Error: Unauthorized)",
        ),
        (
            "  Skipping link: none of the wheel's tags (cp312-cp312-conda_linux_2_17_aarch64) "
            "are compatible (run pip debug --verbose to show compatible tags): "
            "http://127.0.0.1:8000/foo-1.0-cp312-cp312-conda_linux_2_17_aarch64.whl "
            "(from http://127.0.0.1:8000/simple/foo/)\n"
            "  Skipping link: none of the wheel's tags (cp312-cp312-conda_linux_2_17_x86_64) "
            "are compatible (run pip debug --verbose to show compatible tags): "
            "http://127.0.0.1:8000/bar-1.0-cp312-cp312-conda_linux_2_17_x86_64.whl "
            "(from http://127.0.0.1:8000/simple/bar/)\n",
            "no wheel of foo on http://127.0.0.1:8000/simple/ fits this environment "
            "(CPython 3.13, conda_linux_2_28_x86_64 ... conda_linux_2_0_x86_64, conda_noarch "
            "or any): "
            "the index has wheels of it for cp312-cp312-conda_linux_2_17_aarch64;",
        ),
        (
            "Link requires a different Python (3.13.1 not in: '>=3.14'): "
            "http://127.0.0.1:8000/foo-2.0-py3-none-any.whl (from "
            "http://127.0.0.1:8000/simple/foo/) (requires-python:>=3.14)\n",
            "its wheels need Python >=3.14;",
        ),
    ],
)
def test_failures_in_one_line(tmp_path: Path, output: str, expected: str) -> None:
    message = explain_failure(
        output + NO_VERSION.format(req="foo", versions="none"),
        ["foo"],
        _environment(tmp_path),
        INDEX,
    )
    assert expected in message
    assert "\n" not in message


def test_other_failures(tmp_path: Path) -> None:
    environment = _environment(tmp_path)
    fitting = explain_failure(
        NO_VERSION.format(req="foo>=2", versions="1.0, 1.1"), ["foo>=2"], environment, INDEX
    )
    assert "no wheel of foo>=2 on http://127.0.0.1:8000/simple/" in fitting
    assert "versions for this environment: 1.0, 1.1" in fitting
    assert f"{tmp_path}/bin/python -m pip first" in fitting

    untrusted = explain_failure(
        "WARNING: The repository located at wheels.example is not a trusted or secure host "
        "and is being ignored.\n" + NO_VERSION.format(req="foo", versions="none"),
        ["foo"],
        environment,
        IndexOptions(index_url="http://wheels.example/simple/"),
    )
    assert "PIP_TRUSTED_HOST=wheels.example" in untrusted

    no_pip = explain_failure("/usr/bin/python: No module named pip\n", ["foo"], environment, INDEX)
    assert "-m ensurepip" in no_pip

    other = explain_failure(
        "Collecting foo\nERROR: THESE PACKAGES DO NOT MATCH THE HASHES\n",
        ["foo"],
        environment,
        INDEX,
    )
    assert other == (
        "pip could not download foo from http://127.0.0.1:8000/simple/: "
        "THESE PACKAGES DO NOT MATCH THE HASHES"
    )


class FakeDownload:
    """Stands in for ``pip download``: saves the named wheels, and remembers what it read."""

    def __init__(self, wheels: dict[str, Path], returncode: int = 0, stdout: str = "") -> None:
        self.wheels = wheels
        self.returncode = returncode
        self.stdout = stdout
        self.pins: list[str] = []

    def __call__(self, command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        self.pins = Path(_values(command, "--requirement")[0]).read_text().splitlines()
        if self.returncode:
            return subprocess.CompletedProcess(
                command, self.returncode, self.stdout, NO_VERSION.format(req="foo", versions="none")
            )
        dest = Path(_values(command, "--dest")[0])
        for line in self.pins:
            shutil.copy(self.wheels[line.split("==")[0]], dest)
        return subprocess.CompletedProcess(command, 0, "Saved ...\n", "")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_download_fetches_exactly_the_pins(tmp_path: Path) -> None:
    foo = make_wheel(tmp_path / "pool", "foo", "1.0")
    bar = make_wheel(tmp_path / "pool", "Bar.Baz", "2.0")
    pip = FakeDownload({"foo": foo, "Bar.Baz": bar})
    pins = [
        Pin(name="foo", version="1.0", sha256=_sha256(foo)),
        Pin(name="Bar.Baz", version="2.0", sha256=_sha256(bar)),
    ]
    dest = tmp_path / "dest"
    found = download(pins, dest, environment=_environment(tmp_path), index=INDEX, run=pip)
    assert found == {"foo": dest / foo.name, "bar-baz": dest / bar.name}
    # hash-checking mode: pip takes the file of that hash, or none
    assert pip.pins == [
        f"foo==1.0 --hash=sha256:{_sha256(foo)}",
        f"Bar.Baz==2.0 --hash=sha256:{_sha256(bar)}",
    ]

    # one hash unknown (an index that gives none): no hash-checking mode, the rest checked here
    pins[1] = Pin(name="Bar.Baz", version="2.0")
    again = download(
        pins, tmp_path / "again", environment=_environment(tmp_path), index=INDEX, run=pip
    )
    assert pip.pins == ["foo==1.0", "Bar.Baz==2.0"]
    assert set(again) == {"foo", "bar-baz"}


def test_a_download_that_is_not_what_was_resolved_is_refused(tmp_path: Path) -> None:
    foo = make_wheel(tmp_path / "pool", "foo", "1.0")
    pin = Pin(name="foo", version="1.0", sha256="0" * 64)
    with pytest.raises(BadInputError) as failed:
        download(
            [pin],
            tmp_path / "d",
            environment=_environment(tmp_path),
            index=INDEX,
            run=FakeDownload({"foo": foo}),
        )
    assert "foo-1.0-py3-none-any.whl from the index does not have the sha256" in str(failed.value)
    assert "\n" not in str(failed.value)

    with pytest.raises(BadInputError, match=r"pip downloaded no wheel for foo==1\.0"):
        download(
            [pin],
            tmp_path / "e",
            environment=_environment(tmp_path),
            index=INDEX,
            run=lambda command, **kwargs: subprocess.CompletedProcess(command, 0, "", ""),
        )


CONFLICT = (
    "Collecting mid>=2\n"
    "ERROR: Cannot install leaf<2 and mid==2.0 because these package versions have "
    "conflicting dependencies.\n"
    "\n"
    "The conflict is caused by:\n"
    "    The user requested leaf<2\n"
    "    mid 2.0 depends on leaf>=2\n"
    "\n"
    "Additionally, some packages in these conflicts have no matching distributions "
    "available for your environment:\n"
    "    leaf\n"
    "\n"
    "To fix this you could try to:\n"
    "1. loosen the range of package versions you've specified\n"
    "2. remove package versions to allow pip to attempt to solve the dependency conflict\n"
    "\n"
    "ERROR: ResolutionImpossible: for help visit https://pip.pypa.io/en/latest/topics/\n"
)


def test_resolution_failures_in_one_line(tmp_path: Path) -> None:
    environment = _environment(tmp_path)
    clash = explain_failure(CONFLICT, ["mid>=2", "leaf<2"], environment, INDEX, "resolve")
    assert clash == (
        "cannot install leaf<2 and mid==2.0: you asked for leaf<2; mid 2.0 depends on "
        "leaf>=2 (no wheel of leaf on the index meets all of these); loosen the versions you "
        "ask for, or install versions that fit together"
    )

    # a dependency pip could not find: who needed it
    missing = explain_failure(
        "    leaf 2.0 depends on ghost\n"
        "Could not fetch URL http://127.0.0.1:8000/simple/ghost/: 404 Client Error: File "
        "not found for url: http://127.0.0.1:8000/simple/ghost/ - skipping\n"
        "ERROR: Could not find a version that satisfies the requirement ghost (from leaf) "
        "(from versions: none)\n",
        ["leaf"],
        environment,
        INDEX,
        "resolve",
    )
    assert missing == (
        "ghost is not on http://127.0.0.1:8000/simple/ (http://127.0.0.1:8000/simple/ghost/ "
        "was not found); check the name and the index URL (needed: ghost by leaf)"
    )

    wheel = "foo-1.0-py3-none-conda_linux_2_17_aarch64.whl"
    unsupported = explain_failure(
        f"ERROR: {wheel} is not a supported wheel on this platform.\n",
        [wheel],
        environment,
        INDEX,
        "resolve",
    )
    assert unsupported.startswith(f"{wheel} does not fit this environment (CPython 3.13, ")

    old = explain_failure(
        "Usage: ...\n\nno such option: --python\n", ["foo"], environment, INDEX, "resolve"
    )
    assert "needs pip 23 or later" in old


def test_pip_sees_what_the_probe_sees_and_only_the_given_indexes() -> None:
    environ = isolated_environ(
        {
            "PYTHONPATH": "/elsewhere",
            "PIP_INDEX_URL": "x",
            "PIP_EXTRA_INDEX_URL": "https://elsewhere.example/simple/",
            "PIP_FIND_LINKS": "/opt/wheels",
            "PIP_CONFIG_FILE": "/etc/pip.conf",
            "PIP_CERT": "/etc/ssl/ca.pem",
            "HOME": "/h",
        }
    )
    assert environ == {
        "PIP_CONFIG_FILE": os.devnull,  # its extra-index-url and find-links are not for us
        "PIP_CERT": "/etc/ssl/ca.pem",  # pip's other settings apply
        "HOME": "/h",
        "PYTHONNOUSERSITE": "1",
        "PIP_REQUIRE_VIRTUALENV": "0",
    }


def test_a_failed_download_is_one_line(tmp_path: Path) -> None:
    # pip logs at debug level on stdout, and its errors on stderr
    pip = FakeDownload(
        {},
        returncode=1,
        stdout="Could not fetch URL http://127.0.0.1:9/simple/foo/: connection error: "
        "[Errno 111] Connection refused - skipping\n",
    )
    with pytest.raises(BadInputError, match="cannot reach the index") as failed:
        download(
            [Pin(name="foo", version="1.0")],
            tmp_path / "d",
            environment=_environment(tmp_path),
            index=INDEX,
            run=pip,
        )
    assert failed.value.exit_code == 2
