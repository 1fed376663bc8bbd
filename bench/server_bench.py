#!/usr/bin/python3
"""Whole-server benchmark: Debian's apache2 (mpm_event) pinned to core 0, wrk on core 1.

Run through bench/server.sh (which installs the tools); see bench/README.md for the
columns. Usage: server_bench.py BUILD_DIR

Environment:
  BENCH_SECONDS        length of one measured wrk run (default 5)
  BENCH_ROUNDS         rounds of all variants (default 2)
  BENCH_FUTEX_SECONDS  length of the strace run per variant (default 3; 0 skips the pass)
  BENCH_MEMORY         1 (default): the 1 M request memory run; 0 skips it
  BENCH_MEMORY_TOKENS  distinct HS256 tokens of the memory run (default 100000)
  BENCH_MEMORY_CYCLES  times they are sent (default 10)
  BENCH_CACHE          where keys and minted tokens are kept (default bench/.cache)
  BENCH_OUT            the markdown result file (default bench/results-<UTC time>.md)
  BENCH_LATENCY        1 (default): the -c64 latency check; 0 skips it
  BENCH_ONLY           comma-separated variant names: measure only these (and the static
                       baselines)
  BENCH_SERVE          1: start everything, print ports, PIDs and token files, and wait
  BENCH_KEEP           1: keep the temp dirs (configs, error logs, token files)
"""
import base64
import hashlib
import http.client
import http.server
import json
import multiprocessing
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from jwcrypto import jwk

HERE = os.path.dirname(os.path.abspath(__file__))
APACHE2 = "/usr/sbin/apache2"
MODDIR = "/usr/lib/apache2/modules"
ISS = "https://bench-idp.example"
AUD = "api://bench"
SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
FUTEX_SECONDS = int(os.environ.get("BENCH_FUTEX_SECONDS", "3"))
MEMORY = os.environ.get("BENCH_MEMORY", "1") != "0"
LATENCY = os.environ.get("BENCH_LATENCY", "1") != "0"
MEM_TOKENS = int(os.environ.get("BENCH_MEMORY_TOKENS", "100000"))
MEM_CYCLES = int(os.environ.get("BENCH_MEMORY_CYCLES", "10"))
CACHE = os.environ.get("BENCH_CACHE", os.path.join(HERE, ".cache"))
ONLY = [v for v in os.environ.get("BENCH_ONLY", "").split(",") if v]
CLK_TCK = os.sysconf("SC_CLK_TCK")
# unique tokens per measured run: no token repeats unless the server beats this rate
UNIQUE_RATE = {"HS256": 25000, "RS256": 20000, "ES256": 20000, "EdDSA": 20000}

STARTED = []  # Popen objects to stop at exit, newest last


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def die(msg):
    log("server_bench: " + msg)
    raise SystemExit(1)


# --- keys and tokens ------------------------------------------------------------------

def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def load_or_make_keys():
    """Key material under CACHE/keys (made once): PEM private keys plus the HS256 secret."""
    d = os.path.join(CACHE, "keys")
    os.makedirs(d, exist_ok=True)
    makers = {
        "rs-1": lambda: rsa.generate_private_key(65537, 2048),    # signs the valid RS256 tokens
        "rs-2": lambda: rsa.generate_private_key(65537, 2048),    # JWKS filler
        "rs-3": lambda: rsa.generate_private_key(65537, 2048),
        "rs-x": lambda: rsa.generate_private_key(65537, 2048),    # not published (unknown kid)
        "ec-1": lambda: ec.generate_private_key(ec.SECP256R1()),  # signs the ES256 tokens
        "ec-2": lambda: ec.generate_private_key(ec.SECP256R1()),
        "ec-3": lambda: ec.generate_private_key(ec.SECP384R1()),
        "ed-1": lambda: ed25519.Ed25519PrivateKey.generate(),
    }
    keys = {}
    for name, make in makers.items():
        p = os.path.join(d, name + ".pem")
        if not os.path.exists(p):
            k = make()
            with open(p, "wb") as fh:
                fh.write(k.private_bytes(serialization.Encoding.PEM,
                                         serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption()))
        with open(p, "rb") as fh:
            keys[name] = serialization.load_pem_private_key(fh.read(), None)
    p = os.path.join(d, "hs.secret")
    if not os.path.exists(p):
        with open(p, "wb") as fh:
            fh.write(os.urandom(32))
    with open(p, "rb") as fh:
        keys["hs"] = fh.read()
    return keys


def key_id(keys, name):
    if name == "hs":
        return hashlib.sha256(keys["hs"]).hexdigest()[:16]
    der = keys[name].private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption())
    return hashlib.sha256(der).hexdigest()[:16]


def public_jwk(keys, name, use_kid=True):
    j = json.loads(jwk.JWK.from_pyca(keys[name].public_key()).export_public())
    if use_kid:
        j["kid"] = name
    return j


_SIGN_KEYS = None


def _sign_init(cache_dir):
    global _SIGN_KEYS
    _SIGN_KEYS = load_or_make_keys_at(cache_dir)


def load_or_make_keys_at(cache_dir):
    global CACHE
    CACHE = cache_dir
    return load_or_make_keys()


