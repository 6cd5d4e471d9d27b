"""Webhook URLs that must be refused, as (url, refusal, why), for the unit, API and stack tests.

`refusal` is the part of the refusal's message (`TargetRefused`, or the API's 422) that names the
rule the URL breaks: a test that only checked "refused" would still pass with that rule turned off,
when another rule or a parser's error happens to refuse the URL instead. The fragments are written
out here, not imported from `bluehooks.targets`, so a changed message is a changed contract.

Each is refused by the address or URL rules alone, without DNS of a real public name: hosts
are IP literals, numeric spellings, `localhost`, or the reserved `.example` TLD behind a rule
that refuses the URL before any lookup. Every host that a parser could take from them is
loopback or otherwise non-public, so even a regression never sends traffic off the machine.

`https` is used so that the production policy refuses them for the address, not the scheme.
LOOPBACK_URLS are the ones refused only for being loopback: a policy with `allow_loopback`
(the local stack's ALLOW_PRIVATE_TARGETS) accepts them, and must still refuse all the others.
"""


def address(label: str) -> str:
    """Refused because the host is (or resolves to) an address in a special-purpose range."""
    return f"({label}), not a public address"


def control(code_point: str) -> str:
    return f"url must not contain whitespace or control characters (found {code_point})"


LOOPBACK = address("loopback")
OUTSIDE_GLOBAL_UNICAST = "outside IPv6 global unicast 2000::/3"
HOST_CHARACTERS = "has characters that are not allowed in a host name"
PORT = "url port must be a number between 1 and 65535"
CREDENTIALS = "url must not carry credentials"
BACKSLASH = "url must not contain '\\\\' unencoded (RFC 3986)"
BAD_PERCENT = "url has a '%' that does not start a percent-encoding"
# Checked when a URL is stored only: at delivery such a URL is refused too, by the rules that decide
# where the request goes (ambiguity, host, address), each with its own reason.
STORED_ONLY = frozenset({BACKSLASH, BAD_PERCENT})
AMBIGUOUS = "url is ambiguous: it reads as"
FRAGMENT = "url must not have a fragment"
SCHEME = "url scheme must be https"  # "... or http" where the policy allows http
NO_HOST = "url has no host"
TOO_LONG = "2048 characters"  # the API's model says "at most 2048 characters" before targets.py is asked

