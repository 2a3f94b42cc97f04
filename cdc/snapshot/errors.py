"""Errors of the snapshot store, of its files' integrity, and of the encryption key."""

from __future__ import annotations

from cdc.errors import CdcError


class SnapshotError(CdcError):
    """Base of every snapshot error; also used for a snapshot id or file name that is not valid."""


class SnapshotStoreError(SnapshotError):
    """The store cannot do what was asked: unreachable, full, read-only, or a file is missing.

    The message names the store URL or the file; a write that fails this way leaves nothing."""


class SnapshotIntegrityError(SnapshotError):
    """A stored file or manifest is not what was written: truncated, corrupt, or a hash mismatch.

    Never retried and never ignored: the snapshot cannot be trusted."""


class EncryptionKeyError(SnapshotError):
    """The key is missing, unreadable, malformed, or not the one the file was sealed with.

    Exit status 2, like a configuration error: the operator must give another key."""

    exit_status = 2
