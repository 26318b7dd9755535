#!/bin/bash
# topology.sh - topologies, worker kinds and work (issue 3), end to end:
# a shared channel with 3 producers and 2 consumers loses nothing on every
# transport whose `ipcbench list` line says it can share, and is refused
# (named: exit 2; all: a not_applicable row) on the others; thread,
# process and sequential workers; 16 processes; cpu and io work.
#
# usage: topology.sh PATH-TO-ipcbench
. "$(dirname "$0")/lib.sh"

SHARED=(--topology shared --producers 3 --consumers 2 --pattern throughput)

# Problems with the results of a run that must have gone well, one per
# line: status, counts, messages.
bad_results() {
	jq -r '.results[] | "\(.transport)/\(.pattern)/\(.workers)/\(.size)" as $n
		| (if .status != "ok" then "\($n): \(.status) \(.reason)" else empty end),
		  (if .lost != 0 or .duplicated != 0 or .corrupt != 0
		   then "\($n): lost \(.lost) dup \(.duplicated) corrupt \(.corrupt)" else empty end),
		  (if (.messages | type) != "number" or .messages <= 0
		   then "\($n): messages \(.messages)" else empty end)' "$1" 2>&1
}

all=""
while read -r t max payload mp mc th; do
	all="$all $t"
	if [ "$mp" = yes ] && [ "$mc" = yes ]; then
		sharing="${sharing:-} $t"
		run_json "$TMP/$t.json" "$TMP/$t.err" --transport "$t" \
			"${SHARED[@]}" --size 64
		rc=$?
		p=$(bad_results "$TMP/$t.json")
		check "shared 3->2 $t: exit $rc, ok, nothing lost${p:+: $p}" \
			test $rc -eq 0 -a -z "$p"
		check "shared 3->2 $t: key shared/3/2/procs 5" jqt \
			'.results == [.results[] | select(.topology == "shared" and
			 .producers == 3 and .consumers == 2 and .procs == 5)]
			 and (.results | length == 1)' "$TMP/$t.json"
	else
		"$IPCB" --transport "$t" "${SHARED[@]}" --size 64 "${QUICK[@]}" \
			</dev/null >"$TMP/$t.out" 2>"$TMP/$t.err"
		rc=$?
		check "shared $t (cannot share): exit 2 (got $rc)" test $rc -eq 2
		check "shared $t: one line on stderr naming the reason" \
			test "$(wc -l <"$TMP/$t.err")" -eq 1 -a \
			-n "$(grep -E "^ipcbench: $t .*(share|shared)" "$TMP/$t.err")"
		check "shared $t: nothing on stdout" test ! -s "$TMP/$t.out"
	fi
done < <(list_transports)

# --transport all: a row per transport; what cannot share is a
# not_applicable row with its reason, and the run still succeeds.
run_json "$TMP/all.json" "$TMP/all.err" --transport all "${SHARED[@]}" \
	--size 64
rc=$?
check "shared, all transports: exit 0 (got $rc)" test $rc -eq 0
check "shared, all transports: a row for every listed transport" \
	test "$(jq -r '.results[].transport' "$TMP/all.json" | sort | tr '\n' ' ')" \
	= "$(echo $all | tr ' ' '\n' | sort | tr '\n' ' ')"
check "shared, all transports: ok exactly where list says multi-prod and multi-cons" \
	test "$(jq -r '.results[] | select(.status == "ok") | .transport' \
		"$TMP/all.json" | sort | tr '\n' ' ')" \
	= "$(echo ${sharing:-} | tr ' ' '\n' | sort | tr '\n' ' ')"
p=$(jq -r '.results[] | select(.status == "not_applicable")
	| select((.reason | type) != "string" or (.reason | length) == 0
		 or .messages != null or .msgs_per_s != null or .latency_ns != null)
	| .transport' "$TMP/all.json")
check "shared, all: not_applicable rows have a reason and no numbers${p:+: $p}" \
	test -z "$p"
p=$(bad_results <(jq '.results |= map(select(.status != "not_applicable"))' \
	"$TMP/all.json"))
check "shared, all: the rows that ran lost nothing${p:+: $p}" test -z "$p"

# Pipes share only up to PIPE_BUF: say so.
case " $all " in *" pipe "*)
	"$IPCB" --transport pipe "${SHARED[@]}" --size 8192 "${QUICK[@]}" \
		</dev/null >"$TMP/pb.out" 2>"$TMP/pb.err"
	rc=$?
	check "shared pipe 8K: exit 2, PIPE_BUF named (got $rc: $(cat "$TMP/pb.err"))" \
		test $rc -eq 2 -a "$(wc -l <"$TMP/pb.err")" -eq 1 -a \
		-n "$(grep PIPE_BUF "$TMP/pb.err")"
	;;
esac

