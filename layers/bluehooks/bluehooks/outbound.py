"""Outbound HTTP to subscriber URLs: the pinned POST, bounded by one wall-clock deadline.

The session re-checks the URL rules (`bluehooks.targets`), and the adapter resolves the host
once, refuses any non-public address and connects to that exact IP while keeping the hostname
for the Host header, TLS SNI and certificate checks (so DNS rebinding gains nothing).

The deadline covers the whole attempt, not each socket operation: resolving, connecting, the
status line, the headers and the excerpt. A timer shuts the attempt's socket down when it
expires, so a receiver trickling one byte at a time fails at the deadline like a silent one.
"""

import http.cookiejar
import json
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from http.client import BadStatusLine, HTTPException, RemoteDisconnected

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from bluehooks.targets import DEFAULT_PORTS, TargetPolicy, TargetRefused, resolve_public, target


class Deadline:
    """One attempt's wall-clock limit: the time left, and a timer that cuts its socket off."""

    _current = threading.local()

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.ends = time.monotonic() + seconds
        self.connection: HTTPConnection | None = None
        self.expired = False
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def left(self) -> float:
        return max(0.001, self.ends - time.monotonic())

    def watch(self, connection: HTTPConnection) -> None:
        self.connection = connection
        if self.expired:
            self._cut()

    def _expire(self) -> None:
        self.expired = True
        self._cut()

    def _cut(self) -> None:
        sock = getattr(self.connection, "sock", None)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)  # a blocked recv returns at once
            except OSError:
                pass

    def __enter__(self) -> "Deadline":
        Deadline._current.value = self
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        Deadline._current.value = None

    @classmethod
    def current(cls) -> "Deadline | None":
        return getattr(cls._current, "value", None)


class _Watched:
    """A connection the current attempt's deadline can cut off, whether new or reused."""

    def connect(self) -> None:
        if deadline := Deadline.current():
            deadline.watch(self)
            self.timeout = deadline.left()
        super().connect()

    def request(self, *args, **kwargs) -> None:
        if deadline := Deadline.current():
            deadline.watch(self)
        super().request(*args, **kwargs)


class _WatchedHTTPConnection(_Watched, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_Watched, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class PinnedAddressAdapter(HTTPAdapter):
    """Connects to the checked public address of the URL's host, never to another one."""

    def __init__(self, policy: TargetPolicy):
        super().__init__(max_retries=0)
        self.policy = policy

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}

    def build_connection_pool_key_attributes(self, request, verify, cert=None):
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        scheme, hostname = host_params["scheme"], host_params["host"]
        if scheme not in self.policy.schemes:
            raise TargetRefused(f"url scheme {scheme!r} is not allowed")
        port = host_params["port"] or DEFAULT_PORTS[scheme]
        deadline = Deadline.current()
        address = resolve_public(hostname, port, self.policy, timeout=deadline.left() if deadline else None)
        host_header = f"[{hostname}]" if ":" in hostname else hostname
        if port != DEFAULT_PORTS[scheme]:
            host_header += f":{port}"
        request.headers["Host"] = host_header
        if scheme == "https":
            pool_kwargs["assert_hostname"] = hostname
            pool_kwargs["server_hostname"] = hostname
        host_params["host"], host_params["port"] = address, port
        return host_params, pool_kwargs


class _PinnedSession(requests.Session):
    """Re-applies the URL rules before requests prepares the URL (the adapter checks addresses)."""

    def __init__(self, policy: TargetPolicy):
        super().__init__()
        self.policy = policy

    def request(self, method, url, *args, **kwargs):
        target(url, self.policy)
        return super().request(method, url, *args, **kwargs)


def pinned_session(policy: TargetPolicy, pool_size: int = 10) -> requests.Session:
    session = _PinnedSession(policy)
    session.trust_env = False  # no proxies or .netrc from the environment
    # DESIGN: exactly the contract's headers. requests would add Accept, Accept-Encoding and
    # Connection; SKIP_HEADER also stops http.client's `Accept-Encoding: identity`.
    session.headers.clear()
    session.headers["Accept-Encoding"] = urllib3.util.SKIP_HEADER
    # Nor a Cookie: the session serves every tenant, so a cookie one receiver sets (for a host, or a parent
    # domain, that others' receivers share) would ride on their deliveries.
    session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    adapter = PinnedAddressAdapter(policy)
    adapter.init_poolmanager(pool_size, pool_size)  # as many kept connections as concurrent records
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


@dataclass(frozen=True)
class HttpResult:
    status: int | None
    duration_ms: int
    excerpt: str = ""
    retry_after: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


