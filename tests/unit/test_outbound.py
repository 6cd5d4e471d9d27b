"""Outbound: URL rules, SSRF address checks, and the pinned POST against a loopback receiver."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bluehooks.outbound import (
    EXCERPT_BYTES,
    TargetPolicy,
    TargetRefused,
    address_refusal,
    check_url,
    pinned_session,
    post,
)

HTTP_NO_LOOPBACK = TargetPolicy(allow_http=True, allow_loopback=False)
HTTP_LOOPBACK = TargetPolicy(allow_http=True, allow_loopback=True)

HOSTILE_URLS = [
    "http://127.0.0.1/",
    "http://localhost/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://0x7f.1/",
    "http://017700000001/",
    "http://127.1/",
    "http://0177.0.0.1/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fd00:ec2::254]/",
    "http://10.0.0.1/",
    "http://172.16.5.4/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",
    "http://0.0.0.0/",
    "http://0/",
    "http://224.0.0.1/",
    "http://[ff02::1]/",
    "http://[fe80::1]/",
    "http://[fc00::1]/",
    "http://[64:ff9b::7f00:1]/",
    "http://[2002:7f00:1::]/",
]


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_hostile_addresses_refused(url):
    with pytest.raises(TargetRefused):
        check_url(url, HTTP_NO_LOOPBACK)


@pytest.mark.parametrize(
    ("url", "policy"),
    [
        ("ftp://93.184.216.34/", HTTP_NO_LOOPBACK),
        ("https://user:pw@93.184.216.34/", HTTP_NO_LOOPBACK),
        ("https://93.184.216.34/" + "a" * 2048, HTTP_NO_LOOPBACK),
        ("http://93.184.216.34/", TargetPolicy(allow_http=False)),
        ("https://nonexistent.invalid/", HTTP_NO_LOOPBACK),
        ("http://10.0.0.1/", HTTP_LOOPBACK),
    ],
    ids=["ftp", "userinfo", "too-long", "http-not-allowed", "unresolvable", "private-with-loopback-allowed"],
)
def test_bad_urls_refused(url, policy):
    with pytest.raises(TargetRefused):
        check_url(url, policy)


def test_public_https_ip_literal_accepted():
    check_url("https://93.184.216.34/hook", TargetPolicy())


def test_loopback_accepted_when_allowed():
    check_url("http://127.0.0.1:9/", HTTP_LOOPBACK)


@pytest.mark.parametrize("address", ["8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_have_no_refusal(address):
    assert address_refusal(address, TargetPolicy()) is None


@pytest.mark.parametrize("address", ["127.0.0.1", "::1", "10.1.2.3", "169.254.169.254"])
def test_private_addresses_have_a_refusal(address):
    assert address_refusal(address, TargetPolicy())


# --- the pinned POST, for real, against a loopback receiver -------------------------------------

BIG_BODY = b"x" * 5000


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        self._record(b"")
        self._reply(200, b"redirect target")

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self._record(body)
        if self.path == "/ok":
            self._reply(200, BIG_BODY)
        elif self.path == "/redirect":
            port = self.server.server_address[1]
            self._reply(302, b"", {"Location": f"http://127.0.0.1:{port}/elsewhere"})
        elif self.path == "/busy":
            self._reply(503, b"busy", {"Retry-After": "30"})
        elif self.path == "/slow":
            time.sleep(2)
            self._reply(200, b"late")
        else:
            self._reply(200, b"elsewhere")

    def _record(self, body):
        self.server.seen.append({"path": self.path, "body": body, "host": self.headers.get("Host")})

    def _reply(self, status, body, headers=None):
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass


@pytest.fixture
def receiver():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _url(server, path):
    return f"http://127.0.0.1:{server.server_address[1]}{path}"


BODY = '{"event":"TODO_CREATED","name":"héllo"}'.encode()
HEADERS = {"Content-Type": "application/json"}


def test_post_ok_sends_exact_body_and_host(receiver):
    result = post(pinned_session(HTTP_LOOPBACK), _url(receiver, "/ok"), BODY, HEADERS, 5)
    assert result.ok
    assert result.status == 200
    assert result.error is None
    assert len(result.excerpt) <= EXCERPT_BYTES
    assert result.excerpt == BIG_BODY.decode()[: len(result.excerpt)]
    assert len(receiver.seen) == 1
    assert receiver.seen[0]["body"] == BODY
    assert receiver.seen[0]["host"] == f"127.0.0.1:{receiver.server_address[1]}"


def test_post_does_not_follow_redirects(receiver):
    result = post(pinned_session(HTTP_LOOPBACK), _url(receiver, "/redirect"), BODY, HEADERS, 5)
    assert result.status == 302
    assert not result.ok
    assert [seen["path"] for seen in receiver.seen] == ["/redirect"]
    assert all(seen["path"] != "/elsewhere" for seen in receiver.seen)


def test_post_reports_retry_after(receiver):
    result = post(pinned_session(HTTP_LOOPBACK), _url(receiver, "/busy"), BODY, HEADERS, 5)
    assert result.status == 503
    assert not result.ok
    assert result.retry_after == "30"


def test_post_times_out(receiver):
    result = post(pinned_session(HTTP_LOOPBACK), _url(receiver, "/slow"), BODY, HEADERS, 0.5)
    assert result.status is None
    assert not result.ok
    assert "timeout" in result.error


def test_pinned_session_never_connects_to_loopback_when_not_allowed(receiver):
    result = post(pinned_session(HTTP_NO_LOOPBACK), _url(receiver, "/ok"), BODY, HEADERS, 5)
    assert result.status is None
    assert not result.ok
    assert receiver.seen == []


def test_pinned_session_reports_refusal_when_not_allowed(receiver):
    result = post(pinned_session(HTTP_NO_LOOPBACK), _url(receiver, "/ok"), BODY, HEADERS, 5)
    assert result.error.startswith("refused"), result.error
    assert receiver.seen == []
