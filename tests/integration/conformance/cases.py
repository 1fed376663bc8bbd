"""The conformance table for mod_validate_jwt's Azure <validate-jwt> support.

Every entry is tagged with the ids (C1-C140) of the conformance table in
docs/conformance.md that it covers.

Neutral form
------------
policy  a dict (P() fills the table's default policy: header-name="Authorization"
        and one HS256 secret):
          source          ("header", NAME) | ("query", NAME) | ("token_value", TOKEN-SPEC)
                          | None (no source) | [source, source, ...] (several: C2)
          scheme, status, message, require_exp, require_signed, skew, output_var, id
                          None = attribute absent; booleans True/False (or a raw string,
                          e.g. "TRUE", sent as written); status/skew int or raw string
          keys            None (no <issuer-signing-keys>) or a list of key dicts:
                            {"kind": "secret", "ref": "hs64"}      Keys.hs64, base64
                            {"kind": "rsa",    "ref": "rsa1"}      n/e of Keys.rsa1
                            {"kind": "cert",   "ref": "rsa1-cert"} certificate-id
                            {"kind": "named",  "ref": "NAME"}      {{NAME}} (XML only)
                            {"kind": "raw", "attrs": {...}, "text": "...",
                             "directive": "..." | None}            anything else
                          each may carry "id"
          audiences, issuers   None or a list of strings
          claims          None or [{"name", "match", "separator", "values"}]
          openid          [{"idp": NAME} (the test's fake IdP) | {"url": URL}]
          decryption_keys None (no <decryption-keys>) or a list of key dicts as for keys
                          ("secret" or "cert"): <decryption-keys> / ValidateJWTDecryptionKey
          extra_directives  module directives placed after the policy in both modes
                          (e.g. ValidateJWTMinRSAKeyBits, ValidateJWTWWWAuthenticate)
          named_values    {NAME: VALUE}: ValidateJWTNamedValue lines (server level);
                          VALUE {"secret": REF} is the base64 of a Keys secret
          xml             XML-only knobs: order (child element order), attrs (raw extra
                          attributes), children (raw lines inside the root), root (root
                          element name), prolog (text before the root), wrap ("policies":
                          an APIM <policies> document), siblings (other policies in the
                          same <inbound>), select (ValidateJWTPolicy FILE id=ID),
                          outside_inbound (put the element in <outbound>), bom (text
                          before everything, e.g. a byte-order mark), newline ("\r\n")
request tok(...) describes how to mint the token (jwcrypto through vjwt_tokens): alg,
        key (a Keys attribute; secrets become HMAC keys; "pem:rsa1"/"der:rsa1" are the
        RSA public key bytes as an HMAC secret), kid, typ, header, claims (Rel(n) = now+n),
        mutate(tok, keys) for malformed tokens; or raw(keys) for a hand-made token.
        jwe=J(...) encrypts the token (minted or raw) with jwcrypto: alg, enc, key (a Keys
        attribute: a secret, or an RSA key whose public half is used), kid, cty, header,
        mutate(jwe, keys) for altered JWEs.
        req(...) says how to send it: "bearer" (default), "none", ("auth", TEMPLATE),
        ("header", NAME, TEMPLATE), ("query", RAW-QUERY-TEMPLATE); {t} is the token.
expect  ok(env=...) or fail(reason, status, message, www, detail_re, policy_id).
config  ConfigCase: configtest must fail; per mode the problem regex and where the
        error must point (the policy file line holding `line_of`, or the httpd config
        line holding `directive`).
"""

import json

from vjwt_tokens import (b64u, b64u_dec, claims as _claims, der_ecdsa, flip_sig_bit,
                         hmac_jwk, mint, pss_engine, replace_payload, replace_sig, sign_raw,
                         unsigned)

BOTH = ("xml", "directives")
XML = ("xml",)

SECTIONS = [
    ("A", "Configuration", 1, 17),
    ("B", "Token extraction", 18, 30),
    ("C", "Structure and header", 31, 38),
    ("D", "Signatures and keys", 39, 65),
    ("E", "openid-config", 66, 81),
    ("F", "Lifetime", 82, 92),
    ("G", "Audience and issuer", 93, 104),
    ("H", "Required claims", 105, 120),
    ("I", "Responses and side effects", 121, 135),
    ("J", "Encrypted tokens", 136, 140),
]
ALL_IDS = ["C%d" % i for i in range(1, 141)]


def section_of(cid):
    n = int(cid[1:])
    for letter, _title, lo, hi in SECTIONS:
        if lo <= n <= hi:
            return letter
    raise ValueError(cid)


# ------------------------------------------------------------------------------------
# building blocks
# ------------------------------------------------------------------------------------
class Rel(float):
    """A NumericDate relative to the time the token is minted."""


def secret(ref="hs64", id=None):
    return {"kind": "secret", "ref": ref, "id": id}


def rsa(ref="rsa1", id=None):
    return {"kind": "rsa", "ref": ref, "id": id}


def cert(ref, id=None):
    return {"kind": "cert", "ref": ref, "id": id}


def claim(name, *values, match=None, separator=None):
    return {"name": name, "match": match, "separator": separator, "values": list(values)}


def P(**over):
    """The default policy of docs/conformance.md: header-name="Authorization", one HS256 key."""
    p = {"source": ("header", "Authorization"), "scheme": None, "status": None,
         "message": None, "require_exp": None, "require_signed": None, "skew": None,
         "keys": [secret()], "audiences": None, "issuers": None, "claims": None,
         "openid": [], "decryption_keys": None, "output_var": None, "id": None,
         "extra_directives": [],
         "named_values": {}, "xml": {}}
    for k, v in over.items():
        if k not in p:
            raise KeyError("unknown policy field %r" % k)
        p[k] = v
    return p


def tok(alg="HS256", key="hs64", kid=None, typ="JWT", header=None, mutate=None, jwe=None,
        **claims):
    return {"alg": alg, "key": key, "kid": kid, "typ": typ, "header": header or {},
            "claims": claims, "mutate": mutate, "jwe": jwe}


def _flip_tag(t, keys):
    """The JWE with one bit of its authentication tag flipped (C138)."""
    parts = t.split(".")
    raw = bytearray(b64u_dec(parts[4]))
    raw[0] ^= 1
    parts[4] = b64u(bytes(raw))
    return ".".join(parts)


def J(alg, enc, key, kid=None, cty="JWT", header=None, mutate=None):
    """How tok() encrypts its token (a JWE, docs/conformance.md#jwe)."""
    return {"alg": alg, "enc": enc, "key": key, "kid": kid, "cty": cty, "header": header,
            "mutate": mutate}


def raw(fn):
    return {"raw": fn}


def req(token="default", send="bearer", method="GET", headers=None, path=""):
    if token == "default":
        token = tok()
    return {"token": token, "send": send, "method": method, "headers": headers or [],
            "path": path}


def ok(env=None, env_absent=()):
    return {"pass": True, "env": env or {}, "env_absent": list(env_absent)}


def fail(reason, status=401, message=None, www=True, detail_re=None, policy_id=None,
         raw_body=None):
    return {"pass": False, "reason": reason, "status": status, "message": message,
            "www": www, "detail_re": detail_re, "policy_id": policy_id, "raw_body": raw_body}


class Case:
    """A runtime case: one policy (one <Location>), one or more (request, expected) steps."""

    def __init__(self, name, ids, policy, *steps, modes=BOTH, why=None, inner=None,
                 startup=(), startup_expect=None, log=(), bug=None, note=None):
        self.name = name
        self.ids = tuple(ids)
        self.policy = policy
        self.steps = list(steps)
        self.modes = tuple(modes)
        self.why = why              # why the case is XML-only
        # (subpath, policy): a nested <Location> (C134); a policy given as a list of
        # strings is raw directives, used as-is in every mode
        self.inner = inner
        self.startup = tuple(startup)  # startup log lines (regex) the policy may cause
        # {mode: regex}: a startup warning this policy must cause (None: no check)
        self.startup_expect = startup_expect or {}
        self.log = tuple(log)       # log lines (regex) at warn+ the requests may cause
        self.bug = bug              # {mode: text}: known module bug (xfail, reported)
        self.note = note
        assert self.steps, name
        if self.modes != BOTH:
            assert why, "%s: XML-only cases need a reason" % name

    def __repr__(self):
        return "<Case %s %s>" % (self.name, ",".join(self.ids))


class ConfigCase:
    """`apache2 -t` must fail (or pass with ok=True), naming the place and the problem."""

    def __init__(self, name, ids, policy, xml_re=None, line_of="<validate-jwt",
                 dir_re=None, directive=None, modes=BOTH, why=None, ok=False,
                 server="", bug=None):
        self.name = name
        self.ids = tuple(ids)
        self.policy = policy
        self.xml_re = xml_re
        self.line_of = line_of
        self.dir_re = dir_re
        self.directive = directive
        self.modes = tuple(modes)
        self.why = why
        self.ok = ok
        self.server = server
        self.bug = bug or {}
        if self.modes != BOTH:
            assert why, "%s: XML-only cases need a reason" % name
        if "directives" in self.modes and not ok:
            assert dir_re and directive, name
        if "xml" in self.modes and not ok:
            assert xml_re, name

    def __repr__(self):
        return "<ConfigCase %s %s>" % (self.name, ",".join(self.ids))


# ------------------------------------------------------------------------------------
# hand-made tokens (malformed on purpose; jwcrypto still signs them)
# ------------------------------------------------------------------------------------
def _h(keys):
    return hmac_jwk(keys.hs64)


def _segments(n):
    def make(keys):
        h, p, s = mint(_h(keys), "HS256").split(".")
        return {2: "%s.%s" % (h, p), 4: "%s.%s.%s.%s" % (h, p, s, s),
                6: ".".join([h, p, s, h, p, s])}[n]
    return make


def _pad(where):
    def make(keys):
        parts = mint(_h(keys), "HS256").split(".")
        parts[where] += "=" * (4 - len(parts[where]) % 4 if len(parts[where]) % 4 else 1)
        return ".".join(parts)
    return make


