#!/usr/bin/env bash
# Runs each libFuzzer target for SECONDS, with its corpus in build/fuzz/corpus-<name>
# seeded from tests/data. Usage: scripts/fuzz.sh SECONDS BIN...
set -euo pipefail
secs=$1; shift
status=0
for bin in "$@"; do
	name=$(basename "$bin")
	corpus=build/fuzz/corpus-$name
	mkdir -p "$corpus"
	if [[ -d fuzz/seeds/$name ]]; then cp -n fuzz/seeds/$name/* "$corpus"/ 2>/dev/null || true; fi
	echo "fuzz: $name for ${secs}s"
	if ! "$bin" -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix=build/fuzz/ -print_final_stats=1 "$corpus" 2>build/fuzz/$name.log; then
		echo "fuzz: $name found a problem; see build/fuzz/$name.log" >&2
		tail -40 build/fuzz/$name.log >&2
		status=1
	else
		grep -E 'stat::number_of_executed_units|Done' build/fuzz/$name.log | tail -2
	fi
done
exit $status
