#!/usr/bin/env bash
# `make run`: the quickstart. Until fallout can run tests (`fallout exec`, the next
# milestone), it validates every bundled example and shows the quickstart expanded.
# Usage: scripts/quickstart.sh BIN
set -euo pipefail
bin=$1
cd "$(dirname "$0")/.."
status=0
for f in examples/*.yaml; do
	if "$bin" validate --quiet --library examples/library "$f"; then
		echo "valid: $f"
	else
		echo "INVALID: $f" >&2
		status=1
	fi
done
echo
echo "The quickstart, expanded with nodes=5 (fallout validate examples/quickstart.yaml nodes=5):"
echo
"$bin" validate examples/quickstart.yaml nodes=5 | sed 's/^/    /'
echo
echo "Next: 'bin/fallout help', 'bin/fallout components', docs/definitions.md."
exit $status
