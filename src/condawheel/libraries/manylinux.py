"""auditwheel's manylinux policies, as a standalone wheel is judged by them.

A policy names the libraries every such system has (its whitelist) and the newest
symbol version of each family (``GLIBC``, ``GLIBCXX``, ``CXXABI``, ``GCC``...) they
provide. A wheel satisfies it when every library it loads from the system is
whitelisted and needs no newer version than the policy lists. The policies are read
from auditwheel itself, so the tag written is one ``auditwheel show`` knows; but
auditwheel, which never bundles a whitelisted runtime, also counts the versions a
wheel needs from its bundled copy of one, so for such a wheel it names a newer
policy than the wheel needs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache

from condawheel.exceptions import BadInputError

#: glibc's own libraries: no wheel may bundle them, whatever version they need.
GLIBC_LIBRARIES = frozenset(
    {
        "libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2", "librt.so.1",
        "libutil.so.1", "libnsl.so.1", "libanl.so.1", "libresolv.so.2", "libcrypt.so.1",
        "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1", "ld64.so.2", "ld64.so.1",
        "ld-linux.so.2", "ld-linux-armhf.so.3", "ld-linux-riscv64-lp64d.so.1",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class ManylinuxPolicy:
    """One manylinux policy for one architecture."""

    #: ``manylinux_2_17_x86_64``.
    name: str
    #: ``("manylinux2014_x86_64",)``: legacy names of the same policy.
    aliases: tuple[str, ...]
    whitelist: frozenset[str]
    #: Family -> every version of it the policy allows: ``{"GLIBC": {"2.17", ...}}``.
    symbol_versions: Mapping[str, frozenset[str]]

    @property
    def glibc(self) -> tuple[int, int]:
        major, minor = self.name.split("_")[1:3]
        return int(major), int(minor)

    @property
    def tag(self) -> str:
        """The platform tag, with the legacy alias that older installers read."""
        return ".".join((self.name, *self.aliases))

    def too_new(self, versions: Iterable[str]) -> list[str]:
        """The symbol versions (``GLIBCXX_3.4.30``) of the families the policy knows
        that it does not provide, sorted."""
        found = []
        for version in versions:
            family, _, number = version.partition("_")
            allowed = self.symbol_versions.get(family)
            if allowed is not None and number not in allowed:
                found.append(version)
        return sorted(found, key=version_key)


def policies(arch: str) -> tuple[ManylinuxPolicy, ...]:
    """auditwheel's manylinux policies for wheel architecture ``arch`` (``x86_64``), the
    most portable first. BadInputError for an architecture no policy covers."""
    found = _policies(arch)
    if not found:
        raise BadInputError(
            f"no manylinux policy covers the architecture {arch}: a standalone Linux wheel "
            "needs one of x86_64, i686, aarch64, ppc64le, s390x, armv7l, riscv64"
        )
    return found


@cache
def _policies(arch: str) -> tuple[ManylinuxPolicy, ...]:
    from auditwheel.architecture import Architecture
    from auditwheel.libc import Libc
    from auditwheel.policy import WheelPolicies

    try:
        machine = Architecture(arch)
    except ValueError:
        return ()
    found = [
        ManylinuxPolicy(
            name=policy.name,
            aliases=policy.aliases,
            whitelist=policy.whitelist,
            symbol_versions={
                family: frozenset(versions) for family, versions in policy.symbol_versions.items()
            },
        )
        for policy in WheelPolicies(libc=Libc.GLIBC, arch=machine)
        if policy.name.startswith("manylinux_")
    ]
    return tuple(sorted(found, key=lambda policy: policy.glibc))


def version_key(version: str) -> tuple[str, tuple[int, ...]]:
    """``GLIBC_2.17`` < ``GLIBC_2.3.4``? No: by family, then numerically."""
    family, _, number = version.partition("_")
    return family, tuple(int(part) if part.isdigit() else -1 for part in number.split("."))
