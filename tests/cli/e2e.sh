#!/bin/bash
# e2e.sh - the built ipcbench end to end (issue 2): every transport in
# `ipcbench list` runs both patterns with JSON output, parsed and checked
# (schema, context, counts, percentile order, latency kinds); CSV header;
# --verify; --help, --version and list; results on stdout only.
#
# usage: e2e.sh PATH-TO-ipcbench
. "$(dirname "$0")/lib.sh"

# The first CSV columns, fixed by issue 2 and results/SCHEMA.md.
CSV_HEAD='transport,pattern,procs,size,messages,lost,duplicated,corrupt,duration_s,lat_kind,lat_min_ns,lat_mean_ns,lat_p50_ns,lat_p90_ns,lat_p99_ns,lat_p999_ns,lat_max_ns,msgs_per_s,bytes_per_s'

# The jq program every result of a plain run must pass; prints one line
# per problem. $payload: the transport carries payload (else a throughput
# run has no one-way latency and latency_ns must be null).
RESULT_CHECKS='
def ordered: .min > 0 and .min <= .p50 and .p50 <= .p90 and .p90 <= .p99
	and .p99 <= .p999 and .p999 <= .max and .min <= .mean and .mean <= .max;
def close($a; $b): (($a - $b) | fabs) <= 1e-6 * ([($a | fabs), ($b | fabs), 1] | max);
.results[] | . as $r
| "\($r.transport)/\($r.pattern)/\($r.size)" as $n
| (if $r.status != "ok" then "\($n): status \($r.status) (\($r.reason))" else empty end),
  (if $r.lost != 0 or $r.duplicated != 0 or $r.corrupt != 0
   then "\($n): lost \($r.lost) duplicated \($r.duplicated) corrupt \($r.corrupt)" else empty end),
  (if ($r.messages | type) != "number" or $r.messages <= 0
   then "\($n): messages \($r.messages)" else empty end),
  (if ($r.msgs_per_s | type) != "number" or $r.msgs_per_s <= 0
   then "\($n): msgs_per_s \($r.msgs_per_s)" else empty end),
  (if ($r.pattern == "throughput" and (close($r.duration_s; $duration) | not))
      or $r.duration_s < $duration - 1e-9
   then "\($n): duration_s \($r.duration_s), asked \($duration) (latency: at least, until the last round trip ended)" else empty end),
  (if close($r.msgs_per_s; $r.messages / $r.duration_s) | not
   then "\($n): msgs_per_s \($r.msgs_per_s) != messages/duration_s" else empty end),
  (if close($r.bytes_per_s; $r.msgs_per_s * $r.size) | not
   then "\($n): bytes_per_s \($r.bytes_per_s) != msgs_per_s x size" else empty end),
  (if [$r.procs, $r.producers, $r.consumers, $r.topology, $r.workers, $r.work, $r.repeat]
      != [2, 1, 1, "pairs", "process", "none", 1]
   then "\($n): key \([$r.procs, $r.producers, $r.consumers, $r.topology, $r.workers, $r.work, $r.repeat])" else empty end),
  (if ($r.chunk | type) != "number" or $r.chunk < 0 then "\($n): chunk \($r.chunk)" else empty end),
  (if ($r.cpus | test("^((ping|pong|producer|consumer)[0-9]+:-?[0-9]+ ?)+$")) | not
   then "\($n): cpus \($r.cpus)" else empty end),
  (if ($r.repetitions | length) != 1 then "\($n): \($r.repetitions | length) repetitions" else empty end),
  (if $r.pattern == "latency" then
     (if $r.latency_kind != "rtt" then "\($n): latency_kind \($r.latency_kind), expected rtt" else empty end),
     (if ($r.latency_ns | type) != "object" or ($r.latency_ns | ordered | not)
      then "\($n): latency_ns not ordered min<=p50<=p90<=p99<=p999<=max: \($r.latency_ns)" else empty end)
   elif $payload then
     (if $r.latency_kind != "one_way" then "\($n): latency_kind \($r.latency_kind), expected one_way" else empty end),
     (if ($r.latency_ns | type) != "object" or ($r.latency_ns | ordered | not)
      then "\($n): latency_ns not ordered min<=p50<=p90<=p99<=p999<=max: \($r.latency_ns)" else empty end)
   else
     (if $r.latency_ns != null
      then "\($n): no payload, so no one-way latency, but latency_ns is \($r.latency_ns)" else empty end),
     (if $r.latency_kind != null and $r.latency_kind != "one_way"
      then "\($n): latency_kind \($r.latency_kind)" else empty end)
   end)
