#!/usr/bin/env bash
# Stop the local services started by services-up.sh: SIGTERM, then SIGKILL after a timeout
# (KAFKA_STOP_TIMEOUT, default 30 s; REGISTRY_STOP_TIMEOUT, default 20 s).
#
# Usage: deploy/local/services-down.sh [--purge]
#   --purge   also delete the data dirs (Kafka topics/offsets, logs) under $POSGUARD_SERVICES_DIR
#             (the install cache in $POSGUARD_CACHE is kept)
set -euo pipefail

LOG_TAG=services-down
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
source "$HERE/lib.sh"

action=stop
while (($#)); do
  case "$1" in
    --purge) action=purge ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) die "unknown argument: $1 (try --help)" ;;
  esac
  shift
done

rc=0
# Stop both even if one fails; registry first (it does not depend on Kafka, but order is cheap).
"$HERE/registry.sh" "$action" || rc=$?
"$HERE/kafka.sh" "$action" || rc=$?
# The env file describes running services: once they are stopped, tests must not find it.
rm -f "$POSGUARD_SERVICES_DIR/services.env"
if [[ "$action" == purge ]]; then
  rmdir "$POSGUARD_SERVICES_DIR" 2>/dev/null || true
fi
exit "$rc"
