/*
 * test_token.c - vjwt_token_parse (docs/conformance.md#pipeline steps 2-6, #parsing), the token
 * extraction helpers of section 2.2 and the verdict helpers of vjwt_verdict.h.
 *
 * Rows of docs/conformance.md covered: C20-C22, C25, C26, C28-C37, C65.
 */
#include "testutil.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <apr_strings.h>
#include <openssl/sha.h>

#include "vjwt_token.h"
#include "vjwt_verdict.h"

#define POOL ((apr_pool_t *)*state)

#define HDR_HS256 "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"
#define PAYLOAD   "{\"sub\":\"1234567890\",\"name\":\"John Doe\",\"iat\":1516239022}"

/* --- helpers ------------------------------------------------------------------------- */

/* Independent base64url encoder (no padding), so these tests don't lean on vjwt_b64. */
/* An encoder independent of the code under test (testutil.c). */
static const char *b64u_n(apr_pool_t *p, const void *data, apr_size_t n)
{
    return vjwt_test_b64url(p, data, n);
}

static const char *b64u(apr_pool_t *p, const char *s)
{
    return b64u_n(p, s, strlen(s));
}

/* "b64(h).b64(pl).sig" */
static const char *mk(apr_pool_t *p, const char *h, const char *pl, const char *sig)
{
    return apr_pstrcat(p, b64u(p, h), ".", b64u(p, pl), ".", sig, NULL);
}

static const char *sig_default(apr_pool_t *p)
{
    return b64u(p, "signature");
}

static vjwt_token_t *parse_ok_(apr_pool_t *p, const char *tok, apr_size_t max, int line)
{
    vjwt_token_t *t = NULL;
    vjwt_verdict_t v = {VJWT_R_OK, NULL};
    apr_status_t rv = vjwt_token_parse(&t, p, tok, strlen(tok), max, &v);
    if (rv != APR_SUCCESS || !t) {
        fail_msg("line %d: expected the token to parse, got %s (%s): %.200s", line,
                 vjwt_reason_name(v.reason), v.detail ? v.detail : "-", tok);
    }
    return t;
}

static void expect_invalid_(apr_pool_t *p, const char *tok, apr_size_t len, apr_size_t max,
                            int line)
{
    vjwt_token_t *t = NULL;
    vjwt_verdict_t v = {VJWT_R_OK, NULL};
    apr_status_t rv = vjwt_token_parse(&t, p, tok, len, max, &v);
    if (rv == APR_SUCCESS) {
        fail_msg("line %d: token parsed but must fail with JwtInvalid: %.200s", line, tok);
    }
    if (v.reason != VJWT_R_JWT_INVALID) {
        fail_msg("line %d: expected JwtInvalid, got %s (%s)", line, vjwt_reason_name(v.reason),
                 v.detail ? v.detail : "-");
    }
    if (!v.detail || !*v.detail) {
        fail_msg("line %d: JwtInvalid without a detail text", line);
    }
}

#define PARSE_OK(p, tok)       parse_ok_(p, tok, 0, __LINE__)
#define EXPECT_INVALID(p, tok) expect_invalid_(p, tok, strlen(tok), 0, __LINE__)
#define EXPECT_INVALID_HDR(p, h)                                                                   \
    expect_invalid_(p, mk(p, h, PAYLOAD, sig_default(p)),                                          \
                    strlen(mk(p, h, PAYLOAD, sig_default(p))), 0, __LINE__)
#define EXPECT_INVALID_PL(p, pl)                                                                   \
    expect_invalid_(p, mk(p, HDR_HS256, pl, sig_default(p)),                                       \
                    strlen(mk(p, HDR_HS256, pl, sig_default(p))), 0, __LINE__)

/* Replace the first occurrence of from in s by to (a copy); fails when absent. */
static const char *swap_first(apr_pool_t *p, const char *s, char from, char to)
{
    char *c = apr_pstrdup(p, s);
    char *at = strchr(c, from);
    if (!at) {
        fail_msg("'%c' not found in %s", from, s);
    }
    *at = to;
    return c;
}

/* --- parse: the good path ----------------------------------------------------------- */

static void test_parse_ok_fields(void **state)
{
    apr_pool_t *p = POOL;
    const char *tok =
        mk(p, "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"Key-1\"}", PAYLOAD, sig_default(p));
    vjwt_token_t *t = PARSE_OK(p, tok);

    assert_string_equal(t->alg, "RS256");
    assert_non_null(t->kid);
    assert_string_equal(t->kid, "Key-1");
    assert_non_null(t->typ);
    assert_string_equal(t->typ, "JWT");
    assert_true(json_is_object(t->header));
    assert_true(json_is_object(t->payload));
    assert_string_equal(json_string_value(json_object_get(t->payload, "sub")), "1234567890");
    assert_int_equal(t->sig_len, 9);
    assert_memory_equal(t->sig, "signature", 9);
    assert_int_equal(t->raw_len, strlen(tok));
    assert_string_equal(t->raw, tok);
}

static void test_parse_kid_typ_absent(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_token_t *t = PARSE_OK(p, mk(p, "{\"alg\":\"HS256\"}", "{}", sig_default(p)));
    assert_string_equal(t->alg, "HS256");
    assert_null(t->kid);
    assert_null(t->typ);
}

/* An empty signature is structurally fine (alg none, docs/conformance.md#pipeline step 7). */
static void test_parse_empty_signature(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_token_t *t = PARSE_OK(p, mk(p, "{\"alg\":\"none\"}", PAYLOAD, ""));
    assert_string_equal(t->alg, "none");
    assert_int_equal(t->sig_len, 0);
}

