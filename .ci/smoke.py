"""A new user's smoke test of condawheel, run by .ci/run after the test suite.

The test suite runs in .venv, which holds the test extra: a dependency that only the
extra brings (py-rattler-build was one) would never show there. So condawheel's own
wheel is built here and installed WITHOUT extras into a fresh venv, by the oldest pip
that pyproject.toml accepts (`pip>=X` in dependencies), and each door is then used
once, as a user types it:

1. build the sample recipes (recipes-sample/) from a local channel that starts empty;
2. convert the conda package that the build made;
3. mirror the build's channel into a folder with its index, twice (the second run
   converts nothing);
4. make a conda environment with py-rattler, offline, from the build's local channel,
   and install the built wheel into it;
5. publish the wheels to a pypiserver on 127.0.0.1;
6. install by name from it into another such environment (pip resolves: its oldest);
7. repair a plain wheel whose extension links the environment's library.

Only the standard library here. pypiserver, pip's build of the wheel and gcc come from
the machine running it (.venv has pypiserver). Any failure exits 1 with the command and
its output. No step reaches a network but PyPI for installing condawheel's
dependencies: the builds and environments see HTTP(S) proxies on a closed port.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
import tomllib
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RECIPES = ROOT / "recipes-sample"
CLOSED_PORT = "http://127.0.0.1:9"  # discard: nothing listens, a connection is refused
PROXIES = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")
OFFLINE = {name: CLOSED_PORT for name in PROXIES}
PY = "{}.{}".format(*sys.version_info[:2])
# Modules of the test extra and of pypiserver: the fresh venv must not have them.
NOT_INSTALLED = ("pytest", "pypiserver", "ziglang", "conda_package_handling")


class SmokeError(RuntimeError):
    """A step failed; the message holds the command and what it printed."""


def run(
    command: Sequence[str | Path],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> str:
    """Run ``command``; its stdout, or SmokeError with everything it printed."""
    words = [str(word) for word in command]
    environ = {**os.environ, "NO_PROXY": "127.0.0.1,localhost", **(env or {})}
    environ["no_proxy"] = environ["NO_PROXY"]
    done = subprocess.run(
        words, capture_output=True, text=True, env=environ, cwd=cwd, timeout=1800, check=False
    )
    if done.returncode != 0:
        raise SmokeError(
            f"exit {done.returncode}: {' '.join(words)}\n{done.stdout[-4000:]}{done.stderr[-4000:]}"
        )
    return done.stdout


def step(title: str) -> None:
    print(f"smoke: {title}", flush=True)


def pip_floor() -> str:
    """X of the `pip>=X` that condawheel's dependencies declare."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    for requirement in project["dependencies"]:
        found = re.fullmatch(r"pip\s*>=\s*([\d.]+)", requirement.strip())
        if found:
            return found[1]
    raise SmokeError("pyproject.toml declares no pip>=X among the dependencies")


def install_condawheel(work: Path) -> Path:
    """condawheel's wheel, built from the checkout and installed without extras into a
    fresh venv by the oldest pip it accepts; returns the venv."""
    floor = pip_floor()
    dist = work / "dist"
    step("building condawheel's wheel")
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", dist, ROOT])
    (wheel,) = dist.glob("condawheel-*.whl")
    venv = work / "venv"
    step(f"installing {wheel.name} without extras into a fresh venv with pip {floor}")
    run([sys.executable, "-m", "venv", venv])
    python = venv / "bin" / "python"
    run([python, "-m", "pip", "install", "-q", "--disable-pip-version-check", f"pip=={floor}"])
    run([python, "-m", "pip", "install", "-q", "--disable-pip-version-check", wheel])
    version = run([python, "-m", "pip", "--version"]).split()[1]
    if version != floor:
        raise SmokeError(f"installing condawheel changed pip {floor} to {version}")
    for module in NOT_INSTALLED:
        check = f"import importlib.util as u, sys; sys.exit(u.find_spec({module!r}) is not None)"
        try:
            run([python, "-c", check])
        except SmokeError:
            raise SmokeError(f"{module} is in the fresh venv: it is not a clean install") from None
    return venv


def empty_channel(path: Path) -> Path:
    """A valid conda channel without packages: a noarch index that lists none."""
    (path / "noarch").mkdir(parents=True)
    index = {"info": {"subdir": "noarch"}, "packages": {}, "packages.conda": {}}
    (path / "noarch" / "repodata.json").write_text(json.dumps(index))
    return path


