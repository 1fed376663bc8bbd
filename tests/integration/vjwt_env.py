"""The httpd harness for the mod_validate_jwt integration tests.

One ServerRoot (a temp dir) per test session holds the key files, the CGI echo backend,
the logs and the generated configs.  A test module asks the factory for a server with
its own set of <Location> blocks; the factory stops the previous server (by the PID it
started) and starts the new one in the foreground (-DFOREGROUND), so every server we run
is a child of this process and is stopped by its PID.  Ids such as C135 in comments are
those of docs/conformance.md.

Environment:
  VJWT_MODULE   path of mod_validate_jwt.so (default ../../.libs/mod_validate_jwt.so,
                relative to this directory)
  VJWT_APACHE2  httpd binary (default /usr/sbin/apache2)
  VJWT_MODDIR   httpd modules directory (default /usr/lib/apache2/modules)
  VJWT_MPM      event (default) | prefork | worker
  VJWT_KEEP     set to 1 to keep the temp ServerRoot after the run (for debugging)
"""

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")

APACHE2 = os.environ.get("VJWT_APACHE2", "/usr/sbin/apache2")
MODDIR = os.environ.get("VJWT_MODDIR", "/usr/lib/apache2/modules")
MODULE = os.path.abspath(os.environ.get(
    "VJWT_MODULE", os.path.join(HERE, "..", "..", ".libs", "mod_validate_jwt.so")))
MPM = os.environ.get("VJWT_MPM", "event")
SERVER_NAME = "vjwt.test"

REASONS = (
    "TokenNotPresent", "JwtInvalid", "TokenSignatureInvalid", "TokenSignatureKeyNotFound",
    "TokenExpired", "TokenAudienceNotAllowed", "TokenIssuerNotAllowed", "TokenClaimNotFound",
    "TokenClaimValueNotAllowed",
)

# "[Fri Nov 28 14:10:00.123456 2025] [validate_jwt:info] [pid 1:tid 2] ..."
LOG_LEVEL_RE = re.compile(r"^\[[^\]]*\] \[(?P<module>[^:\]]*):(?P<level>\w+)\]")
BAD_LEVELS = ("emerg", "alert", "crit", "error", "warn")
# A crashed child is reported at notice level; always a failure.
CRASH_RE = re.compile(r"exit signal|Segmentation fault|Aborted|AH00052|AH00051")


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def log_level(line):
    m = LOG_LEVEL_RE.match(line)
    return (m.group("module"), m.group("level")) if m else (None, None)


def bad_lines(lines, allowed=()):
    """Lines at warn or worse (or crash reports) that no allowed regex matches."""
    out = []
    for line in lines:
        _, level = log_level(line)
        bad = level in BAD_LEVELS or bool(CRASH_RE.search(line))
        if not bad and level is None and line.strip():
            # stderr of httpd during startup (no log prefix): warnings printed by
            # directive handlers before the ErrorLog is open look like "AH00558: ..."
            # or "[validate_jwt:warn] ..."-less text.  Treat any non-empty stderr
            # text as worth reporting.
            bad = True
        if bad and not any(re.search(p, line) for p in allowed):
            out.append(line)
    return out


def chmod_tree(path):
    """World-readable tree: httpd children run as www-data when the tests run as root."""
    for dirpath, dirnames, filenames in os.walk(path):
        os.chmod(dirpath, 0o755)
        for f in filenames:
            p = os.path.join(dirpath, f)
            mode = 0o755 if os.access(p, os.X_OK) and f.endswith(".cgi") else 0o644
            os.chmod(p, mode)


