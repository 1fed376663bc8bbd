/*
 * test_b64.c - strict base64url, standard base64, and the strict JSON layer (vjwt_json.c),
 * the two encodings every token and key goes through.
 */
#include "testutil.h"
#include "vjwt_b64.h"
#include "vjwt_json.h"

#include <string.h>
#include <apr_strings.h>

static int url_ok(apr_pool_t *p, const char *in, const char *want, apr_size_t wantlen)
{
    unsigned char *out = NULL;
    apr_size_t len = 99;
    if (vjwt_b64url_decode(p, in, strlen(in), &out, &len) != APR_SUCCESS) {
        return 0;
    }
    return len == wantlen && memcmp(out, want, wantlen) == 0 && out[len] == 0;
}

static int url_bad(apr_pool_t *p, const char *in, apr_size_t len)
{
    unsigned char *out = NULL;
    apr_size_t outlen = 0;
    return vjwt_b64url_decode(p, in, len, &out, &outlen) == APR_EINVAL;
}

#define URL_BAD(p, s) url_bad(p, s, strlen(s))

static void t_url_rfc4648(void **state)
{
    apr_pool_t *p = *state;
    assert_true(url_ok(p, "", "", 0));
    assert_true(url_ok(p, "Zg", "f", 1));
    assert_true(url_ok(p, "Zm8", "fo", 2));
    assert_true(url_ok(p, "Zm9v", "foo", 3));
    assert_true(url_ok(p, "Zm9vYg", "foob", 4));
    assert_true(url_ok(p, "Zm9vYmE", "fooba", 5));
    assert_true(url_ok(p, "Zm9vYmFy", "foobar", 6));
    /* the two url-safe letters */
    assert_true(url_ok(p, "-_8", "\xfb\xff", 2));
    assert_true(url_ok(p, "____", "\xff\xff\xff", 3));
    assert_true(url_ok(p, "AAAA", "\0\0\0", 3));
}

static void t_url_null_empty(void **state)
{
    apr_pool_t *p = *state;
    unsigned char *out = NULL;
    apr_size_t len = 7;
    assert_int_equal(vjwt_b64url_decode(p, NULL, 0, &out, &len), APR_SUCCESS);
    assert_int_equal(len, 0);
    assert_non_null(out);
    assert_int_equal(out[0], 0);
    assert_int_equal(vjwt_b64url_decode(p, NULL, 4, &out, &len), APR_EINVAL);
    assert_int_equal(vjwt_b64url_decode(p, "Zm9v", 4, NULL, &len), APR_EINVAL);
}

static void t_url_padding(void **state)
{
    apr_pool_t *p = *state;
    assert_true(URL_BAD(p, "Zg=="));
    assert_true(URL_BAD(p, "Zg="));
    assert_true(URL_BAD(p, "Zm8="));
    assert_true(URL_BAD(p, "Zm9v="));
    assert_true(URL_BAD(p, "="));
    assert_true(URL_BAD(p, "===="));
    assert_true(URL_BAD(p, "Zg==Zg"));
}

static void t_url_std_alphabet(void **state)
{
    apr_pool_t *p = *state;
    assert_true(URL_BAD(p, "+_8"));
    assert_true(URL_BAD(p, "-/8"));
    assert_true(URL_BAD(p, "++++"));
    assert_true(URL_BAD(p, "////"));
}

static void t_url_whitespace_and_junk(void **state)
{
    apr_pool_t *p = *state;
    assert_true(URL_BAD(p, " Zm9v"));
    assert_true(URL_BAD(p, "Zm9v "));
    assert_true(URL_BAD(p, "Zm 9v"));
    assert_true(URL_BAD(p, "Zm9v\n"));
    assert_true(URL_BAD(p, "Zm9\tv"));
    assert_true(URL_BAD(p, "Zm9v\r\n"));
    assert_true(URL_BAD(p, "Zm9v."));
    assert_true(URL_BAD(p, "Zm?v"));
    assert_true(URL_BAD(p, "Zm9v#"));
    assert_true(URL_BAD(p, "Zm\xc3\xa9v"));
    /* a NUL byte inside the given length */
    assert_true(url_bad(p, "Zm\0v", 4));
    assert_true(url_bad(p, "Zm9v\0", 5));
}

