#!/bin/sh
# Records the engine data for tests/unit/apps_spec/recorded_test.cpp.
#
#   record.sh <dockerd socket> <path to the unit_apps_spec binary>
#
# Use a private, throw-away dockerd (DESIGN.md "Real components"): this
# removes every io.balena.supervised container and the test networks on it.
# Steps: import two busybox images, save their inspects; create the app's
# networks; let the test binary write each case's create body and plan
# (BOSUN_SPEC_RECORD=1); create, connect and start each container exactly
# from those bodies; save GET /containers/<name>/json as <case>.inspect.json.
# Two passes, since "netns" needs the id of the recorded "plain" container.
set -eu

SOCK=$1
BIN=$2
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d)
UUID=d149c5d1551b4286a930d57284a02511
DOCKER="docker -H unix://$SOCK"

api() {
  curl -sS --fail-with-body --unix-socket "$SOCK" \
    -H 'Content-Type: application/json' "$@"
}

# Images: a busybox rootfs, plain and with image defaults to inherit.
mkdir -p "$WORK/rootfs/bin"
cp /bin/busybox "$WORK/rootfs/bin/"
for a in $(/bin/busybox --list); do
  [ "$a" = busybox ] || ln -sf busybox "$WORK/rootfs/bin/$a"
done
tar -C "$WORK/rootfs" -c . | $DOCKER import -c 'CMD ["/bin/sh"]' - local/busybox:1
tar -C "$WORK/rootfs" -c . | $DOCKER import -c 'CMD ["sleep","3600"]' \
  -c 'ENV PATH=/usr/bin:/bin IMG_ONLY=from-image SHARED=image' \
  -c 'LABEL io.resin.features.sysfs=1 img.label=x' \
  -c 'VOLUME /img-data' -c 'EXPOSE 9000/tcp' \
  -c 'HEALTHCHECK --interval=30s --timeout=5s CMD ["/bin/true"]' \
  -c 'WORKDIR /srv/' - local/rich:1
$DOCKER image inspect --format '{{json .}}' local/busybox:1 \
  | python3 -m json.tool > "$HERE/image_busybox.json"
$DOCKER image inspect --format '{{json .}}' local/rich:1 \
  | python3 -m json.tool > "$HERE/image_rich.json"

# A clean slate.
ids=$($DOCKER ps -aq --filter label=io.balena.supervised)
[ -z "$ids" ] || $DOCKER rm -f $ids
for n in "${UUID}_default" "${UUID}_backend" "${UUID}_frontend" supervisor0; do
  $DOCKER network rm "$n" 2>/dev/null || true
done
$DOCKER network create "${UUID}_default"
$DOCKER network create --subnet 172.28.0.0/16 --gateway 172.28.0.1 \
  "${UUID}_backend"
$DOCKER network create "${UUID}_frontend"
$DOCKER network create --subnet 10.114.104.0/25 --gateway 10.114.104.1 \
  -o com.docker.network.bridge.name=supervisor0 supervisor0

# What the specs need to know about this host.
{
  echo "hostname=$(hostname)"
  echo "engine_socket=$SOCK"
  echo "lock_dir_base=$WORK/locks"
} > "$HERE/context.txt"

rm -f "$HERE"/*.plan "$HERE"/*.create.json "$HERE"/*.inspect.json
for pass in 1 2; do
  BOSUN_SPEC_RECORD=1 "$BIN" -ts='compare: inspects recorded*' \
    -tc='containers created from their specs*' > /dev/null
  for plan in "$HERE"/*.plan; do
    case_name=$(basename "$plan" .plan)
    [ -f "$HERE/$case_name.inspect.json" ] && continue
    echo "pass $pass: $case_name"
    name=$(sed -n 's/^name //p' "$plan")
    api -X POST "http://engine/v1.41/containers/create?name=$name" \
      --data-binary @"$HERE/$case_name.create.json"
    echo
    grep '^connect ' "$plan" | while read -r _ net body; do
      api -X POST "http://engine/v1.41/networks/$net/connect" -d "$body"
    done
    if grep -q '^start 1' "$plan"; then
      api -X POST "http://engine/v1.41/containers/$name/start"
    fi
    api "http://engine/v1.41/containers/$name/json" \
      | python3 -m json.tool > "$HERE/$case_name.inspect.json"
  done
done
# A stopped container keeps comparing equal: exited services are not
# recreated just because they stopped.
name=$(sed -n 's/^name //p' "$HERE/rich.plan")
api -X POST "http://engine/v1.41/containers/$name/stop?t=1"
api "http://engine/v1.41/containers/$name/json" \
  | python3 -m json.tool > "$HERE/rich.stopped.inspect.json"
rm -f "$HERE"/*.plan
echo "recorded into $HERE (workdir $WORK left for the lock dirs)"