def _char(where, ch):
    def make(keys):
        parts = mint(_h(keys), "HS256").split(".")
        parts[where] = parts[where][:4] + ch + parts[where][5:]
        return ".".join(parts)
    return make


def _ws(keys):
    h, p, s = mint(_h(keys), "HS256").split(".")
    return "%s.%s %s.%s" % (h, p[:10], p[10:], s)


def _signed(header, payload=None, protected_b64=None, key="hs64", alg="HS256", engine=None):
    def make(keys):
        k = hmac_jwk(getattr(keys, key)) if isinstance(getattr(keys, key), bytes) \
            else getattr(keys, key)
        pl = _claims() if payload is None else (payload() if callable(payload) else payload)
        return sign_raw(k, alg, header, pl, protected_b64=protected_b64, engine=engine)
    return make


def _dup_payload():
    return json.dumps(_claims())[:-1] + ', "sub": "admin"}'


def _long_token(keys):
    return mint(_h(keys), "HS256", pad="y" * 15000)


def _unsigned(signature=""):
    return lambda keys: unsigned(_claims(), signature=signature)


def _flip(t, keys):
    return flip_sig_bit(t, 5, 2)


def _payload_changed(t, keys):
    return replace_payload(t, sub="admin")


def _append_invalid(t, keys):
    return t + "INVALID"


def _ecdsa_zero(which):
    def mutate(t, keys):
        r = b64u_dec(t.split(".")[2])
        r = {"r0": bytes(32) + r[32:], "s0": r[:32] + bytes(32), "zero": bytes(64)}[which]
        return replace_sig(t, r)
    return mutate


def _der(t, keys):
    return der_ecdsa(t)


def _jwk_header(keys):
    attacker = json.loads(keys.rsa_attacker.export_public())
    return mint(keys.rsa_attacker, "RS256", header={"jwk": attacker})


def _alias(claimed, engine_alg, key):
    return _signed({"alg": claimed, "typ": "JWT"}, key=key, alg=engine_alg)


# ------------------------------------------------------------------------------------
# the fake IdP (vjwt_fakeidp) documents that E cases point at: name -> discovery issuer
# and JWKS entries (Keys attribute, extra JWK members); "jwk" entries are literal JWKs.
# ------------------------------------------------------------------------------------
TENANT_ISS = "https://login.fake.test/{tenantid}/v2.0"
IDPS = {
    "a": {"issuer": "https://idp-a.example/", "jwks": [("rsa1", {"kid": "a1"})]},
    "b": {"issuer": "https://idp-b.example/", "jwks": [("ec256", {"kid": "b1"})]},
    "content": {"issuer": "https://idp-c.example/", "jwks": [
        ("rsa1", {"kid": "enc-key", "use": "enc"}),          # C77
        ("rsa2", {"kid": "rs256-only", "alg": "RS256"}),     # C78
        ({"kty": "XYZ", "kid": "weird", "foo": "bar"}, {}),  # C79
        ("ec256b", {"kid": "c-ok"}),
    ]},
    "tenant": {"issuer": TENANT_ISS, "jwks": [("ec256", {"kid": "t1"})]},
}
ISS_A = IDPS["a"]["issuer"]
ISS_B = IDPS["b"]["issuer"]
ISS_C = IDPS["content"]["issuer"]

# certificate-id -> file under ServerRoot (ValidateJWTCertificate, server level)
CERTIFICATES = {
    "rsa1-cert": "keys/rsa1.crt.pem",
    "ec256-cert": "keys/ec256.crt.pem",
    "ec384-pub": "keys/ec384.pub.pem",
    "rsa2-pub": "keys/rsa2.pub.pem",
    "rsa-enc": "keys/rsa-enc.pem",
}

WARN_SCHEME = r"VJWT000\d\d.*(require-scheme|RequireScheme).*(no effect|ignored)"
WARN_NOKEYS = r"VJWT000\d\d.*(no <issuer-signing-keys>|no key|without keys|every signed token)"
WARN_WEAK = r"VJWT000\d\d.*(\d+ bits|HMAC secret has \d+ bytes)"
WARN_SKEW = r"VJWT000\d\d.*(600 seconds|clock skew|ClockSkew)"
JWK_SKIP = r"VJWT00202"

S = "https://api.example.com"  # an audience with a trailing-slash twin

# ------------------------------------------------------------------------------------
# runtime cases (test_300_conformance.py: every case in both modes unless XML-only)
# ------------------------------------------------------------------------------------
_AIC = dict(audiences=["api://default"], issuers=["https://issuer.example/"],
            claims=[claim("role", "admin", match="any")])
_ROLE = dict(role="admin")

