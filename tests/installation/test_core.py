"""`condawheel install`: wheels converted from packages built in code, installed into
conda-like environments (a venv of the machine's CPython plus `conda-meta/`)."""

from __future__ import annotations

import csv
import io
import json
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
import rattler

from builders import PREFIX_PLACEHOLDER, CondaPackageBuilder
from clirun import run_cli
from condaenv import (
    PY,
    add_record,
    files_only,
    make_env,
    pip_uninstall,
    run_python,
    site_packages,
    snapshot,
)
from condawheel.conversion.core import convert
from condawheel.exceptions import BadInputError
from condawheel.installation.core import InstallOptions, InstallResult, install, plan_install
from condawheel.installation.environment import CondaEnvironment
from condawheel.wheel.prefix import replace_in_file
from wheelmaker import record_hash

CP = f"cp{sys.version_info.major}{sys.version_info.minor}"
MACHINE = platform.machine()
OTHER_MACHINE = "aarch64" if MACHINE == "x86_64" else "x86_64"
OTHER_SUBDIR = {"aarch64": "linux-aarch64", "x86_64": "linux-64"}[OTHER_MACHINE]
HOST_SUBDIR = str(rattler.Subdir.current())

LIBZLIB = {
    "name": "libzlib",
    "version": "1.3.1",
    "build": "hb9d3cd8_2",
    "build_number": 2,
    "subdir": str(rattler.Subdir.current()),
    "files": ["lib/libz.so.1", "lib/libz.so.1.3.1"],
}

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the test environments are linux")


def _hello(version: str, *, extra_module: bool) -> CondaPackageBuilder:
    builder = CondaPackageBuilder(
        name="hello-py",
        version=version,
        build="pyh4616a5c_0",
        noarch="python",
        depends=["python >=3.9"],
        license="MIT",
    )
    builder.add_file(
        "site-packages/hello_py/__init__.py",
        f"VERSION = {version!r}\n\ndef main():\n    print('hello', VERSION)\n",
    )
    if extra_module:
        builder.add_file("site-packages/hello_py/old.py", "GONE_IN_2 = True\n")
    builder.add_entry_points(["hello = hello_py:main"])
    return builder


def _confdata() -> CondaPackageBuilder:
    builder = CondaPackageBuilder(name="confdata", version="0.3", build="h1234567_0")
    builder.add_file(
        "etc/confdata/conf.txt",
        f"prefix={PREFIX_PLACEHOLDER}\nlib={PREFIX_PLACEHOLDER}/lib\n",
        prefix_placeholder=PREFIX_PLACEHOLDER,
    )
    builder.add_file(
        "share/confdata/blob.bin",
        b"\x7fBIN\0" + PREFIX_PLACEHOLDER.encode() + b"/share/confdata\0\x01\x02tail",
        prefix_placeholder=PREFIX_PLACEHOLDER,
        file_mode="binary",
    )
    builder.add_file("share/confdata/plain.txt", "no prefix here\n")
    return builder


def _needs(name: str, depends: Sequence[str]) -> CondaPackageBuilder:
    module = name.replace("-", "_")
    builder = CondaPackageBuilder(
        name=name, version="1.0", build="pyh_0", noarch="python", depends=["python >=3.9", *depends]
    )
    builder.add_file(f"site-packages/{module}/__init__.py", "X = 1\n")
    return builder


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("wheels")
    builders = {
        "hello1": _hello("1.0", extra_module=True),
        "hello2": _hello("2.0", extra_module=False),
        "confdata": _confdata(),
        "zlib-user": _needs("zlib-user", ["libzlib >=1.3.1,<2.0a0"]),
        "requests-user": _needs("requests-user", ["requests >=2"]),
        "hello-user": _needs("hello-user", ["hello-py >=1"]),
        "with-extras": _needs("with-extras", []).add_dist_info(
            "with-extras",
            "1.0",
            metadata_extra='Requires-Dist: sphinx>=7; extra == "docs"\n'
            'Requires-Dist: ancient-thing; python_version < "3"',
        ),
        "confdata-copy": CondaPackageBuilder(name="confcopy", version="1.0", build="h0_0").add_file(
            "share/confdata/plain.txt", "the same path as confdata's\n"
        ),
        "zonedata": CondaPackageBuilder(
            name="zonedata", version="2025.2", build="h0_0", noarch="generic"
        ).add_file("share/zoneinfo/UTC", b"TZif2"),
    }
    found = {}
    for key, builder in builders.items():
        package = builder.build(tmp / "pkgs" / key)
        found[key] = convert(package, tmp / "dist").wheel
    return found


