#!/usr/bin/env bash
# Soak (issue 15 item 6): bosun runs one app for a long time while
#   - a new target comes every --target-every s (the worker's env changes),
#   - the worker container is killed (SIGKILL) every --crash-every s,
#   - the device API is asked --api-rate times a second,
#   - the logger service writes about 1,000 lines a second, read back through
#     a follow stream of /v2/local/logs (python3 counts the lines),
#   - the engine (dockerd) is stopped and started every
#     --engine-restart-every s.
# bosun's RSS, open file descriptors, threads and database size are sampled
# every --sample-every s into samples.csv. It passes when bosun never died,
# every target was reached before the next one came, and RSS and fds stay
# flat after the warm-up: the growth a least-squares line over the samples
# predicts for the run stays within max(2 MiB, 10 % of the mean) for RSS and
# within 4 for fds. Writes summary.json, and soak.svg when gnuplot is there.
#
#   eval "$(BOSUN_STATE=/tmp/soak-engine tools/dev env)"  # its own engine
#   tools/chaos/soak.sh --duration 3600 --out /tmp/soak
#
# Needs BOSUN_TEST_DOCKERD_PIDFILE and BOSUN_TEST_DOCKERD_CMD (tools/dev env)
# to restart the engine, and the engine to itself: every bosun manages all
# supervised containers of its engine.
set -euo pipefail

duration=3600
out=
target_every=30
crash_every=20
api_rate=10
engine_every=600
sample_every=10
warmup=
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --target-every) target_every=$2; shift 2 ;;
    --crash-every) crash_every=$2; shift 2 ;;
    --api-rate) api_rate=$2; shift 2 ;;
    --engine-restart-every) engine_every=$2; shift 2 ;;
    --sample-every) sample_every=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "soak: unknown option $1" >&2; exit 2 ;;
  esac
