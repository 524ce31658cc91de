# shellcheck shell=bash
# Shared by scripts/services/{fetch,up,down,status,python}: where things live, which
# ports, how each server is fetched, started, probed and stopped. Sourced, never run.
#
# Every server runs on loopback, as a JVM whose jars Maven copies once into
# .services/cache/<server>/lib from the small pom beside this file. Data, logs and
# pid files live under .services/ (gitignored). See docs/services.md.

SERVICES_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SERVICES_DIR/../.." && pwd)
STATE_DIR=${ALPHALAKE_SERVICES_HOME:-$REPO_ROOT/.services}
CACHE_DIR=$STATE_DIR/cache
DATA_DIR=$STATE_DIR/data
LOG_DIR=$STATE_DIR/logs
RUN_DIR=$STATE_DIR/run
VENV_DIR=${ALPHALAKE_VENV:-$STATE_DIR/venv}

export ALPHALAKE_SERVICES_HOST=${ALPHALAKE_SERVICES_HOST:-127.0.0.1}
export ALPHALAKE_KAFKA_PORT=${ALPHALAKE_KAFKA_PORT:-19092}
export ALPHALAKE_KAFKA_CONTROLLER_PORT=${ALPHALAKE_KAFKA_CONTROLLER_PORT:-19093}
export ALPHALAKE_CASSANDRA_PORT=${ALPHALAKE_CASSANDRA_PORT:-19042}
export ALPHALAKE_CASSANDRA_STORAGE_PORT=${ALPHALAKE_CASSANDRA_STORAGE_PORT:-19070}
export ALPHALAKE_S3_PORT=${ALPHALAKE_S3_PORT:-19000}
export ALPHALAKE_S3_ACCESS_KEY_ID=${ALPHALAKE_S3_ACCESS_KEY_ID:-alphalake}
export ALPHALAKE_S3_SECRET_ACCESS_KEY=${ALPHALAKE_S3_SECRET_ACCESS_KEY:-alphalake-secret}
export ALPHALAKE_S3_BUCKET=${ALPHALAKE_S3_BUCKET:-alphalake-test}
export ALPHALAKE_MONGO_PORT=${ALPHALAKE_MONGO_PORT:-19017}
# memory (default: data lives as long as the process) or h2 (an H2 file under .services/data/mongo)
ALPHALAKE_MONGO_STORAGE=${ALPHALAKE_MONGO_STORAGE:-memory}

# Heaps: all four plus a test run fit well inside 24 GiB on 2 cores.
KAFKA_HEAP=${ALPHALAKE_KAFKA_HEAP:-512m}
CASSANDRA_HEAP=${ALPHALAKE_CASSANDRA_HEAP:-1g}
S3_HEAP=${ALPHALAKE_S3_HEAP:-256m}
MONGO_HEAP=${ALPHALAKE_MONGO_HEAP:-256m}

# How long `up` waits for a server to answer its protocol, in seconds.
UP_TIMEOUT=${ALPHALAKE_SERVICES_TIMEOUT:-240}

ALL_SERVERS=(kafka cassandra s3 mongo)
HOST=$ALPHALAKE_SERVICES_HOST

die() {
  echo "services: $*" >&2
  exit 1
}

# The folder under scripts/services (and .services/cache) that holds a server's pom.
pom_dir_of() {
  case $1 in
  s3) echo s3proxy ;;
  *) echo "$1" ;;
  esac
}

port_of() {
  case $1 in
  kafka) echo "$ALPHALAKE_KAFKA_PORT" ;;
  cassandra) echo "$ALPHALAKE_CASSANDRA_PORT" ;;
  s3) echo "$ALPHALAKE_S3_PORT" ;;
  mongo) echo "$ALPHALAKE_MONGO_PORT" ;;
  *) die "unknown server '$1' (known: ${ALL_SERVERS[*]})" ;;
  esac
}

describe_of() {
  case $1 in
  kafka) echo "Kafka 4.1 (KRaft)" ;;
  cassandra) echo "Cassandra 5.0" ;;
  s3) echo "S3 (s3proxy 4, filesystem-nio2)" ;;
  mongo) echo "MongoDB wire (mongo-java-server)" ;;
  esac
}