@pytest.fixture(scope="session")
def venv_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("venv-cache")


@pytest.fixture
def prefix(tmp_path: Path, venv_cache: Path) -> Path:
    return make_env(tmp_path, records=[LIBZLIB], cache=venv_cache)


def _retag(wheel: Path, tag: str, out: Path) -> Path:
    """The same wheel under another file name: tags are read from the name."""
    name, version, build = wheel.name.split("-")[:3]
    target = out / f"{name}-{version}-{build}-{tag}.whl"
    out.mkdir(parents=True, exist_ok=True)
    shutil.copy(wheel, target)
    return target


def _install(prefix: Path, *wheels: Path, **options: bool) -> InstallResult:
    environment = CondaEnvironment.open(prefix, environ={})
    return install(plan_install(list(wheels), environment, InstallOptions(**options)))


def _record_rows(dist_info: Path) -> dict[str, tuple[str, str]]:
    rows = csv.reader(io.StringIO((dist_info / "RECORD").read_text()))
    return {row[0]: (row[1], row[2]) for row in rows if row}


def _cli(
    cwd: Path, *args: str | Path, conda_prefix: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return run_cli(cwd, "install", *args, conda_prefix=conda_prefix)


def _one_line(stderr: str) -> str:
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    return lines[0]


# -- installing --------------------------------------------------------------


def test_noarch_package_with_entry_point(prefix: Path, wheels: dict[str, Path]) -> None:
    _install(prefix, wheels["hello1"])

    site = site_packages(prefix)
    dist_info = site / "hello_py-1.0.dist-info"
    assert (site / "hello_py" / "__init__.py").is_file()
    assert (dist_info / "INSTALLER").read_text() == "condawheel\n"
    assert (dist_info / "REQUESTED").exists()
    script = prefix / "bin" / "hello"
    assert script.read_text().startswith(f"#!{prefix / 'bin' / 'python'}\n")
    assert os.access(script, os.X_OK)
    # every installed file is in RECORD, with its hash
    for path, (digest, size) in _record_rows(dist_info).items():
        target = Path(os.path.normpath(site / path))
        assert target.is_file(), path
        if digest:
            assert digest == record_hash(target.read_bytes()), path
            assert int(size) == target.stat().st_size
    ran = subprocess.run([str(script)], capture_output=True, text=True, check=False)
    assert ran.stdout == "hello 1.0\n", ran.stderr
    imported = run_python(prefix, "import hello_py, sys; print(hello_py.__file__)")
    assert imported.stdout.strip() == str(site / "hello_py" / "__init__.py"), imported.stderr


def test_a_noarch_package_without_python_content_installs(
    prefix: Path, wheels: dict[str, Path]
) -> None:
    # Tagged for conda environments only, of any subdir; plain pip refuses it.
    assert wheels["zonedata"].name.endswith("-py3-none-conda_noarch.whl")
    pip = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--no-deps", "--no-index",
         "--disable-pip-version-check", "--target", str(prefix / "pip"), wheels["zonedata"]],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert pip.returncode != 0 and "is not a supported wheel" in pip.stderr, pip.stderr
    _install(prefix, wheels["zonedata"])
    assert (prefix / "share" / "zoneinfo" / "UTC").read_bytes() == b"TZif2"


def test_placeholders_are_replaced(prefix: Path, wheels: dict[str, Path]) -> None:
    before = files_only(snapshot(prefix))
    result = _install(prefix, wheels["confdata"])

    conf = prefix / "etc" / "confdata" / "conf.txt"
    blob = prefix / "share" / "confdata" / "blob.bin"
    assert sorted(result.rewritten) == sorted([conf, blob])
    assert conf.read_text() == f"prefix={prefix}\nlib={prefix}/lib\n"
    original = b"\x7fBIN\0" + PREFIX_PLACEHOLDER.encode() + b"/share/confdata\0\x01\x02tail"
    data = blob.read_bytes()
    assert len(data) == len(original)
    assert PREFIX_PLACEHOLDER.encode() not in data
    padding = len(PREFIX_PLACEHOLDER) - len(str(prefix))
    expected = b"\x7fBIN\0" + f"{prefix}/share/confdata".encode() + b"\0" * (1 + padding)
    assert data == expected + b"\x01\x02tail"
    # RECORD has the hashes of the rewritten files
    dist_info = site_packages(prefix) / "confdata-0.3.dist-info"
    rows = _record_rows(dist_info)
    assert rows["../../../etc/confdata/conf.txt"][0] == record_hash(conf.read_bytes())
    assert rows["../../../share/confdata/blob.bin"][0] == record_hash(data)

    removed = pip_uninstall(prefix, ["confdata"])
    assert removed.returncode == 0, removed.stderr
    assert files_only(snapshot(prefix)) == before