HOSTILE_URLS: list[tuple[str, str, str]] = [
    # Loopback, in every spelling getaddrinfo accepts.
    ("https://127.0.0.1/", LOOPBACK, "loopback"),
    ("https://127.0.0.2:8443/hook", LOOPBACK, "loopback, not only 127.0.0.1"),
    ("https://localhost/", LOOPBACK, "loopback, by name"),
    ("https://2130706433/", LOOPBACK, "loopback, decimal"),
    ("http://2130706433/", LOOPBACK, "loopback, decimal, plain http"),
    ("https://0x7f000001/", LOOPBACK, "loopback, hex"),
    ("https://0x7f.1/", LOOPBACK, "loopback, hex short form"),
    ("https://017700000001/", LOOPBACK, "loopback, octal"),
    ("https://0177.0.0.1/", LOOPBACK, "loopback, octal dotted"),
    ("https://127.1/", LOOPBACK, "loopback, short form"),
    ("https://[::1]/", LOOPBACK, "loopback, IPv6"),
    # IPv4 inside IPv6, which would reach the IPv4 address through a mapping or tunnel.
    ("https://[::ffff:127.0.0.1]/", address("IPv4-mapped"), "IPv4-mapped loopback"),
    ("https://[::ffff:7f00:1]/", address("IPv4-mapped"), "IPv4-mapped loopback, hex"),
    ("https://[::ffff:a9fe:a9fe]/", address("IPv4-mapped"), "IPv4-mapped metadata"),
    ("https://[::127.0.0.1]/", address("IPv4-compatible"), "IPv4-compatible loopback"),
    ("https://[::a9fe:a9fe]/", address("IPv4-compatible"), "IPv4-compatible metadata"),
    ("https://[::ffff:0:7f00:1]/", address("IPv4-translated, SIIT"), "SIIT IPv4-translated loopback"),
    ("https://[64:ff9b::7f00:1]/", address("NAT64"), "NAT64 loopback"),
    ("https://[64:ff9b:1::7f00:1]/", address("local NAT64"), "local-use NAT64 loopback"),
    ("https://[2002:7f00:1::]/", address("6to4"), "6to4 loopback"),
    ("https://[2001::1]/", address("IETF protocol assignments, Teredo"), "Teredo"),
    # Cloud metadata.
    ("https://169.254.169.254/latest/meta-data/", address("cloud metadata"), "metadata"),
    ("https://2852039166/latest/meta-data/", address("cloud metadata"), "metadata, decimal"),
    ("https://0xa9.0xfe.0xa9.0xfe/", address("cloud metadata"), "metadata, hex dotted"),
    ("https://[fd00:ec2::254]/", address("cloud metadata"), "metadata, IPv6"),
    # Private, shared and link-local IPv4.
    ("https://10.0.0.1/", address("private, RFC 1918"), "private, RFC 1918"),
    ("https://012.1/", address("private, RFC 1918"), "private, RFC 1918, octal short form"),
    ("https://172.16.5.4/", address("private, RFC 1918"), "private, RFC 1918"),
    ("https://192.168.1.1/", address("private, RFC 1918"), "private, RFC 1918"),
    ("https://100.64.0.1/", address("carrier-grade NAT"), "carrier-grade NAT"),
    ("https://169.254.1.1/", address("link-local"), "link-local"),
    ("https://0.0.0.0/", address("'this network'"), "'this network'"),
    ("https://0/", address("'this network'"), "'this network', short form"),
    ("https://0.1.2.3/", address("'this network'"), "'this network'"),
    ("https://224.0.0.1/", address("multicast"), "multicast"),
    # Reserved, documentation and other special-purpose IPv4.
    ("https://192.0.0.8/", address("IETF protocol assignments"), "IETF protocol assignments"),
    ("https://192.0.2.1/", address("documentation"), "documentation, TEST-NET-1"),
    ("https://198.51.100.7/", address("documentation"), "documentation, TEST-NET-2"),
    ("https://203.0.113.9/", address("documentation"), "documentation, TEST-NET-3"),
    ("https://198.18.0.1/", address("benchmarking"), "benchmarking"),
    ("https://192.88.99.1/", address("6to4 relay anycast"), "6to4 relay anycast"),
    ("https://240.0.0.1/", address("reserved"), "reserved"),
    ("https://255.255.255.255/", address("broadcast"), "broadcast"),
    # IPv6 outside global unicast 2000::/3, or special inside it.
    ("https://[::]/", address("unspecified"), "unspecified"),
    ("https://[fe80::1]/", address("link-local"), "link-local"),
    ("https://[fe80::1%25eth0]/", HOST_CHARACTERS, "link-local with a zone id"),
    ("https://[fc00::1]/", address("unique-local"), "unique-local"),
    ("https://[fd12:3456::1]/", address("unique-local"), "unique-local"),
    ("https://[fec0::1]/", address("site-local"), "site-local"),
    ("https://[ff02::1]/", address("multicast"), "multicast"),
    ("https://[100::1]/", OUTSIDE_GLOBAL_UNICAST, "discard-only"),
    ("https://[4000::1]/", OUTSIDE_GLOBAL_UNICAST, "outside global unicast 2000::/3"),
    ("https://[2001:db8::1]/", address("documentation"), "documentation"),
    ("https://[3fff::1]/", address("documentation"), "documentation"),
    ("https://[5f00::1]/", address("SRv6 segment identifiers"), "SRv6 segment identifiers"),
    # Control characters and whitespace, which parsers drop, stop at or reject differently.
    ("https://127.0.0.1\x00.example/", control("U+0000"), "NUL in host"),
    ("https://good.example\t@127.0.0.1/", control("U+0009"), "tab, which urllib.parse silently drops"),
    ("https://127.0.0.1\r\n.example/", control("U+000D"), "CR LF in host"),
    ("https://127.0.0.1\n/", control("U+000A"), "LF after host"),
    ("https://127.0.0.1\x0b/", control("U+000B"), "vertical tab"),
    ("https://127.0.0.1\x1f/", control("U+001F"), "C0 control"),
    ("https://127.0.0.1\x7f/", control("U+007F"), "DEL"),
    ("https://127.0.0.1\x85/", control("U+0085"), "C1 control, NEL"),
    ("https://127.0.0.1\x9b/", control("U+009B"), "C1 control, CSI"),
    ("https://127.0.0.1 /", control("U+0020"), "space in host"),
    (" https://127.0.0.1/", control("U+0020"), "leading space, which requests strips"),
    ("https://127.0.0.1/ ", control("U+0020"), "trailing space"),
    ("https://127.0.0.1\xa0/", control("U+00A0"), "no-break space"),
    ("https://127.0.0.1\u3000/", control("U+3000"), "ideographic space"),
    # Ports.
    ("https://127.0.0.1:0/", PORT, "port 0, which requests drops for the default port"),
    ("https://127.0.0.1:65536/", PORT, "port above 65535"),
    ("https://127.0.0.1:99999999999/", PORT, "port far above 65535"),
    ("https://127.0.0.1:+443/", PORT, "signed port"),
    # URLs that one parser reads with another host than the other.
    ("https://evil@127.0.0.1:80@good.example/", CREDENTIALS, "credentials, two @"),
    (
        "https://127.0.0.1\\@good.example/",
        BACKSLASH,
        "backslash: urllib3 reads 127.0.0.1, urllib.parse good.example",
    ),
    (
        "https://good.example\\@127.0.0.1/",
        BACKSLASH,
        "backslash: urllib.parse reads 127.0.0.1, urllib3 good.example",
    ),
    ("https://127.0.0.1\\.good.example/", BACKSLASH, "backslash: urllib3 stops the host at it"),
    ("https://%31%32%37.0.0.1/", AMBIGUOUS, "percent-encoded host, decoded by urllib3 only"),
    ("https://127.0.0.1#@good.example/", FRAGMENT, "fragment hiding an @"),
    ("https://127.0.0.1/%zz", BAD_PERCENT, "a '%' that urllib3 would re-quote as %25"),
    # URL shape.
    ("ftp://127.0.0.1/", SCHEME, "scheme"),
    ("file:///etc/passwd", SCHEME, "scheme, no host"),
    ("gopher://127.0.0.1:25/", SCHEME, "scheme"),
    ("https:/127.0.0.1/", NO_HOST, "no host"),
    ("https:\\\\127.0.0.1/", BACKSLASH, "no host, backslashes"),
    ("https://user:pw@127.0.0.1/", CREDENTIALS, "credentials"),
    ("https://@127.0.0.1/", CREDENTIALS, "empty credentials"),
    ("https://127.0.0.1/#frag", FRAGMENT, "fragment"),
    ("https://127.0.0.1/" + "a" * 2048, TOO_LONG, "longer than 2048 characters"),
]

LOOPBACK_URLS: frozenset[str] = frozenset(url for url, refusal, _ in HOSTILE_URLS if refusal == LOOPBACK)
ADDRESS_REFUSALS: frozenset[str] = frozenset(
    refusal
    for _, refusal, _ in HOSTILE_URLS
    if refusal.endswith("not a public address") or refusal == OUTSIDE_GLOBAL_UNICAST
)
"""The reasons that are about the address, which delivery's adapter checks again on its own."""