def sign(keys, alg, keyname, claims, kid=None):
    header = {"alg": alg, "typ": "JWT"}
    if kid:
        header["kid"] = kid
    si = (b64u(json.dumps(header, separators=(",", ":")).encode()) + "." +
          b64u(json.dumps(claims, separators=(",", ":")).encode())).encode()
    if alg == "HS256":
        import hmac
        sig = hmac.new(keys["hs"], si, hashlib.sha256).digest()
    elif alg == "RS256":
        sig = keys[keyname].sign(si, padding.PKCS1v15(), hashes.SHA256())
    elif alg == "ES256":
        r, s = decode_dss_signature(keys[keyname].sign(si, ec.ECDSA(hashes.SHA256())))
        sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    elif alg == "EdDSA":
        sig = keys[keyname].sign(si)
    else:
        raise ValueError(alg)
    return si.decode() + "." + b64u(sig)


def claims_for(jti, exp):
    return {"iss": ISS, "aud": AUD, "sub": "bench-user", "iat": int(time.time()), "exp": exp,
            "jti": jti}


def _mint_chunk(args):
    alg, keyname, kid, prefix, lo, hi, exp = args
    return [sign(_SIGN_KEYS, alg, keyname, claims_for("%s-%d" % (prefix, i), exp), kid)
            for i in range(lo, hi)]


SIGNERS = {"HS256": ("hs", None), "RS256": ("rs-1", "rs-1"), "ES256": ("ec-1", "ec-1"),
           "EdDSA": ("ed-1", "ed-1")}


def unique_tokens(keys, alg, count):
    """COUNT distinct valid tokens of ALG, cached in CACHE/tokens by key material and count."""
    keyname, kid = SIGNERS[alg]
    d = os.path.join(CACHE, "tokens")
    os.makedirs(d, exist_ok=True)
    tag = hashlib.sha256(("v1|%s|%s|%s|%s|%s|%d" % (alg, key_id(keys, keyname), kid, ISS, AUD,
                                                   count)).encode()).hexdigest()[:16]
    path = os.path.join(d, "%s-%d-%s.txt" % (alg, count, tag))
    if os.path.exists(path):
        with open(path) as fh:
            first = fh.readline()
        m = re.match(r"#exp=(\d+)", first)
        if m and int(m.group(1)) > time.time() + 2 * 86400:
            return path
    exp = int(time.time()) + 60 * 86400
    t0 = time.time()
    log("minting %d %s tokens (cached in %s) ..." % (count, alg, d))
    step = 2000
    chunks = [(alg, keyname, kid, "u%s" % alg, lo, min(lo + step, count), exp)
              for lo in range(0, count, step)]
    with multiprocessing.get_context("fork").Pool(os.cpu_count() or 2, _sign_init,
                                                  (CACHE,)) as pool:
        parts = pool.map(_mint_chunk, chunks)
    tmp = path + ".tmp"
    with open(tmp, "w") as fh:
        fh.write("#exp=%d\n" % exp)
        for part in parts:
            fh.write("\n".join(part) + "\n")
    os.replace(tmp, path)
    log("  %.1f s" % (time.time() - t0))
    return path


def bad_signature_tokens(count, path):
    """RS256 tokens with random 256-byte signatures (cheap: nothing to sign)."""
    exp = int(time.time()) + 86400
    with open(path, "w") as fh:
        fh.write("#exp=%d\n" % exp)
        head = b64u(json.dumps({"alg": "RS256", "typ": "JWT", "kid": "rs-1"},
                               separators=(",", ":")).encode())
        for i in range(count):
            body = b64u(json.dumps(claims_for("bad-%d" % i, exp), separators=(",", ":")).encode())
            fh.write("%s.%s.%s\n" % (head, body, b64u(os.urandom(256))))
    return path


def token_file(path, tokens):
    with open(path, "w") as fh:
        fh.write("#single\n")
        for t in tokens:
            fh.write(t + "\n")
    return path


def count_tokens(path):
    with open(path) as fh:
        return sum(1 for line in fh if line.strip() and not line.startswith("#"))


# --- the loopback discovery server ----------------------------------------------------------

class Idp:
    def __init__(self, jwks):
        self.hits = {}
        idp = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                idp.hits[self.path] = idp.hits.get(self.path, 0) + 1
                if self.path == "/.well-known/openid-configuration":
                    body = json.dumps({"issuer": ISS, "jwks_uri": idp.base + "/jwks.json",
                                       "id_token_signing_alg_values_supported":
                                       ["RS256", "ES256"]}).encode()
                elif self.path == "/jwks.json":
                    body = json.dumps(jwks).encode()
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Cache-Control", "max-age=3600")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.base = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        # the same documents over TLS (self-signed): mod_auth_openidc takes https only
        self.tls = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*self_signed_cert())
        self.tls.socket = ctx.wrap_socket(self.tls.socket, server_side=True)
        self.tls_base = "https://127.0.0.1:%d" % self.tls.server_address[1]
        self.threads = [threading.Thread(target=s.serve_forever, daemon=True)
                        for s in (self.httpd, self.tls)]
        for t in self.threads:
            t.start()

    def stop(self):
        for s in (self.httpd, self.tls):
            s.shutdown()
            s.server_close()


