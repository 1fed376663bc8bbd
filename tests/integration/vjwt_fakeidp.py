"""A fault-injecting OpenID discovery + JWKS server for the integration tests.

FakeIdP runs a ThreadingHTTPServer on 127.0.0.1 (a free port, or a given one) in a
daemon thread of the test process, so it dies with the test process.  Each path it serves
is a Route with a switchable behaviour:

    normal         the document (JSON), 200
    status         an HTTP error status (500 by default; 503 for "down" without refusing)
    slow           sleep `delay` seconds, then the document (beyond the module's timeout)
    garbage        200 with a body that is not JSON
    huge           200 with a valid JSON document of `size` bytes (5 MB by default)
    huge_nolength  the same without Content-Length (ends when the connection closes)
    empty_keys     200 {"keys": []}
    no_keys        200 {"foo": []}  (a JWKS without a keys array)
    redirect_loop  302 to itself (a redirect loop)
    redirect       302 to `location` (one hop, e.g. to another route)
    slow_redirect  sleep `delay` seconds, then 302 to `location` (chains of slow hops)
    raw            200 with `raw` (bytes) as the body, verbatim (malformed JSON, NaN, ...)
    gzip_bomb      200, Content-Encoding: gzip, a small body that inflates to `size` bytes
    reset          close the connection without an answer

Discovery routes build {"issuer", "jwks_uri", ...} from their fields, so the faults
"missing issuer" / "missing jwks_uri" are `route.drop = ("issuer",)` etc.
`route.max_age` adds `Cache-Control: max-age=N` (any int, e.g. -1 or 10**13).

down() closes the listening socket (connection refused); up() listens again on the same
port.  Hits are counted per path (thread-safe, with timestamps) for the fetch-count tests.
"""

import gzip
import io
import json
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from jwcrypto import jwk


def public_jwk(key, **extra):
    """The public JWK (dict) of a jwcrypto key, plus/minus members (None removes)."""
    d = json.loads(key.export_public()) if isinstance(key, jwk.JWK) else dict(key)
    for k, v in extra.items():
        if v is None:
            d.pop(k, None)
        else:
            d[k] = v
    return d