'

CONTEXT_CHECKS='
def str: type == "string" and length > 0;
def iso: type == "string" and test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$");
(if .schema_version != 1 then "schema_version \(.schema_version)" else empty end),
(if .partial != false then "partial \(.partial) on a complete run" else empty end),
(.context as $c
 | (if ($c.command_line | str) and ($c.command_line | contains("--transport \($t)")) | not
    then "context.command_line \($c.command_line)" else empty end),
   (if $c.version | str | not then "context.version \($c.version)" else empty end),
   (if $c.git_revision | str | not then "context.git_revision \($c.git_revision)" else empty end),
   (if $c.kernel | str | not then "context.kernel \($c.kernel)" else empty end),
   (if $c.cpu_model | str | not then "context.cpu_model \($c.cpu_model)" else empty end),
   (if ($c.cpu_count | type) != "number" or $c.cpu_count < 1 then "context.cpu_count \($c.cpu_count)" else empty end),
   (if ($c.mq | type) != "object" or ($c.mq | has("msg_max") and has("msgsize_max") | not)
    then "context.mq \($c.mq)" else empty end),
   (if $c.placement | str | not then "context.placement \($c.placement)" else empty end),
   (if ($c.start_time | iso) and ($c.end_time | iso) and $c.start_time <= $c.end_time | not
    then "context start/end time \($c.start_time) \($c.end_time)" else empty end),
   (if $c.cpu_work_iters_per_us != null then "cpu_work_iters_per_us \($c.cpu_work_iters_per_us) without cpu work" else empty end))
'

