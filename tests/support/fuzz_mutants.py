"""Hostile variants of conda packages, for the fuzz test (tests/test_fuzz.py).

A package is held as its parts (format, `info/` members, payload members) so that a
mutation can act on any layer: the members and their tar headers (hostile names,
links, PAX records, lying sizes), the `info/*.json` documents, the inner tar or
compressed streams, the zip container of a `.conda`, or the final bytes. Every
mutation is a pure function of a ``random.Random``, so a seed names an input.
"""

from __future__ import annotations

import bz2
import csv
import hashlib
import io
import json
import random
import tarfile
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from builders import CondaPackageBuilder

try:  # Python 3.14+
    from compression import zstd  # type: ignore[import-not-found]
except ImportError:
    from backports import zstd

Member = tuple[tarfile.TarInfo, bytes]
Hook = Callable[[bytes], bytes]


@dataclass(frozen=True, slots=True, kw_only=True)
class Parts:
    """A package taken apart; ``build()`` puts it together, through the hooks."""

    fmt: str  # "conda" or "tar.bz2"
    stem: str
    info: tuple[Member, ...]
    pkg: tuple[Member, ...]
    #: Applied to each inner tar before compression, to its compressed bytes, and to
    #: the finished archive.
    tar_hook: Hook | None = None
    stream_hook: Hook | None = None
    outer_hook: Hook | None = None
    #: Applied to the zip of a `.conda` as it is written.
    zip_hook: Callable[[zipfile.ZipFile, Parts], None] | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def filename(self) -> str:
        return f"{self.stem}.{self.fmt}"

    def build(self) -> bytes:
        if self.fmt == "tar.bz2":
            data = _compress("bz2", self._tar((*self.info, *self.pkg)))
            data = self.stream_hook(data) if self.stream_hook else data
        else:
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as zf:
                zf.writestr("metadata.json", b'{"conda_pkg_format_version": 2}')
                for kind, members in (("pkg", self.pkg), ("info", self.info)):
                    blob = _compress("zstd", self._tar(members))
                    blob = self.stream_hook(blob) if self.stream_hook else blob
                    zf.writestr(f"{kind}-{self.stem}.tar.zst", blob)
                if self.zip_hook:
                    with warnings.catch_warnings():  # a duplicate name is the point
                        warnings.simplefilter("ignore")
                        self.zip_hook(zf, self)
            data = buffer.getvalue()
        return self.outer_hook(data) if self.outer_hook else data

    def _tar(self, members: tuple[Member, ...]) -> bytes:
        raw = _plain_tar(members)
        return self.tar_hook(raw) if self.tar_hook else raw

    def info_json(self, name: str) -> object | None:
        for info, data in self.info:
            if info.name == f"info/{name}":
                try:
                    value: object = json.loads(data)
                except (ValueError, RecursionError):
                    return None
                return value
        return None

    def with_info(self, name: str, data: bytes) -> Parts:
        kept = tuple(m for m in self.info if m[0].name != f"info/{name}")
        return replace(self, info=(*kept, member(f"info/{name}", data)))


#: Most mutants share most of their seed's members: the tars and compressed streams
#: of small ones are kept, which halves the time of a fuzz run.
_CACHE: dict[object, bytes] = {}
_CACHE_LIMIT = 512 * 1024


def _cached(key: object, make: Callable[[], bytes]) -> bytes:
    if key in _CACHE:
        return _CACHE[key]
    value = make()
    if len(value) <= _CACHE_LIMIT:
        if len(_CACHE) > 2000:
            _CACHE.clear()
        _CACHE[key] = value
    return value


def _plain_tar(members: tuple[Member, ...]) -> bytes:
    def make() -> bytes:
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for info, data in members:
                tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
        return buffer.getvalue()

    if sum(len(data) for _info, data in members) > _CACHE_LIMIT:
        return make()
    return _cached(("tar", members), make)


def _compress(kind: str, data: bytes) -> bytes:
    def make() -> bytes:
        return bz2.compress(data, 1) if kind == "bz2" else zstd.compress(data, 1)

    return make() if len(data) > _CACHE_LIMIT else _cached((kind, data), make)


