"""Rows per second of turning a snapshot file into bulk-load text, before and after the fused
encoders (``replayer.bulk_text``); no server needed.

``python -m bench.bulk_text_throughput [--rows N] [--runs R] [--json]`` builds N rows shaped
like the workload's ``payments`` table (bench/harness/payments_table.py's DDL and fill), encodes
them as a zstandard snapshot file (``encode_chunk``) and times, best of R runs, each way from
the file's bytes to the text a loader sends:

- ``decode_chunk`` alone (what every path below pays before this change);
- PostgreSQL COPY text: ``decode_chunk`` then ``copy_row``, against the fused encoder;
- MariaDB: ``decode_chunk`` then ``to_parameter`` (then mysqlclient's literals, as a
  multi-row INSERT needs), against the fused LOAD DATA encoder;
- the fused PostgreSQL encoder compiled as one function per column instead of one function
  per block, to show what the generated code saves;
- the compiled COPY encoder (``replayer.copy_text_compiled``, C), what a restore uses.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import click
import MySQLdb._mysql
from MySQLdb.converters import conversions

from cdc.changes import Column, Row, TableSchema
from cdc.snapshot.chunk_file import decode_chunk, encode_chunk, iter_blocks
from replayer.apply_mysql import to_parameter
from replayer.bulk_text import NEWLINE, TAB, FusedEncoder, encode_blocks
from replayer.bulk_text import _column_code as column_code
from replayer.bulk_text_mysql import mysql_load_encoder
from replayer.bulk_text_postgres import postgres_copy_encoder, postgres_fused_encoder
from replayer.copy_text_compiled import CopyEncoder
from replayer.postgres_types import copy_row

UTF8 = "utf8mb4"
PAYMENTS = TableSchema("shop", "payments", 1, (
    Column("id", "bigint", unsigned=True, nullable=False),
    Column("reference", "varchar", precision=64, charset=UTF8, nullable=False),
    Column("from_account_id", "bigint", unsigned=True, nullable=False),
    Column("to_account_id", "bigint", unsigned=True, nullable=False),
    Column("amount", "decimal", precision=19, scale=4, nullable=False),
    Column("currency", "char", precision=3, charset=UTF8, nullable=False),
    Column("status", "enum", members=("pending", "settled", "failed", "refunded"),
           charset=UTF8, nullable=False),
    Column("failure_reason", "varchar", precision=64, charset=UTF8),
    Column("metadata", "longtext", charset=UTF8),  # MariaDB's JSON
    Column("created_at", "datetime", scale=6, nullable=False),
    Column("settled_at", "datetime", scale=6),
    Column("updated_at", "timestamp", scale=6, nullable=False),
), ("id",))
_START = datetime(2026, 1, 1)
_UPDATED = datetime(2026, 5, 1, tzinfo=UTC)


def payments_rows(count: int) -> Iterator[Row]:
    """Rows as payments_table.FILL makes them; updated_at a different second each row."""
    for seq in range(1, count + 1):
        yield {
            "id": seq, "reference": f"ref-{seq}", "from_account_id": seq % 1000 + 1,
            "to_account_id": (seq * 7) % 1000 + 1,
            "amount": Decimal(seq % 100000).scaleb(-2) + Decimal("0.0001"),
            "currency": ("EUR", "USD", "GBP")[seq % 3],
            "status": ("pending", "settled", "failed", "refunded")[seq % 4],
            "failure_reason": "card_declined" if seq % 4 == 2 else None,
            "metadata": f'{{"channel": "web", "n": {seq}}}' if seq % 5 == 0 else None,
            "created_at": _START + timedelta(seconds=seq),
            "settled_at": _START + timedelta(seconds=seq + 30) if seq % 4 == 1 else None,
            "updated_at": _UPDATED + timedelta(microseconds=seq * 8_022_247),
        }


def best_of(runs: int, work: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best


def per_column_functions(encoder: FusedEncoder) -> Callable[[int, bytes], bytes]:
    """The same reading and formatting as ``encoder``'s generated code, but one function per
    column, called for each field (the posts run as in the fused encoder)."""
    schema = encoder.schema
    namespace = dict(encoder._read_block.__kwdefaults__ or {})
    functions = []
    for index, (column, code) in enumerate(zip(schema.columns, encoder.codes, strict=True)):
        lines = [f"def column_{index}(d, p):",
                 *("    " + line for line in column_code(index, column, code,
                                                         count_nulls=False)),
                 f"    return f{index}, p"]
        exec("\n".join(lines), namespace)
        functions.append(namespace[f"column_{index}"])
    width = len(functions)
    posts = [(index, code.post) for index, code in enumerate(encoder.codes)
             if code.post is not None]

    def encode(count: int, data: bytes) -> bytes:
        fields: list[bytes] = []
        append = fields.append
        position = 0
        for _ in range(count):
            for function in functions:
                field, position = function(data, position)
                append(field)
        for index, post in posts:
            values = fields[index::width]
            nulls = list(map(id, values)).count(id(namespace["NULL"]))
            changed = post(values, nulls)
            if changed is not None:
                fields[index::width] = changed
        return NEWLINE.join(map(TAB.join, zip(*[iter(fields)] * width, strict=True))) + NEWLINE

    return encode


def measure(count: int, runs: int) -> dict[str, float]:
    chunks = list(encode_chunk(PAYMENTS, payments_rows(count)))
    name = "payments.avro"
    names = [column.name for column in PAYMENTS.columns]
    pg = postgres_fused_encoder(PAYMENTS)
    compiled = postgres_copy_encoder(PAYMENTS)
    load = mysql_load_encoder(PAYMENTS)
    assert isinstance(compiled, CopyEncoder)
    if compiled.program is None:
        raise click.ClickException("the compiled COPY encoder is not built (replayer._copytext); "
                                   "reinstall the package with a C compiler: make venv")
    columns = per_column_functions(pg)
    literal = MySQLdb._mysql.escape
    encoders: dict[Any, Any] = dict(conversions)

    def copy_rows() -> bytes:
        return "".join(copy_row(PAYMENTS, row) for row in decode_chunk(PAYMENTS, chunks, name)
                       ).encode("utf-8")

    def parameters() -> list[list[object]]:
        return [[to_parameter(row[n]) for n in names]
                for row in decode_chunk(PAYMENTS, chunks, name)]

    def literals() -> list[bytes]:
        return [b"(" + b",".join(_bytes(literal(to_parameter(row[n]), encoders)) for n in names)
                + b")" for row in decode_chunk(PAYMENTS, chunks, name)]

    def fused(encode: Callable[[int, bytes], bytes]) -> Callable[[], bytes]:
        return lambda: b"".join(encode_blocks(iter_blocks(PAYMENTS, chunks, name), encode))

    assert fused(pg)() == copy_rows() == fused(columns)() == fused(compiled)()
    assert not compiled.given_up_blocks, "the compiled encoder gave a block up"
    timings = {
        "decode_chunk": lambda: sum(1 for _ in decode_chunk(PAYMENTS, chunks, name)),
        "postgres: decode_chunk + copy_row": copy_rows,
        "postgres: fused COPY encoder": fused(pg),
        "postgres: fused, one function per column": fused(columns),
        "postgres: compiled COPY encoder": fused(compiled),
        "mariadb: decode_chunk + to_parameter": parameters,
        "mariadb: decode_chunk + to_parameter + literals": literals,
        "mariadb: fused LOAD DATA encoder": fused(load.encode),
    }
    return {label: count / best_of(runs, work) for label, work in timings.items()}


def _bytes(value: object) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode("utf-8")


@click.command()
@click.option("--rows", type=click.IntRange(min=1), default=200_000, show_default=True)
@click.option("--runs", type=click.IntRange(min=1), default=3, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print rows/s as one JSON object.")
def main(rows: int, runs: int, as_json: bool) -> None:
    """Rows/s from a snapshot file to bulk-load text, before and after the fused encoders."""
    results = measure(rows, runs)
    if as_json:
        click.echo(json.dumps({label: round(value) for label, value in results.items()}))
        return
    width = max(map(len, results))
    for label, value in results.items():
        click.echo(f"{label:<{width}}  {value:>10,.0f} rows/s")


if __name__ == "__main__":
    main()
