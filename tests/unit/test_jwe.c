/*
 * test_jwe.c - the JWE core (vjwt_jwe.c): decryption keys from every source, the RFC 7516
 * Appendix A and RFC 7520 section 5 examples (tests/data/jwe/rfc*.json), Wycheproof
 * json_web_encryption_test.json and the JWE cases of json_web_crypto_test.json, tokens from
 * python3-jwcrypto and node jose for every alg x enc pair (tests/data/jwe/interop*.json),
 * and the refusals: tampering, lengths, key binding, epk checks, zip, crit, RSA1_5, PBES2,
 * nested JWE, limits. No token here is minted by our C code: negative cases alter tokens
 * made by jwcrypto or jose.
 */
#include "testutil.h"
#include "vjwt_b64.h"
#include "vjwt_json.h"
#include "vjwt_jwe.h"
#include "vjwt_crypto.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_file_io.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

/* ---- fixtures ---------------------------------------------------------------------------- */

/* tests/data/jwe next to this file: __FILE__ is relative to the build directory (where make
 * check runs the tests), in-tree and out of tree alike. */
static const char *data_path(apr_pool_t *p, const char *name)
{
    const char *f = __FILE__, *slash = strrchr(f, '/');
    const char *dir = slash ? apr_pstrndup(p, f, (apr_size_t)(slash - f)) : ".";
    return apr_pstrcat(p, dir, "/../data/jwe/", name, NULL);
}

static json_t *load(apr_pool_t *p, const char *path)
{
    json_error_t e;
    json_t *j = json_load_file(path, 0, &e);
    if (!j) {
        fail_msg("cannot load %s: %s (line %d)", path, e.text, e.line);
    }
    return vjwt_json_own(p, j);
}

static vjwt_jwe_ctx_t *ctx_of(apr_pool_t *p)
{
    vjwt_jwe_ctx_t *c = NULL;
    const char *err = NULL;
    assert_int_equal(vjwt_jwe_ctx_make(&c, p, &err), APR_SUCCESS);
    return c;
}

static apr_array_header_t *keyset(apr_pool_t *p)
{
    return apr_array_make(p, 4, sizeof(const vjwt_jwe_key_t *));
}

static const vjwt_jwe_key_t *add_jwk(apr_pool_t *p, apr_array_header_t *ks, json_t *jwk)
{
    vjwt_jwe_key_t *k = NULL;
    const char *err = NULL;
    if (vjwt_jwe_key_from_jwk(&k, p, jwk, &err) != APR_SUCCESS) {
        fail_msg("key %s: %s", json_string_value(json_object_get(jwk, "kid")), err);
    }
    APR_ARRAY_PUSH(ks, const vjwt_jwe_key_t *) = k;
    return k;
}

static const vjwt_jwe_key_t *add_secret(apr_pool_t *p, apr_array_header_t *ks, const char *kid,
                                        const char *b64url)
{
    vjwt_jwe_key_t *k = NULL;
    unsigned char *b;
    apr_size_t n;
    const char *err = NULL;
    assert_int_equal(vjwt_b64url_decode(p, b64url, strlen(b64url), &b, &n), APR_SUCCESS);
    assert_int_equal(vjwt_jwe_key_from_secret(&k, p, kid, b, n, &err), APR_SUCCESS);
    APR_ARRAY_PUSH(ks, const vjwt_jwe_key_t *) = k;
    return k;
}

static const vjwt_jwe_limits_t LIM = {0, 0, 2048};

/* Decrypt; returns the status, *detail the verdict detail (NULL on success). */
static apr_status_t dec(apr_pool_t *p, const vjwt_jwe_ctx_t *c, const apr_array_header_t *ks,
                        const char *tok, vjwt_jwe_result_t *r, const char **detail)
{
    vjwt_jwe_result_t local;
    vjwt_verdict_t v = {VJWT_R_OK, NULL};
    apr_status_t rv = vjwt_jwe_decrypt(r ? r : &local, p, c, ks, tok, strlen(tok), &LIM, &v);
    if (rv != APR_SUCCESS) {
        assert_int_equal(v.reason, VJWT_R_JWT_INVALID);
        assert_non_null(v.detail);
    }
    if (detail) {
        *detail = v.detail;
    }
    return rv;
}

static void expect_refused(apr_pool_t *p, const vjwt_jwe_ctx_t *c, const apr_array_header_t *ks,
                           const char *tok, const char *detail_part)
{
    const char *d = NULL;
    if (dec(p, c, ks, tok, NULL, &d) == APR_SUCCESS) {
        fail_msg("accepted, expected refusal with '%s'", detail_part);
    }
    assert_contains(d, detail_part);
}

/* Segment i of a compact token, and the token with segment i replaced. */
static const char *seg(apr_pool_t *p, const char *tok, int i)
{
    const char *s = tok, *e;
    while (i-- > 0) {
        s = strchr(s, '.') + 1;
    }
    e = strchr(s, '.');
    return e ? apr_pstrndup(p, s, (apr_size_t)(e - s)) : apr_pstrdup(p, s);
}

static const char *with_seg(apr_pool_t *p, const char *tok, int i, const char *val)
{
    const char *parts[5];
    int k;
    for (k = 0; k < 5; k++) {
        parts[k] = k == i ? val : seg(p, tok, k);
    }
    return apr_pstrcat(p, parts[0], ".", parts[1], ".", parts[2], ".", parts[3], ".", parts[4],
                       NULL);
}

/* Flip a bit of byte 0 of segment i (decoded, re-encoded: stays canonical base64url). */
static const char *flip(apr_pool_t *p, const char *tok, int i, apr_size_t at)
{
    const char *s = seg(p, tok, i);
    unsigned char *b;
    apr_size_t n;
    assert_int_equal(vjwt_b64url_decode(p, s, strlen(s), &b, &n), APR_SUCCESS);
    assert_true(at < n);
    b[at] ^= 0x01;
    return with_seg(p, tok, i, vjwt_test_b64url(p, b, n));
}

/* Decoded segment i, cut or grown by delta bytes. */
static const char *resize(apr_pool_t *p, const char *tok, int i, int delta)
{
    const char *s = seg(p, tok, i);
    unsigned char *b, *nb;
    apr_size_t n;
    assert_int_equal(vjwt_b64url_decode(p, s, strlen(s), &b, &n), APR_SUCCESS);
    nb = apr_pcalloc(p, n + 16);
    memcpy(nb, b, n);
    return with_seg(p, tok, i, vjwt_test_b64url(p, nb, (apr_size_t)((int)n + delta)));
}

static json_t *header_of(apr_pool_t *p, const char *tok)
{
    const char *s = seg(p, tok, 0);
    unsigned char *b;
    apr_size_t n;
    json_t *h;
    assert_int_equal(vjwt_b64url_decode(p, s, strlen(s), &b, &n), APR_SUCCESS);
    assert_int_equal(vjwt_json_parse(&h, p, (const char *)b, n, 1, NULL), APR_SUCCESS);
    return h;
}

static const char *with_header(apr_pool_t *p, const char *tok, json_t *h)
{
    const char *txt = vjwt_json_text(p, h);
    return with_seg(p, tok, 0, vjwt_test_b64url(p, txt, strlen(txt)));
}

