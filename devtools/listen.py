"""`make listen`, like `stripe listen`: a receiver on loopback, with its own webhook on the running local stack.

It registers a webhook pointing at itself, verifies every delivery's signatures with
receivers/python/blue_webhooks_verify.py and prints each one as it arrives. With --forward-to it
also hands each delivery on, same headers and same bytes, to your app, and answers with your
app's status. Ctrl-C deletes the webhook.

    python -m devtools.listen [--events TODO_CREATED,COMMENT_CREATED] [--project p1] [--forward-to URL]
"""

import argparse
import json
import os
import signal
import sys
import threading
import time
import unicodedata
from collections import Counter
from typing import Any, TextIO

import requests

from devstack.token import DEFAULT_JWT_SECRET, mint, quiet_local_default
from devtools.apiclient import Api, ApiError
from devtools.loopback import Arrival, Loopback, verification_module

# What a delivery carries; forwarded as is (hop-by-hop headers such as Host are the forwarder's own).
FORWARDED = ("content-type", "user-agent", "x-signature", "webhook-id", "webhook-timestamp", "webhook-signature")


class Listener:
    def __init__(self, forward_to: str | None, out: TextIO = sys.stdout):
        self.secret = ""  # the webhook's, once it is created (until then nothing verifies)
        self.forward_to, self.out = forward_to, out
        self.verifier = verification_module()
        self.seen: Counter[str] = Counter()  # webhook-id -> times received here (retries keep the id)
        self.lock = threading.Lock()

    def respond(self, arrival: Arrival) -> int:
        problem = self.problem(arrival)
        status = 401 if problem else 200
        note = ""
        if self.forward_to and not problem:
            status, note = self.forward(arrival)
        with self.lock:
            delivery_id = arrival.headers.get("webhook-id", "?")
            self.seen[delivery_id] += 1
            self.print(arrival, delivery_id, problem, f"→ {status}{note}")
        return status

    def problem(self, arrival: Arrival) -> str | None:
        if not self.secret:
            return "the webhook is not created yet"
        try:
            self.verifier.verify(self.secret, arrival.headers, arrival.body)
        except self.verifier.WebhookVerificationError as error:
            return str(error)
        return None

    def forward(self, arrival: Arrival) -> tuple[int, str]:
        headers = {name: value for name, value in arrival.headers.items() if name.lower() in FORWARDED}
        try:
            answer = requests.post(
                self.forward_to, data=arrival.body, headers=headers, timeout=10, allow_redirects=False
            )
        except requests.RequestException as error:
            return 502, f" (forwarding to {self.forward_to} failed: {type(error).__name__})"
        return answer.status_code, f" (from {self.forward_to})"

    def print(self, arrival: Arrival, delivery_id: str, problem: str | None, answer: str) -> None:
        try:
            body: Any = json.loads(arrival.body)
        except ValueError:
            body = None
        event = body.get("event", "?") if isinstance(body, dict) else "?"
        shown = pretty(body) if body is not None else arrival.body.decode(errors="replace")
        verified = f"verified ✗ ({problem})" if problem else "verified ✓"
        stamp = time.strftime("%H:%M:%S", time.localtime(arrival.at))
        line = f"{stamp}  {event}  webhook-id {delivery_id}  attempt {self.seen[delivery_id]}  {verified}  {answer}"
        print(printable(f"\n{line}\n{shown}"), file=self.out, flush=True)


def printable(text: str) -> str:
    """Anyone on this machine can POST here: no terminal control sequences from a request reach the screen."""
    return "".join(c if c in "\n\t" or unicodedata.category(c) not in ("Cc", "Cf") else repr(c)[1:-1] for c in text)


def pretty(body: Any) -> str:
    """Indented JSON, with the webhook object (the same in every delivery) on one line."""
    if not (isinstance(body, dict) and isinstance(body.get("webhook"), dict)):
        return json.dumps(body, indent=2, ensure_ascii=False)
    shown = json.dumps({**body, "webhook": None}, indent=2, ensure_ascii=False)
    return shown.replace('\n  "webhook": null', '\n  "webhook": ' + json.dumps(body["webhook"], ensure_ascii=False), 1)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--api", default=f"http://127.0.0.1:{os.environ.get('API_PORT', '3000')}", help="the API")
    parser.add_argument("--token", help="a bearer token (default: an ADMIN of --company, signed with the local key)")
    parser.add_argument("--company", default="company-1", help="whose webhook, when minting the token")
    parser.add_argument("--events", action="append", default=[], help="comma-separated event types (default: all)")
    parser.add_argument(
        "--project", action="append", default=[], dest="projects", help="limit to a project (repeatable)"
    )
    parser.add_argument("--forward-to", help="also POST each delivery to this URL and answer with its status")
    parser.add_argument("--port", type=int, default=0, help="the receiver's port on 127.0.0.1 (default: any free one)")
    return parser.parse_args(argv)


def token(args: argparse.Namespace) -> str:
    if args.token:
        return args.token
    key = os.environ.get("WEBHOOKS_JWT_SECRET", DEFAULT_JWT_SECRET)
    quiet_local_default(key)
    return mint(args.company, "make-listen", "ADMIN", key, ttl=12 * 3600)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    api = Api(args.api, token(args))
    events = [name.strip() for group in args.events for name in group.split(",") if name.strip()]
    stop = threading.Event()
    for stop_signal in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):  # SIGHUP: its terminal closed
        signal.signal(stop_signal, lambda *_: stop.set())
    listener = Listener(args.forward_to)
    loopback = Loopback(listener.respond, args.port)
    try:
        webhook = api.create_webhook(name="make listen", url=loopback.url("/"), events=events, projectIds=args.projects)
    except (requests.ConnectionError, ApiError) as error:
        loopback.close()
        print(f"Could not register a webhook on {args.api} (is `make run` running?): {error}", file=sys.stderr)
        return 1
    listener.secret = webhook["secret"]
    scope = f"{', '.join(events) or 'every event'} in {', '.join(args.projects) or 'every project'}"
    print(f"Ready: webhook {webhook['id']} ({scope}) delivers to {loopback.url('/')}, on {args.api}.", flush=True)
    print(
        f"Its signing secret is {webhook['secret']}: your receiver verifies each delivery with it, e.g.\n"
        "  blue_webhooks_verify.verify(secret, headers, raw_body)   # receivers/python/, as this listener does\n"
        "Waiting for deliveries; Ctrl-C deletes the webhook.",
        flush=True,
    )
    try:
        while not stop.wait(0.5):
            pass
    finally:
        loopback.close()
        deleted = delete(api, webhook["id"])
    return 0 if deleted else 1


def delete(api: Api, webhook_id: str) -> bool:
    """Deletes the listener's webhook, or says how to: its deliveries would fail (and retry) for days."""
    try:
        api.delete_webhook(webhook_id)
    except (requests.RequestException, ApiError) as error:
        print(f"\nCould not delete webhook {webhook_id}: {error}. DELETE it yourself.", file=sys.stderr)
        return False
    print(f"\nDeleted webhook {webhook_id}.", flush=True)
    return True


if __name__ == "__main__":
    sys.exit(main())
