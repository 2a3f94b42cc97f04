"""Base-snapshot data files: one table version's rows as an Avro object container file.

The format is the Avro 1.11 specification's: ``b"Obj\\x01"``, a metadata map (``avro.schema``,
``avro.codec``, and our ``cdc.table`` and ``cdc.schema_version``), a random 16-byte sync marker,
then blocks of (record count, byte size, compressed records, sync marker). Any Avro reader can
read the files; the records are written and read by our own ``RowCodec``, whose bytes are the
Avro binary encoding of ``avro_row_schema``, because fastavro writes a few thousand rows a
second where a snapshot needs tens of thousands.

Both directions stream: ``encode_chunk`` yields the header and then one ``bytes`` per block,
``decode_chunk`` takes the file in pieces of any size. ``iter_blocks`` gives the blocks'
decompressed records undecoded, for readers that decode a whole block at once
(``replayer.bulk_text``). The reader trusts nothing: a wrong magic,
schema or codec, a bad sync marker, a block that does not decompress or whose records do not
fill it exactly, a truncated file and bytes after the last block all raise
``SnapshotIntegrityError`` naming the file. Blocks are counted from 1 in messages.

zstandard blocks carry zstd's content checksum, so a flipped byte is always caught; "deflate"
(raw deflate, as Avro specifies it) and "null" blocks have no checksum of their own and rely on
the file's SHA-256 in the manifest.
"""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from typing import Any, TypeVar

import zstandard

from cdc.avro.binary import Reader, write_bytes, write_long, write_string
from cdc.avro.row_schema import avro_row_schema, row_codec
from cdc.changes import Row, TableSchema
from cdc.errors import TypeMappingError
from cdc.snapshot.errors import SnapshotError, SnapshotIntegrityError

CODECS = ("zstandard", "deflate", "null")
DEFAULT_CODEC = "zstandard"
DEFAULT_BLOCK_ROWS = 2048
DEFAULT_BLOCK_BYTES = 4 * 1024 * 1024
DEFAULT_BATCH_ROWS = 256
MAGIC = b"Obj\x01"
SYNC_SIZE = 16
_ZSTD_LEVEL = 3
_DEFLATE_LEVEL = 6  # zlib's default
_DEFLATE_WBITS = -15  # raw deflate: no zlib header or checksum, as the Avro spec says
_HEADER_LIMIT = 64 * 1024 * 1024  # a metadata entry larger than this is not ours: corrupt
_INTEGRITY_HINT = ("the file is damaged or is not this table version's snapshot data; "
                   "use another snapshot")

Compress = Callable[[bytes], bytes]
_R = TypeVar("_R")
EncodeBatch = Callable[[Sequence[_R]], list[bytes]]
"""The Avro encoding of each row of a batch."""


# --- writing ------------------------------------------------------------------------------------


def encode_chunk(schema: TableSchema, rows: Iterable[Row], *, codec: str = DEFAULT_CODEC,
                 block_rows: int = DEFAULT_BLOCK_ROWS, level: int | None = None,
                 block_bytes: int = DEFAULT_BLOCK_BYTES) -> Iterator[bytes]:
    """The container file of ``rows``: the header first, then one ``bytes`` per block.

    A block ends after ``block_rows`` rows, or sooner once its rows' encoding reaches
    ``block_bytes`` (so that rows of large blobs do not pile up in memory); no rows, no blocks.
    ``level`` is the codec's compression level (zstd 3 and zlib 6 by default). A value that
    does not fit its column raises ``TypeMappingError`` naming the row and column.
    """
    encode = row_codec(schema).encode

    def encode_batch(batch: Sequence[Row]) -> list[bytes]:
        return [encode(row) for row in batch]

    yield from encode_batches(schema, rows, encode_batch, codec=codec, block_rows=block_rows,
                              level=level, block_bytes=block_bytes, batch_rows=1)