/* The interop file's token of alg/enc (for ECDH: on crv), with or without a kid. */
static const char *interop_token(json_t *io, const char *alg, const char *enc, const char *kid)
{
    json_t *t;
    size_t i;
    json_array_foreach(json_object_get(io, "tokens"), i, t)
    {
        if (strcmp(json_string_value(json_object_get(t, "alg")), alg) == 0 &&
            strcmp(json_string_value(json_object_get(t, "enc")), enc) == 0 &&
            (!kid || strcmp(json_string_value(json_object_get(t, "kid")), kid) == 0)) {
            return json_string_value(json_object_get(t, "jwe"));
        }
    }
    fail_msg("no interop token %s/%s", alg, enc);
    return NULL;
}

static json_t *interop_key(json_t *io, const char *kid)
{
    json_t *k;
    size_t i;
    json_array_foreach(json_object_get(io, "keys"), i, k)
    {
        if (strcmp(json_string_value(json_object_get(k, "kid")), kid) == 0) {
            return k;
        }
    }
    fail_msg("no interop key %s", kid);
    return NULL;
}

/* Keyset with every key of the interop file. */
static apr_array_header_t *interop_keys(apr_pool_t *p, json_t *io)
{
    apr_array_header_t *ks = keyset(p);
    json_t *k;
    size_t i;
    json_array_foreach(json_object_get(io, "keys"), i, k)
    {
        add_jwk(p, ks, k);
    }
    return ks;
}

/* ---- RFC 7516 Appendix A, RFC 7520 section 5 ---------------------------------------------- */

static void t_rfc_examples(void **state)
{
    static const char *const files[] = {"rfc7516_A1.json",  "rfc7516_A2.json",  "rfc7516_A3.json",
                                        "rfc7520_5_1.json", "rfc7520_5_2.json", "rfc7520_5_3.json",
                                        "rfc7520_5_4.json", "rfc7520_5_5.json", "rfc7520_5_6.json",
                                        "rfc7520_5_7.json", "rfc7520_5_8.json", "rfc7520_5_9.json"};
    apr_pool_t *p = *state;
    vjwt_jwe_ctx_t *c = ctx_of(p);
    size_t i;
    int valid = 0, refused = 0;

    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        json_t *v = load(p, data_path(p, files[i]));
        const char *expect = json_string_value(json_object_get(v, "expect"));
        const char *tok = json_string_value(json_object_get(v, "jwe"));
        const char *pt = json_string_value(json_object_get(v, "plaintext"));
        json_t *key = json_object_get(v, "key");
        apr_array_header_t *ks = keyset(p);
        vjwt_jwe_result_t r;
        const char *d = NULL;

        if (strcmp(expect, "valid") == 0) {
            const vjwt_jwe_key_t *k = add_jwk(p, ks, key);
            if (dec(p, c, ks, tok, &r, &d) != APR_SUCCESS) {
                fail_msg("%s: %s", files[i], d);
            }
            assert_int_equal(r.plaintext_len, strlen(pt));
            assert_memory_equal(r.plaintext, pt, r.plaintext_len);
            assert_ptr_equal(r.key, k);
            valid++;
        }
        else {
            /* the key without its "alg", so the token's own alg is what gets refused */
            if (json_is_object(key)) {
                json_t *k2 = vjwt_json_own(p, json_deep_copy(key));
                json_object_del(k2, "alg");
                add_jwk(p, ks, k2);
            }
            else {
                add_secret(p, ks, NULL, "AAAAAAAAAAAAAAAAAAAAAA");
            }
            expect_refused(p, c, ks, tok, json_string_value(json_object_get(v, "detail")));
            refused++;
        }
    }
    printf("RFC 7516 A.1-A.3, RFC 7520 5.1-5.9: %d decrypted, %d refused as declared "
           "(RSA1_5, PBES2, A256GCMKW, zip); 5.10+ are JSON serialization: not applicable\n",
           valid, refused);
}

/* ---- Wycheproof --------------------------------------------------------------------------- */

typedef struct {
    long tcid;
    const char *reason;
} xdiff_t;

/* Upstream "valid" cases that our stricter rules refuse. */
static const xdiff_t jwe_diffs[] = {
    {71, "A128GCMKW is not a supported alg"},
    {72, "A192GCMKW is not a supported alg"},
    {73, "A256GCMKW is not a supported alg"},
    {74, "A256GCMKW is not a supported alg"},
    {75, "A256GCMKW is not a supported alg"},
    {100, "RSA1_5 is refused (RFC 8725 section 3.2)"},
    {101, "RSA1_5 is refused (RFC 8725 section 3.2)"},
    {102, "RSA1_5 is refused (RFC 8725 section 3.2)"},
    {103, "RSA1_5 is refused (RFC 8725 section 3.2)"},
    {104, "RSA1_5 is refused (RFC 8725 section 3.2)"},
    {105, "RSA1_5 is refused (RFC 8725 section 3.2)"},
    {112, "RSA1_5 is refused (RFC 8725 section 3.2)"},
    {128, "RSA1_5 is refused (RFC 8725 section 3.2; RFC 7520 5.1)"},
    {133, "A256GCMKW is not a supported alg (RFC 7520 5.7)"},
    {135, "zip is refused (RFC 8725 section 3.6; RFC 7520 5.9)"},
};

static const char *find_diff(const xdiff_t *d, size_t n, long tcid)
{
    size_t i;
    for (i = 0; i < n; i++) {
        if (d[i].tcid == tcid) {
            return d[i].reason;
        }
    }
    return NULL;
}

/* One Wycheproof JOSE file's JWE cases; diffs: expected differences. */
static void run_wycheproof(apr_pool_t *p, const char *rel, const xdiff_t *diffs, size_t ndiffs)
{
    json_t *f = load(p, vjwt_test_vector_path(p, rel)), *g, *t;
    vjwt_jwe_ctx_t *c = ctx_of(p);
    size_t gi, ti;
    int run = 0, pass = 0, declared = 0, mismatch = 0, nokey = 0;

    json_array_foreach(json_object_get(f, "testGroups"), gi, g)
    {
        json_t *priv = json_object_get(g, "private"), *keys, *k;
        apr_array_header_t *ks = keyset(p);
        size_t ki;
        keys = json_object_get(priv, "keys");
        if (!json_is_array(keys)) {
            keys = vjwt_json_own(p, json_array());
            json_array_append(keys, priv);
        }
        json_array_foreach(keys, ki, k)
        {
            vjwt_jwe_key_t *key = NULL;
            const char *err = NULL;
            if (vjwt_jwe_key_from_jwk(&key, p, k, &err) == APR_SUCCESS) {
                APR_ARRAY_PUSH(ks, const vjwt_jwe_key_t *) = key;
            }
            else if (getenv("VJWT_VECTORS_VERBOSE")) {
                printf("  %s group %zu: key refused: %s\n", rel, gi, err);
            }
        }
        json_array_foreach(json_object_get(g, "tests"), ti, t)
        {
            json_t *jwe = json_object_get(t, "jwe");
            long tcid = (long)json_integer_value(json_object_get(t, "tcId"));
            const char *res = json_string_value(json_object_get(t, "result"));
            const char *diff = find_diff(diffs, ndiffs, tcid), *d = NULL;
            int expected, got;
            vjwt_jwe_result_t r;
            if (!jwe) {
                continue; /* a JWS case of the mixed file */
            }
            run++;
            if (ks->nelts == 0) {
                nokey++;
            }
            expected = strcmp(res, "valid") == 0;
            if (!json_is_string(jwe)) {
                got = 0; /* JSON serialization: not a compact token */
            }
            else {
                got = dec(p, c, ks, json_string_value(jwe), &r, &d) == APR_SUCCESS;
                if (got) {
                    unsigned char *pt;
                    apr_size_t n;
                    const char *hex = json_string_value(json_object_get(t, "pt"));
                    if (hex) {
                        assert_int_equal(vjwt_test_hex(p, hex, &pt, &n), 0);
                        if (n != r.plaintext_len || memcmp(pt, r.plaintext, n) != 0) {
                            printf("  MISMATCH %s:%ld: wrong plaintext\n", rel, tcid);
                            mismatch++;
                            continue;
                        }
                    }
                }
            }
            if (diff) {
                if (expected && !got) {
                    declared++;
                    if (getenv("VJWT_VECTORS_VERBOSE")) {
                        printf("  declared %s:%ld (%s): %s\n", rel, tcid, diff, d);
                    }
                }
                else {
                    printf("  UNEXPECTED %s:%ld: declared difference did not occur\n", rel, tcid);
                    mismatch++;
                }
            }
            else if (got == expected) {
                pass++;
                if (getenv("VJWT_VECTORS_VERBOSE")) {
                    printf("  ok %s:%ld %s: %s\n", rel, tcid,
                           json_string_value(json_object_get(t, "comment")), d ? d : "valid");
                }
            }
            else {
                printf("  MISMATCH %s:%ld %s: expected %s got %s%s%s\n", rel, tcid,
                       json_string_value(json_object_get(t, "comment")), res,
                       got ? "valid" : "invalid", d ? ": " : "", d ? d : "");
                mismatch++;
            }
        }
    }
    printf("%s: %d JWE cases, %d as upstream, %d declared differences, %d mismatches "
           "(%d with no usable key)\n",
           rel, run, pass, declared, mismatch, nokey);
    assert_int_equal(mismatch, 0);
    assert_true(run > 0);
}

