"""ValidateJWTFetchProxy none|env|URL [file:PATH]: key fetches through a real HTTP proxy.

The proxy is Debian's tinyproxy, started here on 127.0.0.1 with its own config in a temp
dir and stopped by PID. How a fetch is shown to succeed ONLY through the proxy: the JWKS URL
names the host idp.invalid, which never resolves (RFC 6761 6.4), so a direct fetch fails
with "could not resolve host". tinyproxy is told (Upstream http 127.0.0.1:PORT ".invalid")
to hand requests for *.invalid to an upstream proxy on loopback without resolving the name
itself; that upstream is the fake IdP, which answers absolute-form requests
(GET http://idp.invalid:PORT/path, RFC 9112 3.2.2) from its routes. The fake IdP also
records the Via header tinyproxy adds, so a test can tell a proxied fetch from a direct one.
An https key URL (a TLS server of this file on 127.0.0.1) goes through tinyproxy's CONNECT,
allowed only for that server's port.
"""

import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from vjwt_env import (FETCH_FAIL_RE, assert_pass, assert_unavailable, free_port, load_modules,
                      locations, wait_errlog)
from vjwt_fakeidp import public_jwk
from vjwt_tokens import mint

TINYPROXY = shutil.which("tinyproxy") or "/usr/bin/tinyproxy"
USER, PASSWORD = "vjwt-proxy-user", "Pr0xy-Secret-4711"
ALLOW_HTTP = r"VJWT00008"  # ValidateJWTFetchAllowHTTP On: idp.invalid is not loopback

pytestmark = pytest.mark.skipif(not os.access(TINYPROXY, os.X_OK),
                                reason="tinyproxy is not installed (scripts/deps.sh)")


