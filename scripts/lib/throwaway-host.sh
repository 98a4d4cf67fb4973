# A throwaway host for berth's scripts (sourced): a network namespace with berthd inside it,
# its state in a temp dir, and the way to remove it all again. Needs REPO (the checkout).

# start_berthd NS DIR SOCK: start berthd in namespace NS with its roots in DIR; its PID in
# BERTHD_PID. Waits until it answers on SOCK.
start_berthd() {
  local ns=$1 dir=$2 sock=$3
  nsenter --net="/run/netns/$ns" -- "$REPO/bin/berthd" --data-root "$dir/data" --exec-root "$dir/exec" \
    -H "unix://$sock" >>"$dir/berthd.log" 2>&1 &
  BERTHD_PID=$!
  for _ in $(seq 100); do DOCKER_HOST="unix://$sock" docker version >/dev/null 2>&1 && return; sleep 0.1; done
  echo "berthd did not start; its log:"; cat "$dir/berthd.log"; exit 1
}

# remove_host NS DIR [PID]: remove every container, stop berthd (PID), unmount what is left
# under DIR, delete the namespace and DIR.
remove_host() {
  local ns=$1 dir=$2 pid=${3:-}
  if [ -n "$pid" ]; then
    for c in $(docker ps -aq 2>/dev/null); do docker rm -f "$c" >/dev/null 2>&1; done
    kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  fi
  grep " $dir" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l
  ip netns del "$ns" 2>/dev/null
  rm -rf "$dir"
}
