#!/usr/bin/env bash
# kvload against redis-benchmark, in one run, on the same Redis: one redis-server on
# loopback (its own port and temp folder, no persistence), then for pipeline depths 1 and
# 16, SET then GET: kvload (through `fallout exec`, closed model, DURATION seconds) and
# redis-benchmark (-t set or get, -n sized so it runs about as long), both
# with CLIENTS connections, KEYS random keys and 3-byte values, taking turns test by test
# (and which goes first, round by round) so a burst of other load on the machine hits both
# alike. Both key spaces are filled first. ROUNDS rounds; each figure is the median.
#
# Prints a Markdown table: throughput of each, their ratio (kvload / redis-benchmark), p50
# and p99 latency of each (kvload: closed model, so response time = service time), and the
# client's CPU time (user + system, GNU time) per request: the figure least disturbed by
# whatever else the machine runs.
#
# Usage: bench/kvload.sh   (env: CLIENTS=50 KEYS=100000 DURATION=3 ROUNDS=3 FALLOUT_BIN=bin/fallout)
# Needs redis-server, redis-benchmark and GNU time (Debian's redis-server, redis-tools, time).
set -euo pipefail
cd "$(dirname "$0")/.."
clients=${CLIENTS:-50}
keys=${KEYS:-100000}
duration=${DURATION:-3}
rounds=${ROUNDS:-3}
bin=${FALLOUT_BIN:-$PWD/bin/fallout}
[[ -x $bin ]] || make -s
tmp=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$tmp" \
	--logfile "$tmp/redis.log" --daemonize yes --pidfile "$tmp/redis.pid"
cleanup() {
	redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || kill "$(cat "$tmp/redis.pid")" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
export FALLOUT_STATE_DIR=$tmp/state

# kvload's definition: one test (SET or GET), same clients, keys and value size as
# redis-benchmark.
cat >"$tmp/kvload.yaml" <<'YAML'
port: 6379
pipeline: 1
clients: 50
keys: 100000
duration: 3s
ratio: "0:1"
test: set
---
ensemble:
  server:
    node.count: 1
    provisioner:
      name: local
  client: server
workload:
  phases:
    - {{test}}:
        module: kvload
        properties:
          target: 127.0.0.1:{{port}}
          cluster: "off"
          connections: {{clients}}
          pipeline: {{pipeline}}
          keys: {{keys}}
          key.prefix: "key:"
          value.size: 3
          ratio: "{{ratio}}"
          duration: {{duration}}
          log.name: {{test}}
  checkers:
    nofail:
      checker: nofail
YAML

# The CPU seconds (user + system) GNU time wrote to $1.
cpu() { awk '{ print $1 + $2 }' "$1"; }

# kvload's summary from a run's history, as a results line; prints its rate.
kvload_line() {
	python3 - "$1" "$2" "$3" "$results" <<'PY'
import json, sys
out, p, cpu, results = sys.argv[1:]
for line in open(out + "/controller/jepsen-history.json"):
    o = json.loads(line)
    if o["module"] == "kvload" and o["type"] == "ok":
        s = json.loads(o["value"])
        with open(results, "a") as f:
            print("kvload", p, o["process"].upper(), s["rate"], s["p50_ms"], s["p99_ms"],
                  float(cpu) * 1e6 / s["ops"], file=f)
        print(int(s["rate"]))
PY
}

# One line per measurement: tool pipeline test ops/s p50 p99 cpu-us/op.
results=$tmp/results.txt
: >"$results"

run_kvload() { # pipeline test ratio
	local out=$tmp/run-$round-$1-$2
	/usr/bin/time -f '%U %S' -o "$tmp/time" "$bin" exec -o "$out" "$tmp/kvload.yaml" port="$port" \
		pipeline="$1" clients="$clients" keys="$keys" duration="${duration}s" ratio="$3" test="$2" \
		>/dev/null 2>"$tmp/exec.err" || { cat "$tmp/exec.err" >&2; exit 1; }
	kvload_line "$out" "$1" "$(cpu "$tmp/time")" >"$tmp/rate-$1-$2"
}

run_redis_benchmark() { # pipeline test: runs about as long as kvload did (-n from its rate)
	local n=$(($(cat "$tmp/rate-$1-$2") * duration))
	[[ $n -ge 10000 ]] || n=10000
	/usr/bin/time -f '%U %S' -o "$tmp/time" redis-benchmark -h 127.0.0.1 -p "$port" -c "$clients" \
		-n "$n" -P "$1" -r "$keys" -d 3 -t "$2" --csv >"$tmp/rb.csv" 2>/dev/null
	python3 -c '
import csv, sys
for row in csv.DictReader(open(sys.argv[1])):
    print("redis-benchmark", sys.argv[2], row["test"], row["rps"], row["p50_latency_ms"], row["p99_latency_ms"],
          float(sys.argv[3]) * 1e6 / int(sys.argv[4]))
' "$tmp/rb.csv" "$1" "$(cpu "$tmp/time")" "$n" >>"$results"
}

# Both key spaces filled first (not measured), so no measured SET pays for growing Redis.
round=0
"$bin" exec -o "$tmp/fill" "$tmp/kvload.yaml" port="$port" pipeline=16 clients="$clients" keys="$keys" \
	ratio=0:1 test=fill duration=2s >/dev/null 2>&1
redis-benchmark -h 127.0.0.1 -p "$port" -c "$clients" -n $((keys * 3)) -P 16 -r "$keys" -d 3 -t set -q >/dev/null
: >"$results"

# The tools take turns test by test, kvload first in odd rounds and redis-benchmark first
# in even ones (sized from the last round's kvload rate).
for round in $(seq "$rounds"); do
	for p in 1 16; do
		for test in set get; do
			ratio=$([[ $test == set ]] && echo 0:1 || echo 1:0)
			if ((round % 2 == 1)); then
				run_kvload "$p" "$test" "$ratio"
				run_redis_benchmark "$p" "$test"
			else
				run_redis_benchmark "$p" "$test"
				run_kvload "$p" "$test" "$ratio"
			fi
		done
	done
done

python3 - "$results" "$clients" "$keys" "$rounds" "$(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/')" <<'PY'
import statistics, sys
path, clients, keys, rounds, version = sys.argv[1:]
rows = {}
for line in open(path):
    tool, p, test, rate, p50, p99, cpu = line.split()
    rows.setdefault((tool, int(p), test), []).append((float(rate), float(p50), float(p99), float(cpu)))
def med(tool, p, test, i):
    return statistics.median(r[i] for r in rows[(tool, p, test)])
print(f"redis-server {version} on 127.0.0.1; {clients} connections, {keys} random keys, 3-byte values; "
      f"median of {rounds} round(s)\n")
print("| pipeline | test | kvload ops/s | redis-benchmark ops/s | ratio | kvload p50 / p99 ms "
      "| redis-benchmark p50 / p99 ms | client CPU µs/op kvload / redis-benchmark |")
print("|---:|:---|---:|---:|---:|---:|---:|---:|")
for p in (1, 16):
    for test in ("SET", "GET"):
        k, b = med("kvload", p, test, 0), med("redis-benchmark", p, test, 0)
        print(f"| {p} | {test} | {k:,.0f} | {b:,.0f} | {k / b:.2f} | "
              f"{med('kvload', p, test, 1):.3f} / {med('kvload', p, test, 2):.3f} | "
              f"{med('redis-benchmark', p, test, 1):.3f} / {med('redis-benchmark', p, test, 2):.3f} | "
              f"{med('kvload', p, test, 3):.2f} / {med('redis-benchmark', p, test, 3):.2f} |")
PY
