"""Client-side encryption of snapshot files: AES-256-GCM in sealed segments, streamed.

Layout of an encrypted file::

    header   magic "CDCENC" | version (1 byte) | key id (8 bytes) | segment size (4 bytes, BE)
             | nonce prefix (8 random bytes)
    segments ciphertext of ``segment size`` plaintext bytes + 16-byte tag, ...,
             then the final segment: 0..segment size plaintext bytes + tag

Segment ``i`` is sealed with nonce = prefix || i (4 bytes, BE) and associated data = header ||
final flag (1 byte), so a flipped byte, reordered or dropped segments, a stream cut at a segment
boundary (its last segment is not marked final) and a swapped header all fail authentication.
Plaintext is released one authenticated segment at a time: a consumer must treat an error as
fatal for everything it already received from the same file.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct
from collections.abc import Iterable, Iterator, Mapping
from itertools import chain
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from cdc.snapshot.errors import EncryptionKeyError, SnapshotIntegrityError

ALGORITHM = "AES-256-GCM"
KEY_BYTES = 32
MAGIC = b"CDCENC"
FORMAT_VERSION = 1
DEFAULT_SEGMENT_BYTES = 1024 * 1024
TAG_BYTES = 16
_HEADER = struct.Struct(">6sB8sI8s")
_MAX_SEGMENTS = 2**32
_KEY_HINT = ("make a key with 'head -c 32 /dev/urandom > snapshot.key' (keep it safe: without it "
             "the snapshots cannot be read), or give 64 hex characters or base64 of 32 bytes")


class EncryptionKey:
    """A 32-byte AES-256 key. Its ``key_id`` (first 16 hex characters of its SHA-256) is safe to
    record; the key itself never appears in ``repr`` or ``str``."""

    __slots__ = ("_raw", "key_id")

    def __init__(self, raw: bytes) -> None:
        if len(raw) != KEY_BYTES:
            raise EncryptionKeyError(f"an encryption key must be {KEY_BYTES} bytes, not "
                                     f"{len(raw)}", _KEY_HINT)
        self._raw = bytes(raw)
        self.key_id = hashlib.sha256(self._raw).hexdigest()[:16]

    def __repr__(self) -> str:
        return f"EncryptionKey(key_id={self.key_id!r})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, EncryptionKey) and hmac.compare_digest(other._raw, self._raw)

    def __hash__(self) -> int:
        return hash(self.key_id)

    def _cipher(self) -> AESGCM:
        return AESGCM(self._raw)


def load_key(key_file: str | None, key_env: str | None,
             environ: Mapping[str, str]) -> EncryptionKey | None:
    """The key from ``key_file`` or from the variable named ``key_env``; ``None`` if neither is
    given (encryption off). A file holds 32 raw bytes, 64 hex characters or base64 of 32 bytes
    (a trailing newline is fine); a variable holds hex or base64."""
    if key_file and key_env:
        raise EncryptionKeyError("an encryption key file and key variable were both given",
                                 "give one of them, not both")
    if key_file:
        return _key_from_file(Path(key_file))
    if key_env:
        text = environ.get(key_env, "").strip()
        if not text:
            raise EncryptionKeyError(
                f"environment variable {key_env} is not set or is empty",
                f"export {key_env} holding the key: to read snapshots, the one they were taken "
                "with; for new ones, one made with $(head -c 32 /dev/urandom | base64)")
        raw = _decode_text(text)
        if raw is None:
            raise EncryptionKeyError(
                f"environment variable {key_env} does not hold a key: expected 64 hex characters "
                f"or base64 of {KEY_BYTES} bytes", _KEY_HINT)
        return EncryptionKey(raw)
    return None


def _key_from_file(path: Path) -> EncryptionKey:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise EncryptionKeyError(f"cannot read the encryption key file {path}: "
                                 f"{exc.strerror or exc}", _KEY_HINT) from exc
    if len(data) == KEY_BYTES:
        return EncryptionKey(data)
    try:
        raw = _decode_text(data.decode("ascii").strip())
    except UnicodeDecodeError:
        raw = None
    if raw is None:
        raise EncryptionKeyError(
            f"encryption key file {path} holds {len(data)} bytes that are not a key: expected "
            f"{KEY_BYTES} raw bytes, 64 hex characters or base64 of {KEY_BYTES} bytes", _KEY_HINT)
    return EncryptionKey(raw)


def _decode_text(text: str) -> bytes | None:
    if len(text) == 2 * KEY_BYTES:
        try:
            return bytes.fromhex(text)
        except ValueError:
            return None
    try:
        raw = base64.b64decode(text, validate=True)
    except binascii.Error:
        return None
    return raw if len(raw) == KEY_BYTES else None


def encrypt_chunks(chunks: Iterable[bytes], key: EncryptionKey, *,
                   segment_bytes: int = DEFAULT_SEGMENT_BYTES) -> Iterator[bytes]:
    """The encrypted file for the concatenated ``chunks``: the header, then one chunk a segment."""
    if not 0 < segment_bytes < 2**31:
        raise ValueError(f"segment_bytes {segment_bytes} is out of range")
    cipher = key._cipher()
    header = _HEADER.pack(MAGIC, FORMAT_VERSION, bytes.fromhex(key.key_id), segment_bytes,
                          os.urandom(8))
    prefix = header[-8:]
    yield header
    buffer = bytearray()
    counter = 0
    for chunk in chunks:
        buffer += chunk
        while len(buffer) > segment_bytes:  # more follows, so this segment is not the final one
            yield _seal(cipher, prefix, counter, header, bytes(buffer[:segment_bytes]), final=False)
            del buffer[:segment_bytes]
            counter += 1
    yield _seal(cipher, prefix, counter, header, bytes(buffer), final=True)


def decrypt_chunks(chunks: Iterable[bytes], key: EncryptionKey | None,
                   file_name: str) -> Iterator[bytes]:
    """The plaintext of an encrypted file, one authenticated segment at a time.

    Raises EncryptionKeyError if ``key`` is missing or is not the file's key, and
    SnapshotIntegrityError (naming ``file_name``) if the file is truncated, reordered or altered.
    """
    stream = iter(chunks)
    buffer = bytearray()
    for chunk in stream:
        buffer += chunk
        if len(buffer) >= _HEADER.size:
            break
    header = bytes(buffer[:_HEADER.size])
    del buffer[:_HEADER.size]
    cipher, segment_bytes, prefix = _check_header(header, key, file_name)
    sealed_bytes = segment_bytes + TAG_BYTES
    counter = 0
    for chunk in chain([b""], stream):  # b"": the bytes read past the header come first
        buffer += chunk
        while len(buffer) > sealed_bytes:  # more follows, so this segment is not the final one
            yield _open(cipher, prefix, counter, header, bytes(buffer[:sealed_bytes]),
                        final=False, file_name=file_name)
            del buffer[:sealed_bytes]
            counter += 1
    if len(buffer) < TAG_BYTES:
        raise SnapshotIntegrityError(
            f"encrypted file {file_name} is truncated: it ends inside segment {counter}",
            "the file is damaged; restore from another snapshot")
    try:
        yield _open(cipher, prefix, counter, header, bytes(buffer), final=True,
                    file_name=file_name)
    except SnapshotIntegrityError:
        if len(buffer) == sealed_bytes and _authentic(cipher, prefix, counter, header,
                                                      bytes(buffer), final=False):
            raise SnapshotIntegrityError(
                f"encrypted file {file_name} is truncated: it ends after segment {counter}, "
                "which is not its last", "the file is damaged; restore from another snapshot",
            ) from None
        raise


def _check_header(header: bytes, key: EncryptionKey | None,
                  file_name: str) -> tuple[AESGCM, int, bytes]:
    key_id, segment_bytes, prefix = _parse_header(header, file_name)
    if key is None:
        raise EncryptionKeyError(
            f"file {file_name} was encrypted with key {key_id}, and no key was given",
            "give the snapshot's key (its key file or key variable)")
    if key.key_id != key_id:
        raise EncryptionKeyError(
            f"file {file_name} was encrypted with key {key_id}; the key given has id "
            f"{key.key_id}", "give the key the snapshot was taken with")
    return key._cipher(), segment_bytes, prefix


def _parse_header(header: bytes, file_name: str) -> tuple[str, int, bytes]:
    if len(header) < _HEADER.size:
        raise SnapshotIntegrityError(
            f"encrypted file {file_name} is truncated: it has {len(header)} bytes, less than "
            "its header", "the file is damaged; restore from another snapshot")
    magic, version, key_id, segment_bytes, prefix = _HEADER.unpack(header[:_HEADER.size])
    if magic != MAGIC:
        raise SnapshotIntegrityError(
            f"file {file_name} is not an encrypted snapshot file (its first bytes are not "
            f"{MAGIC!r})", "the file is damaged, or the manifest wrongly says it is encrypted")
    if version != FORMAT_VERSION:
        raise SnapshotIntegrityError(
            f"encrypted file {file_name} has format version {version}; this version reads "
            f"only {FORMAT_VERSION}", "read it with the version of the tool that wrote it")
    if segment_bytes == 0:
        raise SnapshotIntegrityError(f"encrypted file {file_name} has a zero segment size",
                                     "the file is damaged; restore from another snapshot")
    return key_id.hex(), segment_bytes, prefix


def _nonce(prefix: bytes, counter: int) -> bytes:
    if counter >= _MAX_SEGMENTS:
        raise ValueError("too many segments for one file")
    return prefix + counter.to_bytes(4, "big")


def _seal(cipher: AESGCM, prefix: bytes, counter: int, header: bytes, plaintext: bytes,
          *, final: bool) -> bytes:
    return cipher.encrypt(_nonce(prefix, counter), plaintext, header + bytes([final]))


def _authentic(cipher: AESGCM, prefix: bytes, counter: int, header: bytes, sealed: bytes,
               *, final: bool) -> bool:
    try:
        cipher.decrypt(_nonce(prefix, counter), sealed, header + bytes([final]))
    except InvalidTag:
        return False
    return True


def _open(cipher: AESGCM, prefix: bytes, counter: int, header: bytes, sealed: bytes,
          *, final: bool, file_name: str) -> bytes:
    try:
        return cipher.decrypt(_nonce(prefix, counter), sealed, header + bytes([final]))
    except InvalidTag:
        raise SnapshotIntegrityError(
            f"encrypted file {file_name} is corrupt: segment {counter} failed authentication "
            "(a changed, reordered or cut segment)",
            "the file is damaged; restore from another snapshot") from None
