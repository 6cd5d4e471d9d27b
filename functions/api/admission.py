"""Before the resolver runs: a request is bounded (size), authenticated, and its body checked to be JSON we can
parse safely; so the resolver's own parsing never meets a hostile body, and an unauthenticated caller learns
nothing about the schema."""

import base64
import binascii
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import content_types

from bluehooks.errors import Refused, TooLarge, UnsupportedMediaType
from bluehooks.models import Caller
from bluehooks.rules import jsonlimits

MAX_BODY_BYTES = 64 * 1024
PUBLIC_PATHS = frozenset({"/health", "/openapi.json", "/docs", "/console"})
PUBLIC_PREFIXES = ("/console/",)  # the console's static files


def admit(event: dict[str, Any], authenticate: Callable[[str | None], Caller]) -> Caller | None:
    """The caller, once the request is fit for the resolver; a DomainError says why it is not."""
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    body = event.get("body") or ""
    if len(body) > MAX_BODY_BYTES * 4 // 3 + 4:  # base64 grows a body by a third
        raise TooLarge(f"request body exceeds {MAX_BODY_BYTES} bytes")
    caller = None
    path = event.get("path") or ""
    if path not in PUBLIC_PATHS and not path.startswith(PUBLIC_PREFIXES):
        caller = authenticate(headers.get("authorization"))
    if body:
        text = _text(body, bool(event.get("isBase64Encoded")))
        if len(text.encode()) > MAX_BODY_BYTES:
            raise TooLarge(f"request body exceeds {MAX_BODY_BYTES} bytes")
        _require_json(headers.get("content-type", ""))
        try:
            jsonlimits.loads(text)
        except jsonlimits.UnacceptableJson as exc:
            raise Refused(f"the body is {exc}") from None
        _normalize(event, text)
    return caller


def _require_json(content_type: str) -> None:
    """application/json, in UTF-8: the only charset JSON may use between systems (RFC 8259)."""
    media_type, *parameters = (part.strip().lower() for part in content_type.split(";"))
    if media_type != content_types.APPLICATION_JSON:
        raise UnsupportedMediaType("send the body as JSON with Content-Type: application/json")
    pairs = (parameter.partition("=") for parameter in parameters)
    charsets = {value.strip().strip('"') for name, _, value in pairs if name.strip() == "charset"}
    if charsets - {"utf-8"}:
        raise UnsupportedMediaType("send the body as JSON in UTF-8 (Content-Type: application/json; charset=utf-8)")


def _text(body: str, is_base64: bool) -> str:
    if not is_base64:
        return body
    try:
        return base64.b64decode(body, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise Refused("the body must be UTF-8 encoded JSON") from None


def _normalize(event: dict[str, Any], text: str) -> None:
    """The resolver parses a plain-text body with a lower-case JSON content type."""
    event["body"], event["isBase64Encoded"] = text, False
    headers = {name: value for name, value in (event.get("headers") or {}).items() if name.lower() != "content-type"}
    event["headers"] = {**headers, "Content-Type": content_types.APPLICATION_JSON}
    event["multiValueHeaders"] = {name: [value] for name, value in event["headers"].items()}
