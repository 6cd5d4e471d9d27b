"""A raw-socket receiver on loopback that misbehaves as real endpoints do, one way per path."""

import gzip
import socket
import struct
import threading
import time

TRICKLE_GAP = 0.25  # seconds between bytes

RESPONSES = {
    "/fast": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    "/trickle-body": b"HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n",  # then the body, a byte at a time
    "/garbage": b"NOT HTTP AT ALL\r\n\r\n",
    "/bad-gzip": b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 12\r\n\r\nnot gzip!!!!",
    "/bad-chunks": b"HTTP/1.1 500 Oops\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\nnope\r\n",
    "/gzip": b"HTTP/1.1 503 Busy\r\nContent-Encoding: gzip\r\nRetry-After: 43200\r\nContent-Length: %d\r\n\r\n",
}


class HostileReceiver:
    """Each path is one misbehaviour: /trickle (status line a byte at a time), /hang, /reset, …"""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.requests: list[str] = []
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}{path}"

    def _accept(self) -> None:
        while not self.closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            request = _read_request(conn)
            if request is None:
                return
            path = request.split(" ", 2)[1]
            self.requests.append(path)
            try:
                self._answer(conn, path)
            except OSError:
                pass  # the client cut us off, as it should at its deadline

    def _answer(self, conn: socket.socket, path: str) -> None:
        if path == "/trickle":
            _trickle(conn, RESPONSES["/fast"])
        elif path == "/trickle-body":
            conn.sendall(RESPONSES[path])
            _trickle(conn, b"x" * 40)
        elif path == "/hang":
            time.sleep(60)
        elif path == "/reset":
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        elif path == "/gzip":
            body = gzip.compress(b"slow down, please " * 200)
            conn.sendall(RESPONSES[path] % len(body) + body)
        else:
            conn.sendall(RESPONSES[path])
            time.sleep(0.2)

    def close(self) -> None:
        self.closed = True
        self.sock.close()


def _read_request(conn: socket.socket) -> str | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")), 0
    )
    while len(body) < length:
        body += conn.recv(65536)
    return head.decode("latin-1")


def _trickle(conn: socket.socket, data: bytes) -> None:
    for byte in data:
        conn.sendall(bytes([byte]))
        time.sleep(TRICKLE_GAP)
