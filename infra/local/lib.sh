# shellcheck shell=bash disable=SC2034 # variables are for the sourcing scripts
# Shared helpers for the infra/local scripts. Source it, do not run it.
#
# Variables it defines (all overridable from the environment):
#   REPO_ROOT       the repository root (derived from this file's location)
#   STATE_DIR       CIVICGRID_STATE_DIR or $REPO_ROOT/.state (relative paths are
#                   taken relative to REPO_ROOT)
#   TARGET_DIR      CARGO_TARGET_DIR or $REPO_ROOT/target
#   BIN_DIR         $TARGET_DIR/debug
#   PG_HOST/PG_PORT/PG_SUPERUSER   127.0.0.1 / 5432 / postgres
#   SERVICES        the service names, from infra/services.tsv (the one list)
#   <SVC>_PORT, <SVC>_METRICS_PORT per service, defaults from infra/services.tsv
#                   (MEMBERSHIP_PORT=50051 ...); <SVC>_DATABASE, <SVC>_API likewise
#
# It never exports a CIVICGRID_* variable: the services refuse unknown ones.

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

# infra/services.tsv: name, gRPC port, metrics port, database, binary, main API.
SERVICES=()
while IFS=$'\t' read -r _name _grpc _metrics _database _binary _api; do
  case "$_name" in '' | '#'*) continue ;; esac
  SERVICES+=("$_name")
  _upper="$(printf '%s' "$_name" | tr '[:lower:]' '[:upper:]')"
  # An exported <SVC>_PORT etc. wins over the list.
  _var="${_upper}_PORT" && printf -v "$_var" '%s' "${!_var:-$_grpc}"
  _var="${_upper}_METRICS_PORT" && printf -v "$_var" '%s' "${!_var:-$_metrics}"
  printf -v "${_upper}_DATABASE" '%s' "$_database"
  printf -v "${_upper}_BINARY" '%s' "$_binary"
  printf -v "${_upper}_API" '%s' "$_api"
done <"$REPO_ROOT/infra/services.tsv"
unset _name _grpc _metrics _database _binary _api _upper _var
[ "${#SERVICES[@]}" -gt 0 ] || { echo "infra/services.tsv lists no service" >&2; exit 1; }

PG_HOST="${PG_HOST:-127.0.0.1}"
PG_PORT="${PG_PORT:-5432}"
PG_SUPERUSER="${PG_SUPERUSER:-postgres}"

