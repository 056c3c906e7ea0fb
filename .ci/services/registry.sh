#!/usr/bin/env bash
# A private image registry (Debian's docker-registry, distribution v2) with htpasswd auth on a free loopback port.
#   bash .ci/services/registry.sh start   prints `export MLMODELS_TEST_REGISTRY=127.0.0.1:PORT` and the user/password
#   bash .ci/services/registry.sh stop
# Plain HTTP on 127.0.0.1: Docker engines treat 127.0.0.0/8 as an insecure registry by default, so no TLS is needed.
# stdout carries only the export lines (CI evals them); everything else goes to stderr.
set -euo pipefail

log() { echo "registry.sh: $*" >&2; }

root="$(cd "$(dirname "$0")/../.." && pwd)"
id="$(printf %s "$root" | sha1sum | cut -c1-10)"
state="${MLMODELS_REGISTRY_STATE:-/tmp/mlmodels-registry-$id}"

free_port() {
  local p
  for p in $(shuf -i 20000-29999 -n 200); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  log "no free port found"
  return 1
}

start() {
  for tool in docker-registry htpasswd; do
    command -v "$tool" >/dev/null || { log "$tool is not installed (apt-get install docker-registry apache2-utils)"; exit 1; }
  done
  if [ -s "$state/pid" ] && kill -0 "$(cat "$state/pid")" 2>/dev/null; then
    log "registry already running"
  else
    rm -rf "$state"
    mkdir -p "$state/data"
    local port user password
    port="$(free_port)"
    user=mlmodels
    password="$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"
    htpasswd -Bbn "$user" "$password" >"$state/htpasswd" 2>/dev/null
    cat >"$state/config.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $state/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
auth:
  htpasswd:
    realm: mlmodels-ci
    path: $state/htpasswd
EOF
    printf '%s\n%s\n%s\n' "$port" "$user" "$password" >"$state/env"
    log "starting docker-registry on 127.0.0.1:$port (log $state/registry.log)"
    setsid docker-registry serve "$state/config.yml" >"$state/registry.log" 2>&1 </dev/null &
    echo $! >"$state/pid"
    local i
    for i in $(seq 1 60); do
      # An unauthenticated /v2/ answers 401 once the registry is up.
      code="$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v2/" || true)"
      [ "$code" = 401 ] && break
      kill -0 "$(cat "$state/pid")" 2>/dev/null || { log "docker-registry exited:"; tail -n 20 "$state/registry.log" >&2; exit 1; }
      sleep 0.5
    done
    [ "$code" = 401 ] || { log "docker-registry did not answer within 30 s"; tail -n 20 "$state/registry.log" >&2; exit 1; }
  fi
  { read -r port; read -r user; read -r password; } <"$state/env"
  echo "export MLMODELS_TEST_REGISTRY=127.0.0.1:$port"
  echo "export MLMODELS_TEST_REGISTRY_USER=$user"
  echo "export MLMODELS_TEST_REGISTRY_PASSWORD=$password"
}

stop() {
  if [ -s "$state/pid" ]; then
    local pid i
    pid="$(cat "$state/pid")"
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid"
      for i in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
      kill -0 "$pid" 2>/dev/null && kill -9 "$pid" || true
    fi
  fi
  rm -rf "$state"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
