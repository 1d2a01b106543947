"""End-to-end harness for payoutd: runs the real binary, talks HTTP to it, reads its state.

Standard library only. Every Server lives in its own temporary directory and listens on a port
chosen by the kernel (port 0), so test files never share state.

Environment:
  PAYOUTD_BIN      the binary (default <repo>/build/payoutd)
  PAYOUTD_CONFIG   the config (default <repo>/config/sandbox.toml)
  PAYOUTD_E2E_KEEP set to 1 to keep the temporary data directories
  PAYOUTD_LOG_FORMAT  json: every server logs JSON lines, and each line is checked (log_scan.py)
  PAYOUTD_LOG_ACCESS  the servers' access lines (default here: true, whatever the config says)
  PAYOUTD_E2E_BACKEND  sqlite (default) or postgres: the store of every Server that names none
  PAYOUTD_TEST_POSTGRES_DIR  a running throwaway cluster (scripts/pg-cluster.sh) to create
                   databases on; without it the first PostgreSQL test starts one of its own
"""
import atexit
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse
from collections import Counter, namedtuple
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python < 3.11: config introspection is best effort only
    tomllib = None

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "scripts"))
from free_port import free_port  # noqa: E402,F401  (a port given to a server before it starts)
import log_scan  # noqa: E402
import openapi_check  # noqa: E402  (every answer is checked against docs/openapi)

PRODUCT = "best-partner"
PARTNER_TOKEN = "sandbox-best-partner-token"
ADMIN_TOKEN = "sandbox-admin-token"

BONUS = "bonus-funder"          # RUB 1 000 000 000.00 on a fresh sandbox
CASHBACK = "cashback-funder"    # RUB 1 000.00 on a fresh sandbox
FUNDERS = (BONUS, CASHBACK)
SANDBOX_FUNDER_BALANCE = {BONUS: Decimal("1000000000.00"), CASHBACK: Decimal("1000.00")}

# clientId -> accountId (docs: /work/shared/spec/sandbox.md)
CLIENTS = {
    "sjrpngawef8770553957": "bwfefjwtfl3624831470",
    "fciscvrywl9511144790": "jctfeudxbv9350100550",
    "dvqpsshreq7474202590": "colwlksyqr4407625231",
    "mxmyrdxxxx8585680090": "xxxxxxzsp7009773700",
    "mqyixkhjsr0446961069": "dvdsaqznqh8727979115",
}
PROCESSING_CLIENT = "sandbox-processing-client"
PROCESSING_ACCOUNT = "sandbox-processing-account"
BLOCKED_CLIENT = "sandbox-blocked-client"
BLOCKED_ACCOUNT = "sandbox-blocked-account"
ALL_CLIENTS = dict(CLIENTS, **{PROCESSING_CLIENT: PROCESSING_ACCOUNT,
                               BLOCKED_CLIENT: BLOCKED_ACCOUNT})

# Bereke partner of the sandbox (shared/spec/sandbox.md).
BEREKE_USER = "payout_api_username"
BEREKE_PASSWORD = "payout_api_password"
TRANSIT_BALANCE = 100_000_000                      # KZT minor units
CORPORATE_BINDING = "4908a3c3-6c7c-75d3-9707-66ab06c12040"
CORPORATE_BALANCE = 49_925_200
RECIPIENT_BINDING = "83309cde-a56d-7409-88dd-c02e00ab3428"
RECIPIENT_CLIENT = "12345abc-d67e-8901-23fg-h45i67jk8901"
# Test cards (shared/spec/sandbox.md).
CARD_OK = "4111111111111111"
CARD_OK_MC = "5555555555554444"
CARD_DECLINED = "4000000000000002"
CARD_SLOW_OK = "4000000000000119"
CARD_SLOW_DECLINED = "4000000000000341"
CARD_TIMEOUT = "4000000000000259"
CARD_CANADA = "4000000000000127"
CARD_UK = "4242424242424242"
CARD_UNKNOWN_BIN = "4999990000000007"
CARD_BAD_LUHN = "4111111111111112"
TEST_CARDS = (CARD_OK, CARD_OK_MC, CARD_DECLINED, CARD_SLOW_OK, CARD_SLOW_DECLINED, CARD_TIMEOUT,
              CARD_CANADA, CARD_UK, CARD_UNKNOWN_BIN, CARD_BAD_LUHN)

# ecommpay projects of the sandbox.
ECOMMPAY_PROJECT = 91348          # payouts enabled, loopback allowlisted
ECOMMPAY_DISABLED = 91349         # payouts not enabled: declined by callback (317)
ECOMMPAY_FOREIGN_ONLY = 91350     # allowlist 192.0.2.1/32 only: loopback callers get 403
ECOMMPAY_PERSON = 91351           # a person sends its payouts: MoneySend needs both parties (else 319)
ECOMMPAY_SECRETS = {p: f"sandbox-secret-{p}"
                    for p in (ECOMMPAY_PROJECT, ECOMMPAY_DISABLED, ECOMMPAY_FOREIGN_ONLY, ECOMMPAY_PERSON)}

# Outside the sandbox every secret the sandbox publishes is refused (docs/architecture.md,
# "Secrets"): a server run with sandbox = false gets these private ones instead (outside_sandbox()).
OUTSIDE_ADMIN_TOKEN = "private-admin-token-0123456789-abcdef"
OUTSIDE_PARTNER_TOKEN = "private-best-partner-token"
OUTSIDE_BEREKE_PASSWORD = "private-bereke-password"
OUTSIDE_ECOMMPAY_SECRETS = {p: f"private-secret-{p}" for p in ECOMMPAY_SECRETS}
OUTSIDE_KEK = "9ca6a1809139a29803193e05e3d1b5df2d7f4622c03e2885804665506f2c9272"
# Cabinet logins outside the sandbox: login -> (password, its argon2id hash).
OUTSIDE_CABINET = {
    "payout_api_username": ("outside-cabinet-bereke", "$argon2id$v=19$m=65536,t=2,p=1$7n1xaNz4MQuq9L4HS9Yspw$"
                                                      "7fZJSwuSc67YL/XCNJntIg8Aqyl0qrtawSKZu46HVFI"),
    "merchant-91348": ("outside-cabinet-91348", "$argon2id$v=19$m=65536,t=2,p=1$DdjN+g7LGcwR5jFCvetGig$"
                                                "CiGfnQO+JBL7jJv/el6KjWCkM6F/MeF0k9pDkx53ydI"),
    "best-partner-admin": ("outside-cabinet-best-partner", "$argon2id$v=19$m=65536,t=2,p=1$2dI9Ef2T9tZ1Cu05ET8tNw$"
                                                           "Y7uqdo5H00VuDAjDA87XaOKkF5UYvJawdbppDpg/pWU"),
    "bereke-viewer": ("outside-cabinet-viewer", "$argon2id$v=19$m=65536,t=2,p=1$LZe6lz6MISEJWFCA6gAdYA$"
                                                "H43/rOYBFAOI3NXQ5qII92nCNzX4Iok7J8tkrAMkaGQ"),
}