static void t_wycheproof_jwe(void **state)
{
    run_wycheproof(*state, "wycheproof/json_web_encryption_test.json", jwe_diffs,
                   sizeof(jwe_diffs) / sizeof(jwe_diffs[0]));
}

static void t_wycheproof_crypto(void **state)
{
    run_wycheproof(*state, "wycheproof/json_web_crypto_test.json", NULL, 0);
}

/* ---- interop -------------------------------------------------------------------------------- */

static void run_interop(apr_pool_t *p, const char *file)
{
    json_t *io = load(p, data_path(p, file)), *t;
    vjwt_jwe_ctx_t *c = ctx_of(p);
    apr_array_header_t *ks = interop_keys(p, io);
    size_t i;
    int n = 0;

    json_array_foreach(json_object_get(io, "tokens"), i, t)
    {
        const char *tok = json_string_value(json_object_get(t, "jwe"));
        const char *pt = json_string_value(json_object_get(t, "plaintext"));
        const char *kid = json_string_value(json_object_get(t, "kid")), *d = NULL;
        vjwt_jwe_result_t r;
        if (dec(p, c, ks, tok, &r, &d) != APR_SUCCESS) {
            fail_msg("%s: %s/%s (%s): %s", file, json_string_value(json_object_get(t, "alg")),
                     json_string_value(json_object_get(t, "enc")), kid, d);
        }
        assert_int_equal(r.plaintext_len, strlen(pt));
        assert_memory_equal(r.plaintext, pt, r.plaintext_len);
        assert_string_equal(r.key->kid, kid);
        assert_string_equal(r.cty, "JWT");
        assert_false(vjwt_jwe_is_compact((const char *)r.plaintext, r.plaintext_len));
        n++;
    }
    json_array_foreach(json_object_get(io, "refused"), i, t)
    {
        expect_refused(p, c, ks, json_string_value(json_object_get(t, "jwe")),
                       json_string_value(json_object_get(t, "detail")));
        n++;
    }
    printf("%s: %d tokens as expected\n", file, n);
    assert_int_equal(n >= 108, 1);
}

static void t_interop_jwcrypto(void **state)
{
    run_interop(*state, "interop.json");
}

static void t_interop_node_jose(void **state)
{
    run_interop(*state, "interop_node.json");
}

/* ---- refusals -------------------------------------------------------------------------------- */

static void t_tampering(void **state)
{
    apr_pool_t *p = *state;
    json_t *io = load(p, data_path(p, "interop.json"));
    vjwt_jwe_ctx_t *c = ctx_of(p);
    apr_array_header_t *ks = interop_keys(p, io);
    static const char *const encs[] = {"A128GCM", "A256GCM", "A128CBC-HS256", "A256CBC-HS512"};
    static const char *const algs[] = {"dir", "A128KW", "RSA-OAEP-256", "ECDH-ES+A128KW"};
    size_t a, e;

    for (a = 0; a < 4; a++) {
        for (e = 0; e < 4; e++) {
            const char *tok = interop_token(io, algs[a], encs[e], NULL);
            const char *tag = seg(p, tok, 4);
            json_t *h = header_of(p, tok);
            assert_int_equal(dec(p, c, ks, tok, NULL, NULL), APR_SUCCESS);
            /* tag, ciphertext, IV, encrypted key, protected header (a new member) */
            expect_refused(p, c, ks, flip(p, tok, 4, 0), "decryption failed");
            expect_refused(p, c, ks, flip(p, tok, 4, strlen(tag) * 3 / 4 - 1), "decryption failed");
            expect_refused(p, c, ks, flip(p, tok, 3, 0), "decryption failed");
            expect_refused(p, c, ks, flip(p, tok, 2, 0), "decryption failed");
            if (strcmp(algs[a], "dir") != 0) {
                expect_refused(p, c, ks, flip(p, tok, 1, 0), "decryption failed");
            }
            json_object_set_new(h, "x", json_string("y"));
            expect_refused(p, c, ks, with_header(p, tok, h), "decryption failed");
            /* truncated or grown tag (CVE-2023-37464), IV of another length */
            expect_refused(p, c, ks, resize(p, tok, 4, -1), "authentication tag of");
            expect_refused(p, c, ks, resize(p, tok, 4, -8), "authentication tag of");
            expect_refused(p, c, ks, resize(p, tok, 4, 1), "authentication tag of");
            expect_refused(p, c, ks, with_seg(p, tok, 4, ""), "authentication tag of");
            expect_refused(p, c, ks, resize(p, tok, 2, -1), "IV of");
            expect_refused(p, c, ks, resize(p, tok, 2, 4), "IV of");
            /* shape */
            expect_refused(p, c, ks, apr_pstrcat(p, tok, ".", NULL), "not 5 segments");
            expect_refused(p, c, ks, apr_pstrcat(p, tok, "=", NULL), "not base64url");
            expect_refused(p, c, ks, with_seg(p, tok, 3, ""), "ciphertext empty");
        }
    }
    /* CBC: ciphertext not whole blocks; a dir token with an encrypted key */
    expect_refused(p, c, ks, resize(p, interop_token(io, "A128KW", "A128CBC-HS256", NULL), 3, -1),
                   "whole blocks");
    expect_refused(p, c, ks,
                   with_seg(p, interop_token(io, "dir", "A128GCM", NULL), 1, "AAAAAAAAAAA"),
                   "must be empty");
    expect_refused(p, c, ks, with_seg(p, interop_token(io, "A128KW", "A128GCM", NULL), 1, ""),
                   "encrypted key missing");
}

