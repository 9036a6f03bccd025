#!/usr/bin/env bash
# The service's API under load, against nginx serving static files of the same sizes, in
# one run. A `fallout serve` (single-user mode, its own loopback port and temp data folder)
# gets RUNS finished runs of one test in its store: one real run through the API, then,
# with the server stopped, its row copied RUNS-1 times (new ids, spread creation times)
# with Python's sqlite3; then the server starts again.
# wrk (THREADS threads, CONNS connections, DURATION seconds, --latency) then measures:
#   (a) GET /tests/E/N/runs/api?limit=100   a page of the listing
#   (b) GET /tests/E/N/runs/api             the whole listing (RUNS runs)
#   (c) GET /tests/E/N/runs/R/api           one run (full JSON: definition, artifacts)
# and the same against nginx (its own temporary config, access_log off, 2 workers) serving
# files holding exactly the bytes of (a), (b) and (c)'s responses: the ceiling for sending
# that many bytes over HTTP on this machine.
#
# Prints a Markdown table: requests/s, p50 and p99 of each, and fallout/nginx ratios.
#
# Usage: bench/api.sh   (env: RUNS=10000 DURATION=10 THREADS=2 CONNS=32 FALLOUT_BIN=bin/fallout)
# Needs wrk, nginx and curl (Debian: `scripts/deps.sh bench` adds wrk and nginx-light).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-10000}
duration=${DURATION:-10}
threads=${THREADS:-2}
conns=${CONNS:-32}
bin=${FALLOUT_BIN:-$PWD/bin/fallout}
for t in wrk nginx curl; do
	command -v "$t" >/dev/null || { echo "bench/api.sh: $t is missing (scripts/deps.sh bench)" >&2; exit 2; }
