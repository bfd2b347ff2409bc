#!/usr/bin/env bash
# bench/avail.sh — the public availability API (issue 10): warm requests/s and
# p99 at 64 connections beside appointd's /healthz and nginx in the same run,
# and cold-start latency with ServiceTitan (stsim) answering in 300 ms.
#
# Setup, as an operator would do it: stsim (demo seed, connected, --rate-limit
# 0), an account connected to it with the CLI, its catalog read, one
# scheduler (the demo's first active job type, ServiceTitan capacity, 90-day
# horizon, no minimum notice), and the same with capacity "local" (the
# catalog's arrival windows, 3 bookings each, counted by appointd).
# appointd serves with --threads 2 and rate limits far above the load, so
# every answer is a real one.
#
#   warm:  GET /api/v1/schedulers/KEY/availability?service=…&zip=75201&days=7
#          after one cold request filled the cache (--availability-ttl 3600:
#          no refresh during the run); wrk, 64 connections, $DURATION; the
#          local-capacity scheduler's the same way.
#          Beside it: appointd GET /healthz, nginx GET /healthz (a fixed
#          {"status":"ok"}) and nginx serving the same availability answer as
#          a file — nginx with 2 workers, no access log.
#   cold:  an stsim latency fault of 300 ms on POST …/capacity, then $COLD
#          requests one after the other, each for a day not cached yet
#          (from = today + i, days = 1): the time to the answer (curl).
#
# Raw wrk outputs go to build/bench/. Nothing is written to bench/RESULTS.md:
# copy the printed table there by hand.
#
# usage: bench/avail.sh
# env:   APPOINTD_BIN, STSIM_BIN (default build/appointd, build/sim/stsim, built
#        here with ninja when not given), DURATION (10s), CONNS (64), COLD (20),
#        PERF_OUT (a file: perf record -g of appointd during the warm run)
set -euo pipefail

cd "$(dirname "$0")/.."
root=$PWD
duration=${DURATION:-10s}
conns=${CONNS:-64}
cold=${COLD:-20}
out=$root/build/bench

source "$root/bench/lib/stsim.sh"
source "$root/bench/lib/wrk.sh"
source "$root/bench/lib/nginx.sh"
need_tools wrk curl node nginx
if [[ -z ${APPOINTD_BIN:-} || -z ${STSIM_BIN:-} ]]; then
    [[ -f build/build.ninja ]] || meson setup build --buildtype=debugoptimized -Dtests=false >/dev/null
    ninja -C build appointd sim/stsim >/dev/null
fi
bin=${APPOINTD_BIN:-$root/build/appointd}
sim_bin=${STSIM_BIN:-$root/build/sim/stsim}

mkdir -p "$out"
tmp=$(mktemp -d /tmp/avail-bench.XXXXXX)
app_pid=
cleanup() {
    set +e
    proc_stop "$app_pid"
    nginx_stop
    stsim_cleanup
}
stsim_start "$sim_bin" "$out" stsim-avail --rate-limit 0 --threads 2
trap cleanup EXIT

# --- the account, its catalog, a scheduler ---------------------------------------
export APPOINTD_DATA_DIR=$tmp/data APPOINTD_LOG_LEVEL=warn APPOINTD_ST_ENV=custom
APPOINTD_ST_AUTH_URL=$(stsim_field authUrl)
APPOINTD_ST_API_URL=$(stsim_field apiUrl)
APPOINTD_ST_APP_KEY=$(stsim_field appKey)
export APPOINTD_ST_AUTH_URL APPOINTD_ST_API_URL APPOINTD_ST_APP_KEY
control=$(stsim_field controlUrl)
account="Bench Comfort"
"$bin" account create "$account" >/dev/null
"$bin" fms tenant "$account" "$(stsim_field tenantId)" >/dev/null
stsim_field clientSecret | "$bin" fms connect "$account" --client-id "$(stsim_field clientId)" \
    --client-secret-stdin >/dev/null
"$bin" catalog refresh "$account" --json >"$tmp/catalog.json"
node -e '
const c = JSON.parse(require("fs").readFileSync(process.argv[1]));
const jt = c.jobTypes.find((j) => j.active && !j.deleted && (j.businessUnitIds || []).length);
console.log(JSON.stringify({
  name: "Bench", timeZone: "America/Chicago",
  services: [{ id: "svc", label: jt.name, jobTypeId: jt.id, businessUnitId: jt.businessUnitIds[0] }],
  rules: { minNoticeMinutes: 0, horizonDays: 90 },
  serviceArea: { zones: "servicetitan" }, campaignId: c.campaigns.find((x) => x.active).id }));
' "$tmp/catalog.json" >"$tmp/scheduler.json"
node -e 'const c = JSON.parse(require("fs").readFileSync(process.argv[1]));
console.log(JSON.stringify({ ...c, name: "Bench local", capacity: { mode: "local", perWindow: 3 } }))' \
    "$tmp/scheduler.json" >"$tmp/scheduler-local.json"
sched_key() {
    "$bin" scheduler create "$account" --config "$1" --json |
        node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).key))'
}
key=$(sched_key "$tmp/scheduler.json")
local_key=$(sched_key "$tmp/scheduler-local.json")

