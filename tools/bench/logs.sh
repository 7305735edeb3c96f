#!/usr/bin/env bash
# Logs benchmark: lines per second from a flooding container through bosun
# to cloud-sim, bosun's CPU and RSS meanwhile, and device API latency during
# the flood against idle.
#
#   eval "$(tools/dev env)"                   # private engine, registry, image
#   tools/bench/logs.sh [lines=500000]        # needs build/bosun, cloud-sim
#   BENCH_RATES="0 50000" (default): one run unpaced (as fast as the shell
#   writes), one at 50 000 lines/s (rate/10 lines every 100 ms)
#
# Each run has a fresh bosun (managed, provisioned, against its own cloud-sim
# whose target polls fail, so only the bench's containers run). One line is
# shipped first so that the log stream is open (past its 5 s grace period):
# the run measures shipping, not the connection's start. A light probe
# (curl, about 10 requests/s) times /ping and /v2/state/status (with the API
# key) idle and during the flood. Everything is counted from before the
# flood container starts. Written = the lines in the container's log
# (docker logs); delivered = the flood's lines cloud-sim recorded after
# that point (its service id; the "Suppressed" notices and any other line
# apart), over the span from the first to the last one's arrival
# (cloud-sim's record times); dropped = the sum of the notices' counts (the
# 256 KiB cloud buffer overflowed). The run must balance: written =
# delivered + dropped, and cloud-sim's own line counter must agree with the
# records read; otherwise the script prints "ACCOUNTING MISMATCH" and exits
# 1 after its runs. CPU is bosun's, in % of one core, over the run (from
# before the flood to its last line's arrival); "written" is also the flood
# container's own pace (from its start to its last line's timestamp in
# dockerd's log), the rate offered to bosun; the CPU line shows, over the
# same span, dockerd's (BOSUN_TEST_DOCKERD_PIDFILE, when set, with its
# children), cloud-sim's and the flooding container's (its cgroup, when
# readable), for where the time goes.
set -euo pipefail

lines=${1:-500000}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${BOSUN_BUILD_DIR:-$repo/build}
bosun=${BOSUN_BINARY:-$build/bosun}
cloudsim=${CLOUD_SIM_BINARY:-$build/tools/cloud-sim/cloud-sim}
image=${BOSUN_TEST_IMAGE:?run eval "\$(tools/dev env)" first}
: "${DOCKER_HOST:?run eval "\$(tools/dev env)" first}"
port=${BENCH_PORT:-48700}
cs_port=$((port + 1))
cs_admin=$((port + 2))
uuid=0123456789abcdef0123456789abcdef
key=benchlogsdevicekey
name=bench-logs-flood
work=$(mktemp -d /tmp/bosun-bench-logs.XXXXXX)
bosun_pid=
cs_pid=
A=http://127.0.0.1:$cs_admin