def test_pip_uninstall_removes_every_file(prefix: Path, wheels: dict[str, Path]) -> None:
    before = files_only(snapshot(prefix))
    _install(prefix, wheels["hello1"])
    assert run_python(prefix, "import hello_py").returncode == 0  # leaves bytecode behind
    assert files_only(snapshot(prefix)) != before

    removed = pip_uninstall(prefix, ["hello-py"])
    assert removed.returncode == 0, removed.stderr
    assert files_only(snapshot(prefix)) == before


def test_newer_version_replaces_the_old(prefix: Path, wheels: dict[str, Path]) -> None:
    _install(prefix, wheels["hello1"])
    site = site_packages(prefix)
    assert (site / "hello_py" / "old.py").exists()
    assert run_python(prefix, "import hello_py.old").returncode == 0

    result = _install(prefix, wheels["hello2"])

    (plan,) = result.plan.wheels
    assert plan.replaces is not None and plan.replaces.version == "1.0"
    assert not (site / "hello_py" / "old.py").exists()
    assert not (site / "hello_py" / "__pycache__").exists() or not any(
        p.name.startswith("old.") for p in (site / "hello_py" / "__pycache__").iterdir()
    )
    assert sorted(p.name for p in site.glob("hello_py-*.dist-info")) == ["hello_py-2.0.dist-info"]
    ran = run_python(prefix, "import hello_py; print(hello_py.VERSION)")
    assert ran.stdout == "2.0\n", ran.stderr


def test_requires_external_met_by_a_conda_record(prefix: Path, wheels: dict[str, Path]) -> None:
    result = _install(prefix, wheels["zlib-user"])
    (check,) = [c for c in result.plan.checks if c.what == "requires-external"]
    assert check.ok
    assert check.detail == "libzlib >=1.3.1,<2.0a0: libzlib 1.3.1 hb9d3cd8_2"


def test_requires_dist_met_by_another_wheel_of_the_call(
    prefix: Path, wheels: dict[str, Path]
) -> None:
    _install(prefix, wheels["hello-user"], wheels["hello1"])
    assert run_python(prefix, "import hello_user, hello_py").returncode == 0


def test_requirements_behind_markers_are_evaluated_in_the_environment(
    prefix: Path, wheels: dict[str, Path]
) -> None:
    result = _install(prefix, wheels["with-extras"])
    assert not [c for c in result.plan.checks if c.what == "requires-dist"]


def test_two_wheels_writing_one_file(prefix: Path, wheels: dict[str, Path]) -> None:
    environment = CondaEnvironment.open(prefix, environ={})
    plan = plan_install([wheels["confdata"], wheels["confdata-copy"]], environment)
    (problem,) = plan.problems
    assert problem.detail == (
        f"{prefix}/share/confdata/plain.txt is also written by {wheels['confdata'].name}; "
        "install them separately"
    )


def test_dry_run_changes_nothing(prefix: Path, wheels: dict[str, Path]) -> None:
    before = snapshot(prefix)
    done = _cli(
        prefix.parent, "--prefix", prefix, "--dry-run", wheels["confdata"], wheels["hello1"]
    )
    assert done.returncode == 0, done.stderr
    assert "would install confdata 0.3" in done.stdout
    assert "would install hello-py 1.0" in done.stdout
    assert f"prefix    {prefix}/share/confdata/blob.bin (binary)" in done.stdout
    assert f"write     {prefix}/bin/hello" in done.stdout
    assert snapshot(prefix) == before


def test_json_output(prefix: Path, wheels: dict[str, Path]) -> None:
    done = _cli(prefix.parent, "--json", wheels["confdata"], conda_prefix=prefix)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["installed"] is True
    assert report["prefix"] == str(prefix)
    assert report["problems"] == []
    assert {c["check"] for c in report["checks"]} >= {"tags", "files"}
    assert sorted(report["rewritten"]) == sorted(
        [str(prefix / "etc/confdata/conf.txt"), str(prefix / "share/confdata/blob.bin")]
    )


