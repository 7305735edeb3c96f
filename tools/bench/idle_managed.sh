#!/usr/bin/env bash
# Idle benchmark of a managed bosun: one bosun registered in cloud-sim,
# running its fleet's release (one service of the test image, sleeping),
# left alone at the default intervals (target poll every 900 s + jitter).
# After it reported the release running and BENCH_SETTLE seconds more, it
# reads the process's CPU time (utime + stime, /proc/<pid>/stat) and its
# threads' wakeups (voluntary + nonvoluntary context switches) over
# BENCH_WINDOW seconds and prints CPU-s per hour and wakeups per second.
#
#   eval "$(BOSUN_STATE=/tmp/me tools/dev env)"   # private engine + image
#   tools/dev release                               # build-release/bosun, cloud-sim
#   tools/bench/idle_managed.sh
#
# Environment: BENCH_BUILD (default build-release) or BOSUN_BINARY and
# CLOUD_SIM, BENCH_WINDOW (seconds, 180), BENCH_SETTLE (seconds, 30),
# BENCH_PORT (48640; cloud-sim uses the two ports after it). Removes the
# containers it creates.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${BENCH_BUILD:-$repo/build-release}
bosun=${BOSUN_BINARY:-$build/bosun}
sim=${CLOUD_SIM:-$build/tools/cloud-sim/cloud-sim}
image=${BOSUN_TEST_IMAGE:?run eval "\$(tools/dev env)" first}
: "${DOCKER_HOST:?run eval "\$(tools/dev env)" first}"
window=${BENCH_WINDOW:-180}
settle=${BENCH_SETTLE:-30}
port=${BENCH_PORT:-48640}
cloud=$((port + 1))
admin=$((port + 2))
app=641
uuid=be4c0000000000000000000000000641
app_uuid=be4c0a00000000000000000000000641
for x in "$bosun" "$sim"; do
  [ -x "$x" ] || { echo "missing $x (see the header of $0)" >&2; exit 1; }
done

work=$(mktemp -d /tmp/bosun-bench-managed.XXXXXX)
pid= simpid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  [ -n "$simpid" ] && kill "$simpid" 2>/dev/null && wait "$simpid" 2>/dev/null
  local ids
  ids=$(docker ps -aq --filter "label=io.balena.app-id=$app")
  [ -z "$ids" ] || docker rm -f $ids >/dev/null
  docker network rm "${app_uuid}_default" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

admin_call() { # method path [body]
  curl -sf -X "$1" "http://127.0.0.1:$admin$2" ${3:+-H 'Content-Type: application/json' -d "$3"}
}

"$sim" --listen "127.0.0.1:$cloud" --admin "127.0.0.1:$admin" >"$work/sim.log" 2>&1 &
simpid=$!
for _ in $(seq 100); do grep -q "(admin :" "$work/sim.log" && break; sleep 0.1; done
apps='{"'$app_uuid'":{"id":'$app',"name":"idle","class":"fleet","releases":{"r1":{"id":1,"services":{"main":{"id":741,"image_id":1641,"image":"'$image'","environment":{},"labels":{},"composition":{"command":["/bin/sh","-c","trap '"'exit 0'"' TERM; sleep 100000 & wait"]}}},"volumes":{},"networks":{}}}}}'
admin_call POST /fleets '{"id":'$app',"provisioning_key":"pk-'$app'","name":"idle","apps":'"$apps"'}' >/dev/null
admin_call POST /devices '{"uuid":"'$uuid'","api_key":"dk-'$uuid'","fleet":'$app',"id":'$app'}' >/dev/null
cat >"$work/config.json" <<EOF
{"apiEndpoint":"http://127.0.0.1:$cloud","uuid":"$uuid","deviceApiKey":"dk-$uuid","applicationId":$app,"deviceId":$app,"registered_at":1700000000000,"persistentLogging":false}
EOF

"$bosun" --data-dir "$work/data" --config "$work/config.json" \
  --engine "$DOCKER_HOST" --listen "127.0.0.1:$port" --log-level warn \
  >"$work/bosun.log" 2>&1 &
pid=$!

# Running, and reported so.
for i in $(seq 120); do
  if admin_call GET "/devices/$uuid" 2>/dev/null | grep -q '"Running"'; then break; fi
  [ "$i" = 120 ] && { echo "no report of the release running" >&2; cat "$work/bosun.log" >&2; exit 1; }
  sleep 1
done
sleep "$settle"

ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
switches() {
  cat /proc/"$pid"/task/*/status 2>/dev/null \
    | awk '/^(non)?voluntary_ctxt_switches/ {n += $2} END {print n}'
}
hz=$(getconf CLK_TCK)
t0=$(ticks) s0=$(switches) w0=$(date +%s.%N)
sleep "$window"
t1=$(ticks) s1=$(switches) w1=$(date +%s.%N)
awk -v t=$((t1 - t0)) -v hz="$hz" -v s=$((s1 - s0)) -v w0="$w0" -v w1="$w1" \
  -v load="$(cut -d' ' -f1-3 /proc/loadavg)" 'BEGIN {
  secs = w1 - w0
  printf "window %.0f s: CPU %.2f s = %.3f CPU-s per hour; %.2f wakeups/s; load %s\n",
    secs, t / hz, t / hz * 3600 / secs, s / secs, load
}'
