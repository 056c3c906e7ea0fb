#!/usr/bin/env bash
# moto_server (S3, STS, ECR, SageMaker) on a free loopback port for the SageMaker tests.
# start: prints only `export MLMODELS_TEST_MOTO_URL=...` (tests set their own dummy credentials per connection, so
# no AWS_* variable is exported that could change other tests' credential resolution); stop: ends it.
set -euo pipefail
# One server per checkout: its state folder is named after the checkout, so concurrent runs never stop each other's.
root="$(cd "$(dirname "$0")/../.." && pwd)"
state="${TMPDIR:-/tmp}/mlmodels-moto-$(printf %s "$root" | sha1sum | cut -c1-10)"
case "${1:-}" in
  start)
    exe="$(command -v moto_server || true)"
    [ -n "$exe" ] || exe=/root/.pyenv/shims/moto_server
    [ -x "$exe" ] || { echo "moto_server is not installed" >&2; exit 1; }
    port="$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    mkdir -p "$state"
    nohup "$exe" -H 127.0.0.1 -p "$port" >"$state/moto.log" 2>&1 &
    echo $! >"$state/pid"
    for _ in $(seq 1 100); do
      if curl -fs -o /dev/null "http://127.0.0.1:$port/moto-api/" 2>/dev/null || curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/" 2>/dev/null | grep -qv '^000$'; then
        echo "export MLMODELS_TEST_MOTO_URL=http://127.0.0.1:$port"
        exit 0
      fi
      sleep 0.2
    done
    echo "moto_server did not answer on port $port" >&2
    exit 1
    ;;
  stop)
    [ -f "$state/pid" ] && kill "$(cat "$state/pid")" 2>/dev/null || true
    rm -rf "$state"
    ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
