# shellcheck shell=bash
# Sourced by scripts/pg-cluster.sh and scripts/ha-cluster.sh.
# pg_bindir: the directory of the newest PostgreSQL server binaries Debian's postgresql package
# installed; fails, saying how to get them, when there are none.
pg_bindir() {
  local dir
  # shellcheck disable=SC2012  # version directories: plain names
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  if [[ ! -x $dir/initdb ]]; then
    echo "PostgreSQL server binaries not found (make setup installs postgresql)" >&2
    return 1
  fi
  echo "$dir"
}