/* C65: the signing input is the received "header.payload" bytes, never re-encoded. */
static void test_parse_signing_input_C65(void **state)
{
    apr_pool_t *p = POOL;
    const char *h = b64u(p, "{ \"alg\" :  \"HS256\" ,\n \"typ\":\"JWT\"  }");
    const char *pl = b64u(p, "{\"sub\" : \"a\",   \"exp\":  1e10 }");
    const char *si = apr_pstrcat(p, h, ".", pl, NULL);
    const char *tok = apr_pstrcat(p, si, ".", sig_default(p), NULL);
    vjwt_token_t *t = PARSE_OK(p, tok);

    assert_int_equal(t->signing_input_len, strlen(si));
    assert_memory_equal(t->signing_input, si, strlen(si));
    assert_memory_equal(t->raw, si, strlen(si));
}

/* The parser reads exactly len bytes and keeps a NUL-terminated copy. */
static void test_parse_uses_len(void **state)
{
    apr_pool_t *p = POOL;
    const char *tok = mk(p, HDR_HS256, PAYLOAD, sig_default(p));
    const char *buf = apr_pstrcat(p, tok, "GARBAGE.MORE", NULL);
    vjwt_token_t *t = NULL;
    vjwt_verdict_t v = {VJWT_R_OK, NULL};

    assert_int_equal(vjwt_token_parse(&t, p, buf, strlen(tok), 0, &v), APR_SUCCESS);
    assert_int_equal(t->raw_len, strlen(tok));
    assert_string_equal(t->raw, tok);
    assert_int_equal(t->sig_len, 9);
}

/* C37: unknown non-critical header parameters are ignored, as are jku/x5u/jwk (never used,
 * but not a parse error either). */
static void test_parse_unknown_header_param_ignored_C37(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_token_t *t = PARSE_OK(
        p, mk(p, "{\"alg\":\"HS256\",\"foo\":1,\"bar\":{\"x\":[1,2]}}", PAYLOAD, sig_default(p)));
    assert_string_equal(t->alg, "HS256");
    PARSE_OK(p, mk(p,
                   "{\"alg\":\"RS256\",\"jku\":\"https://evil.example/jwks\","
                   "\"x5u\":\"https://evil.example/c.pem\"}",
                   PAYLOAD, sig_default(p)));
}

/* --- parse: segments ------------------------------------------------------------------ */

/* C31: 1, 2, 4, 5 (JWE, not supported) and 6 segments. */
static void test_parse_segment_counts_C31(void **state)
{
    apr_pool_t *p = POOL;
    const char *h = b64u(p, HDR_HS256);
    const char *pl = b64u(p, PAYLOAD);
    const char *s = sig_default(p);

    EXPECT_INVALID(p, h);
    EXPECT_INVALID(p, apr_pstrcat(p, h, ".", pl, NULL));
    EXPECT_INVALID(p, apr_pstrcat(p, h, ".", pl, ".", s, ".", s, NULL));
    EXPECT_INVALID(p, apr_pstrcat(p, h, ".", pl, ".", s, ".", s, ".", s, NULL));
    EXPECT_INVALID(p, apr_pstrcat(p, h, ".", pl, ".", s, ".", s, ".", s, ".", s, NULL));
    /* JWE-shaped: {"alg":"dir","enc":"A256CBC-HS512"} with empty encrypted key */
    EXPECT_INVALID(p, apr_pstrcat(p, b64u(p, "{\"alg\":\"dir\",\"enc\":\"A256CBC-HS512\"}"), "..",
                                  s, ".", s, ".", s, NULL));
    /* trailing dot = 4 segments */
    EXPECT_INVALID(p, apr_pstrcat(p, h, ".", pl, ".", s, ".", NULL));
    EXPECT_INVALID(p, "");
    EXPECT_INVALID(p, ".");
    EXPECT_INVALID(p, "..");
    EXPECT_INVALID(p, "...");
}

static void test_parse_empty_segments(void **state)
{
    apr_pool_t *p = POOL;
    const char *h = b64u(p, HDR_HS256);
    const char *pl = b64u(p, PAYLOAD);
    const char *s = sig_default(p);

    EXPECT_INVALID(p, apr_pstrcat(p, ".", pl, ".", s, NULL));
    EXPECT_INVALID(p, apr_pstrcat(p, h, "..", s, NULL));
    EXPECT_INVALID(p, apr_pstrcat(p, "..", s, NULL));
}

/* C32: '=' padding, '+', '/', whitespace. */
static void test_parse_padding_C32(void **state)
{
    apr_pool_t *p = POOL;
    const char *h = b64u(p, HDR_HS256);
    /* {"a":1} is 7 bytes: 10 chars, standard padding would be "==" */
    const char *pl = b64u(p, "{\"a\":1}");
    assert_int_equal(strlen(pl) % 4, 2);

    PARSE_OK(p, apr_pstrcat(p, h, ".", pl, ".AA", NULL));
    EXPECT_INVALID(p, apr_pstrcat(p, h, ".", pl, "==.AA", NULL));
    EXPECT_INVALID(p, apr_pstrcat(p, h, ".", pl, "=.AA", NULL));
    EXPECT_INVALID(p, apr_pstrcat(p, h, ".", pl, ".AA==", NULL));
    EXPECT_INVALID(p, apr_pstrcat(p, h, ".", pl, ".AA=", NULL));
    EXPECT_INVALID(p, apr_pstrcat(p, h, ".", pl, ".AAAA====", NULL));
    /* headers whose encodings have a remainder, with padding */
    {
        const char *h2 = b64u(p, "{\"alg\":\"HS256\"}");           /* 15 bytes: 20 chars */
        const char *h3 = b64u(p, "{\"alg\":\"HS256\",\"x\":12}");  /* 22 bytes: 30 chars */
        const char *h4 = b64u(p, "{\"alg\":\"HS256\",\"x\":123}"); /* 23 bytes: 31 chars */
        assert_int_equal(strlen(h2) % 4, 0);
        assert_int_equal(strlen(h3) % 4, 2);
        assert_int_equal(strlen(h4) % 4, 3);
        PARSE_OK(p, apr_pstrcat(p, h3, ".", pl, ".AA", NULL));
        PARSE_OK(p, apr_pstrcat(p, h4, ".", pl, ".AA", NULL));
        EXPECT_INVALID(p, apr_pstrcat(p, h3, "==.", pl, ".AA", NULL));
        EXPECT_INVALID(p, apr_pstrcat(p, h4, "=.", pl, ".AA", NULL));
        EXPECT_INVALID(p, apr_pstrcat(p, h2, "=.", pl, ".AA", NULL));
    }
}

