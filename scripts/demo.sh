#!/usr/bin/env bash
# A guided tour of berth in a throwaway network namespace. It changes nothing outside
# the namespace and the temp dir it makes, and removes both at the end (even on Ctrl-C).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD

id=$(head -c3 /dev/urandom | od -An -tx1 | tr -d ' \n')
NS=berth-demo-$id
LAN=berth-demo-$id-lan
DIR=$(mktemp -d /tmp/berth-demo-$id.XXXX)
SOCK=$DIR/berth.sock
export DOCKER_HOST=unix://$SOCK
DAEMON_PID=

bold() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
say() { printf '%s\n' "$*"; }
run() { printf '\033[36m$ %s\033[0m\n' "$*"; "$@" 2>&1 | sed 's/^/  /'; }
fails() { printf '\033[36m$ %s\033[0m   (expected to fail)\n' "$*"; if "$@" >"$DIR/out" 2>&1; then echo "  UNEXPECTED SUCCESS"; else sed 's/^/  /' "$DIR/out"; fi; }
berth() { "$REPO/bin/berth" -H "unix://$SOCK" "$@"; }
kernel() { printf '\033[35m[kernel] ip %s\033[0m\n' "$*"; ip -n "$NS" "$@" | sed 's/^/  /'; }

# shellcheck source=lib/throwaway-host.sh
. "$REPO/scripts/lib/throwaway-host.sh"
start_daemon() { start_berthd "$NS" "$DIR" "$SOCK"; DAEMON_PID=$BERTHD_PID; }

