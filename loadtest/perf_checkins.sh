#!/usr/bin/env bash
# Where geoffer's CPU goes under check-ins (issue 18): runs the quick load test with a 25 s
# closed loop and records geoffer with perf for 12 s of it, from 3 s in. Traffic goes to
# 127.0.0.1 only (loadtest/run.sh); perf samples the one geoffer process by pid.
#
#   bash loadtest/perf_checkins.sh [OUT_DIR]        # default /tmp/geoffer-perf
#   perf report -i OUT_DIR/geoffer.data --children --sort sym -g none --stdio | head -80
#   perf report -i OUT_DIR/geoffer.data --no-children --sort comm -g none --stdio
set -u
cd "$(dirname "$0")/.."
OUT=${1:-/tmp/geoffer-perf}
mkdir -p "$OUT"
bash loadtest/run.sh --quick --closed-secs 25 --open-secs 4 --report "$OUT/report.md" >"$OUT/run.out" 2>"$OUT/run.err" &
RUN=$!
# Bounded wait for the closed loop (the world and consent take about 15 s).
for _ in $(seq 1 600); do grep -q "phase check-ins, closed loop" "$OUT/run.err" 2>/dev/null && break; sleep 0.5; done
sleep 3
GEOFFER=$(pgrep -f "target/release/geoffer serve" | head -1)
echo "geoffer pid $GEOFFER" >"$OUT/pids"
perf record -F 499 --call-graph dwarf -o "$OUT/geoffer.data" -p "$GEOFFER" -- sleep 12 2>"$OUT/perf.err"
wait $RUN
echo "load test exit $?" >>"$OUT/pids"
