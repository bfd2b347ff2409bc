#!/usr/bin/env bash
# bench/titan_client.sh — the ServiceTitan client (src/titan) against stsim on
# loopback with every rate limit off (stsim --rate-limit 0, the client's
# limiter raised to 100000/s), through the load driver tests/titan_load:
#
#   1. client overhead per call: the driver's mean time per call with one
#      thread (token cache, limiter, URL and headers, libcurl, JSON parse of
#      the page) minus wrk's mean time per request with one connection on the
#      same URL with the same headers (the bare HTTP round trip + stsim);
#   2. calls/s from 8 threads sharing one struct ap_titan for $SECONDS s;
#   3. token fetches per 10,000 calls in that run (the cache: ideally 1 per
#      token lifetime, whatever the thread count).
#
# Builds stsim and titan_load in the release-ish build dir build/. Prints the
# figures; copy them into bench/RESULTS.md.
#
# usage: bench/titan_client.sh        env: SECONDS_RUN (default 10), CALLS_1T (default 3000)
set -euo pipefail

cd "$(dirname "$0")/.."
root=$PWD
secs=${SECONDS_RUN:-10}
calls1=${CALLS_1T:-3000}
out=$root/build/bench

for tool in wrk curl node; do
    command -v "$tool" >/dev/null 2>&1 || { echo "bench: $tool not found" >&2; exit 1; }
done
[[ -f build/build.ninja ]] || meson setup build --buildtype=debugoptimized >/dev/null
ninja -C build sim/stsim tests/titan_load/titan_load >/dev/null
sim=$root/build/sim/stsim
drv=$root/build/tests/titan_load/titan_load

mkdir -p "$out"
tmp=$(mktemp -d /tmp/titan-bench.XXXXXX)
source "$root/bench/lib/stsim.sh"
stsim_start "$sim" "$out" titan-stsim --rate-limit 0 --token-rate-limit 0 --threads 2
field() { stsim_field "$1"; }
auth_url=$(field authUrl)
api_url=$(field apiUrl)
tenant=$(field tenantId)
app_key=$(field appKey)
client_id=$(field clientId)
printf %s "$(field clientSecret)" >"$tmp/secret"
chmod 600 "$tmp/secret"

path=/settings/business-units
query=pageSize=10
drive() { # drive THREADS [args...] → JSON report
    local n=$1
    shift
    "$drv" --auth-url "$auth_url" --api-url "$api_url" --app-key "$app_key" --tenant "$tenant" \
        --client-id "$client_id" --client-secret-file "$tmp/secret" --path "$path" \
        --query "$query" --rate-limit 100000 --threads "$n" "$@" 2>>"$out/titan-driver.stderr"
}
jget() { node -e 'console.log(JSON.parse(process.argv[1])[process.argv[2]])' "$1" "$2"; }

# 1. per call, one thread: the client vs wrk with one connection
drive 1 --calls 300 >/dev/null # warm-up
one=$(drive 1 --calls "$calls1")
token=$(curl --noproxy '*' -sf "$auth_url/connect/token" --data-urlencode grant_type=client_credentials \
    --data-urlencode "client_id=$client_id" --data-urlencode "client_secret@$tmp/secret" |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).access_token))')
url="$api_url/settings/v2/tenant/$tenant/business-units?$query"
wrk -t1 -c1 -d5s -H "ST-App-Key: $app_key" -H "Authorization: Bearer $token" \
    -H "Accept: application/json" "$url" >"$out/titan-wrk-c1.txt"
wrk_rps=$(awk '/^Requests\/sec:/ { print $2 }' "$out/titan-wrk-c1.txt")
client_us=$(jget "$one" mean_call_us)
wrk_us=$(awk -v r="$wrk_rps" 'BEGIN { printf "%.1f", 1e6 / r }')
overhead=$(awk -v a="$client_us" -v b="$wrk_us" 'BEGIN { printf "%.1f", a - b }')

# 2 + 3. eight threads
eight=$(drive 8 --seconds "$secs")
cps=$(jget "$eight" calls_per_s)
calls8=$(jget "$eight" calls)
fetches=$(jget "$eight" token_fetches)
fails=$(jget "$eight" failures)
per10k=$(awk -v f="$fetches" -v c="$calls8" 'BEGIN { printf "%.2f", c ? f * 10000 / c : 0 }')

echo
echo "1 thread:  client ${client_us} us/call ($(jget "$one" calls) calls), wrk -c1 ${wrk_us} us/request (${wrk_rps} req/s)"
echo "           client overhead per call: ${overhead} us"
echo "8 threads: ${cps} calls/s over ${secs} s (${calls8} calls, ${fails} failures)"
echo "token fetches per 10,000 calls: ${per10k} (${fetches} fetches in ${calls8} calls)"
echo "driver JSON (1 thread):  $one"
echo "driver JSON (8 threads): $eight"
echo "machine: $(nproc) cores, $(lscpu | sed -nE 's/^Model name:[[:space:]]+//p' | head -n1); stsim --rate-limit 0 --threads 2"
