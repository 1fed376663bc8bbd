/*
 * test_claims.c - claim checks (docs/conformance.md#pipeline steps 9-13; RFC 7519).
 *
 * Rows of docs/conformance.md covered: C38, C82-C91, C93-C103, C105-C119.
 */
#include "testutil.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <apr_allocator.h>
#include <apr_strings.h>

#include "vjwt_claims.h"
#include "vjwt_export.h"
#include "vjwt_policy.h"
#include "vjwt_verdict.h"

#define POOL ((apr_pool_t *)*state)
#define NOW  1700000000.0

/* --- helpers ------------------------------------------------------------------------- */

static apr_status_t json_cleanup(void *data)
{
    json_decref((json_t *)data);
    return APR_SUCCESS;
}

/* Any JSON value, owned by p. Independent of vjwt_json so claim tests stand alone. */
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

/* A required claim; values NULL-terminated. */
static vjwt_claim_req_t *req(apr_pool_t *p, const char *name, int match_any, const char *separator,
                             ...)
{
    vjwt_claim_req_t *c = apr_pcalloc(p, sizeof(*c));
    const char *s;
    va_list ap;
    c->name = name;
    c->match_any = match_any;
    c->separator = separator;
    c->values = apr_array_make(p, 4, sizeof(const char *));
    va_start(ap, separator);
    while ((s = va_arg(ap, const char *)) != NULL) {
        APR_ARRAY_PUSH(c->values, const char *) = s;
    }
    va_end(ap);
    return c;
}

/* NULL-terminated list of vjwt_claim_req_t * -> APR array. */
static apr_array_header_t *reqs(apr_pool_t *p, ...)
{
    apr_array_header_t *a = apr_array_make(p, 4, sizeof(vjwt_claim_req_t *));
    vjwt_claim_req_t *c;
    va_list ap;
    va_start(ap, p);
    while ((c = va_arg(ap, vjwt_claim_req_t *)) != NULL) {
        APR_ARRAY_PUSH(a, vjwt_claim_req_t *) = c;
    }
    va_end(ap);
    return a;
}

static void expect_ok_(apr_status_t rv, const vjwt_verdict_t *v, int line)
{
    if (rv != APR_SUCCESS) {
        fail_msg("line %d: expected success, got %s (%s)", line, vjwt_reason_name(v->reason),
                 v->detail ? v->detail : "-");
    }
}

static void expect_fail_(apr_status_t rv, const vjwt_verdict_t *v, vjwt_reason_e want, int line)
{
    if (rv == APR_SUCCESS) {
        fail_msg("line %d: expected %s, got success", line, vjwt_reason_name(want));
    }
    if (v->reason != want) {
        fail_msg("line %d: expected %s, got %s (%s)", line, vjwt_reason_name(want),
                 vjwt_reason_name(v->reason), v->detail ? v->detail : "-");
    }
    if (!v->detail || !*v->detail) {
        fail_msg("line %d: %s without a detail text", line, vjwt_reason_name(want));
    }
}

#define EXPECT_OK(rv, v)         expect_ok_(rv, &(v), __LINE__)
#define EXPECT_FAIL(rv, v, want) expect_fail_(rv, &(v), want, __LINE__)

/* Element-wise check of vjwt_claim_strings; want is NULL-terminated. */
static void expect_strings_(apr_pool_t *p, const char *json, const char *sep, int line, ...)
{
    apr_array_header_t *got = vjwt_claim_strings(p, J(p, json), sep);
    const char *w;
    int i = 0;
    va_list ap;
    if (!got) {
        fail_msg("line %d: %s gave NULL", line, json);
    }
    va_start(ap, line);
    while ((w = va_arg(ap, const char *)) != NULL) {
        if (i >= got->nelts) {
            va_end(ap);
            fail_msg("line %d: %s (sep %s): only %d values, missing '%s'", line, json,
                     sep ? sep : "none", got->nelts, w);
        }
        if (strcmp(APR_ARRAY_IDX(got, i, const char *), w)) {
            va_end(ap);
            fail_msg("line %d: %s (sep %s): value %d is '%s', want '%s'", line, json,
                     sep ? sep : "none", i, APR_ARRAY_IDX(got, i, const char *), w);
        }
        i++;
    }
    va_end(ap);
    if (i != got->nelts) {
        fail_msg("line %d: %s (sep %s): %d values, want %d (extra '%s')", line, json,
                 sep ? sep : "none", got->nelts, i, APR_ARRAY_IDX(got, i, const char *));
    }
}

#define EXPECT_STRINGS(p, json, sep, ...) expect_strings_(p, json, sep, __LINE__, __VA_ARGS__)

/* --- vjwt_claim_strings (docs/conformance.md#required-claims rule 5) --------------------- */

static void test_strings_scalars(void **state)
{
    apr_pool_t *p = POOL;
    EXPECT_STRINGS(p, "\"abc\"", NULL, "abc", NULL);
    EXPECT_STRINGS(p, "\"\"", NULL, "", NULL);
    EXPECT_STRINGS(p, "\"a\\u00e9\\\"b\"", NULL, "a\xc3\xa9\"b", NULL); /* JSON-unescaped */
    EXPECT_STRINGS(p, "42", NULL, "42", NULL);
    EXPECT_STRINGS(p, "-7", NULL, "-7", NULL);
    EXPECT_STRINGS(p, "0", NULL, "0", NULL);
    EXPECT_STRINGS(p, "1.5", NULL, "1.5", NULL);
    EXPECT_STRINGS(p, "1700000000", NULL, "1700000000", NULL);
    EXPECT_STRINGS(p, "true", NULL, "true", NULL);
    EXPECT_STRINGS(p, "false", NULL, "false", NULL);
}

static void test_strings_array_and_object(void **state)
{
    apr_pool_t *p = POOL;
    EXPECT_STRINGS(p, "[\"a\",\"b\"]", NULL, "a", "b", NULL);
    EXPECT_STRINGS(p, "[\"a\",42,true,1.5]", NULL, "a", "42", "true", "1.5", NULL);
    /* objects and nested arrays become compact JSON text */
    EXPECT_STRINGS(p, "{\"a\": 1, \"b\": [1, 2]}", NULL, "{\"a\":1,\"b\":[1,2]}", NULL);
    EXPECT_STRINGS(p, "{\"z\": \"x y\", \"a\": null}", NULL, "{\"z\":\"x y\",\"a\":null}", NULL);
    EXPECT_STRINGS(p, "[\"a\", [\"b\", \"c\"], {\"d\": 1}]", NULL, "a", "[\"b\",\"c\"]",
                   "{\"d\":1}", NULL);
    /* an empty array has no values (but is not NULL) */
    {
        apr_array_header_t *a = vjwt_claim_strings(p, J(p, "[]"), NULL);
        assert_non_null(a);
        assert_int_equal(a->nelts, 0);
    }
}

/* JSON null is absent (docs/conformance.md C117). */
static void test_strings_null(void **state)
{
    apr_pool_t *p = POOL;
    assert_null(vjwt_claim_strings(p, NULL, NULL));
    assert_null(vjwt_claim_strings(p, J(p, "null"), NULL));
    assert_null(vjwt_claim_strings(p, J(p, "null"), " "));
}