# --- servers ------------------------------------------------------------------
app_port=$(free_port)
"$bin" serve --listen "127.0.0.1:$app_port" --threads 2 --no-access-log \
    --public-rate 1000000 --scheduler-rate 10000000 --availability-ttl 3600 \
    --availability-max-stale 7200 >"$out/appointd-avail.stderr" 2>&1 &
app_pid=$!
wait_ok "http://127.0.0.1:$app_port/healthz"
avail="http://127.0.0.1:$app_port/api/v1/schedulers/$key/availability?service=svc&zip=75201&days=7"
curl --noproxy '*' -sf "$avail" >"$tmp/avail.json" || { echo "bench: availability failed" >&2; exit 1; }
windows=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).windows.length)' "$tmp/avail.json")

nginx_port=$(free_port)
mkdir -p "$tmp/nginx/www"
cp "$tmp/avail.json" "$tmp/nginx/www/avail.json"
chmod a+rx "$tmp" "$tmp/nginx" "$tmp/nginx/www" # nginx's workers may run as another user
chmod a+r "$tmp/nginx/www/avail.json"
nginx_start "$tmp/nginx" "$out" "$nginx_port" \
    "location = /avail.json { default_type application/json; root $tmp/nginx/www; }"
wait_ok "http://127.0.0.1:$nginx_port/healthz"

# --- warm -------------------------------------------------------------------------
echo "warm: one scheduler, $windows windows ($(wc -c <"$tmp/avail.json") bytes), $conns connections, $duration"
printf '\n%-22s %6s %12s %10s %10s %8s\n' target conns req/s p50_ms p99_ms errors
declare -A rps
for t in availability availability-local healthz nginx-healthz nginx-avail-file; do
    case $t in
    availability) url=$avail ;;
    availability-local) url=${avail/$key/$local_key} ;;
    healthz) url="http://127.0.0.1:$app_port/healthz" ;;
    nginx-healthz) url="http://127.0.0.1:$nginx_port/healthz" ;;
    nginx-avail-file) url="http://127.0.0.1:$nginx_port/avail.json" ;;
    esac
    perf_pid=
    if [[ $t == availability && -n ${PERF_OUT:-} ]]; then # profile appointd while wrk drives it
        (sleep 3 && perf record -F 999 -g -p "$app_pid" -o "$PERF_OUT" -- sleep 5) >/dev/null 2>&1 &
        perf_pid=$!
    fi
    wrk_run "avail-$t" "$url" "$conns" "$duration" "$out"
    [[ -z $perf_pid ]] || wait "$perf_pid" || true
    rps[$t]=$wrk_rps
    printf '%-22s %6s %12s %10s %10s %8s\n' "$t" "$conns" "$wrk_rps" "$wrk_p50" "$wrk_p99" "$wrk_errors"
done
awk -v a="${rps[availability]}" -v n="${rps[nginx-healthz]}" -v f="${rps[nginx-avail-file]}" \
    'BEGIN { printf "\navailability / nginx /healthz: %.2f; availability / nginx same file: %.2f\n", a / n, a / f }'

# --- cold ---------------------------------------------------------------------------
curl --noproxy '*' -sf -X POST "$control/faults" -H 'content-type: application/json' \
    -d '{"match": "/dispatch/v2/tenant/*/capacity", "kind": "latency", "latencyMs": 300}' >/dev/null
base="http://127.0.0.1:$app_port/api/v1/schedulers/$key/availability?service=svc&zip=75201&days=1"
: >"$tmp/cold.txt"
for i in $(seq 1 "$cold"); do
    day=$(node -e 'const d=new Date(Date.now()+Number(process.argv[1])*864e5);console.log(d.toLocaleDateString("en-CA",{timeZone:"America/Chicago"}))' "$((i + 10))")
    curl --noproxy '*' -s -o /dev/null -w '%{http_code} %{time_total}\n' "$base&from=$day" >>"$tmp/cold.txt"
done
echo
echo "cold: $cold requests, each for a day not cached, stsim capacity answering in 300 ms"
node -e '
const rows = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map((l) => l.split(" "));
const bad = rows.filter((r) => r[0] !== "200").length;
const ms = rows.map((r) => Number(r[1]) * 1000).sort((a, b) => a - b);
const q = (p) => ms[Math.min(ms.length - 1, Math.floor(p * ms.length))].toFixed(1);
console.log(`cold ms: min ${ms[0].toFixed(1)}  median ${q(0.5)}  p90 ${q(0.9)}  max ${ms[ms.length - 1].toFixed(1)}  non-200: ${bad}`);
' "$tmp/cold.txt"
calls=$(curl --noproxy '*' -s "$control/requests?host=api" | node -e '
let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).requests.filter((r)=>/\/capacity$/.test(r.path)).length))')
echo "capacity calls in stsim's request log (warm-up + cold): $calls"
echo "machine: $(nproc) cores, $(lscpu | sed -nE 's/^Model name:[[:space:]]+//p' | head -n1); raw outputs in build/bench/"
