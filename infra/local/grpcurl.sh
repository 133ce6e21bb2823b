#!/usr/bin/env bash
# Runs the project's grpcurl (.venv/bin/grpcurl, installed by `make tools` on
# first use) with the given arguments, e.g.
#   infra/local/grpcurl.sh -plaintext 127.0.0.1:50052 list
set -euo pipefail
# shellcheck source=infra/local/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
if ! g="$(find_grpcurl)"; then
  "$REPO_ROOT/infra/local/tools.sh" >&2
  g="$(find_grpcurl)" || die "grpcurl still not found after tools.sh"
fi
exec "$g" "$@"
