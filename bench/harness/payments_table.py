"""A large payments table for snapshot benchmarks, filled by the server itself.

The workload's ``payments`` shape (bench/workload/schema.py) without its foreign keys, filled
with ``INSERT ... SELECT`` from MariaDB's sequence engine: a million rows take seconds, where
the workload would need an hour. The ids are the sequence's numbers, 1 to N without a gap
(AUTO_INCREMENT leaves gaps between bulk inserts), so that later writes can aim at rows by id.
"""

from __future__ import annotations

import re

from bench.workload.schema import PAYMENTS_DDL

FILL = """
INSERT INTO payments (id, reference, from_account_id, to_account_id, amount, currency, status,
                      failure_reason, metadata, created_at, settled_at)
SELECT seq, CONCAT('ref-', seq), seq % 1000 + 1, (seq * 7) % 1000 + 1,
       (seq % 100000) / 100 + 0.0001, ELT(seq % 3 + 1, 'EUR', 'USD', 'GBP'),
       ELT(seq % 4 + 1, 'pending', 'settled', 'failed', 'refunded'),
       IF(seq % 4 = 2, 'card_declined', NULL),
       IF(seq % 5 = 0, JSON_OBJECT('channel', 'web', 'n', seq), NULL),
       TIMESTAMP('2026-01-01') + INTERVAL seq SECOND,
       IF(seq % 4 = 1, TIMESTAMP('2026-01-01') + INTERVAL seq + 30 SECOND, NULL)
FROM seq_{first}_to_{rows}"""


def payments_ddl() -> str:
    """The workload's payments table without its foreign keys (no accounts to point to)."""
    lines = [line for line in PAYMENTS_DDL.splitlines() if "CONSTRAINT" not in line]
    return re.sub(r",\s*\)\s*ENGINE", "\n) ENGINE", "\n".join(lines))


def fill_statement(rows: int, *, first: int = 1) -> str:
    """The rows ``first`` to ``rows`` (their ids, when the table starts empty and is filled in
    order)."""
    if not 1 <= first <= rows:
        raise ValueError("rows must be at least 1, and first between 1 and rows")
    return FILL.format(rows=int(rows), first=int(first))
