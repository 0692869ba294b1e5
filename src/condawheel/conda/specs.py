"""Conda match specs to PEP 440 specifiers.

py-rattler parses and canonicalises the conda spec (so `1.2` becomes `==1.2`, `=1.2`
becomes `1.2.*`); this module only maps each canonical constraint onto its PEP 440
spelling, and collapses an `|` that PEP 440 cannot express into the widest honest range.

At a strict bound PEP 440's own rules apply: `<2` leaves out 2.0rc1 and `>1.2` leaves
out 1.2.post1, where conda admits them, and `!=` ignores local labels. conda-forge
spells upper bounds `<2.0a0`, which translate exactly; the alternative (`<=2,!=2`)
would make every requirement harder to read for a difference only pre-releases see.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import rattler
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from condawheel.exceptions import BadInputError

_OPERATORS = ("==", "!=", ">=", "<=", "~=", ">", "<", "=")
_CONSTRAINT = re.compile(r"^(==|!=|>=|<=|~=|>|<|=)?\s*(.+)$")


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedSpec:
    """One dependency from `index.json` `depends`, parsed by rattler."""

    name: str
    #: The conda version constraint, canonical (`*` when there is none).
    version: str
    build: str | None
    #: The PEP 440 translation; empty when the dependency has no version bound.
    specifier: str
    #: Why the translation is wider than the conda spec, when it is.
    note: str | None = None

    @property
    def lower_bound(self) -> Version | None:
        """The greatest `>=`/`==` version the specifier requires, if any."""
        bounds = [
            Version(s.version.removesuffix(".*"))
            for s in SpecifierSet(self.specifier)
            if s.operator in (">=", "==", "~=", ">")
        ]
        return max(bounds) if bounds else None


def parse_spec(spec: str) -> ParsedSpec:
    """Parse a conda match spec such as ``libzlib >=1.3.1,<2.0a0`` and translate it."""
    try:
        match = rattler.MatchSpec(spec)
    except Exception as exc:
        detail = (str(exc).strip().splitlines() or ["unparsable"])[0]
        raise BadInputError(f"invalid conda dependency {spec!r}: {detail}") from None
    name = match.name.normalized if hasattr(match.name, "normalized") else str(match.name)
    version = str(match.version) if match.version else "*"
    specifier, note = translate_version_spec(version)
    return ParsedSpec(
        name=_bare_name(name, spec),
        version=version,
        build=str(match.build) if match.build else None,
        specifier=specifier,
        note=note,
    )


def _bare_name(name: str, spec: str) -> str:
    # Older py-rattler renders the matcher object; the spec's first word is the name.
    if name.startswith("PackageNameMatcher"):
        return spec.split()[0].split("[")[0].strip()
    return name


def translate_version_spec(version: str) -> tuple[str, str | None]:
    """Translate a canonical conda version spec into ``(pep440, note)``."""
    if version in ("*", ""):
        return "", None
    if "(" in version:
        return "", f"{version!r} uses grouping that PEP 440 cannot express; left unbounded"
    alternatives = [alt.strip() for alt in version.split("|")]
    translated = [_translate_and(alt) for alt in alternatives]
    dropped = [note for _, note in translated if note]
    if len(translated) == 1:
        spec, note = translated[0]
        return spec, note
    widened = _widest(spec for spec, _ in translated)
    note = f"{version!r} is a union PEP 440 cannot express; widened to {widened or 'any version'!r}"
    return widened, "; ".join([note, *dropped])


def _translate_and(group: str) -> tuple[str, str | None]:
    parts: list[str] = []
    notes: list[str] = []
    for raw in group.split(","):
        constraint = raw.strip()
        if not constraint or constraint == "*":
            continue
        translated = _translate_one(constraint)
        if translated is None:
            notes.append(f"{constraint!r} has no PEP 440 equivalent and was dropped")
        else:
            parts.append(translated)
    return ",".join(parts), "; ".join(notes) or None


def _translate_one(constraint: str) -> str | None:
    found = _CONSTRAINT.match(constraint)
    if not found:
        return None
    operator, version = found.group(1) or "", found.group(2).strip()
    if operator == "=":  # conda's fuzzy `=1.2` means 1.2.*
        operator, version = "", version.rstrip("*").rstrip(".") + ".*"
    if version.endswith(".*") or version.endswith("*"):
        stem = version.rstrip("*").rstrip(".")
        if operator in ("", "=="):
            candidate = f"=={stem}.*"
        elif operator == "!=":
            candidate = f"!={stem}.*"
        elif operator in (">=", ">"):
            candidate = f">={stem}"
        else:
            return None
    else:
        candidate = f"{operator or '=='}{version}"
    try:
        SpecifierSet(candidate)
    except InvalidSpecifier:
        return None
    return candidate


def _widest(specs: object) -> str:
    """The narrowest single range that contains every alternative."""
    lowers: list[Version | None] = []
    uppers: list[tuple[Version, str] | None] = []
    for spec in specs:  # type: ignore[attr-defined]
        specifier = SpecifierSet(str(spec))
        low = [
            Version(s.version.removesuffix(".*"))
            for s in specifier
            if s.operator in (">=", ">", "==", "~=")
        ]
        high = [
            (Version(s.version), "<=" if s.operator == "==" else s.operator)
            for s in specifier
            if s.operator in ("<", "<=") or (s.operator == "==" and "*" not in s.version)
        ]
        lowers.append(min(low) if low else None)
        uppers.append(max(high) if high else None)
    parts = []
    if all(low is not None for low in lowers):
        parts.append(f">={min(low for low in lowers if low is not None)}")
    if all(up is not None for up in uppers):
        version, operator = max(up for up in uppers if up is not None)
        parts.append(f"{operator}{version}")
    return ",".join(parts)


def parse_pep440_version(version: str) -> Version | None:
    try:
        return Version(version)
    except InvalidVersion:
        return None


def external_requirement(spec: ParsedSpec) -> str:
    """The `Requires-External` form of a conda dependency: its name and PEP 440 range."""
    return f"{spec.name} ({spec.specifier})" if spec.specifier else spec.name
