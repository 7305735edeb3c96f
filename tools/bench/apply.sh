#!/usr/bin/env bash
# Apply benchmark: time from the request (bosun: POST of the target; the
# baseline: its first docker command) to the engine starting the last
# container of the change (the newest State.StartedAt, the engine's own
# clock), for a 5- and a 20-service app from empty, and for a one-env-var
# change, against a baseline doing the minimal docker CLI operations for the
# same change, in the same run. Both ends are read the same way for both, so
# the time the script spends polling for the result counts for neither.
# Prints medians and ratios, bosun's CPU seconds and engine requests per
# apply (from /v2/telemetry), and its RSS.
#
#   eval "$(tools/dev env)"           # a private engine + registry + image
#   tools/bench/apply.sh [runs=3]     # needs build/bosun (tools/dev build)
#
# Uses its own app ids (901, 902) and removes what it creates.
set -euo pipefail

runs=${1:-3}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bosun=${BOSUN_BINARY:-$repo/build/bosun}
image=${BOSUN_TEST_IMAGE:?run eval "\$(tools/dev env)" first}
: "${DOCKER_HOST:?run eval "\$(tools/dev env)" first}"
port=${BENCH_PORT:-48600}
work=$(mktemp -d /tmp/bosun-bench-apply.XXXXXX)
bosun_pid=
trap 'kill "$bosun_pid" 2>/dev/null; wait "$bosun_pid" 2>/dev/null; cleanup_all; rm -rf "$work"' EXIT

now_ms() { date +%s%3N; }

cleanup_app() { # $1 = app id
  local ids
  ids=$(docker ps -aq --filter "label=io.balena.app-id=$1")
  [ -z "$ids" ] || docker rm -f $ids >/dev/null
  docker network rm "$1_default" >/dev/null 2>&1 || true
}
cleanup_all() {
  for app in 901 902; do cleanup_app "$app"; done
  docker ps -aq --filter label=bosun.bench=baseline | xargs -r docker rm -f >/dev/null
  docker network rm bench_base >/dev/null 2>&1 || true
}

# A local target with $2 services of app $1; service s1 has V=$3.
target() {
  local app=$1 n=$2 val=$3 svcs="" i v
  for i in $(seq 1 "$n"); do
    [ -n "$svcs" ] && svcs+=","
    v=one; [ "$i" -eq 1 ] && v=$val
    svcs+="\"$i\":{\"serviceName\":\"s$i\",\"serviceId\":$i,\"imageId\":$i,"
    svcs+="\"image\":\"$image\",\"environment\":{\"V\":\"$v\"},\"labels\":{},"
    svcs+="\"command\":[\"/bin/sh\",\"-c\",\"trap 'exit 0' TERM; sleep 100000 & wait\"]}"
  done
  printf '{"local":{"name":"bench","config":{},"apps":{"%s":{"name":"b%s","commit":"c1","releaseId":"1","services":{%s},"volumes":{},"networks":{}}}}}' \
    "$app" "$app" "$svcs"
}

# Waits until app $1 has $2 running containers and s1 has V=$3.
wait_running() {
  local app=$1 n=$2 val=$3 deadline=$((SECONDS + 300)) ids
  while [ $SECONDS -lt $deadline ]; do
    ids=$(docker ps -q --filter "label=io.balena.app-id=$app")
    if [ "$(echo "$ids" | grep -c .)" -ge "$n" ] \
      && docker inspect -f '{{index .Config.Labels "io.balena.service-name"}} {{json .Config.Env}}' $ids 2>/dev/null \
        | grep '^s1 ' | grep -q "\"V=$val\""; then
      return 0
    fi
    sleep 0.05
  done
  echo "timed out waiting for app $app" >&2
  return 1
}

post() {
  curl -sf -X POST --data-binary "@$1" "http://127.0.0.1:$port/v2/local/target-state" >/dev/null
}

rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$bosun_pid/status"; }
# bosun's user+system CPU time so far, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$bosun_pid/stat"; }
# The engine requests bosun has made so far (its telemetry).
engine_requests() {
  curl -sf "http://127.0.0.1:$port/v2/telemetry" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["engine"]["requestsTotal"])'
}
# Posts target $1 and waits until app $2 has $3 containers with V=$4.
apply_and_wait() { post "$1"; wait_running "$2" "$3" "$4"; }
# Runs "$@" (an apply and its wait) and records its CPU ms and engine
# requests under $1 (the case).
# The case's start time goes to $t_start, taken after the figures above are
# read (their curl and python3 would count for bosun and not for the CLI).
measured() {
  local label=$1 c0 r0 c1 r1
  shift
  c0=$(cpu_ticks); r0=$(engine_requests)
  t_start=$(now_ms)
  "$@"
  c1=$(cpu_ticks); r1=$(engine_requests)
  cpu["$label"]+="$(( (c1 - c0) * 1000 / $(getconf CLK_TCK) )) "
  reqs["$label"]+="$((r1 - r0)) "
}

