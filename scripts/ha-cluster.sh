#!/usr/bin/env bash
# A throwaway highly-available PostgreSQL cluster on one machine, for failover tests: three etcd
# members (the DCS, v2 API), three PostgreSQL nodes each run by its own Patroni, and haproxy
# routing a write port to whichever node holds the leader lock (Patroni's REST check GET /primary).
# From Debian's postgresql, patroni, etcd-server, etcd-client and haproxy packages. Everything is
# under DIR, on free loopback ports (scripts/free_port.py); `stop` leaves no process behind.
#
#   scripts/ha-cluster.sh start DIR        starts it; waits for a leader, a synchronous standby and a
#                                          commit through haproxy; prints the haproxy URL
#   scripts/ha-cluster.sh stop DIR         kills every process of DIR and removes DIR (idempotent)
#   scripts/ha-cluster.sh status DIR       patronictl list, and the nodes haproxy routes writes to
#   scripts/ha-cluster.sh url DIR          prints the haproxy URL
#
# Faults for the tests; each does one thing and returns when it is done:
#   leader DIR                 prints the leader's name (node1, node2 or node3); fails if none
#   wait-leader DIR [SECONDS]  waits (60 s unless told) until a commit through haproxy succeeds;
#                              prints the leader's name
#   wait-ready DIR [SECONDS]   waits (60 s unless told) until the cluster is as `start` leaves it:
#                              a leader, a synchronous standby, three running members, a commit
#   kill-primary-pg DIR        SIGKILL of the leader's postmaster; its Patroni stays alive
#   stop-primary DIR           SIGSTOP of the leader's whole node: its Patroni and every PostgreSQL
#                              process, so that its leader lease expires; the node goes in DIR/stopped
#   cont-primary DIR           SIGCONT of the node in DIR/stopped; waits until it runs as a replica
#                              (or as the primary again, if it never lost the lock)
#   switchover DIR             planned switchover to the synchronous standby; waits until writable
#   kill-etcd DIR N            SIGKILL of etcd member N (1, 2 or 3)
#   start-etcd DIR N           starts etcd member N again on its data dir
#   restart-haproxy DIR        stops haproxy and starts it again on the same ports
# kill-primary-pg, stop-primary and switchover first wait (60 s at most) until the leader has a
# synchronous standby: the only node Patroni promotes, absent for a few seconds after a failover.
#
# Files: DIR/url (postgresql://payoutd@127.0.0.1:PORT/postgres, through haproxy), DIR/multihost-url
# (the three nodes with target_session_attrs=read-write), DIR/ports (shell variables of every
# port, and etcd's cluster token), DIR/nodeN/patroni.log (Patroni and its PostgreSQL),
# DIR/etcdN/etcd.log, DIR/haproxy.log. haproxy's read port (HAPROXY_READ_PORT) goes to the
# replicas; its statistics are on HAPROXY_STATS_PORT.
# The superuser is payoutd, trusted on 127.0.0.1 and on the Unix sockets in DIR/nodeN. As root,
# every process runs as the postgres user (initdb refuses root).
set -euo pipefail

die() { echo "ha-cluster: $*" >&2; exit 1; }
note() { echo "ha-cluster: $*" >&2; }

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
scope=payoutd              # Patroni's cluster name; keys under /service/payoutd/ in etcd
nodes=(1 2 3)

# shellcheck source=scripts/pg-bindir.sh
source "$(dirname "${BASH_SOURCE[0]}")/pg-bindir.sh"

need() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null ||
      die "$tool not found (scripts/setup.sh test installs patroni, etcd-server, etcd-client, haproxy)"
  done
}

# Commands run as the cluster's owner: the postgres user when root. setpriv executes the command
# in place, so a pid taken before it is the daemon's.
owner=()
if [[ $(id -u) -eq 0 ]]; then
  owner=(setpriv --reuid=postgres --regid=postgres --init-groups env HOME=/var/lib/postgresql)
fi

# launch PIDFILE LOG CMD...: CMD in the background, in a session of its own (no terminal, not in
# the caller's process group), stdin from /dev/null and output appended to LOG, so that it holds
# no pipe of the caller; its pid in PIDFILE, which is also its session id.
launch() {
  local pidfile=$1 log=$2 i
  shift 2
  rm -f "$pidfile"
  # shellcheck disable=SC2016  # $$ and $@ are the inner shell's
  setsid "${owner[@]}" sh -c 'echo $$ >"$0"; exec nohup "$@"' "$pidfile" "$@" \
    </dev/null >>"$log" 2>&1 &
  for i in $(seq 100); do
    [[ -s $pidfile ]] && return 0
    sleep 0.1
  done
  die "$* did not start (see $log)"
}

