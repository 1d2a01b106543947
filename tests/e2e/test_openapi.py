"""The OpenAPI documents (docs/openapi/) and their checker (openapi_check.py), without a server:
every schema compiles, every example validates, the checker refuses an answer of a wrong field
type, one missing a required field, an undocumented status, path or method, and a malformed
callback; and every route of the admin API's tables in the source is documented with the role
its table names."""
import os
import re
import sys
import unittest
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import openapi_check  # noqa: E402
from openapi_check import ContractError, check, check_callback  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
PAYOUT = "/partner/openapi-payment-api/v1/funder-payouts/products/best-partner/transactions/txn-1"
JSON = {"content-type": "application/json"}
GOOD_PAYOUT = (b'{"productId":"best-partner","transactionId":"txn-1","fromFunderId":"bonus-funder",'
               b'"toClientId":"sjrpngawef8770553957","transactionAmount":{"value":100.50,"currency":"RUB"},'
               b'"status":"SUCCESS","createdDateTime":"2026-11-23T14:55:11+03:00"}')
GOOD_CALLBACK = (b'{"general":{"project_id":"91348","payment_id":"p-1","signature":"c2ln"},"request_id":"8",'
                 b'"payment":{"id":"p-1","type":"payout","status":"success"},'
                 b'"operation":{"id":"8","type":"payout","status":"success","code":"0","message":"Success"},'
                 b'"customer":{"id":"16061314"},"sum_request":{"amount":"7000","currency":"EUR"},'
                 b'"transaction":{"type":"payout"}}')

# The admin route tables in the source (admin/routes.h) and the path each one's patterns follow
# (None: a table of Role-guarded routes that are not the admin API's, e.g. pages).
ADMIN_ROUTE_TABLES = {
    "src/admin/api.cc": "/admin/v1/",
    "src/providers/qiwi/admin.cc": "/admin/v1/qiwi/products/*/",
    "src/admin/tenants_api.cc": "/admin/v1/",
    "src/console/staff_api.cc": "/admin/v1/staff/",
    "src/admin/payouts_api.cc": "/admin/v1/",
    "src/console/cabinet_users_api.cc": "/admin/v1/tenants/*/",
}
ROUTE_RE = re.compile(r'\{Role::k(\w+), "([A-Z ]+)", "([^"]+)"')


class DocumentsTest(unittest.TestCase):

    def test_every_response_schema_compiles(self):
        compiled = 0
        for doc in openapi_check.documents().values():
            for template, item in doc.spec.get("paths", {}).items():
                for method in openapi_check.HTTP_METHODS:
                    for status, response in item.get(method, {}).get("responses", {}).items():
                        for media, body in response.get("content", {}).items():
                            doc.validator((f"{method} {template}", status, media), body.get("schema", {}))
                            compiled += 1
        self.assertGreater(compiled, 100)

    def test_every_example_validates_against_its_schema(self):
        seen = 0
        for doc in openapi_check.documents().values():
            for where, schema, value in openapi_check.examples(doc):
                seen += 1
                if schema.get("type") == "string" and isinstance(value, str):
                    self.assertRegex(value, schema.get("pattern", ""), f"{doc.name}.yaml {where}")
                    continue
                errors = [e.message for e in doc.validator(("example", where), schema).iter_errors(value)]
                self.assertEqual(errors, [], f"{doc.name}.yaml {where}")
        self.assertGreater(seen, 20)

    def test_every_admin_route_in_the_source_is_documented_with_its_role(self):
        admin = openapi_check.documents()["admin"]
        for source in sorted(REPO.glob("src/**/*.cc")):
            name = str(source.relative_to(REPO))
            routes = ROUTE_RE.findall(source.read_text(encoding="utf-8"))
            if not routes:
                continue
            self.assertIn(name, ADMIN_ROUTE_TABLES, f"{name} has routes with roles: add its path prefix "
                                                    f"to ADMIN_ROUTE_TABLES (None if not the admin API's)")
            if ADMIN_ROUTE_TABLES[name] is None:
                continue
            for role, methods, pattern in routes:
                path = ADMIN_ROUTE_TABLES[name] + pattern
                documented = [item for template, regex, item in admin.templates
                              if re.sub(r"\{[^}]+\}", "*", template) == path]
                self.assertEqual(len(documented), 1, f"{name}: {methods} {path} is not in admin.yaml")
                for method in methods.split():
                    operation = documented[0].get(method.lower())
                    self.assertIsNotNone(operation, f"{method} {path} is not in admin.yaml")
                    self.assertEqual(operation.get("x-payoutd-role"), role.lower(), f"{method} {path}")
                    self.assertIn("403", operation["responses"], f"{method} {path}: no 403 auth.role.missing")