# The newest State.StartedAt among the containers "$@", in ms since the
# epoch.
started_ms() {
  docker inspect -f '{{.State.StartedAt}}' "$@" | while read -r ts; do
    date -d "$ts" +%s%3N
  done | sort -n | tail -1
}
# The same for the running containers of app $1 (all of them, or only
# service $2).
app_started_ms() {
  local filters=(--filter "label=io.balena.app-id=$1")
  [ -n "${2:-}" ] && filters+=(--filter "label=io.balena.service-name=$2")
  # shellcheck disable=SC2046
  started_ms $(docker ps -q "${filters[@]}")
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}'; }

docker pull -q "$image" >/dev/null
echo '{}' >"$work/config.json"
"$bosun" --data-dir "$work/data" --config "$work/config.json" \
  --engine "$DOCKER_HOST" --listen "127.0.0.1:$port" --log-level warn \
  2>"$work/bosun.log" &
bosun_pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/ping" >/dev/null && break; sleep 0.1; done
rss_start=$(rss_kb)

declare -A results cpu reqs
bench_bosun() { # $1 = label, $2 = services
  local app t1
  app=$(( $2 == 5 ? 901 : 902 ))
  for _ in $(seq "$runs"); do
    target "$app" "$2" one >"$work/t1.json"
    measured "$1 from empty" apply_and_wait "$work/t1.json" "$app" "$2" one
    t1=$(app_started_ms "$app")
    results["bosun $1 from empty"]+="$((t1 - t_start)) "
    target "$app" "$2" two >"$work/t2.json"
    measured "$1 one env change" apply_and_wait "$work/t2.json" "$app" "$2" two
    t1=$(app_started_ms "$app" s1)
    results["bosun $1 one env change"]+="$((t1 - t_start)) "
    # Back to empty for the next run: an empty target removes the app.
    printf '{"local":{"name":"bench","config":{},"apps":{}}}' >"$work/empty.json"
    post "$work/empty.json"
    while [ -n "$(docker ps -aq --filter "label=io.balena.app-id=$app")" ]; do sleep 0.1; done
  done
}

# The minimal CLI operations for the same change: create+start N
# containers; for the env change, stop and remove s1, create+start it again.
bench_cli() { # $1 = label, $2 = services
  local t0 t1 i
  docker network create bench_base >/dev/null 2>&1 || true
  for _ in $(seq "$runs"); do
    t0=$(now_ms)
    for i in $(seq 1 "$2"); do
      docker run -d --name "base_s$i" --network bench_base -l bosun.bench=baseline \
        -e V=one "$image" /bin/sh -c "trap 'exit 0' TERM; sleep 100000 & wait" >/dev/null
    done
    # shellcheck disable=SC2046
    t1=$(started_ms $(docker ps -q --filter label=bosun.bench=baseline))
    results["cli $1 from empty"]+="$((t1 - t0)) "
    t0=$(now_ms)
    docker stop -t 10 base_s1 >/dev/null
    docker rm base_s1 >/dev/null
    docker run -d --name base_s1 --network bench_base -l bosun.bench=baseline \
      -e V=two "$image" /bin/sh -c "trap 'exit 0' TERM; sleep 100000 & wait" >/dev/null
    t1=$(started_ms base_s1)
    results["cli $1 one env change"]+="$((t1 - t0)) "
    docker ps -aq --filter label=bosun.bench=baseline | xargs -r docker rm -f >/dev/null
  done
}

cleanup_all
bench_bosun "5 services" 5
bench_cli "5 services" 5
bench_bosun "20 services" 20
bench_cli "20 services" 20
rss_end=$(rss_kb)

echo "apply benchmark: $runs run(s) each, engine $DOCKER_HOST, $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
printf '%-36s %10s %10s %8s %12s %14s\n' "case" "bosun ms" "cli ms" "ratio" "bosun cpu ms" "engine reqs"
for c in "5 services from empty" "5 services one env change" \
  "20 services from empty" "20 services one env change"; do
  b=$(echo "${results["bosun $c"]}" | tr ' ' '\n' | grep . | median)
  l=$(echo "${results["cli $c"]}" | tr ' ' '\n' | grep . | median)
  cm=$(echo "${cpu["$c"]}" | tr ' ' '\n' | grep . | median)
  rq=$(echo "${reqs["$c"]}" | tr ' ' '\n' | grep . | median)
  printf '%-36s %10s %10s %8s %12s %14s\n' "$c" "$b" "$l" \
    "$(awk -v b="$b" -v l="$l" 'BEGIN {printf "%.2f", b / l}')" "$cm" "$rq"
done
echo "bosun RSS: ${rss_start} kB at start, ${rss_end} kB after"
