"""Outbound HTTP to subscriber URLs: URL rules, SSRF-safe address checks, the pinned POST.

The address that is checked is the address that is connected to: the adapter resolves the
host once, refuses any non-public address, and connects to that exact IP while keeping the
hostname for the Host header, TLS SNI and certificate checks (so DNS rebinding gains nothing).
"""

import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

MAX_URL_LENGTH = 2048
DEFAULT_PORTS = {"http": 80, "https": 443}

# Ranges `ipaddress.is_global` may let through on some CPython versions, or that tunnel to
# other address families (6to4, NAT64, Teredo), plus the EC2 IPv6 metadata address.
_EXTRA_BLOCKED = tuple(
    ipaddress.ip_network(net)
    for net in (
        "0.0.0.0/8",
        "100.64.0.0/10",
        "192.0.0.0/24",
        "192.88.99.0/24",
        "198.18.0.0/15",
        "::ffff:0:0/96",
        "64:ff9b::/96",
        "64:ff9b:1::/48",
        "2001::/32",
        "2002::/16",
        "fc00::/7",
        "fd00:ec2::254/128",
        "fe80::/10",
        "fec0::/10",
    )
)


class TargetRefused(Exception):
    """A URL or address that webhooks must not be sent to; the message says why."""


@dataclass(frozen=True)
class TargetPolicy:
    allow_http: bool = False
    allow_loopback: bool = False

    @property
    def schemes(self) -> tuple[str, ...]:
        return ("https", "http") if self.allow_http else ("https",)


def address_refusal(address: str, policy: TargetPolicy) -> str | None:
    """Why this IP may not be a target, or None when it may."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if policy.allow_loopback and ip.is_loopback:
        return None
    if ip.is_multicast or not ip.is_global or any(ip in net for net in _EXTRA_BLOCKED):
        return f"{ip} is not a public address"
    return None


def resolve_public(host: str, port: int, policy: TargetPolicy) -> str:
    """Resolve host; every address must be public. Returns the first one, to connect to."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise TargetRefused(f"host {host!r} does not resolve") from exc
    addresses = [info[4][0] for info in infos]
    for address in addresses:
        if reason := address_refusal(address, policy):
            raise TargetRefused(f"host {host!r} resolves to {reason}")
    return addresses[0]


def check_url(url: str, policy: TargetPolicy) -> None:
    """Raise TargetRefused unless url is an allowed webhook target (scheme, shape, addresses)."""
    if len(url) > MAX_URL_LENGTH:
        raise TargetRefused(f"url is longer than {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise TargetRefused(f"url is malformed: {exc}") from exc
    if parts.scheme not in policy.schemes:
        raise TargetRefused(f"url scheme must be {' or '.join(policy.schemes)}")
    if not parts.hostname:
        raise TargetRefused("url has no host")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("url must not carry credentials")
    if parts.fragment:
        raise TargetRefused("url must not have a fragment")
    resolve_public(parts.hostname, port or DEFAULT_PORTS[parts.scheme], policy)


class PinnedAddressAdapter(HTTPAdapter):
    """Connects to the checked public address of the URL's host, never to another one."""

    def __init__(self, policy: TargetPolicy):
        super().__init__(max_retries=0)
        self.policy = policy

    def build_connection_pool_key_attributes(self, request, verify, cert=None):
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        scheme, hostname, port = host_params["scheme"], host_params["host"], host_params["port"]
        if scheme not in self.policy.schemes:
            raise TargetRefused(f"url scheme {scheme!r} is not allowed")
        address = resolve_public(hostname, port, self.policy)
        host_header = f"[{hostname}]" if ":" in hostname else hostname
        if port != DEFAULT_PORTS[scheme]:
            host_header += f":{port}"
        request.headers["Host"] = host_header
        if scheme == "https":
            pool_kwargs["assert_hostname"] = hostname
            pool_kwargs["server_hostname"] = hostname
        host_params["host"] = address
        return host_params, pool_kwargs


def pinned_session(policy: TargetPolicy) -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no proxies or .netrc from the environment
    adapter = PinnedAddressAdapter(policy)
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


def post(session: requests.Session, url: str, body: bytes, headers: dict[str, str], timeout: float) -> HttpResult:
    """POST once; never follows redirects; reads at most EXCERPT_BYTES of the response."""
    started = time.perf_counter()

    def elapsed() -> int:
        return round((time.perf_counter() - started) * 1000)

    try:
        with session.post(
            url, data=body, headers=headers, timeout=(timeout, timeout), allow_redirects=False, stream=True
        ) as response:
            excerpt = response.raw.read(EXCERPT_BYTES, decode_content=True) or b""
            return HttpResult(
                status=response.status_code,
                duration_ms=elapsed(),
                excerpt=excerpt.decode("utf-8", "replace"),
                retry_after=response.headers.get("Retry-After"),
            )
    except TargetRefused as exc:
        return HttpResult(status=None, duration_ms=elapsed(), error=f"refused: {exc}")
    except requests.Timeout:
        return HttpResult(status=None, duration_ms=elapsed(), error=f"timeout after {timeout:g} s")
    except requests.RequestException as exc:
        return HttpResult(status=None, duration_ms=elapsed(), error=f"connection error: {type(exc).__name__}")