static void t_url_len_mod4_is_1(void **state)
{
    apr_pool_t *p = *state;
    assert_true(URL_BAD(p, "Z"));
    assert_true(URL_BAD(p, "Zm9vY"));
    assert_true(URL_BAD(p, "Zm9vYmFyZ"));
    assert_true(URL_BAD(p, "A"));
}

static void t_url_noncanonical(void **state)
{
    apr_pool_t *p = *state;
    /* "f" is "Zg"; "Zh".."Zv" carry the same octet with non-zero unused bits */
    assert_true(url_ok(p, "Zg", "f", 1));
    assert_true(URL_BAD(p, "Zh"));
    assert_true(URL_BAD(p, "Zi"));
    assert_true(URL_BAD(p, "Zv"));
    /* "fo" is "Zm8"; "Zm9" sets an unused bit */
    assert_true(url_ok(p, "Zm8", "fo", 2));
    assert_true(URL_BAD(p, "Zm9"));
    assert_true(URL_BAD(p, "Zm-"));
    assert_true(URL_BAD(p, "Zm_"));
    /* Wycheproof json_web_signature tcId 374: payload "AB" has unused bits set */
    assert_true(URL_BAD(p, "AB"));
    assert_true(url_ok(p, "AA", "\0", 1));
}

static void t_url_roundtrip(void **state)
{
    apr_pool_t *p = *state;
    unsigned char buf[300];
    apr_size_t n, i;
    for (i = 0; i < sizeof(buf); i++) {
        buf[i] = (unsigned char)(i * 7 + 3);
    }
    for (n = 0; n <= sizeof(buf); n++) {
        const char *enc = vjwt_b64url_encode(p, buf, n);
        unsigned char *dec;
        apr_size_t declen;
        assert_int_equal(strlen(enc), (n * 4 + 2) / 3);
        assert_null(strpbrk(enc, "=+/"));
        assert_int_equal(vjwt_b64url_decode(p, enc, strlen(enc), &dec, &declen), APR_SUCCESS);
        assert_int_equal(declen, n);
        assert_memory_equal(dec, buf, n);
    }
    assert_string_equal(vjwt_b64url_encode(p, NULL, 5), "");
    assert_string_equal(vjwt_b64url_encode(p, (const unsigned char *)"\xfb\xff", 2), "-_8");
    assert_string_equal(vjwt_b64url_encode(p, (const unsigned char *)"foobar", 6), "Zm9vYmFy");
}

/* every single-character change of a valid encoding either decodes canonically or fails */
static void t_url_every_char(void **state)
{
    apr_pool_t *p = *state;
    int c;
    for (c = 0; c < 256; c++) {
        char s[5] = "Zm9v";
        unsigned char *out;
        apr_size_t len;
        int in_alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                       c == '-' || c == '_';
        s[1] = (char)c;
        assert_int_equal(vjwt_b64url_decode(p, s, 4, &out, &len) == APR_SUCCESS, in_alpha);
    }
}

/* JWK members: either alphabet, optional padding, nothing else. */
static int jwk_ok(apr_pool_t *p, const char *in, const char *want, apr_size_t wantlen, int lenient)
{
    unsigned char *out = NULL;
    apr_size_t len = 99;
    int l = -1;
    if (vjwt_b64_decode_jwk(p, in, strlen(in), &out, &len, &l) != APR_SUCCESS) {
        return 0;
    }
    return len == wantlen && memcmp(out, want, wantlen) == 0 && out[len] == 0 && l == lenient;
}

