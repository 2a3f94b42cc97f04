"""The snapshot store contract, run against the file store and against a real S3-API server
(moto in server mode on loopback, spoken to over HTTP by boto3)."""

from __future__ import annotations

import errno
import hashlib
import os
import socket
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from cdc.snapshot.encryption import EncryptionKey, decrypt_chunks, encrypt_chunks
from cdc.snapshot.errors import SnapshotError, SnapshotIntegrityError, SnapshotStoreError
from cdc.snapshot.store import S3Settings, SnapshotStore, open_store
from cdc.snapshot.store_file import FileSnapshotStore
from cdc.snapshot.store_s3 import MIN_PART_BYTES, S3SnapshotStore
from tests.s3_server import BUCKET

pytestmark = pytest.mark.integration

MIB = 1024 * 1024
SID = "20240501T120000Z-s1"


@dataclass
class Backend:
    """A store plus what only its kind can do: look underneath it, and make it fail."""

    kind: str
    store: SnapshotStore
    monkeypatch: pytest.MonkeyPatch

    def raw_entries(self, snapshot_id: str) -> list[str]:
        """Everything under the snapshot, hidden temp files and unfinished uploads included."""
        if isinstance(self.store, FileSnapshotStore):
            directory = self.store.root / snapshot_id
            return sorted(p.name for p in directory.iterdir()) if directory.exists() else []
        assert isinstance(self.store, S3SnapshotStore)
        prefix = f"{self.store.prefix}/{snapshot_id}/"
        client = self.store.client
        objects = client.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])
        uploads = client.list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])
        return sorted([item["Key"][len(prefix):] for item in objects]
                      + [f"upload:{item['Key']}" for item in uploads
                         if item["Key"].startswith(prefix)])

    def refuse_writes(self, fault: str) -> None:
        """``full``: the store fails after part of a file went out; ``read-only``: at once."""
        if isinstance(self.store, FileSnapshotStore):
            self._refuse_file_writes(self.store.root, fault)
        elif fault == "full":
            self._fail_s3_call(("UploadPart", "PutObject"), "ServiceUnavailable", "Slow Down")
        else:
            self._fail_s3_call(("PutObject", "CreateMultipartUpload"), "AccessDenied",
                               "Access Denied")

    def _refuse_file_writes(self, root: Path, fault: str) -> None:
        real_open, real_write = os.open, os.write
        partly_written: dict[int, bool] = {}  # the store's new files, by descriptor

        def fake_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
            creating = bool(flags & os.O_CREAT) and str(path).startswith(str(root))
            if creating and fault == "read-only":
                raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
            fd = real_open(path, flags, *args, **kwargs)
            partly_written.pop(fd, None)
            if creating:
                partly_written[fd] = False
            return fd

        def fake_write(fd: int, data: Any) -> int:
            if fd not in partly_written:
                return real_write(fd, data)
            if partly_written[fd]:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            partly_written[fd] = True  # the first write goes out in part, the next finds no space
            return real_write(fd, bytes(data[:10]))

        self.monkeypatch.setattr(os, "open", fake_open)
        self.monkeypatch.setattr(os, "write", fake_write)

    def break_data_deletes(self) -> Callable[[], None]:
        """Deleting data files fails (the manifest can still be deleted); returns the repair."""
        if isinstance(self.store, FileSnapshotStore):
            real_unlink = os.unlink
            root = str(self.store.root)

            def fake_unlink(path: Any, *args: Any, **kwargs: Any) -> None:
                text = str(path)
                if text.startswith(root) and not text.endswith("manifest.json"):
                    raise OSError(errno.EACCES, os.strerror(errno.EACCES), text)
                real_unlink(path, *args, **kwargs)

            self.monkeypatch.setattr(os, "unlink", fake_unlink)
            return self.monkeypatch.undo
        return self._fail_s3_call(("DeleteObjects",), "AccessDenied", "Access Denied")

    def _fail_s3_call(self, operations: tuple[str, ...], code: str,
                      message: str) -> Callable[[], None]:
        assert isinstance(self.store, S3SnapshotStore)
        events = self.store.client.meta.events

        def fail(model: Any, **_: Any) -> None:
            raise ClientError({"Error": {"Code": code, "Message": message}}, model.name)

        for operation in operations:
            events.register(f"before-call.s3.{operation}", fail)

        def repair() -> None:
            for operation in operations:
                events.unregister(f"before-call.s3.{operation}", fail)

        return repair


