#!/usr/bin/env bash
# One command for geoffer's load test (issue 8): builds release binaries, starts its own
# redis-server (free port, no persistence) and geoffer on a fresh SQLite file, then runs the
# load generator, which writes the report (default target/loadtest-report.md).
#
#   bash loadtest/run.sh                         # full: 100k fences, 100k people, 60 s per loop
#   bash loadtest/run.sh --quick                 # ~1 minute: 10k fences, 10k people, 10 s loops
#   bash loadtest/run.sh --soak-secs 600         # plus a 10-minute soak (RSS sampled every 30 s)
#   bash loadtest/run.sh --twin ...              # geoffer on the in-process limiter twin (no Redis
#                                                #   behind it: the embedded default's memory)
#   bash loadtest/run.sh --people 5000 --closed-secs 20 ...   # any loadgen flag passes through
#
# Everything listens on 127.0.0.1 only; every process it starts is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}

ARGS=()
TWIN=0
for a in "$@"; do
  if [[ $a == --twin ]]; then
    TWIN=1
  elif [[ $a == --quick ]]; then
    ARGS+=(--people 10000 --fences 10000 --warmup-secs 5 --ceiling-secs 8 --closed-secs 12 --open-secs 12)
  else
    ARGS+=("$a")
  fi
done

command -v redis-server >/dev/null || { echo "redis-server is required (apt-get install -y redis-server)" >&2; exit 1; }
cargo build --release --quiet --bin geoffer -p geoffer
cargo build --release --quiet --bin loadgen -p loadtest

WORK=$(mktemp -d "${TMPDIR:-/tmp}/geoffer-loadtest.XXXXXX")
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

REDIS_PORT=$(free_port)
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
  --dir "$WORK" --logfile "$WORK/redis.log" &
PIDS+=($!); REDIS_PID=$!
for _ in $(seq 1 100); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done

DB="sqlite://$WORK/geoffer.db"
"$TARGET/release/geoffer" migrate --database-url "$DB" >/dev/null
ADMIN_KEY=$("$TARGET/release/geoffer" keys create --role admin --database-url "$DB" | tail -n 1)

PORT=$(free_port)
LIMITER=(--redis-url "redis://127.0.0.1:$REDIS_PORT" --redis-key-prefix loadtest:)
REDIS_ARGS=(--redis-pid "$REDIS_PID" --redis-port "$REDIS_PORT")
if [[ $TWIN == 1 ]]; then LIMITER=(); REDIS_ARGS=(); fi
# Quiet hours off: the run must not depend on the hour it is started at. The simulated people
# live a week in minutes, faster than any plane between stops: the plausible speed is set out
# of reach, so the outcome mix stays comparable while every check-in still pays for the check.
echo "max_plausible_speed_kmh = 1e12" >"$WORK/geoffer.toml"
"$TARGET/release/geoffer" serve --config "$WORK/geoffer.toml" --bind "127.0.0.1:$PORT" --database-url "$DB" \
  "${LIMITER[@]}" --weather-dir fixtures/weather --quiet-hours off --log-format json \
  >"$WORK/geoffer.log" 2>&1 &
PIDS+=($!); GEOFFER_PID=$!
for _ in $(seq 1 200); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null || { echo "geoffer did not start:" >&2; tail -20 "$WORK/geoffer.log" >&2; exit 1; }

NOTES="Machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(free -g | awk '/^Mem:/{print $2}') GiB; \
commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown); limiter $([[ $TWIN == 1 ]] && echo in-process twin || echo redis); redis $(redis-server --version | awk '{print $3}'); \
geoffer with --quiet-hours off, max_plausible_speed_kmh out of reach (a week in minutes) and recorded weather (fixtures/weather); load before the run: $(cut -d' ' -f1-3 /proc/loadavg)."

set +e
"$TARGET/release/loadgen" --base-url "http://127.0.0.1:$PORT" --admin-key "$ADMIN_KEY" \
  --geoffer-pid "$GEOFFER_PID" "${REDIS_ARGS[@]}" --clk-tck "$(getconf CLK_TCK)" \
  --fixtures fixtures --report "$TARGET/loadtest-report.md" --notes "$NOTES" "${ARGS[@]}"
STATUS=$?
set -e
# What Redis holds after the run (keys and memory), appended to the report.
REPORT="$TARGET/loadtest-report.md"
for ((i = 0; i < ${#ARGS[@]}; i++)); do [[ ${ARGS[i]} == --report ]] && REPORT=${ARGS[i+1]}; done
{
  echo
  echo "Redis after the run: $(redis-cli -p "$REDIS_PORT" dbsize) keys, used_memory $(redis-cli -p "$REDIS_PORT" info memory | sed -n 's/^used_memory_human://p' | tr -d '\r'), $(redis-cli -p "$REDIS_PORT" info memory | sed -n 's/^number_of_cached_scripts://p' | tr -d '\r') cached scripts."
  echo "geoffer's log: $(wc -l <"$WORK/geoffer.log") lines, $(du -k "$WORK/geoffer.log" | cut -f1) KiB."
  echo "SQLite after the run: database $(du -m "$WORK/geoffer.db" | cut -f1) MiB, WAL $(du -m "$WORK/geoffer.db-wal" 2>/dev/null | cut -f1 || echo 0) MiB."
  echo "Sample of key names: $(redis-cli -p "$REDIS_PORT" --scan | head -2000 | sed -E 's/\{u:[^}]*\}/{u:*}/; s/:[0-9a-f-]{20,}$/:<id>/' | sort | uniq -c | sort -rn | head -8 | awk '{printf "%s x%s; ", $2, $1}')"
} | tee -a "${REPORT:-/dev/null}"
exit $STATUS
