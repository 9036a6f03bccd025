#!/usr/bin/env bash
# gen-docs.sh: regenerates the documentation that is generated from the code, so it
# cannot drift from it: docs/components.md, the component reference, printed by
# `fallout components --markdown` from the same registry that validates definitions.
# tests/e2e/test_components.py fails when the committed file differs from the output.
#
#   scripts/gen-docs.sh FALLOUT_BINARY      (make docs runs it with bin/fallout)
set -euo pipefail

if [[ $# -ne 1 ]]; then
	echo "usage: $0 FALLOUT_BINARY" >&2
	exit 2
fi
fallout=$1
if [[ ! -x $fallout ]]; then
	echo "$0: '$fallout' is not an executable; build it first (make)" >&2
	exit 2
fi

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$root/docs/components.md
mkdir -p "$root/docs"
tmp=$(mktemp "$root/docs/.components.md.XXXXXX")
trap 'rm -f "$tmp"' EXIT

"$fallout" components --markdown >"$tmp"
if [[ -f $out ]] && cmp -s "$tmp" "$out"; then
	echo "docs/components.md is up to date"
else
	chmod 644 "$tmp"
	mv "$tmp" "$out"
	echo "wrote docs/components.md"
fi
