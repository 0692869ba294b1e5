"""The `[tool.cibuildwheel.linux]` block that builds conda-tagged wheels in docker/'s image."""

from __future__ import annotations

from condawheel.exceptions import ConfigurationError

# conda subdir -> cibuildwheel architecture (also the image option's suffix).
ARCHITECTURES = {"linux-64": "x86_64", "linux-aarch64": "aarch64"}

# The CPythons docker/manylinux-interpreters can create (keep the two lists equal;
# tests/test_docker_scripts.py checks that they are).
PYTHONS = ("3.10", "3.11", "3.12", "3.13", "3.14")

DEFAULT_IMAGE = "<registry>/condawheel-{subdir}:latest"

REPAIR_COMMAND = "condawheel repair -w {dest_dir} {wheel}"


def _toml_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def cibuildwheel_config(subdir: str, image: str | None = None, abi3: str | None = None) -> str:
    """The TOML text for `subdir`; `abi3` ("3.X") limits the build to that one CPython.

    Raises ConfigurationError for a subdir with no container (macOS, Windows) or an
    unknown one, and for an `abi3` version the image does not provide.
    """
    arch = ARCHITECTURES.get(subdir)
    if arch is None:
        supported = ", ".join(ARCHITECTURES)
        raise ConfigurationError(
            f"no cibuildwheel container for subdir {subdir!r}: cibuildwheel runs macOS and "
            f"Windows builds without a container, so only Linux has an image; "
            f"supported: {supported}"
        )
    image = image or DEFAULT_IMAGE.format(subdir=subdir)
    if abi3 is not None:
        if abi3 not in PYTHONS:
            raise ConfigurationError(
                f"--abi3 {abi3!r}: expected one of the image's Pythons: {', '.join(PYTHONS)}"
            )
        identifier = "cp3" + abi3.split(".")[1]
        build = f"{identifier}-manylinux_*"
        build_comment = (
            f"# abi3: one build on the oldest CPython the wheel supports ({abi3});\n"
            "# its cp3X-abi3 wheel serves every later CPython."
        )
    else:
        # Each CPython the image has, by name: `cp3*` would also select the CPythons
        # cibuildwheel knows but the image lacks (3.9, 3.15 in cibuildwheel 4.3) and
        # the free-threaded cp3XYt builds.
        build = " ".join(f"cp3{v.split('.')[1]}-manylinux_*" for v in PYTHONS)
        build_comment = (
            f"# CPython {PYTHONS[0]}-{PYTHONS[-1]} only: the image has one conda environment\n"
            "# per CPython, no PyPy, no free-threaded build, no musllinux.\n"
            "# For an abi3 (Limited API) project, build one Python instead:\n"
            f"# condawheel cibuildwheel-config --subdir {subdir} --abi3 {PYTHONS[0]}"
        )
    lines = [
        f"# Printed by: condawheel cibuildwheel-config --subdir {subdir}",
        "[tool.cibuildwheel.linux]",
        f"# The image built from condawheel's docker/ for {subdir} (see docker/README.md).",
        f"manylinux-{arch}-image = {_toml_string(image)}",
        f"archs = [{_toml_string(arch)}]",
        build_comment,
        f"build = {_toml_string(build)}",
        "# Makes each wheel use the conda environment's libraries and tags it conda_linux_*.",
        f"repair-wheel-command = {_toml_string(REPAIR_COMMAND)}",
        "# The repaired wheel is conda-tagged: pip in cibuildwheel's test virtualenv",
        "# cannot install it, so cibuildwheel's tests are skipped; test it in a conda",
        "# environment with `condawheel install` instead.",
        'test-skip = "*"',
    ]
    return "\n".join(lines) + "\n"
