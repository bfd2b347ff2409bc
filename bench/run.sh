#!/usr/bin/env bash
# bench/run.sh — GET /healthz throughput and tail latency of appointd against
# nginx answering the same JSON from its config, on this machine, in one run.
#
# Both servers get 2 workers (appointd --threads 2, nginx worker_processes 2)
# and both are driven by wrk on loopback at 1, 16 and 64 connections for
# $DURATION each. Raw wrk outputs go to build/bench/; a table is printed.
# Nothing is written to bench/RESULTS.md: record figures there by hand.
#
# usage: bench/run.sh          (make bench builds build/ and installs wrk+nginx)
# env:   APPOINTD_BIN (default build/appointd), DURATION (default 10s),
#        CONNS (default "1 16 64")
set -euo pipefail

cd "$(dirname "$0")/.."
root=$PWD
bin=${APPOINTD_BIN:-$root/build/appointd}
duration=${DURATION:-10s}
conns=${CONNS:-1 16 64}
out=$root/build/bench

source "$root/bench/lib/wrk.sh"
source "$root/bench/lib/nginx.sh"
need_tools wrk nginx curl
[[ -x $bin ]] || { echo "bench: $bin not built (run: make bench)" >&2; exit 1; }

mkdir -p "$out"
tmp=$(mktemp -d /tmp/appointd-bench.XXXXXX)
app_pid=
cleanup() {
    set +e
    proc_stop "$app_pid"
    nginx_stop
    rm -rf "$tmp"
}
trap cleanup EXIT

# --- servers -----------------------------------------------------------------
app_port=$(free_port)
mkdir -p "$tmp/data"
"$bin" serve --listen "127.0.0.1:$app_port" --data-dir "$tmp/data" --threads 2 \
    --log-level warn --no-access-log >"$out/appointd.stderr" 2>&1 &
app_pid=$!

nginx_port=$(free_port)
nginx_start "$tmp/nginx" "$out" "$nginx_port"

wait_ok "http://127.0.0.1:$app_port/healthz"
wait_ok "http://127.0.0.1:$nginx_port/healthz"

# --- load --------------------------------------------------------------------
declare -A rps
printf '\n%-9s %6s %12s %10s %8s\n' target conns req/s p99_ms errors
for target in appointd nginx; do
    port=$app_port
    [[ $target == nginx ]] && port=$nginx_port
    for c in $conns; do
        wrk_run "$target" "http://127.0.0.1:$port/healthz" "$c" "$duration" "$out"
        rps[$target-$c]=$wrk_rps
        printf '%-9s %6s %12s %10s %8s\n' "$target" "$c" "$wrk_rps" "$wrk_p99" "$wrk_errors"
    done
done

last=${conns##* }
if [[ -n ${rps[appointd-$last]:-} && -n ${rps[nginx-$last]:-} ]]; then
    awk -v a="${rps[appointd-$last]}" -v n="${rps[nginx-$last]}" -v c="$last" \
        'BEGIN { printf "\nappointd/nginx at %s connections: %.2f\n", c, a / n }'
fi
echo "machine: $(nproc) cores, $(lscpu | sed -nE 's/^Model name:[[:space:]]+//p' | head -n1); raw outputs in build/bench/"
