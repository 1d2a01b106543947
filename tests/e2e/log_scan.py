"""What every e2e server's log is checked for when the harness closes the server (harness.Server.close):

- no secret: no clear card number (every test card of the sandbox config and of the e2e tests and
  scenarios, and any Luhn-valid 15-19 digit number that stands alone), no password, token,
  secret key or key-encryption key the server was configured with (its config file and
  PAYOUTD_VAULT_KEK), no code the server sent to a person (its mail and SMS sinks);
- with PAYOUTD_LOG_FORMAT=json in its environment (its format then, docs/logging.md): every line
  of its standard error is one JSON object with "time" (RFC 3339, UTC, milliseconds), "level"
  and "message".

Standard library only.
"""
import json
import os
import re
from pathlib import Path

import tomllib  # Python 3.11: the scan must know the configured secrets, never skip them

E2E_DIR = Path(__file__).resolve().parent
REPO_ROOT = E2E_DIR.parents[1]

# Config keys whose values are secrets, wherever they stand in the file.
SECRET_KEYS = {"token", "tokens", "password", "secret_key", "kek", "consumer_key", "api_key",
               "secret", "shared_secret"}
SECRET_CHARS_MIN = 6  # shorter values (a placeholder) would match anything
SANDBOX_KEK_PREFIX = "sandbox-only:"

CARD_RE = re.compile(r"(?<![0-9])[2-6][0-9]{14,18}(?![0-9])")
# A card number standing alone in a log line (not inside an id or a longer number).
LONE_CARD_RE = re.compile(r"(?<![0-9A-Za-z])[2-6][0-9]{14,18}(?![0-9A-Za-z])")
MAIL_CODE_RE = re.compile(r"verification code: (\d+)")
SMS_CODE_RE = re.compile(r": (\d{4,10})\.")
JSON_TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def luhn_valid(digits):
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _known_cards():
    """Every Luhn-valid card number the sandbox config, the e2e tests and their scenarios name."""
    sources = [REPO_ROOT / "config" / "sandbox.toml", *E2E_DIR.glob("*.py"),
               *(p for p in (E2E_DIR / "scenarios").rglob("*") if p.is_file())]
    cards = set()
    for path in sources:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        cards.update(c for c in CARD_RE.findall(text) if luhn_valid(c))
    return frozenset(cards)


KNOWN_CARDS = _known_cards()


def _secret_values(node, key=None):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _secret_values(v, k)
    elif isinstance(node, list):
        for v in node:
            yield from _secret_values(v, key)
    elif isinstance(node, str) and key in SECRET_KEYS:
        yield node


def config_secrets(config_path, env):
    """The secrets a server runs with: its config's (SECRET_KEYS) and PAYOUTD_VAULT_KEK."""
    secrets = set()
    with open(config_path, "rb") as f:
        secrets.update(_secret_values(tomllib.load(f)))
    kek = env.get("PAYOUTD_VAULT_KEK")
    if kek:
        secrets.add(kek)
    # A sandbox key is logged nowhere, with or without its marker.
    secrets |= {s[len(SANDBOX_KEK_PREFIX):] for s in secrets if s.startswith(SANDBOX_KEK_PREFIX)}
    return {s for s in secrets if len(s) >= SECRET_CHARS_MIN}


def sent_codes(data_dir):
    """The codes in the mail and SMS sinks of a data directory. A message in which no code is
    found is a problem of its own: the scan must not go blind when a message's wording changes."""
    codes, problems = set(), []
    for sink, pattern in (("mail", MAIL_CODE_RE), ("sms", SMS_CODE_RE)):
        folder = os.path.join(data_dir, sink)
        if not os.path.isdir(folder):
            continue
        for name in sorted(os.listdir(folder)):
            if name.startswith(".") or not name.endswith((".eml", ".sms")):
                continue
            with open(os.path.join(folder, name), encoding="utf-8", errors="replace") as f:
                found = pattern.findall(f.read())
            if not found:
                problems.append(f"no code found in the {sink} sink's {name} (log_scan.py's pattern)")
            codes.update(found)
    return codes, problems


def _leaks(line, secrets, codes):
    for secret in secrets:
        if secret in line:
            yield "a configured secret"
    for card in KNOWN_CARDS:
        if card in line:
            yield "a clear test card number"
    for number in LONE_CARD_RE.findall(line):
        if number not in KNOWN_CARDS and luhn_valid(number):
            yield "a clear card number"
    for code in codes:
        if re.search(r"(?<![0-9A-Za-z])" + code + r"(?![0-9A-Za-z])", line):
            yield "a code sent to a person"


def _json_problem(line):
    try:
        obj = json.loads(line)
    except ValueError as e:
        return f"not JSON ({e})"
    if not isinstance(obj, dict):
        return "not a JSON object"
    missing = [k for k in ("time", "level", "message") if not isinstance(obj.get(k), str)]
    if missing:
        return f"no {', '.join(missing)}"
    if not JSON_TIME_RE.match(obj["time"]):
        return f"time {obj['time']!r} is not RFC 3339 UTC with milliseconds"
    return None


def scan(log_paths, stderr_paths, config_path, env, data_dir, problems_max=10, extra_secrets=()):
    """Problems found in a server's logs (empty: none), each naming the file and line. A secret
    itself is never repeated in the report (it is in a file of the test's own). `env`: the
    server's environment; `extra_secrets`: secrets the server made and a test saw (API keys)."""
    secrets = config_secrets(config_path, env) | {s for s in extra_secrets if len(s) >= SECRET_CHARS_MIN}
    codes, problems = sent_codes(data_dir)
    check_json = env.get("PAYOUTD_LOG_FORMAT") == "json"
    for path in log_paths:
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                lines = f.read().splitlines()
        except OSError:
            continue
        for number, line in enumerate(lines, 1):
            where = f"{os.path.basename(path)}:{number}"
            for leak in set(_leaks(line, secrets, codes)):
                problems.append(f"{where}: {leak} in the log")
            if check_json and path in stderr_paths:
                problem = _json_problem(line)
                if problem:
                    problems.append(f"{where}: {problem}: {line[:200]!r}")
            if len(problems) >= problems_max:
                return problems
    return problems
