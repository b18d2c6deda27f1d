#!/usr/bin/env bash
# Side-by-side: geoffer's in-memory fence index vs PostGIS on the same world.
#
#   bash loadtest/postgis_compare.sh [--fences 200000] [--points 20000] [--seed 42]
#
# Needs PostgreSQL 15 on 127.0.0.1:5432 (trust auth, user postgres). Installs
# postgresql-15-postgis-3 when missing, then runs the Rust comparison, which
# creates the database `geoffer_fences` (if missing), loads the fences, builds
# GiST indexes and prints a markdown report.
set -euo pipefail
cd "$(dirname "$0")"

PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
PGUSER=${PGUSER:-postgres}

if ! dpkg-query -W -f='${Status}' postgresql-15-postgis-3 2>/dev/null | grep -q 'install ok installed'; then
    echo "installing postgresql-15-postgis-3" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15-postgis-3 >/dev/null
fi

if ! pg_isready -h "$PGHOST" -p "$PGPORT" -q; then
    echo "PostgreSQL is not reachable on $PGHOST:$PGPORT" >&2
    exit 1
fi

export PG_URL="host=$PGHOST port=$PGPORT user=$PGUSER"
cargo run --release --quiet -p loadtest --bin postgis_compare -- "$@"
