"""Read the facts condawheel needs from an ELF file, with pyelftools."""

from __future__ import annotations

import re
from itertools import islice
from typing import BinaryIO

from elftools.elf.dynamic import DynamicSegment
from elftools.elf.elffile import ELFFile
from elftools.elf.gnuversions import GNUVerNeedSection

from condawheel.binaries.model import BinaryFormat, BinaryInfo, BinaryReadError

# (e_machine, ELF class, little-endian) -> wheel platform-tag architecture.
_ARCHES: dict[tuple[str, int, bool], str] = {
    ("EM_X86_64", 64, True): "x86_64",
    ("EM_386", 32, True): "i686",
    ("EM_AARCH64", 64, True): "aarch64",
    ("EM_AARCH64", 64, False): "aarch64_be",
    ("EM_PPC64", 64, True): "ppc64le",
    ("EM_PPC64", 64, False): "ppc64",
    ("EM_PPC", 32, False): "ppc",
    ("EM_S390", 64, False): "s390x",
    ("EM_S390", 32, False): "s390",
    # manylinux's armv7l is the only 32-bit ARM wheel arch; older ARM ABIs
    # cannot be told apart from the header anyway.
    ("EM_ARM", 32, True): "armv7l",
    ("EM_RISCV", 64, True): "riscv64",
    ("EM_RISCV", 32, True): "riscv32",
    ("EM_LOONGARCH", 64, True): "loongarch64",
    ("EM_MIPS", 64, True): "mips64el",
    ("EM_MIPS", 64, False): "mips64",
    ("EM_MIPS", 32, True): "mipsel",
    ("EM_MIPS", 32, False): "mips",
    ("EM_SPARCV9", 64, False): "sparc64",
}

# GLIBC_2.17, GLIBC_2.3.4; not GLIBC_PRIVATE or GLIBC_ABI_DT_RELR.
_GLIBC_VERSION = re.compile(r"GLIBC_(\d+)\.(\d+)(?:\.(\d+))?")

_STRING_TAGS = frozenset({"DT_SONAME", "DT_NEEDED", "DT_RPATH", "DT_RUNPATH"})


def read_elf(fileobj: BinaryIO) -> BinaryInfo:
    """Read an ELF file from ``fileobj`` (seekable, the ELF starting at offset 0).

    Only the headers, the dynamic table, its strings and the version
    requirements are read, so huge libraries cost little. Raises
    :class:`~condawheel.binaries.model.BinaryReadError` if the file is not a
    well-formed ELF file.
    """
    try:
        return _read(fileobj)
    except BinaryReadError:
        raise
    except Exception as exc:
        # pyelftools reports malformed input with ELFError, its construct
        # errors, struct.error, but also IndexError, UnicodeDecodeError or
        # ValueError (negative seek) depending on which field is broken.
        raise BinaryReadError.corrupt("ELF", exc) from exc


def _read(fileobj: BinaryIO) -> BinaryInfo:
    file_size = fileobj.seek(0, 2)
    fileobj.seek(0)
    elf = ELFFile(fileobj)
    arch = _arch(elf)

    # Only headers are read below, so a cut-off file would otherwise go
    # unnoticed: every segment and the section header table must fit.
    end = elf["e_shoff"] + elf.num_sections() * elf["e_shentsize"]
    has_interp = False
    dynamic: DynamicSegment | None = None
    # Segments, not sections: they are what the dynamic loader uses, and they
    # survive section-header stripping.
    for segment in elf.iter_segments():
        end = max(end, segment["p_offset"] + segment["p_filesz"])
        if segment["p_type"] == "PT_INTERP":
            has_interp = True
        elif isinstance(segment, DynamicSegment) and dynamic is None:
            dynamic = segment
    if end > file_size:
        raise BinaryReadError(f"corrupt ELF file: truncated at {file_size} of {end} bytes")

    strings = _dynamic_strings(dynamic) if dynamic is not None else {}
    needs = _version_needs(elf)
    sonames = strings.get("DT_SONAME", [])
    soname = sonames[0] if sonames else None
    return BinaryInfo(
        format=BinaryFormat.ELF,
        arch=arch,
        archs=(arch,),
        soname=soname,
        needed=tuple(strings.get("DT_NEEDED", [])),
        rpath=_split_paths(strings.get("DT_RPATH", [])),
        runpath=_split_paths(strings.get("DT_RUNPATH", [])),
        # A PIE executable is ET_DYN too; what sets it apart is its PT_INTERP.
        # Some libraries (libc.so.6) are runnable and have both: the SONAME wins.
        is_shared_library=elf["e_type"] == "ET_DYN" and (soname is not None or not has_interp),
        glibc_floor=_glibc_floor(needs),
        version_needs=needs,
    )


def _arch(elf: ELFFile) -> str:
    machine = elf["e_machine"]
    if not isinstance(machine, str):
        # pyelftools leaves machine numbers it does not know as plain ints.
        return f"elf-machine-{machine}"
    known = _ARCHES.get((machine, elf.elfclass, elf.little_endian))
    return known if known is not None else machine.removeprefix("EM_").lower()


def _dynamic_strings(dynamic: DynamicSegment) -> dict[str, list[str]]:
    """The string-valued dynamic tags, by tag name, in file order."""
    found: dict[str, list[str]] = {}
    # A table without its DT_NULL terminator would otherwise be scanned to EOF.
    max_tags = dynamic["p_filesz"] // dynamic.elfstructs.Elf_Dyn.sizeof()
    for tag in islice(dynamic.iter_tags(), max_tags):
        d_tag = tag.entry.d_tag
        if d_tag in _STRING_TAGS:
            # pyelftools resolves these into an attribute named after the tag.
            value: str = getattr(tag, d_tag[3:].lower())
            found.setdefault(d_tag, []).append(value)
    return found


def _split_paths(values: list[str]) -> tuple[str, ...]:
    return tuple(path for value in values for path in value.split(":") if path)


def _version_needs(elf: ELFFile) -> tuple[tuple[str, str], ...]:
    """``(library, version)`` for every symbol version required, sorted and unique."""
    found: set[tuple[str, str]] = set()
    for section in elf.iter_sections():
        if not isinstance(section, GNUVerNeedSection):
            continue
        # vn_next / vna_next == 0 marks the last entry; stopping there rather
        # than trusting the counts keeps a corrupt count from looping for ages.
        for verneed, vernaux_iter in section.iter_versions():
            for vernaux in vernaux_iter:
                if vernaux.name:
                    found.add((str(verneed.name or ""), str(vernaux.name)))
                if vernaux["vna_next"] == 0:
                    break
            if verneed["vn_next"] == 0:
                break
    return tuple(sorted(found))


def _glibc_floor(needs: tuple[tuple[str, str], ...]) -> tuple[int, int] | None:
    """Newest GLIBC_x.y version required from any library (libc, libm, libpthread...)."""
    newest: tuple[int, int, int] | None = None
    for _, name in needs:
        match = _GLIBC_VERSION.fullmatch(name)
        if match:
            version = (int(match[1]), int(match[2]), int(match[3] or 0))
            newest = version if newest is None else max(newest, version)
    return None if newest is None else newest[:2]
