"""Symlinks and hardlinks: wheels cannot hold links, so links become copies."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping

_MAX_HOPS = 40


class LinkError(ValueError):
    """A link that cannot be resolved inside the package."""


def resolve(path: str, links: Mapping[str, str]) -> str:
    """Follow ``path`` through ``links`` (package path -> package path) to what it names."""
    seen = 0
    while path in links:
        path = links[path]
        seen += 1
        if seen > _MAX_HOPS:
            raise LinkError(f"{path}: symlink loop")
    return path


def link_target(path: str, target: str) -> str:
    """A symlink's target as a package path (targets are relative to the link's folder)."""
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(path), target))
    if joined.startswith("../") or joined == ".." or posixpath.isabs(joined):
        raise LinkError(f"{path} -> {target} escapes the package")
    return joined


def linker_name(chain: Iterable[str]) -> str:
    """The name a linker looks for (`-lfoo` finds `libfoo.so`, `libglib-2.0.dylib`):
    the shortest of the names in one library's link chain."""
    return min(chain, key=lambda name: (len(name), name))


def is_needless_chain_link(
    link_name: str, soname: str | None, needed_anywhere: frozenset[str], chain: Iterable[str]
) -> bool:
    """True for an intermediate SONAME-chain link (`libfoo.so.1.2 -> libfoo.so.1.2.3`)
    that neither the loader (SONAME), the linker (shortest name of the ``chain`` of
    links to the library) nor any binary needs."""
    if soname is None:
        return False
    return (
        link_name != posixpath.basename(soname)
        and link_name != linker_name([link_name, *chain])
        and link_name not in needed_anywhere
    )
