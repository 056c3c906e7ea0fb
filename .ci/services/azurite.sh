#!/usr/bin/env bash
# Azurite's blob service on loopback, the Azure ML datastore of the Azure ML tests.
# start: prints only `export` lines (AZURITE_BLOB_ENDPOINT); stop: ends the process this script started.
set -euo pipefail
# One server per checkout: its state folder is named after the checkout, so concurrent runs never stop each other's.
root="$(cd "$(dirname "$0")/../.." && pwd)"
state="${TMPDIR:-/tmp}/mlmodels-azurite-$(printf %s "$root" | sha1sum | cut -c1-10)"
case "${1:-}" in
  start)
    bin="$(command -v azurite-blob || command -v azurite || true)"
    [ -n "$bin" ] || { echo "azurite is not installed" >&2; exit 1; }
    rm -rf "$state" && mkdir -p "$state/data"
    port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
    args=(--blobHost 127.0.0.1 --blobPort "$port" --location "$state/data" --skipApiVersionCheck --disableTelemetry --silent)
    # azurite (all services) also opens queue and table ports; give them free loopback ports too.
    if [ "$(basename "$bin")" = azurite ]; then
      qp="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
      tp="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
      args+=(--queueHost 127.0.0.1 --queuePort "$qp" --tableHost 127.0.0.1 --tablePort "$tp")
    fi
    nohup "$bin" "${args[@]}" >"$state/azurite.log" 2>&1 &
    echo $! >"$state/pid"
    for _ in $(seq 1 100); do
      if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        echo "export AZURITE_BLOB_ENDPOINT=http://127.0.0.1:$port/devstoreaccount1"
        exit 0
      fi
      sleep 0.2
    done
    echo "azurite did not open port $port; see $state/azurite.log" >&2
    kill "$(cat "$state/pid")" 2>/dev/null || true
    exit 1
    ;;
  stop)
    [ -f "$state/pid" ] && kill "$(cat "$state/pid")" 2>/dev/null || true
    rm -rf "$state"
    ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
