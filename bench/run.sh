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

for tool in wrk nginx curl; do
    command -v "$tool" >/dev/null 2>&1 || [[ $tool == nginx && -x /usr/sbin/nginx ]] || {
        echo "bench: $tool not found (run: scripts/deps bench)" >&2
        exit 1
    }
done
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
[[ -x $bin ]] || { echo "bench: $bin not built (run: make bench)" >&2; exit 1; }

mkdir -p "$out"
tmp=$(mktemp -d /tmp/appointd-bench.XXXXXX)
app_pid=
nginx_pid=
cleanup() {
    set +e
    if [[ -n $app_pid ]]; then
        kill -TERM "$app_pid" 2>/dev/null
        wait "$app_pid" 2>/dev/null
    fi
    if [[ -n $nginx_pid ]]; then
        kill -QUIT "$nginx_pid" 2>/dev/null
        wait "$nginx_pid" 2>/dev/null
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

# A free loopback port: bind :0, read it, release it.
free_port() {
    node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# Waits until GET url answers 200 (up to 10 s).
wait_ok() {
    for _ in $(seq 100); do
        [[ $(curl -s -o /dev/null -w '%{http_code}' "$1" || true) == 200 ]] && return 0
        sleep 0.1
    done
    echo "bench: $1 never answered 200" >&2
    return 1
}

# --- servers -----------------------------------------------------------------
app_port=$(free_port)
mkdir -p "$tmp/data"
"$bin" serve --listen "127.0.0.1:$app_port" --data-dir "$tmp/data" --threads 2 \
    --log-level warn --no-access-log >"$out/appointd.stderr" 2>&1 &
app_pid=$!

nginx_port=$(free_port)
mkdir -p "$tmp/nginx"
cat >"$tmp/nginx/nginx.conf" <<CONF
worker_processes 2;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $tmp/nginx/body;
    proxy_temp_path $tmp/nginx/proxy;
    fastcgi_temp_path $tmp/nginx/fastcgi;
    uwsgi_temp_path $tmp/nginx/uwsgi;
    scgi_temp_path $tmp/nginx/scgi;
    server {
        listen 127.0.0.1:$nginx_port;
        location = /healthz {
            default_type application/json;
            return 200 '{"status":"ok"}';
        }
    }
}
CONF
"$nginx_bin" -c "$tmp/nginx/nginx.conf" -p "$tmp/nginx" -g 'daemon off;' >"$out/nginx.stderr" 2>&1 &
nginx_pid=$!

wait_ok "http://127.0.0.1:$app_port/healthz"
wait_ok "http://127.0.0.1:$nginx_port/healthz"

# --- load --------------------------------------------------------------------
# Converts a wrk latency ("812.00us", "1.23ms", "1.01s") to milliseconds.
to_ms() {
    awk -v v="$1" 'BEGIN {
        n = v + 0
        if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n *= 1; else if (v ~ /m$/) n *= 60000; else if (v ~ /s$/) n *= 1000
        printf "%.3f", n }'
}

declare -A rps
printf '\n%-9s %6s %12s %10s %8s\n' target conns req/s p99_ms errors
for target in appointd nginx; do
    port=$app_port
    [[ $target == nginx ]] && port=$nginx_port
    url="http://127.0.0.1:$port/healthz"
    wrk -t2 -c16 -d2s "$url" >/dev/null # warm-up
    for c in $conns; do
        t=$((c < 2 ? c : 2)) # wrk needs threads <= connections
        raw=$out/$target-c$c.txt
        wrk -t"$t" -c"$c" -d"$duration" --latency "$url" >"$raw"
        r=$(awk '/^Requests\/sec:/ { print $2 }' "$raw")
        p99=$(awk '$1 == "99%" { print $2 }' "$raw")
        errs=$(awk '/Non-2xx or 3xx responses:/ { n += $NF } /Socket errors:/ {
                   for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) n += $i } END { print n + 0 }' "$raw")
        rps[$target-$c]=$r
        printf '%-9s %6s %12s %10s %8s\n' "$target" "$c" "$r" "$(to_ms "$p99")" "$errs"
    done
done

last=${conns##* }
if [[ -n ${rps[appointd-$last]:-} && -n ${rps[nginx-$last]:-} ]]; then
    awk -v a="${rps[appointd-$last]}" -v n="${rps[nginx-$last]}" -v c="$last" \
        'BEGIN { printf "\nappointd/nginx at %s connections: %.2f\n", c, a / n }'
fi
echo "machine: $(nproc) cores, $(lscpu | sed -nE 's/^Model name:[[:space:]]+//p' | head -n1); raw outputs in build/bench/"
