#!/usr/bin/env bash
# The first tutorial's LNMP deployment on real images (deploy.sh), in a throwaway host: a
# network namespace with its own berthd and a temp dir, both removed at the end.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
id=$(head -c3 /dev/urandom | od -An -tx1 | tr -d ' \n')
export LNMP_NETNS=berth-lnmp-$id
DIR=$(mktemp -d /tmp/berth-lnmp-$id.XXXX)
export DOCKER_HOST=unix://$DIR/berth.sock LNMP_DATA=$DIR/lnmp
DAEMON_PID=

# shellcheck source=../../scripts/lib/throwaway-host.sh
. "$REPO/scripts/lib/throwaway-host.sh"
cleanup() {
  set +e
  remove_host "$LNMP_NETNS" "$DIR" "$DAEMON_PID"
  printf '\nCleaned up: namespace %s and %s are gone.\n' "$LNMP_NETNS" "$DIR"
}
trap cleanup EXIT

printf '\n\033[1m== A throwaway host (%s) with berthd\033[0m\n' "$LNMP_NETNS"
ip netns add "$LNMP_NETNS"
ip -n "$LNMP_NETNS" link set lo up
start_berthd "$LNMP_NETNS" "$DIR" "$DIR/berth.sock"
DAEMON_PID=$BERTHD_PID
"$HERE/deploy.sh"
