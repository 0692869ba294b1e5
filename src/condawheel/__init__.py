"""condawheel: turn conda packages into wheels that use conda's shared libraries.

The public API. Each name is imported when first used, so that ``import condawheel``
(and the command line, which lives under it) stays quick::

    from condawheel import ConvertOptions, convert

    result = convert(Path("foo-1.2-py312h1234_0.conda"), Path("dist"), ConvertOptions())

Errors are :class:`CondawheelError` subclasses that carry an exit code; the library
never prints or exits.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from condawheel.version import __version__

if TYPE_CHECKING:
    from condawheel.building.core import BuildResult, build
    from condawheel.building.recipes import BuildOptions
    from condawheel.conversion.batch import BatchItem, convert_many
    from condawheel.conversion.core import ConvertResult, convert, inspect_package
    from condawheel.conversion.plan import ConvertOptions
    from condawheel.conversion.repair import RepairOptions, RepairResult, inspect_wheel, repair
    from condawheel.exceptions import (
        BadInputError,
        CondawheelError,
        ConfigurationError,
        NothingToDoError,
    )
    from condawheel.installation.core import install, plan_install
    from condawheel.installation.model import InstallOptions, InstallPlan, InstallResult
    from condawheel.mirroring.core import MirroredBuild, MirrorOptions, MirrorResult, mirror
    from condawheel.mirroring.shard import Shard
    from condawheel.publishing.core import PublishResult, publish
    from condawheel.publishing.static_index import IndexResult, build_index
    from condawheel.publishing.target import PublishOptions

#: Where each public name is defined.
_HOMES = {
    "BuildOptions": "condawheel.building.recipes",
    "BuildResult": "condawheel.building.core",
    "build": "condawheel.building.core",
    "ConvertOptions": "condawheel.conversion.plan",
    "BatchItem": "condawheel.conversion.batch",
    "convert_many": "condawheel.conversion.batch",
    "ConvertResult": "condawheel.conversion.core",
    "convert": "condawheel.conversion.core",
    "inspect_package": "condawheel.conversion.core",
    "RepairOptions": "condawheel.conversion.repair",
    "RepairResult": "condawheel.conversion.repair",
    "inspect_wheel": "condawheel.conversion.repair",
    "repair": "condawheel.conversion.repair",
    "BadInputError": "condawheel.exceptions",
    "CondawheelError": "condawheel.exceptions",
    "ConfigurationError": "condawheel.exceptions",
    "NothingToDoError": "condawheel.exceptions",
    "InstallOptions": "condawheel.installation.model",
    "InstallPlan": "condawheel.installation.model",
    "InstallResult": "condawheel.installation.model",
    "install": "condawheel.installation.core",
    "plan_install": "condawheel.installation.core",
    "MirrorOptions": "condawheel.mirroring.core",
    "MirrorResult": "condawheel.mirroring.core",
    "MirroredBuild": "condawheel.mirroring.core",
    "Shard": "condawheel.mirroring.shard",
    "mirror": "condawheel.mirroring.core",
    "PublishOptions": "condawheel.publishing.target",
    "PublishResult": "condawheel.publishing.core",
    "publish": "condawheel.publishing.core",
    "IndexResult": "condawheel.publishing.static_index",
    "build_index": "condawheel.publishing.static_index",
}

__all__ = [
    "BadInputError",
    "BatchItem",
    "BuildOptions",
    "BuildResult",
    "CondawheelError",
    "ConfigurationError",
    "ConvertOptions",
    "ConvertResult",
    "IndexResult",
    "InstallOptions",
    "InstallPlan",
    "InstallResult",
    "MirrorOptions",
    "MirrorResult",
    "MirroredBuild",
    "NothingToDoError",
    "PublishOptions",
    "PublishResult",
    "RepairOptions",
    "RepairResult",
    "Shard",
    "__version__",
    "build",
    "build_index",
    "convert",
    "convert_many",
    "inspect_package",
    "inspect_wheel",
    "install",
    "mirror",
    "plan_install",
    "publish",
    "repair",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'condawheel' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return __all__