@pytest.fixture(params=["file", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path,
            monkeypatch: pytest.MonkeyPatch) -> Backend:
    if request.param == "file":
        store = open_store(f"file://{tmp_path / 'snapshots'}")
    else:
        settings = request.getfixturevalue("s3_settings")
        store = open_store(f"s3://{BUCKET}/test-{uuid.uuid4().hex}/", s3_settings=settings)
        assert isinstance(store, S3SnapshotStore)
        store.part_bytes = MIN_PART_BYTES  # so that a test-sized file goes as a multipart upload
    return Backend(request.param, store, monkeypatch)


def _data(size: int, seed: int = 1) -> bytes:
    block = hashlib.sha256(str(seed).encode()).digest() * (MIB // 32)
    return (block * (size // len(block) + 1))[:size]


def _pieces(data: bytes, sizes: tuple[int, ...] = (1, 0, 333_333, MIB, 7 * MIB)) -> Iterator[bytes]:
    start, index = 0, 0
    while start < len(data):
        size = sizes[index % len(sizes)]
        yield data[start:start + size]
        start += size
        index += 1


def test_round_trip_of_a_multi_chunk_file(backend: Backend) -> None:
    data = _data(12 * MIB + 5)  # three parts of an S3 multipart upload
    stored = backend.store.write_file(SID, "shop.orders.0001.avro", _pieces(data))
    assert stored.name == "shop.orders.0001.avro"
    assert stored.size == len(data)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert backend.store.file_size(SID, "shop.orders.0001.avro") == len(data)
    chunks = list(backend.store.read_file(SID, "shop.orders.0001.avro"))
    assert len(chunks) > 1
    assert b"".join(chunks) == data
    assert backend.raw_entries(SID) == ["shop.orders.0001.avro"]


def test_small_and_empty_files_round_trip(backend: Backend) -> None:
    for name, data in [("empty.avro", b""), ("small.avro", b"x" * 100)]:
        stored = backend.store.write_file(SID, name, iter([data]))
        assert (stored.size, stored.sha256) == (len(data), hashlib.sha256(data).hexdigest())
        assert b"".join(backend.store.read_file(SID, name)) == data
        assert backend.store.file_size(SID, name) == len(data)


def test_a_snapshot_is_complete_only_once_its_manifest_is_written(backend: Backend) -> None:
    store = backend.store
    store.write_file("a", "t.0001.avro", [b"rows"])
    store.write_file("b", "t.0001.avro", [b"rows"])
    assert store.list_snapshot_ids() == []
    assert store.list_incomplete() == ["a", "b"]
    with pytest.raises(SnapshotStoreError, match="snapshot 'a' has no manifest"):
        store.read_manifest("a")
    manifest = store.write_manifest("b", b'{"snapshot_id": "b"}\n')
    assert manifest.sha256 == hashlib.sha256(b'{"snapshot_id": "b"}\n').hexdigest()
    assert store.list_snapshot_ids() == ["b"]
    assert store.list_incomplete() == ["a"]
    assert store.read_manifest("b") == b'{"snapshot_id": "b"}\n'


def test_a_failing_producer_leaves_no_file_and_keeps_the_old_one(backend: Backend) -> None:
    store = backend.store
    store.write_file(SID, "t.0001.avro", [b"old contents"])

    def failing() -> Iterator[bytes]:
        yield _data(6 * MIB)  # more than a part: an S3 multipart upload has begun
        yield _data(1 * MIB)
        raise RuntimeError("the source connection dropped")

    for name in ("t.0001.avro", "t.0002.avro"):
        with pytest.raises(RuntimeError, match="the source connection dropped"):
            store.write_file(SID, name, failing())
    assert backend.raw_entries(SID) == ["t.0001.avro"]
    assert b"".join(store.read_file(SID, "t.0001.avro")) == b"old contents"
    assert store.list_snapshot_ids() == []
    assert store.list_incomplete() == [SID]


@pytest.mark.parametrize(("fault", "file_reason", "s3_reason"), [
    ("full", "No space left on device", "ServiceUnavailable"),
    ("read-only", "Read-only file system", "AccessDenied"),
])
def test_a_store_that_refuses_writes_raises_and_leaves_nothing(
        backend: Backend, fault: str, file_reason: str, s3_reason: str) -> None:
    backend.store.write_file(SID, "kept.avro", [b"kept"])
    backend.refuse_writes(fault)
    with pytest.raises(SnapshotStoreError) as caught:
        backend.store.write_file(SID, "t.0001.avro", _pieces(_data(12 * MIB)))
    reason = file_reason if backend.kind == "file" else s3_reason
    assert reason in caught.value.message
    assert "t.0001.avro" in caught.value.message
    assert backend.store.url in caught.value.message
    assert "left no partial" in caught.value.hint
    with pytest.raises(SnapshotStoreError):
        backend.store.write_manifest(SID, b'{"snapshot_id": "20240501T120000Z-s1"}')
    backend.monkeypatch.undo()
    assert backend.raw_entries(SID) == ["kept.avro"]
    assert backend.store.list_snapshot_ids() == []


def test_delete_removes_the_manifest_first(backend: Backend) -> None:
    store = backend.store
    for number in range(3):
        store.write_file(SID, f"t.000{number}.avro", [b"rows"])
    store.write_manifest(SID, b"{}")
    store.write_manifest("other", b"{}")
    repair = backend.break_data_deletes()
    with pytest.raises(SnapshotStoreError, match=r"t\.0000\.avro"):
        store.delete_snapshot(SID)
    repair()
    assert store.list_snapshot_ids() == ["other"]
    assert store.list_incomplete() == [SID]
    assert "manifest.json" not in backend.raw_entries(SID)
    store.delete_snapshot(SID)  # the operator's cleanup finishes the job
    assert store.list_incomplete() == []
    assert backend.raw_entries(SID) == []
    assert store.list_snapshot_ids() == ["other"]


def test_deleted_and_missing_files_are_store_errors_naming_them(backend: Backend) -> None:
    store = backend.store
    store.write_file(SID, "t.0001.avro", [b"rows"])
    store.write_manifest(SID, b"{}")
    store.delete_snapshot(SID)
    assert store.list_snapshot_ids() == []
    with pytest.raises(SnapshotStoreError, match=r"t\.0001\.avro") as caught:
        store.read_file(SID, "t.0001.avro")
    assert "incomplete or was deleted" in caught.value.hint
    with pytest.raises(SnapshotStoreError, match=r"t\.0002\.avro"):
        store.file_size(SID, "t.0002.avro")
    with pytest.raises(SnapshotStoreError, match=f"there is no snapshot '{SID}'"):
        store.delete_snapshot(SID)


@pytest.mark.parametrize(("snapshot_id", "name"), [
    ("../escape", "t.avro"), (".hidden", "t.avro"), ("a/b", "t.avro"), ("", "t.avro"),
    (SID, "manifest.json"), (SID, "../t.avro"), (SID, ".t.avro.tmp"),
])
def test_ids_and_names_must_be_plain_segments(backend: Backend, snapshot_id: str,
                                              name: str) -> None:
    backend.store.write_file("kept", "t.avro", [b"x"])
    with pytest.raises(SnapshotError, match=r"is not a valid|is reserved"):
        backend.store.write_file(snapshot_id, name, [b"x"])
    assert backend.store.list_incomplete() == ["kept"]
    assert backend.raw_entries("kept") == ["t.avro"]


def test_encrypted_file_round_trip_and_corruption_through_the_store(backend: Backend) -> None:
    key = EncryptionKey(bytes(range(32)))
    data = _data(3 * MIB + 11)
    stored = backend.store.write_file(SID, "t.0001.avro.enc", encrypt_chunks(_pieces(data), key))
    sealed = b"".join(backend.store.read_file(SID, "t.0001.avro.enc"))
    assert stored.sha256 == hashlib.sha256(sealed).hexdigest()  # the bytes as stored
    assert data[:4096] not in sealed
    plain = decrypt_chunks(backend.store.read_file(SID, "t.0001.avro.enc"), key, "t.0001.avro.enc")
    assert b"".join(plain) == data
    damaged = bytearray(sealed)
    damaged[len(damaged) // 2] ^= 0x04
    backend.store.write_file(SID, "t.0001.avro.enc", [bytes(damaged)])
    with pytest.raises(SnapshotIntegrityError, match=r"t\.0001\.avro\.enc is corrupt"):
        b"".join(decrypt_chunks(backend.store.read_file(SID, "t.0001.avro.enc"), key,
                                "t.0001.avro.enc"))


def test_file_store_fsyncs_the_file_before_and_the_directory_after_the_rename(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = FileSnapshotStore(tmp_path / "snapshots")
    synced: list[str] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        synced.append(str(Path(f"/proc/self/fd/{fd}").readlink()))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    store.write_file(SID, "t.0001.avro", [b"rows"])
    directory = str(tmp_path / "snapshots" / SID)
    temps = [path for path in synced if Path(path).name.startswith(".t.0001.avro.")]
    assert len(temps) == 1
    assert synced.index(temps[0]) < synced.index(directory)
    assert str(tmp_path / "snapshots") in synced  # the new snapshot directory's entry
    assert [p.name for p in Path(directory).iterdir()] == ["t.0001.avro"]


def test_open_store_chooses_by_scheme(tmp_path: Path, s3_settings: S3Settings) -> None:
    bare = open_store(str(tmp_path))
    assert isinstance(bare, FileSnapshotStore)
    assert bare.root == tmp_path
    url = open_store(f"file://{tmp_path}/x")
    assert isinstance(url, FileSnapshotStore)
    assert url.root == tmp_path / "x"
    s3 = open_store(f"s3://{BUCKET}/a/b/", s3_settings=s3_settings)
    assert isinstance(s3, S3SnapshotStore)
    assert (s3.bucket, s3.prefix, s3.url) == (BUCKET, "a/b", f"s3://{BUCKET}/a/b")
    assert "test" not in repr(S3Settings(secret_access_key="test"))
    with pytest.raises(SnapshotStoreError, match="unknown scheme 'gs'"):
        open_store("gs://bucket/x")


def test_a_missing_file_store_root_is_an_error_not_an_empty_list(tmp_path: Path) -> None:
    with pytest.raises(SnapshotStoreError,
                       match=f"snapshot store file://{tmp_path}/typo does not exist"):
        open_store(str(tmp_path / "typo")).list_snapshot_ids()


def test_a_missing_bucket_and_an_unreachable_endpoint_are_store_errors(
        s3_settings: S3Settings) -> None:
    with pytest.raises(SnapshotStoreError, match="NoSuchBucket") as caught:
        open_store("s3://no-such-bucket/x", s3_settings=s3_settings).list_snapshot_ids()
    assert "'no-such-bucket' does not exist" in caught.value.hint
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once closed
    unreachable = S3Settings(endpoint_url=f"http://127.0.0.1:{port}", region="us-east-1",
                             access_key_id="test", secret_access_key="test", max_attempts=1)
    store = open_store(f"s3://{BUCKET}/x", s3_settings=unreachable)
    with pytest.raises(SnapshotStoreError, match=f"s3://{BUCKET}/x/{SID}/t.avro") as caught:
        store.write_file(SID, "t.avro", [b"rows"])
    assert "endpoint" in caught.value.hint
