"""Key material and token minting for the integration tests (ids such as C40 are those of
docs/conformance.md).

Every signature is made by jwcrypto (jwcrypto.jwt / jwcrypto.jws, keys from
jwcrypto.jwk.JWK.generate).  Deliberately malformed tokens are made by editing the
base64url segments of a jwcrypto-made token, or by having jwcrypto's JWSCore sign a
hand-written header/payload string.  Certificates are made with python3-cryptography.
"""

import base64
import datetime
import json
import os
import time
import uuid

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.x509.oid import NameOID
from jwcrypto import jwk, jws, jwt
from jwcrypto import jwa as _jwa

ISS = "https://issuer.example/"
AUD = "api://default"
SUB = "user-123"


def b64u(data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64u_dec(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def b64std(data):
    return base64.b64encode(data).decode("ascii")


def now():
    return int(time.time())


def claims(**over):
    """A valid claim set (exp = now+3600, nbf = iat = now-60); None removes a claim."""
    t = now()
    c = {"iss": ISS, "sub": SUB, "aud": AUD, "exp": t + 3600, "nbf": t - 60,
         "iat": t - 60, "jti": uuid.uuid4().hex}
    for k, v in over.items():
        if v is None:
            c.pop(k, None)
        else:
            c[k] = v
    return c


def mint(key, alg, claim_set=None, *, kid=None, typ="JWT", header=None, **over):
    """A compact JWS made by jwcrypto.jwt.  claim_set defaults to claims(**over)."""
    h = {"alg": alg}
    if typ is not None:
        h["typ"] = typ
    if kid is not None:
        h["kid"] = kid
    if header:
        h.update(header)
    c = claim_set if claim_set is not None else claims(**over)
    t = jwt.JWT(header=h, claims=c)
    t.make_signed_token(key)
    return t.serialize()


def sign_raw(key, alg, header, payload, *, engine=None, protected_b64=None):
    """Sign a hand-written header string and payload with jwcrypto's JWSCore.

    header: str (used byte for byte) or dict; payload: bytes, str or dict.
    alg: the signing algorithm jwcrypto uses (the header text may claim another).
    engine: a jwcrypto JWA engine instance to sign with instead of alg's default.
    protected_b64: the encoded header segment to sign (for headers that aren't JSON).
    """
    if isinstance(header, dict):
        header = json.dumps(header, separators=(",", ":"))
    if isinstance(payload, dict):
        payload = json.dumps(payload, separators=(",", ":"))
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    core = jws.JWSCore(alg, key, header if protected_b64 is None else '{"alg":"%s"}' % alg,
                       payload, [alg])
    if protected_b64 is not None:
        core.protected = protected_b64
    if engine is not None:
        core.engine = engine
    s = core.sign()
    p = s["payload"]
    if isinstance(p, bytes):
        p = p.decode("ascii")
    return "%s.%s.%s" % (s["protected"], p, s["signature"])


def pss_engine(salt_len):
    """jwcrypto's RSA signer with PSS/SHA-256 and a non-standard salt length (C56)."""
    return _jwa._RawRSA(padding.PSS(padding.MGF1(hashes.SHA256()), salt_len), hashes.SHA256())


def unsigned(payload, header=None, signature=""):
    """alg none token: no crypto, just base64url segments."""
    h = header or {"alg": "none", "typ": "JWT"}
    hs = h if isinstance(h, str) else json.dumps(h, separators=(",", ":"))
    ps = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"))
    return "%s.%s.%s" % (b64u(hs), b64u(ps), signature)


def segments(tok):
    return tok.split(".")


def flip_sig_bit(tok, byte=0, bit=0):
    """C40: decode the signature, flip one bit, re-encode (still valid base64url)."""
    h, p, s = tok.split(".")
    raw = bytearray(b64u_dec(s))
    raw[byte] ^= 1 << bit
    return "%s.%s.%s" % (h, p, b64u(bytes(raw)))


def replace_payload(tok, **changes):
    """C41: change claims and re-encode the payload, keeping the original signature."""
    h, p, s = tok.split(".")
    c = json.loads(b64u_dec(p))
    c.update(changes)
    return "%s.%s.%s" % (h, b64u(json.dumps(c, separators=(",", ":"))), s)


def replace_sig(tok, raw_sig):
    h, p, _ = tok.split(".")
    return "%s.%s.%s" % (h, p, b64u(raw_sig))


def der_ecdsa(tok):
    """C58: the same ECDSA signature DER-encoded instead of raw R||S."""
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
    h, p, s = tok.split(".")
    raw = b64u_dec(s)
    n = len(raw) // 2
    r = int.from_bytes(raw[:n], "big")
    ss = int.from_bytes(raw[n:], "big")
    return "%s.%s.%s" % (h, p, b64u(encode_dss_signature(r, ss)))


def hmac_jwk(secret):
    return jwk.JWK(kty="oct", k=b64u(secret))


def encrypt(key, alg, enc, plaintext, *, kid=None, cty="JWT", header=None):
    """A compact JWE made by jwcrypto around plaintext (a compact JWS or any text); key is a
    jwcrypto JWK (public for RSA/EC) or raw bytes (a symmetric key). RSA1_5 is allowed
    here when asked for, so that tests can show that the module refuses it."""
    from jwcrypto import jwe as _jwe
    if isinstance(key, bytes):
        key = hmac_jwk(key)
    h = {"alg": alg, "enc": enc}
    if cty is not None:
        h["cty"] = cty
    if kid is not None:
        h["kid"] = kid
    h.update(header or {})
    e = _jwe.JWE(plaintext.encode("utf-8"), json.dumps(h))
    if alg == "RSA1_5":
        e.allowed_algs = e.allowed_algs + ["RSA1_5"]
    e.add_recipient(key)
    return e.serialize(compact=True)


def _self_signed(priv, cn):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    t = datetime.datetime.utcnow()
    b = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
         .public_key(priv.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(t - datetime.timedelta(days=1))
         .not_valid_after(t + datetime.timedelta(days=30)))
    cert = b.sign(priv, hashes.SHA256())
    return cert.public_bytes(serialization.Encoding.PEM)


class Keys:
    """All key material of a test session, and the key files under ServerRoot/keys."""

    def __init__(self, factory):
        rnd = os.urandom
        # HMAC secrets (raw bytes; the config gets standard base64)
        self.hs16 = rnd(16)
        self.hs32 = rnd(32)
        self.hs64 = rnd(64)
        self.hs64b = rnd(64)
        self.hs64c = rnd(64)
        self.hs64_other = rnd(64)
        # asymmetric keys
        self.rsa1 = jwk.JWK.generate(kty="RSA", size=2048, kid="rsa1")
        self.rsa2 = jwk.JWK.generate(kty="RSA", size=2048, kid="rsa2")
        self.rsa_attacker = jwk.JWK.generate(kty="RSA", size=2048)
        self.rsa1024 = jwk.JWK.generate(kty="RSA", size=1024, kid="rsa1024")
        self.ec256 = jwk.JWK.generate(kty="EC", crv="P-256", kid="ec256")
        self.ec256b = jwk.JWK.generate(kty="EC", crv="P-256", kid="ec256b")
        self.ec384 = jwk.JWK.generate(kty="EC", crv="P-384", kid="ec384")
        self.ec521 = jwk.JWK.generate(kty="EC", crv="P-521", kid="ec521")
        self.ed25519 = jwk.JWK.generate(kty="OKP", crv="Ed25519", kid="ed1")
        self.ed25519b = jwk.JWK.generate(kty="OKP", crv="Ed25519", kid="ed2")

        w = factory.write_file
        # PEM public keys
        for name in ("rsa1", "rsa2", "rsa1024", "ec256", "ec384", "ec521", "ed25519"):
            w("keys/%s.pub.pem" % name, getattr(self, name).export_to_pem())
        # self-signed certificates (certificate-id) with python3-cryptography
        w("keys/rsa1.crt.pem", _self_signed(self.rsa1.get_op_key("sign"), "rsa1"))
        w("keys/ec256.crt.pem", _self_signed(self.ec256.get_op_key("sign", "P-256"), "ec256"))
        # a single JWK and JWK sets
        w("keys/ed25519.jwk.json", self.ed25519.export_public())
        w("keys/rsa2.jwk.json", self.rsa2.export_public())
        jwks = {"keys": [json.loads(k.export_public()) for k in
                         (self.rsa1, self.ec256, self.ec384, self.ec521, self.ed25519b)]}
        w("keys/jwks.json", json.dumps(jwks, indent=1))
        # decryption keys (JWE): dir secrets for A256GCM / A256CBC-HS512, and an RSA key whose
        # private key file (PKCS#8, followed by a certificate) ValidateJWTCertificate names
        self.dk32 = rnd(32)
        self.dk64 = rnd(64)
        self.rsa_enc = jwk.JWK.generate(kty="RSA", size=2048, kid="rsa-enc")
        enc_priv = self.rsa_enc.get_op_key("unwrapKey")
        w("keys/rsa-enc.pem", enc_priv.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()) + _self_signed(enc_priv, "rsa-enc"))
        self.rsa1_pub_der = self.rsa1.get_op_key("verify").public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        self.rsa1_pub_pem = self.rsa1.export_to_pem()

    @staticmethod
    def hmac(secret):
        return hmac_jwk(secret)

    @staticmethod
    def ne(key):
        d = json.loads(key.export_public())
        return "n=%s e=%s" % (d["n"], d["e"])
