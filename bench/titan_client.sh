#!/usr/bin/env bash
# bench/titan_client.sh — the ServiceTitan client (src/titan) against stsim
# on loopback, through the load driver tests/titan_load, compared in the same
# run with the client of a reference commit (by default the one before the
# asynchronous engine: the client with a thread per call), whose titan_load
# is built from `git archive` in a temporary directory.
#
# Part A, every rate limit off (stsim --rate-limit 0 --token-rate-limit 0, the
# client's own limit raised to 100,000/s):
#   1. per call on one thread (blocking), this client and the reference, and
#      wrk with one connection on the same URL and headers (the bare round
#      trip + stsim): the client's overhead per call;
#   2. calls/s from 8 threads making blocking calls, both clients;
#   3. calls/s from ONE thread submitting asynchronously (a window of 64 in
#      flight) — the reference has no such mode;
#   4. token fetches per 10,000 calls in those runs.
# Part B, 20 tenants at once with stsim answering every API call after
# 300 ms (a latency fault) and its default limit of 60 requests/s per
# (app, tenant); the client's limit 50/s per tenant:
#   5. this client: one process, one submitting thread (up to 600 calls in
#      flight or waiting for their limiter slot), all 20 tenants;
#      the reference: one process per tenant, THREADS_B blocking threads each
#      (a thread per call in flight: 50/s × 0.3 s needs 15). Calls/s per
#      tenant (goal ≥ 90% of 50/s), 429s, token fetches, and the CPU time and
#      peak memory each side used (robust to a busy machine, unlike speed).
#
# usage: bench/titan_client.sh
#   env: SECONDS_RUN (8), CALLS_1T (3000), SECONDS_B (20), THREADS_B (16),
#        REF (a commit; default: the parent of the commit that added src/httpc/loop.c)
set -euo pipefail

cd "$(dirname "$0")/.."
root=$PWD
secs=${SECONDS_RUN:-8}
calls1=${CALLS_1T:-3000}
secs_b=${SECONDS_B:-20}
threads_b=${THREADS_B:-16}
out=$root/build/bench

for tool in wrk curl node git meson ninja /usr/bin/time; do
    command -v "$tool" >/dev/null 2>&1 || { echo "bench: $tool not found" >&2; exit 1; }
done
[[ -f build/build.ninja ]] || meson setup build --buildtype=debugoptimized >/dev/null
ninja -C build sim/stsim tests/titan_load/titan_load >/dev/null
sim=$root/build/sim/stsim
drv=$root/build/tests/titan_load/titan_load

mkdir -p "$out"
tmp=$(mktemp -d /tmp/titan-bench.XXXXXX)
source "$root/bench/lib/stsim.sh"

# --- the reference client, built from its commit -------------------------------
ref=${REF:-}
if [[ -z $ref ]]; then
    added=$(git log --diff-filter=A --format=%H -- src/httpc/loop.c | tail -n1)
    ref=$(git rev-parse "${added:?no commit adds src/httpc/loop.c}^")
fi
ref_short=$(git rev-parse --short "$ref")
echo "reference: $ref_short ($(git log -1 --format=%s "$ref" | cut -c1-70))"
mkdir -p "$tmp/ref"
git archive "$ref" | tar -x -C "$tmp/ref"
(cd "$tmp/ref" && meson setup build --buildtype=debugoptimized -Dtests=false >/dev/null &&
    ninja -C build tests/titan_load/titan_load >/dev/null)
ref_drv=$tmp/ref/build/tests/titan_load/titan_load

stsim_start "$sim" "$out" titan-stsim --rate-limit 0 --token-rate-limit 0 --threads 2
field() { stsim_field "$1"; }
auth_url=$(field authUrl)
api_url=$(field apiUrl)
control=$(field controlUrl)
tenant=$(field tenantId)
app_key=$(field appKey)
app_id=$(field appId)
client_id=$(field clientId)
printf %s "$(field clientSecret)" >"$tmp/secret"
chmod 600 "$tmp/secret"

path=/settings/business-units
query=pageSize=10
drive() { # drive BINARY [args...] → JSON report (one tenant, limit off); CPU time in $tmp/time
    local bin=$1
    shift
    /usr/bin/time -f '%U %S' -o "$tmp/time" "$bin" --auth-url "$auth_url" --api-url "$api_url" --app-key "$app_key" --tenant "$tenant" \
        --client-id "$client_id" --client-secret-file "$tmp/secret" --path "$path" \
        --query "$query" --rate-limit 100000 "$@" 2>>"$out/titan-driver.stderr"
}
jget() { node -e 'console.log(JSON.parse(process.argv[1])[process.argv[2]])' "$1" "$2"; }
per10k() { awk -v f="$(jget "$1" token_fetches)" -v c="$(jget "$1" calls)" \
    'BEGIN { printf "%.2f", c ? f * 10000 / c : 0 }'; }

