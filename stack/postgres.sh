#!/usr/bin/env bash
# The PostgreSQL restore/migration target of the local stack. initdb refuses to run as root,
# so under root the cluster belongs to the 'postgres' OS user (created when missing).
# usage: stack/postgres.sh up|down|status
set -euo pipefail
. "$(dirname "$0")/lib.sh"

action=$1
dir=$STACK_DIR/postgres
data=$dir/data
log=$dir/log/postgres.log
pidfile=$data/postmaster.pid
port=$CDC_POSTGRES_PORT

pg_bin() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$bin" ] || fail "PostgreSQL server binaries not found under /usr/lib/postgresql" \
    "run 'make up' as root to install them, or 'apt-get install postgresql'"
  echo "$bin"
}
PG_BIN=$(pg_bin)

os_user() { if is_root; then echo postgres; else id -un; fi; }

as_pg() {
  if is_root; then runuser -u postgres -- "$@"; else "$@"; fi
}

ensure_os_user() {
  is_root || return 0
  id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
}

running() { [ -f "$pidfile" ] && as_pg "$PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; }

write_config() {
  cat > "$data/postgresql.auto.conf" <<CONF
listen_addresses = '$CDC_HOST'
port = $port
unix_socket_directories = '$dir/run'
max_connections = 100
shared_buffers = 256MB
max_wal_size = 2GB
CONF
  chown "$(os_user)" "$data/postgresql.auto.conf"
  [ "$CDC_TLS" = 1 ] || return 0
  # PostgreSQL refuses a key file that it does not own or that others may read, and under
  # root the cluster runs as the postgres OS user: it gets copies of its own.
  mkdir -p "$dir/tls"
  local file
  for file in server.pem server.key; do
    cmp -s "$TLS_DIR/$file" "$dir/tls/$file" || install -m 600 "$TLS_DIR/$file" "$dir/tls/$file"
  done
  chown -R "$(os_user)" "$dir/tls"
  cat >> "$data/postgresql.auto.conf" <<CONF
ssl = on
ssl_cert_file = '$dir/tls/server.pem'
ssl_key_file = '$dir/tls/server.key'
# server certificate $(tls_fingerprint)
CONF
  # The role cdc_tls logs in over TLS only, the proof that a session used TLS. Before the
  # 'host' lines, which match TLS and plain connections alike. Kept when TLS is switched
  # off: cdc_tls then cannot log in at all.
  local hba=$data/pg_hba.conf mark="# stack/postgres.sh: cdc_tls over TLS only"
  if ! grep -qxF "$mark" "$hba"; then
    awk -v mark="$mark" '!done && /^host/ {
        print mark; print "hostnossl all cdc_tls all reject"
        print "hostssl   all cdc_tls all scram-sha-256"; done = 1 }
      { print }' "$hba" > "$hba.tmp"
    chown "$(os_user)" "$hba.tmp"
    chmod 600 "$hba.tmp"
    mv "$hba.tmp" "$hba"
  fi
}

# A running server takes a changed configuration: TLS and pg_hba.conf by a reload, anything
# else (address, port, memory) only by a restart. run/started.conf is what it runs with.
# Returns 1 when there was nothing to change.
apply_config() {
  local started=$dir/run/started.conf hba_sum
  hba_sum=$(sha256sum < "$data/pg_hba.conf")
  if cmp -s "$data/postgresql.auto.conf" "$started" && [ "$hba_sum" = "$(cat "$dir/run/started.hba" 2>/dev/null)" ]; then
    say "PostgreSQL already running on $CDC_HOST:$port"
    return 1
  fi
  if [ -f "$started" ] && [ "$(grep -v '^ssl\|^#' "$started")" = "$(grep -v '^ssl\|^#' "$data/postgresql.auto.conf")" ]; then
    say "PostgreSQL already running on $CDC_HOST:$port; reloading its changed TLS settings"
    as_pg "$PG_BIN/pg_ctl" -D "$data" reload > /dev/null
  else
    say "PostgreSQL runs with an older configuration (or its setup did not finish); restarting it"
    as_pg "$PG_BIN/pg_ctl" -D "$data" -l "$log" -m fast -w -t 60 restart > /dev/null \
      || { tail -n 20 "$log" >&2; fail "PostgreSQL did not restart" "see $log"; }
  fi
  # A reload with a setting the server refuses (an unreadable key) only logs and keeps the
  # old one; wait for the TLS state asked for, or say where to look.
  local want=off
  [ "$CDC_TLS" = 0 ] || want=on
  wait_until 10 "PostgreSQL with ssl = $want" "$log" ssl_is "$want"
}