def self_signed_cert():
    """(cert file, key file) for 127.0.0.1 under CACHE/keys, made once."""
    d = os.path.join(CACHE, "keys")
    crt, key = os.path.join(d, "tls.crt"), os.path.join(d, "tls.key")
    if not os.path.exists(crt):
        import datetime
        from cryptography import x509
        from cryptography.x509.oid import NameOID
        k = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                .public_key(k.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(days=1))
                .not_valid_after(now + datetime.timedelta(days=3650))
                .sign(k, hashes.SHA256()))
        with open(key, "wb") as fh:
            fh.write(k.private_bytes(serialization.Encoding.PEM,
                                     serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()))
        with open(crt, "wb") as fh:
            fh.write(cert.public_bytes(serialization.Encoding.PEM))
    return crt, key


# --- httpd ------------------------------------------------------------------------------------

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def stock_module(m):
    return ("<IfModule !%s_module>\n    LoadModule %s_module %s/mod_%s.so\n</IfModule>"
            % (m, m, MODDIR, m))


class Httpd:
    """One Debian apache2 (mpm_event, Debian's default thread counts) in its own ServerRoot."""

    def __init__(self, name, extra_modules, server_conf, locations):
        self.name = name
        self.root = tempfile.mkdtemp(prefix="vjwt-bench-%s-" % name)
        for d in ("conf", "logs", "run", "htdocs", "keys"):
            os.makedirs(os.path.join(self.root, d))
        with open(os.path.join(self.root, "htdocs", "static.txt"), "w") as fh:
            fh.write("hello, bench\n")  # 13 bytes
        self.port = free_port()
        self.errlog = os.path.join(self.root, "logs", "error.log")
        mods = ["mpm_event", "authz_core", "authn_core", "authz_user", "mime", "alias", "unixd",
                "log_config"]
        lines = ['ServerRoot "%s"' % self.root, "ServerName bench.local",
                 "Listen 127.0.0.1:%d" % self.port, "DefaultRuntimeDir run",
                 "PidFile run/httpd.pid", 'Mutex file:%s/run default' % self.root]
        lines += [stock_module(m) for m in mods]
        lines += [m if m.startswith("LoadModule") else stock_module(m) for m in extra_modules]
        if os.geteuid() == 0:
            lines += ["User www-data", "Group www-data"]
        lines += ["StartServers 2", "MinSpareThreads 25", "MaxSpareThreads 75",
                  "ThreadLimit 64", "ThreadsPerChild 25", "MaxRequestWorkers 150",
                  "MaxConnectionsPerChild 0",
                  "KeepAlive On", "MaxKeepAliveRequests 100", "KeepAliveTimeout 5",
                  'ErrorLog "%s"' % self.errlog, "LogLevel warn",
                  'DocumentRoot "%s/htdocs"' % self.root, "TypesConfig /dev/null",
                  "AddType text/plain .txt",
                  "<Directory />\n    AllowOverride None\n    Require all denied\n</Directory>",
                  '<Directory "%s/htdocs">\n    Require all granted\n</Directory>' % self.root,
                  # every /x/... URL serves the same static file; locations add the auth
                  'AliasMatch "^/[a-z0-9-]+/?.*$" "%s/htdocs/static.txt"' % self.root,
                  server_conf, locations, ""]
        self.conf = os.path.join(self.root, "conf", "httpd.conf")
        with open(self.conf, "w") as fh:
            fh.write("\n".join(lines))
        for dp, dn, fn in os.walk(self.root):
            os.chmod(dp, 0o755)
            for f in fn:
                os.chmod(os.path.join(dp, f), 0o644)
        self.proc = None

    def write_key(self, name, text):
        p = os.path.join(self.root, "keys", name)
        with open(p, "w") as fh:
            fh.write(text)
        os.chmod(p, 0o644)
        return p

    def start(self):
        t = subprocess.run([APACHE2, "-t", "-d", self.root, "-f", self.conf],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if t.returncode != 0:
            die("%s: apache2 -t failed:\n%s" % (self.name, t.stdout.decode()))
        open(self.errlog, "a").close()
        self.proc = subprocess.Popen(["taskset", "-c", "0", APACHE2, "-d", self.root, "-f",
                                      self.conf, "-DFOREGROUND"], stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(self.root, "logs", "stderr"), "w"))
        STARTED.append(self.proc)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                die("%s: apache2 exited with %s; %s" % (self.name, self.proc.returncode,
                                                       self.tail()))
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                if len(self.children()) >= 2:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        die("%s: apache2 did not come up; %s" % (self.name, self.tail()))

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc in STARTED:
            STARTED.remove(self.proc)
        self.proc = None

    def restart(self):
        self.stop()
        self.start()

    def tail(self, n=20):
        out = []
        for f in (self.errlog, os.path.join(self.root, "logs", "stderr")):
            try:
                with open(f) as fh:
                    out += fh.read().splitlines()[-n:]
            except OSError:
                pass
        return "\n".join(out)

    def children(self):
        ppid = self.proc.pid
        kids = []
        for p in os.listdir("/proc"):
            if not p.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % p) as fh:
                    st = fh.read()
            except OSError:
                continue
            fields = st[st.rindex(")") + 2:].split()
            if int(fields[1]) == ppid:
                kids.append(int(p))
        return sorted(kids)

    def cpu_ticks(self):
        total = 0
        for pid in [self.proc.pid] + self.children():
            try:
                with open("/proc/%d/stat" % pid) as fh:
                    st = fh.read()
            except OSError:
                continue
            fields = st[st.rindex(")") + 2:].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total

    def memory(self):
        """(max RSS kB, max PSS kB) over the children."""
        rss = pss = 0
        for pid in self.children():
            try:
                with open("/proc/%d/smaps_rollup" % pid) as fh:
                    t = fh.read()
            except OSError:
                continue
            rss = max(rss, int(re.search(r"^Rss:\s+(\d+)", t, re.M).group(1)))
            pss = max(pss, int(re.search(r"^Pss:\s+(\d+)", t, re.M).group(1)))
        return rss, pss

    def status(self, path, token):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        h = {"Authorization": "Bearer " + token} if token else {}
        c.request("GET", path, headers=h)
        r = c.getresponse()
        body = r.read()
        hdrs = dict(r.getheaders())
        c.close()
        return r.status, hdrs, body