static void test_parse_plus_slash_C32(void **state)
{
    apr_pool_t *p = POOL;
    const char *h = b64u(p, HDR_HS256);
    const char *pl = b64u(p, PAYLOAD);
    /* header text whose base64url holds both '-' and '_' */
    const char *hx = b64u(p, "{\"alg\":\"HS256\",\"x\":\"~~~~~~???????\"}");
    const unsigned char raw_sig[6] = {0xfb, 0xff, 0xbf, 0xfb, 0xff, 0xbf};
    const char *sig = b64u_n(p, raw_sig, sizeof(raw_sig));

    assert_non_null(strchr(sig, '-'));
    assert_non_null(strchr(sig, '_'));
    PARSE_OK(p, apr_pstrcat(p, h, ".", pl, ".", sig, NULL));
    EXPECT_INVALID(p, apr_pstrcat(p, h, ".", pl, ".", swap_first(p, sig, '-', '+'), NULL));
    EXPECT_INVALID(p, apr_pstrcat(p, h, ".", pl, ".", swap_first(p, sig, '_', '/'), NULL));

    assert_non_null(strchr(hx, '-'));
    assert_non_null(strchr(hx, '_'));
    PARSE_OK(p, apr_pstrcat(p, hx, ".", pl, ".", sig, NULL));
    EXPECT_INVALID(p, apr_pstrcat(p, swap_first(p, hx, '-', '+'), ".", pl, ".", sig, NULL));
    EXPECT_INVALID(p, apr_pstrcat(p, swap_first(p, hx, '_', '/'), ".", pl, ".", sig, NULL));
    /* other characters outside the alphabet */
    EXPECT_INVALID(p, apr_pstrcat(p, h, ".", pl, ".AA*A", NULL));
    EXPECT_INVALID(p, apr_pstrcat(p, h, ".", pl, ".AA\"A", NULL));
}

static void test_parse_whitespace_C32(void **state)
{
    apr_pool_t *p = POOL;
    const char *h = b64u(p, HDR_HS256);
    const char *pl = b64u(p, PAYLOAD);
    const char *s = sig_default(p);
    char *hs = apr_pstrdup(p, h);
    char *ht = apr_pstrdup(p, h);
    char *pn = apr_pstrdup(p, pl);

    hs[8] = ' ';
    ht[4] = '\t';
    pn[10] = '\n';
    /* inserted (not replacing) whitespace */
    EXPECT_INVALID(p, apr_pstrcat(p, apr_pstrndup(p, h, 8), " ", h + 8, ".", pl, ".", s, NULL));
    EXPECT_INVALID(p,
                   apr_pstrcat(p, h, ".", apr_pstrndup(p, pl, 12), "\r\n", pl + 12, ".", s, NULL));
    EXPECT_INVALID(p, apr_pstrcat(p, h, ".", pl, ".", apr_pstrndup(p, s, 4), " ", s + 4, NULL));
    EXPECT_INVALID(p, apr_pstrcat(p, hs, ".", pl, ".", s, NULL));
    EXPECT_INVALID(p, apr_pstrcat(p, ht, ".", pl, ".", s, NULL));
    EXPECT_INVALID(p, apr_pstrcat(p, h, ".", pn, ".", s, NULL));
    /* around segments and around the whole token (extraction trims, the parser doesn't) */
    EXPECT_INVALID(p, apr_pstrcat(p, h, " .", pl, ".", s, NULL));
    EXPECT_INVALID(p, apr_pstrcat(p, h, ". ", pl, ".", s, NULL));
    EXPECT_INVALID(p, apr_pstrcat(p, " ", h, ".", pl, ".", s, NULL));
    EXPECT_INVALID(p, apr_pstrcat(p, h, ".", pl, ".", s, " ", NULL));
    EXPECT_INVALID(p, apr_pstrcat(p, h, ".", pl, ".", s, "\n", NULL));
}

/* C32 / RFC 4648 4: a segment length = 1 (mod 4) can't be base64. */
static void test_parse_len_mod4_is_1(void **state)
{
    apr_pool_t *p = POOL;
    const char *h = b64u(p, HDR_HS256);
    const char *pl = b64u(p, PAYLOAD);

    EXPECT_INVALID(p, apr_pstrcat(p, h, ".", pl, ".A", NULL));
    EXPECT_INVALID(p, apr_pstrcat(p, h, ".", pl, ".AAAAA", NULL));
    /* header with one extra char */
    if (strlen(h) % 4 == 0) {
        EXPECT_INVALID(p, apr_pstrcat(p, h, "A.", pl, ".AAAA", NULL));
    }
    if (strlen(pl) % 4 == 0) {
        EXPECT_INVALID(p, apr_pstrcat(p, h, ".", pl, "A.AAAA", NULL));
    }
    else {
        /* cut it to length 1 mod 4 */
        apr_size_t n = strlen(pl) / 4 * 4 + 1;
        EXPECT_INVALID(p, apr_pstrcat(p, h, ".", apr_pstrndup(p, pl, n), ".AAAA", NULL));
    }
}

