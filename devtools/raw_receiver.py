"""A loopback TCP server speaking just enough HTTP to misbehave on purpose (the base of the hostile receivers)."""

import socket
import threading
import time


class RawReceiver:
    """Accepts connections on 127.0.0.1 and hands each to `serve`, on a thread of its own."""

    def __init__(self) -> None:
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

    def serve(self, conn: socket.socket) -> None:
        raise NotImplementedError

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
                self.serve(conn)
            except OSError:
                pass  # the client cut us off, as it should at its deadline


def read_request(conn: socket.socket) -> tuple[str, dict[str, str], bytes] | None:
    """(path, lower-case headers, body) of the next request on the connection; None when it closed."""
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


def trickle(conn: socket.socket, data: bytes, gap: float) -> int:
    """Send data a byte at a time; returns how many bytes went out before the client hung up."""
    for sent, byte in enumerate(data):
        try:
            conn.sendall(bytes([byte]))
        except OSError:
            return sent
        time.sleep(gap)
    return len(data)
