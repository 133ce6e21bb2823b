#!/usr/bin/env bash
# Creates, for each service in infra/services.tsv, the login role and the
# database of its `database` column (civicgrid_<svc>) owned by it. Idempotent: existing roles and databases are
# kept (an existing database gets its owner corrected). Also checks that the
# superuser (tests create test_<uuid> databases as it) may create databases.
set -euo pipefail
# shellcheck source=infra/local/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

pg_super -d postgres -Atc 'SELECT 1' >/dev/null 2>&1 \
  || die "cannot connect to PostgreSQL at $PG_HOST:$PG_PORT as $PG_SUPERUSER (run infra/local/ensure-postgres.sh)"

for svc in "${SERVICES[@]}"; do
  name="$(service_database "$svc")"
  # Role: LOGIN, no password (loopback trust), no extra privileges.
  pg_super -d postgres -v name="$name" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'name')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'name') \gexec
SELECT format('ALTER ROLE %I LOGIN', :'name')
 WHERE EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'name' AND NOT rolcanlogin) \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'name', :'name')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'name') \gexec
SELECT format('ALTER DATABASE %I OWNER TO %I', :'name', :'name')
  FROM pg_database d
 WHERE d.datname = :'name' AND pg_get_userbyid(d.datdba) <> :'name' \gexec
SQL
  # PostgreSQL 15: the public schema belongs to pg_database_owner, so the
  # owner may create its tables there; make that explicit for older servers.
  pg_super -d "$name" -v name="$name" <<'SQL'
SELECT format('GRANT ALL ON SCHEMA public TO %I', :'name') \gexec
SQL
  ok "role and database $name"
done

can_create="$(pg_super -d postgres -Atc "SELECT rolsuper OR rolcreatedb FROM pg_roles WHERE rolname = current_user")"
if [ "$can_create" != "t" ]; then
  log "granting CREATEDB to $PG_SUPERUSER (tests create test_<uuid> databases)"
  pg_super -d postgres -c "ALTER ROLE CURRENT_USER CREATEDB"
fi
ok "$PG_SUPERUSER can create databases"
