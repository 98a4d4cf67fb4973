#!/bin/sh
# The database's first start makes it (in an empty /var/lib/mysql, a -v bind included):
# the system tables, root reachable from the network with MYSQL_ROOT_PASSWORD, and the
# database MYSQL_DATABASE; then MariaDB runs in the foreground as the container's process.
set -e
: "${MYSQL_ROOT_PASSWORD:?the mysql container needs -e MYSQL_ROOT_PASSWORD=...}"
mkdir -p /run/mysqld
chown mysql:mysql /run/mysqld /var/lib/mysql
if [ ! -d /var/lib/mysql/mysql ]; then
  mariadb-install-db --user=mysql --datadir=/var/lib/mysql --skip-test-db >/dev/null
  mariadbd --user=mysql --skip-networking --socket=/run/mysqld/init.sock &
  pid=$!
  until mariadb --socket=/run/mysqld/init.sock -e 'SELECT 1' >/dev/null 2>&1; do sleep 0.2; done
  mariadb --socket=/run/mysqld/init.sock <<SQL
CREATE USER 'root'@'%' IDENTIFIED BY '${MYSQL_ROOT_PASSWORD}';
GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION;
CREATE DATABASE IF NOT EXISTS \`${MYSQL_DATABASE}\`;
SQL
  kill "$pid"
  wait "$pid" || true
fi
exec "$@" --user=mysql --bind-address=0.0.0.0
