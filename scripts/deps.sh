#!/usr/bin/env bash
# Installs the Debian packages fallout needs to build and test, when any is missing.
# A fast no-op when all are present. Runs apt-get through sudo when not root, and
# `apt-get update` first when the package lists are missing or older than a day.
set -euo pipefail

PACKAGES=(
	# build
	gcc make pkg-config libc6-dev git
	libyaml-dev libjansson-dev libpcre2-dev libcurl4-openssl-dev zlib1g-dev libssh-dev
	# a faster inflate for reading interval logs, loaded when present (zlib otherwise)
	libdeflate0
	# tests
	libcmocka-dev python3 python3-pytest procps
	# HdrHistogram interop tests and bench/hdr.sh: Java's HdrHistogram is the reference
	default-jdk-headless libhdrhistogram-java
	# fuzzing and sanitizers (make fuzz, make sanitize)
	clang libclang-rt-14-dev
	# real systems under test (the redis configuration manager and its e2e tests)
	redis-server redis-tools
	# network faults inside the netns provisioner's namespaces (partition, throttle)
	nftables iproute2
	# the etcd, postgresql and script configuration managers and their e2e tests
	etcd-server etcd-client postgresql postgresql-contrib curl util-linux
	# the load driver's wrapper modules: redis-benchmark (redis-tools) and pgbench
	postgresql-client
	# the ssh provisioner's e2e tests: a real sshd in network namespaces
	openssh-server
	# fallout serve: HTTP (loaded on first use), the SQLite store, password hashing, zip archives
	libmicrohttpd-dev libsqlite3-dev libsodium-dev libzip-dev
	# benchmarks (bench/)
	time hyperfine
	# the HTML report's browser check (tests/e2e/test_report.py)
	chromium
)
# The HTML report embeds uPlot from npm at build time (web/package.json): Node.js and npm,
# unless an npm is already on the PATH (from Debian or elsewhere).
command -v npm >/dev/null 2>&1 || PACKAGES+=(nodejs npm)
# `scripts/deps.sh bench`: also what only the benchmarks use (bench/api.sh drives the API
# with wrk and compares it with nginx serving a file).
[[ ${1:-} == bench ]] && PACKAGES+=(wrk nginx-light)

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