/* RFC 4648 3.5: non-zero unused trailing bits (non-canonical) are rejected. */
static void test_parse_noncanonical_trailing_bits(void **state)
{
    apr_pool_t *p = POOL;
    const char *h = b64u(p, HDR_HS256);
    const char *pl = b64u(p, PAYLOAD);

    PARSE_OK(p, apr_pstrcat(p, h, ".", pl, ".AA", NULL));
    PARSE_OK(p, apr_pstrcat(p, h, ".", pl, ".AAA", NULL));
    EXPECT_INVALID(p, apr_pstrcat(p, h, ".", pl, ".AB", NULL));
    EXPECT_INVALID(p, apr_pstrcat(p, h, ".", pl, ".AP", NULL));
    EXPECT_INVALID(p, apr_pstrcat(p, h, ".", pl, ".AAB", NULL));
    EXPECT_INVALID(p, apr_pstrcat(p, h, ".", pl, ".AAD", NULL));

    /* header and payload: bump the last character (its unused low bits were 0) */
    {
        const char *h3 = b64u(p, "{\"alg\":\"HS256\",\"x\":123}"); /* 23 bytes: 2 unused bits */
        const char *p1 = b64u(p, "{\"a\":1}");                     /* 7 bytes: 4 unused bits */
        char *hb = apr_pstrdup(p, h3);
        char *pb = apr_pstrdup(p, p1);
        assert_int_equal(strlen(h3) % 4, 3);
        assert_int_equal(strlen(p1) % 4, 2);
        hb[strlen(hb) - 1]++;
        pb[strlen(pb) - 1]++;
        PARSE_OK(p, apr_pstrcat(p, h3, ".", p1, ".AA", NULL));
        EXPECT_INVALID(p, apr_pstrcat(p, hb, ".", p1, ".AA", NULL));
        EXPECT_INVALID(p, apr_pstrcat(p, h3, ".", pb, ".AA", NULL));
    }
}

/* --- parse: JSON ----------------------------------------------------------------------- */

/* C33: header not JSON, not an object. */
static void test_parse_header_not_json_object_C33(void **state)
{
    apr_pool_t *p = POOL;
    EXPECT_INVALID_HDR(p, "not json");
    EXPECT_INVALID_HDR(p, "{\"alg\":\"HS256\"");
    EXPECT_INVALID_HDR(p, "{\"alg\":\"HS256\"} x");
    EXPECT_INVALID_HDR(p, "{\"alg\":\"HS256\"}{}");
    EXPECT_INVALID_HDR(p, "[{\"alg\":\"HS256\"}]");
    EXPECT_INVALID_HDR(p, "[]");
    EXPECT_INVALID_HDR(p, "\"HS256\"");
    EXPECT_INVALID_HDR(p, "42");
    EXPECT_INVALID_HDR(p, "null");
    EXPECT_INVALID_HDR(p, "true");
    EXPECT_INVALID_HDR(p, "");
    EXPECT_INVALID_HDR(p, "{'alg':'HS256'}");
}

/* C33: payload not JSON, not an object. */
static void test_parse_payload_not_json_object_C33(void **state)
{
    apr_pool_t *p = POOL;
    EXPECT_INVALID_PL(p, "not json");
    EXPECT_INVALID_PL(p, "{\"sub\":\"a\"");
    EXPECT_INVALID_PL(p, "[1,2,3]");
    EXPECT_INVALID_PL(p, "[{\"sub\":\"a\"}]");
    EXPECT_INVALID_PL(p, "\"text\"");
    EXPECT_INVALID_PL(p, "1700000000");
    EXPECT_INVALID_PL(p, "null");
    EXPECT_INVALID_PL(p, "{\"sub\":\"a\"} trailing");
    /* an empty object is fine structurally */
    PARSE_OK(p, mk(p, HDR_HS256, "{}", sig_default(p)));
}

/* C33 / RFC 7515 5.2, RFC 7519 7.2: JOSE text must be UTF-8. */
static void test_parse_invalid_utf8_C33(void **state)
{
    apr_pool_t *p = POOL;
    EXPECT_INVALID_HDR(p, "{\"alg\":\"HS256\",\"x\":\"\xff\"}");
    EXPECT_INVALID_HDR(p, "{\"alg\":\"HS256\",\"x\":\"\xc0\xaf\"}"); /* overlong '/' */
    EXPECT_INVALID_HDR(p, "{\"alg\":\"HS256\",\"\xe9t\xe9\":1}");    /* latin-1 key */
    EXPECT_INVALID_PL(p, "{\"sub\":\"caf\xe9\"}");                   /* latin-1 */
    EXPECT_INVALID_PL(p, "{\"sub\":\"\xed\xa0\x80\"}");              /* UTF-8 surrogate */
    EXPECT_INVALID_PL(p, "{\"sub\":\"\xe2\x82\"}");                  /* truncated */
    /* proper UTF-8 passes */
    PARSE_OK(p, mk(p, HDR_HS256, "{\"sub\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}",
                   sig_default(p)));
}

/* C35: duplicate member names, in the header, the payload and nested objects. */
static void test_parse_duplicate_members_C35(void **state)
{
    apr_pool_t *p = POOL;
    EXPECT_INVALID_HDR(p, "{\"alg\":\"HS256\",\"alg\":\"HS256\"}");
    EXPECT_INVALID_HDR(p, "{\"alg\":\"none\",\"alg\":\"HS256\"}");
    EXPECT_INVALID_HDR(p, "{\"alg\":\"HS256\",\"kid\":\"a\",\"kid\":\"b\"}");
    EXPECT_INVALID_PL(p, "{\"sub\":\"a\",\"sub\":\"b\"}");
    EXPECT_INVALID_PL(p, "{\"exp\":1,\"iat\":2,\"exp\":3}");
    EXPECT_INVALID_PL(p, "{\"x\":{\"a\":1,\"a\":2}}");
    /* the same name at different levels is not a duplicate */
    PARSE_OK(p, mk(p, HDR_HS256, "{\"a\":{\"a\":{\"a\":1}}}", sig_default(p)));
}

static const char *nested(apr_pool_t *p, int depth)
{
    char *s = apr_palloc(p, (apr_size_t)depth * 2 + 16);
    char *o = s;
    int i;
    o += sprintf(o, "{\"a\":");
    for (i = 0; i < depth; i++) {
        *o++ = '[';
    }
    for (i = 0; i < depth; i++) {
        *o++ = ']';
    }
    *o++ = '}';
    *o = 0;
    return s;
}