done
[[ -x $bin ]] || make -s
tmp=$(mktemp -d)
srv_pid= nginx_pid=
cleanup() {
	[[ -n $srv_pid ]] && kill "$srv_pid" 2>/dev/null && wait "$srv_pid" 2>/dev/null
	[[ -n $nginx_pid ]] && kill "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
email=bench@example.com
export FALLOUT_AUTH_MODE=SINGLE_USER FALLOUT_ADMIN_CREDS=bench:$email:bench-password-1
unset FALLOUT_LIBRARY

port=$(free_port)
url=http://127.0.0.1:$port
start_server() {
	"$bin" serve --listen "127.0.0.1:$port" --data "$tmp/data" >>"$tmp/server.log" 2>&1 &
	srv_pid=$!
	for _ in $(seq 200); do
		curl -sf "$url/health" >/dev/null 2>&1 && return 0
		kill -0 "$srv_pid" 2>/dev/null || break
		sleep 0.05
	done
	echo "bench/api.sh: fallout serve did not start:" >&2
	cat "$tmp/server.log" >&2
	exit 1
}
stop_server() {
	kill "$srv_pid"
	wait "$srv_pid" || true
	srv_pid=
}

# One real run, so the copies are what a finished run really looks like.
start_server
cat >"$tmp/bench.yaml" <<'YAML'
workload:
  phases:
    - hello:
        module: bash
        properties:
          script: echo hello
  checkers:
    ok:
      checker: nofail
YAML
curl -sf -X POST -H 'Content-Type: application/x-yaml' --data-binary "@$tmp/bench.yaml" \
	"$url/tests/bench/api" >/dev/null
run=$(curl -sf -X POST -H 'Content-Type: application/json' -d '{"jsonTemplateParams": {}}' \
	"$url/tests/bench/runs/api" | python3 -c 'import json, sys; print(json.load(sys.stdin)["testRunId"])')
for _ in $(seq 600); do
	state=$(curl -sf "$url/tests/$email/bench/runs/$run/api" | python3 -c 'import json, sys; print(json.load(sys.stdin)["state"])')
	[[ $state == PASSED || $state == FAILED || $state == ABORTED ]] && break
	sleep 0.1
done
[[ $state == PASSED ]] || { echo "bench/api.sh: the seed run ended $state" >&2; exit 1; }
stop_server

# Copy the run's row (store_sqlite.c's schema) with new ids, and creation times a
# millisecond apart, so the listing's order is well defined.
python3 - "$tmp/data/fallout.db" "$run" "$runs" <<'PY'
import sqlite3, sys, uuid
db, run, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
con = sqlite3.connect(db)
cur = con.execute("SELECT * FROM runs WHERE run_id = ?", (run,))
cols = [d[0] for d in cur.description]
row = cur.fetchone() or sys.exit(f"the store holds no run {run}")
idx, created = cols.index("run_id"), cols.index("created_at")
rows = []
for i in range(1, n):
    r = list(row)
    r[idx] = str(uuid.uuid4())
    r[created] = row[created] - i
    rows.append(r)
marks = ", ".join("?" * len(cols))
with con:
    con.executemany(f"INSERT INTO runs ({', '.join(cols)}) VALUES ({marks})", rows)
got = con.execute("SELECT count(*) FROM runs").fetchone()[0]
print(f"store: {got} runs", file=sys.stderr)
PY
start_server

page=/tests/$email/bench/runs/api?limit=100
all=/tests/$email/bench/runs/api
one=/tests/$email/bench/runs/$run/api
mkdir -p "$tmp/www"
# nginx's workers (started by root, they run as nobody or www-data) must read the files
chmod 755 "$tmp" "$tmp/www"
curl -sf -o "$tmp/www/page.json" "$url$page"
curl -sf -o "$tmp/www/all.json" "$url$all"
curl -sf -o "$tmp/www/one.json" "$url$one"
chmod 644 "$tmp"/www/*.json
count=$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))))' "$tmp/www/all.json")
[[ $count == "$runs" ]] || { echo "bench/api.sh: the listing holds $count runs, not $runs" >&2; exit 1; }

nport=$(free_port)
mkdir -p "$tmp/nginx"
cat >"$tmp/nginx/nginx.conf" <<EOF
worker_processes 2;
daemon off;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $tmp/nginx/body;
	proxy_temp_path $tmp/nginx/proxy;
	fastcgi_temp_path $tmp/nginx/fastcgi;
	uwsgi_temp_path $tmp/nginx/uwsgi;
	scgi_temp_path $tmp/nginx/scgi;
	default_type application/json;
	server {
		listen 127.0.0.1:$nport;
		root $tmp/www;
	}
}
EOF
nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/error.log" &
nginx_pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$nport/one.json" >/dev/null 2>&1 && break; sleep 0.05; done
for f in page all one; do
	got=$(curl -sf "http://127.0.0.1:$nport/$f.json" | wc -c)
	[[ $got == $(stat -c %s "$tmp/www/$f.json") ]] || { echo "bench/api.sh: nginx sends $got bytes of $f" >&2; exit 1; }
done

# wrk's numbers: requests/s, p50 and p99 in ms.
measure() {
	wrk -t"$threads" -c"$conns" -d"${duration}s" --latency "$1" >"$tmp/wrk.out" 2>&1
	python3 - "$tmp/wrk.out" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
def ms(v):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", v)
    x, u = float(m.group(1)), m.group(2)
    return x * {"us": 1e-3, "ms": 1, "s": 1e3, "m": 6e4}[u]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
p50 = ms(re.search(r"^\s+50%\s+(\S+)", t, re.M).group(1))
p99 = ms(re.search(r"^\s+99%\s+(\S+)", t, re.M).group(1))
errs = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
if errs:
    sys.exit(f"wrk: {errs.group(1)} error responses:\n{t}")
print(f"{rps:.0f} {p50:.3f} {p99:.3f}")
PY
}

echo "fallout serve (single-user, SQLite store with $runs runs) vs nginx $(nginx -v 2>&1 | sed 's/.*nginx\///'), wrk -t$threads -c$conns -d${duration}s, $(nproc) cores"
echo
echo "| request | bytes | fallout req/s | nginx req/s | ratio | fallout p50 / p99 (ms) | nginx p50 / p99 (ms) |"
echo "|:---|---:|---:|---:|---:|---:|---:|"
for pair in "page|$page|a page of 100 runs" "all|$all|all $runs runs" "one|$one|one run"; do
	IFS='|' read -r f path label <<<"$pair"
	read -r frps fp50 fp99 < <(measure "$url$path")
	read -r nrps np50 np99 < <(measure "http://127.0.0.1:$nport/$f.json")
	ratio=$(python3 -c "print(f'{$frps / $nrps:.2f}')")
	printf '| %s | %s | %s | %s | %s | %s / %s | %s / %s |\n' "$label" "$(stat -c %s "$tmp/www/$f.json")" \
		"$frps" "$nrps" "$ratio" "$fp50" "$fp99" "$np50" "$np99"
done
