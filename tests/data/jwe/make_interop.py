#!/usr/bin/python3
"""Writes interop.json: compact JWE tokens minted by python3-jwcrypto for every key-management
algorithm x content encryption pair the module supports, with the (test-only) private keys
as JWKs. tests/unit/test_jwe.c decrypts every token with those keys.

    /usr/bin/python3 tests/data/jwe/make_interop.py [OLD.json] > tests/data/jwe/interop.json

Keys are fresh on every run unless OLD.json (a previous output) is given: then its keys are
used again (tests/fuzz/fuzz_jwe.c embeds some of them). Each token's plaintext is an HS256
JWS (cty "JWT"), as a nested JWT would carry.

Two tokens are put together by hand with the "cryptography" primitives jwcrypto uses, since
no JOSE library makes a wrong one: dir + A128CBC-HS256 with a valid tag over a plaintext
whose PKCS#7 padding is wrong (refused), and the same construction with correct padding
(accepted, which shows that the construction and its tag are right).
"""
import hashlib
import hmac
import json
import os
import sys

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from jwcrypto import jwe, jwk, jws
from jwcrypto.common import base64url_decode, base64url_encode, json_encode

ENCS = ["A128CBC-HS256", "A192CBC-HS384", "A256CBC-HS512", "A128GCM", "A192GCM", "A256GCM"]
CEK_BITS = {"A128CBC-HS256": 256, "A192CBC-HS384": 384, "A256CBC-HS512": 512,
            "A128GCM": 128, "A192GCM": 192, "A256GCM": 256}
ALGS = ["dir", "A128KW", "A192KW", "A256KW", "RSA-OAEP", "RSA-OAEP-256",
        "ECDH-ES", "ECDH-ES+A128KW", "ECDH-ES+A192KW", "ECDH-ES+A256KW"]
CURVES = ["P-256", "P-384", "P-521"]


def cbc_hs256_by_hand(key, hdr, padded):
    """Compact dir + A128CBC-HS256 token over an already padded plaintext (RFC 7518 5.2.2)."""
    mac_key, enc_key = key[:16], key[16:]
    protected = base64url_encode(json_encode(hdr))
    iv = os.urandom(16)
    enc = Cipher(algorithms.AES(enc_key), modes.CBC(iv)).encryptor()
    ct = enc.update(padded) + enc.finalize()
    aad = protected.encode()
    al = (len(aad) * 8).to_bytes(8, "big")
    tag = hmac.new(mac_key, aad + iv + ct + al, hashlib.sha256).digest()[:16]
    return ".".join([protected, "", base64url_encode(iv), base64url_encode(ct),
                     base64url_encode(tag)])


def main():
    keys = {}
    if len(sys.argv) > 1:
        with open(sys.argv[1]) as f:
            for k in json.load(f)["keys"]:
                keys[k["kid"]] = jwk.JWK(**k)

    def key(kid, **gen):
        if kid not in keys:
            keys[kid] = jwk.JWK.generate(kid=kid, **gen)
        return kid, keys[kid]

    signer = jwk.JWK.generate(kty="oct", size=256, kid="inner-hs256")
    tokens = []
    n = 0
    for alg in ALGS:
        for enc in ENCS:
            if alg == "dir":
                targets = [key("dir-%d" % CEK_BITS[enc], kty="oct", size=CEK_BITS[enc])]
            elif alg.startswith("A"):
                targets = [key("kw-%s" % alg[1:4], kty="oct", size=int(alg[1:4]))]
            elif alg.startswith("RSA"):
                targets = [key("rsa-2048", kty="RSA", size=2048)]
            else:
                targets = [key("ec-%s" % c, kty="EC", crv=c) for c in CURVES]
            for kid, k in targets:
                n += 1
                inner = jws.JWS(json_encode({"sub": "interop-%d" % n, "alg": alg, "enc": enc}))
                inner.add_signature(signer, None, json_encode({"alg": "HS256"}))
                plaintext = inner.serialize(compact=True)
                hdr = {"alg": alg, "enc": enc, "cty": "JWT"}
                if n % 2:  # every other token names its key
                    hdr["kid"] = kid
                tok = jwe.JWE(plaintext.encode(), json_encode(hdr))
                tok.add_recipient(k)
                tokens.append({"alg": alg, "enc": enc, "kid": kid,
                               "jwe": tok.serialize(compact=True), "plaintext": plaintext})
    # Tokens the module must refuse, with a word of the detail it gives.
    refused = []

    def mint(name, detail, payload, hdr, kid):
        tok = jwe.JWE(payload, json_encode(hdr))
        tok.allowed_algs = ALGS + ENCS + ["RSA1_5"]
        tok.add_recipient(keys[kid])
        refused.append({"name": name, "detail": detail, "jwe": tok.serialize(compact=True)})

    inner = jwe.JWE(plaintext.encode(), json_encode({"alg": "A128KW", "enc": "A128GCM"}))
    inner.add_recipient(keys["kw-128"])
    inner = inner.serialize(compact=True)
    mint("nested JWE, cty JWT", "itself a JWE", inner.encode(),
         {"alg": "dir", "enc": "A256GCM", "cty": "JWT"}, "dir-256")
    mint("nested JWE, no cty", "itself a JWE", inner.encode(),
         {"alg": "A128KW", "enc": "A128GCM"}, "kw-128")
    mint("nested JWE, cty JWE", "cty", inner.encode(),
         {"alg": "dir", "enc": "A256GCM", "cty": "JWE"}, "dir-256")
    mint("zip DEF", "zip", plaintext.encode(),
         {"alg": "A128KW", "enc": "A128GCM", "zip": "DEF"}, "kw-128")
    mint("RSA1_5", "RSA1_5", plaintext.encode(),
         {"alg": "RSA1_5", "enc": "A128GCM"}, "rsa-2048")
    mint("cty other than JWT", "cty", b'{"sub":"x"}',
         {"alg": "dir", "enc": "A256GCM", "cty": "json"}, "dir-256")
    dir256 = base64url_decode(json.loads(keys["dir-256"].export())["k"])
    body = b'{"sub":"padding"}'
    good = body + bytes([16 - len(body) % 16]) * (16 - len(body) % 16)
    bad = body + bytes([0]) * (16 - len(body) % 16)
    hdr = {"alg": "dir", "enc": "A128CBC-HS256", "kid": "dir-256"}
    tokens.append({"alg": "dir", "enc": "A128CBC-HS256", "kid": "dir-256",
                   "jwe": cbc_hs256_by_hand(dir256, dict(hdr, cty="JWT"), good),
                   "plaintext": body.decode(), "by_hand": True})
    refused.append({"name": "CBC padding wrong, tag right", "detail": "decryption failed",
                    "jwe": cbc_hs256_by_hand(dir256, hdr, bad)})
    out = {
        "generator": "python3-jwcrypto (tests/data/jwe/make_interop.py)",
        "keys": [json.loads(k.export(private_key=True)) for k in keys.values()],
        "tokens": tokens,
        "refused": refused,
    }
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