# --- A1. one thread, per call --------------------------------------------------
drive "$drv" --threads 1 --calls 300 >/dev/null # warm-up
drive "$ref_drv" --threads 1 --calls 300 >/dev/null
one=$(drive "$drv" --threads 1 --calls "$calls1")
one_ref=$(drive "$ref_drv" --threads 1 --calls "$calls1")
token=$(curl --noproxy '*' -sf "$auth_url/connect/token" --data-urlencode grant_type=client_credentials \
    --data-urlencode "client_id=$client_id" --data-urlencode "client_secret@$tmp/secret" |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).access_token))')
wrk -t1 -c1 -d5s -H "ST-App-Key: $app_key" -H "Authorization: Bearer $token" \
    -H "Accept: application/json" "$api_url/settings/v2/tenant/$tenant/business-units?$query" \
    >"$out/titan-wrk-c1.txt"
wrk_rps=$(awk '/^Requests\/sec:/ { print $2 }' "$out/titan-wrk-c1.txt")
wrk_us=$(awk -v r="$wrk_rps" 'BEGIN { printf "%.1f", 1e6 / r }')
cpu_us() { # cpu_us REPORT → the driver's CPU time (user + system) per call, in µs
    awk -v c="$(jget "$1" calls)" '{ printf "%.1f", c ? ($1 + $2) * 1e6 / c : 0 }' "$2"
}
over() { awk -v a="$(jget "$1" mean_call_us)" -v b="$wrk_us" 'BEGIN { printf "%.1f", a - b }'; }

# --- A2–A4. eight threads; one thread submitting ----------------------------------
eight=$(drive "$drv" --threads 8 --seconds "$secs")
cpu_eight=$(cpu_us "$eight" "$tmp/time")
eight_ref=$(drive "$ref_drv" --threads 8 --seconds "$secs")
cpu_eight_ref=$(cpu_us "$eight_ref" "$tmp/time")
async=$(drive "$drv" --async 64 --seconds "$secs")
cpu_async=$(cpu_us "$async" "$tmp/time")

# --- B. twenty tenants at 300 ms ------------------------------------------------------
# 20 tenants, each with the demo app added and connected; the limits back to
# ServiceTitan's (60/s per (app, tenant)); every API answer delayed 300 ms
node --input-type=module - "$control" "$app_id" "$tmp/tenants" <<'EOF'
import { writeFileSync } from 'node:fs';
const [control, appId, file] = process.argv.slice(2);
const post = async (p, body, method = 'POST') => {
  const r = await fetch(control + p, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!r.ok) throw new Error(`${method} ${p}: ${r.status} ${await r.text()}`);
  return r.json();
};
const lines = [];
for (let i = 0; i < 20; i++) {
  const id = 3000001 + i;
  await post('/tenants', { id, name: `Bench tenant ${i + 1}`, seed: 'none' });
  await post(`/apps/${appId}/tenants`, { tenantId: id });
  const c = await post('/connections', { tenantId: id, appId });
  lines.push(`${id} ${c.clientId} ${c.clientSecret}`);
}
writeFileSync(file, lines.join('\n') + '\n', { mode: 0o600 });
await post('/config', { rateLimit: 60, tokenRateLimit: 60 }, 'PUT');
await post('/faults', { match: '*', kind: 'latency', latencyMs: 300 });
EOF
counters() { curl --noproxy '*' -sf "$control/counters"; }
tokens_before=$(jget "$(counters)" tokensIssued)
many=$(/usr/bin/time -f '%U %S %M' -o "$tmp/time-this" "$drv" --auth-url "$auth_url" --api-url "$api_url" --app-key "$app_key" \
    --tenants-file "$tmp/tenants" --path "$path" --query "$query" --rate-limit 50 \
    --async 600 --max-connections 1024 --seconds "$secs_b" 2>>"$out/titan-driver.stderr")
c1=$(counters)
# the reference: one process per tenant, threads_b threads each
pids=()
i=0
while read -r t cid sec; do
    printf %s "$sec" >"$tmp/secret-$i"
    /usr/bin/time -f '%U %S %M' -o "$tmp/time-ref-$i" \
        "$ref_drv" --auth-url "$auth_url" --api-url "$api_url" --app-key "$app_key" --tenant "$t" \
        --client-id "$cid" --client-secret-file "$tmp/secret-$i" --path "$path" --query "$query" \
        --rate-limit 50 --threads "$threads_b" --seconds "$secs_b" >"$tmp/ref-$i.json" \
        2>>"$out/titan-driver.stderr" &
    pids+=($!)
    i=$((i + 1))
