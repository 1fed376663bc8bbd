#!/usr/bin/python3
"""The demo's stand-in identity provider: makes an RSA key pair (jwcrypto) and mints RS256
access tokens with it. Usage: mint.py keygen DIR | mint.py token DIR [ttl-seconds]"""
import json
import sys
import time
import uuid

from jwcrypto import jwk, jwt

ISSUER = "https://idp.demo.local"
AUDIENCE = "api://echo"


def keygen(d):
    key = jwk.JWK.generate(kty="RSA", size=2048, kid="demo-key-1", use="sig", alg="RS256")
    with open(f"{d}/idp-private.json", "w") as f:
        f.write(key.export_private())
    with open(f"{d}/idp-public.pem", "wb") as f:
        f.write(key.export_to_pem())


def token(d, ttl):
    with open(f"{d}/idp-private.json") as f:
        key = jwk.JWK.from_json(f.read())
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "alice", "scp": "echo.read echo.write",
              "iat": now, "nbf": now, "exp": now + ttl, "jti": str(uuid.uuid4())}
    t = jwt.JWT(header={"alg": "RS256", "kid": json.loads(key.export_public())["kid"], "typ": "JWT"}, claims=claims)
    t.make_signed_token(key)
    print(t.serialize())


if __name__ == "__main__":
    if sys.argv[1] == "keygen":
        keygen(sys.argv[2])
    else:
        token(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 3600)