# alive PID: a running (or stopped) process, not a zombie.
alive() {
  local state
  [[ -n ${1:-} ]] || return 1
  state="$(ps -o stat= -p "$1" 2>/dev/null)" || return 1
  [[ $state != Z* ]]
}

# pid_of FILE PATTERN: the pid on FILE's first line, if that process is alive and its command line
# holds PATTERN (a pid file outliving its process can name someone else's pid).
pid_of() {
  local pid
  [[ -s $1 ]] || return 1
  pid="$(head -n 1 "$1" | tr -dc 0-9)"
  alive "$pid" || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$2" || return 1
  echo "$pid"
}

# session_pids SID: the live processes of a session.
session_pids() {
  ps -e -o pid=,sid=,stat= | awk -v sid="$1" '$2 == sid && $3 !~ /^Z/ { print $1 }'
}

patroni_pid() { pid_of "$dir/node$1/patroni.pid" "$dir/node$1/patroni.yml"; }
postmaster_pid() { pid_of "$dir/node$1/data/postmaster.pid" "$dir/node$1/data"; }
etcd_pid() { pid_of "$dir/etcd$1/etcd.pid" "$dir/etcd$1/data"; }
haproxy_pid() { pid_of "$dir/haproxy.pid" "$dir/haproxy.cfg"; }

# node_pids N: every process of node N: its Patroni with what Patroni runs (pg_rewind,
# pg_basebackup...) in Patroni's session, and the postmaster with its children (each of which
# PostgreSQL puts in a session of its own).
node_pids() {
  local pid
  if pid="$(patroni_pid "$1")"; then session_pids "$pid"; fi
  if pid="$(postmaster_pid "$1")"; then
    echo "$pid"
    ps -o pid= --ppid "$pid" | tr -d ' '
  fi
}

# tail_log FILE...: the end of each log, for an error message.
tail_log() {
  local f
  for f in "$@"; do
    [[ -f $f ]] || continue
    echo "---- last lines of $f" >&2
    tail -n 30 "$f" >&2
  done
}

# ---- ports

# pick_port VAR: a free port (scripts/free_port.py) into VAR, none picked twice.
pick_port() {
  local port
  while :; do
    port="$(python3 "$here/free_port.py")"
    [[ " $taken_ports " == *" $port "* ]] || break
  done
  taken_ports+=" $port"
  printf -v "$1" '%s' "$port"
}
taken_ports=""

declare -a ETCD_CLIENT ETCD_PEER PG REST
load_ports() {
  [[ -f $dir/ports ]] || die "$dir/ports not found: no cluster started in $dir"
  # shellcheck disable=SC1091
  source "$dir/ports"
  local n var
  for n in "${nodes[@]}"; do
    var=ETCD${n}_CLIENT_PORT; ETCD_CLIENT[n]=${!var}
    var=ETCD${n}_PEER_PORT; ETCD_PEER[n]=${!var}
    var=PG${n}_PORT; PG[n]=${!var}
    var=PATRONI${n}_PORT; REST[n]=${!var}
  done
}

etcd_endpoints() {
  local n out=""
  for n in "${nodes[@]}"; do out+="${out:+,}http://127.0.0.1:${ETCD_CLIENT[n]}"; done
  echo "$out"
}

# etcdctl_ ARGS...: etcdctl of the v2 API (Patroni's keys are there) against the three members.
etcdctl_() {
  ETCDCTL_API=2 etcdctl --endpoints="$(etcd_endpoints)" --timeout=2s --total-timeout=5s "$@"
}

# ---- etcd

start_etcd() {
  local n=$1 i initial=""
  for i in "${nodes[@]}"; do initial+="${initial:+,}etcd$i=http://127.0.0.1:${ETCD_PEER[i]}"; done
  # The initial-cluster flags only matter to an empty data dir: a restarted member rejoins from its
  # own. Heartbeat and election timeouts twice etcd's defaults, for a loaded 2-core machine. The v2
  # API is Patroni's (see etcd: in patroni.yml).
  launch "$dir/etcd$n/etcd.pid" "$dir/etcd$n/etcd.log" \
    etcd --name "etcd$n" --data-dir "$dir/etcd$n/data" \
    --listen-client-urls "http://127.0.0.1:${ETCD_CLIENT[n]}" \
    --advertise-client-urls "http://127.0.0.1:${ETCD_CLIENT[n]}" \
    --listen-peer-urls "http://127.0.0.1:${ETCD_PEER[n]}" \
    --initial-advertise-peer-urls "http://127.0.0.1:${ETCD_PEER[n]}" \
    --initial-cluster "$initial" --initial-cluster-state new \
    --initial-cluster-token "$ETCD_TOKEN" \
    --heartbeat-interval 200 --election-timeout 2000 \
    --enable-v2=true \
    --logger zap --log-outputs stderr
}

