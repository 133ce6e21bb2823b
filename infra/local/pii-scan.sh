#!/usr/bin/env bash
# Scans the running local stack for personal data in clear: every service's
# log lines, every text value of every table of every service database
# (JSON of each row, bytea shown as hex and skipped) and every outbox
# payload, for anything shaped like a resident ID number (GB 11643: 18
# characters with a real date of birth) or a mainland mobile number. Masked
# forms (138****5678) do not match. Exits 1 and names each hit's place.
set -euo pipefail
# shellcheck source=infra/local/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

export PII_LOG_DIR="$LOG_DIR" PGHOST="$PG_HOST" PGPORT="$PG_PORT" PGUSER="$PG_SUPERUSER"
databases=()
for svc in "${SERVICES[@]}"; do databases+=("$(service_database "$svc")"); done
python3 - "${databases[@]}" <<'PY'
import glob, json, os, re, subprocess, sys

# Not inside a longer run of digits or hex (sealed values are hex in JSON).
ID = re.compile(r'(?<![0-9A-Fa-fx])[1-9]\d{5}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[0-9Xx](?![0-9A-Fa-f])')
PHONE = re.compile(r'(?<![0-9A-Fa-fx])(?:\+?86)?1[3-9]\d{9}(?![0-9A-Fa-f])')
hits = []

def scan(place, text):
    for pattern, what in ((ID, "ID number"), (PHONE, "phone")):
        for m in pattern.finditer(text):
            hits.append(f"{place}: {what} {m.group(0)[:4]}…")

for path in sorted(glob.glob(os.path.join(os.environ["PII_LOG_DIR"], "*.log"))):
    with open(path, encoding="utf-8", errors="replace") as f:
        for n, line in enumerate(f, 1):
            scan(f"{path}:{n}", line)

def psql(db, sql):
    return subprocess.run(["psql", "-X", "-w", "-q", "-At", "-d", db, "-c", sql],
                          capture_output=True, text=True, check=True).stdout

for db in sys.argv[1:]:
    tables = psql(db, "SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) FROM pg_tables "
                      "WHERE schemaname NOT IN ('pg_catalog', 'information_schema')").split()
    for table in tables:
        for n, row in enumerate(psql(db, f"SELECT to_jsonb(t)::text FROM {table} t").splitlines(), 1):
            scan(f"{db}.{table} row {n}", row)
    # Event payloads are protobuf bytes: look at their text runs.
    if "public.outbox" in tables:
        for n, hexed in enumerate(psql(db, "SELECT encode(payload, 'hex') FROM outbox ORDER BY id").splitlines(), 1):
            text = bytes.fromhex(hexed).decode("latin-1")
            scan(f"{db}.outbox payload {n}", re.sub(r"[^\x20-\x7e]", " ", text))

for hit in hits[:50]:
    print(hit)
print(f"pii-scan: {len(hits)} values in clear" if hits else "pii-scan: no ID number or phone in clear in logs, tables or event payloads")
sys.exit(1 if hits else 0)
PY
