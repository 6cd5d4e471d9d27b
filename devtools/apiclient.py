"""The management API as the local tools (`make demo`, `make listen`) call it: JSON in, JSON out, errors raised."""

from typing import Any

import requests


class ApiError(RuntimeError):
    """The API answered something other than what the call expects."""


class Api:
    def __init__(self, url: str, token: str, timeout: float = 10):
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, expect: int = 200, body: dict[str, Any] | None = None) -> Any:
        response = self.session.request(method, self.url + path, json=body, timeout=self.timeout)
        if response.status_code != expect:
            raise ApiError(f"{method} {path} answered {response.status_code}: {response.text[:500]}")
        return response.json() if response.content else None

    def create_webhook(self, **fields: Any) -> dict[str, Any]:
        return self.call("POST", "/webhooks", 201, fields)

    def webhook(self, webhook_id: str) -> dict[str, Any]:
        return self.call("GET", f"/webhooks/{webhook_id}")

    def delete_webhook(self, webhook_id: str) -> None:
        self.call("DELETE", f"/webhooks/{webhook_id}", 204)

    def deliveries(self, webhook_id: str) -> list[dict[str, Any]]:
        """The webhook's delivery log, newest first (the tools' webhooks have far fewer than a page)."""
        return self.call("GET", f"/webhooks/{webhook_id}/deliveries?limit=100")["items"]

    def recover(self, webhook_id: str, since: str) -> dict[str, Any]:
        return self.call("POST", f"/webhooks/{webhook_id}/recover", 202, {"since": since})