class CheckerTest(unittest.TestCase):

    def test_a_documented_answer_passes(self):
        check("PUT", PAYOUT, 200, JSON, GOOD_PAYOUT)
        check("GET", PAYOUT + "?x=1", 200, JSON, GOOD_PAYOUT)
        check("GET", "/healthz", 200, JSON, b'{"status":"ok"}')
        check("GET", "/cabinet/login", 200, {"content-type": "text/html"}, b"<html>")  # not described

    def test_a_wrong_field_type_fails(self):
        body = GOOD_PAYOUT.replace(b'"value":100.50', b'"value":"100.50"')
        with self.assertRaisesRegex(ContractError, r"transactionAmount/value: '100.50' is not of type 'number'"):
            check("PUT", PAYOUT, 200, JSON, body)

    def test_a_missing_required_field_fails(self):
        body = GOOD_PAYOUT.replace(b',"status":"SUCCESS"', b"")
        with self.assertRaisesRegex(ContractError, r"'status' is a required property"):
            check("PUT", PAYOUT, 200, JSON, body)

    def test_an_unknown_field_fails(self):
        body = GOOD_PAYOUT.replace(b'"status"', b'"balance":1,"status"')
        with self.assertRaisesRegex(ContractError, r"'balance' was unexpected"):
            check("PUT", PAYOUT, 200, JSON, body)

    def test_an_undocumented_status_fails(self):
        with self.assertRaisesRegex(ContractError, r"status 418 of PUT .*transactions/\{transactionId\} is not in"):
            check("PUT", PAYOUT, 418, JSON, b"{}")

    def test_an_undocumented_path_fails(self):
        with self.assertRaisesRegex(ContractError, r"GET /partner/openapi-payment-api/v1/refunds: the path is not in"):
            check("GET", "/partner/openapi-payment-api/v1/refunds", 200, JSON, b"{}")
        with self.assertRaisesRegex(ContractError, r"/admin/v1/ledger: the path is not in docs/openapi/admin.yaml"):
            check("GET", "/admin/v1/ledger", 200, JSON, b"[]")

    def test_an_undocumented_method_answers_only_its_documented_refusal(self):
        with self.assertRaisesRegex(ContractError, r"status 418 .*other methods"):
            check("PATCH", "/admin/v1/stats", 418, JSON, b"{}")
        with self.assertRaisesRegex(ContractError, r"method POST of /healthz is not in"):
            check("POST", "/healthz", 200, JSON, b'{"status":"ok"}')

    def test_a_wrong_content_type_or_a_body_that_is_not_json_fails(self):
        with self.assertRaisesRegex(ContractError, r"Content-Type 'text/plain'"):
            check("PUT", PAYOUT, 200, {"content-type": "text/plain"}, GOOD_PAYOUT)
        with self.assertRaisesRegex(ContractError, r"not JSON"):
            check("PUT", PAYOUT, 200, JSON, b"{")

    def test_a_required_header_must_be_there(self):
        body = (b'{"serviceName":"payoutd-payments","errorCode":"auth.too.many.attempts","description":"d",'
                b'"userMessage":"u","dateTime":"2026-11-23T14:55:11+03:00","traceId":"t"}')
        check("PUT", PAYOUT, 429, dict(JSON, **{"retry-after": "3"}), body)
        with self.assertRaisesRegex(ContractError, r"header Retry-After is required"):
            check("PUT", PAYOUT, 429, JSON, body)

    def test_an_error_code_of_another_status_fails(self):
        body = (b'{"serviceName":"payoutd-payments","errorCode":"transaction.not.found","description":"d",'
                b'"userMessage":"u","dateTime":"2026-11-23T14:55:11+03:00","traceId":"t"}')
        check("GET", PAYOUT, 404, JSON, body)
        with self.assertRaises(ContractError):
            check("PUT", PAYOUT, 404, JSON, body)  # PUT's 404s are funder.not.found, client.not.found

    def test_a_request_the_server_could_not_read_is_the_server_documents(self):
        body = (b'{"serviceName":"payoutd","errorCode":"validation.error","description":"malformed HTTP request",'
                b'"userMessage":"u","dateTime":"2026-11-23T14:55:11+03:00","traceId":"t"}')
        openapi_check.check_request_head(b"\x16\x03\x01garbage", 400, JSON, body)
        with self.assertRaises(ContractError):
            openapi_check.check_request_head(b"\x16\x03\x01garbage", 200, JSON, body)

    def test_callbacks(self):
        check_callback(GOOD_CALLBACK)
        with self.assertRaisesRegex(ContractError, r"'signature' is a required property"):
            check_callback(GOOD_CALLBACK.replace(b',"signature":"c2ln"', b""))
        with self.assertRaisesRegex(ContractError, r"7000 is not of type 'string'"):
            check_callback(GOOD_CALLBACK.replace(b'"amount":"7000"', b'"amount":7000'))


if __name__ == "__main__":
    unittest.main()
