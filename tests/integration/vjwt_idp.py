"""Helper processes for the key-fetching tests: the real OpenID Provider (node
oidc-provider, tests/idp/idp.mjs), redis-server and memcached.

Every process is a child of the test process, bound to 127.0.0.1 on a free port, stopped
by the PID we started (SIGTERM, then wait).  Each gets PR_SET_PDEATHSIG(SIGTERM), so it
also stops by itself when the test process dies without cleaning up.
"""

import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

import requests

from vjwt_env import free_port

HERE = os.path.dirname(os.path.abspath(__file__))
IDP_DIR = os.path.abspath(os.environ.get("VJWT_IDP_DIR", os.path.join(HERE, "..", "idp")))
NODE = os.environ.get("VJWT_NODE") or shutil.which("node") or "/usr/bin/node"
REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"
MEMCACHED = shutil.which("memcached") or "/usr/bin/memcached"

DEFAULT_RESOURCE = "https://api.mod-validate-jwt.test/"
CLIENT_SECRET = "test-secret"
ALG_CLIENTS = {"RS256": "client-rs256", "PS256": "client-ps256", "ES256": "client-es256",
               "EdDSA": "client-eddsa"}

_PR_SET_PDEATHSIG = 1


def _die_with_parent():
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass
    os.setsid()


def spawn(cmd, log_path, env=None, cwd=None):
    """Popen with stdout+stderr to log_path; dies with this process."""
    fh = open(log_path, "ab")
    try:
        return subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=env, cwd=cwd, preexec_fn=_die_with_parent)
    finally:
        fh.close()


def stop(proc, timeout=10):
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def wait_port(port, proc, timeout=15, what="server"):
    deadline = time.time() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError("%s exited with %s" % (what, proc.returncode))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if time.time() > deadline:
                raise RuntimeError("%s did not listen on %d" % (what, port))
            time.sleep(0.03)


def idp_available():
    """(ok, why): node and tests/idp/node_modules/oidc-provider are there."""
    if not os.path.exists(NODE):
        return False, "node not found (scripts/deps.sh installs it)"
    if not os.path.isdir(os.path.join(IDP_DIR, "node_modules", "oidc-provider")):
        return False, "tests/idp/node_modules missing: run scripts/idp-setup.sh"
    return True, ""


