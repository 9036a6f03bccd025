#!/usr/bin/env bash
# How light is the harness? hyperfine times, in one run and side by side:
#   - `true` and `bash -c 'echo hello'`: the floor any harness that starts a process pays;
#   - `fallout validate` of hello-nodes.yaml;
#   - `fallout exec` of a trivial one-node test (bench/trivial.yaml), whole run: state
#     check, setup, workload, teardown, checkers, testrun.json and logs;
#   - `fallout exec` of the 3-node hello-nodes.yaml (it sleeps 200 ms on purpose).
# Then GNU time gives each command's peak memory (maximum resident set size).
#
# Usage: bench/exec.sh [RUNS]   (default 30; needs hyperfine and time, Debian packages)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-30}
bin=$PWD/bin/fallout
[[ -x $bin ]] || make -s
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export FALLOUT_STATE_DIR=$tmp/state

# Each exec needs a new output folder: hyperfine's --prepare empties the last one.
hyperfine --shell=none --warmup 3 --runs "$runs" --export-markdown "$tmp/times.md" \
	-n 'true' 'true' \
	-n "bash -c 'echo hello'" "bash -c 'echo hello'" \
	-n 'fallout validate hello-nodes' "$bin validate -q examples/hello-nodes.yaml" \
	--prepare "rm -rf $tmp/out" \
	-n 'fallout exec trivial (1 node)' "$bin exec -o $tmp/out bench/trivial.yaml" \
	-n 'fallout exec hello-nodes (3 nodes, sleeps 200 ms)' "$bin exec -o $tmp/out examples/hello-nodes.yaml" \
	>/dev/null 2>&1 || hyperfine --shell=none --runs 3 "$bin exec -o $tmp/out bench/trivial.yaml"
cat "$tmp/times.md"
echo
peak() {
	rm -rf "$tmp/out"
	/usr/bin/time -f '%M' -o "$tmp/rss" "$@" >/dev/null 2>&1 || true
	printf '| %s | %s |\n' "$*" "$(tail -1 "$tmp/rss")"
}
echo "| command | peak RSS (KiB) |"
echo "|:---|---:|"
peak true
peak bash -c 'echo hello'
peak "$bin" validate -q examples/hello-nodes.yaml
peak "$bin" exec -o "$tmp/out" bench/trivial.yaml
peak "$bin" exec -o "$tmp/out" examples/hello-nodes.yaml