static int jwk_bad(apr_pool_t *p, const char *in)
{
    unsigned char *out = NULL;
    apr_size_t len = 0;
    int l = -1;
    return vjwt_b64_decode_jwk(p, in, strlen(in), &out, &len, &l) == APR_EINVAL;
}

static void t_jwk_members(void **state)
{
    apr_pool_t *p = *state;
    /* base64url as it should be */
    assert_true(jwk_ok(p, "", "", 0, 0));
    assert_true(jwk_ok(p, "Zm9v", "foo", 3, 0));
    assert_true(jwk_ok(p, "-_8", "\xfb\xff", 2, 0));
    /* padding, standard alphabet, both */
    assert_true(jwk_ok(p, "Zm8=", "fo", 2, 1));
    assert_true(jwk_ok(p, "Zg==", "f", 1, 1));
    assert_true(jwk_ok(p, "-_8=", "\xfb\xff", 2, 1));
    assert_true(jwk_ok(p, "+/8", "\xfb\xff", 2, 1));
    assert_true(jwk_ok(p, "+/8=", "\xfb\xff", 2, 1));
    assert_true(jwk_ok(p, "+/+/", "\xfb\xff\xbf", 3, 1));
    /* refused: mixed alphabets, wrong or inner padding, whitespace, junk, non-canonical */
    assert_true(jwk_bad(p, "-/8"));
    assert_true(jwk_bad(p, "+_8="));
    assert_true(jwk_bad(p, "Zg="));
    assert_true(jwk_bad(p, "Zg==="));
    assert_true(jwk_bad(p, "Zm8=="));
    assert_true(jwk_bad(p, "Zm9v="));
    assert_true(jwk_bad(p, "Zm9v===="));
    assert_true(jwk_bad(p, "="));
    assert_true(jwk_bad(p, "=="));
    assert_true(jwk_bad(p, "Zg==Zm9v"));
    assert_true(jwk_bad(p, "Z=g="));
    assert_true(jwk_bad(p, " Zm9v"));
    assert_true(jwk_bad(p, "Zm9v\n"));
    assert_true(jwk_bad(p, "Zm 9v"));
    assert_true(jwk_bad(p, "Zm9v."));
    assert_true(jwk_bad(p, "Z"));
    assert_true(jwk_bad(p, "Zh=="));
    assert_true(jwk_bad(p, "Zh"));
    {
        unsigned char *out = NULL;
        apr_size_t len = 0;
        assert_int_equal(vjwt_b64_decode_jwk(p, "Zm\0v", 4, &out, &len, NULL), APR_EINVAL);
        assert_int_equal(vjwt_b64_decode_jwk(p, "Zm9v", 4, &out, &len, NULL), APR_SUCCESS);
    }
}

static int std_ok(apr_pool_t *p, const char *in, const char *want, apr_size_t wantlen)
{
    unsigned char *out = NULL;
    apr_size_t len = 99;
    if (vjwt_b64_decode(p, in, strlen(in), &out, &len) != APR_SUCCESS) {
        return 0;
    }
    return len == wantlen && memcmp(out, want, wantlen) == 0 && out[len] == 0;
}

static int std_bad(apr_pool_t *p, const char *in)
{
    unsigned char *out = NULL;
    apr_size_t len = 0;
    return vjwt_b64_decode(p, in, strlen(in), &out, &len) == APR_EINVAL;
}

static void t_std_decode(void **state)
{
    apr_pool_t *p = *state;
    assert_true(std_ok(p, "", "", 0));
    assert_true(std_ok(p, "   ", "", 0));
    assert_true(std_ok(p, "Zg==", "f", 1));
    assert_true(std_ok(p, "Zg", "f", 1));
    assert_true(std_ok(p, "Zm8=", "fo", 2));
    assert_true(std_ok(p, "Zm8", "fo", 2));
    assert_true(std_ok(p, "Zm9v", "foo", 3));
    assert_true(std_ok(p, "Zm9vYmFy", "foobar", 6));
    assert_true(std_ok(p, "+/8=", "\xfb\xff", 2));
    assert_true(std_ok(p, "  Zm9v\r\n", "foo", 3));
    assert_true(std_ok(p, "\tZm9vYg==\n", "foob", 4));
    assert_true(std_ok(p, "c2VjcmV0LWtleS1mb3ItdGVzdHM=", "secret-key-for-tests", 20));
}

