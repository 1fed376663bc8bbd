"""A proxied loopback backend for the tests: answers every GET with the request headers it
received (and, when asked, the path), as JSON, so a test sees what mod_proxy forwarded."""

import contextlib
import http.server
import json
import threading


class _Echo(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        headers = [[k, v] for k, v in self.headers.items()]
        doc = {"path": self.path, "headers": headers} if self.server.with_path else headers
        body = json.dumps(doc).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Backend", "proxy-echo")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def echo_backend(with_path=False):
    """The backend on 127.0.0.1, stopped on exit; yields its port."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    server.daemon_threads = True
    server.with_path = with_path
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
