#!/usr/bin/env bash
# Apache Kafka of the local stack: one KRaft node (broker and controller in one process),
# its jars fetched from Maven Central by stack/pom.xml and run on the machine's Java 17.
# usage: stack/kafka.sh up|down|status
set -euo pipefail
. "$(dirname "$0")/lib.sh"

action=$1
dir=$STACK_DIR/kafka
libs=${CDC_KAFKA_LIBS:-$dir/libs}
pidfile=$dir/kafka.pid
log=$dir/log/server.log
pom=$REPO_ROOT/stack/pom.xml

fetch_jars() {
  local want
  want=$(sha256sum "$pom" | cut -c1-16)
  [ "$(cat "$libs/.pom-hash" 2>/dev/null)" = "$want" ] && return 0
  say "fetching Kafka jars from Maven Central (once)"
  rm -rf "$libs.tmp"
  mvn -q -B -f "$pom" dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$libs.tmp" > "$dir/log/mvn.log" 2>&1 \
    || { tail -n 30 "$dir/log/mvn.log" >&2; fail "fetching Kafka's jars with Maven failed" "see $dir/log/mvn.log; Maven Central must be reachable"; }
  rm -rf "$libs"
  mv "$libs.tmp" "$libs"
  echo "$want" > "$libs/.pom-hash"
}

write_config() {
  mkdir -p "$dir/data" "$dir/log"
  # With TLS, two listeners more; PLAINTEXT stays for the stack's other users and between
  # broker and controller.
  local tls_listeners='' tls_protocols=''
  if [ "$CDC_TLS" = 1 ]; then
    tls_listeners=",SSL://$CDC_HOST:$CDC_KAFKA_SSL_PORT,SASL_SSL://$CDC_HOST:$CDC_KAFKA_SASL_PORT"
    tls_protocols=",SSL:SSL,SASL_SSL:SASL_SSL"
  fi
  # The keystore password is in it.
  touch "$dir/server.properties"
  chmod 600 "$dir/server.properties"
  cat > "$dir/server.properties" <<CONF
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=$CDC_HOST:$CDC_KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$CDC_HOST:$CDC_KAFKA_PORT,CONTROLLER://$CDC_HOST:$CDC_KAFKA_CONTROLLER_PORT$tls_listeners
advertised.listeners=PLAINTEXT://$CDC_HOST:$CDC_KAFKA_PORT$tls_listeners
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT$tls_protocols
log.dirs=$dir/data
num.partitions=1
auto.create.topics.enable=false
# One broker: the internal topics cannot have more than one replica, or transactions
# and consumer groups never become available.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
CONF
  if [ "$CDC_TLS" = 1 ]; then
    local pw
    pw=$(secret kafka_keystore_password)
    cat >> "$dir/server.properties" <<CONF
# TLS: the stack's own certificate (stack/tls.sh), no client certificates. SASL_SSL takes
# SCRAM-SHA-512 only; its user is made after start.
ssl.keystore.type=PKCS12
ssl.keystore.location=$TLS_DIR/kafka.p12
ssl.keystore.password=$pw
ssl.key.password=$pw
ssl.client.auth=none
listener.name.sasl_ssl.sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
# ACLs, for a live case of Kafka's authorization errors. PLAINTEXT, CONTROLLER and SSL (no
# client certificates) authenticate as ANONYMOUS: a super user, as is cdc, so every client
# that worked without an authorizer still may do anything, the broker's own requests to its
# controller and the admin tool making the SCRAM users included. cdc_limited has no ACLs
# and no ACL found means denied: all it may do is log in.
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:ANONYMOUS;User:cdc
allow.everyone.if.no.acl.found=false
# server certificate $(tls_fingerprint)
CONF
  fi
  cat > "$dir/log4j2-tools.properties" <<CONF
status = warn
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.console.ref = console
CONF
  cat > "$dir/log4j2.properties" <<CONF
status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = $log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.file.ref = file
logger.kafka.name = org.apache.kafka
logger.kafka.level = warn
logger.state.name = state.change.logger
logger.state.level = warn
CONF
}

java_opts=(-Xms256m -Xmx"$CDC_KAFKA_HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20
  -Djava.awt.headless=true -Dlog4j2.configurationFile="file:$dir/log4j2.properties"
  -cp "$libs/*")
java_cmd() { java "${java_opts[@]}" "$@"; }

ready() {
  port_in_use "$CDC_KAFKA_PORT" && grep -q "Kafka Server started" "$log"
}

# Kafka's command-line tools, with their log on stderr rather than in the broker's log file.
tool_cmd() {
  java -Xmx256m -Dlog4j2.configurationFile="file:$dir/log4j2-tools.properties" -cp "$libs/*" "$@"
}

# The SCRAM-SHA-512 users of the SASL_SSL listener, each as NAME:SECRET (lib.sh's secret
# holding its password): cdc, a super user, and cdc_limited, with no ACLs at all.
scram_users=(cdc:kafka_scram_password cdc_limited:kafka_limited_password)

