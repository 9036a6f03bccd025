#!/usr/bin/env bash
# How light is the harness? Times `fallout exec` of a trivial one-node test and of the
# 3-node quickstart, and reports wall time (median of N runs) and exec's peak memory
# (maximum resident set size, from GNU time). For comparison it times `true` and a bare
# `bash -c 'echo hello'`, the floor any harness that starts a process pays.
#
# Usage: bench/exec.sh [RUNS]     (default 20; needs /usr/bin/time, from Debian's `time`)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
bin=bin/fallout
[[ -x $bin ]] || make -s
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export FALLOUT_STATE_DIR=$tmp/state

# median_ms CMD...: runs CMD $runs times, prints the median wall time in ms.
median_ms() {
	local times=()
	for ((i = 0; i < runs; i++)); do
		local t0 t1
		t0=$(date +%s%N)
		"$@" >/dev/null 2>&1
		t1=$(date +%s%N)
		times+=($(((t1 - t0) / 1000)))
	done
	printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]/1000}'
}

# peak_kb CMD...: the maximum resident set size of CMD, in KiB.
peak_kb() {
	/usr/bin/time -f '%M' -o "$tmp/rss" "$@" >/dev/null 2>&1 || true
	tail -1 "$tmp/rss"
}

n=0
next_out() { n=$((n + 1)); echo "$tmp/run$n"; }
exec_trivial() { $bin exec -o "$(next_out)" bench/trivial.yaml; }
exec_quickstart() { $bin exec -o "$(next_out)" examples/quickstart.yaml; }
validate_quickstart() { $bin validate -q examples/quickstart.yaml; }

printf '%-40s %12s %14s\n' "command" "median ms" "peak RSS KiB"
printf '%-40s %12s %14s\n' "true" "$(median_ms true)" "$(peak_kb true)"
printf '%-40s %12s %14s\n' "bash -c 'echo hello'" "$(median_ms bash -c 'echo hello')" "$(peak_kb bash -c 'echo hello')"
printf '%-40s %12s %14s\n' "fallout validate quickstart.yaml" "$(median_ms validate_quickstart)" \
	"$(peak_kb $bin validate -q examples/quickstart.yaml)"
printf '%-40s %12s %14s\n' "fallout exec trivial.yaml (1 node)" "$(median_ms exec_trivial)" \
	"$(peak_kb $bin exec -o "$(next_out)" bench/trivial.yaml)"
printf '%-40s %12s %14s\n' "fallout exec quickstart.yaml (3 nodes)" "$(median_ms exec_quickstart)" \
	"$(peak_kb $bin exec -o "$(next_out)" examples/quickstart.yaml)"
