"""Real conda packages from ``recipes-sample/``, built offline, and environments made from them.

``build_recipes`` builds recipes with py-rattler-build into a local file channel (each
build can use what the ones before it produced) and indexes it with py-rattler;
``create_environment`` solves and installs specs from such a channel with py-rattler, as
conda would, ``conda-meta`` records included. ``sample_channel`` builds the samples once
per test session.

Nothing here uses the network. Only ``file://`` channels are accepted, rattler's caches
live next to the output, and HTTP(S) proxies point at a closed port while rattler works,
so that an accidental download fails at once instead of reaching the network.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from builders import CondaPackageBuilder
from condawheel.building.recipes import index_channel
from condawheel.conda import coroutines as rattler_run

__all__ = [
    "MIRROR_BROKEN",
    "MIRROR_GOOD",
    "RECIPES",
    "RECIPES_SAMPLE",
    "RecipeBuildError",
    "build_mirror_channel",
    "build_recipes",
    "build_small_channel",
    "convert_samples",
    "copy_channel",
    "create_environment",
    "failing_recipe",
    "find_package",
    "mirror_output",
    "mirror_package",
    "offline",
    "sample_channel",
]

#: The sample recipes, in the order they must be built (pyanswer needs libanswer).
RECIPES_SAMPLE = Path(__file__).resolve().parents[2] / "recipes-sample"
RECIPES = ("libanswer", "pyanswer", "hello-noarch")

_CLOSED_PORT = "http://127.0.0.1:9"  # discard: nothing listens, a connection is refused
_PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy")
_LOG_TAIL = 40


class RecipeBuildError(RuntimeError):
    """A recipe failed to build; the message ends with the tail of rattler-build's log."""


class _Recorder:
    """A py-rattler-build progress callback that keeps the log and every download."""

    def __init__(self) -> None:
        self.log: list[str] = []
        self.downloads: list[str] = []

    def on_download_start(self, event: Any) -> None:
        self.downloads.append(event.url)

    def on_download_progress(self, event: Any) -> None:
        pass

    def on_download_complete(self, event: Any) -> None:
        pass

    def on_build_step(self, event: Any) -> None:
        self.log.append(f"[{event.step_name}] {event.message}")

    def on_log(self, event: Any) -> None:
        self.log.append(
            event.message if event.level == "info" else f"{event.level}: {event.message}"
        )


@contextmanager
def offline(cache_dir: Path) -> Iterator[None]:
    """Rattler's cache in ``cache_dir``, and any HTTP(S) connection refused."""
    saved = {name: os.environ.get(name) for name in (*_PROXY_VARIABLES, "NO_PROXY", "no_proxy")}
    saved["RATTLER_CACHE_DIR"] = os.environ.get("RATTLER_CACHE_DIR")
    try:
        for name in _PROXY_VARIABLES:
            os.environ[name] = _CLOSED_PORT
        os.environ.pop("NO_PROXY", None)
        os.environ.pop("no_proxy", None)
        os.environ["RATTLER_CACHE_DIR"] = str(cache_dir)
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _file_channels(channels: Sequence[str | Path]) -> list[str]:
    urls = []
    for channel in channels:
        url = Path(channel).resolve().as_uri() if isinstance(channel, Path) else channel
        if not url.startswith("file://"):
            raise ValueError(f"not a local file channel: {url!r} (these helpers never download)")
        urls.append(url)
    return urls