# Made through the admin API on the PLAINTEXT listener (ANONYMOUS there, a super user).
# Checked after every start rather than trusted to the metadata log: Kafka 4.1.1 replays a
# log in which some SCRAM user was removed without the users added after it
# (ScramDelta.apply), so a restart can lose them. Never remove one.
ensure_scram_users() {
  local entry
  mkdir -p "$dir/run"
  rm -f "$dir/run/scram-checked"
  # Private: a refused value is quoted in the tool's error message.
  : > "$dir/log/scram.log"
  chmod 600 "$dir/log/scram.log"
  for entry in "${scram_users[@]}"; do
    scram_user "${entry%%:*}" "${entry#*:}"
  done
  scram_user_names > "$dir/run/scram-checked"
}

scram_user_names() { echo "${scram_users[@]%%:*}"; }

scram_users_checked() {  # every user of scram_users checked since the last start
  [ "$(cat "$dir/run/scram-checked" 2>/dev/null)" = "$(scram_user_names)" ]
}

scram_user() {  # scram_user NAME SECRET
  local user=$1 secret_name=$2
  scram_user_exists "$user" && return 0
  say "making Kafka's SCRAM-SHA-512 user $user"
  # The password through a file, not on a command line that 'ps' shows. In a file the
  # value goes without the brackets of --add-config 'SCRAM-SHA-512=[password=...]'.
  local file=$dir/run/scram.properties
  (umask 077; printf 'SCRAM-SHA-512=password=%s\n' "$(secret "$secret_name")" > "$file")
  tool_cmd kafka.admin.ConfigCommand --bootstrap-server "$CDC_HOST:$CDC_KAFKA_PORT" --alter \
    --add-config-file "$file" --entity-type users --entity-name "$user" >> "$dir/log/scram.log" 2>&1 \
    || { rm -f "$file"; fail "making Kafka's SCRAM user $user failed" "see $dir/log/scram.log"; }
  rm -f "$file"
  # The broker learns of it from the metadata log a moment later; a login before then fails.
  wait_until 30 "Kafka's SCRAM user $user" "$dir/log/scram.log" scram_user_exists "$user"
}

scram_user_exists() {  # scram_user_exists NAME: as the broker sees it (describe answers from its metadata image)
  tool_cmd kafka.admin.ConfigCommand --bootstrap-server "$CDC_HOST:$CDC_KAFKA_PORT" --describe \
    --entity-type users --entity-name "$1" 2>> "$dir/log/scram.log" > "$dir/run/scram.describe" || true
  grep -q "SCRAM-SHA-512=" "$dir/run/scram.describe"
}

up() {
  mkdir -p "$dir/log"
  fetch_jars
  [ "$CDC_TLS" = 0 ] || ensure_tls
  write_config
  if pid_alive "$pidfile"; then
    # started.properties is the configuration it was started with (ports.sh reads its
    # listeners): a broker started before a change (TLS switched on or off, a renewed
    # certificate) restarts to take it. Written before the start; run/scram-checked names
    # the SCRAM users checked since.
    if cmp -s "$dir/server.properties" "$dir/started.properties"; then
      say "Kafka already running on $CDC_HOST:$CDC_KAFKA_PORT"
      # Unless an earlier 'make up' stopped before the SCRAM users were checked.
      [ "$CDC_TLS" = 0 ] || scram_users_checked || ensure_scram_users
      return 0
    fi
    say "Kafka runs with an older server.properties; restarting it"
    down
  fi
  require_free_port "$CDC_KAFKA_PORT" CDC_KAFKA_PORT "the Kafka broker"
  require_free_port "$CDC_KAFKA_CONTROLLER_PORT" CDC_KAFKA_CONTROLLER_PORT "the Kafka controller"
  if [ "$CDC_TLS" = 1 ]; then
    require_free_port "$CDC_KAFKA_SSL_PORT" CDC_KAFKA_SSL_PORT "Kafka's SSL listener"
    require_free_port "$CDC_KAFKA_SASL_PORT" CDC_KAFKA_SASL_PORT "Kafka's SASL_SSL listener"
  fi
  if [ ! -f "$dir/data/meta.properties" ]; then
    say "formatting Kafka storage in $dir/data"
    local cluster_id
    cluster_id=$(java_cmd kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)
    java_cmd kafka.tools.StorageTool format --standalone -t "$cluster_id" \
      -c "$dir/server.properties" > "$dir/log/format.log" 2>&1 \
      || fail "formatting Kafka storage failed" "see $dir/log/format.log"
  fi
  say "starting Kafka on $CDC_HOST:$CDC_KAFKA_PORT"
  : > "$log"
  cp -p "$dir/server.properties" "$dir/started.properties"
  rm -f "$dir/run/scram-checked"
  setsid nohup java "${java_opts[@]}" kafka.Kafka "$dir/server.properties" \
    >> "$dir/log/stdout.log" 2>&1 < /dev/null &
  echo $! > "$pidfile"
  wait_until 120 "Kafka" "$log" ready
  [ "$CDC_TLS" = 0 ] || ensure_scram_users
}

down() {
  stop_pid "$pidfile" "Kafka"
}

status() {
  if pid_alive "$pidfile"; then
    echo "kafka           running  $CDC_HOST:$CDC_KAFKA_PORT  pid $(cat "$pidfile")"
  else
    echo "kafka           stopped  $CDC_HOST:$CDC_KAFKA_PORT"
    return 3
  fi
}

"$action"