static void t_key_binding(void **state)
{
    apr_pool_t *p = *state;
    json_t *io = load(p, data_path(p, "interop.json"));
    vjwt_jwe_ctx_t *c = ctx_of(p);
    json_t *kwkey = interop_key(io, "kw-128");
    const char *with_kid, *without_kid, *d = NULL;
    apr_array_header_t *ks;
    vjwt_jwe_result_t r;
    vjwt_jwe_key_t *k;
    const char *err;

    /* the interop tokens alternate with and without a kid: take one of each */
    with_kid = interop_token(io, "A128KW", "A128GCM", NULL);
    without_kid = interop_token(io, "A128KW", "A192GCM", NULL);
    if (!json_object_get(header_of(p, with_kid), "kid")) {
        const char *tmp = with_kid;
        with_kid = without_kid;
        without_kid = tmp;
    }
    assert_string_equal(json_string_value(json_object_get(header_of(p, with_kid), "kid")),
                        "kw-128");
    assert_null(json_object_get(header_of(p, without_kid), "kid"));

    /* the right secret under another kid, a wrong secret under the token's kid: the kid
     * binds the token to the wrong one */
    ks = keyset(p);
    add_secret(p, ks, "kw-128", "AAAAAAAAAAAAAAAAAAAAAA");
    add_secret(p, ks, "elsewhere", json_string_value(json_object_get(kwkey, "k")));
    expect_refused(p, c, ks, with_kid, "decryption failed with 1 key");
    /* without a kid every fitting key is tried */
    assert_int_equal(dec(p, c, ks, without_kid, &r, &d), APR_SUCCESS);
    assert_string_equal(r.key->kid, "elsewhere");
    /* a kid that names no key: every fitting key is tried */
    ks = keyset(p);
    add_secret(p, ks, "other", "AAAAAAAAAAAAAAAAAAAAAA");
    add_secret(p, ks, "elsewhere", json_string_value(json_object_get(kwkey, "k")));
    assert_int_equal(dec(p, c, ks, with_kid, &r, &d), APR_SUCCESS);
    assert_string_equal(r.key->kid, "elsewhere");

    /* wrong key altogether */
    ks = keyset(p);
    add_secret(p, ks, NULL, "AAAAAAAAAAAAAAAAAAAAAA");
    expect_refused(p, c, ks, without_kid, "decryption failed");

    /* dir key of the wrong length: 32 bytes for A128GCM (needs 16) */
    ks = keyset(p);
    add_secret(p, ks, NULL, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    expect_refused(p, c, ks, interop_token(io, "dir", "A128GCM", NULL), "no decryption key fits");
    /* A128KW key is no A256KW key, a dir key of 32 bytes is no A256KW key either (alg) */
    ks = keyset(p);
    add_jwk(p, ks, kwkey);
    expect_refused(p, c, ks, interop_token(io, "A256KW", "A128GCM", NULL),
                   "no decryption key fits");
    /* JWK "alg" binds: a dir key for A128GCM is not used for dir + A256GCM, nor for A128KW */
    ks = keyset(p);
    {
        json_t *j = vjwt_json_own(p, json_deep_copy(interop_key(io, "dir-128")));
        json_object_set_new(j, "alg", json_string("A128GCM"));
        add_jwk(p, ks, j);
        assert_int_equal(dec(p, c, ks, interop_token(io, "dir", "A128GCM", NULL), NULL, &d),
                         APR_SUCCESS);
        json_object_set_new(j, "alg", json_string("A128KW"));
        ks = keyset(p);
        add_jwk(p, ks, j);
        expect_refused(p, c, ks, interop_token(io, "dir", "A128GCM", NULL),
                       "no decryption key fits");
    }
    /* RSA below the minimum */
    ks = keyset(p);
    add_jwk(p, ks, interop_key(io, "rsa-2048"));
    {
        vjwt_jwe_limits_t lim = {0, 0, 3072};
        vjwt_verdict_t v;
        const char *tok = interop_token(io, "RSA-OAEP", "A128GCM", NULL);
        assert_int_equal(vjwt_jwe_decrypt(&r, p, c, ks, tok, strlen(tok), &lim, &v), APR_EGENERAL);
        assert_contains(v.detail, "no decryption key fits");
    }
    /* a kid naming keys none of which fits */
    ks = keyset(p);
    assert_int_equal(vjwt_jwe_key_from_jwk(&k, p, interop_key(io, "kw-256"), &err), APR_SUCCESS);
    k->kid = "kw-128";
    APR_ARRAY_PUSH(ks, const vjwt_jwe_key_t *) = k;
    add_secret(p, ks, NULL, json_string_value(json_object_get(kwkey, "k")));
    expect_refused(p, c, ks, with_kid, "no key of kid");
    /* no keys */
    expect_refused(p, c, keyset(p), with_kid, "no decryption key fits");
    expect_refused(p, c, NULL, with_kid, "no decryption key fits");
}

static void t_epk(void **state)
{
    apr_pool_t *p = *state;
    json_t *io = load(p, data_path(p, "interop.json"));
    vjwt_jwe_ctx_t *c = ctx_of(p);
    apr_array_header_t *ks = interop_keys(p, io), *only384;
    const char *tok = interop_token(io, "ECDH-ES", "A128GCM", "ec-P-256");
    json_t *h = header_of(p, tok), *epk = json_object_get(h, "epk");
    const char *y = json_string_value(json_object_get(epk, "y")), *x;
    unsigned char *yb;
    apr_size_t n;

    /* y + 1: off the curve (the invalid-curve attack) */
    assert_int_equal(vjwt_b64url_decode(p, y, strlen(y), &yb, &n), APR_SUCCESS);
    yb[n - 1] ^= 0x01;
    json_object_set_new(epk, "y", json_string(vjwt_test_b64url(p, yb, n)));
    expect_refused(p, c, ks, with_header(p, tok, h), "epk");
    /* the point (0, 0) */
    memset(yb, 0, n);
    json_object_set_new(epk, "x", json_string(vjwt_test_b64url(p, yb, n)));
    json_object_set_new(epk, "y", json_string(vjwt_test_b64url(p, yb, n)));
    expect_refused(p, c, ks, with_header(p, tok, h), "epk");
    /* P-256 coordinates labelled P-384 */
    h = header_of(p, tok);
    epk = json_object_get(h, "epk");
    json_object_set_new(epk, "crv", json_string("P-384"));
    expect_refused(p, c, ks, with_header(p, tok, h), "field size");
    /* an epk on another curve than every key: no key fits */
    only384 = keyset(p);
    add_jwk(p, only384, interop_key(io, "ec-P-384"));
    expect_refused(p, c, only384, tok, "no decryption key fits");
    /* the P-384 epk of another token: the P-256 key does not fit it */
    {
        apr_array_header_t *only256 = keyset(p);
        add_jwk(p, only256, interop_key(io, "ec-P-256"));
        expect_refused(p, c, only256, interop_token(io, "ECDH-ES", "A128GCM", "ec-P-384"),
                       "no decryption key fits");
    }
    /* epk missing, with "d", not EC, padded coordinates, other curves */
    h = header_of(p, tok);
    json_object_del(h, "epk");
    expect_refused(p, c, ks, with_header(p, tok, h), "\"epk\" missing");
    h = header_of(p, tok);
    json_object_set_new(json_object_get(h, "epk"), "d", json_string("AAAA"));
    expect_refused(p, c, ks, with_header(p, tok, h), "private");
    h = header_of(p, tok);
    json_object_set_new(json_object_get(h, "epk"), "kty", json_string("OKP"));
    expect_refused(p, c, ks, with_header(p, tok, h), "not an EC key");
    h = header_of(p, tok);
    json_object_set_new(json_object_get(h, "epk"), "crv", json_string("secp256k1"));
    expect_refused(p, c, ks, with_header(p, tok, h), "crv");
    h = header_of(p, tok);
    x = json_string_value(json_object_get(json_object_get(h, "epk"), "x"));
    json_object_set_new(json_object_get(h, "epk"), "x", json_string(apr_pstrcat(p, x, "=", NULL)));
    expect_refused(p, c, ks, with_header(p, tok, h), "base64url");
    /* apu/apv must be base64url */
    h = header_of(p, tok);
    json_object_set_new(h, "apu", json_string("a+b/"));
    expect_refused(p, c, ks, with_header(p, tok, h), "apu");
    h = header_of(p, tok);
    json_object_set_new(h, "apv", json_integer(1));
    expect_refused(p, c, ks, with_header(p, tok, h), "apv");
}

static void t_header_rules(void **state)
{
    apr_pool_t *p = *state;
    json_t *io = load(p, data_path(p, "interop.json"));
    vjwt_jwe_ctx_t *c = ctx_of(p);
    apr_array_header_t *ks = interop_keys(p, io);
    const char *tok = interop_token(io, "A128KW", "A128GCM", NULL);
    json_t *h;
    static const char *const refused_algs[] = {"RSA1_5", "PBES2-HS256+A128KW", "A128GCMKW", "none",
                                               "HS256",  "rsa-oaep",           ""};
    size_t i;

    for (i = 0; i < sizeof(refused_algs) / sizeof(refused_algs[0]); i++) {
        h = header_of(p, tok);
        json_object_set_new(h, "alg", json_string(refused_algs[i]));
        expect_refused(p, c, ks, with_header(p, tok, h),
                       i == 0   ? "RSA1_5"
                       : i == 1 ? "PBES2"
                                : "unsupported alg");
    }
    h = header_of(p, tok);
    json_object_set_new(h, "enc", json_string("A128CBC+HS256"));
    expect_refused(p, c, ks, with_header(p, tok, h), "unsupported enc");
    h = header_of(p, tok);
    json_object_del(h, "enc");
    expect_refused(p, c, ks, with_header(p, tok, h), "\"enc\" missing");
    h = header_of(p, tok);
    json_object_set_new(h, "alg", json_integer(1));
    expect_refused(p, c, ks, with_header(p, tok, h), "\"alg\" missing");
    /* zip of any value */
    h = header_of(p, tok);
    json_object_set_new(h, "zip", json_string("none"));
    expect_refused(p, c, ks, with_header(p, tok, h), "zip");
    /* crit: well formed or not, refused */
    h = header_of(p, tok);
    json_object_set_new(h, "exp", json_integer(1));
    json_object_set_new(h, "crit", json_pack("[s]", "exp"));
    expect_refused(p, c, ks, with_header(p, tok, h), "not understood");
    h = header_of(p, tok);
    json_object_set_new(h, "crit", json_array());
    expect_refused(p, c, ks, with_header(p, tok, h), "non-empty array");
    h = header_of(p, tok);
    json_object_set_new(h, "crit", json_pack("[s]", "nothere"));
    expect_refused(p, c, ks, with_header(p, tok, h), "absent member");
    /* kid and cty types; cty values */
    h = header_of(p, tok);
    json_object_set_new(h, "kid", json_integer(7));
    expect_refused(p, c, ks, with_header(p, tok, h), "\"kid\" is not a string");
    h = header_of(p, tok);
    json_object_set_new(h, "cty", json_string("JWE"));
    expect_refused(p, c, ks, with_header(p, tok, h), "cty");
    /* duplicate member, not an object, not JSON */
    {
        const char *dup = "{\"alg\":\"A128KW\",\"alg\":\"dir\",\"enc\":\"A128GCM\"}";
        expect_refused(p, c, ks, with_seg(p, tok, 0, vjwt_test_b64url(p, dup, strlen(dup))),
                       "protected header");
        expect_refused(p, c, ks, with_seg(p, tok, 0, vjwt_test_b64url(p, "[1]", 3)),
                       "protected header");
        expect_refused(p, c, ks, with_seg(p, tok, 0, ""), "protected header");
    }
    /* the RFC 7520 5.1 (RSA1_5) and 5.3 (PBES2) tokens are in t_rfc_examples; the
     * jwcrypto-minted zip, RSA1_5 and nested tokens in t_interop_jwcrypto */
    expect_refused(p, c, ks, "a.b.c", "not 5 segments");
    expect_refused(p, c, ks, "a.b.c.d.e.f", "not 5 segments");
    expect_refused(p, c, ks, "....", "protected header");
    expect_refused(p, c, ks, "", "not 5 segments");
}

static void t_limits(void **state)
{
    apr_pool_t *p = *state;
    json_t *io = load(p, data_path(p, "interop.json"));
    vjwt_jwe_ctx_t *c = ctx_of(p);
    apr_array_header_t *ks = interop_keys(p, io);
    const char *tok = interop_token(io, "A128KW", "A128GCM", NULL);
    vjwt_jwe_result_t r;
    vjwt_verdict_t v;
    vjwt_jwe_limits_t lim = {strlen(tok), 0, 2048};

    assert_int_equal(vjwt_jwe_decrypt(&r, p, c, ks, tok, strlen(tok), &lim, &v), APR_SUCCESS);
    lim.max_token_len = strlen(tok) - 1;
    assert_int_equal(vjwt_jwe_decrypt(&r, p, c, ks, tok, strlen(tok), &lim, &v), APR_EGENERAL);
    assert_contains(v.detail, "exceeds the limit");
    lim.max_token_len = 0;
    lim.max_plaintext = r.plaintext_len - 1;
    assert_int_equal(vjwt_jwe_decrypt(&r, p, c, ks, tok, strlen(tok), &lim, &v), APR_EGENERAL);
    assert_contains(v.detail, "limit");
    /* CBC: the padding makes the ciphertext up to 16 bytes longer than the plaintext */
    tok = interop_token(io, "A128KW", "A128CBC-HS256", NULL);
    lim.max_plaintext = 0;
    assert_int_equal(vjwt_jwe_decrypt(&r, p, c, ks, tok, strlen(tok), &lim, &v), APR_SUCCESS);
    lim.max_plaintext = r.plaintext_len;
    assert_int_equal(vjwt_jwe_decrypt(&r, p, c, ks, tok, strlen(tok), &lim, &v), APR_SUCCESS);
    lim.max_plaintext = r.plaintext_len - 1;
    assert_int_equal(vjwt_jwe_decrypt(&r, p, c, ks, tok, strlen(tok), &lim, &v), APR_EGENERAL);
    /* NULL limits: defaults; NULL verdict allowed */
    assert_int_equal(vjwt_jwe_decrypt(&r, p, c, ks, tok, strlen(tok), NULL, NULL), APR_SUCCESS);
    assert_int_equal(vjwt_jwe_decrypt(&r, p, c, ks, "x", 1, NULL, NULL), APR_EGENERAL);
    assert_int_equal(vjwt_jwe_decrypt(&r, p, NULL, ks, tok, strlen(tok), NULL, NULL), APR_EGENERAL);
    assert_int_equal(vjwt_jwe_is_compact(tok, strlen(tok)), 1);
    assert_int_equal(vjwt_jwe_is_compact("a.b.c", 5), 0);
    assert_int_equal(vjwt_jwe_is_compact(NULL, 0), 0);
    assert_int_equal(vjwt_jwe_is_compact("a.b.c.d.e", 9), 1);
    assert_int_equal(vjwt_jwe_is_compact("a..c..", 6), 1);
    assert_int_equal(vjwt_jwe_is_compact(".b.c.d.e", 8), 0);
    assert_int_equal(vjwt_jwe_is_compact("a.b.c.d.e ", 10), 0);
    assert_int_equal(vjwt_jwe_is_compact("a.b.c.d.e=", 10), 0);
    assert_int_equal(vjwt_jwe_is_compact("Hello. It. Is. Me. Bye", 22), 0);
}

/* ---- keys ---------------------------------------------------------------------------------- */

static char *pem_of(apr_pool_t *p, EVP_PKEY *k, int traditional, int public_only)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *data, *out;
    long n;
    if (public_only) {
        assert_int_equal(PEM_write_bio_PUBKEY(b, k), 1);
    }
    else if (traditional) {
        assert_int_equal(PEM_write_bio_PrivateKey_traditional(b, k, NULL, NULL, 0, NULL, NULL), 1);
    }
    else {
        assert_int_equal(PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL), 1);
    }
    n = BIO_get_mem_data(b, &data);
    out = apr_pstrmemdup(p, data, (apr_size_t)n);
    BIO_free(b);
    return out;
}

