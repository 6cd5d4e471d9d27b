"""A local API Gateway: HTTP requests become REST API proxy events for the API function."""

import base64
import json
import logging
import sys
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from devstack.lambdas import FunctionPool

log = logging.getLogger("devstack")
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024  # API Gateway's request payload limit


def proxy_event(method: str, target: str, headers: dict[str, str], body: bytes, stage: str) -> dict[str, Any]:
    parts = urlsplit(target)
    query = parse_qs(parts.query, keep_blank_values=True)
    try:
        text, is_base64 = body.decode("utf-8"), False
    except UnicodeDecodeError:
        text, is_base64 = base64.b64encode(body).decode(), True
    return {
        "resource": "/{proxy+}",
        "path": parts.path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": {name: values[-1] for name, values in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": {"proxy": parts.path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            # The path as called: no stage in it, as on a custom domain. /docs names its server
            # (Swagger UI's "Try it out") after this path's stage prefix; a made-up one meant 404s.
            "path": parts.path,
            "stage": stage,
            "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": int(time.time() * 1000),
            "identity": {"sourceIp": "127.0.0.1", "userAgent": headers.get("User-Agent")},
        },
        "body": text if body else None,
        "isBase64Encoded": is_base64,
    }


def make_server(host: str, port: int, pool: FunctionPool, stage: str = "local") -> "Server":
    class Handler(BaseHTTPRequestHandler):
        server_version = "local-apigateway"
        protocol_version = "HTTP/1.1"

        def handle_any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_PAYLOAD_BYTES:
                self.close_connection = True
                return self.reply(413, {}, json.dumps({"message": "Request Too Long"}).encode())
            body = self.rfile.read(length) if length else b""
            event = proxy_event(self.command, self.path, dict(self.headers.items()), body, stage)
            try:
                response = pool.invoke(event)
            except Exception:
                log.exception("API function crashed")
                return self.reply(502, {}, json.dumps({"message": "Internal server error"}).encode())
            payload = response.get("body") or ""
            data = base64.b64decode(payload) if response.get("isBase64Encoded") else payload.encode()
            headers = dict(response.get("headers") or {})
            for name, values in (response.get("multiValueHeaders") or {}).items():
                headers[name] = ", ".join(values)
            self.reply(int(response["statusCode"]), headers, data)

        def reply(self, status: int, headers: dict[str, str], data: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                if name.lower() not in ("content-length", "connection"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            if "content-type" not in {name.lower() for name in headers}:
                self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(data)

        def __getattr__(self, name: str) -> Any:
            # API Gateway's ANY: every method reaches the function, which answers the unknown ones.
            if name.startswith("do_"):
                return self.handle_any
            raise AttributeError(name)

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("api %s", format % args)

    return Server((host, port), Handler)


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: tuple) -> None:
        # A client that went away (a browser tab closed mid-answer) is no error of ours: no traceback for it.
        if isinstance(sys.exc_info()[1], ConnectionError):
            log.debug("api: %s closed the connection", client_address[0])
            return
        super().handle_error(request, client_address)
