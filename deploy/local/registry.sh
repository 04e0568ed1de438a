#!/usr/bin/env bash
# Local schema registry with the Confluent-compatible API: Apicurio Registry
# (io.apicurio:apicurio-registry-app, the "all" tar.gz from Maven Central), in-memory
# storage, on 127.0.0.1. Confluent API base: http://127.0.0.1:$REGISTRY_PORT/apis/ccompat/v7
#
# Usage: deploy/local/registry.sh {install|start|stop|status|restart|purge}
#
# Environment:
#   APICURIO_VERSION        "auto" (default): 3.3.3 if a Java >= 21 is found, else
#                           2.6.13.Final on Java 17. Or an explicit version.
#   REGISTRY_PORT           HTTP port (default 8081)
#   REGISTRY_MGMT_PORT      Quarkus management (health/metrics) port, 3.x only (default 9081)
#   REGISTRY_DATA_DIR       log and PID dir (default $POSGUARD_SERVICES_DIR/registry)
#   REGISTRY_HEAP_OPTS      JVM heap (default "-Xms128m -Xmx512m")
#   REGISTRY_READY_TIMEOUT  seconds to wait for readiness (default 90)
#   REGISTRY_STOP_TIMEOUT   seconds before SIGKILL on stop (default 20)
#   REGISTRY_JAVA_HOME      JDK/JRE to use (default: searched, see find_java in lib.sh)
#   POSGUARD_CACHE, POSGUARD_SERVICES_DIR, POSGUARD_M2: see lib.sh
set -euo pipefail

LOG_TAG=registry
# shellcheck source=lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

APICURIO_V3_DEFAULT="3.3.3"        # newest on Maven Central; compiled for Java 21
APICURIO_V2_FALLBACK="2.6.13.Final" # last 2.x; runs on Java 11+

APICURIO_VERSION="${APICURIO_VERSION:-auto}"
REGISTRY_PORT="${REGISTRY_PORT:-8081}"
REGISTRY_MGMT_PORT="${REGISTRY_MGMT_PORT:-9081}"
REGISTRY_DATA_DIR="${REGISTRY_DATA_DIR:-$POSGUARD_SERVICES_DIR/registry}"
REGISTRY_HEAP_OPTS="${REGISTRY_HEAP_OPTS:--Xms128m -Xmx512m}"
REGISTRY_READY_TIMEOUT="${REGISTRY_READY_TIMEOUT:-90}"
REGISTRY_STOP_TIMEOUT="${REGISTRY_STOP_TIMEOUT:-20}"

PID_PATTERN="apicurio-registry-"   # what our process' command line contains
PID_FILE="$REGISTRY_DATA_DIR/registry.pid"
LOG_FILE="$REGISTRY_DATA_DIR/registry.log"
READY_PATH="/apis/ccompat/v7/subjects"

# Minimum Java for an Apicurio version.
min_java_for() { case "$1" in 3.*) echo 21 ;; *) echo 11 ;; esac; }

# Sets REGISTRY_VERSION and REGISTRY_JAVA.
resolve_version_and_java() {
  if [[ "$APICURIO_VERSION" == auto ]]; then
    if REGISTRY_JAVA="$(find_java 21 "${REGISTRY_JAVA_HOME:-}")"; then
      REGISTRY_VERSION="$APICURIO_V3_DEFAULT"
    else
      REGISTRY_VERSION="$APICURIO_V2_FALLBACK"
      warn "no Java >= 21 found (Apicurio $APICURIO_V3_DEFAULT needs it); falling back to Apicurio $REGISTRY_VERSION"
      REGISTRY_JAVA="$(find_java 11 "${REGISTRY_JAVA_HOME:-}")" || die "no Java >= 11 found"
    fi
  else
    REGISTRY_VERSION="$APICURIO_VERSION"
    local min; min="$(min_java_for "$REGISTRY_VERSION")"
    REGISTRY_JAVA="$(find_java "$min" "${REGISTRY_JAVA_HOME:-}")" \
      || die "Apicurio $REGISTRY_VERSION needs Java >= $min; none found (set REGISTRY_JAVA_HOME)"
  fi
  REGISTRY_HOME="$POSGUARD_CACHE/apicurio-registry-$REGISTRY_VERSION"
}

# The launcher: quarkus-run.jar (3.x fast-jar) or *-runner.jar (2.x).
launcher_jar() {
  if [[ -f "$REGISTRY_HOME/quarkus-run.jar" ]]; then
    echo "$REGISTRY_HOME/quarkus-run.jar"
  else
    compgen -G "$REGISTRY_HOME/*-runner.jar" | head -n1
  fi
}

