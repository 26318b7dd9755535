#!/usr/bin/env bash
# Speed of light in one go: measures the machine's limits, then every
# transport's pinned round trip across two CPUs and on one CPU, and its
# 64 KiB streaming throughput, and prints each as a ratio to the limits
# measured in the same run. Also the harness's own overhead: ipcbench's
# pipe round trip against a minimal hand-written pipe ping-pong
# (ipcbench-pingpong) with the same placement, and the null transport.
# Speed targets live here, reported, never asserted in tests.
#   bench/overhead.sh [BUILD_DIR] [SECONDS]    (default build/release, 1)
set -euo pipefail
cd "$(dirname "$0")/.."

dir=${1:-build/release}
secs=${2:-1}
bin=$dir/bench/ipcbench
for f in "$bin" "$dir/bench/ipcbench-pingpong"; do
	[ -x "$f" ] || { echo "overhead.sh: $f not built (bench/main.sh builds it)" >&2; exit 2; }
done
command -v jq >/dev/null || { echo "overhead.sh: needs jq (apt-get install jq)" >&2; exit 2; }

lim=$("$bin" limits --format json)
pp=$(jq .pingpong_ns <<<"$lim")
bw=$(jq '.memcpy_bytes_per_s["65536"]' <<<"$lim")
printf 'limits: cache-line ping-pong %.0f ns (cpus 0,1), same CPU %.0f ns, futex rtt %.0f ns, syscall %.0f ns, clock %.0f ns, memcpy 64K %.1f GB/s\n' \
	"$pp" "$(jq .pingpong_same_cpu_ns <<<"$lim")" "$(jq .futex_rtt_ns <<<"$lim")" \
	"$(jq .syscall_ns <<<"$lim")" "$(jq .clock_ns <<<"$lim")" "$(jq -n "$bw/1e9")"

# p50 round trip (ns) of one transport with a placement; empty if n/a.
rtt() {
	"$bin" --transport "$1" --pattern latency --size 64 --cpus "$2" \
		--duration "$secs" --warmup 0.1 --format json 2>/dev/null |
		jq -r '.results[0] | select(.status=="ok") | .latency_ns.p50 // empty' || true
}
tput() {
	"$bin" --transport "$1" --pattern throughput --size 64K --cpus 0,1 \
		--duration "$secs" --warmup 0.1 --format json 2>/dev/null |
		jq -r '.results[0] | select(.status=="ok") | .bytes_per_s // empty' || true
}
# "-" for a number not measured (a transport that refuses the placement).
num() { if [ -n "$1" ]; then jq -n "$2" | xargs printf "$3"; else printf -; fi; }

echo
printf '%-14s %12s %10s %12s %14s %10s\n' transport "rtt 0,1" "x pingpong" "rtt 0,0" "64K stream" "% memcpy"
for t in $("$bin" list | awk 'NR>2 {print $1}'); do
	a=$(rtt "$t" 0,1); b=$(rtt "$t" 0,0); c=$(tput "$t")
	printf '%-14s %12s %10s %12s %14s %10s\n' "$t" \
		"$(num "$a" "$a" '%.0f ns')" "$(num "$a" "$a/$pp" '%.1fx')" \
		"$(num "$b" "$b" '%.0f ns')" "$(num "$c" "$c/1e9" '%.2f GB/s')" \
		"$(num "$c" "$c/$bw*100" '%.1f%%')"
done

echo
for cpus in "0 1" "0 0"; do
	min=$("$dir/bench/ipcbench-pingpong" $cpus 64 "$secs" | sed 's/.*rtt_p50_ns=\([0-9]*\).*/\1/')
	ipc=$(rtt pipe "${cpus/ /,}")
	printf 'pipe rtt on cpus %s: ipcbench %.0f ns, minimal ping-pong %s ns, overhead %s%%\n' \
		"${cpus/ /,}" "$ipc" "$min" "$(jq -n "($ipc-$min)/$min*1000|round/10")"
done
null=$("$bin" --transport null --pattern throughput --size 64 --cpus 0,1 --duration "$secs" \
	--warmup 0.1 --format json | jq '.results[0].msgs_per_s')
printf 'harness cost per message (null transport, streaming, cpus 0,1): %.0f ns\n' "$(jq -n "1e9/$null")"
