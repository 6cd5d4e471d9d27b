"""Outbound: URL rules, SSRF address checks, and the pinned POST against a loopback receiver.

No test here connects anywhere but loopback: the autouse guard fails any test whose traffic
would leave the machine, and the public addresses used only go through `check_url`, which
resolves IP literals locally and never connects.
"""

import ipaddress
import re
import socket
import ssl
import struct
import subprocess
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
import urllib3.util.connection

from bluehooks.outbound import EXCERPT_BYTES, PinnedAddressAdapter, pinned_session, post
from bluehooks.targets import TargetPolicy, TargetRefused, address_refusal, check_url, resolve_public, target
from tests.hostile_urls import ADDRESS_REFUSALS, HOSTILE_URLS, LOOPBACK_URLS, SCHEME, STORED_ONLY

PRODUCTION = TargetPolicy(allow_http=False, allow_loopback=False)
HTTP_NO_LOOPBACK = TargetPolicy(allow_http=True, allow_loopback=False)
HTTP_LOOPBACK = TargetPolicy(allow_http=True, allow_loopback=True)

PUBLIC_V4 = "93.184.215.14"
PUBLIC_V6 = "2606:4700:4700::1111"

BODY = '{"event":"TODO_CREATED","name":"héllo"}'.encode()
HEADERS = {"Content-Type": "application/json"}

HOSTILE = pytest.mark.parametrize(
    ("url", "refusal", "why"), HOSTILE_URLS, ids=[f"{i}-{why}" for i, (*_, why) in enumerate(HOSTILE_URLS)]
)


@pytest.fixture(autouse=True)
def only_loopback_connections(monkeypatch):
    """Fail the test if anything tries to open a connection to a non-loopback address."""
    real, attempts = urllib3.util.connection.create_connection, []

    def guarded(address, *args, **kwargs):
        try:
            loopback = ipaddress.ip_address(address[0]).is_loopback
        except ValueError:
            loopback = False  # the adapter must connect to the checked IP, never to a name
        if not loopback:
            attempts.append(address)
            raise AssertionError(f"connection attempted to {address}")
        return real(address, *args, **kwargs)

    monkeypatch.setattr(urllib3.util.connection, "create_connection", guarded)
    yield
    assert attempts == []


# --- check_url: the hostile table --------------------------------------------------------------


def test_hostile_table_is_well_formed():
    urls = [url for url, *_ in HOSTILE_URLS]
    assert len(urls) == len(set(urls))
    assert LOOPBACK_URLS and LOOPBACK_URLS < set(urls)


@HOSTILE
def test_hostile_urls_refused(url, refusal, why):
    """For the reason the table names, under production's policy too (there, plain http for the scheme)."""
    with pytest.raises(TargetRefused, match=re.escape(refusal)):
        check_url(url, HTTP_NO_LOOPBACK)
    with pytest.raises(TargetRefused, match=re.escape(SCHEME if url.startswith("http:") else refusal)):
        check_url(url, PRODUCTION)


@HOSTILE
def test_allow_loopback_lifts_loopback_only(url, refusal, why):
    if url in LOOPBACK_URLS:
        check_url(url, HTTP_LOOPBACK)
    else:
        with pytest.raises(TargetRefused, match=re.escape(refusal)):
            check_url(url, HTTP_LOOPBACK)


@pytest.mark.parametrize(
    "url",
    [
        f"https://{PUBLIC_V4}/hook",
        f"https://{PUBLIC_V4}:443/hook",
        f"https://{PUBLIC_V4}:1/hook",
        f"https://{PUBLIC_V4}:65535/hook",
        f"https://{PUBLIC_V4}:8443/hooks/a%20b?x=1&y=2",
        f"HTTPS://{PUBLIC_V4}/Hook",
        f"https://[{PUBLIC_V6}]/hook",
        "https://[2a00:1450:4001:80b::200e]/hook",
    ],
)
def test_public_https_urls_accepted(url):
    check_url(url, PRODUCTION)


def test_loopback_accepted_when_allowed():
    check_url("http://127.0.0.1:9/", HTTP_LOOPBACK)