# One transport, both patterns, sizes 64 (and 4096 where it fits).
e2e_transport() {
	local t=$1 max=$2 payload=$3 sizes=64 rc problems want got
	[ "$max" -ge 4096 ] && sizes=64,4096
	run_json "$TMP/$t.json" "$TMP/$t.err" --transport "$t" --pattern both \
		--procs 2 --size "$sizes"
	rc=$?
	if [ $rc -eq 2 ] && [ "$(nproc)" -lt 2 ] &&
		grep -q 'busy-polls' "$TMP/$t.err"; then
		ok "$t: # SKIP busy-polling transport needs 2 CPUs"
		return
	fi
	if [ $rc -ne 0 ]; then
		fail "$t: exit $rc: $(head -c 400 "$TMP/$t.err")"
		return
	fi
	check "$t: stderr empty on a clean run" \
		test -z "$(strip_notices "$TMP/$t.err")"
	if ! jqt . "$TMP/$t.json" >/dev/null 2>&1; then
		fail "$t: stdout is not JSON: $(head -c 200 "$TMP/$t.json")"
		return
	fi
	problems=$(jq -r --arg t "$t" "$CONTEXT_CHECKS" "$TMP/$t.json")
	check "$t: schema_version 1 and context fields${problems:+: $problems}" \
		test -z "$problems"
	want=$(for p in latency throughput; do
		for s in ${sizes//,/ }; do echo "$t $p $s"; done; done | sort)
	got=$(jq -r '.results[] | "\(.transport) \(.pattern) \(.size)"' \
		"$TMP/$t.json" | sort)
	check "$t: one result per pattern x size" test "$want" = "$got"
	problems=$(jq -r --argjson duration "$DURATION" \
		--argjson payload "$([ "$payload" = yes ] && echo true || echo false)" \
		"$RESULT_CHECKS" "$TMP/$t.json")
	check "$t: results ok, counts, rates and percentiles${problems:+: $problems}" \
		test -z "$problems"
}

while read -r t max payload _; do
	e2e_transport "$t" "$max" "$payload"
	names="${names:-} $t"
done < <(list_transports)
check "ipcbench list names transports" test -n "${names:-}"

# list: a line per transport with its capabilities, names unique.
"$IPCB" list >"$TMP/list" 2>"$TMP/list.err"
check "list: exit 0" test $? -eq 0
check "list: nothing on stderr" test ! -s "$TMP/list.err"
check "list: every line has max, payload, multi-prod, multi-cons, threads" \
	test -z "$(list_transports | awk '
		!($2 > 0 && $3 ~ /^(yes|no)$/ && $4 ~ /^(yes|no)$/ &&
		  $5 ~ /^(yes|no)$/ && $6 ~ /^(yes|no)$/)')"
check "list: names unique" \
	test -z "$(list_transports | awk '{ print $1 }' | sort | uniq -d)"
check "list: a summary on every line" \
	test -z "$(awk '/^[^ \t]/ && $1 != "transport" && NF < 7' "$TMP/list")"

# --help and --version: stdout, exit 0, nothing on stderr.
"$IPCB" --help >"$TMP/help" 2>"$TMP/help.err"
check "--help: exit 0" test $? -eq 0
check "--help: usage on stdout" grep -q 'usage: ipcbench' "$TMP/help"
check "--help: nothing on stderr" test ! -s "$TMP/help.err"
"$IPCB" --version >"$TMP/version" 2>"$TMP/version.err"
check "--version: exit 0" test $? -eq 0
check "--version: 'ipcbench VERSION' on stdout" \
	grep -Eq '^ipcbench [0-9]+\.[0-9]+' "$TMP/version"
check "--version: nothing on stderr" test ! -s "$TMP/version.err"
v=$(jq -r .context.version "$TMP/pipe.json" 2>/dev/null)
check "--version agrees with context.version ($v)" \
	grep -q "^ipcbench $v\b" "$TMP/version"

# CSV: the first 19 header columns exactly as issue 2 lists them; one row
# per configuration; lat_kind rtt/one_way, empty when not measured.
"$IPCB" --transport pipe,null --format csv --size 64 "${QUICK[@]}" \
	</dev/null >"$TMP/out.csv" 2>"$TMP/csv.err"
check "csv: exit 0" test $? -eq 0
check "csv: stderr empty" test -z "$(strip_notices "$TMP/csv.err")"
check "csv: header starts with the 19 issue-2 columns" \
	test "$(head -n1 "$TMP/out.csv" | cut -d, -f1-19)" = "$CSV_HEAD"
check "csv: 4 rows" test "$(tail -n +2 "$TMP/out.csv" | wc -l)" -eq 4
check "csv: lat_kind rtt for latency, one_way for pipe throughput, empty for null throughput" \
	test "$(tail -n +2 "$TMP/out.csv" | cut -d, -f1,2,10 | sort | tr '\n' ' ')" \
	= "null,latency,rtt null,throughput, pipe,latency,rtt pipe,throughput,one_way "
check "csv: null throughput has empty latency cells" \
	test "$(grep '^null,throughput,' "$TMP/out.csv" | cut -d, -f11-17)" = ",,,,,,"
check "csv: counts 0 lost/duplicated/corrupt, messages a count" \
	test -z "$(tail -n +2 "$TMP/out.csv" | awk -F, '!($5 ~ /^[0-9]+$/ && $6 == 0 && $7 == 0 && $8 == 0)')"

# --verify: every payload byte filled and checked.
for t in pipe mq uds shm; do
	case " $names " in *" $t "*) ;; *) continue ;; esac
	run_json "$TMP/v.json" "$TMP/v.err" --transport "$t" --verify \
		--size 64,4096
	rc=$?
	problems=$(jq -r '.results[] | select(.status != "ok" or .corrupt != 0
		or .lost != 0 or .duplicated != 0 or .messages <= 0)
		| "\(.pattern)/\(.size): \(.status) corrupt \(.corrupt)"' \
		"$TMP/v.json" 2>&1)
	check "--verify $t: exit $rc, all ok, corrupt 0${problems:+: $problems}" \
		test $rc -eq 0 -a -z "$problems"
done

# --output FILE: results in the file, the table on stdout, a note on stderr.
"$IPCB" --transport pipe --pattern latency --size 64 --format json \
	--output "$TMP/o.json" "${QUICK[@]}" </dev/null >"$TMP/o.stdout" 2>"$TMP/o.err"
check "--output: exit 0" test $? -eq 0
check "--output: the file holds the JSON results" \
	jqt '.results | length == 1' "$TMP/o.json"
check "--output: the table on stdout" grep -q pipe "$TMP/o.stdout"
check "--output -: results on stdout" \
	bash -c '"$1" --transport pipe --pattern latency --size 64 --format json \
		--output - --duration 0.05 --warmup 0.01 </dev/null 2>/dev/null |
		jq -e ".results | length == 1" >/dev/null' _ "$IPCB"

finish
