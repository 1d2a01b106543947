"""Reads scenario files (tests/e2e/scenarios/README.md) into steps: requests with their expected
answers, and directives. Standard library only."""
import re
from dataclasses import dataclass, field
from pathlib import Path

from scenario_match import check_expectation

HEADER_RE = re.compile(r"^([A-Za-z0-9!#$%&'*+.^_`|~-]+):(?: (.*))?$")
METHOD_RE = re.compile(r"^[A-Z]+$")
STATUS_RE = re.compile(r"^([1-5][0-9][0-9])(?: (\S.*))?$")  # a status, then its reason phrase if given
SIGNATURE_VAR = "${signature}"
SECONDS_MAX = 600


class ScenarioError(Exception):
    """A file that cannot be read as a scenario (its file and line are in the message)."""


@dataclass
class Expectation:
    """The answer a request must get; `line` is its status line's."""
    line: int
    status: int
    reason: str = None                            # None: not checked
    headers: list = field(default_factory=list)   # (name, value template)
    body: str = None                              # None: not checked; EMPTY_BODY: must be empty


@dataclass
class Step:
    """One record of a file: a request and its expected answer, or a directive."""
    file: str
    line: int
    kind: str                                     # request, sleep, audit
    method: str = ""
    target: str = ""
    headers: list = field(default_factory=list)   # (name, value): the defaults it names not, then its own
    body: str = None                              # None: no body; may hold ${...}
    retry_s: float = 0.0
    sign_secret: str = None
    sleep_s: float = 0.0
    expect: Expectation = None

    def where(self):
        return f"{self.file}:{self.line}"


def request_words(line):
    """A request line's words: spaces inside ${...} (and its quoted strings) do not split."""
    words, word, depth, in_quote, i = [], [], 0, False, 0
    while i < len(line):
        c = line[i]
        if in_quote:
            if c == "\\":
                word.append(line[i:i + 2])
                i += 2
                continue
            in_quote = c != '"'
        elif depth and c == '"':
            in_quote = True
        elif line.startswith("${", i):
            depth += 1
        elif depth and c == "}":
            depth -= 1
        elif c == " " and not depth:
            if word:
                words.append("".join(word))
            word = []
            i += 1
            continue
        word.append(c)
        i += 1
    if word:
        words.append("".join(word))
    return words


class Parser:
    """Reads a scenario file (and the files it includes) into Steps; defaults are resolved here."""

    def __init__(self):
        self.steps = []
        self.defaults = []

    def parse_file(self, path, included_from=()):
        path = Path(path)
        if path.resolve() in included_from:
            raise ScenarioError(f"{path}: includes itself")
        lines = path.read_text(encoding="utf-8").split("\n")
        i = 0
        while i < len(lines):
            line = lines[i]
            if not line.strip() or line.startswith("#"):
                i += 1
                continue
            i = self.parse_record(path, lines, i, included_from + (path.resolve(),))
        return self.steps

    def error(self, path, i, message):
        return ScenarioError(f"{path}:{i + 1}: {message}")

    def parse_record(self, path, lines, i, included):
        words = lines[i].split()
        if words[0] == "include" and len(words) == 2:
            defaults = self.defaults  # an included file's defaults end with it
            self.parse_file(path.parent / words[1], included)
            self.defaults = defaults
            return i + 1
        if words[0] == "sleep" and len(words) == 2:
            self.steps.append(Step(str(path), i + 1, "sleep", sleep_s=self.seconds(path, i, words[1])))
            return i + 1
        if words == ["audit"]:
            self.steps.append(Step(str(path), i + 1, "audit"))
            return i + 1
        if words == ["defaults"]:
            self.defaults, i = self.header_lines(lines, i + 1)
            return i
        words = request_words(lines[i])
        if not words or not METHOD_RE.match(words[0]) or len(words) < 2:
            raise self.error(path, i, f"not a request line nor a directive: {lines[i]!r}")
        return self.parse_request(path, lines, i, words)

    def seconds(self, path, i, text):
        try:
            value = float(text)
        except ValueError:
            value = -1
        if not 0 <= value <= SECONDS_MAX:
            raise self.error(path, i, f"{text!r} is not a number of seconds from 0 to {SECONDS_MAX}")
        return value

    @staticmethod
    def header_lines(lines, i):
        headers = []
        while i < len(lines):
            m = HEADER_RE.match(lines[i])
            if not m:
                break
            headers.append((m.group(1), m.group(2) or ""))
            i += 1
        return headers, i

    def parse_request(self, path, lines, i, words):
        step = Step(str(path), i + 1, "request", method=words[0], target=words[1])
        for option in words[2:]:
            name, _, value = option.partition("=")
            if name == "retry":
                step.retry_s = self.seconds(path, i, value)
            elif name == "sign" and value.startswith("ecommpay:") and len(value) > len("ecommpay:"):
                step.sign_secret = value[len("ecommpay:"):]
            else:
                raise self.error(path, i, f"unknown option {option!r} (retry=SECONDS, sign=ecommpay:SECRET)")
        own, i = self.header_lines(lines, i + 1)
        named = {n.lower() for n, _ in own}
        step.headers = [h for h in self.defaults if h[0].lower() not in named] + [h for h in own if h[1]]
        if i < len(lines) and not lines[i].strip():
            i += 1  # one blank line may separate the headers from the body
        start = i
        while i < len(lines) and lines[i] != "----":
            i += 1
        if i == len(lines):
            raise self.error(path, step.line - 1, "the request has no ---- line and no expected answer")
        step.body = "\n".join(lines[start:i]) if i > start else None
        if step.sign_secret and SIGNATURE_VAR not in (step.body or "") + step.target:
            raise self.error(path, step.line - 1, f"sign= needs {SIGNATURE_VAR} in the target or the body")
        step.expect, i = self.parse_expectation(path, lines, i + 1)
        self.steps.append(step)
        return i

    def parse_expectation(self, path, lines, i):
        status = STATUS_RE.match(lines[i]) if i < len(lines) else None
        if not status:
            raise self.error(path, i, "an expected HTTP status (three digits) must follow ----")
        expect = Expectation(i + 1, int(status[1]), status[2])
        expect.headers, i = self.header_lines(lines, i + 1)
        start = i
        while i < len(lines) and lines[i].strip():
            i += 1
        if i > start:
            expect.body = "\n".join(lines[start:i])
        try:
            check_expectation(expect)
        except ValueError as e:
            raise self.error(path, start, f"the expected answer: {e}") from None
        return expect, i
