#!/bin/sh
# Records the raw Docker Engine API responses the codec tests decode.
# Usage: record.sh <dir with docker.sock> [registry host:port [registry storage dir]]
# Needs a running dockerd on $1/docker.sock (see tools/dev) and the image
# local/busybox:1 imported from a busybox-static rootfs. Writes into the
# directory of this script.
set -eu
D=$1
REG=${2:-}
OUT=$(cd "$(dirname "$0")" && pwd)
api() { curl -sS --unix-socket "$D/docker.sock" "$@"; }
U=http://docker/v1.41

api "$U/version" > "$OUT/version.json"
api "$U/info" > "$OUT/info.json"
api -D "$OUT/ping_headers.txt" "$U/_ping" > /dev/null

# Events from here on, for a while.
api --max-time 25 "$U/events" > "$OUT/events.ndjson" &
EV=$!
sleep 1

api -X POST -H 'Content-Type: application/json' "$U/networks/create" -d '{
  "Name": "rec_net", "Driver": "bridge", "CheckDuplicate": true,
  "Internal": false, "Attachable": true, "EnableIPv6": false,
  "IPAM": {"Driver": "default", "Options": {},
    "Config": [{"Subnet": "172.31.7.0/24", "Gateway": "172.31.7.1",
                "IPRange": "172.31.7.128/25",
                "AuxiliaryAddresses": {"router": "172.31.7.2"}}]},
  "Options": {"com.docker.network.bridge.name": "recbr0"},
  "Labels": {"io.balena.supervised": "true", "io.balena.app-id": "1"}}' \
  > "$OUT/network_create_response.json"
api -X POST -H 'Content-Type: application/json' "$U/networks/create" -d '{
  "Name": "rec_other", "Driver": "bridge", "CheckDuplicate": true,
  "Labels": {"io.balena.supervised": "true"}}' > /dev/null

api -X POST -H 'Content-Type: application/json' "$U/volumes/create" -d '{
  "Name": "1_data", "Driver": "local", "DriverOpts": {},
  "Labels": {"io.balena.supervised": "true", "io.balena.app-uuid": "abc"}}' \
  > "$OUT/volume.json"
api -X POST -H 'Content-Type: application/json' "$U/volumes/create" -d '{
  "Name": "1_cache", "Driver": "local",
  "DriverOpts": {"type": "tmpfs", "device": "tmpfs", "o": "size=1m"}}' \
  > /dev/null

api -X POST -H 'Content-Type: application/json' \
  "$U/containers/create?name=main_1_2_abc" -d @"$OUT/create_body.json" \
  > "$OUT/container_create_response.json"
ID=$(sed 's/.*"Id":"\([0-9a-f]*\)".*/\1/' "$OUT/container_create_response.json")
api -X POST -H 'Content-Type: application/json' "$U/networks/rec_other/connect" \
  -d "{\"Container\": \"$ID\", \"EndpointConfig\": {\"Aliases\": [\"main\"]}}"
api -X POST "$U/containers/$ID/start"
sleep 3
api "$U/containers/$ID/json" > "$OUT/container_inspect_running.json"

api -X POST -H 'Content-Type: application/json' "$U/containers/$ID/update" \
  -d '{"RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 3},
       "CpuShares": 512}' > "$OUT/container_update_response.json"

# A container that writes to stdout and stderr and exits 3 (non-TTY logs).
api -X POST -H 'Content-Type: application/json' \
  "$U/containers/create?name=logger" -d '{"Image": "local/busybox:1",
  "Cmd": ["/bin/sh", "-c", "echo out1; echo err1 >&2; printf \"partial\"; echo; echo out2; exit 3"],
  "Tty": false, "HostConfig": {"NetworkMode": "none"}}' > /dev/null
api -X POST "$U/containers/logger/start"
api -X POST "$U/containers/logger/wait" > "$OUT/wait_response.json"
api "$U/containers/logger/logs?stdout=1&stderr=1" > "$OUT/logs_multiplexed.bin"
api "$U/containers/logger/logs?stdout=1&stderr=1&timestamps=1" \
  > "$OUT/logs_multiplexed_timestamps.bin"
api "$U/containers/logger/json" > "$OUT/container_inspect_exited.json"

