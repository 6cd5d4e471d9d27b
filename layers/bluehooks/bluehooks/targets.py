"""Where webhooks may be sent: URL rules and SSRF-safe address checks (used at create, PATCH and delivery).

A URL is read the way delivery will send it: `requests` prepares it (urllib3 parsing, IDNA
hosts) and the host and port are taken from the prepared URL exactly as the adapter takes
them. A URL that `urllib.parse` reads with another host or port (backslashes, `@` and
percent tricks) is refused as ambiguous, as is any whitespace or control character.

Every address the host resolves to must be public: IPv4 outside the special-purpose ranges
below, IPv6 inside global unicast 2000::/3 and outside the same kind of ranges. Numeric
spellings (`2130706433`, `0x7f.1`, `0177.0.0.1`, `127.1`) are caught because the checked
value is what `getaddrinfo` resolves them to. `allow_loopback` lifts 127/8 and ::1 only.

`check_url` applies all of this when a URL is stored; `bluehooks.outbound` applies it again
at delivery, and connects to the very address `resolve_public` checked.
"""

import ipaddress
import re
import socket
import threading
import unicodedata
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlsplit

MAX_URL_LENGTH = 2048
# RFC 3986's unreserved and reserved characters, and '%' starting a percent-encoding; but not "'",
# which it allows and which would end an HTML attribute where a host app shows the URL (e-mails).
# Non-ASCII characters are left to IDNA and requests' quoting (IRIs, RFC 3987).
_URI_CHARACTER = re.compile(r"[A-Za-z0-9._~:/?#\[\]@!$&()*+,;=%-]")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
DEFAULT_PORTS = {"http": 80, "https": 443}

_LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))
_GLOBAL_UNICAST_V6 = ipaddress.ip_network("2000::/3")

# Our own table rather than `ipaddress.is_global` alone: its answers differ between CPython
# versions (IPv4-compatible ::a.b.c.d counts as global on 3.11, 3fff::/20 is unknown there).
# First match names the refusal; the IPv6 entries outside 2000::/3 are refused by that rule
# anyway and are listed so the message says what they are.
_REFUSED_NETWORKS = tuple(
    (ipaddress.ip_network(net), label)
    for net, label in {
        "0.0.0.0/8": "'this network'",
        "10.0.0.0/8": "private, RFC 1918",
        "100.64.0.0/10": "carrier-grade NAT",
        "127.0.0.0/8": "loopback",
        "169.254.169.254/32": "cloud metadata",
        "169.254.0.0/16": "link-local",
        "172.16.0.0/12": "private, RFC 1918",
        "192.0.0.0/24": "IETF protocol assignments",
        "192.0.2.0/24": "documentation",
        "192.88.99.0/24": "6to4 relay anycast",
        "192.168.0.0/16": "private, RFC 1918",
        "198.18.0.0/15": "benchmarking",
        "198.51.100.0/24": "documentation",
        "203.0.113.0/24": "documentation",
        "224.0.0.0/4": "multicast",
        "255.255.255.255/32": "broadcast",
        "240.0.0.0/4": "reserved",
        "::1/128": "loopback",
        "::/128": "unspecified",
        "::/96": "IPv4-compatible",
        "::ffff:0:0/96": "IPv4-mapped",
        "::ffff:0:0:0/96": "IPv4-translated, SIIT",
        "64:ff9b::/96": "NAT64",
        "64:ff9b:1::/48": "local NAT64",
        "fd00:ec2::254/128": "cloud metadata",
        "fc00::/7": "unique-local",
        "fe80::/10": "link-local",
        "fec0::/10": "site-local",
        "ff00::/8": "multicast",
        # Inside 2000::/3 but not public, or tunnelling to an IPv4 address (Teredo, 6to4).
        "2001::/23": "IETF protocol assignments, Teredo",
        "2001:db8::/32": "documentation",
        "2002::/16": "6to4",
        "3fff::/20": "documentation",
        "5f00::/16": "SRv6 segment identifiers",
    }.items()
)

# What a resolvable host looks like once requests has IDNA-encoded it (IPv6 literals
# included, without brackets); anything else (`%`, controls, spaces) is refused outright.
CHECK_RESOLVE_SECONDS = 3.0  # at create and PATCH: a name that does not resolve by then is refused
_HOST_CHARS = re.compile(r"[A-Za-z0-9._:-]+")


class TargetRefused(Exception):
    """A URL or address that webhooks must not be sent to; the message says why."""


@dataclass(frozen=True)
class TargetPolicy:
    allow_http: bool = False
    allow_loopback: bool = False

    @property
    def schemes(self) -> tuple[str, ...]:
        return ("https", "http") if self.allow_http else ("https",)


