#!/usr/bin/env bash
# The demo's second act: three hosts in throwaway network namespaces on one LAN, a swarm
# on etcd, an attachable overlay network, containers on two hosts reaching each other by
# name through VXLAN, and a service behind a virtual IP and the routing mesh. It changes nothing outside the namespaces and the temp dir it makes,
# and removes both at the end (even on Ctrl-C), then checks that nothing is left.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD

id=$(head -c3 /dev/urandom | od -An -tx1 | tr -d ' \n')
LAN=berth-dsw-$id-lan
DIR=$(mktemp -d /tmp/berth-demo-swarm-$id.XXXX)
HOSTS=(1 2 3)
declare -A PIDS=()

bold() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
say() { printf '%s\n' "$*"; }
ns() { echo "berth-dsw-$id-h$1"; }
ip_of() { echo "192.168.50.1$1"; }
# `on 2 docker …`: the stock docker CLI against host 2's berthd.
on() {
  local h=$1; shift
  printf '\033[36m[host%s]$ %s\033[0m\n' "$h" "$*"
  DOCKER_HOST=unix://$DIR/h$h/berth.sock "$@" 2>&1 | sed 's/^/  /'
}
quiet() { local h=$1; shift; DOCKER_HOST=unix://$DIR/h$h/berth.sock "$@"; }
kernel() { local h=$1; shift; printf '\033[35m[host%s kernel] %s\033[0m\n' "$h" "$*"; ip netns exec "$(ns "$h")" "$@" 2>&1 | sed 's/^/  /'; }

start_daemon() {
  local h=$1
  mkdir -p "$DIR/h$h"
  BERTH_HOSTNAME=host$h nsenter --net=/run/netns/"$(ns "$h")" -- "$REPO/bin/berthd" --data-root "$DIR/h$h/data" \
    --exec-root "$DIR/h$h/exec" -H "unix://$DIR/h$h/berth.sock" >>"$DIR/h$h/berthd.log" 2>&1 &
  PIDS[$h]=$!
  for _ in $(seq 100); do quiet "$h" docker version >/dev/null 2>&1 && return; sleep 0.1; done
  echo "berthd on host$h did not start; its log:"; cat "$DIR/h$h/berthd.log"; exit 1
}

cleanup() {
  set +e
  [ -n "${TCPDUMP:-}" ] && kill "$TCPDUMP" 2>/dev/null && wait "$TCPDUMP" 2>/dev/null
  for h in "${HOSTS[@]}"; do
    [ -n "${PIDS[$h]:-}" ] || continue
    for c in $(quiet "$h" docker ps -aq 2>/dev/null); do quiet "$h" docker rm -f "$c" >/dev/null 2>&1; done
  done
  for h in "${HOSTS[@]}"; do
    [ -n "${PIDS[$h]:-}" ] && kill "${PIDS[$h]}" 2>/dev/null && wait "${PIDS[$h]}" 2>/dev/null
  done
  grep " $DIR" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l
  for h in "${HOSTS[@]}"; do ip netns del "$(ns "$h")" 2>/dev/null; done
  ip netns del "$LAN" 2>/dev/null
  left=$(( $(ip netns list | grep -c "berth-dsw-$id") + $(pgrep -fc -- "$DIR") ))
  rm -rf "$DIR"
  if [ "$left" = 0 ]; then
    printf '\nCleaned up: the three hosts, the LAN and %s are gone; no namespace, daemon or etcd left.\n' "$DIR"
  else
    printf '\nLEFT BEHIND: %s namespaces or processes of this demo (look for berth-dsw-%s)\n' "$left" "$id"
  fi
}
trap cleanup EXIT

bold "Act 2: three hosts on one LAN"
ip netns add "$LAN"
ip -n "$LAN" link add lan0 type bridge
ip -n "$LAN" link set lan0 up
for h in "${HOSTS[@]}"; do
  ip netns add "$(ns "$h")"
  ip -n "$(ns "$h")" link set lo up
  ip -n "$LAN" link add "h$h" type veth peer name eth0 netns "$(ns "$h")"
  ip -n "$LAN" link set "h$h" master lan0 up
  ip -n "$(ns "$h")" addr add "$(ip_of "$h")/24" dev eth0
  ip -n "$(ns "$h")" link set eth0 up
  start_daemon "$h"
  quiet "$h" docker pull -q busybox >/dev/null
done
say "Each host is a network namespace with eth0 on the LAN bridge (namespace $LAN) and its own"
say "berthd: host1 $(ip_of 1), host2 $(ip_of 2), host3 $(ip_of 3)."

bold "A swarm: init on host1 (berthd starts an etcd member for the cluster's state), two joins"
on 1 docker swarm init --advertise-addr "$(ip_of 1)"
token=$(quiet 1 docker swarm join-token -q worker)
on 2 docker swarm join --token "$token" "$(ip_of 1):2377"
on 3 docker swarm join --token "$token" "$(ip_of 1):2377"
on 1 docker node ls
say "A node's liveness is an etcd lease of 5 s (one heartbeat): a host that dies shows Down within that time."

bold "An attachable overlay network, made on the manager, seen by every host"
on 1 docker network create -d overlay --attachable demo-net
on 1 docker network inspect demo-net --format 'subnet {{(index .IPAM.Config 0).Subnet}}, VXLAN ID {{index .Options "com.docker.network.driver.overlay.vxlanid_list"}}, scope {{.Scope}}'
on 1 docker network ls --filter driver=overlay

bold "A container on host1 and one on host2"
on 1 docker run -d --name web1 --network demo-net busybox sh -c 'echo hello from host1 > /index.html; httpd -f -p 80 -h /'
on 2 docker run -d --name web2 --network demo-net busybox sleep 600
on 2 docker exec web2 sh -c "ip -o -4 addr show | awk '{print \$2, \$4}'; ip -o link show eth0 | grep -o 'mtu [0-9]*'"
say "eth0 is on the overlay (MTU 1450: the LAN's 1500 less VXLAN's 50 bytes), eth1 on docker_gwbridge for the way out."

bold "host2's kernel: a VXLAN link for the network, web2's eth0 a macvlan of it (no bridge, no veth), and static entries for host1's container"
vx=vx-$(printf '%06x' "$(quiet 1 docker network inspect demo-net --format '{{index .Options "com.docker.network.driver.overlay.vxlanid_list"}}')")
kernel 2 sh -c "ip -d link show $vx | grep -o 'vxlan id.*nolearning proxy'"
pid=$(quiet 2 docker inspect -f '{{.State.Pid}}' web2)
kernel 2 sh -c "nsenter --net=/proc/$pid/ns/net ip -d link show eth0 | grep -o 'macvlan mode bridge'"
kernel 2 bridge fdb show dev "$vx"
kernel 2 ip neigh show dev "$vx"
say "No flooding to learn: berthd writes each remote container's MAC (at its host's address) and"
say "address from the cluster store's watch, so the VXLAN link answers ARP itself (nolearning proxy)."

bold "By name, across hosts: web2 (host2) pings and fetches from web1 (host1)"
# UDP 4789 carrying IPv4 ICMP: after UDP's 8 and VXLAN's 8 bytes, the inner frame's type at 12, its protocol at 23.
ip netns exec "$LAN" tcpdump -lni lan0 -c 2 'udp port 4789 and udp[28:2] = 0x0800 and udp[39] = 1' >"$DIR/tcpdump.out" 2>/dev/null &
TCPDUMP=$!
sleep 1
on 2 docker exec web2 ping -c 2 web1
on 2 docker exec web2 wget -qO- http://web1/
say "On the LAN between the hosts, the ping is a VXLAN packet (UDP 4789) with the network's VNI:"
for _ in $(seq 30); do [ "$(wc -l <"$DIR/tcpdump.out")" -ge 4 ] && break; sleep 0.1; done
sed 's/^/  /' "$DIR/tcpdump.out"
kill "$TCPDUMP" 2>/dev/null || true; wait "$TCPDUMP" 2>/dev/null || true; TCPDUMP=

bold "A service: three replicas behind a virtual IP and the routing mesh (none on host3)"
say "(--no-resolve-image: no registry is reachable here to pin busybox's digest; berth makes it from the host's binary)"
on 1 docker service create -d --no-resolve-image --name hello --replicas 3 --constraint 'node.hostname!=host3' \
  --publish published=8080,target=80 --network demo-net busybox sh -c 'echo "served by $(hostname)" > /index.html; httpd -f -p 80 -h /'
converged() { for _ in $(seq 150); do [ "$(quiet 1 docker service ls --filter name=hello --format '{{.Replicas}}')" = "$1/$1" ] && return; sleep 0.2; done; }
converged 3
on 1 docker service ls
on 1 docker service ps hello --format 'table {{.Name}}\t{{.Node}}\t{{.CurrentState}}'
on 1 docker service inspect hello --format 'virtual IPs, one on demo-net and one on ingress: {{range .Endpoint.VirtualIPs}}{{.Addr}} {{end}}'
say "Names on the overlay: the service resolves to its virtual IP, tasks.hello to every task:"
on 2 docker exec web2 sh -c 'nslookup -type=a hello | sed -n "/^Name/,\$p"; nslookup -type=a tasks.hello | sed -n "/^Name/,\$p"'
say "From a machine on the LAN, through host3 (which runs no replica): nftables spreads new"
say "connections over all replicas cluster-wide (numgen), no IPVS, no userland proxy:"
ip -n "$LAN" addr add 192.168.50.200/24 dev lan0
fetch() { for _ in $(seq "$1"); do ip netns exec "$LAN" curl -s -m 2 "http://$(ip_of 3):8080/"; done | sort | uniq -c | sed 's/^/  /'; }
fetch 15
on 1 docker service scale hello=5 -d
converged 5
say "Scaled to 5; the same 15 fetches through host3 now spread over five tasks:"
fetch 15
on 1 docker service rm hello
say "(the agents stop its tasks in the background; the network can go once they are gone)"
for _ in $(seq 100); do [ -z "$(quiet 1 docker ps -q --filter label=com.docker.swarm.service.name=hello)$(quiet 2 docker ps -q --filter label=com.docker.swarm.service.name=hello)" ] && break; sleep 0.2; done

bold "Everything removed: containers, the network, the swarm (workers, then the manager)"
on 1 docker rm -f web1
on 2 docker rm -f web2
on 1 docker network rm demo-net
on 2 docker swarm leave
on 3 docker swarm leave
on 1 docker swarm leave --force
kernel 2 ip -br link show type vxlan
say "(no VXLAN link left on host2)"

bold "Done"