# A TTY container: raw log stream.
api -X POST -H 'Content-Type: application/json' \
  "$U/containers/create?name=ttyer" -d '{"Image": "local/busybox:1",
  "Cmd": ["/bin/sh", "-c", "echo tty-out; echo tty-err >&2"], "Tty": true,
  "HostConfig": {"NetworkMode": "none"}}' > /dev/null
api -X POST "$U/containers/ttyer/start"
api -X POST "$U/containers/ttyer/wait" > /dev/null
api "$U/containers/ttyer/logs?stdout=1&stderr=1" > "$OUT/logs_tty.bin"

# Created, never started: a GPU device request.
api -X POST -H 'Content-Type: application/json' \
  "$U/containers/create?name=gpu" -d '{"Image": "local/busybox:1",
  "HostConfig": {"NetworkMode": "none", "DeviceRequests": [{"Driver": "",
  "Count": 1, "DeviceIDs": [], "Capabilities": [["gpu"]], "Options": {}}]}}' \
  > /dev/null
api "$U/containers/gpu/json" > "$OUT/container_inspect_created.json"

api "$U/containers/json?all=1" > "$OUT/container_list.json"
api "$U/images/json" > "$OUT/image_list.json"
api "$U/images/local%2Fbusybox:1/json" > "$OUT/image_inspect.json"
api "$U/volumes" > "$OUT/volume_list.json"
api "$U/networks" > "$OUT/network_list.json"
api "$U/networks/rec_net" > "$OUT/network_inspect.json"
api "$U/containers/nonexistent/json" > "$OUT/error_not_found.json"
api -X POST -H 'Content-Type: application/json' \
  "$U/containers/create" -d '{"Image": ' > "$OUT/error_bad_request.json"

if [ -n "$REG" ]; then
  docker -H "unix://$D/docker.sock" tag local/busybox:1 "$REG/busybox:1"
  docker -H "unix://$D/docker.sock" push "$REG/busybox:1" > /dev/null
  docker -H "unix://$D/docker.sock" rmi "$REG/busybox:1" > /dev/null
  api -X POST "$U/images/create?fromImage=$REG/busybox&tag=1" \
    > "$OUT/pull_progress.ndjson"
  api -X POST "$U/images/create?fromImage=$REG/busybox&tag=missing" \
    > "$OUT/pull_error_missing.json" || true
  api -X DELETE "$U/images/$REG/busybox:1" > "$OUT/image_delete_response.json"
  # A fresh 3 MB layer shows Downloading/Extracting progress...
  T=$(mktemp -d)
  head -c 3000000 /dev/urandom > "$T/blob"
  tar -C "$T" -c blob | docker -H "unix://$D/docker.sock" import - "$REG/big:1"
  docker -H "unix://$D/docker.sock" push "$REG/big:1" > /dev/null
  docker -H "unix://$D/docker.sock" rmi "$REG/big:1" > /dev/null
  api -X POST "$U/images/create?fromImage=$REG/big&tag=1" \
    > "$OUT/pull_progress_layers.ndjson"
  docker -H "unix://$D/docker.sock" rmi "$REG/big:1" > /dev/null
  # ...and, with the blob corrupted in the registry's storage ($3), a failure
  # inside the 200 stream.
  if [ -n "${3:-}" ]; then
    B=$(find "$3" -path '*blobs*' -name data -size +1M | head -1)
    printf 'XXXX' | dd of="$B" bs=1 seek=100 conv=notrunc 2> /dev/null
    api -X POST "$U/images/create?fromImage=$REG/big&tag=1" \
      > "$OUT/pull_progress_error.ndjson"
  fi
  rm -rf "$T"
fi

# Cleanup makes events too (kill, die, disconnect, destroy).
api -X POST "$U/containers/$ID/kill?signal=SIGKILL"
api -X DELETE "$U/containers/$ID?force=1&v=1"
for c in logger ttyer gpu; do api -X DELETE "$U/containers/$c?force=1&v=1"; done
api -X DELETE "$U/networks/rec_net"
api -X DELETE "$U/networks/rec_other"
api -X DELETE "$U/volumes/1_data"
api -X DELETE "$U/volumes/1_cache"
wait $EV || true
