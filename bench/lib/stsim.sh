# bench/lib/stsim.sh — sourced by benchmarks that need a running stsim.
#
#   source bench/lib/stsim.sh
#   stsim_start BIN OUTDIR NAME [extra stsim flags...]
#       starts stsim (demo seed, connected, free ports) in the background,
#       logs to OUTDIR/NAME.stderr, waits until it is ready; sets $creds and
#       $sim_pid, and installs an EXIT trap that stops it and removes $tmp.
#   stsim_field KEY     prints one field of the credentials file
#
# Needs $tmp (a scratch directory) to be set by the caller.

sim_pid=
stsim_cleanup() {
    set +e
    if [[ -n $sim_pid ]]; then
        kill -TERM "$sim_pid" 2>/dev/null
        wait "$sim_pid" 2>/dev/null
    fi
    rm -rf "$tmp"
}

stsim_start() {
    local bin=$1 out=$2 name=$3
    shift 3
    trap stsim_cleanup EXIT
    creds=$tmp/creds.json
    "$bin" --seed demo --auth-listen 127.0.0.1:0 --api-listen 127.0.0.1:0 \
        --web-listen 127.0.0.1:0 --connect --write-credentials "$creds" "$@" \
        >"$out/$name.stdout" 2>"$out/$name.stderr" &
    sim_pid=$!
    for _ in $(seq 200); do
        [[ -s $creds ]] && grep -q 'event=stsim.ready' "$out/$name.stderr" && return 0
        if ! kill -0 "$sim_pid" 2>/dev/null; then
            echo "bench: stsim exited:" >&2
            tail "$out/$name.stderr" >&2
            exit 1
        fi
        sleep 0.05
    done
    echo "bench: stsim never wrote $creds" >&2
    exit 1
}

stsim_field() {
    node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1]))[process.argv[2]])' \
        "$creds" "$1"
}