/* Required-claims rule 5: exact split, empty pieces dropped, no trimming; C114, C115. */
static void test_strings_separator(void **state)
{
    apr_pool_t *p = POOL;
    EXPECT_STRINGS(p, "\"read write\"", " ", "read", "write", NULL);
    EXPECT_STRINGS(p, "\"read  write \"", " ", "read", "write", NULL);
    EXPECT_STRINGS(p, "\"a,,b,\"", ",", "a", "b", NULL);
    EXPECT_STRINGS(p, "\",a\"", ",", "a", NULL);
    EXPECT_STRINGS(p, "\" a , b\"", ",", " a ", " b", NULL);
    EXPECT_STRINGS(p, "\"a::b:c\"", "::", "a", "b:c", NULL);
    EXPECT_STRINGS(p, "\"nosep\"", ",", "nosep", NULL);
    /* C115: every element of an array is split too */
    EXPECT_STRINGS(p, "[\"a,b\",\"c\"]", ",", "a", "b", "c", NULL);
    EXPECT_STRINGS(p, "[\"x y\",\"z\"]", " ", "x", "y", "z", NULL);
    /* without a separator nothing is split */
    EXPECT_STRINGS(p, "\"read write\"", NULL, "read write", NULL);
    EXPECT_STRINGS(p, "[\"a,b\",\"c\"]", NULL, "a,b", "c", NULL);
    /* only empty pieces: no values */
    {
        apr_array_header_t *a = vjwt_claim_strings(p, J(p, "\",,,\""), ",");
        assert_non_null(a);
        assert_int_equal(a->nelts, 0);
    }
}

/* --- step 9: registered claim types ---------------------------------------------------- */

static void expect_types_(apr_pool_t *p, const char *payload, int ok, int line)
{
    vjwt_verdict_t v = {VJWT_R_OK, NULL};
    apr_status_t rv = vjwt_claims_check_types(p, J(p, payload), &v);
    if (ok && rv != APR_SUCCESS) {
        fail_msg("line %d: %s: expected ok, got %s (%s)", line, payload, vjwt_reason_name(v.reason),
                 v.detail ? v.detail : "-");
    }
    if (!ok) {
        if (rv == APR_SUCCESS) {
            fail_msg("line %d: %s: expected JwtInvalid, got success", line, payload);
        }
        if (v.reason != VJWT_R_JWT_INVALID) {
            fail_msg("line %d: %s: expected JwtInvalid, got %s", line, payload,
                     vjwt_reason_name(v.reason));
        }
    }
}

#define TYPES_OK(p, pl)  expect_types_(p, pl, 1, __LINE__)
#define TYPES_BAD(p, pl) expect_types_(p, pl, 0, __LINE__)

static void test_types_ok(void **state)
{
    apr_pool_t *p = POOL;
    TYPES_OK(p, "{}");
    TYPES_OK(p, "{\"exp\":1700000000,\"nbf\":1,\"iat\":0,\"iss\":\"i\",\"sub\":\"s\","
                "\"jti\":\"j\",\"aud\":\"a\"}");
    TYPES_OK(p, "{\"exp\":1700000000.5,\"aud\":[\"a\",\"b\"]}");
    TYPES_OK(p, "{\"aud\":[]}"); /* audience check, not the type check, rejects it (C96) */
    TYPES_OK(p, "{\"exp\":-1}");
    TYPES_OK(p, "{\"exp\":9007199254740991}");                     /* 2^53 - 1 */
    TYPES_OK(p, "{\"roles\":42,\"scp\":{\"x\":1},\"flag\":true}"); /* other claims: any type */
}

/* C38: exp as a string; other registered claims of the wrong type. */
static void test_types_bad_C38(void **state)
{
    apr_pool_t *p = POOL;
    TYPES_BAD(p, "{\"exp\":\"1700000000\"}");
    TYPES_BAD(p, "{\"nbf\":\"1700000000\"}");
    TYPES_BAD(p, "{\"iat\":\"1700000000\"}");
    TYPES_BAD(p, "{\"exp\":true}");
    TYPES_BAD(p, "{\"exp\":[1700000000]}");
    TYPES_BAD(p, "{\"exp\":{}}");
    TYPES_BAD(p, "{\"aud\":42}");
    TYPES_BAD(p, "{\"aud\":[\"a\",1]}");
    TYPES_BAD(p, "{\"aud\":[[\"a\"]]}");
    TYPES_BAD(p, "{\"aud\":{\"a\":1}}");
    TYPES_BAD(p, "{\"aud\":true}");
    TYPES_BAD(p, "{\"iss\":42}");
    TYPES_BAD(p, "{\"iss\":[\"i\"]}");
    TYPES_BAD(p, "{\"sub\":1}");
    TYPES_BAD(p, "{\"jti\":[]}");
}

/* docs/conformance.md#lifetime: NumericDate beyond +-2^53 -> JwtInvalid. */
static void test_types_numeric_range(void **state)
{
    apr_pool_t *p = POOL;
    TYPES_BAD(p, "{\"exp\":1e300}");
    TYPES_BAD(p, "{\"exp\":-1e300}");
    TYPES_BAD(p, "{\"exp\":1e16}");
    TYPES_BAD(p, "{\"exp\":9007199254740994}");    /* 2^53 + 2, as an integer */
    TYPES_BAD(p, "{\"exp\":9223372036854775807}"); /* INT64_MAX */
    TYPES_BAD(p, "{\"nbf\":-9007199254740994}");
    TYPES_BAD(p, "{\"iat\":1e300}");
}

/* --- step 10: lifetime (docs/conformance.md#lifetime) ------------------------------------ */

static apr_status_t life(apr_pool_t *p, const char *payload, int require_exp, int skew, double now,
                         vjwt_verdict_t *v)
{
    v->reason = VJWT_R_OK;
    v->detail = NULL;
    return vjwt_claims_check_lifetime(p, J(p, payload), require_exp, skew, now, v);
}

static const char *pl_exp(apr_pool_t *p, double exp)
{
    return apr_psprintf(p, "{\"exp\":%.3f}", exp);
}

/* C85, C86. */
static void test_lifetime_expired_C85_C86(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_verdict_t v;
    EXPECT_FAIL(life(p, pl_exp(p, NOW - 10), 1, 0, NOW, &v), v, VJWT_R_TOKEN_EXPIRED);
    EXPECT_OK(life(p, pl_exp(p, NOW - 10), 1, 60, NOW, &v), v);
    EXPECT_FAIL(life(p, pl_exp(p, NOW - 100), 1, 60, NOW, &v), v, VJWT_R_TOKEN_EXPIRED);
    EXPECT_OK(life(p, pl_exp(p, NOW + 3600), 1, 0, NOW, &v), v);
    EXPECT_OK(life(p, pl_exp(p, NOW + 1), 1, 0, NOW, &v), v);
    /* integer exp in the payload */
    EXPECT_FAIL(life(p, "{\"exp\":1699999990}", 1, 0, NOW, &v), v, VJWT_R_TOKEN_EXPIRED);
    EXPECT_OK(life(p, "{\"exp\":1700000010}", 1, 0, NOW, &v), v);
}

