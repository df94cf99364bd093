#!/usr/bin/env bash
# Stops the brokers scripts/kafka/start.sh started, waiting until they are gone: all of them, or
# with --cluster only the 3-broker cluster's. With --wipe, also deletes their data.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
data=${FRAMELOG_KAFKA_DIR:-$(cd "$here/../.." && pwd)/.kafka}
[ -d "$data" ] || exit 0
scope=$data
wipe=no
for a in "$@"; do
  case "$a" in
    --cluster) scope=$data/cluster ;;
    --wipe) wipe=yes ;;
  esac
done
[ -d "$scope" ] || exit 0
for pidfile in $(find "$scope" -name pid); do
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  fi
  rm -f "$pidfile"
done
if [ "$wipe" = yes ]; then rm -rf "$scope"; fi
echo "kafka: stopped" >&2
