#!/usr/bin/env bash
# Device API benchmark: wrk against bosun's /ping, /v2/applications/state,
# /v2/telemetry and /metrics with a 3-service app running, and against a
# minimal RESTinio server answering /ping in its handler (the baseline, built
# with the same flags), in the same run. Prints req/s, p50 and p99 per
# endpoint, bosun's RSS before and after the load, and the machine's load.
#
#   eval "$(BOSUN_STATE=/tmp/me tools/dev env)"   # private engine + image
#   tools/dev release        # or: cmake -S . -B build-release -G Ninja \
#                            #   -DCMAKE_BUILD_TYPE=Release -DBOSUN_TESTS=OFF
#   ninja -C build-release bosun bench_ping_baseline
#   tools/bench/api.sh [rounds=1]
#
# Environment: BENCH_BUILD (default build-release), BENCH_DURATION (10s),
# BENCH_CONNECTIONS (50), BENCH_THREADS (2), BENCH_PORT (48620).
# Uses app id 904 and removes what it creates.
set -euo pipefail

rounds=${1:-1}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${BENCH_BUILD:-$repo/build-release}
bosun=$build/bosun
baseline=$build/tools/bench/bench_ping_baseline
image=${BOSUN_TEST_IMAGE:?run eval "\$(tools/dev env)" first}
: "${DOCKER_HOST:?run eval "\$(tools/dev env)" first}"
duration=${BENCH_DURATION:-10s}
conns=${BENCH_CONNECTIONS:-50}
threads=${BENCH_THREADS:-2}
port=${BENCH_PORT:-48620}
base_port=$((port + 1))
app=904
for f in "$bosun" "$baseline"; do
  [ -x "$f" ] || { echo "missing $f (see the header of $0)" >&2; exit 1; }
done
command -v wrk >/dev/null || { echo "wrk is not installed" >&2; exit 1; }

work=$(mktemp -d /tmp/bosun-bench-api.XXXXXX)
bosun_pid= base_pid=
cleanup() {
  [ -n "$bosun_pid" ] && kill "$bosun_pid" 2>/dev/null && wait "$bosun_pid" 2>/dev/null
  [ -n "$base_pid" ] && kill "$base_pid" 2>/dev/null && wait "$base_pid" 2>/dev/null
  local ids
  ids=$(docker ps -aq --filter "label=io.balena.app-id=$app")
  [ -z "$ids" ] || docker rm -f $ids >/dev/null
  docker network rm "${app}_default" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

wait_http() { # $1 = url
  local deadline=$((SECONDS + 30))
  until curl -sf -o /dev/null "$1"; do
    [ $SECONDS -lt $deadline ] || { echo "no answer from $1" >&2; return 1; }
    sleep 0.1
  done
}

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$bosun_pid/status"; }
hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$bosun_pid/status"; }

# "1.23ms" / "850.00us" / "1.01s" -> milliseconds
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0
    if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n = n; else if (v ~ /s$/) n *= 1000
    printf "%.2f", n }'
}

# Runs wrk on $2 and prints one table row labelled $1.
bench() {
  local label=$1 url=$2 out rps p50 p99 bad
  out=$(wrk -t"$threads" -c"$conns" -d"$duration" --latency "$url")
  rps=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' <<<"$out")
  p50=$(to_ms "$(awk '$1 == "50%" {print $2}' <<<"$out")")
  p99=$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")
  bad=$(awk '/Non-2xx or 3xx responses:/ {print $5}' <<<"$out")
  errs=$(awk '/Socket errors:/ {print $0}' <<<"$out")
  local rss=-
  [ -n "$bosun_pid" ] && rss=$(rss_kb)
  printf '| %s | %s | %s | %s | %s | %s |\n' "$label" "$rps" "$p50" "$p99" \
    "${bad:-0}${errs:+ ($errs)}" "$rss"
  eval "rps_${3:-x}=$rps"
}