class Response:
    def __init__(self, status, reason_phrase, headers, body, test_id, errlog, server,
                 method):
        self.status = status
        self.reason_phrase = reason_phrase
        self.header_list = headers  # list of (name, value)
        self.body = body
        self.test_id = test_id
        self.errlog = errlog  # error-log lines written while the request ran
        self.server = server
        self.method = method

    def header(self, name, default=None):
        vals = self.headers_all(name)
        return vals[0] if vals else default

    def headers_all(self, name):
        n = name.lower()
        return [v for k, v in self.header_list if k.lower() == n]

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    @property
    def json(self):
        return json.loads(self.body.decode("utf-8"))

    @property
    def env(self):
        """The backend's CGI environment (only for requests that reached echo.cgi)."""
        assert self.header("X-Backend") == "echo", \
            "response did not come from the echo backend: %d %r" % (self.status, self.body)
        return self.json

    @property
    def vjwt_reason(self):
        return self.header("X-VJWT-Reason")

    @property
    def reached_backend(self):
        return self.server.backend_hit(self.test_id)

    def reason_lines(self):
        """The module's per-failure log lines (VJWTnnnnn ... reason=...)."""
        return [l for l in self.errlog if re.search(r"VJWT\d{5}", l) and "reason=" in l]

    def __repr__(self):
        return "<Response %d reason=%s body=%r>" % (self.status, self.vjwt_reason,
                                                   self.body[:200])


class HttpdServer:
    """One configured httpd instance (one config; started/stopped by the factory)."""

    def __init__(self, factory, name, conf_path, errlog, stderr_path):
        self.factory = factory
        self.name = name
        self.conf_path = conf_path
        self.errlog_path = errlog
        self.stderr_path = stderr_path
        self.port = None
        self.proc = None
        self.startup_lines = []
        self.sent_secrets = []  # token strings sent, for the leak check (C135)

    # --- lifecycle --------------------------------------------------------------
    def start(self, allow_startup=()):
        f = self.factory
        cmd = [APACHE2, "-d", f.root, "-f", self.conf_path, "-DFOREGROUND"]
        self._stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=self._stderr, stderr=subprocess.STDOUT,
                                     cwd=f.root, start_new_session=True)
        deadline = time.time() + 20
        while True:
            if self.proc.poll() is not None:
                self._stderr.close()
                raise RuntimeError("httpd %s exited with %s during startup:\n%s\n%s" % (
                    self.name, self.proc.returncode, self.read_stderr(), self.read_errlog()))
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    pass
                break
            except OSError:
                if time.time() > deadline:
                    self.stop()
                    raise RuntimeError("httpd %s did not listen on %d:\n%s\n%s" % (
                        self.name, self.port, self.read_stderr(), self.read_errlog()))
                time.sleep(0.05)
        # the pid file names the process we started
        pidfile = os.path.join(f.root, "run", "httpd.pid")
        for _ in range(100):
            if os.path.exists(pidfile) and open(pidfile).read().strip():
                break
            time.sleep(0.02)
        pid = int(open(pidfile).read().strip())
        assert pid == self.proc.pid, "pid file %d != started pid %d" % (pid, self.proc.pid)
        # give post_config/child_init messages a moment to land, then check them
        time.sleep(0.1)
        self.startup_lines = self.read_stderr().splitlines() + self.read_errlog().splitlines()
        bad = bad_lines(self.startup_lines, allow_startup)
        if bad:
            self.stop()
            raise AssertionError("unexpected startup log lines for %s:\n%s" % (
                self.name, "\n".join(bad)))
        self._errlog_pos = os.path.getsize(self.errlog_path)
        return self

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
                raise RuntimeError("httpd %s did not stop on SIGTERM" % self.name)
        self._stderr.close()
        self.proc = None
        # a crashed child is reported by the parent when it reaps it, possibly after the
        # test that caused it; look once more now that the server is down
        crashes = [l for l in self.read_errlog().splitlines() if CRASH_RE.search(l)]
        if crashes:
            raise RuntimeError("httpd %s: crashed children:\n%s" % (self.name, "\n".join(crashes)))

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    # --- logs -------------------------------------------------------------------
    def read_errlog(self):
        try:
            with open(self.errlog_path, "r", encoding="utf-8", errors="replace") as fh:
                return fh.read()
        except FileNotFoundError:
            return ""

    def read_stderr(self):
        try:
            with open(self.stderr_path, "r", encoding="utf-8", errors="replace") as fh:
                return fh.read()
        except FileNotFoundError:
            return ""

    def errlog_size(self):
        try:
            return os.path.getsize(self.errlog_path)
        except FileNotFoundError:
            return 0

    def errlog_since(self, pos):
        with open(self.errlog_path, "rb") as fh:
            fh.seek(pos)
            return fh.read().decode("utf-8", "replace").splitlines()

    def access_lines(self, test_id, timeout=3.0):
        """Access-log lines of a request (written after the response; poll for them)."""
        deadline = time.time() + timeout
        while True:
            try:
                with open(self.factory.access_log, encoding="utf-8", errors="replace") as fh:
                    lines = [l for l in fh if ("rid=%s " % test_id) in l]
            except FileNotFoundError:
                lines = []
            if lines or time.time() > deadline:
                return lines
            time.sleep(0.05)

    def backend_hit(self, test_id):
        try:
            with open(self.factory.hitlog, encoding="utf-8") as fh:
                return any(line.strip() == test_id for line in fh)
        except FileNotFoundError:
            return False

    # --- requests ---------------------------------------------------------------
    def request(self, path, token=None, *, scheme="Bearer", method="GET", headers=None,
                query=None, raw_query=None, timeout=15):
        """Send one request on a fresh connection.

        token: put into "Authorization: <scheme> <token>" (scheme None: bare token).
        headers: dict or list of (name, value); sent as given (duplicates allowed).
        query: dict or list of pairs, url-encoded; raw_query: already encoded string.
        """
        test_id = uuid.uuid4().hex
        hdrs = []
        if token is not None:
            hdrs.append(("Authorization", token if scheme is None else "%s %s" % (scheme, token)))
        if headers:
            hdrs.extend(headers.items() if isinstance(headers, dict) else headers)
        hdrs.append(("X-Test-Id", test_id))
        url = path
        if query is not None:
            url += "?" + urllib.parse.urlencode(query)
        elif raw_query is not None:
            url += "?" + raw_query
        # remember what might be token material, for the error-log leak check (C135)
        for k, v in hdrs:
            if k.lower() != "x-test-id" and len(v) >= 20:
                self.sent_secrets.append(v)
        if query is not None or raw_query is not None:
            q = url.split("?", 1)[1]
            for _, v in urllib.parse.parse_qsl(q, keep_blank_values=True):
                if len(v) >= 20:
                    self.sent_secrets.append(v)
        pos = self.errlog_size()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.putrequest(method, url, skip_accept_encoding=True)
            for k, v in hdrs:
                conn.putheader(k, v)
            conn.putheader("Connection", "close")
            conn.endheaders()
            resp = conn.getresponse()
            body = resp.read()
            result = Response(resp.status, resp.reason, resp.getheaders(), body, test_id,
                              [], self, method)
        finally:
            conn.close()
        # the module logs before it answers; a short grace period for slow disks
        time.sleep(0.005)
        result.errlog = self.errlog_since(pos)
        return result

    def get(self, path, token=None, **kw):
        return self.request(path, token, **kw)

    def head(self, path, token=None, **kw):
        return self.request(path, token, method="HEAD", **kw)