def build_samples(condawheel: Path, work: Path, python: Path) -> Path:
    """libanswer from the empty channel, then pyanswer against what it published."""
    empty = empty_channel(work / "empty-channel").as_uri()
    out = work / "out"
    step("condawheel build recipes-sample/libanswer, from an empty local channel")
    run([condawheel, "build", RECIPES / "libanswer", "-w", out, "-c", empty], env=OFFLINE)
    own = (out / "conda").as_uri()
    step("condawheel build recipes-sample/pyanswer, from the channel libanswer went to")
    variants = ["--variant", f"python_exe={python}", "--variant", f"python_version={PY}"]
    command: list[str | Path] = [condawheel, "build", RECIPES / "pyanswer", "-w", out, "-c", own]
    run([*command, "-c", empty, *variants, "--json"], env=OFFLINE)
    return out


def one(folder: Path, pattern: str) -> Path:
    found = sorted(folder.glob(pattern))
    if len(found) != 1:
        raise SmokeError(f"expected one {pattern} in {folder}, found {[p.name for p in found]}")
    return found[0]


def conda_environment(venv: Path, prefix: Path, channel: Path) -> Path:
    """``libanswer`` from ``channel``, installed by py-rattler (condawheel's own dependency,
    so in the fresh venv), with the machine's CPython as the environment's Python."""
    code = f"""
import rattler
from rattler import Channel, Gateway, Subdir, VirtualPackage
# coroutines waits out py-rattler's threads before exiting
from condawheel.conda import coroutines as rattler_run
async def main():
    records = await rattler.solve(
        sources=[Channel({channel.as_uri()!r})], specs=["libanswer"],
        gateway=Gateway(cache_dir={str(prefix) + "-cache"!r}),
        platforms=[Subdir.current(), Subdir("noarch")],
        virtual_packages=VirtualPackage.detect())
    await rattler.install(records, {str(prefix)!r}, cache_dir={str(prefix) + "-pkgs"!r},
                          show_progress=False)
rattler_run.run(main())
"""
    run([venv / "bin" / "python", "-c", code], env=OFFLINE)
    run([sys.executable, "-m", "venv", "--without-pip", prefix])
    return prefix