/* C87, C88; equality with nbf is valid. */
static void test_lifetime_nbf_C87_C88(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_verdict_t v;
    const char *pl = apr_psprintf(p, "{\"exp\":%.0f,\"nbf\":%.0f}", NOW + 3600, NOW + 30);
    EXPECT_FAIL(life(p, pl, 1, 0, NOW, &v), v, VJWT_R_JWT_INVALID);
    EXPECT_OK(life(p, pl, 1, 60, NOW, &v), v);
    EXPECT_FAIL(life(p, pl, 1, 29, NOW, &v), v, VJWT_R_JWT_INVALID);
    pl = apr_psprintf(p, "{\"exp\":%.0f,\"nbf\":%.0f}", NOW + 3600, NOW);
    EXPECT_OK(life(p, pl, 1, 0, NOW, &v), v);
    pl = apr_psprintf(p, "{\"exp\":%.0f,\"nbf\":%.0f}", NOW + 3600, NOW - 3600);
    EXPECT_OK(life(p, pl, 1, 0, NOW, &v), v);
}

/* C89: fractional NumericDate. */
static void test_lifetime_fractional_C89(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_verdict_t v;
    EXPECT_OK(life(p, pl_exp(p, NOW + 100.5), 1, 0, NOW, &v), v);
    EXPECT_FAIL(life(p, pl_exp(p, NOW - 0.5), 1, 0, NOW, &v), v, VJWT_R_TOKEN_EXPIRED);
    EXPECT_FAIL(life(p, pl_exp(p, NOW - 100.5), 1, 0, NOW, &v), v, VJWT_R_TOKEN_EXPIRED);
    /* sub-second now */
    EXPECT_FAIL(life(p, "{\"exp\":1700000000}", 1, 0, NOW + 0.25, &v), v, VJWT_R_TOKEN_EXPIRED);
    EXPECT_OK(life(p, "{\"exp\":1700000000.5}", 1, 0, NOW + 0.25, &v), v);
}

/* C90: iat is not checked. */
static void test_lifetime_future_iat_C90(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_verdict_t v;
    const char *pl = apr_psprintf(p, "{\"exp\":%.0f,\"iat\":%.0f}", NOW + 3600, NOW + 1000);
    EXPECT_OK(life(p, pl, 1, 0, NOW, &v), v);
    pl = apr_psprintf(p, "{\"exp\":%.0f,\"iat\":%.0f}", NOW + 3600, NOW + 86400 * 365.0);
    EXPECT_OK(life(p, pl, 1, 0, NOW, &v), v);
}

/* C91: nbf later than exp; step 10 checks it before expiry. */
static void test_lifetime_nbf_after_exp_C91(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_verdict_t v;
    /* neither expired nor not-yet-valid on its own thanks to the skew */
    const char *pl = apr_psprintf(p, "{\"exp\":%.0f,\"nbf\":%.0f}", NOW + 100, NOW + 200);
    EXPECT_FAIL(life(p, pl, 1, 300, NOW, &v), v, VJWT_R_JWT_INVALID);
    EXPECT_FAIL(life(p, pl, 1, 0, NOW, &v), v, VJWT_R_JWT_INVALID);
    /* expired and nbf > exp: nbf > exp comes first */
    pl = apr_psprintf(p, "{\"exp\":%.0f,\"nbf\":%.0f}", NOW - 20, NOW - 10);
    EXPECT_FAIL(life(p, pl, 1, 0, NOW, &v), v, VJWT_R_JWT_INVALID);
    /* nbf == exp is not "later" */
    pl = apr_psprintf(p, "{\"exp\":%.0f,\"nbf\":%.0f}", NOW + 100, NOW + 100);
    EXPECT_OK(life(p, pl, 1, 200, NOW, &v), v);
}

/* C82, C83, C84. */
static void test_lifetime_require_exp_C82_C83_C84(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_verdict_t v;
    EXPECT_FAIL(life(p, "{}", 1, 0, NOW, &v), v, VJWT_R_JWT_INVALID);
    EXPECT_FAIL(life(p, "{\"sub\":\"x\",\"iat\":1699999000}", 1, 600, NOW, &v), v,
                VJWT_R_JWT_INVALID);
    EXPECT_OK(life(p, "{}", 0, 0, NOW, &v), v);
    EXPECT_OK(life(p, "{\"sub\":\"x\"}", 0, 0, NOW, &v), v);
    EXPECT_FAIL(life(p, pl_exp(p, NOW - 10), 0, 0, NOW, &v), v, VJWT_R_TOKEN_EXPIRED);
    EXPECT_OK(life(p, pl_exp(p, NOW + 10), 0, 0, NOW, &v), v);
    /* nbf still applies without exp */
    EXPECT_FAIL(life(p, apr_psprintf(p, "{\"nbf\":%.0f}", NOW + 30), 0, 0, NOW, &v), v,
                VJWT_R_JWT_INVALID);
}

/* --- step 11: audience (docs/conformance.md#audience-issuer) ----------------------------- */

static apr_status_t aud(apr_pool_t *p, const char *payload, apr_array_header_t *list, int slash,
                        vjwt_verdict_t *v)
{
    v->reason = VJWT_R_OK;
    v->detail = NULL;
    return vjwt_claims_check_audience(p, J(p, payload), list, slash, v);
}

/* C93, C94, C95. */
static void test_audience_match_C93_C94_C95(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_verdict_t v;
    apr_array_header_t *one = strs(p, "api://orders", NULL);
    apr_array_header_t *two = strs(p, "api://a", "api://b", NULL);

    EXPECT_OK(aud(p, "{\"aud\":\"api://orders\"}", one, 1, &v), v);
    EXPECT_OK(aud(p, "{\"aud\":[\"x\",\"api://orders\"]}", one, 1, &v), v);
    EXPECT_OK(aud(p, "{\"aud\":\"api://b\"}", two, 1, &v), v);
    EXPECT_OK(aud(p, "{\"aud\":[\"api://b\",\"api://a\"]}", two, 1, &v), v);
    EXPECT_OK(aud(p, "{\"aud\":[\"z\",\"api://b\"]}", two, 0, &v), v);
    EXPECT_FAIL(aud(p, "{\"aud\":[\"urn:other\",\"urn:more\"]}", two, 1, &v), v,
                VJWT_R_TOKEN_AUDIENCE_NOT_ALLOWED);
    /* the detail names the token's audience (docs/conformance.md#failure-reasons) */
    assert_non_null(strstr(v.detail, "urn:other"));
    EXPECT_FAIL(aud(p, "{\"aud\":\"urn:other\"}", one, 1, &v), v,
                VJWT_R_TOKEN_AUDIENCE_NOT_ALLOWED);
    EXPECT_FAIL(aud(p, "{\"aud\":\"api://orders-x\"}", one, 1, &v), v,
                VJWT_R_TOKEN_AUDIENCE_NOT_ALLOWED);
    EXPECT_FAIL(aud(p, "{\"aud\":\"api://order\"}", one, 1, &v), v,
                VJWT_R_TOKEN_AUDIENCE_NOT_ALLOWED);
}

