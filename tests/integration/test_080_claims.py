"""Required claims (docs/conformance.md C105-C120, #required-claims)."""

import pytest

from vjwt_env import assert_fail, assert_pass, locations
from vjwt_tokens import b64std, claims, hmac_jwk, mint

RC = "ValidateJWTRequiredClaim"


@pytest.fixture(scope="module")
def srv(httpd, keys):
    key = "ValidateJWTIssuerSigningKey %s" % b64std(keys.hs64)
    spec = {
        "presence": [key, RC + " c1", RC + " c2"],
        "all-one": [key, RC + " role match=all admin"],
        "all-two": [key, RC + " role match=all a b"],
        "any-two": [key, RC + " role match=any a b"],
        "default-match": [key, RC + " role a b"],
        "case": [key, RC + " role Admin"],
        "name-case": [key, RC + " Roles"],
        "sep-space": [key, RC + ' scp "separator= " write'],
        "no-sep": [key, RC + " scp write"],
        "sep-comma": [key, RC + " groups match=all separator=, a b c"],
        "types": [key, RC + " flag true", RC + " n 42"],
        "two-claims": [key, RC + " role match=any admin", RC + " dept sales"],
        "aud-claim": [key, RC + " aud match=any x y"],
        "aud-and-claim": [key, "ValidateJWTAudience api://x", RC + " role admin"],
        "any-edit": [key, RC + " edit true"],
    }
    return httpd.start("claims", locations(spec))


@pytest.fixture
def hkey(keys):
    return hmac_jwk(keys.hs64)


def test_missing_required_claims_named_in_order(srv, hkey):
    """C105: missing required claims fail with TokenClaimNotFound; the detail message
    (VALIDATE_JWT_ERROR_MESSAGE) names both, in configuration order."""
    r = assert_fail(srv.get("/p/presence/", mint(hkey, "HS256")), "TokenClaimNotFound")
    detail = r.header("X-VJWT-Message") or ""
    assert "c1" in detail and "c2" in detail, detail
    assert detail.index("c1") < detail.index("c2"), detail
    r = assert_fail(srv.get("/p/presence/", mint(hkey, "HS256", c1="x")), "TokenClaimNotFound")
    detail = r.header("X-VJWT-Message") or ""
    assert "c2" in detail, detail


@pytest.mark.parametrize("value", ["", "x", 0, False, ["a"], {"k": 1}])
def test_presence_only(srv, hkey, value):
    """C106: a required claim with no values only requires the claim to exist (any value,
    including "")."""
    assert_pass(srv.get("/p/presence/", mint(hkey, "HS256", c1=value, c2="y")))


def test_match_all_single_value(srv, hkey):
    """C107: match=all with one value equal to the token's string value passes."""
    assert_pass(srv.get("/p/all-one/", mint(hkey, "HS256", role="admin")))
    assert_pass(srv.get("/p/all-one/", mint(hkey, "HS256", role=["user", "admin"])))


def test_match_all_two_values_string_claim(srv, hkey):
    """C108: match=all with values a, b against the string claim "a" fails with
    TokenClaimValueNotAllowed; the detail names the claim."""
    r = assert_fail(srv.get("/p/all-two/", mint(hkey, "HS256", role="a")),
                    "TokenClaimValueNotAllowed")
    assert "role" in (r.header("X-VJWT-Message") or ""), r.header("X-VJWT-Message")


def test_match_all_two_values_array_claim(srv, hkey):
    """C109: match=all with values a, b against ["b","a","c"] passes."""
    assert_pass(srv.get("/p/all-two/", mint(hkey, "HS256", role=["b", "a", "c"])))
    assert_fail(srv.get("/p/all-two/", mint(hkey, "HS256", role=["b", "c"])),
                "TokenClaimValueNotAllowed")


def test_match_any(srv, hkey):
    """C110: match=any with a, b against ["x","b"] passes; against ["x"] fails with
    TokenClaimValueNotAllowed."""
    assert_pass(srv.get("/p/any-two/", mint(hkey, "HS256", role=["x", "b"])))
    assert_pass(srv.get("/p/any-two/", mint(hkey, "HS256", role="a")))
    assert_fail(srv.get("/p/any-two/", mint(hkey, "HS256", role=["x"])),
                "TokenClaimValueNotAllowed")


def test_missing_match_means_all(srv, hkey):
    """C111: a missing match behaves as all."""
    assert_fail(srv.get("/p/default-match/", mint(hkey, "HS256", role="a")),
                "TokenClaimValueNotAllowed")
    assert_pass(srv.get("/p/default-match/", mint(hkey, "HS256", role=["a", "b"])))


@pytest.mark.parametrize("value", ["admin", "ADMIN", " Admin", "Admin "])
def test_value_case_sensitive(srv, hkey, value):
    """C112: claim value comparison is exact and case-sensitive (Admin != admin), no
    trimming."""
    assert_fail(srv.get("/p/case/", mint(hkey, "HS256", role=value)),
                "TokenClaimValueNotAllowed")


def test_value_exact_passes(srv, hkey):
    """C112 control."""
    assert_pass(srv.get("/p/case/", mint(hkey, "HS256", role="Admin")))


def test_name_case_sensitive(srv, hkey):
    """C113: claim name lookup is case-sensitive: Roles doesn't find roles
    (TokenClaimNotFound)."""
    assert_fail(srv.get("/p/name-case/", mint(hkey, "HS256", roles=["a"])), "TokenClaimNotFound")
    assert_pass(srv.get("/p/name-case/", mint(hkey, "HS256", Roles=["a"])))


