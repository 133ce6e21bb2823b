#!/usr/bin/env bash
# Shows the local stack: per service its process, health, and outbox backlog
# (events not yet published), then the depth of every civicgrid.* queue.
# Read-only; exits 0 even when something is down (it is a report).
set -uo pipefail
# shellcheck source=infra/local/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

health_of() {
  local svc="$1" port out rc g
  port="$(grpc_port "$svc")"
  if [ -x "$CLI" ]; then
    out="$(timeout 5 "$CLI" health --addr "http://127.0.0.1:$port" 2>&1)"
    rc=$?
  elif g="$(find_grpcurl)"; then
    out="$(timeout 5 "$g" -plaintext -max-time 4 "127.0.0.1:$port" grpc.health.v1.Health/Check 2>&1)"
    rc=$?
    [ "$rc" -ne 0 ] || grep -Eq '"status":[[:space:]]*"SERVING"' <<<"$out" || rc=1
  else
    printf 'no client'
    return
  fi
  if [ "$rc" -eq 0 ]; then
    printf 'SERVING'
  elif grep -q 'NOT_SERVING' <<<"$out"; then
    printf 'NOT_SERVING'
  elif grep -q 'SERVICE_UNKNOWN' <<<"$out"; then
    printf 'SERVICE_UNKNOWN'
  else
    printf 'unreachable'
  fi
}

outbox_of() {
  local n
  if n="$(timeout 5 psql -X -w -q -h "$PG_HOST" -p "$PG_PORT" -U "$PG_SUPERUSER" -d "civicgrid_$1" -Atc \
    'SELECT count(*) FROM outbox WHERE published_at IS NULL' 2>/dev/null)"; then
    printf '%s' "$n"
  elif pg_isready -q -h "$PG_HOST" -p "$PG_PORT"; then
    printf 'no table'
  else
    printf 'db down'
  fi
}

printf 'state: %s   binaries: %s\n\n' "$STATE_DIR" "$BIN_DIR"
printf '%-11s %-8s %-16s %-16s %-24s %s\n' SERVICE PID HEALTH GRPC METRICS 'OUTBOX(unpublished)'
for svc in "${SERVICES[@]}"; do
  if pid="$(service_pid "$svc")"; then :; elif [ -f "$(pid_file "$svc")" ]; then pid="dead"; else pid="-"; fi
  printf '%-11s %-8s %-16s %-16s %-24s %s\n' "$svc" "$pid" "$(health_of "$svc")" \
    "127.0.0.1:$(grpc_port "$svc")" "127.0.0.1:$(metrics_port "$svc")" "$(outbox_of "$svc")"
done

echo
if pg_isready -q -h "$PG_HOST" -p "$PG_PORT" 2>/dev/null; then
  echo "PostgreSQL: up ($PG_HOST:$PG_PORT)"
else
  echo "PostgreSQL: DOWN ($PG_HOST:$PG_PORT) - infra/local/ensure-postgres.sh starts it"
fi

if queues="$(timeout 20 rabbitmqctl -q list_queues --no-table-headers name messages messages_unacknowledged 2>/dev/null)"; then
  echo "RabbitMQ:   up"
  echo
  mine="$(awk -v p="$QUEUE_PREFIX." 'index($1, p) == 1' <<<"$queues" | sort)"
  if [ -z "$mine" ]; then
    echo "no $QUEUE_PREFIX.* queues (yet)"
  else
    printf '%-56s %10s %8s\n' QUEUE MESSAGES UNACKED
    awk '{ note = ($1 ~ /\.dlq$/ && $2 > 0) ? "  <- dead letters: civicgrid dlq list --queue " substr($1, 1, length($1) - 4) : ""
           printf "%-56s %10s %8s%s\n", $1, $2, $3, note }' <<<"$mine"
  fi
else
  echo "RabbitMQ:   DOWN or unreachable - infra/local/ensure-rabbitmq.sh starts it"
fi

# What each service says of its own event machinery (lag, dead letters,
# checkpoints); `civicgrid status` alone is the scriptable form (exit 1
# when unhealthy).
if [ -x "$CLI" ] && [ -f "$KEY_DIR/auth_private.pem" ]; then
  echo
  "$CLI" status --key "$KEY_DIR/auth_private.pem" --timeout 3 || true
fi
exit 0
