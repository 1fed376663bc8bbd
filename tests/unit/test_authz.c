/*
 * test_authz.c - claim paths (RFC 6901 JSON Pointer), scopes, claim-value matching, token
 * type and age, the cookie token source, token removal, ValidateJWTClaimHeader values and the
 * payload export (vjwt_authz.h, vjwt_source.h, vjwt_export.h).
 */
#include "testutil.h"

#include <string.h>
#include <apr_strings.h>

#include "vjwt_authz.h"
#include "vjwt_claims.h"
#include "vjwt_export.h"
#include "vjwt_policy.h"
#include "vjwt_source.h"
#include "vjwt_token.h"
#include "vjwt_verdict.h"

#define POOL ((apr_pool_t *)*state)
#define NOW  1700000000.0

static apr_status_t json_cleanup(void *data)
{
    json_decref((json_t *)data);
    return APR_SUCCESS;
}

static json_t *J(apr_pool_t *p, const char *text)
{
    json_error_t err;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &err);
    if (!j) {
        fail_msg("bad test JSON '%s': %s", text, err.text);
    }
    apr_pool_cleanup_register(p, j, json_cleanup, apr_pool_cleanup_null);
    return j;
}

/* The compact JSON text of what name designates in payload, or "(none)". */
static const char *at(apr_pool_t *p, const json_t *payload, const char *name)
{
    const json_t *v = vjwt_claim_lookup(payload, name);
    char *s;
    const char *out;
    if (!v) {
        return "(none)";
    }
    s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    out = apr_pstrdup(p, s);
    free(s);
    return out;
}

static const char *DOC = "{\"sub\":\"u\",\"realm_access\":{\"roles\":[\"admin\",\"user\"]},"
                         "\"resource_access\":{\"orders-api\":{\"roles\":[\"read\"]}},"
                         "\"a/b\":1,\"m~n\":2,\"\":3,\"x\":{\"\":4},\"https://example.com/roles\":"
                         "[\"r1\"],\"arr\":[10,[20,21],{\"k\":\"v\"}],\"s\":\"str\",\"n\":7}";

static void test_pointer_basic(void **state)
{
    json_t *d = J(POOL, DOC);
    assert_string_equal(at(POOL, d, "/realm_access/roles"), "[\"admin\",\"user\"]");
    assert_string_equal(at(POOL, d, "/resource_access/orders-api/roles"), "[\"read\"]");
    assert_string_equal(at(POOL, d, "/sub"), "\"u\"");
    /* literal names stay literal, a namespaced URL too */
    assert_string_equal(at(POOL, d, "sub"), "\"u\"");
    assert_string_equal(at(POOL, d, "https://example.com/roles"), "[\"r1\"]");
    assert_string_equal(at(POOL, d, "realm_access/roles"), "(none)");
}

static void test_pointer_escapes(void **state)
{
    json_t *d = J(POOL, DOC);
    assert_string_equal(at(POOL, d, "/a~1b"), "1");
    assert_string_equal(at(POOL, d, "/m~0n"), "2");
    assert_string_equal(at(POOL, d, "/a/b"), "(none)");
    /* "" member and "/x/" (member "" of x) */
    assert_string_equal(at(POOL, d, "/"), "3");
    assert_string_equal(at(POOL, d, "/x/"), "4");
    /* a malformed escape designates nothing */
    assert_string_equal(at(POOL, d, "/m~2n"), "(none)");
    assert_string_equal(at(POOL, d, "/m~"), "(none)");
    /* ~01 is "~1" (not "/"): RFC 6901 section 4 order */
    assert_string_equal(at(POOL, J(POOL, "{\"~1\":5}"), "/~01"), "5");
}

static void test_pointer_arrays(void **state)
{
    json_t *d = J(POOL, DOC);
    assert_string_equal(at(POOL, d, "/arr/0"), "10");
    assert_string_equal(at(POOL, d, "/arr/1/1"), "21");
    assert_string_equal(at(POOL, d, "/arr/2/k"), "\"v\"");
    assert_string_equal(at(POOL, d, "/arr/3"), "(none)");
    assert_string_equal(at(POOL, d, "/arr/-"), "(none)");
    assert_string_equal(at(POOL, d, "/arr/01"), "(none)");
    assert_string_equal(at(POOL, d, "/arr/+1"), "(none)");
    assert_string_equal(at(POOL, d, "/arr/99999999999999999999"), "(none)");
    assert_string_equal(at(POOL, d, "/realm_access/roles/1"), "\"user\"");
}

