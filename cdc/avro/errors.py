"""Errors of the changelog's Avro encoding."""

from __future__ import annotations

from cdc.errors import CdcError


class RecordFormatError(CdcError):
    """Bytes that are not a changelog record this version can read, or a row that does not
    match its table schema: corrupt, truncated, foreign or written by a newer version."""