/* C96: missing, null, "", [], wrong type. */
static void test_audience_missing_C96(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_verdict_t v;
    apr_array_header_t *one = strs(p, "api://orders", NULL);
    apr_array_header_t *empty_str = strs(p, "", NULL);

    EXPECT_FAIL(aud(p, "{}", one, 1, &v), v, VJWT_R_TOKEN_AUDIENCE_NOT_ALLOWED);
    EXPECT_FAIL(aud(p, "{\"aud\":null}", one, 1, &v), v, VJWT_R_TOKEN_AUDIENCE_NOT_ALLOWED);
    EXPECT_FAIL(aud(p, "{\"aud\":\"\"}", one, 1, &v), v, VJWT_R_TOKEN_AUDIENCE_NOT_ALLOWED);
    EXPECT_FAIL(aud(p, "{\"aud\":[]}", one, 1, &v), v, VJWT_R_TOKEN_AUDIENCE_NOT_ALLOWED);
    EXPECT_FAIL(aud(p, "{\"aud\":42}", one, 1, &v), v, VJWT_R_TOKEN_AUDIENCE_NOT_ALLOWED);
    EXPECT_FAIL(aud(p, "{\"aud\":{\"api://orders\":1}}", one, 1, &v), v,
                VJWT_R_TOKEN_AUDIENCE_NOT_ALLOWED);
    EXPECT_FAIL(aud(p, "{\"aud\":[1,2]}", one, 1, &v), v, VJWT_R_TOKEN_AUDIENCE_NOT_ALLOWED);
    EXPECT_FAIL(aud(p, "{\"Aud\":\"api://orders\"}", one, 1, &v), v,
                VJWT_R_TOKEN_AUDIENCE_NOT_ALLOWED);
    /* an empty token aud never matches, even an (odd) empty configured audience */
    EXPECT_FAIL(aud(p, "{\"aud\":\"\"}", empty_str, 1, &v), v, VJWT_R_TOKEN_AUDIENCE_NOT_ALLOWED);
}

/* C97: no audiences configured, nothing checked. */
static void test_audience_unchecked_C97(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_verdict_t v;
    apr_array_header_t *empty = apr_array_make(p, 1, sizeof(const char *));

    EXPECT_OK(aud(p, "{}", NULL, 1, &v), v);
    EXPECT_OK(aud(p, "{\"aud\":\"anything\"}", NULL, 1, &v), v);
    EXPECT_OK(aud(p, "{\"aud\":[]}", NULL, 0, &v), v);
    EXPECT_OK(aud(p, "{}", empty, 1, &v), v);
    EXPECT_OK(aud(p, "{\"aud\":\"x\"}", empty, 1, &v), v);
}

/* C98. */
static void test_audience_case_sensitive_C98(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_verdict_t v;
    EXPECT_FAIL(aud(p, "{\"aud\":\"API://x\"}", strs(p, "api://x", NULL), 1, &v), v,
                VJWT_R_TOKEN_AUDIENCE_NOT_ALLOWED);
    EXPECT_FAIL(aud(p, "{\"aud\":[\"api://X\"]}", strs(p, "api://x", NULL), 1, &v), v,
                VJWT_R_TOKEN_AUDIENCE_NOT_ALLOWED);
    /* no trimming either */
    EXPECT_FAIL(aud(p, "{\"aud\":\" api://x\"}", strs(p, "api://x", NULL), 1, &v), v,
                VJWT_R_TOKEN_AUDIENCE_NOT_ALLOWED);
}

/* C99: one trailing slash on either side, switchable. */
static void test_audience_trailing_slash_C99(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_verdict_t v;
    apr_array_header_t *noslash = strs(p, "https://api.example.com", NULL);
    apr_array_header_t *slash = strs(p, "https://api.example.com/", NULL);

    EXPECT_OK(aud(p, "{\"aud\":\"https://api.example.com/\"}", noslash, 1, &v), v);
    EXPECT_OK(aud(p, "{\"aud\":\"https://api.example.com\"}", slash, 1, &v), v);
    EXPECT_OK(aud(p, "{\"aud\":[\"x\",\"https://api.example.com/\"]}", noslash, 1, &v), v);
    EXPECT_FAIL(aud(p, "{\"aud\":\"https://api.example.com/\"}", noslash, 0, &v), v,
                VJWT_R_TOKEN_AUDIENCE_NOT_ALLOWED);
    EXPECT_FAIL(aud(p, "{\"aud\":\"https://api.example.com\"}", slash, 0, &v), v,
                VJWT_R_TOKEN_AUDIENCE_NOT_ALLOWED);
    /* exact matches still pass with the tolerance off */
    EXPECT_OK(aud(p, "{\"aud\":\"https://api.example.com\"}", noslash, 0, &v), v);
    /* only one slash, and only a slash */
    EXPECT_FAIL(aud(p, "{\"aud\":\"https://api.example.com//\"}", noslash, 1, &v), v,
                VJWT_R_TOKEN_AUDIENCE_NOT_ALLOWED);
    EXPECT_FAIL(aud(p, "{\"aud\":\"https://api.example.comx\"}", noslash, 1, &v), v,
                VJWT_R_TOKEN_AUDIENCE_NOT_ALLOWED);
    EXPECT_FAIL(aud(p, "{\"aud\":\"HTTPS://api.example.com/\"}", noslash, 1, &v), v,
                VJWT_R_TOKEN_AUDIENCE_NOT_ALLOWED);
}

/* --- step 12: issuer (docs/conformance.md#audience-issuer) ------------------------------- */

static apr_status_t iss(apr_pool_t *p, const char *payload, apr_array_header_t *list,
                        vjwt_verdict_t *v)
{
    v->reason = VJWT_R_OK;
    v->detail = NULL;
    return vjwt_claims_check_issuer(p, J(p, payload), list, v);
}

/* C100. */
static void test_issuer_match_C100(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_verdict_t v;
    apr_array_header_t *l = strs(p, "https://accounts.google.com", "accounts.google.com", NULL);
    EXPECT_OK(iss(p, "{\"iss\":\"https://accounts.google.com\"}", l, &v), v);
    EXPECT_OK(iss(p, "{\"iss\":\"accounts.google.com\"}", l, &v), v);
    EXPECT_FAIL(iss(p, "{\"iss\":\"https://evil.example\"}", l, &v), v,
                VJWT_R_TOKEN_ISSUER_NOT_ALLOWED);
    assert_non_null(strstr(v.detail, "https://evil.example"));
}