static void test_pointer_missing_and_leaf(void **state)
{
    json_t *d = J(POOL, DOC);
    assert_string_equal(at(POOL, d, "/nope"), "(none)");
    assert_string_equal(at(POOL, d, "/realm_access/nope/deeper"), "(none)");
    /* through a string or a number: nothing */
    assert_string_equal(at(POOL, d, "/s/0"), "(none)");
    assert_string_equal(at(POOL, d, "/n/x"), "(none)");
    assert_null(vjwt_claim_lookup(NULL, "/sub"));
    assert_null(vjwt_claim_lookup(J(POOL, "[1]"), "sub"));
}

static void test_claim_name_check(void **state)
{
    char *long_path = apr_palloc(POOL, VJWT_CLAIM_PATH_MAX + 2);
    memset(long_path, 'a', VJWT_CLAIM_PATH_MAX + 1);
    long_path[0] = '/';
    long_path[VJWT_CLAIM_PATH_MAX + 1] = 0;
    assert_null(vjwt_claim_name_check("sub"));
    assert_null(vjwt_claim_name_check("/a~0b/c~1d"));
    assert_null(vjwt_claim_name_check("weird~name")); /* literal: no rule */
    assert_non_null(vjwt_claim_name_check(""));
    assert_non_null(vjwt_claim_name_check("/a~2"));
    assert_non_null(vjwt_claim_name_check("/a~"));
    assert_non_null(vjwt_claim_name_check(long_path));
}

static void test_required_claim_paths(void **state)
{
    json_t *d = J(POOL, DOC);
    apr_array_header_t *claims = apr_array_make(POOL, 1, sizeof(vjwt_claim_req_t *));
    vjwt_claim_req_t *c = apr_pcalloc(POOL, sizeof(*c));
    vjwt_verdict_t v = {VJWT_R_OK, NULL};
    c->name = "/realm_access/roles";
    c->values = strs(POOL, "admin");
    APR_ARRAY_PUSH(claims, vjwt_claim_req_t *) = c;
    assert_int_equal(vjwt_claims_check_required(POOL, d, claims, &v), APR_SUCCESS);
    c->values = strs(POOL, "root");
    assert_int_not_equal(vjwt_claims_check_required(POOL, d, claims, &v), APR_SUCCESS);
    assert_int_equal(v.reason, VJWT_R_TOKEN_CLAIM_VALUE_NOT_ALLOWED);
    c->name = "/realm_access/missing";
    assert_int_not_equal(vjwt_claims_check_required(POOL, d, claims, &v), APR_SUCCESS);
    assert_int_equal(v.reason, VJWT_R_TOKEN_CLAIM_NOT_FOUND);
}

static void test_scopes(void **state)
{
    apr_array_header_t *s;
    s = vjwt_token_scopes(POOL, J(POOL, "{\"scope\":\"  read  write \"}"));
    assert_int_equal(s->nelts, 2);
    assert_string_equal(APR_ARRAY_IDX(s, 0, const char *), "read");
    assert_string_equal(APR_ARRAY_IDX(s, 1, const char *), "write");
    s = vjwt_token_scopes(POOL, J(POOL, "{\"scp\":\"a b\"}"));
    assert_int_equal(s->nelts, 2);
    s = vjwt_token_scopes(POOL, J(POOL, "{\"scp\":[\"a\",1,\"\",\"b c\"]}"));
    assert_int_equal(s->nelts, 2); /* non-strings and "" skipped; array items are whole */
    assert_string_equal(APR_ARRAY_IDX(s, 1, const char *), "b c");
    s = vjwt_token_scopes(POOL, J(POOL, "{\"scope\":[\"a\"],\"scp\":7}"));
    assert_int_equal(s->nelts, 0); /* scope must be a string */
    s = vjwt_token_scopes(POOL, J(POOL, "{\"scope\":\"x\",\"scp\":[\"y\"]}"));
    assert_int_equal(s->nelts, 2);

    assert_true(vjwt_scopes_cover(POOL, J(POOL, "{\"scope\":\"a b c\"}"), strs(POOL, "c", "a")));
    assert_false(vjwt_scopes_cover(POOL, J(POOL, "{\"scope\":\"a b c\"}"), strs(POOL, "a", "d")));
    assert_false(vjwt_scopes_cover(POOL, J(POOL, "{\"scope\":\"ab\"}"), strs(POOL, "a")));
    assert_false(vjwt_scopes_cover(POOL, J(POOL, "{}"), strs(POOL, "a")));
    assert_true(vjwt_scopes_cover(POOL, J(POOL, "{\"scp\":[\"A\",\"b\"]}"), strs(POOL, "b")));
    assert_false(vjwt_scopes_cover(POOL, J(POOL, "{\"scp\":[\"A\"]}"), strs(POOL, "a")));
}