# Staff members outside the sandbox ([[admin.staff]]): login -> (password, its argon2id hash).
OUTSIDE_STAFF = {
    "ops-admin": ("outside-console-admin", "$argon2id$v=19$m=65536,t=2,p=1$mt3fFMd4ARzxFGDvZ9mqJQ$"
                                           "wUdOq+BYF/QD/6XaP8f38Mqm/otJsBjs33/dDTf0O7M"),
    "ops-finance": ("outside-console-finance", "$argon2id$v=19$m=65536,t=2,p=1$gfQDqOw4ElHcrVXHjkIB8Q$"
                                               "preGNLeTDwYwABL9/cuwfffoicA+GoHxFeyy6PQRzsA"),
    "ops-support": ("outside-console-support", "$argon2id$v=19$m=65536,t=2,p=1$+vuBDHUsaG1TcGbEfP1YsA$"
                                               "Z4kiShgYvtLY2m+1Xao6lMp3hJe3scjldQlDWgxJsm4"),
    "ops-checker": ("outside-console-checker", "$argon2id$v=19$m=65536,t=2,p=1$UM90x4yJF5YeQ4p/ZJQbKQ$"
                                               "t92qSYIKif2QZ0bEOKMV3vFTqhrXT6ExonN6sp3sg+4"),
}


# Outside the sandbox: the public origin (https, required there) of OUTSIDE_LISTEN.
OUTSIDE_PUBLIC_URL = "https://payouts.example.test"
SANDBOX_LISTEN_LINE = 'listen = "127.0.0.1:8080"   # --listen overrides; port 0 picks a free port'
# The plain listener of a server outside the sandbox, said to stand behind a TLS-terminating proxy
# (the harness talks plain HTTP to it, as that proxy would).
OUTSIDE_LISTEN = (SANDBOX_LISTEN_LINE + "\nplain_http_behind_proxy = true\n"
                  f'public_url = "{OUTSIDE_PUBLIC_URL}"')


def outside_sandbox(extra=None):
    """config_replace entries that turn the sandbox config into one outside the sandbox: sandbox =
    false, an SMTP server (one that refuses connections, unless `extra` names another), the plain
    listener behind a proxy with an https public origin (OUTSIDE_LISTEN), and a private secret in
    place of every published one (OUTSIDE_*). `extra`: more replacements."""
    text = config_path().read_text(encoding="utf-8")
    replace = {
        "sandbox = true ": "sandbox = false ",
        SANDBOX_LISTEN_LINE: OUTSIDE_LISTEN,
        '# smtp_url = "smtp://127.0.0.1:2525"': 'smtp_url = "smtp://127.0.0.1:9"',
        re.search(r'kek = "sandbox-only:[0-9a-f]+"', text).group(0): f'kek = "{OUTSIDE_KEK}"',
        f'token = "{ADMIN_TOKEN}"': f'token = "{OUTSIDE_ADMIN_TOKEN}"',
        f'tokens = ["{PARTNER_TOKEN}"]': f'tokens = ["{OUTSIDE_PARTNER_TOKEN}"]',
        f'password = "{BEREKE_PASSWORD}"': f'password = "{OUTSIDE_BEREKE_PASSWORD}"',
    }
    for project, secret in ECOMMPAY_SECRETS.items():
        replace[f'secret_key = "{secret}"'] = f'secret_key = "{OUTSIDE_ECOMMPAY_SECRETS[project]}"'
    for login, (_, hashed) in OUTSIDE_CABINET.items():
        published = re.search(r'login = "' + re.escape(login) + r'".*\n.*\npassword_hash = "([^"]+)"', text).group(1)
        replace[f'password_hash = "{published}"'] = f'password_hash = "{hashed}"'
    for login, (_, hashed) in OUTSIDE_STAFF.items():
        published = re.search(r'login = "' + re.escape(login) + r'".*\n.*\n.*\npassword_hash = "([^"]+)"',
                              text).group(1)
        replace[f'password_hash = "{published}"'] = f'password_hash = "{hashed}"'
    replace.update(extra or {})
    return replace


def ecommpay_signing_string(value):
    """ecommpay's string to sign (docs/ecommpay.md), written independently of the server's."""
    pairs = []

    def walk(v, path):
        if isinstance(v, dict):
            for k, item in v.items():
                if k in ("signature", "frame_mode"):
                    continue
                walk(item, f"{path}:{k}" if path else str(k))
        elif isinstance(v, list):
            for i, item in enumerate(v):
                walk(item, f"{path}:{i}" if path else str(i))
        elif isinstance(v, bool):
            pairs.append((path, "1" if v else "0"))
        elif v is None:
            pairs.append((path, ""))
        else:
            pairs.append((path, str(v)))

    def natural(key):
        return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", key)]
    walk(value, "")
    pairs.sort(key=lambda p: natural(p[0]))
    return ";".join(f"{k}:{v}" for k, v in pairs)


def ecommpay_sign(secret, value):
    import base64
    import hashlib
    import hmac
    return base64.b64encode(hmac.new(secret.encode(), ecommpay_signing_string(value).encode(),
                                     hashlib.sha512).digest()).decode()


LISTEN_RE = re.compile(r"listening on (https?)://127\.0\.0\.1:(\d+)")
METRICS_RE = re.compile(r"metrics on http://127\.0\.0\.1:(\d+)/metrics")
ISO8601_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:\d{2}|Z)$")
UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

START_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0
PG_CLUSTER_SCRIPT = REPO_ROOT / "scripts" / "pg-cluster.sh"


class HarnessError(Exception):
    pass


# --------------------------------------------------------------------------------------------
# Binary, config

def binary_path():
    path = Path(os.environ.get("PAYOUTD_BIN") or REPO_ROOT / "build" / "payoutd")
    if not path.is_file() or not os.access(path, os.X_OK):
        raise HarnessError(f"payoutd binary not found at {path}, build it with make build "
                           f"(or set PAYOUTD_BIN)")
    return path


def config_path():
    path = Path(os.environ.get("PAYOUTD_CONFIG") or REPO_ROOT / "config" / "sandbox.toml")
    if not path.is_file():
        raise HarnessError(f"payoutd config not found at {path} (set PAYOUTD_CONFIG)")
    return path