_state="${CIVICGRID_STATE_DIR:-.state}"
case "$_state" in
  /*) STATE_DIR="$_state" ;;
  *) STATE_DIR="$REPO_ROOT/$_state" ;;
esac
unset _state
KEY_DIR="$STATE_DIR/keys"
LOG_DIR="$STATE_DIR/logs"
PID_DIR="$STATE_DIR/pids"

_target="${CARGO_TARGET_DIR:-target}"
case "$_target" in
  /*) TARGET_DIR="$_target" ;;
  *) TARGET_DIR="$REPO_ROOT/$_target" ;;
esac
unset _target
# CIVICGRID_PROFILE=release builds and runs optimised binaries (make bench-large).
PROFILE="${CIVICGRID_PROFILE:-debug}"
case "$PROFILE" in
  debug | release) ;;
  *) echo "CIVICGRID_PROFILE must be debug or release, not \`$PROFILE'" >&2; exit 1 ;;
esac
BIN_DIR="$TARGET_DIR/$PROFILE"
CLI="$BIN_DIR/civicgrid"

# Prefix of the broker queues this deployment owns (the services' queue_prefix).
QUEUE_PREFIX="${CIVICGRID_QUEUE_PREFIX:-civicgrid}"

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
  _c_info=$'\e[1;34m' _c_warn=$'\e[1;33m' _c_err=$'\e[1;31m' _c_ok=$'\e[1;32m' _c_off=$'\e[0m'
else
  _c_info='' _c_warn='' _c_err='' _c_ok='' _c_off=''
fi

log() { printf '%s==>%s %s\n' "$_c_info" "$_c_off" "$*"; }
ok() { printf '%s ok%s %s\n' "$_c_ok" "$_c_off" "$*"; }
warn() { printf '%swarning:%s %s\n' "$_c_warn" "$_c_off" "$*" >&2; }
die() {
  printf '%serror:%s %s\n' "$_c_err" "$_c_off" "$*" >&2
  exit 1
}

# Runs a command as root (directly when already root, else through sudo).
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo -n "$@"
  else
    die "need root to run: $* (and sudo is not available)"
  fi
}

# apt-get install, running `apt-get update` once per script run when the
# package lists are missing or the first install attempt fails.
_apt_updated=0
apt_install() {
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found: install $* by hand"
  export DEBIAN_FRONTEND=noninteractive
  if [ "$_apt_updated" -eq 0 ] \
    && [ -z "$(find /var/lib/apt/lists -maxdepth 1 -type f -name '*_Packages*' 2>/dev/null | head -n 1)" ]; then
    log "apt-get update"
    as_root apt-get update -q
    _apt_updated=1
  fi
  log "apt-get install -y $*"
  if ! as_root apt-get install -y -q "$@"; then
    if [ "$_apt_updated" -eq 0 ]; then
      log "apt-get update (install failed, package lists may be stale)"
      as_root apt-get update -q
      _apt_updated=1
      as_root apt-get install -y -q "$@"
    else
      return 1
    fi
  fi
}

# psql as the PostgreSQL superuser over TCP; extra args passed through.
pg_super() {
  psql -X -w -q -v ON_ERROR_STOP=1 -h "$PG_HOST" -p "$PG_PORT" -U "$PG_SUPERUSER" "$@"
}

upper() { printf '%s' "$1" | tr '[:lower:]' '[:upper:]'; }

# grpc_port SVC / metrics_port SVC
grpc_port() {
  local v
  v="$(upper "$1")_PORT"
  printf '%s' "${!v}"
}
metrics_port() {
  local v
  v="$(upper "$1")_METRICS_PORT"
  printf '%s' "${!v}"
}

# service_database SVC / service_api SVC: its database and main gRPC service.
service_database() {
  local v
  v="$(upper "$1")_DATABASE"
  printf '%s' "${!v}"
}
service_api() {
  local v
  v="$(upper "$1")_API"
  printf '%s' "${!v}"
}

# The database URL a service gets: <SVC>_DATABASE_URL if set, else the default.
database_url() {
  local v
  v="$(upper "$1")_DATABASE_URL"
  printf '%s' "${!v:-postgres://$(service_database "$1")@$PG_HOST:$PG_PORT/$(service_database "$1")}"
}

pid_file() { printf '%s/%s.pid' "$PID_DIR" "$1"; }
log_file() { printf '%s/%s.log' "$LOG_DIR" "$1"; }

# Prints the pid recorded for SVC if that process is alive and is the
# service's binary (guards against pid reuse); fails otherwise.
service_pid() {
  local f pid
  f="$(pid_file "$1")"
  [ -f "$f" ] || return 1
  pid="$(tr -dc '0-9' <"$f")"
  [ -n "$pid" ] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  if [ -r "/proc/$pid/cmdline" ]; then
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "civicgrid-$1" || return 1
  fi
  printf '%s' "$pid"
}

# Waits up to $1 seconds for the command "$@" (after the first arg) to succeed.
wait_for() {
  local timeout="$1"
  shift
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 1
  done
}

# The grpcurl to use: the project venv's, else one on PATH.
find_grpcurl() {
  if [ -x "$REPO_ROOT/.venv/bin/grpcurl" ]; then
    printf '%s' "$REPO_ROOT/.venv/bin/grpcurl"
  elif command -v grpcurl >/dev/null 2>&1; then
    command -v grpcurl
  else
    return 1
  fi
}
