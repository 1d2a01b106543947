"""The scenario runner itself (scenarios.py, scenarios/README.md): files are read as documented,
every kind of difference in an answer is a mismatch, requests are sent byte for byte, and a failing
file is reported with its file, line, expected and actual answer."""
import io
import json
import os
import sys
import tempfile
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ecommpay_sign  # noqa: E402
from scenario_file import Parser, ScenarioError  # noqa: E402
from scenario_match import Matcher, Mismatch, parse_json  # noqa: E402
from scenarios import build_request, run_file  # noqa: E402


def parse(text):
    with tempfile.NamedTemporaryFile("w", suffix=".scenario", delete=False, encoding="utf-8") as f:
        f.write(text)
    try:
        return Parser().parse_file(f.name)
    finally:
        os.unlink(f.name)


def expectation(body, status=200, headers=""):
    [step] = parse(f"GET /x\n----\n{status}\n{headers}{body}\n")
    return step.expect


class ParserTest(unittest.TestCase):

    def test_a_record_with_defaults_an_overridden_and_a_removed_header(self):
        steps = parse("# a comment\ndefaults\nAuthorization: Bearer t\nContent-Type: application/json\n\n"
                      "PUT /a/b?c=1 retry=2\nContent-Type:\nX-One: 1\n\n{\"a\":\n 1}\n----\n201\n"
                      "Content-Type: text/plain\nhello\n\nsleep 0.5\naudit\n")
        put, sleep, audit = steps
        self.assertEqual((put.method, put.target, put.retry_s, put.line), ("PUT", "/a/b?c=1", 2.0, 6))
        self.assertEqual(put.headers, [("Authorization", "Bearer t"), ("X-One", "1")])
        self.assertEqual(put.body, '{"a":\n 1}')
        self.assertEqual((put.expect.status, put.expect.headers, put.expect.body, put.expect.line),
                         (201, [("Content-Type", "text/plain")], "hello", 13))
        self.assertEqual((sleep.kind, sleep.sleep_s, audit.kind), ("sleep", 0.5, "audit"))

    def test_no_body_lines_is_no_body_and_no_expected_body_is_not_checked(self):
        [step] = parse("GET /x\n----\n404\n")
        self.assertIsNone(step.body)
        self.assertIsNone(step.expect.body)

    def test_spaces_inside_a_substitution_do_not_end_the_target(self):
        [step] = parse('GET /x/${repeat(3, "a b")}/y retry=1\n----\n200\n')
        self.assertEqual((step.target, step.retry_s), ('/x/${repeat(3, "a b")}/y', 1.0))

    def test_unreadable_files_name_the_line(self):
        cases = {
            "GET /x\n": ":1: the request has no ----",
            "GET /x\n----\nOK\n": ":3: an expected HTTP status",
            "\nGET /x bogus=1\n----\n200\n": ":2: unknown option 'bogus=1'",
            "get /x\n----\n200\n": ":1: not a request line",
            "GET /x\n----\n200\n{\"a\": }\n": ":4: the expected answer: the body is not JSON",
            "GET /x\n----\n200\n{\"a\":\"{{nope}}\"}\n": ":4: the expected answer: '{{nope}}' is not a placeholder",
            "GET /x sign=ecommpay:k\n----\n200\n": ":1: sign= needs ${signature}",
            "sleep 601\n": ":1: '601' is not a number of seconds",
        }
        for text, message in cases.items():
            with self.subTest(text=text):
                with self.assertRaises(ScenarioError) as e:
                    parse(text)
                self.assertIn(message, str(e.exception))

    def test_an_included_file_runs_in_place_and_its_defaults_end_with_it(self):
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "inner.scenario"), "w", encoding="utf-8") as f:
                f.write("defaults\nX-Inner: 1\n\nGET /inner\n----\n200\n")
            with open(os.path.join(d, "outer.scenario"), "w", encoding="utf-8") as f:
                f.write("defaults\nX-Outer: 1\n\ninclude inner.scenario\n\nGET /outer\n----\n200\n")
            inner, outer = Parser().parse_file(os.path.join(d, "outer.scenario"))
        self.assertEqual((inner.target, inner.headers, inner.file.endswith("inner.scenario")),
                         ("/inner", [("X-Inner", "1")], True))
        self.assertEqual((outer.target, outer.headers), ("/outer", [("X-Outer", "1")]))