CASES = [
    # --- A. configuration (runtime side) -------------------------------------------
    Case("c005-bool-any-case", ["C5"],
         P(require_exp="FALSE", require_signed="False"),
         (req(tok(exp=None)), ok()),
         (req(raw(_unsigned())), ok())),
    Case("c006-skew-default-zero", ["C6", "C85"], P(),
         (req(tok(exp=Rel(-10), nbf=Rel(-100))), fail("TokenExpired"))),
    Case("c007-status-default-401", ["C7"], P(),
         (req(None, "none"), fail("TokenNotPresent", 401))),
    Case("c004-at-sign-inside-is-literal", ["C4"],
         P(claims=[claim("email", "user@example.com")], audiences=["api://x@y"]),
         (req(tok(email="user@example.com", aud="api://x@y")), ok()),
         (req(tok(email="other@example.com", aud="api://x@y")),
          fail("TokenClaimValueNotAllowed"))),
    Case("c012-match-all-default", ["C12", "C111"],
         P(claims=[claim("grp", "a", "b")]),
         (req(tok(grp="a")), fail("TokenClaimValueNotAllowed")),
         (req(tok(grp=["b", "a"])), ok())),
    Case("c014-any-child-order", ["C14"],
         P(audiences=["api://default"], issuers=["https://issuer.example/"],
           claims=[claim("role", "admin")],
           xml={"order": ["required-claims", "issuers", "audiences", "issuer-signing-keys"]}),
         (req(tok(**_ROLE)), ok()),
         (req(tok(role="user")), fail("TokenClaimValueNotAllowed")),
         (req(tok(aud="api://other", **_ROLE)), fail("TokenAudienceNotAllowed")),
         (req(tok(iss="https://other.example/", **_ROLE)), fail("TokenIssuerNotAllowed"))),
    Case("c015-named-values", ["C15"],
         P(keys=[{"kind": "named", "ref": "conf-signing-key"}],
           audiences=["{{conf-audience}}"],
           message="{{conf-message}}",
           named_values={"conf-signing-key": {"secret": "hs64"},
                         "conf-audience": "api://named", "conf-message": 'No <entry> & "no" way'}),
         (req(tok(aud="api://named")), ok()),
         (req(tok(aud="api://default")),
          fail("TokenAudienceNotAllowed", message='No <entry> & "no" way')),
         modes=XML, why="{{name}} named values are a policy-file feature; directives take "
                        "the literal value"),
    # --- B. token extraction ----------------------------------------------------------
    Case("c018-no-token", ["C18", "C122", "C130"], P(),
         (req(None, "none"), fail("TokenNotPresent", message="JWT not present.")),
         (req(None, ("auth", "")), fail("TokenNotPresent"))),
    Case("c019-header-name-case", ["C19"], P(source=("header", "authorization")),
         (req(), ok()),
         (req(send=("header", "AUTHORIZATION", "Bearer {t}")), ok())),
    Case("c020-bearer-without-scheme", ["C20", "C39"], P(), (req(), ok())),
    Case("c021-scheme-case-insensitive", ["C21"], P(scheme="Bearer"),
         (req(send=("auth", "bearer {t}")), ok()),
         (req(send=("auth", "BEARER {t}")), ok()),
         (req(send=("auth", "Bearer {t}")), ok())),
    Case("c022-wrong-scheme", ["C22"], P(scheme="Bearer"),
         (req(None, ("auth", "Basic dXNlcjpwYXNz")),
          fail("TokenNotPresent", message="JWT not present.")),
         (req(send=("auth", "JWT {t}")), fail("TokenNotPresent")),
         (req(send=("auth", "{t}")), fail("TokenNotPresent"))),
    Case("c022-scheme-lowercase-header-name", ["C22", "C19"],
         P(source=("header", "authorization"), scheme="Bearer"),
         (req(None, ("auth", "Basic dXNlcjpwYXNz")), fail("TokenNotPresent")),
         (req(send=("auth", "bearer {t}")), ok())),
    Case("c023-custom-header-ignores-scheme", ["C23"],
         P(source=("header", "X-Token"), scheme="Bearer"),
         (req(send=("header", "X-Token", "{t}")), ok()),
         startup=[WARN_SCHEME],
         startup_expect={"xml": WARN_SCHEME, "directives": WARN_SCHEME}),
    Case("c023-scheme-with-query", ["C23"], P(source=("query", "tok"), scheme="Bearer"),
         (req(send=("query", "tok={t}")), ok()),
         startup=[WARN_SCHEME],
         startup_expect={"xml": WARN_SCHEME, "directives": WARN_SCHEME}),
    Case("c024-custom-header-bearer-prefix", ["C24"], P(source=("header", "X-Token")),
         (req(send=("header", "X-Token", "Bearer {t}")), fail("JwtInvalid"))),
    Case("c025-empty-bearer-scheme", ["C25"], P(scheme="Bearer"),
         (req(None, ("auth", "Bearer ")), fail("TokenNotPresent")),
         (req(None, ("auth", "Bearer    ")), fail("TokenNotPresent"))),
    Case("c025-empty-bearer", ["C25"], P(),
         (req(None, ("auth", "Bearer ")), fail("TokenNotPresent"))),
    Case("c026-whitespace", ["C26"], P(),
         (req(send=("auth", "Bearer    {t}")), ok()),
         (req(send=("auth", "  Bearer {t}  ")), ok()),
         (req(send=("auth", "\tBearer  {t}\t")), ok())),
    Case("c026-whitespace-scheme", ["C26"], P(scheme="Bearer"),
         (req(send=("auth", "Bearer    {t}")), ok()),
         (req(send=("auth", "  bearer {t}  ")), ok())),
    Case("c027-query", ["C27"], P(source=("query", "access_token")),
         (req(send=("query", "access_token={t}")), ok()),
         (req(send=("query", "a=1&access_token={t}&b=2")), ok()),
         (req(None, "none"), fail("TokenNotPresent")),
         (req(send="bearer"), fail("TokenNotPresent")),
         (req(None, ("query", "access_token=")), fail("TokenNotPresent"))),
    Case("c028-query-first", ["C28"], P(source=("query", "access_token")),
         (req(send=("query", "access_token={t}&access_token=bogus")), ok()),
         (req(send=("query", "access_token=bogus&access_token={t}")), fail("JwtInvalid"))),
    Case("c029-bare-token", ["C29"], P(), (req(send=("auth", "{t}")), ok())),
    Case("c030-length-cap", ["C30"], P(), (req(raw(_long_token)), fail("JwtInvalid"))),
    Case("c030-length-cap-directive", ["C30"],
         P(extra_directives=["ValidateJWTMaxTokenLength 1000"]),
         (req(tok(pad="x" * 500)), ok()),
         (req(tok(pad="x" * 1000)), fail("JwtInvalid"))),
    Case("x-token-value-literal", [], P(source=("token_value", tok())),
         (req(None, "none"), ok())),
    # --- C. structure and header ---------------------------------------------------------
    Case("c031-segments", ["C31"], P(),
         (req(raw(_segments(2))), fail("JwtInvalid")),
         (req(raw(_segments(4))), fail("JwtInvalid")),
         (req(raw(_segments(6))), fail("JwtInvalid"))),
    Case("c032-encoding", ["C32"], P(),
         (req(raw(_pad(0))), fail("JwtInvalid")),
         (req(raw(_pad(2))), fail("JwtInvalid")),
         (req(raw(_char(1, "+"))), fail("JwtInvalid")),
         (req(raw(_char(2, "/"))), fail("JwtInvalid")),
         (req(raw(_ws)), fail("JwtInvalid"))),
    Case("c033-not-json-object", ["C33"], P(),
         (req(raw(_signed(None, protected_b64=b64u(b"not json")))), fail("JwtInvalid")),
         (req(raw(_signed('{"alg":"HS256"}', lambda: json.dumps([_claims()])))),
          fail("JwtInvalid")),
         (req(raw(_signed('{"alg":"HS256"}', b'{"sub":"\xff\xfe"}'))), fail("JwtInvalid"))),
    Case("c034-no-alg", ["C34"], P(),
         (req(raw(_signed('{"typ":"JWT"}'))), fail("JwtInvalid"))),
    Case("c035-duplicate-members", ["C35"], P(),
         (req(raw(_signed('{"alg":"HS256","typ":"JWT","typ":"JWT"}'))), fail("JwtInvalid")),
         (req(raw(_signed('{"alg":"HS256"}', _dup_payload))), fail("JwtInvalid"))),
    Case("c036-crit", ["C36"], P(),
         *[(req(raw(_signed('{"alg":"HS256","foo":1,"crit":%s}' % c))), fail("JwtInvalid"))
           for c in ('["exp"]', "[]", '"x"', '["foo"]')]),
    Case("c037-unknown-header-param", ["C37"], P(),
         (req(tok(header={"foo": 1})), ok())),
    Case("c038-exp-string", ["C38"], P(),
         (req(raw(lambda keys: mint(_h(keys), "HS256", exp=str(_claims()["exp"])))),
          fail("JwtInvalid"))),
    # --- D. signatures and keys ----------------------------------------------------------
    Case("c039-hs256", ["C39"], P(), (req(), ok())),
    Case("c040-bit-flip", ["C40"], P(),
         (req(tok(mutate=_flip)), fail("TokenSignatureInvalid", message="Invalid JWT."))),
    Case("c041-payload-changed", ["C41"], P(keys=[secret(), rsa()]),
         (req(tok(mutate=_payload_changed)), fail("TokenSignatureInvalid")),
         (req(tok("RS256", "rsa1", mutate=_payload_changed)), fail("TokenSignatureInvalid"))),
    Case("c042-rollover", ["C42"], P(keys=[secret("hs64"), secret("hs64b")]),
         (req(tok(key="hs64b")), ok()),
         (req(tok(key="hs64")), ok())),
    Case("c043-kid-selects-key", ["C43"],
         P(keys=[secret("hs64", id="A"), secret("hs64b", id="B")]),
         (req(tok(key="hs64b", kid="A")), fail("TokenSignatureInvalid")),
         (req(tok(key="hs64b", kid="B")), ok())),
    Case("c044-unknown-kid-all-keys", ["C44"],
         P(keys=[secret("hs64", id="A"), secret("hs64b", id="B")]),
         (req(tok(key="hs64b", kid="zzz")), ok())),
    Case("c045-unknown-kid-no-key", ["C45"],
         P(keys=[secret("hs64", id="A"), secret("hs64b", id="B")]),
         (req(tok(key="hs64c", kid="zzz")), fail("TokenSignatureKeyNotFound"))),
    Case("c046-no-kid-no-key", ["C46"],
         P(keys=[secret("hs64", id="A"), secret("hs64b", id="B")]),
         (req(tok(key="hs64c")), fail("TokenSignatureInvalid"))),
    Case("c047-no-keys", ["C47"], P(keys=None),
         (req(), fail("TokenSignatureKeyNotFound")),
         (req(tok("RS256", "rsa1")), fail("TokenSignatureKeyNotFound")),
         startup=[WARN_NOKEYS],
         startup_expect={"xml": WARN_NOKEYS, "directives": WARN_NOKEYS}),
    Case("c048-kid-case-sensitive", ["C48"],
         P(keys=[secret("hs64", id="key1"), secret("hs64b", id="k2")]),
         (req(tok(key="hs64b", kid="Key1")), ok()),
         (req(tok(key="hs64b", kid="key1")), fail("TokenSignatureInvalid"))),
    Case("c049-none-rejected", ["C49"], P(),
         (req(raw(_unsigned())), fail("TokenSignatureInvalid"))),
    Case("c050-none-allowed", ["C50"], P(require_signed=False),
         (req(raw(_unsigned())), ok())),
    Case("c051-none-with-signature", ["C51"], P(require_signed=False),
         (req(raw(_unsigned(b64u(b"x" * 32)))), fail("JwtInvalid"))),
    Case("c052-signed-still-verified", ["C52"], P(require_signed=False),
         (req(tok(mutate=_flip)), fail("TokenSignatureInvalid")),
         (req(), ok())),
    Case("c053-rs256-hmac-only", ["C53"], P(),
         (req(tok("RS256", "rsa1")), fail("TokenSignatureKeyNotFound")),
         (req(tok("ES256", "ec256")), fail("TokenSignatureKeyNotFound"))),
    Case("c054-alg-confusion", ["C54"], P(keys=[rsa(), cert("rsa1-cert")]),
         (req(tok(key="pem:rsa1")), fail("TokenSignatureKeyNotFound")),
         (req(tok(key="der:rsa1")), fail("TokenSignatureKeyNotFound"))),
    Case("c055-rsa-ne", ["C55"], P(keys=[rsa("rsa1")]),
         (req(tok("RS256", "rsa1")), ok()),
         (req(tok("RS256", "rsa2")), fail("TokenSignatureInvalid"))),
    Case("c056-rs512-ps256", ["C56"], P(keys=[rsa("rsa1")]),
         (req(tok("RS512", "rsa1")), ok()),
         (req(tok("PS256", "rsa1")), ok()),
         (req(raw(_signed({"alg": "PS256", "typ": "JWT"}, key="rsa1", alg="PS256",
                          engine=pss_engine(20)))), fail("TokenSignatureInvalid"))),
    Case("c057-es256", ["C57"], P(keys=[cert("ec256-cert")]),
         (req(tok("ES256", "ec256")), ok())),
    Case("c058-es256-der", ["C58"], P(keys=[cert("ec256-cert")]),
         (req(tok("ES256", "ec256", mutate=_der)), fail("TokenSignatureInvalid"))),
    Case("c059-es256-zero", ["C59"], P(keys=[cert("ec256-cert")]),
         *[(req(tok("ES256", "ec256", mutate=_ecdsa_zero(w))), fail("TokenSignatureInvalid"))
           for w in ("r0", "s0", "zero")]),
    Case("c060-es256-p384-key", ["C60"], P(keys=[cert("ec384-pub")]),
         (req(tok("ES256", "ec256")), fail("TokenSignatureKeyNotFound")),
         (req(tok("ES384", "ec384")), ok())),
    Case("c061-rsa1024-default", ["C61"], P(keys=[rsa("rsa1024")]),
         (req(tok("RS256", "rsa1024")), fail("TokenSignatureKeyNotFound")),
         startup=[WARN_WEAK],
         startup_expect={"xml": WARN_WEAK, "directives": WARN_WEAK}),
    Case("c061-rsa1024-floor-lowered", ["C61"],
         P(keys=[rsa("rsa1024")], extra_directives=["ValidateJWTMinRSAKeyBits 1024"]),
         (req(tok("RS256", "rsa1024")), ok()),
         startup=[WARN_WEAK]),
    Case("c062-hmac-32", ["C62"], P(keys=[secret("hs32")]),
         (req(tok(key="hs32")), ok()),
         (req(tok("HS512", "hs32")), fail("TokenSignatureKeyNotFound"))),
    Case("c062-hmac-16", ["C62"], P(keys=[secret("hs16")]),
         (req(tok(key="hs16")), fail("TokenSignatureKeyNotFound")),
         startup=[WARN_WEAK],
         startup_expect={"xml": WARN_WEAK, "directives": WARN_WEAK}),
    Case("c063-alg-not-allowed", ["C63"], P(keys=[secret(), rsa()]),
         (req(raw(_alias("HS1", "HS256", "hs64"))), fail("TokenSignatureInvalid")),
         (req(raw(_alias("hs256", "HS256", "hs64"))), fail("TokenSignatureInvalid")),
         (req(raw(_alias("RS1", "RS256", "rsa1"))), fail("TokenSignatureInvalid"))),
    Case("c064-embedded-key", ["C64"], P(keys=[rsa()]),
         (req(raw(_jwk_header)), fail("TokenSignatureInvalid")),
         (req(tok("RS256", "rsa_attacker", header={"jku": "http://127.0.0.1:9/jwks"})),
          fail("TokenSignatureInvalid"))),
    Case("c065-header-spacing", ["C65"], P(),
         (req(raw(_signed('{ "typ" : "JWT" ,\n\t"alg" :\r\n "HS256"   }',
                          lambda: json.dumps(_claims(), indent=3)))), ok())),
    # --- E. openid-config (the fake IdP over loopback http) ------------------------------
    Case("c066-openid-keys", ["C66"], P(keys=None, openid=[{"idp": "a"}]),
         (req(tok("RS256", "rsa1", kid="a1", iss=ISS_A)), ok()),
         (req(tok("RS256", "rsa1", iss=ISS_A)), ok())),
    Case("c067-openid-issuer", ["C67"], P(keys=None, openid=[{"idp": "a"}]),
         (req(tok("RS256", "rsa1", kid="a1", iss="https://other.example/")),
          fail("TokenIssuerNotAllowed")),
         (req(tok("RS256", "rsa1", kid="a1", iss=None)), fail("TokenIssuerNotAllowed"))),
    Case("c068-openid-plus-issuers", ["C68"],
         P(keys=None, openid=[{"idp": "a"}], issuers=["https://listed.example/"]),
         (req(tok("RS256", "rsa1", kid="a1", iss=ISS_A)), ok()),
         (req(tok("RS256", "rsa1", kid="a1", iss="https://listed.example/")), ok()),
         (req(tok("RS256", "rsa1", kid="a1", iss=ISS_B)), fail("TokenIssuerNotAllowed"))),
    Case("c075-two-openid", ["C75", "C13"], P(keys=None, openid=[{"idp": "a"}, {"idp": "b"}]),
         (req(tok("RS256", "rsa1", kid="a1", iss=ISS_A)), ok()),
         (req(tok("ES256", "ec256", kid="b1", iss=ISS_B)), ok()),
         # a token with A's issuer is verified by A's keys only (README "Key choice"), not
         # by B's key from the same location: a deliberate departure from APIM's pooling
         (req(tok("ES256", "ec256", kid="b1", iss=ISS_A)), fail("TokenSignatureKeyNotFound")),
         (req(tok("ES256", "ec256b", kid="b1", iss=ISS_B)), fail("TokenSignatureInvalid"))),
    Case("c076-openid-plus-static", ["C76"], P(keys=[secret()], openid=[{"idp": "a"}]),
         (req(tok(iss=ISS_A)), ok()),
         (req(tok("RS256", "rsa1", kid="a1", iss=ISS_A)), ok()),
         (req(tok(key="hs64b", iss=ISS_A)), fail("TokenSignatureInvalid"))),
    Case("c077-use-enc", ["C77"], P(keys=None, openid=[{"idp": "content"}]),
         (req(tok("RS256", "rsa1", kid="enc-key", iss=ISS_C)), fail("TokenSignatureKeyNotFound")),
         log=[JWK_SKIP]),
    Case("c078-jwk-alg", ["C78"], P(keys=None, openid=[{"idp": "content"}]),
         (req(tok("RS256", "rsa2", kid="rs256-only", iss=ISS_C)), ok()),
         # the kid names a key that cannot do PS256: bound to it, no other key is tried
         (req(tok("PS256", "rsa2", kid="rs256-only", iss=ISS_C)),
          fail("TokenSignatureInvalid")),
         log=[JWK_SKIP]),
    Case("c079-unknown-kty", ["C79"], P(keys=None, openid=[{"idp": "content"}]),
         (req(tok("ES256", "ec256b", kid="c-ok", iss=ISS_C)), ok()),
         (req(tok("ES256", "ec256b", iss=ISS_C)), ok()),
         log=[JWK_SKIP]),
    Case("c081-tenantid", ["C81"], P(keys=None, openid=[{"idp": "tenant"}]),
         (req(tok("ES256", "ec256", kid="t1", iss=TENANT_ISS.replace("{tenantid}", "contoso"),
                  tid="contoso")), ok()),
         (req(tok("ES256", "ec256", kid="t1", iss=TENANT_ISS.replace("{tenantid}", "t-a"),
                  tid="t-b")), fail("TokenIssuerNotAllowed"))),
    # --- F. lifetime -----------------------------------------------------------------------
    Case("c082-no-exp", ["C82"], P(), (req(tok(exp=None)), fail("JwtInvalid"))),
    Case("c083-no-exp-allowed", ["C83"], P(require_exp=False), (req(tok(exp=None)), ok())),
    Case("c084-past-exp-enforced", ["C84"], P(require_exp=False),
         (req(tok(exp=Rel(-100), nbf=Rel(-1000))), fail("TokenExpired"))),
    Case("c085-expired", ["C85"], P(skew=0),
         (req(tok(exp=Rel(-10), nbf=Rel(-1000))), fail("TokenExpired"))),
    Case("c086-expired-in-skew", ["C86", "C6"], P(skew=60),
         (req(tok(exp=Rel(-10), nbf=Rel(-1000))), ok()),
         (req(tok(exp=Rel(-200), nbf=Rel(-1000))), fail("TokenExpired"))),
    Case("x-skew-over-600-warns", ["C6"], P(skew=700),
         (req(tok(exp=Rel(-650), nbf=Rel(-1000))), ok()),
         startup=[WARN_SKEW], startup_expect={"xml": WARN_SKEW, "directives": WARN_SKEW}),
    Case("c087-nbf-future", ["C87"], P(skew=0),
         (req(tok(nbf=Rel(30))), fail("JwtInvalid"))),
    Case("c088-nbf-in-skew", ["C88"], P(skew=60),
         (req(tok(nbf=Rel(30))), ok()),
         (req(tok(nbf=Rel(200))), fail("JwtInvalid"))),
    Case("c089-fractional", ["C89"], P(),
         (req(tok(exp=Rel(100.5))), ok()),
         (req(tok(exp=Rel(-100.5), nbf=Rel(-1000))), fail("TokenExpired"))),
    Case("c090-future-iat", ["C90"], P(), (req(tok(iat=Rel(5000))), ok())),
    Case("c091-nbf-after-exp", ["C91"], P(),
         (req(tok(nbf=Rel(-50), exp=Rel(-100))), fail("JwtInvalid")),
         (req(tok(nbf=Rel(300), exp=Rel(200))), fail("JwtInvalid"))),
    Case("c092-expired-bad-signature", ["C92"], P(),
         (req(tok(exp=Rel(-100), nbf=Rel(-1000), mutate=_flip)), fail("TokenSignatureInvalid"))),
    # --- G. audience and issuer ----------------------------------------------------------
    Case("c093-aud-string", ["C93"], P(audiences=["api://a"]),
         (req(tok(aud="api://a")), ok())),
    Case("c094-aud-array", ["C94"], P(audiences=["api://a", "api://b"]),
         (req(tok(aud=["x", "api://b"])), ok())),
    Case("c095-aud-array-no-match", ["C95"], P(audiences=["api://a"]),
         (req(tok(aud=["x", "y"])), fail("TokenAudienceNotAllowed"))),
    Case("c096-aud-missing", ["C96"], P(audiences=["api://a"]),
         (req(tok(aud=None)), fail("TokenAudienceNotAllowed")),
         (req(tok(aud=[])), fail("TokenAudienceNotAllowed")),
         (req(tok(aud="")), fail("TokenAudienceNotAllowed"))),
    Case("c097-no-audiences", ["C97"], P(),
         (req(tok(aud="anything")), ok()),
         (req(tok(aud=None)), ok())),
    Case("c098-aud-case", ["C98"], P(audiences=["api://x"]),
         (req(tok(aud="API://x")), fail("TokenAudienceNotAllowed"))),
    Case("c099-aud-trailing-slash", ["C99"], P(audiences=[S, "api://slash/"]),
         (req(tok(aud=S + "/")), ok()),
         (req(tok(aud="api://slash")), ok()),
         (req(tok(aud=S + "//")), fail("TokenAudienceNotAllowed"))),
    Case("c100-several-issuers", ["C100"], P(issuers=["https://a.example/", "https://b.example/"]),
         (req(tok(iss="https://b.example/")), ok())),
    Case("c101-iss-exact", ["C101"], P(issuers=["https://a.example/"]),
         (req(tok(iss="https://a.example")), fail("TokenIssuerNotAllowed")),
         (req(tok(iss="https://A.example/")), fail("TokenIssuerNotAllowed"))),
    Case("c102-iss-missing", ["C102"], P(issuers=["https://a.example/"]),
         (req(tok(iss=None)), fail("TokenIssuerNotAllowed"))),
    Case("c103-no-issuers", ["C103"], P(),
         (req(tok(iss="https://whatever.example/")), ok()),
         (req(tok(iss=None)), ok())),
    Case("c104-aud-before-iss", ["C104"],
         P(audiences=["api://a"], issuers=["https://a.example/"]),
         (req(tok(aud="api://b", iss="https://b.example/")), fail("TokenAudienceNotAllowed"))),
    # --- H. required claims --------------------------------------------------------------
    Case("c105-claims-missing", ["C105"], P(claims=[claim("role"), claim("dept", "x")]),
         (req(tok()), fail("TokenClaimNotFound", detail_re=r"role.*dept")),
         (req(tok(role="r")), fail("TokenClaimNotFound", detail_re=r"dept"))),
    Case("c106-presence-only", ["C106"], P(claims=[claim("role")]),
         (req(tok(role="anything")), ok()),
         (req(tok(role="")), ok()),
         (req(tok()), fail("TokenClaimNotFound"))),
    Case("c107-all-one-value", ["C107"], P(claims=[claim("role", "admin", match="all")]),
         (req(tok(role="admin")), ok())),
    Case("c108-all-two-vs-string", ["C108"], P(claims=[claim("g", "a", "b", match="all")]),
         (req(tok(g="a")), fail("TokenClaimValueNotAllowed"))),
    Case("c109-all-two-vs-array", ["C109"], P(claims=[claim("g", "a", "b", match="all")]),
         (req(tok(g=["b", "a", "c"])), ok())),
    Case("c110-any", ["C110"], P(claims=[claim("g", "a", "b", match="any")]),
         (req(tok(g=["x", "b"])), ok()),
         (req(tok(g=["x"])), fail("TokenClaimValueNotAllowed"))),
    Case("c112-value-case", ["C112"], P(claims=[claim("role", "admin")]),
         (req(tok(role="Admin")), fail("TokenClaimValueNotAllowed"))),
    Case("c113-name-case", ["C113"], P(claims=[claim("Roles", "admin")]),
         (req(tok(roles="admin")), fail("TokenClaimNotFound"))),
    Case("c114-separator", ["C114"], P(claims=[claim("scp", "write", separator=" ")]),
         (req(tok(scp="read write")), ok())),
    Case("c114-no-separator", ["C114"], P(claims=[claim("scp", "write")]),
         (req(tok(scp="read write")), fail("TokenClaimValueNotAllowed"))),
    Case("c115-separator-array", ["C115"],
         P(claims=[claim("g", "a", "b", "c", separator=",")]),
         (req(tok(g=["a,b", "c"])), ok())),
    Case("c116-bool-number", ["C116"],
         P(claims=[claim("flag", "true"), claim("n", "42")]),
         (req(tok(flag=True, n=42)), ok()),
         (req(tok(flag=False, n=42)), fail("TokenClaimValueNotAllowed"))),
    Case("c117-null-is-missing", ["C117"], P(claims=[claim("role")]),
         (req(raw(lambda keys: mint(_h(keys), "HS256", dict(_claims(), role=None)))),
          fail("TokenClaimNotFound"))),
    Case("c118-claims-and", ["C118"], P(claims=[claim("a", "1"), claim("b", "2")]),
         (req(tok(a="1", b="2")), ok()),
         (req(tok(a="1", b="3")), fail("TokenClaimValueNotAllowed"))),
    Case("c119-aud-claim", ["C119"], P(claims=[claim("aud", "api://x", "api://y", match="any")]),
         (req(tok(aud=["q", "api://y"])), ok())),
    Case("c120-aud-before-claims", ["C120"],
         P(audiences=["api://a"], claims=[claim("role", "admin")]),
         (req(tok(aud="api://b")), fail("TokenAudienceNotAllowed"))),
    # --- I. responses and side effects ---------------------------------------------------
    Case("c121-status-403", ["C121", "C132"], P(status=403, **_AIC),
         *[(req(t, s), fail(r, 403)) for t, s, r in (
             (None, "none", "TokenNotPresent"),
             (tok(exp=Rel(-100), nbf=Rel(-1000), **_ROLE), "bearer", "TokenExpired"),
             (tok(mutate=_flip, **_ROLE), "bearer", "TokenSignatureInvalid"),
             (tok(role="user"), "bearer", "TokenClaimValueNotAllowed"))]),
    Case("c121-status-400", ["C121"], P(status=400),
         (req(None, "none"), fail("TokenNotPresent", 400)),
         (req(tok(exp=Rel(-100), nbf=Rel(-1000))), fail("TokenExpired", 400))),
    Case("c123-custom-message", ["C123", "C122"],
         P(message="Unauthorized. Access token is missing or invalid.", **_AIC),
         *[(req(t, s), fail(r, message="Unauthorized. Access token is missing or invalid."))
           for t, s, r in (
               (None, "none", "TokenNotPresent"),
               (tok(mutate=_flip, **_ROLE), "bearer", "TokenSignatureInvalid"),
               (tok(aud="api://x", **_ROLE), "bearer", "TokenAudienceNotAllowed"),
               (tok(), "bearer", "TokenClaimNotFound"))]),
    Case("c123-empty-message-is-unset", ["C123"], P(message=""),
         (req(None, "none"), fail("TokenNotPresent", message="JWT not present.")),
         (req(tok(mutate=_flip)), fail("TokenSignatureInvalid", message="Invalid JWT."))),
    Case("c124-message-escaped", ["C124"], P(message='He said "no" C:\\dir'),
         (req(None, "none"), fail("TokenNotPresent", message='He said "no" C:\\dir')),
         (req(tok(exp=Rel(-100), nbf=Rel(-1000))),
          fail("TokenExpired", message='He said "no" C:\\dir'))),
    Case("c124-control-characters", ["C124"], P(message="a\tb\nc \x7f \u00fc/"),
         (req(None, "none"),
          fail("TokenNotPresent", message="a\tb\nc \x7f \u00fc/",
               # jansson's encoding (RFC 8259 section 7): short escapes for tab and
               # newline, DEL and non-ASCII as they are
               raw_body='{ "statusCode": 401, "message": "a\\tb\\nc \x7f '
                        '\u00fc/" }'.encode("utf-8"))),
         modes=XML, why="a directive argument can't hold a newline; the policy file writes "
                        "it as &#10;"),
    Case("c125-bad-signature-message", ["C125"], P(),
         (req(tok(mutate=_flip)), fail("TokenSignatureInvalid", message="Invalid JWT."))),
    Case("c126-default-messages", ["C126", "C133", "C127", "C131", "C122"], P(**_AIC),
         *[(req(t), fail(r, message="Invalid JWT.")) for t, r in (
             (tok(exp=Rel(-100), nbf=Rel(-1000), **_ROLE), "TokenExpired"),
             (tok(aud="api://x", **_ROLE), "TokenAudienceNotAllowed"),
             (tok(iss="https://x.example/", **_ROLE), "TokenIssuerNotAllowed"),
             (tok(), "TokenClaimNotFound"),
             (tok(role="user"), "TokenClaimValueNotAllowed"),
             (tok(mutate=_append_invalid, **_ROLE), "JwtInvalid"),
             (tok("RS256", "rsa1", **_ROLE), "TokenSignatureKeyNotFound"),
             (tok(mutate=_flip, **_ROLE), "TokenSignatureInvalid"))]),
    Case("c128-authorization-unchanged", ["C128"], P(),
         (req(send=("auth", "Bearer {t}")), ok(env={"HTTP_AUTHORIZATION": "Bearer {t}"})),
         (req(send=("auth", "{t}")), ok(env={"HTTP_AUTHORIZATION": "{t}"}))),
    Case("c129-output-variable", ["C129"], P(output_var="jwt"),
         (req(tok(aud=["api://a", "api://b"], group=["finance", "logistics"], jti="id-1")),
          ok(env={"jwt": "{t}", "jwt_ISS": "https://issuer.example/", "jwt_ALG": "HS256",
                  "jwt_TYP": "JWT", "jwt_SUB": "user-123", "jwt_JTI": "id-1",
                  "jwt_AUD": "api://a,api://b", "jwt_CLAIM_group": "finance,logistics"}))),
    Case("c129-no-output-variable", ["C129"], P(),
         (req(tok(group="g")), ok(env_absent=["jwt", "jwt_ISS", "jwt_CLAIM_group"]))),
    Case("c132-www-authenticate-off", ["C132"],
         P(extra_directives=["ValidateJWTWWWAuthenticate Off"]),
         (req(None, "none"), fail("TokenNotPresent", www=False)),
         (req(tok(mutate=_flip)), fail("TokenSignatureInvalid", www=False))),
    Case("c133-policy-id", ["C133"], P(id="pol-7", audiences=["api://a"]),
         (req(tok(aud="api://b")), fail("TokenAudienceNotAllowed", policy_id="pol-7"))),
    Case("c134-nested-policy", ["C134"],
         P(status=403, audiences=["api://outer"], issuers=["https://outer.example/"],
           claims=[claim("role", "admin")]),
         (req(tok(aud="api://outer", iss="https://outer.example/", **_ROLE)), ok()),
         (req(tok(aud="api://inner", iss="https://outer.example/", **_ROLE)),
          fail("TokenAudienceNotAllowed", 403)),
         (req(tok(aud="api://inner", iss="https://inner.example/"), path="inner/"), ok()),
         (req(tok(aud="api://outer", iss="https://outer.example/", **_ROLE), path="inner/"),
          fail("TokenAudienceNotAllowed", 401)),
         inner=("inner/", P(keys=[secret("hs64")], audiences=["api://inner"])),
         modes=XML, why="directives merge field by field into inner scopes (README: a child "
                        "scope inherits every field); only a policy replaces an outer policy "
                        "as a whole"),
    Case("c135-no-token-in-log-or-body", ["C135"], P(**_AIC),
         (req(tok(mutate=_flip, **_ROLE)), fail("TokenSignatureInvalid")),
         (req(tok(exp=Rel(-100), nbf=Rel(-1000), **_ROLE)), fail("TokenExpired")),
         (req(tok(mutate=_append_invalid, **_ROLE)), fail("JwtInvalid")),
         (req(tok(role="user")), fail("TokenClaimValueNotAllowed"))),
    Case("x-head-failure", [], P(),
         (req(None, "none", method="HEAD"), fail("TokenNotPresent")),
         (req(tok(mutate=_flip), method="HEAD"), fail("TokenSignatureInvalid"))),
    # --- extras: XML text handling, scopes, APIM document forms (no id in docs/conformance.md) -
    Case("x-escaped-values", [],
         P(audiences=["api://c&d", "api://\u00fc"], claims=[claim("dept", "R&D", "<x>")]),
         (req(tok(aud="api://c&d", dept=["R&D", "<x>"])), ok()),
         (req(tok(aud="api://\u00fc", dept=["R&D", "<x>"])), ok()),
         (req(tok(aud="api://c&amp;d", dept=["R&D", "<x>"])), fail("TokenAudienceNotAllowed")),
         (req(tok(aud="api://c&d", dept=["R&amp;D", "<x>"])),
          fail("TokenClaimValueNotAllowed"))),
    Case("x-cdata-and-comments", [],
         P(audiences=None, xml={"children": [
             "<audiences><!-- a comment --><audience><![CDATA[api://c&d]]></audience>"
             "</audiences>"]}),
         (req(tok(aud="api://c&d")), ok()),
         (req(tok(aud="api://x")), fail("TokenAudienceNotAllowed")),
         modes=XML, why="CDATA sections and comments exist only in policy files"),
    Case("x-inner-directives-override-fields", ["C134"],
         P(audiences=["api://outer"], claims=[claim("role", "admin")], status=403),
         (req(tok(aud="api://inner", **_ROLE), path="inner/"), ok()),
         (req(tok(aud="api://inner"), path="inner/"), fail("TokenClaimNotFound", 403)),
         (req(tok(aud="api://outer", **_ROLE), path="inner/"),
          fail("TokenAudienceNotAllowed", 403)),
         inner=("inner/", ["ValidateJWTAudience api://inner"]),
         modes=XML, why="an outer policy file with an inner scope of directives: the "
                        "directives override single fields and inherit the rest"),
    Case("x-inner-policy-replaces-outer-directives", ["C134"],
         ["ValidateJWTIssuerSigningKey %s" % "HS64_B64", "ValidateJWTAudience api://outer",
          "ValidateJWTRequiredClaim role admin", "ValidateJWTFailedValidationHTTPCode 403",
          "ValidateJWTOutputTokenVariableName outer"],
         (req(tok(aud="api://x"), path="inner/"), ok(env_absent=["outer", "outer_ISS"])),
         (req(tok(key="hs64b", aud="api://x"), path="inner/"), fail("TokenSignatureInvalid")),
         (req(tok(aud="api://x")), fail("TokenAudienceNotAllowed", 403)),
         inner=("inner/", P()),
         modes=XML, why="outer directives and an inner policy file: the policy replaces the "
                        "outer configuration as a whole"),
    # --- extras: APIM document forms (no id in docs/conformance.md) -----------------
    Case("x-bom-declaration-crlf", [],
         P(audiences=["api://w"], xml={"bom": "\ufeff", "newline": "\r\n",
                                       "prolog": '<?xml version="1.0" encoding="utf-8"?>'}),
         (req(tok(aud="api://w")), ok()),
         (req(tok(aud="api://x")), fail("TokenAudienceNotAllowed")),
         modes=XML, why="a byte-order mark, an XML declaration and CRLF line ends (files "
                        "saved on Windows) exist only in policy files"),
    Case("x-policies-document", [], P(audiences=["api://doc"], xml={"wrap": "policies"}),
         (req(tok(aud="api://doc")), ok()),
         (req(tok(aud="api://other")), fail("TokenAudienceNotAllowed")),
         modes=XML, why="an APIM <policies> document is a policy-file form"),
    Case("x-policies-select-id", [],
         P(id="second", audiences=["api://second"],
           xml={"wrap": "policies", "select": "second",
                "siblings": [P(id="first", audiences=["api://first"])]}),
         (req(tok(aud="api://second")), ok()),
         (req(tok(aud="api://first")), fail("TokenAudienceNotAllowed", policy_id="second")),
         modes=XML, why="ValidateJWTPolicy FILE id=ID is a policy-file form"),
    Case("x-directive-after-policy", [],
         P(audiences=["api://policy"], status=403,
           extra_directives=["ValidateJWTAudience api://directive"]),
         (req(tok(aud="api://directive")), ok()),
         (req(tok(aud="api://policy")), fail("TokenAudienceNotAllowed", 403)),
         modes=XML, why="checks that a list directive after ValidateJWTPolicy replaces the "
                        "policy's list; with directives only, a repeated list directive adds"),
    # --- J: encrypted tokens (docs/conformance.md#jwe) ---------------------------------
    Case("c136-dir-a256cbc-hs512", ["C136"], P(decryption_keys=[secret("dk64")]),
         (req(tok(jwe=J("dir", "A256CBC-HS512", "dk64"))), ok()),
         # encryption is optional
         (req(tok()), ok()),
         # the inner token keeps its reasons
         (req(tok(key="hs64b", jwe=J("dir", "A256CBC-HS512", "dk64"))),
          fail("TokenSignatureInvalid"))),
    Case("c136-rsa-oaep-a128cbc-hs256", ["C136"],
         P(decryption_keys=[cert("rsa-enc", id="rsa-enc")], output_var="jwt"),
         (req(tok(jwe=J("RSA-OAEP", "A128CBC-HS256", "rsa_enc", kid="rsa-enc"))),
          ok(env={"jwt_ALG": "HS256", "jwt_ENC": "A128CBC-HS256", "jwt_ALG_KEY": "RSA-OAEP"})),
         (req(tok(jwe=J("RSA-OAEP", "A128CBC-HS256", "rsa_enc"))), ok())),
    Case("c137-no-decryption-keys", ["C137"], P(),
         (req(tok(jwe=J("dir", "A256CBC-HS512", "dk64"))),
          fail("JwtInvalid", detail_re=r"encrypted token but no decryption keys"))),
    Case("c138-tag-altered", ["C138"], P(decryption_keys=[secret("dk64")]),
         (req(tok(jwe=J("dir", "A256CBC-HS512", "dk64", mutate=_flip_tag))),
          fail("JwtInvalid")),
         (req(tok(jwe=J("dir", "A256GCM", "dk32", mutate=_flip_tag))), fail("JwtInvalid"))),
    Case("c139-inner-unsigned", ["C139"],
         P(decryption_keys=[secret("dk64")]),
         (req({"raw": lambda k: unsigned(_claims()), "jwe": J("dir", "A256CBC-HS512", "dk64")}),
          fail("TokenSignatureInvalid"))),
    Case("c139-inner-unsigned-allowed", ["C139"],
         P(decryption_keys=[secret("dk64")], require_signed=False),
         (req({"raw": lambda k: unsigned(_claims()), "jwe": J("dir", "A256CBC-HS512", "dk64")}),
          ok())),
    Case("c140-rsa1-5-and-zip", ["C140"],
         P(decryption_keys=[cert("rsa-enc"), secret("dk64")]),
         (req(tok(jwe=J("RSA1_5", "A128CBC-HS256", "rsa_enc"))),
          fail("JwtInvalid", detail_re=r"RSA1_5")),
         (req(tok(jwe=J("dir", "A256CBC-HS512", "dk64", header={"zip": "DEF"}))),
          fail("JwtInvalid", detail_re=r"zip"))),
]

