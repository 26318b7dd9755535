#!/usr/bin/env bash
# The README's test command: installs what is missing, builds ipcbench with
# warnings as errors and runs the quick test suite (ctest -L quick).
#   tests/run.sh                          plain build (build/test)
#   tests/run.sh --sanitize address,undefined   ASan+UBSan (build/asan)
#   tests/run.sh --sanitize thread        TSan (build/tsan)
# Extra ctest arguments may follow, e.g. tests/run.sh -R conformance.
set -euo pipefail
cd "$(dirname "$0")/.."

sanitize=
if [ "${1:-}" = --sanitize ]; then
	sanitize=$2
	shift 2
fi
case "$sanitize" in
"") dir=build/test ;;
thread) dir=build/tsan ;;
*) dir=build/asan ;;
esac

bench/setup.sh test
# POSIX message queues are listed (and checked for leaks) in /dev/mqueue.
if ! mountpoint -q /dev/mqueue && [ "$(id -u)" -eq 0 ]; then
	mkdir -p /dev/mqueue && mount -t mqueue none /dev/mqueue
fi
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DIPCB_WERROR=ON \
	-DIPCB_SANITIZE="$sanitize" >/dev/null
cmake --build "$dir" -j"$(nproc)" >/dev/null
ctest --test-dir "$dir" -L quick --output-on-failure "$@"
