#!/usr/bin/env bash
# Starts the whole local stack (installing what is missing) and writes .stack/env.
# Running it again while the stack is up changes nothing.
set -euo pipefail
here=$(dirname "$0")
. "$here/lib.sh"

bash "$here/install-packages.sh"
mkdir -p "$STACK_DIR"

# Every port is checked before anything starts, so a clash fails fast and names the port.
. "$here/ports.sh"
check_ports
[ "$CDC_TLS" = 0 ] || bash "$here/tls.sh"

bash "$here/mariadb.sh" up source
bash "$here/mariadb.sh" up target
bash "$here/postgres.sh" up
bash "$here/kafka.sh" up
bash "$here/write-env.sh"
say "stack is up; addresses and credentials are in $ENV_FILE"
