#!/usr/bin/env bash
# Brings the local stack up (what `make up` runs):
#   PostgreSQL + RabbitMQ (started if needed), the four databases, a debug
#   build of every binary, an Ed25519 key pair for tokens, the four services in
#   the background, a health wait, the hand-written demo county loaded
#   (demo-county) and the generated demo-scale county (gen).
#
# Idempotent: a service whose pid file names a live process is left alone.
#
# Environment:
#   CARGO_TARGET_DIR      where cargo builds (default: target/ in the repo)
#   CIVICGRID_STATE_DIR   keys, logs and pid files (default: .state/ in the repo)
#   SKIP_BUILD=1          use the binaries already built
#   CIVICGRID_PROFILE     debug (default) or release: which build to run
#   DEMO_SCALE=0          skip the generated demo-scale county (cells/gen)
#   UP_TIMEOUT            seconds to wait for all services to be SERVING (120)
#   <SVC>_PORT, <SVC>_METRICS_PORT, <SVC>_DATABASE_URL   per-service overrides
#   CIVICGRID_AMQP_URL, CIVICGRID_LOG_FILTER             passed to every service
set -euo pipefail
# shellcheck source=infra/local/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

UP_TIMEOUT="${UP_TIMEOUT:-120}"
AMQP_URL="${CIVICGRID_AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/%2f}"

# Paths shown to the user: relative to the repo root when inside it.
# Every service's event log, by producer name (catch-up subscriptions read
# their producers' history there), from infra/services.tsv.
event_sources() {
  local name out=""
  for name in "${SERVICES[@]}"; do
    out="${out:+$out,}$name=\"http://127.0.0.1:$(grpc_port "$name")\""
  done
  printf '{%s}' "$out"
}

