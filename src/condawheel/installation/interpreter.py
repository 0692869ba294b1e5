"""The environment's own Python: where it is, and what it says about itself (its version,
paths, installed distributions and marker environment), asked in one subprocess."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from condawheel.exceptions import BadInputError

#: Asked of the environment's interpreter, which may not be the one running condawheel.
#: It imports nothing beyond the standard library: the marker environment is written out
#: the way `packaging.markers.default_environment()` computes it.
_PROBE = r"""
import importlib.metadata as md, json, os, platform, sys, sysconfig

def version(info):
    text = "%d.%d.%d" % (info.major, info.minor, info.micro)
    if info.releaselevel != "final":
        text += info.releaselevel[0] + str(info.serial)
    return text

paths = sysconfig.get_paths()
dists = []
for dist in md.distributions():
    name = dist.metadata["Name"]
    if not name:
        continue
    location = getattr(dist, "_path", None)
    try:
        installer = (dist.read_text("INSTALLER") or "").strip() or None
    except OSError:
        installer = None
    dists.append({"name": name, "version": dist.version, "installer": installer,
                  "path": str(location) if location is not None else None})
try:
    libc = os.confstr("CS_GNU_LIBC_VERSION") or ""
except (AttributeError, ValueError, OSError):
    libc = ""
print(json.dumps({
    "executable": sys.executable,
    "version": list(sys.version_info[:3]),
    "implementation": sys.implementation.name,
    "abiflags": getattr(sys, "abiflags", ""),
    "free_threading": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
    "in_venv": sys.prefix != sys.base_prefix,
    "paths": {k: paths[k] for k in ("purelib", "platlib", "scripts", "data", "include", "stdlib")},
    "distributions": dists,
    "libc": libc,
    "mac_ver": platform.mac_ver()[0],
    "markers": {
        "implementation_name": sys.implementation.name,
        "implementation_version": version(sys.implementation.version),
        "os_name": os.name,
        "platform_machine": platform.machine(),
        "platform_release": platform.release(),
        "platform_system": platform.system(),
        "platform_version": platform.version(),
        "python_full_version": platform.python_version(),
        "platform_python_implementation": platform.python_implementation(),
        "python_version": ".".join(platform.python_version_tuple()[:2]),
        "sys_platform": sys.platform,
    },
}))
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class Distribution:
    """A Python distribution the environment's interpreter can import."""

    name: str
    version: str
    #: Its `.dist-info` (or `.egg-info`) directory, when it is one on disk.
    path: Path | None
    installer: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Interpreter:
    """What the environment's own Python said about itself."""

    executable: Path
    version: tuple[int, int, int]
    implementation: str
    abiflags: str
    free_threading: bool
    in_venv: bool
    #: sysconfig paths: purelib, platlib, scripts, data, include, stdlib.
    paths: Mapping[str, Path]
    distributions: tuple[Distribution, ...]
    #: The PEP 508 marker environment, as `packaging.markers.default_environment()`.
    markers: Mapping[str, str]
    #: `os.confstr("CS_GNU_LIBC_VERSION")`, e.g. "glibc 2.36"; empty when not glibc.
    libc: str = ""
    mac_ver: str = ""

    @property
    def short_version(self) -> str:
        return f"{self.version[0]}.{self.version[1]}"

    @property
    def is_windows(self) -> bool:
        return self.markers.get("os_name") == "nt"


def find_interpreter(prefix: Path) -> Path:
    for candidate in (prefix / "bin" / "python", prefix / "python.exe"):
        if candidate.exists():
            return candidate
    raise BadInputError(
        f"{prefix} has no Python interpreter (bin/python or python.exe): "
        f'install one first with conda install -p {prefix} "python"'
    )


def probe_interpreter(executable: Path) -> Interpreter:
    """Ask ``executable`` about itself, in one subprocess."""
    try:
        completed = subprocess.run(
            [str(executable), "-I", "-c", _PROBE],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BadInputError(f"{executable}: cannot run the environment's Python ({exc})") from None
    if completed.returncode != 0:
        last = (completed.stderr.strip().splitlines() or ["no output"])[-1]
        raise BadInputError(f"{executable}: the environment's Python failed: {last}")
    data = json.loads(completed.stdout)
    return Interpreter(
        executable=executable,
        version=(data["version"][0], data["version"][1], data["version"][2]),
        implementation=data["implementation"],
        abiflags=data["abiflags"],
        free_threading=data["free_threading"],
        in_venv=data["in_venv"],
        paths={k: Path(v) for k, v in data["paths"].items()},
        distributions=tuple(
            Distribution(
                name=d["name"],
                version=d["version"],
                path=Path(d["path"]) if d["path"] else None,
                installer=d["installer"],
            )
            for d in data["distributions"]
        ),
        markers=dict(data["markers"]),
        libc=data["libc"],
        mac_ver=data["mac_ver"],
    )