@pytest.mark.parametrize(
    ("url", "policy", "reason"),
    [
        (f"ftp://{PUBLIC_V4}/", HTTP_NO_LOOPBACK, "scheme"),
        (f"https://user:pw@{PUBLIC_V4}/", HTTP_NO_LOOPBACK, "credentials"),
        (f"https://{PUBLIC_V4}/" + "a" * 2048, HTTP_NO_LOOPBACK, "longer"),
        (f"http://{PUBLIC_V4}/", PRODUCTION, "scheme"),
        ("https://nonexistent.invalid/", HTTP_NO_LOOPBACK, "does not resolve"),
        (f"https://{PUBLIC_V4}/#top", PRODUCTION, "fragment"),
        (f"https://{PUBLIC_V4}\\.127.0.0.1/", PRODUCTION, "'\\\\\\\\' unencoded"),
        ("https://%39%33.184.215.14/", PRODUCTION, "ambiguous"),
        (f"https://evil@127.0.0.1:80@{PUBLIC_V4}/", PRODUCTION, "credentials"),
        (f"https://[{PUBLIC_V6}%25eth0]/", PRODUCTION, "not allowed in a host name"),
    ],
    ids=[
        "ftp",
        "userinfo",
        "too-long",
        "http-not-allowed",
        "unresolvable",
        "fragment",
        "backslash",
        "percent-host",
        "double-at",
        "zone-id",
    ],
)
def test_bad_urls_refused_with_reason(url, policy, reason):
    with pytest.raises(TargetRefused, match=reason):
        check_url(url, policy)


@pytest.mark.parametrize("character", list("<>\"'{}|\\^`"))
def test_characters_rfc_3986_does_not_allow_unencoded_are_refused(character):
    with pytest.raises(TargetRefused, match=f"must not contain {re.escape(repr(character))} unencoded"):
        check_url(f"https://{PUBLIC_V4}/hook?q=a{character}b", PRODUCTION)


@pytest.mark.parametrize("query", ["%zz", "%4", "100%", "%%41"])
def test_a_percent_must_start_a_percent_encoding(query):
    with pytest.raises(TargetRefused, match="does not start a percent-encoding"):
        check_url(f"https://{PUBLIC_V4}/hook?q={query}", PRODUCTION)


def test_every_character_rfc_3986_allows_is_accepted():
    check_url(f"https://{PUBLIC_V4}/a-b._~!$&()*+,;=:@/%41?x=[1]&y=/?", PRODUCTION)


@pytest.mark.parametrize("port", ["0", "00", "65536", "99999", "-1", "+443", "1e3", "0x50"])
def test_bad_ports_refused(port):
    with pytest.raises(TargetRefused, match="port must be a number between 1 and 65535"):
        check_url(f"https://{PUBLIC_V4}:{port}/hook", PRODUCTION)


CONTROL_AND_SPACE = [chr(c) for c in [*range(0x20), 0x7F, *range(0x80, 0xA0)]] + [" ", "\xa0", "\u2028", "\u3000"]


@pytest.mark.parametrize("char", CONTROL_AND_SPACE, ids=[f"U+{ord(c):04X}" for c in CONTROL_AND_SPACE])
@pytest.mark.parametrize("where", ["host", "port", "path", "start", "end"])
def test_control_characters_and_whitespace_refused(char, where):
    url = {
        "host": f"https://{PUBLIC_V4}{char}.example/hook",
        "port": f"https://{PUBLIC_V4}:44{char}3/hook",
        "path": f"https://{PUBLIC_V4}/ho{char}ok",
        "start": f"{char}https://{PUBLIC_V4}/hook",
        "end": f"https://{PUBLIC_V4}/hook{char}",
    }[where]
    with pytest.raises(TargetRefused, match="whitespace or control characters"):
        check_url(url, HTTP_LOOPBACK)


# --- addresses ------------------------------------------------------------------------------


@pytest.mark.parametrize("address", ["8.8.8.8", PUBLIC_V4, PUBLIC_V6, "2a00:1450:4001:80b::200e"])
def test_public_addresses_have_no_refusal(address):
    assert address_refusal(address, PRODUCTION) is None


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "::1",
        "10.1.2.3",
        "169.254.169.254",
        "fd00:ec2::254",
        "::ffff:127.0.0.1",
        "::7f00:1",
        "::a9fe:a9fe",
        "::ffff:0:7f00:1",
        "192.0.2.1",
        "198.51.100.1",
        "203.0.113.1",
        "240.0.0.1",
        "255.255.255.255",
        "2001:db8::1",
        "3fff::1",
        "4000::1",
        "fe80::1%eth0",
        "not-an-address",
    ],
)
def test_non_public_addresses_have_a_refusal(address):
    assert address_refusal(address, PRODUCTION)