def member(
    name: str, data: bytes = b"", *, kind: bytes = tarfile.REGTYPE, link: str = ""
) -> Member:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    info.mode = 0o777 if kind == tarfile.SYMTYPE else 0o644
    info.mtime = 1_700_000_000
    return info, data


def parts_of(path: Path) -> Parts:
    """Take a well-formed package apart (seeds are trusted)."""
    fmt = "conda" if path.name.endswith(".conda") else "tar.bz2"
    stem = path.name.removesuffix(".conda").removesuffix(".tar.bz2")
    if fmt == "tar.bz2":
        everything = _members(bz2.decompress(path.read_bytes()))
        info = tuple(m for m in everything if m[0].name.startswith("info/"))
        pkg = tuple(m for m in everything if not m[0].name.startswith("info/"))
        return Parts(fmt=fmt, stem=stem, info=info, pkg=pkg)
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        comp = {n.split("-", 1)[0]: n for n in names if n.endswith(".tar.zst")}
        inner_stem = comp["info"].removeprefix("info-").removesuffix(".tar.zst")
        info = _members(zstd.decompress(zf.read(comp["info"])))
        pkg = _members(zstd.decompress(zf.read(comp["pkg"])))
    return Parts(fmt=fmt, stem=inner_stem, info=info, pkg=pkg)


def _members(tar_bytes: bytes) -> tuple[Member, ...]:
    out = []
    with tarfile.open(fileobj=io.BytesIO(tar_bytes), mode="r:") as tar:
        for info in tar:
            if info.isdir():
                continue
            data = tar.extractfile(info).read() if info.isreg() else b""  # type: ignore[union-attr]
            out.append((info, data))
    return tuple(out)


# -- seeds ---------------------------------------------------------------------


def built_seeds(folder: Path) -> list[Path]:
    """Small packages made in code, covering each layout the converter knows."""
    python = CondaPackageBuilder(
        name="fuzzpy", version="1.2.3", build="pyh0_0", noarch="python", license="MIT"
    )
    python.add_file("site-packages/fuzzpy/__init__.py", "X = 1\n")
    python.add_dist_info("fuzzpy", "1.2.3", entry_points="[console_scripts]\nfz = fuzzpy:X\n")
    python.add_entry_points(["fz = fuzzpy:X"])
    python.add_file("python-scripts/fz", "#!/usr/bin/env python\n", mode=0o755)
    native = CondaPackageBuilder(
        name="libfuzz", version="2.0", build="h1_1", build_number=1, depends=["libzlib >=1.2"]
    )
    native.add_file("lib/libfuzz.so.2.0", b"\x7fELF" + bytes(60) + b"not a real library")
    native.add_symlink("lib/libfuzz.so.2", "libfuzz.so.2.0")
    native.add_symlink("lib/libfuzz.so", "libfuzz.so.2")
    native.add_hardlink("lib/libfuzz-copy.so", "lib/libfuzz.so.2.0")
    native.add_file("include/fuzz.h", "int fuzz(void);\n")
    native.add_file(
        "bin/fuzz-config",
        "#!/opt/anaconda1anaconda2anaconda3/bin/sh\necho /opt/anaconda1anaconda2anaconda3\n",
        mode=0o755,
        prefix_placeholder="/opt/anaconda1anaconda2anaconda3",
    )
    native.add_file("share/fuzz/data.txt", "data\n" * 20)
    mixed = CondaPackageBuilder(name="fuzzmix", version="0.1", build="py312h2_0")
    mixed.add_file("lib/python3.12/site-packages/fuzzmix.py", "Y = 2\n")
    mixed.add_dist_info("fuzzmix", "0.1", metadata_extra="Requires-Dist: six")
    mixed.add_file("etc/fuzzmix.conf", "[x]\n")
    legacy = CondaPackageBuilder(name="oldfuzz", version="1.0", build="0", subdir="linux-64")
    legacy.add_file("share/oldfuzz/a.txt", "/opt/anaconda1anaconda2anaconda3/a\n")
    legacy.add_info_file(
        "has_prefix", '/opt/anaconda1anaconda2anaconda3 text "share/oldfuzz/a.txt"\n'
    )
    seeds = []
    for builder in (python, native, mixed):
        for fmt in ("conda", "tar.bz2"):
            seeds.append(builder.build(folder / fmt, fmt))
    seeds.append(legacy.build(folder / "legacy", "tar.bz2", omit_paths_json=True))
    return seeds


