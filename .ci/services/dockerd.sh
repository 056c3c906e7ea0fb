#!/usr/bin/env bash
# A private Docker engine for the tests, and the local base images they build on (nothing can be pulled here).
#   bash .ci/services/dockerd.sh start   prints `export DOCKER_HOST=...` and `export MLMODELS_TEST_*_BASE=...` lines
#   bash .ci/services/dockerd.sh stop    stops the engine and removes its data
# stdout carries only the export lines (CI evals them); everything else goes to stderr.
#
# One engine per checkout: its socket, data root, exec root and bridge are its own, so several checkouts on one
# machine can each run one. No iptables: published ports go through the userland proxy (docker-proxy), which
# reaches containers over the engine's own bridge; published ports bind 127.0.0.1 unless a run says otherwise.
#
# Base images (cached as rootfs tarballs under $MLMODELS_CI_CACHE, default /var/cache/mlmodels-ci, so only the first
# start on a machine runs debootstrap):
#   mlmodels-ci/debian:bookworm   debootstrap --variant=minbase
#   mlmodels-ci/aspnet:<version>  the above plus this machine's own .NET and ASP.NET Core shared runtimes
#   mlmodels-ci/python:<version>  minbase plus Debian's python3, numpy, pandas, scikit-learn, cloudpickle, venv, and the
#                                 libraries the flavor corpus' models pin (xgboost, torch, statsmodels and theirs)
# Storage: overlay2 where the kernel has overlayfs and the data root is on ext4 or xfs, else vfs (works anywhere, but
# copies the whole image for every build step: a python_function image's dozen steps then take minutes, not seconds).
# MLMODELS_DOCKERD_STORAGE=vfs|overlay2 forces one.
# Environment: MLMODELS_DOCKERD_STATE (state folder), MLMODELS_CI_CACHE, MLMODELS_DEBIAN_MIRROR, MLMODELS_DOCKERD_STORAGE.
set -euo pipefail

log() { echo "dockerd.sh: $*" >&2; }

root="$(cd "$(dirname "$0")/../.." && pwd)"
id="$(printf %s "$root" | sha1sum | cut -c1-10)"
state="${MLMODELS_DOCKERD_STATE:-/tmp/mlmodels-dockerd-$id}"
sock="$state/docker.sock"
suite=bookworm

cache="${MLMODELS_CI_CACHE:-/var/cache/mlmodels-ci}"
if ! mkdir -p "$cache" 2>/dev/null || [ ! -w "$cache" ]; then
  cache="${XDG_CACHE_HOME:-$HOME/.cache}/mlmodels-ci"
  mkdir -p "$cache"
fi

mirror() {
  if [ -n "${MLMODELS_DEBIAN_MIRROR:-}" ]; then echo "$MLMODELS_DEBIAN_MIRROR"; return; fi
  local uri
  uri="$(grep -hs '^URIs:.*/debian/*$' /etc/apt/sources.list.d/*.sources | head -n1 | awk '{print $2}')" || true
  [ -n "$uri" ] || uri="$(grep -hs '^deb .*/debian/* ' /etc/apt/sources.list | head -n1 | awk '{print $2}')" || true
  echo "${uri:-http://deb.debian.org/debian}"
}

