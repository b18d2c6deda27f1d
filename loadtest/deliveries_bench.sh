#!/usr/bin/env bash
# Support query benchmark: GET /v1/deliveries?limit=100 over 1,000,000 deliveries.
#
# Builds the release binary, migrates a fresh SQLite database, bulk-inserts the deliveries
# with the sqlite3 CLI (a recursive CTE), serves it on a free port with a support key, and
# times 50 requests with curl: first pages, deep pages by cursor, brand and user filters, and
# a walk of consecutive pages. Prints median / p95 / max per group and overall.
#
#   bash loadtest/deliveries_bench.sh            # ROWS=1000000 by default
#   ROWS=200000 bash loadtest/deliveries_bench.sh
#
# Finally it streams the whole table as CSV once and prints rows, size and time.
set -euo pipefail
cd "$(dirname "$0")/.."

ROWS=${ROWS:-1000000}
USERS=1000   # people the rows are spread over (each holds ROWS/USERS deliveries)
BRANDS=20
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
if ! command -v sqlite3 >/dev/null 2>&1; then
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq sqlite3 >/dev/null
fi
for tool in curl python3 sha256sum; do
  command -v "$tool" >/dev/null || { echo "$tool is required" >&2; exit 1; }
done

cargo build --release --locked -q
BIN="$CARGO_TARGET_DIR/release/geoffer"
WORK=$(mktemp -d)
SERVER=""
cleanup() {
  if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
DB="$WORK/bench.db"
URL="sqlite://$DB"

"$BIN" migrate --database-url "$URL" >/dev/null

# Person tokens are SHA-256 of (app, NUL, user id), as geoffer::people::PersonId::of computes
# them, so the user filter finds these rows exactly as it finds real ones.
{
  echo "CREATE TEMP TABLE people (n INTEGER PRIMARY KEY, user_id TEXT, person TEXT);"
  echo "BEGIN;"
  for ((n = 0; n < USERS; n++)); do
    person=$(printf 'default\0u-%d' "$n" | sha256sum | cut -c1-32)
    echo "INSERT INTO people VALUES ($n, 'u-$n', '$person');"
  done
  echo "COMMIT;"
  cat <<SQL
PRAGMA synchronous = OFF;
BEGIN;
WITH RECURSIVE b(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM b WHERE i < $BRANDS - 1)
INSERT INTO brands (id, name, created_at) SELECT 'brand-' || i, 'Brand ' || i, 0 FROM b;
-- Two deliveries per second (so pairs share a millisecond and the id breaks the tie),
-- starting 2026-01-01; five offers and ten fences per brand; a realistic status mix.
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $ROWS - 1)
INSERT INTO deliveries (id, app_id, checkin_id, person, user_id, device_id, brand_id, offer_id,
                        fence_id, title, body, redemption_code, expires_at, status, created_at)
SELECT printf('00000000-0000-8000-8000-%012x', i), 'default', 'bench-' || i, p.person, p.user_id,
       'd-' || (i % $USERS), 'brand-' || (i % $BRANDS),
       printf('00000000-0000-8000-a000-%012x', (i % $BRANDS) * 5 + (i / $BRANDS) % 5),
       printf('00000000-0000-8000-b000-%012x', (i % $BRANDS) * 10 + (i / $BRANDS) % 10),
       'Offer ' || (i % 100), 'Your usual is 80 m away at store ' || (i % 10), 'CODE-' || i,
       1767225600000 + (i / 2) * 1000 + 14400000,
       CASE WHEN i % 10 = 0 THEN 'opened' WHEN i % 50 = 1 THEN 'redeemed'
            WHEN i % 20 = 3 THEN 'dismissed' ELSE 'delivered' END,
       1767225600000 + (i / 2) * 1000
FROM n JOIN people p ON p.n = n.i % $USERS;
COMMIT;
ANALYZE;
SQL
} | sqlite3 "$DB"

