# lib.sh - helpers shared by the CLI tests in tests/cli/ (sourced, not run).
#
# Each test script is called by ctest as `script.sh PATH-TO-ipcbench`. It
# prints one "ok"/"not ok" line per check, exits 0 when all passed, 1 when
# one failed and 77 (ctest SKIP_RETURN_CODE) when the environment lacks
# something it needs. Checks assert behaviour and numbers the run fixes
# (counts, orderings, exit codes, what is left behind), never speed.

set -u

IPCB=${1:-}
FAILS=0
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ipcbench-cli-test.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT

# Short runs: the checks are about behaviour, not about the numbers' size.
QUICK=(--duration 0.05 --warmup 0.01)

skip() {
	echo "SKIP: $*"
	exit 77
}

ok() {
	echo "ok - $*"
}

fail() {
	echo "not ok - $*"
	FAILS=$((FAILS + 1))
}

# check DESCRIPTION COMMAND...: passes when COMMAND succeeds.
check() {
	local what=$1
	shift
	if "$@"; then
		ok "$what"
	else
		fail "$what"
	fi
}

# jqt PROGRAM FILE: true when jq -e finds PROGRAM true on FILE; quiet.
jqt() {
	jq -e "$@" >/dev/null 2>&1
}

finish() {
	if [ "$FAILS" -ne 0 ]; then
		echo "$FAILS check(s) failed"
		exit 1
	fi
	echo "all checks passed"
	exit 0
}

if [ -z "$IPCB" ] || [ ! -x "$IPCB" ]; then
	echo "usage: $0 PATH-TO-ipcbench"
	exit 2
fi
command -v jq >/dev/null || skip "jq is not installed (apt-get install jq)"

# Transports from `ipcbench list`, one line each: "name max payload
# multi_prod multi_cons threads" (max in bytes; unbounded = 2^40). The list
# is parsed, never hardcoded, so a new transport is tested without edits.
list_transports() {
	"$IPCB" list | awk '
		function bytes(s,   n) {
			if (s == "unbounded") return 1099511627776
			n = s + 0
			if (s ~ /K$/) return n * 1024
			if (s ~ /M$/) return n * 1048576
			if (s ~ /G$/) return n * 1073741824
			return n
		}
		/^[^ \t]/ && $1 != "transport" && NF >= 6 {
			printf "%s %.0f %s %s %s %s\n", $1, bytes($2), $3, $4, $5, $6
		}'
}

# Pids of the direct children of pid $1, one per line.
children_of() {
	local f
	if ls /proc/"$1"/task/*/children >/dev/null 2>&1; then
		for f in /proc/"$1"/task/*/children; do
			tr ' ' '\n' <"$f" 2>/dev/null
		done | grep -E '^[0-9]+$'
		return 0
	fi
	pgrep -P "$1"
}

# Children of pid $1 that are workers (every child but the janitor, the
# process that cleans up if ipcbench is SIGKILLed).
workers_of() {
	local k comm
	for k in $(children_of "$1"); do
		read -r comm 2>/dev/null <"/proc/$k/comm" || continue
		[ "$comm" = ipcb-janitor ] || echo "$k"
	done
	return 0
}

