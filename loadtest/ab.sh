#!/usr/bin/env bash
# Old against new, alternated: the engine benchmark and the quick load test on two checkouts
# (A = a base checkout, B = this one), A B A B … so that this VM's drift (its speed moves by
# half within minutes) falls on both alike. Prints every run and the medians.
#
#   git worktree add ../base <rev>            # once; then build both checkouts:
#   (cd ../base && cargo build --release --bin geoffer && cargo build --release -p loadtest --bins)
#   bash loadtest/ab.sh ../base [runs]        # default 3 runs each
#   AB_SKIP_BENCH=1 bash loadtest/ab.sh …     # the load test only
#
# Both load tests start their own Redis on a free port; nothing leaves 127.0.0.1.
set -euo pipefail
BASE=$(cd "${1:?usage: loadtest/ab.sh BASE_CHECKOUT [RUNS]}" && pwd)
NEW=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${2:-3}
OUT=$(mktemp -d "${TMPDIR:-/tmp}/geoffer-ab.XXXXXX")
cargo build --release --quiet --bin geoffer -p geoffer
cargo build --release --quiet -p loadtest --bins

bench() { # dir label run
  (cd "$1" && ./target/release/engine_bench --fences 100000 --people 100000 --decisions 50000 \
    --concurrency 16 2>/dev/null) | awk -F'|' -v l="$2" -v r="$3" '$2 ~ /100000/ {
      gsub(/ /, "", $7); split($8, p, "/"); gsub(/ /, "", p[1]); gsub(/ /, "", p[3]);
      print l, r, $7, p[1], p[3] }'
}
# From a load report: label run check-ins/s p99_ms geoffer_µs redis_µs (closed loop).
parse() { # report label run
  awk -F'|' -v l="$2" -v r="$3" '
    $2 ~ /check-ins, closed loop/ && $3 ~ /^ *[0-9.]+ *$/ { rate = $5; p99 = $8 }
    $2 ~ /check-ins, closed loop/ && $3 ~ /^ *check-in *$/ { g = $4; rd = $5 }
    END { gsub(/ /, "", rate); gsub(/ /, "", p99); gsub(/ /, "", g); gsub(/ /, "", rd);
          print l, r, rate, p99, g, rd }' "$1"
}
quick() { # dir label run
  local report="$OUT/quick-$2-$3.md"
  (cd "$1" && bash loadtest/run.sh --quick --report "$report" >/dev/null 2>&1) || true
  parse "$report" "$2" "$3"
}

echo "engine_bench (100,000 fences and people, 50,000 decisions, 16 at once): label run decisions/s p50_us p99_us"
for r in $(seq 1 "$RUNS"); do
  [[ ${AB_SKIP_BENCH:-0} == 1 ]] && break
  bench "$BASE" A "$r" | tee -a "$OUT/bench"
  bench "$NEW" B "$r" | tee -a "$OUT/bench"
done
echo
echo "loadtest/run.sh --quick, closed loop: label run check-ins/s p99_ms geoffer_µs redis_µs per check-in"
for r in $(seq 1 "$RUNS"); do
  quick "$BASE" A "$r" | tee -a "$OUT/quick"
  quick "$NEW" B "$r" | tee -a "$OUT/quick"
done
touch "$OUT/bench"
median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
echo
for l in A B; do
  [[ -s $OUT/bench ]] && echo "$l medians: engine_bench $(awk -v l=$l '$1 == l {print $3}' "$OUT/bench" | median) decisions/s," \
    "p99 $(awk -v l=$l '$1 == l {print $5}' "$OUT/bench" | median) µs"
  echo "$l medians: quick closed loop $(awk -v l=$l '$1 == l {print $3}' "$OUT/quick" | median) check-ins/s," \
    "p99 $(awk -v l=$l '$1 == l {print $4}' "$OUT/quick" | median) ms," \
    "geoffer $(awk -v l=$l '$1 == l {print $5}' "$OUT/quick" | median) µs and" \
    "Redis $(awk -v l=$l '$1 == l {print $6}' "$OUT/quick" | median) µs of CPU per check-in"
done
echo "reports: $OUT"