show() {
  case "$1" in
    "$REPO_ROOT"/*) printf '%s' "${1#"$REPO_ROOT"/}" ;;
    *) printf '%s' "$1" ;;
  esac
}

# ---------------------------------------------------------------- infrastructure
log "infrastructure"
"$REPO_ROOT/infra/local/ensure-postgres.sh"
"$REPO_ROOT/infra/local/ensure-rabbitmq.sh"
"$REPO_ROOT/infra/local/create-databases.sh"

# ---------------------------------------------------------------- build
if [ "${SKIP_BUILD:-0}" = "1" ]; then
  log "SKIP_BUILD=1: using the binaries in $(show "$BIN_DIR")"
else
  command -v cargo >/dev/null 2>&1 || die "cargo not found (install Rust, or set SKIP_BUILD=1 with binaries in $BIN_DIR)"
  profile_flag=()
  [ "$PROFILE" = release ] && profile_flag=(--release)
  log "cargo build --bins ${profile_flag[*]} (target dir: $(show "$TARGET_DIR"))"
  CARGO_TARGET_DIR="$TARGET_DIR" cargo build --bins "${profile_flag[@]}"
fi
for bin in civicgrid "${SERVICES[@]/#/civicgrid-}"; do
  [ -x "$BIN_DIR/$bin" ] || die "binary $BIN_DIR/$bin not found: did cargo build --bins produce it?"
done

# ---------------------------------------------------------------- keys
mkdir -p "$KEY_DIR" "$LOG_DIR" "$PID_DIR"
chmod 700 "$KEY_DIR"
log "token signing keys in $(show "$KEY_DIR")"
"$CLI" keygen --dir "$KEY_DIR"
if [ ! -f "$KEY_DIR/auth_public.pem" ] || [ ! -f "$KEY_DIR/auth_private.pem" ]; then
  die "civicgrid keygen did not write $KEY_DIR/auth_public.pem and auth_private.pem"
fi
# The services' identity token for reading each other's event logs
# (catch-up subscriptions); minted at every start, valid for 30 days.
SERVICE_TOKEN="$KEY_DIR/service.token"
(umask 077 && "$CLI" token --role service --scope '*' --subject civicgrid-services \
  --ttl-hours 720 --key "$KEY_DIR/auth_private.pem" >"$SERVICE_TOKEN") \
  || die "cannot mint the service token into $SERVICE_TOKEN"

# ---------------------------------------------------------------- services
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start_service() {
  local svc="$1" pid pidf logf
  if pid="$(service_pid "$svc")"; then
    ok "$svc already running (pid $pid)"
    return 0
  fi
  pidf="$(pid_file "$svc")"
  logf="$(log_file "$svc")"
  rm -f "$pidf"
  # Another process on our port (e.g. a stack started from another clone) would
  # answer the health checks in our place: refuse instead.
  local port
  for port in "$(grpc_port "$svc")" "$(metrics_port "$svc")"; do
    if port_busy "$port"; then
      die "port 127.0.0.1:$port ($svc) is already in use by a process this state dir did not start (another civicgrid stack? stop it, or set $(upper "$svc")_PORT / $(upper "$svc")_METRICS_PORT)"
    fi
  done
  # A service's own section (services/<svc>/src/config.rs): other services
  # refuse these keys by name.
  local own_settings=()
  local DEMO_TASK_DEMANDS='{"categories/water-leak"="plumbing","categories/elevator-failure"="elevator_repair","categories/garbage"="cleaning"}'
  case "$svc" in
    grid) own_settings=(CIVICGRID_DATA_KEY_PATH="$KEY_DIR/data.key") ;;
    membership) own_settings=(CIVICGRID_MEMBERSHIP_DATA_KEY_PATH="$KEY_DIR/membership-data.key") ;;
    # The demo county's residents' requests that enter centres' demand list
    # (task_demand_categories: grid category -> demand category code).
    centres) own_settings=(CIVICGRID_TASK_DEMAND_CATEGORIES="$DEMO_TASK_DEMANDS") ;;
  esac
  printf '\n===== %s: starting civicgrid-%s =====\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$svc" >>"$logf"
  # Own session (setsid) so a Ctrl-C in this terminal does not reach it; the
  # inner shell records its pid and then becomes the service (exec).
  # Only the service's own CIVICGRID_* settings are set here; any other
  # CIVICGRID_* variable in the caller's environment is passed through as is.
  # shellcheck disable=SC2016 # $$ and "$@" belong to the inner shell
  nohup setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$pidf" \
    env -u CIVICGRID_SERVICE_NAME \
    CIVICGRID_GRPC_ADDR="127.0.0.1:$(grpc_port "$svc")" \
    CIVICGRID_METRICS_ADDR="127.0.0.1:$(metrics_port "$svc")" \
    CIVICGRID_DATABASE_URL="$(database_url "$svc")" \
    CIVICGRID_AMQP_URL="$AMQP_URL" \
    CIVICGRID_AUTH_PUBLIC_KEY_PATH="$KEY_DIR/auth_public.pem" \
    "${own_settings[@]}" \
    CIVICGRID_EVENT_SOURCES="$(event_sources)" \
    CIVICGRID_EVENT_SOURCE_TOKEN_PATH="$SERVICE_TOKEN" \
    "$BIN_DIR/civicgrid-$svc" </dev/null >>"$logf" 2>&1 &
  local _
  for _ in $(seq 1 50); do
    [ -s "$pidf" ] && break
    sleep 0.1
  done
  [ -s "$pidf" ] || die "civicgrid-$svc did not start (no pid file $pidf)"
  ok "$svc started (pid $(cat "$pidf"), log $(show "$logf"))"
}

log "starting services"
for svc in "${SERVICES[@]}"; do
  start_service "$svc"
done

# ---------------------------------------------------------------- health
health() { timeout 10 "$CLI" health --addr "http://127.0.0.1:$(grpc_port "$1")" >/dev/null 2>&1; }

fail_service() {
  local svc="$1" why="$2"
  warn "$svc: $why; its log since the last start ($(show "$(log_file "$svc")")):"
  awk '/^===== .*: starting civicgrid-/ { n = 0 } { line[n++] = $0 }
       END { for (i = (n > 60 ? n - 60 : 0); i < n; i++) print line[i] }' "$(log_file "$svc")" >&2 || true
  die "$svc is not healthy (stop the rest with: make down)"
}

log "waiting for every service to report SERVING (up to ${UP_TIMEOUT}s)"
deadline=$((SECONDS + UP_TIMEOUT))
for svc in "${SERVICES[@]}"; do
  until health "$svc" && service_pid "$svc" >/dev/null; do
    service_pid "$svc" >/dev/null || fail_service "$svc" "process exited"
    [ "$SECONDS" -lt "$deadline" ] || fail_service "$svc" "not SERVING after ${UP_TIMEOUT}s"
    sleep 1
  done
  ok "$svc SERVING on 127.0.0.1:$(grpc_port "$svc")"
done

# ---------------------------------------------------------------- demo data
log "loading the demo county into grid"
"$CLI" demo --grid "http://127.0.0.1:$GRID_PORT" --key "$KEY_DIR/auth_private.pem" \
  || die "civicgrid demo failed (services keep running; see $(show "$LOG_DIR")/grid.log)"

# The generated county at the demo scale (cells/gen...), through every
# service's public API; resumable, so a second `make up` only checks it.
if [ "${DEMO_SCALE:-1}" != "0" ]; then
  log "loading the generated demo-scale county (civicgrid county load --scale demo; DEMO_SCALE=0 skips)"
  "$CLI" county load --scale demo --key "$KEY_DIR/auth_private.pem" \
    --grid "http://127.0.0.1:$(grpc_port grid)" \
    --membership "http://127.0.0.1:$(grpc_port membership)" \
    --centres "http://127.0.0.1:$(grpc_port centres)" \
    --assessment "http://127.0.0.1:$(grpc_port assessment)" \
    || die "civicgrid county load failed (services keep running; see $(show "$LOG_DIR")/); rerun make up to resume"
fi

# ---------------------------------------------------------------- summary
cli_shown="$(show "$CLI")"
key_arg=""
[ "$KEY_DIR" = "$REPO_ROOT/.state/keys" ] || key_arg=" --key $(show "$KEY_DIR")/auth_private.pem"
if grpcurl_bin="$(find_grpcurl)"; then grpcurl_shown="$(show "$grpcurl_bin")"; else grpcurl_shown="grpcurl"; fi

echo
echo "civicgrid is up."
printf '  %-11s %-22s %s\n' SERVICE GRPC METRICS
for svc in "${SERVICES[@]}"; do
  printf '  %-11s %-22s %s\n' "$svc" "127.0.0.1:$(grpc_port "$svc")" "http://127.0.0.1:$(metrics_port "$svc")/metrics"
done
cat <<EOF

  logs:   $(show "$LOG_DIR")/<service>.log (JSON lines)    pids: $(show "$PID_DIR")/
  keys:   $(show "$KEY_DIR")/auth_{private,public}.pem

Call an RPC (from $REPO_ROOT; 'make tools' installs grpcurl into .venv/bin):
  TOKEN=\$($cli_shown token --role county_admin --scope '*'$key_arg)
  $grpcurl_shown -plaintext -H "authorization: Bearer \$TOKEN" -d '{"ancestor":"cells/demo-county"}' 127.0.0.1:$GRID_PORT civicgrid.grid.v1.GridService/ListCells

  make status    processes, health, outbox backlog, queue depths
  make smoke     health, reflection and auth checks with grpcurl
  make down      stop the services (PostgreSQL and RabbitMQ keep running)
EOF
