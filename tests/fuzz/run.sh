#!/usr/bin/env bash
# run.sh - builds ipcbench's libFuzzer targets (tests/fuzz/) with clang in a
# build directory of their own and runs each for a bounded time; exits
# non-zero on any crash, sanitizer report, leak or hang (an input taking
# more than 10 s), or when a fuzzer leaves a file behind in its working
# directory. CI runs it; by hand:
#
#   tests/fuzz/run.sh [SECONDS]      # SECONDS per fuzzer, default 60
#
# Environment: IPCB_FUZZ_BUILD, the build directory (default build-fuzz in
# the source tree). The seed corpora in tests/fuzz/corpus/ are read, never
# changed: what a run finds goes to a temporary corpus. A failing input is
# saved under $IPCB_FUZZ_BUILD/fuzz-artifacts/ and the log says how to
# replay it.
set -euo pipefail

seconds=${1:-60}
if ! [[ $seconds =~ ^[1-9][0-9]*$ ]]; then
	echo "usage: $0 [SECONDS]  (a positive whole number, default 60)" >&2
	exit 2
fi

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=${IPCB_FUZZ_BUILD:-$src/build-fuzz}
fuzzers=(fuzz_options fuzz_results)

command -v clang >/dev/null || {
	echo "$0: clang not found; install clang and libclang-rt-dev" >&2
	exit 2
}

mkdir -p "$build"
cmake -S "$src" -B "$build" -DCMAKE_C_COMPILER=clang -DIPCB_FUZZ=ON \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo >"$build/configure.log" 2>&1 || {
	cat "$build/configure.log" >&2
	exit 1
}
cmake --build "$build" --parallel "$(nproc)" --target "${fuzzers[@]}"

artifacts=$build/fuzz-artifacts
mkdir -p "$artifacts"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ipcbench-fuzz.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
failed=0
for f in "${fuzzers[@]}"; do
	name=${f#fuzz_}
	bin=$build/tests/fuzz/$f
	log=$build/$f.log
	mkdir "$tmp/$name-corpus" "$tmp/$name-cwd"
	echo "== $f: $seconds s"
	# The outer timeout only guards against a fuzzer that stops
	# responding altogether; libFuzzer's -timeout catches slow inputs.
	rc=0
	(cd "$tmp/$name-cwd" &&
		timeout --signal=KILL $((seconds + 300)) "$bin" \
			-max_total_time="$seconds" -timeout=10 \
			-rss_limit_mb=2048 -print_final_stats=1 \
			-dict="$here/$name.dict" \
			-artifact_prefix="$artifacts/$name-" \
			"$tmp/$name-corpus" "$here/corpus/$name") >"$log" 2>&1 ||
		rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	if [ "$rc" -ne 0 ]; then
		echo "FAIL: $f exited with $rc; the end of $log:" >&2
		tail -n 40 "$log" >&2
		echo "replay: $bin $artifacts/$name-<file named above>" >&2
		failed=1
	elif [ -n "$(ls -A "$tmp/$name-cwd")" ]; then
		echo "FAIL: $f created files in its working directory:" >&2
		ls -A "$tmp/$name-cwd" >&2
		failed=1
	else
		echo "ok: $f: ${execs:-?} executions in $seconds s, corpus" \
			"$(ls "$tmp/$name-corpus" | wc -l) inputs (log: $log)"
	fi
done
exit "$failed"
