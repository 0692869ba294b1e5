"""The data of `condawheel install`: options, the plan of each wheel, the checks and
their verdicts, and the result."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from condawheel.exceptions import BadInputError
from condawheel.installation.environment import CondaEnvironment
from condawheel.installation.interpreter import Distribution
from condawheel.installation.transaction import Recovery
from condawheel.wheel.prefix import PlaceholderFile
from condawheel.wheel.reader import WheelName
from condawheel.wheel.verify import CondaIndex


@dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    """One thing checked before installing, and its verdict."""

    #: The wheel's file name, or "" for a check of the environment.
    wheel: str
    what: str
    ok: bool
    detail: str
    #: What fixes it: a conda spec (`conda install`) or a requirement (`pip install`).
    conda_fix: str | None = None
    pip_fix: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class InstallOptions:
    #: Skip the Requires-Dist and Requires-External checks (never the tag check).
    no_deps: bool = False
    #: Install into an environment marked EXTERNALLY-MANAGED (PEP 668) all the same.
    break_system_packages: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class WheelPlan:
    """One wheel, read and placed: where each of its files will be written."""

    wheel: Path
    #: The file name's parts: name, version, build and tags.
    filename: WheelName
    name: str
    version: str
    dist_info: str
    #: The directory the wheel's root goes to (purelib or platlib).
    root: Path
    #: installer's scheme: purelib, platlib, scripts, headers, data.
    scheme: Mapping[str, Path]
    #: Absolute destination of every file the installation writes, RECORD included.
    destinations: Mapping[str, Path]
    placeholders: tuple[PlaceholderFile, ...]
    #: The conda package the wheel was converted from, when it says.
    conda_index: CondaIndex | None = None
    #: The installed distribution of the same name that this wheel replaces.
    replaces: Distribution | None = None
    #: Its files, removed first as pip removes them.
    removes: tuple[Path, ...] = ()
    #: Entries of its RECORD left alone (outside the prefix, conda's), and why.
    kept: tuple[str, ...] = ()
    #: Files already there that no package owns: overwritten, as pip does.
    overwrites: tuple[Path, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class InstallPlan:
    environment: CondaEnvironment
    wheels: tuple[WheelPlan, ...]
    checks: tuple[Check, ...]

    @property
    def problems(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    def fix_commands(self) -> list[str]:
        """The `conda install` / `pip install` commands that would satisfy what is missing."""
        conda = sorted({c.conda_fix for c in self.problems if c.conda_fix})
        pip = sorted({c.pip_fix for c in self.problems if c.pip_fix})
        commands = []
        if conda:
            specs = " ".join(f'"{s}"' for s in conda)
            commands.append(f"conda install -p {self.environment.prefix} {specs}")
        if pip:
            requirements = " ".join(f'"{r}"' for r in pip)
            commands.append(
                f"{self.environment.interpreter.executable} -m pip install {requirements}"
            )
        return commands

    def error(self) -> BadInputError:
        """Every problem, and what fixes them: one line for one problem, else a header
        line and one line each."""
        listed = [f"{c.wheel}: {c.detail}" if c.wheel else c.detail for c in self.problems]
        fixes = self.fix_commands()
        if len(listed) == 1:
            suffix = f"; to fix: {' && '.join(fixes)}" if fixes else ""
            return BadInputError(f"cannot install: {listed[0]}{suffix}")
        lines = [f"cannot install, {len(listed)} problems:"]
        lines.extend(f"  {line}" for line in listed)
        lines.extend(f"  to fix: {command}" for command in fixes)
        return BadInputError("\n".join(lines))


@dataclass(frozen=True, slots=True, kw_only=True)
class InstallResult:
    plan: InstallPlan
    #: Files whose placeholders were replaced by the prefix.
    rewritten: tuple[Path, ...] = ()
    #: An interrupted installation rolled back first, if there was one.
    recovered: Recovery | None = None