etcd_member_healthy() {
  ETCDCTL_API=3 etcdctl --endpoints="http://127.0.0.1:${ETCD_CLIENT[$1]}" --dial-timeout=1s \
    --command-timeout=2s endpoint health >/dev/null 2>&1
}

# ---- PostgreSQL nodes under Patroni

write_patroni_yml() {
  local n=$1 i
  {
    cat <<EOF
# Patroni of node$n (scripts/ha-cluster.sh)
scope: $scope
namespace: /service/
name: node$n
log:
  level: INFO
restapi:
  listen: 127.0.0.1:${REST[n]}
  connect_address: 127.0.0.1:${REST[n]}
# The v2 API: Patroni 3.0.2's etcd3 client renews an expired leader lease by writing the leader
# key unconditionally (fixed in Patroni 3.0.3, pull request 2689), so that a primary resumed after
# a SIGSTOP longer than ttl takes the lock back from the node promoted meanwhile, whose
# acknowledged commits pg_rewind then discards. The v2 client updates the key only while it still
# holds this node's name (compare-and-swap), and demotes otherwise.
etcd:
  hosts:
EOF
    for i in "${nodes[@]}"; do echo "    - 127.0.0.1:${ETCD_CLIENT[i]}"; done
    cat <<EOF
watchdog:
  mode: 'off'
bootstrap:
  # The cluster-wide settings, written to etcd by the node that bootstraps; patronictl edit-config
  # changes them on a running cluster.
  dcs:
    # Failover timings for tests. The leader lease lasts ttl seconds; Patroni's docs require
    # loop_wait + 2 * retry_timeout <= ttl (1 + 2*4 = 9 <= 10): a leader that cannot reach etcd
    # demotes itself before its lease can expire and another node take over. (Later Patroni
    # versions document 20 as ttl's minimum; 3.0.2 takes 10.)
    ttl: 10
    loop_wait: 1
    retry_timeout: 4
    # A replica more than 1 MiB of WAL behind is not promoted automatically.
    maximum_lag_on_failover: 1048576
    # A crashed primary is not restarted in place: its synchronous standby, which holds every
    # acknowledged commit, takes over at once (Patroni's default waits up to 300 s for the crash
    # recovery of the old primary).
    primary_start_timeout: 0
    # Commits wait until one standby has flushed them, and only that standby (listed in etcd's
    # /sync key) can be promoted automatically: no failover loses an acknowledged commit.
    synchronous_mode: true
    synchronous_node_count: 1
    # Strict: when no standby can confirm, commits wait (synchronous_standby_names = '*') instead
    # of being acknowledged from the primary alone. Without it Patroni empties
    # synchronous_standby_names whenever no standby is streaming, and also on every promotion until
    # a standby has reconnected to the new primary: for those seconds after each failover, and
    # whenever both standbys are down, commits are acknowledged with a single copy. With two
    # standbys one of them can almost always confirm, so strict costs nothing in the normal case
    # and only turns those windows into waits: durable before acknowledged, always.
    synchronous_mode_strict: true
    postgresql:
      use_pg_rewind: true
      use_slots: true
      # A node that can neither rewind nor follow is cloned again from the leader.
      remove_data_directory_on_rewind_failure: true
      remove_data_directory_on_diverged_timelines: true
      parameters:
        wal_level: replica
        hot_standby: 'on'
        wal_log_hints: 'on'
        synchronous_commit: 'on'
        max_connections: 200
        max_wal_senders: 10
        max_replication_slots: 10
        wal_keep_size: 64MB
        # A standby retries its connection to a new primary every second (5 s by default): the
        # sooner it streams, the sooner commits are confirmed again after a failover.
        wal_retrieve_retry_interval: 1s
        shared_buffers: 32MB
        fsync: 'on'
  initdb:
    - encoding: UTF8
    - locale: C.UTF-8
    - auth: trust
    - data-checksums
postgresql:
  listen: 127.0.0.1:${PG[n]}
  connect_address: 127.0.0.1:${PG[n]}
  data_dir: $dir/node$n/data
  bin_dir: $bin
  pgpass: $dir/node$n/pgpass
  # initdb -U payoutd: Patroni passes the superuser's name to initdb.
  authentication:
    superuser:
      username: payoutd
    replication:
      username: payoutd
    rewind:
      username: payoutd
  parameters:
    unix_socket_directories: '$dir/node$n'
  pg_hba:
    - local all all trust
    - host all all 127.0.0.1/32 trust
    - host replication all 127.0.0.1/32 trust
tags:
  nofailover: false
  noloadbalance: false
  clonefrom: false
  nosync: false
EOF
  } >"$dir/node$n/patroni.yml"
}