class Route:
    def __init__(self, path, doc=None, kind="raw"):
        self.path = path
        self.kind = kind          # "jwks", "discovery" or "raw"
        self.doc = doc            # dict (jwks / raw) or None (discovery: built)
        self.mode = "normal"
        self.status = 500
        self.delay = 3.0
        self.size = 5 * 1024 * 1024
        self.location = None
        self.raw = b""
        self.max_age = None
        self.extra_headers = []
        self.fault_keys = []      # keys inside the "huge" document (must never be used)
        # discovery
        self.issuer = None
        self.jwks_uri = None
        self.drop = ()

    def body(self, base):
        if self.kind == "discovery":
            d = {"issuer": self.issuer, "jwks_uri": self.jwks_uri,
                 "token_endpoint": base + "/token",
                 "id_token_signing_alg_values_supported": ["RS256"],
                 "response_types_supported": ["code"],
                 "subject_types_supported": ["public"]}
            for k in self.drop:
                d.pop(k, None)
            return json.dumps(d).encode()
        return json.dumps(self.doc).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "vjwt-fakeidp"

    def log_message(self, fmt, *args):  # quiet
        pass

    def do_GET(self):
        idp = self.server.idp
        path = self.path.split("?", 1)[0]
        # absolute-form (RFC 9112 3.2.2), as a proxy forwards it: the path after the authority
        m = re.match(r"^https?://[^/]*(/.*)?$", path)
        if m:
            path = m.group(1) or "/"
        idp._hit(path, self.headers)
        route = idp.routes.get(path)
        if route is None:
            return self._send(404, b'{"error":"not found"}')
        mode = route.mode
        if mode == "reset":
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if mode == "status":
            return self._send(route.status, b'{"error":"injected"}')
        if mode == "redirect_loop":
            return self._send(302, b"", [("Location", idp.url(path))])
        if mode == "redirect":
            return self._send(302, b"", [("Location", route.location)])
        if mode == "slow_redirect":
            time.sleep(route.delay)
            return self._send(302, b"", [("Location", route.location)])
        if mode == "raw":
            return self._send(200, route.raw, route=route)
        if mode == "gzip_bomb":
            return self._send(200, gzip_bomb(route.size), [("Content-Encoding", "gzip")],
                              route=route)
        if mode == "garbage":
            return self._send(200, b'{"keys": [ {"kty": "RSA", this is not json', route=route)
        if mode == "empty_keys":
            return self._send(200, b'{"keys": []}', route=route)
        if mode == "no_keys":
            return self._send(200, b'{"foo": []}', route=route)
        if mode == "huge":
            return self._send_huge(route)
        if mode == "huge_nolength":
            return self._send_huge(route, length=False)
        if mode == "slow":
            time.sleep(route.delay)
        self._send(200, route.body(idp.base), route=route)

    def _headers(self, status, length, extra, route):
        # one request per connection: down() must refuse every later fetch
        self.close_connection = True
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(length))
        self.send_header("Connection", "close")
        if route is not None and route.max_age is not None:
            self.send_header("Cache-Control", "max-age=%d" % route.max_age)
        if route is not None:
            for k, v in route.extra_headers:
                self.send_header(k, v)
        for k, v in extra or ():
            self.send_header(k, v)
        self.end_headers()

    def _send(self, status, body, extra=None, route=None):
        try:
            self._headers(status, len(body), extra, route)
            self.wfile.write(body)
        except OSError:
            pass

    def _send_huge(self, route, length=True):
        # a JWKS padded with a long string member: over any sane cap
        keys = json.dumps([public_jwk(k) for k in route.fault_keys]).encode()
        head = b'{"keys": ' + keys + b', "padding": "'
        tail = b'"}'
        n = route.size - len(head) - len(tail)
        try:
            if length:
                self._headers(200, route.size, None, route)
            else:
                # no Content-Length: the body ends when the connection closes
                self.close_connection = True
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Connection", "close")
                self.end_headers()
            self.wfile.write(head)
            chunk = b"A" * 65536
            while n > 0:
                self.wfile.write(chunk[:min(n, len(chunk))])
                n -= len(chunk)
            self.wfile.write(tail)
        except OSError:
            pass  # the client hung up at its cap


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64


class FakeIdP:
    """A loopback discovery/JWKS server with fault injection and hit counting."""

    def __init__(self, port=0):
        self.routes = {}
        self._lock = threading.Lock()
        self._hits = {}
        self._times = {}
        self._via = {}
        self._server = None
        self._thread = None
        self.port = port
        self.up()

    # --- lifecycle --------------------------------------------------------------
    def up(self):
        if self._server is not None:
            return
        deadline = time.time() + 5
        while True:
            try:
                srv = _Server(("127.0.0.1", self.port), _Handler)
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.05)
        srv.idp = self
        self.port = srv.server_address[1]
        self._server = srv
        self._thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True, name="fakeidp-%d" % self.port)
        self._thread.start()

    def down(self):
        """Stop listening: connections to the port are refused until up()."""
        if self._server is None:
            return
        srv, self._server = self._server, None
        srv.shutdown()
        srv.server_close()
        self._thread.join(5)

    def close(self):
        self.down()

    @property
    def is_up(self):
        return self._server is not None

    @property
    def base(self):
        return "http://127.0.0.1:%d" % self.port

    def url(self, path):
        return self.base + path

    # --- routes -----------------------------------------------------------------
    def add_jwks(self, path, keys):
        """Serve a JWKS of `keys` (jwcrypto keys or JWK dicts) at path."""
        r = Route(path, {"keys": [public_jwk(k) for k in keys]}, kind="jwks")
        self.routes[path] = r
        return r

    def set_jwks(self, path, keys):
        self.routes[path].doc = {"keys": [public_jwk(k) for k in keys]}

    def add_discovery(self, path, issuer, jwks_path):
        r = Route(path, kind="discovery")
        r.issuer = issuer
        r.jwks_uri = self.url(jwks_path)
        self.routes[path] = r
        return r

    def add_raw(self, path, doc):
        r = Route(path, doc, kind="raw")
        self.routes[path] = r
        return r

    def set_mode(self, path, mode, **params):
        r = self.routes[path]
        r.mode = mode
        for k, v in params.items():
            setattr(r, k, v)
        return r

    def normal(self, path):
        return self.set_mode(path, "normal")

    # --- hits -------------------------------------------------------------------
    def _hit(self, path, headers):
        with self._lock:
            self._hits[path] = self._hits.get(path, 0) + 1
            self._times.setdefault(path, []).append(time.time())
            self._via.setdefault(path, []).append(headers.get("Via"))

    def hits(self, path):
        with self._lock:
            return self._hits.get(path, 0)

    def vias(self, path):
        """The Via header of each request for path (None: it came direct, not via a proxy)."""
        with self._lock:
            return list(self._via.get(path, []))

    def hit_times(self, path):
        with self._lock:
            return list(self._times.get(path, []))

    def all_hits(self):
        with self._lock:
            return dict(self._hits)

    def reset_hits(self):
        with self._lock:
            self._hits.clear()
            self._times.clear()
            self._via.clear()

    def wait_hits(self, path, n, timeout=5.0):
        """Wait until path has at least n hits; returns the count."""
        deadline = time.time() + timeout
        while True:
            h = self.hits(path)
            if h >= n or time.time() > deadline:
                return h
            time.sleep(0.02)