@pytest.mark.parametrize(
    ("address", "refused"),
    [
        ("127.0.0.1", False),
        ("127.255.255.254", False),
        ("::1", False),
        ("::ffff:127.0.0.1", True),
        ("::7f00:1", True),
        ("10.0.0.1", True),
        ("169.254.169.254", True),
        ("0.0.0.0", True),
        ("::", True),
    ],
)
def test_allow_loopback_lifts_only_127_8_and_ipv6_loopback(address, refused):
    assert bool(address_refusal(address, HTTP_LOOPBACK)) is refused


@pytest.mark.parametrize(
    ("host", "port", "reason"),
    [
        ("127.0.0.1\x00", 443, "not allowed in a host name"),
        ("a b", 443, "not allowed in a host name"),
        ("", 443, "not allowed in a host name"),
        ("127.0.0.1", 0, "not between 1 and 65535"),
        ("127.0.0.1", 65536, "not between 1 and 65535"),
    ],
)
def test_resolve_public_refuses_bad_host_or_port(host, port, reason):
    with pytest.raises(TargetRefused, match=reason):
        resolve_public(host, port, HTTP_LOOPBACK)


def test_a_refused_name_never_says_its_addresses():
    """What a name resolves to stays unsaid (in the API's 422 and the delivery's lastError): a name only
    our resolver knows, behind an attacker's CNAME, would otherwise map an internal zone."""
    addresses = {info[4][0] for info in socket.getaddrinfo("localhost", 80, type=socket.SOCK_STREAM)}
    with pytest.raises(TargetRefused, match=re.escape("host 'localhost' resolves to an address (loopback)")) as refused:
        check_url("http://localhost/", HTTP_NO_LOOPBACK)
    error = post(pinned_session(HTTP_NO_LOOPBACK), "http://localhost:1/", BODY, HEADERS, 5).error
    assert error.startswith("refused: host 'localhost'"), error
    assert not [address for address in addresses for said in (str(refused.value), error) if address in said]


def test_a_refused_ip_literal_is_named():
    with pytest.raises(TargetRefused, match=re.escape("host '10.0.0.8' resolves to 10.0.0.8 (private, RFC 1918)")):
        check_url("http://10.0.0.8/", HTTP_NO_LOOPBACK)


# --- delivery: refused again, before any connection -------------------------------------------


@HOSTILE
def test_hostile_urls_refused_at_delivery(url, refusal, why):
    result = post(pinned_session(HTTP_NO_LOOPBACK), url, BODY, HEADERS, 5)
    assert result.status is None
    assert result.error.startswith("refused: ") and (refusal in STORED_ONLY or refusal in result.error), result.error


@pytest.mark.parametrize(
    "url", ["https://hooks.example.com/in?sig='abc'", "https://h.example/a|b", "https://h.example/{id}"]
)
def test_a_url_stored_before_the_rfc_3986_rule_is_still_delivered_to(url):
    """The character rules hold when a URL is stored; at delivery only what decides where a request goes."""
    assert target(url, PRODUCTION)[1:] == (url.split("/")[2], 443)
    with pytest.raises(TargetRefused, match="unencoded"):
        check_url(url, PRODUCTION)


@HOSTILE
def test_adapter_alone_never_connects_to_hostile_urls(url, refusal, why):
    """Without the session's URL rules: the adapter refuses a bad address for its reason, and any
    other URL for some reason, or requests cannot build the request."""
    session = requests.Session()
    session.trust_env = False
    session.mount("http://", PinnedAddressAdapter(HTTP_NO_LOOPBACK))
    session.mount("https://", PinnedAddressAdapter(HTTP_NO_LOOPBACK))
    result = post(session, url, BODY, HEADERS, 5)
    assert result.status is None
    if refusal in ADDRESS_REFUSALS:
        assert result.error.startswith("refused: ") and refusal in result.error, result.error
    else:
        assert result.error.startswith("refused") or result.error in {
            "DNS: no such host",  # a name the URL parsers disagree on, as urllib3 reads it: no such host
            "connection error: InvalidURL",
            "connection error: InvalidSchema",
            "connection error: MissingSchema",
        }, result.error


