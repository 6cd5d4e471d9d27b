"""A receiver on loopback that answers each request with a random misbehaviour, and keeps a ledger of what it got."""

import random
import socket
import struct
import threading
import time
from dataclasses import dataclass

from devtools.raw_receiver import RawReceiver, read_request, trickle

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


class ChaosReceiver(RawReceiver):
    def __init__(self, seed: int, hang_seconds: float, gone_paths: frozenset[str] = frozenset()):
        self.random = random.Random(seed)
        self.hang_seconds = hang_seconds
        self.gone_paths = gone_paths
        self.receipts: list[Receipt] = []
        self.lock = threading.Lock()
        super().__init__()

    def serve(self, conn: socket.socket) -> None:
        while (request := read_request(conn)) is not None:  # keep-alive: several requests per connection
            path, headers, body = request
            behaviour = self._choose(path)
            with self.lock:
                self.receipts.append(Receipt(path, headers, body, behaviour))
            if not self._answer(conn, behaviour):
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
            trickle(conn, STATUS_LINES["ok"], 0.3)
            return False
        conn.sendall(STATUS_LINES[behaviour])
        return True
