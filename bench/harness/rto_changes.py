"""The drill's row changes after the snapshot, written by the source server itself: a stored
procedure commits small payment transactions one after the other, as an application would
(``mariadb-binlog | mariadb`` and the replayer both pay per transaction), far faster than a
client could send them. Pure: the SQL and the arithmetic.

Each transaction inserts a payment, settles three older ones (an UPDATE each) and, every other
transaction, deletes one: 4.5 row changes on average. Updates go to the lower half of the
filled ids and deletes come down from the top, so no update ever meets a deleted row and every
statement changes exactly the rows counted here.
"""

from __future__ import annotations

from dataclasses import dataclass

PROCEDURE = "rto_drill_changes"
UPDATES_PER_TRANSACTION = 3
CHANGES_PER_TRANSACTION = 1 + UPDATES_PER_TRANSACTION + 0.5  # insert, updates, half a delete
# Odd multipliers spread consecutive transactions' updates over the whole lower half.
_SPREAD = (7919, 104729, 1299709)


@dataclass(frozen=True)
class ChangesPlan:
    rows: int
    """Rows the table was filled with (ids 1 to ``rows``)."""
    transactions: int

    @property
    def inserts(self) -> int:
        return self.transactions

    @property
    def updates(self) -> int:
        return self.transactions * UPDATES_PER_TRANSACTION

    @property
    def deletes(self) -> int:
        return (self.transactions + 1) // 2  # transactions 0, 2, 4, ...

    @property
    def row_changes(self) -> int:
        return self.inserts + self.updates + self.deletes


def plan_changes(rows: int, changes: int) -> ChangesPlan:
    """About ``changes`` row changes on a table of ``rows``; refused when the deletes would
    reach the lower half, where the updates go."""
    transactions = max(1, round(changes / CHANGES_PER_TRANSACTION))
    plan = ChangesPlan(rows, transactions)
    if plan.deletes >= rows // 2:
        raise ValueError(f"{changes:,} row changes need more than {rows:,} rows: the deletes "
                         "would meet the updated rows (give at least a fifth as many rows as "
                         "changes)")
    return plan


def procedure_sql() -> str:
    """``CALL rto_drill_changes(first, count, rows)``: transactions ``first`` to
    ``first + count - 1``, each committed on its own."""
    half = "(filled DIV 2)"
    updates = "\n".join(
        f"    UPDATE payments SET status = 'settled', amount = amount + 0.01, "
        f"settled_at = NOW(6) WHERE id = (k * {spread} + {n}) MOD {half} + 1;"
        for n, spread in enumerate(_SPREAD[:UPDATES_PER_TRANSACTION]))
    return f"""
CREATE PROCEDURE {PROCEDURE}(IN first BIGINT, IN count BIGINT, IN filled BIGINT)
BEGIN
  DECLARE k BIGINT DEFAULT first;
  WHILE k < first + count DO
    START TRANSACTION;
    INSERT INTO payments (reference, from_account_id, to_account_id, amount, currency, status,
                          failure_reason, metadata, created_at, settled_at)
    VALUES (CONCAT('drill-', k), k MOD 1000 + 1, (k * 7) MOD 1000 + 1,
            (k MOD 100000) / 100 + 0.0001, ELT(k MOD 3 + 1, 'EUR', 'USD', 'GBP'), 'pending',
            NULL, IF(k MOD 5 = 0, JSON_OBJECT('channel', 'api', 'k', k), NULL),
            TIMESTAMP('2026-06-01') + INTERVAL k SECOND, NULL);
{updates}
    IF k MOD 2 = 0 THEN
      DELETE FROM payments WHERE id = filled - k DIV 2;
    END IF;
    COMMIT;
    SET k = k + 1;
  END WHILE;
END"""


def batches(plan: ChangesPlan, size: int) -> list[tuple[int, int]]:
    """(first, count) of each CALL, so that progress can be told between them."""
    return [(first, min(size, plan.transactions - first))
            for first in range(0, plan.transactions, size)]
