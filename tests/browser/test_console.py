"""The web console (GET /console) in a real browser: Debian's chromium, driven by Playwright,
against the local stack as `make run` starts it, delivering to a real receiver on loopback.

Screenshots of each main screen are kept under test-output/screenshots/ (not committed);
docs/console.png (the README's) is written when missing, or again with UPDATE_DOCS_SCREENSHOT=1.
"""

import json
import os
import re
import subprocess
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jwt
import pytest
import requests
from playwright.sync_api import Browser, Page, expect, sync_playwright

from devstack.token import mint
from tests.e2e.localstack import LocalStackProcess
from tests.verify import assert_signed

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-output" / "screenshots"
DOCS_SHOT = ROOT / "docs" / "console.png"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SECRET = "browser-jwt-secret-browser-jwt-se"
FILTER = {"currentValue": {"title": [{"prefix": "urgent"}]}}

pytestmark = pytest.mark.timeout(600)  # the first test may install chromium
expect.set_options(timeout=10_000)


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's chromium (Playwright's own browser download is not reachable): installed when missing."""
    if not CHROMIUM.exists():
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]
        done = subprocess.run(install, env=env, capture_output=True, text=True)
        if done.returncode != 0:  # a fresh image has no package lists yet
            subprocess.run(["apt-get", "update"], env=env, capture_output=True, text=True)
            done = subprocess.run(install, env=env, capture_output=True, text=True)
        if done.returncode != 0 or not CHROMIUM.exists():
            pytest.fail(f"chromium is missing and `apt-get install chromium` failed (run as root):\n{done.stderr}")
    return str(CHROMIUM)


@pytest.fixture(scope="module")
def stack():
    stack = LocalStackProcess(
        WEBHOOKS_JWT_SECRET=SECRET,
        RETRY_SCHEDULE="0,1,1",
        DELIVERY_TIMEOUT_SECONDS="2",
        PROBE_INTERVAL_SECONDS="1",
    )
    yield stack
    stack.stop()


@pytest.fixture(scope="module")
def browser(chromium):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, stack):
    context = browser.new_context(viewport={"width": 1100, "height": 900}, locale="en-US")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"the console threw: {errors}"


def shot(page: Page, name: str, full_page: bool = True) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}.png", full_page=full_page)


def with_token(headers: dict[str, str], token: str) -> dict[str, str]:
    """A request's headers with token in place of the one the console sent, if it sent one."""
    if "authorization" not in headers:
        return headers
    return {**headers, "authorization": f"Bearer {token}"}


def console(stack) -> str:
    return f"{stack.api}/console"


def sign_in(page: Page, stack, token: str) -> None:
    page.goto(console(stack))
    page.get_by_label("Bearer token").fill(token)
    page.get_by_role("button", name="Open the console").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Webhooks")


