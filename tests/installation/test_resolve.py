"""What an install from an index takes from pip's resolution: the ``pip install --dry-run
--report`` command, its report read, exactly those wheels fetched, and what the
environment (described, not real) already had. pip is replaced by a fake that writes
the report and saves the wheels; tests/integration/test_index_install.py runs the real
one against a served index."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement

from condawheel.exceptions import BadInputError
from condawheel.installation.download import IndexOptions
from condawheel.installation.environment import CondaEnvironment
from condawheel.installation.interpreter import Distribution, Interpreter
from condawheel.installation.resolve import (
    MIN_PIP,
    parse_requirement,
    read_report,
    report_command,
    resolve,
    split_targets,
)
from paths import REPO
from wheelmaker import make_wheel

INDEX = IndexOptions(index_url="http://127.0.0.1:8000/simple/")
MARKERS = {
    "implementation_name": "cpython",
    "implementation_version": "3.13.1",
    "os_name": "posix",
    "platform_machine": "x86_64",
    "platform_release": "6.1.0",
    "platform_system": "Linux",
    "platform_version": "#1 SMP",
    "python_full_version": "3.13.1",
    "platform_python_implementation": "CPython",
    "python_version": "3.13",
    "sys_platform": "linux",
}


def _environment(tmp_path: Path, installed: dict[str, str] | None = None) -> CondaEnvironment:
    """An environment whose interpreter is CPython 3.13 (not the one running the tests)."""
    site = tmp_path / "env" / "lib" / "python3.13" / "site-packages"
    interpreter = Interpreter(
        executable=tmp_path / "env" / "bin" / "python",
        version=(3, 13, 1),
        implementation="cpython",
        abiflags="",
        free_threading=False,
        in_venv=False,
        paths={"purelib": site, "platlib": site},
        distributions=tuple(
            Distribution(
                name=name,
                version=version,
                path=site / f"{name}-{version}.dist-info",
                installer="conda",
            )
            for name, version in (installed or {}).items()
        ),
        markers=MARKERS,
    )
    return CondaEnvironment(
        prefix=tmp_path / "env",
        records=(),
        interpreter=interpreter,
        subdir="linux-64",
        glibc=(2, 17),
        macos=None,
        externally_managed=None,
    )


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _values(command: Sequence[str], option: str) -> list[str]:
    return [command[i + 1] for i, part in enumerate(command) if part == option]


class FakePip:
    """Stands in for pip: ``install --dry-run --report`` writes the report given, and
    ``download`` saves the pinned wheels from the pool."""

    def __init__(self, pool: Path) -> None:
        self.pool = pool
        self.wheels: dict[str, Path] = {}
        self.install: list[dict[str, Any]] = []
        self.commands: list[list[str]] = []
        self.environ: list[dict[str, str] | None] = []
        self.pins: list[str] = []

    def add(
        self,
        name: str,
        version: str,
        *requires: str,
        requested: bool = False,
        extras: Sequence[str] = (),
        given: Path | None = None,
    ) -> Path:
        """A wheel on the index (or ``given`` on the command line), and pip choosing it."""
        wheel = given or make_wheel(self.pool, name, version, requires_dist=requires)
        self.wheels[name] = wheel
        entry: dict[str, Any] = {
            "download_info": {
                "url": wheel.absolute().as_uri()
                if given
                else f"http://127.0.0.1:8000/{wheel.name}",
                "archive_info": {"hashes": {"sha256": _sha256(wheel)}},
            },
            "is_direct": given is not None,
            "requested": requested,
            "metadata": {"metadata_version": "2.1", "name": name, "version": version},
        }
        if requires:
            entry["metadata"]["requires_dist"] = list(requires)
        if extras:
            entry["requested_extras"] = list(extras)
        self.install.append(entry)
        return wheel

    def __call__(self, command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        self.commands.append(command)
        self.environ.append(kwargs.get("env"))
        if "install" in command:
            report = {"version": "1", "pip_version": "26.0", "install": self.install}
            Path(_values(command, "--report")[0]).write_text(json.dumps(report))
        else:
            self.pins = Path(_values(command, "--requirement")[0]).read_text().splitlines()
            dest = Path(_values(command, "--dest")[0])
            for line in self.pins:
                shutil.copy(self.wheels[line.split("==")[0]], dest)
        return subprocess.CompletedProcess(command, 0, "", "")


@pytest.fixture
def pip(tmp_path: Path) -> FakePip:
    return FakePip(tmp_path / "pool")


def test_pip_resolves_for_the_environments_interpreter(tmp_path: Path) -> None:
    environment = _environment(tmp_path)
    wheel = Path("dist/mine-1.0-py3-none-any.whl")
    report = tmp_path / "report.json"
    command = report_command(["foo>=1", "bar[x]"], [wheel], environment, INDEX, report)
    assert command[:6] == [
        sys.executable,
        "-m",
        "pip",
        "--python",
        str(tmp_path / "env" / "bin" / "python"),
        "install",
    ]
    assert {"--dry-run", "--only-binary=:all:"} <= set(command)
    assert _values(command, "--report") == [str(report)]
    assert _values(command, "--python-version") == ["3.13.1"]
    assert _values(command, "--platform")[0] == "conda_linux_2_17_x86_64"
    assert command[-3:] == [str(wheel.absolute()), "foo>=1", "bar[x]"]
    assert "--upgrade" not in command and "--no-deps" not in command

    upgrading = report_command(["foo"], [], environment, INDEX, report, upgrade=True, no_deps=True)
    assert _values(upgrading, "--upgrade-strategy") == ["only-if-needed"]
    assert {"--upgrade", "--no-deps"} <= set(upgrading)


def test_the_wheels_pip_chose_are_fetched(pip: FakePip, tmp_path: Path) -> None:
    pip.add("app", "1.0", "lib>=1", "numpy>=1.20", requested=True)
    pip.add("lib", "1.5", "leaf")
    pip.add("leaf", "0.3")
    environment = _environment(tmp_path, {"numpy": "1.26.4"})
    result = resolve(["app"], [], environment, INDEX, tmp_path / "work", run=pip)

    install, download = pip.commands
    assert "install" in install and "download" in download
    assert pip.environ[0] is not None and pip.environ[0]["PYTHONNOUSERSITE"] == "1"
    # exactly what pip resolved, each with the hash of the file it resolved with
    assert pip.pins == [
        f"{name}=={version} --hash=sha256:{_sha256(pip.wheels[name])}"
        for name, version in (("app", "1.0"), ("lib", "1.5"), ("leaf", "0.3"))
    ]
    assert [w.name for w in result.wheels] == [
        "app-1.0-py3-none-any.whl",
        "leaf-0.3-py3-none-any.whl",
        "lib-1.5-py3-none-any.whl",
    ]
    assert all(w.is_relative_to(tmp_path / "work") for w in result.wheels)
    assert [(f.name, f.version, f.needed_by) for f in result.fetched] == [
        ("app", "1.0", ""),
        ("leaf", "0.3", "lib"),
        ("lib", "1.5", "app"),
    ]
    assert result.fetched[0].sha256 == _sha256(pip.wheels["app"])
    assert result.fetched[0].url == "http://127.0.0.1:8000/app-1.0-py3-none-any.whl"
    # conda's numpy met app's requirement: pip left it out of the report
    (numpy,) = result.satisfied
    assert (numpy.name, numpy.version, numpy.requirement, numpy.needed_by) == (
        "numpy",
        "1.26.4",
        "numpy>=1.20",
        "app",
    )


def test_markers_and_extras_are_the_environments(pip: FakePip, tmp_path: Path) -> None:
    pip.add(
        "app",
        "1.0",
        'click>=8; extra == "cli"',
        'old; python_version < "3.13"',
        'rich; extra == "fancy"',
        requested=True,
        extras=["cli"],
    )
    environment = _environment(tmp_path, {"click": "8.1", "old": "1.0", "rich": "13"})
    result = resolve(["app[cli]"], [], environment, INDEX, tmp_path / "work", run=pip)
    assert [(s.name, s.requirement, s.needed_by) for s in result.satisfied] == [
        ("click", "click>=8", "app")
    ]


def test_extras_asked_by_a_dependency(pip: FakePip, tmp_path: Path) -> None:
    pip.add("app", "1.0", "lib[fast]", requested=True)
    pip.add("lib", "1.0", 'speedup>=2; extra == "fast"')
    environment = _environment(tmp_path, {"speedup": "2.1"})
    result = resolve(["app"], [], environment, INDEX, tmp_path / "work", run=pip)
    assert [(s.name, s.needed_by) for s in result.satisfied] == [("speedup", "lib")]


def test_nothing_to_fetch(pip: FakePip, tmp_path: Path) -> None:
    environment = _environment(tmp_path, {"App": "0.9"})
    result = resolve(
        ["app>=0.5", 'win-only; sys_platform == "win32"'],
        [],
        environment,
        INDEX,
        tmp_path / "work",
        run=pip,
    )
    assert len(pip.commands) == 1  # no download
    assert result.wheels == () and result.fetched == ()
    assert [(s.name, s.version, s.requirement, s.needed_by) for s in result.satisfied] == [
        ("App", "0.9", "app>=0.5", "")
    ]


def test_given_wheels_take_part_and_are_not_downloaded(pip: FakePip, tmp_path: Path) -> None:
    local = make_wheel(tmp_path / "dist", "mine", "0.1", requires_dist=["lib>=1"])
    pip.add("mine", "0.1", "lib>=1", requested=True, given=local)
    pip.add("lib", "1.0")
    result = resolve([], [local], _environment(tmp_path), INDEX, tmp_path / "work", run=pip)
    assert str(local.absolute()) in pip.commands[0]
    assert pip.pins == [f"lib==1.0 --hash=sha256:{_sha256(pip.wheels['lib'])}"]
    assert result.wheels[0] == local
    assert [(f.name, f.needed_by) for f in result.fetched] == [("lib", "mine")]

    with pytest.raises(BadInputError, match="no such file"):
        resolve(
            [],
            [tmp_path / "gone-1.0-py3-none-any.whl"],
            _environment(tmp_path),
            INDEX,
            tmp_path / "again",
            run=pip,
        )


def test_a_failure_of_pip_is_one_line(tmp_path: Path) -> None:
    def failing(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(
            command,
            1,
            "",
            "ERROR: Cannot install a==1.0 and b==1.0 because these package versions have "
            "conflicting dependencies.\n\nThe conflict is caused by:\n"
            "    a 1.0 depends on lib>=2\n    b 1.0 depends on lib<2\n\n"
            "ERROR: ResolutionImpossible: for help visit https://pip.pypa.io/\n",
        )

    with pytest.raises(BadInputError) as failed:
        resolve(["a", "b"], [], _environment(tmp_path), INDEX, tmp_path / "work", run=failing)
    assert str(failed.value) == (
        "cannot install a==1.0 and b==1.0: a 1.0 depends on lib>=2; b 1.0 depends on lib<2; "
        "loosen the versions you ask for, or install versions that fit together"
    )


@pytest.mark.parametrize("version", ["23.2.1", "22.3"])
def test_a_pip_too_old_to_resolve_for_the_environment_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, version: str
) -> None:
    """pip 23.2.1 (what `python3.11 -m venv` seeds) refuses --platform with --dry-run."""
    real = importlib.metadata.version
    monkeypatch.setattr(
        importlib.metadata, "version", lambda name: version if name == "pip" else real(name)
    )

    def never(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        raise AssertionError("pip ran")

    with pytest.raises(BadInputError) as failed:
        resolve(["a"], [], _environment(tmp_path), INDEX, tmp_path / "work", run=never)
    assert str(failed.value) == (
        f"installing by name needs pip 23.3 or newer beside condawheel, which has pip "
        f"{version}: {sys.executable} -m pip install 'pip>=23.3'"
    )


def test_the_declared_pip_floor_is_the_one_checked() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    pips = [Requirement(r) for r in project["project"]["dependencies"] if r.startswith("pip")]
    assert [str(r.specifier) for r in pips] == [f">={MIN_PIP}"]


def test_read_report(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    older = {  # pip before 23 gave one "hash" and no "hashes"
        "download_info": {"url": "u", "archive_info": {"hash": "sha256=ab12"}},
        "requested": True,
        "metadata": {"name": "Foo", "version": "1"},
    }
    report.write_text(json.dumps({"version": "1", "install": [older]}))
    (item,) = read_report(report)
    assert (item.key, item.sha256, item.requires_dist, item.extras) == ("foo", "ab12", (), ())

    report.write_text(json.dumps({"version": "1", "install": [{"metadata": {}}]}))
    with pytest.raises(BadInputError, match="pip wrote no readable installation report"):
        read_report(report)
    with pytest.raises(BadInputError, match="pip wrote no readable installation report"):
        read_report(tmp_path / "none.json")


def test_split_targets(tmp_path: Path) -> None:
    odd = tmp_path / "odd file"
    odd.write_text("")
    wheels, requirements = split_targets(
        ["dist/foo-1.0-py3-none-any.whl", "bar>=1", "baz[x]", "Q.WHL", str(odd)]
    )
    assert wheels == [Path("dist/foo-1.0-py3-none-any.whl"), Path("Q.WHL"), odd]
    assert requirements == ["bar>=1", "baz[x]"]
    with pytest.raises(BadInputError) as failed:
        split_targets(["foo>="])
    assert "'foo>=' is neither a wheel file nor a requirement" in str(failed.value)
    assert "\n" not in str(failed.value)


def test_direct_references_are_refused() -> None:
    with pytest.raises(BadInputError, match="give its path instead"):
        split_targets(["foo @ git+https://example.org/foo.git"])
    assert str(parse_requirement("foo>=1; python_version>'3'").specifier) == ">=1"