static void test_scopes_capped(void **state)
{
    apr_array_header_t *parts = apr_array_make(POOL, 2000, sizeof(const char *));
    int i;
    for (i = 0; i < 1500; i++) {
        APR_ARRAY_PUSH(parts, const char *) = "s";
    }
    assert_int_equal(
        vjwt_token_scopes(POOL, J(POOL, apr_psprintf(POOL, "{\"scope\":\"%s\"}",
                                                     apr_array_pstrcat(POOL, parts, ' '))))
            ->nelts,
        VJWT_SCOPES_MAX);
}

static void test_claim_value_allowed(void **state)
{
    assert_true(vjwt_claim_value_allowed(POOL, J(POOL, "\"admin\""), strs(POOL, "x", "admin")));
    assert_true(vjwt_claim_value_allowed(POOL, J(POOL, "[\"u\",\"admin\"]"), strs(POOL, "admin")));
    assert_false(vjwt_claim_value_allowed(POOL, J(POOL, "\"Admin\""), strs(POOL, "admin")));
    assert_true(vjwt_claim_value_allowed(POOL, J(POOL, "42"), strs(POOL, "42")));
    assert_true(vjwt_claim_value_allowed(POOL, J(POOL, "true"), strs(POOL, "true")));
    assert_true(vjwt_claim_value_allowed(POOL, J(POOL, "1.5"), strs(POOL, "1.5")));
    assert_false(vjwt_claim_value_allowed(POOL, J(POOL, "null"), strs(POOL, "null")));
    assert_false(vjwt_claim_value_allowed(POOL, J(POOL, "[]"), strs(POOL, "")));
}

static void test_token_type(void **state)
{
    vjwt_verdict_t v = {VJWT_R_OK, NULL};
    apr_array_header_t *at_jwt = strs(POOL, "at+jwt");
    assert_int_equal(vjwt_check_token_type(POOL, J(POOL, "{\"typ\":\"at+jwt\"}"), at_jwt, &v),
                     APR_SUCCESS);
    assert_int_equal(vjwt_check_token_type(POOL, J(POOL, "{\"typ\":\"AT+JWT\"}"), at_jwt, &v),
                     APR_SUCCESS);
    assert_int_equal(
        vjwt_check_token_type(POOL, J(POOL, "{\"typ\":\"application/at+jwt\"}"), at_jwt, &v),
        APR_SUCCESS);
    assert_int_equal(vjwt_check_token_type(POOL, J(POOL, "{\"typ\":\"at+jwt\"}"),
                                           strs(POOL, "Application/AT+JWT"), &v),
                     APR_SUCCESS);
    assert_int_not_equal(vjwt_check_token_type(POOL, J(POOL, "{\"typ\":\"JWT\"}"), at_jwt, &v),
                         APR_SUCCESS);
    assert_int_equal(v.reason, VJWT_R_JWT_INVALID);
    assert_contains(v.detail, "at+jwt");
    assert_int_not_equal(vjwt_check_token_type(POOL, J(POOL, "{}"), at_jwt, &v), APR_SUCCESS);
    assert_contains(v.detail, "missing");
    assert_int_not_equal(vjwt_check_token_type(POOL, J(POOL, "{\"typ\":1}"), at_jwt, &v),
                         APR_SUCCESS);
    assert_int_not_equal(
        vjwt_check_token_type(POOL, J(POOL, "{\"typ\":\"application/\"}"), at_jwt, &v),
        APR_SUCCESS);
    /* unset: not checked */
    assert_int_equal(vjwt_check_token_type(POOL, J(POOL, "{}"), NULL, &v), APR_SUCCESS);
    assert_null(vjwt_token_type_check("at+jwt"));
    assert_non_null(vjwt_token_type_check(""));
    assert_non_null(vjwt_token_type_check("application/"));
    assert_non_null(vjwt_token_type_check("a b"));
}

