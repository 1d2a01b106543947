"""The HTTP server's limits: the descriptor limit and server.connections_max (idle connections beyond
it are closed to make room, a process out of descriptors neither spins nor floods its log), and a
deadline on every read and write (a client that stops reading, a request trickled byte by byte),
none of which cuts off a request the engine is still answering."""
import os
import resource
import select
import socket
import struct
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (BEREKE_PASSWORD, BEREKE_USER, CARD_OK, Api, Server, ServerTestCase,  # noqa: E402
                     binary_path, config_text, dumps, raw_exchange, request_head, unique)

IDLE_CONNECTIONS = 150
# Over this many seconds of CPU in MEASURE_S seconds, the server is busy with nothing: the accept
# loop spinning on "too many open files" takes a whole core.
MEASURE_S = 3.0
CPU_IDLE_MAX_S = 0.6
LOG_BYTES_MAX = 64 * 1024
TCP_CLOSE = 7  # tcpi_state after a reset (linux/tcp_states.h)


def descriptor_limit(n):
    """A preexec_fn: the child's descriptor limit, soft and hard, is n."""
    def apply():
        resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))
    return apply


def idle_connections(port, n):
    """n connections that send nothing."""
    conns = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        conns.append(s)
    return conns


def close_all(conns):
    for s in conns:
        s.close()


def what_each_got(conns):
    """For each idle connection: b"" (closed by the server), bytes (an answer, then closed or not),
    or None (still open, nothing received)."""
    got = []
    for s in conns:
        s.setblocking(False)
        try:
            data = s.recv(4096)
        except BlockingIOError:
            data = None
        except ConnectionResetError:
            data = b""
        got.append(data)
    return got


def server_log(server):
    with open(server.stderr_path(), encoding="utf-8", errors="replace") as f:
        return f.read()


def healthz(port, timeout=10):
    """The status of GET /healthz on a new connection; None when nothing came within `timeout`."""
    try:
        return Api(port, keep_alive=False, timeout=timeout).request("GET", "/healthz", auth=None).status
    except OSError:
        return None