class TinyProxy:
    """tinyproxy on 127.0.0.1, its config and log in a temp dir; *.invalid goes upstream."""

    def __init__(self, upstream_port, auth=None, connect_ports=(443,)):
        self.dir = tempfile.mkdtemp(prefix="vjwt-tinyproxy-")
        self.port = free_port()
        self.log = os.path.join(self.dir, "tinyproxy.log")
        lines = ["Port %d" % self.port, "Listen 127.0.0.1", "Timeout 10", "MaxClients 20",
                 "LogLevel Info", 'LogFile "%s"' % self.log,
                 'PidFile "%s"' % os.path.join(self.dir, "tinyproxy.pid"),
                 "Allow 127.0.0.1"]
        lines += ["ConnectPort %d" % p for p in connect_ports]
        lines.append('Upstream http 127.0.0.1:%d ".invalid"' % upstream_port)
        if os.geteuid() == 0:
            lines += ["User nobody", "Group nogroup"]
            os.chmod(self.dir, 0o777)
        if auth:
            lines.append("BasicAuth %s %s" % auth)
        self.conf = os.path.join(self.dir, "tinyproxy.conf")
        with open(self.conf, "w") as fh:
            fh.write("\n".join(lines) + "\n")
        self.proc = None
        self.start()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self):
        self.proc = subprocess.Popen([TINYPROXY, "-d", "-c", self.conf],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                if self.proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError("tinyproxy did not start: %s" % self.read_log())
                time.sleep(0.05)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.proc = None

    def read_log(self):
        try:
            with open(self.log, errors="replace") as fh:
                return fh.read()
        except OSError:
            return ""

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def idp(fakeidp, keys):
    A = fakeidp()
    A.add_jwks("/px/jwks", [public_jwk(keys.ec256, kid="px")])
    A.add_jwks("/lo/jwks", [public_jwk(keys.ec256, kid="lo")])
    return A


@pytest.fixture(scope="module")
def proxy(idp):
    p = TinyProxy(idp.port)
    yield p
    p.close()


@pytest.fixture(scope="module")
def auth_proxy(idp):
    p = TinyProxy(idp.port, auth=(USER, PASSWORD))
    yield p
    p.close()


def invalid_url(idp, path):
    """The JWKS URL through the proxy only: a host name that never resolves."""
    return "http://idp.invalid:%d%s" % (idp.port, path)


def start(httpd, idp, name, proxy_line, extra=(), spec=None):
    spec = spec or {"px": ["ValidateJWTJWKSURI %s" % invalid_url(idp, "/px/jwks")]}
    server_conf = "\n".join([load_modules("socache_shmcb"), "ValidateJWTFetchAllowHTTP On",
                             "ValidateJWTFetchTimeout 2 4", proxy_line] + list(extra))
    return httpd.start(name, locations(spec), server_conf=server_conf,
                       allow_startup=(ALLOW_HTTP,))


def assert_no_secret(srv):
    text = srv.read_errlog() + srv.read_stderr()
    assert PASSWORD not in text and "Pr0xy" not in text, "proxy password in the log"


def test_only_through_the_proxy(httpd, idp, proxy, keys, expect_log):
    """The keys of http://idp.invalid:PORT/... come through the proxy (the request carries
    tinyproxy's Via header); with ValidateJWTFetchProxy none (the default, even with
    http_proxy in the environment) the same fetch fails and the token gets 503."""
    tok = mint(keys.ec256, "ES256", kid="px")
    idp.reset_hits()
    srv = start(httpd, idp, "proxy-url", "ValidateJWTFetchProxy %s" % proxy.url)
    assert_pass(srv.get("/p/px/", tok))
    vias = idp.vias("/px/jwks")
    assert vias and all(v and "tinyproxy" in v for v in vias), vias
    assert "idp.invalid" in proxy.read_log()
    assert wait_errlog(srv, r"VJWT00340.*through http://127\.0\.0\.1:%d" % proxy.port)

    expect_log(FETCH_FAIL_RE)
    idp.reset_hits()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("http_proxy", proxy.url)
        srv = start(httpd, idp, "proxy-none", "ValidateJWTFetchProxy none")
    assert_unavailable(srv.get("/p/px/", tok), 10)
    assert idp.hits("/px/jwks") == 0
    lines = wait_errlog(srv, FETCH_FAIL_RE)
    assert lines and "idp.invalid" in lines[0], lines


def test_credentials(httpd, idp, auth_proxy, keys, expect_log):
    """A proxy that wants Basic credentials: user:password@ in the URL and file:PATH both
    work, wrong ones fail; the password shows up in no log line."""
    tok = mint(keys.ec256, "ES256", kid="px")
    creds = httpd.write_file("keys/proxy-creds", "%s:%s\n" % (USER, PASSWORD), mode=0o600)
    hostport = auth_proxy.url[len("http://"):]
    srv = start(httpd, idp, "proxy-cred-url",
                "ValidateJWTFetchProxy http://%s:%s@%s" % (USER, PASSWORD, hostport))
    assert_pass(srv.get("/p/px/", tok))
    assert wait_errlog(srv, r"VJWT00340.*\(with credentials\)")
    assert_no_secret(srv)

    srv = start(httpd, idp, "proxy-cred-file",
                "ValidateJWTFetchProxy %s file:%s" % (auth_proxy.url, creds))
    assert_pass(srv.get("/p/px/", tok))
    assert_no_secret(srv)

    expect_log(FETCH_FAIL_RE)
    srv = start(httpd, idp, "proxy-cred-wrong",
                "ValidateJWTFetchProxy http://%s:Pr0xy-wrong@%s" % (USER, hostport))
    assert_unavailable(srv.get("/p/px/", tok), 10)
    lines = wait_errlog(srv, FETCH_FAIL_RE)
    assert lines, srv.read_errlog()
    assert_no_secret(srv)


def test_proxy_down_keeps_stale_keys(httpd, idp, keys, expect_log):
    """The proxy goes away after the first fetch: refreshes fail (logged, without
    credentials), the keys fetched before keep verifying."""
    p = TinyProxy(idp.port)
    try:
        tok = mint(keys.ec256, "ES256", kid="px")
        srv = start(httpd, idp, "proxy-down", "ValidateJWTFetchProxy %s" % p.url,
                    extra=["ValidateJWTKeysRefreshInterval 1", "ValidateJWTKeysRefetchInterval 1"])
        assert_pass(srv.get("/p/px/", tok))
        pos = srv.errlog_size()
        p.stop()
        expect_log(FETCH_FAIL_RE)
        lines = wait_errlog(srv, FETCH_FAIL_RE, pos, timeout=8)
        assert lines, srv.read_errlog()
        assert_pass(srv.get("/p/px/", tok))
    finally:
        p.close()


def test_env_and_no_proxy(httpd, idp, proxy, keys):
    """ValidateJWTFetchProxy env: libcurl takes http_proxy from httpd's environment
    (idp.invalid works), and no_proxy=127.0.0.1 keeps the loopback source direct (no Via)."""
    idp.reset_hits()
    spec = {"px": ["ValidateJWTJWKSURI %s" % invalid_url(idp, "/px/jwks")],
            "lo": ["ValidateJWTJWKSURI %s" % idp.url("/lo/jwks")]}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("http_proxy", proxy.url)
        mp.setenv("no_proxy", "127.0.0.1")
        srv = start(httpd, idp, "proxy-env", "ValidateJWTFetchProxy env", spec=spec)
    assert_pass(srv.get("/p/px/", mint(keys.ec256, "ES256", kid="px")))
    assert_pass(srv.get("/p/lo/", mint(keys.ec256, "ES256", kid="lo")))
    px, lo = idp.vias("/px/jwks"), idp.vias("/lo/jwks")
    assert px and all(v and "tinyproxy" in v for v in px), px
    assert lo and all(v is None for v in lo), lo

    # without no_proxy, the loopback source goes through the proxy too
    idp.reset_hits()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("http_proxy", proxy.url)
        mp.delenv("no_proxy", raising=False)
        mp.delenv("NO_PROXY", raising=False)
        srv = start(httpd, idp, "proxy-env-all", "ValidateJWTFetchProxy env", spec=spec)
    assert_pass(srv.get("/p/lo/", mint(keys.ec256, "ES256", kid="lo")))
    lo = idp.vias("/lo/jwks")
    assert lo and all(v and "tinyproxy" in v for v in lo), lo


class TlsJwks:
    """An https JWK Set server on 127.0.0.1 (a self-signed certificate for IP 127.0.0.1)."""

    def __init__(self, httpd, jwks):
        d = httpd.path("keys")
        self.cert, self.key = os.path.join(d, "tls-idp.crt"), os.path.join(d, "tls-idp.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj",
                        "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", self.key, "-out", self.cert],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.chmod(self.cert, 0o644)
        body = json.dumps(jwks).encode()
        hits = self.hits = []

        class H(BaseHTTPRequestHandler):
            def do_GET(self):
                hits.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.srv.daemon_threads = True
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert, self.key)
        self.srv.socket = ctx.wrap_socket(self.srv.socket, server_side=True)
        self.port = self.srv.server_address[1]
        self.thread = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return "https://127.0.0.1:%d%s" % (self.port, path)

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