def corpus_seeds(corpus: Path, *, per_format: int = 4) -> list[Path]:
    """The smallest whole real packages of each format (not the `stripped` ones,
    whose payload is gone), so that a run stays quick."""
    with (corpus / "CATALOG.tsv").open(newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    whole = [
        corpus / row["file"]
        for row in rows
        if row["file"].startswith("real/") and row["synthetic"] != "stripped"
    ]
    seeds: list[Path] = []
    for suffix in (".conda", ".tar.bz2"):
        found = sorted(
            (p for p in whole if p.name.endswith(suffix)), key=lambda p: p.stat().st_size
        )
        seeds += found[:per_format]
    return seeds


# -- mutations -----------------------------------------------------------------

#: Strings that must not reach a file name or METADATA unchecked.
ODD_STRINGS = (
    "",
    " ",
    "a b",
    "x\ny",
    "x\rSubject: injected",
    "x\x00y",
    "../../etc",
    "a/b",
    "a\\b",
    "\u202efdp",
    "\udc80bad",
    "x" * 300,
    "é" * 130,
    "0_[]",
    "-1",
    "a-b-c",
    "1.0-1",
    "*",
    "C:",
    "\t",
    "ﬀ",
    "1" * 40,
)
ODD_VALUES: tuple[object, ...] = (
    *ODD_STRINGS,
    None,
    True,
    -5,
    0,
    2**63,
    1.5,
    [],
    {},
    ["a"],
    {"a": 1},
)


def _deep(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def _huge_int(digits: int) -> bytes:
    return b"9" * digits


def _set_random(rng: random.Random, doc: object, value: object) -> object:
    """``doc`` with one randomly chosen place (or a new key) set to ``value``."""
    if isinstance(doc, dict) and doc and rng.random() < 0.85:
        key = rng.choice(sorted(doc))
        if rng.random() < 0.5 and isinstance(doc[key], dict | list) and doc[key]:
            return {**doc, key: _set_random(rng, doc[key], value)}
        return {**doc, key: value}
    if isinstance(doc, list) and doc:
        index = rng.randrange(len(doc))
        copy = list(doc)
        if rng.random() < 0.6 and isinstance(copy[index], dict | list):
            copy[index] = _set_random(rng, copy[index], value)
        else:
            copy[index] = value
        return copy
    if isinstance(doc, dict):
        return {**doc, rng.choice(("name", "build", "_path", "x")): value}
    return value


def mutate_json(rng: random.Random, parts: Parts) -> Parts:
    names = [m[0].name.removeprefix("info/") for m in parts.info if m[0].name.endswith(".json")]
    name = rng.choice(sorted(names)) if names else "index.json"
    doc = parts.info_json(name)
    base = doc if isinstance(doc, dict) else {}
    roll = rng.random()
    if roll < 0.12:
        return parts.with_info(name, _deep(rng.choice((50, 5_000, 200_000))))
    if roll < 0.2:
        text = json.dumps(_set_random(rng, doc, 0))
        return parts.with_info(
            name, text.replace(" 0", " " + _huge_int(rng.choice((5000, 50))).decode(), 1).encode()
        )
    if roll < 0.27:
        text = json.dumps(_set_random(rng, doc, "DEEP"))
        nested = _deep(rng.choice((100, 3000))).decode()
        return parts.with_info(name, text.replace('"DEEP"', nested, 1).encode())
    if roll < 0.33:
        return parts.with_info(name, rng.choice((b"\xff\xfe{}", b"{", b"null", b"[]", b"")))
    if name == "about.json" and rng.random() < 0.7:
        key = rng.choice(("summary", "description", "home", "dev_url", "doc_url", "license"))
        value = rng.choice(ODD_VALUES)
        return parts.with_info(name, json.dumps({**base, key: value}).encode())
    if name == "index.json" and rng.random() < 0.5:
        key = rng.choice(
            ("name", "version", "build", "build_number", "subdir", "timestamp", "license")
        )
        value = rng.choice(ODD_VALUES)
        return parts.with_info(name, json.dumps({**base, key: value}).encode())
    value = rng.choice(ODD_VALUES)
    return parts.with_info(name, json.dumps(_set_random(rng, doc, value)).encode())


def mutate_paths_entry(rng: random.Random, parts: Parts) -> Parts:
    doc = parts.info_json("paths.json")
    if not isinstance(doc, dict) or not isinstance(doc.get("paths"), list) or not doc["paths"]:
        return mutate_json(rng, parts)
    entries = list(doc["paths"])
    index = rng.randrange(len(entries))
    if not isinstance(entries[index], dict):
        return mutate_json(rng, parts)
    key = rng.choice(("_path", "path_type", "sha256", "size_in_bytes", "prefix_placeholder"))
    value = rng.choice((*ODD_VALUES, "softlink", "directory", 10**12, -1, "bin/\nx"))
    entries[index] = {**entries[index], key: value}
    return parts.with_info("paths.json", json.dumps({**doc, "paths": entries}).encode())


def mutate_has_prefix(rng: random.Random, parts: Parts) -> Parts:
    lines = (
        b'/opt/anaconda1anaconda2anaconda3 text "share/oldfuzz/a.txt',
        b"'unbalanced",
        b'a b c d e "f',
        b"\xff\xfe",
        b"/p binary ../../x",
        b"x" * 5000,
    )
    return parts.with_info("has_prefix", rng.choice(lines) + b"\n")


HOSTILE_NAMES = (
    "../escape.txt",
    "/abs/path.txt",
    "a/../../b.txt",
    "./lib/../../c",
    "C:/windows/x",
    "lib/\nnewline",
    "lib/x\x00y",
    "lib/" + "n" * 300,
    "lib/" + "/".join(["d"] * 200) + "/f",
    "info/index.json",
    "lib/\udcff\udcfe",
    "site-packages/fuzzpy-1.2.3.data/scripts/evil",
    "lib/python3.12/site-packages/fuzzmix-0.1.data/scripts/evil",
)


def hostile_member(rng: random.Random, parts: Parts) -> Parts:
    name = rng.choice(HOSTILE_NAMES)
    roll = rng.random()
    if roll < 0.4:
        added = member(name, b"payload\n")
    elif roll < 0.55:
        added = member(name, kind=tarfile.SYMTYPE, link=rng.choice(("../../etc/passwd", "/etc")))
    elif roll < 0.7:
        added = member(name, kind=tarfile.LNKTYPE, link=rng.choice(("../x", name, "/etc/passwd")))
    else:
        added = member(name, kind=rng.choice((tarfile.CHRTYPE, tarfile.FIFOTYPE, b"Z")))
    listed = rng.random() < 0.5
    result = replace(parts, pkg=(*parts.pkg, added))
    return _listed(result, added[0], b"payload\n") if listed else result


def _listed(parts: Parts, info: tarfile.TarInfo, data: bytes) -> Parts:
    """``parts`` with ``info`` also in paths.json."""
    return _all_listed(parts, [(info, data)])


def _all_listed(parts: Parts, members: list[Member]) -> Parts:
    doc = parts.info_json("paths.json")
    if not isinstance(doc, dict) or not isinstance(doc.get("paths"), list):
        return parts
    entries = [
        {
            "_path": info.name,
            "path_type": "softlink" if info.issym() else "hardlink",
            "sha256": hashlib.sha256(data).hexdigest(),
            "size_in_bytes": len(data) if info.isreg() else 0,
        }
        for info, data in members
        if info.name.isprintable()
    ]
    doc = {**doc, "paths": [*doc["paths"], *entries]}
    return parts.with_info("paths.json", json.dumps(doc).encode())


def link_shapes(rng: random.Random, parts: Parts) -> Parts:
    shape = rng.choice(("chain", "loop", "self-hard", "dir-escape", "dir-loop", "dangling"))
    added: list[Member] = []
    if shape == "chain":
        added = [member("lib/c0", b"end\n")]
        added += [
            member(f"lib/c{i}", kind=tarfile.SYMTYPE, link=f"c{i - 1}") for i in range(1, 300)
        ]
    elif shape == "loop":
        added = [
            member("lib/la", kind=tarfile.SYMTYPE, link="lb"),
            member("lib/lb", kind=tarfile.SYMTYPE, link="la"),
        ]
    elif shape == "self-hard":
        added = [member("lib/self", kind=tarfile.LNKTYPE, link="lib/self")]
    elif shape == "dir-escape":
        added = [
            member("lib/up", kind=tarfile.SYMTYPE, link=".."),
            member("lib/out", kind=tarfile.SYMTYPE, link="up/../etc"),
        ]
    elif shape == "dir-loop":
        added = [member("lib/me", kind=tarfile.SYMTYPE, link=".")]
    else:
        added = [member("lib/nowhere", kind=tarfile.SYMTYPE, link="missing")]
    result = replace(parts, pkg=(*parts.pkg, *added))
    result = _all_listed(result, added)
    return result


def pax_headers(rng: random.Random, parts: Parts) -> Parts:
    size = rng.choice((10**12, 10**18, 2**63, 10**5))
    info, data = member("share/pax-liar.bin", b"tiny")
    records = rng.choice(
        (
            {"size": str(size)},
            {"path": "../../pax-escape"},
            {"linkpath": "/etc/passwd"},
            {"path": "lib/\udcff".encode("utf-8", "surrogateescape").decode("latin-1")},
            {"hdrcharset": "BINARY", "path": "lib/\xff"},
            {"mtime": "nan"},
            {"uid": "9" * 5000},
        )
    )
    info.pax_headers = records
    target = rng.choice(("pkg", "info"))
    if target == "info":
        return replace(parts, info=(*parts.info, (info, data)))
    result = replace(parts, pkg=(*parts.pkg, (info, data)))
    return _listed(result, info, data) if rng.random() < 0.3 else result


def bomb(rng: random.Random, parts: Parts) -> Parts:
    kind = rng.choice(("big-file", "many-files", "big-info"))
    if kind == "big-file":
        data = bytes(rng.choice((8, 40)) * 1024 * 1024)
        info, _ = member("share/bomb.bin", data)
        result = replace(parts, pkg=(*parts.pkg, (info, data)))
        return _listed(result, info, data) if rng.random() < 0.5 else result
    if kind == "many-files":
        many = tuple(member(f"share/many/{i}", b"") for i in range(rng.choice((2000, 8000))))
        return replace(parts, pkg=(*parts.pkg, *many))
    doc = parts.info_json("index.json")
    padded = json.dumps(doc).encode() + b" " * (2 * 1024 * 1024)
    return parts.with_info("index.json", padded)


def _flip(rng: random.Random, data: bytes, count: int) -> bytes:
    if not data:
        return data
    buf = bytearray(data)
    for _ in range(count):
        buf[rng.randrange(len(buf))] ^= 1 << rng.randrange(8)
    return bytes(buf)


def _cut(rng: random.Random, data: bytes) -> bytes:
    return data[: rng.randrange(len(data))] if data else data


def byte_damage(rng: random.Random, parts: Parts) -> Parts:
    layer = rng.choice(("outer", "stream", "tar"))
    action = rng.choice(("flip", "flip-many", "cut", "junk"))

    def hook(data: bytes) -> bytes:
        if action == "flip":
            return _flip(rng, data, 1)
        if action == "flip-many":
            return _flip(rng, data, rng.randint(2, 40))
        if action == "cut":
            return _cut(rng, data)
        at = rng.randrange(len(data) + 1)
        return data[:at] + rng.randbytes(rng.randint(1, 600)) + data[at:]

    return replace(parts, **{f"{layer}_hook": hook})  # type: ignore[arg-type]


def zip_oddity(rng: random.Random, parts: Parts) -> Parts:
    if parts.fmt != "conda":
        return byte_damage(rng, parts)
    odd = rng.choice(("encrypted", "version", "method", "extra-component", "dup"))

    def zip_hook(zf: zipfile.ZipFile, whole: Parts) -> None:
        if odd in ("extra-component", "dup"):
            name = f"pkg-{whole.stem}.tar.zst" if odd == "dup" else "pkg-other.tar.zst"
            zf.writestr(name, zstd.compress(b"", 1))

    def outer(data: bytes) -> bytes:
        buf = bytearray(data)
        # The central directory entry of the first component: set its flag, version
        # or method so that zipfile refuses to read it.
        at = buf.find(b"PK\x01\x02", 0)
        local = buf.find(b"PK\x03\x04", 40)
        for pos in (at, local):
            if pos < 0:
                continue
            base = pos + (6 if pos == at else 4)
            if odd == "encrypted":
                buf[base + 2] |= 1
            elif odd == "version":
                buf[base] = 99
            elif odd == "method":
                buf[base + 4] = 99
        return bytes(buf)

    return replace(parts, zip_hook=zip_hook, outer_hook=outer)


DIST_INFO_DAMAGE = (
    b"\xff\xfe not UTF-8",
    b"Metadata-Version: 2.1\nName: \xff\nVersion: 1.0\n",
    b"Metadata-Version: 2.1\nName: a b/c\nVersion: 1.0\n",
    b"Metadata-Version: 2.1\nName: x\nVersion: not a version\n",
    b"Metadata-Version: 2.1\nName: x\nVersion: 1.0\nRequires-Dist: ((\n",
    b"Name: x\r\n\r\nbody",
    b"[console_scripts]\nbad name = x:y\n[\n",
    b"[console_scripts]\n" + b"a = b:c\n" * 2000,
    b"",
    b"Version: " + b"9" * 5000 + b"\n",
)


def damage_dist_info(rng: random.Random, parts: Parts) -> Parts:
    """Rewrite a file of the package's own dist-info, paths.json following suit."""
    candidates = [m for m in parts.pkg if ".dist-info/" in m[0].name and m[0].isreg()]
    if not candidates:
        return mutate_json(rng, parts)
    info, _ = rng.choice(candidates)
    data = rng.choice(DIST_INFO_DAMAGE)
    changed = member(info.name, data)
    pkg = tuple(changed if m[0].name == info.name else m for m in parts.pkg)
    result = replace(parts, pkg=pkg)
    doc = parts.info_json("paths.json")
    if isinstance(doc, dict) and isinstance(doc.get("paths"), list):
        entries = [
            {**e, "sha256": hashlib.sha256(data).hexdigest(), "size_in_bytes": len(data)}
            if isinstance(e, dict) and e.get("_path") == info.name
            else e
            for e in doc["paths"]
        ]
        result = result.with_info("paths.json", json.dumps({**doc, "paths": entries}).encode())
    return result


MUTATORS: dict[str, Callable[[random.Random, Parts], Parts]] = {
    "dist-info": damage_dist_info,
    "none": lambda rng, parts: parts,
    "json": mutate_json,
    "paths-entry": mutate_paths_entry,
    "has-prefix": mutate_has_prefix,
    "hostile-member": hostile_member,
    "links": link_shapes,
    "pax": pax_headers,
    "bomb": bomb,
    "bytes": byte_damage,
    "zip": zip_oddity,
}
#: How often each mutation is drawn: cheap, varied ones more often.
WEIGHTS = {
    "dist-info": 2,
    "none": 1,
    "json": 6,
    "paths-entry": 3,
    "has-prefix": 1,
    "hostile-member": 3,
    "links": 2,
    "pax": 2,
    "bomb": 0.25,
    "bytes": 6,
    "zip": 1,
}


def mutant(seed: Parts, rng: random.Random, *, rounds: int) -> tuple[Parts, list[str]]:
    """``seed`` after ``rounds`` mutations drawn by weight; returns their names too."""
    names = list(MUTATORS)
    chosen = rng.choices(names, weights=[WEIGHTS[n] for n in names], k=rounds)
    parts = seed
    for name in chosen:
        parts = MUTATORS[name](rng, parts)
    return parts, chosen