# --- wrk ------------------------------------------------------------------------------------

LUA = r"""
-- args: tokens-file path [stop-after-N-responses]
local reqs, n, i, limit, seen = {}, 0, 0, 0, 0
function init(args)
  local path = args[2]
  limit = tonumber(args[3] or "0")
  for line in io.lines(args[1]) do
    if line:sub(1, 1) ~= "#" then
      local h = {}
      if line ~= "" and line ~= "-" then h["Authorization"] = "Bearer " .. line end
      n = n + 1
      reqs[n] = wrk.format("GET", path, h)
    end
  end
end
function request()
  i = i % n + 1
  return reqs[i]
end
local done_file = os.getenv("BENCH_LUA_DONE")
if done_file then
  -- wrk runs for its whole -d even when a thread stops: the driver watches for this
  -- file and ends wrk with SIGINT (wrk then prints its summary)
  function response(status, headers, body)
    seen = seen + 1
    if seen == limit then
      local f = io.open(done_file, "w")
      f:write(seen)
      f:close()
      wrk.thread:stop()
    end
  end
end
"""


def lua_script(tmp):
    p = os.path.join(tmp, "bench.lua")
    if not os.path.exists(p):
        with open(p, "w") as fh:
            fh.write(LUA)
    return p


def parse_wrk(out):
    def lat(s):
        m = re.match(r"([\d.]+)(us|ms|s)$", s)
        v = float(m.group(1))
        return v / 1000 if m.group(2) == "us" else v * 1000 if m.group(2) == "s" else v

    r = {"out": out}
    m = re.search(r"(\d+) requests in ([\d.]+)(\w+)", out)
    r["requests"] = int(m.group(1))
    r["rps"] = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    for q in ("50", "99"):
        m = re.search(r"^\s+%s%%\s+(\S+)" % q, out, re.M)
        r["p" + q] = lat(m.group(1)) if m else float("nan")
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    r["non2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    r["sockerr"] = sum(int(x) for x in m.groups()) if m else 0
    return r


def run_wrk(tmp, srv, path, tokens, seconds, conns=16, limit=0):
    env = dict(os.environ)
    done = os.path.join(tmp, "wrk-done")
    if os.path.exists(done):
        os.unlink(done)
    if limit:
        env["BENCH_LUA_DONE"] = done
    cmd = ["taskset", "-c", "1", "wrk", "-t1", "-c%d" % conns, "-d%ds" % seconds, "--latency",
           "--timeout", "10s", "-s", lua_script(tmp), "http://127.0.0.1:%d%s" % (srv.port, path),
           "--", tokens, path, str(limit)]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    STARTED.append(p)
    if limit:
        while p.poll() is None and not os.path.exists(done):
            time.sleep(0.1)
        if p.poll() is None:
            p.send_signal(signal.SIGINT)
    out = p.communicate()[0].decode()
    STARTED.remove(p)
    if p.returncode != 0:
        die("wrk failed (%s):\n%s" % (" ".join(cmd), out))
    return parse_wrk(out)


# --- variants ---------------------------------------------------------------------------------

class Variant:
    def __init__(self, name, server, path, tokens, expect, unique=False, group="vjwt"):
        self.name, self.server, self.path, self.tokens = name, server, path, tokens
        self.expect, self.unique, self.group = expect, unique, group


def precheck(v):
    with open(v.tokens) as fh:
        tok = next(line.strip() for line in fh if not line.startswith("#"))
    st, hdrs, body = v.server.status(v.path, None if tok in ("", "-") else tok)
    if st != v.expect:
        die("variant %s: %s%s answered %d, expected %d; body %r\n%s" % (
            v.name, v.server.name, v.path, st, v.expect, body[:300], v.server.tail()))


def cores():
    """{core: (idle + iowait, steal, total)} jiffies of cores 0 (httpd) and 1 (wrk)."""
    r = {}
    with open("/proc/stat") as fh:
        for line in fh:
            for c in ("0", "1"):
                if line.startswith("cpu%s " % c):
                    f = [int(x) for x in line.split()[1:]]
                    r[c] = (f[3] + f[4], f[7], sum(f[:8]))
    return r


def measure(tmp, v, seconds):
    precheck(v)
    c0 = cores()
    before = v.server.cpu_ticks()
    r = run_wrk(tmp, v.server, v.path, v.tokens, seconds)
    after = v.server.cpu_ticks()
    c1 = cores()
    t = {c: max(c1[c][2] - c0[c][2], 1) for c in c0}
    r["steal"] = 100.0 * (c1["0"][1] - c0["0"][1]) / t["0"]
    r["busy"] = 100.0 * (after - before) / t["0"]
    r["idle0"] = 100.0 * (c1["0"][0] - c0["0"][0]) / t["0"]
    r["idle1"] = 100.0 * (c1["1"][0] - c0["1"][0]) / t["1"]
    r["cpu_us"] = (after - before) * 1e6 / CLK_TCK / max(r["requests"], 1)
    r["rss"], r["pss"] = v.server.memory()
    r["wrapped"] = v.unique and r["requests"] > count_tokens(v.tokens)
    bad = r["non2xx"] if v.expect == 200 else r["requests"] - r["non2xx"]
    r["wrong"] = bad
    log("  %-28s %9.0f req/s  p50 %6.2f ms  p99 %6.2f ms  %6.1f us/req%s%s" % (
        v.name, r["rps"], r["p50"], r["p99"], r["cpu_us"],
        "  (%d wrong statuses)" % bad if bad else "", "  (tokens repeated)" if r["wrapped"] else ""))
    return r


def futex_run(tmp, v, seconds):
    precheck(v)
    kids = v.server.children()
    out = os.path.join(tmp, "strace-%s.txt" % re.sub(r"\W", "_", v.name))
    cmd = ["strace", "-f", "-c", "-e", "trace=futex", "-o", out]
    for k in kids:
        cmd += ["-p", str(k)]
    st = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    STARTED.append(st)
    time.sleep(1.0)
    r = run_wrk(tmp, v.server, v.path, v.tokens, seconds)
    st.send_signal(signal.SIGINT)
    try:
        st.wait(30)
    except subprocess.TimeoutExpired:
        st.kill()
        st.wait()
    STARTED.remove(st)
    calls = errors = 0
    with open(out) as fh:
        for line in fh:
            f = line.split()
            if f and f[-1] == "futex":
                calls = int(f[3])
                errors = int(f[4]) if len(f) == 6 else 0
    r["futex"] = calls / max(r["requests"], 1)
    r["futex_errors"] = errors / max(calls, 1)
    log("  %-28s futex %.3f per request (%d calls, %d requests, %.0f %% errors)" % (
        v.name, r["futex"], calls, r["requests"], 100 * r["futex_errors"]))
    return r


def perf_run(tmp, v, seconds):
    """futex and epoll_ctl calls per request counted by kernel tracepoints (perf stat):
    unlike strace, this does not slow the traced threads down."""
    precheck(v)
    kids = v.server.children()
    out = os.path.join(tmp, "perf-%s.txt" % re.sub(r"\W", "_", v.name))
    cmd = ["perf", "stat", "-x", ",", "-o", out, "-e",
           "syscalls:sys_enter_futex,syscalls:sys_enter_epoll_ctl", "-p",
           ",".join(map(str, kids))]
    pf = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    STARTED.append(pf)
    time.sleep(0.5)
    r = run_wrk(tmp, v.server, v.path, v.tokens, seconds)
    pf.send_signal(signal.SIGINT)
    try:
        pf.wait(30)
    except subprocess.TimeoutExpired:
        pf.kill()
        pf.wait()
    STARTED.remove(pf)
    counts = {}
    with open(out) as fh:
        for line in fh:
            f = line.strip().split(",")
            if len(f) > 2 and f[2].startswith("syscalls:"):
                counts[f[2].split("_")[-1]] = int(f[0]) if f[0].isdigit() else 0
    n = max(r["requests"], 1)
    r["futex"] = counts.get("futex", 0) / n
    r["epoll_ctl"] = counts.get("ctl", 0) / n
    log("  %-28s perf: futex %.3f, epoll_ctl %.3f per request (%d requests)" % (
        v.name, r["futex"], r["epoll_ctl"], r["requests"]))
    return r


def memory_run(tmp, srv, path, tokens, per_sample, samples):
    """Sends PER_SAMPLE requests SAMPLES times; child RSS/PSS after each block."""
    rows = []
    total = 0
    for s in range(samples):
        r = run_wrk(tmp, srv, path, tokens, 3600, limit=per_sample)
        total += r["requests"]
        rss, pss = srv.memory()
        rows.append((total, r["rps"], rss, pss, r["non2xx"]))
        log("  %s: %d requests  RSS %d kB  PSS %d kB" % (srv.name, total, rss, pss))
    return rows


# --- main -----------------------------------------------------------------------------------

def main():
    build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, ".."))
    module = os.path.join(build, ".libs", "mod_validate_jwt.so")
    if not os.path.exists(module):
        die("no %s (build first: scripts/build.sh)" % module)
    os.makedirs(CACHE, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="vjwt-bench-")
    servers = []
    idp = None
    try:
        keys = load_or_make_keys()
        secs = SECONDS
        # tokens ------------------------------------------------------------------------
        uniq = {alg: unique_tokens(keys, alg, max(UNIQUE_RATE[alg] * secs,
                                                  MEM_TOKENS if alg == "HS256" else 0))
                for alg in ("HS256", "RS256", "ES256", "EdDSA")}
        exp = int(time.time()) + 86400
        rep = {alg: token_file(os.path.join(tmp, "rep-%s.txt" % alg),
                               [sign(keys, alg, SIGNERS[alg][0], claims_for("rep", exp),
                                     SIGNERS[alg][1])])
               for alg in ("HS256", "RS256", "ES256", "EdDSA")}
        expired = token_file(os.path.join(tmp, "expired.txt"), [sign(
            keys, "RS256", "rs-1", claims_for("expired", int(time.time()) - 3600), "rs-1")])
        good = sign(keys, "RS256", "rs-1", claims_for("badsig", exp), "rs-1")
        badsig = token_file(os.path.join(tmp, "badsig.txt"),
                            [good.rsplit(".", 1)[0] + "." + b64u(os.urandom(256))])
        badsig_u = bad_signature_tokens(UNIQUE_RATE["RS256"] * secs,
                                        os.path.join(tmp, "badsig-unique.txt"))
        unknown = token_file(os.path.join(tmp, "unknown-kid.txt"), [sign(
            keys, "RS256", "rs-x", claims_for("unknown", exp), "rs-unknown")])
        static = token_file(os.path.join(tmp, "static.txt"), ["-"])

        # the loopback identity provider: 6 keys, RSA and EC ------------------------------------
        jwks = {"keys": [public_jwk(keys, k) for k in ("rs-1", "rs-2", "rs-3", "ec-1", "ec-2",
                                                        "ec-3")]}
        idp = Idp(jwks)

        # this module's httpd -------------------------------------------------------------
        common = ("    AuthType JWT\n    Require valid-user\n    ValidateJWTIssuer %s\n"
                  "    ValidateJWTAudience %s\n" % (ISS, AUD))
        a = Httpd("vjwt", ["socache_shmcb", 'LoadModule validate_jwt_module "%s"' % module],
                  "", "")
        kf = {n: a.write_key(n + ".json", json.dumps(public_jwk(keys, n, use_kid=False)))
              for n in ("rs-1", "ec-1", "ed-1")}
        locs = []
        for path, keyline in (
                ("/hs", base64.b64encode(keys["hs"]).decode()),
                ("/rs", "id=rs-1 file:%s" % kf["rs-1"]),
                ("/es", "id=ec-1 file:%s" % kf["ec-1"]),
                ("/ed", "id=ed-1 file:%s" % kf["ed-1"])):
            locs.append('<Location "%s">\n%s    ValidateJWTIssuerSigningKey %s\n</Location>'
                        % (path, common, keyline))
        locs.append('<Location "/disc">\n%s    ValidateJWTOpenIDConfig %s/.well-known/'
                    'openid-configuration\n</Location>' % (common, idp.base))
        # the locations go at the end of the config (the key files had to exist first)
        with open(a.conf, "a") as fh:
            fh.write("\n".join(locs) + "\n")
        servers.append(a)

        # mod_auth_openidc's httpd -------------------------------------------------------
        o = Httpd("openidc", ["LoadModule auth_openidc_module %s/mod_auth_openidc.so" % MODDIR],
                  "OIDCOAuthVerifyJwksUri %s/jwks.json\nOIDCOAuthRemoteUserClaim sub\n"
                  "OIDCOAuthSSLValidateServer Off\nOIDCSSLValidateServer Off\n"
                  "OIDCCacheType shm\n" % idp.tls_base,
                  '<Location "/oidc">\n    AuthType oauth20\n    Require valid-user\n'
                  '</Location>')
        servers.append(o)

        # plain httpd: no module loaded (memory comparison) --------------------------------------
        plain = Httpd("plain", [], "", "")
        servers.append(plain)

        for s in servers:
            s.start()

        variants = [
            Variant("static", a, "/static", static, 200, group="base-vjwt"),
            Variant("HS256 repeated", a, "/hs", rep["HS256"], 200),
            Variant("HS256 unique", a, "/hs", uniq["HS256"], 200, True),
            Variant("RS256 repeated", a, "/rs", rep["RS256"], 200),
            Variant("RS256 unique", a, "/rs", uniq["RS256"], 200, True),
            Variant("ES256 repeated", a, "/es", rep["ES256"], 200),
            Variant("ES256 unique", a, "/es", uniq["ES256"], 200, True),
            Variant("EdDSA repeated", a, "/ed", rep["EdDSA"], 200),
            Variant("EdDSA unique", a, "/ed", uniq["EdDSA"], 200, True),
            Variant("RS256 disc repeated", a, "/disc", rep["RS256"], 200),
            Variant("RS256 disc unique", a, "/disc", uniq["RS256"], 200, True),
            Variant("rej expired RS256", a, "/disc", expired, 401),
            Variant("rej badsig RS256 rep", a, "/disc", badsig, 401),
            Variant("rej badsig RS256 uniq", a, "/disc", badsig_u, 401, True),
            Variant("rej HS256 at disc", a, "/disc", rep["HS256"], 401),
            Variant("rej unknown kid", a, "/disc", unknown, 401),
            Variant("static (openidc httpd)", o, "/static", static, 200, group="base-oidc"),
            Variant("openidc RS256 repeated", o, "/oidc", rep["RS256"], 200, group="oidc"),
            Variant("openidc RS256 unique", o, "/oidc", uniq["RS256"], 200, True, group="oidc"),
            Variant("openidc badsig (check)", o, "/oidc", badsig, 401, group="oidc-check"),
        ]
        if ONLY:
            variants = [v for v in variants if v.name in ONLY or v.group.startswith("base")]
        # mod_auth_openidc must accept a valid token and refuse a bad one before we measure
        for v in variants:
            precheck(v)
        variants = [v for v in variants if v.group != "oidc-check"]

        if os.environ.get("BENCH_SERVE") == "1":
            serve(variants, idp)
            return

        results = []  # (round, variant, result, baseline result)
        for rnd in range(1, ROUNDS + 1):
            log("round %d (%d s runs)" % (rnd, secs))
            if rnd > 1:  # fresh children: no verified-token memo left from the last round
                a.restart()
                o.restart()
            base = {}
            for v in variants:
                if v.group.startswith("base"):
                    base[v.server.name] = [measure(tmp, v, secs)]
            for v in variants:
                if v.group.startswith("base"):
                    continue
                results.append((rnd, v, measure(tmp, v, secs)))
            for v in variants:  # the baseline again at the end of the round
                if v.group.startswith("base"):
                    base[v.server.name].append(measure(tmp, v, secs))
            for v in variants:
                if v.group.startswith("base"):
                    results.append((rnd, v, mean_result(base[v.server.name])))
            for i, (r_, v, res) in enumerate(results):
                if r_ == rnd:
                    res["base"] = results_base(results, rnd, v.server.name)

        futex = {}
        if FUTEX_SECONDS > 0:
            log("futex pass (perf stat tracepoints, then strace -f -c -e trace=futex; %d s each)"
                % FUTEX_SECONDS)
            perf_ok = shutil.which("perf") is not None
            for v in variants:
                futex[v.name] = futex_run(tmp, v, FUTEX_SECONDS)
                futex[v.name]["variant"] = v
                futex[v.name]["perf"] = perf_run(tmp, v, FUTEX_SECONDS) if perf_ok else None

        lat = {}
        if LATENCY:
            log("latency check at -c64")
            sv = next(v for v in variants if v.name == "static")
            rv = next((v for v in variants if v.name == "RS256 repeated"), None)
            for v in (sv, rv, sv, rv):
                if v is not None:
                    precheck(v)
                    lat.setdefault(v.name, []).append(run_wrk(tmp, v.server, v.path, v.tokens,
                                                              secs, conns=64))

        plain_static = Variant("static (plain httpd)", plain, "/static", static, 200)
        plain_mem = measure(tmp, plain_static, secs)

        mem = plain_rows = None
        if MEMORY:
            log("memory run: %d requests, %d unique HS256 tokens cycled %d times" % (
                MEM_TOKENS * MEM_CYCLES, MEM_TOKENS, MEM_CYCLES))
            memtok = os.path.join(tmp, "mem-tokens.txt")
            with open(uniq["HS256"]) as src, open(memtok, "w") as dst:
                n = 0
                for line in src:
                    if line.startswith("#"):
                        continue
                    dst.write(line)
                    n += 1
                    if n == MEM_TOKENS:
                        break
            a.restart()
            mv = Variant("mem", a, "/hs", memtok, 200)
            precheck(mv)
            mem = memory_run(tmp, a, "/hs", memtok, MEM_TOKENS, MEM_CYCLES)
            plain.restart()
            plain_rows = memory_run(tmp, plain, "/static", static, MEM_TOKENS, MEM_CYCLES)

        report = render(results, futex, lat, plain_mem, mem, plain_rows, idp, build)
        print(report)
        out = os.environ.get("BENCH_OUT") or os.path.join(
            HERE, "results-%s.md" % time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()))
        with open(out, "w") as fh:
            fh.write(report)
        log("written to %s" % out)
        for s in servers:
            crashes = [l for l in s.tail(200).splitlines()
                       if re.search(r"segfault|AH00052|exit signal", l)]
            if crashes:
                log("WARNING: %s error log:\n%s" % (s.name, "\n".join(crashes)))
    finally:
        for s in servers:
            s.stop()
        if idp:
            idp.stop()
        stop_all()
        if os.environ.get("BENCH_KEEP") != "1":
            shutil.rmtree(tmp, ignore_errors=True)
            for s in servers:
                shutil.rmtree(s.root, ignore_errors=True)


