#!/usr/bin/env bash
# One line per server of the local stack; exits 3 when any of them is not running.
set -u
here=$(dirname "$0")
rc=0
bash "$here/mariadb.sh" status source || rc=3
bash "$here/mariadb.sh" status target || rc=3
bash "$here/postgres.sh" status || rc=3
bash "$here/kafka.sh" status || rc=3
exit $rc
