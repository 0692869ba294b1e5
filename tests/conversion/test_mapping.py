"""The published conda-to-PyPI mapping: downloaded into the cache on demand, then used
by conversions; nothing fetched otherwise."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from builders import CondaPackageBuilder
from clirun import one_line, run_cli
from condawheel.conversion.mapping import load_mapping, mapping_path, parse_mapping, update_mapping
from condawheel.exceptions import BadInputError
from servers import free_port
from validator import validate_wheel

PUBLISHED = {
    "py-foo": "foo-dist",
    "pandoc": None,
    "one-of-one": ["only-dist"],
    "several": ["dist-a", "dist-b"],
}


def _published(tmp_path: Path, data: object = PUBLISHED) -> str:
    path = tmp_path / "compressed_mapping.json"
    path.write_text(json.dumps(data))
    return path.as_uri()


def test_update_caches_the_mapping_and_reports_what_changed(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = update_mapping(cache, _published(tmp_path))
    assert first.path == mapping_path(cache)
    assert (first.entries, first.python, first.changed) == (3, 2, True)
    assert dict(load_mapping(first.path)) == {
        "py-foo": "foo-dist",
        "pandoc": None,
        "one-of-one": "only-dist",
    }  # "several" names no single distribution to require
    again = update_mapping(cache, _published(tmp_path))
    assert not again.changed
    assert [p.name for p in first.path.parent.iterdir()] == ["conda-pypi.json"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not json", "not a JSON name mapping"),
        (b"[1, 2]", "expected a JSON object"),
        (b'{"x": 3}', "'x' maps to 3, not a name"),
    ],
)
def test_a_malformed_mapping_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(BadInputError, match=message):
        parse_mapping(data, "mapping.json")


def test_a_failed_download_keeps_the_cached_mapping(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    update_mapping(cache, _published(tmp_path))
    before = mapping_path(cache).read_bytes()
    with pytest.raises(BadInputError, match="cannot download the name mapping"):
        update_mapping(cache, f"http://127.0.0.1:{free_port()}/mapping.json")
    (tmp_path / "string").mkdir()
    with pytest.raises(BadInputError, match="expected a JSON object"):
        update_mapping(cache, _published(tmp_path / "string", "x"))  # a JSON string
    assert mapping_path(cache).read_bytes() == before


def test_conversions_use_the_cached_mapping_after_update(tmp_path: Path) -> None:
    package = (
        CondaPackageBuilder(name="app", version="1.0", noarch="python", depends=["py-foo >=1"])
        .add_file("site-packages/app/__init__.py", "")
        .build(tmp_path / "pkgs")
    )
    env = {"XDG_CACHE_HOME": str(tmp_path / "xdg")}
    before = run_cli(tmp_path, "convert", package, "-w", tmp_path / "a", env=env)
    assert before.returncode == 0, before.stderr
    requires = validate_wheel(next((tmp_path / "a").glob("*.whl"))).metadata.requires_dist
    assert [str(r) for r in requires or []] == ["py-foo>=1"]  # the conda name, assumed

    done = run_cli(tmp_path, "mapping", "update", "--url", _published(tmp_path), "--json", env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["path"] == str(
        tmp_path / "xdg" / "condawheel" / "mapping" / "conda-pypi.json"
    )

    after = run_cli(tmp_path, "convert", package, "-w", tmp_path / "b", env=env)
    assert after.returncode == 0, after.stderr
    requires = validate_wheel(next((tmp_path / "b").glob("*.whl"))).metadata.requires_dist
    assert [str(r) for r in requires or []] == ["foo-dist>=1"]


def test_an_unreachable_mapping_url_is_one_line_and_exit_2(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/mapping.json"
    done = run_cli(
        tmp_path, "mapping", "update", "--url", url, env={"XDG_CACHE_HOME": str(tmp_path)}
    )
    assert done.returncode == 2
    assert "cannot download the name mapping" in one_line(done.stderr)