def serve(variants, idp):
    """BENCH_SERVE=1: print what is running and wait (for strace/perf/gdb by hand)."""
    for s in {v.server.name: v.server for v in variants}.values():
        print("%s: http://127.0.0.1:%d parent %d children %s root %s" % (
            s.name, s.port, s.proc.pid, " ".join(map(str, s.children())), s.root), flush=True)
    for v in variants:
        print("variant %r: %s %s tokens %s" % (v.name, v.server.name, v.path, v.tokens),
              flush=True)
    print("idp %s / %s; ready (SIGTERM the driver to stop)" % (idp.base, idp.tls_base),
          flush=True)
    while True:
        time.sleep(3600)


def mean_result(rs):
    m = {}
    for k in ("rps", "p50", "p99", "cpu_us", "requests", "non2xx", "rss", "pss", "steal",
              "busy", "idle0", "idle1"):
        m[k] = sum(r[k] for r in rs) / len(rs)
    m["wrapped"] = False
    m["wrong"] = sum(r["wrong"] for r in rs)
    m["runs"] = rs
    return m


def results_base(results, rnd, server):
    for r_, v, res in results:
        if r_ == rnd and v.group.startswith("base") and v.server.name == server:
            return res
    return None


def render(results, futex, lat, plain_mem, mem, plain_rows, idp, build):
    L = []
    git = subprocess.run(["git", "-C", build, "log", "-1", "--format=%h %s"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout.decode().strip()
    L.append("# Whole-server benchmark, %s" % time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    L.append("")
    L.append("Build: `%s` (%s). httpd: Debian apache2, mpm_event, pinned to core 0; "
             "wrk -t1 -c16 -d%ds on core 1; %d round(s); %s; OpenSSL %s." % (
                 build, git or "no git", SECONDS, ROUNDS,
                 subprocess.run([APACHE2, "-v"], stdout=subprocess.PIPE).stdout.decode()
                 .splitlines()[0].split(": ", 1)[-1],
                 subprocess.run(["openssl", "version"], stdout=subprocess.PIPE).stdout.decode()
                 .split()[1]))
    L.append("")
    L.append("| round | server | variant | status | req/s | ratio to static | p50 ms | p99 ms "
             "| CPU µs/req | added µs/req | httpd CPU % of core 0 | core 0 idle % | steal % "
             "| core 1 idle % | child RSS MB | child PSS MB |")
    L.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for rnd, v, r in results:
        b = r.get("base")
        ratio = r["rps"] / b["rps"] if b and not v.group.startswith("base") else None
        added = r["cpu_us"] - b["cpu_us"] if b and not v.group.startswith("base") else None
        note = ""
        if r.get("wrapped"):
            note += " (tokens repeated)"
        if r.get("wrong"):
            note += " (%d wrong statuses)" % r["wrong"]
        L.append("| %d | %s | %s%s | %d | %.0f | %s | %.2f | %.2f | %.1f | %s | %.0f | %.0f "
                 "| %.0f | %.0f | %.1f | %.1f |" % (
                     rnd, v.server.name, v.name, note, v.expect, r["rps"],
                     "%.2f" % ratio if ratio is not None else "1 (mean of 2 runs)", r["p50"],
                     r["p99"], r["cpu_us"], "%+.1f" % added if added is not None else "—",
                     r["busy"], r["idle0"], r["steal"], r["idle1"], r["rss"] / 1024,
                     r["pss"] / 1024))
    L.append("")
    L.append("Plain httpd (no module loaded) after %d static requests: child RSS %.1f MB, "
             "PSS %.1f MB (%.0f req/s, %.1f CPU µs/req)." % (
                 plain_mem["requests"], plain_mem["rss"] / 1024, plain_mem["pss"] / 1024,
                 plain_mem["rps"], plain_mem["cpu_us"]))
    if futex:
        L.append("")
        L.append("### futex syscalls per request (separate %d s runs on every child: "
                 "`strace -f -c -e trace=futex -p`, and `perf stat -e syscalls:sys_enter_futex,"
                 "syscalls:sys_enter_epoll_ctl -p`)" % FUTEX_SECONDS)
        L.append("")
        L.append("| server | variant | status | strace: requests | strace: futex/req "
                 "| strace: futex errors | perf: requests | perf: futex/req "
                 "| perf: epoll_ctl/req |")
        L.append("|---|---|---|---|---|---|---|---|---|")
        for name, r in futex.items():
            v = r["variant"]
            pr = r.get("perf")
            L.append("| %s | %s | %d | %d | %.3f | %.0f %% | %s |" % (
                v.server.name, name, v.expect, r["requests"], r["futex"],
                100 * r["futex_errors"],
                "%d | %.3f | %.3f" % (pr["requests"], pr["futex"], pr["epoll_ctl"]) if pr
                else "— | — | —"))
    if lat:
        L.append("")
        L.append("### Latency at -c64 (two runs each, interleaved)")
        L.append("")
        L.append("| variant | req/s | p50 ms | p99 ms |")
        L.append("|---|---|---|---|")
        for name, rs in lat.items():
            for r in rs:
                L.append("| %s | %.0f | %.2f | %.2f |" % (name, r["rps"], r["p50"], r["p99"]))
        if "RS256 repeated" in lat:
            s99 = sum(r["p99"] for r in lat["static"]) / len(lat["static"])
            r99 = sum(r["p99"] for r in lat["RS256 repeated"]) / len(lat["RS256 repeated"])
            L.append("")
            L.append("p99 ratio RS256 repeated / static: **%.2f** (target ≤ 1.2)" % (r99 / s99))
    if mem:
        L.append("")
        L.append("### Memory: %d unique HS256 tokens cycled %d times (this module, /hs)"
                 % (MEM_TOKENS, MEM_CYCLES))
        L.append("")
        L.append("| requests | req/s of the block | child RSS MB | child PSS MB | "
                 "plain httpd RSS MB | plain httpd PSS MB |")
        L.append("|---|---|---|---|---|---|")
        for i, (n, rps, rss, pss, non2xx) in enumerate(mem):
            p = plain_rows[i] if plain_rows and i < len(plain_rows) else None
            L.append("| %d%s | %.0f | %.1f | %.1f | %s | %s |" % (
                n, " (%d non-2xx)" % non2xx if non2xx else "", rps, rss / 1024, pss / 1024,
                "%.1f" % (p[2] / 1024) if p else "—", "%.1f" % (p[3] / 1024) if p else "—"))
    L.append("")
    L.append("Discovery server hits: %s" % ", ".join("%s ×%d" % kv for kv in
                                                     sorted(idp.hits.items())))
    L.append("")
    return "\n".join(L)


def stop_all():
    for p in reversed(list(STARTED)):
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
    STARTED.clear()


def on_signal(signum, frame):
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    main()
