"""Links in a payload, written into the wheel as copies of what they name.

Wheels hold no links. Once every file of the payload is written, each link is resolved
(within the package: a link leaving it is an error) and written as a copy of the file it
names, unless it is a SONAME-chain link that nothing needs; a link to a folder copies
what the folder holds.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass

from condawheel.conda.package import UNTRUSTED
from condawheel.conda.path_table import PathEntry
from condawheel.conda.source import MemberKind
from condawheel.conversion.layout import Destination, Layout, Scheme
from condawheel.conversion.links import (
    LinkError,
    is_needless_chain_link,
    joined_target,
    link_target,
    resolve,
)
from condawheel.conversion.payload_state import PayloadState
from condawheel.exceptions import BadInputError
from condawheel.quoting import quote

#: Writes the file written for conda path ``source`` again, for conda path ``path``.
CopyFile = Callable[[str, str, Destination], None]


def write_links(
    state: PayloadState,
    *,
    label: str,
    layout: Layout,
    entry_of: Callable[[str], PathEntry | None],
    copy: CopyFile,
) -> None:
    """Write every link in ``state.links`` through ``copy``."""
    _LinkWriter(state=state, label=label, layout=layout, entry_of=entry_of, copy=copy).run()


@dataclass(frozen=True, slots=True, kw_only=True)
class _LinkWriter:
    state: PayloadState
    label: str
    layout: Layout
    entry_of: Callable[[str], PathEntry | None]
    copy: CopyFile

    def run(self) -> None:
        state = self.state
        targets: dict[str, str] = {}
        for member in state.links:
            if member.link_target is None:
                targets[member.path] = self._file_with_hash(member.path)
                continue
            if member.kind is MemberKind.HARDLINK:
                if member.link_target == member.path:
                    raise BadInputError(
                        f"{self.label}: hard link {quote(member.path)} names itself: the "
                        "package is damaged; download or build it again"
                    )
                targets[member.path] = member.link_target
                continue
            try:
                link_target(member.path, member.link_target)  # refuses a plain escape
            except LinkError as exc:
                raise BadInputError(f"{self.label}: {exc}; {UNTRUSTED}") from None
            targets[member.path] = joined_target(member.path, member.link_target)
        needed = frozenset(n for b in state.binaries.values() for n in b.info.needed)
        finals: dict[str, str] = {}
        for member in state.links:
            try:
                finals[member.path] = resolve(member.path, targets)
            except LinkError as exc:
                advice = UNTRUSTED if "outside" in str(exc) else "the package is damaged"
                raise BadInputError(f"{self.label}: {exc}; {advice}") from None
        chains: dict[str, list[str]] = {}
        for path, final in finals.items():
            chains.setdefault(final, []).append(posixpath.basename(path))
        directories = {}
        for path, final in sorted(finals.items()):
            if final in state.written:
                self._copy_link(path, final, needed, chains[final])
            else:
                directories[path] = final
        self._copy_directory_links(directories)

    def _copy_directory_links(self, links: dict[str, str]) -> None:
        """Copy what each link to a directory holds. Repeated until nothing changes,
        since a directory may hold links to directories itself."""
        state = self.state
        for path, final in list(links.items()):
            if final == "." or path.startswith(final + "/"):
                state.warnings.append(f"{path}: links to a folder holding it (a loop); left out")
                del links[path]
        while True:
            before = len(state.written)
            for path, final in links.items():
                if self.layout.destination(path).scheme in (Scheme.METADATA, Scheme.DROP):
                    continue
                for inner in sorted(p for p in state.written if p.startswith(final + "/")):
                    inner_path = path + inner[len(final) :]
                    self.copy(inner_path, inner, self.layout.destination(inner_path))
            if len(state.written) == before:
                break
        for path, final in links.items():
            if not any(p.startswith(path + "/") for p in state.written):
                state.warnings.append(
                    f"{path}: links to {final}, which this package does not hold; left out"
                )

    def _file_with_hash(self, path: str) -> str:
        entry = self.entry_of(path)
        wanted = entry.sha256 if entry else None
        found = sorted(
            p
            for p, w in self.state.written.items()
            if wanted and w.checked and (e := self.entry_of(p)) is not None and e.sha256 == wanted
        )
        if not found:
            raise BadInputError(
                f"{self.label}: {path} is listed as a symlink but stored without its "
                "target, and no file in the package has its content: the package is damaged; "
                "download or build it again"
            )
        self.state.warnings.append(
            f"{path}: symlink stored without its target; restored from {found[0]}"
        )
        return found[0]

    def _copy_link(self, path: str, final: str, needed: frozenset[str], chain: list[str]) -> None:
        state = self.state
        destination = self.layout.destination(path)
        if destination.scheme in (Scheme.METADATA, Scheme.DROP):
            state.notes.append(f"{path}: a link inside metadata; left out")
            return
        binary = state.binaries.get(final)
        soname = binary.info.soname if binary else None
        if is_needless_chain_link(posixpath.basename(path), soname, needed, chain):
            state.notes.append(f"{path}: SONAME-chain link that nothing needs; left out")
            return
        self.copy(path, final, destination)
