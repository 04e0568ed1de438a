#!/usr/bin/env bash
# Local single-node Apache Kafka (KRaft, broker+controller) on 127.0.0.1.
#
# Usage: deploy/local/kafka.sh {install|start|stop|status|restart|purge}
#
#   install  resolve the broker jars from Maven Central into the cache (skipped if present)
#   start    install if needed, format storage if needed, start, wait until ready (idempotent)
#   stop     SIGTERM, then SIGKILL after KAFKA_STOP_TIMEOUT seconds
#   status   exit 0 if running and answering, 1 otherwise
#   purge    stop and delete the data dir (topics, offsets, logs)
#
# Environment:
#   KAFKA_VERSION          broker version (default 4.4.0; see docs/services.md)
#   KAFKA_PORT             client listener port (default 9092)
#   KAFKA_CONTROLLER_PORT  KRaft controller port (default 9093)
#   KAFKA_SASL_SSL_PORT    SASL_SSL listener: TLS + SASL PLAIN/SCRAM-SHA-256/SCRAM-SHA-512 (default 9094)
#   KAFKA_MTLS_PORT        SSL listener with ssl.client.auth=required, mutual TLS (default 9095)
#   KAFKA_DATA_DIR         data, log and PID dir (default $POSGUARD_SERVICES_DIR/kafka)
#   KAFKA_HEAP_OPTS        JVM heap (default "-Xms256m -Xmx1g")
#   KAFKA_AUTO_CREATE_TOPICS  auto.create.topics.enable (default true)
#   KAFKA_READY_TIMEOUT    seconds to wait for readiness (default 90)
#   KAFKA_STOP_TIMEOUT     seconds before SIGKILL on stop (default 30)
#   KAFKA_JAVA_HOME        JDK/JRE to use (default: first Java >= 17 found)
#   POSGUARD_CACHE, POSGUARD_SERVICES_DIR, POSGUARD_M2: see lib.sh
set -euo pipefail

LOG_TAG=kafka
# shellcheck source=lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

KAFKA_VERSION="${KAFKA_VERSION:-4.4.0}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_SASL_SSL_PORT="${KAFKA_SASL_SSL_PORT:-9094}"
KAFKA_MTLS_PORT="${KAFKA_MTLS_PORT:-9095}"
KAFKA_DATA_DIR="${KAFKA_DATA_DIR:-$POSGUARD_SERVICES_DIR/kafka}"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx1g}"
KAFKA_AUTO_CREATE_TOPICS="${KAFKA_AUTO_CREATE_TOPICS:-true}"
KAFKA_READY_TIMEOUT="${KAFKA_READY_TIMEOUT:-90}"
KAFKA_STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"

KAFKA_HOME="$POSGUARD_CACHE/kafka-$KAFKA_VERSION"
KAFKA_LIBS="$KAFKA_HOME/libs"
KAFKA_INSTALLED_MARK="$KAFKA_HOME/.installed"
PID_PATTERN="kafka.Kafka"   # what our process' command line contains
PID_FILE="$KAFKA_DATA_DIR/kafka.pid"
LOG_FILE="$KAFKA_DATA_DIR/kafka.log"
CONFIG_FILE="$KAFKA_DATA_DIR/server.properties"
STORE_DIR="$KAFKA_DATA_DIR/data"
STATE_FILE="$KAFKA_DATA_DIR/formatted-by"   # "<version> <cluster-id>"
# Test-only TLS material and credentials for the secured listeners, made once per data dir.
TLS_DIR="$KAFKA_DATA_DIR/tls"
SECRETS_FILE="$TLS_DIR/secrets.env"          # passwords (mode 600); the SCRAM user is formatted into the store with them
SECURITY_ENV="$KAFKA_DATA_DIR/security.env"  # what services-up.sh appends to services.env

kafka_java() {
  find_java 17 "${KAFKA_JAVA_HOME:-}" || die "Kafka $KAFKA_VERSION needs Java 17+; none found (set KAFKA_JAVA_HOME)"
}

