"""A published conda-to-PyPI name mapping, downloaded on demand and cached (design §3).

``condawheel mapping update`` fetches prefix.dev's parselmouth mapping for conda-forge (a
JSON object of conda name -> PyPI name, or null for a package known not to be Python)
into the cache. Conversions then use it, after ``--name-map`` and before condawheel's
own table. Nothing is downloaded at import time or during a conversion, and nothing
needs the mapping: without it, names resolve as before.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from condawheel.atomic import atomic_output
from condawheel.exceptions import BadInputError, ConfigurationError

DEFAULT_URL = (
    "https://raw.githubusercontent.com/prefix-dev/parselmouth/main/files/compressed_mapping.json"
)
_TIMEOUT = 60


@dataclass(frozen=True, slots=True, kw_only=True)
class MappingUpdate:
    path: Path
    url: str
    entries: int
    python: int  # entries naming a PyPI distribution; the rest are known not to be Python
    changed: bool


def mapping_path(cache_dir: Path) -> Path:
    return cache_dir / "mapping" / "conda-pypi.json"


def update_mapping(cache_dir: Path, url: str = DEFAULT_URL) -> MappingUpdate:
    """Download the mapping at ``url`` into the cache; the previous one stays until the
    new one has been read and checked."""
    import urllib.error  # only for the update; converting reads the cached file
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=_TIMEOUT) as response:
            data = response.read()
    except ValueError as exc:  # an unknown URL type
        raise ConfigurationError(f"--url {url}: {exc}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise BadInputError(
            f"cannot download the name mapping from {url}: {reason}; check the URL and the "
            "network connection"
        ) from None
    mapping = parse_mapping(data, url)
    text = json.dumps(mapping, sort_keys=True, indent=0).encode()
    path = mapping_path(cache_dir)
    changed = not path.is_file() or path.read_bytes() != text
    if changed:
        with atomic_output(path) as out:
            out.write(text)
    return MappingUpdate(
        path=path,
        url=url,
        entries=len(mapping),
        python=sum(1 for v in mapping.values() if v is not None),
        changed=changed,
    )


def parse_mapping(data: bytes, origin: str) -> dict[str, str | None]:
    """conda name -> PyPI name or None. A list of names (one conda package holding several
    distributions) keeps its single name; with several, the package is left out, since
    no one of them is *the* distribution to require."""
    try:
        raw: Any = json.loads(data)
    except ValueError as exc:
        raise BadInputError(f"{origin}: not a JSON name mapping ({exc})") from None
    if not isinstance(raw, dict):
        raise BadInputError(f"{origin}: expected a JSON object of conda name -> PyPI name")
    mapping: dict[str, str | None] = {}
    for conda_name, value in raw.items():
        if isinstance(value, list):
            if len(value) > 1:
                continue
            value = value[0] if value else None
        if value is not None and not isinstance(value, str):
            raise BadInputError(f"{origin}: {conda_name!r} maps to {value!r}, not a name")
        mapping[str(conda_name)] = value
    return mapping


def load_mapping(path: Path) -> Mapping[str, str | None]:
    """The cached mapping at ``path``, read once per version of the file."""
    stat = path.stat()
    return _load(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=2)
def _load(path: Path, mtime_ns: int, size: int) -> Mapping[str, str | None]:
    try:
        return parse_mapping(path.read_bytes(), str(path))
    except OSError as exc:
        raise ConfigurationError(f"{path}: cannot read the cached name mapping ({exc})") from None