cleanup() {
  set +e
  [ -n "${EVENTS_PID:-}" ] && kill "$EVENTS_PID" 2>/dev/null
  [ -n "${REGISTRY_PID:-}" ] && kill "$REGISTRY_PID" 2>/dev/null && wait "$REGISTRY_PID" 2>/dev/null
  ip netns del "$LAN" 2>/dev/null
  remove_host "$NS" "$DIR" "$DAEMON_PID"
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

bold "A second stream: docker events, as dockerd logs them"
say "From here on, lines marked 'event:' come from 'docker events', running beside the demo."
docker events --format '  event: {{.Type}} {{.Action}} {{with .Actor.Attributes.name}}{{.}}{{end}}' &
EVENTS_PID=$!

bold "Containers in each network mode (ip addr from inside each)"
run docker run --rm --network none busybox ip -o addr
run docker run --rm --network host busybox ip -o -4 addr
run docker run -d --name web busybox httpd -f -p 80 -h /www
run docker exec web ip -o -4 addr show eth0
run docker run --rm --network container:web busybox ip -o -4 addr show eth0
run docker run --rm --network app --ip 10.42.7.42 busybox ip -o -4 addr show eth0
say "One container fetching a page from another over the default bridge:"
run docker run --rm busybox wget -qO- "http://$(docker inspect -f '{{.NetworkSettings.IPAddress}}' web)/"
kernel -br link show master berth0

bold "Published ports, and a LAN namespace standing for another machine"
ip netns add "$LAN"
ip -n "$NS" link add lan0 type veth peer name eth0 netns "$LAN"
ip -n "$NS" addr add 192.0.2.1/24 dev lan0; ip -n "$NS" link set lan0 up
ip -n "$LAN" addr add 192.0.2.2/24 dev eth0; ip -n "$LAN" link set eth0 up; ip -n "$LAN" link set lo up
ip -n "$LAN" route add default via 192.0.2.1
say "host $NS has 192.0.2.1 on lan0; the lan namespace $LAN is 192.0.2.2"
run docker run -d --name site -p 8080:80 -p 127.0.0.1:8081:80 busybox httpd -f -p 80 -h /www
run docker port site
lan() { printf '\033[36m[lan]$ %s\033[0m\n' "$*"; nsenter --net=/run/netns/$LAN -- "$@" 2>&1 | sed 's/^/  /'; }
host() { printf '\033[36m[host]$ %s\033[0m\n' "$*"; nsenter --net=/run/netns/$NS -- "$@" 2>&1 | sed 's/^/  /'; }
lan curl -s http://192.0.2.1:8080/
host curl -s http://127.0.0.1:8080/
say "From another container, through the host's address (hairpin):"
run docker run --rm busybox wget -qO- http://192.0.2.1:8080/
say "Blocked: the 127.0.0.1-only binding from the lan, and the container's own address:"
ip -n "$LAN" route add 172.17.0.0/16 via 192.0.2.1
lan sh -c "curl -s -m 2 http://192.0.2.1:8081/ || echo '(refused or timed out, as it should be)'"
lan sh -c "curl -s -m 2 http://$(docker inspect -f '{{.NetworkSettings.IPAddress}}' site)/ || echo '(no route in, as it should be)'"
say "No userland proxy: the kernel does it, with elements in nftables maps:"
host nft list map inet berth pub4_port
run docker run -d --name wide -p 20000-20999:20000-20999 busybox sleep 1000
host sh -c "nft list table inet berth | grep -c elements; echo '(a 1000-port range is one element:)'; nft list map inet berth pub4_keep | grep elements"
run docker rm -f wide

bold "Names: a three-tier app (web -> app -> db) on a user network, web published on 8090"
run docker network create shop
run docker run -d --name db --network shop busybox sh -c 'mkdir -p /www && echo "3 rows from db" > /www/index.html && httpd -f -p 80 -h /www'
run docker run -d --name app --network shop busybox sh -c 'mkdir -p /www/cgi-bin && printf "#!/bin/sh\necho Content-Type: text/plain\necho\necho app says: \$(wget -qO- http://db/)\n" > /www/cgi-bin/api && chmod +x /www/cgi-bin/api && httpd -f -p 80 -h /www'
run docker run -d --name shopweb --network shop -p 8090:80 busybox sh -c 'mkdir -p /www/cgi-bin && printf "#!/bin/sh\necho Content-Type: text/plain\necho\necho web got: \$(wget -qO- http://app/cgi-bin/api)\n" > /www/cgi-bin/index && chmod +x /www/cgi-bin/index && httpd -f -p 80 -h /www'
sleep 0.5
run docker exec shopweb nslookup db
lan curl -s http://192.0.2.1:8090/cgi-bin/index

bold "macvlan: containers as machines of the LAN behind lan0, each with a MAC of its own"
run docker network create -d macvlan --subnet 192.0.2.0/24 --gateway 192.0.2.2 \
  --ip-range 192.0.2.128/27 --aux-address host-shim=192.0.2.159 -o parent=lan0 lanmv
run docker run -d --name onlan --network lanmv --ip 192.0.2.130 busybox httpd -f -p 80 -h /www
run docker exec onlan ip -o addr show eth0
lan curl -s http://192.0.2.130/
run docker exec onlan ping -c 1 -W 2 192.0.2.2
say "No veth, no bridge: the container's eth0 is a macvlan link of lan0, inside its namespace."
say "The host cannot reach its own macvlan children through lan0 (the kernel hands no frames"
say "between a parent and its macvlan links):"
host sh -c "curl -s -m 2 http://192.0.2.130/ || echo '(no answer, as expected)'"
say "A macvlan 'shim' of the host on lan0, on the address reserved with --aux-address, lifts that:"
ip -n "$NS" link add lan-shim link lan0 type macvlan mode bridge
ip -n "$NS" addr add 192.0.2.159/32 dev lan-shim
ip -n "$NS" link set lan-shim up
ip -n "$NS" route add 192.0.2.128/27 dev lan-shim
host curl -s http://192.0.2.130/
ip -n "$NS" link del lan-shim
say "Parents that cannot be, and kernel features this machine lacks, are named:"
fails docker network create -d macvlan --subnet 10.99.0.0/24 -o parent=nosuch bad
fails docker network create -d macvlan --subnet 10.99.1.0/24 -o parent=lan0.100 vlan100
fails docker network create -d ipvlan --subnet 10.99.2.0/24 -o parent=lan0 -o ipvlan_mode=l3 iv
run docker rm -f onlan
run docker network rm lanmv

bold "docker stats: each container's cgroup and interfaces, one sample"
run docker stats --no-stream --format 'table {{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.NetIO}}\t{{.PIDs}}' db app shopweb

bold "Seeing inside: berth topology, berth trace, berth doctor"
say "The shop as the kernel holds it, named after berth's model (veth ends paired by ifindex):"
run berth topology --network shop
say "A container of another network knocks on the shop's db: where does the packet die, and why?"
run docker run -d --name outsider busybox sleep 1000
run berth trace outsider db:80 || true
say "The shop's own web reaches it: the same bridge, delivered at layer 2:"
run berth trace shopweb db:80
run berth doctor
run docker rm -f outsider

bold "Images through a registry: Debian's docker-registry, in the throwaway namespace"
if command -v docker-registry >/dev/null; then
  printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:5000\n' "$DIR/registry" >"$DIR/registry.yml"
  nsenter --net=/run/netns/$NS -- docker-registry serve "$DIR/registry.yml" >>"$DIR/registry.log" 2>&1 &
  REGISTRY_PID=$!
  for _ in $(seq 50); do nsenter --net=/run/netns/$NS -- curl -sf http://127.0.0.1:5000/v2/ >/dev/null && break; sleep 0.1; done
  say "An image of two layers (busybox's, and one a container wrote), pushed, removed and pulled back:"
  run docker run --name greeter busybox sh -c 'echo hello from a layer > /greeting'
  run docker commit -c 'CMD ["cat", "/greeting"]' greeter localhost:5000/demo/greeter:1
  run docker rm greeter
  run docker push localhost:5000/demo/greeter:1
  run docker rmi localhost:5000/demo/greeter:1
  run docker pull localhost:5000/demo/greeter:1
  run docker run --rm localhost:5000/demo/greeter:1
  host curl -s http://127.0.0.1:5000/v2/_catalog
else
  say "(docker-registry is not installed: scripts/install-deps.sh installs it)"
fi

bold "Remove and prune"
run docker rm -f web site db app shopweb
run docker network rm app
run docker network prune -f
kernel -br link show type bridge

bold "Done"