/* vjwt_json.h: nesting deeper than VJWT_JSON_MAX_DEPTH (32) is rejected. */
static void test_parse_nesting_depth(void **state)
{
    apr_pool_t *p = POOL;
    PARSE_OK(p, mk(p, HDR_HS256, nested(p, 10), sig_default(p)));
    EXPECT_INVALID_PL(p, nested(p, 40));
    EXPECT_INVALID_PL(p, nested(p, 1000));
    EXPECT_INVALID_HDR(p, apr_pstrcat(p, "{\"alg\":\"HS256\",\"x\":", nested(p, 40), "}", NULL));
}

/* C34 / RFC 7515 4.1.1: alg present and a string. */
static void test_parse_alg_C34(void **state)
{
    apr_pool_t *p = POOL;
    EXPECT_INVALID_HDR(p, "{}");
    EXPECT_INVALID_HDR(p, "{\"typ\":\"JWT\"}");
    EXPECT_INVALID_HDR(p, "{\"ALG\":\"HS256\"}");
    EXPECT_INVALID_HDR(p, "{\"alg\":256}");
    EXPECT_INVALID_HDR(p, "{\"alg\":null}");
    EXPECT_INVALID_HDR(p, "{\"alg\":true}");
    EXPECT_INVALID_HDR(p, "{\"alg\":[\"HS256\"]}");
    EXPECT_INVALID_HDR(p, "{\"alg\":{\"name\":\"HS256\"}}");
}

/* C36 / RFC 7515 4.1.11: crit. */
static void test_parse_crit_C36(void **state)
{
    apr_pool_t *p = POOL;
    EXPECT_INVALID_HDR(p, "{\"alg\":\"HS256\",\"crit\":[\"exp\"],\"exp\":1}");
    EXPECT_INVALID_HDR(p, "{\"alg\":\"HS256\",\"crit\":[\"exp\"]}");
    EXPECT_INVALID_HDR(p, "{\"alg\":\"HS256\",\"crit\":[]}");
    EXPECT_INVALID_HDR(p, "{\"alg\":\"HS256\",\"crit\":\"x\",\"x\":1}");
    EXPECT_INVALID_HDR(p, "{\"alg\":\"HS256\",\"crit\":\"x\"}");
    EXPECT_INVALID_HDR(p, "{\"alg\":\"HS256\",\"crit\":[\"foo\"],\"foo\":1}");
    EXPECT_INVALID_HDR(p, "{\"alg\":\"HS256\",\"crit\":[\"foo\"]}");
    EXPECT_INVALID_HDR(p, "{\"alg\":\"HS256\",\"crit\":[\"alg\"]}");
    EXPECT_INVALID_HDR(p, "{\"alg\":\"HS256\",\"crit\":[\"kid\"],\"kid\":\"k\"}");
    EXPECT_INVALID_HDR(p, "{\"alg\":\"HS256\",\"crit\":[1],\"1\":1}");
    EXPECT_INVALID_HDR(p, "{\"alg\":\"HS256\",\"crit\":null}");
    EXPECT_INVALID_HDR(p, "{\"alg\":\"HS256\",\"crit\":{\"foo\":1},\"foo\":1}");
    EXPECT_INVALID_HDR(p, "{\"alg\":\"HS256\",\"crit\":[\"b64\"],\"b64\":false}");
}

/* C30 / docs/conformance.md#token-location step 6: the length cap. */
static apr_size_t b64len(apr_size_t m)
{
    return m / 3 * 4 + (m % 3 ? m % 3 + 1 : 0);
}

static const char *token_of_len(apr_pool_t *p, apr_size_t target)
{
    static const char *sigs[] = {"", "AA", "AAA", "AAAA"};
    const char *h = b64u(p, HDR_HS256);
    apr_size_t n;
    int i;
    for (n = 0; n < target; n++) {
        apr_size_t base = strlen(h) + 2 + b64len(8 + n); /* {"p":"..."} is 8 + n bytes */
        for (i = 0; i < 4; i++) {
            if (base + strlen(sigs[i]) == target) {
                char *fill = apr_palloc(p, n + 1);
                const char *tok;
                memset(fill, 'x', n);
                fill[n] = 0;
                tok = mk(p, HDR_HS256, apr_psprintf(p, "{\"p\":\"%s\"}", fill), sigs[i]);
                assert_int_equal(strlen(tok), target);
                return tok;
            }
        }
        if (base > target) {
            break;
        }
    }
    fail_msg("can't build a token of %lu bytes", (unsigned long)target);
    return NULL;
}

static void test_parse_max_len_C30(void **state)
{
    apr_pool_t *p = POOL;
    const char *t200 = token_of_len(p, 200);
    const char *t201 = token_of_len(p, 201);

    parse_ok_(p, t200, 200, __LINE__);
    expect_invalid_(p, t201, strlen(t201), 200, __LINE__);
    parse_ok_(p, t201, 201, __LINE__);
    /* well past the cap */
    expect_invalid_(p, t201, strlen(t201), 100, __LINE__);
}

static void test_parse_max_len_default_C30(void **state)
{
    apr_pool_t *p = POOL;
    const char *ok = token_of_len(p, VJWT_DEFAULT_MAX_TOKEN_LEN);
    const char *big = token_of_len(p, VJWT_DEFAULT_MAX_TOKEN_LEN + 1);

    parse_ok_(p, ok, 0, __LINE__);
    expect_invalid_(p, big, strlen(big), 0, __LINE__);
    /* a larger explicit cap admits it */
    parse_ok_(p, big, VJWT_DEFAULT_MAX_TOKEN_LEN * 2, __LINE__);
}

/* --- docs/conformance.md#token-location step 1: Authorization ---------------------------- */