_BOMBS = {}


def gzip_bomb(size):
    """gzip of a JSON-looking document of `size` bytes (mostly spaces): ~1000x smaller."""
    if size not in _BOMBS:
        buf = io.BytesIO()
        with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=9) as z:
            z.write(b'{"keys": [')
            chunk = b" " * (1 << 20)
            left = size - 12
            while left > 0:
                z.write(chunk[:min(left, len(chunk))])
                left -= len(chunk)
            z.write(b"]}")
        _BOMBS[size] = buf.getvalue()
    return _BOMBS[size]


def reserve_port():
    """A free loopback port kept unused (for a 'down from the start' IdP)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


# --- fault catalogue and key sources for the fault tests ------------------------------
def faults(slow_delay):
    """name -> (route "jwks" | "disc", FakeIdP mode, route attributes)."""
    return {
        "http500": ("jwks", "status", {"status": 500}),
        "http503": ("jwks", "status", {"status": 503}),
        "http404": ("jwks", "status", {"status": 404}),
        "slow": ("jwks", "slow", {"delay": slow_delay}),
        "garbage": ("jwks", "garbage", {}),
        "huge-length": ("jwks", "huge", {}),
        "huge-nolength": ("jwks", "huge_nolength", {}),
        "empty-keys": ("jwks", "empty_keys", {}),
        "no-keys": ("jwks", "no_keys", {}),
        "redirect-loop": ("jwks", "redirect_loop", {}),
        "reset": ("jwks", "reset", {}),
        "disc-no-issuer": ("disc", "normal", {"drop": ("issuer",)}),
        "disc-no-jwks-uri": ("disc", "normal", {"drop": ("jwks_uri",)}),
        "disc-500": ("disc", "status", {"status": 500}),
        "disc-garbage": ("disc", "garbage", {}),
        "disc-slow": ("disc", "slow", {"delay": slow_delay}),
    }


class KeySource:
    """One key source on a FakeIdP: NAME/jwks with the key `good_key` (kid "good"), and
    with disc=True also NAME/.well-known/openid-configuration (issuer
    https://NAME.fake.test) pointing at it."""

    def __init__(self, idp, name, good_key, disc):
        self.idp = idp
        self.name = name
        self.jwks = "/%s/jwks" % name
        self.disc = "/%s/.well-known/openid-configuration" % name if disc else None
        self.iss = "https://%s.fake.test" % name
        self.key = good_key
        idp.add_jwks(self.jwks, [public_jwk(good_key, kid="good")])
        if disc:
            idp.add_discovery(self.disc, self.iss, self.jwks)

    def directive(self):
        if self.disc:
            return "ValidateJWTOpenIDConfig %s" % self.idp.url(self.disc)
        return "ValidateJWTJWKSURI %s" % self.idp.url(self.jwks)

    def good(self, alg="ES256"):
        from vjwt_tokens import mint
        return mint(self.key, alg, kid="good", iss=self.iss)

    def path_for(self, route):
        return self.disc if route == "disc" else self.jwks

    def hits(self):
        return self.idp.hits(self.jwks) + (self.idp.hits(self.disc) if self.disc else 0)
