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

up() {
  ensure_os_user
  mkdir -p "$dir/log" "$dir/run"
  chown -R "$(os_user)" "$dir"
  if [ -f "$pidfile" ] && as_pg "$PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    say "PostgreSQL already running on $CDC_HOST:$port"
    return 0
  fi
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
  cat > "$data/postgresql.auto.conf" <<CONF
listen_addresses = '$CDC_HOST'
port = $port
unix_socket_directories = '$dir/run'
max_connections = 100
shared_buffers = 256MB
max_wal_size = 2GB
CONF
  chown "$(os_user)" "$data/postgresql.auto.conf"
  say "starting PostgreSQL on $CDC_HOST:$port"
  as_pg "$PG_BIN/pg_ctl" -D "$data" -l "$log" -w -t 60 start > /dev/null \
    || { tail -n 20 "$log" >&2; fail "PostgreSQL did not start" "see $log"; }
  local pw
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
}

down() {
  if [ -f "$pidfile" ] && as_pg "$PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    as_pg "$PG_BIN/pg_ctl" -D "$data" -m fast -w -t 60 stop > /dev/null
    say "PostgreSQL stopped"
  fi
}

status() {
  if [ -f "$pidfile" ] && as_pg "$PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    echo "postgres        running  $CDC_HOST:$port  pid $(head -n 1 "$pidfile")"
  else
    echo "postgres        stopped  $CDC_HOST:$port"
    return 3
  fi
}

"$action"
