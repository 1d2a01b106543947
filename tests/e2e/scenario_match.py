"""The answers of scenario files (tests/e2e/scenarios/README.md): JSON compared with its number
literals as written, {{...}} placeholders for what varies, ${name} for what an earlier answer
captured. Standard library only."""
import json
import re
from dataclasses import dataclass

from harness import UUID_RE

EMPTY_BODY = "(empty)"
NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
DATETIME_PATTERN = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?"
UUID_PATTERN = UUID_RE.pattern.strip("^$")


class Mismatch(Exception):
    """An answer other than the expected one; `why` says where they differ."""

    def __init__(self, why):
        super().__init__(why)
        self.why = why


class Num:
    """A JSON number as its literal text: 100.50 and 100.5 differ, as they do on the wire."""

    def __init__(self, text, is_int):
        self.text, self.is_int = text, is_int

    def __eq__(self, other):
        return isinstance(other, Num) and other.text == self.text

    def __repr__(self):
        return self.text


def parse_json(text):
    """The JSON value of `text` with every number a Num; raises ValueError when it is not JSON."""
    return json.loads(text, parse_float=lambda s: Num(s, False), parse_int=lambda s: Num(s, True),
                      parse_constant=lambda s: Num(s, False))


def json_text(value):
    """`value` as compact JSON text (a Num as its literal)."""
    if isinstance(value, Num):
        return value.text
    if isinstance(value, dict):
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + json_text(v) for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(json_text(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def plain_text(value):
    """A captured value as it is put into a request: a string as it is, anything else as JSON."""
    return value if isinstance(value, str) else json_text(value)


@dataclass
class Placeholder:
    kind: str              # uuid, datetime, int, string, any, or re
    pattern: str = ""      # kind re: the regular expression
    compare: tuple = None  # kind int: (operator, bound text, may hold ${name})
    capture: str = None


NAMED = {"uuid": UUID_PATTERN, "datetime": DATETIME_PATTERN, "int": r"-?[0-9]+", "any": r".*"}
PLACEHOLDER_RE = re.compile(r"^(\w+)(?:\s*(>=|<=|>|<)\s*(\S+))?(?:\s+as\s+(\w+))?$")
REGEX_END_RE = re.compile(r"/(?:\s+as\s+(\w+))?\}\}")


def template_tokens(text):
    """A template's parts: ("text", literal), ("var", name) for ${name}, ("ph", Placeholder)."""
    tokens, i, literal = [], 0, []
    while i < len(text):
        if text.startswith("${", i):
            end = text.find("}", i)
            if end < 0 or not NAME_RE.match(text[i + 2:end]):
                raise ValueError(f"{text[i:i + 20]!r}: ${{name}} expected")
            tokens += [("text", "".join(literal)), ("var", text[i + 2:end])]
            literal, i = [], end + 1
        elif text.startswith("{{", i):
            ph, i = placeholder(text, i)
            tokens += [("text", "".join(literal)), ("ph", ph)]
            literal = []
        else:
            literal.append(text[i])
            i += 1
    tokens.append(("text", "".join(literal)))
    return [t for t in tokens if t != ("text", "")]


def placeholder(text, pos):
    """The {{...}} starting at text[pos]: (Placeholder, index after it)."""
    if text.startswith("{{/", pos):
        m = REGEX_END_RE.search(text, pos + 3)
        if not m:
            raise ValueError(f"{text[pos:pos + 30]!r}: a {{{{/regex/}}}} is not closed")
        pattern = text[pos + 3:m.start()]
        re.compile(pattern)
        return Placeholder("re", pattern=pattern, capture=m.group(1)), m.end()
    i = pos + 2
    while i < len(text) and not text.startswith("}}", i):
        i = text.index("}", i) + 1 if text.startswith("${", i) else i + 1
    m = PLACEHOLDER_RE.match(text[pos + 2:i].strip())
    if i >= len(text) or not m or m.group(1) not in NAMED:
        raise ValueError(f"{text[pos:i + 2]!r} is not a placeholder ({', '.join(NAMED)}, or /regex/)")
    if m.group(2) and m.group(1) != "int":
        raise ValueError(f"{text[pos:i + 2]!r}: only int compares")
    compare = (m.group(2), m.group(3)) if m.group(2) else None
    return Placeholder(m.group(1), compare=compare, capture=m.group(4)), i + 2


class Matcher:
    """Matches one answer against one expectation; captures go to `captured` (committed by the
    caller only when the whole answer matched)."""

    def __init__(self, variables):
        self.variables = variables
        self.captured = {}

    def lookup(self, name):
        if name in self.captured:
            return self.captured[name]
        if name not in self.variables:
            raise Mismatch(f"${{{name}}} was not captured by an earlier answer")
        return self.variables[name]

    # -- the body --
    def body(self, expected, raw):
        if expected == EMPTY_BODY:
            if raw:
                raise Mismatch("the body is not empty")
            return
        try:
            want = parse_json(expected)
        except ValueError:
            self.text(expected, raw.decode("utf-8", "replace"), "the body")
            return
        try:
            got = parse_json(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise Mismatch("the body is not JSON") from None
        self.value(want, got, "$")

    def value(self, want, got, path):
        if isinstance(want, dict):
            self.object(want, got, path)
        elif isinstance(want, list):
            if not isinstance(got, list) or len(got) != len(want):
                raise Mismatch(f"{path}: expected a list of {len(want)}, got {json_text(got)[:200]}")
            for n, (w, g) in enumerate(zip(want, got)):
                self.value(w, g, f"{path}[{n}]")
        elif isinstance(want, str) and ("{{" in want or "${" in want):
            self.template(want, got, path)
        elif want != got or type(want) is not type(got):
            raise Mismatch(f"{path}: expected {json_text(want)}, got {json_text(got)[:200]}")

    def object(self, want, got, path):
        if not isinstance(got, dict):
            raise Mismatch(f"{path}: expected an object, got {json_text(got)[:200]}")
        missing = [k for k in want if k not in got]
        extra = [k for k in got if k not in want]
        if missing or extra:
            raise Mismatch(f"{path}: members missing {missing}, unexpected {extra}")
        for key, w in want.items():
            self.value(w, got[key], f"{path}.{key}")

    def template(self, want, got, path):
        try:
            tokens = template_tokens(want)
        except (ValueError, re.error) as e:
            raise Mismatch(f"{path}: {e}") from None
        if len(tokens) == 1 and tokens[0][0] == "var":
            expected = self.lookup(tokens[0][1])
            if expected != got or type(expected) is not type(got):
                raise Mismatch(f"{path}: expected ${{{tokens[0][1]}}} = {json_text(expected)}, got {json_text(got)[:200]}")
            return
        if len(tokens) == 1 and tokens[0][0] == "ph":
            self.whole(tokens[0][1], got, path)
            return
        if not isinstance(got, str):
            raise Mismatch(f"{path}: expected a string like {json.dumps(want)}, got {json_text(got)[:200]}")
        self.text(want, got, path, tokens)

    def whole(self, ph, got, path):
        """A placeholder standing for a whole JSON value."""
        if ph.kind == "int":
            ok = isinstance(got, Num) and got.is_int
        elif ph.kind == "any":
            ok = True
        elif ph.kind == "re" and isinstance(got, Num):
            ok = re.fullmatch(ph.pattern, got.text) is not None
        else:
            ok = isinstance(got, str) and re.fullmatch(NAMED.get(ph.kind, ph.pattern), got) is not None
        if not ok:
            raise Mismatch(f"{path}: {json_text(got)[:200]} is not {self.describe(ph)}")
        self.accept(ph, got, got.text if isinstance(got, Num) else None, path)

    def text(self, want, got, path, tokens=None):
        """`got` (a string) against the template `want`, as a whole."""
        try:
            tokens = tokens if tokens is not None else template_tokens(want)
        except (ValueError, re.error) as e:
            raise Mismatch(f"{path}: {e}") from None
        regex, groups = [], []
        for kind, item in tokens:
            if kind == "text":
                regex.append(re.escape(item))
            elif kind == "var":
                regex.append(re.escape(plain_text(self.lookup(item))))
            else:
                groups.append(item)
                regex.append(f"({NAMED.get(item.kind, item.pattern)})")
        m = re.fullmatch("".join(regex), got, re.S)
        if not m:
            raise Mismatch(f"{path}: {json.dumps(got, ensure_ascii=False)[:300]} does not match {json.dumps(want, ensure_ascii=False)[:300]}")
        for n, ph in enumerate(groups):
            self.accept(ph, m.group(n + 1), m.group(n + 1) if ph.kind == "int" else None, path)

    def accept(self, ph, value, number_text, path):
        if ph.compare:
            op, bound = ph.compare
            if bound.startswith("${") and bound.endswith("}"):
                bound = plain_text(self.lookup(bound[2:-1]))
            ok = {">=": int.__ge__, "<=": int.__le__, ">": int.__gt__, "<": int.__lt__}[op](int(number_text), int(bound))
            if not ok:
                raise Mismatch(f"{path}: {number_text} is not {op} {bound}")
        if ph.capture:
            self.captured[ph.capture] = value

    @staticmethod
    def describe(ph):
        return f"/{ph.pattern}/" if ph.kind == "re" else f"{{{{{ph.kind}}}}}"

    # -- the whole answer --
    def answer(self, expect, status, headers, raw, reason=None):
        if status != expect.status:
            raise Mismatch(f"status: expected {expect.status}, got {status}")
        if expect.reason is not None and reason != expect.reason:
            raise Mismatch(f"reason phrase: expected {expect.reason!r}, got {reason!r}")
        for name, value in expect.headers:
            if name.lower() not in headers:
                raise Mismatch(f"header {name}: missing")
            self.text(value, headers[name.lower()], f"header {name}")
        if expect.body is not None:
            self.body(expect.body, raw)


def check_expectation(expect):
    """Raises ValueError naming the first template of `expect` that cannot be read (a body that
    starts as JSON but is not, a placeholder unknown or unclosed), before anything is sent."""
    for _, value in expect.headers:
        template_tokens(value)
    if expect.body is None or expect.body == EMPTY_BODY:
        return
    if expect.body.lstrip()[:1] not in ("{", "[", '"'):
        template_tokens(expect.body)
        return
    try:
        want = parse_json(expect.body)
    except ValueError as e:
        raise ValueError(f"the body is not JSON: {e}") from None
    stack = [want]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            template_tokens(item)
