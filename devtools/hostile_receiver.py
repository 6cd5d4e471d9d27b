"""A raw-socket receiver on loopback that misbehaves as real endpoints do, one way per path."""

import gzip
import socket
import struct
import time

from devtools.raw_receiver import RawReceiver, read_request, trickle

TRICKLE_GAP = 0.25  # seconds between bytes

RESPONSES = {
    "/fast": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    "/trickle-body": b"HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n",  # then the body, a byte at a time
    "/garbage": b"NOT HTTP AT ALL\r\n\r\n",
    "/bad-gzip": b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 12\r\n\r\nnot gzip!!!!",
    "/bad-chunks": b"HTTP/1.1 500 Oops\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\nnope\r\n",
    "/gzip": b"HTTP/1.1 503 Busy\r\nContent-Encoding: gzip\r\nRetry-After: 43200\r\nContent-Length: %d\r\n\r\n",
}


class HostileReceiver(RawReceiver):
    """Each path is one misbehaviour: /trickle (status line a byte at a time), /hang, /reset, …"""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.trickled: list[tuple[int, int]] = []  # (bytes sent before the client hung up, bytes in all)
        super().__init__()

    def serve(self, conn: socket.socket) -> None:
        request = read_request(conn)
        if request is None:
            return
        path = request[0]
        self.requests.append(path)
        if path == "/trickle":
            self.trickled.append((trickle(conn, RESPONSES["/fast"], TRICKLE_GAP), len(RESPONSES["/fast"])))
        elif path == "/trickle-body":
            conn.sendall(RESPONSES[path])
            trickle(conn, b"x" * 40, TRICKLE_GAP)
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
