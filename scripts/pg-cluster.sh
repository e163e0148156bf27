#!/usr/bin/env bash
# A throwaway PostgreSQL cluster in a directory of its own, for tests, the
# PostgreSQL demo and the benchmarks: never the machine's own cluster.
#
#   scripts/pg-cluster.sh start DIR   initdb DIR/data, start a server that
#                                     listens only on a unix socket in DIR;
#                                     prints the conninfo to reach it
#   scripts/pg-cluster.sh stop DIR    stop it (fast shutdown), keep DIR
#   scripts/pg-cluster.sh remove DIR  stop it and remove DIR
#
# PostgreSQL refuses to run as root: as root, the server runs as the
# `postgres` user (Debian's postgresql package creates it) and DIR is given
# to that user. Authentication is `trust` on the socket, which only the
# owner of DIR and root can reach (mode 0700). The conninfo printed names
# the superuser `postgres` and the database `postgres`.
set -euo pipefail

usage() { echo "usage: $0 start|stop|remove DIR" >&2; exit 64; }
[ $# -eq 2 ] || usage
action=$1
dir=$2

bindir=
for candidate in /usr/lib/postgresql/*/bin; do
  [ -x "$candidate/pg_ctl" ] && bindir=$candidate
done
if [ -z "$bindir" ]; then
  echo "$0: no PostgreSQL server found under /usr/lib/postgresql (apt-get install postgresql)" >&2
  exit 69
fi

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

case $action in
  start)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    chmod 0700 "$dir"
    if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$dir"; fi
    if [ ! -s "$dir/data/PG_VERSION" ]; then
      as_owner "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 \
        >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 70; }
    fi
    # No TCP; the socket in DIR. fsync stays on: the tests judge durability.
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses='' -c unix_socket_directories='$dir' -c port=5432 -c max_connections=200" \
      start >/dev/null || { cat "$dir/server.log" >&2; exit 70; }
    echo "host=$dir port=5432 user=postgres dbname=postgres"
    ;;
  stop)
    if [ -f "$dir/data/postmaster.pid" ]; then
      as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    fi
    ;;
  remove)
    if [ -f "$dir/data/postmaster.pid" ]; then
      as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    fi
    rm -rf "$dir"
    ;;
  *) usage ;;
esac