stop_pid() { [ -n "$1" ] && kill "$1" 2>/dev/null && wait "$1" 2>/dev/null || true; }
cleanup() {
  stop_pid "$bosun_pid"
  stop_pid "$cs_pid"
  docker rm -f "$name" "$name-warm" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
[ -n "${BENCH_DEBUG:-}" ] && trap 'stop_pid "$bosun_pid"; stop_pid "$cs_pid"' EXIT

now_ms() { date +%s%3N; }

start_cloud() {
  stop_pid "$cs_pid"
  "$cloudsim" --listen 127.0.0.1:$cs_port --admin 127.0.0.1:$cs_admin \
    --max-records $((lines + 10000)) >"$work/cloud-sim.log" 2>&1 &
  cs_pid=$!
  for _ in $(seq 100); do curl -sf $A/health >/dev/null && break; sleep 0.1; done
  curl -sf -X POST $A/fleets -d '{"id":1001,"provisioning_key":"pk"}' >/dev/null
  curl -sf -X POST $A/devices \
    -d "{\"uuid\":\"$uuid\",\"api_key\":\"$key\",\"fleet\":1001,\"id\":55}" >/dev/null
  curl -sf -X POST $A/faults -d '{"route":"state-get","mode":"status","status":503}' >/dev/null
}

start_bosun() {
  stop_pid "$bosun_pid"
  rm -rf "$work/data"
  printf '{"apiEndpoint":"http://127.0.0.1:%s","uuid":"%s","deviceApiKey":"%s","registered_at":1700000000000,"deviceId":55,"applicationId":1001}' \
    $cs_port $uuid $key >"$work/config.json"
  "$bosun" --config "$work/config.json" --data-dir "$work/data" \
    --engine "$DOCKER_HOST" --listen 127.0.0.1:$port --log-level info \
    >"$work/bosun.log" 2>&1 &
  bosun_pid=$!
  for _ in $(seq 200); do curl -sf http://127.0.0.1:$port/ping >/dev/null && break; sleep 0.1; done
}

# The global API key bosun printed.
api_key() { grep -o 'API key [0-9a-f]*' "$work/bosun.log" | head -1 | cut -d' ' -f3; }

recorded() { curl -sf $A/devices/$uuid | jq '.device.log_lines'; }

# cloud-sim's next record sequence number for the device's log lines.
logs_next() { curl -sf "$A/logs?device=$uuid&since=0&limit=1000000" | jq '.next'; }

# The device's log lines cloud-sim recorded from sequence number $1 on,
# sorted out: prints "<flood lines> <notices> <dropped (their counts)>
# <other lines> <first flood line's arrival ms> <last one's> <evicted>" and
# writes the flood lines' numbers (their last word) to $work/numbers.
tally() {
  local since=$1 n
  local flood=0 notices=0 dropped=0 other=0 first=0 last=0 evicted=0 f c d o a z e
  local defs='def notice: .line.isSystem == true
      and ((.line.message // "") | startswith("Warning: Suppressed "));
    def flood: (.line.isSystem != true) and .line.serviceId == 7;'
  local sums='[.items[] | select(flood)] as $f
    | [.items[] | select(notice) | .line.message | split(" ")[2] | tonumber] as $s
    | "\(.items | length) \($f | length) \($s | length) \($s | add // 0) \((.items | length) - ($f | length) - ($s | length)) \($f[0].time_ms // 0) \($f[-1].time_ms // 0) \(.dropped) \(.next)"'
  : >"$work/numbers"
  while :; do
    curl -sf "$A/logs?device=$uuid&since=$since&limit=10000" >"$work/page"
    read -r n f c d o a z e since < <(jq -r "$defs $sums" "$work/page")
    jq -r "$defs"' .items[] | select(flood) | .line.message | split(" ") | last' \
      "$work/page" >>"$work/numbers"
    flood=$((flood + f)); notices=$((notices + c)); dropped=$((dropped + d))
    other=$((other + o)); evicted=$e
    [ "$first" -eq 0 ] && first=$a
    [ "$z" -ne 0 ] && last=$z
    [ "$n" -lt 10000 ] && break
  done
  echo "$flood $notices $dropped $other $first $last $evicted"
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
# CPU ticks of $1 and its children (dockerd: containerd and the shims).
tree_ticks() {
  local t=0 p
  for p in $1 $(pgrep -P "$1" 2>/dev/null); do t=$((t + $(cpu_ticks "$p"))); done
  echo $t
}
dockerd_pid() { cat "${BOSUN_TEST_DOCKERD_PIDFILE:-/nonexistent}" 2>/dev/null || echo 0; }
# CPU µs of the flood container's cgroup (v2 cpu.stat or v1 cpuacct), 0
# when not readable.
flood_usec() {
  local id f
  id=$(docker inspect -f '{{.Id}}' "$name" 2>/dev/null) || { echo 0; return; }
  f=$(find /sys/fs/cgroup -path "*$id*" -name cpuacct.usage 2>/dev/null | head -1)
  [ -n "$f" ] && { echo $(($(cat "$f") / 1000)); return; }
  f=$(find /sys/fs/cgroup -path "*$id*" -name cpu.stat 2>/dev/null | xargs -r grep -l usage_usec | head -1)
  if [ -n "$f" ]; then awk '/^usage_usec/ {print $2}' "$f"; else echo 0; fi
}
rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
hz=$(getconf CLK_TCK)

# The flood: $lines lines, as fast as the shell writes them (rate 0), or
# in chunks of rate/10 lines every 100 ms.
flood_script() { # $1 = rate (lines/s), 0 = unpaced
  local pad="flood line padded to about a hundred characters .............................................. "
  if [ "$1" -eq 0 ]; then
    echo "seq 1 $lines | sed \"s/^/$pad/\"; exec sleep 100000"
  else
    local chunk=$(($1 / 10))
    echo "i=0; while [ \$i -lt $lines ]; do seq \$((i+1)) \$((i+$chunk)) | sed \"s/^/$pad/\"; i=\$((i+$chunk)); usleep 100000; done; exec sleep 100000"
  fi
}

run_flood() { # $1 = rate
  docker rm -f "$name" >/dev/null 2>&1 || true
  docker run -d --name "$name" --label io.balena.supervised=true \
    --label io.balena.app-id=1 --label io.balena.service-id=7 \
    --label io.balena.service-name=flood "$image" /bin/sh -c "$(flood_script "$1")" >/dev/null
}

# One line, so that the log stream is open (past its 5 s grace) before a
# flood: the benchmark measures shipping, not the connection's start.
warm_up() {
  docker rm -f "$name-warm" >/dev/null 2>&1 || true
  docker run -d --name "$name-warm" --label io.balena.supervised=true \
    --label io.balena.app-id=1 --label io.balena.service-id=8 \
    --label io.balena.service-name=warm "$image" /bin/sh -c "echo warm; exec sleep 100000" >/dev/null
  for _ in $(seq 300); do [ "$(recorded)" -ge 1 ] && break; sleep 0.1; done
}

flood_written() { docker logs --tail 1 "$name" 2>/dev/null | grep -q " $lines\$"; }

# The starting point of a run, taken before the flood container starts:
# cloud-sim's line counter and next record, the clock, and the CPU counters.
snapshot() {
  base=$(recorded); since0=$(logs_next)
  dp=$(dockerd_pid); d0=$(tree_ticks "$dp"); s0=$(cpu_ticks "$cs_pid")
  t0=$(now_ms); c0=$(cpu_ticks "$bosun_pid")
}

# Samples until cloud-sim stops receiving (10 s without a new line: a
# shipping pause of a few seconds happens now and then); prints
# "<lines recorded since the snapshot> <cpu %> <peak rss KiB>".
follow() {
  local last_n=$base last_change=$t0 last_ms=$t0 peak=0 n r
  while :; do
    n=$(recorded); r=$(rss_kib "$bosun_pid")
    [ "$r" -gt "$peak" ] && peak=$r
    if [ "$n" -ne "$last_n" ]; then
      last_ms=$(now_ms); last_change=$last_ms; last_n=$n
    fi
    [ $(( $(now_ms) - last_change )) -gt 10000 ] && [ "$n" -gt "$base" ] && break
    [ $(( $(now_ms) - t0 )) -gt 600000 ] && break
    sleep 0.2
  done
  local cpu span=$((last_ms - t0 + 1))
  cpu=$(( ( $(cpu_ticks "$bosun_pid") - c0 ) * 100 * 1000 / hz / span ))
  # The flood container's cgroup did not exist at the snapshot: its CPU
  # counts from 0.
  printf 'CPU over the run (%% of one core): bosun %d, dockerd+children %d, cloud-sim %d, flood container %d\n' \
    "$cpu" $(( ( $(tree_ticks "$dp") - d0 ) * 100 * 1000 / hz / span )) \
    $(( ( $(cpu_ticks "$cs_pid") - s0 ) * 100 * 1000 / hz / span )) \
    $(( $(flood_usec) / 10 / span )) >"$work/cpu"
  echo "$((last_n - base)) $cpu $peak"
}

# Lines the flood container wrote: its log as dockerd kept it (report sets
# $wrote from it, written uses that).
written_lines() { docker logs "$name" 2>/dev/null | wc -l; }

mismatches=0
mismatch() { # $1 = phase, $2 = what
  mismatches=$((mismatches + 1))
  printf '%s\n' "!!!!!!!! ACCOUNTING MISMATCH ($1): $2" \
    "!!!!!!!! the figures of this run do not add up; do not quote them"
}

report() { # $1 = phase, rest = follow output
  local phase=$1 n=$2 cpu=$3 peak=$4 flood notices dropped other first last evicted
  local distinct ms
  read -r flood notices dropped other first last evicted < <(tally "$since0")
  distinct=$(sort -un "$work/numbers" | wc -l)
  wrote=$(written_lines)
  ms=$((last - first))
  printf '%-8s delivered %7d of %d lines written in %6d ms = %6d lines/s; dropped %d (announced in %d notices); bosun CPU %d%%, peak RSS %d KiB (idle %d KiB)\n' \
    "$phase" "$flood" "$wrote" "$ms" $((flood * 1000 / (ms + 1))) \
    "$dropped" "$notices" "$cpu" "$peak" "$idle_rss"
  if [ "$wrote" -eq $((flood + dropped)) ]; then
    printf '%-8s accounting: written %d = delivered %d + dropped %d (announced)\n' \
      "$phase" "$wrote" "$flood" "$dropped"
  else
    mismatch "$phase" "written $wrote != delivered $flood + dropped $dropped (announced) = $((flood + dropped)); $((wrote - flood - dropped)) lines unaccounted for"
  fi
  [ "$wrote" -eq "$lines" ] ||
    mismatch "$phase" "the container wrote $wrote lines, not $lines"
  [ "$distinct" -eq "$flood" ] ||
    mismatch "$phase" "$((flood - distinct)) of the $flood delivered lines are duplicates"
  [ "$n" -eq $((flood + notices + other)) ] ||
    mismatch "$phase" "cloud-sim counted $n lines since the snapshot, its records hold $((flood + notices + other)) (flood $flood, notices $notices, other $other)"
  [ "$evicted" -eq 0 ] ||
    mismatch "$phase" "cloud-sim evicted $evicted log records (--max-records)"
  [ "$other" -eq 0 ] || printf '%-8s also recorded: %d other lines (not the flood'"'"'s, not notices)\n' "$phase" "$other"
  return 0
}

# The flood container's pace: lines over its start to its last line's
# timestamp.
written() {
  local first last ms n=$wrote
  first=$(docker inspect -f '{{.State.StartedAt}}' "$name")
  last=$(docker logs -t --tail 1 "$name" 2>&1 | cut -d' ' -f1)
  ms=$(( ($(date -d "$last" +%s%N) - $(date -d "$first" +%s%N)) / 1000000 ))
  printf '%-8s written by the container in %6d ms = %6d lines/s\n' "$1" "$ms" $((n * 1000 / (ms + 1)))
}

# A light probe (about 10 requests/s, one at a time), so that measuring the
# API does not itself load the io thread: prints p50, p99 and max in ms.
probe() { # $1 = label, $2 = url, $3 = seconds
  local until=$((SECONDS + $3))
  while [ $SECONDS -lt $until ]; do
    curl -s -o /dev/null -w '%{time_total}\n' "$2" || echo 99
    sleep 0.1
  done | sort -n | awk -v l="$1" '{v[NR]=$1*1000} END {
    p99 = int(NR*0.99)+1; if (p99 > NR) p99 = NR
    printf "%-28s %4d requests  p50 %7.2f ms  p99 %7.2f ms  max %7.2f ms\n",
      l, NR, v[int(NR*0.5)+1], v[p99], v[NR]}'
}

echo "== logs benchmark: $lines lines of ~110 characters (work dir $work)"
rates=${BENCH_RATES:-0 50000}

for rate in $rates; do
  start_cloud
  start_bosun
  warm_up
  idle_rss=$(rss_kib "$bosun_pid")
  k=$(api_key)
  label=$([ "$rate" -eq 0 ] && echo "flood" || echo "$((rate / 1000))k/s")
  if [ "$rate" -eq 0 ]; then
    echo "API idle:"
    probe "  /ping" "http://127.0.0.1:$port/ping" 5
    probe "  /v2/state/status" "http://127.0.0.1:$port/v2/state/status?apikey=$k" 5
  fi
  snapshot
  run_flood "$rate"
  ( sleep 1
    probe "  /ping" "http://127.0.0.1:$port/ping" 5 >"$work/wrk1"
    probe "  /v2/state/status" "http://127.0.0.1:$port/v2/state/status?apikey=$k" 5 >"$work/wrk2"
  ) &
  wrk_pid=$!
  result=$(follow)
  wait $wrk_pid
  until flood_written; do sleep 0.2; done
  echo "API during the $label run:"
  cat "$work/wrk1" "$work/wrk2"
  report "$label" $result
  written "$label"
  cat "$work/cpu"
  [ -n "${BENCH_DEBUG:-}" ] && curl -s $A/devices/$uuid | jq -c '.counts["log-stream"]' && grep -v '^$' "$work/bosun.log" | grep -i "log" | tail -5
  docker rm -f "$name" "$name-warm" >/dev/null
done
if [ "$mismatches" -gt 0 ]; then
  echo "!!!!!!!! $mismatches accounting mismatch(es): see above" >&2
  exit 1
fi
