"""Message framing (RFC 9112 section 6): a request's body is framed by one Content-Length or by a
Transfer-Encoding of exactly "chunked". Anything else is answered with the dialect's 400 and the
connection is closed, so no byte of it is ever read as another request (request smuggling). A
chunked body's size lines and trailer are bounded like the header section."""
import os
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import openapi_check  # noqa: E402
from harness import (BONUS, PARTNER_TOKEN, Response, ServerTestCase, dumps, parse_head,  # noqa: E402
                     parse_json, payout_body, payout_path, unique)

CLIENT = "sjrpngawef8770553957"
PAY = "payoutd-payments"


def payout_request(txn, extra_headers=(), body=None, version="1.1"):
    """The head of a QIWI payout PUT (without framing headers unless given) and its JSON body."""
    body = dumps(payout_body(BONUS, CLIENT, "1.00")).encode() if body is None else body
    lines = [f"PUT {payout_path(txn)} HTTP/{version}", "Host: 127.0.0.1",
             f"Authorization: Bearer {PARTNER_TOKEN}", "Content-Type: application/json", *extra_headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode(), body


def chunked(body):
    return f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"


def exchange(port, data, timeout=5.0):
    """Sends `data` on a fresh connection and reads until the server closes it (or `timeout` passes
    without a byte). Returns (responses, closed): every response in what came back, and whether the
    server closed the connection."""
    received = b""
    closed = False
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            s.sendall(data)
        except OSError:
            pass  # the server answered and closed before taking all of it: read the answer
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    closed = True
                    break
                received += chunk
        except socket.timeout:
            pass
        except ConnectionResetError:
            closed = True
    return split_responses(received), closed


def split_responses(data):
    responses = []
    while b"\r\n\r\n" in data:
        head, rest = data.split(b"\r\n\r\n", 1)
        status, headers = parse_head(head)
        length = int(headers.get("content-length", "0") or 0)
        body, data = rest[:length], rest[length:]
        responses.append(Response(status, headers, parse_json(body), body))
    return responses


class FramingTest(ServerTestCase):

    def assert_refused(self, data, smuggled_txn=None, what=""):
        """One answer, the QIWI dialect's 400, then the server closes; the smuggled payout (if any)
        was never made."""
        responses, closed = exchange(self.server.port, data)
        self.assertEqual(len(responses), 1, f"{what}: {[(r.status, r.raw[:80]) for r in responses]}")
        openapi_check.check_request_head(data, responses[0].status, responses[0].headers, responses[0].raw)
        self.assertError(responses[0], 400, "validation.error", PAY, what)
        self.assertEqual(responses[0].headers.get("connection"), "close", what)
        self.assertTrue(closed, f"{what}: the connection stays open after a refused request")
        if smuggled_txn:
            r = self.api.get_payout(smuggled_txn)
            self.assertError(r, 404, "transaction.not.found", PAY, f"{what}: the smuggled payout was made")

    def test_transfer_encodings_other_than_chunked_are_refused(self):
        # Beast reads these as "no body": the bytes after the head would be the next request.
        for encoding in ("xchunked", "chunked, identity", "identity", "chunked;q=1", "chunked\x0b"):
            with self.subTest(encoding=encoding):
                smuggled = unique("smuggled")
                head, body = payout_request(smuggled)
                inner = head.replace(b"Content-Type", f"Content-Length: {len(body)}\r\nContent-Type".encode()) + body
                outer, _ = payout_request(unique("outer"), [f"Transfer-Encoding: {encoding}"])
                self.assert_refused(outer + inner, smuggled, encoding)

    def test_chunked_must_be_the_only_coding_of_a_single_line(self):
        # Beast reads these as chunked: a proxy that frames them otherwise would disagree.
        _, body = payout_request("length-only")
        for name, headers, version in [
                ("gzip, chunked", ["Transfer-Encoding: gzip, chunked"], "1.1"),
                ("two lines", ["Transfer-Encoding: gzip", "Transfer-Encoding: chunked"], "1.1"),
                ("chunked, chunked", ["Transfer-Encoding: chunked, chunked"], "1.1"),
                ("with Content-Length", ["Transfer-Encoding: chunked", f"Content-Length: {len(body)}"], "1.1"),
                ("Content-Length first", [f"Content-Length: {len(body)}", "Transfer-Encoding: chunked"], "1.1"),
                ("in HTTP/1.0", ["Transfer-Encoding: chunked"], "1.0")]:
            with self.subTest(name):
                txn = unique("codings")
                head, _ = payout_request(txn, headers, version=version)
                self.assert_refused(head + chunked(body), txn, name)

    def test_content_length_conflicts_and_folded_lines_are_refused(self):
        _, body = payout_request("length-only")
        for name, headers in [
                ("two lengths", [f"Content-Length: {len(body)}", "Content-Length: 0"]),
                ("a list of lengths", [f"Content-Length: {len(body)}, 0"]),
                ("a signed length", [f"Content-Length: +{len(body)}"]),
                ("a folded length", ["Content-Length:", f" {len(body)}"]),
                ("a folded field", [f"Content-Length: {len(body)}", "X-Note: a", "\tb"])]:
            with self.subTest(name):
                txn = unique("lengths")
                head, _ = payout_request(txn, headers)
                self.assert_refused(head + body, txn, name)

    def test_unbounded_chunk_lines_and_trailers_are_refused(self):
        # Beast bounds the header section and the body, not a chunk's size line nor the trailer:
        # a request that never ends them must not make the server buffer without end.
        txn = unique("trailer")
        head, _ = payout_request(txn, ["Transfer-Encoding: chunked"])
        for name, tail in [("chunk extension", b"5;ext=" + b"a" * (2 << 20)),
                           ("trailer", b"0\r\nX-Trailer: " + b"a" * (2 << 20))]:
            with self.subTest(name):
                self.assert_refused(head + tail, txn, name)

    def test_well_framed_requests_are_served(self):
        for name, headers, framing in [
                ("chunked", ["Transfer-Encoding: chunked"], chunked),
                ("Chunked, any case", ["Transfer-Encoding: Chunked"], chunked),
                ("Content-Length", None, None),
                ("the same Content-Length twice", None, None)]:
            with self.subTest(name):
                txn = unique("framed")
                head, body = payout_request(txn, headers or [])
                if framing:
                    data = head + framing(body)
                else:
                    lengths = [f"Content-Length: {len(body)}"] * (2 if "twice" in name else 1)
                    head, body = payout_request(txn, lengths)
                    data = head + body
                with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as s:
                    s.sendall(data + b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                    received = b""
                    deadline = time.monotonic() + 10
                    while len(split_responses(received)) < 2 and time.monotonic() < deadline:
                        received += s.recv(65536)
                responses = split_responses(received)
                self.assertEqual([r.status for r in responses], [200, 200], received[:500])
                for request, r in zip((data, b"GET /healthz HTTP/1.1\r\n"), responses):
                    openapi_check.check_request_head(request, r.status, r.headers, r.raw)
                self.assertEqual(responses[0].json["status"], "SUCCESS", responses[0].raw)
                self.assertEqual(self.api.get_payout(txn).json["status"], "SUCCESS")


if __name__ == "__main__":
    unittest.main()
