# shellcheck shell=bash disable=SC2034  # variables here are used by the scripts that source it
# Shared helpers for deploy/local/*.sh. Source it; do not run it.
#
# Environment (all optional):
#   POSGUARD_CACHE          install cache (default: $HOME/.cache/posguard)
#   POSGUARD_SERVICES_DIR   runtime root for data, logs, PID files
#                           (default: /tmp/posguard-services)
#   POSGUARD_M2             Maven local repository used for installs
#                           (default: $POSGUARD_CACHE/m2, so one folder holds the whole cache)
#   POSGUARD_JVM_DIRS       where to look for extra JDKs (default: /usr/lib/jvm)

LOCAL_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

POSGUARD_CACHE="${POSGUARD_CACHE:-${HOME:-/root}/.cache/posguard}"
POSGUARD_SERVICES_DIR="${POSGUARD_SERVICES_DIR:-/tmp/posguard-services}"
POSGUARD_M2="${POSGUARD_M2:-$POSGUARD_CACHE/m2}"
POSGUARD_JVM_DIRS="${POSGUARD_JVM_DIRS:-/usr/lib/jvm}"

MAVEN_DEPENDENCY_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.8.1"

_ts() { date +%H:%M:%S; }
log()  { printf '[%s] %s: %s\n' "$(_ts)" "${LOG_TAG:-services}" "$*"; }
warn() { printf '[%s] %s: WARNING: %s\n' "$(_ts)" "${LOG_TAG:-services}" "$*" >&2; }
die()  { printf '[%s] %s: ERROR: %s\n' "$(_ts)" "${LOG_TAG:-services}" "$*" >&2; exit 1; }

need_cmd() {
  local c
  for c in "$@"; do
    command -v "$c" >/dev/null 2>&1 || die "'$c' is required but not on PATH"
  done
}

# Seconds since the epoch with millisecond precision (for timings).
now() { date +%s.%N; }
elapsed() { awk -v s="$1" -v e="$(now)" 'BEGIN { printf "%.1f", e - s }'; }

# Major version of a java binary (17, 21, 25, ...); empty when it does not run.
java_major() {
  local v
  v="$("$1" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2; exit}')" || true
  v="${v%%.*}"
  [[ "$v" == 1 ]] && v=8
  printf '%s' "$v"
}

# Print the path of a java binary whose major version is >= $1.
# Order: $2 (explicit JAVA_HOME-like override), JAVA_HOME, java on PATH,
# then the newest JDK/JRE under $POSGUARD_JVM_DIRS. Returns 1 if none qualifies.
find_java() {
  local min="$1" override="${2:-}" cand major best="" best_major=0
  local -a cands=()
  if [[ -n "$override" ]]; then
    [[ -x "$override/bin/java" ]] || die "no java at $override/bin/java"
    major="$(java_major "$override/bin/java")"
    (( ${major:-0} >= min )) || die "$override/bin/java is Java ${major:-?}, need >= $min"
    printf '%s' "$override/bin/java"; return 0
  fi
  [[ -n "${JAVA_HOME:-}" && -x "${JAVA_HOME}/bin/java" ]] && cands+=("$JAVA_HOME/bin/java")
  command -v java >/dev/null 2>&1 && cands+=("$(command -v java)")
  local ncore=${#cands[@]} i=0 d
  for d in $POSGUARD_JVM_DIRS; do
    for cand in "$d"/*/bin/java; do [[ -x "$cand" ]] && cands+=("$cand"); done
  done
  # First of JAVA_HOME/PATH that qualifies wins; among the JVM dirs take the newest.
  for cand in "${cands[@]}"; do
    i=$((i + 1))
    major="$(java_major "$cand")"
    [[ -n "$major" ]] || continue
    if (( i <= ncore )); then
      if (( major >= min )); then printf '%s' "$cand"; return 0; fi
      continue
    fi
    if (( major >= min && major > best_major )); then best="$cand"; best_major=$major; fi
  done
  [[ -n "$best" ]] || return 1
  printf '%s' "$best"
}

# Is something listening on 127.0.0.1:$1 ?
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ensure_port_free PORT HINT: wait up to 10 s (a process killed a moment ago may still
# hold it), then fail with a clear message.
ensure_port_free() {
  local port="$1" hint="$2" i
  for ((i = 0; i < 50; i++)); do
    port_open "$port" || return 0
    sleep 0.2
  done
  die "port 127.0.0.1:$port is in use by a process this script did not start; stop it or set $hint"
}

# PID file helpers.
# pid_alive FILE [PATTERN] -> 0 if the PID in FILE is a live (not zombie) process whose
# command line contains PATTERN (guards against a stale PID file whose PID was reused).
pid_alive() {
  local f="$1" pattern="${2:-}" p st
  [[ -s "$f" ]] || return 1
  p="$(cat "$f")"
  [[ "$p" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$p" 2>/dev/null || return 1
  if [[ -r "/proc/$p/stat" ]]; then
    st="$(sed -e 's/^.*) //' "/proc/$p/stat" 2>/dev/null | cut -d' ' -f1)" || st=""
    [[ "$st" != Z ]] || return 1      # killed, not yet reaped
  fi
  if [[ -n "$pattern" && -r "/proc/$p/cmdline" ]]; then
    local cmdline
    cmdline="$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)" || cmdline=""
    [[ "$cmdline" == *"$pattern"* ]] || return 1
  fi
  return 0
}

# stop_pid NAME PIDFILE TIMEOUT [PATTERN]: SIGTERM, wait up to TIMEOUT s, then SIGKILL.
# Only signals the PID from PIDFILE, and only if its command line contains PATTERN.
stop_pid() {
  local name="$1" f="$2" timeout="$3" pattern="${4:-}" p i
  if ! pid_alive "$f" "$pattern"; then
    log "$name is not running"
    rm -f "$f"
    return 0
  fi
  p="$(cat "$f")"
  log "stopping $name (pid $p, SIGTERM, up to ${timeout}s)"
  kill -TERM "$p" 2>/dev/null || true
  for ((i = 0; i < timeout * 5; i++)); do
    pid_alive "$f" || break
    sleep 0.2
  done
  if pid_alive "$f"; then
    warn "$name (pid $p) still alive after ${timeout}s, sending SIGKILL"
    kill -KILL "$p" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do pid_alive "$f" || break; sleep 0.1; done
  fi
  rm -f "$f"
  log "$name stopped"
}

# Run Maven quietly against the posguard local repository; on failure print the log tail.
run_mvn() {
  local logf="$1"; shift
  need_cmd mvn
  mkdir -p "$POSGUARD_M2" "$(dirname "$logf")"
  if ! mvn -B -ntp -Dmaven.repo.local="$POSGUARD_M2" "$@" >"$logf" 2>&1; then
    tail -n 40 "$logf" >&2
    die "maven failed (full log: $logf)"
  fi
}
