#!/usr/bin/env bash
# Idle benchmark: what bosun costs while nothing happens. Starts bosun in
# local mode (unmanaged, like `tools/dev up`), lets it settle, and over a
# window (60 s) reads from /proc, per thread, the CPU time (schedstat, ns)
# and the wakeups (voluntary + nonvoluntary context switches); then runs a
# quiet 3-service app (busybox sleeping) and measures again; then the demo
# app (tools/demo/target.json, its port moved off 8080; a worker logs a line
# every 5 s) and measures again. Prints RSS and PSS (smaps_rollup) after
# each window, and the machine's load.
#
#   eval "$(BOSUN_STATE=/tmp/me tools/dev env)"   # private engine + image
#   tools/dev release                               # build-release/bosun
#   tools/bench/idle.sh
#
# Environment: BENCH_BUILD (default build-release) or BOSUN_BINARY,
# BENCH_WINDOW (seconds, 60), BENCH_SETTLE (seconds, 10), BENCH_PORT (48630),
# BENCH_DEMO_PORT (48638, the demo's web port), BENCH_PHASES ("idle quiet
# demo", any subset in any order).
# The demo image is the test image tagged bosun/demo:1 (the same busybox
# rootfs tools/dev imports). Removes the containers it creates.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bosun=${BOSUN_BINARY:-${BENCH_BUILD:-$repo/build-release}/bosun}
image=${BOSUN_TEST_IMAGE:?run eval "\$(tools/dev env)" first}
: "${DOCKER_HOST:?run eval "\$(tools/dev env)" first}"
window=${BENCH_WINDOW:-60}
settle=${BENCH_SETTLE:-10}
port=${BENCH_PORT:-48630}
demo_port=${BENCH_DEMO_PORT:-48638}
phases=${BENCH_PHASES:-idle quiet demo}
app=1
[ -x "$bosun" ] || { echo "missing $bosun (see the header of $0)" >&2; exit 1; }

work=$(mktemp -d /tmp/bosun-bench-idle.XXXXXX)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  local ids
  ids=$(docker ps -aq --filter "label=io.balena.app-id=$app")
  [ -z "$ids" ] || docker rm -f $ids >/dev/null
  docker volume ls -q | grep "^${app}_" | xargs -r docker volume rm >/dev/null 2>&1
  docker network rm "${app}_default" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# One line per live thread: tid comm cpu_ns voluntary nonvoluntary.
snapshot() {
  local t comm ns vol nonvol
  for t in /proc/"$pid"/task/*; do
    comm=$(tr ' ' _ <"$t/comm" 2>/dev/null) || continue
    ns=$(cut -d' ' -f1 "$t/schedstat" 2>/dev/null) || continue
    vol=$(awk '/^voluntary_ctxt_switches/ {print $2}' "$t/status" 2>/dev/null)
    nonvol=$(awk '/^nonvoluntary_ctxt_switches/ {print $2}' "$t/status" 2>/dev/null)
    echo "${t##*/} $comm $ns ${vol:-0} ${nonvol:-0}"
  done
}

# utime + stime of the whole process (dead threads included), in ticks.
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }

memory() {
  awk '/^Rss:/ {r = $2} /^Pss:/ {p = $2} /^Anonymous:/ {a = $2}
       END {printf "RSS %d kB, PSS %d kB, anonymous %d kB", r, p, a}' \
    "/proc/$pid/smaps_rollup"
}