EXCERPT_BYTES = 1024
# Headers whose values anyone reading the log may see (the request view shows them); a receiver that echoes
# the others (custom header values, which are write-only, and signatures) has them hidden in the excerpt.
SHOWN_HEADERS = frozenset({"content-type", "user-agent", "webhook-id", "webhook-timestamp"})
HIDDEN = b"(hidden)"
MIN_HIDDEN_BYTES = 4  # a shorter value hides nothing, and hiding it would blot the excerpt
# Everything a POST can raise that is the receiver's or the network's doing, not ours.
TRANSPORT_ERRORS = (requests.RequestException, urllib3.exceptions.HTTPError, HTTPException, OSError)


def post(session: requests.Session, url: str, body: bytes, headers: dict[str, str], timeout: float) -> HttpResult:
    """POST once within `timeout` seconds of wall clock; never follows redirects.

    The outcome is the status: once the status line and headers are in, the excerpt (at most
    EXCERPT_BYTES, decoded as text) is read with whatever time is left, and a failure to read
    it does not change the status."""
    started = time.perf_counter()

    def elapsed() -> int:
        return round((time.perf_counter() - started) * 1000)

    with Deadline(timeout) as deadline:
        try:
            response = session.post(
                url, data=body, headers=headers, timeout=timeout, allow_redirects=False, stream=True
            )
        except TargetRefused as exc:
            return HttpResult(status=None, duration_ms=elapsed(), error=_refusal(exc))
        except TRANSPORT_ERRORS as exc:
            return HttpResult(status=None, duration_ms=elapsed(), error=_describe(exc, deadline))
        with response:
            excerpt, problem = _excerpt(response, _hidden(headers))
            return HttpResult(
                status=response.status_code,
                duration_ms=elapsed(),
                excerpt=excerpt,
                retry_after=response.headers.get("Retry-After"),
                error=problem and _describe(problem, deadline),
            )


def _excerpt(response: requests.Response, hidden: list[bytes]) -> tuple[str, Exception | None]:
    """The body's head, each hidden value in it replaced: read long enough that a value starting within
    EXCERPT_BYTES is read whole, so that no cut leaves a part of one behind."""
    try:
        data = response.raw.read(EXCERPT_BYTES + max(map(len, hidden), default=0), decode_content=True) or b""
    except TRANSPORT_ERRORS as exc:
        return "", exc
    for value in hidden:
        data = data.replace(value, HIDDEN)
    return data[:EXCERPT_BYTES].decode("utf-8", "replace"), None


def _hidden(headers: dict[str, str]) -> list[bytes]:
    """The values sent that the log's readers may not see, as sent and as JSON writes them; longest first."""
    values = [value for name, value in headers.items() if name.lower() not in SHOWN_HEADERS]
    forms = {form.encode() for value in values for form in (value, json.dumps(value)[1:-1])}
    return sorted((form for form in forms if len(form) >= MIN_HIDDEN_BYTES), key=len, reverse=True)


def _refusal(exc: TargetRefused) -> str:
    if isinstance(exc.__cause__, socket.gaierror):  # the host stopped resolving since the webhook was saved
        return "DNS: no such host"
    return f"refused: {exc}"


def _describe(exc: BaseException, deadline: Deadline) -> str:
    """What went wrong, in the words an endpoint's owner can act on: refused, DNS, TLS, timeout, reset."""
    if deadline.expired:
        return f"timeout after {deadline.seconds:g} s"
    causes = list(_causes(exc))
    for cause in causes:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"TLS: certificate {cause.verify_message or 'not trusted'}"
        if isinstance(cause, ssl.SSLError):
            return f"TLS: {(cause.reason or 'handshake failed').replace('_', ' ').lower()}"
        for kind, words in _SPECIFIC:
            if isinstance(cause, kind):
                return words
    if any(isinstance(cause, _TIMEOUTS) for cause in causes):
        return f"timeout after {deadline.seconds:g} s"
    return f"connection error: {type(exc).__name__}"


_TIMEOUTS = (requests.Timeout, TimeoutError, urllib3.exceptions.TimeoutError)
# Checked in order: a refused connect is also a urllib3 NewConnectionError (a TimeoutError subclass).
_SPECIFIC: tuple[tuple[type[BaseException], str], ...] = (
    (ConnectionRefusedError, "connection refused"),
    (RemoteDisconnected, "closed without a response"),
    ((ConnectionResetError, ConnectionAbortedError, BrokenPipeError), "reset"),
    (BadStatusLine, "not an HTTP response"),
    (socket.gaierror, "DNS: no such host"),
)


def _causes(exc: BaseException):
    """exc and what it wraps: requests and urllib3 keep the cause in args, .reason or __cause__."""
    seen, todo = set(), [exc]
    while todo:
        cause = todo.pop(0)
        if id(cause) in seen:
            continue
        seen.add(id(cause))
        yield cause
        wrapped = [getattr(cause, "reason", None), cause.__cause__, cause.__context__, *cause.args]
        todo.extend(item for item in wrapped if isinstance(item, BaseException))