start_patroni() {
  launch "$dir/node$1/patroni.pid" "$dir/node$1/patroni.log" patroni "$dir/node$1/patroni.yml"
}

# rest N PATH: Patroni's REST answer of node N (its body; fails unless 200).
rest() {
  curl -sf --max-time 2 "http://127.0.0.1:${REST[$1]}$2"
}

stopped_node() {
  [[ -s $dir/stopped ]] && tr -dc 0-9 <"$dir/stopped"
}

# cluster_json: GET /cluster of the first node that answers (a stopped node never does).
cluster_json() {
  local n skip
  skip="$(stopped_node || true)"
  for n in "${nodes[@]}"; do
    [[ $n != "$skip" ]] || continue
    rest "$n" /cluster && return 0
  done
  return 1
}

# cluster_check WHAT [NAME]: reads /cluster on stdin. ready: a running leader, a running
# synchronous standby, and three running members on the leader's timeline. failover: a running
# leader and a running synchronous standby (listed in etcd's /sync key, the only node Patroni
# promotes). replica NAME: NAME runs as a replica on the leader's timeline (a demoted primary gets
# there after pg_rewind). sync: prints the running synchronous standby's name.
cluster_check() {
  python3 -c '
import json, sys
what = sys.argv[1]
members = json.load(sys.stdin).get("members", [])
running = [m for m in members if m.get("state") in ("running", "streaming")]
leaders = [m for m in running if m.get("role") in ("leader", "master", "primary")]
syncs = [m["name"] for m in running if m.get("role") == "sync_standby"]
timeline = leaders[0].get("timeline") if leaders else None
current = [m for m in running if m.get("timeline") == timeline]
if what == "ready":
    sys.exit(0 if leaders and syncs and len(current) == 3 else 1)
if what == "failover":
    sys.exit(0 if leaders and syncs else 1)
if what == "replica":
    name = sys.argv[2]
    sys.exit(0 if leaders and any(m["name"] == name for m in current if m not in leaders) else 1)
if what == "sync":
    if not syncs:
        sys.exit(1)
    print(syncs[0])
' "$@"
}

# leader_name: the holder of the leader key in etcd (node1, node2 or node3).
leader_name() {
  local name
  name="$(etcdctl_ get "/service/$scope/leader" 2>/dev/null | head -n 1)" || return 1
  [[ $name =~ ^node[0-9]+$ ]] || return 1
  echo "$name"
}

# ---- haproxy

write_haproxy_cfg() {
  local n
  {
    cat <<EOF
# haproxy of scripts/ha-cluster.sh: the write port goes to the node whose Patroni answers 200 to
# GET /primary (the holder of the leader lock); the read port to the replicas (GET /replica).
# A node is marked down after two failed checks a second apart, and its sessions are closed.
global
    log stdout format raw local0 info
    maxconn 2000

defaults
    mode tcp
    log global
    option tcplog
    option dontlognull
    timeout connect 2s
    timeout client 1h
    timeout server 1h
    timeout check 1s

frontend write
    bind 127.0.0.1:$HAPROXY_PORT
    default_backend primary

backend primary
    option httpchk GET /primary
    http-check expect status 200
    default-server inter 1s fall 2 rise 1 on-marked-down shutdown-sessions
EOF
    for n in "${nodes[@]}"; do echo "    server node$n 127.0.0.1:${PG[n]} check port ${REST[n]}"; done
    cat <<EOF

frontend read
    bind 127.0.0.1:$HAPROXY_READ_PORT
    default_backend replicas

backend replicas
    balance roundrobin
    option httpchk GET /replica
    http-check expect status 200
    default-server inter 1s fall 2 rise 1 on-marked-down shutdown-sessions
EOF
    for n in "${nodes[@]}"; do echo "    server node$n 127.0.0.1:${PG[n]} check port ${REST[n]}"; done
    cat <<EOF

listen stats
    bind 127.0.0.1:$HAPROXY_STATS_PORT
    mode http
    stats enable
    stats uri /
EOF
  } >"$dir/haproxy.cfg"
}