@pytest.mark.parametrize(
    "url",
    [
        f"https://{PUBLIC_V4}:0/",
        f"https://user:pw@{PUBLIC_V4}/",
        f"https://{PUBLIC_V4}\\.x/",
        f"https://{PUBLIC_V4}\x00/",
    ],
    ids=["port-0", "credentials", "ambiguous", "nul"],
)
def test_delivery_applies_url_rules_before_connecting(url):
    result = post(pinned_session(PRODUCTION), url, BODY, HEADERS, 5)
    assert result.status is None
    assert result.error.startswith("refused: url"), result.error


@pytest.mark.parametrize(
    ("url", "address", "port", "host_header", "tls_name"),
    [
        ("https://127.0.0.1/x", "127.0.0.1", 443, "127.0.0.1", "127.0.0.1"),
        ("http://127.0.0.1/x", "127.0.0.1", 80, "127.0.0.1", None),
        ("https://127.0.0.1:8443/x", "127.0.0.1", 8443, "127.0.0.1:8443", "127.0.0.1"),
        ("http://0x7f.1:8080/x", "127.0.0.1", 8080, "0x7f.1:8080", None),
        ("https://[::1]/x", "::1", 443, "[::1]", "::1"),
    ],
)
def test_adapter_pins_the_checked_address(url, address, port, host_header, tls_name):
    """Connects to the resolved IP and default port; Host, SNI and certificate name stay the URL's host."""
    request = requests.Request("POST", url).prepare()
    host_params, pool_kwargs = PinnedAddressAdapter(HTTP_LOOPBACK).build_connection_pool_key_attributes(request, True)
    assert (host_params["host"], host_params["port"]) == (address, port)
    assert request.headers["Host"] == host_header
    assert pool_kwargs.get("server_hostname") == pool_kwargs.get("assert_hostname") == tls_name


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
            self.server.answer_slow.wait(10)  # until the test is over: later than any client timeout
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
    server.seen, server.answer_slow = [], threading.Event()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.answer_slow.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _url(server, path):
    return f"http://127.0.0.1:{server.server_address[1]}{path}"


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


def test_a_hanging_resolver_for_one_host_does_not_starve_lookups_of_others(monkeypatch):
    import socket

    real = socket.getaddrinfo
    release = threading.Event()
    entered = threading.Semaphore(0)

    def slow_for_attackers(host, *args, **kwargs):
        if host.endswith(".attacker.test"):
            entered.release()
            release.wait(30)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", slow_for_attackers)
    try:
        for n in range(40):
            with pytest.raises(TimeoutError):
                resolve_public(f"h{n}.attacker.test", 443, HTTP_LOOPBACK, timeout=0.01)
        # Counted, not timed: all 40 lookups hang at once (a pool of fewer threads would queue
        # some), and a 41st still gets its answer while they do.
        assert all(entered.acquire(timeout=10) for _ in range(40))
        assert resolve_public("127.0.0.1", 443, HTTP_LOOPBACK, timeout=10) == "127.0.0.1"
    finally:
        release.set()


# --- what a failed POST says: refused, DNS, TLS, reset, timeout, against real loopback sockets ---


@pytest.fixture
def closed_port():
    """A loopback port nothing listens on: bound and closed again, so a connect is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def raw_server(answer):
    """A TCP server on loopback that hands each accepted connection to answer(connection)."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            with connection:
                answer(connection)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        listener.shutdown(socket.SHUT_RDWR)  # a blocked accept() returns
        listener.close()
        thread.join(timeout=5)


def _read_request(connection):
    received = b""
    while not received.endswith(BODY):  # headers and body may come in separate segments
        received += connection.recv(65536) or BODY


