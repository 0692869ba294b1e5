"""meta.yaml recipes: conda-build from PATH, or a clear message naming what to install.

conda-build is a conda package (not on PyPI) and this machine has no conda channel, so
the build itself is done by a stand-in ``conda-build`` executable that honours the part
of conda-build's command line condawheel relies on: ``--output-folder`` receives
``<subdir>/<package>``, ``--croot`` holds the work folders with the host environment,
``-c`` channels, ``-m``/``--variants``, ``--no-test``, exit status and log on stdout.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

from condawheel.building.conda_build import build_with_conda_build
from condawheel.building.recipes import BuildFailedError, BuildOptions, Recipe
from paths import SUPPORT

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="a POSIX stand-in script")

TESTS = SUPPORT

STAND_IN = """\
#!{python}
# A stand-in for conda-build: records its arguments and writes one package.
import json, os, sys
from pathlib import Path
sys.path.insert(0, {tests!r})
from builders import CondaPackageBuilder

args = sys.argv[1:]
Path(os.environ["STAND_IN_ARGS"]).write_text(json.dumps(args))
print("conda-build: rendering", args[0], flush=True)
if os.environ.get("STAND_IN_FAIL"):
    print("gcc: error: answer.c: No such file or directory", flush=True)
    sys.exit(1)
out = Path(args[args.index("--output-folder") + 1])
croot = Path(args[args.index("--croot") + 1])
meta = croot / "metapkg_1700000000" / ("_h_env" + "_placehold" * 3) / "conda-meta"
meta.mkdir(parents=True)
(meta / "libfoo-1.2-h0_0.json").write_text(json.dumps({{"name": "libfoo"}}))
builder = CondaPackageBuilder(name="metapkg", version="1.0", noarch="python")
builder.add_file("site-packages/metapkg/__init__.py", "")
builder.build(out / "noarch")
print("conda-build: done", flush=True)
"""


@pytest.fixture
def stand_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "conda-build"
    script.write_text(STAND_IN.format(python=sys.executable, tests=str(TESTS)))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("STAND_IN_ARGS", str(tmp_path / "args.json"))
    return tmp_path / "args.json"


def _recipe(tmp_path: Path) -> Recipe:
    folder = tmp_path / "recipe"
    folder.mkdir()
    (folder / "meta.yaml").write_text("package: {name: metapkg, version: '1.0'}\n")
    return Recipe.find(folder)


def test_without_conda_build_on_path_the_message_names_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with (
        pytest.raises(BuildFailedError, match="conda-build, which is not on PATH; install it"),
        build_with_conda_build(_recipe(tmp_path), tmp_path / "c", BuildOptions(), on_log=print),
    ):
        pass


def test_conda_build_gets_channels_variants_and_scratch_folders(
    stand_in: Path, tmp_path: Path
) -> None:
    channel = tmp_path / "out" / "conda"
    (channel / "noarch").mkdir(parents=True)
    recipe = _recipe(tmp_path)
    options = BuildOptions(
        channels=("conda-forge",),
        variants={"python": ("3.12",)},
        variant_files=(tmp_path / "cbc.yaml",),
        target_platform="linux-aarch64",
    )
    lines: list[str] = []
    with build_with_conda_build(
        recipe, channel, options, on_log=lines.append, run_tests=False
    ) as built:
        (package,) = built.packages
        assert package.name == "metapkg-1.0-0.conda"
        assert package.parent.name == "noarch"
        (host,) = built.host_prefixes
        assert (host / "conda-meta" / "libfoo-1.2-h0_0.json").is_file()
        scratch = package.parents[2]
    assert not scratch.exists()
    assert lines[0].startswith("conda-build: rendering")
    args = json.loads(stand_in.read_text())
    assert args[0] == str(recipe.directory)
    assert args[args.index("-c") + 1 :][:3] == [channel.as_uri(), "-c", "conda-forge"]
    assert args[args.index("-m") + 1] == str(tmp_path / "cbc.yaml")
    variants = json.loads(args[args.index("--variants") + 1])
    assert variants == {"python": ["3.12"], "target_platform": ["linux-aarch64"]}
    assert "--no-test" in args
    assert "--no-anaconda-upload" in args


def test_a_failed_conda_build_raises_with_its_last_line_and_log_tail(
    stand_in: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STAND_IN_FAIL", "1")
    with (
        pytest.raises(
            BuildFailedError, match=r"conda-build exit 1\): gcc: error: answer\.c"
        ) as caught,
        build_with_conda_build(_recipe(tmp_path), tmp_path / "c", BuildOptions(), on_log=print),
    ):
        pass
    assert caught.value.log_tail[0].startswith("conda-build: rendering")