cmd_install() {
  if [[ -f "$KAFKA_INSTALLED_MARK" ]]; then
    log "Kafka $KAFKA_VERSION already installed in $KAFKA_HOME"
    return 0
  fi
  local t0; t0="$(now)"
  log "installing Kafka $KAFKA_VERSION (org.apache.kafka:kafka_2.13) from Maven Central into $KAFKA_LIBS"
  rm -rf "$KAFKA_LIBS.tmp"
  mkdir -p "$KAFKA_HOME"
  run_mvn "$KAFKA_HOME/install.log" -f "$LOCAL_DIR/kafka/pom.xml" \
    -Dkafka.version="$KAFKA_VERSION" \
    "$MAVEN_DEPENDENCY_PLUGIN:copy-dependencies" \
    -DincludeScope=runtime -DoutputDirectory="$KAFKA_LIBS.tmp"
  [[ -f "$KAFKA_LIBS.tmp/kafka_2.13-$KAFKA_VERSION.jar" ]] \
    || die "kafka_2.13-$KAFKA_VERSION.jar missing after resolve (see $KAFKA_HOME/install.log)"
  rm -rf "$KAFKA_LIBS"
  mv "$KAFKA_LIBS.tmp" "$KAFKA_LIBS"
  echo "$KAFKA_VERSION" >"$KAFKA_INSTALLED_MARK"
  log "installed Kafka $KAFKA_VERSION ($(find "$KAFKA_LIBS" -name "*.jar" | wc -l) jars, $(du -sh "$KAFKA_LIBS" | cut -f1)) in $(elapsed "$t0")s"
}

# sign_cert NAME SUBJECT EXTENSIONS [openssl req key options...]: NAME.key + NAME.crt signed by the test CA.
sign_cert() {
  local name="$1" subj="$2" ext="$3"; shift 3
  openssl req -new -newkey rsa:2048 "$@" -keyout "$TLS_DIR/$name.key" -out "$TLS_DIR/$name.csr" -subj "$subj" 2>/dev/null
  printf '%b\n' "$ext" >"$TLS_DIR/$name.ext"
  openssl x509 -req -in "$TLS_DIR/$name.csr" -CA "$TLS_DIR/ca.crt" -CAkey "$TLS_DIR/ca.key" -CAcreateserial \
    -days 825 -sha256 -extfile "$TLS_DIR/$name.ext" -out "$TLS_DIR/$name.crt" 2>/dev/null
  rm -f "$TLS_DIR/$name.csr" "$TLS_DIR/$name.ext"
}