def encode_batches(schema: TableSchema, rows: Iterable[_R], encode_batch: EncodeBatch[_R], *,
                   codec: str = DEFAULT_CODEC, block_rows: int = DEFAULT_BLOCK_ROWS,
                   level: int | None = None, block_bytes: int = DEFAULT_BLOCK_BYTES,
                   batch_rows: int = DEFAULT_BATCH_ROWS) -> Iterator[bytes]:
    """``encode_chunk`` of rows in any form, read and encoded ``batch_rows`` at a time (at most
    a block's): ``encode_batch`` returns each row's encoding, the bytes ``RowCodec.encode``
    gives for the row's canonical values (``raw_values.batch_encoder`` does so for the
    driver's tuples), and raises ``ValueError`` (or ``KeyError`` for a missing column) for a
    value that does not fit. The blocks are the same whatever ``batch_rows``."""
    if block_rows < 1:
        raise ValueError(f"block_rows must be at least 1, not {block_rows}")
    if batch_rows < 1:
        raise ValueError(f"batch_rows must be at least 1, not {batch_rows}")
    batch_rows = min(batch_rows, block_rows)
    compress = _compressor(codec, level)
    sync = os.urandom(SYNC_SIZE)
    yield _header(schema, codec, sync)
    block = bytearray()
    count = written = 0
    source = iter(rows)
    while batch := list(islice(source, batch_rows)):
        for data in _encoded(schema, batch, encode_batch, written + count):
            block += data
            count += 1
            if count == block_rows or len(block) >= block_bytes:
                yield _block(count, compress(bytes(block)), sync)
                written += count
                block.clear()
                count = 0
    if count:
        yield _block(count, compress(bytes(block)), sync)


def _encoded(schema: TableSchema, batch: list[_R], encode_batch: EncodeBatch[_R],
             before: int) -> list[bytes]:
    """The batch's encodings; on a refusal, the batch's rows are encoded one by one to name
    the row (``before`` rows of the file precede the batch)."""
    try:
        return encode_batch(batch)
    except (ValueError, KeyError) as exc:
        refusal, row = exc, before + 1
    for index, one in enumerate(batch):
        try:
            encode_batch([one])
        except (ValueError, KeyError) as exc:
            refusal, row = exc, before + index + 1
            break
    problem = (f"no column {refusal.args[0]!r}" if isinstance(refusal, KeyError)
               else str(refusal))
    raise TypeMappingError(
        f"{schema.qualified_name} v{schema.version}, row {row} of the file: {problem}",
        hint="the row does not fit the table's schema; report it: the snapshot stops rather "
             "than change a value",
    ) from None


def _compressor(codec: str, level: int | None) -> Compress:
    if codec == "zstandard":
        zstd = zstandard.ZstdCompressor(level=_ZSTD_LEVEL if level is None else level,
                                        write_checksum=True)
        return zstd.compress
    if codec == "deflate":
        deflate_level = _DEFLATE_LEVEL if level is None else level

        def deflate(data: bytes) -> bytes:
            compressor = zlib.compressobj(deflate_level, zlib.DEFLATED, _DEFLATE_WBITS)
            return compressor.compress(data) + compressor.flush()

        return deflate
    if codec == "null":
        return bytes
    raise SnapshotError(f"unknown snapshot file codec {codec!r}",
                        hint=f"use one of {', '.join(CODECS)}")


def _header(schema: TableSchema, codec: str, sync: bytes) -> bytes:
    metadata = {
        "avro.schema": json.dumps(avro_row_schema(schema), separators=(",", ":")),
        "avro.codec": codec,
        "cdc.table": schema.qualified_name,
        "cdc.schema_version": str(schema.version),
    }
    out = bytearray(MAGIC)
    write_long(out, len(metadata))
    for key, value in metadata.items():
        write_string(out, key)
        write_bytes(out, value.encode("utf-8"))
    write_long(out, 0)
    out += sync
    return bytes(out)


def _block(count: int, data: bytes, sync: bytes) -> bytes:
    out = bytearray()
    write_long(out, count)
    write_long(out, len(data))
    out += data
    out += sync
    return bytes(out)


# --- reading ------------------------------------------------------------------------------------


