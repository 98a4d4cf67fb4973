#!/usr/bin/env bash
# The tutorial's deployment against the engine DOCKER_HOST points at: the base image
# (base.sh), the three images built by the engine, the tutorial's commands — a user network,
# three `docker run` lines with -v binds, -e MYSQL_ROOT_PASSWORD and -p 8090:80 — and the
# page fetched twice (its visit count goes up: the data went through php-fpm to the
# database); then the same deployment with docker-compose, on the same database.
# LNMP_DATA: a directory for the database. LNMP_NETNS: the network namespace where the
# engine's published ports are (none: this one). Leaves no container, network or file
# of its own behind; the images stay.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
: "${DOCKER_HOST:?DOCKER_HOST: the engine to deploy on}" "${LNMP_DATA:?LNMP_DATA: a directory for the database}"
export MYSQL_ROOT_PASSWORD=${MYSQL_ROOT_PASSWORD:-berth-lnmp} LNMP_DATA

bold() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '\033[36m$ %s\033[0m\n' "$*"; "$@" 2>&1 | sed 's/^/  /'; return "${PIPESTATUS[0]}"; }
in_ns() { if [ -n "${LNMP_NETNS:-}" ]; then nsenter --net="/run/netns/$LNMP_NETNS" -- "$@"; else "$@"; fi; }
fetch() {
  printf '\033[36m$ curl http://127.0.0.1:8090/\033[0m\n'
  local page
  # The database makes itself at its first start: until then php-fpm answers 500.
  for _ in $(seq 60); do
    if page=$(in_ns curl -sf -m 5 http://127.0.0.1:8090/); then printf '%s\n' "$page" | sed 's/^/  /'; return 0; fi
    sleep 1
  done
  in_ns curl -sS -m 5 http://127.0.0.1:8090/ | sed 's/^/  /'
  return 1
}
tidy() { set +e; docker rm -f nginx php mysql >/dev/null 2>&1; docker network rm discuz >/dev/null 2>&1; (cd "$HERE" && docker-compose -p lnmp down >/dev/null 2>&1); true; }
trap tidy EXIT

bold "The base image, from Debian's archive"
"$HERE/base.sh"

bold "Three images built by the engine"
for app in mysql php nginx; do run docker build -t "berth-lnmp/$app" "$HERE/$app"; done
run docker image ls 'berth-lnmp/*'

bold "The tutorial's commands"
mkdir -p "$LNMP_DATA/mysql"
run docker network create discuz
run docker run -d --name mysql --network discuz -e MYSQL_ROOT_PASSWORD -v "$LNMP_DATA/mysql:/var/lib/mysql" berth-lnmp/mysql
run docker run -d --name php --network discuz -e MYSQL_ROOT_PASSWORD -v "$HERE/site:/var/www/html" berth-lnmp/php
run docker run -d --name nginx --network discuz -p 8090:80 -v "$HERE/site:/var/www/html" berth-lnmp/nginx
fetch
fetch
run docker exec mysql mariadb -t -uroot -p"$MYSQL_ROOT_PASSWORD" -e 'SELECT id, php, at FROM site.visits'
run docker rm -f nginx php mysql
run docker network rm discuz

bold "The same with docker-compose, on the same database"
cd "$HERE"
run docker-compose -p lnmp build
run docker-compose -p lnmp up -d
fetch
run docker-compose -p lnmp ps
run docker-compose -p lnmp down
