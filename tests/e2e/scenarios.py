"""Replays scenario files (tests/e2e/scenarios/README.md): requests and the answers they must get,
as data, each file against a fresh payoutd.

    python3 scenarios.py FILE_OR_DIRECTORY...

Every file gets its own server (harness.Server: a fresh data directory, a free port, the store of
PAYOUTD_E2E_BACKEND). A file stops at its first mismatch, which is reported with the file, the
line, the request, the expected and the actual answer. Exit status 0 when every file passed.
Standard library only.
"""
import http.client
import json
import os
import re
import sys
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import openapi_check  # noqa: E402
from harness import HarnessError, Server, ecommpay_sign  # noqa: E402
from scenario_file import SIGNATURE_VAR, Parser, ScenarioError  # noqa: E402
from scenario_match import EMPTY_BODY, NAME_RE, Matcher, Mismatch, plain_text  # noqa: E402

REQUEST_TIMEOUT_S = 30.0
RETRY_PAUSE_S = 0.1
REPORT_BODY_CHARS_MAX = 4000


# --------------------------------------------------------------------------------------------
# Requests: ${...} substitutions

def quoted(text, pos):
    """Decodes the quoted string starting at text[pos] ("): (bytes, index after it). Escapes:
    \\n \\r \\t \\\\ \\" \\xHH (one byte) \\uHHHH (a character, in UTF-8)."""
    out = bytearray()
    i = pos + 1
    simple = {"n": b"\n", "r": b"\r", "t": b"\t", "\\": b"\\", '"': b'"'}
    while i < len(text):
        c = text[i]
        if c == '"':
            return bytes(out), i + 1
        if c != "\\":
            out += c.encode("utf-8")
            i += 1
            continue
        e = text[i + 1:i + 2]
        if e in simple:
            out += simple[e]
            i += 2
        elif e == "x" and re.fullmatch(r"[0-9A-Fa-f]{2}", text[i + 2:i + 4]):
            out.append(int(text[i + 2:i + 4], 16))
            i += 4
        elif e == "u" and re.fullmatch(r"[0-9A-Fa-f]{4}", text[i + 2:i + 6]):
            out += chr(int(text[i + 2:i + 6], 16)).encode("utf-8")
            i += 6
        else:
            raise ValueError(f"unknown escape \\{e} in a quoted string")
    raise ValueError("a quoted string is not closed")


REPEAT_RE = re.compile(r"repeat\(\s*([0-9]+)\s*,\s*")


def substitution(text, pos, variables):
    """The ${...} starting at text[pos]: (bytes, index after it)."""
    i = pos + 2
    m = REPEAT_RE.match(text, i)
    if m and text[m.end():m.end() + 1] == '"':
        value, i = quoted(text, m.end())
        while text[i:i + 1] == " ":
            i += 1
        if text[i:i + 2] != ")}":
            raise ValueError("repeat(N, \"text\") must end with )}")
        return value * int(m.group(1)), i + 2
    if text[i:i + 1] == '"':
        value, i = quoted(text, i)
        if text[i:i + 1] != "}":
            raise ValueError("a quoted ${\"...\"} must end with }")
        return value, i + 1
    end = text.find("}", i)
    name = text[i:end] if end >= 0 else ""
    if not NAME_RE.match(name):
        raise ValueError(f"${{{text[i:i + 20]}... is neither a name, a \"quoted string\" nor repeat(N, \"text\")")
    if name not in variables:
        raise ValueError(f"${{{name}}} was not captured by an earlier answer")
    return plain_text(variables[name]).encode("utf-8"), end + 1


def expand(text, variables, keep=()):
    """`text` with every ${...} replaced, as bytes; the literal texts in `keep` stay as they are."""
    out = bytearray()
    i = 0
    while True:
        j = text.find("${", i)
        if j < 0:
            out += text[i:].encode("utf-8")
            return bytes(out)
        out += text[i:j].encode("utf-8")
        kept = next((k for k in keep if text.startswith(k, j)), None)
        if kept:
            out += kept.encode("utf-8")
            i = j + len(kept)
            continue
        value, i = substitution(text, j, variables)
        out += value


def sign_ecommpay(step, target, body):
    """Puts ecommpay's signature (docs/ecommpay.md) under the step's secret in place of
    ${signature}: of the query's parameters when the target holds it, else of the JSON body."""
    if SIGNATURE_VAR in target:
        query = urllib.parse.urlsplit(target.replace(SIGNATURE_VAR, "")).query
        params = {k: v for k, v in urllib.parse.parse_qsl(query, keep_blank_values=True) if k != "signature"}
        signature = urllib.parse.quote(ecommpay_sign(step.sign_secret, params), safe="")
        return target.replace(SIGNATURE_VAR, signature), body
    value = json.loads(body.decode("utf-8"), parse_float=str, parse_int=str)
    signature = ecommpay_sign(step.sign_secret, value)
    return target, body.replace(SIGNATURE_VAR.encode(), signature.encode())