static unsigned char *der_priv(apr_pool_t *p, EVP_PKEY *k, int pkcs8, apr_size_t *len)
{
    unsigned char *buf = NULL, *out;
    int n;
    if (pkcs8) {
        PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8(k);
        n = i2d_PKCS8_PRIV_KEY_INFO(p8, &buf);
        PKCS8_PRIV_KEY_INFO_free(p8);
    }
    else {
        n = i2d_PrivateKey(k, &buf);
    }
    assert_true(n > 0);
    out = apr_pmemdup(p, buf, (apr_size_t)n);
    OPENSSL_free(buf);
    *len = (apr_size_t)n;
    return out;
}

static const char *write_tmp(apr_pool_t *p, const char *content, apr_size_t n)
{
    char *path = apr_pstrdup(p, "/tmp/vjwt_test_jwe_XXXXXX");
    apr_file_t *f;
    apr_size_t w = n;
    assert_int_equal(
        apr_file_mktemp(&f, path,
                        APR_FOPEN_CREATE | APR_FOPEN_READ | APR_FOPEN_WRITE | APR_FOPEN_EXCL, p),
        APR_SUCCESS);
    assert_int_equal(apr_file_write_full(f, content, n, &w), APR_SUCCESS);
    apr_file_close(f);
    return path;
}

