#!/usr/bin/env bash
# Schema-driven fuzzing (issue 14): Schemathesis generates requests from the published
# OpenAPI document and runs every check against a fresh local geoffer — no 5xx, answers match
# their documented status, content type and schema, schema-violating requests are refused and
# schema-valid ones accepted. See docs/contract.md.
#
#   bash loadtest/fuzz.sh                  # ~3 minutes, at least 20 examples per operation
#   bash loadtest/fuzz.sh --long           # ~20 minutes, at least 200 examples per operation
#   GEOFFER_FUZZ_SECONDS=600 GEOFFER_FUZZ_EXAMPLES=100 GEOFFER_FUZZ_SEED=7 bash loadtest/fuzz.sh
#   bash loadtest/fuzz.sh -- --include-path-regex geofences --phases coverage   # narrow it down
#
# Python packages go to a virtual environment under target/fuzz-venv; the server runs the debug
# binary on a free 127.0.0.1 port with a temporary SQLite database; nothing leaves the machine
# (the weather URL points at a closed local port). Exits non-zero when any check fails or any
# operation was skipped or errored.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
SCHEMATHESIS_VERSION=4.32.5
SECONDS_BUDGET=${GEOFFER_FUZZ_SECONDS:-180}
EXAMPLES=${GEOFFER_FUZZ_EXAMPLES:-20}
EXTRA=()
while [ $# -gt 0 ]; do
  case $1 in
    --long) SECONDS_BUDGET=${GEOFFER_FUZZ_SECONDS:-1200}; EXAMPLES=${GEOFFER_FUZZ_EXAMPLES:-200} ;;
    --) shift; EXTRA=("$@"); break ;;
    *) echo "usage: $0 [--long] [-- SCHEMATHESIS-RUN-OPTIONS...]" >&2
       echo "  (GEOFFER_FUZZ_SECONDS, GEOFFER_FUZZ_EXAMPLES, GEOFFER_FUZZ_SEED override)" >&2; exit 2 ;;
  esac
  shift
done

VENV=$TARGET/fuzz-venv
if ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  echo "installing schemathesis $SCHEMATHESIS_VERSION into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi
cargo build --quiet --bin geoffer -p geoffer
BIN=$TARGET/debug/geoffer

WORK=$(mktemp -d "${TMPDIR:-/tmp}/geoffer-fuzz.XXXXXX")
SERVER=
cleanup() {
  if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

DB="sqlite://$WORK/fuzz.db"
PORT=$("$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
"$BIN" migrate --database-url "$DB" >/dev/null
key() { "$BIN" keys create "$@" --database-url "$DB" | tail -n 1; }
export FUZZ_ADMIN_KEY FUZZ_APP_KEY FUZZ_SUPPORT_KEY FUZZ_BRAND_KEY FUZZ_BASE=$BASE FUZZ_BRAND=fuzzco
FUZZ_ADMIN_KEY=$(key --role admin)
FUZZ_APP_KEY=$(key --role app)
FUZZ_SUPPORT_KEY=$(key --role support)

# Webhook endpoints the run registers point at a closed port on 127.0.0.1 (the hooks put
# them there): allowed only with this setting, which is read from a settings file.
printf 'webhook_allow_loopback_http = true\n' >"$WORK/fuzz.toml"
"$BIN" serve --config "$WORK/fuzz.toml" --bind "127.0.0.1:$PORT" --database-url "$DB" \
  --weather-url "http://127.0.0.1:9" --quiet-hours off \
  >"$WORK/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 100); do
  "$VENV/bin/python" -c "import urllib.request; urllib.request.urlopen('$BASE/healthz')" 2>/dev/null && break
  sleep 0.1
done

# The brand, its key, a fence, an offer and a consenting user: real ids for the hooks to use.
"$VENV/bin/python" "$ROOT/loadtest/fuzz_seed.py" >"$WORK/seed.env"
FUZZ_BRAND_KEY=$(key --role brand --brand "$FUZZ_BRAND")
set -a
# shellcheck disable=SC1091
. "$WORK/seed.env"
set +a

REPORT=$TARGET/fuzz-report
rm -rf "$REPORT"
echo "fuzzing $BASE for ${SECONDS_BUDGET}s, at least $EXAMPLES examples per operation"
status=0
mkdir -p "$REPORT"
# From the report directory, so Schemathesis's own files (.schemathesis/) land there too.
(cd "$REPORT" && SCHEMATHESIS_HOOKS=fuzz_hooks PYTHONPATH="$ROOT/loadtest" PYTHONDONTWRITEBYTECODE=1 \
  "$VENV/bin/schemathesis" run "$BASE/openapi.json" \
  --checks all --max-examples "$EXAMPLES" --max-time "$SECONDS_BUDGET" \
  --workers 1 --generation-database none --seed "${GEOFFER_FUZZ_SEED:-14}" \
  --report junit,ndjson --report-dir "$REPORT" --report-ndjson-path "$REPORT/events.ndjson" \
  --no-color "${EXTRA[@]}") || status=$?
if [ ${#EXTRA[@]} -eq 0 ]; then
  "$VENV/bin/python" "$ROOT/loadtest/fuzz_verdict.py" "$REPORT/events.ndjson" "$BASE/openapi.json" \
    "$EXAMPLES" || status=1
else
  echo "options passed to Schemathesis: no verdict on skipped operations"
fi
if [ "$status" -ne 0 ]; then
  echo "fuzzing failed; the server log is below, reports in $REPORT" >&2
  grep -E "ERROR|WARN|panicked" "$WORK/server.log" | tail -n 50 >&2 || true
fi
exit "$status"
