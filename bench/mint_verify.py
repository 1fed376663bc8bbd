#!/usr/bin/python3
"""Writes the keys and tokens of bench/bench_verify to FILE (JSON): one public JWK (the
secret for HS256) and one signed token per algorithm, from python3-jwcrypto."""
import json
import sys

from jwcrypto import jwk, jws

specs = {
    "HS256": dict(kty="oct", size=256),
    "RS256": dict(kty="RSA", size=2048),
    "PS256": dict(kty="RSA", size=2048),
    "ES256": dict(kty="EC", crv="P-256"),
    "EdDSA": dict(kty="OKP", crv="Ed25519"),
}
out = []
for alg, spec in specs.items():
    key = jwk.JWK.generate(**spec)
    s = jws.JWS(json.dumps({"sub": "bench", "aud": "api://bench"}))
    s.add_signature(key, None, json.dumps({"alg": alg}))
    pub = json.loads(key.export_symmetric() if spec["kty"] == "oct" else key.export_public())
    out.append({"alg": alg, "jwk": pub, "token": s.serialize(compact=True)})
json.dump(out, open(sys.argv[1], "w"), indent=1)
