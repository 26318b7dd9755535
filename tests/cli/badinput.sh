#!/bin/bash
# badinput.sh - bad command lines (issues 2, 3 and 6), table-driven: each
# must exit 2 with exactly one line on stderr, nothing on stdout, and
# create nothing (no ipcb-<pid>-* name in /dev/shm, /dev/mqueue or /tmp, no
# new SysV object, no output file).
#
# usage: badinput.sh PATH-TO-ipcbench
. "$(dirname "$0")/lib.sh"

# One bad command line per line (split on blanks; @TMP@ is a scratch
# directory). A transport named here is dropped when `list` lacks it.
cat >"$TMP/cases" <<'EOF'
--transport bogus
--transport pipe,bogus
--transport pipe,
--transport ,
--size 0
--size 15
--size -64
--size 1e99
--size 64Q
--size 4KB
--size 4K4
--size 2G
--size 99999999999999999999999
--size 64,,128
--procs 1
--procs 0
--procs -2
--procs abc
--procs 2,,4
--procs 1e99
--procs 2.5
--procs 3
--procs 100000
--duration abc
--duration -1
--duration 0
--duration 1e99
--duration nan
--duration inf
--warmup -1
--timeout 0
--repeat 0
--repeat x
--work cpu:
--work cpu:abc
--work cpu:-5
--work cpu:99999999999
--work io:
--work gpu:5
--work none,,cpu:5
--topology ring
--topology shared --producers 1 --consumers 0
--topology shared --producers 0 --consumers 1
--topology shared --producers 2
--producers 2 --consumers 2
--consumers 0
--topology shared --producers 3 --consumers 2 --procs 4
--topology shared --producers 1 --consumers 1 --pattern latency
--cpus 0 --no-pin
--cpus 99999
--cpus a
--cpus 0,,1
--pattern foo
--format xml
--workers fibers
--sweep --procs 4
--bogus
-x
extra
--size
--transport pipe --output @TMP@/no/such/dir/out.json
--transport pipe --output @TMP@
--transport uds-seqpacket --size 64M
--transport uds --topology shared --producers 2 --consumers 2 --pattern throughput
--transport signal --workers thread
--transport pipe --topology shared --producers 2 --consumers 2 --pattern throughput --size 8K
EOF

# Sizes just above what each bounded transport carries.
while read -r t max _; do
	[ "$max" -lt 1073741824 ] && echo "--transport $t --size $((max + 1))"
done < <(list_transports) >>"$TMP/cases"
# A read-only output file (root writes anyway: only as another user).
if [ "$(id -u)" -ne 0 ]; then
	: >"$TMP/ro.json" && chmod 0444 "$TMP/ro.json"
	echo "--transport pipe --output @TMP@/ro.json" >>"$TMP/cases"
fi

names=" $(list_transports | awk '{ print $1 }' | tr '\n' ' ') "
n=0
while read -r line; do
	line=${line//@TMP@/$TMP}
	read -ra args <<<"$line"
	# Skip cases about transports this build does not have.
	skip_case=
	for ((i = 0; i < ${#args[@]} - 1; i++)); do
		if [ "${args[i]}" = --transport ]; then
			for t in ${args[i + 1]//,/ }; do
				case $t in bogus | all) continue ;; esac
				case $names in *" $t "*) ;; *) skip_case=1 ;; esac
			done
		fi
	done
	if [ -n "$skip_case" ]; then
		ok "ipcbench $line # SKIP transport not in this build"
		continue
	fi
	n=$((n + 1))
	sysv_ids >"$TMP/sysv.before"
	"$IPCB" "${QUICK[@]}" "${args[@]}" </dev/null >"$TMP/out" 2>"$TMP/err" &
	pid=$!
	wait $pid
	rc=$?
	what="ipcbench $line"
	if [ $rc -ne 2 ]; then
		fail "$what: exit $rc, expected 2 (stderr: $(head -c 300 "$TMP/err"))"
		continue
	fi
	lines=$(wc -l <"$TMP/err")
	if [ "$lines" -ne 1 ] || ! grep -q '^ipcbench: ' "$TMP/err"; then
		fail "$what: $lines lines on stderr, expected one 'ipcbench: ...' line: $(head -c 300 "$TMP/err")"
		continue
	fi
	if [ -s "$TMP/out" ]; then
		fail "$what: wrote to stdout: $(head -c 200 "$TMP/out")"
		continue
	fi
	left=$(named_objects $pid)
	sysv=$(new_sysv "$TMP/sysv.before" $pid)
	if [ -n "$left$sysv" ]; then
		fail "$what: created $left $sysv"
		echo "$sysv" | sysv_remove
		continue
	fi
	ok "$what: exit 2, one line: $(cat "$TMP/err")"
done <"$TMP/cases"
check "no output file was created by the bad --output cases" \
	test ! -e "$TMP/no" -a ! -e "$TMP/out.json"
check "the table had cases ($n)" test "$n" -gt 50

finish