# Validates a list of server names (all four when empty) into SERVERS.
select_servers() {
  SERVERS=()
  if [[ $# -eq 0 ]]; then
    SERVERS=("${ALL_SERVERS[@]}")
    return
  fi
  local name
  for name in "$@"; do
    port_of "$name" >/dev/null
    SERVERS+=("$name")
  done
}

log_file_of() { echo "$LOG_DIR/$1.log"; }
pid_file_of() { echo "$RUN_DIR/$1.pid"; }

# The pid of our own server NAME if it is running, else nothing. A pid file alone is
# not trusted: the process must carry the -Dalphalake.service=NAME marker we start it with.
running_pid() {
  local pid_file pid
  pid_file=$(pid_file_of "$1")
  [[ -f $pid_file ]] || return 1
  pid=$(<"$pid_file")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "-Dalphalake.service=$1 " || return 1
  echo "$pid"
}

# ---------------------------------------------------------------------------- fetch

# Copies a server's jars from Maven (Central, through ~/.m2) once; re-fetches only
# when its pom changes.
fetch_jars() {
  local name=$1 dir pom stamp want
  dir=$(pom_dir_of "$name")
  pom=$SERVICES_DIR/$dir/pom.xml
  stamp=$CACHE_DIR/$dir/.fetched
  want=$(sha256sum "$pom" | cut -d' ' -f1)
  if [[ -f $stamp && $(<"$stamp") == "$want" ]]; then
    return 0
  fi
  command -v mvn >/dev/null || die "mvn is not installed (needed once to fetch $name's jars)"
  echo "services: fetching $name jars (Maven) into ${CACHE_DIR#"$REPO_ROOT"/}/$dir/lib"
  rm -rf "${CACHE_DIR:?}/$dir/lib"
  mkdir -p "$CACHE_DIR/$dir"
  mvn -q -B -f "$pom" dependency:copy-dependencies -DoutputDirectory="$CACHE_DIR/$dir/lib" \
    >"$CACHE_DIR/$dir/fetch.log" 2>&1 || {
    tail -n 30 "$CACHE_DIR/$dir/fetch.log" >&2
    die "fetching $name's jars failed (log: $CACHE_DIR/$dir/fetch.log)"
  }
  echo "$want" >"$stamp"
}

# The mongo launcher is one Java class compiled against the fetched jars.
fetch_mongo_launcher() {
  local src=$SERVICES_DIR/mongo/AlphalakeMongo.java out=$CACHE_DIR/mongo/classes want
  want=$(cat "$src" "$SERVICES_DIR/mongo/pom.xml" | sha256sum | cut -d' ' -f1)
  if [[ -f $out/.built && $(<"$out/.built") == "$want" ]]; then
    return 0
  fi
  rm -rf "$out"
  mkdir -p "$out"
  javac -d "$out" -cp "$CACHE_DIR/mongo/lib/*" "$src" || die "compiling the mongo launcher failed"
  echo "$want" >"$out/.built"
}

fetch_server() {
  command -v java >/dev/null || die "java (17+) is not installed"
  fetch_jars "$1"
  if [[ $1 == mongo ]]; then fetch_mongo_launcher; fi
}

# ---------------------------------------------------------------------------- start

# Starts NAME in the background, detached from this shell, with its own process group.
launch() {
  local name=$1
  shift
  local log
  log=$(log_file_of "$name")
  mkdir -p "$LOG_DIR" "$RUN_DIR"
  {
    echo "==== $(date -u +%FT%TZ) starting $name"
    echo "$*"
  } >>"$log"
  # 9>&-: the server must not inherit the lock of `up` (it would hold it for its lifetime).
  setsid nohup "$@" >>"$log" 2>&1 </dev/null 9>&- &
  echo $! >"$(pid_file_of "$name")"
}

start_kafka() {
  local home=$DATA_DIR/kafka lib=$CACHE_DIR/kafka/lib conf
  mkdir -p "$home/logs"
  conf=$home/server.properties
  cat >"$conf" <<EOF
# Written by scripts/services/up on every start; edit lib.sh, not this file.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$ALPHALAKE_KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$HOST:$ALPHALAKE_KAFKA_PORT,CONTROLLER://$HOST:$ALPHALAKE_KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$ALPHALAKE_KAFKA_PORT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$home/logs
num.partitions=1
num.network.threads=2
num.io.threads=2
background.threads=2
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=3
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.hours=24
EOF
  local java_opts=(-Xms128m "-Xmx$KAFKA_HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20
    -Djava.awt.headless=true "-Dlog4j2.configurationFile=$SERVICES_DIR/kafka/log4j2.properties")
  if [[ ! -f $home/logs/meta.properties ]]; then
    local cluster_id
    cluster_id=$(java -cp "$lib/*" "${java_opts[@]}" kafka.tools.StorageTool random-uuid 2>>"$(log_file_of kafka)" | tail -n 1)
    java -cp "$lib/*" "${java_opts[@]}" kafka.tools.StorageTool format -t "$cluster_id" -c "$conf" \
      >>"$(log_file_of kafka)" 2>&1 || die "formatting Kafka storage failed (log: $(log_file_of kafka))"
  fi
  launch kafka java -Dalphalake.service=kafka "${java_opts[@]}" -cp "$lib/*" kafka.Kafka "$conf"
}

start_cassandra() {
  local home=$DATA_DIR/cassandra lib=$CACHE_DIR/cassandra/lib conf jamm
  mkdir -p "$home"/{data,commitlog,saved_caches,hints,cdc_raw,logs,triggers}
  conf=$home/cassandra.yaml
  cat >"$conf" <<EOF
# Written by scripts/services/up on every start: one node on loopback, tuned to start fast on 2 cores.
cluster_name: alphalake
num_tokens: 1
allocate_tokens_for_local_replication_factor: 1
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
endpoint_snitch: SimpleSnitch
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "$HOST:$ALPHALAKE_CASSANDRA_STORAGE_PORT"
listen_address: $HOST
storage_port: $ALPHALAKE_CASSANDRA_STORAGE_PORT
rpc_address: $HOST
start_native_transport: true
native_transport_port: $ALPHALAKE_CASSANDRA_PORT
data_file_directories: [$home/data]
commitlog_directory: $home/commitlog
saved_caches_directory: $home/saved_caches
hints_directory: $home/hints
cdc_raw_directory: $home/cdc_raw
commitlog_sync: periodic
commitlog_sync_period: 10000ms
commitlog_segment_size: 8MiB
commitlog_total_space: 128MiB
authenticator: AllowAllAuthenticator
authorizer: AllowAllAuthorizer
role_manager: CassandraRoleManager
memtable_heap_space: 64MiB
memtable_offheap_space: 64MiB
key_cache_size: 8MiB
counter_cache_size: 0MiB
row_cache_size: 0MiB
prepared_statements_cache_size: 8MiB
concurrent_reads: 4
concurrent_writes: 4
concurrent_counter_writes: 2
concurrent_materialized_view_writes: 2
concurrent_compactors: 1
auto_snapshot: false
snapshot_before_compaction: false
hinted_handoff_enabled: false
dynamic_snitch: false
materialized_views_enabled: true
sasi_indexes_enabled: true
user_defined_functions_enabled: false
EOF
  jamm=$(find "$lib" -name 'jamm-*.jar' | head -n 1)
  [[ -n $jamm ]] || die "the jamm agent jar is missing from $lib"
  # The JPMS flags are conf/jvm17-server.options from Cassandra 5.0.
  local java_opts=(-Dalphalake.service=cassandra -Xms256m "-Xmx$CASSANDRA_HEAP" -Xss256k
    -XX:+UseG1GC -XX:+ParallelRefProcEnabled -XX:MaxTenuringThreshold=1 -XX:G1HeapRegionSize=4m
    -XX:MaxGCPauseMillis=300
    -Djdk.attach.allowAttachSelf=true
    --add-exports java.base/jdk.internal.misc=ALL-UNNAMED
    --add-exports java.base/jdk.internal.ref=ALL-UNNAMED
    --add-exports java.base/sun.nio.ch=ALL-UNNAMED
    --add-exports java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED
    --add-exports java.rmi/sun.rmi.registry=ALL-UNNAMED
    --add-exports java.rmi/sun.rmi.server=ALL-UNNAMED
    --add-exports java.sql/java.sql=ALL-UNNAMED
    --add-exports java.base/java.lang.ref=ALL-UNNAMED
    --add-exports jdk.unsupported/sun.misc=ALL-UNNAMED
    --add-exports jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED
    --add-exports jdk.attach/sun.tools.attach=ALL-UNNAMED
    --add-opens java.base/java.lang.module=ALL-UNNAMED
    --add-opens java.base/jdk.internal.loader=ALL-UNNAMED
    --add-opens java.base/jdk.internal.ref=ALL-UNNAMED
    --add-opens java.base/jdk.internal.reflect=ALL-UNNAMED
    --add-opens java.base/jdk.internal.math=ALL-UNNAMED
    --add-opens java.base/jdk.internal.module=ALL-UNNAMED
    --add-opens java.base/jdk.internal.util.jar=ALL-UNNAMED
    --add-opens jdk.management/com.sun.management.internal=ALL-UNNAMED
    --add-opens java.base/sun.nio.ch=ALL-UNNAMED
    --add-opens java.base/java.io=ALL-UNNAMED
    --add-opens java.base/java.nio=ALL-UNNAMED
    --add-opens java.base/java.lang.reflect=ALL-UNNAMED
    --add-opens jdk.compiler/com.sun.tools.javac=ALL-UNNAMED
    --add-opens java.base/java.lang=ALL-UNNAMED
    --add-opens java.base/java.util=ALL-UNNAMED
    --add-opens java.base/java.util.concurrent=ALL-UNNAMED
    --add-opens java.base/java.util.concurrent.atomic=ALL-UNNAMED
    --add-opens java.base/java.math=ALL-UNNAMED
    --add-opens java.base/java.net=ALL-UNNAMED
    -Dio.netty.tryReflectionSetAccessible=true
    -Dio.netty.allocator.useCacheForAllThreads=true
    -Dio.netty.allocator.maxOrder=11
    "-javaagent:$jamm"
    "-Dcassandra.config=file://$conf"
    "-Dcassandra.storagedir=$home"
    "-Dcassandra.logdir=$home/logs"
    "-Dcassandra.triggers_dir=$home/triggers"
    -XX:+ExitOnOutOfMemoryError
    "-Dlogback.configurationFile=$SERVICES_DIR/cassandra/logback.xml"
    -Dcassandra-foreground=yes
    -Dcassandra.skip_wait_for_gossip_to_settle=0
    -Dcassandra.ring_delay_ms=1000
    -Dcassandra.superuser_setup_delay_ms=0
    -Dcassandra.migration_task_wait_in_seconds=1
    -Dcassandra.available_processors=2
    -Djava.net.preferIPv4Stack=true)
  launch cassandra java "${java_opts[@]}" -cp "$lib/*" org.apache.cassandra.service.CassandraDaemon
}

start_s3() {
  local home=$DATA_DIR/s3 lib=$CACHE_DIR/s3proxy/lib conf
  mkdir -p "$home/blobs"
  conf=$home/s3proxy.properties
  cat >"$conf" <<EOF
# Written by scripts/services/up on every start.
s3proxy.endpoint=http://$HOST:$ALPHALAKE_S3_PORT
s3proxy.authorization=aws-v2-or-v4
s3proxy.identity=$ALPHALAKE_S3_ACCESS_KEY_ID
s3proxy.credential=$ALPHALAKE_S3_SECRET_ACCESS_KEY
jclouds.provider=filesystem-nio2
jclouds.filesystem.basedir=$home/blobs
EOF
  launch s3 java -Dalphalake.service=s3 -Xms64m "-Xmx$S3_HEAP" -XX:+UseSerialGC \
    "-Dlogback.configurationFile=$SERVICES_DIR/s3proxy/logback.xml" \
    -cp "$lib/*" org.gaul.s3proxy.Main --properties "$conf"
}

start_mongo() {
  local home=$DATA_DIR/mongo storage=memory
  mkdir -p "$home"
  if [[ $ALPHALAKE_MONGO_STORAGE == h2 ]]; then storage="h2:$home/mongo.mv"; fi
  launch mongo java -Dalphalake.service=mongo -Xms64m "-Xmx$MONGO_HEAP" -XX:+UseSerialGC \
    -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
    -cp "$CACHE_DIR/mongo/classes:$CACHE_DIR/mongo/lib/*" AlphalakeMongo "$HOST" "$ALPHALAKE_MONGO_PORT" "$storage"
}

# ---------------------------------------------------------------------------- probe

# Asks NAME a question in its own protocol through the client the product uses
# (probe.mjs). With a wait, retries until it answers, the pid dies or time runs out.
probe() {
  local name=$1
  shift
  if [[ ! -d $REPO_ROOT/node_modules/kafkajs ]]; then
    echo "$name: cannot probe it: node_modules is missing (run \`npm ci\` first)"
    return 1
  fi
  node "$SERVICES_DIR/probe.mjs" "$name" "$@"
}

# ---------------------------------------------------------------------------- stop

stop_server() {
  local name=$1 pid i
  pid=$(running_pid "$name") || {
    rm -f "$(pid_file_of "$name")"
    return 1
  }
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 300; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "services: $name (pid $pid) did not stop in 30s; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$(pid_file_of "$name")"
}

# ---------------------------------------------------------------------------- python

# Creates .services/venv (from scratch on a fresh machine) and installs a requirements
# file into it; re-installs only when that file changes.
ensure_venv() {
  local requirements=$1 stamp want python
  python=${ALPHALAKE_SYSTEM_PYTHON:-python3}
  if [[ ! -x $VENV_DIR/bin/python ]]; then
    command -v "$python" >/dev/null || die "python3 is not installed"
    echo "services: creating the Python venv ${VENV_DIR#"$REPO_ROOT"/}"
    "$python" -m venv "$VENV_DIR" || die "creating the venv at $VENV_DIR failed"
  fi
  stamp=$VENV_DIR/.installed-$(basename "$requirements" .txt)
  want=$(sha256sum "$requirements" | cut -d' ' -f1)
  if [[ -f $stamp && $(<"$stamp") == "$want" ]]; then
    return 0
  fi
  echo "services: installing $(basename "$requirements") into the venv (pip)"
  mkdir -p "$LOG_DIR"
  "$VENV_DIR/bin/python" -m pip install --disable-pip-version-check -q -r "$requirements" \
    >"$LOG_DIR/pip-$(basename "$requirements" .txt).log" 2>&1 || {
    tail -n 30 "$LOG_DIR/pip-$(basename "$requirements" .txt).log" >&2
    die "pip install -r $requirements failed"
  }
  echo "$want" >"$stamp"
}

# ---------------------------------------------------------------------------- ports

# The TCP ports NAME listens on.
ports_of() {
  case $1 in
  kafka) echo "$ALPHALAKE_KAFKA_PORT $ALPHALAKE_KAFKA_CONTROLLER_PORT" ;;
  cassandra) echo "$ALPHALAKE_CASSANDRA_PORT $ALPHALAKE_CASSANDRA_STORAGE_PORT" ;;
  *) port_of "$1" ;;
  esac
}

# Prints "port P (held by ...)" for each of NAME's ports that something already listens on.
busy_ports() {
  local port holder
  for port in $(ports_of "$1"); do
    if (exec 3<>"/dev/tcp/$HOST/$port") 2>/dev/null; then
      holder=$(ss -Hltnp "sport = :$port" 2>/dev/null | grep -o 'users:(([^)]*))' | head -n 1 || true)
      echo "port $port ${holder:+(held by $holder)}"
    fi
  done
}
