#!/usr/bin/python3
"""Echo API behind mod_validate_jwt: returns who the module authenticated and the claims
it passed on (environment variables VALIDATE_JWT_CLAIM_*)."""
import json
import os

body = {
    "message": "hello from the echo API",
    "remote_user": os.environ.get("REMOTE_USER"),
    "auth_type": os.environ.get("AUTH_TYPE"),
    "claims": {k[len("VALIDATE_JWT_CLAIM_"):]: v for k, v in sorted(os.environ.items())
               if k.startswith("VALIDATE_JWT_CLAIM_")},
}
print("Content-Type: application/json")
print()
print(json.dumps(body, indent=2))
