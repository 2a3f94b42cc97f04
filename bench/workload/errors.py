"""Errors the workload raises on purpose; each carries a hint for the operator."""

from __future__ import annotations

from cdc.errors import CdcError


class SourceUnavailableError(CdcError):
    """The source cannot be reached or refuses the login: fix the setup, then rerun."""

    exit_status = 2


class WorkloadError(CdcError):
    """A workload transaction or setup step failed, or the database does not match the model."""

    exit_status = 1