# ------------------------------------------------------------------------------------
# configuration cases (test_310_conformance_config.py): `apache2 -t`
# ------------------------------------------------------------------------------------
_X_EXPR = r"policy expressions .*not supported"
_NO_DIR_EXPR = ("directives have no APIM policy-expression syntax (ValidateJWTTokenValue "
                "takes an ap_expr instead)")
_XML_ONLY_ELEMENT = "an XML element/attribute with no directive form"

CONFIG_CASES = [
    ConfigCase("c001-no-source", ["C1"], P(source=None), r"no token source",
               modes=XML, why="directives default to ValidateJWTHeaderName Authorization; "
                              "a scope has no 'no source' state"),
    ConfigCase("c002-header-and-query", ["C2"],
               P(source=[("header", "Authorization"), ("query", "t")]),
               r"exclude each other", dir_re=r"use only one of",
               directive="ValidateJWTQueryParameterName"),
    ConfigCase("c002-header-and-value", ["C2"],
               P(source=[("header", "Authorization"), ("token_value", "abc")]),
               r"exclude each other", dir_re=r"use only one of",
               directive="ValidateJWTTokenValue"),
    ConfigCase("c002-query-and-value", ["C2"],
               P(source=[("query", "t"), ("token_value", "abc")]),
               r"exclude each other", dir_re=r"use only one of",
               directive="ValidateJWTTokenValue"),
    ConfigCase("c002-all-three", ["C2"],
               P(source=[("header", "X"), ("query", "t"), ("token_value", "abc")]),
               r"exclude each other", modes=XML,
               why="covered pairwise in directives mode (the second directive already fails)"),
    ConfigCase("c003-unknown-attribute", ["C3"], P(xml={"attrs": 'foo="1"'}),
               r"validate-jwt/@foo: unknown attribute", modes=XML,
               why="an unknown directive is refused by httpd itself ('Invalid command')"),
    ConfigCase("c003-attribute-name-case", ["C3"], P(xml={"attrs": 'Clock-Skew="5"'}),
               r"@Clock-Skew: unknown attribute", modes=XML, why=_XML_ONLY_ELEMENT),
    ConfigCase("c003-unknown-element", ["C3"], P(xml={"children": ["<foo/>"]}),
               r"validate-jwt/foo: unknown element", line_of="<foo/>", modes=XML,
               why=_XML_ONLY_ELEMENT),
    ConfigCase("c003-unknown-key-attribute", ["C3"],
               P(keys=[{"kind": "raw", "attrs": {"kid": "x"}, "text": "QUJD"}]),
               r"key\[1\]/@kid: unknown attribute", line_of="<key ", modes=XML,
               why=_XML_ONLY_ELEMENT),
    ConfigCase("c003-unknown-claim-child", ["C3"],
               P(xml={"children": ['<required-claims><claim name="a"><val>x</val></claim>'
                                   '</required-claims>']}, claims=None),
               r"unknown element; <claim> holds <value> only", line_of="<required-claims>",
               modes=XML, why=_XML_ONLY_ELEMENT),
    ConfigCase("c003-element-twice", ["C3"],
               P(audiences=["a"], xml={"children": ["<audiences><audience>b</audience>"
                                                    "</audiences>"]}),
               r"may appear only once", line_of="<audiences><audience>b", modes=XML,
               why=_XML_ONLY_ELEMENT),
    ConfigCase("c003-doctype", ["C3"], P(xml={"prolog": '<!DOCTYPE validate-jwt [<!ENTITY x "y">]>'}),
               r"DOCTYPE is not allowed", line_of=None, modes=XML,
               why="DTDs exist only in policy files"),
    ConfigCase("c004-expr-header-name", ["C4"], P(source=("header", "@(context.Request.Headers)")),
               _X_EXPR, modes=XML, why=_NO_DIR_EXPR),
    ConfigCase("c004-expr-token-value", ["C4"],
               P(source=("token_value", "@(context.Request.Headers.GetValueOrDefault(\"X\"))")),
               r"policy expressions.*header-name or query-parameter-name", modes=XML,
               why=_NO_DIR_EXPR),
    ConfigCase("c004-expr-audience", ["C4"],
               P(audiences=["@(context.Request.OriginalUrl.Host)"]),
               r"audiences/audience\[1\]: policy expressions", line_of="<audience>@(",
               modes=XML, why=_NO_DIR_EXPR),
    ConfigCase("c004-block-issuer", ["C4"], P(issuers=['@{ return "x"; }']),
               r"issuers/issuer\[1\]: policy expressions", line_of="<issuer>@{",
               modes=XML, why=_NO_DIR_EXPR),
    ConfigCase("c004-expr-claim-value", ["C4"], P(claims=[claim("role", "  @(x)")]),
               r"value\[1\]: policy expressions", line_of="<value>", modes=XML,
               why=_NO_DIR_EXPR),
    ConfigCase("c004-expr-claim-match", ["C4"], P(claims=[claim("role", "a", match="@(x)")]),
               r"@match: policy expressions", line_of="<claim ", modes=XML, why=_NO_DIR_EXPR),
    ConfigCase("c004-expr-skew", ["C4"], P(skew="@(60)"), r"@clock-skew: policy expressions",
               modes=XML, why=_NO_DIR_EXPR),
    ConfigCase("c004-expr-key", ["C4"],
               P(keys=[{"kind": "raw", "attrs": {}, "text": "@(secret)"}]),
               r"key\[1\]: policy expressions", line_of="<key>", modes=XML, why=_NO_DIR_EXPR),
    ConfigCase("c004-expr-openid-url", ["C4"], P(keys=None, openid=[{"url": "@(url)"}]),
               r"openid-config/@url: policy expressions", line_of="<openid-config",
               modes=XML, why=_NO_DIR_EXPR),
    ConfigCase("c004-expr-output-var", ["C4"], P(output_var="@(x)"),
               r"@output-token-variable-name: policy expressions", modes=XML, why=_NO_DIR_EXPR),
    ConfigCase("c005-bad-require-exp", ["C5"], P(require_exp="maybe"),
               r"@require-expiration-time: 'maybe' is not a boolean",
               dir_re=r"ValidateJWTRequireExpirationTime: must be On, Off, true or false",
               directive="ValidateJWTRequireExpirationTime"),
    ConfigCase("c005-bad-require-signed", ["C5"], P(require_signed="yes"),
               r"@require-signed-tokens: 'yes' is not a boolean",
               dir_re=r"ValidateJWTRequireSignedTokens: must be On, Off, true or false",
               directive="ValidateJWTRequireSignedTokens"),
    ConfigCase("c005-bool-any-case-accepted", ["C5"],
               P(require_exp="TRUE", require_signed="fAlSe"), ok=True),
    ConfigCase("c006-negative-skew", ["C6"], P(skew="-5"),
               r"@clock-skew: '-5' must be a whole, non-negative number",
               dir_re=r"ValidateJWTClockSkew: must be a whole, non-negative number",
               directive="ValidateJWTClockSkew"),
    ConfigCase("c006-fractional-skew", ["C6"], P(skew="1.5"),
               r"@clock-skew: '1\.5' must be a whole",
               dir_re=r"ValidateJWTClockSkew: must be a whole", directive="ValidateJWTClockSkew"),
    ConfigCase("c006-non-numeric-skew", ["C6"], P(skew="PT60S"),
               r"@clock-skew: 'PT60S' must be a whole",
               dir_re=r"ValidateJWTClockSkew: must be a whole", directive="ValidateJWTClockSkew"),
    ConfigCase("c006-leading-zero-skew-accepted", ["C6"], P(skew="007"), ok=True),
    ConfigCase("x-skew-over-a-day", [], P(skew="86401"),
               r"@clock-skew: '86401' is larger than allowed",
               dir_re=r"ValidateJWTClockSkew: is larger than allowed",
               directive="ValidateJWTClockSkew"),
    ConfigCase("x-empty-separator", [], P(claims=[claim("role", "a", separator="")]),
               r"claim\[1\]/@separator: empty separator", line_of="<claim ",
               dir_re=r"ValidateJWTRequiredClaim: separator must not be empty",
               directive="ValidateJWTRequiredClaim"),
    ConfigCase("x-bad-output-variable-name", [], P(output_var="a b"),
               r"@output-token-variable-name: 'a b' must be made of letters, digits",
               dir_re=r"ValidateJWTOutputTokenVariableName: must be made of letters, digits",
               directive="ValidateJWTOutputTokenVariableName"),
    ConfigCase("x-empty-header-name", [], P(source=("header", "")),
               r"@header-name: empty header name", modes=XML,
               why="an empty directive argument is an httpd argument-count error"),
    ConfigCase("c007-status-600", ["C7"], P(status="600"),
               r"@failed-validation-httpcode: '600' must be an HTTP status code from 400 to 599",
               dir_re=r"ValidateJWTFailedValidationHTTPCode: must be an HTTP status code from "
                      r"400 to 599", directive="ValidateJWTFailedValidationHTTPCode"),
    ConfigCase("c007-status-399", ["C7"], P(status="399"),
               r"@failed-validation-httpcode: '399'",
               dir_re=r"ValidateJWTFailedValidationHTTPCode: must be an HTTP status code",
               directive="ValidateJWTFailedValidationHTTPCode"),
    ConfigCase("c007-status-text", ["C7"], P(status="unauthorized"),
               r"@failed-validation-httpcode: 'unauthorized'",
               dir_re=r"ValidateJWTFailedValidationHTTPCode: must be an HTTP status code",
               directive="ValidateJWTFailedValidationHTTPCode"),
    ConfigCase("c008-empty-audiences", ["C8"], P(audiences=[]),
               r"<audiences> needs at least one <audience>", line_of="<audiences",
               modes=XML, why="ValidateJWTAudience without values is an httpd argument-count "
                              "error, not the module's"),
    ConfigCase("c008-empty-audience", ["C8"], P(audiences=[""]),
               r"audience\[1\]: empty <audience>", line_of="<audience>", modes=XML,
               why=_XML_ONLY_ELEMENT),
    ConfigCase("c008-empty-issuers", ["C8"], P(issuers=[]),
               r"<issuers> needs at least one <issuer>", line_of="<issuers", modes=XML,
               why="docs/conformance.md#policy-files: empty <issuers/>; no directive form"),
    ConfigCase("c008-empty-required-claims", ["C8", "C12"], P(claims=[]),
               r"<required-claims> needs at least one <claim>", line_of="<required-claims",
               modes=XML,
               why="docs/conformance.md#policy-files: empty <required-claims/>; no directive form"),
    ConfigCase("c009-empty-signing-keys", ["C9"], P(keys=[]),
               r"<issuer-signing-keys> needs at least one <key>", line_of="<issuer-signing-keys",
               modes=XML,
               why="docs/conformance.md#policy-files: empty <issuer-signing-keys/>; no directive form"),
    ConfigCase("c009-key-no-form", ["C9"],
               P(keys=[{"kind": "raw", "attrs": {"id": "k1"}, "text": "",
                        "directive": "id=k1"}]),
               r"key\[1\]: a key is exactly one of.*has none", line_of="<key ",
               dir_re=r"ValidateJWTIssuerSigningKey: needs a key",
               directive="ValidateJWTIssuerSigningKey"),
    ConfigCase("c009-key-text-and-cert", ["C9"],
               P(keys=[{"kind": "raw", "attrs": {"certificate-id": "rsa1-cert"},
                        "text": "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlq",
                        "directive": "certificate-id=rsa1-cert "
                                     "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlq"}]),
               r"key\[1\]: a key is exactly one of.*has several", line_of="<key ",
               dir_re=r"ValidateJWTIssuerSigningKey: expected \[id=KID\] and one key",
               directive="ValidateJWTIssuerSigningKey"),
    ConfigCase("c009-key-text-and-ne", ["C9"],
               P(keys=[{"kind": "raw", "attrs": {"n": "NE_N", "e": "AQAB"},
                        "text": "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlq",
                        "directive": "n=NE_N e=AQAB "
                                     "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlq"}]),
               r"key\[1\]: a key is exactly one of.*has several", line_of="<key ",
               dir_re=r"ValidateJWTIssuerSigningKey: expected \[id=KID\] and one key",
               directive="ValidateJWTIssuerSigningKey"),
    ConfigCase("c010-n-without-e", ["C10"],
               P(keys=[{"kind": "raw", "attrs": {"n": "NE_N"}, "text": "",
                        "directive": "n=NE_N"}]),
               r"key\[1\]: an RSA key needs both n and e", line_of="<key ",
               dir_re=r"ValidateJWTIssuerSigningKey: an RSA key needs both n= and e=",
               directive="ValidateJWTIssuerSigningKey"),
    ConfigCase("c010-e-without-n", ["C10"],
               P(keys=[{"kind": "raw", "attrs": {"e": "AQAB"}, "text": "",
                        "directive": "e=AQAB"}]),
               r"key\[1\]: an RSA key needs both n and e", line_of="<key ",
               dir_re=r"ValidateJWTIssuerSigningKey: an RSA key needs both n= and e=",
               directive="ValidateJWTIssuerSigningKey"),
    ConfigCase("c011-bad-base64", ["C11"],
               P(keys=[{"kind": "raw", "attrs": {}, "text": "!!!not-base64!!!",
                        "directive": "!!!not-base64!!!"}]),
               r"key\[1\]: the key text is not valid base64", line_of="<key>",
               dir_re=r"ValidateJWTIssuerSigningKey: the key is not valid base64",
               directive="ValidateJWTIssuerSigningKey"),
    ConfigCase("c011-bad-base64url-n", ["C11", "C10"],
               P(keys=[{"kind": "raw", "attrs": {"n": "!!!", "e": "AQAB"}, "text": "",
                        "directive": "n=!!! e=AQAB"}]),
               r"key\[1\]: invalid RSA key", line_of="<key ",
               dir_re=r"ValidateJWTIssuerSigningKey: .*(invalid|base64)",
               directive="ValidateJWTIssuerSigningKey"),
    ConfigCase("c012-claim-without-name", ["C12"],
               P(claims=[{"name": None, "match": None, "separator": None, "values": ["a"]}]),
               r"claim\[1\]: <claim> needs a name", line_of="<claim", modes=XML,
               why="ValidateJWTRequiredClaim's first argument is always the name"),
    ConfigCase("c012-bad-match", ["C12"], P(claims=[claim("role", "a", match="some")]),
               r"claim\[1\]/@match: 'some' is not a match mode", line_of="<claim ",
               dir_re=r"ValidateJWTRequiredClaim: match must be all or any",
               directive="ValidateJWTRequiredClaim"),
    ConfigCase("c012-match-upper-case", ["C12"], P(claims=[claim("role", "a", match="ANY")]),
               r"claim\[1\]/@match: 'ANY' is not a match mode", line_of="<claim ",
               dir_re=r"ValidateJWTRequiredClaim: match must be all or any",
               directive="ValidateJWTRequiredClaim"),
    ConfigCase("c013-openid-without-url", ["C13"], P(keys=None, openid=[{"url": None}]),
               r"openid-config: <openid-config> needs url=", line_of="<openid-config",
               modes=XML, why="ValidateJWTOpenIDConfig without a URL is an httpd "
                              "argument-count error"),
    ConfigCase("c013-validate-connectivity", ["C13"],
               P(keys=None, openid=[{"url": "https://idp.example.com/.well-known/openid-configuration"}],
                 xml={"children": ['<openid-config url="https://idp2.example.com/.well-known/'
                                   'openid-configuration" validate-connectivity="false"/>']}),
               ok=True, modes=XML, why="validate-connectivity has no directive form"),
    ConfigCase("c013-bad-validate-connectivity", ["C13"],
               P(keys=None, xml={"children": ['<openid-config url="https://idp.example.com/x" '
                                              'validate-connectivity="sometimes"/>']}),
               r"openid-config/@validate-connectivity: 'sometimes' is not a boolean",
               line_of="<openid-config", modes=XML,
               why="validate-connectivity has no directive form"),
    ConfigCase("c015-undefined-named-value", ["C15"],
               P(keys=[{"kind": "named", "ref": "undefined-name"}]),
               r"the named value \{\{undefined-name\}\} is not defined", line_of="{{undefined-name}}",
               modes=XML, why="named values are a policy-file feature"),
    ConfigCase("c015-bad-named-value-name", ["C15"], P(audiences=["{{bad name}}"]),
               r"'\{\{bad name\}\}' is not a named value", line_of="{{bad name}}", modes=XML,
               why="named values are a policy-file feature"),
    ConfigCase("c015-named-value-defined-after", ["C15"],
               P(keys=[{"kind": "named", "ref": "late-key"}]),
               r"the named value \{\{late-key\}\} is not defined", line_of="{{late-key}}",
               modes=XML, why="named values are a policy-file feature",
               server="#AFTER#ValidateJWTNamedValue late-key "
                      "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlq"),
    ConfigCase("c016-zumo-master-key", ["C16"],
               P(xml={"children": ['<zumo-master-key id="x">abc</zumo-master-key>']}),
               r"<zumo-master-key> .*not supported", line_of="<zumo-master-key", modes=XML,
               why="a legacy XML element"),
    ConfigCase("c016-validate-azure-ad-token", ["C16"],
               P(xml={"root": "validate-azure-ad-token"}),
               r"<validate-azure-ad-token> is not supported", line_of="<validate-azure-ad-token",
               modes=XML, why="a different APIM policy element"),
    ConfigCase("c017-decryption-key-ne", ["C17"],
               P(xml={"children": ['<decryption-keys><key n="NE_N" e="AQAB"/></decryption-keys>']}),
               r"decryption-keys/key\[1\]: n/e keys are signing keys only",
               line_of="<decryption-keys>", modes=XML, why="the directive form "
                                                           "(ValidateJWTDecryptionKey n=... e=...) "
                                                           "is in test_010_configtest"),
    ConfigCase("c017-decryption-keys-accepted", ["C17"],
               P(xml={"children": ['<decryption-keys><key>QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVph'
                                   'YmNkZWY=</key></decryption-keys>']}),
               ok=True, modes=XML, why="the directive form (ValidateJWTDecryptionKey) is in "
                                       "test_010_configtest"),
    ConfigCase("c080-http-not-loopback", ["C80"],
               P(keys=None, openid=[{"url": "http://idp.example.com/.well-known/openid-configuration"}]),
               r"plain http to a host that is not loopback", line_of="<openid-config",
               dir_re=r"ValidateJWTOpenIDConfig: .*plain http to a host that is not loopback",
               directive="ValidateJWTOpenIDConfig"),
    ConfigCase("c080-http-loopback-ok", ["C80", "C13"],
               P(keys=None, openid=[{"url": "http://127.0.0.1:9/a/.well-known/openid-configuration"},
                                    {"url": "http://localhost:9/b/.well-known/openid-configuration"}]),
               ok=True),
    ConfigCase("c080-allow-http", ["C80"],
               P(keys=None, openid=[{"url": "http://idp.example.com/.well-known/openid-configuration"}]),
               ok=True, server="ValidateJWTFetchAllowHTTP On"),
    ConfigCase("x-two-policies-without-id", [],
               P(id="one", xml={"wrap": "policies", "siblings": [P(id="two")]}),
               r"2 <validate-jwt> elements in <inbound>.*ValidateJWTPolicy FILE id=ID",
               line_of="<policies>", modes=XML, why="a policy-file form"),
    ConfigCase("x-select-unknown-id", [],
               P(id="one", xml={"wrap": "policies", "select": "three",
                                "siblings": [P(id="two")]}),
               r'no <validate-jwt id="three"> in <inbound>', line_of="<policies>", modes=XML,
               why="a policy-file form"),
    ConfigCase("x-outside-inbound", [], P(xml={"wrap": "policies", "outside_inbound": True}),
               r"<validate-jwt> is only allowed in <inbound>", modes=XML,
               why="a policy-file form"),
    ConfigCase("x-unknown-root", [], P(xml={"root": "check-header"}),
               r"must hold a <validate-jwt> element", line_of="<check-header", modes=XML,
               why="a policy-file form"),
    ConfigCase("x-crlf-line-numbers", [],
               P(xml={"newline": "\r\n", "prolog": '<?xml version="1.0"?>',
                      "children": ["<!-- one -->", "<!-- two -->", "<fooo/>"]}),
               r"validate-jwt/fooo: unknown element", line_of="<fooo/>", modes=XML,
               why="a policy-file form"),
    ConfigCase("x-not-well-formed", [], P(xml={"children": ["<audiences>"]}),
               r"not well-formed XML", line_of=None, modes=XML, why="a policy-file form"),
]