def create(stack, token: str, **fields) -> dict:
    response = requests.post(
        f"{stack.api}/webhooks", json=fields, headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert response.status_code == 201, response.text
    return response.json()


def put_event(stack, company: str, project: str, title: str) -> None:
    detail = {"company": {"id": company}, "project": {"id": project}, "currentValue": {"title": title}}
    entry = {"Source": "blue", "DetailType": "TODO_CREATED", "EventBusName": "blue-events"}
    result = stack.client("events").put_events(Entries=[{**entry, "Detail": json.dumps(detail)}])
    assert result["FailedEntryCount"] == 0


@contextmanager
def page_server(html: str):
    """A page on another origin (another loopback port), as an attacker's site would serve it."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(html.encode())

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()


def no_horizontal_scroll(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_paste_a_token_create_with_a_filter_see_the_secret_once_and_a_delivery_from_the_bus(stack, page, receiver):
    token = mint("acme", "ada", "ADMIN", SECRET)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(console(stack))
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in with a token")
    shot(page, "01-token")
    page.get_by_label("Bearer token").fill(token)
    page.get_by_role("button", name="Open the console").click()
    expect(page.locator("#who-role")).to_have_text("ADMIN")
    expect(page.locator("#who-name")).to_contain_text("ada · company acme")

    page.get_by_role("link", name="New webhook").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New webhook")
    page.get_by_label("Name", exact=True).fill("Orders")
    page.get_by_label("Endpoint URL").fill(receiver.url("/orders"))
    page.get_by_role("checkbox", name=re.compile("^TODO_CREATED")).check()
    page.get_by_label("Projects").fill("p1, p2")
    page.get_by_label("Filter (JSON)").fill(json.dumps(FILTER))
    shot(page, "02-create")
    page.get_by_role("button", name="Create webhook").click()

    secret = page.locator("#secret-value")
    expect(secret).to_have_text(re.compile(r"^whsec_[A-Za-z0-9+/=]{40,}$"))
    expect(page.get_by_text("it is shown only this once")).to_be_visible()
    shot(page, "03-secret")
    page.get_by_role("button", name="Copy secret").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == secret.text_content()
    page.get_by_role("button", name="I've stored it, hide it").click()
    expect(secret).to_have_count(0)
    page.get_by_role("link", name="← All webhooks").click()
    page.get_by_role("link", name="Orders").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Orders")
    expect(page.locator(".summary")).to_contain_text('"prefix": "urgent"')
    expect(page.locator("#secret-value")).to_have_count(0)  # shown once, and only then
    assert page.evaluate("localStorage.length") == 0  # not remembered
    assert token not in page.url

    put_event(stack, "acme", "p1", "later")  # filtered out
    put_event(stack, "acme", "p1", "urgent: ship it")
    (received,) = receiver.wait_for("/orders", timeout=10)
    assert json.loads(received.body)["currentValue"] == {"title": "urgent: ship it"}
    page.get_by_role("button", name="Refresh").click()
    first = page.locator(".delivery").first
    expect(first.locator(".state")).to_have_text("Succeeded")
    expect(first.locator(".delivery-event")).to_have_text("TODO_CREATED")
    first.locator(".delivery-toggle").focus()
    page.keyboard.press("Enter")  # keyboard: expand the delivery
    expect(first.locator(".delivery-toggle")).to_have_attribute("aria-expanded", "true")
    expect(first.locator(".attempt")).to_have_count(1)
    expect(first.locator(".attempt-status")).to_have_text("HTTP 200")
    expect(first.locator(".excerpt")).to_have_text("ok")
    shot(page, "04-detail")
    assert len(receiver.at("/orders")) == 1 and page.locator(".delivery").count() == 1

    page.get_by_role("link", name="← All webhooks").click()
    card = page.locator(".card", has_text="Orders")
    expect(card.locator(".url")).to_have_text(receiver.url("/orders"))
    expect(card).to_contain_text("TODO_CREATED")
    expect(card).to_contain_text("p1, p2")
    expect(card.locator(".badge")).to_have_text("HEALTHY")
    expect(card.locator("dd").nth(2).locator("time")).to_be_visible()  # last success
    shot(page, "05-list")


def test_a_failing_endpoint_shows_its_attempts_turns_unhealthy_and_a_retry_delivers(stack, page, receiver):
    token = mint("globex", "hank", "OWNER", SECRET)
    create(stack, token, name="Globex billing", url=receiver.behave("/down", status=500))
    sign_in(page, stack, token)
    page.get_by_role("link", name="Globex billing").click()

    page.get_by_role("button", name="Send test").click()
    expect(page.locator(".delivery")).to_have_count(1)  # in the log without a reload
    page.get_by_role("button", name="Send test").click()  # 2 pings × 3 attempts: over the 5 that make it UNHEALTHY
    expect(page.locator(".summary .badge-bad")).to_have_text("UNHEALTHY", timeout=20_000)
    expect(page.locator(".delivery .state")).to_have_text(["Dead", "Dead"], timeout=15_000)
    newest = page.locator(".delivery").first
    newest.locator(".delivery-toggle").click()
    expect(newest.locator(".attempt")).to_have_count(3)
    expect(newest.locator(".attempt-status")).to_have_text(["HTTP 500"] * 3)
    expect(newest.locator(".attempt").first).to_contain_text(re.compile(r"\d+ ms"))
    expect(page.locator(".summary")).to_contain_text("Last failure")
    if not DOCS_SHOT.exists() or os.environ.get("UPDATE_DOCS_SCREENSHOT") == "1":
        page.set_viewport_size({"width": 900, "height": 1120})
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=DOCS_SHOT)
        page.set_viewport_size({"width": 1100, "height": 900})
    shot(page, "06-failing")

    receiver.behave("/down", status=200)
    delivery_id = newest.get_attribute("data-delivery-id")
    newest.get_by_role("button", name="Retry now").click()
    retried = page.locator(f'.delivery[data-delivery-id="{delivery_id}"]')
    expect(retried.locator(".state")).to_have_text("Succeeded", timeout=15_000)
    expect(retried.locator(".attempt")).to_have_count(4)
    expect(retried.locator(".attempt-status").last).to_have_text("HTTP 200")
    expect(page.locator(".summary .badge")).to_have_text("HEALTHY")
    assert receiver.at("/down")[-1].headers["webhook-id"] == delivery_id
    shot(page, "07-retried")

    page.get_by_role("button", name="Recover", exact=True).click()  # since its default, 24 hours ago
    expect(page.locator("#notice")).to_have_text("1 failed delivery queued again.")
    expect(page.locator(".delivery .state")).to_have_text(["Succeeded", "Succeeded"], timeout=15_000)


def test_rotate_shows_the_new_secret_once_and_delete_asks_first(stack, page, receiver):
    token = mint("initech", "peter", "PROJECT_MANAGER", SECRET, projects=["tps"])
    webhook = create(stack, token, name="Reports", url=receiver.url("/rotated"), projectIds=["tps"])
    sign_in(page, stack, token)
    page.get_by_role("link", name="Reports").click()

    page.get_by_role("button", name="Rotate secret").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("keeps signing too")
    dialog.get_by_label("Stop signing with the old secret at once").check()
    dialog.get_by_role("button", name="Rotate secret").click()
    secret = page.locator("#secret-value")
    expect(secret).to_have_text(re.compile("^whsec_"))
    new_secret = secret.text_content()
    assert new_secret != webhook["secret"]
    expect(page.locator("#secret-panel")).to_be_focused()
    shot(page, "08-rotated")

    page.get_by_role("button", name="Send test").click()
    (request,) = receiver.wait_for("/rotated", timeout=10)
    assert_signed(new_secret, request.headers, request.body)

    page.get_by_role("button", name="Disable").click()
    expect(page.locator(".summary .badges")).to_contain_text("DISABLED")
    expect(page.locator(".summary .why")).to_have_text("Disabled by its owner.")
    expect(page.get_by_role("button", name="Enable")).to_be_focused()
    page.get_by_role("button", name="Enable").click()
    expect(page.locator(".summary .badge-off")).to_have_count(0)

    page.get_by_role("button", name="Delete").click()
    dialog.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reports")  # still there
    page.get_by_role("button", name="Delete").click()
    expect(dialog).to_contain_text("This can't be undone")
    dialog.get_by_role("button", name="Delete webhook").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Webhooks")
    expect(page.locator("#notice")).to_have_text("Webhook “Reports” deleted.")
    expect(page.locator(".card")).to_have_count(0)
    page.go_back()  # to the deleted webhook's page
    expect(page.get_by_role("heading", level=1)).to_have_text("This webhook is gone")


def test_a_member_sees_a_read_only_console_at_phone_width_in_their_locale(stack, browser, receiver):
    admin = mint("umbrella", "alice", "ADMIN", SECRET)
    hostile = '<img src=x onerror="window.pwned=1">Lab feed'  # names are other people's text, never markup
    webhook = create(stack, admin, name=hostile, url=receiver.url("/lab"), events=["TODO_CREATED"])
    requests.post(
        f"{stack.api}/webhooks/{webhook['id']}/test", headers={"Authorization": f"Bearer {admin}"}, timeout=10
    ).raise_for_status()
    receiver.wait_for("/lab", timeout=10)
    context = browser.new_context(
        viewport={"width": 375, "height": 740}, locale="de-DE", timezone_id="Europe/Berlin", has_touch=True
    )
    page = context.new_page()
    try:
        sign_in(page, stack, mint("umbrella", "bob", "MEMBER", SECRET))
        expect(page.locator("#who-role")).to_have_text("MEMBER")
        expect(page.get_by_text("Read-only view")).to_be_visible()
        expect(page.get_by_role("link", name="New webhook")).to_have_count(0)
        expect(page.locator(".card")).to_have_count(1)
        assert no_horizontal_scroll(page)
        shot(page, "09-member-list-375")

        page.get_by_role("link", name=hostile).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(hostile)
        expect(page.locator(".summary")).to_contain_text(re.compile(r"\d{2}\.\d{2}\.\d{4}"))  # de-DE dates
        for action in ("Edit", "Disable", "Send test", "Rotate secret", "Delete", "Recover"):
            expect(page.get_by_role("button", name=action, exact=True)).to_have_count(0)
        expect(page.get_by_role("link", name="Edit")).to_have_count(0)
        expect(page.get_by_role("heading", name="Recover")).to_have_count(0)
        delivery = page.locator(".delivery").first
        expect(delivery.locator(".state")).to_have_text("Succeeded")
        delivery.locator(".delivery-toggle").click()
        expect(delivery.locator(".attempt-status")).to_have_text("HTTP 200")
        expect(delivery.get_by_role("button", name="Retry now")).to_have_count(0)
        assert no_horizontal_scroll(page)
        shot(page, "10-member-detail-375")
        assert page.evaluate("window.pwned") is None

        page.evaluate("location.hash = '#/new'")  # a MEMBER has no create form: back to the list
        expect(page.get_by_role("heading", level=1)).to_have_text("Webhooks")
    finally:
        context.close()


def test_an_invalid_filter_shows_the_apis_message_next_to_the_field(stack, page, receiver):
    sign_in(page, stack, mint("hooli", "gavin", "ADMIN", SECRET))
    page.get_by_role("link", name="New webhook").click()
    page.get_by_label("Endpoint URL").fill(receiver.url("/hooli"))
    filter_box = page.get_by_label("Filter (JSON)")
    filter_box.fill('{"event": [{"numeric": [">", "x"]}]}')
    page.get_by_role("button", name="Create webhook").click()
    error = page.locator("#wh-filter-error")
    expect(error).to_contain_text("invalid filter: event: numeric bound 'x' is not a number")
    expect(filter_box).to_have_attribute("aria-invalid", "true")
    expect(filter_box).to_be_focused()
    assert "wh-filter-error" in filter_box.get_attribute("aria-describedby")
    shot(page, "11-invalid-filter")

    filter_box.fill('{"event": ')
    page.get_by_role("button", name="Create webhook").click()
    expect(error).to_contain_text("This is not valid JSON")

    filter_box.fill("")
    page.get_by_label("Endpoint URL").fill("ftp://example.com/hook")
    page.get_by_role("button", name="Create webhook").click()
    expect(page.locator("#wh-url-error")).to_contain_text("url refused")
    expect(error).to_have_text("")
    page.get_by_role("link", name="Cancel").click()
    expect(page.locator(".card")).to_have_count(0)  # nothing was created


def test_tokens_from_the_fragment_remember_me_and_refusals(stack, page, receiver):
    # From the URL fragment (an embedding app's iframe): read, then cleared from the address bar.
    token = mint("wayne", "bruce", "ADMIN", SECRET)
    page.goto(f"{console(stack)}#token={token}")
    expect(page.locator("#who-name")).to_contain_text("bruce")
    assert page.url == console(stack)
    assert page.evaluate("localStorage.length") == 0

    # Remember me: kept in localStorage; signing out forgets it.
    page.get_by_role("button", name="Sign out").click()
    page.get_by_label("Bearer token").fill(token)
    page.get_by_label("Remember me on this device").check()
    page.get_by_role("button", name="Open the console").click()
    expect(page.get_by_role("button", name="Sign out and forget token")).to_be_visible()
    assert page.evaluate("Object.values(localStorage)") == [token]
    page.reload()
    expect(page.locator("#who-name")).to_contain_text("bruce")
    page.get_by_role("button", name="Sign out and forget token").click()
    expect(page.locator("#notice")).to_contain_text("removed from this browser")
    assert page.evaluate("localStorage.length") == 0

    # A token the API refuses: back to the token field, with the reason.
    page.get_by_label("Bearer token").fill(mint("wayne", "bruce", "ADMIN", "not-the-secret-not-the-secret-not"))
    page.get_by_role("button", name="Open the console").click()
    expect(page.locator("#token-error")).to_contain_text("Your token was refused")
    expect(page.get_by_label("Bearer token")).to_be_focused()

    # A webhook deleted meanwhile: "gone"; a token that expires meanwhile: back to the token field.
    doomed = create(stack, token, name="Doomed", url=receiver.url("/doomed"))
    sign_in(page, stack, token)
    requests.delete(f"{stack.api}/webhooks/{doomed['id']}", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    page.get_by_role("link", name="Doomed").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("This webhook is gone")
    shot(page, "12-gone")
    # The token's expiry, without waiting for it: from here on the API is sent the same token as it
    # will be an hour from now, and refuses it as expired.
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    expired = jwt.encode(
        {**claims, "iat": claims["iat"] - 7200, "exp": int(time.time()) - 60}, SECRET, algorithm="HS256"
    )
    page.route(f"{stack.api}/**", lambda route: route.continue_(headers=with_token(route.request.headers, expired)))
    page.get_by_role("link", name="Back to all webhooks").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in with a token")
    expect(page.locator("#token-error")).to_contain_text(re.compile("Your token was refused .*expired"))
    expect(page.get_by_label("Bearer token")).to_be_focused()
    shot(page, "13-refused")
    page.unroute_all(behavior="wait")  # left routed, the next test's company switch failed 2 runs in 3


def test_the_console_files_are_public_typed_and_nothing_else_is_served(stack):
    page = requests.get(console(stack), timeout=10)
    assert page.status_code == 200 and page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    for name, kind in (("app.js", "text/javascript"), ("style.css", "text/css")):
        asset = requests.get(f"{console(stack)}/{name}", timeout=10)
        assert asset.status_code == 200 and asset.headers["Content-Type"] == f"{kind}; charset=utf-8"
    for path in ("__init__.py", "..%2Fapp.py", "%2e%2e", "index.html.bak", "app.js%00.png", "APP.JS"):
        refused = requests.get(f"{console(stack)}/{path}", timeout=10, allow_redirects=False)
        assert refused.status_code == 404, path
        assert "import" not in refused.text
    slash = requests.get(f"{console(stack)}/", timeout=10, allow_redirects=False)
    assert slash.status_code == 308 and slash.headers["Location"] == "../console"
    assert requests.get(f"{stack.api}/webhooks", timeout=10).status_code == 401  # the API itself is not public
    documented = requests.get(f"{stack.api}/openapi.json", timeout=10).json()["paths"]
    assert not [path for path in documented if "console" in path]


def test_a_link_with_another_companys_token_asks_first_and_never_erases_the_remembered_one(stack, page):
    mine = mint("wayne", "bruce", "ADMIN", SECRET)
    page.goto(console(stack))
    page.get_by_label("Bearer token").fill(mine)
    page.get_by_label("Remember me on this device").check()
    page.get_by_role("button", name="Open the console").click()
    expect(page.locator("#who-name")).to_contain_text("company wayne")

    attackers = mint("evil-corp", "mallory", "ADMIN", SECRET)
    page.goto(f"{console(stack)}#token={attackers}")
    expect(page.get_by_role("dialog")).to_contain_text("mallory of company evil-corp")
    page.get_by_role("button", name="Cancel").click()
    expect(page.locator("#who-name")).to_contain_text("company wayne")
    assert page.evaluate("Object.values(localStorage)") == [mine]

    page.goto(f"{console(stack)}#token={attackers}")  # agreed to: this tab only
    page.get_by_role("button", name="Use the link's token").click()
    expect(page.locator("#who-name")).to_contain_text("company evil-corp")
    assert page.evaluate("Object.values(localStorage)") == [mine]
    page.reload()  # a new visit: the remembered token again
    expect(page.locator("#who-name")).to_contain_text("company wayne")


def test_no_other_site_may_frame_the_console_or_the_docs(stack, page):
    """ConsoleFrameAncestors is empty by default: a page on another origin gets no console in its iframe."""
    blocked: list[str] = []
    page.on("console", lambda message: blocked.append(message.text) if "frame-ancestors" in message.text else None)
    html = f'<iframe src="{console(stack)}"></iframe><iframe src="{stack.api}/docs"></iframe>'
    with page_server(html) as other_origin:
        page.goto(other_origin)
        expect(page.locator("iframe")).to_have_count(2)
        deadline = time.monotonic() + 20
        while len(blocked) < 2 and time.monotonic() < deadline:
            page.wait_for_timeout(200)
    assert len(blocked) == 2, blocked


def test_the_docs_run_under_their_csp(stack, page):
    violations: list[str] = []
    page.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    response = page.goto(f"{stack.api}/docs")
    assert "script-src 'sha256-" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("management API")
    expect(page.locator(".opblock").first).to_be_visible()
    assert violations == []