# Start time of pid $1 in clock ticks (field 22 of /proc/PID/stat), so a
# recycled pid is not mistaken for the process seen before; empty if gone.
start_time() {
	local s
	read -r s 2>/dev/null <"/proc/$1/stat" || return 0
	s=${s##*) }
	set -- $s
	echo "${20}"
}

# State letter of pid $1 (R, S, Z, ...), empty if it does not exist.
proc_state() {
	local s
	read -r s 2>/dev/null <"/proc/$1/stat" || return 0
	s=${s##*) }
	echo "${s%% *}"
}

# True while pid $1 runs (exists and is not a zombie).
running() {
	local st
	st=$(proc_state "$1")
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# wait_exit PID SECONDS: waits until PID (a child of this shell) has ended;
# false if it still runs after SECONDS.
wait_exit() {
	local pid=$1 tries
	tries=$(awk -v s="$2" 'BEGIN { print int(s * 50) }')
	while [ "$tries" -gt 0 ]; do
		running "$pid" || return 0
		sleep 0.02
		tries=$((tries - 1))
	done
	! running "$pid"
}

# wait_workers PID N SECONDS: waits until PID has at least N workers;
# prints them. False on timeout or if PID ended.
wait_workers() {
	local pid=$1 n=$2 tries kids
	tries=$(awk -v s="$3" 'BEGIN { print int(s * 50) }')
	while [ "$tries" -gt 0 ]; do
		kids=$(workers_of "$pid")
		if [ -n "$kids" ] && [ "$(echo "$kids" | wc -l)" -ge "$n" ]; then
			echo "$kids"
			return 0
		fi
		running "$pid" || return 1
		sleep 0.02
		tries=$((tries - 1))
	done
	return 1
}

# Named ipcbench objects of the run owned by pid $1 ("ipcb-<pid>-..." in
# /dev/shm, /dev/mqueue and /tmp, where socket directories live).
named_objects() {
	local d
	for d in /dev/shm /dev/mqueue /tmp; do
		[ -d "$d" ] && ls -A "$d" 2>/dev/null | grep -E "^ipcb-$1-" |
			sed "s|^|$d/|"
	done
	return 0
}

# Every SysV object, "kind id" per line.
sysv_ids() {
	awk 'NR > 1 { print "msg", $2 }' /proc/sysvipc/msg 2>/dev/null
	awk 'NR > 1 { print "shm", $2 }' /proc/sysvipc/shm 2>/dev/null
	awk 'NR > 1 { print "sem", $2 }' /proc/sysvipc/sem 2>/dev/null
	return 0
}

# Pids that used SysV object "$1 $2": creator/last pids of a shm segment,
# last sender/receiver of a queue, last semop of each semaphore. Prints
# nothing for an object nobody used (or one that is gone).
sysv_pids() {
	case $1 in
	msg) awk -v id="$2" 'NR > 1 && $2 == id { print $6; print $7 }' \
		/proc/sysvipc/msg ;;
	shm) awk -v id="$2" 'NR > 1 && $2 == id { print $5; print $6 }' \
		/proc/sysvipc/shm ;;
	sem) ipcs -s -i "$2" 2>/dev/null |
		awk '/^semnum/ { t = 1; next } t && NF >= 5 { print $5 }' ;;
	esac | grep -vx 0
	return 0
}

# sysv_of_pids PID...: SysV objects (kind id) used by any of the pids.
sysv_of_pids() {
	local kind id p
	sysv_ids | while read -r kind id; do
		for p in $(sysv_pids "$kind" "$id"); do
			case " $* " in
			*" $p "*)
				echo "$kind $id"
				break
				;;
			esac
		done
	done
}

# Removes SysV objects a failed check found, so one failure does not leak
# into the machine (the failure itself is already reported).
sysv_remove() {
	local kind id
	while read -r kind id; do
		[ -n "$kind" ] || continue
		case $kind in
		msg) ipcrm -q "$id" ;;
		shm) ipcrm -m "$id" ;;
		sem) ipcrm -s "$id" ;;
		esac 2>/dev/null
	done
}

# Stale-object notices ipcbench may print on any run (another run that
# died left something); not a sign that this run did anything wrong.
strip_notices() {
	grep -v '^ipcbench: removed .* left by a dead run' "$@"
	return 0
}

# new_sysv BEFORE-FILE PID...: SysV objects that were not in BEFORE-FILE (a
# sysv_ids snapshot), still exist a moment later and were used by one of
# the pids or by no one (an object nobody used cannot be told apart from
# one ipcbench created and left; one another process is using is not ours).
new_sysv() {
	local before=$1 kind id users p
	shift
	sysv_ids | sort >"$TMP/sysv.after"
	sort "$before" | comm -13 - "$TMP/sysv.after" >"$TMP/sysv.new"
	[ -s "$TMP/sysv.new" ] || return 0
	sleep 0.2
	while read -r kind id; do
		sysv_ids | grep -qx "$kind $id" || continue
		users=$(sysv_pids "$kind" "$id" | sort -u | tr '\n' ' ')
		[ -z "$users" ] && echo "$kind $id" && continue
		for p in $users; do
			case " $* " in
			*" $p "*)
				echo "$kind $id"
				break
				;;
			esac
		done
	done <"$TMP/sysv.new"
}

# run_json OUT ERR ARGS...: runs ipcbench ARGS with the QUICK timing, JSON
# to OUT and stderr to ERR; returns its exit status and sets DURATION to
# the --duration used. A configuration that measured no message at all in
# the short window (a busy-polling transport on a CPU another process
# holds, on a loaded machine) is not a failure of ipcbench: such a run is
# repeated once with a 10x longer window before anything is judged.
run_json() {
	local out=$1 err=$2 rc
	shift 2
	DURATION=0.05
	"$IPCB" "$@" --format json "${QUICK[@]}" </dev/null >"$out" 2>"$err"
	rc=$?
	if [ $rc -eq 0 ] && jqt 'any(.results[]; .status == "ok" and .messages == 0)' "$out"; then
		echo "# a configuration measured 0 messages in 0.05 s; again with 0.5 s"
		DURATION=0.5
		"$IPCB" "$@" --format json --duration 0.5 --warmup 0.05 \
			</dev/null >"$out" 2>"$err"
		rc=$?
	fi
	return $rc
}