class HttpdFactory:
    """Owns the session ServerRoot and at most one running server."""

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="vjwt-it-")
        for d in ("conf", "logs", "run", "htdocs", "cgi-bin", "keys", "hits"):
            os.makedirs(os.path.join(self.root, d), exist_ok=True)
        shutil.copy(os.path.join(DATA, "echo.cgi"), os.path.join(self.root, "cgi-bin", "echo.cgi"))
        os.chmod(os.path.join(self.root, "cgi-bin", "echo.cgi"), 0o755)
        with open(os.path.join(self.root, "htdocs", "static.json"), "w") as fh:
            fh.write('{"static": true}\n')
        self.hitlog = os.path.join(self.root, "hits", "hits.log")
        self.access_log = os.path.join(self.root, "logs", "access.log")
        open(self.hitlog, "a").close()
        chmod_tree(self.root)
        # the CGI (www-data) appends to the hit log
        os.chmod(os.path.join(self.root, "hits"), 0o777)
        os.chmod(self.hitlog, 0o666)
        self.current = None
        self.counter = 0

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def write_file(self, rel, data, mode=0o644):
        p = self.path(rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb" if isinstance(data, bytes) else "w") as fh:
            fh.write(data)
        os.chmod(p, mode)
        return p

    # --- config -----------------------------------------------------------------
    def base_config(self, port, errlog, server_conf="", locations="", load_module=True):
        r = self.root
        mods = ["mpm_%s" % MPM, "authz_core", "authn_core", "authz_user", "headers", "env",
                "mime", "alias", "log_config", "unixd", "cgid" if MPM != "prefork" else "cgi"]
        lines = ["# generated by tests/integration/vjwt_env.py",
                 'ServerRoot "%s"' % r,
                 "ServerName %s" % SERVER_NAME,
                 "UseCanonicalName On",
                 "Listen 127.0.0.1:%d" % port,
                 "DefaultRuntimeDir run",
                 "PidFile run/httpd.pid",
                 'Mutex file:%s/run default' % r]
        for m in mods:
            # some (log_config, unixd) are compiled into Debian's apache2
            lines.append("<IfModule !%s_module>\n    LoadModule %s_module %s/mod_%s.so\n"
                         "</IfModule>" % (m, m, MODDIR, m))
        if load_module:
            lines.append('LoadModule validate_jwt_module "%s"' % MODULE)
        if os.geteuid() == 0:
            lines += ["User www-data", "Group www-data"]
        if MPM == "prefork":
            lines += ["StartServers 2", "MinSpareServers 1", "MaxSpareServers 4",
                      "MaxRequestWorkers 16"]
        else:
            lines += ["StartServers 1", "ServerLimit 2", "ThreadsPerChild 10",
                      "MinSpareThreads 5", "MaxSpareThreads 20", "MaxRequestWorkers 20"]
            lines.append('ScriptSock "%s/run/cgid.sock"' % r)
        lines += [
            'ErrorLog "%s"' % errlog,
            "LogLevel warn validate_jwt:info" if load_module else "LogLevel warn",
            'LogFormat "%h %u \\"%m %U\\" %>s rid=%{X-Test-Id}i reason=%{VALIDATE_JWT_ERROR_REASON}e '
            'source=%{VALIDATE_JWT_ERROR_SOURCE}e policy=%{VALIDATE_JWT_ERROR_POLICY_ID}e" vjwt',
            'CustomLog "%s" vjwt' % self.access_log,
            "LimitRequestFieldSize 65536",
            "LimitRequestLine 65536",
            "Timeout 30",
            "KeepAlive Off",
            'DocumentRoot "%s/htdocs"' % r,
            "TypesConfig /dev/null",
            "AddType application/json .json",
            "<Directory />",
            "    AllowOverride None",
            "    Require all denied",
            "</Directory>",
            '<Directory "%s/htdocs">' % r,
            "    Require all granted",
            "</Directory>",
            '<Directory "%s/cgi-bin">' % r,
            "    Options +ExecCGI",
            "    CGIPassAuth On",
            "    Require all granted",
            "</Directory>",
            'SetEnv VJWT_HITLOG "%s"' % self.hitlog,
            # every /p/<policy>/... URL runs the echo backend; /s/<policy>/... is static
            'ScriptAliasMatch "^/p/" "%s/cgi-bin/echo.cgi"' % r,
            'AliasMatch "^/s/[^/]+/?(.*)$" "%s/htdocs/static.json"' % r,
            # expose the failure environment to the client (docs/conformance.md#failure-response)
            'Header always set X-VJWT-Reason "%{VALIDATE_JWT_ERROR_REASON}e" env=VALIDATE_JWT_ERROR_REASON',
            'Header always set X-VJWT-Source "%{VALIDATE_JWT_ERROR_SOURCE}e" env=VALIDATE_JWT_ERROR_SOURCE',
            'Header always set X-VJWT-Message "%{VALIDATE_JWT_ERROR_MESSAGE}e" env=VALIDATE_JWT_ERROR_MESSAGE',
            'Header always set X-VJWT-Policy-Id "%{VALIDATE_JWT_ERROR_POLICY_ID}e" env=VALIDATE_JWT_ERROR_POLICY_ID',
            "",
            "# --- test specific server-level config ---",
            server_conf,
            "",
            "# --- test specific locations ---",
            locations,
            "",
        ]
        return "\n".join(lines)

    def write_config(self, name, server_conf="", locations="", port=None, load_module=True):
        self.counter += 1
        tag = "%02d-%s" % (self.counter, re.sub(r"[^A-Za-z0-9_.-]", "_", name))
        port = port or free_port()
        errlog = self.path("logs", "error-%s.log" % tag)
        text = self.base_config(port, errlog, server_conf, locations, load_module)
        conf = self.write_file(os.path.join("conf", "%s.conf" % tag), text)
        return conf, errlog, port, tag

    def configtest(self, server_conf="", locations="", name="configtest"):
        """apache2 -t on a generated config; returns (exit code, output, conf path, text)."""
        conf, _, _, _ = self.write_config(name, server_conf, locations)
        p = subprocess.run([APACHE2, "-t", "-d", self.root, "-f", conf], cwd=self.root,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        with open(conf) as fh:
            text = fh.read()
        return p.returncode, p.stdout.decode("utf-8", "replace"), conf, text

    # --- servers ----------------------------------------------------------------
    def start(self, name, locations="", server_conf="", allow_startup=(), load_module=True):
        self.stop()
        conf, errlog, port, tag = self.write_config(name, server_conf, locations,
                                                    load_module=load_module)
        srv = HttpdServer(self, name, conf, errlog, self.path("logs", "stderr-%s.log" % tag))
        srv.port = port
        srv.start(allow_startup)
        self.current = srv
        return srv

    def stop(self):
        if self.current is not None:
            srv, self.current = self.current, None
            srv.stop()

    def cleanup(self):
        self.stop()
        if os.environ.get("VJWT_KEEP") != "1":
            shutil.rmtree(self.root, ignore_errors=True)


def location(name, *directives, auth=True, prefix="/p/"):
    """A <Location /p/NAME> block protected by the module (AuthType JWT, Require valid-user)."""
    body = []
    if auth:
        body += ["AuthType JWT", "Require valid-user"]
    body += list(directives)
    return '<Location "%s%s">\n%s\n</Location>\n' % (
        prefix, name, "\n".join("    " + d for d in body))


def check_location_names(names):
    """No policy path may be a prefix of another unless nested on purpose (contains '/')."""
    for a in names:
        for b in names:
            if a != b and b.startswith(a) and not b[len(a):].startswith("/"):
                raise ValueError("location %r is a prefix of %r" % (a, b))


# --- assertions shared by the test modules -------------------------------------------
RFC6750_DESC_RE = re.compile(r'^[\x20\x21\x23-\x5B\x5D-\x7E]*$')


def _why(resp):
    return "status=%d reason=%s detail=%r body=%r" % (
        resp.status, resp.vjwt_reason, resp.header("X-VJWT-Message"), resp.body[:300])


def expected_body(status, message):
    return ('{ "statusCode": %d, "message": %s }' % (
        status, json.dumps(message, ensure_ascii=False))).encode("utf-8")


def assert_fail(resp, reason, status=401, message=None, www=True, realm=SERVER_NAME,
                check_log=True):
    """A failure response per docs/conformance.md#failure-response (status, body, Content-Type,
    WWW-Authenticate, env via X-VJWT-* headers, one info log line, backend not reached)."""
    assert reason in REASONS
    assert resp.status == status, "expected %d %s, got %s" % (status, reason, _why(resp))
    assert resp.vjwt_reason == reason, "expected reason %s, got %s" % (reason, _why(resp))
    assert resp.header("X-VJWT-Source") == "validate-jwt", _why(resp)
    if message is None:
        message = "JWT not present." if reason == "TokenNotPresent" else "Invalid JWT."
    if resp.method == "HEAD":
        assert resp.body == b"", "HEAD failure response has a body: %r" % resp.body
    else:
        assert resp.body == expected_body(status, message), \
            "body %r != %r" % (resp.body, expected_body(status, message))
    ctype = (resp.header("Content-Type") or "").split(";")[0].strip().lower()
    assert ctype == "application/json", "Content-Type %r" % resp.header("Content-Type")
    wa = resp.headers_all("WWW-Authenticate")
    if status == 401 and www:
        assert len(wa) == 1, "WWW-Authenticate %r (%s)" % (wa, _why(resp))
        if reason == "TokenNotPresent":
            assert wa[0] == 'Bearer realm="%s"' % realm, wa[0]
        else:
            m = re.match(r'^Bearer realm="%s", error="invalid_token", error_description="([^"]*)"$'
                         % re.escape(realm), wa[0])
            assert m, "WWW-Authenticate %r" % wa[0]
            assert RFC6750_DESC_RE.match(m.group(1)), "error_description chars: %r" % m.group(1)
    else:
        assert wa == [], "unexpected WWW-Authenticate %r for status %d" % (wa, status)
    assert not resp.reached_backend, "backend was reached on failure"
    if check_log:
        lines = resp.reason_lines()
        assert len(lines) == 1, "expected one VJWTnnnnn reason= log line, got %r" % resp.errlog
        assert "reason=%s" % reason in lines[0], lines[0]
        assert log_level(lines[0])[1] == "info", "failure logged at %r" % (log_level(lines[0]),)
    return resp


def assert_pass(resp):
    assert resp.status == 200, "expected 200 from the backend, got %s" % _why(resp)
    assert resp.vjwt_reason is None, _why(resp)
    assert resp.reached_backend, "backend not reached"
    assert resp.reason_lines() == [], "failure log line on success: %r" % resp.errlog
    return resp


def locations(spec, prefix="/p/"):
    """{name: [directive, ...]} -> <Location /p/name> blocks (AuthType JWT, valid-user)."""
    check_location_names(list(spec))
    return "\n".join(location(n, *d, prefix=prefix) for n, d in spec.items())


# --- keys from OpenID discovery and JWKS URLs (tests 2xx) -----------------------------
# docs/log-messages.md: VJWT00201 (warn) a fetch failed, once per attempt; VJWT00202 (warn)
# a JWK of a fetched set was skipped.
FETCH_FAIL_RE = r"VJWT00201"
JWK_SKIP_RE = r"VJWT00202"
UNAVAILABLE_MESSAGE = "Signing keys unavailable."


def several_children_conf():
    """MPM lines that keep 3-4 children serving at once, for tests of what children share
    (key fetches, new-key pickup)."""
    if MPM == "prefork":
        return ["StartServers 4", "MinSpareServers 4", "MaxSpareServers 8",
                "MaxRequestWorkers 16"]
    return ["ServerLimit 4", "StartServers 3", "ThreadsPerChild 10", "MaxRequestWorkers 40",
            "MinSpareThreads 30", "MaxSpareThreads 40"]


def load_modules(*names):
    """LoadModule lines for stock modules (e.g. "socache_shmcb", "socache_redis")."""
    return "\n".join("<IfModule !%s_module>\n    LoadModule %s_module %s/mod_%s.so\n</IfModule>"
                     % (m, m, MODDIR, m) for m in names)


def assert_unavailable(resp, retry_after):
    """C74: 503 + Retry-After, reason KeysUnavailable, the docs/conformance.md#failure-response
    body, backend not reached."""
    assert resp.status == 503, "expected 503 KeysUnavailable, got %s" % _why(resp)
    assert resp.vjwt_reason == "KeysUnavailable", _why(resp)
    assert resp.header("X-VJWT-Source") == "validate-jwt", _why(resp)
    assert resp.header("Retry-After") == str(retry_after), \
        "Retry-After %r, expected %r" % (resp.header("Retry-After"), str(retry_after))
    if resp.method != "HEAD":
        assert resp.body == expected_body(503, UNAVAILABLE_MESSAGE), resp.body
    ctype = (resp.header("Content-Type") or "").split(";")[0].strip().lower()
    assert ctype == "application/json", "Content-Type %r" % resp.header("Content-Type")
    assert resp.headers_all("WWW-Authenticate") == [], \
        "WWW-Authenticate on 503: %r" % resp.headers_all("WWW-Authenticate")
    assert not resp.reached_backend, "backend was reached on 503"
    lines = resp.reason_lines()
    assert len(lines) == 1 and "reason=KeysUnavailable" in lines[0], \
        "expected one VJWTnnnnn reason=KeysUnavailable log line, got %r" % resp.errlog
    return resp


def wait_errlog(srv, pattern, pos=0, timeout=5.0):
    """Poll srv's error log (from byte pos) for a line matching pattern; the lines or []."""
    deadline = time.time() + timeout
    while True:
        lines = [l for l in srv.errlog_since(pos) if re.search(pattern, l)]
        if lines or time.time() > deadline:
            return lines
        time.sleep(0.05)


def crash_lines(srv):
    """Crash reports (segfault, 'exit signal', ...) anywhere in srv's error log."""
    return [l for l in srv.read_errlog().splitlines() if CRASH_RE.search(l)]
