#!/usr/bin/env bash
# Writes .stack/env: every address and credential of the local stack, shell-sourceable.
# The README documents these names; tests and the demo read them.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

admin_pw=$(secret mariadb_admin_password)
capture_pw=$(secret mariadb_capture_password)
pg_pw=$(secret postgres_cdc_password)
tmp=$ENV_FILE.tmp
cat > "$tmp" <<ENV
# Written by 'make up'; sourced with: set -a; . .stack/env; set +a
export CDC_STACK_DIR='$STACK_DIR'
export CDC_HOST='$CDC_HOST'
export CDC_SOURCE_PORT='$CDC_SOURCE_PORT'
export CDC_SOURCE_SERVER_ID='$CDC_SOURCE_SERVER_ID'
export CDC_SOURCE_SOCKET='$STACK_DIR/mariadb-source/run/mariadbd.sock'
export CDC_SOURCE_BINLOG_DIR='$STACK_DIR/mariadb-source/binlog'
export CDC_SOURCE_ADMIN_DSN='mysql://cdc_admin:$admin_pw@$CDC_HOST:$CDC_SOURCE_PORT/'
export CDC_SOURCE_CAPTURE_DSN='mysql://cdc_capture:$capture_pw@$CDC_HOST:$CDC_SOURCE_PORT/'
export CDC_TARGET_MARIADB_PORT='$CDC_TARGET_MARIADB_PORT'
export CDC_TARGET_MARIADB_DSN='mysql://cdc_admin:$admin_pw@$CDC_HOST:$CDC_TARGET_MARIADB_PORT/'
export CDC_POSTGRES_PORT='$CDC_POSTGRES_PORT'
export CDC_POSTGRES_DSN='postgresql://cdc:$pg_pw@$CDC_HOST:$CDC_POSTGRES_PORT/cdc'
export CDC_KAFKA_PORT='$CDC_KAFKA_PORT'
export CDC_KAFKA_CONTROLLER_PORT='$CDC_KAFKA_CONTROLLER_PORT'
export CDC_KAFKA_BOOTSTRAP='$CDC_HOST:$CDC_KAFKA_PORT'
ENV
chmod 600 "$tmp"
mv "$tmp" "$ENV_FILE"