def _reset(connection):
    _read_request(connection)
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close: RST, not FIN


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory):
    """A TLS handshake with a certificate no one vouches for (made by openssl for 127.0.0.1)."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"),
            *("-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)

    def handshake(connection):
        try:
            with context.wrap_socket(connection, server_side=True):
                pass
        except (ssl.SSLError, OSError):
            pass  # the client refuses the certificate: what the test wants

    return handshake


def test_a_closed_port_reads_connection_refused(closed_port):
    result = post(pinned_session(HTTP_LOOPBACK), f"http://127.0.0.1:{closed_port}/", BODY, HEADERS, 5)
    assert (result.status, result.error) == (None, "connection refused")


def test_a_reset_connection_reads_reset():
    with raw_server(_reset) as port:
        result = post(pinned_session(HTTP_LOOPBACK), f"http://127.0.0.1:{port}/", BODY, HEADERS, 5)
    assert (result.status, result.error) == (None, "reset")


def test_a_server_closing_without_an_answer_reads_so():
    with raw_server(_read_request) as port:
        result = post(pinned_session(HTTP_LOOPBACK), f"http://127.0.0.1:{port}/", BODY, HEADERS, 5)
    assert (result.status, result.error) == (None, "closed without a response")


def test_a_self_signed_certificate_reads_tls_certificate(self_signed):
    with raw_server(self_signed) as port:
        result = post(pinned_session(HTTP_LOOPBACK), f"https://127.0.0.1:{port}/", BODY, HEADERS, 5)
    assert (result.status, result.error) == (None, "TLS: certificate self-signed certificate")


def test_plain_http_on_an_https_url_reads_tls():
    with raw_server(lambda connection: connection.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")) as port:
        result = post(pinned_session(HTTP_LOOPBACK), f"https://127.0.0.1:{port}/", BODY, HEADERS, 5)
    assert result.status is None and result.error.startswith("TLS: "), result.error


def test_a_host_that_no_longer_resolves_reads_dns_no_such_host():
    """`.invalid` never resolves (RFC 6761): as a saved webhook's host that was deleted from DNS."""
    result = post(pinned_session(HTTP_LOOPBACK), "http://no-such-host.invalid/", BODY, HEADERS, 5)
    assert (result.status, result.error) == (None, "DNS: no such host")


def test_a_silent_server_reads_timeout_after_the_limit():
    with raw_server(lambda connection: time.sleep(1.5)) as port:
        result = post(pinned_session(HTTP_LOOPBACK), f"http://127.0.0.1:{port}/", BODY, HEADERS, 0.5)
    assert (result.status, result.error) == (None, "timeout after 0.5 s")


@pytest.mark.parametrize("at", [0, EXCERPT_BYTES - 40, EXCERPT_BYTES - 1])
def test_an_echoed_value_is_hidden_even_where_the_excerpt_ends(at):
    """A value starting anywhere in the excerpt is hidden whole: no cut leaves its head behind."""
    secret = "s3cr3t-" + "k" * 57

    def echo(connection):
        _read_request(connection)
        body = b"x" * at + secret.encode() + b"y" * 2000
        connection.sendall(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: %d\r\n\r\n" % len(body) + body)

    with raw_server(echo) as port:
        result = post(pinned_session(HTTP_LOOPBACK), f"http://127.0.0.1:{port}/", BODY, HEADERS | {"X-Key": secret}, 5)
    assert result.status == 401 and len(result.excerpt) == EXCERPT_BYTES, result
    assert "s3cr3t" not in result.excerpt and result.excerpt.startswith("x" * at + "(hidden)"[: EXCERPT_BYTES - at])


def test_a_cookie_a_receiver_sets_is_never_sent_back():
    """One session serves every tenant's webhooks: a cookie one receiver sets (for its host, or a parent domain
    shared by others' receivers) must not ride on the next delivery there; DESIGN: exactly the contract's headers."""
    seen = []

    def answer(connection):
        received = b""
        while not received.endswith(BODY):
            received += connection.recv(65536) or BODY
        seen.append(received)
        cookie = b"Set-Cookie: tenant=a; Path=/\r\n"
        connection.sendall(b"HTTP/1.1 200 OK\r\n" + cookie + b"Connection: close\r\nContent-Length: 0\r\n\r\n")

    session = pinned_session(HTTP_LOOPBACK)
    with raw_server(answer) as port:
        for path in ("/company-a", "/company-b"):
            assert post(session, f"http://127.0.0.1:{port}{path}", BODY, HEADERS, 5).status == 200
    assert len(seen) == 2 and b"cookie" not in seen[1].lower(), seen[1]