target() {
  local svcs="" i
  for i in 1 2 3; do
    [ -n "$svcs" ] && svcs+=","
    svcs+="\"$i\":{\"serviceName\":\"s$i\",\"serviceId\":$i,\"imageId\":$i,"
    svcs+="\"image\":\"$image\",\"environment\":{\"N\":\"$i\"},\"labels\":{},"
    svcs+="\"command\":[\"/bin/sh\",\"-c\",\"trap 'exit 0' TERM; sleep 100000 & wait\"]}"
  done
  printf '{"local":{"name":"bench","config":{},"apps":{"%s":{"name":"api-bench","commit":"c1","releaseId":"1","services":{%s},"volumes":{},"networks":{}}}}}' \
    "$app" "$svcs"
}

echo "# machine: $(nproc) cores, load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# wrk -t$threads -c$conns -d$duration --latency; builds from $build"

"$baseline" "$base_port" &
base_pid=$!
echo '{}' >"$work/config.json"
"$bosun" --data-dir "$work/data" --config "$work/config.json" \
  --engine "$DOCKER_HOST" --listen "127.0.0.1:$port" --log-level warn \
  2>"$work/bosun.log" &
bosun_pid=$!
wait_http "http://127.0.0.1:$base_port/ping"
wait_http "http://127.0.0.1:$port/ping"

target >"$work/target.json"
curl -sf -X POST -H 'Content-Type: application/json' \
  --data-binary "@$work/target.json" \
  "http://127.0.0.1:$port/v2/local/target-state" >/dev/null
deadline=$((SECONDS + 300))
until [ "$(docker ps -q --filter "label=io.balena.app-id=$app" | wc -l)" -ge 3 ]; do
  [ $SECONDS -lt $deadline ] || { echo "the app did not start" >&2; exit 1; }
  sleep 0.2
done
echo "# app $app running: 3 services"

state=/v2/applications/state
if [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port$state")" != 200 ]; then
  echo "# $state does not answer 200 here; measuring GET /v2/local/target-state"
  state=/v2/local/target-state
fi
for path in /v2/telemetry /metrics; do
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port$path")
  [ "$code" = 200 ] || { echo "$path answers $code" >&2; exit 1; }
done

# Warm-up (connection pools, allocator arenas), then measure.
wrk -t"$threads" -c"$conns" -d2s "http://127.0.0.1:$port/ping" >/dev/null
wrk -t"$threads" -c"$conns" -d2s "http://127.0.0.1:$port$state" >/dev/null
rss_before=$(rss_kb)
echo "# bosun RSS after start, target and warm-up: $rss_before kB"

for r in $(seq 1 "$rounds"); do
  echo
  echo "round $r of $rounds"
  echo "| endpoint | req/s | p50 ms | p99 ms | non-2xx | bosun RSS kB after |"
  echo "|---|---|---|---|---|---|"
  bench "baseline /ping (RESTinio only)" "http://127.0.0.1:$base_port/ping" base
  bench "bosun /ping" "http://127.0.0.1:$port/ping" ping
  bench "bosun $state" "http://127.0.0.1:$port$state" state
  bench "bosun /v2/telemetry" "http://127.0.0.1:$port/v2/telemetry" tm
  bench "bosun /metrics" "http://127.0.0.1:$port/metrics" metrics
  echo "bosun /ping = $(awk -v a="$rps_ping" -v b="$rps_base" 'BEGIN {printf "%.0f", 100 * a / b}')% of the baseline"
  echo "RSS after round $r: $(rss_kb) kB"
done

rss_after=$(rss_kb)
echo
echo "bosun RSS: $rss_before kB before the load, $rss_after kB after" \
  "($((rss_after - rss_before)) kB), peak $(hwm_kb) kB"
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
telemetry_actors=$(curl -sf "http://127.0.0.1:$port/v2/telemetry" \
  | grep -o '"name":"[^"]*"' | wc -l)
echo "# /v2/telemetry listed $telemetry_actors actors and services"
