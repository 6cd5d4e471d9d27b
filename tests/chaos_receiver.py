"""A receiver on loopback that answers each request with a random misbehaviour, and keeps a ledger of what it got."""

import random
import socket
import struct
import threading
import time
from dataclasses import dataclass

BEHAVIOURS = [  # (name, weight)
    ("ok", 60),
    ("500", 10),
    ("429", 8),
    ("hang", 5),
    ("reset", 5),
    ("trickle", 5),
    ("204", 7),
]
STATUS_LINES = {
    "ok": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    "204": b"HTTP/1.1 204 No Content\r\n\r\n",
    "500": b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\noops",
    "429": b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n",
    "410": b"HTTP/1.1 410 Gone\r\nContent-Length: 0\r\n\r\n",
}


@dataclass
class Receipt:
    path: str
    headers: dict[str, str]
    body: bytes
    answered: str  # the behaviour: "ok", "204" are successes as far as the sender can tell


class ChaosReceiver:
    def __init__(self, seed: int, hang_seconds: float, gone_paths: frozenset[str] = frozenset()):
        self.random = random.Random(seed)
        self.hang_seconds = hang_seconds
        self.gone_paths = gone_paths
        self.receipts: list[Receipt] = []
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(256)
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}{path}"

    def close(self) -> None:
        self.closed = True
        self.sock.close()

    def _accept(self) -> None:
        while not self.closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            try:
                while (request := _read(conn)) is not None:  # keep-alive: several requests per connection
                    path, headers, body = request
                    behaviour = self._choose(path)
                    with self.lock:
                        self.receipts.append(Receipt(path, headers, body, behaviour))
                    if not self._answer(conn, behaviour):
                        return
            except OSError:
                return

    def _choose(self, path: str) -> str:
        if path in self.gone_paths:
            return "410"
        names, weights = zip(*BEHAVIOURS, strict=True)
        with self.lock:
            return self.random.choices(names, weights)[0]

    def _answer(self, conn: socket.socket, behaviour: str) -> bool:
        """Answer; False when the connection is finished."""
        if behaviour == "hang":
            time.sleep(self.hang_seconds)
            return False
        if behaviour == "reset":
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return False
        if behaviour == "trickle":
            for byte in STATUS_LINES["ok"]:
                conn.sendall(bytes([byte]))
                time.sleep(0.3)
            return False
        conn.sendall(STATUS_LINES[behaviour])
        return True


def _read(conn: socket.socket) -> tuple[str, dict[str, str], bytes] | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", 0))
    while len(body) < length:
        body += conn.recv(65536)
    return lines[0].split(" ")[1], headers, body
