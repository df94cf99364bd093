#!/usr/bin/env bash
# Starts Apache Kafka in KRaft mode (no ZooKeeper) on loopback, for framelog's tests, benches and
# demos: one broker on 127.0.0.1:9092 (default), or with --cluster three brokers on
# 127.0.0.1:19092-19094 (each also a controller: a 3-voter quorum). The broker's jars come from
# Maven Central (pom.xml beside this file, copied into ./lib on first use); its data and logs go
# under $FRAMELOG_KAFKA_DIR (default: .kafka/ at the repository root). Idempotent: a broker that
# already answers is left alone. Needs Java 17+ and Maven. Stop with scripts/kafka/stop.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
data=${FRAMELOG_KAFKA_DIR:-$root/.kafka}
mode=single
[ "${1:-}" = "--cluster" ] && mode=cluster

command -v java >/dev/null || { echo "kafka: java is not installed (Java 17 or later: apt-get install openjdk-17-jre-headless)" >&2; exit 3; }
if [ ! -f "$here/lib/kafka_2.13-4.4.0.jar" ]; then
  command -v mvn >/dev/null || { echo "kafka: mvn is not installed (apt-get install maven): it fetches the broker from Maven Central" >&2; exit 3; }
  echo "kafka: fetching the broker's jars from Maven Central (once)" >&2
  (cd "$here" && mvn -q -B dependency:copy-dependencies -DoutputDirectory=lib -DincludeScope=runtime)
fi
answers() { timeout 1 bash -c ">/dev/tcp/127.0.0.1/$1" 2>/dev/null; }
cp="$here/lib/*"
heap=${FRAMELOG_KAFKA_HEAP:-256m}

# start_node ID CLIENT_PORT CONTROLLER_PORT VOTERS DIR
start_node() {
  local id=$1 port=$2 cport=$3 voters=$4 dir=$5 rf=$6
  if answers "$port"; then echo "kafka: broker $id already answers on 127.0.0.1:$port" >&2; return 0; fi
  mkdir -p "$dir"
  cat > "$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=$id
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$dir/logs
num.partitions=1
default.replication.factor=$rf
min.insync.replicas=$(( rf > 1 ? 2 : 1 ))
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$(( rf > 1 ? 2 : 1 ))
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.min.isr=$(( rf > 1 ? 2 : 1 ))
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
unclean.leader.election.enable=false
num.network.threads=2
num.io.threads=2
background.threads=2
log.cleaner.threads=1
log.cleaner.dedupe.buffer.size=8388608
PROPS
  if [ ! -f "$dir/logs/meta.properties" ]; then
    java -Xmx128m -cp "$cp" kafka.tools.StorageTool format -t "$cluster_id" -c "$dir/server.properties" >"$dir/format.log" 2>&1 \
      || { echo "kafka: formatting $dir failed:" >&2; cat "$dir/format.log" >&2; exit 1; }
  fi
  cat > "$dir/log4j2.yaml" <<LOG
Configuration:
  Appenders:
    File: { name: file, fileName: "$dir/broker.log", PatternLayout: { pattern: "[%d] %p %m (%c)%n" } }
  Loggers:
    Root: { level: WARN, AppenderRef: [ { ref: file } ] }
    Logger: [ { name: kafka.server.KafkaRaftServer, level: INFO } ]
LOG
  nohup java -Xms64m -Xmx"$heap" -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$dir/log4j2.yaml" -cp "$cp" kafka.Kafka "$dir/server.properties" >"$dir/stdout.log" 2>&1 &
  echo $! >"$dir/pid"
}

wait_for() {
  for _ in $(seq 1 150); do answers "$1" && return 0; sleep 0.2; done
  echo "kafka: nothing answers on 127.0.0.1:$1 after 30 s; see $2/stdout.log and $2/broker.log" >&2
  return 1
}

if [ "$mode" = single ]; then
  dir="$data/single"
  mkdir -p "$dir"
  [ -f "$dir/cluster-id" ] || java -Xmx64m -cp "$cp" kafka.tools.StorageTool random-uuid >"$dir/cluster-id"
  cluster_id=$(cat "$dir/cluster-id")
  start_node 1 9092 9093 "1@127.0.0.1:9093" "$dir" 1
  wait_for 9092 "$dir"
  echo "kafka: one broker on 127.0.0.1:9092 (data in $dir)" >&2
else
  base="$data/cluster"
  mkdir -p "$base"
  [ -f "$base/cluster-id" ] || java -Xmx64m -cp "$cp" kafka.tools.StorageTool random-uuid >"$base/cluster-id"
  cluster_id=$(cat "$base/cluster-id")
  voters="1@127.0.0.1:19192,2@127.0.0.1:19193,3@127.0.0.1:19194"
  for i in 1 2 3; do start_node "$i" $((19091 + i)) $((19191 + i)) "$voters" "$base/node-$i" 3; done
  for i in 1 2 3; do wait_for $((19091 + i)) "$base/node-$i"; done
  echo "kafka: three brokers on 127.0.0.1:19092,19093,19094 (data in $base)" >&2
fi
