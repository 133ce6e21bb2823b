#!/usr/bin/env bash
# Smoke checks against a running local stack (make up), with grpcurl:
#   a) grpc.health.v1.Health/Check is SERVING on all four services
#   b) reflection lists the service's own API and grpc.health.v1.Health
#   c) GridService/ListCells is Unauthenticated without a token and succeeds
#      with a county_admin token
#   d) each service's Prometheus endpoint answers (when curl is installed)
#   e) CentresService/GetCoverageReport on the demo county names exactly its
#      uncovered compounds, newly built first
# Prints every check; exits 1 if any failed.
set -uo pipefail
# shellcheck source=infra/local/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT" || exit 1

GRPCURL="$(find_grpcurl)" || die "grpcurl not found: run 'make tools' (installs it into .venv/bin)"
[ -x "$CLI" ] || die "$CLI not found: build first (make up)"

declare -A API=()
for svc in "${SERVICES[@]}"; do API[$svc]="$(service_api "$svc")"; done

passed=0
failed=0
pass() {
  printf '  PASS  %s\n' "$1"
  passed=$((passed + 1))
}
fail() {
  printf '  FAIL  %s\n' "$1"
  if [ -n "${2:-}" ]; then head -n 15 <<<"$2" | sed 's/^/          /'; fi
  failed=$((failed + 1))
}
grpc() { timeout 20 "$GRPCURL" -plaintext -max-time 10 "$@" 2>&1; }

echo "smoke checks with $GRPCURL"

echo "a) health"
for svc in "${SERVICES[@]}"; do
  addr="127.0.0.1:$(grpc_port "$svc")"
  out="$(grpc "$addr" grpc.health.v1.Health/Check)"
  if grep -Eq '"status":[[:space:]]*"SERVING"' <<<"$out"; then
    pass "$svc $addr grpc.health.v1.Health/Check = SERVING"
  else
    fail "$svc $addr grpc.health.v1.Health/Check = SERVING" "$out"
  fi
done

echo "b) reflection"
for svc in "${SERVICES[@]}"; do
  addr="127.0.0.1:$(grpc_port "$svc")"
  out="$(grpc "$addr" list)"
  for want in "${API[$svc]}" grpc.health.v1.Health; do
    if grep -qxF "$want" <<<"$out"; then
      pass "$svc $addr lists $want"
    else
      fail "$svc $addr lists $want" "$out"
    fi
  done
done

echo "c) authentication on GridService/ListCells"
grid="127.0.0.1:$GRID_PORT"
request='{"ancestor":"cells/demo-county"}'
out="$(grpc -d "$request" "$grid" civicgrid.grid.v1.GridService/ListCells)"
if grep -q 'Code: Unauthenticated' <<<"$out"; then
  pass "ListCells without a token is Unauthenticated"
else
  fail "ListCells without a token is Unauthenticated" "$out"
fi

if token="$("$CLI" token --role county_admin --scope '*' --key "$KEY_DIR/auth_private.pem" 2>&1)"; then
  out="$(grpc -H "authorization: Bearer $token" -d "$request" "$grid" civicgrid.grid.v1.GridService/ListCells)"
  rc=$?
  if [ "$rc" -eq 0 ] && ! grep -q '^ERROR' <<<"$out"; then
    cells="$(grep -c '"name"' <<<"$out" || true)"
    pass "ListCells with a county_admin token succeeds ($cells cells under cells/demo-county)"
  else
    fail "ListCells with a county_admin token succeeds" "$out"
  fi
  # membership: the demo's party side, 一肩挑 derived from posts (3 of 6 communities).
  membership="127.0.0.1:$(grpc_port membership)"
  out="$(grpc -H "authorization: Bearer $token" -d "$request" "$membership" civicgrid.membership.v1.MembershipService/GetStandardisationGaps)"
  if grep -q '"secretaryIsDirectorCount": 3' <<<"$out"; then
    pass "membership GetStandardisationGaps counts 3 一肩挑 in the demo county"
  else
    fail "membership GetStandardisationGaps counts 3 一肩挑 in the demo county" "$out"
  fi
else
  fail "civicgrid token --role county_admin --scope '*'" "$token"
fi

