"""Build `hello-condawheel-1.0-pyh_0.conda` from `examples/hello/`, offline.

This is the conda package the quick start converts: a real `.conda` archive, with
`info/index.json`, `paths.json` (with hashes), `link.json` (an entry point) and
`about.json`, written with conda-package-streaming's own builder.

    python examples/make_example_package.py OUTDIR
"""

from __future__ import annotations

import hashlib
import io
import json
import sys
import tarfile
from pathlib import Path

from conda_package_streaming.create import conda_builder

NAME, VERSION, BUILD = "hello-condawheel", "1.0", "pyh_0"
SOURCE = Path(__file__).parent / "hello"
TIMESTAMP = 1_760_000_000  # fixed, so the package (and its wheel) are reproducible

INFO = {
    "index.json": {
        "name": NAME,
        "version": VERSION,
        "build": BUILD,
        "build_number": 0,
        "depends": ["python >=3.9"],
        "license": "BSD-3-Clause",
        "noarch": "python",
        "subdir": "noarch",
        "timestamp": TIMESTAMP * 1000,
    },
    "about.json": {
        "summary": "Says hello: the package condawheel's quick start converts",
        "home": "https://example.org/hello-condawheel",
        "license": "BSD-3-Clause",
    },
    "link.json": {
        "noarch": {"type": "python", "entry_points": ["hello-condawheel = hello_condawheel:main"]},
        "package_metadata_version": 1,
    },
}


def _member(name: str, data: bytes, mode: int = 0o644) -> tuple[tarfile.TarInfo, io.BytesIO]:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), mode, TIMESTAMP
    return info, io.BytesIO(data)


def main(out_dir: Path) -> Path:
    files = sorted(p for p in SOURCE.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    paths = [
        {
            "_path": p.relative_to(SOURCE).as_posix(),
            "path_type": "hardlink",
            "sha256": hashlib.sha256(p.read_bytes()).hexdigest(),
            "size_in_bytes": p.stat().st_size,
        }
        for p in files
    ]
    info = {**INFO, "paths.json": {"paths": paths, "paths_version": 1}}
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{NAME}-{VERSION}-{BUILD}"
    with conda_builder(stem, out_dir, compression_level=3) as tar:
        for name, content in sorted(info.items()):
            tar.addfile(*_member(f"info/{name}", json.dumps(content, indent=2).encode()))
        for path in files:
            tar.addfile(*_member(path.relative_to(SOURCE).as_posix(), path.read_bytes()))
    return out_dir / f"{stem}.conda"


if __name__ == "__main__":
    print(main(Path(sys.argv[1] if len(sys.argv) > 1 else "build")))
