"""Reading a changelog record's envelope alone, as set-based replay and restore planning do:
the compiled reader and its Python reference give the fields ``decode_envelope`` gives, for
every operation, images present or not, v1 and v2 records; and both refuse the same broken
records with AvroDecodeError."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cdc.avro import envelope
from cdc.avro.binary import AvroDecodeError
from cdc.avro.envelope import (
    ENVELOPE_V1_HEADER,
    ENVELOPE_V2_HEADER,
    HEADER_SIZE,
    decode_envelope,
    encode_envelope_in_python,
    envelope_fields,
    fields_in_python,
)
from cdc.changes import ChangeRecord, Operation, SourcePosition

records = st.builds(
    lambda operation, database, table, version, statement, gtid, numbers, last: ChangeRecord(
        operation=operation, database=database, table=table, schema_version=version,
        before=None, after=None, statement=statement,
        position=SourcePosition(gtid=gtid, gtid_position=f"0-1-{numbers[0]},1-2-3",
                                server_id=numbers[1], binlog_file="mariadb-bin.000042",
                                binlog_position=numbers[2]),
        commit_time_us=numbers[3], transaction_index=numbers[4], transaction_last=last),
    st.sampled_from(list(Operation)), st.text(), st.text(), st.integers(0, 1 << 40),
    st.none() | st.text(), st.text(max_size=30),
    st.tuples(*[st.integers(0, (1 << 62)) for _ in range(5)]), st.booleans())
images = st.none() | st.binary(max_size=300)


@given(records, images, images)
def test_the_fields_are_the_records(record: ChangeRecord, before: bytes | None,
                                    after: bytes | None) -> None:
    data = encode_envelope_in_python(record, before, after)
    kept: list[bytes | None] = []

    def keep(*args: object) -> tuple[None, None]:
        kept.extend(args[3:])  # type: ignore[arg-type]
        return None, None

    full = decode_envelope(data, keep)
    fields = envelope_fields(data)
    assert (fields.operation, fields.database, fields.table, fields.schema_version) == (
        full.operation, full.database, full.table, full.schema_version)
    assert (fields.before, fields.after) == (before, after) == tuple(kept)
    assert (fields.gtid, fields.gtid_position) == (full.position.gtid,
                                                   full.position.gtid_position)
    assert (fields.commit_time_us, fields.transaction_index, fields.transaction_last) == (
        full.commit_time_us, full.transaction_index, full.transaction_last)
    assert fields_in_python(data, HEADER_SIZE)[1:] == tuple(fields)[1:]


def test_a_v1_record_reads_as_a_v2_one() -> None:
    record = ChangeRecord(
        operation=Operation.HEARTBEAT, database="", table="", schema_version=0, before=None,
        after=None, statement=None,
        position=SourcePosition(gtid="0-1-5", gtid_position="0-1-5", server_id=1,
                                binlog_file="b.000001", binlog_position=4),
        commit_time_us=7, transaction_index=0, transaction_last=True)
    data = encode_envelope_in_python(record, None, None)
    assert data.startswith(ENVELOPE_V2_HEADER)
    v1 = ENVELOPE_V1_HEADER + data[HEADER_SIZE:]
    assert envelope_fields(v1) == envelope_fields(data)


def test_the_compiled_reader_is_built() -> None:
    assert envelope._native_fields is not None, "cdc/binlog/_fastrows.c was not built: " \
        "run make venv"


@given(records, images, images, st.data())
def test_both_readers_refuse_a_cut_or_lengthened_record(
        record: ChangeRecord, before: bytes | None, after: bytes | None,
        data: st.DataObject) -> None:
    whole = encode_envelope_in_python(record, before, after)
    cut = data.draw(st.integers(HEADER_SIZE, len(whole) - 1))
    for broken in (whole[:cut], whole + b"\x00"):
        with pytest.raises(ValueError, match="does not fit the changelog envelope"):
            envelope._native_fields(broken, HEADER_SIZE)
        with pytest.raises(AvroDecodeError):
            fields_in_python(broken, HEADER_SIZE)
        with pytest.raises(AvroDecodeError):
            envelope_fields(broken)


def test_an_unknown_header_or_operation_is_refused() -> None:
    with pytest.raises(AvroDecodeError, match="unknown envelope header"):
        envelope_fields(b"\xc3\x01" + b"\x00" * 8 + b"\x00")
    record = ChangeRecord(
        operation=Operation.START, database="", table="", schema_version=0, before=None,
        after=None, statement=None,
        position=SourcePosition(gtid="", gtid_position="", server_id=1, binlog_file="",
                                binlog_position=4),
        commit_time_us=7, transaction_index=0, transaction_last=True)
    v1_start = ENVELOPE_V1_HEADER + encode_envelope_in_python(record, None, None)[HEADER_SIZE:]
    with pytest.raises(AvroDecodeError, match="operation 5"):
        envelope_fields(v1_start)  # v1 has no START