/* vjwt_check_token_age on a payload's time claims. */
static apr_status_t token_age(apr_pool_t *p, const char *payload, int max_age, int skew, double now,
                              vjwt_verdict_t *v)
{
    vjwt_lifetime_t lt;
    vjwt_lifetime_of(J(p, payload), &lt);
    return vjwt_check_token_age(p, &lt, max_age, skew, now, v);
}

static void test_token_age(void **state)
{
    vjwt_verdict_t v = {VJWT_R_OK, NULL};
    const char *fmt = "{\"iat\":%.0f}";
    assert_int_equal(token_age(POOL, ("{}"), -1, 0, NOW, &v), APR_SUCCESS);
    assert_int_not_equal(token_age(POOL, ("{}"), 60, 0, NOW, &v), APR_SUCCESS);
    assert_int_equal(v.reason, VJWT_R_TOKEN_EXPIRED);
    /* exactly max_age old passes, one second more fails */
    assert_int_equal(token_age(POOL, (apr_psprintf(POOL, fmt, NOW - 60)), 60, 0, NOW, &v),
                     APR_SUCCESS);
    assert_int_not_equal(token_age(POOL, (apr_psprintf(POOL, fmt, NOW - 61)), 60, 0, NOW, &v),
                         APR_SUCCESS);
    assert_int_equal(v.reason, VJWT_R_TOKEN_EXPIRED);
    /* skew widens both ends */
    assert_int_equal(token_age(POOL, (apr_psprintf(POOL, fmt, NOW - 70)), 60, 10, NOW, &v),
                     APR_SUCCESS);
    assert_int_equal(token_age(POOL, (apr_psprintf(POOL, fmt, NOW + 10)), 60, 10, NOW, &v),
                     APR_SUCCESS);
    assert_int_not_equal(token_age(POOL, (apr_psprintf(POOL, fmt, NOW + 11)), 60, 10, NOW, &v),
                         APR_SUCCESS);
    assert_int_equal(v.reason, VJWT_R_TOKEN_EXPIRED);
    assert_int_not_equal(token_age(POOL, (apr_psprintf(POOL, fmt, NOW + 1)), 60, 0, NOW, &v),
                         APR_SUCCESS);
}

static void test_cookies(void **state)
{
    int several = 0;
    assert_string_equal(
        vjwt_token_from_cookies(POOL, strs(POOL, "a=1; jwt=tok; b=2"), "jwt", &several), "tok");
    assert_int_equal(several, 0);
    assert_string_equal(vjwt_token_from_cookies(POOL, strs(POOL, "jwt=\"tok\""), "jwt", &several),
                        "tok");
    assert_null(vjwt_token_from_cookies(POOL, strs(POOL, "JWT=tok"), "jwt", &several));
    assert_null(vjwt_token_from_cookies(POOL, strs(POOL, "xjwt=tok"), "jwt", &several));
    assert_null(vjwt_token_from_cookies(POOL, strs(POOL, "jwt="), "jwt", &several));
    assert_null(vjwt_token_from_cookies(POOL, NULL, "jwt", &several));
    assert_null(vjwt_token_from_cookies(POOL, strs(POOL, "jwt=1; jwt=2"), "jwt", &several));
    assert_int_equal(several, 1);
    several = 0;
    assert_null(vjwt_token_from_cookies(POOL, strs(POOL, "jwt=1", "a=b;jwt=2"), "jwt", &several));
    assert_int_equal(several, 1);
    several = 0;
    assert_null(vjwt_token_from_cookies(POOL, strs(POOL, "jwt=1; jwt="), "jwt", &several));
    assert_int_equal(several, 1);
    /* two Cookie lines as httpd joins them */
    several = 0;
    assert_null(vjwt_token_from_cookies(POOL, strs(POOL, "jwt=1, jwt=2"), "jwt", &several));
    assert_int_equal(several, 1);
    several = 0;
    assert_string_equal(vjwt_token_from_cookies(POOL, strs(POOL, "a=1, jwt=t"), "jwt", &several),
                        "t");
}