class DescriptorLimitTest(unittest.TestCase):

    def start(self, **kw):
        server = Server(**kw)
        self.addCleanup(server.close)
        server.start()
        return server

    def assert_quiet(self, server, what):
        """Over MEASURE_S seconds the server uses little CPU, and its log stays small."""
        before = server.cpu_seconds()
        time.sleep(MEASURE_S)
        used = server.cpu_seconds() - before
        self.assertLess(used, CPU_IDLE_MAX_S, f"{what}: {used:.2f} s of CPU in {MEASURE_S} s\n"
                                              f"{server.log_tail(5)}")
        size = os.path.getsize(server.stderr_path())
        self.assertLess(size, LOG_BYTES_MAX, f"{what}: {size} bytes of log\n{server.log_tail(5)}")

    def test_idle_connections_beyond_the_descriptor_limit_make_room(self):
        # The case: `ulimit -n 100` and 150 idle connections. The server derives
        # connections_max from the limit; a connection beyond it closes the longest-idle one.
        server = self.start(preexec_fn=descriptor_limit(100))
        conns = idle_connections(server.port, IDLE_CONNECTIONS)
        self.addCleanup(close_all, conns)
        time.sleep(1)
        self.assert_quiet(server, f"{IDLE_CONNECTIONS} idle connections, ulimit -n 100")
        self.assertLess(server.open_descriptors(), 100)
        self.assertEqual(healthz(server.port), 200, server.log_tail(10))
        got = what_each_got(conns)
        self.assertEqual(got[-1], None, "the newest idle connection is kept")
        self.assertEqual(got[0], b"", "the oldest idle connection was closed to make room")
        self.assertNotIn("accept failed", server_log(server))
        close_all(conns)
        server.stop()

    def test_descriptors_running_out_after_start(self):
        # The limit drops below what connections_max assumed (another part of the process took
        # the descriptors): accepting fails with EMFILE. The server answers a waiting connection
        # 503 through its spare descriptor, closes the longest-idle one, pauses accepting, and
        # logs one line a second at most.
        server = self.start()
        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.prlimit(server.proc.pid, resource.RLIMIT_NOFILE, (server.open_descriptors() + 30, hard))
        conns = idle_connections(server.port, IDLE_CONNECTIONS)
        self.addCleanup(close_all, conns)
        time.sleep(1)
        self.assert_quiet(server, f"{IDLE_CONNECTIONS} idle connections beyond the descriptor limit")
        statuses = []
        deadline = time.monotonic() + 30
        while 200 not in statuses and time.monotonic() < deadline:
            statuses.append(healthz(server.port, timeout=5))
        self.assertIn(200, statuses, server.log_tail(10))
        self.assertLessEqual(set(statuses), {200, 503, None}, statuses)
        got = what_each_got(conns)
        self.assertTrue(any(g and g.startswith(b"HTTP/1.1 503 ") for g in got),
                        "no waiting connection was answered 503 through the spare descriptor")
        self.assertIn("accept failed: Too many open files", server_log(server))
        close_all(conns)
        server.stop()

    def test_at_the_cap_with_no_idle_connection_a_new_one_gets_503(self):
        # Every connection is busy reading a request: none can be closed to make room.
        server = self.start(config_replace={"# connections_max = 1000 ": "connections_max = 4 "})
        busy = idle_connections(server.port, 4)
        self.addCleanup(close_all, busy)
        for s in busy:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        time.sleep(0.5)
        r = raw_exchange(server.port, request_head("GET", "/healthz", {}), timeout=10)
        self.assertIsNotNone(r, "no answer")
        self.assertEqual(r.status, 503, r.raw)
        self.assertEqual(r.headers.get("retry-after"), "1")
        self.assertEqual(r.headers.get("connection"), "close")
        busy[0].sendall(b"\r\n")  # the busy ones are still served
        self.assertTrue(busy[0].recv(4096).startswith(b"HTTP/1.1 200 OK\r\n"))
        close_all(busy)
        deadline = time.monotonic() + 10
        while healthz(server.port) != 200 and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertEqual(healthz(server.port), 200, "no room once the busy connections closed")
        server.stop()

    def test_connections_max_above_the_descriptor_limit_is_refused_at_start(self):
        tmp = Server()  # only for its temporary directory
        self.addCleanup(tmp.close)
        for connections_max, refused in ((1000, True), (100, False)):
            with self.subTest(connections_max=connections_max):
                path = os.path.join(tmp.tmp, f"connections-{connections_max}.toml")
                with open(path, "w", encoding="utf-8") as f:
                    f.write(config_text({"# connections_max = 1000 ": f"connections_max = {connections_max} "}))
                proc = subprocess.Popen(
                    [str(binary_path()), "serve", "--config", path, "--listen", "127.0.0.1:0",
                     "--data-dir", os.path.join(tmp.tmp, f"data-{connections_max}")],
                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                    preexec_fn=descriptor_limit(256))
                if refused:
                    try:
                        out, err = proc.communicate(timeout=15)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.communicate()
                        self.fail("connections_max = 1000 under ulimit -n 256 was not refused")
                    self.assertNotEqual(proc.returncode, 0)
                    self.assertNotIn(b"listening on", out)
                    self.assertIn("server.connections_max", err.decode())
                    self.assertIn("ulimit -n", err.decode())
                    continue
                line = proc.stdout.readline()
                proc.terminate()
                proc.communicate(timeout=30)
                self.assertIn(b"listening on", line)
                self.assertEqual(proc.returncode, 0)


