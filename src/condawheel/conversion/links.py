"""Symlinks and hardlinks: wheels cannot hold links, so links become copies."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping

_MAX_HOPS = 40


class LinkError(ValueError):
    """A link that cannot be resolved inside the package."""


def resolve(path: str, links: Mapping[str, str]) -> str:
    """What ``path`` names once every link on the way is followed, as the file system
    would: component by component, so that `..` after a link to a folder goes up from
    where that link leads. ``links`` maps a link's package path to its target, joined
    to the link's folder (`lib/up/../etc`, not normalised). The package root is ".".

    Raises LinkError for a loop, a chain longer than the loader follows, or a path
    that resolves outside the package.
    """
    pending = [p for p in path.split("/") if p not in ("", ".")]
    done: list[str] = []
    states: set[tuple[str, ...]] = set()
    hops = 0
    while pending:
        part = pending.pop(0)
        if part == "..":
            if not done:
                raise LinkError(f"{path} resolves outside the package")
            done.pop()
            continue
        done.append(part)
        current = "/".join(done)
        if current not in links:
            continue
        state = (current, *pending)
        if state in states:
            raise LinkError(f"{path}: symlink loop")
        states.add(state)
        hops += 1
        if hops > _MAX_HOPS:
            raise LinkError(f"{path}: a chain of more than {_MAX_HOPS} links")
        pending = [p for p in links[current].split("/") if p not in ("", ".")] + pending
        done = []
    return "/".join(done) or "."


def joined_target(path: str, target: str) -> str:
    """A symlink's target joined to the link's folder, not normalised (see resolve)."""
    return posixpath.join(posixpath.dirname(path), target)


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