def config_text(replace=None):
    """The config's text, ready to be written anywhere: paths it names relative to its own
    directory (the BIN table) made absolute. `replace`: {old: new} substitutions, each of which
    must match exactly once."""
    path = config_path()
    text = path.read_text(encoding="utf-8")
    def absolute(m):
        return f'{m.group(1)}"{(path.parent / m.group(2)).resolve()}"'
    text = re.sub(r'^((?:bin_table|knp_table)\s*=\s*)"([^"/][^"]*)"', absolute, text, flags=re.M)
    for old, new in (replace or {}).items():
        if text.count(old) != 1:
            raise HarnessError(f"the config has {text.count(old)} copies of {old!r}")
        text = text.replace(old, new)
    return text


def load_config():
    """The config as a dict, or {} when it cannot be read (only used for optional checks)."""
    try:
        path = config_path()
    except HarnessError:
        return {}
    if tomllib is None:
        return {}
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except (OSError, ValueError):
        return {}


def utc_offset():
    """qiwi.utc_offset from the config, default +03:00 (docs/qiwi.md)."""
    qiwi = load_config().get("qiwi", {})
    return qiwi.get("utc_offset", "+03:00") if isinstance(qiwi, dict) else "+03:00"


def body_limit():
    """server.body_limit_bytes from the config, default 64 KiB (docs/qiwi.md)."""
    server = load_config().get("server", {})
    limit = server.get("body_limit_bytes", 65536) if isinstance(server, dict) else 65536
    return limit if isinstance(limit, int) and limit > 0 else 65536


# --------------------------------------------------------------------------------------------
# PostgreSQL

def default_backend():
    backend = os.environ.get("PAYOUTD_E2E_BACKEND") or "sqlite"
    if backend not in ("sqlite", "postgres"):
        raise HarnessError(f"PAYOUTD_E2E_BACKEND must be sqlite or postgres, got {backend!r}")
    return backend


def psql(url, sql, timeout=60):
    """Runs SQL with psql on `url`; returns its output (unaligned, tuples only)."""
    p = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", url, "-c", sql],
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout)
    if p.returncode != 0:
        raise HarnessError(f"psql {sql!r}: {p.stderr.decode('utf-8', 'replace').strip()}")
    return p.stdout.decode("utf-8")


class PgCluster:
    """A throwaway PostgreSQL cluster (scripts/pg-cluster.sh): started by this object, or one
    already running in `existing_dir` (then neither restarted nor removed by close())."""

    def __init__(self, existing_dir=None, options=(), directory=None):
        """options: postgresql.conf lines of a cluster this object starts; directory: where it
        starts it (the caller may have made it, to hold the server's files: its TLS key)."""
        self.owned = existing_dir is None
        self.dir = existing_dir or directory or os.path.join(
            tempfile.gettempdir(), f"payoutd-e2e-pg-{os.getpid()}-{os.urandom(3).hex()}")
        if self.owned:
            self._script("start", *options)
        with open(os.path.join(self.dir, "url"), encoding="utf-8") as f:
            self.admin_url = f.read().strip()
        self._databases = 0

    def _script(self, *args):
        p = subprocess.run(["bash", str(PG_CLUSTER_SCRIPT), args[0], self.dir, *args[1:]],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=120)
        if p.returncode != 0:
            raise HarnessError(f"pg-cluster.sh {' '.join(args)} failed:\n{p.stdout.decode(errors='replace')}")

    def psql(self, sql, url=None):
        """Runs SQL with psql (on the cluster's admin URL unless told); returns its output."""
        return psql(url or self.admin_url, sql)

    def new_database(self):
        """A fresh, empty database; its URL."""
        self._databases += 1
        name = f"e2e_{os.getpid()}_{self._databases}_{os.urandom(3).hex()}"
        self.psql(f"CREATE DATABASE {name}")
        return self.admin_url.rsplit("/", 1)[0] + "/" + name

    def restart(self, mode="fast"):
        self._require_owned()
        self._script("restart", mode)

    def halt(self):
        """Stops the server at once (as a crash would); resume() starts it again."""
        self._require_owned()
        self._script("halt")

    def resume(self):
        self._require_owned()
        self._script("resume")

    def _require_owned(self):
        if not self.owned:
            raise HarnessError("the shared cluster is not stopped by tests; start one of your own")

    def close(self):
        if self.owned:
            self._script("stop")


_shared_cluster = None
_shared_cluster_lock = threading.Lock()


def shared_cluster():
    """The run's cluster: make test's, or one started on first use and removed at exit."""
    global _shared_cluster
    with _shared_cluster_lock:
        if _shared_cluster is None:
            _shared_cluster = PgCluster(os.environ.get("PAYOUTD_TEST_POSTGRES_DIR") or None)
            if _shared_cluster.owned:
                atexit.register(_shared_cluster.close)
        return _shared_cluster


# --------------------------------------------------------------------------------------------
# The server process

