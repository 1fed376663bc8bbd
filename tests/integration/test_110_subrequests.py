"""Subrequests (mod_include's <!--#include virtual -->) into a protected location: the
subrequest is refused without writing a response of its own, so the including page stays a
normal page (no JSON failure body spliced in, no 500), and with a valid token the protected
content is included."""

import pytest

from vjwt_env import load_modules, location
from vjwt_tokens import b64std, hmac_jwk, mint

PAGE = 'before|<!--#include virtual="/s/prot/" -->|after\n'


@pytest.fixture(scope="module")
def srv(httpd, keys):
    httpd.write_file("htdocs/ssi/page.shtml", PAGE)
    server_conf = "\n".join([
        load_modules("include"),
        '<Directory "%s">' % httpd.path("htdocs", "ssi"),
        "    Options +Includes",
        "    AddOutputFilter INCLUDES .shtml",
        "    AddType text/html .shtml",
        "</Directory>",
        'Alias /ssi/ "%s/"' % httpd.path("htdocs", "ssi"),
    ])
    locs = location("prot", "ValidateJWTIssuerSigningKey %s" % b64std(keys.hs64), prefix="/s/")
    return httpd.start("subrequests", locs, server_conf=server_conf,
                       allow_startup=[r"AH0"])


def test_subrequest_refused_without_json_body(srv, expect_log):
    """No token: the include fails inside the page; the page itself is served (200) and
    holds neither the JSON failure body nor the protected content."""
    expect_log(r"VJWT00100: JWT rejected: reason=TokenNotPresent")
    expect_log(r"AH01339|unable to include")
    r = srv.get("/ssi/page.shtml")
    assert r.status == 200, r
    body = r.body.decode() if isinstance(r.body, bytes) else r.body
    assert body.startswith("before|") and body.rstrip().endswith("|after"), body
    assert '"statusCode"' not in body, body


def test_subrequest_with_valid_token_includes_content(srv, keys):
    """A valid token on the main request authenticates the subrequest too."""
    r = srv.get("/ssi/page.shtml", mint(hmac_jwk(keys.hs64), "HS256"))
    body = r.body.decode() if isinstance(r.body, bytes) else r.body
    assert r.status == 200, r
    assert body.startswith("before|") and '"statusCode"' not in body, body
    assert "error occurred" not in body, body