def check_answer(prefix: Path) -> None:
    said = run([prefix / "bin" / "python", "-c", "import pyanswer; print(pyanswer.answer())"])
    if said.strip() != "42":
        raise SmokeError(f"pyanswer.answer() in {prefix} said {said!r}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def pypiserver(packages: Path) -> Iterator[str]:
    """pypiserver on 127.0.0.1 taking uploads without credentials; yields its URL."""
    packages.mkdir()
    port = free_port()
    command = [sys.executable, "-m", "pypiserver", "run", "-p", str(port), "-i", "127.0.0.1"]
    command += ["-a", ".", "-P", ".", "--disable-fallback", "--server", "wsgiref", str(packages)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            if server.poll() is not None or time.monotonic() > deadline:
                raise SmokeError("pypiserver did not start")
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.terminate()
        server.wait(timeout=30)


def isolated_pip() -> dict[str, str]:
    """No pip configuration of this machine (its mirrors) for installing by name."""
    for name in [n for n in os.environ if n.startswith("PIP_")]:
        os.environ.pop(name)
    return {
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
    }


EXTENSION = """
#define PY_SSIZE_T_CLEAN
#include <Python.h>
int answer(void);
static PyObject *call(PyObject *self, PyObject *args) { return PyLong_FromLong(answer()); }
static PyMethodDef methods[] = {{"answer", call, METH_NOARGS, NULL}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_core", NULL, -1, methods};
PyMODINIT_FUNC PyInit__core(void) { return PyModule_Create(&module); }
"""


def plain_wheel(work: Path, prefix: Path) -> Path:
    """A linux_x86_64-style wheel as a plain build leaves it: an extension that links
    ``prefix``'s libanswer, found through the build machine's absolute path."""
    build = work / "plain"
    build.mkdir()
    source = build / "_core.c"
    source.write_text(EXTENSION)
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    extension = build / f"_core{suffix}"
    include = sysconfig.get_paths()["include"]
    lib = prefix / "lib"
    run(["gcc", "-shared", "-fPIC", f"-I{include}", source, f"-L{lib}", "-lanswer",
         f"-Wl,-rpath,{lib}", "-o", extension])  # fmt: skip
    tag = sysconfig.get_platform().replace("-", "_").replace(".", "_")
    abi = f"cp{sys.version_info[0]}{sys.version_info[1]}"
    wheel = build / f"plainanswer-1.0-{abi}-{abi}-{tag}.whl"
    files = {
        f"plainanswer/_core{suffix}": extension.read_bytes(),
        "plainanswer/__init__.py": b"from plainanswer._core import answer\n",
        "plainanswer-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: plainanswer\n"
        b"Version: 1.0\n",
        "plainanswer-1.0.dist-info/WHEEL": f"Wheel-Version: 1.0\nGenerator: smoke\n"
        f"Root-Is-Purelib: false\nTag: {abi}-{abi}-{tag}\n".encode(),
    }
    record = [
        f"{name},sha256={base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()},{len(data)}"
        for name, data in files.items()
    ]
    files["plainanswer-1.0.dist-info/RECORD"] = (
        "\n".join([*record, "plainanswer-1.0.dist-info/RECORD,,"]) + "\n"
    ).encode()
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return wheel


def mirror_twice(condawheel: Path, channel: Path, work: Path) -> None:
    """The build's channel mirrored into a folder with its index, then again: the
    second run finds every build done."""
    step("condawheel mirror of the build's channel, twice: the second converts nothing")
    command: list[str | Path] = [condawheel, "mirror", channel, "-w", work / "mirrored"]
    command += ["--with", channel, "--cache-dir", work / "mirror-cache", "--json"]
    first = json.loads(run(command).splitlines()[-1])["summary"]
    second = json.loads(run(command).splitlines()[-1])["summary"]
    if first["converted"] < 1 or second != {**first, "converted": 0, "done": first["converted"]}:
        raise SmokeError(f"mirror converted {first}, then {second}")
    one(work / "mirrored" / "simple", "index.html")


def doors(venv: Path, work: Path) -> None:
    condawheel = venv / "bin" / "condawheel"
    out = build_samples(condawheel, work, venv / "bin" / "python")
    channel = out / "conda"
    libanswer = one(channel, "*/libanswer-1.0.0-*.conda")

    step("condawheel convert of the built conda package")
    converted = json.loads(run([condawheel, "convert", libanswer, "-w", work / "converted",
                                "--with", channel, "--json"]))  # fmt: skip
    if "conda_linux_" not in Path(converted["wheel"]).name:
        raise SmokeError(f"convert gave {converted['wheel']}, not a conda-tagged wheel")

    mirror_twice(condawheel, channel, work)

    step("condawheel install of the built wheels into a py-rattler environment")
    env = conda_environment(venv, work / "env", channel)
    run([condawheel, "install", one(out, "pyanswer-*.whl"), "--prefix", env])
    check_answer(env)

    pip_env = isolated_pip()
    with pypiserver(work / "packages") as url:
        step(f"condawheel publish to pypiserver at {url}")
        wheels = [one(out, "pyanswer-*.whl"), one(out, "libanswer-*.whl")]
        run([condawheel, "publish", *wheels, "--repository-url", url], env=pip_env)
        step("condawheel install pyanswer --index-url, by the oldest pip condawheel accepts")
        fresh = conda_environment(venv, work / "env-by-name", channel)
        run([condawheel, "install", "pyanswer", "--index-url", f"{url}simple/",
             "--prefix", fresh], env=pip_env)  # fmt: skip
        check_answer(fresh)

    step("condawheel repair of a plain wheel linking the environment's libanswer")
    repaired = json.loads(run([condawheel, "repair", plain_wheel(work, env), "-w",
                               work / "repaired", "--with", env, "--json"]))  # fmt: skip
    if "conda_linux_" not in Path(repaired["wheel"]).name:
        raise SmokeError(f"repair gave {repaired['wheel']}, not a conda-tagged wheel")


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="condawheel-smoke-"))
    try:
        venv = install_condawheel(work)
        doors(venv, work)
    except (SmokeError, subprocess.TimeoutExpired, ValueError, KeyError) as exc:
        print(f"smoke: FAILED: {exc}\n(work folder kept: {work})", file=sys.stderr)
        return 1
    shutil.rmtree(work, ignore_errors=True)
    print("smoke: every door works from a clean install")
    return 0


if __name__ == "__main__":
    sys.exit(main())