class Server:
    """One payoutd process (and its restarts) on one temporary data directory."""

    def __init__(self, data_dir=None, listen="127.0.0.1:0", extra_args=(), extra_config=None,
                 backend=None, postgres_url=None, config_replace=None, env=None, preexec_fn=None,
                 tls=None, metrics_listen="127.0.0.1:0"):
        """extra_config: TOML text appended to a copy of the config (e.g. another product).
        config_replace: {old: new} changes to that copy (e.g. the rail's latency).
        env: {name: value} changes to the process's environment (None removes a variable).
        backend: "sqlite" or "postgres" (default PAYOUTD_E2E_BACKEND); with postgres the server
        gets a fresh database on the shared cluster, or `postgres_url` (several nodes, one
        database).
        preexec_fn: runs in the child before payoutd starts (e.g. a lower descriptor limit).
        tls: {"cert_file", "key_file"[, "client_ca_file", "listen"]}: a [server.tls] listener too
        (on a free port unless "listen" says; its port is tls_port). With listen=None the server
        has no plain listener: the [server] listen line goes, and port is None.
        metrics_listen: --metrics-listen (by default a free port of its own: servers side by side
        never share one); None: the config's."""
        self.binary = binary_path()
        self.config = config_path()
        self.tmp = tempfile.mkdtemp(prefix="payoutd-e2e-")
        self.tls = tls
        if tls:
            extra_config = (extra_config or "") + tls_section(tls)
        if listen is None:
            config_replace = dict(config_replace or {})
            kept = config_replace.get(SANDBOX_LISTEN_LINE, SANDBOX_LISTEN_LINE)
            config_replace[SANDBOX_LISTEN_LINE] = kept.replace(SANDBOX_LISTEN_LINE, "")
        if extra_config or config_replace:
            path = os.path.join(self.tmp, "config.toml")
            with open(path, "w", encoding="utf-8") as dst:
                dst.write(config_text(config_replace) + "\n" + (extra_config or ""))
            self.config = path
        self.data_dir = str(data_dir or os.path.join(self.tmp, "data"))
        os.makedirs(self.data_dir, exist_ok=True)
        self.listen = listen
        self.backend = "postgres" if postgres_url else (backend or default_backend())
        self.postgres_url = None
        if self.backend == "postgres":
            self.postgres_url = postgres_url or shared_cluster().new_database()
        self.extra_args = list(extra_args)
        self.env = dict(env or {})
        self.preexec_fn = preexec_fn
        self.metrics_listen = metrics_listen
        self.proc = None
        self.port = None
        self.tls_port = None
        self.metrics_port = None  # the metrics listener's, once started
        self.starts = 0
        self._logs = []

    # -- life cycle --
    def start(self):
        if self.running():
            raise HarnessError("server already running")
        self.starts += 1
        err_path = os.path.join(self.tmp, f"stderr.{self.starts}.log")
        out_path = os.path.join(self.tmp, f"stdout.{self.starts}.log")
        self._logs += [err_path, out_path]
        listen = ["--listen", self.listen] if self.listen else []
        metrics = ["--metrics-listen", self.metrics_listen] if self.metrics_listen else []
        cmd = [str(self.binary), "serve", "--config", str(self.config)] + listen + metrics + \
              ["--data-dir", self.data_dir] + self.storage_args() + self.extra_args
        env = self.process_env()
        err = open(err_path, "wb")
        try:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                         stderr=err, cwd=self.tmp, env=env, preexec_fn=self.preexec_fn)
        finally:
            err.close()
        ready = threading.Event()
        found = {"metrics": threading.Event()}
        threading.Thread(target=_pump_stdout, args=(self.proc, out_path, ready, found, bool(self.listen)),
                         daemon=True).start()
        deadline = time.monotonic() + START_TIMEOUT
        while not ready.wait(0.05):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                rc = self.proc.poll()
                self._force_kill()
                why = f"exited with {rc}" if rc is not None else f"no 'listening on' line in {START_TIMEOUT}s"
                raise HarnessError(f"payoutd did not start ({why}): {' '.join(cmd)}\n"
                                   f"{self.log_tail()}")
        self.port = found.get("http")
        self.tls_port = found.get("https")
        if self.metrics_listen or "--metrics-listen" in self.extra_args:
            if not found["metrics"].wait(START_TIMEOUT):
                self._force_kill()
                raise HarnessError(f"payoutd printed no 'metrics on' line\n{self.log_tail()}")
        self.metrics_port = found.get("metrics_port")
        status = self.health()
        if status != 200:
            raise HarnessError(f"GET /healthz answered {status} right after start\n{self.log_tail()}")
        return self

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, check=True, timeout=STOP_TIMEOUT):
        """SIGTERM, wait for the exit; returns the exit code (check: raise unless 0)."""
        if self.proc is None:
            return None
        proc = self.proc
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._force_kill()
                raise HarnessError(f"payoutd did not exit {timeout}s after SIGTERM\n{self.log_tail()}")
        rc = proc.returncode
        self.proc = None
        if check and rc != 0:
            raise HarnessError(f"payoutd exited with {rc} after SIGTERM (expected 0)\n{self.log_tail()}")
        return rc

    def kill9(self):
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(STOP_TIMEOUT)
        self.proc = None

    def restart(self, kill=False):
        if kill:
            self.kill9()
        else:
            self.stop()
        return self.start()

    def close(self):
        """Kills a still running process, checks its logs (log_scan.py: no secret; JSON lines
        with PAYOUTD_LOG_FORMAT=json) and removes the temporary directory. Raises HarnessError
        naming what the check found."""
        self._force_kill()
        self._final_tail = self.log_tail()  # still printable after the directory is gone
        problems = self.scan_logs() if not getattr(self, "_scanned", False) else []
        self._scanned = True
        if os.environ.get("PAYOUTD_E2E_KEEP") == "1" or problems:
            sys.stderr.write(f"[harness] kept {self.tmp}\n")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)
        if problems:
            raise HarnessError("the server's log fails the log check (tests/e2e/log_scan.py):\n" +
                               "\n".join(problems))

    def scan_logs(self):
        """What log_scan.py finds in every log of this server so far (empty: nothing)."""
        stderr_logs = {p for p in self._logs if os.path.basename(p).startswith("stderr.")}
        return log_scan.scan(self._logs, stderr_logs, self.config, self.process_env(), self.data_dir)

    def process_env(self):
        """The environment the process runs with: the harness's, changed by `env`. Every server
        writes its access lines, so that the log check covers them."""
        env = dict(os.environ)
        env.setdefault("PAYOUTD_LOG_ACCESS", "true")
        for name, value in self.env.items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        return env

    def _force_kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(STOP_TIMEOUT)

    # -- helpers --
    def storage_args(self):
        return ["--postgres-url", self.postgres_url] if self.postgres_url else []

    def health(self):
        """GET /healthz on the plain listener, or on the TLS one (trusting its chain) without one."""
        tls = None
        if self.port is None:
            tls = ssl.create_default_context(cafile=self.tls["cert_file"])
        try:
            return Api(self, keep_alive=False, timeout=10, tls=tls).request("GET", "/healthz", auth=None).status
        except OSError:
            return None

    def scrape(self, timeout=10):
        """GET /metrics on the metrics listener: (status, content type, text)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.metrics_port, timeout=timeout)
        try:
            conn.request("GET", "/metrics")
            r = conn.getresponse()
            return r.status, r.getheader("Content-Type"), r.read().decode("utf-8")
        finally:
            conn.close()

    def stored_bytes(self):
        """Everything the store keeps, as bytes: SQLite's database file and its log, or a dump of
        the PostgreSQL database's rows."""
        if self.postgres_url:
            p = subprocess.run(["pg_dump", "--data-only", "--no-owner", self.postgres_url],
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=120, check=True)
            return p.stdout
        out = b""
        for name in ("payoutd.db", "payoutd.db-wal"):
            path = os.path.join(self.data_dir, name)
            if os.path.exists(path):
                with open(path, "rb") as f:
                    out += f.read()
        return out

    def run_audit(self, timeout=120):
        """Runs `payoutd audit`; returns (exit code, stdout+stderr text)."""
        cmd = [str(self.binary), "audit", "--config", str(self.config), "--data-dir",
               self.data_dir] + self.storage_args()
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=timeout, cwd=self.tmp)
        return p.returncode, p.stdout.decode("utf-8", "replace")

    def stderr_path(self):
        """The current (or last) process's log."""
        return os.path.join(self.tmp, f"stderr.{self.starts}.log")

    def cpu_seconds(self):
        """CPU time the running process has used so far (user + system, /proc/<pid>/stat)."""
        with open(f"/proc/{self.proc.pid}/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def open_descriptors(self):
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def log_tail(self, lines=60):
        if getattr(self, "_final_tail", None) is not None:
            return self._final_tail
        out = []
        for path in self._logs[-4:]:
            try:
                with open(path, "rb") as f:
                    text = f.read().decode("utf-8", "replace").splitlines()
            except OSError:
                continue
            out.append(f"--- {os.path.basename(path)} (last {lines} lines) ---")
            out.extend(text[-lines:])
        return "\n".join(out)


def _pump_stdout(proc, out_path, ready, found, plain):
    """Ready at the plain listener's line (printed last), or the TLS one's without a plain one."""
    with open(out_path, "wb") as f:
        for line in iter(proc.stdout.readline, b""):
            f.write(line)
            f.flush()
            text = line.decode("utf-8", "replace")
            if not ready.is_set():
                m = LISTEN_RE.search(text)
                if m:
                    found[m.group(1)] = int(m.group(2))
                    if m.group(1) == "http" or not plain:
                        ready.set()
            elif "metrics_port" not in found:
                m = METRICS_RE.search(text)  # printed right after "listening on"
                if m:
                    found["metrics_port"] = int(m.group(1))
                    found["metrics"].set()
    proc.stdout.close()


def tls_section(tls):
    """The [server.tls] table of Server's `tls` option (listening on a free port by default)."""
    lines = ["", "[server.tls]", f'listen = "{tls.get("listen", "127.0.0.1:0")}"']
    for key in ("cert_file", "key_file", "client_ca_file"):
        if tls.get(key):
            lines.append(f'{key} = "{tls[key]}"')
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# HTTP

# reason: the status line's reason phrase, where the client read one.
Response = namedtuple("Response", "status headers json raw reason", defaults=("",))


class Raw(str):
    """JSON text put into a request body verbatim: Raw("100.50"), Raw("1e2"), Raw("NaN")."""


def dumps(obj):
    """JSON text of obj; Raw and Decimal values are written as literal numbers."""
    if isinstance(obj, Raw):
        return str(obj)
    if isinstance(obj, Decimal):
        return str(obj)
    if isinstance(obj, dict):
        return "{" + ",".join(json.dumps(str(k), ensure_ascii=False) + ":" + dumps(v)
                              for k, v in obj.items()) + "}"
    if isinstance(obj, (list, tuple)):
        return "[" + ",".join(dumps(v) for v in obj) + "]"
    return json.dumps(obj, ensure_ascii=False)


def _reject_constant(name):
    raise ValueError(f"non-standard JSON constant {name}")


def parse_json(raw):
    """Parses a response body; floats become Decimal. None when empty or not JSON."""
    if not raw:
        return None
    try:
        return json.loads(raw.decode("utf-8"), parse_float=Decimal, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError):
        return None


_RETRYABLE = (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected)


class Api:
    """A small HTTP client. `target` is a Server (its current port is used) or a port number.

    keep_alive: one connection per thread is reused (a stale one is replaced once, only when it
    was reused); otherwise every call opens a fresh connection.
    source: the loopback address to connect from (all of 127.0.0.0/8 is ours): another client.
    tls: an ssl.SSLContext: talk HTTPS to the Server's TLS listener (tls_port) instead.
    """

    def __init__(self, target, keep_alive=True, timeout=30, source="127.0.0.1", tls=None):
        self.target = target
        self.tls = tls
        self.keep_alive = keep_alive
        self.timeout = timeout
        self.source = source
        self._local = threading.local()
        self._open = []  # keep-alive connections of every thread, closed by close()
        self._open_lock = threading.Lock()

    def close(self):
        with self._open_lock:
            conns, self._open = self._open, []
        for conn in conns:
            conn.close()

    @property
    def port(self):
        if isinstance(self.target, int):
            return self.target
        return self.target.tls_port if self.tls else self.target.port

    def _connection(self):
        port = self.port
        conn = getattr(self._local, "conn", None)
        if self.keep_alive and conn is not None and self._local.port == port:
            return conn, True
        self._drop()
        if self.tls:
            conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=self.timeout,
                                               source_address=(self.source, 0), context=self.tls)
        else:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=self.timeout,
                                              source_address=(self.source, 0))
        if self.keep_alive:
            self._local.conn, self._local.port = conn, port
            with self._open_lock:
                self._open.append(conn)
        return conn, False

    def _drop(self):
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            with self._open_lock:
                if conn in self._open:
                    self._open.remove(conn)
        self._local.conn = None

    def request(self, method, path, body=None, headers=None, raw_body=None, auth=PARTNER_TOKEN):
        """Returns Response(status, headers (lower-case names), parsed JSON or None, raw bytes).

        body: an object serialized with dumps(); raw_body: bytes sent as they are.
        auth: a bearer token, or None for no Authorization header (headers may set it too).
        """
        hdrs = {}
        data = raw_body
        if body is not None:
            data = dumps(body).encode("utf-8")
        if data is not None:
            hdrs["Content-Type"] = "application/json"
        if auth is not None:
            hdrs["Authorization"] = f"Bearer {auth}"
        hdrs.update(headers or {})
        for attempt in (0, 1):
            conn, reused = self._connection()
            try:
                conn.request(method, path, body=data, headers=hdrs)
                resp = conn.getresponse()
                raw = resp.read()
            except _RETRYABLE:
                self._drop()
                conn.close()
                if reused and attempt == 0:
                    continue
                raise
            except BaseException:
                self._drop()
                conn.close()
                raise
            if not self.keep_alive or resp.will_close:
                self._drop() if self.keep_alive else conn.close()
            headers = {k.lower(): v for k, v in resp.getheaders()}
            openapi_check.check(method, path, resp.status, headers, raw)
            return Response(resp.status, headers, parse_json(raw), raw, resp.reason)

    # -- QIWI payouts --
    def payout(self, txn_id, funder, client, value, currency="RUB", product=PRODUCT, **kw):
        return self.request("PUT", payout_path(txn_id, product),
                            body=payout_body(funder, client, value, currency), **kw)

    def get_payout(self, txn_id, product=PRODUCT, **kw):
        return self.request("GET", payout_path(txn_id, product), **kw)

    # -- QIWI history --
    def history(self, account_id, limit=200, cursor=None, product=PRODUCT, **kw):
        query = {"accountId": account_id, "limit": limit}
        if cursor is not None:
            query["cursor"] = cursor
        return self.request("GET", history_path(product) + "?" + urllib.parse.urlencode(query), **kw)

    def history_all(self, account_id, limit=200, max_pages=10000):
        """Every history item of the account, walking pages until an empty one."""
        items, cursor = [], None
        for _ in range(max_pages):
            r = self.history(account_id, limit=limit, cursor=cursor)
            if r.status != 200 or not isinstance(r.json, dict):
                raise HarnessError(f"history {account_id} cursor={cursor}: {r.status} {r.raw[:300]!r}")
            page = r.json.get("txnList")
            if not page:
                return items
            items.extend(page)
            cursor = r.json.get("cursor")
            if cursor != page[-1]["commonTxnInfo"]["txnHistoryId"]:
                raise HarnessError(f"history cursor {cursor} is not the last item's txnHistoryId")
        raise HarnessError(f"history of {account_id} did not end after {max_pages} pages")

    # -- admin --
    def admin(self, method, path, body=None, product=PRODUCT, **kw):
        return self.request(method, "/admin/v1/qiwi/products/" + product + path, body=body,
                            auth=ADMIN_TOKEN, **kw)

    def _admin_get(self, path, product=PRODUCT):
        r = self.admin("GET", path, product=product)
        if r.status != 200 or not isinstance(r.json, dict):
            raise HarnessError(f"admin GET {path}: {r.status} {r.raw[:300]!r}")
        return r.json

    def funder(self, funder_id, product=PRODUCT):
        return self._admin_get(f"/funders/{funder_id}", product)

    def client(self, client_id, product=PRODUCT):
        return self._admin_get(f"/clients/{client_id}", product)

    def funder_balance(self, funder_id):
        return money(self.funder(funder_id)["balance"])

    def client_balance(self, client_id):
        return money(self.client(client_id)["balance"])

    def create_client(self, client_id, account_id, currency="RUB"):
        return self.admin("PUT", f"/clients/{client_id}", {"accountId": account_id, "currency": currency})

    def credit_funder(self, funder_id, credit_id, value, currency="RUB"):
        return self.admin("POST", f"/funders/{funder_id}/credits/{credit_id}",
                          {"amount": {"value": value, "currency": currency}})

    def operation(self, operation_id, body):
        return self.admin("PUT", f"/operations/{operation_id}", body)

    # -- Bereke Payouts Module v2 --
    def bereke(self, method, body=None, raw_body=None, http_method="POST"):
        """POST /payouts/api/v2/<method>; body: an object (credentials added unless it has
        them), raw_body: bytes as they are."""
        if body is not None and not {"userName", "username", "password"} & set(body):
            body = dict({"userName": BEREKE_USER, "password": BEREKE_PASSWORD}, **body)
        return self.request(http_method, f"/payouts/api/v2/{method}", body=body, raw_body=raw_body,
                            auth=None)

    def bereke_balance(self, binding=None):
        body = {"source": {"bindingId": binding}} if binding else {}
        r = self.bereke("getAmount.do", body)
        assert r.status == 200, r.raw
        b = r.json["balanceDescriptionList"]
        return b["balanceAmount"] if b["balanceSign"] == "C" else -b["balanceAmount"]

    def bereke_status(self, order_number=None, order_id=None):
        body = {}
        if order_number is not None:
            body["orderNumber"] = order_number
        if order_id is not None:
            body["orderId"] = order_id
        return self.bereke("getPayoutStatus.do", body)

    def bereke_wait(self, order_number, wanted, timeout=40.0):
        """getPayoutStatus.do's answer once the order's orderStatus is `wanted` (polled)."""
        deadline = time.monotonic() + timeout
        while True:
            r = self.bereke_status(order_number)
            if r.status == 200 and r.json.get("orderStatus") == wanted:
                return r.json
            if time.monotonic() > deadline:
                raise AssertionError(f"order {order_number} did not reach orderStatus {wanted}: {r.raw}")
            time.sleep(0.05)

    def perform(self, order_number, pan=None, amount=1234, binding=None, source=None, **fields):
        body = {"orderNumber": order_number, "amount": amount, "currency": "398"}
        if pan is not None:
            body["target"] = {"card": {"pan": pan}}
        if binding is not None:
            body["target"] = {"bindingId": binding}
        if source is not None:
            body["source"] = {"bindingId": source}
        body.update(fields)
        return self.bereke("performPayout.do", body)

    def ecommpay_register(self, payment_id, project=ECOMMPAY_PROJECT, amount=7000, currency="EUR",
                          callback_url=None, secret=None, customer=None, sign=True, headers=None,
                          **general):
        """POST /v2/payment/payout/registration, signed with the project's secret. headers: more
        request headers."""
        body = {"general": {"project_id": project, "payment_id": payment_id, **general},
                "customer": customer or {"id": "16061314", "email": "p.jeltz@mail.com",
                                         "phone": "44991234567", "ip_address": "93.47.230.225"},
                "payment": {"amount": amount, "currency": currency}}
        if callback_url:
            body["general"]["merchant_callback_url"] = callback_url
        if sign:
            body["general"]["signature"] = ecommpay_sign(secret or ECOMMPAY_SECRETS.get(project, "x"), body)
        return self.request("POST", "/v2/payment/payout/registration", body=body, auth=None,
                            headers=headers)

    def sandbox_callbacks(self, project=ECOMMPAY_PROJECT, all_from_payoutd=True):
        """What the sandbox's own callback receiver got for a project, oldest first (the listing
        is signed with the project's key). Each is checked against ecommpay.yaml's webhook unless
        all_from_payoutd is False (the test posted some itself)."""
        query = urllib.parse.urlencode({"project_id": str(project),
                                        "signature": ecommpay_sign(ECOMMPAY_SECRETS[project],
                                                                   {"project_id": str(project)})})
        r = self.request("GET", "/sandbox/ecommpay/callbacks?" + query, auth=None)
        if r.status != 200:
            raise HarnessError(f"sandbox callbacks: {r.status} {r.raw[:300]!r}")
        for callback in r.json if all_from_payoutd else ():
            openapi_check.check_callback(callback)
        return r.json

    def rail_credit(self, order_id):
        """The sandbox card network's record of the credit for an order (admin API)."""
        r = self.request("GET", f"/admin/v1/rail/credits/{order_id}", auth=ADMIN_TOKEN)
        return r.json if r.status == 200 else None

    # -- whole-state snapshot, for "nothing changed" assertions --
    def snapshot(self, funders=FUNDERS, clients=None):
        clients = ALL_CLIENTS if clients is None else clients
        state = {}
        for f in funders:
            j = self.funder(f)
            state[f"funder {f}"] = (money_text(j["balance"]), money_text(j["reserved"]))
        for c, account in clients.items():
            j = self.client(c)
            state[f"client {c}"] = (money_text(j["balance"]), money_text(j["incoming"]))
            state[f"history {account}"] = [
                (i["commonTxnInfo"]["txnHistoryId"], i["commonTxnInfo"]["domainTxnStatus"]["domainTxnStatusId"])
                for i in self.history_all(account)]
        return state