static void test_cookie_remove(void **state)
{
    assert_string_equal(vjwt_cookie_remove(POOL, "a=1; jwt=tok; b=2", "jwt"), "a=1; b=2");
    assert_string_equal(vjwt_cookie_remove(POOL, "jwt=tok;b=2", "jwt"), "b=2");
    assert_null(vjwt_cookie_remove(POOL, "jwt=tok", "jwt"));
    assert_string_equal(vjwt_cookie_remove(POOL, "a=1", "jwt"), "a=1");
    assert_string_equal(vjwt_cookie_remove(POOL, "a=1; jwt=t, b=2", "jwt"), "a=1; b=2");
}

static void test_query_remove(void **state)
{
    assert_string_equal(vjwt_query_remove(POOL, "a=1&access_token=x&b=%20", "access_token"),
                        "a=1&b=%20");
    assert_null(vjwt_query_remove(POOL, "access_token=x", "access_token"));
    assert_string_equal(vjwt_query_remove(POOL, "access%5Ftoken=x&c", "access_token"), "c");
    assert_string_equal(vjwt_query_remove(POOL, "access_tokenx=1", "access_token"),
                        "access_tokenx=1");
    assert_string_equal(vjwt_query_remove(POOL, "t=1&t=2&u=3", "t"), "u=3");
    assert_null(vjwt_query_remove(POOL, NULL, "t"));
    assert_string_equal(vjwt_query_remove(POOL, "a&&b", "t"), "a&b");
    assert_string_equal(vjwt_query_remove(POOL, "%zz=1", "t"), "%zz=1");
}

static void test_claim_header_value(void **state)
{
    assert_string_equal(vjwt_claim_header_value(POOL, J(POOL, "\"a b\"")), "a b");
    assert_string_equal(vjwt_claim_header_value(POOL, J(POOL, "\"a,b\"")), "a,b");
    assert_string_equal(vjwt_claim_header_value(POOL, J(POOL, "42")), "42");
    assert_string_equal(vjwt_claim_header_value(POOL, J(POOL, "1.5")), "1.5");
    assert_string_equal(vjwt_claim_header_value(POOL, J(POOL, "false")), "false");
    assert_string_equal(vjwt_claim_header_value(POOL, J(POOL, "{\"k\": [1, 2]}")), "{\"k\":[1,2]}");
    assert_string_equal(vjwt_claim_header_value(POOL, J(POOL, "[\"a\",\"b,c\",3,true,[1,2]]")),
                        "a,\"b,c\",3,true,[1,2]");
    assert_string_equal(vjwt_claim_header_value(POOL, J(POOL, "[]")), "");
    assert_string_equal(vjwt_claim_header_value(POOL, J(POOL, "\"x\\r\\ny\"")), "x??y");
    assert_null(vjwt_claim_header_value(POOL, J(POOL, "null")));
    assert_null(vjwt_claim_header_value(POOL, NULL));
}

static void test_claim_header_caps(void **state)
{
    char *big = apr_palloc(POOL, VJWT_CLAIM_HEADER_MAX_BYTES + 4);
    apr_array_header_t *parts = apr_array_make(POOL, 1100, sizeof(const char *));
    int i;
    memset(big, 'x', VJWT_CLAIM_HEADER_MAX_BYTES + 1);
    big[VJWT_CLAIM_HEADER_MAX_BYTES + 1] = 0;
    assert_null(vjwt_claim_header_value(POOL, J(POOL, apr_psprintf(POOL, "\"%s\"", big))));
    big[VJWT_CLAIM_HEADER_MAX_BYTES] = 0;
    assert_non_null(vjwt_claim_header_value(POOL, J(POOL, apr_psprintf(POOL, "\"%s\"", big))));
    for (i = 0; i < VJWT_EXPORT_MAX_ELEMENTS + 1; i++) {
        APR_ARRAY_PUSH(parts, const char *) = "1";
    }
    assert_null(vjwt_claim_header_value(
        POOL, J(POOL, apr_psprintf(POOL, "[%s]", apr_array_pstrcat(POOL, parts, ',')))));
}

