# SPDX-License-Identifier: MIT
# Checks of Go execution traces with real `go tool trace` binaries, shared by
# tests/converter/test_gotrace_go.sh and the integration tests (sourced, never run directly).
# Each function prints what went wrong and returns non-zero; callers decide how to fail.

# gt_http_check GO FILE WORKDIR ENDPOINT...: starts the trace viewer's web server on FILE;
# every ENDPOINT must answer 200 (and /jsontrace valid trace JSON) and the server's log must
# show no recovered panic.
gt_http_check() {
    local go=$1 file=$2 work=$3 port pid ep code rc=0
    shift 3
    port=$((20000 + RANDOM % 20000))
    BROWSER=true "$go" tool trace -http=127.0.0.1:$port "$file" > "$work/server.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 600); do
        grep -q "istening on" "$work/server.log" && break
        kill -0 $pid 2>/dev/null || { cat "$work/server.log"; echo "trace viewer died"; return 1; }
        sleep 0.1
    done
    if ! grep -q "istening on" "$work/server.log"; then
        kill $pid 2>/dev/null
        echo "trace viewer never listened"
        return 1
    fi
    for ep in "$@"; do
        code=$(curl -s -o "$work/body" -w "%{http_code}" --max-time 120 "http://127.0.0.1:$port$ep")
        if [ "$code" != 200 ]; then
            echo "$go tool trace: $ep answered $code"
            rc=1
            continue
        fi
        if [ "${ep%%\?*}" = /jsontrace ] &&
           ! python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["traceEvents"]' \
               "$work/body"; then
            echo "$ep is not valid trace JSON"
            rc=1
        fi
    done
    kill $pid 2>/dev/null
    wait $pid 2>/dev/null
    if grep -qi panic "$work/server.log"; then
        cat "$work/server.log"
        echo "a handler of $go tool trace panicked"
        rc=1
    fi
    return $rc
}

# gt_profile GO FILE MODE OUT: `go tool trace -pprof=MODE`, then `go tool pprof -traces` of it
# into OUT (one block per sample, leaf first).
gt_profile() {
    local go=$1 file=$2 mode=$3 out=$4
    "$go" tool trace -pprof="$mode" "$file" > "$out.pb.gz" 2>"$out.err" ||
        { cat "$out.err"; echo "$go tool trace -pprof=$mode failed"; return 1; }
    go tool pprof -traces "$out.pb.gz" > "$out" 2>"$out.err" ||
        { cat "$out.err"; echo "go tool pprof -traces of -pprof=$mode failed"; return 1; }
}
