"""RECORD (PEP 376/427): the one place its rows are parsed and formatted and its
hashes encoded, for the writer, the verifier, the publish check and the installer."""

from __future__ import annotations

import base64
import csv
import io
from collections.abc import Iterable, Sequence

#: Raised by `parse_rows` for text that is not CSV.
RecordError = csv.Error


def record_path(dist_info: str) -> str:
    return f"{dist_info}/RECORD"


def encode_digest(digest: bytes) -> str:
    """A digest as RECORD holds it: urlsafe base64 without padding."""
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def hash_field(digest: bytes, algorithm: str = "sha256") -> str:
    return f"{algorithm}={encode_digest(digest)}"


def parse_rows(text: str) -> list[list[str]]:
    """The rows of a RECORD, as read; raises `RecordError` for text that is not CSV."""
    return list(csv.reader(io.StringIO(text)))


def listed_paths(text: str) -> list[str]:
    """The paths a RECORD lists, as installer reads them (raises ValueError, IndexError)."""
    from installer.records import parse_record_file  # not needed to write a wheel

    return [row[0] for row in parse_record_file(text.splitlines())]


def format_rows(rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()
