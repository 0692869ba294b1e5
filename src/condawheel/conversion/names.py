"""Which PyPI distribution, if any, a conda package name stands for (design section 3)."""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from packaging.utils import canonicalize_name

from condawheel.exceptions import ConfigurationError

_VALID_NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)


class NameSource(enum.Enum):
    WITH = "a dependency package given with --with"
    NAME_MAP = "the --name-map file"
    MAPPING = "the published mapping (condawheel mapping update)"
    BUILT_IN = "condawheel's table of well-known names"
    ASSUMED = "the conda name itself (assumed; confirm with --with or --name-map)"
    NATIVE_GUESS = "its name (assumed native; confirm with --with or --name-map)"


@dataclass(frozen=True, slots=True, kw_only=True)
class NameDecision:
    conda_name: str
    #: The PyPI distribution name, or None for a native (non-Python) package.
    pypi_name: str | None
    source: NameSource


@dataclass(frozen=True, slots=True, kw_only=True)
class NameResolver:
    """Resolves conda names in the order design section 3 gives."""

    from_packages: Mapping[str, str | None] = field(default_factory=dict)
    name_map: Mapping[str, str | None] = field(default_factory=dict)
    #: The published mapping that `condawheel mapping update` cached, when there is one.
    downloaded: Mapping[str, str | None] = field(default_factory=dict)
    built_in: Mapping[str, str | None] = field(default_factory=lambda: built_in_names())

    def resolve(self, conda_name: str, *, python_package: bool) -> NameDecision:
        """``python_package`` says whether the package being converted is a Python
        one: only then is an unknown dependency assumed to be a Python distribution."""
        for mapping, source in self._sources():
            if conda_name in mapping:
                return NameDecision(
                    conda_name=conda_name, pypi_name=mapping[conda_name], source=source
                )
        if python_package and not _looks_native(conda_name):
            return NameDecision(
                conda_name=conda_name,
                pypi_name=valid_distribution_name(conda_name),
                source=NameSource.ASSUMED,
            )
        return NameDecision(conda_name=conda_name, pypi_name=None, source=NameSource.NATIVE_GUESS)

    def claimed_by(self, pypi_name: str, conda_name: str) -> list[tuple[str, NameSource]]:
        """Other conda packages the mappings give the PyPI project ``pypi_name`` to, when
        none gives it to ``conda_name``: conda `tzdata` (the IANA data) is not PyPI's
        `tzdata`, which conda calls `python-tzdata`."""
        wanted = canonicalize_name(pypi_name)
        claims: dict[str, NameSource] = {}
        for mapping, source in self._sources():
            own = mapping.get(conda_name)
            if own is not None and canonicalize_name(own) == wanted:
                return []
            for other, name in mapping.items():
                if name is not None and other != conda_name and canonicalize_name(name) == wanted:
                    claims.setdefault(other, source)
        return sorted(claims.items())

    def _sources(self) -> tuple[tuple[Mapping[str, str | None], NameSource], ...]:
        return (
            (self.from_packages, NameSource.WITH),
            (self.name_map, NameSource.NAME_MAP),
            (self.downloaded, NameSource.MAPPING),
            (self.built_in, NameSource.BUILT_IN),
        )


def _looks_native(conda_name: str) -> bool:
    # conda-forge names C/C++ libraries lib*; a leading _ marks a mutex/metapackage.
    return conda_name.startswith(("lib", "_")) or conda_name.endswith(("-devel", "-dev"))


def valid_distribution_name(conda_name: str) -> str:
    """A valid Python distribution name for a conda name (`_libgcc_mutex` -> `libgcc_mutex`)."""
    if _VALID_NAME.match(conda_name):
        return conda_name
    stripped = re.sub(r"[^A-Za-z0-9._-]", "-", conda_name).strip("._-")
    return stripped or "unnamed"


def built_in_names() -> dict[str, str | None]:
    data = json.loads(resources.files("condawheel.resources").joinpath("names.json").read_text())
    table: dict[str, str | None] = {name: None for name in data["native"]}
    table.update(data["renames"])
    return table


def load_name_map(path: Path) -> dict[str, str | None]:
    """Read a JSON object mapping conda names to PyPI names (or null for native)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigurationError(f"--name-map {path}: cannot read it ({exc.strerror})") from None
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raise ConfigurationError(f"--name-map {path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict) or not all(isinstance(v, str | None) for v in data.values()):
        raise ConfigurationError(
            f"--name-map {path}: expected a JSON object of conda name -> PyPI name or null"
        )
    return {str(k): v for k, v in data.items()}
