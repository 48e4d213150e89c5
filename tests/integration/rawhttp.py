#!/usr/bin/env python3
"""Send raw bytes to an HTTP server and print what came back, for the
tests of requests no ordinary client would send.

    rawhttp.py PORT REQUEST          REQUEST with Python escapes (\\r\\n, \\x00)
    rawhttp.py PORT -                the same, read from stdin (large requests)
    rawhttp.py PORT --slow SECONDS   headers sent one byte every SECONDS

Prints the status, the Content-Type and the body on three lines (the
status 000 when the connection was closed without an answer), then, with
--slow, the seconds the connection lasted."""
import socket
import sys
import time


def answer(sock):
    data = b""
    sock.settimeout(20)
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
            head, sep, body = data.partition(b"\r\n\r\n")
            if sep:
                length = None
                for line in head.split(b"\r\n")[1:]:
                    k, _, v = line.partition(b":")
                    if k.strip().lower() == b"content-length":
                        length = int(v.strip())
                if length is not None and len(body) >= length:
                    break
    except (socket.timeout, ConnectionResetError):
        pass
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = lines[0].split(b" ")[1].decode() if lines and lines[0].startswith(b"HTTP/") else "000"
    ctype = ""
    for line in lines[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-type":
            ctype = v.strip().decode("latin-1")
    return status, ctype, body.decode("utf-8", "replace").replace("\n", " ")


def main():
    port = int(sys.argv[1])
    sock = socket.create_connection(("127.0.0.1", port))
    if sys.argv[2] == "--slow":
        step = float(sys.argv[3])
        t0 = time.monotonic()
        request = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200
        try:
            for b in request:
                sock.sendall(bytes([b]))
                time.sleep(step)
        except (BrokenPipeError, ConnectionResetError):
            pass
        print("\n".join(answer(sock)))
        print("%.1f" % (time.monotonic() - t0))
        return
    text = sys.stdin.read() if sys.argv[2] == "-" else sys.argv[2]
    request = text.encode("latin-1").decode("unicode_escape").encode("latin-1")
    try:
        sock.sendall(request)
    except (BrokenPipeError, ConnectionResetError):
        pass
    print("\n".join(answer(sock)))


main()
