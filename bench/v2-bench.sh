#!/usr/bin/env bash
# Open Inference (V2) REST against MLflow's /invocations on the same server: single-row requests with wrk (one thread)
# at 16 connections (CONNS to change) on the ONNX linear model, in alternating rounds so a noisy machine disturbs both
# alike; the ratio V2 / invocations is taken per round and the median printed. Goal: V2 at least 0.9x, p99 under 5 ms.
# Needs: wrk, python3-onnx (Debian). Builds the server and the bench project itself.
# Run:  bash bench/v2-bench.sh [seconds-per-run] [rounds] [warm-up seconds]     (defaults: 8 5 4)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-8}; rounds=${2:-5}; warm=${3:-4}
export DOTNET_GCgen0size=${DOTNET_GCgen0size:-0x800000}
conns=${CONNS:-16}
work=${TMPDIR:-/tmp}/mlmodels-v2-bench-$$
mkdir -p "$work"
/usr/bin/python3 bench/make_models.py "$work" >/dev/null
dotnet build -c Release src/MlModels.Server -v quiet --nologo >/dev/null
dotnet build -c Release bench/MlModels.Bench -v quiet --nologo >/dev/null
bench="dotnet bench/MlModels.Bench/bin/Release/net10.0/MlModels.Bench.dll"
server="src/MlModels.Server/bin/Release/net8.0/MlModels.Server.dll"
$bench wrap "$work/linear.onnx" "$work/model" >/dev/null
row='0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1.0'
mlflow='{"dataframe_split": {"columns": ["f0","f1","f2","f3","f4","f5","f6","f7","f8","f9"], "data": [['$row']]}}'
v2='{"inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 10], "data": ['$row']}]}'
for name in mlflow v2; do
  body=${!name}
  printf 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = %s\n' "'$body'" > "$work/$name.lua"
done
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
dotnet "$server" --model "$work/model" --port "$port" > "$work/server.log" 2>&1 & pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 150); do curl -sf "http://127.0.0.1:$port/ping" >/dev/null && break; sleep 0.2; done
echo "invocations: $(curl -s -X POST -H 'Content-Type: application/json' -d "$mlflow" "http://127.0.0.1:$port/invocations")"
echo "v2 infer:    $(curl -s -X POST -H 'Content-Type: application/json' -d "$v2" "http://127.0.0.1:$port/v2/models/model/infer")"
# name path connections seconds -> "name c rps p50 p99 non2xx" (unless name is "-")
load() {
  local out
  out=$(wrk -t1 -c"$3" -d"$4"s --latency -s "$work/$1.lua" "http://127.0.0.1:$port$2")
  [ "${5:-}" = "quiet" ] && return 0
  echo "$1 $3 $(echo "$out" | awk '/Requests\/sec/ {print $2}') $(echo "$out" | awk '$1=="50%" {print $2}') $(echo "$out" | awk '$1=="99%" {print $2}') $(echo "$out" | awk '/Non-2xx/ {print $4}')" >> "$work/results"
}
: > "$work/results"
for c in $conns; do
  load mlflow /invocations "$c" "$warm" quiet; load v2 /v2/models/model/infer "$c" "$warm" quiet
  for _ in $(seq 1 "$rounds"); do load mlflow /invocations "$c" "$secs"; load v2 /v2/models/model/infer "$c" "$secs"; done
done
echo "single-row requests, wrk -t1, ${warm}s warm-up then $rounds rounds of ${secs}s each (alternating), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf "%-8s %5s %12s %10s %10s %6s\n" route conns "requests/s" p50 p99 non2xx
while read -r name c rps p50 p99 errs; do printf "%-8s %5s %12s %10s %10s %6s\n" "$name" "$c" "$rps" "$p50" "$p99" "${errs:-0}"; done < "$work/results"
awk '$1=="mlflow" {m=$3} $1=="v2" {print $3/m}' "$work/results" | sort -g | awk '{r[NR]=$1} END {printf "median per-round ratio V2 / invocations: %.3f (goal >= 0.90)\n", (NR%2 ? r[(NR+1)/2] : (r[NR/2]+r[NR/2+1])/2)}'
