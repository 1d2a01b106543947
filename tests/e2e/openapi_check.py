"""Checks payoutd's HTTP answers against its OpenAPI 3.1 documents (docs/openapi/).

Every answer an end-to-end test receives goes through check() (the harness's Api.request,
raw_exchange and read_response, the scenario runner): the request's path must be a path
template of the document that owns its prefix, its method one of the template's operations and
the status one of the operation's responses; a JSON body must validate against that response's
schema (JSON Schema Draft 2020-12, which OpenAPI 3.1 schemas are), and a required response header
must be there. Callbacks payoutd sends are checked by check_callback() against ecommpay.yaml's
webhook. A mismatch raises ContractError (an AssertionError, so the test fails) naming the
request, the answer and what the document says.

Two extensions of payoutd's own say what OpenAPI cannot (docs/openapi/README.md):
  x-payoutd-prefixes        (document) the paths the document owns: one ending in "/" every path
                            under it, any other itself only; the longest wins
  x-payoutd-unmatched-path  (document) the answers to a path under them that no template matches
  x-payoutd-other-methods   (path item) the answers to every method the path item does not list

Paths no document describes (hosted HTML pages, the cabinet, the console, static assets) are in
NOT_DESCRIBED; /metrics is on a listener of its own and never passes through here.

Each document is read and its schemas compiled once per process (validators are cached).
Needs Debian's python3-yaml and python3-jsonschema.
"""
import json
import re
import threading
from decimal import Decimal
from pathlib import Path

import jsonschema
import yaml

OPENAPI_DIR = Path(__file__).resolve().parents[2] / "docs" / "openapi"
DOCUMENTS = ("qiwi", "bereke", "ecommpay", "admin", "server")
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

# Served, and described in no document: the hosted card pages (Bereke's and ecommpay's), the
# partners' cabinet, the operators' console, and the static files those pages load.
NOT_DESCRIBED = re.compile(r"^(/payouts/payment/|/payment(/|$)|/shared/|/cabinet(/|$)|/console(/|$)"
                           r"|/static/|/favicon\.ico$)")


class ContractError(AssertionError):
    """An answer that breaks payoutd's OpenAPI documents."""


