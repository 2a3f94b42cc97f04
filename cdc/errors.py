"""The error hierarchy: every error an operator can see carries what went wrong and a hint."""

from __future__ import annotations


class CdcError(Exception):
    """Base of every error the tools raise on purpose.

    ``hint`` tells the operator what to do about it; the CLI prints both and exits with
    ``exit_status``.
    """

    exit_status = 1

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\nhint: {self.hint}"
        return self.message


class ConfigError(CdcError):
    """Configuration that cannot be used as given (a bad DSN, a missing key, a wrong type)."""

    exit_status = 2


class SourceCheckError(CdcError):
    """The source is not set up the way capture needs (a setting, a grant, a purged binlog)."""

    exit_status = 2


class CaptureFencedError(CdcError):
    """Another capture for the same source took over the changelog; this one must stop."""

    exit_status = 3


class RecordTooLargeError(CdcError):
    """A single record cannot be written to Kafka; capture stops rather than skip it."""

    exit_status = 4


class TypeMappingError(CdcError):
    """A source value that cannot be carried exactly; never replaced with something else."""


class SourceStreamError(CdcError):
    """The binlog stream broke its own rules (a transaction began inside another, a GTID came
    twice): capture abandons the open Kafka transaction and resumes from the changelog."""