cmd_install() {
  resolve_version_and_java
  if [[ -f "$REGISTRY_HOME/.installed" ]]; then
    log "Apicurio Registry $REGISTRY_VERSION already installed in $REGISTRY_HOME"
    return 0
  fi
  need_cmd tar
  local t0; t0="$(now)"
  local artifact="io.apicurio:apicurio-registry-app:$REGISTRY_VERSION:tar.gz:all"
  log "installing Apicurio Registry $REGISTRY_VERSION ($artifact) from Maven Central into $REGISTRY_HOME"
  local dl="$POSGUARD_CACHE/.download-apicurio-$REGISTRY_VERSION"
  rm -rf "$dl" "$REGISTRY_HOME.tmp"
  mkdir -p "$dl" "$REGISTRY_HOME.tmp"
  # Run from an empty folder so Maven uses its standalone project.
  (cd "$dl" && run_mvn "$dl/install.log" "$MAVEN_DEPENDENCY_PLUGIN:copy" \
      -Dartifact="$artifact" -DoutputDirectory="$dl")
  local tgz="$dl/apicurio-registry-app-$REGISTRY_VERSION-all.tar.gz"
  [[ -f "$tgz" ]] || die "$tgz missing after download (see $dl/install.log)"
  tar -xzf "$tgz" -C "$REGISTRY_HOME.tmp"
  rm -rf "$REGISTRY_HOME"
  mv "$REGISTRY_HOME.tmp" "$REGISTRY_HOME"
  [[ -n "$(launcher_jar)" ]] || die "no quarkus-run.jar or *-runner.jar in $REGISTRY_HOME"
  cp "$dl/install.log" "$REGISTRY_HOME/install.log"
  echo "$REGISTRY_VERSION" >"$REGISTRY_HOME/.installed"
  # The unpacked tree is the cache; drop the downloaded archive and Maven's copy of it.
  rm -rf "$dl" "$POSGUARD_M2/io/apicurio/apicurio-registry-app/$REGISTRY_VERSION"/*.tar.gz
  log "installed Apicurio Registry $REGISTRY_VERSION ($(du -sh "$REGISTRY_HOME" | cut -f1)) in $(elapsed "$t0")s"
}

is_ready() {
  curl -fsS -o /dev/null --max-time 3 "http://127.0.0.1:$REGISTRY_PORT$READY_PATH" 2>/dev/null
}

cmd_status() {
  if pid_alive "$PID_FILE" "$PID_PATTERN"; then
    if is_ready; then
      log "running (pid $(cat "$PID_FILE")), ready on http://127.0.0.1:$REGISTRY_PORT"
      return 0
    fi
    log "process running (pid $(cat "$PID_FILE")) but http://127.0.0.1:$REGISTRY_PORT$READY_PATH does not answer"
    return 1
  fi
  log "not running"
  return 1
}

cmd_start() {
  need_cmd curl
  if pid_alive "$PID_FILE" "$PID_PATTERN"; then
    if is_ready; then
      log "already running (pid $(cat "$PID_FILE")) and ready on http://127.0.0.1:$REGISTRY_PORT; nothing to do"
      return 0
    fi
    warn "pid $(cat "$PID_FILE") is alive but the registry does not answer; restarting it"
    stop_pid registry "$PID_FILE" "$REGISTRY_STOP_TIMEOUT" "$PID_PATTERN"
  fi
  rm -f "$PID_FILE"
  local p
  for p in "$REGISTRY_PORT" "$REGISTRY_MGMT_PORT"; do ensure_port_free "$p" REGISTRY_PORT/REGISTRY_MGMT_PORT; done

  cmd_install   # also sets REGISTRY_VERSION, REGISTRY_JAVA, REGISTRY_HOME
  local jar; jar="$(launcher_jar)"
  mkdir -p "$REGISTRY_DATA_DIR"

  [[ -f "$LOG_FILE" ]] && mv -f "$LOG_FILE" "$LOG_FILE.prev"   # keep the previous run's log
  local t0; t0="$(now)"
  log "starting Apicurio Registry $REGISTRY_VERSION on http://127.0.0.1:$REGISTRY_PORT (java $(java_major "$REGISTRY_JAVA"), heap '$REGISTRY_HEAP_OPTS'); log: $LOG_FILE"
  # cwd = data dir, so Quarkus picks up no stray ./config/application.properties.
  # Storage: in-memory (3.x: H2 in memory, the default; 2.x: the in-memory app).
  # shellcheck disable=SC2086
  (cd "$REGISTRY_DATA_DIR" && exec setsid nohup "$REGISTRY_JAVA" $REGISTRY_HEAP_OPTS \
    -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    -Djava.util.logging.manager=org.jboss.logmanager.LogManager \
    -Dquarkus.http.host=127.0.0.1 \
    -Dquarkus.http.port="$REGISTRY_PORT" \
    -Dquarkus.management.host=127.0.0.1 \
    -Dquarkus.management.port="$REGISTRY_MGMT_PORT" \
    -Dapicurio.rest.deletion.group.enabled=true \
    -Dapicurio.rest.deletion.artifact.enabled=true \
    -Dapicurio.rest.deletion.artifact-version.enabled=true \
    -jar "$jar" \
    </dev/null >"$LOG_FILE" 2>&1) &
  echo $! >"$PID_FILE"

  local pid; pid="$(cat "$PID_FILE")"
  local deadline=$(( $(date +%s) + REGISTRY_READY_TIMEOUT ))
  until is_ready; do
    if ! pid_alive "$PID_FILE"; then
      echo "--- last lines of $LOG_FILE ---" >&2; tail -n 40 "$LOG_FILE" >&2
      rm -f "$PID_FILE"
      die "Apicurio Registry (pid $pid) exited while starting"
    fi
    if (( $(date +%s) >= deadline )); then
      echo "--- last lines of $LOG_FILE ---" >&2; tail -n 40 "$LOG_FILE" >&2
      stop_pid registry "$PID_FILE" 5 "$PID_PATTERN" || true
      die "Apicurio Registry not ready on http://127.0.0.1:$REGISTRY_PORT$READY_PATH after ${REGISTRY_READY_TIMEOUT}s"
    fi
    sleep 0.3
  done
  log "ready on http://127.0.0.1:$REGISTRY_PORT (Confluent API: /apis/ccompat/v7) after $(elapsed "$t0")s (pid $pid)"
}

cmd_stop() { stop_pid registry "$PID_FILE" "$REGISTRY_STOP_TIMEOUT" "$PID_PATTERN"; }

cmd_purge() {
  cmd_stop
  log "deleting $REGISTRY_DATA_DIR"
  rm -rf "$REGISTRY_DATA_DIR"
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