def address_refusal(address: str, policy: TargetPolicy, shown: str | None = None) -> str | None:
    """Why this IP may not be a target, or None when it may; `shown` stands for the address in the message."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return f"{address!r}, not an IP address"
    shown = shown or str(ip)
    if policy.allow_loopback and any(ip in net for net in _LOOPBACK):
        return None
    if label := next((label for net, label in _REFUSED_NETWORKS if ip in net), None):
        return f"{shown} ({label}), not a public address"
    if ip.version == 6 and ip not in _GLOBAL_UNICAST_V6:
        return f"{shown}, outside IPv6 global unicast {_GLOBAL_UNICAST_V6}"
    if not ip.is_global:  # CPython's registry as a second opinion
        return f"{shown}, not a public address"
    return None


def resolve_public(host: str, port: int, policy: TargetPolicy, timeout: float | None = None) -> str:
    """Resolve host; every address must be public. Returns the first one, to connect to.

    With a timeout, a resolver that hangs raises TimeoutError then. getaddrinfo has no timeout
    of its own, so each lookup runs on a thread of its own, abandoned if late: no pool that one
    tenant's slow DNS could fill for everyone else."""
    if not host or not _HOST_CHARS.fullmatch(host):
        raise TargetRefused(f"host {host!r} has characters that are not allowed in a host name")
    if not 0 < port <= 65535:
        raise TargetRefused(f"port {port} is not between 1 and 65535")
    try:
        infos = _getaddrinfo(host, port, timeout)
    except TimeoutError:
        raise
    except (OSError, UnicodeError) as exc:
        raise TargetRefused(f"host {host!r} does not resolve") from exc
    addresses = [info[4][0] for info in infos]
    # A name's addresses are never said: the answers (a 422, lastError) would map names that only our
    # resolver knows (a CNAME to a private zone) to internal addresses, an SSRF oracle.
    shown = None if _is_address(host) else "an address"
    for address in addresses:
        if reason := address_refusal(address, policy, shown):
            raise TargetRefused(f"host {host!r} resolves to {reason}")
    return addresses[0]


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def check_url(url: str, policy: TargetPolicy) -> None:
    """Raise TargetRefused unless url is an allowed webhook target (characters, scheme, shape, addresses)."""
    _refuse_text(url)
    _refuse_unencoded(url)
    _scheme, host, port = target(url, policy)
    try:
        resolve_public(host, port, policy, timeout=CHECK_RESOLVE_SECONDS)
    except TimeoutError:
        raise TargetRefused(f"host {host!r} did not resolve within {CHECK_RESOLVE_SECONDS:g} s") from None


def _getaddrinfo(host: str, port: int, timeout: float | None) -> list:
    if timeout is None:
        return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    answer: dict[str, Any] = {}

    def lookup() -> None:
        try:
            answer["infos"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except Exception as exc:  # handed to the caller
            answer["error"] = exc

    worker = threading.Thread(target=lookup, name="resolve", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise TimeoutError(f"resolving {host} took longer than {timeout:g} s")
    if "error" in answer:
        raise answer["error"]
    return answer["infos"]


def target(url: str, policy: TargetPolicy) -> tuple[str, str, int]:
    """The (scheme, host, port) requests would connect to for url, after the URL rules (no DNS)."""
    _refuse_text(url)
    written = _split(url)
    _refuse_shape(written, policy)
    sent = _split(_prepared(url))
    _refuse_shape(sent, policy)
    reads = (_idna(written.hostname), written.port or DEFAULT_PORTS[written.scheme])
    goes = (sent.hostname, sent.port or DEFAULT_PORTS[sent.scheme])
    if reads != goes:
        raise TargetRefused(f"url is ambiguous: it reads as {reads[0]!r}:{reads[1]} but goes to {goes[0]!r}:{goes[1]}")
    return sent.scheme, *goes


def _refuse_text(url: str) -> None:
    if len(url) > MAX_URL_LENGTH:
        raise TargetRefused(f"url is longer than {MAX_URL_LENGTH} characters")
    # Parsers disagree on these: urllib.parse drops tab/CR/LF, requests strips leading spaces.
    if bad := next((ch for ch in url if ch.isspace() or unicodedata.category(ch) == "Cc"), None):
        raise TargetRefused(f"url must not contain whitespace or control characters (found U+{ord(bad):04X})")


def _refuse_unencoded(url: str) -> None:
    """RFC 3986's characters, checked when a URL is stored only: a URL stored before this rule keeps being
    delivered to (requests quotes what it must), and nothing here changes where a request goes."""
    if bad := next((ch for ch in url if ch.isascii() and not _URI_CHARACTER.fullmatch(ch)), None):
        raise TargetRefused(f"url must not contain {bad!r} unencoded (RFC 3986): percent-encode it")
    if _BAD_PERCENT.search(url):
        raise TargetRefused("url has a '%' that does not start a percent-encoding (%XX)")


def _refuse_shape(parts: SplitResult, policy: TargetPolicy) -> None:
    if parts.scheme not in policy.schemes:
        raise TargetRefused(f"url scheme must be {' or '.join(policy.schemes)}")
    if not parts.hostname:
        raise TargetRefused("url has no host")
    if parts.port == 0:  # requests would silently drop ":0" and use the default port
        raise TargetRefused("url port must be a number between 1 and 65535")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("url must not carry credentials")
    if parts.fragment:
        raise TargetRefused("url must not have a fragment")


def _split(url: str) -> SplitResult:
    """urllib.parse's reading of url; the adapter reads the prepared URL's host the same way (urlparse)."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise TargetRefused(f"url is malformed: {exc}") from exc
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number up to 65535
    except ValueError as exc:
        raise TargetRefused("url port must be a number between 1 and 65535") from exc
    return parts


def _prepared(url: str) -> str:
    """url as requests will send it: parsed by urllib3, host IDNA-encoded, re-quoted."""
    import requests  # here: the API needs requests only to create or change a webhook (cold start)

    request = requests.PreparedRequest()
    try:
        request.prepare_url(url, None)
    except (requests.RequestException, ValueError) as exc:
        raise TargetRefused(f"url is malformed: {exc}") from exc
    return request.url


def _idna(host: str | None) -> str | None:
    """host encoded the way requests encodes it, so that the two readings can be compared."""
    if host is None or host.isascii():
        return host
    import requests  # here, as in _prepared

    try:
        return requests.PreparedRequest._get_idna_encoded_host(host)
    except UnicodeError:
        return host
