#!/usr/bin/python3
"""Writes pipeline.json: encrypted tokens (JWE) around signed tokens, minted by python3-jwcrypto,
for the pipeline tests (tests/unit/test_pipeline_jwe.c) and the benchmark (bench/).

    /usr/bin/python3 tests/data/jwe/make_pipeline.py > tests/data/jwe/pipeline.json

Keys are fresh on every run and test-only: "signer-rs256" (RSA 2048, signs the inner RS256
tokens; the tests use its public half), "signer-hs256" (HMAC, 32 bytes), "dir-256" (the
A256GCM key of dir), "kw-256" (an A256KW key), "rsa-enc" (RSA 2048 decryption key), "rsa-enc-other" (another one, to
which no test gives the module access) and "untrusted" (signs an inner token nobody trusts).

Every inner token has iss https://issuer.example, aud api://jwe, sub, exp in 2100 (the
"expired" one in 2020). A few plaintexts are not JWS made by a library on purpose: the
unsigned inner token (alg "none", empty signature: no signature to make) and the bare claims
set (JSON). "rsa1_5" and "zip" use jwcrypto with those algorithms explicitly allowed.
"""
import json
import sys

from jwcrypto import jwe, jwk, jws
from jwcrypto.common import base64url_encode, json_encode

ISS = "https://issuer.example"
AUD = "api://jwe"
EXP = 4102444800  # 2100-01-01
IAT = 1690000000


def claims(sub, **extra):
    c = {"iss": ISS, "aud": AUD, "sub": sub, "iat": IAT, "exp": EXP, "roles": ["Read"]}
    c.update(extra)
    return c


def sign(key, alg, payload, kid=True):
    s = jws.JWS(json_encode(payload))
    hdr = {"alg": alg, "typ": "JWT"}
    if kid:
        hdr["kid"] = key.get("kid")
    s.add_signature(key, None, json_encode(hdr))
    return s.serialize(compact=True)


def encrypt(key, alg, enc, plaintext, cty="JWT", kid=True, zip_=None, allow=None):
    hdr = {"alg": alg, "enc": enc}
    if cty:
        hdr["cty"] = cty
    if kid:
        hdr["kid"] = key.get("kid")
    if zip_:
        hdr["zip"] = zip_
    e = jwe.JWE(plaintext.encode(), json_encode(hdr))
    if allow:
        e.allowed_algs = e.allowed_algs + allow
    e.add_recipient(key)
    return e.serialize(compact=True)


def main():
    k = {
        "signer-rs256": jwk.JWK.generate(kty="RSA", size=2048, kid="signer-rs256"),
        "signer-hs256": jwk.JWK.generate(kty="oct", size=256, kid="signer-hs256"),
        "dir-256": jwk.JWK.generate(kty="oct", size=256, kid="dir-256"),
        "kw-256": jwk.JWK.generate(kty="oct", size=256, kid="kw-256"),
        "rsa-enc": jwk.JWK.generate(kty="RSA", size=2048, kid="rsa-enc"),
        "rsa-enc-other": jwk.JWK.generate(kty="RSA", size=2048, kid="rsa-enc-other"),
        "untrusted": jwk.JWK.generate(kty="RSA", size=2048, kid="signer-rs256"),
    }
    rs = sign(k["signer-rs256"], "RS256", claims("rs256-user"))
    hs = sign(k["signer-hs256"], "HS256", claims("hs256-user"))
    expired = sign(k["signer-rs256"], "RS256", claims("expired-user", exp=1600000000, iat=1590000000))
    untrusted = sign(k["untrusted"], "RS256", claims("untrusted-user"))
    unknown_kid = sign(k["untrusted"], "RS256", claims("unknown-kid-user"), kid=False)
    none = ".".join([base64url_encode(json_encode({"alg": "none", "typ": "JWT"})),
                     base64url_encode(json_encode(claims("none-user"))), ""])
    bare = json_encode(claims("bare-user"))
    d, r = k["dir-256"], k["rsa-enc"]
    t = {
        "rs256": rs,
        "dir_a256gcm_rs256": encrypt(d, "dir", "A256GCM", rs),
        "a256kw_a256gcm_rs256": encrypt(k["kw-256"], "A256KW", "A256GCM", rs),
        "oaep_a256gcm_rs256": encrypt(r, "RSA-OAEP", "A256GCM", rs),
        "oaep256_cbc_rs256": encrypt(r, "RSA-OAEP-256", "A128CBC-HS256", rs, kid=False),
        "dir_a256gcm_hs256": encrypt(d, "dir", "A256GCM", hs),
        "oaep_a256gcm_hs256": encrypt(r, "RSA-OAEP", "A256GCM", hs, cty="jwt"),
        "dir_expired": encrypt(d, "dir", "A256GCM", expired),
        "dir_untrusted": encrypt(d, "dir", "A256GCM", untrusted),
        "dir_unknown_kid": encrypt(d, "dir", "A256GCM", unknown_kid),
        "dir_none": encrypt(d, "dir", "A256GCM", none),
        "dir_bare": encrypt(d, "dir", "A256GCM", bare, cty=None),
        "oaep_other_key": encrypt(k["rsa-enc-other"], "RSA-OAEP", "A256GCM", rs),
        "rsa1_5": encrypt(r, "RSA1_5", "A128CBC-HS256", rs, allow=["RSA1_5"]),
        "zip": encrypt(d, "dir", "A256GCM", rs, zip_="DEF"),
    }
    out = {
        "generator": "python3-jwcrypto (tests/data/jwe/make_pipeline.py)",
        "iss": ISS, "aud": AUD,
        "keys": [json.loads(k[n].export(private_key=True)) for n in
                 ["signer-hs256", "dir-256", "kw-256", "rsa-enc", "rsa-enc-other"]] +
                [json.loads(k["signer-rs256"].export(private_key=False))],
        "signer_rs256_private": json.loads(k["signer-rs256"].export(private_key=True)),
        "tokens": t,
    }
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
