#!/usr/bin/env python3
"""A free loopback TCP port for a server that is told its port before it starts (PostgreSQL of
scripts/pg-cluster.sh, a payoutd started with --listen host:port), printed, or free_port() for
Python.

Taken below the kernel's ephemeral range (net.ipv4.ip_local_port_range), where neither bind(0)
nor an outgoing connection ever lands: a port from that range, found free and then closed, can be
handed to another process's connection before the server binds it, and a server that restarts on
its port (pg-cluster.sh restart, halt/resume) can lose it the same way while it is down. Below
the range only another caller of this picks ports, at random among thousands, and checks them."""
import random
import socket

RANGE_START = 10000  # above the ports services are registered on in /etc/services


def _ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range", encoding="ascii") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _bindable(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def free_port():
    low = _ephemeral_low()
    if low - RANGE_START >= 1000:
        for _ in range(200):
            port = random.randrange(RANGE_START, low)
            if _bindable(port):
                return port
    with socket.socket() as s:  # a machine whose ephemeral range leaves no room below it
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


if __name__ == "__main__":
    print(free_port())
