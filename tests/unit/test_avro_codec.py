"""The changelog codec: envelope framing, errors on foreign bytes, keys, the schemas topic."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from fastavro import parse_schema, schemaless_writer
from fastavro.schema import fingerprint, to_parsing_canonical_form

from cdc.avro.codec import (
    decode_envelope_only,
    decode_record,
    encode_key,
    encode_record,
    schema_topic_key,
    table_schema_from_bytes,
    table_schema_to_bytes,
)
from cdc.avro.envelope import (
    ENVELOPE_V1,
    ENVELOPE_V1_HEADER,
    ENVELOPE_V2,
    ENVELOPE_V2_HEADER,
    PARSED_ENVELOPE_V1,
    schema_fingerprint,
)
from cdc.avro.errors import RecordFormatError
from cdc.avro.row_schema import avro_field_names, avro_row_schema, row_codec
from cdc.changes import ChangeRecord, Column, Operation, Row, SourcePosition, TableSchema
from cdc.errors import CdcError, TypeMappingError
from cdc.values import ZERO_DATETIME, ZeroDate

SCHEMAS_DIR = Path(__file__).resolve().parents[2] / "schemas"

PAYMENTS = TableSchema(
    database="shop",
    table="payments",
    version=3,
    columns=(
        Column("id", "bigint", unsigned=True, nullable=False),
        Column("amount", "decimal", precision=19, scale=4),
        Column("paid at", "timestamp", scale=6),
        Column("booked", "date"),
        Column("methods", "set", members=("card", "sepa"), charset="utf8mb4"),
        Column("note", "varchar", precision=20, charset="utf8mb4"),
    ),
    primary_key=("id",),
)
ROW: Row = {
    "id": 18446744073709551615,
    "amount": Decimal("12.3400"),
    "paid at": datetime(2026, 3, 1, 12, 0, 0, 1, tzinfo=UTC),
    "booked": ZeroDate(2026, 0, 1),
    "methods": frozenset(),
    "note": "",
}
POSITION = SourcePosition(gtid="0-1-42", gtid_position="0-1-42", server_id=1,
                          binlog_file="mariadb-bin.000002", binlog_position=1234)


def _record(operation: Operation = Operation.UPDATE, before: Row | None = ROW,
            after: Row | None = ROW, **changes: object) -> ChangeRecord:
    record = ChangeRecord(
        operation=operation, database="shop", table="payments", schema_version=3,
        before=before, after=after, statement=None, position=POSITION,
        commit_time_us=1_772_366_400_000_001, transaction_index=0, transaction_last=True,
    )
    return replace(record, **changes)  # type: ignore[arg-type]


def _lookup(database: str, table: str, version: int) -> TableSchema:
    assert (database, table, version) == ("shop", "payments", 3)
    return PAYMENTS


@pytest.mark.parametrize(("name", "header", "envelope"), [
    ("changelog-record-v1.avsc", ENVELOPE_V1_HEADER, ENVELOPE_V1),
    ("changelog-record-v2.avsc", ENVELOPE_V2_HEADER, ENVELOPE_V2),
])
def test_published_envelope_schemas_are_the_ones_in_use(name: str, header: bytes,
                                                        envelope: dict[str, object]) -> None:
    published = json.loads((SCHEMAS_DIR / name).read_text())
    assert published["namespace"] == "cdc.changelog"
    canonical = to_parsing_canonical_form(parse_schema(published))
    assert header[2:] == bytes.fromhex(fingerprint(canonical, "CRC-64-AVRO"))
    fields = envelope["fields"]
    assert isinstance(fields, list)
    assert [f["name"] for f in published["fields"]] == [f["name"] for f in fields]


def test_v1_records_still_decode() -> None:
    # Changelogs written before the start record existed hold v1 envelopes: same body, the
    # v1 enum. Written here by fastavro itself, then read back by the project's decoder.
    for operation in (Operation.INSERT, Operation.HEARTBEAT):
        record = _record(operation, before=None)
        data = io.BytesIO()
        data.write(ENVELOPE_V1_HEADER)
        schemaless_writer(data, PARSED_ENVELOPE_V1, {
            "operation": operation.name, "database": "shop", "table": "payments",
            "schema_version": 3, "before": None,
            "after": row_codec(PAYMENTS).encode(ROW), "statement": None,
            "gtid": POSITION.gtid, "gtid_position": POSITION.gtid_position,
            "server_id": POSITION.server_id, "binlog_file": POSITION.binlog_file,
            "binlog_position": POSITION.binlog_position,
            "commit_time_us": record.commit_time_us, "transaction_index": 0,
            "transaction_last": True,
        })
        assert decode_record(data.getvalue(), _lookup) == record


def test_a_start_record_cannot_hide_in_a_v1_header() -> None:
    # START is index 5: only the v2 enum has it, so a v1 header with it is corrupt.
    start = _record(Operation.START, database="", table="", before=None, after=None,
                    schema_version=0)
    data = encode_record(start, None)
    with pytest.raises(RecordFormatError):
        decode_record(ENVELOPE_V1_HEADER + data[10:], _lookup)


def test_fingerprint_is_the_avro_specs_crc64_little_endian() -> None:
    # The Avro specification's test vector: CRC-64-AVRO of "null" is 7195948357588979594.
    assert schema_fingerprint("null") == (7195948357588979594).to_bytes(8, "little")


def test_records_start_with_the_single_object_header() -> None:
    data = encode_record(_record(), PAYMENTS)
    assert data[:2] == b"\xc3\x01"
    assert data[:10] == ENVELOPE_V2_HEADER


def test_every_operation_round_trips() -> None:
    records = [
        _record(Operation.INSERT, before=None),
        _record(Operation.UPDATE),
        _record(Operation.DELETE, after=None),
        _record(Operation.DDL, before=None, after=None, statement="ALTER TABLE payments ADD x INT",
                schema_version=4),
        _record(Operation.HEARTBEAT, database="", table="", before=None, after=None,
                schema_version=0, transaction_index=0),
        _record(Operation.START, database="", table="", before=None, after=None,
                statement='{"rule": "current"}', schema_version=0, transaction_index=0),
    ]
    for record in records:
        schema = PAYMENTS if record.image is not None else None
        decoded = decode_record(encode_record(record, schema), _lookup)
        assert decoded == record


def test_foreign_and_corrupt_bytes_raise_a_named_error() -> None:
    good = encode_record(_record(), PAYMENTS)
    cases = {
        b"": "marker",
        b"{\"json\": true}": "marker",
        b"\xc3\x01" + bytes(8) + good[10:]: "unknown changelog envelope fingerprint",
        good[:-3]: "corrupt or truncated",
        good + b"\x00": "bytes after the record's end",
    }
    for data, message in cases.items():
        with pytest.raises(RecordFormatError, match=message) as caught:
            decode_record(data, _lookup)
        assert isinstance(caught.value, CdcError)


def test_a_row_image_written_with_another_schema_is_refused() -> None:
    data = encode_record(_record(), PAYMENTS)

    def other_shape(database: str, table: str, version: int) -> TableSchema:
        return replace(PAYMENTS, columns=PAYMENTS.columns[:2])

    with pytest.raises(RecordFormatError, match=r"bytes after its last column|corrupt"):
        decode_record(data, other_shape)

    def wrong_version(database: str, table: str, version: int) -> TableSchema:
        return replace(PAYMENTS, version=2)

    with pytest.raises(RecordFormatError, match=r"returned shop\.payments v2"):
        decode_record(data, wrong_version)


def test_rows_that_do_not_match_their_schema_are_refused_on_encode() -> None:
    with pytest.raises(TypeMappingError, match="no table schema"):
        encode_record(_record(), None)
    with pytest.raises(TypeMappingError, match=r"schema of shop\.payments v2"):
        encode_record(_record(), replace(PAYMENTS, version=2))
    without_note = {name: value for name, value in ROW.items() if name != "note"}
    with pytest.raises(TypeMappingError, match="KeyError"):
        encode_record(_record(after=without_note | {"other": 1}), PAYMENTS)
    with pytest.raises(TypeMappingError, match="not a member"):
        encode_record(_record(after={**ROW, "methods": frozenset({"cash"})}), PAYMENTS)
    with pytest.raises(TypeMappingError, match=r"'paid at'.* not an instant"):
        encode_record(_record(after={**ROW, "paid at": datetime(2026, 1, 1)}), PAYMENTS)


def test_keys_are_deterministic_and_name_the_table() -> None:
    insert = _record(Operation.INSERT, before=None)
    key = encode_key(insert, PAYMENTS)
    assert key is not None
    assert key == encode_key(_record(Operation.DELETE, after=None), PAYMENTS)
    assert key == encode_key(_record(after={**ROW, "note": "changed"}), PAYMENTS)
    assert key != encode_key(_record(after={**ROW, "id": 1}, before=None), PAYMENTS)
    other_table = replace(PAYMENTS, table="refunds")
    assert key != encode_key(replace(insert, table="refunds"), other_table)
    assert b"shop" in key
    assert b"payments" in key


def test_no_key_for_heartbeats_ddl_and_keyless_tables() -> None:
    assert encode_key(_record(Operation.HEARTBEAT, before=None, after=None), None) is None
    assert encode_key(_record(Operation.DDL, before=None, after=None), None) is None
    assert encode_key(_record(), replace(PAYMENTS, primary_key=())) is None


def test_composite_keys_follow_key_order() -> None:
    schema = replace(PAYMENTS, primary_key=("note", "id"))
    swapped = replace(PAYMENTS, primary_key=("id", "note"))
    assert encode_key(_record(), schema) != encode_key(_record(), swapped)


def test_schema_topic_records_round_trip_losslessly() -> None:
    data = table_schema_to_bytes(PAYMENTS)
    assert table_schema_from_bytes(data) == PAYMENTS
    assert table_schema_to_bytes(table_schema_from_bytes(data)) == data
    assert schema_topic_key("shop", "payments", 3) == b'["shop","payments",3]'
    assert schema_topic_key("a.b", "c", 1) != schema_topic_key("a", "b.c", 1)


@pytest.mark.parametrize("data", [
    b"", b"[]", b"\xff", b'{"format": "other"}',
    table_schema_to_bytes(PAYMENTS).replace(b'"unsigned":true', b'"unsigned":1'),
    table_schema_to_bytes(PAYMENTS).replace(b'"version":3', b'"version":true'),
    table_schema_to_bytes(PAYMENTS).replace(b'"primary_key":["id"]', b'"primary_key":["nope"]'),
])
def test_corrupt_schema_topic_records_raise(data: bytes) -> None:
    with pytest.raises(RecordFormatError):
        table_schema_from_bytes(data)


def test_column_names_that_are_not_avro_names_get_unique_legal_fields() -> None:
    columns = (Column("paid at", "int"), Column("paid_at", "int"), Column("1st", "int"),
               Column("ünï", "int"), Column("_1st", "int"))
    names = avro_field_names(columns)
    assert len(set(names)) == len(names)
    assert names[1] == "paid_at"
    assert names[4] == "_1st"
    schema = avro_row_schema(TableSchema("d", "t", 1, columns, ()))
    assert [f.get("mysql.name") for f in schema["fields"]] == [
        "paid at", None, "1st", "ünï", None]
    parse_schema(schema)


def test_row_schema_types_are_exact() -> None:
    types = {f["name"]: f["type"][1] for f in avro_row_schema(PAYMENTS)["fields"]}
    assert types["id"] == {"type": "bytes", "logicalType": "decimal", "precision": 20,
                           "scale": 0}
    assert types["amount"]["precision"] == 19
    assert types["paid_at"] == {"type": "long", "logicalType": "timestamp-micros"}
    assert types["booked"]["type"] == "string"
    assert types["methods"] == {"type": "array", "items": "string"}


def test_zero_timestamp_and_set_order_in_the_avro_body() -> None:
    schema = TableSchema("d", "t", 1, (
        Column("ts", "timestamp"), Column("s", "set", members=("b", "a")),
        Column("t", "time", scale=6), Column("day", "date")), ())
    row: Row = {"ts": ZERO_DATETIME, "s": frozenset({"a", "b"}),
                "t": -timedelta(microseconds=1), "day": date(2020, 1, 1)}
    record = replace(_record(), database="d", table="t", schema_version=1, before=None,
                     after=row)
    data = encode_record(record, schema)
    decoded = decode_record(data, lambda *_: schema)
    assert decoded.after == row
    # The body of the image is plain Avro any reader can decode with the row schema.
    expected = io.BytesIO()
    schemaless_writer(expected, parse_schema(avro_row_schema(schema)),
                      {"ts": 0, "s": ["b", "a"], "t": -1, "day": "2020-01-01"})
    assert expected.getvalue() in data


def test_the_envelope_alone_decodes_without_any_table_schema() -> None:
    # Locating a snapshot's replay start reads positions only: a table version published
    # after the schemas topic was read (capture writing on meanwhile) must not fail it.
    record = _record(Operation.UPDATE)
    decoded = decode_envelope_only(encode_record(record, PAYMENTS))
    assert (decoded.before, decoded.after) == (None, None)
    assert decoded.position == record.position
    assert decoded.operation is Operation.UPDATE
    with pytest.raises(RecordFormatError):
        decode_envelope_only(b"\x00" * 12)
