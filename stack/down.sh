#!/usr/bin/env bash
# Stops every server of the local stack; the data under .stack/ is kept for the next 'make up'.
# 'make clean' removes it.
set -euo pipefail
here=$(dirname "$0")
. "$here/lib.sh"
bash "$here/kafka.sh" down
bash "$here/postgres.sh" down
bash "$here/mariadb.sh" down target
bash "$here/mariadb.sh" down source
