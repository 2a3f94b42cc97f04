"""How the reader cuts the binlog into batches: each one decodable on its own."""

from __future__ import annotations

from cdc.binlog.event_parser import HEADER, MARIADB_GTID, QUERY, ROTATE, TABLE_MAP, XID
from cdc.pipeline.batches import Batcher, ErrorReport

WRITE_ROWS = 30
FORMAT_DESCRIPTION = 15


def event(code: int, body: bytes = b"", table_id: int = 0) -> bytes:
    """An event payload (OK marker, header, body) as the connection delivers it."""
    if code in (TABLE_MAP, WRITE_ROWS):
        body = table_id.to_bytes(6, "little") + body
    size = HEADER.size + len(body)
    return b"\x00" + HEADER.pack(0, code, 1001, size, 0, 0) + body


def codes(payloads: tuple[bytes, ...]) -> list[int]:
    return [p[5] for p in payloads]


def test_batches_end_before_a_transaction_once_large_and_are_numbered() -> None:
    batcher = Batcher(target_bytes=100, limit_bytes=10_000)
    sent = []
    for _ in range(3):
        for payload in (event(MARIADB_GTID), event(TABLE_MAP, table_id=7),
                        event(WRITE_ROWS, b"r" * 120, table_id=7), event(XID)):
            full = batcher.add(payload)
            if full is not None:
                sent.append(full)
    last = batcher.flush()
    assert last is not None
    sent.append(last)
    assert [b.sequence for b in sent] == [0, 1, 2]
    assert all(codes(b.payloads) == [MARIADB_GTID, TABLE_MAP, WRITE_ROWS, XID] for b in sent)
    assert batcher.flush() is None


def test_a_huge_transaction_is_cut_before_rows_and_carries_its_table_maps() -> None:
    batcher = Batcher(target_bytes=100, limit_bytes=300)
    sent = []
    payloads = [event(MARIADB_GTID), event(QUERY, b"BEGIN"), event(TABLE_MAP, b"a", 7),
                event(TABLE_MAP, b"b", 8)]
    payloads += [event(WRITE_ROWS, b"r" * 150, 7 + i % 2) for i in range(6)] + [event(XID)]
    for payload in payloads:
        full = batcher.add(payload)
        if full is not None:
            sent.append(full)
    final = batcher.flush()
    assert final is not None
    sent.append(final)
    assert len(sent) > 2
    for batch in sent[1:]:  # each continuation starts with both maps, then its rows
        assert codes(batch.payloads)[:2] == [TABLE_MAP, TABLE_MAP]
        assert batch.payloads[:2] == (payloads[2], payloads[3])
    rows = [p for b in sent for p in b.payloads if p[5] == WRITE_ROWS]
    assert rows == payloads[4:10], "every rows event exactly once, in order"


def test_a_flush_inside_a_transaction_carries_its_maps_and_a_commit_drops_them() -> None:
    batcher = Batcher()
    for payload in (event(MARIADB_GTID), event(TABLE_MAP, b"m", 7)):
        assert batcher.add(payload) is None
    assert batcher.flush() is not None  # the connection had nothing more for now
    batcher.add(event(WRITE_ROWS, b"r", 7))
    batcher.add(event(XID))
    carried = batcher.flush()
    assert carried is not None
    assert codes(carried.payloads) == [TABLE_MAP, WRITE_ROWS, XID]
    batcher.add(event(MARIADB_GTID))
    assert batcher.flush() is None  # a GTID event waits for the event after it
    batcher.add(event(QUERY, b"BEGIN"))
    after_commit = batcher.flush()
    assert after_commit is not None
    assert codes(after_commit.payloads) == [MARIADB_GTID, QUERY]


def test_a_ddl_is_never_cut_from_its_gtid() -> None:
    batcher = Batcher(target_bytes=10, limit_bytes=20)
    batcher.add(event(MARIADB_GTID, b"x" * 40))
    assert batcher.add(event(QUERY, b"ALTER TABLE t ADD c INT")) is None


def test_a_flush_never_parts_a_gtid_event_from_the_event_after_it() -> None:
    # The connection had nothing more ready just after a DDL's GTID event: the batch sent
    # ends before it, and the GTID goes on with its statement.
    batcher = Batcher()
    before = (event(MARIADB_GTID), event(QUERY, b"BEGIN"), event(XID))
    for payload in before:
        batcher.add(payload)
    ddl_gtid = event(MARIADB_GTID, b"ddl")
    batcher.add(ddl_gtid)
    sent = batcher.flush()
    assert sent is not None
    assert sent.payloads == before
    statement = event(QUERY, b"CREATE DATABASE d")
    batcher.add(statement)
    rest = batcher.flush()
    assert rest is not None
    assert rest.payloads == (ddl_gtid, statement)
    assert rest.sequence == sent.sequence + 1


def test_each_batch_knows_its_binlog_file_and_format_description() -> None:
    batcher = Batcher(checksum=False)
    fde = event(FORMAT_DESCRIPTION, b"v")
    batcher.add(event(ROTATE, (4).to_bytes(8, "little") + b"mariadb-bin.000002"))
    batcher.add(fde)
    first = batcher.flush()
    batcher.add(event(MARIADB_GTID))
    batcher.add(event(QUERY, b"BEGIN"))
    second = batcher.flush()
    assert first is not None
    assert second is not None
    assert (first.log_file, first.format_description) == ("", None)
    assert (second.log_file, second.format_description) == ("mariadb-bin.000002", fde)


def test_the_last_batch_says_why_the_stream_ended() -> None:
    batcher = Batcher()
    batcher.add(event(MARIADB_GTID))
    report = ErrorReport("SourceConnectionError", "lost the binlog connection", "reconnects")
    last = batcher.end(report)
    assert (last.end, codes(last.payloads)) == (report, [MARIADB_GTID])