class MatcherTest(unittest.TestCase):

    def match(self, body, raw, variables=None, status=200, headers=None, expected_headers=""):
        matcher = Matcher(variables or {})
        matcher.answer(expectation(body, headers=expected_headers), status, headers or {}, raw.encode())
        return matcher.captured

    def mismatch(self, body, raw, variables=None, **kw):
        with self.assertRaises(Mismatch) as e:
            self.match(body, raw, variables, **kw)
        return e.exception.why

    def test_json_is_compared_with_its_literals_types_members_and_order(self):
        self.match('{"a":100.50,"b":["x",2],"c":null}', '{"c":null,"b":["x",2],"a":100.50}')
        cases = [
            ('{"a":100.50}', '{"a":100.5}', "$.a: expected 100.50, got 100.5"),
            ('{"a":"2"}', '{"a":2}', "$.a: expected \"2\", got 2"),
            ('{"a":true}', '{"a":1}', "$.a"),
            ('{"a":1}', '{"a":1,"b":2}', "unexpected ['b']"),
            ('{"a":1,"b":2}', '{"a":1}', "missing ['b']"),
            ('{"a":[1,2]}', '{"a":[2,1]}', "$.a[0]"),
            ('{"a":[1]}', '{"a":[1,1]}', "expected a list of 1"),
            ('{"a":1}', 'not json', "not JSON"),
        ]
        for body, raw, why in cases:
            with self.subTest(body=body, raw=raw):
                self.assertIn(why, self.mismatch(body, raw))

    def test_status_headers_text_and_empty_bodies(self):
        self.assertIn("status: expected 200, got 404", self.mismatch('{"a":1}', '{"a":1}', status=404))
        self.match("hello {{int}}", "hello 12", expected_headers="Allow: POST\n", headers={"allow": "POST"})
        self.assertIn("header Allow", self.mismatch("x", "x", expected_headers="Allow: POST\n",
                                                    headers={"allow": "GET"}))
        self.assertIn("does not match", self.mismatch("hello {{int}}", "hello 12 "))
        self.match("(empty)", "")
        self.assertIn("not empty", self.mismatch("(empty)", " "))

    def test_a_reason_phrase_is_checked_only_where_written(self):
        self.assertEqual(expectation("x", status="502 Bad Gateway").reason, "Bad Gateway")
        self.assertIsNone(expectation("x", status=502).reason)
        Matcher({}).answer(expectation("x", status="502 Bad Gateway"), 502, {}, b"x", "Bad Gateway")
        Matcher({}).answer(expectation("x", status=502), 502, {}, b"x", "Status")
        with self.assertRaises(Mismatch) as e:
            Matcher({}).answer(expectation("x", status="502 Bad Gateway"), 502, {}, b"x", "Status")
        self.assertIn("reason phrase: expected 'Bad Gateway', got 'Status'", e.exception.why)

    def test_placeholders(self):
        ok = [
            ('{"a":"{{uuid}}"}', '{"a":"01a2433c-8b49-8fc8-8000-000400000001"}'),
            ('{"a":"{{datetime}}+03:00"}', '{"a":"2026-12-05T01:46:11+03:00"}'),
            ('{"a":"{{int}}"}', '{"a":1796424371024}'),
            ('{"a":"{{int >= 5}}"}', '{"a":5}'),
            ('{"a":"{{any}}"}', '{"a":{"b":[1]}}'),
            ('{"a":"{{/[0-9]{12}/}}"}', '{"a":"829161834136"}'),
            ('{"a":"{{/[0-9]{3}/}}"}', '{"a":123}'),
            ('{"a":"x{{int}}y"}', '{"a":"x-7y"}'),
        ]
        for body, raw in ok:
            with self.subTest(body=body):
                self.match(body, raw)
        bad = [
            ('{"a":"{{uuid}}"}', '{"a":"01a2433c"}'),
            ('{"a":"{{datetime}}+03:00"}', '{"a":"2026-12-05T01:46:11Z"}'),
            ('{"a":"{{int}}"}', '{"a":"12"}'),
            ('{"a":"{{int}}"}', '{"a":1.5}'),
            ('{"a":"{{int >= 5}}"}', '{"a":4}'),
            ('{"a":"{{/[0-9]{12}/}}"}', '{"a":"82916183413"}'),
            ('{"a":"x{{int}}y"}', '{"a":"xy"}'),
        ]
        for body, raw in bad:
            with self.subTest(body=body, raw=raw):
                self.mismatch(body, raw)

    def test_captures_are_typed_and_used_later(self):
        captured = self.match('{"id":"{{uuid as order}}","at":"{{int as created}}","url":"p:{{int as port}}/"}',
                              '{"id":"01a2433c-8b49-8fc8-8000-000400000001","at":17,"url":"p:8080/"}')
        self.assertEqual(captured["order"], "01a2433c-8b49-8fc8-8000-000400000001")
        self.assertEqual((captured["created"].text, captured["port"]), ("17", "8080"))
        self.match('{"id":"${order}","at":"${created}","later":"{{int > ${created}}}","url":"q${port}"}',
                   '{"id":"01a2433c-8b49-8fc8-8000-000400000001","at":17,"later":18,"url":"q8080"}', captured)
        self.assertIn("expected ${created} = 17", self.mismatch('{"at":"${created}"}', '{"at":"17"}', captured))
        self.assertIn("is not > 17", self.mismatch('{"at":"{{int > ${created}}}"}', '{"at":17}', captured))
        self.assertIn("was not captured", self.mismatch('{"at":"${nothing}"}', '{"at":1}'))