done
# The first tenth of the run (at least a minute) is warm-up: caches, the
# log buffers and SQLite's page cache fill.
[ -n "$warmup" ] || warmup=$(( duration / 10 > 60 ? duration / 10 : 60 ))

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bosun=${BOSUN_BINARY:-$repo/build/bosun}
image=${BOSUN_TEST_IMAGE:?run eval "\$(tools/dev env)" first}
: "${DOCKER_HOST:?run eval "\$(tools/dev env)" first}"
pidfile=${BOSUN_TEST_DOCKERD_PIDFILE:?tools/dev env sets it}
dockerd_cmd=${BOSUN_TEST_DOCKERD_CMD:?tools/dev env sets it}
# A free loopback port, unless given.
port=${SOAK_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
api="http://127.0.0.1:$port"
[ -n "$out" ] || out=$(mktemp -d /tmp/bosun-soak.XXXXXX)
mkdir -p "$out"
work=$(mktemp -d /tmp/bosun-soak-work.XXXXXX)
app=951
loops=()
bosun_pid=

log() { echo "soak: $(date -u +%H:%M:%S) $*" | tee -a "$out/soak.log" >&2; }
now_s() { date +%s; }

cleanup() {
  # (`wait` with no pid would wait for bosun too.)
  if [ ${#loops[@]} -gt 0 ]; then
    for p in "${loops[@]}"; do kill "$p" 2>/dev/null || true; done
    wait "${loops[@]}" 2>/dev/null || true
  fi
  if [ -n "$bosun_pid" ]; then
    kill "$bosun_pid" 2>/dev/null || true
    wait "$bosun_pid" 2>/dev/null || true
  fi
  docker ps -aq --filter "label=io.balena.app-id=$app" | xargs -r docker rm -f >/dev/null 2>&1 || true
  docker network rm "${app}_default" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# The app: a logger (~1,000 lines/s) and a worker whose env changes with
# every target.
target() { # $1 = the worker's V
  local logger worker
  logger="\"1\":{\"serviceName\":\"logger\",\"serviceId\":1,\"imageId\":1,\"image\":\"$image\",\"environment\":{},\"labels\":{},\"command\":[\"/bin/sh\",\"-c\",\"trap 'exit 0' TERM; while true; do i=0; while [ \$i -lt 100 ]; do echo soak line \$i; i=\$((i+1)); done; usleep 100000; done\"]}"
  worker="\"2\":{\"serviceName\":\"worker\",\"serviceId\":2,\"imageId\":2,\"image\":\"$image\",\"environment\":{\"V\":\"$1\"},\"labels\":{},\"command\":[\"/bin/sh\",\"-c\",\"trap 'exit 0' TERM; sleep 100000 & wait\"]}"
  printf '{"local":{"name":"soak","config":{},"apps":{"%s":{"name":"soak","commit":"c1","releaseId":"1","services":{%s,%s},"volumes":{},"networks":{}}}}}' \
    "$app" "$logger" "$worker"
}

# The worker runs with V=$1 (and the logger runs).
at_target() {
  local w
  w=$(docker ps -q --filter "label=io.balena.app-id=$app" --filter label=io.balena.service-name=worker 2>/dev/null) || return 1
  [ -n "$w" ] || return 1
  docker inspect -f '{{json .Config.Env}}' $w 2>/dev/null | grep -q "\"V=$1\"" || return 1
  [ -n "$(docker ps -q --filter "label=io.balena.app-id=$app" --filter label=io.balena.service-name=logger 2>/dev/null)" ]
}

engine_up() { docker version >/dev/null 2>&1; }

# -- the loops ---------------------------------------------------------------

# Posts target n every $target_every s; records whether the device reached
# it before the next one: "n posted_s reached_s|-".
targets_loop() {
  set +e +o pipefail
  local n=1 t0 reached next
  while true; do
    target "v$n" >"$work/target.json"
    t0=$(now_s)
    next=$((t0 + target_every))
    curl -sf -m 10 -X POST --data-binary "@$work/target.json" "$api/v2/local/target-state" >/dev/null \
      || log "posting target $n failed"
    reached=-
    while [ "$(now_s)" -lt "$next" ]; do
      if at_target "v$n"; then reached=$(now_s); break; fi
      sleep 0.5
    done
    echo "$n $t0 $reached" >>"$out/targets.txt"
    [ "$reached" = - ] && log "target $n not reached within ${target_every} s"
    while [ "$(now_s)" -lt "$next" ]; do sleep 0.5; done
    n=$((n + 1))
  done
}

crash_loop() {
  set +e +o pipefail
  local w
  while true; do
    sleep "$crash_every"
    w=$(docker ps -q --filter "label=io.balena.app-id=$app" --filter label=io.balena.service-name=worker 2>/dev/null || true)
    if [ -n "$w" ]; then
      docker kill -s KILL $w >/dev/null 2>&1 && echo "$(now_s) $w" >>"$out/crashes.txt" || true
    fi
  done
}

api_loop() {
  set +e +o pipefail
  local pause paths i=0
  pause=$(awk -v r="$api_rate" 'BEGIN {printf "%.3f", 1 / r}')
  paths=(/v2/applications/state /v2/state/status /v1/device /v2/version /ping)
  while true; do
    if curl -sf -m 10 "$api${paths[i % ${#paths[@]}]}" >/dev/null; then
      echo ok
    else
      echo fail
    fi
    i=$((i + 1))
    sleep "$pause"
  done >>"$out/api.txt"
}

# A follow stream of the device's logs (reconnected when it ends); the
# lines received so far are written to log-lines.txt every second.
logs_reader() {
  exec python3 - "127.0.0.1" "$port" "$out/log-lines.txt" <<'PY'
import socket, sys, time
host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
lines, last = 0, 0.0
while True:
    try:
        s = socket.create_connection((host, port), timeout=30)
        s.sendall(b"GET /v2/local/logs HTTP/1.1\r\nHost: soak\r\n\r\n")
        while True:
            b = s.recv(65536)
            if not b:
                break
            lines += b.count(b"\n")
            now = time.time()
            if now - last >= 1:
                with open(path, "w") as f:
                    f.write("%d\n" % lines)
                last = now
    except OSError:
        pass
    time.sleep(1)
PY
}

restart_engine() {
  local pid t0
  t0=$(now_s)
  pid=$(cat "$pidfile")
  log "stopping the engine (pid $pid)"
  kill "$pid"
  for _ in $(seq 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  # shellcheck disable=SC2086
  setsid $dockerd_cmd >>"$out/dockerd.log" 2>&1 < /dev/null &
  for _ in $(seq 600); do engine_up && break; sleep 0.1; done
  engine_up || { log "the engine did not come back"; return 1; }
  log "engine back after $(( $(now_s) - t0 )) s"
  echo "$t0 $(now_s)" >>"$out/engine-restarts.txt"
}

engine_loop() {
  set +e +o pipefail
  while true; do
    sleep "$engine_every"
    restart_engine || true
  done
}

# t, rss_kb, fds, threads, db_bytes
sample_loop() {
  set +e +o pipefail
  local start=$1 rss fds thr db
  while true; do
    rss=$(awk '/^VmRSS/ {print $2}' "/proc/$bosun_pid/status" 2>/dev/null || echo 0)
    thr=$(awk '/^Threads/ {print $2}' "/proc/$bosun_pid/status" 2>/dev/null || echo 0)
    fds=$(ls "/proc/$bosun_pid/fd" 2>/dev/null | wc -l)
    db=$(du -cb "$work"/data/bosun.sqlite* 2>/dev/null | awk 'END {print $1 + 0}')
    echo "$(( $(now_s) - start )),$rss,$fds,$thr,$db" >>"$out/samples.csv"
    sleep "$sample_every"
  done
}

# -- the run -----------------------------------------------------------------

engine_up || { echo "soak: no engine at $DOCKER_HOST" >&2; exit 2; }
docker pull -q "$image" >/dev/null
: >"$out/targets.txt"; : >"$out/crashes.txt"; : >"$out/api.txt"
: >"$out/log-lines.txt"; : >"$out/engine-restarts.txt"
echo "t_s,rss_kb,fds,threads,db_bytes" >"$out/samples.csv"
echo '{}' >"$work/config.json"
"$bosun" --data-dir "$work/data" --config "$work/config.json" \
  --engine "$DOCKER_HOST" --listen "127.0.0.1:$port" --log-level info \
  2>"$out/bosun.log" &
bosun_pid=$!
for _ in $(seq 200); do curl -sf "$api/ping" >/dev/null && break; sleep 0.1; done
curl -sf "$api/ping" >/dev/null || { log "bosun did not answer"; exit 1; }
log "bosun $bosun_pid; ${duration} s, target every ${target_every} s, crash every ${crash_every} s, API ${api_rate}/s, engine restart every ${engine_every} s; out $out"
start=$(now_s)
sample_loop "$start" & loops+=($!)
targets_loop & loops+=($!)
crash_loop & loops+=($!)
api_loop & loops+=($!)
logs_reader & loops+=($!)
engine_loop & loops+=($!)

died=0
while [ $(( $(now_s) - start )) -lt "$duration" ]; do
  if ! kill -0 "$bosun_pid" 2>/dev/null; then died=1; log "bosun died"; break; fi
  sleep 2
done
cleanup_loops=("${loops[@]}")
loops=()
for p in "${cleanup_loops[@]}"; do kill "$p" 2>/dev/null || true; done
wait "${cleanup_loops[@]}" 2>/dev/null || true
kill -0 "$bosun_pid" 2>/dev/null || died=1

# -- the verdict -------------------------------------------------------------

# Growth over the post-warm-up run that a least-squares line predicts.
growth() { # $1 = column
  awk -F, -v w="$warmup" -v c="$1" 'NR > 1 && $1 >= w && $2 > 0 {
      n++; x = $1; y = $c; sx += x; sy += y; sxx += x * x; sxy += x * y
      if (n == 1) x0 = x; x1 = x }
    END {
      if (n < 3) { print "0 0"; exit }
      b = (n * sxy - sx * sy) / (n * sxx - sx * sx)
      printf "%.1f %.1f\n", b * (x1 - x0), sy / n }' "$out/samples.csv"
}
read -r rss_growth rss_mean < <(growth 2)
read -r fd_growth fd_mean < <(growth 3)
targets=$(grep -c . "$out/targets.txt" || true)
missed=$(awk '$3 == "-"' "$out/targets.txt" | grep -c . || true)
crashes=$(grep -c . "$out/crashes.txt" || true)
api_ok=$(grep -c '^ok' "$out/api.txt" || true)
api_fail=$(grep -c '^fail' "$out/api.txt" || true)
restarts=$(grep -c . "$out/engine-restarts.txt" || true)
lines=$(cat "$out/log-lines.txt" 2>/dev/null || echo 0)
max_thr=$(awk -F, 'NR > 1 && $4 > m {m = $4} END {print m + 0}' "$out/samples.csv")
rss_limit=$(awk -v m="$rss_mean" 'BEGIN {l = m * 0.10; print (l > 2048 ? l : 2048)}')
verdict=pass
reasons=()
[ "$died" -eq 0 ] || { verdict=fail; reasons+=("bosun died"); }
[ "$missed" -eq 0 ] || { verdict=fail; reasons+=("$missed of $targets targets not reached in time"); }
[ "$targets" -gt 0 ] || { verdict=fail; reasons+=("no target was posted"); }
awk -v g="$rss_growth" -v l="$rss_limit" 'BEGIN {exit !(g <= l)}' \
  || { verdict=fail; reasons+=("RSS grew ${rss_growth} kB (limit ${rss_limit} kB)"); }
awk -v g="$fd_growth" 'BEGIN {exit !(g <= 4)}' \
  || { verdict=fail; reasons+=("fds grew ${fd_growth} (limit 4)"); }
cat >"$out/summary.json" <<EOF
{"verdict":"$verdict","duration_s":$duration,"warmup_s":$warmup,
 "targets":$targets,"targets_missed":$missed,"crashes":$crashes,
 "engine_restarts":$restarts,"api_ok":$api_ok,"api_failed":$api_fail,
 "log_lines_received":$lines,
 "rss_mean_kb":$rss_mean,"rss_growth_kb":$rss_growth,"rss_limit_kb":$rss_limit,
 "fds_mean":$fd_mean,"fds_growth":$fd_growth,"threads_max":$max_thr,
 "reasons":"${reasons[*]:-}"}
EOF
cat "$out/summary.json"
if command -v gnuplot >/dev/null; then
  gnuplot <<EOF || log "gnuplot failed"
set terminal svg size 900,600 dynamic
set output "$out/soak.svg"
set datafile separator ","
set multiplot layout 2,1 title "bosun soak: ${duration} s, target every ${target_every} s, crash every ${crash_every} s, engine restart every ${engine_every} s"
set xlabel "seconds"
set ylabel "RSS (MiB)"
set grid
plot "$out/samples.csv" every ::1 using 1:(\$2/1024) with lines title "RSS"
set ylabel "count"
plot "$out/samples.csv" every ::1 using 1:3 with lines title "open fds", \
     "$out/samples.csv" every ::1 using 1:4 with lines title "threads"
unset multiplot
EOF
else
  log "gnuplot not installed: no plot (apt-get install gnuplot-nox)"
fi
log "verdict: $verdict ${reasons[*]:-}"
[ "$verdict" = pass ]