# -- refusals ----------------------------------------------------------------


def _refused(prefix: Path, wheels: Sequence[Path], *extra: str, conda_prefix: bool = False) -> str:
    """Run the CLI, expect exit 2 with one line, and nothing changed in the environment."""
    before = snapshot(prefix)
    args: list[str | Path] = (
        [*extra, *wheels] if conda_prefix else ["--prefix", str(prefix), *extra, *wheels]
    )
    done = _cli(prefix.parent, *args, conda_prefix=prefix if conda_prefix else None)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert snapshot(prefix) == before
    return _one_line(done.stderr)


def test_unmet_requires_external(prefix: Path, wheels: dict[str, Path]) -> None:
    (prefix / "conda-meta" / "libzlib-1.3.1-hb9d3cd8_2.json").unlink()
    line = _refused(prefix, [wheels["zlib-user"]])
    assert "needs conda package libzlib >=1.3.1,<2.0a0 (not installed)" in line
    assert line.endswith(f'to fix: conda install -p {prefix} "libzlib >=1.3.1,<2.0a0"')


def test_requires_external_of_the_wrong_version(prefix: Path, wheels: dict[str, Path]) -> None:
    (prefix / "conda-meta" / "libzlib-1.3.1-hb9d3cd8_2.json").unlink()
    add_record(prefix, {**LIBZLIB, "version": "1.2.13", "build": "h0_0"})
    line = _refused(prefix, [wheels["zlib-user"]])
    assert "libzlib >=1.3.1,<2.0a0 (a version that does not match is installed)" in line


def test_unmet_requires_dist(prefix: Path, wheels: dict[str, Path]) -> None:
    line = _refused(prefix, [wheels["requests-user"]])
    assert "needs Python distribution requests>=2 (not installed)" in line
    assert line.endswith(f'{prefix}/bin/python -m pip install "requests>=2"')


def test_no_deps_skips_dependencies(prefix: Path, wheels: dict[str, Path]) -> None:
    (prefix / "conda-meta" / "libzlib-1.3.1-hb9d3cd8_2.json").unlink()
    result = _install(prefix, wheels["zlib-user"], wheels["requests-user"], no_deps=True)
    # Requires-Python is a property of the interpreter, like the tags: always checked
    assert {c.what for c in result.plan.checks} == {"tags", "requires-python", "files"}


def test_no_deps_still_checks_tags(prefix: Path, wheels: dict[str, Path], tmp_path: Path) -> None:
    other = _retag(wheels["hello1"], f"py3-none-conda_linux_2_17_{OTHER_MACHINE}", tmp_path / "t")
    line = _refused(prefix, [other], "--no-deps")
    assert f"built for {OTHER_SUBDIR} (conda_linux_2_17_{OTHER_MACHINE})" in line


def test_wrong_subdir(prefix: Path, wheels: dict[str, Path], tmp_path: Path) -> None:
    other = _retag(wheels["hello1"], f"{CP}-{CP}-conda_linux_2_17_{OTHER_MACHINE}", tmp_path / "t")
    line = _refused(prefix, [other])
    assert line == (
        f"condawheel: error: cannot install: {other.name}: built for {OTHER_SUBDIR} "
        f"(conda_linux_2_17_{OTHER_MACHINE}), this environment is {HOST_SUBDIR}"
    )


def test_wrong_python(prefix: Path, wheels: dict[str, Path], tmp_path: Path) -> None:
    old = _retag(wheels["hello1"], f"cp39-cp39-conda_linux_2_17_{MACHINE}", tmp_path / "t")
    line = _refused(prefix, [old])
    assert f"{old.name}: built for cp39-cp39, but the environment's Python is cpython {PY}" in line


def test_glibc_floor_above_the_system(
    prefix: Path, wheels: dict[str, Path], tmp_path: Path
) -> None:
    new = _retag(wheels["hello1"], f"py3-none-conda_linux_2_999_{MACHINE}", tmp_path / "t")
    line = _refused(prefix, [new])
    assert f"needs glibc 2.999 or newer (conda_linux_2_999_{MACHINE}), this system has" in line


