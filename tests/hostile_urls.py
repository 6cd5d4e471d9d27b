"""Webhook URLs that must be refused, as (url, why), for the unit, API and stack tests.

Each is refused by the address or URL rules alone, without DNS of a real public name: hosts
are IP literals, numeric spellings, `localhost`, or the reserved `.example` TLD behind a rule
that refuses the URL before any lookup. Every host that a parser could take from them is
loopback or otherwise non-public, so even a regression never sends traffic off the machine.

`https` is used so that the production policy refuses them for the address, not the scheme.
LOOPBACK_URLS are the ones refused only for being loopback: a policy with `allow_loopback`
(the local stack's ALLOW_PRIVATE_TARGETS) accepts them, and must still refuse all the others.
"""

HOSTILE_URLS: list[tuple[str, str]] = [
    # Loopback, in every spelling getaddrinfo accepts.
    ("https://127.0.0.1/", "loopback"),
    ("https://127.0.0.2:8443/hook", "loopback, not only 127.0.0.1"),
    ("https://localhost/", "loopback, by name"),
    ("https://2130706433/", "loopback, decimal"),
    ("http://2130706433/", "loopback, decimal, plain http"),
    ("https://0x7f000001/", "loopback, hex"),
    ("https://0x7f.1/", "loopback, hex short form"),
    ("https://017700000001/", "loopback, octal"),
    ("https://0177.0.0.1/", "loopback, octal dotted"),
    ("https://127.1/", "loopback, short form"),
    ("https://[::1]/", "loopback, IPv6"),
    # IPv4 inside IPv6, which would reach the IPv4 address through a mapping or tunnel.
    ("https://[::ffff:127.0.0.1]/", "IPv4-mapped loopback"),
    ("https://[::ffff:7f00:1]/", "IPv4-mapped loopback, hex"),
    ("https://[::ffff:a9fe:a9fe]/", "IPv4-mapped metadata"),
    ("https://[::127.0.0.1]/", "IPv4-compatible loopback"),
    ("https://[::a9fe:a9fe]/", "IPv4-compatible metadata"),
    ("https://[::ffff:0:7f00:1]/", "SIIT IPv4-translated loopback"),
    ("https://[64:ff9b::7f00:1]/", "NAT64 loopback"),
    ("https://[2002:7f00:1::]/", "6to4 loopback"),
    ("https://[2001::1]/", "Teredo"),
    # Cloud metadata.
    ("https://169.254.169.254/latest/meta-data/", "metadata"),
    ("https://2852039166/latest/meta-data/", "metadata, decimal"),
    ("https://0xa9.0xfe.0xa9.0xfe/", "metadata, hex dotted"),
    ("https://[fd00:ec2::254]/", "metadata, IPv6"),
    # Private, shared and link-local IPv4.
    ("https://10.0.0.1/", "private, RFC 1918"),
    ("https://012.1/", "private, RFC 1918, octal short form"),
    ("https://172.16.5.4/", "private, RFC 1918"),
    ("https://192.168.1.1/", "private, RFC 1918"),
    ("https://100.64.0.1/", "carrier-grade NAT"),
    ("https://169.254.1.1/", "link-local"),
    ("https://0.0.0.0/", "'this network'"),
    ("https://0/", "'this network', short form"),
    ("https://0.1.2.3/", "'this network'"),
    ("https://224.0.0.1/", "multicast"),
    # Reserved, documentation and other special-purpose IPv4.
    ("https://192.0.0.8/", "IETF protocol assignments"),
    ("https://192.0.2.1/", "documentation, TEST-NET-1"),
    ("https://198.51.100.7/", "documentation, TEST-NET-2"),
    ("https://203.0.113.9/", "documentation, TEST-NET-3"),
    ("https://198.18.0.1/", "benchmarking"),
    ("https://192.88.99.1/", "6to4 relay anycast"),
    ("https://240.0.0.1/", "reserved"),
    ("https://255.255.255.255/", "broadcast"),
    # IPv6 outside global unicast 2000::/3, or special inside it.
    ("https://[::]/", "unspecified"),
    ("https://[fe80::1]/", "link-local"),
    ("https://[fe80::1%25eth0]/", "link-local with a zone id"),
    ("https://[fc00::1]/", "unique-local"),
    ("https://[fd12:3456::1]/", "unique-local"),
    ("https://[fec0::1]/", "site-local"),
    ("https://[ff02::1]/", "multicast"),
    ("https://[100::1]/", "discard-only"),
    ("https://[4000::1]/", "outside global unicast 2000::/3"),
    ("https://[2001:db8::1]/", "documentation"),
    ("https://[3fff::1]/", "documentation"),
    ("https://[5f00::1]/", "SRv6 segment identifiers"),
    # Control characters and whitespace, which parsers drop, stop at or reject differently.
    ("https://127.0.0.1\x00.example/", "NUL in host"),
    ("https://good.example\t@127.0.0.1/", "tab, which urllib.parse silently drops"),
    ("https://127.0.0.1\r\n.example/", "CR LF in host"),
    ("https://127.0.0.1\n/", "LF after host"),
    ("https://127.0.0.1\x0b/", "vertical tab"),
    ("https://127.0.0.1\x1f/", "C0 control"),
    ("https://127.0.0.1\x7f/", "DEL"),
    ("https://127.0.0.1\x85/", "C1 control, NEL"),
    ("https://127.0.0.1\x9b/", "C1 control, CSI"),
    ("https://127.0.0.1 /", "space in host"),
    (" https://127.0.0.1/", "leading space, which requests strips"),
    ("https://127.0.0.1/ ", "trailing space"),
    ("https://127.0.0.1\xa0/", "no-break space"),
    ("https://127.0.0.1\u3000/", "ideographic space"),
    # Ports.
    ("https://127.0.0.1:0/", "port 0, which requests drops for the default port"),
    ("https://127.0.0.1:65536/", "port above 65535"),
    ("https://127.0.0.1:99999999999/", "port far above 65535"),
    ("https://127.0.0.1:+443/", "signed port"),
    # URLs that one parser reads with another host than the other.
    ("https://evil@127.0.0.1:80@good.example/", "credentials, two @"),
    ("https://127.0.0.1\\@good.example/", "backslash: urllib3 reads 127.0.0.1, urllib.parse good.example"),
    ("https://good.example\\@127.0.0.1/", "backslash: urllib.parse reads 127.0.0.1, urllib3 good.example"),
    ("https://127.0.0.1\\.good.example/", "backslash: urllib3 stops the host at it"),
    ("https://%31%32%37.0.0.1/", "percent-encoded host, decoded by urllib3 only"),
    ("https://127.0.0.1#@good.example/", "fragment hiding an @"),
    # URL shape.
    ("ftp://127.0.0.1/", "scheme"),
    ("file:///etc/passwd", "scheme, no host"),
    ("gopher://127.0.0.1:25/", "scheme"),
    ("https:/127.0.0.1/", "no host"),
    ("https:\\\\127.0.0.1/", "no host, backslashes"),
    ("https://user:pw@127.0.0.1/", "credentials"),
    ("https://@127.0.0.1/", "empty credentials"),
    ("https://127.0.0.1/#frag", "fragment"),
    ("https://127.0.0.1/" + "a" * 2048, "longer than 2048 characters"),
]

LOOPBACK_URLS: frozenset[str] = frozenset(url for url, why in HOSTILE_URLS if why.startswith("loopback"))