static void expect_auth_(apr_pool_t *p, const char *value, const char *scheme, const char *want,
                         int line)
{
    const char *got = vjwt_token_from_authorization(p, value, scheme);
    if (!want && got) {
        fail_msg("line %d: Authorization '%s' (scheme %s): expected not present, got '%s'", line,
                 value ? value : "(null)", scheme ? scheme : "(none)", got);
    }
    if (want && (!got || strcmp(got, want))) {
        fail_msg("line %d: Authorization '%s' (scheme %s): expected '%s', got '%s'", line,
                 value ? value : "(null)", scheme ? scheme : "(none)", want, got ? got : "(null)");
    }
}

#define EXPECT_AUTH(p, value, scheme, want) expect_auth_(p, value, scheme, want, __LINE__)

/* C20: no require-scheme, "Bearer <tok>" gives tok. */
static void test_auth_no_scheme_C20(void **state)
{
    apr_pool_t *p = POOL;
    EXPECT_AUTH(p, "Bearer tok", NULL, "tok");
    EXPECT_AUTH(p, "bearer tok", NULL, "tok");
    EXPECT_AUTH(p, "Whatever tok", NULL, "tok");
}

/* C21 and C22. */
static void test_auth_require_scheme_C21_C22(void **state)
{
    apr_pool_t *p = POOL;
    EXPECT_AUTH(p, "Bearer tok", "Bearer", "tok");
    EXPECT_AUTH(p, "bearer tok", "Bearer", "tok");
    EXPECT_AUTH(p, "BEARER tok", "Bearer", "tok");
    EXPECT_AUTH(p, "Bearer tok", "bearer", "tok");
    EXPECT_AUTH(p, "Basic x", "Bearer", NULL);
    EXPECT_AUTH(p, "Basic dXNlcjpwYXNz", "Bearer", NULL);
    EXPECT_AUTH(p, "tok", "Bearer", NULL);
    EXPECT_AUTH(p, "Bearertok", "Bearer", NULL);
    EXPECT_AUTH(p, "Bearer", "Bearer", NULL);
    EXPECT_AUTH(p, "Beare tok", "Bearer", NULL);
    EXPECT_AUTH(p, "Bearerr tok", "Bearer", NULL);
}

/* C25: an empty token after the scheme is "not present". */
static void test_auth_empty_token_C25(void **state)
{
    apr_pool_t *p = POOL;
    EXPECT_AUTH(p, "Bearer ", "Bearer", NULL);
    EXPECT_AUTH(p, "Bearer    ", "Bearer", NULL);
    EXPECT_AUTH(p, "  Bearer \t ", "Bearer", NULL);
}

/* C25 is stated for the default policy, which has no require-scheme: "Bearer " (scheme and
 * nothing else) is "not present", not the token "Bearer". (Token location step 1.4 read literally
 * would give the token "Bearer" and so JwtInvalid; C25 and DESIGN.md - "Bearer is stripped
 * from Authorization anyway" - say TokenNotPresent.) */
static void test_auth_empty_token_no_scheme_C25(void **state)
{
    apr_pool_t *p = POOL;
    EXPECT_AUTH(p, "Bearer ", NULL, NULL);
    EXPECT_AUTH(p, "Bearer    ", NULL, NULL);
}

/* C26: several spaces and surrounding whitespace (SP/HTAB) are tolerated. */
static void test_auth_whitespace_C26(void **state)
{
    apr_pool_t *p = POOL;
    EXPECT_AUTH(p, "Bearer  tok  ", NULL, "tok");
    EXPECT_AUTH(p, "Bearer  tok  ", "Bearer", "tok");
    EXPECT_AUTH(p, "   Bearer     tok", "Bearer", "tok");
    EXPECT_AUTH(p, "\tBearer tok\t", "Bearer", "tok");
    EXPECT_AUTH(p, " \t Bearer   tok \t ", NULL, "tok");
}

/* C29: no require-scheme and no space: the whole value is the token. */
static void test_auth_bare_token_C29(void **state)
{
    apr_pool_t *p = POOL;
    EXPECT_AUTH(p, "tok", NULL, "tok");
    EXPECT_AUTH(p, "  tok  ", NULL, "tok");
    EXPECT_AUTH(p, "eyJhbGciOiJIUzI1NiJ9.e30.AAAA", NULL, "eyJhbGciOiJIUzI1NiJ9.e30.AAAA");
}

/* 2.2 step 1.1-1.2: missing and empty values. */
static void test_auth_missing_or_empty(void **state)
{
    apr_pool_t *p = POOL;
    EXPECT_AUTH(p, NULL, NULL, NULL);
    EXPECT_AUTH(p, NULL, "Bearer", NULL);
    EXPECT_AUTH(p, "", NULL, NULL);
    EXPECT_AUTH(p, "", "Bearer", NULL);
    EXPECT_AUTH(p, "   ", NULL, NULL);
    EXPECT_AUTH(p, " \t ", "Bearer", NULL);
}

/* 2.2 step 5: joined headers go through as one value (and fail later as JwtInvalid). */
static void test_auth_joined_values(void **state)
{
    apr_pool_t *p = POOL;
    EXPECT_AUTH(p, "Bearer a, Bearer b", NULL, "a, Bearer b");
    EXPECT_AUTH(p, "Bearer a, Bearer b", "Bearer", "a, Bearer b");
}

/* --- docs/conformance.md#token-location step 2: any other header ------------------------- */

static void test_from_header_C24(void **state)
{
    apr_pool_t *p = POOL;
    const char *t;
    assert_string_equal(vjwt_token_from_header(p, "tok"), "tok");
    assert_string_equal(vjwt_token_from_header(p, "  tok \t"), "tok");
    t = vjwt_token_from_header(p, "Bearer x");
    assert_non_null(t);
    assert_string_equal(t, "Bearer x");
    assert_string_equal(vjwt_token_from_header(p, "  Bearer x  "), "Bearer x");
    assert_null(vjwt_token_from_header(p, ""));
    assert_null(vjwt_token_from_header(p, "  \t "));
    assert_null(vjwt_token_from_header(p, NULL));
}

/* --- docs/conformance.md#token-location step 3: query parameter -------------------------- */

