#!/usr/bin/env bash
# One MariaDB server of the local stack: 'source' (binlog on, the database captured) or
# 'target' (restores and migrations write here, never into the source).
# usage: stack/mariadb.sh up|down|status source|target
set -euo pipefail
. "$(dirname "$0")/lib.sh"

action=$1 role=$2
dir=$STACK_DIR/mariadb-$role
pidfile=$dir/run/mariadbd.pid
socket=$dir/run/mariadbd.sock
log=$dir/log/error.log
case $role in
  source) port=$CDC_SOURCE_PORT port_var=CDC_SOURCE_PORT server_id=$CDC_SOURCE_SERVER_ID ;;
  target) port=$CDC_TARGET_MARIADB_PORT port_var=CDC_TARGET_MARIADB_PORT server_id=$((CDC_SOURCE_SERVER_ID + 1)) ;;
  *) fail "unknown MariaDB role '$role'" "use source or target" ;;
esac

write_config() {
  mkdir -p "$dir"/{data,run,log,binlog,tmp}
  cat > "$dir/my.cnf" <<CNF
[mariadbd]
datadir=$dir/data
socket=$socket
pid-file=$pidfile
log-error=$log
tmpdir=$dir/tmp
port=$port
bind-address=$CDC_HOST
skip-name-resolve
server-id=$server_id
character-set-server=utf8mb4
collation-server=utf8mb4_unicode_ci
max_allowed_packet=256M
innodb_buffer_pool_size=256M
innodb_log_file_size=256M
performance_schema=OFF
CNF
  if [ "$role" = source ]; then
    # What capture requires (design section 4): full row images with column names, GTIDs,
    # and no compressed events, which the binlog reader would drop without a word.
    cat >> "$dir/my.cnf" <<CNF
log-bin=$dir/binlog/mariadb-bin
binlog_format=ROW
binlog_row_image=FULL
binlog_row_metadata=FULL
log_bin_compress=OFF
gtid_strict_mode=ON
gtid_domain_id=0
max_binlog_size=256M
binlog_expire_logs_seconds=604800
CNF
  fi
  if [ "$CDC_TLS" = 1 ]; then
    # TLS offered, not required: the plain logins of the stack's other users keep working.
    cat >> "$dir/my.cnf" <<CNF
ssl_ca=$TLS_DIR/ca.pem
ssl_cert=$TLS_DIR/server.pem
ssl_key=$TLS_DIR/server.key
# server certificate $(tls_fingerprint)
CNF
  fi
  # Tests start throwaway servers with lines of their own; in my.cnf the later line wins.
  [ -z "${CDC_MARIADB_EXTRA_CNF:-}" ] || printf '%s\n' "$CDC_MARIADB_EXTRA_CNF" >> "$dir/my.cnf"
}

client() { mariadb --no-defaults --socket="$socket" -uroot "$@"; }

initialize_users() {
  local admin_pw capture_pw
  admin_pw=$(secret mariadb_admin_password)
  capture_pw=$(secret mariadb_capture_password)
  # mariadb-install-db leaves anonymous users that shadow 'user'@'localhost' logins.
  client <<SQL
DROP USER IF EXISTS ''@'localhost';
DROP USER IF EXISTS ''@'$(hostname)';
CREATE USER IF NOT EXISTS 'cdc_admin'@'%' IDENTIFIED BY '$admin_pw';
ALTER USER 'cdc_admin'@'%' IDENTIFIED BY '$admin_pw';
GRANT ALL PRIVILEGES ON *.* TO 'cdc_admin'@'%' WITH GRANT OPTION;
CREATE USER IF NOT EXISTS 'cdc_capture'@'%' IDENTIFIED BY '$capture_pw';
ALTER USER 'cdc_capture'@'%' IDENTIFIED BY '$capture_pw';
GRANT SELECT, REPLICATION SLAVE, BINLOG MONITOR ON *.* TO 'cdc_capture'@'%';
$(tls_users_sql)
FLUSH PRIVILEGES;
SQL
}

# The TLS users log in over TLS only (REQUIRE SSL): a session of theirs is the proof that
# the connection used TLS.
tls_users_sql() {
  [ "$CDC_TLS" = 1 ] || return 0
  local admin_pw capture_pw
  admin_pw=$(secret mariadb_tls_admin_password)
  capture_pw=$(secret mariadb_tls_capture_password)
  cat <<SQL
CREATE USER IF NOT EXISTS 'cdc_tls_admin'@'%' IDENTIFIED BY '$admin_pw' REQUIRE SSL;
ALTER USER 'cdc_tls_admin'@'%' IDENTIFIED BY '$admin_pw' REQUIRE SSL;
GRANT ALL PRIVILEGES ON *.* TO 'cdc_tls_admin'@'%' WITH GRANT OPTION;
CREATE USER IF NOT EXISTS 'cdc_tls_capture'@'%' IDENTIFIED BY '$capture_pw' REQUIRE SSL;
ALTER USER 'cdc_tls_capture'@'%' IDENTIFIED BY '$capture_pw' REQUIRE SSL;
GRANT SELECT, REPLICATION SLAVE, BINLOG MONITOR ON *.* TO 'cdc_tls_capture'@'%';
SQL
}

up() {
  [ "$CDC_TLS" = 0 ] || ensure_tls
  write_config
  if pid_alive "$pidfile"; then
    # run/started.cnf is the my.cnf the server was started with, written once its users are
    # made: a server started before a change (TLS switched on or off, a renewed
    # certificate), or whose setup did not finish, restarts to take it.
    if cmp -s "$dir/my.cnf" "$dir/run/started.cnf"; then
      say "MariaDB $role already running on $CDC_HOST:$port"
      return 0
    fi
    say "MariaDB $role runs with an older my.cnf (or its setup did not finish); restarting it"
    down
  fi
  require_free_port "$port" "$port_var" "the $role MariaDB"
  if [ ! -d "$dir/data/mysql" ]; then
    say "initializing MariaDB $role in $dir"
    mariadb-install-db --defaults-file="$dir/my.cnf" --auth-root-authentication-method=normal \
      --skip-test-db --user="$(id -un)" > "$dir/log/install.log" 2>&1 \
      || fail "mariadb-install-db failed for the $role" "see $dir/log/install.log"
  fi
  say "starting MariaDB $role on $CDC_HOST:$port"
  local as_user=()
  is_root && as_user=(--user=root)
  rm -f "$dir/run/started.cnf"
  setsid nohup mariadbd --defaults-file="$dir/my.cnf" "${as_user[@]}" >> "$dir/log/stdout.log" 2>&1 < /dev/null &
  wait_until 60 "MariaDB $role" "$log" mariadb-admin --no-defaults --socket="$socket" -uroot ping
  initialize_users
  cp "$dir/my.cnf" "$dir/run/started.cnf"
}

down() {
  stop_pid "$pidfile" "MariaDB $role"
}

status() {
  if pid_alive "$pidfile"; then
    echo "mariadb-$role  running  $CDC_HOST:$port  pid $(cat "$pidfile")"
  else
    echo "mariadb-$role  stopped  $CDC_HOST:$port"
    return 3
  fi
}

"$action"
