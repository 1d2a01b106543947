"""A real haproxy (Debian's package) in front of payoutd, for the tests of client addresses behind
proxies (docs/proxies.md).

Each Haproxy runs with its own config in its own temporary directory, its frontends on free
loopback ports, in the foreground as the test's child: close() stops it, and it is killed if the
test process dies first (PR_SET_PDEATHSIG). It connects to payoutd from 127.0.0.1, the address
the tests trust as their proxy; a client of it picks its own address in 127.0.0.0/8 (all of it is
loopback) with `source`, so haproxy sees, and reports, a client other than itself.
"""
import ctypes
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from harness import HarnessError, free_port

START_TIMEOUT = 15.0
PR_SET_PDEATHSIG = 1


def _die_with_parent():
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def haproxy_binary():
    path = shutil.which("haproxy") or "/usr/sbin/haproxy"
    if not Path(path).is_file():
        raise HarnessError("haproxy not found: scripts/setup.sh installs Debian's haproxy")
    return path


class Frontend:
    """One frontend and its backend: `mode` "tcp" or "http"; `server_options` what haproxy's
    `server` line adds (send-proxy, send-proxy-v2); `forwardfor`: haproxy appends the client's
    address to X-Forwarded-For (http mode)."""

    def __init__(self, name, backend_port, mode="tcp", server_options="", forwardfor=False):
        self.name = name
        self.backend_port = backend_port
        self.mode = mode
        self.server_options = server_options
        self.forwardfor = forwardfor
        self.port = None

    def config(self):
        lines = [f"frontend fe_{self.name}",
                 f"    mode {self.mode}",
                 f"    bind 127.0.0.1:{self.port}",
                 f"    default_backend be_{self.name}",
                 f"backend be_{self.name}",
                 f"    mode {self.mode}",
                 "    source 127.0.0.1",
                 f"    server payoutd 127.0.0.1:{self.backend_port} {self.server_options}".rstrip()]
        if self.forwardfor:
            lines.insert(lines.index(f"backend be_{self.name}") + 2, "    option forwardfor")
        return "\n".join(lines) + "\n"


class Haproxy:
    def __init__(self, frontends):
        self.frontends = {f.name: f for f in frontends}
        self.dir = tempfile.mkdtemp(prefix="payoutd-haproxy-")
        self.proc = None
        try:
            for f in frontends:
                f.port = free_port()
            self.config_path = Path(self.dir) / "haproxy.cfg"
            self.config_path.write_text(self.config(), encoding="utf-8")
            self.start()
        except BaseException:
            self.close()
            raise

    def config(self):
        head = ("global\n    maxconn 256\n"
                "defaults\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n")
        return head + "".join(f.config() for f in self.frontends.values())

    def port(self, name):
        return self.frontends[name].port

    def start(self):
        check = subprocess.run([haproxy_binary(), "-c", "-f", str(self.config_path)],
                               stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
        if check.returncode != 0:
            raise HarnessError(f"haproxy refused its config:\n{check.stdout}{check.stderr}\n{self.config()}")
        self.log = open(Path(self.dir) / "haproxy.log", "wb")
        self.proc = subprocess.Popen([haproxy_binary(), "-db", "-f", str(self.config_path)],
                                     stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT,
                                     cwd=self.dir, preexec_fn=_die_with_parent)
        deadline = time.monotonic() + START_TIMEOUT
        for f in self.frontends.values():
            while not self._accepts(f.port):
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise HarnessError(f"haproxy did not listen on {f.port}:\n{self.log_text()}")
                time.sleep(0.05)

    @staticmethod
    def _accepts(port):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            return False

    def log_text(self):
        try:
            return (Path(self.dir) / "haproxy.log").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def close(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if getattr(self, "log", None):
            self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
