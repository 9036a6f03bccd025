#!/usr/bin/env bash
# Installs the Debian packages fallout needs to build and test, when any is missing.
# A fast no-op when all are present. Runs apt-get through sudo when not root, and
# `apt-get update` first when the package lists are missing or older than a day.
set -euo pipefail

PACKAGES=(
	# build
	gcc make pkg-config libc6-dev git
	libyaml-dev libjansson-dev libpcre2-dev libcurl4-openssl-dev
	# tests
	libcmocka-dev python3 python3-pytest
	# fuzzing and sanitizers (make fuzz, make sanitize)
	clang libclang-rt-14-dev
	# benchmarks (bench/)
	time hyperfine
)

missing=()
for p in "${PACKAGES[@]}"; do
	[[ $p == \#* ]] && continue
	status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[[ $status == installed ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "deps: installing ${missing[*]}"
SUDO=()
if [[ $(id -u) -ne 0 ]]; then
	command -v sudo >/dev/null || { echo "deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
	SUDO=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
lists=/var/lib/apt/lists
if ! compgen -G "$lists/*_Packages*" >/dev/null || [[ -n $(find "$lists" -maxdepth 1 -name '*_Packages*' -mmin +1440 -print -quit) ]]; then
	"${SUDO[@]}" apt-get update -q
fi
"${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