measure() { # $1 = label
  local before=$work/before after=$work/after t0 t1 s0 s1
  sleep "$settle"
  snapshot >"$before"; t0=$(ticks); s0=$(date +%s.%N)
  sleep "$window"
  snapshot >"$after"; t1=$(ticks); s1=$(date +%s.%N)
  echo
  echo "## $1: $(awk -v a="$s0" -v b="$s1" 'BEGIN {printf "%.1f", b - a}') s," \
    "load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "| thread | CPU ms | wakeups | wakeups/s |"
  echo "|---|---|---|---|"
  awk -v secs="$(awk -v a="$s0" -v b="$s1" 'BEGIN {print b - a}')" \
    -v hz="$(getconf CLK_TCK)" -v ticks="$((t1 - t0))" '
    FNR == NR { ns[$1] = $3; sw[$1] = $4 + $5; next }
    {
      d_ns = $3 - ($1 in ns ? ns[$1] : 0); d_sw = $4 + $5 - ($1 in sw ? sw[$1] : 0)
      cpu += d_ns; wake += d_sw
      printf "| %s %s%s | %.1f | %d | %.2f |\n", $1, $2, ($1 in ns ? "" : " (new)"),
        d_ns / 1e6, d_sw, d_sw / secs
    }
    END {
      printf "| all threads | %.1f | %d | %.2f |\n", cpu / 1e6, wake, wake / secs
      printf "\nCPU: %.4f s per 60 s (schedstat, live threads); %.2f s (utime+stime, %d Hz ticks)\n",
        cpu / 1e9 * 60 / secs, ticks / hz, hz
      printf "wakeups: %.2f per second in the whole process\n", wake / secs
    }' "$before" "$after"
  echo "memory: $(memory)"
}

echo "# $(nproc) cores; $bosun"
echo '{}' >"$work/config.json"
"$bosun" --local-mode --data-dir "$work/data" --config "$work/config.json" \
  --engine "$DOCKER_HOST" --listen "127.0.0.1:$port" --log-level warn \
  2>"$work/bosun.log" &
pid=$!
deadline=$((SECONDS + 30))
until curl -sf -o /dev/null "http://127.0.0.1:$port/ping"; do
  [ $SECONDS -lt $deadline ] || { echo "bosun did not answer" >&2; exit 1; }
  sleep 0.1
done
echo "# started: $(memory)"

# apply <target file> <containers>: the target, then wait for its containers.
apply() {
  curl -sf -X POST -H 'Content-Type: application/json' --data-binary "@$1" \
    "http://127.0.0.1:$port/v2/local/target-state" >/dev/null \
    || { echo "the target $1 was refused" >&2; exit 1; }
  local deadline=$((SECONDS + 300))
  until [ "$(docker ps -q --filter "label=io.balena.app-id=$app" | wc -l)" -eq "$2" ]; do
    [ $SECONDS -lt $deadline ] || { echo "the app did not start" >&2; exit 1; }
    sleep 0.2
  done
}

quiet_target() {
  local svcs="" i
  for i in 1 2 3; do
    svcs+="${svcs:+,}\"$i\":{\"serviceName\":\"q$i\",\"serviceId\":$i,"
    svcs+="\"imageId\":$i,\"image\":\"$image\",\"environment\":{},\"labels\":{},"
    svcs+="\"command\":[\"/bin/sh\",\"-c\",\"trap 'exit 0' TERM; sleep 100000 & wait\"]}"
  done
  printf '{"local":{"name":"idle","config":{},"apps":{"%s":{"name":"quiet","commit":"q1","releaseId":"1","services":{%s},"volumes":{},"networks":{}}}}}' \
    "$app" "$svcs"
}

for phase in $phases; do
  case $phase in
    idle) measure "idle, no app" ;;
    quiet)
      quiet_target >"$work/quiet.json"
      apply "$work/quiet.json" 3
      measure "a quiet 3-service app running (busybox sleeping)"
      ;;
    demo)
      docker image inspect bosun/demo:1 >/dev/null 2>&1 || {
        docker pull -q "$image" >/dev/null && docker tag "$image" bosun/demo:1
      }
      sed "s/\"8080:80\"/\"$demo_port:80\"/" "$repo/tools/demo/target.json" \
        >"$work/target.json"
      apply "$work/target.json" 2
      measure "demo app running (2 services; the worker logs a line every 5 s)"
      ;;
    *) echo "unknown phase $phase" >&2; exit 2 ;;
  esac
done
