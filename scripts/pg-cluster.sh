#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests and benchmarks, from Debian's postgresql package:
# initdb into DIR, a free loopback port, no Unix socket outside DIR. Nothing depends on a server
# started by hand, and nothing is left behind by `stop`.
#
#   scripts/pg-cluster.sh start DIR [postgresql.conf lines...]   prints the connection URL
#   scripts/pg-cluster.sh fresh DIR [postgresql.conf lines...]   stop, then start
#   scripts/pg-cluster.sh stop DIR                             stops it and removes DIR
#   scripts/pg-cluster.sh restart DIR [fast|immediate]         restarts it on the same port
#   scripts/pg-cluster.sh halt DIR                             stops the server at once, keeps DIR
#   scripts/pg-cluster.sh resume DIR                           starts a halted server again
#   scripts/pg-cluster.sh url DIR                              prints the URL of a started cluster
#
# DIR/url holds the URL (postgresql://payoutd@127.0.0.1:PORT/postgres). As root, the server runs
# as the postgres user (initdb refuses root).
set -euo pipefail

die() { echo "pg-cluster: $*" >&2; exit 1; }

# shellcheck source=scripts/pg-bindir.sh
source "$(dirname "${BASH_SOURCE[0]}")/pg-bindir.sh"

# as_owner CMD...: runs CMD as the cluster's owner.
as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 "$(dirname "$0")/free_port.py"
}

cmd=${1:-}
dir=${2:-}
[[ -n $cmd && -n $dir ]] || die "usage: $0 start|fresh|stop|restart|halt|resume|url DIR"
shift 2
bin="$(pg_bindir)"

if [[ $cmd == fresh ]]; then
  "$0" stop "$dir"
  cmd=start
fi

case "$cmd" in
  start)
    [[ ! -e $dir/data ]] || die "$dir/data exists already"
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    if [[ $(id -u) -eq 0 ]]; then chown postgres: "$dir"; fi
    as_owner "$bin/initdb" -D "$dir/data" -U payoutd --auth=trust --no-instructions \
      -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
    port="$(free_port)"
    {
      echo "listen_addresses = '127.0.0.1'"
      echo "port = $port"
      echo "unix_socket_directories = '$dir'"
      echo "max_connections = 200"
      echo "fsync = on"
      echo "synchronous_commit = on"
      echo "logging_collector = off"
      for option in "$@"; do echo "$option"; done
    } >>"$dir/data/postgresql.conf"
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null ||
      { tail -n 40 "$dir/server.log" >&2; die "the server did not start"; }
    echo "postgresql://payoutd@127.0.0.1:$port/postgres" >"$dir/url"
    cat "$dir/url"
    ;;
  stop)
    if [[ -d $dir/data ]]; then
      as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
  restart)
    mode=${1:-fast}
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -m "$mode" -w -t 60 restart >/dev/null
    ;;
  halt)
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null
    ;;
  resume)
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null
    ;;
  url)
    cat "$dir/url"
    ;;
  *)
    die "unknown command $cmd"
    ;;
esac