def build_request(step, variables):
    """(target, headers, body bytes or None) of a request step, every substitution made."""
    keep = (SIGNATURE_VAR,) if step.sign_secret else ()
    target = expand(step.target, variables, keep).decode("ascii")
    headers = [(name, expand(value, variables).decode("latin-1")) for name, value in step.headers]
    body = expand(step.body, variables, keep) if step.body is not None else None
    if step.sign_secret:
        target, body = sign_ecommpay(step, target, body)
    return target, headers, body


def send(port, method, target, headers, body):
    """One request on a fresh connection: (status, {lower-case name: value}, body bytes, reason
    phrase)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_S)
    try:
        conn.putrequest(method, target, skip_accept_encoding=True)
        for name, value in headers:
            conn.putheader(name, value)
        if body is not None or method in ("POST", "PUT", "PATCH"):
            conn.putheader("Content-Length", str(len(body or b"")))
        conn.endheaders(body)
        resp = conn.getresponse()
        headers, raw = {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        openapi_check.check(method, target, resp.status, headers, raw)
        return resp.status, headers, raw, resp.reason
    finally:
        conn.close()


# --------------------------------------------------------------------------------------------
# Running a file

class Failure(Exception):
    """A step that failed, with its report."""


def report(step, target, body, expected_why, answer):
    status, headers, raw, reason = answer if answer else (None, {}, b"", "")
    lines = [f"{step.where()}: {step.method} {target}", f"  {expected_why}"]
    if body:
        lines.append("--- request body")
        lines.append(body.decode("utf-8", "replace")[:REPORT_BODY_CHARS_MAX])
    exp = step.expect
    lines.append(f"--- expected (line {exp.line})")
    lines.append(f"{exp.status} {exp.reason}" if exp.reason is not None else str(exp.status))
    lines += [f"{n}: {v}" for n, v in exp.headers]
    lines.append(exp.body if exp.body is not None else "(body not checked)")
    lines.append("--- actual")
    if answer:
        lines.append(f"{status} {reason}")
        lines += [f"{n}: {v}" for n, v in headers.items() if n in {h[0].lower() for h in exp.headers}]
        lines.append(raw.decode("utf-8", "replace")[:REPORT_BODY_CHARS_MAX] if raw else EMPTY_BODY)
    else:
        lines.append("(no answer)")
    return "\n".join(lines)


def run_request(step, server, variables):
    try:
        target, headers, body = build_request(step, variables)
    except (ValueError, UnicodeError) as e:
        raise Failure(f"{step.where()}: {e}") from None
    deadline = time.monotonic() + step.retry_s
    while True:
        matcher = Matcher(variables)
        answer = None
        try:
            answer = send(server.port, step.method, target, headers, body)
            matcher.answer(step.expect, *answer)
            variables.update(matcher.captured)
            return
        except Mismatch as e:
            why = e.why
        except openapi_check.ContractError as e:
            raise Failure(f"{step.where()}: the answer breaks docs/openapi: {e}") from None
        except (OSError, http.client.HTTPException) as e:
            why = f"no answer: {e!r}"
        if time.monotonic() >= deadline:
            raise Failure(report(step, target, body, why, answer))
        time.sleep(RETRY_PAUSE_S)


def run_steps(steps, server):
    """Runs every step in order against a started server; raises Failure at the first mismatch."""
    variables = {}
    for step in steps:
        if step.kind == "sleep":
            time.sleep(step.sleep_s)
        elif step.kind == "audit":
            rc, out = server.run_audit()
            if rc != 0:
                raise Failure(f"{step.where()}: payoutd audit exited {rc}:\n{out}")
        else:
            run_request(step, server, variables)


def run_file(path, out=sys.stdout):
    """Replays one file against its own fresh server; True when every answer matched."""
    try:
        steps = Parser().parse_file(path)
    except (ScenarioError, OSError, UnicodeError) as e:
        out.write(f"FAIL {path}: {e}\n")
        return False
    server = Server()
    try:
        server.start()
        run_steps(steps, server)
        server.stop(check=True)
    except Failure as e:
        out.write(f"FAIL {e}\n--- server log\n{server.log_tail()}\n")
        return False
    except HarnessError as e:
        out.write(f"FAIL {path}: {e}\n")
        return False
    finally:
        server.close()
    out.write(f"ok   {path} ({sum(s.kind == 'request' for s in steps)} requests, {server.backend})\n")
    return True


def scenario_files(args):
    for arg in args:
        p = Path(arg)
        yield from sorted(p.rglob("*.scenario")) if p.is_dir() else [p]


def main(args):
    if not args:
        sys.stderr.write(__doc__)
        return 2
    results = [run_file(p) for p in scenario_files(args)]
    return 0 if results and all(results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
