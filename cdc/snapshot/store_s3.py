"""The ``s3://bucket/prefix`` snapshot store, for AWS S3 or any S3-API server (path-style).

A file is sent with one PutObject when it fits in one part, otherwise as a multipart upload
that is completed only after the last part, and aborted on any failure: S3 shows an object whole
or not at all. Parts are sent one at a time from the caller's thread, so at most one part is
held in memory and the caller's chunk iterator is never run on another thread.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from cdc.snapshot.errors import SnapshotStoreError
from cdc.snapshot.store import (
    MANIFEST_NAME,
    READ_CHUNK_BYTES,
    S3Settings,
    StoredFile,
    check_data_name,
    check_name,
)

MIN_PART_BYTES = 5 * 1024 * 1024  # S3's smallest part but the last
DEFAULT_PART_BYTES = 16 * 1024 * 1024
MAX_PARTS = 10_000  # S3's limit: 16 MiB parts allow files up to 156 GiB
_DELETE_BATCH = 1000  # DeleteObjects' limit
_MISSING_CODES = {"NoSuchKey", "404", "NotFound"}
_DENIED_CODES = {"AccessDenied", "403", "InvalidAccessKeyId", "SignatureDoesNotMatch",
                 "AllAccessDisabled", "AccountProblem"}


class S3SnapshotStore:
    """Snapshots under ``prefix/`` in one bucket, which must exist."""

    def __init__(self, bucket: str, prefix: str, settings: S3Settings, *,
                 part_bytes: int = DEFAULT_PART_BYTES) -> None:
        if part_bytes < MIN_PART_BYTES:
            raise ValueError(f"part_bytes must be at least {MIN_PART_BYTES}")
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.url = f"s3://{bucket}/{self.prefix}" if self.prefix else f"s3://{bucket}"
        self.part_bytes = part_bytes
        session = boto3.session.Session(
            aws_access_key_id=settings.access_key_id,
            aws_secret_access_key=settings.secret_access_key,
            region_name=settings.region,
        )
        self.client: Any = session.client(
            "s3", endpoint_url=settings.endpoint_url,
            config=Config(s3={"addressing_style": "path"},
                          retries={"mode": "standard",
                                   "max_attempts": settings.max_attempts},
                          connect_timeout=10, read_timeout=60),
        )

    def _key(self, snapshot_id: str, name: str) -> str:
        return f"{self._root()}{snapshot_id}/{name}"

    def _root(self) -> str:
        return f"{self.prefix}/" if self.prefix else ""

    # --- writing -------------------------------------------------------------------------

    def write_file(self, snapshot_id: str, name: str, chunks: Iterable[bytes]) -> StoredFile:
        key = self._key(check_name("snapshot id", snapshot_id), check_data_name(name))
        return self._upload(key, name, chunks)

    def write_manifest(self, snapshot_id: str, data: bytes) -> StoredFile:
        key = self._key(check_name("snapshot id", snapshot_id), MANIFEST_NAME)
        return self._upload(key, MANIFEST_NAME, [data])

    def _upload(self, key: str, name: str, chunks: Iterable[bytes]) -> StoredFile:
        digest = hashlib.sha256()
        size = 0
        buffer = bytearray()
        upload_id: str | None = None
        parts: list[dict[str, Any]] = []
        try:
            for chunk in chunks:  # an error from the producer propagates as it is
                digest.update(chunk)
                size += len(chunk)
                buffer += chunk
                while len(buffer) > self.part_bytes:  # more follows: not the last part
                    if upload_id is None:
                        with self._call("start the upload of", key, writing=True):
                            upload_id = str(self.client.create_multipart_upload(
                                Bucket=self.bucket, Key=key)["UploadId"])
                    self._send_part(key, upload_id, parts, bytes(buffer[:self.part_bytes]))
                    del buffer[:self.part_bytes]
            if upload_id is None:
                with self._call("write", key, writing=True):
                    self.client.put_object(Bucket=self.bucket, Key=key, Body=bytes(buffer))
            else:
                self._send_part(key, upload_id, parts, bytes(buffer))
                with self._call("complete the upload of", key, writing=True):
                    self.client.complete_multipart_upload(
                        Bucket=self.bucket, Key=key, UploadId=upload_id,
                        MultipartUpload={"Parts": parts})
        except BaseException:
            if upload_id is not None:
                with suppress(ClientError, BotoCoreError):  # the first error is the one to tell
                    self.client.abort_multipart_upload(Bucket=self.bucket, Key=key,
                                                       UploadId=upload_id)
            raise
        stored = self._size_of(key)
        if stored != size:
            raise SnapshotStoreError(
                f"{self._where(key)} holds {stored} bytes after writing {size}",
                "the store lost data while writing; check the S3 server and retry the snapshot",
            )
        return StoredFile(name=name, size=size, sha256=digest.hexdigest())

    def _send_part(self, key: str, upload_id: str, parts: list[dict[str, Any]],
                   data: bytes) -> None:
        number = len(parts) + 1
        if number > MAX_PARTS:
            raise SnapshotStoreError(
                f"{self._where(key)} would need more than {MAX_PARTS} parts of "
                f"{self.part_bytes} bytes", "write the table in smaller files")
        with self._call("write", key, writing=True):
            response = self.client.upload_part(Bucket=self.bucket, Key=key, UploadId=upload_id,
                                               PartNumber=number, Body=data)
        parts.append({"PartNumber": number, "ETag": response["ETag"]})

    # --- reading -------------------------------------------------------------------------

    def read_file(self, snapshot_id: str, name: str) -> Iterator[bytes]:
        key = self._key(check_name("snapshot id", snapshot_id), check_data_name(name))
        with self._call("read", key):
            body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        return self._chunks(body, key)

    def _chunks(self, body: Any, key: str) -> Iterator[bytes]:
        try:
            chunks = body.iter_chunks(READ_CHUNK_BYTES)
            while True:
                with self._call("read", key):
                    chunk = next(chunks, b"")
                if not chunk:
                    return
                yield bytes(chunk)
        finally:
            body.close()

    def file_size(self, snapshot_id: str, name: str) -> int:
        return self._size_of(self._key(check_name("snapshot id", snapshot_id),
                                       check_data_name(name)))

    def _size_of(self, key: str) -> int:
        with self._call("read the size of", key):
            return int(self.client.head_object(Bucket=self.bucket, Key=key)["ContentLength"])

    def read_manifest(self, snapshot_id: str) -> bytes:
        key = self._key(check_name("snapshot id", snapshot_id), MANIFEST_NAME)
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        except ClientError as exc:
            if _code(exc) not in _MISSING_CODES:
                raise self._client_error("read", key, exc, writing=False) from exc
            raise SnapshotStoreError(
                f"snapshot {snapshot_id!r} has no manifest in {self.url} ({key}): it does not "
                "exist, or it failed or is still being written",
                "list the complete snapshots and choose one of them",
            ) from exc
        with self._call("read", key):
            try:
                return bytes(body.read())
            finally:
                body.close()

    # --- listing and deleting ------------------------------------------------------------

    def list_snapshot_ids(self) -> list[str]:
        return [sid for sid, complete in self._snapshots() if complete]

    def list_incomplete(self) -> list[str]:
        return [sid for sid, complete in self._snapshots() if not complete]

    def _snapshots(self) -> list[tuple[str, bool]]:
        seen: set[str] = set()
        complete: set[str] = set()
        for key in self._keys(self._root()):
            snapshot_id, _, name = key[len(self._root()):].partition("/")
            if name:
                seen.add(snapshot_id)
                if name == MANIFEST_NAME:
                    complete.add(snapshot_id)
        return [(sid, sid in complete) for sid in sorted(seen)]

    def _keys(self, prefix: str) -> list[str]:
        keys: list[str] = []
        with self._call("list", prefix or "/"):
            for page in self.client.get_paginator("list_objects_v2").paginate(
                    Bucket=self.bucket, Prefix=prefix):
                keys.extend(str(item["Key"]) for item in page.get("Contents", []))
        return keys

    def delete_snapshot(self, snapshot_id: str) -> None:
        manifest = self._key(check_name("snapshot id", snapshot_id), MANIFEST_NAME)
        keys = self._keys(self._key(snapshot_id, ""))
        if not keys:
            raise SnapshotStoreError(f"there is no snapshot {snapshot_id!r} in {self.url}",
                                     "list the store's snapshots to see which exist")
        if manifest in keys:
            with self._call("delete", manifest):
                self.client.delete_object(Bucket=self.bucket, Key=manifest)
        rest = [key for key in keys if key != manifest]
        for start in range(0, len(rest), _DELETE_BATCH):
            batch = rest[start:start + _DELETE_BATCH]
            with self._call("delete", batch[0]):
                response = self.client.delete_objects(
                    Bucket=self.bucket,
                    Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True})
            errors = response.get("Errors", [])
            if errors:
                first = errors[0]
                raise SnapshotStoreError(
                    f"cannot delete {self._where(str(first.get('Key')))}: "
                    f"{first.get('Code')}: {first.get('Message')} ({len(errors)} objects failed)",
                    "check the credentials' delete permission, then delete the snapshot again; "
                    "its manifest is already gone, so it is listed as incomplete")

    # --- errors --------------------------------------------------------------------------

    def _where(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    @contextmanager
    def _call(self, doing: str, key: str, *, writing: bool = False) -> Iterator[None]:
        try:
            yield
        except NoCredentialsError as exc:
            raise SnapshotStoreError(
                f"cannot {doing} {self._where(key)}: no S3 credentials were found",
                "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or the store's settings)",
            ) from exc
        except ClientError as exc:
            raise self._client_error(doing, key, exc, writing=writing) from exc
        except BotoCoreError as exc:
            raise SnapshotStoreError(
                f"cannot {doing} {self._where(key)}: the S3 endpoint failed: {exc}",
                "check that the endpoint URL is right and the S3 server is reachable",
            ) from exc

    def _client_error(self, doing: str, key: str, exc: ClientError,
                      *, writing: bool) -> SnapshotStoreError:
        code = _code(exc)
        message = exc.response.get("Error", {}).get("Message", "")
        text = f"cannot {doing} {self._where(key)}: {code}" + (f": {message}" if message else "")
        if code == "NoSuchBucket":
            hint = f"bucket {self.bucket!r} does not exist: create it or fix the store URL"
        elif code in _MISSING_CODES:
            hint = ("the snapshot is incomplete or was deleted: list the store's snapshots and "
                    "restore from a complete one")
        elif code in _DENIED_CODES:
            hint = "the credentials may not do this: check the access key and the bucket policy"
        else:
            hint = "check the S3 server's health and retry"
        if writing:
            hint += "; the failed write left no partial object"
        return SnapshotStoreError(text, hint)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "Unknown"))
