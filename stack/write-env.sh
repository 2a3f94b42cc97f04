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
export CDC_KAFKA_SSL_PORT='$CDC_KAFKA_SSL_PORT'
export CDC_KAFKA_SASL_PORT='$CDC_KAFKA_SASL_PORT'
export CDC_TLS='$CDC_TLS'
ENV
if [ "$CDC_TLS" = 1 ]; then
  # The TLS users and listeners (make up TLS=1). The DSNs verify the certificate and the
  # address it names, as a client outside the stack would.
  ca=$(cd "$TLS_DIR" && pwd)/ca.pem
  tls_admin_pw=$(secret mariadb_tls_admin_password)
  tls_capture_pw=$(secret mariadb_tls_capture_password)
  pg_tls_pw=$(secret postgres_tls_password)
  mysql_tls="?ssl-mode=VERIFY_IDENTITY&ssl-ca=$ca"
  cat >> "$tmp" <<ENV
export CDC_TLS_CA='$ca'
export CDC_SOURCE_TLS_CAPTURE_DSN='mysql://cdc_tls_capture:$tls_capture_pw@$CDC_HOST:$CDC_SOURCE_PORT/$mysql_tls'
export CDC_SOURCE_TLS_ADMIN_DSN='mysql://cdc_tls_admin:$tls_admin_pw@$CDC_HOST:$CDC_SOURCE_PORT/$mysql_tls'
export CDC_TARGET_MARIADB_TLS_DSN='mysql://cdc_tls_admin:$tls_admin_pw@$CDC_HOST:$CDC_TARGET_MARIADB_PORT/$mysql_tls'
export CDC_POSTGRES_TLS_DSN='postgresql://cdc_tls:$pg_tls_pw@$CDC_HOST:$CDC_POSTGRES_PORT/cdc_tls?sslmode=verify-full&sslrootcert=$ca'
export CDC_KAFKA_SSL_BOOTSTRAP='$CDC_HOST:$CDC_KAFKA_SSL_PORT'
export CDC_KAFKA_SASL_BOOTSTRAP='$CDC_HOST:$CDC_KAFKA_SASL_PORT'
export CDC_KAFKA_SCRAM_USER='cdc'
export CDC_KAFKA_SCRAM_PASSWORD='$(secret kafka_scram_password)'
export CDC_KAFKA_LIMITED_USER='cdc_limited'
export CDC_KAFKA_LIMITED_PASSWORD='$(secret kafka_limited_password)'
ENV
fi
chmod 600 "$tmp"
mv "$tmp" "$ENV_FILE"