# A private CA, the broker's certificate (SAN 127.0.0.1, localhost) in a PKCS12 keystore, the CA in a
# PKCS12 truststore (keytool), a client certificate whose key is encrypted with a passphrase, and random
# passwords for the SCRAM and PLAIN test users. Made once per data dir; throwaway test material.
make_tls() {
  [[ -f "$TLS_DIR/.complete" ]] && return 0
  need_cmd openssl keytool
  local t0; t0="$(now)"
  rm -rf "$TLS_DIR"
  mkdir -p "$TLS_DIR"
  chmod 700 "$TLS_DIR"
  (umask 077; {
    echo "STORE_PASSWORD=$(openssl rand -hex 16)"
    echo "SCRAM_USER=posguard-scram"
    echo "SCRAM_PASSWORD=$(openssl rand -hex 16)"
    echo "PLAIN_USER=posguard-plain"
    echo "PLAIN_PASSWORD=$(openssl rand -hex 16)"
    echo "CLIENT_KEY_PASSPHRASE=$(openssl rand -hex 16)"
  } >"$SECRETS_FILE")
  # shellcheck disable=SC1090
  source "$SECRETS_FILE"
  openssl req -x509 -new -newkey rsa:2048 -nodes -days 825 -sha256 -keyout "$TLS_DIR/ca.key" -out "$TLS_DIR/ca.crt" \
    -subj "/CN=posguard local test CA" 2>/dev/null
  sign_cert broker "/CN=127.0.0.1" "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth" -nodes
  sign_cert client "/CN=posguard-client" "extendedKeyUsage=clientAuth" -passout "pass:$CLIENT_KEY_PASSPHRASE"
  openssl pkcs12 -export -in "$TLS_DIR/broker.crt" -inkey "$TLS_DIR/broker.key" -certfile "$TLS_DIR/ca.crt" \
    -name broker -out "$TLS_DIR/broker.p12" -passout "pass:$STORE_PASSWORD"
  keytool -importcert -noprompt -alias posguard-test-ca -file "$TLS_DIR/ca.crt" \
    -keystore "$TLS_DIR/truststore.p12" -storetype PKCS12 -storepass "$STORE_PASSWORD" >/dev/null 2>&1 \
    || die "keytool could not write the truststore $TLS_DIR/truststore.p12"
  chmod 600 "$TLS_DIR"/*.key "$TLS_DIR"/*.p12
  # The SCRAM user is written into the metadata log at format time: storage formatted before these
  # credentials existed does not know it, so start from fresh storage (throwaway test data).
  if [[ -d "$STORE_DIR" ]]; then
    warn "new test credentials: wiping $STORE_DIR so that the SCRAM user is formatted into it"
    rm -rf "$STORE_DIR" "$STATE_FILE"
  fi
  touch "$TLS_DIR/.complete"
  log "made a test CA, broker and client certificates and SCRAM/PLAIN test users in $TLS_DIR in $(elapsed "$t0")s"
}

# Addresses, certificate paths and test credentials of the secured listeners, for services.env.
write_security_env() {
  # shellcheck disable=SC1090
  source "$SECRETS_FILE"
  (umask 077; cat >"$SECURITY_ENV" <<EOF
KAFKA_SASL_SSL_BROKERS=127.0.0.1:$KAFKA_SASL_SSL_PORT
KAFKA_MTLS_BROKERS=127.0.0.1:$KAFKA_MTLS_PORT
KAFKA_TEST_CA_FILE=$TLS_DIR/ca.crt
KAFKA_TEST_SERVER_CERT_FILE=$TLS_DIR/broker.crt
KAFKA_TEST_SERVER_KEY_FILE=$TLS_DIR/broker.key
KAFKA_TEST_CLIENT_CERT_FILE=$TLS_DIR/client.crt
KAFKA_TEST_CLIENT_KEY_FILE=$TLS_DIR/client.key
KAFKA_TEST_CLIENT_KEY_PASSPHRASE=$CLIENT_KEY_PASSPHRASE
KAFKA_TEST_SCRAM_USER=$SCRAM_USER
KAFKA_TEST_SCRAM_PASSWORD=$SCRAM_PASSWORD
KAFKA_TEST_PLAIN_USER=$PLAIN_USER
KAFKA_TEST_PLAIN_PASSWORD=$PLAIN_PASSWORD
EOF
  )
}

render_config() {
  mkdir -p "$KAFKA_DATA_DIR"
  # shellcheck disable=SC1090
  source "$SECRETS_FILE"
  (umask 077; sed -e "s|@KAFKA_PORT@|$KAFKA_PORT|g" \
      -e "s|@CONTROLLER_PORT@|$KAFKA_CONTROLLER_PORT|g" \
      -e "s|@SASL_SSL_PORT@|$KAFKA_SASL_SSL_PORT|g" \
      -e "s|@MTLS_PORT@|$KAFKA_MTLS_PORT|g" \
      -e "s|@TLS_DIR@|$TLS_DIR|g" \
      -e "s|@STORE_PASSWORD@|$STORE_PASSWORD|g" \
      -e "s|@PLAIN_USER@|$PLAIN_USER|g" \
      -e "s|@PLAIN_PASSWORD@|$PLAIN_PASSWORD|g" \
      -e "s|@LOG_DIRS@|$STORE_DIR|g" \
      -e "s|@AUTO_CREATE@|$KAFKA_AUTO_CREATE_TOPICS|g" \
      "$LOCAL_DIR/kafka/server.properties.template" >"$CONFIG_FILE")
}

format_storage() {
  local java="$1" cluster_id
  # Data formatted by another Kafka version is throwaway test data: start over.
  if [[ -d "$STORE_DIR" ]]; then
    if [[ -f "$STATE_FILE" && "$(cut -d' ' -f1 "$STATE_FILE")" == "$KAFKA_VERSION" && -f "$STORE_DIR/meta.properties" ]]; then
      return 0
    fi
    warn "data in $STORE_DIR was not formatted by Kafka $KAFKA_VERSION; wiping it"
    rm -rf "$STORE_DIR" "$STATE_FILE"
  fi
  cluster_id="$("$java" -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n1)"
  [[ -n "$cluster_id" ]] || die "kafka-storage random-uuid failed"
  log "formatting KRaft storage in $STORE_DIR (cluster id $cluster_id, SCRAM test user $SCRAM_USER)"
  if ! "$java" -Dlog4j2.configurationFile="$LOCAL_DIR/kafka/log4j2.properties" \
       -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool format \
       -t "$cluster_id" -c "$CONFIG_FILE" \
       --add-scram "SCRAM-SHA-256=[name=$SCRAM_USER,password=$SCRAM_PASSWORD]" \
       --add-scram "SCRAM-SHA-512=[name=$SCRAM_USER,password=$SCRAM_PASSWORD]" \
       >"$KAFKA_DATA_DIR/format.log" 2>&1; then
    cat "$KAFKA_DATA_DIR/format.log" >&2
    die "kafka-storage format failed"
  fi
  echo "$KAFKA_VERSION $cluster_id" >"$STATE_FILE"
}

is_ready() {
  node "$LOCAL_DIR/wait-kafka.mjs" --brokers "127.0.0.1:$KAFKA_PORT" --timeout "${1:-5}" --quiet >/dev/null 2>&1
}

cmd_status() {
  if pid_alive "$PID_FILE" "$PID_PATTERN"; then
    if is_ready 5; then
      log "running (pid $(cat "$PID_FILE")), ready on 127.0.0.1:$KAFKA_PORT"
      return 0
    fi
    log "process running (pid $(cat "$PID_FILE")) but broker not answering on 127.0.0.1:$KAFKA_PORT"
    return 1
  fi
  log "not running"
  return 1
}

cmd_start() {
  need_cmd node
  if pid_alive "$PID_FILE" "$PID_PATTERN"; then
    if is_ready 10; then
      log "already running (pid $(cat "$PID_FILE")) and ready on 127.0.0.1:$KAFKA_PORT; nothing to do"
      if [[ -f "$TLS_DIR/.complete" ]] && grep -q '^listeners=.*SASL_SSL' "$CONFIG_FILE" 2>/dev/null; then
        write_security_env
      else
        rm -f "$SECURITY_ENV"
        warn "this broker was started without the SASL_SSL/mTLS listeners; restart it (kafka.sh restart) for the security tests"
      fi
      return 0
    fi
    warn "pid $(cat "$PID_FILE") is alive but the broker does not answer; restarting it"
    stop_pid kafka "$PID_FILE" "$KAFKA_STOP_TIMEOUT" "$PID_PATTERN"
  fi
  rm -f "$PID_FILE"
  local p
  for p in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT" "$KAFKA_SASL_SSL_PORT" "$KAFKA_MTLS_PORT"; do
    ensure_port_free "$p" KAFKA_PORT/KAFKA_CONTROLLER_PORT/KAFKA_SASL_SSL_PORT/KAFKA_MTLS_PORT
  done

  cmd_install
  local java; java="$(kafka_java)"
  make_tls
  render_config
  format_storage "$java"

  [[ -f "$LOG_FILE" ]] && mv -f "$LOG_FILE" "$LOG_FILE.prev"   # keep the previous run's log
  local t0; t0="$(now)"
  log "starting Kafka $KAFKA_VERSION on 127.0.0.1:$KAFKA_PORT (controller :$KAFKA_CONTROLLER_PORT, java $(java_major "$java"), heap '$KAFKA_HEAP_OPTS'); log: $LOG_FILE"
  # shellcheck disable=SC2086
  setsid nohup "$java" $KAFKA_HEAP_OPTS \
    -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
    -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$LOCAL_DIR/kafka/log4j2.properties" \
    -Dkafka.logs.dir="$KAFKA_DATA_DIR" \
    -cp "$KAFKA_LIBS/*" kafka.Kafka "$CONFIG_FILE" \
    </dev/null >"$LOG_FILE" 2>&1 &
  echo $! >"$PID_FILE"

  if ! node "$LOCAL_DIR/wait-kafka.mjs" --brokers "127.0.0.1:$KAFKA_PORT" \
       --timeout "$KAFKA_READY_TIMEOUT" --log "$LOG_FILE" --pid "$(cat "$PID_FILE")"; then
    stop_pid kafka "$PID_FILE" 10 "$PID_PATTERN" || true
    die "Kafka failed to start or did not become ready within ${KAFKA_READY_TIMEOUT}s (details above; log: $LOG_FILE)"
  fi
  write_security_env
  log "ready on 127.0.0.1:$KAFKA_PORT after $(elapsed "$t0")s (pid $(cat "$PID_FILE")); SASL_SSL on :$KAFKA_SASL_SSL_PORT, mTLS on :$KAFKA_MTLS_PORT"
}

cmd_stop() { stop_pid kafka "$PID_FILE" "$KAFKA_STOP_TIMEOUT" "$PID_PATTERN"; }

cmd_purge() {
  cmd_stop
  log "deleting $KAFKA_DATA_DIR"
  rm -rf "$KAFKA_DATA_DIR"
}

case "${1:-}" in
  install) cmd_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  restart) cmd_stop; cmd_start ;;
  purge) cmd_purge ;;
  *) echo "usage: $0 {install|start|stop|status|restart|purge}" >&2; exit 2 ;;
esac
