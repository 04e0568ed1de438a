#!/usr/bin/env bash
# Installs what the observability tests need, from Debian packages, when missing:
#   - promtool + prometheus        (package prometheus)
#   - prometheus-alertmanager      (package prometheus-alertmanager)
#   - chromium                     (package chromium; headless render of `posguard report`)
# Idempotent: a second run finds everything and changes nothing. Runs
# `apt-get update` once, and only when something has to be installed.
#
# Usage: deploy/local/prometheus.sh [--check]
#   --check   only report what is missing (exit 1 if anything is)
#
# The Debian packages start their services on install where an init system
# runs; the tests start their own processes on 127.0.0.1 with temp configs and
# never use those. Nothing is started here.
set -euo pipefail

LOG_TAG=observability
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
source "$HERE/lib.sh"

check=0
while (($#)); do
  case "$1" in
    --check) check=1 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) die "unknown argument: $1 (try --help)" ;;
  esac
  shift
done

# command -> Debian package that provides it
declare -A PROVIDER=(
  [promtool]=prometheus
  [prometheus]=prometheus
  [prometheus-alertmanager]=prometheus-alertmanager
  [chromium]=chromium
)

missing_pkgs=()
for cmd in promtool prometheus prometheus-alertmanager chromium; do
  if command -v "$cmd" >/dev/null 2>&1; then
    log "$cmd: $(command -v "$cmd")"
  else
    pkg="${PROVIDER[$cmd]}"
    [[ " ${missing_pkgs[*]-} " == *" $pkg "* ]] || missing_pkgs+=("$pkg")
  fi
done

if ((${#missing_pkgs[@]} == 0)); then
  log "everything is installed"
  exit 0
fi
if ((check)); then
  warn "missing packages: ${missing_pkgs[*]}"
  exit 1
fi

need_cmd apt-get
t0="$(now)"
log "installing ${missing_pkgs[*]} (apt-get update first)"
export DEBIAN_FRONTEND=noninteractive
# policy-rc.d 101: do not start the packaged services during install (no init
# here anyway, and the tests run their own instances on their own ports).
policy=/usr/sbin/policy-rc.d
created_policy=0
if [[ ! -e "$policy" ]]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod +x "$policy"
  created_policy=1
fi
cleanup() { ((created_policy)) && rm -f "$policy"; return 0; }
trap cleanup EXIT

apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing_pkgs[@]}" >/dev/null

for cmd in promtool prometheus prometheus-alertmanager chromium; do
  command -v "$cmd" >/dev/null 2>&1 || die "$cmd still missing after installing ${missing_pkgs[*]}"
done
log "installed ${missing_pkgs[*]} in $(elapsed "$t0") s"
