#!/usr/bin/env bash
# One line per server of the local stack; exits 3 when any of them is not running.
set -u
here=$(dirname "$0")
rc=0
bash "$here/mariadb.sh" status source || rc=3
bash "$here/mariadb.sh" status target || rc=3
bash "$here/postgres.sh" status || rc=3
bash "$here/kafka.sh" status || rc=3
# As chosen for 'make up' (TLS=1 or TLS=0), kept in .stack/env.
. "$here/lib.sh"
if [ "$CDC_TLS" = 1 ]; then
  echo "tls             on       CA $TLS_DIR/ca.pem; Kafka SSL $CDC_HOST:$CDC_KAFKA_SSL_PORT, SASL_SSL $CDC_HOST:$CDC_KAFKA_SASL_PORT"
else
  echo "tls             off      (make up TLS=1 turns it on)"
fi
exit $rc