class OidcProvider:
    """node tests/idp/idp.mjs on a free loopback port, keys from a JWKS file we write."""

    def __init__(self, workdir=None, prefix="k1", port=None, env=None):
        self.dir = workdir or tempfile.mkdtemp(prefix="vjwt-idp-")
        self.port = port or free_port()
        self.issuer = "http://127.0.0.1:%d" % self.port
        self.discovery = self.issuer + "/.well-known/openid-configuration"
        self.jwks_file = os.path.join(self.dir, "keys.json")
        self.log_path = os.path.join(self.dir, "idp-%d.log" % self.port)
        self.extra_env = env or {}
        self.proc = None
        self.http = requests.Session()
        self.write_keys(self.genkeys(prefix))

    # --- keys -------------------------------------------------------------------
    def genkeys(self, prefix):
        """A private JWKS (dict) with PREFIX-rs256, -ps256, -es256, -eddsa (idp.mjs genkeys)."""
        out = subprocess.run([NODE, os.path.join(IDP_DIR, "idp.mjs"), "genkeys", prefix],
                             cwd=IDP_DIR, stdout=subprocess.PIPE, check=True, timeout=60)
        return json.loads(out.stdout)

    def write_keys(self, jwks):
        tmp = self.jwks_file + ".tmp"
        with open(tmp, "w") as fh:
            json.dump(jwks, fh)
        os.replace(tmp, self.jwks_file)

    def read_keys(self):
        with open(self.jwks_file) as fh:
            return json.load(fh)

    # --- process ----------------------------------------------------------------
    def _log(self):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as fh:
                return fh.read()
        except FileNotFoundError:
            return ""

    def _wait_log(self, word, start, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            text = self._log()[start:]
            if word in text:
                return
            if "IDP_RELOAD_FAILED" in text:
                raise RuntimeError("IdP reload failed:\n" + text)
            if self.proc.poll() is not None:
                raise RuntimeError("IdP exited (%s):\n%s" % (self.proc.returncode, self._log()))
            time.sleep(0.02)
        raise RuntimeError("IdP: no %s within %ss:\n%s" % (word, timeout, self._log()))

    def start(self):
        env = dict(os.environ, IDP_PORT=str(self.port), IDP_JWKS_FILE=self.jwks_file,
                   IDP_DEFAULT_RESOURCE=DEFAULT_RESOURCE, IDP_CLIENT_SECRET=CLIENT_SECRET)
        env.update(self.extra_env)
        start = len(self._log())
        self.proc = spawn([NODE, "idp.mjs"], self.log_path, env=env, cwd=IDP_DIR)
        self._wait_log("IDP_READY", start)
        return self

    def stop(self):
        stop(self.proc)
        self.proc = None

    def rotate(self, jwks):
        """Write a new key set and SIGHUP the IdP; returns when it says IDP_RELOADED."""
        self.write_keys(jwks)
        start = len(self._log())
        self.proc.send_signal(signal.SIGHUP)
        self._wait_log("IDP_RELOADED", start)

    # --- tokens -----------------------------------------------------------------
    def token(self, alg="RS256", scope="read", resource=None):
        """An access token (RFC 9068 JWT) for the client signing with alg."""
        data = {"grant_type": "client_credentials"}
        if scope:
            data["scope"] = scope
        if resource:
            data["resource"] = resource
        r = self.http.post(self.issuer + "/token", data=data,
                           auth=(ALG_CLIENTS[alg], CLIENT_SECRET), timeout=10)
        assert r.status_code == 200, "IdP /token: %d %s" % (r.status_code, r.text)
        return r.json()["access_token"]

    def published_kids(self):
        r = self.http.get(self.issuer + "/jwks", timeout=10)
        return [k["kid"] for k in r.json()["keys"]]


class RedisServer:
    """redis-server on a free loopback port, no persistence."""

    def __init__(self, workdir):
        self.dir = workdir
        self.port = free_port()
        self.proc = None
        self.log_path = os.path.join(workdir, "redis-%d.log" % self.port)

    def start(self):
        self.proc = spawn([REDIS, "--port", str(self.port), "--bind", "127.0.0.1",
                           "--save", "", "--appendonly", "no", "--dir", self.dir,
                           "--protected-mode", "yes", "--daemonize", "no"],
                          self.log_path, cwd=self.dir)
        wait_port(self.port, self.proc, what="redis-server")
        return self

    def stop(self):
        stop(self.proc)
        self.proc = None

    def command(self, *args):
        """A tiny RESP client: send one command, return the raw reply bytes."""
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            s.sendall(out)
            time.sleep(0.05)
            return s.recv(1 << 20)

    def dbsize(self):
        reply = self.command("DBSIZE")
        return int(reply.strip()[1:])


class Memcached:
    """memcached on a free loopback port, TCP only."""

    def __init__(self, workdir):
        self.dir = workdir
        self.port = free_port()
        self.proc = None
        self.log_path = os.path.join(workdir, "memcached-%d.log" % self.port)

    def start(self):
        cmd = [MEMCACHED, "-l", "127.0.0.1", "-p", str(self.port), "-U", "0", "-m", "16"]
        if os.geteuid() == 0:
            cmd += ["-u", "nobody"]
        self.proc = spawn(cmd, self.log_path, cwd=self.dir)
        wait_port(self.port, self.proc, what="memcached")
        return self

    def stop(self):
        stop(self.proc)
        self.proc = None

    def stats_items(self):
        """curr_items of 'stats'."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            s.sendall(b"stats\r\n")
            buf = b""
            while not buf.endswith(b"END\r\n"):
                d = s.recv(65536)
                if not d:
                    break
                buf += d
        for line in buf.decode().splitlines():
            if line.startswith("STAT curr_items "):
                return int(line.split()[2])
        return None


def run_threads(n, fn, items):
    """Run fn(item) over items with n threads; returns the results in order."""
    results = [None] * len(items)
    idx = [0]
    lock = threading.Lock()

    def worker():
        while True:
            with lock:
                i = idx[0]
                idx[0] += 1
            if i >= len(items):
                return
            try:
                results[i] = fn(items[i])
            except Exception as e:  # noqa: BLE001 - reported by the caller
                results[i] = e

    ts = [threading.Thread(target=worker, daemon=True) for _ in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return results