static void t_std_bad(void **state)
{
    apr_pool_t *p = *state;
    /* bad padding */
    assert_true(std_bad(p, "Zg="));
    assert_true(std_bad(p, "Zg==="));
    assert_true(std_bad(p, "Z==="));
    assert_true(std_bad(p, "Zm9v="));
    assert_true(std_bad(p, "Zm9v=="));
    assert_true(std_bad(p, "="));
    assert_true(std_bad(p, "=="));
    assert_true(std_bad(p, "Zg==Zg=="));
    assert_true(std_bad(p, "Z=g="));
    /* len % 4 == 1 */
    assert_true(std_bad(p, "Zm9vY"));
    /* url alphabet and other junk */
    assert_true(std_bad(p, "-_8="));
    assert_true(std_bad(p, "Zm9v!"));
    /* whitespace inside */
    assert_true(std_bad(p, "Zm 9v"));
    assert_true(std_bad(p, "Zm9v\nYmFy"));
    assert_true(std_bad(p, "Zg= ="));
}

/* ---- vjwt_json ---------------------------------------------------------------------- */

static apr_status_t jparse(apr_pool_t *p, const char *s, int want_object, json_t **out,
                           const char **err)
{
    return vjwt_json_parse(out, p, s, strlen(s), want_object, err);
}

static void t_json_basic(void **state)
{
    apr_pool_t *p = *state;
    json_t *j = NULL;
    const char *err = NULL;
    assert_int_equal(jparse(p, "{\"a\":1,\"b\":[true,null]}", 1, &j, &err), APR_SUCCESS);
    assert_true(json_is_object(j));
    assert_string_equal(vjwt_json_text(p, j), "{\"a\":1,\"b\":[true,null]}");
    /* member order kept */
    assert_int_equal(jparse(p, "{ \"z\" : 1 , \"a\" : 2 }", 1, &j, &err), APR_SUCCESS);
    assert_string_equal(vjwt_json_text(p, j), "{\"z\":1,\"a\":2}");
    /* want_object */
    assert_int_equal(jparse(p, "[1,2]", 1, &j, &err), APR_EINVAL);
    assert_null(j);
    assert_non_null(err);
    assert_int_equal(jparse(p, "\"str\"", 1, &j, &err), APR_EINVAL);
    assert_int_equal(jparse(p, "[1,2]", 0, &j, &err), APR_SUCCESS);
    assert_int_equal(jparse(p, "\"str\"", 0, &j, &err), APR_SUCCESS);
    assert_string_equal(vjwt_json_text(p, j), "\"str\"");
    assert_int_equal(jparse(p, "42", 0, &j, &err), APR_SUCCESS);
    assert_null(vjwt_json_text(p, NULL));
}

