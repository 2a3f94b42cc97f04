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
  cat > "$dir/server.properties" <<CONF
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=$CDC_HOST:$CDC_KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$CDC_HOST:$CDC_KAFKA_PORT,CONTROLLER://$CDC_HOST:$CDC_KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$CDC_HOST:$CDC_KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
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

up() {
  mkdir -p "$dir/log"
  fetch_jars
  write_config
  if pid_alive "$pidfile"; then
    say "Kafka already running on $CDC_HOST:$CDC_KAFKA_PORT"
    return 0
  fi
  require_free_port "$CDC_KAFKA_PORT" CDC_KAFKA_PORT "the Kafka broker"
  require_free_port "$CDC_KAFKA_CONTROLLER_PORT" CDC_KAFKA_CONTROLLER_PORT "the Kafka controller"
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
  setsid nohup java "${java_opts[@]}" kafka.Kafka "$dir/server.properties" \
    >> "$dir/log/stdout.log" 2>&1 < /dev/null &
  echo $! > "$pidfile"
  wait_until 120 "Kafka" "$log" ready
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