static void expect_query_(apr_pool_t *p, const char *q, const char *name, const char *want,
                          int line)
{
    const char *got = vjwt_token_from_query(p, q, name);
    if ((!want && got) || (want && (!got || strcmp(got, want)))) {
        fail_msg("line %d: query '%s' name '%s': expected %s%s%s, got %s%s%s", line,
                 q ? q : "(null)", name, want ? "'" : "", want ? want : "(null)", want ? "'" : "",
                 got ? "'" : "", got ? got : "(null)", got ? "'" : "");
    }
}

#define EXPECT_QUERY(p, q, want) expect_query_(p, q, "access_token", want, __LINE__)

static void test_query_basic_C27(void **state)
{
    apr_pool_t *p = POOL;
    EXPECT_QUERY(p, "access_token=abc", "abc");
    EXPECT_QUERY(p, "a=1&access_token=abc", "abc");
    EXPECT_QUERY(p, "access_token=abc&a=1", "abc");
    EXPECT_QUERY(p, "a=1&access_token=eyJ.e30.sig&b=2", "eyJ.e30.sig");
    expect_query_(p, "jwt=x.y.z", "jwt", "x.y.z", __LINE__);
}

/* C28: the first occurrence is used. */
static void test_query_first_occurrence_C28(void **state)
{
    apr_pool_t *p = POOL;
    EXPECT_QUERY(p, "a=1&access_token=x&access_token=y", "x");
    EXPECT_QUERY(p, "access_token=first&access_token=second", "first");
}

static void test_query_missing_or_empty_C27(void **state)
{
    apr_pool_t *p = POOL;
    EXPECT_QUERY(p, NULL, NULL);
    EXPECT_QUERY(p, "", NULL);
    EXPECT_QUERY(p, "a=1", NULL);
    EXPECT_QUERY(p, "a=1&b=2", NULL);
    EXPECT_QUERY(p, "access_token=", NULL);
    EXPECT_QUERY(p, "a=1&access_token=&b=2", NULL);
    EXPECT_QUERY(p, "access_token", NULL);
    /* names are matched exactly, not as prefixes or suffixes */
    EXPECT_QUERY(p, "access_token_x=1", NULL);
    EXPECT_QUERY(p, "xaccess_token=1", NULL);
    EXPECT_QUERY(p, "xaccess_token=1&access_token=2", "2");
    /* the value of another parameter is not a name */
    EXPECT_QUERY(p, "a=access_token=1", NULL);
}

static void test_query_percent_decoding(void **state)
{
    apr_pool_t *p = POOL;
    EXPECT_QUERY(p, "access_token=a%2Eb%2ec", "a.b.c");
    EXPECT_QUERY(p, "access_token=%41%42", "AB");
    EXPECT_QUERY(p, "access_token=a+b", "a+b");
    EXPECT_QUERY(p, "access_token=a%2Bb", "a+b");
    EXPECT_QUERY(p, "access_token=a%26b&x=1", "a&b");
    /* bad encodings */
    EXPECT_QUERY(p, "access_token=%zz", NULL);
    EXPECT_QUERY(p, "access_token=%4zabc", NULL);
    EXPECT_QUERY(p, "access_token=%G1abc", NULL);
    EXPECT_QUERY(p, "access_token=ab%4", NULL);
    EXPECT_QUERY(p, "access_token=ab%", NULL);
}

/* --- fingerprint --------------------------------------------------------------------------- */

static void test_fingerprint(void **state)
{
    apr_pool_t *p = POOL;
    const char *f1 = vjwt_token_fingerprint(p, "abc", 3);
    const char *f2 = vjwt_token_fingerprint(p, "abc", 3);
    const char *f3 = vjwt_token_fingerprint(p, "abd", 3);
    const char *f4 = vjwt_token_fingerprint(p, "abcdef", 3);
    int i;

    assert_non_null(f1);
    assert_int_equal(strlen(f1), 8);
    for (i = 0; i < 8; i++) {
        assert_true(isxdigit((unsigned char)f1[i]));
    }
    /* SHA-256("abc") = ba7816bf 8f01cfea ... */
    assert_true(strcasecmp(f1, "ba7816bf") == 0);
    assert_string_equal(f1, f2);
    assert_string_not_equal(f1, f3);
    assert_string_equal(f1, f4);
}

static void test_fingerprint_matches_sha256(void **state)
{
    apr_pool_t *p = POOL;
    const char *tok = mk(p, HDR_HS256, PAYLOAD, sig_default(p));
    unsigned char md[SHA256_DIGEST_LENGTH];
    char want[9];
    const char *got = vjwt_token_fingerprint(p, tok, strlen(tok));

    SHA256((const unsigned char *)tok, strlen(tok), md);
    snprintf(want, sizeof(want), "%02x%02x%02x%02x", md[0], md[1], md[2], md[3]);
    assert_non_null(got);
    assert_true(strcasecmp(got, want) == 0);
    /* the fingerprint never reveals the token */
    assert_null(strstr(tok, got));
}

/* --- verdict ------------------------------------------------------------------------------- */

static void test_reason_names(void **state)
{
    static const struct {
        vjwt_reason_e r;
        const char *name;
    } names[] = {
        {VJWT_R_TOKEN_NOT_PRESENT, "TokenNotPresent"},
        {VJWT_R_JWT_INVALID, "JwtInvalid"},
        {VJWT_R_TOKEN_SIGNATURE_INVALID, "TokenSignatureInvalid"},
        {VJWT_R_TOKEN_SIGNATURE_KEY_NOT_FOUND, "TokenSignatureKeyNotFound"},
        {VJWT_R_TOKEN_EXPIRED, "TokenExpired"},
        {VJWT_R_TOKEN_AUDIENCE_NOT_ALLOWED, "TokenAudienceNotAllowed"},
        {VJWT_R_TOKEN_ISSUER_NOT_ALLOWED, "TokenIssuerNotAllowed"},
        {VJWT_R_TOKEN_CLAIM_NOT_FOUND, "TokenClaimNotFound"},
        {VJWT_R_TOKEN_CLAIM_VALUE_NOT_ALLOWED, "TokenClaimValueNotAllowed"},
        {VJWT_R_KEYS_UNAVAILABLE, "KeysUnavailable"},
    };
    apr_size_t i;
    (void)state;
    assert_int_equal(sizeof(names) / sizeof(names[0]), VJWT_R__COUNT - 1);
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        assert_string_equal(vjwt_reason_name(names[i].r), names[i].name);
    }
    assert_non_null(vjwt_reason_name(VJWT_R_OK));
    assert_non_null(vjwt_reason_name(VJWT_R__COUNT));
    assert_non_null(vjwt_reason_name((vjwt_reason_e)999));
    assert_non_null(vjwt_reason_name((vjwt_reason_e)-1));
}