ssl_is() {
  [ "$(as_pg "$PG_BIN/psql" -XAtq -h "$dir/run" -p "$port" -U postgres -d postgres -c 'SHOW ssl')" = "$1" ]
}

up() {
  ensure_os_user
  mkdir -p "$dir/log" "$dir/run"
  chown -R "$(os_user)" "$dir"
  [ "$CDC_TLS" = 0 ] || ensure_tls
  if running; then
    write_config
    apply_config || return 0
  else
    require_free_port "$port" CDC_POSTGRES_PORT "PostgreSQL"
    if [ ! -f "$data/PG_VERSION" ]; then
      say "initializing PostgreSQL in $data"
      local pwfile=$dir/run/pw
      secret postgres_superuser_password > "$pwfile"
      chown "$(os_user)" "$pwfile"
      as_pg "$PG_BIN/initdb" -D "$data" -U postgres --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 \
        --auth-local=trust --auth-host=scram-sha-256 > "$dir/log/initdb.log" 2>&1 \
        || fail "initdb failed" "see $dir/log/initdb.log"
      rm -f "$pwfile"
    fi
    write_config
    rm -f "$dir/run/started.conf"
    say "starting PostgreSQL on $CDC_HOST:$port"
    as_pg "$PG_BIN/pg_ctl" -D "$data" -l "$log" -w -t 60 start > /dev/null \
      || { tail -n 20 "$log" >&2; fail "PostgreSQL did not start" "see $log"; }
  fi
  create_roles
  # Recorded last: after a failure on the way here, the next 'make up' applies it all again.
  cp "$data/postgresql.auto.conf" "$dir/run/started.conf"
  sha256sum < "$data/pg_hba.conf" > "$dir/run/started.hba"
}

create_roles() {
  local pw tls_pw
  pw=$(secret postgres_cdc_password)
  as_pg "$PG_BIN/psql" -q -h "$dir/run" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 <<SQL
DO \$\$BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'cdc') THEN
    CREATE ROLE cdc LOGIN CREATEDB;
  END IF;
END\$\$;
ALTER ROLE cdc PASSWORD '$pw';
SELECT 'CREATE DATABASE cdc OWNER cdc' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'cdc')\gexec
SQL
  [ "$CDC_TLS" = 1 ] || return 0
  tls_pw=$(secret postgres_tls_password)
  as_pg "$PG_BIN/psql" -q -h "$dir/run" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 <<SQL
DO \$\$BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'cdc_tls') THEN
    CREATE ROLE cdc_tls LOGIN CREATEDB;
  END IF;
END\$\$;
ALTER ROLE cdc_tls PASSWORD '$tls_pw';
SELECT 'CREATE DATABASE cdc_tls OWNER cdc_tls' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'cdc_tls')\gexec
SQL
}

down() {
  if running; then
    as_pg "$PG_BIN/pg_ctl" -D "$data" -m fast -w -t 60 stop > /dev/null
    say "PostgreSQL stopped"
  fi
}

status() {
  if running; then
    echo "postgres        running  $CDC_HOST:$port  pid $(head -n 1 "$pidfile")"
  else
    echo "postgres        stopped  $CDC_HOST:$port"
    return 3
  fi
}

"$action"