/* C101: no trailing-slash tolerance, case-sensitive. */
static void test_issuer_exact_C101(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_verdict_t v;
    apr_array_header_t *l = strs(p, "https://login.example.com/tenant/v2.0", NULL);
    EXPECT_FAIL(iss(p, "{\"iss\":\"https://login.example.com/tenant/v2.0/\"}", l, &v), v,
                VJWT_R_TOKEN_ISSUER_NOT_ALLOWED);
    EXPECT_FAIL(iss(p, "{\"iss\":\"https://login.example.com/Tenant/v2.0\"}", l, &v), v,
                VJWT_R_TOKEN_ISSUER_NOT_ALLOWED);
    EXPECT_FAIL(iss(p, "{\"iss\":\"HTTPS://LOGIN.EXAMPLE.COM/tenant/v2.0\"}", l, &v), v,
                VJWT_R_TOKEN_ISSUER_NOT_ALLOWED);
    EXPECT_FAIL(iss(p, "{\"iss\":\"https://login.example.com/tenant/v2\"}", l, &v), v,
                VJWT_R_TOKEN_ISSUER_NOT_ALLOWED);
    EXPECT_FAIL(iss(p, "{\"iss\":[\"https://login.example.com/tenant/v2.0\"]}", l, &v), v,
                VJWT_R_TOKEN_ISSUER_NOT_ALLOWED);
    EXPECT_FAIL(iss(p, "{\"iss\":\"https://login.example.com/tenant/v2.0\"}",
                    strs(p, "https://login.example.com/tenant/v2.0/", NULL), &v),
                v, VJWT_R_TOKEN_ISSUER_NOT_ALLOWED);
    EXPECT_OK(iss(p, "{\"iss\":\"https://login.example.com/tenant/v2.0\"}", l, &v), v);
}

/* C102. */
static void test_issuer_missing_C102(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_verdict_t v;
    apr_array_header_t *l = strs(p, "https://i", NULL);
    EXPECT_FAIL(iss(p, "{}", l, &v), v, VJWT_R_TOKEN_ISSUER_NOT_ALLOWED);
    EXPECT_FAIL(iss(p, "{\"iss\":null}", l, &v), v, VJWT_R_TOKEN_ISSUER_NOT_ALLOWED);
    EXPECT_FAIL(iss(p, "{\"iss\":42}", l, &v), v, VJWT_R_TOKEN_ISSUER_NOT_ALLOWED);
    EXPECT_FAIL(iss(p, "{\"iss\":\"\"}", l, &v), v, VJWT_R_TOKEN_ISSUER_NOT_ALLOWED);
    EXPECT_FAIL(iss(p, "{\"ISS\":\"https://i\"}", l, &v), v, VJWT_R_TOKEN_ISSUER_NOT_ALLOWED);
}

/* C103. */
static void test_issuer_unchecked_C103(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_verdict_t v;
    apr_array_header_t *empty = apr_array_make(p, 1, sizeof(const char *));
    EXPECT_OK(iss(p, "{}", NULL, &v), v);
    EXPECT_OK(iss(p, "{\"iss\":\"anyone\"}", NULL, &v), v);
    EXPECT_OK(iss(p, "{}", empty, &v), v);
    EXPECT_OK(iss(p, "{\"iss\":\"anyone\"}", empty, &v), v);
}

/* --- step 13: required claims (docs/conformance.md#required-claims) ---------------------- */

static apr_status_t rc(apr_pool_t *p, const char *payload, apr_array_header_t *claims,
                       vjwt_verdict_t *v)
{
    v->reason = VJWT_R_OK;
    v->detail = NULL;
    return vjwt_claims_check_required(p, J(p, payload), claims, v);
}

static void expect_order_(const char *detail, const char *a, const char *b, int line)
{
    const char *pa = strstr(detail, a);
    const char *pb = strstr(detail, b);
    if (!pa || !pb) {
        fail_msg("line %d: detail '%s' must name '%s' and '%s'", line, detail, a, b);
    }
    if (pa >= pb) {
        fail_msg("line %d: detail '%s' must name '%s' before '%s'", line, detail, a, b);
    }
}

#define EXPECT_ORDER(d, a, b) expect_order_(d, a, b, __LINE__)

/* C105: every missing claim named, in configuration order. */
static void test_required_missing_C105(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_verdict_t v;
    apr_array_header_t *c =
        reqs(p, req(p, "zeta_claim", 0, NULL, NULL), req(p, "present_claim", 0, NULL, NULL),
             req(p, "alpha_claim", 0, NULL, "x", NULL),
             req(p, "mid_claim", 1, NULL, "a", "b", NULL), NULL);

    EXPECT_FAIL(rc(p, "{\"present_claim\":1}", c, &v), v, VJWT_R_TOKEN_CLAIM_NOT_FOUND);
    EXPECT_ORDER(v.detail, "zeta_claim", "alpha_claim");
    EXPECT_ORDER(v.detail, "alpha_claim", "mid_claim");
    assert_null(strstr(v.detail, "present_claim"));

    EXPECT_FAIL(rc(p, "{\"present_claim\":1,\"alpha_claim\":\"x\",\"mid_claim\":\"a\"}", c, &v), v,
                VJWT_R_TOKEN_CLAIM_NOT_FOUND);
    assert_non_null(strstr(v.detail, "zeta_claim"));
    assert_null(strstr(v.detail, "alpha_claim"));

    EXPECT_OK(rc(p,
                 "{\"zeta_claim\":\"\",\"present_claim\":1,\"alpha_claim\":\"x\","
                 "\"mid_claim\":[\"b\"]}",
                 c, &v),
              v);
}

/* Required-claims rules 2-3: presence of all claims is checked before any value. */
static void test_required_presence_before_values(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_verdict_t v;
    apr_array_header_t *c =
        reqs(p, req(p, "role", 0, NULL, "admin", NULL), req(p, "tid", 0, NULL, NULL), NULL);
    EXPECT_FAIL(rc(p, "{\"role\":\"user\"}", c, &v), v, VJWT_R_TOKEN_CLAIM_NOT_FOUND);
    assert_non_null(strstr(v.detail, "tid"));
    EXPECT_FAIL(rc(p, "{\"role\":\"user\",\"tid\":\"t\"}", c, &v), v,
                VJWT_R_TOKEN_CLAIM_VALUE_NOT_ALLOWED);
}

/* C106: presence only; any value, including "", false, 0. */
static void test_required_presence_only_C106(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_verdict_t v;
    apr_array_header_t *c = reqs(p, req(p, "tid", 0, NULL, NULL), NULL);
    EXPECT_OK(rc(p, "{\"tid\":\"t1\"}", c, &v), v);
    EXPECT_OK(rc(p, "{\"tid\":\"\"}", c, &v), v);
    EXPECT_OK(rc(p, "{\"tid\":false}", c, &v), v);
    EXPECT_OK(rc(p, "{\"tid\":0}", c, &v), v);
    EXPECT_OK(rc(p, "{\"tid\":{}}", c, &v), v);
    EXPECT_FAIL(rc(p, "{\"other\":1}", c, &v), v, VJWT_R_TOKEN_CLAIM_NOT_FOUND);
    assert_non_null(strstr(v.detail, "tid"));
}