class RequestTest(unittest.TestCase):

    def build(self, text, variables=None):
        [step] = parse(text + "\n----\n200\n")
        return build_request(step, variables or {})

    def test_substitutions_make_the_bytes_sent(self):
        target, headers, body = self.build('POST /t/${id}\nX-Id: ${id}\n'
                                           '{"a":"${"\\xff\\n\\u0430"}","b":"${repeat(3, "\\"x")}"}',
                                           {"id": "7", "n": parse_json("5")})
        self.assertEqual((target, headers), ("/t/7", [("X-Id", "7")]))
        self.assertEqual(body, b'{"a":"\xff\n\xd0\xb0","b":""x"x"x"}')
        with self.assertRaises(ValueError):
            self.build("GET /t/${unknown}")

    def test_ecommpay_signatures_of_a_body_and_of_a_query(self):
        _, _, body = self.build('POST /r sign=ecommpay:k\n{"general":{"project_id":1,"signature":"${signature}"},"x":true}')
        sent = json.loads(body)
        self.assertEqual(sent["general"]["signature"], ecommpay_sign("k", {"general": {"project_id": 1}, "x": True}))
        target, _, _ = self.build("GET /l?project_id=91348&signature=${signature} sign=ecommpay:k")
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(target).query))
        self.assertEqual(query["signature"], ecommpay_sign("k", {"project_id": "91348"}))


class RunFileTest(unittest.TestCase):
    """Against the real server: a file passes, and one wrong expectation fails it at its line."""

    RECORDS = ("GET /partner/openapi-payment-api/v1/funder-payouts/products/best-partner/transactions/none\n"
               "Authorization: Bearer sandbox-best-partner-token\n----\n404\n"
               '{"serviceName":"payoutd-payments","errorCode":"%s",\n'
               ' "description":"no payout with this transactionId","userMessage":"Resource not found",\n'
               ' "dateTime":"{{datetime}}+03:00","traceId":"{{/[0-9a-f]{16}/}}"}\n')

    def run_text(self, text):
        with tempfile.NamedTemporaryFile("w", suffix=".scenario", delete=False, encoding="utf-8") as f:
            f.write(text)
        self.addCleanup(os.unlink, f.name)
        out = io.StringIO()
        return run_file(f.name, out), out.getvalue(), f.name

    def test_a_right_file_passes_and_a_wrong_expectation_is_reported_at_its_line(self):
        ok, out, _ = self.run_text(self.RECORDS % "transaction.not.found")
        self.assertTrue(ok, out)
        ok, out, name = self.run_text("# first right, then wrong\n" + self.RECORDS % "transaction.not.found"
                                      + "\n" + self.RECORDS % "transaction.lost")
        self.assertFalse(ok)
        self.assertIn(f"FAIL {name}:10: GET /partner/", out)
        self.assertIn('$.errorCode: expected "transaction.lost", got "transaction.not.found"', out)
        self.assertIn("--- expected (line 13)", out)
        self.assertIn('"errorCode":"transaction.lost"', out)
        self.assertIn('--- actual\n404 Not Found\n{"serviceName":"payoutd-payments","errorCode":"transaction.not.found"', out)
        self.assertIn("--- server log", out)


if __name__ == "__main__":
    unittest.main()
