"""The ``file://`` snapshot store: a directory per snapshot on a local or mounted filesystem.

A file is written to a hidden temp name in its final directory, fsynced, renamed into place,
and the directory fsynced; so after a crash a file is either whole or absent, and a leftover
temp file (a name starting with '.') is never taken for data.
"""

from __future__ import annotations

import errno
import hashlib
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import BinaryIO
from uuid import uuid4

from cdc.snapshot.errors import SnapshotStoreError
from cdc.snapshot.store import (
    MANIFEST_NAME,
    READ_CHUNK_BYTES,
    StoredFile,
    check_data_name,
    check_name,
)

_WRITE_HINTS = {
    errno.ENOSPC: "the store is full: free space or write snapshots to a bigger store",
    errno.EDQUOT: "the store's quota is used up: raise it or write snapshots elsewhere",
    errno.EROFS: "the store is mounted read-only: remount it read-write or choose another store",
    errno.EACCES: "this user may not write there: fix the directory's owner or permissions",
    errno.EPERM: "this user may not write there: fix the directory's owner or permissions",
}
_MISSING_HINT = ("the snapshot is incomplete or was deleted: list the store's snapshots and "
                 "restore from a complete one")


class FileSnapshotStore:
    """Snapshots under one root directory (created by the first write)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.url = f"file://{self.root.absolute()}"

    # --- writing -------------------------------------------------------------------------

    def write_file(self, snapshot_id: str, name: str, chunks: Iterable[bytes]) -> StoredFile:
        return self._write_atomically(check_name("snapshot id", snapshot_id),
                                      check_data_name(name), chunks)

    def write_manifest(self, snapshot_id: str, data: bytes) -> StoredFile:
        return self._write_atomically(check_name("snapshot id", snapshot_id), MANIFEST_NAME,
                                      [data])

    def _write_atomically(self, snapshot_id: str, name: str,
                          chunks: Iterable[bytes]) -> StoredFile:
        directory = self.root / snapshot_id
        final = directory / name
        temp = directory / f".{name}.{uuid4().hex}.tmp"
        with self._io("create the directory of", final, writing=True):
            _make_dir_durably(directory)
        digest = hashlib.sha256()
        size = 0
        renamed = False
        try:
            with self._io("write", final, writing=True):
                fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
            try:
                for chunk in chunks:  # an error from the producer propagates as it is
                    with self._io("write", final, writing=True):
                        _write_all(fd, chunk)
                    digest.update(chunk)
                    size += len(chunk)
                with self._io("write", final, writing=True):
                    os.fsync(fd)
            finally:
                os.close(fd)
            with self._io("write", final, writing=True):
                temp.replace(final)
                renamed = True
                _fsync_dir(directory)
        except BaseException:
            _remove_quietly(final if renamed else temp)
            raise
        return StoredFile(name=name, size=size, sha256=digest.hexdigest())

    # --- reading -------------------------------------------------------------------------

    def read_file(self, snapshot_id: str, name: str) -> Iterator[bytes]:
        path = self.root / check_name("snapshot id", snapshot_id) / check_data_name(name)
        with self._io("read", path):
            handle = path.open("rb")
        return self._chunks(handle, path)

    def _chunks(self, handle: BinaryIO, path: Path) -> Iterator[bytes]:
        with handle:
            while True:
                with self._io("read", path):
                    chunk = handle.read(READ_CHUNK_BYTES)
                if not chunk:
                    return
                yield chunk

    def file_size(self, snapshot_id: str, name: str) -> int:
        path = self.root / check_name("snapshot id", snapshot_id) / check_data_name(name)
        with self._io("read the size of", path):
            return path.stat().st_size

    def read_manifest(self, snapshot_id: str) -> bytes:
        path = self.root / check_name("snapshot id", snapshot_id) / MANIFEST_NAME
        try:
            return path.read_bytes()
        except FileNotFoundError as exc:
            raise SnapshotStoreError(
                f"snapshot {snapshot_id!r} has no manifest in {self.url} ({path}): it does not "
                "exist, or it failed or is still being written",
                "list the complete snapshots and choose one of them",
            ) from exc
        except OSError as exc:
            raise self._error("read", path, exc, writing=False) from exc

    # --- listing and deleting ------------------------------------------------------------

    def list_snapshot_ids(self) -> list[str]:
        return [sid for sid, complete in self._snapshots() if complete]

    def list_incomplete(self) -> list[str]:
        return [sid for sid, complete in self._snapshots() if not complete]

    def _snapshots(self) -> list[tuple[str, bool]]:
        if not self.root.is_dir():
            raise SnapshotStoreError(
                f"snapshot store {self.url} does not exist (no directory {self.root})",
                "check the store URL; its directory is created by the first snapshot")
        with self._io("list", self.root):
            entries = [entry for entry in os.scandir(self.root)
                       if entry.is_dir() and not entry.name.startswith(".")]
            return sorted((entry.name, Path(entry.path, MANIFEST_NAME).is_file())
                          for entry in entries)

    def delete_snapshot(self, snapshot_id: str) -> None:
        directory = self.root / check_name("snapshot id", snapshot_id)
        if not directory.is_dir():
            raise SnapshotStoreError(f"there is no snapshot {snapshot_id!r} in {self.url}",
                                     "list the store's snapshots to see which exist")
        manifest = directory / MANIFEST_NAME
        with self._io("delete", manifest, writing=True):
            manifest.unlink(missing_ok=True)
            _fsync_dir(directory)
        for entry in sorted(directory.iterdir()):
            with self._io("delete", entry, writing=True):
                entry.unlink()
        with self._io("delete", directory, writing=True):
            directory.rmdir()
            _fsync_dir(self.root)

    # --- errors --------------------------------------------------------------------------

    @contextmanager
    def _io(self, doing: str, path: Path, *, writing: bool = False) -> Iterator[None]:
        try:
            yield
        except OSError as exc:
            raise self._error(doing, path, exc, writing=writing) from exc

    def _error(self, doing: str, path: Path, exc: OSError, *, writing: bool) -> SnapshotStoreError:
        reason = exc.strerror or str(exc)
        if exc.errno == errno.ENOENT and not writing:
            hint = _MISSING_HINT
        elif writing:
            hint = _WRITE_HINTS.get(exc.errno or 0, "check the store's filesystem and retry")
            hint += "; the failed write left no partial file"
        else:
            hint = "check that the store's filesystem is mounted and readable"
        return SnapshotStoreError(f"cannot {doing} {path} in snapshot store {self.url}: {reason}",
                                  hint)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _make_dir_durably(path: Path) -> None:
    """Create ``path`` and any missing parents, fsyncing each parent that gained an entry."""
    if path.is_dir():
        return
    _make_dir_durably(path.parent)
    try:
        path.mkdir()
    except FileExistsError:
        return
    _fsync_dir(path.parent)


def _remove_quietly(path: Path) -> None:
    with suppress(OSError):  # the original error is the one to report
        path.unlink(missing_ok=True)