def decode_chunk(schema: TableSchema, chunks: Iterable[bytes], file_name: str) -> Iterator[Row]:
    """The rows of a container file written for ``schema``, read from its bytes in any pieces.

    Raises ``SnapshotIntegrityError`` naming ``file_name`` for anything but such a file, whole.
    """
    blocks = iter_blocks(schema, chunks, file_name)
    decode_from = row_codec(schema).decode_from
    for count, data in blocks:
        reader = Reader(data)
        for index in range(count):
            try:
                row = decode_from(reader)
            except (ValueError, OverflowError) as exc:  # AvroDecodeError is a ValueError
                raise blocks.error(record_error(index, count, exc)) from None
            yield row
        if not reader.at_end():
            raise blocks.error(trailing_error(len(data) - reader.position, count))


class BlockDecodeError(ValueError):
    """Records of a block that do not decode. ``detail`` completes the block's description in
    the message (``", record 3 of 10: ..."``); ``Blocks.error`` names the file and block."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def record_error(index: int, count: int, exc: Exception) -> str:
    """The detail of record ``index`` (from 0) of a block of ``count`` that does not decode."""
    return f", record {index + 1} of {count}: {exc}"


def trailing_error(extra: int, count: int) -> str:
    """The detail of a block with ``extra`` bytes after its ``count`` records."""
    return f" has {extra} bytes after its {count} records"


def iter_blocks(schema: TableSchema, chunks: Iterable[bytes], file_name: str) -> Blocks:
    """The blocks of a container file written for ``schema``: (record count, the block's
    decompressed records), read lazily from the file's bytes in any pieces.

    Checks everything but the records themselves as ``decode_chunk`` does (header, schema,
    codec, sync markers, decompression, counts, truncation, bytes after the last block),
    raising ``SnapshotIntegrityError`` naming ``file_name``. Whoever decodes the records raises
    ``blocks.error(detail)`` for those of the block just yielded that do not decode."""
    return Blocks(schema, chunks, file_name)


class Blocks(Iterator[tuple[int, bytes]]):
    """The iterator ``iter_blocks`` returns."""

    def __init__(self, schema: TableSchema, chunks: Iterable[bytes], file_name: str) -> None:
        self._schema = schema
        self._source = _Input(chunks, file_name)
        self._decompress: Decompress | None = None
        self._sync = b""
        self._number = 0
        self._what = "the header"

    def __iter__(self) -> Blocks:
        return self

    def __next__(self) -> tuple[int, bytes]:
        source = self._source
        if self._decompress is None:
            self._decompress, self._sync = _read_header(source, self._schema)
        if source.at_end():
            raise StopIteration
        self._number += 1
        what = self._what = f"block {self._number} (at byte {source.offset})"
        count = source.read_long(what)
        size = source.read_long(what)
        if count < 1 or size < 0:
            raise source.error(f"{what} claims {count} records in {size} bytes")
        compressed = source.read(size, what)
        if source.read(SYNC_SIZE, what) != self._sync:
            raise source.error(f"{what} ends with a wrong sync marker")
        try:
            data = self._decompress(compressed)
        except ValueError as exc:
            raise source.error(f"{what} does not decompress: {exc}") from None
        if self._schema.columns and count > len(data):  # a row takes a byte per column at least
            raise source.error(f"{what} claims {count} records in {len(data)} bytes of records")
        return count, data

    def error(self, detail: str) -> SnapshotIntegrityError:
        """The error for the records of the block last yielded: ``detail`` follows the block's
        name and position (see ``record_error``, ``trailing_error``)."""
        return self._source.error(f"{self._what}{detail}")


def _read_header(source: _Input, schema: TableSchema) -> tuple[Decompress, bytes]:
    what = "the header"
    magic = source.read(len(MAGIC), what)
    if magic != MAGIC:
        raise source.error(f"not an Avro container file (it starts with {magic!r})")
    metadata: dict[str, bytes] = {}
    while count := source.read_long(what):
        if count < 0:  # a block of entries that also gives its size in bytes
            count = -count
            source.read_long(what)
        for _ in range(count):
            key = source.read(_entry_size(source), what).decode("utf-8", "replace")
            metadata[key] = source.read(_entry_size(source), what)
    sync = source.read(SYNC_SIZE, what)
    _check_schema(source, metadata.get("avro.schema"), schema)
    codec = metadata.get("avro.codec", b"null").decode("utf-8", "replace")
    decompress = _DECOMPRESSORS.get(codec)
    if decompress is None:
        raise source.error(f"the header names the unknown codec {codec!r} "
                           f"(known: {', '.join(CODECS)})")
    return decompress, sync


def _entry_size(source: _Input) -> int:
    size = source.read_long("the header")
    if not 0 <= size <= _HEADER_LIMIT:
        raise source.error(f"the header has an entry of {size} bytes")
    return size


def _check_schema(source: _Input, text: bytes | None, schema: TableSchema) -> None:
    if text is None:
        raise source.error("the header has no avro.schema")
    try:
        found: Any = json.loads(text)
    except ValueError as exc:
        raise source.error(f"the header's avro.schema is not JSON: {exc}") from None
    if found != avro_row_schema(schema):
        expected = f"{schema.qualified_name} v{schema.version}"
        table = found.get("mysql.table") if isinstance(found, dict) else None
        version = found.get("cdc.schema_version") if isinstance(found, dict) else None
        if table is None or f"{table} v{version}" == expected:
            raise source.error(f"the header's schema is not that of {expected}")
        raise source.error(f"the header's schema is that of {table} v{version}, not of {expected}")


_ZSTD = zstandard.ZstdDecompressor()


def _zstandard(data: bytes) -> bytes:
    decompressor = _ZSTD.decompressobj()
    try:
        out = decompressor.decompress(data)
    except zstandard.ZstdError as exc:
        raise ValueError(str(exc)) from None
    if not decompressor.eof or decompressor.unused_data:
        raise ValueError("not one whole zstd frame")
    return out


def _deflate(data: bytes) -> bytes:
    decompressor = zlib.decompressobj(_DEFLATE_WBITS)
    try:
        out = decompressor.decompress(data)
    except zlib.error as exc:
        raise ValueError(str(exc)) from None
    if not decompressor.eof or decompressor.unused_data:
        raise ValueError("not one whole deflate stream")
    return out


Decompress = Callable[[bytes], bytes]
_DECOMPRESSORS: dict[str, Decompress] = {"zstandard": _zstandard, "deflate": _deflate,
                                         "null": bytes}


class _Input:
    """The file's bytes, gathered from its pieces as far as each read needs."""

    def __init__(self, chunks: Iterable[bytes], file_name: str) -> None:
        self._chunks = iter(chunks)
        self._buffer = b""
        self._start = 0
        self.offset = 0
        """The file offset of the next unread byte."""
        self.file_name = file_name

    def error(self, what: str) -> SnapshotIntegrityError:
        return SnapshotIntegrityError(f"{self.file_name}: {what}", _INTEGRITY_HINT)

    def _fill(self, size: int) -> bool:
        available = len(self._buffer) - self._start
        if available >= size:
            return True
        parts = [self._buffer[self._start:]]
        for chunk in self._chunks:
            parts.append(chunk)
            available += len(chunk)
            if available >= size:
                break
        self._buffer = b"".join(parts)
        self._start = 0
        return available >= size

    def read(self, size: int, what: str) -> bytes:
        if not self._fill(size):
            raise self.error(f"{what} ends early (truncated file?)")
        start = self._start
        self._start = start + size
        self.offset += size
        return self._buffer[start:start + size]

    def read_long(self, what: str) -> int:
        number = shift = 0
        while True:
            byte = self.read(1, what)[0]
            number |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return (number >> 1) ^ -(number & 1)
            shift += 7
            if shift > 63:
                raise self.error(f"{what} has a number longer than ten bytes")

    def at_end(self) -> bool:
        return not self._fill(1)
