#!/usr/bin/env bash
# Makes sure a PostgreSQL server answers on $PG_HOST:$PG_PORT (127.0.0.1:5432)
# and that the superuser `postgres` can log in over TCP without a password.
# Idempotent: installs Debian's postgresql only if missing, starts the cluster
# only if it is down (no systemd: pg_ctlcluster --skip-systemctl-redirect),
# adds a loopback `trust` rule to pg_hba.conf only if password-less login fails.
set -euo pipefail
# shellcheck source=infra/local/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

READY_TIMEOUT="${PG_READY_TIMEOUT:-60}"
HBA_MARKER="# civicgrid-local: password-less loopback access (infra/local/ensure-postgres.sh)"

# 1. Binaries.
if ! command -v psql >/dev/null 2>&1 || ! command -v pg_ctlcluster >/dev/null 2>&1 \
  || ! command -v pg_isready >/dev/null 2>&1; then
  log "PostgreSQL client/server tools not found: installing Debian's postgresql"
  apt_install postgresql
fi

# 2. The cluster that serves $PG_PORT (create one if there is no cluster at all).
find_cluster() {
  # pg_lsclusters -h: "ver name port status owner datadir logfile"
  pg_lsclusters -h 2>/dev/null | awk -v port="$PG_PORT" '$3 == port { print $1, $2, $4, $7; exit }'
}

cluster="$(find_cluster)"
if [ -z "$cluster" ]; then
  if [ -n "$(pg_lsclusters -h 2>/dev/null)" ]; then
    pg_lsclusters >&2 || true
    die "PostgreSQL clusters exist but none uses port $PG_PORT; move one to $PG_PORT (port= in its postgresql.conf) or set PG_PORT"
  fi
  version="$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -type d -printf '%f\n' 2>/dev/null | sort -n | tail -1)"
  [ -n "$version" ] || die "no PostgreSQL server version found under /usr/lib/postgresql"
  log "no PostgreSQL cluster found: creating $version/main on port $PG_PORT"
  as_root pg_createcluster --port "$PG_PORT" "$version" main
  cluster="$(find_cluster)"
  [ -n "$cluster" ] || die "pg_createcluster did not produce a cluster on port $PG_PORT"
fi
read -r pg_version pg_name pg_status pg_logfile <<<"$cluster"

# 3. Start it if it is down.
start_cluster() {
  log "starting PostgreSQL cluster $pg_version/$pg_name"
  if ! as_root pg_ctlcluster --skip-systemctl-redirect "$pg_version" "$pg_name" start; then
    warn "pg_ctlcluster start failed; last lines of $pg_logfile:"
    tail -n 30 "$pg_logfile" >&2 2>/dev/null || true
    die "could not start PostgreSQL cluster $pg_version/$pg_name"
  fi
}

case "$pg_status" in
  online*) ok "PostgreSQL cluster $pg_version/$pg_name is running" ;;
  *) start_cluster ;;
esac

# 4. Wait until it accepts TCP connections.
if ! wait_for "$READY_TIMEOUT" pg_isready -q -h "$PG_HOST" -p "$PG_PORT"; then
  pg_isready -h "$PG_HOST" -p "$PG_PORT" >&2 || true
  tail -n 30 "$pg_logfile" >&2 2>/dev/null || true
  die "PostgreSQL did not accept connections on $PG_HOST:$PG_PORT within ${READY_TIMEOUT}s (log: $pg_logfile)"
fi

# 5. Password-less superuser login over TCP.
can_login() { pg_super -d postgres -Atc 'SELECT 1' >/dev/null 2>&1; }

if ! can_login; then
  hba="$(as_root pg_conftool -s "$pg_version" "$pg_name" show hba_file 2>/dev/null || true)"
  [ -n "$hba" ] || hba="/etc/postgresql/$pg_version/$pg_name/pg_hba.conf"
  [ -f "$hba" ] || die "cannot log in as $PG_SUPERUSER on $PG_HOST:$PG_PORT and $hba does not exist"
  if grep -qF "$HBA_MARKER" "$hba"; then
    die "cannot log in as $PG_SUPERUSER on $PG_HOST:$PG_PORT although $hba already has the civicgrid trust rules: check the server log $pg_logfile"
  fi
  log "password-less login failed: adding loopback trust rules at the top of $hba"
  tmp="$(mktemp)"
  {
    echo "$HBA_MARKER"
    echo "host    all             all             127.0.0.1/32            trust"
    echo "host    all             all             ::1/128                 trust"
    echo
    cat "$hba"
  } >"$tmp"
  as_root cp -p "$hba" "$hba.civicgrid.bak"
  # shellcheck disable=SC2016 # $1/$2 belong to the inner sh
  as_root sh -c 'cat "$1" > "$2"' _ "$tmp" "$hba"
  rm -f "$tmp"
  as_root pg_ctlcluster --skip-systemctl-redirect "$pg_version" "$pg_name" reload
  wait_for 10 can_login || die "still cannot log in as $PG_SUPERUSER on $PG_HOST:$PG_PORT after editing $hba (backup: $hba.civicgrid.bak)"
fi

# 6. The tests create test_<uuid> databases as the superuser.
can_create="$(pg_super -d postgres -Atc "SELECT rolsuper OR rolcreatedb FROM pg_roles WHERE rolname = current_user")"
[ "$can_create" = "t" ] || die "role $PG_SUPERUSER cannot create databases"

ok "PostgreSQL $pg_version/$pg_name ready on $PG_HOST:$PG_PORT ($PG_SUPERUSER, no password)"
