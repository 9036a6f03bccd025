#!/usr/bin/env bash
# `make run`: the quickstart. Checks every bundled example, then runs the quickstart test
# for real: a 3-shard Redis Cluster on this machine under kvload, its performance report
# and gate; prints the summary and where the report is.
# Usage: scripts/quickstart.sh BIN
set -euo pipefail
bin=$1
cd "$(dirname "$0")/.."
for f in examples/*.yaml; do
	if ! "$bin" validate --quiet --library examples/library "$f"; then
		echo "quickstart: $f is not valid" >&2
		exit 1
	fi
done
echo "All examples in examples/ are valid. Running the quickstart:"
echo "  $bin exec examples/quickstart.yaml"
echo
out=runs/quickstart/$(date +%Y%m%d-%H%M%S)
status=0
"$bin" exec -o "$out" examples/quickstart.yaml || status=$?
echo
echo "Report:    $out/client/performance-report.html   (open it in a browser)"
echo "Numbers:   $out/client/performance-report.json"
echo "The run:   $out/testrun.json, $out/fallout-shared.log"
echo "Servers:   $out/server/node*/ (redis.log, redis.conf, INFO), node metrics in metrics.jsonl"
exit $status
