#!/usr/bin/env bash
# Installs the Debian packages ipcbench needs, only those missing.
#   bench/setup.sh run    build and run benchmarks, draw plots
#   bench/setup.sh test   + what the test suite needs
#   bench/setup.sh ci     + sanitizers, fuzzing (clang), valgrind
# Uses sudo when not run as root. README.md says why each package is there.
set -euo pipefail

profile=${1:-run}
pkgs=(gcc g++ make cmake pkg-config libjansson-dev libbenchmark-dev gnuplot-nox)
case "$profile" in
run) ;;
test) pkgs+=(libcmocka-dev jq libxml2-utils) ;;
ci) pkgs+=(libcmocka-dev jq libxml2-utils clang libclang-rt-14-dev valgrind clang-format) ;;
*) echo "usage: bench/setup.sh run|test|ci" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
echo "ipcbench setup: installing ${missing[*]}" >&2
$sudo apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
