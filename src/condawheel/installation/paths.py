"""Where a wheel's files may go, and which installed files may be removed, judged on
the real file system: existing symlinks are followed, so `lib64 -> lib` or a link
leading out of the prefix cannot smuggle a write past the checks.

A file may be written, or removed, only inside the prefix, outside `conda-meta/` (and
condawheel's own `.condawheel/`), never on a file a conda record lists; a file never
replaces a folder, nor a folder a file. On a case-insensitive file system the
comparisons ignore case, as the file system does.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

#: Top-level folders of the prefix that no wheel writes into or removes from.
PROTECTED = ("conda-meta", ".condawheel")


@dataclass(frozen=True, slots=True, kw_only=True)
class PrefixGuard:
    """The prefix, its real path, and who owns what in it."""

    prefix: Path
    real: Path
    case_insensitive: bool
    #: Prefix-relative paths (case-folded where the file system ignores case) -> the
    #: label of the conda package whose record lists it.
    owners: Mapping[str, str]
    name_max: int = 255
    path_max: int = 4096

    @classmethod
    def of(cls, prefix: Path, owners: Mapping[str, str]) -> PrefixGuard:
        real = Path(os.path.realpath(prefix))
        insensitive = is_case_insensitive(real)
        fold = str.casefold if insensitive else str
        return cls(
            prefix=prefix,
            real=real,
            case_insensitive=insensitive,
            owners={fold(path): label for path, label in owners.items()},
            name_max=_limit(real, "PC_NAME_MAX", 255),
            path_max=_limit(real, "PC_PATH_MAX", 4096),
        )

    def key(self, path: Path) -> str | None:
        """``path`` resolved through existing links (its last part left as is), relative
        to the real prefix in conda's spelling; None when it resolves outside."""
        target = Path(os.path.realpath(path.parent)) / path.name
        try:
            relative = PurePosixPath(*target.relative_to(self.real).parts).as_posix()
        except ValueError:
            return None
        return relative.casefold() if self.case_insensitive else relative

    def refuse_write(self, path: Path) -> str | None:
        """Why a file may not be written at ``path``, or None when it may."""
        try:
            return self._too_long(path) or self._refuse_location(path) or self._refuse_kind(path)
        except OSError as exc:
            return f"{str(path)[:200]} cannot be checked ({exc.strerror})"

    def _refuse_kind(self, path: Path) -> str | None:
        if path.is_dir():
            return f"would replace the folder {path} with a file"
        if path.is_symlink() and self.key(Path(os.path.realpath(path))) is None:
            return f"{path} is a symlink leading out of the prefix ({os.path.realpath(path)})"
        ancestor = path.parent
        while not os.path.lexists(ancestor) and ancestor != ancestor.parent:
            ancestor = ancestor.parent
        if not ancestor.is_dir():
            return f"would replace the file {ancestor} with a folder"
        return None

    def refuse_remove(self, path: Path) -> str | None:
        """Why an installed file listed in a RECORD may not be removed, or None."""
        try:
            return self._too_long(path) or self._refuse_location(path)
        except OSError as exc:
            return f"{str(path)[:200]} cannot be checked ({exc.strerror})"

    def _refuse_location(self, path: Path) -> str | None:
        key = self.key(path)
        if key is None:
            where = Path(os.path.realpath(path.parent)) / path.name
            return f"{path} is outside the prefix {self.prefix} (it resolves to {where})"
        top = key.split("/")[0]
        if top in PROTECTED or key in PROTECTED:
            return f"{path} is in {top}/, which belongs to conda (or to condawheel)"
        owner = self.owner(path)
        if owner is not None:
            return f"{path} is a file of conda package {owner}"
        return None

    def owner(self, path: Path) -> str | None:
        """The conda package whose record lists ``path``, as named or as resolved (the
        real file behind a link in the prefix is what a write or removal would change)."""
        key = self.key(path)
        lexical = os.path.relpath(os.path.normpath(path), os.path.normpath(self.prefix))
        lexical = lexical.replace(os.sep, "/")
        keys = [key, lexical.casefold() if self.case_insensitive else lexical]
        if os.path.islink(path):  # noqa: PTH114  (False, not an error, for a name too long)
            keys.append(self.key(Path(os.path.realpath(path))))
        return next((self.owners[k] for k in keys if k is not None and k in self.owners), None)

    def _too_long(self, path: Path) -> str | None:
        for part in path.parts:
            if len(os.fsencode(part)) > self.name_max:
                return f"the name {part[:40]}... is longer than the file system allows"
        if len(os.fsencode(str(path))) >= self.path_max:
            return f"the path {str(path)[:60]}... is longer than the file system allows"
        return None


def is_case_insensitive(real_prefix: Path) -> bool:
    """Whether the prefix's file system ignores case: `conda-meta` is there, so ask
    for it in upper case (creating nothing)."""
    upper = real_prefix / "CONDA-META"
    try:
        return upper.exists() and upper.samefile(real_prefix / "conda-meta")
    except OSError:
        return False


def _limit(path: Path, name: str, default: int) -> int:
    try:
        return int(os.pathconf(path, name))
    except (OSError, ValueError, AttributeError):
        return default


@dataclass(frozen=True, slots=True, kw_only=True)
class Destination:
    """One file a wheel of the call writes."""

    wheel: str
    member: str
    path: Path


def clashes(guard: PrefixGuard, destinations: Sequence[Destination]) -> list[tuple[str, str]]:
    """Files of the call that land on one another (two wheels, or two members that
    differ only in case on a case-insensitive file system), and a file one member
    writes where another needs a folder. Returns (wheel, problem) pairs."""
    seen: dict[str, Destination] = {}
    problems: list[tuple[str, str]] = []
    for item in destinations:
        key = guard.key(item.path) or str(item.path)
        other = seen.setdefault(key, item)
        if other is not item:
            if other.wheel != item.wheel:
                problems.append(
                    (
                        item.wheel,
                        f"{item.path} is also written by {other.wheel}; install them separately",
                    )
                )
            else:
                problems.append(
                    (
                        item.wheel,
                        f"member {item.member}: lands on the same file as "
                        f"{other.member} (the file system ignores case)",
                    )
                )
    for key, item in seen.items():
        for parent in _parents(key):
            if parent in seen:
                problems.append(
                    (
                        item.wheel,
                        f"member {item.member}: needs {seen[parent].path} as a "
                        f"folder, which member {seen[parent].member} writes as a file",
                    )
                )
                break
    return problems


def _parents(key: str) -> Iterable[str]:
    parts = key.split("/")
    for end in range(1, len(parts)):
        yield "/".join(parts[:end])