/* C107, C108, C109, C111 (match_any = 0 is "all", the default). */
static void test_required_match_all_C107_C108_C109_C111(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_verdict_t v;
    apr_array_header_t *one = reqs(p, req(p, "role", 0, NULL, "a", NULL), NULL);
    apr_array_header_t *ab = reqs(p, req(p, "role", 0, NULL, "a", "b", NULL), NULL);

    EXPECT_OK(rc(p, "{\"role\":\"a\"}", one, &v), v);
    EXPECT_FAIL(rc(p, "{\"role\":\"b\"}", one, &v), v, VJWT_R_TOKEN_CLAIM_VALUE_NOT_ALLOWED);
    EXPECT_FAIL(rc(p, "{\"role\":\"a\"}", ab, &v), v, VJWT_R_TOKEN_CLAIM_VALUE_NOT_ALLOWED);
    assert_non_null(strstr(v.detail, "role"));
    EXPECT_OK(rc(p, "{\"role\":[\"b\",\"a\",\"c\"]}", ab, &v), v);
    EXPECT_FAIL(rc(p, "{\"role\":[\"b\",\"c\"]}", ab, &v), v, VJWT_R_TOKEN_CLAIM_VALUE_NOT_ALLOWED);
    EXPECT_FAIL(rc(p, "{\"role\":\"a b\"}", ab, &v), v, VJWT_R_TOKEN_CLAIM_VALUE_NOT_ALLOWED);
    EXPECT_FAIL(rc(p, "{\"role\":[]}", one, &v), v, VJWT_R_TOKEN_CLAIM_VALUE_NOT_ALLOWED);
}

/* C110. */
static void test_required_match_any_C110(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_verdict_t v;
    apr_array_header_t *ab = reqs(p, req(p, "role", 1, NULL, "a", "b", NULL), NULL);

    EXPECT_OK(rc(p, "{\"role\":[\"x\",\"b\"]}", ab, &v), v);
    EXPECT_OK(rc(p, "{\"role\":\"a\"}", ab, &v), v);
    EXPECT_FAIL(rc(p, "{\"role\":[\"x\"]}", ab, &v), v, VJWT_R_TOKEN_CLAIM_VALUE_NOT_ALLOWED);
    assert_non_null(strstr(v.detail, "role"));
    EXPECT_FAIL(rc(p, "{\"role\":\"x\"}", ab, &v), v, VJWT_R_TOKEN_CLAIM_VALUE_NOT_ALLOWED);
    EXPECT_FAIL(rc(p, "{\"role\":[]}", ab, &v), v, VJWT_R_TOKEN_CLAIM_VALUE_NOT_ALLOWED);
}

/* C112 values, C113 names: case-sensitive; no trimming. */
static void test_required_case_C112_C113(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_verdict_t v;
    EXPECT_FAIL(
        rc(p, "{\"roles\":\"admin\"}", reqs(p, req(p, "roles", 0, NULL, "Admin", NULL), NULL), &v),
        v, VJWT_R_TOKEN_CLAIM_VALUE_NOT_ALLOWED);
    EXPECT_FAIL(
        rc(p, "{\"roles\":\"admin \"}", reqs(p, req(p, "roles", 0, NULL, "admin", NULL), NULL), &v),
        v, VJWT_R_TOKEN_CLAIM_VALUE_NOT_ALLOWED);
    EXPECT_FAIL(rc(p, "{\"roles\":\"admin\"}", reqs(p, req(p, "Roles", 0, NULL, NULL), NULL), &v),
                v, VJWT_R_TOKEN_CLAIM_NOT_FOUND);
    assert_non_null(strstr(v.detail, "Roles"));
    EXPECT_FAIL(
        rc(p, "{\"roles\":\"admin\"}", reqs(p, req(p, "Roles", 0, NULL, "admin", NULL), NULL), &v),
        v, VJWT_R_TOKEN_CLAIM_NOT_FOUND);
}

/* C114, C115: separator. */
static void test_required_separator_C114_C115(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_verdict_t v;
    EXPECT_OK(
        rc(p, "{\"scp\":\"read write\"}", reqs(p, req(p, "scp", 0, " ", "write", NULL), NULL), &v),
        v);
    EXPECT_OK(rc(p, "{\"scp\":\"read write\"}",
                 reqs(p, req(p, "scp", 0, " ", "write", "read", NULL), NULL), &v),
              v);
    EXPECT_FAIL(
        rc(p, "{\"scp\":\"read write\"}", reqs(p, req(p, "scp", 0, NULL, "write", NULL), NULL), &v),
        v, VJWT_R_TOKEN_CLAIM_VALUE_NOT_ALLOWED);
    EXPECT_OK(rc(p, "{\"scp\":\"read write\"}",
                 reqs(p, req(p, "scp", 0, NULL, "read write", NULL), NULL), &v),
              v);
    EXPECT_OK(rc(p, "{\"g\":[\"a,b\",\"c\"]}",
                 reqs(p, req(p, "g", 0, ",", "a", "b", "c", NULL), NULL), &v),
              v);
    /* no trimming of pieces */
    EXPECT_FAIL(rc(p, "{\"g\":\"a, b\"}", reqs(p, req(p, "g", 0, ",", "b", NULL), NULL), &v), v,
                VJWT_R_TOKEN_CLAIM_VALUE_NOT_ALLOWED);
    EXPECT_OK(rc(p, "{\"g\":\"a, b\"}", reqs(p, req(p, "g", 0, ",", " b", NULL), NULL), &v), v);
}

/* C116: true and 42 as strings. */
static void test_required_non_string_values_C116(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_verdict_t v;
    EXPECT_OK(rc(p, "{\"flag\":true}", reqs(p, req(p, "flag", 0, NULL, "true", NULL), NULL), &v),
              v);
    EXPECT_FAIL(rc(p, "{\"flag\":false}", reqs(p, req(p, "flag", 0, NULL, "true", NULL), NULL), &v),
                v, VJWT_R_TOKEN_CLAIM_VALUE_NOT_ALLOWED);
    EXPECT_FAIL(rc(p, "{\"flag\":true}", reqs(p, req(p, "flag", 0, NULL, "True", NULL), NULL), &v),
                v, VJWT_R_TOKEN_CLAIM_VALUE_NOT_ALLOWED);
    EXPECT_OK(rc(p, "{\"n\":42}", reqs(p, req(p, "n", 0, NULL, "42", NULL), NULL), &v), v);
    EXPECT_OK(rc(p, "{\"n\":[41,42]}", reqs(p, req(p, "n", 1, NULL, "42", NULL), NULL), &v), v);
    EXPECT_FAIL(rc(p, "{\"n\":42}", reqs(p, req(p, "n", 0, NULL, "42.0", NULL), NULL), &v), v,
                VJWT_R_TOKEN_CLAIM_VALUE_NOT_ALLOWED);
    EXPECT_FAIL(rc(p, "{\"n\":\"42\"}", reqs(p, req(p, "n", 0, NULL, "43", NULL), NULL), &v), v,
                VJWT_R_TOKEN_CLAIM_VALUE_NOT_ALLOWED);
}

/* C117: null counts as missing. */
static void test_required_null_C117(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_verdict_t v;
    EXPECT_FAIL(rc(p, "{\"tid\":null}", reqs(p, req(p, "tid", 0, NULL, NULL), NULL), &v), v,
                VJWT_R_TOKEN_CLAIM_NOT_FOUND);
    assert_non_null(strstr(v.detail, "tid"));
    EXPECT_FAIL(rc(p, "{\"tid\":null}", reqs(p, req(p, "tid", 1, NULL, "x", NULL), NULL), &v), v,
                VJWT_R_TOKEN_CLAIM_NOT_FOUND);
}

