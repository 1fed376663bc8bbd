#!/usr/bin/python3
"""Writes one token and one key argument per algorithm into DIR for bench/run.sh."""
import base64
import json
import sys
import time

from jwcrypto import jwk, jwt

d = sys.argv[1]
now = int(time.time())
claims = {"iss": "https://bench", "aud": "api://bench", "sub": "bench", "exp": now + 86400}
specs = {
    "HS256": dict(kty="oct", size=256),
    "RS256": dict(kty="RSA", size=2048),
    "PS256": dict(kty="RSA", size=2048),
    "ES256": dict(kty="EC", crv="P-256"),
    "ES384": dict(kty="EC", crv="P-384"),
    "EdDSA": dict(kty="OKP", crv="Ed25519"),
}
for alg, spec in specs.items():
    key = jwk.JWK.generate(**spec)
    t = jwt.JWT(header={"alg": alg}, claims=claims)
    t.make_signed_token(key)
    open(f"{d}/{alg}.jwt", "w").write(t.serialize())
    if spec["kty"] == "oct":
        k = json.loads(key.export_symmetric())["k"]
        raw = base64.urlsafe_b64decode(k + "=" * (-len(k) % 4))
        arg = base64.b64encode(raw).decode()
    else:
        open(f"{d}/{alg}.json", "w").write(key.export_public())
        arg = f"file:{d}/{alg}.json"
    open(f"{d}/{alg}.key", "w").write(arg)
