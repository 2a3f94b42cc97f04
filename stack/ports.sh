# check_ports: every port of a service that is not already ours and running must be free.
# Sourced by up.sh after lib.sh.

check_ports() {
  pid_alive "$STACK_DIR/mariadb-source/run/mariadbd.pid" \
    || require_free_port "$CDC_SOURCE_PORT" CDC_SOURCE_PORT "the source MariaDB"
  pid_alive "$STACK_DIR/mariadb-target/run/mariadbd.pid" \
    || require_free_port "$CDC_TARGET_MARIADB_PORT" CDC_TARGET_MARIADB_PORT "the target MariaDB"
  [ -f "$STACK_DIR/postgres/data/postmaster.pid" ] \
    || require_free_port "$CDC_POSTGRES_PORT" CDC_POSTGRES_PORT "PostgreSQL"
  if ! pid_alive "$STACK_DIR/kafka/kafka.pid"; then
    require_free_port "$CDC_KAFKA_PORT" CDC_KAFKA_PORT "the Kafka broker"
    require_free_port "$CDC_KAFKA_CONTROLLER_PORT" CDC_KAFKA_CONTROLLER_PORT "the Kafka controller"
  fi
  # The TLS listeners: free unless our running Kafka already has them (a Kafka started
  # without them restarts with them, so they must be free for it).
  if [ "$CDC_TLS" = 1 ]; then
    kafka_has_listener "$CDC_KAFKA_SSL_PORT" \
      || require_free_port "$CDC_KAFKA_SSL_PORT" CDC_KAFKA_SSL_PORT "Kafka's SSL listener"
    kafka_has_listener "$CDC_KAFKA_SASL_PORT" \
      || require_free_port "$CDC_KAFKA_SASL_PORT" CDC_KAFKA_SASL_PORT "Kafka's SASL_SSL listener"
  fi
}

kafka_has_listener() {  # kafka_has_listener PORT: the running Kafka was started listening on it
  pid_alive "$STACK_DIR/kafka/kafka.pid" \
    && grep -q "^listeners=.*://$CDC_HOST:$1\(,\|\$\)" "$STACK_DIR/kafka/started.properties" 2>/dev/null
}
