#!/usr/bin/env bash
# Cold start of model images: from `docker run` to the first 200 on POST /invocations (not /ping), median of RUNS
# (default 5) per image, images in alternating order, layers cached; beside it the engine's own share, `docker run`
# of the same image with /bin/true as its entrypoint (container create, network, start, exit). Each container's own
# log gives the server's timeline (runtime to Main, model read, scorer, host, listening, first request).
# Needs a Docker engine (eval "$(bash .ci/services/dockerd.sh start)"), curl, and the images to compare, e.g. from
# `Build-MLModelImage -Path examples/onnx-linear -DotnetImage $MLMODELS_TEST_DOTNET_BASE -Tag cold/onnx:1`.
# Run:  RUNS=5 bash bench/cold-start.sh IMAGE[=BODY-FILE] [IMAGE[=BODY-FILE]...]
#       (the body is the JSON sent to /invocations; default one row of x1, x2, x3, the examples' models)
set -euo pipefail
runs=${RUNS:-5}
default_body='{"dataframe_split": {"columns": ["x1", "x2", "x3"], "data": [[1.0, 2.0, 3.0]]}}'
now() { date +%s.%N; }
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", (b - a) * 1000 }'; }
median() { sort -g | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "cold start, $runs runs per image, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%MZ), storage $(docker info --format '{{.Driver}}')"
for round in $(seq 1 "$runs"); do
  for arg in "$@"; do
    image=${arg%%=*}
    if [ "$arg" != "$image" ]; then body=$(cat "${arg#*=}"); else body=$default_body; fi
    key=$(echo "$image" | tr '/:' '__')
    t0=$(now); docker run --rm --entrypoint /bin/true "$image"; t1=$(now)
    echo "$(ms "$t0" "$t1")" >> "$work/$key.engine"
    t0=$(now)
    id=$(docker run -d -p 127.0.0.1::8080 "$image")
    port=$(docker port "$id" 8080/tcp | head -1 | sed 's/.*://')
    deadline=$(( $(date +%s) + 120 ))
    until curl -sf -o /dev/null -X POST -H 'Content-Type: application/json' -d "$body" "http://127.0.0.1:$port/invocations"; do
      [ "$(date +%s)" -lt "$deadline" ] || { echo "$image: no 200 on /invocations within 120 s" >&2; docker logs "$id" 2>&1 | tail -5 >&2; exit 1; }
      sleep 0.005
    done
    t1=$(now)
    echo "$(ms "$t0" "$t1")" >> "$work/$key.first"
    docker logs "$id" 2>&1 | grep -oE '(startup|first request): [^"]*' | tr '\n' ' ' >> "$work/$key.timeline"; echo >> "$work/$key.timeline"
    docker rm -f "$id" >/dev/null
  done
done
printf "%-40s %12s %12s %10s\n" image "run->200 ms" "engine ms" "server ms"
for arg in "$@"; do
  image=${arg%%=*}
  key=$(echo "$image" | tr '/:' '__')
  first=$(median < "$work/$key.first"); engine=$(median < "$work/$key.engine")
  printf "%-40s %12s %12s %10s\n" "$image" "$first" "$engine" "$(awk -v a="$first" -v b="$engine" 'BEGIN { print a - b }')"
  echo "  all runs: $(tr '\n' ' ' < "$work/$key.first")"
  echo "  last timeline: $(tail -1 "$work/$key.timeline")"
done
