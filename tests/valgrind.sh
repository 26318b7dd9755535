#!/usr/bin/env bash
# valgrind.sh - a short run of each transport of `ipcbench list` (one pair
# of processes, 64 B, latency and throughput, --verify) under valgrind
# memcheck, following the forked workers; fails unless every process of
# every run is free of memory errors and definite leaks.
#
#   tests/valgrind.sh BUILD_DIR      (or: ctest -L valgrind in BUILD_DIR)
#
# BUILD_DIR holds bench/ipcbench; a build without sanitizers (valgrind
# cannot run ASan binaries). IPCB_VALGRIND_TRANSPORTS="pipe shm" limits the
# run to those. Each process writes its own log; the logs of a failing
# transport are printed. Exit 0 passed, 1 failed, 77 skipped (no
# valgrind).
set -euo pipefail

build=${1:-}
ipcb=$build/bench/ipcbench
if [ -z "$build" ] || [ ! -x "$ipcb" ]; then
	echo "usage: $0 BUILD_DIR  (holding bench/ipcbench)" >&2
	exit 2
fi
command -v valgrind >/dev/null || {
	echo "SKIP: valgrind is not installed (apt-get install valgrind)"
	exit 77
}
if nm "$ipcb" 2>/dev/null | grep -q '__asan_init\|__tsan_init'; then
	echo "SKIP: $ipcb is built with a sanitizer; valgrind needs a plain build"
	exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ipcbench-valgrind.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

if [ -n "${IPCB_VALGRIND_TRANSPORTS:-}" ]; then
	read -r -a transports <<<"$IPCB_VALGRIND_TRANSPORTS"
else
	mapfile -t transports < <("$ipcb" list | tail -n +3 | awk '{print $1}')
fi

# vg DIR T: ipcbench on transport T under valgrind, a log per process in
# DIR; returns ipcbench's exit status.
vg() {
	local dir=$1 t=$2
	mkdir -p "$dir"
	# Workers start slowly under valgrind: a warmup that lets it translate
	# the code before the window, a generous watchdog, and an outer
	# timeout in case the watchdog itself is stuck.
	timeout --signal=KILL 900 valgrind --error-exitcode=1 \
		--leak-check=full --errors-for-leak-kinds=definite \
		--trace-children=yes --log-file="$dir/%p.log" \
		"$ipcb" --transport "$t" --procs 2 --size 64 --warmup 0.2 \
		--duration 0.2 --verify --timeout 600 --format csv \
		>"$dir/out" 2>"$dir/err"
}

# The sum of the ERROR SUMMARY counts of the logs in DIR.
errors_in() {
	cat "$1"/*.log | sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' |
		awk '{ s += $1 } END { print s + 0 }'
}

clean=()
dirty=()
for t in "${transports[@]}"; do
	t0=$SECONDS
	rc=0
	vg "$tmp/$t" "$t" || rc=$?
	errors=$(errors_in "$tmp/$t")
	if [ "$rc" -eq 0 ] && [ "$errors" -eq 0 ]; then
		echo "ok - $t: valgrind-clean ($(ls "$tmp/$t"/*.log | wc -l)" \
			"processes, $((SECONDS - t0)) s)"
		clean+=("$t")
		continue
	fi
	echo "not ok - $t: ipcbench exited $rc, $errors valgrind error(s)"
	sed 's/^/  stderr: /' "$tmp/$t/err"
	for log in "$tmp/$t"/*.log; do
		if ! grep -q 'ERROR SUMMARY: 0 errors' "$log"; then
			echo "  ---- $(basename "$log")"
			sed 's/^/  /' "$log"
		fi
	done
	dirty+=("$t")
done

echo "valgrind-clean: ${clean[*]:-none}"
if [ "${#dirty[@]}" -ne 0 ]; then
	echo "not clean: ${dirty[*]}"
	exit 1
fi