done <"$tmp/tenants"
wait "${pids[@]}"
c2=$(counters)
ref_many=$(node -e '
const fs = require("fs");
const r = [...Array(20).keys()].map((i) => JSON.parse(fs.readFileSync(`${process.argv[1]}/ref-${i}.json`, "utf8")));
const sum = (k) => r.reduce((a, x) => a + x[k], 0);
const secs = Math.max(...r.map((x) => x.seconds));
const per = r.map((x) => x.calls / x.seconds);
const f1 = (x) => Number(x.toFixed(1));
console.log(JSON.stringify({ calls: sum("calls"), failures: sum("failures"), token_fetches: sum("token_fetches"),
  http_429: sum("http_429"), seconds: f1(secs), calls_per_s: f1(sum("calls") / secs),
  per_tenant_min_per_s: f1(Math.min(...per)), per_tenant_max_per_s: f1(Math.max(...per)) }));
' "$tmp")
# CPU seconds (user + system) and peak memory: this one process, the reference's 20
cpu_this=$(awk '{ printf "%.1f s CPU, %.0f MB peak", $1 + $2, $3 / 1024 }' "$tmp/time-this")
cpu_ref=$(cat "$tmp"/time-ref-* | awk '{ c += $1 + $2; m += $3 } END { printf "%.1f s CPU, %.0f MB peak (sum)", c, m / 1024 }')
limited() { node -e 'const a=JSON.parse(process.argv[1]),b=JSON.parse(process.argv[2]);console.log((b.rateLimited||0)-(a.rateLimited||0))' "$1" "$2"; }

echo
echo "A. one tenant, limits off (stsim --rate-limit 0 --threads 2)"
echo "  1 thread, per call:   this $(jget "$one" mean_call_us) us, reference $(jget "$one_ref" mean_call_us) us," \
    "wrk -c1 ${wrk_us} us (${wrk_rps} req/s)"
echo "                        overhead: this $(over "$one") us, reference $(over "$one_ref") us"
echo "  8 threads, blocking:  this $(jget "$eight" calls_per_s) calls/s ($(jget "$eight" failures) failures)," \
    "reference $(jget "$eight_ref" calls_per_s) calls/s ($(jget "$eight_ref" failures) failures)"
echo "  1 thread, async (64 in flight): this $(jget "$async" calls_per_s) calls/s ($(jget "$async" failures) failures)"
echo "  client CPU per call:  this ${cpu_eight} us (8 threads), ${cpu_async} us (async); reference ${cpu_eight_ref} us (8 threads)"
echo "  token fetches per 10,000 calls: this $(per10k "$eight") (8 threads), $(per10k "$async") (async);" \
    "reference $(per10k "$eight_ref")"
echo
echo "B. 20 tenants, stsim 300 ms per API call, 60/s per tenant; client limit 50/s per tenant, ${secs_b} s"
echo "  this (1 process, 1 submitting thread + the engine): $(jget "$many" calls_per_s) calls/s," \
    "per tenant $(node -e 'const r=JSON.parse(process.argv[1]);console.log((r.per_tenant_min/r.seconds).toFixed(1)+"–"+(r.per_tenant_max/r.seconds).toFixed(1))' "$many")/s," \
    "$(jget "$many" failures) failures, 429s at stsim: $(limited "{\"rateLimited\":0}" "$c1")," \
    "token fetches $(jget "$many" token_fetches); $cpu_this"
echo "  reference (20 processes × ${threads_b} threads): $(jget "$ref_many" calls_per_s) calls/s," \
    "per tenant $(jget "$ref_many" per_tenant_min_per_s)–$(jget "$ref_many" per_tenant_max_per_s)/s," \
    "$(jget "$ref_many" failures) failures, 429s at stsim: $(limited "$c1" "$c2"), token fetches $(jget "$ref_many" token_fetches); $cpu_ref"
echo
echo "driver JSON (this, 1 thread):   $one"
echo "driver JSON (ref, 1 thread):    $one_ref"
echo "driver JSON (this, 8 threads):  $eight"
echo "driver JSON (ref, 8 threads):   $eight_ref"
echo "driver JSON (this, async):      $async"
echo "driver JSON (this, 20 tenants): $many"
echo "summary (ref, 20 tenants):      $ref_many"
echo "tokens issued by stsim before part B: $tokens_before"
echo "machine: $(nproc) cores, $(lscpu | sed -nE 's/^Model name:[[:space:]]+//p' | head -n1); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