static void test_export_claim_headers(void **state)
{
    vjwt_policy_t *pol = vjwt_policy_make(POOL);
    vjwt_token_t t;
    apr_array_header_t *items = apr_array_make(POOL, 2, sizeof(vjwt_export_item_t));
    apr_array_header_t *skipped = apr_array_make(POOL, 2, sizeof(const char *));
    memset(&t, 0, sizeof(t));
    t.payload = J(POOL, DOC);
    assert_null(vjwt_policy_add_claim_header(POOL, pol, "/realm_access/roles", "X-Roles"));
    assert_null(vjwt_policy_add_claim_header(POOL, pol, "missing", "X-Missing"));
    assert_null(vjwt_policy_add_claim_header(POOL, pol, "n", "X-N"));
    assert_non_null(vjwt_policy_add_claim_header(POOL, pol, "/a~9", "X-Bad"));
    assert_non_null(vjwt_policy_add_claim_header(POOL, pol, "sub", "X Bad"));
    assert_non_null(vjwt_policy_add_claim_header(POOL, pol, "sub", ""));
    assert_non_null(vjwt_policy_add_claim_header(POOL, pol, "sub", "authorization"));
    assert_non_null(vjwt_policy_add_claim_header(POOL, pol, "sub", "Cookie"));
    assert_non_null(vjwt_policy_add_claim_header(POOL, pol, "sub", "x-jwt-payload"));
    vjwt_export_claim_headers(POOL, pol, &t, items, skipped);
    assert_int_equal(items->nelts, 2);
    assert_string_equal(APR_ARRAY_IDX(items, 0, vjwt_export_item_t).name, "X-Roles");
    assert_string_equal(APR_ARRAY_IDX(items, 0, vjwt_export_item_t).value, "admin,user");
    assert_string_equal(APR_ARRAY_IDX(items, 1, vjwt_export_item_t).value, "7");
    assert_int_equal(skipped->nelts, 0);
}

static void test_export_payload(void **state)
{
    /* header {"alg":"none"}, payload {"a":1} */
    const char *raw = "eyJhbGciOiJub25lIn0.eyJhIjoxfQ.";
    vjwt_token_t *t = NULL;
    vjwt_export_item_t env, hdr;
    vjwt_verdict_t v = {VJWT_R_OK, NULL};
    assert_int_equal(vjwt_token_parse(&t, POOL, raw, strlen(raw), 0, &v), APR_SUCCESS);
    assert_true(vjwt_export_payload(POOL, t, &env, &hdr));
    assert_string_equal(env.name, "VALIDATE_JWT_PAYLOAD");
    assert_string_equal(env.value, "{\"a\":1}");
    assert_string_equal(hdr.name, "X-JWT-Payload");
    assert_string_equal(hdr.value, "eyJhIjoxfQ");
}