# Thread and process workers: the same message accounting, for every
# transport that runs in threads (and pipe, shm in both kinds explicitly).
threads=$(list_transports | awk '$6 == "yes" { print $1 }' | paste -sd,)
for w in thread process; do
	run_json "$TMP/w-$w.json" "$TMP/w-$w.err" --transport "$threads" \
		--workers "$w" --pattern both --size 64
	rc=$?
	p=$(bad_results "$TMP/w-$w.json")
	check "--workers $w ($threads): exit $rc, all ok, nothing lost${p:+: $p}" \
		test $rc -eq 0 -a -z "$p"
	check "--workers $w: every row says workers $w" \
		test "$(jq -r '.results[].workers' "$TMP/w-$w.json" | sort -u)" = "$w"
done
for t in pipe shm; do
	case " $all " in *" $t "*) ;; *) ok "$t: # SKIP not in this build"; continue ;; esac
	for w in thread process; do
		run_json "$TMP/s.json" "$TMP/s.err" --transport "$t" \
			--workers "$w" "${SHARED[@]}" --size 64
		rc=$?
		p=$(bad_results "$TMP/s.json")
		check "shared 3->2 $t --workers $w: exit $rc, nothing lost${p:+: $p}" \
			test $rc -eq 0 -a -z "$p"
	done
done
while read -r t; do
	"$IPCB" --transport "$t" --workers thread --size 64 "${QUICK[@]}" \
		</dev/null >"$TMP/nt.out" 2>"$TMP/nt.err"
	rc=$?
	check "$t cannot run in threads: exit 2, one line" \
		test $rc -eq 2 -a "$(wc -l <"$TMP/nt.err")" -eq 1
done < <(list_transports | awk '$6 == "no" { print $1 }')

# Sequential baseline: transport none, one process, no IPC, no latency;
# speedups of thread/process rows are relative to it.
run_json "$TMP/seq.json" "$TMP/seq.err" --transport pipe \
	--workers sequential,thread,process --pattern throughput --size 64
rc=$?
check "sequential,thread,process: exit 0 (got $rc)" test $rc -eq 0
check "sequential: a row with transport none, procs 1, ok, messages > 0, no latency" \
	jqt '[.results[] | select(.workers == "sequential")] | length == 1 and
	 (.[0] | .transport == "none" and .procs == 1 and .status == "ok" and
	  .messages > 0 and .lost == 0 and .latency_ns == null)' \
	"$TMP/seq.json"
check "thread/process speedup = msgs_per_s / the sequential msgs_per_s" \
	jqt '(.results[] | select(.workers == "sequential") | .msgs_per_s) as $s
	 | [.results[] | select(.workers != "sequential")
	    | .speedup_vs == "sequential" and
	      ((.speedup - .msgs_per_s / $s) | fabs) <= 1e-6 * .speedup]
	 | length == 2 and all' "$TMP/seq.json"

# 16 processes on pipe (oversubscribed on small machines): 8 pairs.
run_json "$TMP/p16.json" "$TMP/p16.err" --transport pipe --procs 16 \
	--size 64
rc=$?
p=$(bad_results "$TMP/p16.json")
check "--procs 16 pipe: exit $rc, ok, nothing lost${p:+: $p}" \
	test $rc -eq 0 -a -z "$p"
check "--procs 16 pipe: 8 pairs, 16 roles placed" \
	jqt '.results | length == 2 and all(.procs == 16 and .producers == 8
	 and .consumers == 8 and (.cpus | split(" ") | length) == 16)' \
	"$TMP/p16.json"

# Speedup against the same transport with one consumer (procs 2).
run_json "$TMP/sp.json" "$TMP/sp.err" --transport pipe --procs 2,4 \
	--pattern throughput --size 64
check "--procs 2,4: no speedup for the baseline (procs 2), msgs_per_s ratio at procs 4" \
	jqt '(.results[] | select(.procs == 2) | .msgs_per_s) as $b
	 | (.results[] | select(.procs == 2) | .speedup == null and .speedup_vs == null)
	   and ([.results[] | select(.procs == 4)
	         | .speedup_vs == "1 consumer"
	           and ((.speedup - .msgs_per_s / $b) | fabs) <= 1e-6 * .speedup]
	        | length == 1 and all)' "$TMP/sp.json"

# Work: cpu work is calibrated once and the calibration recorded.
run_json "$TMP/work.json" "$TMP/work.err" --transport pipe \
	--work cpu:20,io:20 --size 64
rc=$?
p=$(bad_results "$TMP/work.json")
check "--work cpu:20,io:20: exit $rc, all ok${p:+: $p}" test $rc -eq 0 -a -z "$p"
check "--work: context.cpu_work_iters_per_us recorded (> 0)" \
	jqt '.context.cpu_work_iters_per_us | type == "number" and . > 0' \
	"$TMP/work.json"
check "--work: rows for cpu:20 and io:20, both patterns" \
	test "$(jq -r '.results[] | "\(.pattern) \(.work)"' "$TMP/work.json" |
		sort | tr '\n' ' ')" \
	= "latency cpu:20 latency io:20 throughput cpu:20 throughput io:20 "

finish
