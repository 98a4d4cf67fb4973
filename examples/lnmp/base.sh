#!/usr/bin/env bash
# The base image of the LNMP example: Debian bookworm made with debootstrap from the Debian
# archive, with nginx, php-fpm and MariaDB installed from Debian's packages, imported into
# the engine DOCKER_HOST points at as berth-lnmp/base:bookworm.
#
# The packages go into the base, not into RUN steps of the Dockerfiles: a RUN step runs in
# a container of the engine, and berth's throwaway namespaces have no route to the archive.
# The root file system is made once and kept as a tarball in $LNMP_CACHE (default
# /var/cache/berth/lnmp); later runs import it again in seconds.
set -euo pipefail
IMAGE=berth-lnmp/base:bookworm
CACHE=${LNMP_CACHE:-/var/cache/berth/lnmp}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
TARBALL=$CACHE/base-bookworm.tar
PACKAGES=nginx-light,php-fpm,php-mysql,mariadb-server,mariadb-client

if docker image inspect "$IMAGE" >/dev/null 2>&1; then echo "$IMAGE is there"; exit 0; fi
if [ ! -s "$TARBALL" ]; then
  command -v debootstrap >/dev/null || { echo "base.sh: debootstrap is not installed (apt-get install debootstrap)" >&2; exit 2; }
  mkdir -p "$CACHE"
  root=$(mktemp -d "$CACHE/rootfs.XXXX")
  trap 'rm -rf "$root"' EXIT
  echo "==> debootstrap --variant=minbase bookworm from $MIRROR (a minute or two; once)"
  debootstrap --variant=minbase --include="$PACKAGES" bookworm "$root" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 ||
    { echo "base.sh: debootstrap failed; the last lines of $CACHE/debootstrap.log:" >&2; tail -5 "$CACHE/debootstrap.log" >&2; exit 2; }
  # What an image needs not carry: the downloaded packages, the package lists, the docs,
  # and the database the package made (the mysql image makes its own at first start).
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/var/lib/mysql/*
  tar -C "$root" --numeric-owner -cf "$TARBALL.part" .
  mv "$TARBALL.part" "$TARBALL"
fi
echo "==> docker import $TARBALL $IMAGE"
docker import "$TARBALL" "$IMAGE" >/dev/null
docker image ls "$IMAGE"
