#!/usr/bin/env bash
# bench/db_writer.sh — durable writes on the store at 16 concurrent writers:
# one transaction per write against the writer thread with group commit, all
# durable, on SQLite and on PostgreSQL, in one run on the same disk
# (bench/db_writer.c).
#
# Builds the driver in the release-ish build dir build/ and runs it on a
# fresh directory under build/bench/ (on the disk of the checkout: /tmp may
# be a tmpfs, where fsync costs nothing). PostgreSQL: a server of its own
# (tests/e2e/lib/pg.mjs --durable: fsync on, as deployed) with its data
# directory under build/bench/ too, reached over its Unix socket; stopped and
# removed at the end. Prints the figures; copy them into bench/RESULTS.md.
#
# usage: bench/db_writer.sh
# env:   WRITERS (default 16), SECONDS_RUN per mode per round (default 2), ROUNDS (default 5),
#        PG=0 to leave PostgreSQL out
set -euo pipefail

cd "$(dirname "$0")/.."
root=$PWD
[[ -f build/build.ninja ]] || meson setup build --buildtype=debugoptimized >/dev/null
ninja -C build bench/db_writer_bench >/dev/null
dir=$root/build/bench/db_writer.$$
mkdir -p "$dir"
pg_dir=""
cleanup() {
    [[ -z $pg_dir ]] || node "$root/tests/e2e/lib/pg.mjs" stop "$pg_dir"
    rm -rf "$dir"
}
trap cleanup EXIT
echo "file system: $(df -T "$dir" | awk 'NR == 2 { print $2 " on " $1 }')"
pg_url=()
if [[ ${PG:-1} != 0 ]]; then
    pg_json=$(node "$root/tests/e2e/lib/pg.mjs" start --durable --parent "$dir")
    pg_dir=$(node -e 'process.stdout.write(JSON.parse(process.argv[1]).dir)' "$pg_json")
    pg_url=("$(node -e 'process.stdout.write(JSON.parse(process.argv[1]).url)' "$pg_json")")
    show() { psql -X -A -t -d "${pg_url[0]}" -c "SHOW $1"; }
    echo "postgres: $(show server_version), fsync=$(show fsync), synchronous_commit=$(show synchronous_commit), data under $pg_dir"
fi
"$root/build/bench/db_writer_bench" "$dir" "${WRITERS:-16}" "${SECONDS_RUN:-2}" "${ROUNDS:-5}" "${pg_url[@]}"
