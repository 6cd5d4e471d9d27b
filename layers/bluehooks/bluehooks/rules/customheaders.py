"""A webhook's own headers: which may be sent beside the contract's, and how their values are packed to be sealed.

Values are write-only, like the secret: the API seals them with the KMS key (services.sealing) and keeps only
the names in the clear; delivery opens them. KMS seals at most 4 KiB at a time, so the set is sealed
in as few parts as fit (one for the usual API key or routing header, at most seven for 20 values
of 1 KiB). Messages here name a header, never its value: they reach answers and logs.
"""

import re

MAX_HEADERS = 20
MAX_NAME_LENGTH = 256
MAX_VALUE_BYTES = 1024
KMS_PLAINTEXT_BYTES = 4096

# The contract's own headers and HTTP's framing, which a webhook may not override; and the fields
# that govern our connection rather than the message (RFC 9110 7.6.1, and Expect).
RESERVED = frozenset(
    {"host", "content-type", "content-length", "transfer-encoding", "connection", "user-agent", "x-signature"}
    | {"keep-alive", "proxy-connection", "te", "trailer", "upgrade", "expect"}
)
RESERVED_PREFIX = "webhook-"
TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 9110 5.6.2
# Visible ASCII and inner spaces: no control characters (HTAB, CR, LF, NUL, DEL), nothing http.client
# would have to encode, and no space at either end (receivers strip it, RFC 9110 5.5).
VALUE = re.compile(r"([\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?)?")


def checked(headers: dict[str, str]) -> dict[str, str]:
    """The headers, if every one may be sent; ValueError naming the first that may not."""
    if len(headers) > MAX_HEADERS:
        raise ValueError(f"at most {MAX_HEADERS} headers")
    seen: set[str] = set()
    for name, value in headers.items():
        if reason := _refusal(name, value):
            raise ValueError(f"header {name!r}: {reason}" if _is_name(name) else reason)
        if name.lower() in seen:
            raise ValueError(f"header {name!r} is given twice (names are case-insensitive)")
        seen.add(name.lower())
    return headers


def _is_name(name: str) -> bool:
    return len(name) <= MAX_NAME_LENGTH and TOKEN.fullmatch(name) is not None


def _refusal(name: str, value: str) -> str | None:
    if not _is_name(name):
        return f"a header name is an RFC 9110 token: letters, digits and !#$%&'*+-.^_`|~, 1-{MAX_NAME_LENGTH} of them"
    if name.lower() in RESERVED or name.lower().startswith(RESERVED_PREFIX):
        return "reserved: the delivery contract or HTTP sets it"
    if len(value) > MAX_VALUE_BYTES:
        return f"the value is over {MAX_VALUE_BYTES} bytes"
    if not VALUE.fullmatch(value):
        return "the value may hold only printable ASCII and inner spaces: no control characters (tab, CR, LF, NUL)"
    return None


def names(headers: dict[str, str]) -> list[str]:
    """What the API shows of them."""
    return sorted(headers, key=str.lower)


def packed(headers: dict[str, str]) -> list[str]:
    """The headers as HTTP writes them, `Name: value` a line (neither holds a line break, nor a name
    ": "), in parts of at most KMS_PLAINTEXT_BYTES: three of the largest, 256 + 1024 bytes, fit one."""
    parts: list[str] = []
    for name, value in headers.items():
        line = f"{name}: {value}"
        if parts and len(parts[-1]) + 1 + len(line) <= KMS_PLAINTEXT_BYTES:
            parts[-1] += "\n" + line
        else:
            parts.append(line)
    return parts


def unpacked(parts: list[str]) -> dict[str, str]:
    """The headers again, from their opened parts."""
    lines = (line for part in parts for line in part.split("\n"))
    return dict(line.partition(": ")[::2] for line in lines)