def raw_exchange(port, head, body=b"", timeout=30.0, early_wait=2.0):
    """Sends `head` (request line and headers, bytes) then `body` on a fresh socket and reads
    one response; returns a Response, or None when the server closed without answering.

    For an oversized request the server may answer as soon as it has seen enough and close
    without reading the rest; so the body is sent only if no early answer arrived within
    `early_wait` seconds, and a failure to send is not an error by itself (the answer, if any,
    is still read).
    """
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            s.sendall(head)
            if body:
                s.settimeout(early_wait)
                try:
                    s.recv(1, socket.MSG_PEEK)  # returns once an answer (or EOF) has arrived
                    early = True
                except socket.timeout:
                    early = False
                s.settimeout(timeout)
                if not early:
                    for i in range(0, len(body), 65536):
                        s.sendall(body[i:i + 65536])
        except OSError:
            pass
        s.settimeout(timeout)
        return read_response(s, head)


def request_head(method, path, headers):
    """The bytes of a request line and headers (Host and Connection: close added)."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def parse_head(head):
    """(status, {lower-case name: value}) of a response head (bytes, without the blank line)."""
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers


def read_response(s, head):
    """Reads one response from socket `s` to the request whose line and headers were `head`
    (bytes), checks it against docs/openapi (openapi_check.py) and returns a Response, or None
    when the server closed without answering."""
    r = _read_response(s)
    if r is not None:
        openapi_check.check_request_head(head, r.status, r.headers, r.raw)
    return r


def _read_response(s):
    buf = b""
    try:
        while b"\r\n\r\n" not in buf:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    except OSError:
        pass
    if b"\r\n\r\n" not in buf:
        return None
    head, rest = buf.split(b"\r\n\r\n", 1)
    status, headers = parse_head(head)
    length = int(headers.get("content-length", "0") or 0)
    try:
        while len(rest) < length:
            chunk = s.recv(65536)
            if not chunk:
                break
            rest += chunk
    except OSError:
        pass
    body = rest[:length]
    return Response(status, headers, parse_json(body), body)


def payout_path(txn_id, product=PRODUCT):
    return f"/partner/openapi-payment-api/v1/funder-payouts/products/{product}/transactions/{txn_id}"


def history_path(product=PRODUCT):
    return f"/partner/openapi-reports/v1/products/{product}/operations/history"


def payout_body(funder, client, value, currency="RUB"):
    return {"fromFunderId": funder, "toClientId": client,
            "transactionAmount": {"value": value, "currency": currency}}


def money(obj):
    """Decimal of a {"value":..,"currency":..} object (or a bare value) as the server sent it."""
    value = obj["value"] if isinstance(obj, dict) else obj
    if isinstance(value, bool) or not isinstance(value, (Decimal, int, str)):
        raise HarnessError(f"not a money value: {value!r}")
    return Decimal(str(value))


def money_text(obj):
    return str(obj["value"] if isinstance(obj, dict) else obj)


# --------------------------------------------------------------------------------------------
# Background load

def start_threads(target, count):
    """`count` daemon threads running target(w), w = 0 .. count - 1, started."""
    threads = [threading.Thread(target=target, args=(w,), daemon=True) for w in range(count)]
    for t in threads:
        t.start()
    return threads


class PayoutLoad:
    """Threads that issue payouts with unique ids (funder -> clients in turn) until stopped,
    each request on a fresh connection to the server's current port. `server` may be a list of
    servers (nodes on one database): thread w then talks to server w modulo their number.

    acked:      txn -> client, answered HTTP 200 with status SUCCESS
    unacked:    txn -> client, sent (or perhaps sent) without such an answer
    unexpected: (txn, status, body) of answers that are neither SUCCESS nor a retryable 5xx
    """

    def __init__(self, server, funder, clients, value="1.00", threads=8, prefix="load", pause=0.0):
        self.server, self.funder, self.clients, self.value = server, funder, list(clients), value
        self.threads, self.prefix, self.pause = threads, prefix, pause
        self.acked, self.unacked, self.unexpected = {}, {}, []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._workers = []

    def start(self):
        self._workers = start_threads(self._work, self.threads)
        return self

    def stop(self):
        self._stop.set()
        for t in self._workers:
            t.join(60)

    def count(self):
        with self._lock:
            return len(self.acked)

    def wait_acked(self, n, deadline_s=15.0):
        """Waits until at least n payouts were acknowledged; False on timeout."""
        end = time.monotonic() + deadline_s
        while self.count() < n:
            if time.monotonic() > end:
                return False
            time.sleep(0.02)
        return True

    def _work(self, w):
        servers = self.server if isinstance(self.server, (list, tuple)) else [self.server]
        api = Api(servers[w % len(servers)], keep_alive=False, timeout=20)
        n = 0
        while not self._stop.is_set():
            txn = f"{self.prefix}-{w}-{n}"
            client = self.clients[(w + n) % len(self.clients)]
            n += 1
            with self._lock:
                self.unacked[txn] = client
            try:
                r = api.payout(txn, self.funder, client, self.value)
            except (OSError, http.client.HTTPException):
                time.sleep(0.02)  # the server is down or restarting
                continue
            with self._lock:
                if r.status == 200 and isinstance(r.json, dict) and r.json.get("status") == "SUCCESS":
                    del self.unacked[txn]
                    self.acked[txn] = client
                elif r.status not in (500, 503):
                    self.unexpected.append((txn, r.status, r.raw[:300]))
            if self.pause:
                time.sleep(self.pause)


def check_load_outcome(tc, api, load, funder_before, clients_before):
    """After a load interrupted by crashes or restarts, asserts that every acknowledged payout
    is SUCCESS, every unacknowledged one exists at most once, each existing one is in its client's
    history exactly once, and the funder's debit and the clients' credits equal (existing ids) x
    value. funder_before: the funder's balance before the load; clients_before: {clientId:
    balance}. Returns {txn: client} of the payouts that exist."""
    value = Decimal(load.value)

    def status_of(txn):
        r = api.get_payout(txn)
        return txn, r

    existing = {}
    with ThreadPoolExecutor(8) as pool:
        for txn, r in pool.map(status_of, list(load.acked)):
            tc.assertEqual(r.status, 200, f"acknowledged payout {txn} is lost: {r.raw[:200]!r}")
            tc.assertEqual(r.json["status"], "SUCCESS", txn)
            tc.assertEqual(r.json["toClientId"], load.acked[txn], txn)
            existing[txn] = load.acked[txn]
        for txn, r in pool.map(status_of, list(load.unacked)):
            if r.status == 404:
                tc.assertEqual(r.json["errorCode"], "transaction.not.found", txn)
                continue
            tc.assertEqual(r.status, 200, f"{txn}: {r.raw[:200]!r}")
            tc.assertEqual(r.json["status"], "SUCCESS", txn)
            existing[txn] = load.unacked[txn]

    per_client = Counter(existing.values())
    for client, before in clients_before.items():
        account = api.client(client)["accountId"]
        seen = Counter(i["commonTxnInfo"]["domainTxnId"] for i in api.history_all(account)
                       if i["commonTxnInfo"]["domainTxnId"].startswith(load.prefix + "-"))
        twice = [t for t, n in seen.items() if n != 1]
        tc.assertEqual(twice, [], f"payouts in {client}'s history more than once")
        mine = {t for t, c in existing.items() if c == client}
        tc.assertEqual(set(seen) - mine, set(), f"{client}'s history has payouts GET does not know")
        tc.assertEqual(mine - set(seen), set(), f"{client}'s history misses payouts")
        tc.assertEqual(api.client_balance(client) - before, per_client[client] * value, client)
    funder = api.funder(load.funder)
    tc.assertEqual(funder_before - money(funder["balance"]), len(existing) * value,
                   f"funder debit != {len(existing)} payouts x {value}")
    tc.assertEqual(money(funder["reserved"]), Decimal(0))
    return existing


# --------------------------------------------------------------------------------------------
# Test case base

class ServerTestCase(unittest.TestCase):
    """One fresh server per test class (started in setUpClass, SIGTERM'd in tearDownClass with
    an exit-code check). On a failing test, the tail of the server's log is printed."""

    server = None
    api = None
    server_class = Server  # or a subclass of it
    server_options = {}  # keyword arguments of Server, e.g. extra_config

    @classmethod
    def setUpClass(cls):
        cls.server = cls.server_class(**cls.server_options)
        try:
            cls.server.start()
        except BaseException:
            cls.server.close()
            raise
        cls.api = Api(cls.server)

    @classmethod
    def tearDownClass(cls):
        cls.api.close()
        try:
            cls.server.stop(check=True)
        finally:
            cls.server.close()

    def run(self, result=None):
        before = _problems(result)
        result = super().run(result)
        if result is not None and _problems(result) > before and self.server is not None:
            sys.stderr.write(f"\n[{self.id()}] server log:\n{self.server.log_tail()}\n")
        return result

    # -- assertions --
    def assertMoney(self, obj, value, currency="RUB", msg=None):
        """obj is {"value": <JSON number with the exact text `value`>, "currency": currency}."""
        self.assertIsInstance(obj, dict, msg)
        self.assertEqual(set(obj), {"value", "currency"}, msg)
        self.assertIsInstance(obj["value"], Decimal,
                              f"{msg or ''} value must be a JSON number with 2 decimals, got {obj['value']!r}")
        self.assertEqual(str(obj["value"]), value, msg)
        self.assertEqual(obj["currency"], currency, msg)

    def assertError(self, resp, status, code, service=None, msg=None):
        """resp is an error with the QIWI envelope."""
        where = f"{msg or ''} -> {resp.status} {resp.raw[:400]!r}"
        self.assertEqual(resp.status, status, where)
        self.assertEnvelope(resp, code, service, where)

    def assertEnvelope(self, resp, code, service=None, where=""):
        body = resp.json
        self.assertIsInstance(body, dict, f"error body is not a JSON object {where}")
        self.assertTrue(resp.headers.get("content-type", "").startswith("application/json"), where)
        for key in ("serviceName", "errorCode", "description", "userMessage", "dateTime", "traceId"):
            self.assertIn(key, body, where)
        if isinstance(code, (tuple, set, frozenset)):
            self.assertIn(body["errorCode"], code, where)
        else:
            self.assertEqual(body["errorCode"], code, where)
        if service is not None:
            self.assertEqual(body["serviceName"], service, where)
        else:  # outside every dialect's prefix no service is named by the contract
            self.assertIn(body["serviceName"], ("payoutd-payments", "payoutd-reports", "payoutd-admin",
                                                "payoutd"), where)
        self.assertIsInstance(body["description"], str, where)
        self.assertTrue(body["description"].strip(), f"empty description {where}")
        self.assertIsInstance(body["userMessage"], str, where)
        self.assertTrue(body["userMessage"].strip(), f"empty userMessage {where}")
        self.assertRegex(body["dateTime"], ISO8601_RE, where)
        self.assertIsInstance(body["traceId"], str, where)
        self.assertTrue(body["traceId"].strip(), f"empty traceId {where}")

    def assertAuditClean(self, server=None):
        rc, out = (server or self.server).run_audit()
        self.assertEqual(rc, 0, f"payoutd audit found violations:\n{out}")

    def wait_final(self, txn_id, api=None, deadline_s=15.0):
        """Polls GET until the payout is no longer PROCESSING; returns the last body."""
        api = api or self.api
        end = time.monotonic() + deadline_s
        while True:
            r = api.get_payout(txn_id)
            self.assertEqual(r.status, 200, r.raw)
            if r.json["status"] != "PROCESSING":
                return r.json
            if time.monotonic() > end:
                self.fail(f"{txn_id} still PROCESSING after {deadline_s}s")
            time.sleep(0.1)


class IsolatedServerTestCase(ServerTestCase):
    """One fresh server per test (self.server, self.api), SIGTERM'd at the end with an
    exit-code check unless the test stopped it already. new_server() makes more."""

    @classmethod
    def setUpClass(cls):
        pass

    @classmethod
    def tearDownClass(cls):
        pass

    def setUp(self):
        self.server = self.new_server()
        self.api = Api(self.server)
        self.addCleanup(self.api.close)

    def new_server(self, start=True, **kw):
        server = Server(**kw)
        self.addCleanup(server.close)
        self.addCleanup(lambda: server.running() and server.stop(check=True))
        if start:
            server.start()
        return server


def _problems(result):
    if result is None:
        return 0
    return len(result.failures) + len(result.errors) + len(getattr(result, "unexpectedSuccesses", []))


def unique(prefix):
    """A transactionId unique within one test run: prefix + 10 hex digits."""
    return f"{prefix}-{os.urandom(5).hex()}"