start_haproxy() {
  haproxy -c -q -f "$dir/haproxy.cfg" >>"$dir/haproxy.log" 2>&1 ||
    { tail_log "$dir/haproxy.log"; die "haproxy rejects $dir/haproxy.cfg"; }
  launch "$dir/haproxy.pid" "$dir/haproxy.log" haproxy -db -f "$dir/haproxy.cfg"
}

# haproxy_backend: "nodeN UP|DOWN" for each server of the write port's backend.
haproxy_backend() {
  curl -sf --max-time 2 "http://127.0.0.1:$HAPROXY_STATS_PORT/;csv" |
    awk -F, '$1 == "primary" && $2 != "BACKEND" && $2 != "FRONTEND" { print $2, $18 }'
}

# ---- SQL

# write_check: a commit through haproxy. txid_current() gives the transaction an id, so its commit
# waits for the synchronous standby: success means a primary that can acknowledge writes. Prints
# the port of the node that answered.
write_check() {
  timeout 6 "$bin/psql" -X -A -t -q -v ON_ERROR_STOP=1 \
    "postgresql://payoutd@127.0.0.1:$HAPROXY_PORT/postgres?connect_timeout=3" \
    -c 'SELECT inet_server_port() FROM (SELECT txid_current()) AS t' 2>/dev/null
}

# streaming N: 1 if node N streams from the primary behind haproxy.
streaming() {
  timeout 6 "$bin/psql" -X -A -t -q -v ON_ERROR_STOP=1 \
    "postgresql://payoutd@127.0.0.1:$HAPROXY_PORT/postgres?connect_timeout=3" \
    -c "SELECT count(*) FROM pg_stat_replication
        WHERE application_name = 'node$1' AND state = 'streaming'" 2>/dev/null
}

node_of_port() {
  local n
  for n in "${nodes[@]}"; do
    if [[ ${PG[n]} == "$1" ]]; then echo "node$n"; return 0; fi
  done
  return 1
}

# wait_leader SECONDS: until a commit through haproxy succeeds; prints the node that took it.
wait_leader() {
  local deadline=$((SECONDS + $1)) port
  while ((SECONDS < deadline)); do
    if port="$(write_check)" && [[ -n $port ]]; then
      node_of_port "$port"
      return 0
    fi
    sleep 0.5
  done
  return 1
}

# wait_failover_ready: until the leader has a running synchronous standby (60 s at most). Right
# after a failover the new primary has none until a standby has connected and Patroni has
# registered it (a few seconds); a primary lost before that is not replaced, whatever the wait.
wait_failover_ready() {
  local deadline=$((SECONDS + 60))
  until cluster_json 2>/dev/null | cluster_check failover; do
    ((SECONDS < deadline)) || die "no synchronous standby to fail over to: $(cluster_json || true)"
    sleep 0.5
  done
}

# ---- stopping

# dir_re: DIR as an extended regular expression.
dir_re() {
  printf '%s' "$dir" | sed 's/[.+]/\\&/g'
}

# kill_all: every process of DIR, whatever state the cluster is in.
kill_all() {
  local n pid pids=() i
  # A stopped node cannot act on SIGTERM or SIGQUIT: resume it first.
  if [[ -s $dir/stopped.pids ]]; then
    # shellcheck disable=SC2046
    kill -CONT $(cat "$dir/stopped.pids") 2>/dev/null || true
  fi
  if pid="$(haproxy_pid)"; then kill -TERM "$pid" 2>/dev/null || true; fi
  # Patroni first, so that none restarts or promotes a PostgreSQL while the others go; then an
  # immediate shutdown of each postmaster (SIGQUIT), which removes its shared memory.
  for n in "${nodes[@]}"; do
    if pid="$(patroni_pid "$n")"; then
      # shellcheck disable=SC2046
      kill -KILL $(session_pids "$pid") 2>/dev/null || true
    fi
  done
  # The postmasters of the pid files, and any postgres -D of DIR whose pid file is not written yet
  # (a node Patroni was starting).
  for pid in $( { for n in "${nodes[@]}"; do postmaster_pid "$n" || true; done
                  pgrep -f -- "postgres (--single )?-D $(dir_re)/node[0-9]+/data" || true; } | sort -u); do
    mapfile -t -O "${#pids[@]}" pids < <(ps -o pid= --ppid "$pid" | tr -d ' ')
    kill -CONT "$pid" 2>/dev/null || true
    kill -QUIT "$pid" 2>/dev/null || true
  done
  # etcd's data is thrown away: SIGKILL (on SIGTERM the last member waits for peers that are gone).
  for n in "${nodes[@]}"; do
    if pid="$(etcd_pid "$n")"; then kill -KILL "$pid" 2>/dev/null || true; fi
  done
  for i in $(seq 100); do
    [[ -z "$(leftovers "${pids[@]}")" ]] && return 0
    sleep 0.1
  done
  # shellcheck disable=SC2046
  kill -KILL $(leftovers "${pids[@]}") 2>/dev/null || true
  for i in $(seq 50); do
    [[ -z "$(leftovers "${pids[@]}")" ]] && return 0
    sleep 0.1
  done
  return 1
}