# ------------------------------------------------------------------------------------
# ids not testable here
# ------------------------------------------------------------------------------------
NOT_APPLICABLE = {}

# ids whose behaviour needs time, several children, outages or a second host: they are
# covered by the key-fetching tests, found by their docstrings ("C71: ...") in these files.
# make conformance runs them too, and the report takes their results.
_FETCH_TESTS = ["test_2*.py", "test_320_usage_examples.py"]
COVERED_ELSEWHERE = {cid: _FETCH_TESTS for cid in ("C69", "C70", "C71", "C72", "C73", "C74")}


def tests_naming(cid, patterns, here):
    """["file::function", ...] of the test functions in files matching patterns (relative
    to here) whose docstring names cid."""
    import ast
    import glob
    import os
    import re
    out = []
    rx = re.compile(r"\b%s\b" % cid)
    for pat in patterns:
        for path in sorted(glob.glob(os.path.join(here, pat))):
            try:
                tree = ast.parse(open(path).read())
            except (OSError, SyntaxError):
                continue
            for node in tree.body:
                if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                    doc = ast.get_docstring(node) or ""
                    if rx.search(doc):
                        out.append("%s::%s" % (os.path.basename(path), node.name))
    return out


def all_cases():
    return list(CASES) + list(CONFIG_CASES)


def ids_covered():
    out = {}
    for c in all_cases():
        for i in c.ids:
            out.setdefault(i, []).append(c)
    return out


def check_table():
    """Table sanity: unique names, valid ids, consistent named values."""
    names = [c.name for c in all_cases()]
    dups = {n for n in names if names.count(n) > 1}
    assert not dups, "duplicate case names: %s" % sorted(dups)
    for c in all_cases():
        for i in c.ids:
            assert i in ALL_IDS, "%s: unknown id %s" % (c.name, i)
    nv = {}
    for c in CASES:
        if not isinstance(c.policy, dict):
            continue
        for k, v in c.policy["named_values"].items():
            assert nv.setdefault(k, v) == v, "named value %s defined twice" % k
    return True
