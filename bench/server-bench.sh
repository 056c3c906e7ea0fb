#!/usr/bin/env bash
# Server benchmark: single-row JSON requests with wrk (one thread) at 1, 16 and 64 connections against
#   (i) this module's server on an ONNX model, and (ii) the limit: a minimal Kestrel endpoint that reads the body and
#   answers a fixed prediction (this server's own answer to the request). Both run at once and are measured in turns:
#   a warm-up each, then rounds of ours / limit, so a noisy machine disturbs both alike; the ratio is taken per round
#   and the median printed. (iii) MLflow's serving stack in Python (FastAPI + uvicorn + pandas) scoring the same
#   model is measured once per connection count when Debian's python3-fastapi and uvicorn are installed.
# Needs: wrk, python3-onnx (Debian). Builds the server and the bench project itself.
# Run:  bash bench/server-bench.sh [seconds-per-run] [rounds] [warm-up seconds]     (defaults: 8 3 4)
#       CONNS="16" bash bench/server-bench.sh       (only some connection counts)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-8}; rounds=${2:-3}; warm=${3:-4}
# The gen0 budget that Start-MLModelServer and the images give the server (ServerCommandLine.Gen0Size); the limit gets it too.
export DOTNET_GCgen0size=${DOTNET_GCgen0size:-0x800000}
conns=${CONNS:-1 16 64}
work=${TMPDIR:-/tmp}/mlmodels-server-bench-$$
mkdir -p "$work"
/usr/bin/python3 bench/make_models.py "$work" >/dev/null
dotnet build -c Release src/MlModels.Server -v quiet --nologo >/dev/null
dotnet build -c Release bench/MlModels.Bench -v quiet --nologo >/dev/null
bench="dotnet bench/MlModels.Bench/bin/Release/net10.0/MlModels.Bench.dll"
server="src/MlModels.Server/bin/Release/net8.0/MlModels.Server.dll"
$bench wrap "$work/linear.onnx" "$work/model" >/dev/null
body='{"dataframe_split": {"columns": ["f0","f1","f2","f3","f4","f5","f6","f7","f8","f9"], "data": [[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1.0]]}}'
cat > "$work/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '$body'
LUA
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() { for _ in $(seq 1 150); do curl -sf "http://127.0.0.1:$1/ping" >/dev/null && return 0; sleep 0.2; done; echo "server on $1 did not start" >&2; return 1; }
rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
# name port connections seconds -> one line "name c rps p50 p99 non2xx" in results (unless name is "-")
load() {
  local out rps p50 p99 errs
  out=$(wrk -t1 -c"$3" -d"$4"s --latency -s "$work/post.lua" "http://127.0.0.1:$2/invocations")
  [ "$1" = "-" ] && return 0
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1=="50%" {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  errs=$(echo "$out" | awk '/Non-2xx/ {print $4}')
  echo "$1 $3 $rps $p50 $p99 ${errs:-0}" >> "$work/results"
}
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT
: > "$work/results"

p_ours=$(free_port)
dotnet "$server" --model "$work/model" --port "$p_ours" > "$work/ours.log" 2>&1 & ours=$!; pids+=($ours)
wait_up "$p_ours"
response=$(curl -s -X POST -H 'Content-Type: application/json' -d "$body" "http://127.0.0.1:$p_ours/invocations")
p_limit=$(free_port)
$bench limit-server "$p_limit" "$response" > /dev/null 2>&1 & limit=$!; pids+=($limit)
wait_up "$p_limit"
check=$(curl -s -X POST -H 'Content-Type: application/json' -d "$body" "http://127.0.0.1:$p_limit/invocations")
[ "$check" = "$response" ] || { echo "the limit answers '$check', not '$response'" >&2; exit 1; }

rss_before=$(rss $ours)
for c in $conns; do
  load - "$p_ours" "$c" "$warm"; load - "$p_limit" "$c" "$warm"
  for _ in $(seq 1 "$rounds"); do load ours "$p_ours" "$c" "$secs"; load limit "$p_limit" "$c" "$secs"; done
done
rss_after=$(rss $ours)
log_lines=$(wc -l < "$work/ours.log")

have_python=0
if /usr/bin/python3 -c 'import fastapi, uvicorn' 2>/dev/null; then
  have_python=1
  p_py=$(free_port)
  /usr/bin/python3 bench/python_server.py "$work/linear.onnx" "$p_py" > "$work/python.log" 2>&1 & py=$!; pids+=($py)
  wait_up "$p_py"
  for c in $conns; do load - "$p_py" "$c" "$warm"; load python "$p_py" "$c" "$secs"; done
fi

echo "single-row JSON requests, wrk -t1, ${warm}s warm-up then $rounds rounds of ${secs}s per server (alternating), $(nproc) cores"
echo "response body: $response"
printf "%-8s %5s %12s %10s %10s %6s\n" server conns "requests/s" p50 p99 non2xx
while read -r name c rps p50 p99 errs; do printf "%-8s %5s %12s %10s %10s %6s\n" "$name" "$c" "$rps" "$p50" "$p99" "$errs"; done < "$work/results"
echo
for c in $conns; do
  # Per round: ours / limit of the same round; medians over the rounds (p99 in ms).
  awk -v c=$c -v py=$have_python '
    function ms(x) { if (x ~ /us$/) return x/1000; if (x ~ /ms$/) return x+0; if (x ~ /s$/) return x*1000; return x }
    function median(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
                                       return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
    $2 != c { next }
    $1 == "ours"  { no++; o[no] = $3; p[no] = ms($5) }
    $1 == "limit" { nl++; l[nl] = $3; r[nl] = o[nl] / $3 }
    $1 == "python" { pyr = $3 }
    END {
      mo = median(o, no); ml = median(l, nl); mp = median(p, no); mr = median(r, nl)
      printf "%2d connections: this server %.0f req/s, limit %.0f req/s: %.0f%% of the limit (median of per-round ratios); p99 %.2f ms", c, mo, ml, 100 * mr, mp
      if (py && pyr > 0) printf "; %.1fx the Python server", mo / pyr
      printf "\n"
    }' "$work/results"
done
echo "this server's RSS: ${rss_before} kB before the load, ${rss_after} kB after; request log: $log_lines lines"
