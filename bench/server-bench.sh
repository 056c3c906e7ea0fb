#!/usr/bin/env bash
# Server benchmark: single-row JSON requests with wrk at 1, 16 and 64 connections against
#   (i) this module's server on an ONNX model, (ii) the limit: a minimal Kestrel endpoint returning a fixed JSON body
#   of the same size, (iii) MLflow's serving stack in Python (FastAPI + uvicorn + pandas) scoring the same model.
# Needs: wrk, python3-fastapi, uvicorn, python3-onnx, python3-pandas (Debian), and the module built (build.ps1 build).
# Run:  bash bench/server-bench.sh [seconds-per-run]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
work=${TMPDIR:-/tmp}/mlmodels-server-bench
mkdir -p "$work"
/usr/bin/python3 bench/make_models.py "$work" >/dev/null
dotnet build -c Release bench/MlModels.Bench -v quiet --nologo >/dev/null
bench="dotnet bench/MlModels.Bench/bin/Release/net10.0/MlModels.Bench.dll"
rm -rf "$work/model"; $bench wrap "$work/linear.onnx" "$work/model" >/dev/null
body='{"dataframe_split": {"columns": ["f0","f1","f2","f3","f4","f5","f6","f7","f8","f9"], "data": [[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1.0]]}}'
cat > "$work/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '$body'
LUA
wait_up() { for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$1/ping" >/dev/null && return 0; sleep 0.2; done; echo "server on $1 did not start" >&2; return 1; }
rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
run() { # name port pid
  for c in 1 16 64; do
    t=$(( c < 2 ? 1 : 2 )); out=$(wrk -t$t -c$c -d${secs}s --latency -s "$work/post.lua" "http://127.0.0.1:$2/invocations")
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    p50=$(echo "$out" | awk '$1=="50%" {print $2}')
    p99=$(echo "$out" | awk '$1=="99%" {print $2}')
    errs=$(echo "$out" | awk '/Non-2xx/ {print $4}')
    echo "$1 $c $rps $p50 $p99 ${errs:-0}" >> "$work/results"
  done
}
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
: > "$work/results"

dotnet out/MlModels/dependencies/MlModels.Server.dll --model "$work/model" --port 5101 > "$work/ours.log" 2>&1 & ours=$!; pids+=($ours)
wait_up 5101
response=$(curl -s -X POST -H 'Content-Type: application/json' -d "$body" http://127.0.0.1:5101/invocations)
rss_before=$(rss $ours); run ours 5101 $ours; rss_after=$(rss $ours)
kill $ours; wait $ours 2>/dev/null || true

$bench limit-server 5102 "$response" > /dev/null 2>&1 & limit=$!; pids+=($limit)
wait_up 5102; run limit 5102 $limit; kill $limit; wait $limit 2>/dev/null || true

/usr/bin/python3 bench/python_server.py "$work/linear.onnx" 5103 > "$work/python.log" 2>&1 & py=$!; pids+=($py)
wait_up 5103; run python 5103 $py; kill $py; wait $py 2>/dev/null || true

echo "single-row JSON requests, ${secs}s per run, $(nproc) cores; response body: $response"
printf "%-8s %5s %12s %10s %10s %6s\n" server conns "requests/s" p50 p99 non2xx
while read -r name c rps p50 p99 errs; do printf "%-8s %5s %12s %10s %10s %6s\n" "$name" "$c" "$rps" "$p50" "$p99" "$errs"; done < "$work/results"
for c in 1 16 64; do
  o=$(awk -v c=$c '$1=="ours" && $2==c {print $3}' "$work/results")
  l=$(awk -v c=$c '$1=="limit" && $2==c {print $3}' "$work/results")
  p=$(awk -v c=$c '$1=="python" && $2==c {print $3}' "$work/results")
  awk -v c=$c -v o=$o -v l=$l -v p=$p 'BEGIN { printf "%2d connections: this server = %.0f%% of the limit, %.1fx the Python server\n", c, 100*o/l, o/p }'
done
echo "this server's RSS: ${rss_before} kB before the load, ${rss_after} kB after"
