"""`condawheel index`: the static simple index's pages, hashes and metadata files."""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest

from clirun import one_line, run_cli
from condawheel.exceptions import BadInputError, ConfigurationError, NothingToDoError
from condawheel.publishing.static_index import build_index, check_base_url, wheel_url
from wheelmaker import make_wheel

CONDA_TAG = "cp312-cp312-conda_linux_2_17_x86_64"


class _Anchors(HTMLParser):
    """Every <a>: its attributes, unescaped as a browser or pip reads them, and text."""

    def __init__(self) -> None:
        super().__init__()
        self.anchors: list[tuple[dict[str, str | None], str]] = []
        self._open: dict[str, str | None] | None = None
        self.meta: dict[str, str | None] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._open = dict(attrs)
        elif tag == "meta" and dict(attrs).get("name"):
            self.meta[str(dict(attrs)["name"])] = dict(attrs).get("content")

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self.anchors.append((self._open, data))
            self._open = None


def _anchors(page: Path) -> _Anchors:
    parser = _Anchors()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _metadata(wheel: Path) -> bytes:
    with zipfile.ZipFile(wheel) as archive:
        (member,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return archive.read(member)


def _tree(directory: Path) -> dict[str, bytes]:
    return {
        p.relative_to(directory).as_posix(): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file() and not p.name.endswith(".whl")
    }


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    dist = tmp_path / "dist"
    make_wheel(dist, "Foo.Bar", "1.0", tag=CONDA_TAG, requires_python=">=3.9, <4")
    make_wheel(dist, "Foo.Bar", "1.1+local.2", tag=CONDA_TAG, requires_python=">=3.10")
    make_wheel(dist, "zeta", "0.1", requires_dist=["foo-bar>=1"])
    return dist


def test_pages_links_and_hashes(dist: Path) -> None:
    result = build_index(dist)
    root = dist / "simple"
    assert result.root == root
    assert sorted(result.projects) == ["foo-bar", "zeta"]

    index = _anchors(root / "index.html")
    assert index.meta["pypi:repository-version"] == "1.1"
    # normalized names in the links (PEP 503); the newest wheel's Name as the text
    assert index.anchors == [({"href": "foo-bar/"}, "Foo.Bar"), ({"href": "zeta/"}, "zeta")]

    page = _anchors(root / "foo-bar" / "index.html")
    wheels = sorted(dist.glob("foo_bar-*.whl"))
    assert [text for _, text in page.anchors] == [w.name for w in wheels]
    for (attributes, _), wheel, requires in zip(
        page.anchors, wheels, [">=3.9, <4", ">=3.10"], strict=True
    ):
        href = str(attributes["href"])
        assert href == f"../../{wheel.name.replace('+', '%2B')}#sha256={_sha256(wheel)}"
        assert attributes["data-requires-python"] == requires
        metadata_file = dist / f"{wheel.name}.metadata"
        assert metadata_file.read_bytes() == _metadata(wheel)
        digest = f"sha256={_sha256(metadata_file)}"
        assert attributes["data-core-metadata"] == digest
        assert attributes["data-dist-info-metadata"] == digest

    ((zeta, _),) = _anchors(root / "zeta" / "index.html").anchors
    assert "data-requires-python" not in zeta  # its METADATA has none


def test_requires_python_is_escaped(dist: Path) -> None:
    build_index(dist)
    raw = (dist / "simple" / "foo-bar" / "index.html").read_text(encoding="utf-8")
    assert 'data-requires-python="&gt;=3.9, &lt;4"' in raw
    assert '">=3.9' not in raw and "<4" not in raw


def test_json_pages(dist: Path) -> None:
    build_index(dist)
    root = json.loads((dist / "simple" / "index.json").read_text(encoding="utf-8"))
    assert root == {
        "meta": {"api-version": "1.1"},
        "projects": [{"name": "Foo.Bar"}, {"name": "zeta"}],
    }
    page = json.loads((dist / "simple" / "foo-bar" / "index.json").read_text(encoding="utf-8"))
    assert page["meta"] == {"api-version": "1.1"}
    assert page["name"] == "foo-bar"
    assert page["versions"] == ["1.0", "1.1+local.2"]
    wheels = sorted(dist.glob("foo_bar-*.whl"))
    assert [f["filename"] for f in page["files"]] == [w.name for w in wheels]
    first = page["files"][0]
    assert first == {
        "filename": wheels[0].name,
        "url": f"../../{wheels[0].name}",
        "hashes": {"sha256": _sha256(wheels[0])},
        "size": wheels[0].stat().st_size,
        "requires-python": ">=3.9, <4",
        "core-metadata": {"sha256": _sha256(dist / f"{wheels[0].name}.metadata")},
        "dist-info-metadata": {"sha256": _sha256(dist / f"{wheels[0].name}.metadata")},
    }
    zeta = json.loads((dist / "simple" / "zeta" / "index.json").read_text(encoding="utf-8"))
    assert "requires-python" not in zeta["files"][0]


def test_output_is_deterministic_and_rerunning_changes_nothing(dist: Path, tmp_path: Path) -> None:
    first = build_index(dist)
    assert len(first.written) == 3 + 2 * 2 + 2  # metadata files, project pages, root pages
    tree = _tree(dist)
    again = build_index(dist)
    assert again.written == () and again.removed == ()
    assert _tree(dist) == tree

    other = tmp_path / "copy"
    other.mkdir()
    for wheel in sorted(dist.glob("*.whl"), reverse=True):  # another order on disk
        shutil.copy(wheel, other / wheel.name)
    build_index(other)
    assert _tree(other) == tree
    assert not [p for p in dist.rglob("*") if p.name.endswith(".part")]
    assert (dist / "simple" / "index.html").stat().st_mode & 0o777 == 0o644


def test_rerunning_follows_the_folder(dist: Path) -> None:
    build_index(dist)
    for wheel in dist.glob("zeta-*.whl"):
        wheel.unlink()
    newer = make_wheel(dist, "Foo.Bar", "2.0", tag=CONDA_TAG)
    result = build_index(dist)
    assert sorted(p.relative_to(dist).as_posix() for p in result.removed) == [
        "simple/zeta/index.html",
        "simple/zeta/index.json",
        "zeta-0.1-py3-none-any.whl.metadata",
    ]
    assert not (dist / "simple" / "zeta").exists()
    assert [a["href"] for a, _ in _anchors(dist / "simple" / "index.html").anchors] == ["foo-bar/"]
    page = _anchors(dist / "simple" / "foo-bar" / "index.html")
    assert newer.name in [text for _, text in page.anchors]
    assert dist / f"{newer.name}.metadata" in result.written


def test_base_url(dist: Path) -> None:
    build_index(dist, base_url="https://wheels.example.org/files")
    wheel = sorted(dist.glob("foo_bar-*.whl"))[1]
    page = _anchors(dist / "simple" / "foo-bar" / "index.html")
    quoted = wheel.name.replace("+", "%2B")
    assert page.anchors[1][0]["href"] == (
        f"https://wheels.example.org/files/{quoted}#sha256={_sha256(wheel)}"
    )
    data = json.loads((dist / "simple" / "foo-bar" / "index.json").read_text(encoding="utf-8"))
    assert data["files"][1]["url"] == f"https://wheels.example.org/files/{quoted}"

    assert check_base_url("/files") == "/files/"
    assert wheel_url("a-1-py3-none-any.whl", None) == "../../a-1-py3-none-any.whl"
    for bad in ("wheels.example.org", "ftp://host/", "https://host/?x=1", "https://host/#f"):
        with pytest.raises(ConfigurationError):
            build_index(dist, base_url=bad)


def test_invalid_wheels_are_refused_before_anything_is_written(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    make_wheel(dist, "good", "1.0")
    (dist / "broken-1.0-py3-none-any.whl").write_bytes(b"not a zip")
    with pytest.raises(BadInputError, match=r"broken-1\.0-py3-none-any\.whl: not a readable wheel"):
        build_index(dist)
    assert sorted(p.name for p in dist.iterdir()) == [
        "broken-1.0-py3-none-any.whl",
        "good-1.0-py3-none-any.whl",
    ]

    (dist / "broken-1.0-py3-none-any.whl").unlink()
    make_wheel(dist, "liar", "1.0", metadata_name="other")
    with pytest.raises(BadInputError, match=r"file name says liar 1\.0, its METADATA says other"):
        build_index(dist)

    (dist / "liar-1.0-py3-none-any.whl").unlink()
    make_wheel(dist, "older", "1.0", metadata_version="0.9")
    with pytest.raises(BadInputError, match=r"METADATA says older 0\.9"):
        build_index(dist)


def test_empty_or_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(NothingToDoError) as empty:
        build_index(tmp_path)
    assert empty.value.exit_code == 3
    with pytest.raises(BadInputError):
        build_index(tmp_path / "nowhere")


def test_cli(dist: Path, tmp_path: Path) -> None:
    done = run_cli(tmp_path, "index", dist)
    assert done.returncode == 0, done.stderr
    assert "indexed 3 wheel(s) of 2 project(s)" in done.stdout
    done = run_cli(tmp_path, "index", dist, "--json")
    report = json.loads(done.stdout)
    assert report["written"] == [] and sorted(report["projects"]) == ["foo-bar", "zeta"]

    (dist / "bad-1.0-py3-none-any.whl").write_bytes(b"junk")
    done = run_cli(tmp_path, "index", dist)
    assert done.returncode == 2
    assert "bad-1.0-py3-none-any.whl: not a readable wheel" in one_line(done.stderr)

    empty = tmp_path / "empty"
    empty.mkdir()
    done = run_cli(tmp_path, "index", empty)
    assert done.returncode == 3
    assert "no wheels (*.whl) to index" in one_line(done.stderr)

    done = run_cli(tmp_path, "index", dist, "--base-url", "not a url")
    assert done.returncode == 2
    assert "--base-url" in one_line(done.stderr)

    helped = run_cli(tmp_path, "index", "--help")
    assert "application/vnd.pypi.simple.v1+json" in helped.stdout
    assert "condawheel install foo --index-url" in helped.stdout


def test_what_is_known_of_a_wheel_is_not_read_again(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    make_wheel(dist, "alpha", "1.0")
    first = build_index(dist)
    facts = {w.path: w for w in first.wheels}
    pages = _tree(dist)
    again = build_index(dist, known=facts.get)
    assert again.written == () and _tree(dist) == pages
    # A wheel that no longer matches what is known of it is an error, not a wrong page.
    (dist / f"{first.wheels[0].filename}.metadata").unlink()
    stale = {path: replace(w, metadata_sha256="0" * 64) for path, w in facts.items()}
    with pytest.raises(BadInputError, match="changed while being indexed; index again"):
        build_index(dist, known=stale.get)