def _resolve(node, root, seen=()):
    """node with every local $ref replaced by what it points to (a $ref with siblings becomes an
    allOf of both), so that the jsonschema of any Debian release validates it without a
    resolver."""
    if isinstance(node, list):
        return [_resolve(item, root, seen) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/") or ref in seen:
            raise ContractError(f"unsupported or recursive $ref {ref!r} in docs/openapi")
        target = root
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        resolved = _resolve(target, root, seen + (ref,))
        rest = {k: _resolve(v, root, seen) for k, v in node.items() if k != "$ref"}
        return {"allOf": [resolved, rest]} if rest else resolved
    return {k: _resolve(v, root, seen) for k, v in node.items()}


def _template_regex(template):
    parts = re.split(r"(\{[^}/]+\})", template)
    return re.compile("^" + "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts) + "$")


class Document:
    """One OpenAPI document, its $refs resolved once."""

    def __init__(self, name):
        self.name = name
        self.path = OPENAPI_DIR / f"{name}.yaml"
        with open(self.path, encoding="utf-8") as f:
            raw = yaml.safe_load(f)
        self.spec = _resolve(raw, raw)
        self.prefixes = self.spec.get("x-payoutd-prefixes", [])
        self.unmatched = self.spec.get("x-payoutd-unmatched-path", {}).get("responses", {})
        # Literal templates first, so that /a/stats wins over /a/{id}.
        self.templates = sorted(((t, _template_regex(t), item) for t, item in self.spec.get("paths", {}).items()),
                                key=lambda e: e[0].count("{"))
        self._validators = {}
        self._lock = threading.Lock()

    def validator(self, key, schema):
        with self._lock:
            v = self._validators.get(key)
            if v is None:
                jsonschema.Draft202012Validator.check_schema(schema)
                v = self._validators[key] = jsonschema.Draft202012Validator(schema)
            return v


_documents = None
_documents_lock = threading.Lock()


def documents():
    """Every document, loaded on first use."""
    global _documents
    with _documents_lock:
        if _documents is None:
            _documents = {name: Document(name) for name in DOCUMENTS}
        return _documents


def owner(path):
    """The document whose prefix is the longest one `path` starts with."""
    best, best_len = None, -1
    for doc in documents().values():
        for prefix in doc.prefixes:
            owned = path.startswith(prefix) if prefix.endswith("/") else path == prefix
            if owned and len(prefix) > best_len:
                best, best_len = doc, len(prefix)
    return best


def find_response(method, path, status):
    """(document, where, response object) documenting `status` for `method path`; raises
    ContractError naming what is undocumented."""
    doc = owner(path)
    if doc is None:
        raise ContractError(f"{method} {path}: no document in docs/openapi owns this path")
    for template, regex, item in doc.templates:
        if not regex.match(path):
            continue
        operation = item.get(method.lower())
        if operation is None and "x-payoutd-other-methods" not in item:
            raise ContractError(f"{method} {path}: method {method} of {template} is not in "
                                f"docs/openapi/{doc.name}.yaml")
        if operation is None:
            template += " (other methods)"
            operation = {"responses": item["x-payoutd-other-methods"]}
        responses = operation.get("responses", {})
        response = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX")
        if response is None:
            raise ContractError(f"{method} {path}: status {status} of {method} {template} is not in "
                                f"docs/openapi/{doc.name}.yaml (documented: {', '.join(responses)})")
        return doc, f"{method} {template}", response
    response = doc.unmatched.get(str(status))
    if response is None:
        raise ContractError(f"{method} {path}: the path is not in docs/openapi/{doc.name}.yaml "
                            f"(and {status} is not its answer to unknown paths)")
    return doc, f"a path no template of {doc.name}.yaml matches", response


def _parse_json(raw):
    return json.loads(raw.decode("utf-8"), parse_float=Decimal,
                      parse_constant=lambda name: (_ for _ in ()).throw(ValueError(name)))


def _schema_errors(doc, key, schema, value):
    errors = sorted(doc.validator(key, schema).iter_errors(value), key=lambda e: list(e.absolute_path))
    return [f"at /{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:5]]


def check(method, target, status, headers, raw):
    """Raises ContractError unless docs/openapi documents this answer. target: the request's
    path and query; headers: the answer's, lower-case names; raw: its body bytes."""
    path = target.split("?", 1)[0].split("#", 1)[0] or "/"
    if NOT_DESCRIBED.match(path):
        return
    doc, where, response = find_response(method, path, status)
    what = f"{method} {target[:200]} -> {status}: {where} in docs/openapi/{doc.name}.yaml"
    for name, header in response.get("headers", {}).items():
        if header.get("required") and name.lower() not in headers:
            raise ContractError(f"{what}: header {name} is required and missing")
    content = response.get("content")
    if not content:
        if raw and method != "HEAD":
            raise ContractError(f"{what}: documents no body, got {raw[:200]!r}")
        return
    if method == "HEAD":
        return
    media = headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in content:
        raise ContractError(f"{what}: Content-Type {media!r} is not one of {', '.join(content)}")
    schema = content[media].get("schema")
    if schema is None:
        return
    if media != "application/json" and not media.endswith("+json"):
        if schema.get("type") == "string" and "pattern" in schema:
            if not re.search(schema["pattern"], raw.decode("utf-8", "replace")):
                raise ContractError(f"{what}: body {raw[:200]!r} does not match {schema['pattern']!r}")
        return
    try:
        value = _parse_json(raw)
    except (ValueError, UnicodeDecodeError) as e:
        raise ContractError(f"{what}: the body is not JSON ({e}): {raw[:200]!r}") from None
    problems = _schema_errors(doc, (where, status, media), schema, value)
    if problems:
        raise ContractError(f"{what}: the body breaks the schema\n  " + "\n  ".join(problems) +
                            f"\n  body: {raw[:400]!r}")


def check_callback(body):
    """Raises ContractError unless `body` (bytes, text or parsed JSON) is a callback as
    ecommpay.yaml's webhook payoutCallback describes it."""
    value = _parse_json(body.encode() if isinstance(body, str) else body) \
        if isinstance(body, (bytes, str)) else body
    doc = documents()["ecommpay"]
    schema = doc.spec["webhooks"]["payoutCallback"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    problems = _schema_errors(doc, ("webhook", "payoutCallback"), schema, value)
    if problems:
        raise ContractError("a callback breaks ecommpay.yaml's webhook payoutCallback\n  " +
                            "\n  ".join(problems) + f"\n  body: {str(value)[:400]}")


def check_request_head(head, status, headers, raw):
    """check() of an answer to a request given as raw bytes (request line and headers): a
    request line the server could not read as one (or none at all) is checked as a path no
    document has."""
    line = head.split(b"\r\n", 1)[0].decode("latin-1", "replace").split(" ")
    if len(line) == 3 and line[1].startswith("/"):
        return check(line[0], line[1], status, headers, raw)
    return check(line[0] or "GET", "/\x00unreadable", status, headers, raw)


def examples(doc):
    """(where, schema, example value) of every media type example in a document: each must
    validate against its schema (tests/e2e/test_openapi.py)."""
    found = []

    def media_types(where, content):
        for media, body in (content or {}).items():
            schema = body.get("schema")
            if schema is None:
                continue
            if "example" in body:
                found.append((f"{where} {media}", schema, body["example"]))
            for name, ex in body.get("examples", {}).items():
                found.append((f"{where} {media} example {name}", schema, ex.get("value")))

    def operation(where, op):
        media_types(f"{where} request", (op.get("requestBody") or {}).get("content"))
        for status, response in op.get("responses", {}).items():
            media_types(f"{where} {status}", response.get("content"))

    for template, item in list(doc.spec.get("paths", {}).items()) + \
            [(f"webhook {n}", i) for n, i in doc.spec.get("webhooks", {}).items()]:
        for method in HTTP_METHODS:
            if method in item:
                operation(f"{method.upper()} {template}", item[method])
    return found

