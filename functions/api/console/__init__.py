"""GET /console: the web console for webhook owners, static files shipped with the API function.

The page is public (it holds no data); it asks for a bearer token and calls the API from the
browser, on the same origin. Only the files named in ASSETS are ever served, so no path can
reach anything else in the function's code. Only the origins of ConsoleFrameAncestors may
frame it (none by default), so no other site can dress it up to trick a signed-in owner.
Also the headers of /docs (Swagger UI, one page of inline scripts and styles).
"""

import base64
import hashlib
import re
from functools import cache
from http import HTTPStatus
from pathlib import Path

from answers import problem
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

HERE = Path(__file__).parent
PAGE = "index.html"
# The page's ES modules (main.js imports the others), and its style sheet.
MODULES = (
    *("main.js", "dom.js", "notices.js", "session.js", "views.js"),
    *("list.js", "form.js", "headers.js", "detail.js", "deliveries.js", "chart.js"),
)
ASSETS = {**dict.fromkeys(MODULES, "text/javascript; charset=utf-8"), "style.css": "text/css; charset=utf-8"}
HEADERS = {
    # Same-origin scripts (module scripts and their imports too), styles and API calls only; nothing inline,
    # no plug-ins, no forms posting elsewhere.
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
        "base-uri 'none'; form-action 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def framing(ancestors: str) -> dict[str, str]:
    """Who may frame a page: the allowlisted origins, else nobody (X-Frame-Options for old browsers)."""
    if ancestors:
        return {"csp": f"frame-ancestors {ancestors}"}
    return {"csp": "frame-ancestors 'none'", "X-Frame-Options": "DENY"}


def _with_framing(headers: dict[str, str], ancestors: str) -> dict[str, str]:
    frame = framing(ancestors)
    csp = f"{headers['Content-Security-Policy']}; {frame.pop('csp')}"
    return {**headers, **frame, "Content-Security-Policy": csp}


_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


@cache
def docs_headers(page: str) -> dict[str, str]:
    """/docs runs only its own inline scripts (by hash), fetches only this origin, and is never framed."""
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()}'"
        for script in _INLINE_SCRIPT.findall(page)
    )
    policy = (
        f"default-src 'none'; script-src {hashes}; style-src 'unsafe-inline'; connect-src 'self'; "
        "img-src 'self' data:; base-uri 'none'; form-action 'none'"
    )
    return _with_framing({"Content-Security-Policy": policy, "X-Content-Type-Options": "nosniff"}, ancestors="")


@cache
def _read(name: str) -> str:
    return (HERE / name).read_text(encoding="utf-8")


def console_router(frame_ancestors: str) -> Router:
    """The console's routes: the page, and its files."""
    router = Router()
    headers = _with_framing(HEADERS, frame_ancestors)

    def _file(name: str, content_type: str) -> Response:
        return Response(status_code=HTTPStatus.OK, content_type=content_type, body=_read(name), headers=dict(headers))

    @router.get("/console", include_in_schema=False)
    def console_page():  # no return annotation: the resolver would validate a Response as a model
        path = router.current_event.path
        if path.endswith("/"):  # the page's relative links (console/main.js, webhooks) need /console
            location = "../" * (len(path) - len(path.rstrip("/"))) + "console"
            return Response(status_code=HTTPStatus.PERMANENT_REDIRECT, headers={"Location": location})
        return _file(PAGE, "text/html; charset=utf-8")

    @router.get("/console/<name>", include_in_schema=False)
    def console_asset(name: str):
        if name not in ASSETS:
            return problem(HTTPStatus.NOT_FOUND, "no such console file")
        return _file(name, ASSETS[name])

    return router