/* Keys from PEM (PKCS#8, traditional), DER, files, EVP_PKEY; each decrypts the interop
 * token of its alg, so the key loaded is the key of the JWK. */
static void t_key_sources(void **state)
{
    apr_pool_t *p = *state;
    json_t *io = load(p, data_path(p, "interop.json"));
    vjwt_jwe_ctx_t *c = ctx_of(p);
    static const char *const kids[] = {"rsa-2048", "ec-P-256", "ec-P-384", "ec-P-521"};
    static const char *const algs[] = {"RSA-OAEP-256", "ECDH-ES", "ECDH-ES+A256KW",
                                       "ECDH-ES+A128KW"};
    size_t i;
    const char *err = NULL;

    for (i = 0; i < 4; i++) {
        const vjwt_jwe_key_t *jk;
        vjwt_jwe_key_t *k;
        apr_array_header_t *ks = keyset(p);
        const char *tok = interop_token(io, algs[i], "A256GCM", kids[i]), *pem, *path, *both;
        unsigned char *der;
        apr_size_t dl;
        int form;

        jk = add_jwk(p, ks, interop_key(io, kids[i]));
        for (form = 0; form < 7; form++) {
            apr_array_header_t *one = keyset(p);
            const char *d = NULL;
            k = NULL;
            switch (form) {
            case 0: /* EVP_PKEY */
                assert_int_equal(vjwt_jwe_key_from_pkey(&k, p, "x", jk->pkey, &err), APR_SUCCESS);
                break;
            case 1: /* PEM PKCS#8 */
            case 2: /* PEM traditional */
                pem = pem_of(p, jk->pkey, form == 2, 0);
                assert_true(strstr(pem, form == 2 ? (i ? "EC PRIVATE KEY" : "RSA PRIVATE KEY")
                                                  : "BEGIN PRIVATE KEY") != NULL);
                assert_int_equal(vjwt_jwe_key_from_pem(&k, p, "x", pem, strlen(pem), &err),
                                 APR_SUCCESS);
                break;
            case 3: /* DER PKCS#8 */
            case 4: /* DER traditional */
                der = der_priv(p, jk->pkey, form == 3, &dl);
                assert_int_equal(vjwt_jwe_key_from_pem(&k, p, "x", (const char *)der, dl, &err),
                                 APR_SUCCESS);
                /* trailing bytes */
                der = apr_pmemdup(p, der, dl + 1);
                assert_int_equal(vjwt_jwe_key_from_pem(&k, p, "x", (const char *)der, dl + 1, &err),
                                 APR_EINVAL);
                der = der_priv(p, jk->pkey, form == 3, &dl);
                assert_int_equal(vjwt_jwe_key_from_pem(&k, p, "x", (const char *)der, dl, &err),
                                 APR_SUCCESS);
                break;
            case 5: /* file */
                pem = pem_of(p, jk->pkey, 0, 0);
                path = write_tmp(p, pem, strlen(pem));
                assert_int_equal(vjwt_jwe_key_from_file(&k, p, "x", path, &err), APR_SUCCESS);
                assert_contains(k->source, path);
                apr_file_remove(path, p);
                break;
            case 6: /* a certificate-like PEM block before the key: skipped */
                pem = pem_of(p, jk->pkey, 0, 0);
                both = apr_pstrcat(p, pem_of(p, jk->pkey, 0, 1), pem, NULL);
                assert_int_equal(vjwt_jwe_key_from_pem(&k, p, "x", both, strlen(both), &err),
                                 APR_SUCCESS);
                break;
            }
            assert_non_null(k);
            assert_string_equal(k->kid, "x");
            assert_int_equal(k->kind, jk->kind);
            assert_int_equal(k->bits, jk->bits);
            APR_ARRAY_PUSH(one, const vjwt_jwe_key_t *) = k;
            if (dec(p, c, one, tok, NULL, &d) != APR_SUCCESS) {
                fail_msg("%s form %d: %s", kids[i], form, d);
            }
        }
        /* public halves are not decryption keys */
        pem = pem_of(p, jk->pkey, 0, 1);
        assert_int_equal(vjwt_jwe_key_from_pem(&k, p, NULL, pem, strlen(pem), &err), APR_EINVAL);
        /* encrypted PEM: refused, never a prompt */
        {
            BIO *b = BIO_new(BIO_s_mem());
            char *data;
            long n;
            assert_int_equal(PEM_write_bio_PrivateKey(b, jk->pkey, EVP_aes_128_cbc(), NULL, 0, NULL,
                                                      (void *)"secret"),
                             1);
            n = BIO_get_mem_data(b, &data);
            assert_int_equal(vjwt_jwe_key_from_pem(&k, p, NULL, data, (apr_size_t)n, &err),
                             APR_EINVAL);
            BIO_free(b);
        }
    }
    assert_string_equal(
        vjwt_jwe_key_describe(p, add_jwk(p, keyset(p), interop_key(io, "rsa-2048"))), "RSA 2048");
    assert_string_equal(
        vjwt_jwe_key_describe(p, add_jwk(p, keyset(p), interop_key(io, "ec-P-521"))), "EC P-521");
    assert_string_equal(vjwt_jwe_key_describe(p, add_jwk(p, keyset(p), interop_key(io, "kw-192"))),
                        "oct 192 bits");
}