class DeadlineTest(ServerTestCase):
    server_options = {"config_replace": {"read_timeout_s = 10 ": "read_timeout_s = 2 ",
                                         "write_timeout_s = 60 ": "write_timeout_s = 1 ",
                                         # a card payout waits this long for the network
                                         "latency_ms = 100 ": "latency_ms = 2500 "}}

    def test_a_client_that_stops_reading_is_reset_after_the_write_deadline(self):
        # Pipelined requests for 8 MB of answers (more than the kernel's socket buffers hold)
        # that the client never reads: the server's write blocks, and the write deadline resets
        # the connection (freeing the answer and the kernel's buffers).
        requests = b"GET /static/payment.js HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" * 2000
        clients = []
        for _ in range(5):
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.connect(("127.0.0.1", self.server.port))
            self.addCleanup(s.close)
            send_until_stuck(s, requests)
            clients.append(s)
        deadline = time.monotonic() + 15
        states = []
        while time.monotonic() < deadline:
            states = [tcp_state(s) for s in clients]
            if all(state == TCP_CLOSE for state in states):
                break
            time.sleep(0.2)
        self.assertEqual(states, [TCP_CLOSE] * len(clients),
                         "connections that stopped reading are open 15 s after a 1 s write deadline")
        self.assertEqual(healthz(self.server.port), 200)

    def test_a_request_trickled_byte_by_byte_is_cut_off(self):
        # Slowloris: a request that keeps arriving, a byte at a time, never ends. The read
        # deadline (2 s from its first byte) closes it, though the idle timeout is 60 s.
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=5) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            started = time.monotonic()
            closed_after = None
            while time.monotonic() - started < 10:
                time.sleep(0.25)
                try:
                    s.sendall(b"a")
                    s.setblocking(False)
                    try:
                        if s.recv(4096) == b"":
                            closed_after = time.monotonic() - started
                            break
                    except BlockingIOError:
                        pass
                    finally:
                        s.setblocking(True)
                except OSError:  # reset
                    closed_after = time.monotonic() - started
                    break
            self.assertIsNotNone(closed_after, "a request trickled for 10 s was not cut off (read_timeout_s = 2)")

    def test_a_slow_but_whole_request_and_a_slow_engine_are_answered(self):
        # A request whose head arrives in pieces within the read deadline is served; a card
        # payout that waits 2.5 s for the network inside the handler is not cut by the 1 s
        # write deadline nor the 2 s read deadline.
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as s:
            for piece in (b"GET /healthz HTTP/1.1\r\n", b"Host: 127.0.0.1\r\n", b"\r\n"):
                s.sendall(piece)
                time.sleep(0.5)
            self.assertTrue(s.recv(4096).startswith(b"HTTP/1.1 200 "))
        body = dumps({"userName": BEREKE_USER, "password": BEREKE_PASSWORD, "orderNumber": unique("slow"),
                      "amount": 1000, "currency": "398", "target": {"card": {"pan": CARD_OK}}}).encode()
        started = time.monotonic()
        r = Api(self.server, keep_alive=False, timeout=30).request(
            "POST", "/payouts/api/v2/performPayout.do", raw_body=body, auth=None)
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual(r.json["errorCode"], "0", r.raw)
        self.assertGreater(time.monotonic() - started, 2.5, "the rail's latency did not apply")


def send_until_stuck(s, data, stuck_s=2.0, deadline_s=60.0):
    """Sends `data` without blocking until it is all sent or the server has taken nothing for
    `stuck_s` seconds (it stopped reading: its answers are stuck)."""
    s.setblocking(False)
    deadline = time.monotonic() + deadline_s
    while data and time.monotonic() < deadline:
        _, writable, _ = select.select([], [s], [], stuck_s)
        if not writable:
            return
        try:
            data = data[s.send(data):]
        except BlockingIOError:
            continue


def tcp_state(s):
    """The socket's TCP state (struct tcp_info's first byte)."""
    return struct.unpack("B", s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1))[0]


if __name__ == "__main__":
    unittest.main()