def _python_version(python: str) -> str:
    out = subprocess.run(
        [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def build_recipes(
    output_dir: Path,
    recipes: Sequence[str | Path] = RECIPES,
    *,
    python: str | Path = sys.executable,
    channels: Sequence[str | Path] = (),
    cache_dir: Path | None = None,
) -> Path:
    """Build ``recipes`` in order into ``output_dir``, which becomes an indexed local channel.

    A recipe is a name in ``recipes-sample/`` or a path to a recipe directory or file. Each
    build solves its build and host requirements from ``output_dir`` itself (so a recipe
    finds the packages built before it) and from ``channels``, which must be ``file://``
    URLs or paths. ``python`` is the interpreter extension recipes compile for: it is
    passed as the variant keys ``python_exe`` and ``python_version``, which recipes that
    do not use them ignore. Rattler's package cache is ``cache_dir`` (by default a folder
    beside ``output_dir``, never inside the channel). Returns ``output_dir``, with packages
    in ``output_dir/<subdir>/``. Raises RecipeBuildError, with the log's tail, on failure.
    """
    from rattler_build import RattlerBuildError, Stage0Recipe, ToolConfiguration, VariantConfig

    output_dir = Path(output_dir).resolve()
    output_dir.mkdir(parents=True, exist_ok=True)
    cache_dir = cache_dir or output_dir.with_name(f"{output_dir.name}-rattler-cache")
    python = str(python)
    variants = VariantConfig({"python_exe": [python], "python_version": [_python_version(python)]})
    urls = [output_dir.as_uri(), *_file_channels(channels)]
    with offline(cache_dir):
        for recipe in recipes:
            path = Path(recipe) if isinstance(recipe, Path) else RECIPES_SAMPLE / recipe
            if path.is_dir():
                path = path / "recipe.yaml"
            recorder = _Recorder()
            try:
                Stage0Recipe.from_file(path).run_build(
                    variant_config=variants,
                    tool_config=ToolConfiguration(test_strategy="skip"),
                    output_dir=output_dir,
                    channels=urls,
                    progress_callback=recorder,
                    no_build_id=True,
                )
            except RattlerBuildError as exc:
                tail = "\n".join(recorder.log[-_LOG_TAIL:])
                raise RecipeBuildError(f"{path} failed to build: {exc}\n{tail}") from exc
            remote = [url for url in recorder.downloads if not url.startswith("file:")]
            if remote:
                raise RecipeBuildError(f"{path}: the build downloaded {remote}")
    index_channel(output_dir)
    return output_dir


def build_small_channel(channel: Path) -> Path:
    """An indexed channel made in code, for solves: noarch app 1.0 (``.tar.bz2``) and 2.0
    (``.conda``) need py-foo (whose PyPI name is foo-dist), and osx-arm64 macthing needs
    macOS 12."""
    from builders import CondaPackageBuilder

    noarch = channel / "noarch"
    (
        CondaPackageBuilder(name="py-foo", version="1.0", build="pyh0_0", noarch="python")
        .add_file("site-packages/foo/__init__.py", "X = 1\n")
        .add_dist_info("foo-dist", "1.0")
        .build(noarch)
    )
    apps = {
        version: CondaPackageBuilder(
            name="app", version=version, build="pyh0_0", noarch="python", depends=["py-foo >=1"]
        )
        .add_file("site-packages/app/__init__.py", f"VERSION = {version!r}\n")
        .add_dist_info("app", version)
        for version in ("1.0", "2.0")
    }
    apps["1.0"].build(noarch, "tar.bz2")  # the older format, kept as it is in the cache
    apps["2.0"].build(noarch, "conda")
    (
        CondaPackageBuilder(
            name="macthing", version="1.0", build="h0_0", subdir="osx-arm64", depends=["__osx >=12"]
        )
        .add_file("share/macthing.txt", "for a Mac\n")
        .build(channel / "osx-arm64")
    )
    index_channel(channel)
    return channel


#: The builds of `build_mirror_channel` that convert, as ``subdir/file name``.
MIRROR_GOOD = (
    "linux-64/libgamma-1.0-h0_0.conda",
    "linux-64/libgamma-1.1-h0_0.tar.bz2",
    "noarch/data-beta-1.0-0.conda",
    "noarch/py-alpha-1.0-pyh0_0.conda",
    "noarch/py-alpha-1.1-pyh0_0.conda",
)
#: The one that does not: a link that leaves the package.
MIRROR_BROKEN = "linux-64/broken-1.0-h0_0.conda"


def mirror_package(name: str, version: str, content: str = "") -> CondaPackageBuilder:
    """One package of `build_mirror_channel` (``content`` changes its bytes)."""
    from builders import CondaPackageBuilder

    if name == "py-alpha":
        return (
            CondaPackageBuilder(name=name, version=version, build="pyh0_0", noarch="python")
            .add_file("site-packages/alpha/__init__.py", f"VERSION = {version!r}{content}\n")
            .add_dist_info("alpha", version)
        )
    if name == "data-beta":
        builder = CondaPackageBuilder(name=name, version=version, noarch="generic")
        return builder.add_file("share/beta/data.txt", f"beta {version}{content}\n")
    builder = CondaPackageBuilder(name=name, version=version, build="h0_0", subdir="linux-64")
    builder.add_file(f"share/{name}/README", f"{name} {version}{content}\n")
    if name == "broken":
        builder.add_symlink("share/broken/passwd", "../../../../etc/passwd")
    return builder


def mirror_output(folder: Path) -> dict[str, bytes]:
    """Every file a mirror wrote in ``folder`` and its bytes, but the facts it keeps
    about each wheel for the index (``.condawheel-mirror/.wheels/``), which hold the
    wheels' times of change and so differ between two runs that wrote the same wheels."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.parent.name != ".wheels"
    }


def build_mirror_channel(channel: Path) -> Path:
    """An indexed channel for mirroring, made in code: noarch py-alpha 1.0 and 1.1 (1.1
    as both .conda and .tar.bz2, as channels hold them), noarch data-beta; linux-64
    libgamma 1.0 (.conda) and 1.1 (.tar.bz2), and broken, which cannot be converted
    (MIRROR_GOOD, MIRROR_BROKEN)."""
    noarch, linux = channel / "noarch", channel / "linux-64"
    mirror_package("py-alpha", "1.0").build(noarch)
    mirror_package("py-alpha", "1.1").build(noarch, "conda")
    mirror_package("py-alpha", "1.1").build(noarch, "tar.bz2")
    mirror_package("data-beta", "1.0").build(noarch)
    mirror_package("libgamma", "1.0").build(linux)
    mirror_package("libgamma", "1.1").build(linux, "tar.bz2")
    mirror_package("broken", "1.0").build(linux)
    index_channel(channel)
    return channel


def copy_channel(channel: Path, dest: Path) -> Path:
    """The subdirs of ``channel`` (packages and repodata), to change without harm."""
    for subdir in channel.iterdir():
        if (subdir / "repodata.json").is_file():
            shutil.copytree(subdir, dest / subdir.name)
    return dest


def failing_recipe(folder: Path) -> Path:
    """A recipe whose build script reports a compiler error and exits 3."""
    folder.mkdir(parents=True)
    (folder / "recipe.yaml").write_text(
        "package: {name: broken, version: '1.0'}\n"
        "build:\n  script:\n"
        "    - echo 'broken.c:1 error - expected a semicolon' >&2\n"
        "    - exit 3\n"
    )
    return folder


def convert_samples(channel: Path, dist: Path, names: Sequence[str] = RECIPES) -> dict[str, Path]:
    """The wheels of the packages ``names`` in the channel, converted knowing the channel."""
    from condawheel.conversion.core import convert
    from condawheel.conversion.plan import ConvertOptions

    options = ConvertOptions(with_sources=(channel,))
    return {name: convert(find_package(channel, name), dist, options).wheel for name in names}


def find_package(channel: Path, name: str) -> Path:
    """The one package named ``name`` in the local channel (any subdir, either format)."""
    found = [
        path
        for subdir in sorted(channel.iterdir())
        if subdir.is_dir()
        for path in sorted(subdir.iterdir())
        if path.name.endswith((".conda", ".tar.bz2"))
        and path.name.removesuffix(".conda").removesuffix(".tar.bz2").rsplit("-", 2)[0] == name
    ]
    if len(found) != 1:
        raise LookupError(f"expected one {name} package in {channel}, found {found}")
    return found[0]


def create_environment(
    prefix: Path,
    channel: Path | str,
    specs: Sequence[str],
    *,
    cache_dir: Path | None = None,
) -> Path:
    """Solve ``specs`` against the local ``channel`` and install them into ``prefix``.

    py-rattler does what conda does: it links the packages and writes a
    ``conda-meta/<name>-<version>-<build>.json`` record for each. The solve sees this
    machine's virtual packages (``__glibc``...). Returns ``prefix``.
    """
    import rattler
    from rattler import Channel, Gateway, MatchSpec, Subdir, VirtualPackage

    prefix = Path(prefix).resolve()
    cache_dir = cache_dir or prefix.with_name(f"{prefix.name}-rattler-cache")
    (url,) = _file_channels([channel])
    platform = Subdir.current()

    async def solve_and_install() -> None:
        records = await rattler.solve(
            sources=[Channel(url)],
            specs=list(specs),
            gateway=Gateway(cache_dir=cache_dir / "repodata"),
            platforms=[platform, Subdir("noarch")],
            virtual_packages=VirtualPackage.detect(),
        )
        requested: list[Any] = [MatchSpec(spec) for spec in specs]
        install = partial(
            rattler.install,
            records,
            prefix,
            cache_dir=cache_dir / "pkgs",
            platform=platform,
            show_progress=False,
        )
        try:
            await install(requested_specs=requested)
        except TypeError as exc:
            # py-rattler 0.28 hands requested_specs to Rust without unwrapping them; the
            # argument is checked before anything is installed, so retry with the inner specs.
            if "PyMatchSpec" not in str(exc):
                raise
            await install(requested_specs=[spec._match_spec for spec in requested])

    with offline(cache_dir):
        rattler_run.run(solve_and_install())
    return prefix


_SESSION_CHANNELS: dict[tuple[Path, tuple[str, ...]], Path] = {}


def sample_channel(
    tmp_path_factory: pytest.TempPathFactory, recipes: Sequence[str] = RECIPES
) -> Path:
    """The channel of ``recipes`` built once per test session, for every test module."""
    key = (tmp_path_factory.getbasetemp(), tuple(recipes))
    if key not in _SESSION_CHANNELS:
        _SESSION_CHANNELS[key] = build_recipes(tmp_path_factory.mktemp("channel"), recipes)
    return _SESSION_CHANNELS[key]