# A rootfs tarball made once per machine: debootstrap into a temporary folder, trimmed, tarred, renamed into place.
rootfs() {
  local name="$1" include="$2" prune="${3:-}" tarball="$cache/$1.tar"
  exec 9>"$cache/.$name.lock"
  flock 9
  if [ ! -s "$tarball" ]; then
    local dir
    dir="$(mktemp -d "$cache/.$name.XXXXXX")"
    log "debootstrap $name (once per machine; cached in $tarball)"
    debootstrap --variant=minbase ${include:+--include="$include"} "$suite" "$dir" "$(mirror)" >&2
    rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/* "$dir"/usr/share/doc/* \
      "$dir"/usr/share/man/* "$dir"/usr/share/info/* "$dir"/usr/share/locale/*
    [ -z "$prune" ] || "$prune" "$dir"
    # mktemp made the folder 0700; as the image's / that would lock out non-root users.
    chmod 0755 "$dir"
    tar --numeric-owner -C "$dir" -cf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
    rm -rf "$dir"
  else
    local top
    top="$(tar -tvf "$tarball" --no-recursion ./ 2>/dev/null || true)"
    # A tarball cached before the chmod above: drop its root entry, so the image's / gets the default 0755.
    if [[ "$top" == drwx------* ]]; then tar --delete --no-recursion -f "$tarball" ./; fi
  fi
  flock -u 9
  exec 9>&-
}

# The Python base needs no compiler at run time (scipy's build-time pythran pulls gcc in): every build step on vfs
# copies the whole image, so each 100 MB left out here is saved many times over.
prune_python() {
  local dir="$1"
  rm -rf "$dir"/usr/lib/gcc "$dir"/usr/libexec/gcc "$dir"/usr/include "$dir"/usr/lib/python3/dist-packages/pythran
  rm -f "$dir"/usr/lib/x86_64-linux-gnu/*.a "$dir"/usr/lib/x86_64-linux-gnu/lib{a,t,l,ub,hwa}san.so* \
    "$dir"/usr/bin/*-linux-gnu-* "$dir"/usr/bin/{gcc,g++,cpp,c++,cc}* 2>/dev/null || true
  find "$dir"/usr/lib/python3/dist-packages -depth -type d -name tests -exec rm -rf {} + 2>/dev/null || true
}

storage_driver() {
  if [ -n "${MLMODELS_DOCKERD_STORAGE:-}" ]; then echo "$MLMODELS_DOCKERD_STORAGE"; return; fi
  local fs
  fs="$(stat -f -c %T "$state/data" 2>/dev/null || true)"
  if grep -qw overlay /proc/filesystems && [[ "$fs" == ext2/ext3 || "$fs" == xfs ]]; then echo overlay2; else echo vfs; fi
}

engine_up() { DOCKER_HOST="unix://$sock" docker version --format '{{.Server.APIVersion}}' >/dev/null 2>&1; }

# The engine's own bridge: the first free mlmd<N> with 10.213.<N>.1/24.
make_bridge() {
  local n
  for n in $(seq 1 250); do
    if ip -4 route show | grep -q "^10\.213\.$n\."; then continue; fi
    if ip link add name "mlmd$n" type bridge 2>/dev/null; then
      ip addr add "10.213.$n.1/24" dev "mlmd$n"
      ip link set "mlmd$n" up
      echo "mlmd$n"
      return
    fi
  done
  log "no free bridge name mlmd1..mlmd250"
  return 1
}

start() {
  for tool in dockerd docker debootstrap ip flock; do
    command -v "$tool" >/dev/null || { log "$tool is not installed (apt-get install docker.io debootstrap iproute2 util-linux)"; exit 1; }
  done
  if [ -S "$sock" ] && engine_up; then
    log "engine already running on $sock"
  else
    mkdir -p "$state/data" "$state/exec"
    echo '{}' >"$state/daemon.json"
    local bridge
    bridge="$(make_bridge)"
    echo "$bridge" >"$state/bridge"
    local driver
    driver="$(storage_driver)"
    log "starting dockerd on $sock (storage $driver, bridge $bridge, log $state/dockerd.log)"
    setsid dockerd -H "unix://$sock" --config-file "$state/daemon.json" --data-root "$state/data" \
      --exec-root "$state/exec" --pidfile "$state/dockerd.pid" --storage-driver="$driver" --iptables=false \
      --ip-masq=false --bridge="$bridge" --ip=127.0.0.1 --userland-proxy=true \
      --cgroup-parent="mlmodels-$id" >"$state/dockerd.log" 2>&1 </dev/null &
    local i
    for i in $(seq 1 120); do
      engine_up && break
      if ! kill -0 $! 2>/dev/null; then log "dockerd exited:"; tail -n 30 "$state/dockerd.log" >&2; exit 1; fi
      sleep 0.5
    done
    engine_up || { log "dockerd did not answer within 60 s:"; tail -n 30 "$state/dockerd.log" >&2; exit 1; }
    echo "$driver" >"$state/storage"
  fi
  export DOCKER_HOST="unix://$sock" DOCKER_BUILDKIT=0

  rootfs "debian-$suite-minbase" ""
  rootfs "python-$suite-minbase-v3" "python3,python3-venv,python3-numpy,python3-pandas,python3-sklearn,python3-cloudpickle,python3-yaml,python3-xgboost,python3-lz4,python3-psutil,python3-scipy,python3-joblib,python3-threadpoolctl,python3-typing-extensions,python3-torch,python3-astunparse,python3-packaging,python3-statsmodels,python3-patsy,python3-six" prune_python

  local debian="mlmodels-ci/debian:$suite"
  docker image inspect "$debian" >/dev/null 2>&1 || docker import "$cache/debian-$suite-minbase.tar" "$debian" >&2

  # The .NET base: this machine's runtime copied onto Debian, laid out as the official images lay it out.
  local dotnet_root aspnet_version dotnet_base
  dotnet_root="$(dirname "$(readlink -f "$(command -v dotnet)")")"
  aspnet_version="$(ls "$dotnet_root/shared/Microsoft.AspNetCore.App" | sort -V | tail -n1)"
  dotnet_base="mlmodels-ci/aspnet:$aspnet_version"
  if ! docker image inspect "$dotnet_base" >/dev/null 2>&1; then
    local ctx netcore_version
    netcore_version="$(ls "$dotnet_root/shared/Microsoft.NETCore.App" | sort -V | tail -n1)"
    ctx="$(mktemp -d)"
    mkdir -p "$ctx/dotnet/shared/Microsoft.NETCore.App" "$ctx/dotnet/shared/Microsoft.AspNetCore.App"
    cp -a "$dotnet_root/dotnet" "$dotnet_root/host" "$ctx/dotnet/"
    cp -a "$dotnet_root"/LICENSE.txt "$dotnet_root"/ThirdPartyNotices.txt "$ctx/dotnet/" 2>/dev/null || true
    cp -a "$dotnet_root/shared/Microsoft.NETCore.App/$netcore_version" "$ctx/dotnet/shared/Microsoft.NETCore.App/"
    cp -a "$dotnet_root/shared/Microsoft.AspNetCore.App/$aspnet_version" "$ctx/dotnet/shared/Microsoft.AspNetCore.App/"
    cat >"$ctx/Dockerfile" <<EOF
FROM $debian
COPY dotnet /usr/share/dotnet
ENV DOTNET_ROOT=/usr/share/dotnet PATH=/usr/share/dotnet:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \\
    DOTNET_RUNNING_IN_CONTAINER=true DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=true
EOF
    docker build -q -t "$dotnet_base" "$ctx" >&2
    rm -rf "$ctx"
  fi

  local python_version python_base
  python_version="$(tar -tf "$cache/python-$suite-minbase-v3.tar" | sed -n 's#^\./usr/bin/python\(3\.[0-9]*\)$#\1#p' | head -n1)"
  python_base="mlmodels-ci/python:${python_version:-3}"
  if ! docker image inspect "$python_base" >/dev/null 2>&1; then
    docker import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      "$cache/python-$suite-minbase-v3.tar" "$python_base" >&2
  fi

  echo "export DOCKER_HOST=unix://$sock"
  echo "export MLMODELS_TEST_DEBIAN_BASE=$debian"
  echo "export MLMODELS_TEST_DOTNET_BASE=$dotnet_base"
  echo "export MLMODELS_TEST_PYTHON_BASE=$python_base"
}

stop() {
  if [ -s "$state/dockerd.pid" ]; then
    local pid i
    pid="$(cat "$state/dockerd.pid")"
    if kill -0 "$pid" 2>/dev/null; then
      # Containers first, so the engine's shutdown does not wait on them.
      DOCKER_HOST="unix://$sock" docker ps -q 2>/dev/null | xargs -r env DOCKER_HOST="unix://$sock" docker rm -f >/dev/null 2>&1 || true
      kill "$pid"
      for i in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      kill -0 "$pid" 2>/dev/null && { log "dockerd $pid did not stop; killing it"; kill -9 "$pid" || true; }
    fi
  fi
  if [ -s "$state/bridge" ]; then ip link del "$(cat "$state/bridge")" 2>/dev/null || true; fi
  if [ -d "$state" ]; then
    # Anything the engine left mounted under its roots must go before the files do.
    grep -o " $state/[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
    rm -rf "$state"
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
