#!/usr/bin/env bash
# Installs what berth needs and is missing: Debian packages, npm dependencies, the build.
# Safe to run again: it only installs what is not there.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: the kernel tools, the OCI runtime and its supervisor, the busybox image
# source, tini for --init, and the tools the tests and benchmarks drive (docker-py and
# pytest for test/compat), etcd-server for swarm mode (berthd starts its own member) and
# etcd-client (etcdctl: the swarm tests read the store with it), tcpdump
# (the overlay tests read VXLAN off the underlay with it), chromium (berth topology's page is
# tested in it, headless), and for the registry tests Debian's docker-registry (the
# distribution registry, run inside a test namespace), skopeo (a second client that seeds it)
# and apache2-utils (htpasswd for its basic auth); zstd unpacks zstd layers; debootstrap
# and docker-compose (v1) for examples/lnmp (its base image, its compose file).
packages=(iproute2 nftables util-linux procps curl runc conmon busybox-static attr iperf3 dnsperf tini
  python3-docker python3-pytest python3-pytest-timeout etcd-server etcd-client tcpdump chromium
  docker-registry skopeo apache2-utils zstd debootstrap docker-compose)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
need_docker_cli=0
command -v docker >/dev/null 2>&1 || need_docker_cli=1
if [ ${#missing[@]} -gt 0 ] || [ $need_docker_cli = 1 ]; then
  echo "==> installing Debian packages: ${missing[*]} $([ $need_docker_cli = 1 ] && echo docker.io)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Never let a package start a service (dockerd, nftables) in the machine's root namespace.
  policy=/usr/sbin/policy-rc.d
  created_policy=0
  if [ ! -e $policy ]; then printf '#!/bin/sh\nexit 101\n' > $policy; chmod +x $policy; created_policy=1; fi
  trap '[ $created_policy = 1 ] && rm -f $policy' EXIT
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The docker CLI is only a client here: it talks to berthd. Debian ships it inside docker.io.
  if [ $need_docker_cli = 1 ]; then apt-get install -y -qq --no-install-recommends docker.io >/dev/null; fi
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "==> installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error
fi

echo "==> building"
npx tsc -p tsconfig.json