def test_standard_tags_are_not_for_condawheel(
    prefix: Path, wheels: dict[str, Path], tmp_path: Path
) -> None:
    many = _retag(wheels["hello1"], f"py3-none-manylinux_2_17_{MACHINE}", tmp_path / "t")
    line = _refused(prefix, [many])
    assert (
        f"platform manylinux_2_17_{MACHINE}: this is not a conda-tagged wheel; install it with pip"
        in line
    )


def test_externally_managed(prefix: Path, wheels: dict[str, Path]) -> None:
    marker = prefix / "lib" / f"python{PY}" / "EXTERNALLY-MANAGED"
    marker.write_text("[externally-managed]\nError=This environment is managed by conda.\n")
    line = _refused(prefix, [wheels["hello1"]], conda_prefix=True)
    assert f"{prefix} is externally managed (PEP 668: {marker})" in line
    assert "--break-system-packages" in line

    done = _cli(prefix.parent, "--break-system-packages", wheels["hello1"], conda_prefix=prefix)
    assert done.returncode == 0, done.stderr
    assert (site_packages(prefix) / "hello_py" / "__init__.py").exists()


def test_file_owned_by_a_conda_package(prefix: Path, wheels: dict[str, Path]) -> None:
    add_record(
        prefix,
        {
            "name": "confdata-conda",
            "version": "0.1",
            "build": "h0_0",
            "subdir": "linux-64",
            "files": ["share/confdata/plain.txt", "share/confdata/other.txt"],
        },
    )
    line = _refused(prefix, [wheels["confdata"]])
    assert (
        "would overwrite 1 file(s) of conda package confdata-conda 0.1 h0_0 "
        f"(share/confdata/plain.txt); remove that package first with conda remove -p {prefix} "
        "--force confdata-conda"
    ) in line


def test_distribution_installed_by_conda_is_not_replaced(
    prefix: Path, wheels: dict[str, Path]
) -> None:
    dist_info = f"lib/python{PY}/site-packages/hello_py-0.9.dist-info"
    add_record(
        prefix,
        {
            "name": "hello-py",
            "version": "0.9",
            "build": "pyh_0",
            "subdir": "noarch",
            "files": [f"{dist_info}/METADATA", f"{dist_info}/RECORD"],
        },
    )
    (prefix / dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: hello-py\nVersion: 0.9\n"
    )
    line = _refused(prefix, [wheels["hello1"]])
    assert "hello-py 0.9 is installed by conda package hello-py 0.9 pyh_0" in line
    assert f"conda remove -p {prefix} --force hello-py" in line


def test_every_problem_in_one_error(prefix: Path, wheels: dict[str, Path], tmp_path: Path) -> None:
    (prefix / "conda-meta" / "libzlib-1.3.1-hb9d3cd8_2.json").unlink()
    old = _retag(wheels["hello1"], f"cp39-cp39-conda_linux_2_17_{MACHINE}", tmp_path / "t")
    environment = CondaEnvironment.open(prefix, environ={})
    plan = plan_install([old, wheels["zlib-user"], wheels["requests-user"]], environment)
    assert [c.what for c in plan.problems] == ["tags", "requires-external", "requires-dist"]
    with pytest.raises(BadInputError) as caught:
        install(plan)
    header, *lines = str(caught.value).splitlines()
    assert header == "cannot install, 3 problems:"
    assert [line.split(": ")[0] for line in lines[:3]] == [
        f"  {old.name}",
        f"  {wheels['zlib-user'].name}",
        f"  {wheels['requests-user'].name}",
    ]
    assert lines[3:] == [
        f'  to fix: conda install -p {prefix} "libzlib >=1.3.1,<2.0a0"',
        f'  to fix: {prefix}/bin/python -m pip install "requests>=2"',
    ]


def test_no_environment_named(tmp_path: Path, wheels: dict[str, Path]) -> None:
    done = _cli(tmp_path, wheels["hello1"])
    assert done.returncode == 2
    assert "--prefix" in _one_line(done.stderr)


def test_not_a_conda_environment(tmp_path: Path, wheels: dict[str, Path]) -> None:
    done = _cli(tmp_path, "--prefix", tmp_path, wheels["hello1"])
    assert done.returncode == 2
    assert "has no conda-meta/" in _one_line(done.stderr)


# -- all or nothing ----------------------------------------------------------


