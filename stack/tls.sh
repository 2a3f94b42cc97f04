#!/usr/bin/env bash
# The certificates of the local stack when CDC_TLS=1: a CA of its own and one server
# certificate it signs, offered by MariaDB, PostgreSQL and Kafka (kafka.p12), in .stack/tls/.
# Run by up.sh; running it again changes nothing while the certificate is still good.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

KAFKA_KEYSTORE_PASSWORD=$(secret kafka_keystore_password)
export KAFKA_KEYSTORE_PASSWORD  # to openssl by environment, not on a command line 'ps' shows
mkdir -p "$TLS_DIR"
chmod 755 "$TLS_DIR"
umask 077  # keys are private from the moment they are written, not after a chmod
cd "$TLS_DIR"

# The certificate names CDC_HOST and nothing else: no DNS:localhost, so that a client that
# connects by another name (tests use 'localhost') sees the certificate refused.
if [[ $CDC_HOST =~ ^[0-9.]+$ || $CDC_HOST == *:* ]]; then
  san="IP:$CDC_HOST" check=(-checkip "$CDC_HOST")
else
  san="DNS:$CDC_HOST" check=(-checkhost "$CDC_HOST")  # a host name: IP: would not parse
fi

# Our own openssl configuration rather than the system's, whose default extensions differ
# between distributions. Strict verifiers (Python 3.13 and later) want key usages and key
# identifiers present.
cnf=$(mktemp)
trap 'rm -f "$cnf" server.csr' EXIT
cat > "$cnf" <<CNF
[req]
distinguished_name = dn
prompt = no
[dn]
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = $san
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF

month=$((30 * 24 * 3600))
ossl() { openssl "$@" 2>>"$PWD/openssl.log" || fail "openssl $1 failed" "see $PWD/openssl.log"; }

ca_good() {
  [ -f ca.key ] && [ -f ca.pem ] && openssl x509 -in ca.pem -noout -checkend "$month" >/dev/null 2>&1
}

server_good() {
  [ -f server.key ] && [ -f server.pem ] || return 1
  openssl verify -CAfile ca.pem server.pem >/dev/null 2>&1 || return 1
  openssl x509 -in server.pem -noout -checkend "$month" >/dev/null 2>&1 || return 1
  openssl x509 -in server.pem -noout "${check[@]}" 2>/dev/null | grep -q "does match" || return 1
  # A key made by an interrupted run must not be paired with the older certificate.
  [ "$(openssl x509 -in server.pem -noout -pubkey)" = "$(openssl pkey -in server.key -pubout 2>/dev/null)" ]
}

if ! ca_good; then
  say "making the stack's certificate authority in $TLS_DIR"
  ossl req -config "$cnf" -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem \
    -days 3650 -subj "/CN=cdc local stack CA" -extensions ca_ext
fi

if ! server_good; then
  say "making the server certificate for $san in $TLS_DIR"
  ossl req -config "$cnf" -new -newkey rsa:2048 -nodes -keyout server.key -out server.csr \
    -subj "/CN=$CDC_HOST"
  ossl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -set_serial "0x$(openssl rand -hex 16)" \
    -days 365 -extfile "$cnf" -extensions server_ext -out server.pem
fi

# Kafka reads a PKCS12 keystore: the server key, its certificate and the CA. Remade when it
# does not hold the current certificate (or no longer opens with the password).
cert_of() { openssl x509 -noout -fingerprint -sha256 2>/dev/null; }
if [ "$(openssl pkcs12 -in kafka.p12 -nokeys -clcerts -passin env:KAFKA_KEYSTORE_PASSWORD 2>/dev/null | cert_of)" \
     != "$(cert_of < server.pem)" ]; then
  say "making Kafka's keystore $TLS_DIR/kafka.p12"
  ossl pkcs12 -export -in server.pem -inkey server.key -certfile ca.pem -name kafka \
    -passout env:KAFKA_KEYSTORE_PASSWORD -out kafka.p12
fi

chmod 600 ca.key server.key server.pem kafka.p12
chmod 644 ca.pem