/* C118: AND across claims; the first failing claim (config order) is named. */
static void test_required_two_claims_C118(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_verdict_t v;
    apr_array_header_t *c = reqs(p, req(p, "first_c", 0, NULL, "ok1", NULL),
                                 req(p, "second_c", 0, NULL, "ok2", NULL), NULL);

    EXPECT_OK(rc(p, "{\"first_c\":\"ok1\",\"second_c\":\"ok2\"}", c, &v), v);
    EXPECT_FAIL(rc(p, "{\"first_c\":\"ok1\",\"second_c\":\"bad2\"}", c, &v), v,
                VJWT_R_TOKEN_CLAIM_VALUE_NOT_ALLOWED);
    assert_non_null(strstr(v.detail, "second_c"));
    assert_non_null(strstr(v.detail, "bad2"));
    EXPECT_FAIL(rc(p, "{\"first_c\":\"bad1\",\"second_c\":\"ok2\"}", c, &v), v,
                VJWT_R_TOKEN_CLAIM_VALUE_NOT_ALLOWED);
    assert_non_null(strstr(v.detail, "first_c"));
    EXPECT_FAIL(rc(p, "{\"first_c\":\"bad1\",\"second_c\":\"bad2\"}", c, &v), v,
                VJWT_R_TOKEN_CLAIM_VALUE_NOT_ALLOWED);
    assert_non_null(strstr(v.detail, "first_c"));
    assert_null(strstr(v.detail, "second_c"));
}

/* C119: a required claim named aud matches one element of an array aud. */
static void test_required_aud_C119(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_verdict_t v;
    apr_array_header_t *c = reqs(p, req(p, "aud", 1, NULL, "api://x", "api://y", NULL), NULL);
    EXPECT_OK(rc(p, "{\"aud\":[\"a\",\"api://x\"]}", c, &v), v);
    EXPECT_OK(rc(p, "{\"aud\":\"api://y\"}", c, &v), v);
    EXPECT_FAIL(rc(p, "{\"aud\":[\"a\",\"b\"]}", c, &v), v, VJWT_R_TOKEN_CLAIM_VALUE_NOT_ALLOWED);
    EXPECT_OK(rc(p, "{\"aud\":[\"a\",\"api://x\"]}",
                 reqs(p, req(p, "aud", 0, NULL, "api://x", NULL), NULL), &v),
              v);
}

/* Required-claims rule 3: the value detail holds the token values, sanitized and length-capped. */
static void test_required_detail_sanitized(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_verdict_t v;
    char *big = apr_palloc(p, 5001);
    const char *c;

    EXPECT_FAIL(rc(p, "{\"role\":\"evil\\nline\\u0001\"}",
                   reqs(p, req(p, "role", 0, NULL, "admin", NULL), NULL), &v),
                v, VJWT_R_TOKEN_CLAIM_VALUE_NOT_ALLOWED);
    for (c = v.detail; *c; c++) {
        if ((unsigned char)*c < 0x20 || *c == 0x7f) {
            fail_msg("control character 0x%02x in detail '%s'", (unsigned char)*c, v.detail);
        }
    }
    assert_non_null(strstr(v.detail, "evil"));

    memset(big, 'v', 5000);
    big[5000] = 0;
    EXPECT_FAIL(rc(p, apr_psprintf(p, "{\"role\":\"%s\"}", big),
                   reqs(p, req(p, "role", 0, NULL, "admin", NULL), NULL), &v),
                v, VJWT_R_TOKEN_CLAIM_VALUE_NOT_ALLOWED);
    if (strlen(v.detail) > 1024) {
        fail_msg("detail is %lu bytes: claim values must be length-capped",
                 (unsigned long)strlen(v.detail));
    }
}

static void test_required_none_configured(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_verdict_t v;
    EXPECT_OK(rc(p, "{}", NULL, &v), v);
    EXPECT_OK(rc(p, "{}", apr_array_make(p, 1, sizeof(vjwt_claim_req_t *)), &v), v);
}

/* --- linear joins, export names (issue: quadratic joins, colliding names) ------------- */

/* The process's data size in bytes (VmData: heap and private mappings, where APR's
 * allocator and malloc both take their memory from). */
static size_t heap_in_use(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    size_t kb = 0;
    assert_non_null(f);
    while (fgets(line, sizeof(line), f)) {
        if (sscanf(line, "VmData: %zu kB", &kb) == 1) {
            break;
        }
    }
    fclose(f);
    return kb * 1024;
}

/* A pool with an allocator of its own, so no memory is reused from other pools. */
static apr_pool_t *fresh_pool(void)
{
    apr_allocator_t *a;
    apr_pool_t *p;
    apr_allocator_create(&a);
    apr_pool_create_ex(&p, NULL, NULL, a);
    apr_allocator_owner_set(a, p);
    return p;
}

/* A payload {"roles": ["v0000001", ...]} with n elements. */
static json_t *big_roles(int n)
{
    json_t *arr = json_array(), *payload = json_object();
    int i;
    for (i = 0; i < n; i++) {
        char buf[16];
        snprintf(buf, sizeof(buf), "v%07d", i);
        json_array_append_new(arr, json_string(buf));
    }
    json_object_set_new(payload, "roles", arr);
    return payload;
}

/* Heap bytes a failing required-claim check of an n-element claim keeps in its own pool
 * (the detail message joins the claim's values). */
static size_t required_bytes(int n)
{
    apr_pool_t *p;
    json_t *payload = big_roles(n);
    apr_array_header_t *claims;
    vjwt_claim_req_t *c;
    vjwt_verdict_t v = {VJWT_R_OK, NULL};
    size_t before, used;
    p = fresh_pool();
    c = apr_pcalloc(p, sizeof(*c));
    c->name = "roles";
    c->values = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(c->values, const char *) = "nope";
    claims = apr_array_make(p, 1, sizeof(vjwt_claim_req_t *));
    APR_ARRAY_PUSH(claims, vjwt_claim_req_t *) = c;
    before = heap_in_use();
    assert_int_not_equal(vjwt_claims_check_required(p, payload, claims, &v), APR_SUCCESS);
    assert_int_equal(v.reason, VJWT_R_TOKEN_CLAIM_VALUE_NOT_ALLOWED);
    used = heap_in_use() - before;
    apr_pool_destroy(p);
    json_decref(payload);
    return used;
}

static void test_required_join_linear(void **state)
{
    size_t bytes = required_bytes(8000);
    (void)state;
    /* linear: a few dozen bytes per element (quadratic: 8000 x 36 KB on average) */
    assert_true(bytes < (size_t)8000 * 128);
    bytes = required_bytes(100000);
    assert_true(bytes < (size_t)100000 * 128);
}

static size_t join_bytes(int n, const char **out)
{
    apr_pool_t *p;
    json_t *payload = big_roles(n);
    size_t before, used;
    p = fresh_pool();
    before = heap_in_use();
    *out = vjwt_claim_join(p, json_object_get(payload, "roles"), 1000000, 1000000000);
    used = heap_in_use() - before;
    assert_non_null(*out);
    assert_int_equal(strlen(*out), (size_t)n * 9 - 1);
    apr_pool_destroy(p);
    json_decref(payload);
    return used;
}