def _fail_on_second(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    import condawheel.installation.apply as module

    real = replace_in_file  # what apply calls, patched in its namespace below
    seen: list[Path] = []

    def flaky(path: Path, *args: object, **kwargs: object) -> bool:
        seen.append(path)
        if len(seen) == 2:
            raise RuntimeError("injected failure")
        return real(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(module, "replace_in_file", flaky)
    return seen


def test_failure_mid_install_leaves_the_environment_as_it_was(
    prefix: Path, wheels: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(prefix)
    seen = _fail_on_second(monkeypatch)
    with pytest.raises(RuntimeError, match="injected failure"):
        _install(prefix, wheels["hello1"], wheels["confdata"])
    assert len(seen) == 2
    assert snapshot(prefix) == before


def test_failed_replacement_restores_the_old_version(
    prefix: Path, wheels: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    _install(prefix, wheels["hello1"])
    assert run_python(prefix, "import hello_py.old").returncode == 0  # bytecode, too
    before = snapshot(prefix)
    _fail_on_second(monkeypatch)
    with pytest.raises(RuntimeError, match="injected failure"):
        _install(prefix, wheels["hello2"], wheels["confdata"])
    assert snapshot(prefix) == before
    assert run_python(prefix, "import hello_py.old").returncode == 0


def test_prefix_too_long_for_a_binary_placeholder(
    tmp_path: Path, venv_cache: Path, wheels: dict[str, Path]
) -> None:
    deep = tmp_path / ("d" * 120) / ("e" * 120)
    deep.mkdir(parents=True)
    prefix = make_env(deep, records=[LIBZLIB], cache=venv_cache)
    before = snapshot(prefix)
    with pytest.raises(BadInputError, match=r"longer than the placeholder.*left as it was"):
        _install(prefix, wheels["confdata"])
    assert snapshot(prefix) == before


# -- conda packages installed as wheels ----------------------------------------


def _libzlib_wheel(version: str, out: Path) -> Path:
    builder = CondaPackageBuilder(
        name="libzlib", version=version, build="h0_0", subdir=HOST_SUBDIR
    ).add_file("share/zlib/README", f"zlib {version}\n")
    return convert(builder.build(out / f"pkg-{version}"), out / f"dist-{version}").wheel


def test_a_conda_package_installed_as_a_wheel_meets_requires_external(
    tmp_path: Path, venv_cache: Path, wheels: dict[str, Path]
) -> None:
    prefix = make_env(tmp_path, cache=venv_cache)  # no conda record of libzlib
    _install(prefix, _libzlib_wheel("1.3.1", tmp_path))
    result = _install(prefix, wheels["zlib-user"])
    (check,) = [c for c in result.plan.checks if c.what == "requires-external"]
    assert check.ok
    assert check.detail == "libzlib >=1.3.1,<2.0a0: libzlib 1.3.1 h0_0 (installed as a wheel)"


def test_a_wheel_of_the_same_call_meets_requires_external(
    tmp_path: Path, venv_cache: Path, wheels: dict[str, Path]
) -> None:
    prefix = make_env(tmp_path, cache=venv_cache)
    _install(prefix, wheels["zlib-user"], _libzlib_wheel("1.3.1", tmp_path))
    assert run_python(prefix, "import zlib_user").returncode == 0


def test_a_wheel_installed_conda_package_of_the_wrong_version(
    tmp_path: Path, venv_cache: Path, wheels: dict[str, Path]
) -> None:
    prefix = make_env(tmp_path, cache=venv_cache)
    _install(prefix, _libzlib_wheel("1.2.0", tmp_path))
    line = _refused(prefix, [wheels["zlib-user"]])
    assert (
        "needs conda package libzlib >=1.3.1,<2.0a0 (libzlib 1.2.0 h0_0 is installed as a "
        "wheel; install a wheel of a matching version)"
    ) in line
    assert "conda install" not in line  # it would clobber the wheel's files


def test_a_wrong_platform_wheel_gets_no_dependency_advice(
    prefix: Path, wheels: dict[str, Path], tmp_path: Path
) -> None:
    (prefix / "conda-meta" / "libzlib-1.3.1-hb9d3cd8_2.json").unlink()
    other = _retag(
        wheels["zlib-user"], f"py3-none-conda_linux_2_17_{OTHER_MACHINE}", tmp_path / "t"
    )
    line = _refused(prefix, [other])
    assert line == (
        f"condawheel: error: cannot install: {other.name}: built for {OTHER_SUBDIR} "
        f"(conda_linux_2_17_{OTHER_MACHINE}), this environment is {HOST_SUBDIR}"
    )
