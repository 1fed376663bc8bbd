#!/usr/bin/python3
# Backend for the mod_validate_jwt integration tests.
#
# Records that it was reached (the X-Test-Id request header, one line per hit, into
# the hit log named by VJWT_HITLOG, set with SetEnv in the test server config) and
# answers with the whole CGI environment as JSON, so the tests can see what httpd
# passed on: HTTP_AUTHORIZATION, REMOTE_USER, JWT_CLAIM_*, X-JWT-Claim-* headers, ...
import json
import os
import sys

hitlog = os.environ.get("VJWT_HITLOG")
if hitlog:
    with open(hitlog, "a", encoding="utf-8") as f:
        f.write(os.environ.get("HTTP_X_TEST_ID", "-") + "\n")

body = json.dumps(dict(os.environ), sort_keys=True).encode("utf-8")
out = sys.stdout.buffer
out.write(b"Content-Type: application/json\r\n")
out.write(b"X-Backend: echo\r\n")
out.write(("Content-Length: %d\r\n\r\n" % len(body)).encode("ascii"))
out.write(body)
out.flush()