static void test_policy_fields(void **state)
{
    vjwt_policy_t *pol = vjwt_policy_make(POOL), *child, *m;
    assert_int_equal(vjwt_policy_max_token_age(pol), -1);
    assert_int_equal(vjwt_policy_forward_token(pol), 1);
    assert_null(vjwt_policy_set(POOL, pol, VJWT_F_PASS_CLAIMS, "environment payload", NULL));
    assert_int_equal(vjwt_policy_pass_claims(pol), VJWT_PASS_ENV | VJWT_PASS_PAYLOAD);
    assert_null(vjwt_policy_set(POOL, pol, VJWT_F_PASS_CLAIMS, "payload", NULL));
    assert_int_equal(vjwt_policy_pass_claims(pol), VJWT_PASS_PAYLOAD);
    assert_non_null(vjwt_policy_set(POOL, pol, VJWT_F_PASS_CLAIMS, "none payload", NULL));
    assert_non_null(vjwt_policy_set(POOL, pol, VJWT_F_PASS_CLAIMS, "payloads", NULL));
    assert_non_null(vjwt_policy_set(POOL, pol, VJWT_F_PASS_CLAIMS, "", NULL));
    assert_null(vjwt_policy_set(POOL, pol, VJWT_F_MAX_TOKEN_AGE, "300", NULL));
    assert_non_null(vjwt_policy_set(POOL, pol, VJWT_F_MAX_TOKEN_AGE, "-1", NULL));
    assert_non_null(vjwt_policy_set(POOL, pol, VJWT_F_MAX_TOKEN_AGE, "31536001", NULL));
    assert_null(vjwt_policy_set(POOL, pol, VJWT_F_TOKEN_TYPE, "at+jwt", NULL));
    assert_null(vjwt_policy_set(POOL, pol, VJWT_F_TOKEN_TYPE, "application/jwt", NULL));
    assert_int_equal(pol->token_types->nelts, 2);
    assert_null(vjwt_policy_set(POOL, pol, VJWT_F_FORWARD_TOKEN, "Off", NULL));
    assert_null(vjwt_policy_set(POOL, pol, VJWT_F_COOKIE_NAME, "session", NULL));
    assert_int_equal(pol->source, VJWT_SRC_COOKIE);
    assert_non_null(vjwt_policy_set(POOL, pol, VJWT_F_COOKIE_NAME, "a;b", NULL));
    assert_non_null(vjwt_policy_set(POOL, pol, VJWT_F_REMOTE_USER_CLAIM, "/a~2", NULL));
    assert_null(vjwt_policy_set(POOL, pol, VJWT_F_REMOTE_USER_CLAIM, "/user/name", NULL));
    child = vjwt_policy_make(POOL);
    m = vjwt_policy_merge(POOL, pol, child);
    assert_int_equal(vjwt_policy_max_token_age(m), 300);
    assert_int_equal(vjwt_policy_forward_token(m), 0);
    assert_int_equal(m->token_types->nelts, 2);
}

static void test_entra_expand(void **state)
{
    vjwt_entra_t e;
    const char *t = "72F988BF-86f1-41af-91ab-2d7cd011db47";
    assert_null(vjwt_entra_expand(POOL, t, NULL, &e));
    assert_string_equal(e.tenant, "72f988bf-86f1-41af-91ab-2d7cd011db47");
    assert_string_equal(
        e.issuer_v2, "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0");
    assert_string_equal(e.discovery, "https://login.microsoftonline.com/"
                                     "72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0/.well-known/"
                                     "openid-configuration");
    assert_string_equal(e.issuer_v1,
                        "https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/");
    assert_null(vjwt_entra_expand(POOL, t, "https://login.chinacloudapi.cn//", &e));
    assert_string_equal(e.issuer_v2,
                        "https://login.chinacloudapi.cn/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0");
    assert_string_equal(e.issuer_v1,
                        "https://sts.chinacloudapi.cn/72f988bf-86f1-41af-91ab-2d7cd011db47/");
    assert_null(vjwt_entra_expand(POOL, t, "https://login.microsoftonline.us", &e));
    assert_string_equal(e.issuer_v1,
                        "https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/");
    assert_null(vjwt_entra_expand(POOL, t, "https://login.chinacloudapi.cn.evil.test", &e));
    assert_string_equal(e.issuer_v1,
                        "https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/");
    assert_non_null(vjwt_entra_expand(POOL, "contoso.onmicrosoft.com", NULL, &e));
    assert_non_null(vjwt_entra_expand(POOL, "72f988bf86f141af91ab2d7cd011db47", NULL, &e));
    assert_non_null(vjwt_entra_expand(POOL, t, "ftp://x", &e));
    assert_non_null(vjwt_entra_expand(POOL, t, "https://", &e));
    assert_non_null(vjwt_entra_expand(POOL, t, "https://x/?a", &e));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, vjwt_test_pool_setup, vjwt_test_pool_teardown)
        T(test_pointer_basic),
        T(test_pointer_escapes),
        T(test_pointer_arrays),
        T(test_pointer_missing_and_leaf),
        T(test_claim_name_check),
        T(test_required_claim_paths),
        T(test_scopes),
        T(test_scopes_capped),
        T(test_claim_value_allowed),
        T(test_token_type),
        T(test_token_age),
        T(test_cookies),
        T(test_cookie_remove),
        T(test_query_remove),
        T(test_claim_header_value),
        T(test_claim_header_caps),
        T(test_export_claim_headers),
        T(test_export_payload),
        T(test_policy_fields),
        T(test_entra_expand),
#undef T
    };
    vjwt_test_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
