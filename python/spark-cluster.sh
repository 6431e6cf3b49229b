#!/bin/sh
# A standalone Spark cluster on loopback, from the pyspark in VENV: a master and WORKERS
# workers (default 2), one core and 3 GiB each. Logs and pids under target/spark-cluster.
#   sh python/spark-cluster.sh start VENV [WORKERS]   # prints the master URL
#   sh python/spark-cluster.sh stop
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
run="$here/../target/spark-cluster"
case "${1:-}" in
start)
  venv="${2:?usage: spark-cluster.sh start VENV [WORKERS]}"
  workers="${3:-2}"
  home="$("$venv/bin/python" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))')"
  mkdir -p "$run"
  export SPARK_HOME="$home" PYSPARK_PYTHON="$venv/bin/python" SPARK_LOCAL_IP=127.0.0.1
  nohup "$home/bin/spark-class" org.apache.spark.deploy.master.Master \
    --host 127.0.0.1 --port 7077 --webui-port 18090 > "$run/master.log" 2>&1 &
  echo $! > "$run/master.pid"
  i=0
  while ! grep -q "I have been elected leader" "$run/master.log" 2>/dev/null; do
    i=$((i + 1)); [ $i -lt 120 ] || { echo "the master did not start:" >&2; cat "$run/master.log" >&2; exit 1; }
    sleep 0.5
  done
  for w in $(seq 1 "$workers"); do
    nohup "$home/bin/spark-class" org.apache.spark.deploy.worker.Worker \
      --cores 1 --memory 3g --webui-port 0 --work-dir "$run/work-$w" \
      spark://127.0.0.1:7077 > "$run/worker-$w.log" 2>&1 &
    echo $! > "$run/worker-$w.pid"
  done
  for w in $(seq 1 "$workers"); do
    i=0
    while ! grep -q "Successfully registered with master" "$run/worker-$w.log" 2>/dev/null; do
      i=$((i + 1)); [ $i -lt 120 ] || { echo "worker $w did not register:" >&2; cat "$run/worker-$w.log" >&2; exit 1; }
      sleep 0.5
    done
  done
  echo spark://127.0.0.1:7077
  ;;
stop)
  for p in "$run"/*.pid; do
    [ -f "$p" ] || continue
    kill "$(cat "$p")" 2>/dev/null || true
    rm -f "$p"
  done
  ;;
*)
  echo "usage: spark-cluster.sh start VENV [WORKERS] | stop" >&2
  exit 2
  ;;
esac