def test_https_through_connect(httpd, idp, keys, expect_log):
    """An https key URL goes through the proxy as a CONNECT tunnel (the identity provider's
    certificate checked against ValidateJWTCAFile end to end); a proxy that refuses to
    CONNECT to that port makes the fetch fail."""
    tls = TlsJwks(httpd, {"keys": [public_jwk(keys.ec256, kid="tls")]})
    allow = TinyProxy(idp.port, connect_ports=(tls.port,))
    deny = TinyProxy(idp.port)
    try:
        spec = {"tls": ["ValidateJWTJWKSURI %s" % tls.url("/jwks")]}
        tok = mint(keys.ec256, "ES256", kid="tls")
        srv = start(httpd, idp, "proxy-connect", "ValidateJWTFetchProxy %s" % allow.url,
                    extra=["ValidateJWTCAFile %s" % tls.cert], spec=spec)
        assert_pass(srv.get("/p/tls/", tok))
        assert tls.hits == ["/jwks"], tls.hits
        assert "CONNECT 127.0.0.1:%d" % tls.port in allow.read_log(), allow.read_log()

        expect_log(FETCH_FAIL_RE)
        srv = start(httpd, idp, "proxy-connect-refused", "ValidateJWTFetchProxy %s" % deny.url,
                    extra=["ValidateJWTCAFile %s" % tls.cert], spec=spec)
        assert_unavailable(srv.get("/p/tls/", tok), 10)
        assert tls.hits == ["/jwks"], tls.hits
    finally:
        allow.close()
        deny.close()
        tls.close()


@pytest.mark.parametrize("args, message", [
    ("ftp://proxy.example:21", "expects none, env or an http:// or https:// proxy URL"),
    ("http://proxy.example:3128/path", "without a path"),
    ("http://u:Pr0xy-Secret@proxy.example:3128 file:/nonexistent",
     "credentials in the URL and in a file"),
    ("http://proxy.example:3128 file:/nonexistent/creds",
     "cannot read the proxy credentials file '/nonexistent/creds'"),
    ("http://proxy.example:3128 Pr0xy-user:Pr0xy-Secret", "must be file:PATH"),
    ("env file:/etc/hostname", "go with a proxy URL only"),
])
def test_configtest_errors(httpd, args, message):
    """Bad settings stop configtest with the file and line; the text never repeats a
    password."""
    rc, out, conf, text = httpd.configtest(server_conf="ValidateJWTFetchProxy " + args,
                                           name="proxy-configtest")
    line = [i for i, l in enumerate(text.splitlines(), 1) if "ValidateJWTFetchProxy" in l][0]
    assert rc != 0, out
    assert "line %d of %s" % (line, conf) in out, out
    assert message in out, out
    assert "Pr0xy" not in out, out


def test_configtest_vhost_refused(httpd):
    """Server config only: not in a <VirtualHost>."""
    rc, out, _, _ = httpd.configtest(
        server_conf="<VirtualHost 127.0.0.1:1>\nValidateJWTFetchProxy env\n</VirtualHost>",
        name="proxy-vhost")
    assert rc != 0 and "ValidateJWTFetchProxy" in out, out
