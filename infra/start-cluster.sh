#!/bin/sh
# Starts the 3-node loopback JetStream cluster of infra/nats/cluster-n*.conf in the background.
# Stores go under $STOCKADE_NATS_STORE (default ./data/cluster); logs beside them.
# Stop it with: infra/start-cluster.sh stop
set -eu
here=$(cd "$(dirname "$0")" && pwd)
store=${STOCKADE_NATS_STORE:-$PWD/data/cluster}
sh "$here/ensure-nats.sh"
bin=$(command -v nats-server || echo /usr/sbin/nats-server)
if [ "${1:-start}" = "stop" ]; then
  for i in 1 2 3; do
    [ -f "$store/n$i.pid" ] && kill "$(cat "$store/n$i.pid")" 2>/dev/null || true
    rm -f "$store/n$i.pid"
  done
  exit 0
fi
mkdir -p "$store"
for i in 1 2 3; do
  # nats-server has no ${VAR:-default} syntax: render the store path into a per-node copy.
  sed "s|\${STOCKADE_NATS_STORE:-/var/lib/stockade}|$store|" "$here/nats/cluster-n$i.conf" > "$store/n$i.conf"
  "$bin" -c "$store/n$i.conf" -P "$store/n$i.pid" -l "$store/n$i.log" &
done
echo "cluster starting; NATS_URL=nats://127.0.0.1:4231,nats://127.0.0.1:4232,nats://127.0.0.1:4233 STOCKADE_REPLICAS=3"
