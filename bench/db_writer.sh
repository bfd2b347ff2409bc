#!/usr/bin/env bash
# bench/db_writer.sh — durable writes on the store at 16 concurrent writers:
# one transaction per write against the writer thread with group commit, both
# with synchronous=FULL, in one run on the same disk (bench/db_writer.c).
#
# Builds the driver in the release-ish build dir build/ and runs it on a
# fresh directory under build/bench/ (on the disk of the checkout: /tmp may
# be a tmpfs, where fsync costs nothing). Prints the figures; copy them into
# bench/RESULTS.md.
#
# usage: bench/db_writer.sh
# env:   WRITERS (default 16), SECONDS_RUN per mode per round (default 2), ROUNDS (default 5)
set -euo pipefail

cd "$(dirname "$0")/.."
root=$PWD
[[ -f build/build.ninja ]] || meson setup build --buildtype=debugoptimized >/dev/null
ninja -C build bench/db_writer_bench >/dev/null
dir=$root/build/bench/db_writer.$$
mkdir -p "$dir"
trap 'rm -rf "$dir"' EXIT
echo "file system: $(df -T "$dir" | awk 'NR == 2 { print $2 " on " $1 }')"
"$root/build/bench/db_writer_bench" "$dir" "${WRITERS:-16}" "${SECONDS_RUN:-2}" "${ROUNDS:-5}"
