#!/usr/bin/env bash
# soak.sh - the soak test: pushes at least 10^7 verified messages (--verify:
# every payload byte checked) through every transport of `ipcbench list`
# with several producers and consumers, and fails unless every result is
# ok with 0 lost, 0 duplicated and 0 corrupt messages.
#
#   tests/soak.sh PATH-TO-ipcbench     (or: ctest -L soak in a build dir)
#
# Each transport gets an equal share of the total (IPCB_SOAK_MESSAGES,
# default 10000000) and runs until it has delivered its share: a 1 s
# calibration, then rounds of --repeat 3 sized from the measured rate.
# Transports that take several producers and consumers on one channel run
# --topology shared --producers 2 --consumers 2, the others 2 pairs
# (--procs 4); a busy-polling transport, which needs a CPU per worker, runs
# as many pairs as the CPUs allow. Sizes 64 B and 4 KiB, throughput
# pattern. Exit 0 passed, 1 failed, 77 skipped (no jq).
set -euo pipefail

ipcb=${1:-}
target=${IPCB_SOAK_MESSAGES:-10000000}
reps=3
max_rounds=6

if [ -z "$ipcb" ] || [ ! -x "$ipcb" ]; then
	echo "usage: $0 PATH-TO-ipcbench" >&2
	exit 2
fi
command -v jq >/dev/null || {
	echo "SKIP: jq is not installed (apt-get install jq)"
	exit 77
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ipcbench-soak.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

mapfile -t lines < <("$ipcb" list | tail -n +3)
ntransports=${#lines[@]}
if [ "$ntransports" -eq 0 ]; then
	echo "not ok - ipcbench list names no transport"
	exit 1
fi
share=$(((target + ntransports - 1) / ntransports))
cpu_pairs=$(($(nproc) / 2))
[ "$cpu_pairs" -ge 1 ] || cpu_pairs=1
failed=0
start=$SECONDS

# run NAME TAG ARGS...: one ipcbench run, JSON kept as $tmp/NAME.TAG.json.
# Fails when ipcbench fails or a result is not ok with clean counts.
run() {
	local name=$1 tag=$2
	shift 2
	local out=$tmp/$name.$tag.json err=$tmp/$name.$tag.err rc=0
	"$ipcb" --transport "$name" --pattern throughput --verify \
		--size 64,4K --warmup 0.1 --format json "$@" >"$out" 2>"$err" ||
		rc=$?
	if [ "$rc" -ne 0 ] || ! jq -e '.results | length > 0 and
	    all(.status == "ok" and .lost == 0 and .duplicated == 0 and
		.corrupt == 0)' "$out" >/dev/null 2>&1; then
		mv "$out" "$out.failed"
		echo "not ok - $name: ipcbench $* exited $rc"
		sed 's/^/  stderr: /' "$err"
		jq -c '.results[]? | {transport, size, status, reason,
			messages, lost, duplicated, corrupt}' "$out.failed" 2>/dev/null |
			sed 's/^/  result: /'
		return 1
	fi
}

# The messages and the measured seconds (window x repetitions) of the
# runs of NAME so far.
tally() {
	jq -s '[.[].results[]] | [(map(.messages) | add),
		(map(.duration_s * .repeat) | add)] | @tsv' -r \
		"$tmp/$1".*.json
}

for line in "${lines[@]}"; do
	read -r name _ _ multi_prod multi_cons _ <<<"$line"
	if [ "$multi_prod" = yes ] && [ "$multi_cons" = yes ]; then
		shape=(--topology shared --producers 2 --consumers 2)
	else
		shape=(--procs 4)
	fi
	t0=$SECONDS
	rc=0
	run "$name" r0 "${shape[@]}" --duration 1 >"$tmp/$name.report" || rc=$?
	if [ "$rc" -ne 0 ] && grep -q 'busy-poll' "$tmp/$name.r0.err"; then
		# It needs a CPU per worker: as many pairs as there are CPUs.
		shape=(--procs $((2 * cpu_pairs)))
		rc=0
		run "$name" r0 "${shape[@]}" --duration 1 >"$tmp/$name.report" ||
			rc=$?
	fi
	if [ "$rc" -ne 0 ]; then
		cat "$tmp/$name.report"
		failed=1
		continue
	fi
	round=0
	ok=1
	while :; do
		read -r got secs <<<"$(tally "$name")"
		[ "$got" -lt "$share" ] || break
		round=$((round + 1))
		if [ "$round" -gt "$max_rounds" ] || [ "$got" -eq 0 ]; then
			echo "not ok - $name: $got messages after $max_rounds" \
				"rounds, short of its share of $share"
			ok=0
			break
		fi
		configs=$(jq '.results | length' "$tmp/$name.r0.json")
		# Seconds per configuration and repetition for the rest, 20%
		# spare; at least 0.5 s, at most 300 s.
		dur=$(awk -v need=$((share - got)) -v got="$got" -v s="$secs" \
			-v n=$((configs * reps)) 'BEGIN {
				d = need * 1.2 * s / got / n;
				if (d < 0.5) d = 0.5; if (d > 300) d = 300;
				printf "%.2f", d }')
		run "$name" "r$round" "${shape[@]}" --duration "$dur" \
			--repeat "$reps" || {
			ok=0
			break
		}
	done
	if [ "$ok" -eq 1 ]; then
		echo "ok - $name (${shape[*]}): $got verified messages in" \
			"$((round + 1)) run(s), $((SECONDS - t0)) s"
	else
		failed=1
	fi
done

shopt -s nullglob
total=$(jq -n '[inputs.results[].messages] | add // 0' "$tmp"/*.json \
	</dev/null)
bad=$(jq -n '[inputs.results[] | .lost + .duplicated + .corrupt] | add // 0' \
	"$tmp"/*.json </dev/null)
echo "soak: $total verified messages through $ntransports transports" \
	"in $((SECONDS - start)) s (target $target, $share each);" \
	"lost+duplicated+corrupt: $bad"
if [ "$failed" -ne 0 ] || [ "$total" -lt "$target" ] || [ "$bad" -ne 0 ]; then
	echo "not ok - soak"
	exit 1
fi
echo "ok - soak"
