#!/usr/bin/env bash
# The thread-worker paths under ThreadSanitizer: every transport that
# supports thread workers, pairs and shared topologies, both patterns, plus
# the conformance suite's thread cases. Any report fails (exit 66).
set -euo pipefail
cd "$(dirname "$0")/.."

dir=build/tsan
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DIPCB_WERROR=ON \
	-DIPCB_SANITIZE=thread >/dev/null
cmake --build "$dir" -j"$(nproc)" --target ipcbench conformance >/dev/null
export TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1"

bin=$dir/bench/ipcbench
run() { "$bin" --workers thread --duration 0.1 --warmup 0.02 --format csv "$@" >/dev/null; }
run --transport all --pattern both --size 64,4K
run --transport all --pattern throughput --topology shared --producers 2 --consumers 2 --size 64
run --transport pipe,shm --pattern throughput --procs 8 --work cpu:20,io:20 --size 64
"$dir/tests/conformance" --case threads
echo "tsan: thread workers clean"