/* C131: error_description only holds %x20-21 / %x23-5B / %x5D-7E. */
static void test_reason_descriptions_rfc6750(void **state)
{
    int r;
    (void)state;
    for (r = VJWT_R_TOKEN_NOT_PRESENT; r < VJWT_R__COUNT; r++) {
        const char *d = vjwt_reason_description((vjwt_reason_e)r);
        const unsigned char *c;
        assert_non_null(d);
        assert_true(*d != 0);
        for (c = (const unsigned char *)d; *c; c++) {
            int ok = (*c >= 0x20 && *c <= 0x21) || (*c >= 0x23 && *c <= 0x5b) ||
                     (*c >= 0x5d && *c <= 0x7e);
            if (!ok) {
                fail_msg("description of %s holds 0x%02x: %s", vjwt_reason_name((vjwt_reason_e)r),
                         *c, d);
            }
        }
    }
    assert_non_null(vjwt_reason_description(VJWT_R__COUNT));
    assert_non_null(vjwt_reason_description((vjwt_reason_e)999));
}

static void test_fail_helper(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_verdict_t v = {VJWT_R_OK, NULL};
    assert_int_equal(vjwt_fail(&v, p, VJWT_R_TOKEN_EXPIRED, "exp %d", 42), APR_EGENERAL);
    assert_int_equal(v.reason, VJWT_R_TOKEN_EXPIRED);
    assert_string_equal(v.detail, "exp 42");
    assert_int_equal(vjwt_fail(NULL, p, VJWT_R_JWT_INVALID, "x"), APR_EGENERAL);
}

static void test_sanitize(void **state)
{
    apr_pool_t *p = POOL;
    const char *s;

    assert_string_equal(vjwt_sanitize(p, "plain text", 100), "plain text");
    assert_string_equal(vjwt_sanitize(p, "", 100), "");
    s = vjwt_sanitize(p,
                      "a\nb\rc\td\x01"
                      "e\x1f"
                      "f\x7fg",
                      100);
    assert_string_equal(s, "a?b?c?d?e?f?g");
    /* exactly max bytes: no cut */
    assert_string_equal(vjwt_sanitize(p, "abcdefghij", 10), "abcdefghij");
}

static void test_sanitize_cap(void **state)
{
    apr_pool_t *p = POOL;
    char big[2001];
    const char *s;
    apr_size_t i;

    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    s = vjwt_sanitize(p, big, 256);
    assert_non_null(s);
    /* at most max bytes of the input plus an ellipsis marker */
    assert_true(strlen(s) <= 256 + 3);
    assert_true(strlen(s) >= 200);
    assert_true(strlen(s) < strlen(big));
    for (i = 0; i < 200; i++) {
        assert_int_equal(s[i], 'a');
    }
    assert_true(strstr(s, "...") != NULL || strstr(s, "\xe2\x80\xa6") != NULL);

    s = vjwt_sanitize(p, "abcdefghijklmnop", 10);
    assert_true(strlen(s) <= 13);
    assert_memory_equal(s, "abcdefg", 7);
    assert_string_not_equal(s, "abcdefghijklmnop");
    /* controls in the cut text are replaced too */
    s = vjwt_sanitize(p, "\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n", 10);
    assert_null(strchr(s, '\n'));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, vjwt_test_pool_setup, vjwt_test_pool_teardown)
        T(test_parse_ok_fields),
        T(test_parse_kid_typ_absent),
        T(test_parse_empty_signature),
        T(test_parse_signing_input_C65),
        T(test_parse_uses_len),
        T(test_parse_unknown_header_param_ignored_C37),
        T(test_parse_segment_counts_C31),
        T(test_parse_empty_segments),
        T(test_parse_padding_C32),
        T(test_parse_plus_slash_C32),
        T(test_parse_whitespace_C32),
        T(test_parse_len_mod4_is_1),
        T(test_parse_noncanonical_trailing_bits),
        T(test_parse_header_not_json_object_C33),
        T(test_parse_payload_not_json_object_C33),
        T(test_parse_invalid_utf8_C33),
        T(test_parse_duplicate_members_C35),
        T(test_parse_nesting_depth),
        T(test_parse_alg_C34),
        T(test_parse_crit_C36),
        T(test_parse_max_len_C30),
        T(test_parse_max_len_default_C30),
        T(test_auth_no_scheme_C20),
        T(test_auth_require_scheme_C21_C22),
        T(test_auth_empty_token_C25),
        T(test_auth_empty_token_no_scheme_C25),
        T(test_auth_whitespace_C26),
        T(test_auth_bare_token_C29),
        T(test_auth_missing_or_empty),
        T(test_auth_joined_values),
        T(test_from_header_C24),
        T(test_query_basic_C27),
        T(test_query_first_occurrence_C28),
        T(test_query_missing_or_empty_C27),
        T(test_query_percent_decoding),
        T(test_fingerprint),
        T(test_fingerprint_matches_sha256),
        T(test_reason_names),
        T(test_reason_descriptions_rfc6750),
        T(test_fail_helper),
        T(test_sanitize),
        T(test_sanitize_cap),
#undef T
    };
    vjwt_test_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
