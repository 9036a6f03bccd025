#!/usr/bin/env bash
# `make run`: the quickstart. Checks every bundled example, then runs the quickstart
# test for real (three local nodes, a script on each, checkers) and says where its
# artifacts are.
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
echo "What each node printed:"
for log in "$out"/server/node*/fallout-node.log; do
	grep -h '^hello from' "$log" | sed 's/^/  /'
done
echo
echo "Artifacts: $out/"
echo "  testrun.json                      the run: state, checkers' verdicts, definition"
echo "  fallout-shared.log                everything the harness did"
echo "  controller/jepsen-history.json    every operation, one JSON object a line"
echo "  server/node0/fallout-node.log     what ran on node 0"
exit $status
