#!/usr/bin/env bash
# Install (if missing) and start the local services for tests and benchmarks:
#   - Apache Kafka, single-node KRaft     127.0.0.1:${KAFKA_PORT:-9092}
#   - Apicurio Registry (Confluent API)   http://127.0.0.1:${REGISTRY_PORT:-8081}/apis/ccompat/v7
# Idempotent: a service that is already running and healthy is left alone.
#
# Usage: deploy/local/services-up.sh [--smoke] [--only kafka|registry]
#   --smoke   afterwards run deploy/local/smoke-kafka.mjs and smoke-registry.mjs
#   --only    start just one of the two services
#
# Writes $POSGUARD_SERVICES_DIR/services.env (KAFKA_BROKERS, SCHEMA_REGISTRY_URL, ...) for
# tests to source. See docs/services.md for all environment variables.
set -euo pipefail

LOG_TAG=services-up
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
source "$HERE/lib.sh"

smoke=0
only=""
while (($#)); do
  case "$1" in
    --smoke) smoke=1 ;;
    --only) only="${2:-}"; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) die "unknown argument: $1 (try --help)" ;;
  esac
  shift
done
case "$only" in ""|kafka|registry) ;; *) die "--only takes kafka or registry" ;; esac

need_cmd java node mvn curl tar
t0="$(now)"
mkdir -p "$POSGUARD_SERVICES_DIR" "$POSGUARD_CACHE"

[[ -z "$only" || "$only" == kafka ]] && "$HERE/kafka.sh" start
[[ -z "$only" || "$only" == registry ]] && "$HERE/registry.sh" start

KAFKA_PORT="${KAFKA_PORT:-9092}"
REGISTRY_PORT="${REGISTRY_PORT:-8081}"
cat >"$POSGUARD_SERVICES_DIR/services.env" <<EOF
# Written by deploy/local/services-up.sh; source it to reach the local services.
KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT
SCHEMA_REGISTRY_URL=http://127.0.0.1:$REGISTRY_PORT/apis/ccompat/v7
APICURIO_URL=http://127.0.0.1:$REGISTRY_PORT
EOF
# The secured listeners (SASL_SSL, mTLS), their test CA, client certificate and test users (kafka.sh).
kafka_security_env="${KAFKA_DATA_DIR:-$POSGUARD_SERVICES_DIR/kafka}/security.env"
if [[ -f "$kafka_security_env" ]]; then
  cat "$kafka_security_env" >>"$POSGUARD_SERVICES_DIR/services.env"
  chmod 600 "$POSGUARD_SERVICES_DIR/services.env"
fi

if ((smoke)); then
  [[ -z "$only" || "$only" == kafka ]] && node "$HERE/smoke-kafka.mjs" --brokers "127.0.0.1:$KAFKA_PORT"
  [[ -z "$only" || "$only" == registry ]] && node "$HERE/smoke-registry.mjs" --url "http://127.0.0.1:$REGISTRY_PORT/apis/ccompat/v7"
fi

log "services up in $(elapsed "$t0")s"
log "  Kafka:           127.0.0.1:$KAFKA_PORT"
log "  Schema registry: http://127.0.0.1:$REGISTRY_PORT/apis/ccompat/v7"
log "  env file:        $POSGUARD_SERVICES_DIR/services.env; stop with deploy/local/services-down.sh"
