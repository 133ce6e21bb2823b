#!/usr/bin/env bash
# Makes sure a RabbitMQ node is running and accepts AMQP on 127.0.0.1:5672 with
# guest/guest (guest is allowed from loopback only, RabbitMQ's default).
# Idempotent: installs Debian's rabbitmq-server only if missing, starts the node
# only if it does not answer (no systemd: rabbitmq-server -detached).
#
# Environment: RABBITMQ_READY_TIMEOUT (seconds, default 90),
#              RABBITMQ_MANAGEMENT=1 to also enable the management plugin.
set -euo pipefail
# shellcheck source=infra/local/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

READY_TIMEOUT="${RABBITMQ_READY_TIMEOUT:-90}"
AMQP_PORT="${AMQP_PORT:-5672}"

diag() { timeout 30 rabbitmq-diagnostics -q "$@"; }
ctl() { timeout 60 rabbitmqctl -q "$@"; }

node_up() { diag ping >/dev/null 2>&1; }
app_running() { diag check_running >/dev/null 2>&1; }
amqp_open() { diag check_port_connectivity >/dev/null 2>&1; }

show_logs() {
  local f
  for f in /var/log/rabbitmq/*.log; do
    [ -f "$f" ] || continue
    warn "last lines of $f:"
    tail -n 20 "$f" >&2 || true
  done
}

# 1. Binaries.
installed_now=0
if ! command -v rabbitmq-server >/dev/null 2>&1 || ! command -v rabbitmqctl >/dev/null 2>&1 \
  || ! command -v rabbitmq-diagnostics >/dev/null 2>&1; then
  log "RabbitMQ not found: installing Debian's rabbitmq-server"
  apt_install rabbitmq-server
  installed_now=1
fi

# A fresh install names the node rabbit@<short hostname>; if that name does not
# resolve (common in containers) the node cannot start, so use localhost.
if [ "$installed_now" -eq 1 ] && ! node_up && ! getent hosts "$(hostname -s)" >/dev/null 2>&1; then
  env_conf=/etc/rabbitmq/rabbitmq-env.conf
  if ! grep -qs '^NODENAME=' "$env_conf"; then
    log "host name $(hostname -s) does not resolve: setting NODENAME=rabbit@localhost in $env_conf"
    # shellcheck disable=SC2016 # $1 belongs to the inner sh
    as_root sh -c 'echo "NODENAME=rabbit@localhost" >> "$1"' _ "$env_conf"
  fi
fi

# 2. Start the node if it does not answer.
started=0
if node_up; then
  ok "RabbitMQ node is up"
else
  log "starting RabbitMQ (rabbitmq-server -detached)"
  if ! as_root rabbitmq-server -detached; then
    show_logs
    die "rabbitmq-server -detached failed"
  fi
  started=1
fi

# 3. Wait until the rabbit application has booted. A node that is up with its
# application stopped (rabbitmqctl stop_app) gets one start_app.
deadline=$((SECONDS + READY_TIMEOUT))
tried_start_app=0
until app_running; do
  if [ "$SECONDS" -ge "$deadline" ]; then
    show_logs
    die "RabbitMQ did not finish booting within ${READY_TIMEOUT}s"
  fi
  if [ "$started" -eq 0 ] && [ "$tried_start_app" -eq 0 ] && node_up \
    && [ $((deadline - SECONDS)) -lt $((READY_TIMEOUT - 15)) ]; then
    log "node is up but the rabbit application is not running: rabbitmqctl start_app"
    ctl start_app || true
    tried_start_app=1
  fi
  sleep 1
done

# 4. The AMQP listener.
until amqp_open; do
  if [ "$SECONDS" -ge "$deadline" ]; then
    diag check_port_connectivity >&2 || true
    show_logs
    die "RabbitMQ is running but its listeners do not accept connections within ${READY_TIMEOUT}s"
  fi
  sleep 1
done

# 5. guest/guest on the default vhost (RabbitMQ's default; recreate if removed).
if ! ctl authenticate_user guest guest >/dev/null 2>&1; then
  log "user guest missing or its password changed: recreating guest/guest"
  ctl delete_user guest >/dev/null 2>&1 || true
  ctl add_user guest guest
  ctl set_user_tags guest administrator
fi
if ! ctl list_user_permissions guest 2>/dev/null | awk '$1 == "/" { found = 1 } END { exit !found }'; then
  log "granting guest full permissions on vhost /"
  ctl set_permissions -p / guest '.*' '.*' '.*'
fi

# 6. Optional management plugin (HTTP API on 15672, rabbitmqadmin).
if [ "${RABBITMQ_MANAGEMENT:-0}" = "1" ]; then
  if ! timeout 60 rabbitmq-plugins -q is_enabled rabbitmq_management >/dev/null 2>&1; then
    log "enabling rabbitmq_management"
    timeout 120 rabbitmq-plugins -q enable rabbitmq_management
  fi
fi

ok "RabbitMQ ready: amqp://guest:guest@127.0.0.1:$AMQP_PORT/%2f"
