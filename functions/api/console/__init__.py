"""GET /console: the web console for webhook owners, static files shipped with the API function.

The page is public (it holds no data); it asks for a bearer token and calls the API from the
browser, on the same origin. Only the files named in ASSETS are ever served, so no path can
reach anything else in the function's code.
"""

from functools import cache
from http import HTTPStatus
from pathlib import Path

from answers import problem
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

HERE = Path(__file__).parent
PAGE = "index.html"
ASSETS = {
    "app.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}
HEADERS = {
    # Same-origin scripts, styles and API calls only; nothing inline, no plug-ins, no forms posting elsewhere.
    # frame-ancestors is left open on purpose: host apps embed the console in an iframe.
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
        "base-uri 'none'; form-action 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


@cache
def _read(name: str) -> str:
    return (HERE / name).read_text(encoding="utf-8")


def _file(name: str, content_type: str) -> Response:
    return Response(status_code=HTTPStatus.OK, content_type=content_type, body=_read(name), headers=dict(HEADERS))


def console_router() -> Router:
    """The console's routes: the page, and its files."""
    router = Router()

    @router.get("/console", include_in_schema=False)
    def console_page():  # no return annotation: the resolver would validate a Response as a model
        path = router.current_event.path
        if path.endswith("/"):  # the page's relative links (console/app.js, webhooks) need /console
            location = "../" * (len(path) - len(path.rstrip("/"))) + "console"
            return Response(status_code=HTTPStatus.PERMANENT_REDIRECT, headers={"Location": location})
        return _file(PAGE, "text/html; charset=utf-8")

    @router.get("/console/<name>", include_in_schema=False)
    def console_asset(name: str):
        if name not in ASSETS:
            return problem(HTTPStatus.NOT_FOUND, "no such console file")
        return _file(name, ASSETS[name])

    return router
