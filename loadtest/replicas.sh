#!/usr/bin/env bash
# From one box to many, locally (issue 16): one command that starts PostgreSQL (a private
# server in a temporary directory), a Redis Cluster of 3 masters and N geoffer replicas
# (default 3) on 127.0.0.1, loads the generated world through the first replica and runs the
# load generator against all of them, round robin. The report (default
# target/loadtest-replicas-report.md) has the CPU per check-in of geoffer (all replicas),
# Redis (all nodes), PostgreSQL (postmaster and backends) and the client.
#
#   bash loadtest/replicas.sh --quick                  # ~1 minute
#   bash loadtest/replicas.sh --replicas 1 --quick     # the same world on one replica
#   bash loadtest/replicas.sh --people 20000 ...       # any loadgen flag passes through
#
# Everything listens on 127.0.0.1 only; every process it starts is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}

REPLICAS=3
ARGS=()
while (($#)); do
  case $1 in
    --replicas) REPLICAS=$2; shift 2 ;;
    --quick) ARGS+=(--people 10000 --fences 10000 --warmup-secs 5 --ceiling-secs 8 --closed-secs 12 --open-secs 12); shift ;;
    *) ARGS+=("$1"); shift ;;
  esac
done
REPORT="$TARGET/loadtest-replicas-report.md"
for ((i = 0; i < ${#ARGS[@]}; i++)); do [[ ${ARGS[i]} == --report ]] && REPORT=${ARGS[i+1]}; done

command -v redis-server >/dev/null || { echo "redis-server is required (apt-get install -y redis-server)" >&2; exit 1; }
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[[ -x $PGBIN/pg_ctl ]] || { echo "PostgreSQL's server binaries are required (apt-get install -y postgresql)" >&2; exit 1; }
cargo build --release --quiet --bin geoffer -p geoffer
cargo build --release --quiet --bin loadgen -p loadtest

WORK=$(mktemp -d "${TMPDIR:-/tmp}/geoffer-replicas.XXXXXX")
chmod 755 "$WORK"
PIDS=()
# The PostgreSQL server programs refuse to run as root: as root they run as `postgres`.
as_pg() { if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  as_pg "$PGBIN/pg_ctl" -D "$WORK/pg" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# PostgreSQL: durable settings as shipped (fsync and synchronous_commit on).
mkdir -p "$WORK/pg" && [[ $(id -u) == 0 ]] && chown postgres "$WORK/pg"
as_pg "$PGBIN/initdb" -D "$WORK/pg" -A trust -U postgres >/dev/null
PG_PORT=$(free_port)
as_pg "$PGBIN/pg_ctl" -D "$WORK/pg" -l "$WORK/pg/server.log" -w \
  -o "-p $PG_PORT -k $WORK/pg -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
PG_PID=$(head -n 1 "$WORK/pg/postmaster.pid")
DB="postgres://postgres@127.0.0.1:$PG_PORT/postgres"

# Redis Cluster: three masters, no replicas, nothing on disk.
NODES=()
REDIS_PIDS=()
for _ in 1 2 3; do
  while :; do P=$(free_port); B=$((P + 10000)); ((B < 65536)) && python3 -c "import socket; socket.socket().bind(('127.0.0.1',$B))" 2>/dev/null && break; done
  mkdir -p "$WORK/redis-$P"
  redis-server --port "$P" --bind 127.0.0.1 --cluster-enabled yes --cluster-config-file "$WORK/redis-$P/nodes.conf" \
    --save '' --appendonly no --dir "$WORK/redis-$P" --logfile "$WORK/redis-$P/redis.log" &
  PIDS+=($!); REDIS_PIDS+=($!); NODES+=("127.0.0.1:$P")
done
for n in "${NODES[@]}"; do for _ in $(seq 1 100); do redis-cli -p "${n#*:}" ping >/dev/null 2>&1 && break; sleep 0.1; done; done
redis-cli --cluster create "${NODES[@]}" --cluster-replicas 0 --cluster-yes >/dev/null
for _ in $(seq 1 100); do redis-cli -p "${NODES[0]#*:}" cluster info | grep -q 'cluster_state:ok' && break; sleep 0.1; done
REDIS_URL="redis+cluster://$(IFS=,; echo "${NODES[*]}")"

"$TARGET/release/geoffer" migrate --database-url "$DB" >/dev/null
ADMIN_KEY=$("$TARGET/release/geoffer" keys create --role admin --database-url "$DB" | tail -n 1)

URLS=()
GEOFFER_PIDS=()
# The simulated people live a week in minutes: the plausible speed is set out of reach (run.sh).
echo "max_plausible_speed_kmh = 1e12" >"$WORK/geoffer.toml"
for i in $(seq 1 "$REPLICAS"); do
  PORT=$(free_port)
  "$TARGET/release/geoffer" serve --config "$WORK/geoffer.toml" --bind "127.0.0.1:$PORT" --database-url "$DB" \
    --redis-url "$REDIS_URL" --redis-key-prefix loadtest: \
    --weather-dir fixtures/weather --quiet-hours off --log-format json >"$WORK/geoffer-$i.log" 2>&1 &
  PIDS+=($!); GEOFFER_PIDS+=($!); URLS+=("http://127.0.0.1:$PORT")
done
for u in "${URLS[@]}"; do
  for _ in $(seq 1 200); do curl -fs "$u/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
  curl -fs "$u/readyz" >/dev/null || { echo "a replica did not start:" >&2; tail -20 "$WORK"/geoffer-*.log >&2; exit 1; }
done

NOTES="Machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(free -g | awk '/^Mem:/{print $2}') GiB; \
commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown); $REPLICAS geoffer replica(s) on PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') \
and a 3-master Redis Cluster (redis $(redis-server --version | awk '{print $3}')); requests round robin over the replicas; \
recorded weather, quiet hours off; load before the run: $(cut -d' ' -f1-3 /proc/loadavg)."

"$TARGET/release/loadgen" --base-url "$(IFS=,; echo "${URLS[*]}")" --admin-key "$ADMIN_KEY" \
  --geoffer-pid "$(IFS=,; echo "${GEOFFER_PIDS[*]}")" --redis-pid "$(IFS=,; echo "${REDIS_PIDS[*]}")" \
  --postgres-pid "$PG_PID" --clk-tck "$(getconf CLK_TCK)" \
  --fixtures fixtures --report "$REPORT" --notes "$NOTES" "${ARGS[@]}"
