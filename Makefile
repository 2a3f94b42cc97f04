# The newcomer's entry points: 'make demo' and 'make test'. See README.md.
SHELL := /bin/bash
VENV := .venv/bin

.PHONY: help venv up down status clean lint test unit demo bench bench-snapshot bench-restore \
	bench-migrate bench-rto

help:
	@echo "make demo    start the local stack and run the main job end to end"
	@echo "make test    install everything, start the stack (TLS on), run the whole test suite"
	@echo "make up      start the local stack (MariaDB source and target, PostgreSQL, Kafka)"
	@echo "make up TLS=1  the same with TLS offered on every server too, certificates of its own"
	@echo "             (TLS=0 turns it off again; the choice is kept in .stack/env)"
	@echo "make down    stop it (data kept under .stack/)"
	@echo "make status  show what runs where"
	@echo "make lint    ruff and mypy --strict"
	@echo "make clean   stop the stack and delete .stack/"
	@echo "make bench-restore  restore throughput beside mariadb < dump, psql \\copy, mariadb-binlog"
	@echo "make bench-rto      the RTO drill: 10M rows + 1M row changes restored into PostgreSQL"
	@echo "                    and MariaDB, per phase, beside mariadb-dump and mariadb-binlog"
	@echo "make bench-migrate  migrate sync-mode lag at 1,000 tx/s and at the highest rate, async"
	@echo "                    throughput (MariaDB and PostgreSQL targets)"

venv:
	@bash stack/venv.sh

# TLS=1 or TLS=0 switches TLS on or off; without TLS= the last choice (.stack/env) stays.
up:
	@$(if $(TLS),CDC_TLS=$(TLS) )bash stack/up.sh

down:
	@bash stack/down.sh

status:
	@bash stack/status.sh

clean: down
	rm -rf .stack

lint: venv
	$(VENV)/ruff check .
	$(VENV)/mypy

unit: venv
	$(VENV)/pytest tests/unit

# The suite has TLS tests: the stack always comes up with TLS on for it.
test: venv
	@CDC_TLS=1 bash stack/up.sh
	$(VENV)/pytest

demo: venv up
	@bash stack/demo.sh

bench: venv up
	$(VENV)/python -m bench.capture_throughput

bench-snapshot: venv up
	$(VENV)/python -m bench.snapshot_throughput

bench-restore: venv up
	$(VENV)/python -m bench.restore_throughput

bench-migrate: venv up
	$(VENV)/python -m bench.migrate_lag

bench-rto: venv up
	$(VENV)/python -m bench.rto_drill
