#!/usr/bin/env bash
# Stops the services infra/local/up.sh started (SIGTERM, then SIGKILL after
# DOWN_TIMEOUT seconds, default 20) and removes their pid files.
# PostgreSQL and RabbitMQ keep running.
set -euo pipefail
# shellcheck source=infra/local/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DOWN_TIMEOUT="${DOWN_TIMEOUT:-20}"

declare -A running=()
for svc in "${SERVICES[@]}"; do
  if pid="$(service_pid "$svc")"; then
    log "stopping $svc (pid $pid, SIGTERM)"
    kill -TERM "$pid" 2>/dev/null || true
    running[$svc]="$pid"
  elif [ -f "$(pid_file "$svc")" ]; then
    log "$svc: stale pid file, removing"
    rm -f "$(pid_file "$svc")"
  else
    ok "$svc not running"
  fi
done

deadline=$((SECONDS + DOWN_TIMEOUT))
while [ "${#running[@]}" -gt 0 ]; do
  for svc in "${!running[@]}"; do
    pid="${running[$svc]}"
    if ! kill -0 "$pid" 2>/dev/null; then
      ok "$svc stopped"
      rm -f "$(pid_file "$svc")"
      unset "running[$svc]"
    elif [ "$SECONDS" -ge "$deadline" ]; then
      warn "$svc (pid $pid) still running after ${DOWN_TIMEOUT}s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.2
      rm -f "$(pid_file "$svc")"
      unset "running[$svc]"
    fi
  done
  [ "${#running[@]}" -eq 0 ] || sleep 0.5
done
ok "services stopped (PostgreSQL and RabbitMQ left running)"