# release_shm: the System V shared memory segment a SIGKILLed postmaster leaves (kill-primary-pg,
# or a node killed before Patroni restarted it), named on line 7 of its postmaster.pid, once
# nothing is attached to it. A postmaster that exits by itself removes its own.
release_shm() {
  local pidfile key id
  for pidfile in "$dir"/node*/data/postmaster.pid; do
    [[ -f $pidfile ]] || continue
    read -r key id < <(sed -n 7p "$pidfile") || continue
    [[ $key =~ ^[0-9]+$ && $id =~ ^[0-9]+$ ]] || continue
    if ipcs -m | awk -v key="$(printf '0x%08x' "$key")" -v id="$id" \
         '$1 == key && $2 == id && $6 == 0 { found = 1 } END { exit !found }'; then
      ipcrm -m "$id" 2>/dev/null || true
    fi
  done
}

# leftovers [PID...]: live processes of DIR: those whose command line names a configuration or
# data dir of DIR (Patroni, postgres -D, pg_basebackup, pg_rewind, etcd, haproxy), and the given
# ones (PostgreSQL's children, whose titles name no file). Never this script or its callers.
leftovers() {
  local re ancestors="" p=$$
  re="$(dir_re)"
  while [[ -n $p && $p != 0 && $p != 1 ]]; do
    ancestors+=" $p "
    p="$(ps -o ppid= -p "$p" 2>/dev/null | tr -dc 0-9)"
  done
  {
    pgrep -f -- "$re/node[0-9]+/(patroni\\.yml|data)|$re/etcd[0-9]+/data|$re/haproxy\\.cfg" || true
    printf '%s\n' "$@"
  } | sort -u | while read -r p; do
    [[ -n $p && $ancestors != *" $p "* ]] || continue
    alive "$p" && echo "$p"
  done
}

# ---- commands

cmd=${1:-}
dir=${2:-}
[[ -n $cmd && -n $dir ]] ||
  die "usage: $0 COMMAND DIR [ARG] (commands: start stop status url leader wait-leader" \
    "wait-ready kill-primary-pg stop-primary cont-primary switchover kill-etcd start-etcd" \
    "restart-haproxy)"