static void t_key_refusals(void **state)
{
    apr_pool_t *p = *state;
    json_t *io = load(p, data_path(p, "interop.json"));
    vjwt_jwe_key_t *k = NULL;
    const char *err = NULL;
    json_t *j;
    EVP_PKEY *pk;
    static const unsigned char twenty[20] = {0};

    assert_int_equal(vjwt_jwe_key_from_secret(&k, p, NULL, twenty, 20, &err), APR_EINVAL);
    assert_contains(err, "16, 24, 32, 48 or 64");
    assert_int_equal(vjwt_jwe_key_from_secret(&k, p, NULL, twenty, 0, &err), APR_EINVAL);
    assert_int_equal(vjwt_jwe_key_from_pem(&k, p, NULL, "junk", 4, &err), APR_EINVAL);
    assert_int_equal(vjwt_jwe_key_from_pem(&k, p, NULL, NULL, 0, &err), APR_EINVAL);
    assert_int_equal(vjwt_jwe_key_from_file(&k, p, NULL, "/nonexistent/k.pem", &err), APR_EINVAL);
    assert_int_equal(vjwt_jwe_key_from_pkey(&k, p, NULL, NULL, &err), APR_EINVAL);

    /* JWK members */
#define JWK_REFUSED(mod, part)                                                                     \
    do {                                                                                           \
        j = vjwt_json_own(p, json_deep_copy(interop_key(io, "rsa-2048")));                         \
        mod;                                                                                       \
        assert_int_equal(vjwt_jwe_key_from_jwk(&k, p, j, &err), APR_EINVAL);                       \
        assert_contains(err, part);                                                                \
    } while (0)
    JWK_REFUSED(json_object_set_new(j, "use", json_string("sig")), "use");
    JWK_REFUSED(json_object_set_new(j, "key_ops", json_pack("[s]", "verify")), "key_ops");
    JWK_REFUSED(json_object_set_new(j, "alg", json_string("RSA1_5")), "alg");
    JWK_REFUSED(json_object_set_new(j, "alg", json_string("A128KW")), "alg");
    JWK_REFUSED(json_object_set_new(j, "kid", json_integer(1)), "kid");
    JWK_REFUSED(json_object_del(j, "p"), "\"p\"");
    JWK_REFUSED(json_object_del(j, "d"), "\"d\"");
    JWK_REFUSED(json_object_set_new(j, "oth", json_array()), "oth");
    JWK_REFUSED(json_object_set_new(j, "kty", json_string("OKP")), "kty");
    /* d of another key: the pair check */
    JWK_REFUSED(json_object_set(j, "d", json_object_get(interop_key(io, "ec-P-256"), "d")), "");
    j = vjwt_json_own(p, json_deep_copy(interop_key(io, "rsa-2048")));
    json_object_set_new(j, "key_ops", json_pack("[s]", "unwrapKey"));
    json_object_set_new(j, "use", json_string("enc"));
    json_object_set_new(j, "alg", json_string("RSA-OAEP"));
    assert_int_equal(vjwt_jwe_key_from_jwk(&k, p, j, &err), APR_SUCCESS);
    assert_string_equal(k->alg, "RSA-OAEP");

    /* EC: d of another key, wrong lengths, other curves */
    j = vjwt_json_own(p, json_deep_copy(interop_key(io, "ec-P-256")));
    json_object_set(j, "d", json_object_get(interop_key(io, "ec-P-384"), "d"));
    assert_int_equal(vjwt_jwe_key_from_jwk(&k, p, j, &err), APR_EINVAL);
    j = vjwt_json_own(p, json_deep_copy(interop_key(io, "ec-P-256")));
    {
        /* another P-256 private scalar with the original x/y: not a key pair */
        const char *d = json_string_value(json_object_get(j, "d"));
        unsigned char *b;
        apr_size_t n;
        assert_int_equal(vjwt_b64url_decode(p, d, strlen(d), &b, &n), APR_SUCCESS);
        b[n - 1] ^= 1;
        json_object_set_new(j, "d", json_string(vjwt_test_b64url(p, b, n)));
        assert_int_equal(vjwt_jwe_key_from_jwk(&k, p, j, &err), APR_EINVAL);
    }
    j = vjwt_json_own(p, json_deep_copy(interop_key(io, "ec-P-256")));
    json_object_set_new(j, "crv", json_string("P-192"));
    assert_int_equal(vjwt_jwe_key_from_jwk(&k, p, j, &err), APR_EINVAL);
    j = vjwt_json_own(p, json_deep_copy(interop_key(io, "ec-P-256")));
    json_object_set_new(j, "alg", json_string("RSA-OAEP"));
    assert_int_equal(vjwt_jwe_key_from_jwk(&k, p, j, &err), APR_EINVAL);
    /* oct */
    j = vjwt_json_own(p, json_deep_copy(interop_key(io, "kw-128")));
    json_object_set_new(j, "alg", json_string("ECDH-ES"));
    assert_int_equal(vjwt_jwe_key_from_jwk(&k, p, j, &err), APR_EINVAL);
    json_object_set_new(j, "alg", json_string("A128GCM"));
    assert_int_equal(vjwt_jwe_key_from_jwk(&k, p, j, &err), APR_SUCCESS);
    json_object_set_new(j, "k", json_string("AAAA"));
    assert_int_equal(vjwt_jwe_key_from_jwk(&k, p, j, &err), APR_EINVAL);
    assert_int_equal(vjwt_jwe_key_from_jwk(&k, p, NULL, &err), APR_EINVAL);

    /* Ed25519, P-192 and RSA 512 EVP_PKEYs; a public-only EVP_PKEY */
    pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    assert_int_equal(vjwt_jwe_key_from_pkey(&k, p, NULL, pk, &err), APR_EINVAL);
    EVP_PKEY_free(pk);
    pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-192");
    if (pk) {
        assert_int_equal(vjwt_jwe_key_from_pkey(&k, p, NULL, pk, &err), APR_EINVAL);
        EVP_PKEY_free(pk);
    }
    /* curves named either way */
    pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    assert_int_equal(vjwt_jwe_key_from_pkey(&k, p, "n", pk, &err), APR_SUCCESS);
    assert_int_equal(k->curve_nid, NID_secp384r1);
    EVP_PKEY_free(pk);
    pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp521r1");
    assert_int_equal(vjwt_jwe_key_from_pkey(&k, p, "n", pk, &err), APR_SUCCESS);
    assert_int_equal(k->curve_nid, NID_secp521r1);
    EVP_PKEY_free(pk);
    pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp256k1");
    assert_int_equal(vjwt_jwe_key_from_pkey(&k, p, "n", pk, &err), APR_EINVAL);
    EVP_PKEY_free(pk);
    pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)512);
    assert_int_equal(vjwt_jwe_key_from_pkey(&k, p, NULL, pk, &err), APR_EINVAL);
    EVP_PKEY_free(pk);
    {
        const vjwt_jwe_key_t *ec = add_jwk(p, keyset(p), interop_key(io, "ec-P-256"));
        unsigned char *der = NULL;
        const unsigned char *q;
        int n = i2d_PUBKEY(ec->pkey, &der);
        q = der;
        pk = d2i_PUBKEY(NULL, &q, n);
        OPENSSL_free(der);
        assert_int_equal(vjwt_jwe_key_from_pkey(&k, p, NULL, pk, &err), APR_EINVAL);
        assert_contains(err, "private");
        EVP_PKEY_free(pk);
    }
}

/* ---- threads ------------------------------------------------------------------------------ */

typedef struct {
    const vjwt_jwe_ctx_t *ctx;
    const apr_array_header_t *ks;
    json_t *tokens;
    int failures;
} thread_job_t;

