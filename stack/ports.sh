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
}