static void t_json_strict(void **state)
{
    apr_pool_t *p = *state;
    json_t *j = NULL;
    const char *err = NULL;
    assert_int_equal(jparse(p, "{\"a\":1,\"a\":2}", 1, &j, &err), APR_EINVAL);
    assert_int_equal(jparse(p, "{\"a\":{\"b\":1,\"b\":1}}", 1, &j, &err), APR_EINVAL);
    assert_int_equal(jparse(p, "{\"a\":\"x\\u0000y\"}", 1, &j, &err), APR_EINVAL);
    assert_int_equal(jparse(p, "{\"a\":\"\xff\"}", 1, &j, &err), APR_EINVAL);
    assert_int_equal(jparse(p, "{\"a\":\"\xc3\"}", 1, &j, &err), APR_EINVAL);
    assert_int_equal(jparse(p, "{\"a\":\"\xc3\xa9\"}", 1, &j, &err), APR_SUCCESS);
    assert_int_equal(jparse(p, "{\"a\":1} x", 1, &j, &err), APR_EINVAL);
    assert_int_equal(jparse(p, "{\"a\":1}{}", 1, &j, &err), APR_EINVAL);
    assert_int_equal(jparse(p, "{'a':1}", 1, &j, &err), APR_EINVAL);
    assert_int_equal(jparse(p, "", 1, &j, &err), APR_EINVAL);
    assert_int_equal(vjwt_json_parse(&j, p, "{\"a\":1}\0", 8, 1, &err), APR_EINVAL);
    assert_int_equal(vjwt_json_parse(&j, p, NULL, 3, 1, &err), APR_EINVAL);
    assert_int_equal(vjwt_json_parse(&j, p, "{}", 2, 1, NULL), APR_SUCCESS);
    /* error text is printable */
    assert_int_equal(jparse(p, "{\"a\":\x01}", 1, &j, &err), APR_EINVAL);
    assert_null(strchr(err, '\x01'));
}

static const char *nest(apr_pool_t *p, int depth, const char *open, const char *close,
                        const char *inner)
{
    const char *s = inner;
    int i;
    for (i = 0; i < depth; i++) {
        s = apr_pstrcat(p, open, s, close, NULL);
    }
    return s;
}

static void t_json_depth(void **state)
{
    apr_pool_t *p = *state;
    json_t *j = NULL;
    const char *err = NULL;
    /* exactly VJWT_JSON_MAX_DEPTH levels pass, one more fails */
    assert_int_equal(jparse(p, nest(p, VJWT_JSON_MAX_DEPTH, "[", "]", "1"), 0, &j, &err),
                     APR_SUCCESS);
    assert_int_equal(jparse(p, nest(p, VJWT_JSON_MAX_DEPTH + 1, "[", "]", "1"), 0, &j, &err),
                     APR_EINVAL);
    assert_int_equal(jparse(p, nest(p, VJWT_JSON_MAX_DEPTH - 1, "{\"a\":", "}", "{}"), 1, &j, &err),
                     APR_SUCCESS);
    assert_int_equal(jparse(p, nest(p, VJWT_JSON_MAX_DEPTH, "{\"a\":", "}", "{}"), 1, &j, &err),
                     APR_EINVAL);
    /* brackets inside strings (with escaped quotes) do not count */
    assert_int_equal(
        jparse(p, apr_pstrcat(p, "{\"a\":\"", nest(p, 100, "[{", "}]", "\\\""), "\"}", NULL), 1, &j,
               &err),
        APR_SUCCESS);
    /* very deep input is refused before jansson sees it */
    {
        char *deep = apr_palloc(p, 100001);
        memset(deep, '[', 100000);
        deep[100000] = 0;
        assert_int_equal(jparse(p, deep, 0, &j, &err), APR_EINVAL);
    }
}

static void t_json_own(void **state)
{
    apr_pool_t *p = *state, *sub;
    json_t *j = json_object();
    apr_pool_create(&sub, p);
    json_incref(j);
    assert_ptr_equal(vjwt_json_own(sub, j), j);
    assert_int_equal(j->refcount, 2);
    apr_pool_destroy(sub);
    assert_int_equal(j->refcount, 1);
    json_decref(j);
    assert_null(vjwt_json_own(p, NULL));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, vjwt_test_pool_setup, vjwt_test_pool_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(t_url_rfc4648),
        T(t_url_null_empty),
        T(t_url_padding),
        T(t_url_std_alphabet),
        T(t_url_whitespace_and_junk),
        T(t_url_len_mod4_is_1),
        T(t_url_noncanonical),
        T(t_url_roundtrip),
        T(t_url_every_char),
        T(t_jwk_members),
        T(t_std_decode),
        T(t_std_bad),
        T(t_json_basic),
        T(t_json_strict),
        T(t_json_depth),
        T(t_json_own),
    };
    vjwt_test_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