# assessment: the demo scheme `civicgrid demo` loaded is published.
if [ -n "${token:-}" ]; then
  out="$(grpc -H "authorization: Bearer $token" -d '{"name":"schemes/demo-county/versions/1"}' \
    "127.0.0.1:$ASSESSMENT_PORT" civicgrid.assessment.v1.AssessmentService/GetSchemeVersion)"
  if grep -q 'SCHEME_VERSION_STATE_PUBLISHED' <<<"$out"; then
    pass "assessment holds the published demo scheme schemes/demo-county/versions/1"
  else
    fail "assessment holds the published demo scheme schemes/demo-county/versions/1" "$out"
  fi
fi

if command -v curl >/dev/null 2>&1; then
  echo "d) metrics"
  for svc in "${SERVICES[@]}"; do
    url="http://127.0.0.1:$(metrics_port "$svc")/metrics"
    if out="$(curl -fsS --max-time 5 "$url" 2>&1)"; then
      pass "$svc $url answers ($(wc -l <<<"$out") lines)"
    else
      fail "$svc $url answers" "$out"
    fi
  done
fi

echo "e) centres coverage of the demo county"
if ctoken="$("$CLI" token --role county_admin --scope '*' --key "$KEY_DIR/auth_private.pem" 2>&1)"; then
  out="$(grpc -H "authorization: Bearer $ctoken" -d '{"ancestor":"cells/demo-county"}' \
    "127.0.0.1:$CENTRES_PORT" civicgrid.centres.v1.CentresService/GetCoverageReport)"
  # Only uncovered_compounds holds compound names in the report.
  got="$(grep -o '"compounds/[^"]*"' <<<"$out" | tr -d '"' | paste -sd ' ')"
  want="compounds/demo-county-dongfang compounds/demo-county-xinyue compounds/demo-county-hexi-xincun"
  if [ "$got" = "$want" ]; then
    pass "GetCoverageReport names the uncovered demo compounds, newly built first"
  else
    fail "GetCoverageReport names the uncovered demo compounds, newly built first (got: $got)" "$out"
  fi
else
  fail "civicgrid token --role county_admin --scope '*'" "$ctoken"
fi

echo "f) a demo street's score, traced down to the events behind it"
if [ -n "${ctoken:-}" ]; then
  # This quarter in Asia/Shanghai, as assessment names periods.
  period="$(TZ=Asia/Shanghai date +%Y)-q$(( ($(TZ=Asia/Shanghai date +%-m) + 2) / 3 ))"
  out="$(grpc -H "authorization: Bearer $ctoken" \
    -d "{\"scheme\":\"schemes/demo-county\",\"level\":\"LEVEL_STREET\",\"period\":\"$period\"}" \
    "127.0.0.1:$ASSESSMENT_PORT" civicgrid.assessment.v1.AssessmentService/PublishScores)"
  # The first scored street's first indicator with counted events: its
  # metrics resource, the metric and the count the score used.
  line="$(python3 -c '
import json, sys
try:
    ranking = json.load(sys.stdin)["ranking"]
except Exception:
    sys.exit(0)
for card in ranking.get("cards", []):
    for ind in card.get("indicators", []):
        if int(ind.get("numerator", 0)) > 0 and ind.get("numeratorMetric"):
            print(card["subject"], card.get("score", ""), ind["metrics"], ind["numeratorMetric"], ind["numerator"])
            sys.exit(0)
' <<<"$out")"
  if [ -z "$line" ]; then
    fail "PublishScores scores a demo street ($period) with counted events" "$out"
  else
    read -r street score metrics metric count <<<"$line"
    explained="$(grpc -H "authorization: Bearer $ctoken" \
      -d "{\"name\":\"$metrics\",\"metric\":\"$metric\",\"rolledUp\":true,\"pageSize\":1000}" \
      "127.0.0.1:$ASSESSMENT_PORT" civicgrid.assessment.v1.AssessmentService/ExplainMetric)"
    total="$(python3 -c '
import json, sys
try:
    print(sum(int(e.get("amount", 1)) for e in json.load(sys.stdin).get("evidence", [])))
except Exception:
    print(-1)
' <<<"$explained")"
    if [ "$total" = "$count" ]; then
      pass "$street scores $score ($period); its $metric ($count) is explained by $total events"
    else
      fail "$street's $metric ($count) is explained by its events (got $total)" "$explained"
    fi
  fi
fi

echo
echo "smoke: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