KEY=$("$BIN" keys create --role support --database-url "$URL" 2>/dev/null | tail -n 1)
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
RUST_LOG=warn "$BIN" serve --bind "127.0.0.1:$PORT" --database-url "$URL" >"$WORK/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 200); do
  curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null && break
  sleep 0.05
done

# A cursor is base64url("<created_at ms>.<id>") of the last row of the previous page; deep
# cursors are made that way for rows far down the list instead of walking 9,000 pages.
cursor_at() {
  local where=$1 offset=$2
  sqlite3 "$DB" "SELECT created_at || '.' || id FROM deliveries $where
                 ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET $offset" |
    tr -d '\n' | base64 -w0 | tr '+/' '-_' | tr -d '='
}

TIMES="$WORK/times"
get() {  # group, path
  local t
  t=$(curl -fsS -o "$WORK/body" -w '%{time_total}' -H "Authorization: Bearer $KEY" \
    "http://127.0.0.1:$PORT$2")
  n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["items"]))' "$WORK/body")
  echo "$1 $t $n" >>"$TIMES"
}

for _ in 1 2 3 4 5 6 7 8; do get first "/v1/deliveries?limit=100"; done
for k in 1 2 3 4 5 6 7 8 9 10; do
  get deep "/v1/deliveries?limit=100&cursor=$(cursor_at "" $((ROWS * k / 11)))"
done
for k in 0 1 2 3 4 5 6 7; do
  b="brand-$((k * 2))"
  get brand "/v1/deliveries?limit=100&brand=$b&cursor=$(cursor_at "WHERE brand_id = '$b'" $((ROWS * k / 8 / BRANDS)))"
done
for k in 0 1 2 3 4 5 6 7; do
  get user "/v1/deliveries?limit=100&user_id=u-$((k * 97))"
done
get filters "/v1/deliveries?limit=100&status=redeemed&from=2026-01-03T00:00:00Z&to=2026-01-05T00:00:00Z"
get filters "/v1/deliveries?limit=100&offer_id=00000000-0000-8000-a000-000000000007"
get filters "/v1/deliveries?limit=100&fence_id=00000000-0000-8000-b000-000000000013"
path="/v1/deliveries?limit=100"
for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13; do
  get walk "$path"
  next=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["next_cursor"])' "$WORK/body")
  path="/v1/deliveries?limit=100&cursor=$next"
done

echo "GET /v1/deliveries?limit=100 over $ROWS deliveries ($(wc -l <"$TIMES") requests, milliseconds)"
python3 - "$TIMES" <<'PY'
import math, sys
rows = [line.split() for line in open(sys.argv[1])]
groups, items = {}, {}
for g, t, n in rows:
    groups.setdefault(g, []).append(float(t) * 1000)
    items.setdefault(g, []).append(int(n))
groups["all"] = [t for ts in list(groups.values()) for t in ts]
items["all"] = [n for ns in list(items.values()) for n in ns]
def pct(ts, p):
    ts = sorted(ts)
    return ts[max(0, math.ceil(p * len(ts)) - 1)]
print(f"{'group':8} {'n':>3} {'median':>8} {'p95':>8} {'max':>8} {'items/page':>11}")
for g, ts in groups.items():
    lo, hi = min(items[g]), max(items[g])
    span = f"{lo}" if lo == hi else f"{lo}-{hi}"
    print(f"{g:8} {len(ts):3d} {pct(ts, 0.5):8.1f} {pct(ts, 0.95):8.1f} {max(ts):8.1f} {span:>11}")
PY

# The whole table as CSV: streamed in batches of 1,000, so memory stays flat.
read -r secs bytes < <(curl -fsS -o "$WORK/export.csv" -w '%{time_total} %{size_download}\n' \
  -H "Authorization: Bearer $KEY" -H 'Accept: text/csv' "http://127.0.0.1:$PORT/v1/deliveries")
lines=$(($(wc -l <"$WORK/export.csv") - 1))
echo "CSV export of every delivery: $lines rows, $((bytes / 1048576)) MiB in ${secs} s"