static void test_claim_join_linear(void **state)
{
    const char *s;
    size_t bytes = join_bytes(100000, &s);
    (void)state;
    /* the array of pointers (8 bytes), the text (9 bytes) per element, and some slack */
    assert_true(bytes < (size_t)100000 * 64);
}

static void test_claim_join_caps(void **state)
{
    json_t *payload = big_roles(VJWT_EXPORT_MAX_ELEMENTS + 1);
    json_t *arr = json_object_get(payload, "roles");
    const char *s;
    vjwt_export_t ex;
    apr_pool_cleanup_register(POOL, payload, json_cleanup, apr_pool_cleanup_null);
    /* above the element cap: not exported at all */
    assert_null(vjwt_claim_join(POOL, arr, VJWT_EXPORT_MAX_ELEMENTS, VJWT_EXPORT_MAX_BYTES));
    vjwt_export_claims(POOL, payload, &ex);
    assert_int_equal(ex.items->nelts, 0);
    assert_int_equal(ex.too_many->nelts, 1);
    assert_string_equal(APR_ARRAY_IDX(ex.too_many, 0, const char *), "roles");
    /* at the cap: exported, cut at the byte cap with an ellipsis */
    json_array_remove(arr, 0);
    s = vjwt_claim_join(POOL, arr, VJWT_EXPORT_MAX_ELEMENTS, VJWT_EXPORT_MAX_BYTES);
    assert_non_null(s);
    assert_int_equal(strlen(s), VJWT_EXPORT_MAX_BYTES + 3);
    assert_string_equal(s + VJWT_EXPORT_MAX_BYTES, "...");
    /* values: scalars, control characters, quotes kept as they are */
    assert_string_equal(
        vjwt_claim_join(POOL, J(POOL, "[\"a\", 1, 1.5, true, false, null]"), 10, 100),
        "a,1,1.5,true,false");
    assert_string_equal(vjwt_claim_join(POOL, J(POOL, "\"x\\ny\\\"z\""), 10, 100), "x?y\"z");
    assert_null(vjwt_claim_join(POOL, J(POOL, "null"), 10, 100));
    assert_null(vjwt_claim_join(POOL, NULL, 10, 100));
}

static const char *item(const vjwt_export_t *ex, const char *name)
{
    int i;
    for (i = 0; i < ex->items->nelts; i++) {
        if (!strcmp(APR_ARRAY_IDX(ex->items, i, vjwt_export_item_t).name, name)) {
            return APR_ARRAY_IDX(ex->items, i, vjwt_export_item_t).value;
        }
    }
    return NULL;
}

static void test_export_collisions(void **state)
{
    vjwt_export_t ex;
    vjwt_export_claims(POOL,
                       J(POOL, "{\"roles\":\"Reader\",\"ROLES\":\"Admin\",\"Roles\":\"x\","
                               "\"sub\":\"u\",\"a-b\":\"1\",\"A_B\":\"2\",\"n\":null,"
                               "\"\":\"e\",\"x.y\":\"dot\",\"num\":[1,2]}"),
                       &ex);
    /* every member of a colliding group is left out */
    assert_null(item(&ex, "roles"));
    assert_null(item(&ex, "ROLES"));
    assert_null(item(&ex, "Roles"));
    assert_int_equal(ex.collided->nelts, 3);
    /* a-b is not an exported name, so A_B has no partner */
    assert_string_equal(item(&ex, "A_B"), "2");
    assert_null(item(&ex, "a-b"));
    assert_string_equal(item(&ex, "sub"), "u");
    assert_string_equal(item(&ex, "num"), "1,2");
    assert_null(item(&ex, "n"));
    assert_null(item(&ex, "x.y"));
    assert_int_equal(ex.items->nelts, 3);
    vjwt_export_claims(POOL, J(POOL, "[1]"), &ex);
    assert_int_equal(ex.items->nelts, 0);
    assert_true(vjwt_export_names_collide("a-b", "A_B"));
    assert_true(vjwt_export_names_collide("roles", "ROLES"));
    assert_false(vjwt_export_names_collide("roles", "role"));
    assert_false(vjwt_export_names_collide("role", "roles"));
}

static void test_claim_header_names(void **state)
{
    (void)state;
    assert_true(vjwt_is_claim_header("X-JWT-Claim-sub"));
    assert_true(vjwt_is_claim_header("x-jwt-claim-SUB"));
    assert_true(vjwt_is_claim_header("X_JWT_Claim_sub"));
    assert_true(vjwt_is_claim_header("X-JWT-Claim_roles"));
    assert_true(vjwt_is_claim_header("x_jwt-CLAIM_"));
    assert_false(vjwt_is_claim_header("X-JWT-Claims"));
    assert_false(vjwt_is_claim_header("X-JWT-Clai"));
    assert_false(vjwt_is_claim_header("X-JWT"));
    assert_false(vjwt_is_claim_header(""));
    assert_false(vjwt_is_claim_header("Authorization"));
}

static void test_sanitize_escapes_quotes(void **state)
{
    assert_string_equal(vjwt_sanitize(POOL, "k\" status=200 reason=OK", 64),
                        "k\\x22 status=200 reason=OK");
    assert_string_equal(vjwt_sanitize(POOL, "a\\b\r\n", 64), "a\\x5cb??");
    assert_string_equal(vjwt_sanitize(POOL, "\"\"\"\"", 2), "\\x22\\x22...");
    assert_string_equal(vjwt_sanitize(POOL, "abc", 3), "abc");
    assert_string_equal(vjwt_sanitize(POOL, NULL, 3), "(null)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, vjwt_test_pool_setup, vjwt_test_pool_teardown)
        T(test_strings_scalars),
        T(test_strings_array_and_object),
        T(test_strings_null),
        T(test_strings_separator),
        T(test_types_ok),
        T(test_types_bad_C38),
        T(test_types_numeric_range),
        T(test_lifetime_expired_C85_C86),
        T(test_lifetime_nbf_C87_C88),
        T(test_lifetime_fractional_C89),
        T(test_lifetime_future_iat_C90),
        T(test_lifetime_nbf_after_exp_C91),
        T(test_lifetime_require_exp_C82_C83_C84),
        T(test_audience_match_C93_C94_C95),
        T(test_audience_missing_C96),
        T(test_audience_unchecked_C97),
        T(test_audience_case_sensitive_C98),
        T(test_audience_trailing_slash_C99),
        T(test_issuer_match_C100),
        T(test_issuer_exact_C101),
        T(test_issuer_missing_C102),
        T(test_issuer_unchecked_C103),
        T(test_required_missing_C105),
        T(test_required_presence_before_values),
        T(test_required_presence_only_C106),
        T(test_required_match_all_C107_C108_C109_C111),
        T(test_required_match_any_C110),
        T(test_required_case_C112_C113),
        T(test_required_separator_C114_C115),
        T(test_required_non_string_values_C116),
        T(test_required_null_C117),
        T(test_required_two_claims_C118),
        T(test_required_aud_C119),
        T(test_required_detail_sanitized),
        T(test_required_none_configured),
        T(test_required_join_linear),
        T(test_claim_join_linear),
        T(test_claim_join_caps),
        T(test_export_collisions),
        T(test_claim_header_names),
        T(test_sanitize_escapes_quotes),
#undef T
    };
    vjwt_test_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