static void *worker(void *data)
{
    thread_job_t *job = data;
    apr_pool_t *p;
    int round;
    apr_pool_create(&p, NULL);
    for (round = 0; round < 3; round++) {
        size_t i;
        json_t *t;
        json_array_foreach(job->tokens, i, t)
        {
            const char *tok = json_string_value(json_object_get(t, "jwe"));
            vjwt_jwe_result_t r;
            if (vjwt_jwe_decrypt(&r, p, job->ctx, job->ks, tok, strlen(tok), &LIM, NULL) !=
                    APR_SUCCESS ||
                strcmp((const char *)r.plaintext,
                       json_string_value(json_object_get(t, "plaintext"))) != 0) {
                job->failures++;
            }
        }
        apr_pool_clear(p);
    }
    apr_pool_destroy(p);
    return NULL;
}

/* Shared keys and ctx, four threads at once (run under ASan/TSan builds for races). */
static void t_threads(void **state)
{
    apr_pool_t *p = *state;
    json_t *io = load(p, data_path(p, "interop.json"));
    vjwt_jwe_ctx_t *c = ctx_of(p);
    apr_array_header_t *ks = interop_keys(p, io);
    thread_job_t jobs[4];
    pthread_t th[4];
    int i;
    for (i = 0; i < 4; i++) {
        jobs[i].ctx = c;
        jobs[i].ks = ks;
        jobs[i].tokens = json_object_get(io, "tokens");
        jobs[i].failures = 0;
        assert_int_equal(pthread_create(&th[i], NULL, worker, &jobs[i]), 0);
    }
    for (i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(jobs[i].failures, 0);
    }
}

/* ---- RFC 3394 unwrap (vjwt_crypto.c) ------------------------------------------------------ */

/* RFC 3394 section 4: KEK, key data, wrapped key (hex). */
static const char *const rfc3394[][3] = {
    {"000102030405060708090A0B0C0D0E0F", "00112233445566778899AABBCCDDEEFF",
     "1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5"},
    {"000102030405060708090A0B0C0D0E0F1011121314151617", "00112233445566778899AABBCCDDEEFF",
     "96778B25AE6CA435F92B5B97C050AED2468AB8A17AD84E5D"},
    {"000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
     "00112233445566778899AABBCCDDEEFF", "64E8C3F9CE0F5BA263E9777905818A2A93C8191E7D6E8AE7"},
    {"000102030405060708090A0B0C0D0E0F1011121314151617",
     "00112233445566778899AABBCCDDEEFF0001020304050607",
     "031D33264E15D33268F24EC260743EDCE1C6C7DDEE725A936BA814915C6762D2"},
    {"000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
     "00112233445566778899AABBCCDDEEFF0001020304050607",
     "A8F9BC1612C68B3FF6E6F4FBE30E71E4769C8B80A32CB8958CD5D17D6B254DA1"},
    {"000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
     "00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F",
     "28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21"},
};

/* The vectors of RFC 3394 section 4; every single-bit change of a wrapped key refused. */
static void t_aes_unwrap_rfc3394(void **state)
{
    apr_pool_t *p = *state;
    size_t v, bit;
    for (v = 0; v < sizeof(rfc3394) / sizeof(rfc3394[0]); v++) {
        unsigned char *kek, *data, *wrapped, out[64];
        apr_size_t kl, dl, wl;
        EVP_CIPHER_CTX *kw;
        assert_int_equal(vjwt_test_hex(p, rfc3394[v][0], &kek, &kl), 0);
        assert_int_equal(vjwt_test_hex(p, rfc3394[v][1], &data, &dl), 0);
        assert_int_equal(vjwt_test_hex(p, rfc3394[v][2], &wrapped, &wl), 0);
        kw = vjwt_aes_kw_ctx_make(kek, kl);
        assert_non_null(kw);
        assert_int_equal(vjwt_aes_unwrap(kw, wrapped, wl, out), 1);
        assert_memory_equal(out, data, dl);
        /* the template is only copied: a second unwrap with it gives the same */
        memset(out, 0x55, sizeof(out));
        assert_int_equal(vjwt_aes_unwrap(kw, wrapped, wl, out), 1);
        assert_memory_equal(out, data, dl);
        for (bit = 0; bit < wl * 8; bit++) {
            wrapped[bit / 8] ^= (unsigned char)(1u << (bit % 8));
            memset(out, 0x55, sizeof(out));
            assert_int_equal(vjwt_aes_unwrap(kw, wrapped, wl, out), 0);
            assert_true(out[0] == 0 && memcmp(out, out + 1, dl - 1) == 0); /* zeroed */
            wrapped[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        }
        /* lengths: not a multiple of 8, fewer than 3 blocks, more than 8 + 64 bytes */
        assert_int_equal(vjwt_aes_unwrap(kw, wrapped, wl - 1, out), 0);
        assert_int_equal(vjwt_aes_unwrap(kw, wrapped, 16, out), 0);
        assert_int_equal(vjwt_aes_unwrap(kw, wrapped, 80, out), 0);
        assert_int_equal(vjwt_aes_unwrap(NULL, wrapped, wl, out), 0);
        EVP_CIPHER_CTX_free(kw);
    }
    assert_null(vjwt_aes_kw_ctx_make((const unsigned char *)"0123456789abcdef0123", 20));
}

/* Against OpenSSL's own key-wrap cipher (AES-*-WRAP, RFC 3394) for random keys and every key
 * data length JWE uses (16..64 bytes). */
static void t_aes_unwrap_vs_openssl(void **state)
{
    static const char *const wrap[3] = {"AES-128-WRAP", "AES-192-WRAP", "AES-256-WRAP"};
    unsigned char kek[32], data[64], wrapped[72], out[64];
    int k, len, round, n = 0, m = 0;
    (void)state;
    for (k = 0; k < 3; k++) {
        EVP_CIPHER *ciph = EVP_CIPHER_fetch(NULL, wrap[k], NULL);
        assert_non_null(ciph);
        for (len = 16; len <= 64; len += 8) {
            for (round = 0; round < 4; round++) {
                EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
                EVP_CIPHER_CTX *kw;
                assert_int_equal(RAND_bytes(kek, sizeof(kek)), 1);
                assert_int_equal(RAND_bytes(data, sizeof(data)), 1);
                EVP_CIPHER_CTX_set_flags(c, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
                assert_int_equal(EVP_EncryptInit_ex2(c, ciph, kek, NULL, NULL), 1);
                assert_int_equal(EVP_EncryptUpdate(c, wrapped, &n, data, len), 1);
                assert_int_equal(EVP_EncryptFinal_ex(c, wrapped + n, &m), 1);
                assert_int_equal(n + m, len + 8);
                EVP_CIPHER_CTX_free(c);
                kw = vjwt_aes_kw_ctx_make(kek, (size_t)(16 + 8 * k));
                assert_non_null(kw);
                assert_int_equal(vjwt_aes_unwrap(kw, wrapped, (size_t)len + 8, out), 1);
                assert_memory_equal(out, data, (size_t)len);
                EVP_CIPHER_CTX_free(kw);
            }
        }
        EVP_CIPHER_free(ciph);
    }
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, vjwt_test_pool_setup, vjwt_test_pool_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(t_rfc_examples),
        T(t_wycheproof_jwe),
        T(t_wycheproof_crypto),
        T(t_interop_jwcrypto),
        T(t_interop_node_jose),
        T(t_tampering),
        T(t_key_binding),
        T(t_epk),
        T(t_header_rules),
        T(t_limits),
        T(t_key_sources),
        T(t_key_refusals),
        T(t_threads),
        T(t_aes_unwrap_rfc3394),
        T(t_aes_unwrap_vs_openssl),
    };
    vjwt_test_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