def test_separator_space(srv, hkey):
    """C114: separator " " makes scp "read write" satisfy write; without a separator it
    fails with TokenClaimValueNotAllowed."""
    assert_pass(srv.get("/p/sep-space/", mint(hkey, "HS256", scp="read write")))
    assert_fail(srv.get("/p/no-sep/", mint(hkey, "HS256", scp="read write")),
                "TokenClaimValueNotAllowed")
    assert_pass(srv.get("/p/no-sep/", mint(hkey, "HS256", scp="write")))


def test_separator_not_trimmed(srv, hkey):
    """docs/conformance.md#required-claims rule 5: pieces are not trimmed ("read  write" has pieces
    read, "", write; empties dropped; "read, write" with separator " " has "read," and "write")."""
    assert_pass(srv.get("/p/sep-space/", mint(hkey, "HS256", scp="read  write")))
    assert_fail(srv.get("/p/sep-space/", mint(hkey, "HS256", scp="read\twrite")),
                "TokenClaimValueNotAllowed")


def test_separator_splits_array_elements(srv, hkey):
    """C115: separator "," splits each element of an array claim (["a,b","c"] has a, b,
    c)."""
    assert_pass(srv.get("/p/sep-comma/", mint(hkey, "HS256", groups=["a,b", "c"])))
    assert_pass(srv.get("/p/sep-comma/", mint(hkey, "HS256", groups="c,b,a")))
    assert_fail(srv.get("/p/sep-comma/", mint(hkey, "HS256", groups=["a,b"])),
                "TokenClaimValueNotAllowed")


@pytest.mark.parametrize("flag,n,ok", [(True, 42, True), ("true", "42", True),
                                       (False, 42, False), (True, 43, False),
                                       (True, "42", True), ("true", 42, True)])
def test_boolean_and_number_claims(srv, hkey, flag, n, ok):
    """C116: JSON true matches "true" and JSON 42 matches "42" (false / 43 don't)."""
    r = srv.get("/p/types/", mint(hkey, "HS256", flag=flag, n=n))
    if ok:
        assert_pass(r)
    else:
        assert_fail(r, "TokenClaimValueNotAllowed")


def test_number_claim_value_in_detail(srv, hkey):
    """docs/conformance.md#required-claims rule 3: the TokenClaimValueNotAllowed detail names the
    claim and the token's value (a JSON number as its decimal text)."""
    r = assert_fail(srv.get("/p/types/", mint(hkey, "HS256", flag=True, n=43)),
                    "TokenClaimValueNotAllowed")
    detail = r.header("X-VJWT-Message") or ""
    assert "n" in detail and "43" in detail, detail


def test_method_based_edit_flag(srv, hkey):
    """S11: edit = true (JSON boolean) or "true" passes; false fails."""
    assert_pass(srv.get("/p/any-edit/", mint(hkey, "HS256", edit=True)))
    assert_pass(srv.get("/p/any-edit/", mint(hkey, "HS256", edit="true")))
    assert_fail(srv.get("/p/any-edit/", mint(hkey, "HS256", edit=False)),
                "TokenClaimValueNotAllowed")


def test_null_claim_counts_as_missing(srv, hkey):
    """C117: a JSON null claim counts as missing (TokenClaimNotFound)."""
    cs = claims(c2="y")
    cs["c1"] = None
    assert_fail(srv.get("/p/presence/", mint(hkey, "HS256", cs)), "TokenClaimNotFound")


def test_two_claims_both_required(srv, hkey):
    """C118: two required claims are ANDed: a token meeting only one fails with
    TokenClaimValueNotAllowed."""
    assert_pass(srv.get("/p/two-claims/", mint(hkey, "HS256", role="admin", dept="sales")))
    assert_fail(srv.get("/p/two-claims/", mint(hkey, "HS256", role="admin", dept="hr")),
                "TokenClaimValueNotAllowed")
    assert_fail(srv.get("/p/two-claims/", mint(hkey, "HS256", role="user", dept="sales")),
                "TokenClaimValueNotAllowed")


def test_missing_checked_before_values(srv, hkey):
    """docs/conformance.md#required-claims rules 2-3: presence of all claims is checked before any
    value: a wrong value in claim 1 and a missing claim 2 is TokenClaimNotFound."""
    assert_fail(srv.get("/p/two-claims/", mint(hkey, "HS256", role="user")),
                "TokenClaimNotFound")


def test_required_aud_claim_any(srv, hkey):
    """C119: a required claim aud with match=any matches one element of an array aud."""
    assert_pass(srv.get("/p/aud-claim/", mint(hkey, "HS256", aud=["z", "y"])))
    assert_fail(srv.get("/p/aud-claim/", mint(hkey, "HS256", aud=["z"])),
                "TokenClaimValueNotAllowed")


def test_audience_before_claims(srv, hkey):
    """C120: a token failing the audience check and a required claim fails with
    TokenAudienceNotAllowed (claims evaluated last)."""
    assert_fail(srv.get("/p/aud-and-claim/", mint(hkey, "HS256", aud="api://other")),
                "TokenAudienceNotAllowed")
    assert_fail(srv.get("/p/aud-and-claim/", mint(hkey, "HS256", aud="api://x")),
                "TokenClaimNotFound")
