# Shared settings and helpers for the local stack scripts. Sourced, not run.
# Every address the stack uses is chosen here; .stack/env records the choice.

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STACK_DIR=${CDC_STACK_DIR:-$REPO_ROOT/.stack}
ENV_FILE=$STACK_DIR/env

fail() {  # fail MESSAGE HINT
  echo "error: $1" >&2
  [ -n "${2:-}" ] && echo "hint: $2" >&2
  exit 1
}

say() { echo "[stack] $*"; }

# The value a variable had in the last .stack/env, so a port chosen once with
# 'make up CDC_SOURCE_PORT=...' sticks on later runs without repeating it.
saved() {
  [ -f "$ENV_FILE" ] || return 0
  sed -n "s/^export $1=//p" "$ENV_FILE" | tail -n 1 | tr -d "'"
}

choose() {  # choose NAME DEFAULT: environment, then the last .stack/env, then DEFAULT
  local name=$1 default=$2 value
  value=${!name:-}
  [ -n "$value" ] || value=$(saved "$name")
  [ -n "$value" ] || value=$default
  printf -v "$name" '%s' "$value"
  export "${name?}"
}

choose CDC_HOST 127.0.0.1
choose CDC_SOURCE_PORT 13306
choose CDC_SOURCE_SERVER_ID 1001
choose CDC_TARGET_MARIADB_PORT 13307
choose CDC_POSTGRES_PORT 15432
choose CDC_KAFKA_PORT 19092
choose CDC_KAFKA_CONTROLLER_PORT 19093
choose CDC_KAFKA_HEAP 512m
choose CDC_KAFKA_SSL_PORT 19094
choose CDC_KAFKA_SASL_PORT 19095
# TLS on every server ('make up TLS=1'); kept in .stack/env like the ports, so a plain
# 'make up' later does not switch it off again.
choose CDC_TLS 0
case $CDC_TLS in
  0|1) ;;
  *) fail "CDC_TLS is '$CDC_TLS'" "use make up TLS=1 (TLS on every server) or TLS=0 (off)" ;;
esac
TLS_DIR=$STACK_DIR/tls

is_root() { [ "$(id -u)" -eq 0 ]; }

port_in_use() {  # port_in_use PORT: something accepts connections on it
  (exec 3<>"/dev/tcp/$CDC_HOST/$1") 2>/dev/null
}

require_free_port() {  # require_free_port PORT VARIABLE WHAT
  if port_in_use "$1"; then
    fail "port $1 ($3, $2) on $CDC_HOST is already in use by another process" \
      "stop that process, or choose another port: make up $2=<free port> (the choice is kept in .stack/env)"
  fi
}

pid_alive() {  # pid_alive PIDFILE
  [ -f "$1" ] || return 1
  local pid
  pid=$(cat "$1" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

wait_until() {  # wait_until SECONDS WHAT LOGFILE COMMAND...
  local _seconds=$1 _what=$2 _logfile=$3
  shift 3
  local _deadline=$((SECONDS + _seconds))
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $_deadline ]; then
      echo "error: $_what did not become ready within ${_seconds}s; last lines of $_logfile:" >&2
      tail -n 20 "$_logfile" >&2 2>/dev/null || true
      exit 1
    fi
    sleep 0.3
  done
}

stop_pid() {  # stop_pid PIDFILE WHAT: SIGTERM, wait, then SIGKILL so nothing is left behind
  local pidfile=$1 what=$2 pid
  pid_alive "$pidfile" || { rm -f "$pidfile"; return 0; }
  pid=$(cat "$pidfile")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$pidfile"; say "$what stopped"; return 0; }
    sleep 0.2
  done
  say "$what did not stop within 60s; killing it"
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$pidfile"
}

# A secret made once per stack and kept in .stack/secrets, so restarts keep working.
secret() {  # secret NAME
  local file=$STACK_DIR/secrets value
  mkdir -p "$STACK_DIR"
  touch "$file"
  chmod 600 "$file"
  value=$(sed -n "s/^$1=//p" "$file")
  if [ -z "$value" ]; then
    value=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')
    echo "$1=$value" >> "$file"
  fi
  printf '%s' "$value"
}

# The stack's own CA and server certificate (stack/tls.sh), made when missing, so a server
# script run alone with CDC_TLS=1 (tests start throwaway servers that way) works as well.
ensure_tls() {
  [ -f "$TLS_DIR/server.pem" ] && [ -f "$TLS_DIR/kafka.p12" ] && return 0
  bash "$REPO_ROOT/stack/tls.sh"
}

# Written into each server's configuration: a renewed certificate changes that file, and a
# changed file restarts (or reloads) the running server, so it offers the new certificate.
tls_fingerprint() {
  openssl x509 -in "$TLS_DIR/server.pem" -noout -fingerprint -sha256 | cut -d= -f2
}
