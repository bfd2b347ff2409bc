# bench/lib/wrk.sh — sourced by the HTTP benchmarks: ports, readiness, wrk runs.
#
#   source bench/lib/wrk.sh
#   need_tools wrk curl nginx      exits with a hint when one is missing
#   proc_stop PID                  SIGTERM, then waits for it (nothing when PID is empty)
#   free_port                      prints a free loopback port
#   wait_ok URL                    waits until GET URL answers 200 (10 s at most)
#   to_ms 812.00us                 a wrk latency in milliseconds ("0.812")
#   wrk_run NAME URL CONNS DURATION OUT [wrk args...]
#       a 2 s warm-up, then wrk --latency with min(2, CONNS) threads; the raw
#       output goes to OUT/NAME-cCONNS.txt; sets wrk_rps, wrk_p50, wrk_p99 (ms)
#       and wrk_errors (non-2xx/3xx answers + socket errors).

need_tools() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null 2>&1 || [[ $tool == nginx && -x /usr/sbin/nginx ]] || {
            echo "bench: $tool not found (run: scripts/deps bench)" >&2
            exit 1
        }
    done
}

proc_stop() {
    [[ -n ${1:-} ]] || return 0
    kill -TERM "$1" 2>/dev/null
    wait "$1" 2>/dev/null
}

free_port() {
    node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

wait_ok() {
    for _ in $(seq 100); do
        [[ $(curl --noproxy '*' -s -o /dev/null -w '%{http_code}' "$1" || true) == 200 ]] && return 0
        sleep 0.1
    done
    echo "bench: $1 never answered 200" >&2
    return 1
}

to_ms() {
    awk -v v="$1" 'BEGIN {
        n = v + 0
        if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n *= 1; else if (v ~ /m$/) n *= 60000; else if (v ~ /s$/) n *= 1000
        printf "%.3f", n }'
}

wrk_run() {
    local name=$1 url=$2 c=$3 duration=$4 out=$5
    shift 5
    local t=$((c < 2 ? c : 2)) # wrk needs threads <= connections
    local raw=$out/$name-c$c.txt
    wrk -t"$t" -c"$c" -d2s "$@" "$url" >/dev/null # warm-up
    wrk -t"$t" -c"$c" -d"$duration" --latency "$@" "$url" >"$raw"
    wrk_rps=$(awk '/^Requests\/sec:/ { print $2 }' "$raw")
    wrk_p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$raw")")
    wrk_p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$raw")")
    wrk_errors=$(awk '/Non-2xx or 3xx responses:/ { n += $NF } /Socket errors:/ {
               for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) n += $i } END { print n + 0 }' "$raw")
}
