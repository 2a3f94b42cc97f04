"""The payments schema: DDL that runs unchanged on MariaDB 10.6+ and MySQL 8.

Every balance starts at zero and moves only in double-entry pairs, so the sum of all
balances is zero after every transaction; the integration tests check that on the server.
"""

from __future__ import annotations

ACCOUNTS_DDL = """
CREATE TABLE IF NOT EXISTS accounts (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  owner VARCHAR(200) NOT NULL,
  currency CHAR(3) NOT NULL,
  balance DECIMAL(19,4) NOT NULL DEFAULT 0,
  status ENUM('active','frozen','closed') NOT NULL DEFAULT 'active',
  created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  KEY idx_accounts_currency_status (currency, status),
  KEY idx_accounts_owner (owner)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
"""

PAYMENTS_DDL = """
CREATE TABLE IF NOT EXISTS payments (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  reference VARCHAR(64) NOT NULL,
  from_account_id BIGINT UNSIGNED NOT NULL,
  to_account_id BIGINT UNSIGNED NOT NULL,
  amount DECIMAL(19,4) NOT NULL,
  currency CHAR(3) NOT NULL,
  status ENUM('pending','settled','failed','refunded') NOT NULL DEFAULT 'pending',
  failure_reason VARCHAR(64) NULL,
  metadata JSON NULL,
  created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  settled_at DATETIME(6) NULL,
  updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  UNIQUE KEY uq_payments_reference (reference),
  KEY idx_payments_status_created (status, created_at),
  KEY idx_payments_from_account (from_account_id),
  KEY idx_payments_to_account (to_account_id),
  CONSTRAINT fk_payments_from_account FOREIGN KEY (from_account_id) REFERENCES accounts (id),
  CONSTRAINT fk_payments_to_account FOREIGN KEY (to_account_id) REFERENCES accounts (id),
  CONSTRAINT chk_payments_amount_positive CHECK (amount > 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
"""

REFUNDS_DDL = """
CREATE TABLE IF NOT EXISTS refunds (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  payment_id BIGINT UNSIGNED NOT NULL,
  amount DECIMAL(19,4) NOT NULL,
  reason VARCHAR(255) NOT NULL,
  created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  UNIQUE KEY uq_refunds_payment (payment_id),
  CONSTRAINT fk_refunds_payment FOREIGN KEY (payment_id) REFERENCES payments (id),
  CONSTRAINT chk_refunds_amount_positive CHECK (amount > 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
"""

LEDGER_ENTRIES_DDL = """
CREATE TABLE IF NOT EXISTS ledger_entries (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  payment_id BIGINT UNSIGNED NOT NULL,
  refund_id BIGINT UNSIGNED NULL,
  account_id BIGINT UNSIGNED NOT NULL,
  direction ENUM('debit','credit') NOT NULL,
  amount DECIMAL(19,4) NOT NULL,
  entry_time DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  KEY idx_ledger_account_time (account_id, entry_time),
  KEY idx_ledger_payment (payment_id),
  KEY idx_ledger_refund (refund_id),
  CONSTRAINT fk_ledger_payment FOREIGN KEY (payment_id) REFERENCES payments (id),
  CONSTRAINT fk_ledger_refund FOREIGN KEY (refund_id) REFERENCES refunds (id),
  CONSTRAINT fk_ledger_account FOREIGN KEY (account_id) REFERENCES accounts (id),
  CONSTRAINT chk_ledger_amount_positive CHECK (amount > 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
"""

# Creation order respects the foreign keys.
PAYMENT_TABLES: tuple[tuple[str, str], ...] = (
    ("accounts", ACCOUNTS_DDL),
    ("payments", PAYMENTS_DDL),
    ("refunds", REFUNDS_DDL),
    ("ledger_entries", LEDGER_ENTRIES_DDL),
)
