#!/usr/bin/env python3
"""A webhook receiver for the notification tests and the demo, on 127.0.0.1.

    webhook.py --port-file FILE --log FILE [--mode-file FILE] [--port N] [--print]

Listens on a free port (or --port), writes the port to --port-file once it
listens, and appends every request to --log as one JSON line: path, the
headers that matter (Idempotency-Key, X-Casewarden-Signature,
X-Casewarden-Timestamp), the body as text, what it answered, when.

--mode-file, read at every request, tells it how to answer, one line per
path prefix ("PREFIX MODE", "*" for any path; the first match wins):
    ok            200
    500           500
    timeout:S     sleep S seconds, then 200 (the sender gives up first)
    flaky:P       500 with probability P, else 200
    drop          close the connection without an answer
--print writes what arrives to stdout (the demo's receiver).
"""
import argparse
import json
import os
import random
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()


def mode_for(path, mode_file):
    if not mode_file or not os.path.exists(mode_file):
        return "ok"
    with open(mode_file, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) == 2 and (parts[0] == "*" or path.startswith(parts[0])):
                return parts[1]
    return "ok"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else each answer waits for a delayed ACK (40 ms)

    def log_message(self, fmt, *args):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode("utf-8", errors="replace")
        mode = mode_for(self.path, self.server.mode_file)
        status = 200
        if mode == "500":
            status = 500
        elif mode.startswith("flaky:"):
            status = 500 if random.random() < float(mode[6:]) else 200
        elif mode.startswith("timeout:"):
            time.sleep(float(mode[8:]))
        rec = {
            "path": self.path,
            "key": self.headers.get("Idempotency-Key"),
            "signature": self.headers.get("X-Casewarden-Signature"),
            "timestamp": self.headers.get("X-Casewarden-Timestamp"),
            "source": self.headers.get("X-Source"),
            "body": body,
            "status": 0 if mode == "drop" else status,
            "at": time.time(),
        }
        with lock:
            with open(self.server.log, "a", encoding="utf-8") as f:
                f.write(json.dumps(rec, ensure_ascii=False) + "\n")
            if self.server.print_:
                try:
                    shown = json.dumps(json.loads(body), ensure_ascii=False, indent=1)
                except ValueError:
                    shown = body
                print(f"webhook: {self.path} {rec['key']}\n{shown}", flush=True)
        if mode == "drop":
            self.close_connection = True
            self.connection.shutdown(2)
            return
        reply = b'{"ok":true}' if status == 200 else b'{"ok":false}'
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--mode-file")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--print", dest="print_", action="store_true")
    a = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    srv.daemon_threads = True
    srv.request_queue_size = 256
    srv.log, srv.mode_file, srv.print_ = a.log, a.mode_file, a.print_
    open(a.log, "a").close()
    with open(a.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(a.port_file + ".tmp", a.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
