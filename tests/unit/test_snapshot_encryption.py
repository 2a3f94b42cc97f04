from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from cdc.snapshot.encryption import (
    EncryptionKey,
    decrypt_chunks,
    encrypt_chunks,
    load_key,
)
from cdc.snapshot.errors import EncryptionKeyError, SnapshotIntegrityError

KEY = EncryptionKey(bytes(range(32)))
OTHER = EncryptionKey(bytes(range(1, 33)))
SEGMENT = 64
NAME = "shop.orders.0001.avro"
HEADER = 27
SEALED = SEGMENT + 16


def _encrypt(plaintext: bytes, key: EncryptionKey = KEY) -> bytes:
    pieces = [plaintext[i:i + 10] for i in range(0, len(plaintext), 10)]
    return b"".join(encrypt_chunks(pieces, key, segment_bytes=SEGMENT))


def _decrypt(data: bytes, key: EncryptionKey | None = KEY, step: int = 7) -> bytes:
    return b"".join(decrypt_chunks((data[i:i + step] for i in range(0, len(data), step)), key,
                                   NAME))


@pytest.mark.parametrize("size", [0, 1, SEGMENT - 1, SEGMENT, SEGMENT + 1, 5 * SEGMENT + 17,
                                  6 * SEGMENT])
def test_round_trip_over_several_segments(size: int) -> None:
    plaintext = os.urandom(size)
    sealed = _encrypt(plaintext)
    segments = max(1, -(-size // SEGMENT))
    assert len(sealed) == HEADER + size + 16 * segments
    assert plaintext[:16] not in sealed or size < 16
    assert _decrypt(sealed) == plaintext
    assert _decrypt(sealed, step=len(sealed) or 1) == plaintext


def test_each_segment_is_one_output_chunk_and_output_is_streamed() -> None:
    produced: list[int] = []

    def chunks() -> Iterator[bytes]:
        for number in range(10):
            produced.append(number)
            yield bytes([number]) * SEGMENT

    stream = encrypt_chunks(chunks(), KEY, segment_bytes=SEGMENT)
    assert len(next(stream)) == HEADER
    assert len(next(stream)) == SEALED
    assert produced == [0, 1]  # the first segment went out before the rest was read
    assert [len(part) for part in stream] == [SEALED] * 9


def test_two_encryptions_differ_by_nonce() -> None:
    assert _encrypt(b"same plaintext") != _encrypt(b"same plaintext")


@pytest.mark.parametrize("position", [0, 7, HEADER - 1, HEADER, HEADER + SEALED + 3, -1])
def test_a_flipped_byte_is_detected_naming_the_file(position: int) -> None:
    sealed = bytearray(_encrypt(os.urandom(3 * SEGMENT + 5)))
    sealed[position] ^= 0x01
    with pytest.raises((SnapshotIntegrityError, EncryptionKeyError), match=NAME):
        _decrypt(bytes(sealed))


@pytest.mark.parametrize("position", [HEADER, HEADER + SEALED + 3, -1])
def test_a_flipped_byte_in_a_segment_is_an_integrity_error(position: int) -> None:
    sealed = bytearray(_encrypt(os.urandom(3 * SEGMENT + 5)))
    sealed[position] ^= 0x80
    with pytest.raises(SnapshotIntegrityError, match=f"{NAME} is corrupt: segment"):
        _decrypt(bytes(sealed))


def test_dropping_the_last_segment_is_detected_as_truncation() -> None:
    sealed = _encrypt(os.urandom(3 * SEGMENT + 5))
    without_last = sealed[:HEADER + 3 * SEALED]
    with pytest.raises(SnapshotIntegrityError,
                       match=f"{NAME} is truncated: it ends after segment 2, which is not its"):
        _decrypt(without_last)


def test_a_file_cut_anywhere_is_detected() -> None:
    sealed = _encrypt(os.urandom(2 * SEGMENT))
    for cut in range(len(sealed)):
        with pytest.raises(SnapshotIntegrityError, match=NAME):
            _decrypt(sealed[:cut])


def test_reordered_segments_are_detected() -> None:
    sealed = _encrypt(os.urandom(3 * SEGMENT + 5))
    first = sealed[HEADER:HEADER + SEALED]
    second = sealed[HEADER + SEALED:HEADER + 2 * SEALED]
    swapped = sealed[:HEADER] + second + first + sealed[HEADER + 2 * SEALED:]
    with pytest.raises(SnapshotIntegrityError, match=f"{NAME} is corrupt: segment 0"):
        _decrypt(swapped)


def test_a_wrong_key_names_both_key_ids() -> None:
    sealed = _encrypt(b"secret rows")
    with pytest.raises(EncryptionKeyError) as caught:
        _decrypt(sealed, OTHER)
    assert caught.value.message == (f"file {NAME} was encrypted with key {KEY.key_id}; the key "
                                    f"given has id {OTHER.key_id}")
    assert caught.value.exit_status == 2


def test_a_missing_key_names_the_files_key() -> None:
    with pytest.raises(EncryptionKeyError,
                       match=f"file {NAME} was encrypted with key {KEY.key_id}, and no key"):
        _decrypt(_encrypt(b"secret rows"), None)


def test_a_plain_file_is_not_taken_for_an_encrypted_one() -> None:
    with pytest.raises(SnapshotIntegrityError, match=f"file {NAME} is not an encrypted"):
        _decrypt(b"Obj\x01" + bytes(100))


def test_key_id_is_a_hash_prefix_and_the_key_never_shows() -> None:
    raw = bytes(range(32))
    assert KEY.key_id == "630dcd2966c43366"
    assert KEY.key_id != OTHER.key_id
    for text in (repr(KEY), str(KEY), f"{KEY}"):
        assert text == "EncryptionKey(key_id='630dcd2966c43366')"
        assert raw.hex() not in text
    assert EncryptionKey(raw) == KEY
    assert KEY != OTHER


@pytest.mark.parametrize("content", [
    bytes(range(32)),
    bytes(range(32)).hex().encode() + b"\n",
    base64.b64encode(bytes(range(32))) + b"\n",
    bytes(range(32)).hex().upper().encode(),
])
def test_key_file_forms(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "snapshot.key"
    path.write_bytes(content)
    assert load_key(str(path), None, {}) == KEY


def test_a_raw_key_ending_in_newline_byte_is_kept_whole(tmp_path: Path) -> None:
    raw = bytes(31) + b"\n"
    path = tmp_path / "snapshot.key"
    path.write_bytes(raw)
    assert load_key(str(path), None, {}) == EncryptionKey(raw)


@pytest.mark.parametrize("value", [bytes(range(32)).hex(),
                                   base64.b64encode(bytes(range(32))).decode() + "\n"])
def test_key_from_environment(value: str) -> None:
    assert load_key(None, "CDC_SNAPSHOT_KEY", {"CDC_SNAPSHOT_KEY": value}) == KEY


def test_no_key_configured_means_no_encryption() -> None:
    assert load_key(None, None, {"CDC_SNAPSHOT_KEY": "ignored"}) is None


@pytest.mark.parametrize("content", [bytes(16), bytes(33), b"", b"zz" * 32, b"\xff" * 40,
                                     base64.b64encode(bytes(16))])
def test_a_key_file_of_the_wrong_size_is_refused_with_how_to_make_one(
        tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "snapshot.key"
    path.write_bytes(content)
    with pytest.raises(EncryptionKeyError, match=f"encryption key file {path} holds") as caught:
        load_key(str(path), None, {})
    assert "head -c 32 /dev/urandom > snapshot.key" in caught.value.hint


def test_a_missing_key_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "nope.key"
    with pytest.raises(EncryptionKeyError, match=f"cannot read the encryption key file {path}"
                                                 ": No such file") as caught:
        load_key(str(path), None, {})
    assert "head -c 32 /dev/urandom" in caught.value.hint


@pytest.mark.parametrize("environ", [{}, {"CDC_SNAPSHOT_KEY": ""}, {"CDC_SNAPSHOT_KEY": " \n"}])
def test_an_unset_or_empty_key_variable_is_refused(environ: dict[str, str]) -> None:
    with pytest.raises(EncryptionKeyError, match="CDC_SNAPSHOT_KEY is not set or is empty"):
        load_key(None, "CDC_SNAPSHOT_KEY", environ)


def test_a_malformed_key_variable_is_refused() -> None:
    with pytest.raises(EncryptionKeyError, match="CDC_SNAPSHOT_KEY does not hold a key"):
        load_key(None, "CDC_SNAPSHOT_KEY", {"CDC_SNAPSHOT_KEY": "abc123"})


def test_file_and_variable_together_are_refused(tmp_path: Path) -> None:
    with pytest.raises(EncryptionKeyError, match="both given"):
        load_key(str(tmp_path / "k"), "CDC_SNAPSHOT_KEY", {"CDC_SNAPSHOT_KEY": "x"})