shift 2
dir="$(realpath -m -- "$dir")"
# Plain paths only: DIR goes into YAML, haproxy's configuration and process patterns, and a Unix
# socket path (DIR/nodeN/.s.PGSQL.PORT) has at most 107 bytes.
[[ $dir =~ ^[A-Za-z0-9._/+-]+$ ]] || die "DIR must be a plain path (letters, digits, . _ / + -): $dir"
((${#dir} <= 80)) || die "DIR is too long for PostgreSQL's Unix sockets (80 characters at most): $dir"
bin="$(pg_bindir)"

case "$cmd" in
  start)
    need patroni patronictl etcd etcdctl haproxy curl
    [[ ! -e $dir/ports ]] || die "$dir holds a cluster already (scripts/ha-cluster.sh stop $dir)"
    started=$SECONDS
    deadline=$((SECONDS + 120))
    mkdir -p "$dir"
    for n in "${nodes[@]}"; do
      mkdir -p "$dir/node$n" "$dir/etcd$n"
      pick_port "ETCD_CLIENT[$n]"
      pick_port "ETCD_PEER[$n]"
      pick_port "PG[$n]"
      pick_port "REST[$n]"
    done
    pick_port HAPROXY_PORT
    pick_port HAPROXY_READ_PORT
    pick_port HAPROXY_STATS_PORT
    ETCD_TOKEN="payoutd-ha-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
    {
      echo "# ports of the cluster in $dir (scripts/ha-cluster.sh)"
      for n in "${nodes[@]}"; do
        echo "ETCD${n}_CLIENT_PORT=${ETCD_CLIENT[n]}"
        echo "ETCD${n}_PEER_PORT=${ETCD_PEER[n]}"
        echo "PG${n}_PORT=${PG[n]}"
        echo "PATRONI${n}_PORT=${REST[n]}"
      done
      echo "HAPROXY_PORT=$HAPROXY_PORT"
      echo "HAPROXY_READ_PORT=$HAPROXY_READ_PORT"
      echo "HAPROXY_STATS_PORT=$HAPROXY_STATS_PORT"
      echo "ETCD_TOKEN=$ETCD_TOKEN"
    } >"$dir/ports"
    for n in "${nodes[@]}"; do write_patroni_yml "$n"; done
    write_haproxy_cfg
    if [[ $(id -u) -eq 0 ]]; then chown -R postgres: "$dir"; fi

    # fail MESSAGE LOG...: the logs' last lines, every process killed, DIR kept for a look.
    fail() {
      tail_log "${@:2}"
      kill_all || true
      die "$1 ($dir is kept for its logs: scripts/ha-cluster.sh stop $dir removes it)"
    }

    for n in "${nodes[@]}"; do start_etcd "$n"; done
    until etcd_member_healthy 1 && etcd_member_healthy 2 && etcd_member_healthy 3; do
      ((SECONDS < deadline)) || fail "etcd did not become healthy" "$dir"/etcd?/etcd.log
      sleep 0.5
    done
    # node1 bootstraps (initdb) and leads; then the others clone it with pg_basebackup.
    start_patroni 1
    until rest 1 /primary >/dev/null; do
      ((SECONDS < deadline)) || fail "node1 did not bootstrap a primary" "$dir/node1/patroni.log"
      patroni_pid 1 >/dev/null || fail "Patroni of node1 exited" "$dir/node1/patroni.log"
      sleep 0.5
    done
    start_patroni 2
    start_patroni 3
    start_haproxy
    until cluster_json 2>/dev/null | cluster_check ready; do
      ((SECONDS < deadline)) ||
        fail "no leader with a synchronous standby and three running members" "$dir"/node?/patroni.log
      for n in "${nodes[@]}"; do
        patroni_pid "$n" >/dev/null || fail "Patroni of node$n exited" "$dir/node$n/patroni.log"
      done
      sleep 0.5
    done
    wait_leader $((deadline > SECONDS ? deadline - SECONDS : 1)) >/dev/null ||
      fail "no commit through haproxy on port $HAPROXY_PORT" "$dir/haproxy.log" "$dir"/node?/patroni.log
    echo "postgresql://payoutd@127.0.0.1:$HAPROXY_PORT/postgres" >"$dir/url"
    hosts="127.0.0.1:${PG[1]},127.0.0.1:${PG[2]},127.0.0.1:${PG[3]}"
    echo "postgresql://payoutd@$hosts/postgres?target_session_attrs=read-write" >"$dir/multihost-url"
    note "started in $((SECONDS - started)) s; leader $(leader_name || echo '?')"
    cat "$dir/url"
    ;;

  stop)
    if [[ -e $dir ]]; then
      if [[ -f $dir/ports ]]; then load_ports; fi
      kill_all || true
    fi
    left="$(leftovers)"
    if [[ -n $left ]]; then
      ps -o pid=,args= -p "$(paste -sd, <<<"$left")" >&2 || true
      die "processes of $dir outlived SIGKILL"
    fi
    [[ ! -d $dir ]] || release_shm
    rm -rf "$dir"
    ;;

  status)
    load_ports
    patronictl -c "$dir/node1/patroni.yml" list || true
    [[ ! -s $dir/stopped ]] || echo "stopped (SIGSTOP): node$(stopped_node)"
    echo "haproxy write port $HAPROXY_PORT:"
    haproxy_backend | sed 's/^/  /' || echo "  (haproxy does not answer)"
    ;;

  url)
    cat "$dir/url"
    ;;

  leader)
    load_ports
    leader_name || die "no leader"
    ;;

  wait-leader)
    load_ports
    wait_leader "${1:-60}" || die "no writable leader through haproxy after ${1:-60} s"
    ;;

  wait-ready)
    load_ports
    deadline=$((SECONDS + ${1:-60}))
    until cluster_json 2>/dev/null | cluster_check ready; do
      ((SECONDS < deadline)) ||
        die "no leader with a synchronous standby and three running members after ${1:-60} s"
      sleep 0.5
    done
    wait_leader $((deadline > SECONDS ? deadline - SECONDS : 1)) ||
      die "no writable leader through haproxy after ${1:-60} s"
    ;;

  kill-primary-pg)
    load_ports
    wait_failover_ready
    name="$(leader_name)" || die "no leader"
    n=${name#node}
    pid="$(postmaster_pid "$n")" || die "no postmaster of $name"
    kill -KILL "$pid"
    while alive "$pid"; do sleep 0.1; done
    echo "$name"
    ;;

  stop-primary)
    load_ports
    [[ ! -s $dir/stopped ]] || die "node$(stopped_node) is stopped already (cont-primary first)"
    wait_failover_ready
    name="$(leader_name)" || die "no leader"
    n=${name#node}
    patroni="$(patroni_pid "$n")" || die "no Patroni of $name"
    # Patroni first, so that it sees nothing of the rest; then the postmaster, so that it forks no
    # child while its children are being stopped.
    # shellcheck disable=SC2046
    kill -STOP $(session_pids "$patroni")
    if pid="$(postmaster_pid "$n")"; then kill -STOP "$pid"; fi
    procs="$(node_pids "$n" | sort -un | tr '\n' ' ')"
    # shellcheck disable=SC2086
    kill -STOP $procs
    echo "$procs" >"$dir/stopped.pids"
    echo "$name" >"$dir/stopped"
    echo "$name"
    ;;

  cont-primary)
    load_ports
    n="$(stopped_node)" || die "no node stopped in $dir"
    procs="$( (cat "$dir/stopped.pids"; node_pids "$n") | tr ' ' '\n' | sort -un | tr '\n' ' ')"
    # shellcheck disable=SC2086
    kill -CONT $procs 2>/dev/null || true
    rm -f "$dir/stopped" "$dir/stopped.pids"
    # Done when the node runs as a replica on the leader's timeline and streams from it (after a
    # failover: demoted, rewound, restarted), or, if it kept the leader lock, when it takes a commit.
    deadline=$((SECONDS + 90))
    until cluster_json 2>/dev/null | cluster_check replica "node$n" &&
          [[ $(streaming "$n" || true) == 1 ]]; do
      if [[ $(leader_name || true) == "node$n" && $(write_check || true) == "${PG[n]}" ]]; then
        note "node$n kept the leader lock"
        break
      fi
      ((SECONDS < deadline)) ||
        { tail_log "$dir/node$n/patroni.log"; die "node$n does not stream from the leader"; }
      sleep 0.5
    done
    echo "node$n"
    ;;

  switchover)
    load_ports
    wait_failover_ready
    name="$(leader_name)" || die "no leader"
    n=${name#node}
    candidate="$(rest "$n" /cluster | cluster_check sync)" || die "no synchronous standby to switch over to"
    answer="$(curl -s --max-time 90 -X POST -H 'Content-Type: application/json' \
      -d "{\"leader\": \"$name\", \"candidate\": \"$candidate\"}" \
      -w '\n%{http_code}' "http://127.0.0.1:${REST[n]}/switchover")" || die "switchover: $answer"
    [[ $(tail -n 1 <<<"$answer") == 200 ]] || die "switchover: $(head -n -1 <<<"$answer")"
    deadline=$((SECONDS + 60))
    until [[ $(wait_leader 5 || true) == "$candidate" ]]; do
      ((SECONDS < deadline)) || die "$candidate took no commit through haproxy after the switchover"
    done
    echo "$candidate"
    ;;

  kill-etcd)
    load_ports
    n=${1:-}
    [[ $n =~ ^[123]$ ]] || die "usage: $0 kill-etcd DIR 1|2|3"
    pid="$(etcd_pid "$n")" || die "etcd$n is not running"
    kill -KILL "$pid"
    while alive "$pid"; do sleep 0.1; done
    ;;

  start-etcd)
    load_ports
    n=${1:-}
    [[ $n =~ ^[123]$ ]] || die "usage: $0 start-etcd DIR 1|2|3"
    ! etcd_pid "$n" >/dev/null || die "etcd$n is running already"
    start_etcd "$n"
    deadline=$((SECONDS + 30))
    until etcd_member_healthy "$n"; do
      ((SECONDS < deadline)) || { tail_log "$dir/etcd$n/etcd.log"; die "etcd$n did not become healthy"; }
      sleep 0.2
    done
    ;;

  restart-haproxy)
    load_ports
    if pid="$(haproxy_pid)"; then
      kill -TERM "$pid"
      while alive "$pid"; do sleep 0.1; done
    fi
    start_haproxy
    deadline=$((SECONDS + 30))
    until haproxy_backend | grep -q ' UP$'; do
      ((SECONDS < deadline)) || { tail_log "$dir/haproxy.log"; die "haproxy marks no node up"; }
      sleep 0.2
    done
    ;;

  *)
    die "unknown command $cmd"
    ;;
esac
