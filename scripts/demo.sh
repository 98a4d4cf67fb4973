#!/usr/bin/env bash
# A guided tour of berth in a throwaway network namespace. It changes nothing outside
# the namespace and the temp dir it makes, and removes both at the end (even on Ctrl-C).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD

id=$(head -c3 /dev/urandom | od -An -tx1 | tr -d ' \n')
NS=berth-demo-$id
DIR=$(mktemp -d /tmp/berth-demo-$id.XXXX)
SOCK=$DIR/berth.sock
export DOCKER_HOST=unix://$SOCK
DAEMON_PID=

bold() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
say() { printf '%s\n' "$*"; }
run() { printf '\033[36m$ %s\033[0m\n' "$*"; "$@" 2>&1 | sed 's/^/  /'; }
fails() { printf '\033[36m$ %s\033[0m   (expected to fail)\n' "$*"; if "$@" >"$DIR/out" 2>&1; then echo "  UNEXPECTED SUCCESS"; else sed 's/^/  /' "$DIR/out"; fi; }
kernel() { printf '\033[35m[kernel] ip %s\033[0m\n' "$*"; ip -n "$NS" "$@" | sed 's/^/  /'; }

start_daemon() {
  nsenter --net=/run/netns/$NS -- "$REPO/bin/berthd" --data-root "$DIR/data" --exec-root "$DIR/exec" \
    -H "unix://$SOCK" >>"$DIR/berthd.log" 2>&1 &
  DAEMON_PID=$!
  for _ in $(seq 100); do docker version >/dev/null 2>&1 && return; sleep 0.1; done
  echo "berthd did not start; its log:"; cat "$DIR/berthd.log"; exit 1
}

cleanup() {
  set +e
  if [ -n "$DAEMON_PID" ]; then
    for c in $(docker ps -aq 2>/dev/null); do docker rm -f "$c" >/dev/null 2>&1; done
    kill "$DAEMON_PID" 2>/dev/null; wait "$DAEMON_PID" 2>/dev/null
  fi
  grep " $DIR" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l
  ip netns del "$NS" 2>/dev/null
  rm -rf "$DIR"
  printf '\nCleaned up: namespace %s and %s are gone.\n' "$NS" "$DIR"
}
trap cleanup EXIT

bold "A throwaway host: network namespace $NS"
ip netns add "$NS"
ip -n "$NS" link set lo up
start_daemon
say "berthd (pid $DAEMON_PID) runs inside $NS; the stock docker CLI talks to it over $SOCK."
run docker version --format 'client {{.Client.Version}}  ->  server {{.Server.Version}} (API {{.Server.APIVersion}})'

bold "Predefined networks, and the kernel bridge behind the default one"
run docker network ls
kernel -br addr show berth0

bold "A user-defined bridge network with every IPAM option"
run docker network create --subnet 10.42.0.0/16 --ip-range 10.42.7.0/24 --gateway 10.42.0.254 \
  --aux-address printer=10.42.0.9 --label tier=app -o com.docker.network.driver.mtu=1400 app
run docker network inspect app --format 'subnet {{(index .IPAM.Config 0).Subnet}}, gateway {{(index .IPAM.Config 0).Gateway}}, bridge {{index .Options "com.docker.network.bridge.name"}}'
br=$(docker network inspect app --format '{{index .Options "com.docker.network.bridge.name"}}')
kernel -br addr show "$br"
kernel link show "$br"
run docker network create back
run docker network ls --filter label=tier=app

bold "Bad input gets Docker's errors, and nothing is half-created"
fails docker network create app
fails docker network create --subnet 10.42.99.0/24 overlap
fails docker network create -d nosuch x
fails docker network rm bridge

bold "State survives a crash: kill -9 berthd, remove a bridge behind its back, restart"
kill -9 "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null || true
ip -n "$NS" link del "$br"
say "bridge $br deleted while berthd was down"
start_daemon
run docker network ls
kernel -br link show type bridge

bold "Remove and prune"
run docker network rm app
run docker network prune -f
kernel -br link show type bridge

bold "Done"
