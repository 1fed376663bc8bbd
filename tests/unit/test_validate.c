/*
 * test_validate.c - the whole pipeline (docs/conformance.md#pipeline) through vjwt_validate, with
 * keys generated here and tokens signed here with OpenSSL EVP (a test-only signer), so the library
 * verifies what an independent signer produced.
 *
 * Rows of docs/conformance.md covered: C30, C31, C34, C36, C38-C65 (no C66+), C82-C92,
 * C96, C99, C104, C105, C120; key choice steps 1-5 (#key-choice);
 * the order of the steps (#pipeline).
 */
#include "testutil.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <apr_strings.h>

#include <openssl/bn.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "vjwt_jose.h"
#include "vjwt_jwk.h"
#include "vjwt_policy.h"
#include "vjwt_token.h"
#include "vjwt_validate.h"
#include "vjwt_verdict.h"

#define POOL ((apr_pool_t *)*state)
#define NOW  1700000000.0

/* --- keys made once per run ------------------------------------------------------------ */

static EVP_PKEY *g_rsa_a, *g_rsa_b, *g_rsa_1024, *g_ec256_a, *g_ec256_b, *g_ec384, *g_ec521,
    *g_ed_a, *g_ed_b;
static unsigned char S1[64], S2[64], S3[64];

static int group_setup(void **state)
{
    int i;
    (void)state;
    vjwt_test_init();
    g_rsa_a = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    g_rsa_b = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    g_rsa_1024 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    g_ec256_a = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    g_ec256_b = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    g_ec384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    g_ec521 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521");
    g_ed_a = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    g_ed_b = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    if (!g_rsa_a || !g_rsa_b || !g_rsa_1024 || !g_ec256_a || !g_ec256_b || !g_ec384 || !g_ec521 ||
        !g_ed_a || !g_ed_b) {
        return -1;
    }
    for (i = 0; i < 64; i++) {
        S1[i] = (unsigned char)(0x10 + i);
        S2[i] = (unsigned char)(0x80 + i);
        S3[i] = (unsigned char)(0xc3 ^ (i * 7));
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    EVP_PKEY_free(g_rsa_a);
    EVP_PKEY_free(g_rsa_b);
    EVP_PKEY_free(g_rsa_1024);
    EVP_PKEY_free(g_ec256_a);
    EVP_PKEY_free(g_ec256_b);
    EVP_PKEY_free(g_ec384);
    EVP_PKEY_free(g_ec521);
    EVP_PKEY_free(g_ed_a);
    EVP_PKEY_free(g_ed_b);
    return 0;
}

/* --- base64url ----------------------------------------------------------------------------- */

/* An encoder independent of the code under test (testutil.c). */
static const char *b64u_n(apr_pool_t *p, const void *data, apr_size_t n)
{
    return vjwt_test_b64url(p, data, n);
}

static const char *b64u(apr_pool_t *p, const char *s)
{
    return b64u_n(p, s, strlen(s));
}

/* --- the test-only signer ------------------------------------------------------------------ */

#define SIG_DER    0x1 /* ECDSA: keep OpenSSL's DER instead of raw R||S */
#define SIG_SALT20 0x2 /* PSS: salt length 20 instead of the hash length */
#define SIG_FLIP   0x4 /* flip one bit of the finished signature */

typedef struct {
    const char *alg; /* how to sign: HS256 ... EdDSA */
    EVP_PKEY *pkey;
    const unsigned char *sec;
    apr_size_t seclen;
    int flags;
} signer_t;

static const EVP_MD *md_of(const char *alg)
{
    const char *bits = alg + strlen(alg) - 3;
    if (!strcmp(bits, "256")) {
        return EVP_sha256();
    }
    if (!strcmp(bits, "384")) {
        return EVP_sha384();
    }
    if (!strcmp(bits, "512")) {
        return EVP_sha512();
    }
    fail_msg("no hash for %s", alg);
    return NULL;
}

static apr_size_t ec_coord_len(const char *alg)
{
    if (!strcmp(alg, "ES256")) {
        return 32;
    }
    if (!strcmp(alg, "ES384")) {
        return 48;
    }
    return 66;
}

static void sign_bytes(apr_pool_t *p, const signer_t *s, const char *in, apr_size_t inlen,
                       unsigned char **sig, apr_size_t *siglen)
{
    if (!strncmp(s->alg, "HS", 2)) {
        unsigned int len = EVP_MAX_MD_SIZE;
        *sig = apr_palloc(p, EVP_MAX_MD_SIZE);
        if (!HMAC(md_of(s->alg), s->sec, (int)s->seclen, (const unsigned char *)in, inlen, *sig,
                  &len)) {
            fail_msg("HMAC failed");
        }
        *siglen = len;
    }
    else {
        EVP_MD_CTX *mctx = EVP_MD_CTX_new();
        EVP_PKEY_CTX *pctx = NULL;
        int eddsa = !strcmp(s->alg, "EdDSA");
        size_t len = 0;
        unsigned char *buf;

        assert_non_null(mctx);
        if (EVP_DigestSignInit(mctx, &pctx, eddsa ? NULL : md_of(s->alg), NULL, s->pkey) != 1) {
            fail_msg("EVP_DigestSignInit failed for %s", s->alg);
        }
        if (!strncmp(s->alg, "PS", 2)) {
            if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
                EVP_PKEY_CTX_set_rsa_pss_saltlen(
                    pctx, (s->flags & SIG_SALT20) ? 20 : RSA_PSS_SALTLEN_DIGEST) != 1 ||
                EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md_of(s->alg)) != 1) {
                fail_msg("PSS set-up failed");
            }
        }
        if (EVP_DigestSign(mctx, NULL, &len, (const unsigned char *)in, inlen) != 1) {
            fail_msg("EVP_DigestSign (size) failed for %s", s->alg);
        }
        buf = apr_palloc(p, len);
        if (EVP_DigestSign(mctx, buf, &len, (const unsigned char *)in, inlen) != 1) {
            fail_msg("EVP_DigestSign failed for %s", s->alg);
        }
        EVP_MD_CTX_free(mctx);

        if (!strncmp(s->alg, "ES", 2) && !(s->flags & SIG_DER)) {
            const unsigned char *d = buf;
            ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &d, (long)len);
            const BIGNUM *r, *sv;
            apr_size_t n = ec_coord_len(s->alg);
            assert_non_null(es);
            ECDSA_SIG_get0(es, &r, &sv);
            *sig = apr_palloc(p, 2 * n);
            if (BN_bn2binpad(r, *sig, (int)n) != (int)n ||
                BN_bn2binpad(sv, *sig + n, (int)n) != (int)n) {
                fail_msg("R||S conversion failed");
            }
            ECDSA_SIG_free(es);
            *siglen = 2 * n;
        }
        else {
            *sig = buf;
            *siglen = len;
        }
    }
    if (s->flags & SIG_FLIP) {
        (*sig)[*siglen / 2] ^= 0x01;
    }
}

/* Compact JWS over the exact header and payload texts given. */
static const char *jws(apr_pool_t *p, const signer_t *s, const char *hdr, const char *payload)
{
    const char *si = apr_pstrcat(p, b64u(p, hdr), ".", b64u(p, payload), NULL);
    unsigned char *sig;
    apr_size_t siglen;
    sign_bytes(p, s, si, strlen(si), &sig, &siglen);
    return apr_pstrcat(p, si, ".", b64u_n(p, sig, siglen), NULL);
}

static signer_t HSx(const char *alg, const unsigned char *sec, apr_size_t len)
{
    signer_t s = {alg, NULL, sec, len, 0};
    return s;
}

static signer_t PK(const char *alg, EVP_PKEY *pkey)
{
    signer_t s = {alg, pkey, NULL, 0, 0};
    return s;
}

static signer_t FL(signer_t s, int flags)
{
    s.flags |= flags;
    return s;
}

static const char *hdr_alg(apr_pool_t *p, const char *alg)
{
    return apr_psprintf(p, "{\"alg\":\"%s\",\"typ\":\"JWT\"}", alg);
}

static const char *hdr_kid(apr_pool_t *p, const char *alg, const char *kid)
{
    return apr_psprintf(p, "{\"alg\":\"%s\",\"typ\":\"JWT\",\"kid\":\"%s\"}", alg, kid);
}

/* A payload that passes every claim check of the default policy. */
static const char *pl_good(apr_pool_t *p)
{
    return apr_psprintf(p,
                        "{\"sub\":\"user1\",\"iss\":\"https://issuer.example\","
                        "\"aud\":\"api://app\",\"exp\":%.0f,\"iat\":%.0f}",
                        NOW + 3600, NOW - 60);
}

/* Token = header and payload of b with the signature of a. */
static const char *splice(apr_pool_t *p, const char *a, const char *b)
{
    const char *sig_a = strrchr(a, '.');
    const char *dot_b = strrchr(b, '.');
    return apr_pstrcat(p, apr_pstrndup(p, b, (apr_size_t)(dot_b - b)), sig_a, NULL);
}

/* Token with its signature segment replaced by the given bytes. */
static const char *with_sig(apr_pool_t *p, const char *tok, const unsigned char *sig,
                            apr_size_t len)
{
    const char *dot = strrchr(tok, '.');
    return apr_pstrcat(p, apr_pstrndup(p, tok, (apr_size_t)(dot - tok) + 1), b64u_n(p, sig, len),
                       NULL);
}

/* --- keys for the library ------------------------------------------------------------------ */

static vjwt_key_t *key_secret(apr_pool_t *p, const unsigned char *sec, apr_size_t len,
                              const char *kid)
{
    vjwt_key_t *k = NULL;
    const char *err = NULL;
    if (vjwt_key_from_secret(&k, p, sec, len, &err) != APR_SUCCESS || !k) {
        fail_msg("vjwt_key_from_secret: %s", err ? err : "?");
    }
    k->kid = kid;
    return k;
}

static const char *pem_of(apr_pool_t *p, EVP_PKEY *pkey, apr_size_t *len)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *data;
    long n;
    char *out;
    if (!b || PEM_write_bio_PUBKEY(b, pkey) != 1) {
        fail_msg("PEM_write_bio_PUBKEY failed");
    }
    n = BIO_get_mem_data(b, &data);
    out = apr_pstrmemdup(p, data, (apr_size_t)n);
    BIO_free(b);
    *len = (apr_size_t)n;
    return out;
}

static vjwt_key_t *key_pem(apr_pool_t *p, EVP_PKEY *pkey, const char *kid)
{
    vjwt_key_t *k = NULL;
    const char *err = NULL;
    apr_size_t len;
    const char *pem = pem_of(p, pkey, &len);
    if (vjwt_key_from_pem(&k, p, pem, len, &err) != APR_SUCCESS || !k) {
        fail_msg("vjwt_key_from_pem: %s", err ? err : "?");
    }
    k->kid = kid;
    return k;
}

static vjwt_key_t *key_der(apr_pool_t *p, EVP_PKEY *pkey, const char *kid)
{
    vjwt_key_t *k = NULL;
    const char *err = NULL;
    apr_size_t len;
    const unsigned char *der = der_of(p, pkey, &len);
    if (vjwt_key_from_pem(&k, p, (const char *)der, len, &err) != APR_SUCCESS || !k) {
        fail_msg("vjwt_key_from_pem (DER): %s", err ? err : "?");
    }
    k->kid = kid;
    return k;
}

static vjwt_key_t *key_ne(apr_pool_t *p, EVP_PKEY *pkey, const char *kid)
{
    vjwt_key_t *k = NULL;
    const char *err = NULL;
    if (vjwt_key_from_rsa_ne(&k, p, bn_b64url(p, pkey, OSSL_PKEY_PARAM_RSA_N),
                             bn_b64url(p, pkey, OSSL_PKEY_PARAM_RSA_E), &err) != APR_SUCCESS ||
        !k) {
        fail_msg("vjwt_key_from_rsa_ne: %s", err ? err : "?");
    }
    k->kid = kid;
    return k;
}

/* NULL-terminated list of keys. */
static apr_array_header_t *keys_of(apr_pool_t *p, ...)
{
    apr_array_header_t *a = apr_array_make(p, 4, sizeof(vjwt_key_t *));
    vjwt_key_t *k;
    va_list ap;
    va_start(ap, p);
    while ((k = va_arg(ap, vjwt_key_t *)) != NULL) {
        APR_ARRAY_PUSH(a, vjwt_key_t *) = k;
    }
    va_end(ap);
    return a;
}

static vjwt_policy_t *pol_keys(apr_pool_t *p, apr_array_header_t *keys)
{
    vjwt_policy_t *pol = vjwt_policy_make(p);
    pol->keys = keys;
    return pol;
}

static vjwt_claim_req_t *claim(apr_pool_t *p, const char *name, int any, const char *v1)
{
    vjwt_claim_req_t *c = apr_pcalloc(p, sizeof(*c));
    c->name = name;
    c->match_any = any;
    c->values = apr_array_make(p, 1, sizeof(const char *));
    if (v1) {
        APR_ARRAY_PUSH(c->values, const char *) = v1;
    }
    return c;
}

static apr_array_header_t *claims_of(apr_pool_t *p, vjwt_claim_req_t *a, vjwt_claim_req_t *b)
{
    apr_array_header_t *arr = apr_array_make(p, 2, sizeof(vjwt_claim_req_t *));
    if (a) {
        APR_ARRAY_PUSH(arr, vjwt_claim_req_t *) = a;
    }
    if (b) {
        APR_ARRAY_PUSH(arr, vjwt_claim_req_t *) = b;
    }
    return arr;
}

/* --- running and checking ------------------------------------------------------------------ */

static void no_token_in_detail(const char *tok, const char *detail, int line)
{
    const char *d1 = strchr(tok, '.');
    const char *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    apr_size_t lens[3];
    const char *segs[3];
    int i;
    char buf[64];

    if (!d1 || !d2 || !detail) {
        return;
    }
    segs[0] = tok;
    lens[0] = (apr_size_t)(d1 - tok);
    segs[1] = d1 + 1;
    lens[1] = (apr_size_t)(d2 - d1 - 1);
    segs[2] = d2 + 1;
    lens[2] = strlen(d2 + 1);
    for (i = 0; i < 3; i++) {
        /* any 24-character piece of a segment would be a leak (C135) */
        if (lens[i] >= 24) {
            memcpy(buf, segs[i], 24);
            buf[24] = 0;
            if (strstr(detail, buf)) {
                fail_msg("line %d: the detail leaks token segment %d: %s", line, i, detail);
            }
        }
    }
}

static apr_status_t run_(apr_pool_t *p, const vjwt_policy_t *pol, const apr_array_header_t *keys,
                         const char *tok, double now, vjwt_token_t **out, vjwt_verdict_t *v)
{
    v->reason = VJWT_R_OK;
    v->detail = NULL;
    return vjwt_validate(p, pol, keys, tok, strlen(tok), now, out, v);
}

static vjwt_token_t *expect_ok_(apr_pool_t *p, const vjwt_policy_t *pol,
                                const apr_array_header_t *keys, const char *tok, int line)
{
    vjwt_verdict_t v;
    vjwt_token_t *t = NULL;
    apr_status_t rv = run_(p, pol, keys, tok, NOW, &t, &v);
    if (rv != APR_SUCCESS) {
        fail_msg("line %d: expected success, got %s (%s)", line, vjwt_reason_name(v.reason),
                 v.detail ? v.detail : "-");
    }
    if (!t) {
        fail_msg("line %d: success without the parsed token", line);
    }
    return t;
}

static void expect_fail_(apr_pool_t *p, const vjwt_policy_t *pol, const apr_array_header_t *keys,
                         const char *tok, vjwt_reason_e want, int line)
{
    vjwt_verdict_t v;
    apr_status_t rv = run_(p, pol, keys, tok, NOW, NULL, &v);
    if (rv == APR_SUCCESS) {
        fail_msg("line %d: expected %s, got success", line, vjwt_reason_name(want));
    }
    if (v.reason != want) {
        fail_msg("line %d: expected %s, got %s (%s)", line, vjwt_reason_name(want),
                 vjwt_reason_name(v.reason), v.detail ? v.detail : "-");
    }
    if (!v.detail || !*v.detail) {
        fail_msg("line %d: %s without a detail", line, vjwt_reason_name(want));
    }
    no_token_in_detail(tok, v.detail, line);
}

#define EXPECT_OK(p, pol, keys, tok)         expect_ok_(p, pol, keys, tok, __LINE__)
#define EXPECT_FAIL(p, pol, keys, tok, want) expect_fail_(p, pol, keys, tok, want, __LINE__)

#define R_INVALID  VJWT_R_JWT_INVALID
#define R_SIG      VJWT_R_TOKEN_SIGNATURE_INVALID
#define R_NOKEY    VJWT_R_TOKEN_SIGNATURE_KEY_NOT_FOUND
#define R_EXPIRED  VJWT_R_TOKEN_EXPIRED
#define R_AUD      VJWT_R_TOKEN_AUDIENCE_NOT_ALLOWED
#define R_ISS      VJWT_R_TOKEN_ISSUER_NOT_ALLOWED
#define R_NOCLAIM  VJWT_R_TOKEN_CLAIM_NOT_FOUND
#define R_BADCLAIM VJWT_R_TOKEN_CLAIM_VALUE_NOT_ALLOWED

/* --- HMAC basics (C39-C41) ----------------------------------------------------------------- */

static void test_hs256_ok_C39(void **state)
{
    apr_pool_t *p = POOL;
    signer_t s = HSx("HS256", S1, 32);
    const char *tok = jws(p, &s, hdr_alg(p, "HS256"), pl_good(p));
    vjwt_policy_t *pol = pol_keys(p, keys_of(p, key_secret(p, S1, 32, NULL), NULL));
    vjwt_token_t *t = EXPECT_OK(p, pol, NULL, tok);

    assert_string_equal(t->alg, "HS256");
    assert_string_equal(json_string_value(json_object_get(t->payload, "sub")), "user1");
    /* keys given to the call instead of the policy */
    EXPECT_OK(p, vjwt_policy_make(p), keys_of(p, key_secret(p, S1, 32, NULL), NULL), tok);
}

static void test_hs_bit_flip_C40(void **state)
{
    apr_pool_t *p = POOL;
    signer_t s = FL(HSx("HS256", S1, 32), SIG_FLIP);
    vjwt_policy_t *pol = pol_keys(p, keys_of(p, key_secret(p, S1, 32, NULL), NULL));
    EXPECT_FAIL(p, pol, NULL, jws(p, &s, hdr_alg(p, "HS256"), pl_good(p)), R_SIG);
}

static void test_payload_changed_C41(void **state)
{
    apr_pool_t *p = POOL;
    signer_t s = HSx("HS256", S1, 32);
    vjwt_policy_t *pol = pol_keys(p, keys_of(p, key_secret(p, S1, 32, NULL), NULL));
    const char *a = jws(p, &s, hdr_alg(p, "HS256"), pl_good(p));
    const char *b = jws(p, &s, hdr_alg(p, "HS256"),
                        apr_psprintf(p, "{\"sub\":\"admin\",\"exp\":%.0f}", NOW + 3600));
    EXPECT_FAIL(p, pol, NULL, splice(p, a, b), R_SIG);
    /* truncated and empty signatures */
    EXPECT_FAIL(p, pol, NULL, with_sig(p, a, (const unsigned char *)"abc", 3), R_SIG);
    EXPECT_FAIL(p, pol, NULL, apr_pstrndup(p, a, (apr_size_t)(strrchr(a, '.') - a) + 1), R_SIG);
}

/* C65: unusual JSON spacing is signed and verified as received. */
static void test_signing_input_as_received_C65(void **state)
{
    apr_pool_t *p = POOL;
    signer_t s = HSx("HS256", S1, 32);
    vjwt_policy_t *pol = pol_keys(p, keys_of(p, key_secret(p, S1, 32, NULL), NULL));
    const char *tok = jws(p, &s, "{  \"typ\" : \"JWT\",\n\t\"alg\"  :\"HS256\" }",
                          apr_psprintf(p, "{ \"sub\" : \"u\" ,\r\n \"exp\" : %.0f }", NOW + 3600));
    EXPECT_OK(p, pol, NULL, tok);
}

/* --- key choice (docs/conformance.md#key-choice, C42-C48) -------------------------------- */

/* C42: two keys without id, signed with the second. */
static void test_rollover_C42(void **state)
{
    apr_pool_t *p = POOL;
    signer_t s = HSx("HS256", S2, 32);
    vjwt_key_t *k1 = key_secret(p, S1, 32, NULL);
    vjwt_key_t *k2 = key_secret(p, S2, 32, NULL);
    const char *tok = jws(p, &s, hdr_alg(p, "HS256"), pl_good(p));
    vjwt_token_t *t = NULL;
    vjwt_verdict_t v = {VJWT_R_OK, NULL};
    const vjwt_key_t *used = NULL;

    EXPECT_OK(p, pol_keys(p, keys_of(p, k1, k2, NULL)), NULL, tok);

    /* the signature stage alone reports the key that verified */
    assert_int_equal(vjwt_token_parse(&t, p, tok, strlen(tok), 0, &v), APR_SUCCESS);
    assert_int_equal(vjwt_validate_signature(p, t, keys_of(p, k1, k2, NULL), vjwt_alg_mask_all(),
                                             2048, 1, &used, &v),
                     APR_SUCCESS);
    assert_ptr_equal(used, k2);
}

/* C43: kid matches key A: only A is tried, even though B would verify. */
static void test_kid_match_only_C43(void **state)
{
    apr_pool_t *p = POOL;
    signer_t s = HSx("HS256", S2, 32);
    apr_array_header_t *keys =
        keys_of(p, key_secret(p, S1, 32, "A"), key_secret(p, S2, 32, "B"), NULL);
    EXPECT_FAIL(p, pol_keys(p, keys), NULL, jws(p, &s, hdr_kid(p, "HS256", "A"), pl_good(p)),
                R_SIG);
    EXPECT_OK(p, pol_keys(p, keys), NULL, jws(p, &s, hdr_kid(p, "HS256", "B"), pl_good(p)));
}

/* C44: kid matches no id: every key is tried. */
static void test_kid_no_match_fallback_C44(void **state)
{
    apr_pool_t *p = POOL;
    signer_t s = HSx("HS256", S2, 32);
    apr_array_header_t *keys =
        keys_of(p, key_secret(p, S1, 32, "A"), key_secret(p, S2, 32, "B"), NULL);
    EXPECT_OK(p, pol_keys(p, keys), NULL, jws(p, &s, hdr_kid(p, "HS256", "zzz"), pl_good(p)));
    /* keys without any id */
    keys = keys_of(p, key_secret(p, S1, 32, NULL), key_secret(p, S2, 32, NULL), NULL);
    EXPECT_OK(p, pol_keys(p, keys), NULL, jws(p, &s, hdr_kid(p, "HS256", "zzz"), pl_good(p)));
}

/* C45: kid matches no id and no key verifies: TokenSignatureKeyNotFound. */
static void test_kid_no_match_no_verify_C45(void **state)
{
    apr_pool_t *p = POOL;
    signer_t s = HSx("HS256", S3, 32);
    apr_array_header_t *keys =
        keys_of(p, key_secret(p, S1, 32, "A"), key_secret(p, S2, 32, NULL), NULL);
    vjwt_verdict_t v;
    const char *tok = jws(p, &s, hdr_kid(p, "HS256", "unknown-kid-77"), pl_good(p));

    EXPECT_FAIL(p, pol_keys(p, keys), NULL, tok, R_NOKEY);
    /* the detail names the kid (docs/conformance.md#failure-reasons) */
    run_(p, pol_keys(p, keys), NULL, tok, NOW, NULL, &v);
    assert_non_null(strstr(v.detail, "unknown-kid-77"));
}

/* C46: no kid and no key verifies: TokenSignatureInvalid. */
static void test_no_kid_no_verify_C46(void **state)
{
    apr_pool_t *p = POOL;
    signer_t s = HSx("HS256", S3, 32);
    apr_array_header_t *keys =
        keys_of(p, key_secret(p, S1, 32, "A"), key_secret(p, S2, 32, NULL), NULL);
    EXPECT_FAIL(p, pol_keys(p, keys), NULL, jws(p, &s, hdr_alg(p, "HS256"), pl_good(p)), R_SIG);
}

/* C47: no keys at all. */
static void test_no_keys_C47(void **state)
{
    apr_pool_t *p = POOL;
    signer_t hs = HSx("HS256", S1, 32);
    signer_t rs = PK("RS256", g_rsa_a);
    vjwt_policy_t *pol = vjwt_policy_make(p);
    const char *t1 = jws(p, &hs, hdr_alg(p, "HS256"), pl_good(p));
    const char *t2 = jws(p, &rs, hdr_kid(p, "RS256", "k1"), pl_good(p));

    EXPECT_FAIL(p, pol, NULL, t1, R_NOKEY);
    EXPECT_FAIL(p, pol, NULL, t2, R_NOKEY);
    EXPECT_FAIL(p, pol_keys(p, keys_of(p, NULL)), NULL, t1, R_NOKEY);
    EXPECT_FAIL(p, pol, keys_of(p, NULL), t2, R_NOKEY);
}

/* C48: kid matching is case-sensitive. */
static void test_kid_case_sensitive_C48(void **state)
{
    apr_pool_t *p = POOL;
    signer_t s2 = HSx("HS256", S2, 32);
    apr_array_header_t *keys =
        keys_of(p, key_secret(p, S1, 32, "key1"), key_secret(p, S2, 32, "k2"), NULL);
    /* "Key1" matches nothing, so every key is tried and S2 verifies */
    EXPECT_OK(p, pol_keys(p, keys), NULL, jws(p, &s2, hdr_kid(p, "HS256", "Key1"), pl_good(p)));
    /* "key1" matches exactly, only S1 is tried */
    EXPECT_FAIL(p, pol_keys(p, keys), NULL, jws(p, &s2, hdr_kid(p, "HS256", "key1"), pl_good(p)),
                R_SIG);
}

/* Key choice step 4: keys without an id are not in M when some key matches. */
static void test_kid_idless_keys_not_in_match(void **state)
{
    apr_pool_t *p = POOL;
    signer_t s2 = HSx("HS256", S2, 32);
    apr_array_header_t *keys =
        keys_of(p, key_secret(p, S1, 32, "a"), key_secret(p, S2, 32, NULL), NULL);
    EXPECT_FAIL(p, pol_keys(p, keys), NULL, jws(p, &s2, hdr_kid(p, "HS256", "a"), pl_good(p)),
                R_SIG);
    EXPECT_OK(p, pol_keys(p, keys), NULL, jws(p, &s2, hdr_alg(p, "HS256"), pl_good(p)));
}

/* Key choice step 5: several keys may share a kid; all are in M. */
static void test_kid_shared_step5(void **state)
{
    apr_pool_t *p = POOL;
    signer_t s2 = HSx("HS256", S2, 32);
    signer_t rs = PK("RS256", g_rsa_a);
    apr_array_header_t *keys =
        keys_of(p, key_secret(p, S1, 32, "dup"), key_secret(p, S2, 32, "dup"),
                key_pem(p, g_rsa_a, "dup"), key_secret(p, S3, 32, "other"), NULL);
    EXPECT_OK(p, pol_keys(p, keys), NULL, jws(p, &s2, hdr_kid(p, "HS256", "dup"), pl_good(p)));
    EXPECT_OK(p, pol_keys(p, keys), NULL, jws(p, &rs, hdr_kid(p, "RS256", "dup"), pl_good(p)));
}

/* M is taken from the compatible keys K only; but a kid that names a key of another type
 * binds the token to that id all the same: no fallback to the other keys (it would let a
 * token name one key and be verified by another). */
static void test_kid_match_only_among_compatible(void **state)
{
    apr_pool_t *p = POOL;
    signer_t hs = HSx("HS256", S1, 32);
    signer_t rs = PK("RS256", g_rsa_a);
    apr_array_header_t *keys =
        keys_of(p, key_pem(p, g_rsa_b, "k"), key_secret(p, S1, 32, NULL), NULL);
    EXPECT_FAIL(p, pol_keys(p, keys), NULL, jws(p, &hs, hdr_kid(p, "HS256", "k"), pl_good(p)),
                R_SIG);
    EXPECT_OK(p, pol_keys(p, keys), NULL, jws(p, &hs, hdr_kid(p, "HS256", "j"), pl_good(p)));
    /* RS256 kid "x": K = {rsa_b}, M empty, fallback fails: KeyNotFound */
    EXPECT_FAIL(p, pol_keys(p, keys), NULL, jws(p, &rs, hdr_kid(p, "RS256", "x"), pl_good(p)),
                R_NOKEY);
    /* RS256 kid "k": M = {rsa_b}, fails: SignatureInvalid */
    EXPECT_FAIL(p, pol_keys(p, keys), NULL, jws(p, &rs, hdr_kid(p, "RS256", "k"), pl_good(p)),
                R_SIG);
    /* RS256 without kid: K = {rsa_b}, fails: SignatureInvalid */
    EXPECT_FAIL(p, pol_keys(p, keys), NULL, jws(p, &rs, hdr_alg(p, "RS256"), pl_good(p)), R_SIG);
}

/* A kid that names a key of another type (here an RSA key's id on an ES256 token signed
 * by an EC key of the same set) does not fall back to the other keys: TokenSignatureInvalid.
 * A kid that names no key at all still does. */
static void test_kid_names_other_type_no_fallback(void **state)
{
    apr_pool_t *p = POOL;
    signer_t es = PK("ES256", g_ec256_a);
    apr_array_header_t *keys =
        keys_of(p, key_pem(p, g_rsa_a, "rsa-1"), key_pem(p, g_ec256_a, "ec-1"), NULL);
    vjwt_verdict_t v;
    const char *tok = jws(p, &es, hdr_kid(p, "ES256", "rsa-1"), pl_good(p));
    EXPECT_FAIL(p, pol_keys(p, keys), NULL, tok, R_SIG);
    run_(p, pol_keys(p, keys), NULL, tok, NOW, NULL, &v);
    assert_non_null(strstr(v.detail, "rsa-1"));
    /* an EC key without an id: the same */
    keys = keys_of(p, key_pem(p, g_rsa_a, "rsa-1"), key_pem(p, g_ec256_a, NULL), NULL);
    EXPECT_FAIL(p, pol_keys(p, keys), NULL, tok, R_SIG);
    /* a kid of no key: every fitting key is tried */
    EXPECT_OK(p, pol_keys(p, keys), NULL, jws(p, &es, hdr_kid(p, "ES256", "zzz"), pl_good(p)));
    EXPECT_OK(p, pol_keys(p, keys), NULL, jws(p, &es, hdr_alg(p, "ES256"), pl_good(p)));
    /* and the key that has the id and fits verifies */
    keys = keys_of(p, key_pem(p, g_rsa_a, "rsa-1"), key_pem(p, g_ec256_a, "rsa-1"), NULL);
    EXPECT_OK(p, pol_keys(p, keys), NULL, tok);
}

/* --- keys bound to the issuer of their discovery document ----------------------------------- */

static const char *pl_iss(apr_pool_t *p, const char *iss, const char *tid)
{
    return apr_psprintf(p,
                        "{\"sub\":\"u\",\"iss\":\"%s\",%s%s%s\"aud\":\"api://app\","
                        "\"exp\":%.0f}",
                        iss, tid ? "\"tid\":\"" : "", tid ? tid : "", tid ? "\"," : "", NOW + 3600);
}

static apr_status_t run_with(apr_pool_t *p, const vjwt_policy_t *pol, const vjwt_validate_opts_t *o,
                             const char *tok, vjwt_verdict_t *v)
{
    v->reason = VJWT_R_OK;
    v->detail = NULL;
    return vjwt_validate_with(p, pol, o, tok, strlen(tok), NOW, NULL, v);
}

/* A token whose iss is the issuer of a discovery document is verified only by that
 * document's keys and the configured (static) ones; another iss by every key. */
static void test_issuer_binds_discovery_keys(void **state)
{
    apr_pool_t *p = POOL;
    const char *A = "https://a.example", *B = "https://b.example",
               *T = "https://login.example/{tenantid}/v2.0";
    signer_t ra = PK("RS256", g_rsa_a), rb = PK("RS256", g_rsa_b), ea = PK("ES256", g_ec256_a),
             eb = PK("ES256", g_ec256_b), ed = PK("EdDSA", g_ed_a);
    vjwt_policy_t *pol = vjwt_policy_make(p);
    vjwt_validate_opts_t o;
    vjwt_verdict_t v;
    apr_array_header_t *origins = apr_array_make(p, 5, sizeof(const char *));
    const char *tenant_iss = "https://login.example/t1/v2.0";

    memset(&o, 0, sizeof(o));
    pol->issuers = strs(p, "https://other.example", NULL);
    o.keys = keys_of(p, key_pem(p, g_ec256_b, NULL), key_pem(p, g_rsa_a, NULL),
                     key_pem(p, g_rsa_b, NULL), key_pem(p, g_ec256_a, NULL),
                     key_pem(p, g_ed_a, NULL), NULL);
    APR_ARRAY_PUSH(origins, const char *) = NULL; /* static */
    APR_ARRAY_PUSH(origins, const char *) = A;
    APR_ARRAY_PUSH(origins, const char *) = B;
    APR_ARRAY_PUSH(origins, const char *) = ""; /* a JWKS URL */
    APR_ARRAY_PUSH(origins, const char *) = T;
    o.key_issuers = origins;
    o.discovered_issuers = strs(p, A, B);
    APR_ARRAY_PUSH((apr_array_header_t *)o.discovered_issuers, const char *) = T;

    /* iss A: A's key and the static key verify; B's key and the JWKS URL's key do not */
    assert_int_equal(run_with(p, pol, &o, jws(p, &ra, hdr_alg(p, "RS256"), pl_iss(p, A, NULL)), &v),
                     APR_SUCCESS);
    assert_int_equal(run_with(p, pol, &o, jws(p, &eb, hdr_alg(p, "ES256"), pl_iss(p, A, NULL)), &v),
                     APR_SUCCESS);
    assert_true(run_with(p, pol, &o, jws(p, &rb, hdr_alg(p, "RS256"), pl_iss(p, A, NULL)), &v) !=
                APR_SUCCESS);
    assert_int_equal(v.reason, R_SIG);
    assert_true(run_with(p, pol, &o, jws(p, &ea, hdr_alg(p, "ES256"), pl_iss(p, A, NULL)), &v) !=
                APR_SUCCESS);
    assert_true(v.reason == R_SIG || v.reason == R_NOKEY);
    /* with a kid of no key: B's key is still not tried */
    assert_true(run_with(p, pol, &o, jws(p, &rb, hdr_kid(p, "RS256", "q"), pl_iss(p, A, NULL)),
                         &v) != APR_SUCCESS);
    assert_int_equal(v.reason, R_NOKEY);
    /* iss B: B's key */
    assert_int_equal(run_with(p, pol, &o, jws(p, &rb, hdr_alg(p, "RS256"), pl_iss(p, B, NULL)), &v),
                     APR_SUCCESS);
    assert_true(run_with(p, pol, &o, jws(p, &ra, hdr_alg(p, "RS256"), pl_iss(p, B, NULL)), &v) !=
                APR_SUCCESS);
    /* a {tenantid} template matches with the token's tid, as the issuer check does */
    assert_int_equal(
        run_with(p, pol, &o, jws(p, &ed, hdr_alg(p, "EdDSA"), pl_iss(p, tenant_iss, "t1")), &v),
        APR_SUCCESS);
    assert_true(run_with(p, pol, &o, jws(p, &ra, hdr_alg(p, "RS256"), pl_iss(p, tenant_iss, "t1")),
                         &v) != APR_SUCCESS);
    assert_int_equal(v.reason, R_NOKEY); /* no RSA key is bound to that issuer */
    /* an iss that is no discovered issuer (configured here): every key, as before */
    assert_int_equal(
        run_with(p, pol, &o,
                 jws(p, &rb, hdr_alg(p, "RS256"), pl_iss(p, "https://other.example", NULL)), &v),
        APR_SUCCESS);
    assert_int_equal(
        run_with(p, pol, &o,
                 jws(p, &ea, hdr_alg(p, "ES256"), pl_iss(p, "https://other.example", NULL)), &v),
        APR_SUCCESS);
    /* the tid of another tenant: the template does not match, every key may verify, and the
     * issuer check then refuses the iss */
    assert_true(run_with(p, pol, &o, jws(p, &ra, hdr_alg(p, "RS256"), pl_iss(p, tenant_iss, "t2")),
                         &v) != APR_SUCCESS);
    assert_int_equal(v.reason, R_ISS);
    /* without origins nothing is bound */
    o.key_issuers = NULL;
    assert_int_equal(run_with(p, pol, &o, jws(p, &rb, hdr_alg(p, "RS256"), pl_iss(p, A, NULL)), &v),
                     APR_SUCCESS);
}

/* vjwt_validate_signature alone: its parameters, not the policy's, decide. */
static void test_signature_stage_direct(void **state)
{
    apr_pool_t *p = POOL;
    signer_t rs = PK("RS256", g_rsa_1024);
    vjwt_key_t *k = key_pem(p, g_rsa_1024, NULL);
    const char *tok = jws(p, &rs, hdr_alg(p, "RS256"), pl_good(p));
    const char *none = apr_pstrcat(p, b64u(p, "{\"alg\":\"none\"}"), ".", b64u(p, "{}"), ".", NULL);
    vjwt_token_t *t = NULL, *tn = NULL;
    vjwt_verdict_t v = {VJWT_R_OK, NULL};
    const vjwt_key_t *used = (const vjwt_key_t *)&v;
    unsigned all = vjwt_alg_mask_all();

    assert_int_equal(vjwt_token_parse(&t, p, tok, strlen(tok), 0, &v), APR_SUCCESS);
    assert_int_equal(vjwt_token_parse(&tn, p, none, strlen(none), 0, &v), APR_SUCCESS);

    assert_true(vjwt_validate_signature(p, t, keys_of(p, k, NULL), all, 2048, 1, &used, &v) !=
                APR_SUCCESS);
    assert_int_equal(v.reason, R_NOKEY);
    assert_null(used);
    assert_int_equal(vjwt_validate_signature(p, t, keys_of(p, k, NULL), all, 1024, 1, &used, &v),
                     APR_SUCCESS);
    assert_ptr_equal(used, k);
    assert_true(vjwt_validate_signature(p, t, keys_of(p, k, NULL), vjwt_alg_lookup("PS256")->bit,
                                        1024, 1, NULL, &v) != APR_SUCCESS);
    assert_int_equal(v.reason, R_SIG);
    assert_true(vjwt_validate_signature(p, t, NULL, all, 1024, 1, NULL, &v) != APR_SUCCESS);
    assert_int_equal(v.reason, R_NOKEY);

    assert_true(vjwt_validate_signature(p, tn, keys_of(p, k, NULL), all, 1024, 1, NULL, &v) !=
                APR_SUCCESS);
    assert_int_equal(v.reason, R_SIG);
    assert_int_equal(vjwt_validate_signature(p, tn, NULL, all, 1024, 0, NULL, &v), APR_SUCCESS);
}

/* --- alg none (C49-C52) ---------------------------------------------------------------------- */

static const char *unsigned_token(apr_pool_t *p, const char *alg, const char *sig)
{
    return apr_pstrcat(p, b64u(p, apr_psprintf(p, "{\"alg\":\"%s\"}", alg)), ".",
                       b64u(p, pl_good(p)), ".", sig, NULL);
}

/* C49. */
static void test_none_rejected_by_default_C49(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_policy_t *pol = pol_keys(p, keys_of(p, key_secret(p, S1, 32, NULL), NULL));
    EXPECT_FAIL(p, pol, NULL, unsigned_token(p, "none", ""), R_SIG);
    EXPECT_FAIL(p, vjwt_policy_make(p), NULL, unsigned_token(p, "none", ""), R_SIG);
    pol->require_signed = 1;
    EXPECT_FAIL(p, pol, NULL, unsigned_token(p, "none", ""), R_SIG);
}

/* C50: passes the signature stage (and here the whole pipeline). */
static void test_none_allowed_C50(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_policy_t *pol = vjwt_policy_make(p);
    vjwt_policy_t *pk = pol_keys(p, keys_of(p, key_secret(p, S1, 32, NULL), NULL));
    vjwt_token_t *t;
    pol->require_signed = 0;
    pk->require_signed = 0;
    t = EXPECT_OK(p, pol, NULL, unsigned_token(p, "none", ""));
    assert_string_equal(t->alg, "none");
    EXPECT_OK(p, pk, NULL, unsigned_token(p, "none", ""));
    /* the later steps still run */
    EXPECT_FAIL(p, pol, NULL,
                apr_pstrcat(p, b64u(p, "{\"alg\":\"none\"}"), ".",
                            b64u(p, apr_psprintf(p, "{\"exp\":%.0f}", NOW - 10)), ".", NULL),
                R_EXPIRED);
    pol->audiences = strs(p, "api://other", NULL);
    EXPECT_FAIL(p, pol, NULL, unsigned_token(p, "none", ""), R_AUD);
}

/* C51. */
static void test_none_with_signature_C51(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_policy_t *pol = vjwt_policy_make(p);
    pol->require_signed = 0;
    EXPECT_FAIL(p, pol, NULL, unsigned_token(p, "none", "AAAA"), R_INVALID);
    EXPECT_FAIL(p, pol, NULL, unsigned_token(p, "none", b64u(p, "signature")), R_INVALID);
}

/* C52. */
static void test_unsigned_allowed_signed_still_verified_C52(void **state)
{
    apr_pool_t *p = POOL;
    signer_t bad = FL(HSx("HS256", S1, 32), SIG_FLIP);
    signer_t other = HSx("HS256", S2, 32);
    vjwt_policy_t *pol = pol_keys(p, keys_of(p, key_secret(p, S1, 32, NULL), NULL));
    pol->require_signed = 0;
    EXPECT_FAIL(p, pol, NULL, jws(p, &bad, hdr_alg(p, "HS256"), pl_good(p)), R_SIG);
    EXPECT_FAIL(p, pol, NULL, jws(p, &other, hdr_alg(p, "HS256"), pl_good(p)), R_SIG);
    /* an empty signature on a signed alg is not "unsigned" */
    EXPECT_FAIL(p, pol, NULL, unsigned_token(p, "HS256", ""), R_SIG);
}

/* "none" is exact: other spellings are unknown algorithms. */
static void test_none_spelling(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_policy_t *pol = vjwt_policy_make(p);
    pol->require_signed = 0;
    EXPECT_FAIL(p, pol, NULL, unsigned_token(p, "None", ""), R_SIG);
    EXPECT_FAIL(p, pol, NULL, unsigned_token(p, "NONE", ""), R_SIG);
    EXPECT_FAIL(p, pol, NULL, unsigned_token(p, "", ""), R_SIG);
}

/* --- key/alg binding (C53, C54, C60-C63) ----------------------------------------------------- */

/* C53: RS256 with only an HMAC key: the key is skipped, never a 5xx. */
static void test_rs256_with_hmac_key_C53(void **state)
{
    apr_pool_t *p = POOL;
    signer_t rs = PK("RS256", g_rsa_a);
    vjwt_policy_t *pol = pol_keys(p, keys_of(p, key_secret(p, S1, 32, NULL), NULL));
    EXPECT_FAIL(p, pol, NULL, jws(p, &rs, hdr_alg(p, "RS256"), pl_good(p)), R_NOKEY);
    EXPECT_FAIL(p, pol, NULL, jws(p, &rs, hdr_kid(p, "RS256", "k"), pl_good(p)), R_NOKEY);
}

/* C54: HS256 keyed with the RSA public key's PEM or DER bytes. */
static void test_hs256_with_rsa_pubkey_bytes_C54(void **state)
{
    apr_pool_t *p = POOL;
    apr_size_t pem_len, der_len;
    const char *pem = pem_of(p, g_rsa_a, &pem_len);
    const unsigned char *der = der_of(p, g_rsa_a, &der_len);
    signer_t s_pem = HSx("HS256", (const unsigned char *)pem, pem_len);
    signer_t s_der = HSx("HS256", der, der_len);
    vjwt_policy_t *pol = pol_keys(p, keys_of(p, key_pem(p, g_rsa_a, NULL), NULL));
    vjwt_policy_t *pol_d = pol_keys(p, keys_of(p, key_der(p, g_rsa_a, "k"), NULL));

    EXPECT_FAIL(p, pol, NULL, jws(p, &s_pem, hdr_alg(p, "HS256"), pl_good(p)), R_NOKEY);
    EXPECT_FAIL(p, pol, NULL, jws(p, &s_der, hdr_alg(p, "HS256"), pl_good(p)), R_NOKEY);
    /* kid "k" names the RSA key: bound to it, which cannot verify HS256 */
    EXPECT_FAIL(p, pol_d, NULL, jws(p, &s_der, hdr_kid(p, "HS256", "k"), pl_good(p)), R_SIG);
    /* the same key verifies real RS256 tokens */
    {
        signer_t rs = PK("RS256", g_rsa_a);
        EXPECT_OK(p, pol, NULL, jws(p, &rs, hdr_alg(p, "RS256"), pl_good(p)));
        EXPECT_OK(p, pol_d, NULL, jws(p, &rs, hdr_alg(p, "RS256"), pl_good(p)));
    }
}

/* C60: ES256 is never verified with a P-384 key; ES384 never with P-256. */
static void test_ec_curve_binding_C60(void **state)
{
    apr_pool_t *p = POOL;
    signer_t es256 = PK("ES256", g_ec256_a);
    signer_t es384 = PK("ES384", g_ec384);
    vjwt_policy_t *only384 = pol_keys(p, keys_of(p, key_pem(p, g_ec384, NULL), NULL));
    vjwt_policy_t *only256 = pol_keys(p, keys_of(p, key_pem(p, g_ec256_a, NULL), NULL));
    vjwt_policy_t *both =
        pol_keys(p, keys_of(p, key_pem(p, g_ec384, NULL), key_pem(p, g_ec256_a, NULL), NULL));

    EXPECT_FAIL(p, only384, NULL, jws(p, &es256, hdr_alg(p, "ES256"), pl_good(p)), R_NOKEY);
    EXPECT_FAIL(p, only256, NULL, jws(p, &es384, hdr_alg(p, "ES384"), pl_good(p)), R_NOKEY);
    EXPECT_OK(p, both, NULL, jws(p, &es256, hdr_alg(p, "ES256"), pl_good(p)));
    EXPECT_OK(p, both, NULL, jws(p, &es384, hdr_alg(p, "ES384"), pl_good(p)));
}

/* C61: RSA under 2048 bits. */
static void test_rsa_1024_floor_C61(void **state)
{
    apr_pool_t *p = POOL;
    signer_t rs = PK("RS256", g_rsa_1024);
    vjwt_policy_t *pol = pol_keys(p, keys_of(p, key_pem(p, g_rsa_1024, NULL), NULL));
    const char *tok = jws(p, &rs, hdr_alg(p, "RS256"), pl_good(p));

    EXPECT_FAIL(p, pol, NULL, tok, R_NOKEY);
    pol->min_rsa_bits = 1024;
    EXPECT_OK(p, pol, NULL, tok);
    pol->min_rsa_bits = 2048;
    EXPECT_FAIL(p, pol, NULL, tok, R_NOKEY);
    /* with n/e too */
    pol = pol_keys(p, keys_of(p, key_ne(p, g_rsa_1024, NULL), NULL));
    EXPECT_FAIL(p, pol, NULL, tok, R_NOKEY);
    pol->min_rsa_bits = 1024;
    EXPECT_OK(p, pol, NULL, tok);
}

/* C62: the secret must be at least the hash length. */
static void test_hmac_secret_length_C62(void **state)
{
    apr_pool_t *p = POOL;
    signer_t hs256 = HSx("HS256", S1, 32);
    signer_t hs384 = HSx("HS384", S1, 32);
    signer_t hs512 = HSx("HS512", S1, 32);
    signer_t hs512_64 = HSx("HS512", S1, 64);
    signer_t hs256_64 = HSx("HS256", S1, 64);
    signer_t hs256_31 = HSx("HS256", S1, 31);
    vjwt_policy_t *k32 = pol_keys(p, keys_of(p, key_secret(p, S1, 32, NULL), NULL));
    vjwt_policy_t *k64 = pol_keys(p, keys_of(p, key_secret(p, S1, 64, NULL), NULL));
    vjwt_policy_t *k31 = pol_keys(p, keys_of(p, key_secret(p, S1, 31, NULL), NULL));

    EXPECT_OK(p, k32, NULL, jws(p, &hs256, hdr_alg(p, "HS256"), pl_good(p)));
    EXPECT_FAIL(p, k32, NULL, jws(p, &hs384, hdr_alg(p, "HS384"), pl_good(p)), R_NOKEY);
    EXPECT_FAIL(p, k32, NULL, jws(p, &hs512, hdr_alg(p, "HS512"), pl_good(p)), R_NOKEY);
    EXPECT_OK(p, k64, NULL, jws(p, &hs512_64, hdr_alg(p, "HS512"), pl_good(p)));
    EXPECT_OK(p, k64, NULL, jws(p, &hs256_64, hdr_alg(p, "HS256"), pl_good(p)));
    EXPECT_FAIL(p, k31, NULL, jws(p, &hs256_31, hdr_alg(p, "HS256"), pl_good(p)), R_NOKEY);
}

/* C63: algorithms outside the allowlist. */
static void test_alg_not_allowed_C63(void **state)
{
    apr_pool_t *p = POOL;
    signer_t hs = HSx("HS256", S1, 32);
    signer_t hs48 = HSx("HS256", S1, 48);
    signer_t hs384 = HSx("HS384", S1, 48);
    signer_t rs = PK("RS256", g_rsa_a);
    vjwt_policy_t *pol =
        pol_keys(p, keys_of(p, key_secret(p, S1, 48, NULL), key_pem(p, g_rsa_a, NULL), NULL));

    EXPECT_FAIL(p, pol, NULL, jws(p, &hs, hdr_alg(p, "HS1"), pl_good(p)), R_SIG);
    EXPECT_FAIL(p, pol, NULL, jws(p, &hs, hdr_alg(p, "hs256"), pl_good(p)), R_SIG);
    EXPECT_FAIL(p, pol, NULL, jws(p, &rs, hdr_alg(p, "RS1"), pl_good(p)), R_SIG);
    EXPECT_FAIL(p, pol, NULL, jws(p, &rs, hdr_alg(p, "rs256"), pl_good(p)), R_SIG);
    EXPECT_FAIL(p, pol, NULL, jws(p, &hs, hdr_alg(p, "ES256K"), pl_good(p)), R_SIG);
    EXPECT_FAIL(p, pol, NULL, jws(p, &hs, hdr_alg(p, "HS256 "), pl_good(p)), R_SIG);
    /* an unknown alg fails as SignatureInvalid even with no keys (allowlist before keys) */
    EXPECT_FAIL(p, vjwt_policy_make(p), NULL, jws(p, &hs, hdr_alg(p, "HS1"), pl_good(p)), R_SIG);

    /* a narrowed allowlist */
    pol->alg_mask = vjwt_alg_lookup("HS256")->bit;
    EXPECT_OK(p, pol, NULL, jws(p, &hs48, hdr_alg(p, "HS256"), pl_good(p)));
    EXPECT_FAIL(p, pol, NULL, jws(p, &hs384, hdr_alg(p, "HS384"), pl_good(p)), R_SIG);
    EXPECT_FAIL(p, pol, NULL, jws(p, &rs, hdr_alg(p, "RS256"), pl_good(p)), R_SIG);
    pol->alg_mask = vjwt_alg_lookup("HS256")->bit | vjwt_alg_lookup("HS384")->bit;
    EXPECT_OK(p, pol, NULL, jws(p, &hs384, hdr_alg(p, "HS384"), pl_good(p)));
}

/* C64: a key carried in the token header is never used. */
static void test_embedded_jwk_ignored_C64(void **state)
{
    apr_pool_t *p = POOL;
    signer_t evil = PK("RS256", g_rsa_b);
    const char *hdr = apr_psprintf(
        p, "{\"alg\":\"RS256\",\"jwk\":{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\"}}",
        bn_b64url(p, g_rsa_b, OSSL_PKEY_PARAM_RSA_N), bn_b64url(p, g_rsa_b, OSSL_PKEY_PARAM_RSA_E));
    const char *hdr_jku = "{\"alg\":\"RS256\",\"kid\":\"evil\","
                          "\"jku\":\"https://evil.example/jwks.json\","
                          "\"x5u\":\"https://evil.example/cert.pem\"}";
    const char *tok = jws(p, &evil, hdr, pl_good(p));

    EXPECT_FAIL(p, pol_keys(p, keys_of(p, key_pem(p, g_rsa_a, NULL), NULL)), NULL, tok, R_SIG);
    EXPECT_FAIL(p, vjwt_policy_make(p), NULL, tok, R_NOKEY);
    EXPECT_FAIL(p, pol_keys(p, keys_of(p, key_pem(p, g_rsa_a, NULL), NULL)), NULL,
                jws(p, &evil, hdr_jku, pl_good(p)), R_NOKEY);
}

/* JWK "alg" pins a key to one algorithm (docs/conformance.md#key-choice, C78). */
static void test_key_alg_pin(void **state)
{
    apr_pool_t *p = POOL;
    signer_t rs = PK("RS256", g_rsa_a);
    signer_t ps = PK("PS256", g_rsa_a);
    vjwt_key_t *k = key_pem(p, g_rsa_a, NULL);
    vjwt_policy_t *pol = pol_keys(p, keys_of(p, k, NULL));
    k->alg = "RS256";
    EXPECT_OK(p, pol, NULL, jws(p, &rs, hdr_alg(p, "RS256"), pl_good(p)));
    EXPECT_FAIL(p, pol, NULL, jws(p, &ps, hdr_alg(p, "PS256"), pl_good(p)), R_NOKEY);
}

/* --- RSA (C55, C56) ------------------------------------------------------------------------ */

/* C55: n/e keys. */
static void test_rs256_ne_C55(void **state)
{
    apr_pool_t *p = POOL;
    signer_t rs = PK("RS256", g_rsa_a);
    const char *tok = jws(p, &rs, hdr_alg(p, "RS256"), pl_good(p));
    EXPECT_OK(p, pol_keys(p, keys_of(p, key_ne(p, g_rsa_a, NULL), NULL)), NULL, tok);
    EXPECT_FAIL(p, pol_keys(p, keys_of(p, key_ne(p, g_rsa_b, NULL), NULL)), NULL, tok, R_SIG);
    EXPECT_OK(p, pol_keys(p, keys_of(p, key_ne(p, g_rsa_b, NULL), key_ne(p, g_rsa_a, NULL), NULL)),
              NULL, tok);
}

/* C56: RS384/RS512/PS256/PS384/PS512; PSS salt must equal the hash length. */
static void test_rsa_algs_C56(void **state)
{
    apr_pool_t *p = POOL;
    static const char *algs[] = {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"};
    vjwt_policy_t *pol = pol_keys(p, keys_of(p, key_pem(p, g_rsa_a, NULL), NULL));
    vjwt_policy_t *wrong = pol_keys(p, keys_of(p, key_pem(p, g_rsa_b, NULL), NULL));
    apr_size_t i;

    for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        signer_t s = PK(algs[i], g_rsa_a);
        signer_t f = FL(PK(algs[i], g_rsa_a), SIG_FLIP);
        const char *tok = jws(p, &s, hdr_alg(p, algs[i]), pl_good(p));
        EXPECT_OK(p, pol, NULL, tok);
        EXPECT_FAIL(p, wrong, NULL, tok, R_SIG);
        EXPECT_FAIL(p, pol, NULL, jws(p, &f, hdr_alg(p, algs[i]), pl_good(p)), R_SIG);
    }
    {
        signer_t salt20 = FL(PK("PS256", g_rsa_a), SIG_SALT20);
        signer_t rs = PK("RS256", g_rsa_a);
        signer_t ps = PK("PS256", g_rsa_a);
        signer_t rs384 = PK("RS384", g_rsa_a);
        EXPECT_FAIL(p, pol, NULL, jws(p, &salt20, hdr_alg(p, "PS256"), pl_good(p)), R_SIG);
        /* a signature of one scheme or hash presented as another */
        EXPECT_FAIL(p, pol, NULL, jws(p, &rs, hdr_alg(p, "PS256"), pl_good(p)), R_SIG);
        EXPECT_FAIL(p, pol, NULL, jws(p, &ps, hdr_alg(p, "RS256"), pl_good(p)), R_SIG);
        EXPECT_FAIL(p, pol, NULL, jws(p, &rs384, hdr_alg(p, "RS256"), pl_good(p)), R_SIG);
    }
}

/* --- ECDSA (C57-C59) and EdDSA -------------------------------------------------------------- */

/* C57: raw R||S passes; ES384 and ES512 too. */
static void test_ecdsa_raw_C57(void **state)
{
    apr_pool_t *p = POOL;
    signer_t es256 = PK("ES256", g_ec256_a);
    signer_t es384 = PK("ES384", g_ec384);
    signer_t es512 = PK("ES512", g_ec521);
    vjwt_policy_t *pol =
        pol_keys(p, keys_of(p, key_pem(p, g_ec256_a, NULL), key_pem(p, g_ec384, NULL),
                            key_der(p, g_ec521, NULL), NULL));
    const char *t = jws(p, &es256, hdr_alg(p, "ES256"), pl_good(p));
    vjwt_token_t *out = EXPECT_OK(p, pol, NULL, t);
    assert_int_equal(out->sig_len, 64);
    out = EXPECT_OK(p, pol, NULL, jws(p, &es384, hdr_alg(p, "ES384"), pl_good(p)));
    assert_int_equal(out->sig_len, 96);
    out = EXPECT_OK(p, pol, NULL, jws(p, &es512, hdr_alg(p, "ES512"), pl_good(p)));
    assert_int_equal(out->sig_len, 132);
    /* another P-256 key doesn't verify */
    EXPECT_FAIL(p, pol_keys(p, keys_of(p, key_pem(p, g_ec256_b, NULL), NULL)), NULL, t, R_SIG);
}

/* C58: DER signatures are not JWS signatures. */
static void test_ecdsa_der_C58(void **state)
{
    apr_pool_t *p = POOL;
    signer_t der256 = FL(PK("ES256", g_ec256_a), SIG_DER);
    signer_t der384 = FL(PK("ES384", g_ec384), SIG_DER);
    vjwt_policy_t *pol =
        pol_keys(p, keys_of(p, key_pem(p, g_ec256_a, NULL), key_pem(p, g_ec384, NULL), NULL));
    EXPECT_FAIL(p, pol, NULL, jws(p, &der256, hdr_alg(p, "ES256"), pl_good(p)), R_SIG);
    EXPECT_FAIL(p, pol, NULL, jws(p, &der384, hdr_alg(p, "ES384"), pl_good(p)), R_SIG);
}

/* C59: r = 0, s = 0, all zero, r = n; wrong lengths. */
static void test_ecdsa_zero_and_range_C59(void **state)
{
    apr_pool_t *p = POOL;
    signer_t es = PK("ES256", g_ec256_a);
    vjwt_policy_t *pol = pol_keys(p, keys_of(p, key_pem(p, g_ec256_a, NULL), NULL));
    const char *tok = jws(p, &es, hdr_alg(p, "ES256"), pl_good(p));
    vjwt_token_t *t = EXPECT_OK(p, pol, NULL, tok);
    unsigned char sig[64], zero[64], longer[65];
    unsigned char *n_bytes;
    apr_size_t n_len;

    memset(zero, 0, sizeof(zero));
    EXPECT_FAIL(p, pol, NULL, with_sig(p, tok, zero, 64), R_SIG);

    memcpy(sig, t->sig, 64);
    memset(sig, 0, 32); /* r = 0 */
    EXPECT_FAIL(p, pol, NULL, with_sig(p, tok, sig, 64), R_SIG);

    memcpy(sig, t->sig, 64);
    memset(sig + 32, 0, 32); /* s = 0 */
    EXPECT_FAIL(p, pol, NULL, with_sig(p, tok, sig, 64), R_SIG);

    /* r = n (the P-256 group order) */
    assert_int_equal(vjwt_test_hex(p,
                                   "FFFFFFFF00000000FFFFFFFFFFFFFFFF"
                                   "BCE6FAADA7179E84F3B9CAC2FC632551",
                                   &n_bytes, &n_len),
                     0);
    memcpy(sig, n_bytes, 32);
    memcpy(sig + 32, t->sig + 32, 32);
    EXPECT_FAIL(p, pol, NULL, with_sig(p, tok, sig, 64), R_SIG);
    /* s = n */
    memcpy(sig, t->sig, 32);
    memcpy(sig + 32, n_bytes, 32);
    EXPECT_FAIL(p, pol, NULL, with_sig(p, tok, sig, 64), R_SIG);

    /* 63 and 65 bytes */
    EXPECT_FAIL(p, pol, NULL, with_sig(p, tok, t->sig, 63), R_SIG);
    memcpy(longer, t->sig, 64);
    longer[64] = 0;
    EXPECT_FAIL(p, pol, NULL, with_sig(p, tok, longer, 65), R_SIG);
    /* r and s swapped */
    memcpy(sig, t->sig + 32, 32);
    memcpy(sig + 32, t->sig, 32);
    EXPECT_FAIL(p, pol, NULL, with_sig(p, tok, sig, 64), R_SIG);
}

static void test_eddsa(void **state)
{
    apr_pool_t *p = POOL;
    signer_t ed = PK("EdDSA", g_ed_a);
    signer_t edf = FL(PK("EdDSA", g_ed_a), SIG_FLIP);
    vjwt_policy_t *pol = pol_keys(p, keys_of(p, key_pem(p, g_ed_a, NULL), NULL));
    const char *tok = jws(p, &ed, hdr_alg(p, "EdDSA"), pl_good(p));

    EXPECT_OK(p, pol, NULL, tok);
    EXPECT_FAIL(p, pol, NULL, jws(p, &edf, hdr_alg(p, "EdDSA"), pl_good(p)), R_SIG);
    EXPECT_FAIL(p, pol_keys(p, keys_of(p, key_pem(p, g_ed_b, NULL), NULL)), NULL, tok, R_SIG);
    /* EdDSA with only EC/RSA keys: nothing compatible */
    EXPECT_FAIL(
        p, pol_keys(p, keys_of(p, key_pem(p, g_ec256_a, NULL), key_pem(p, g_rsa_a, NULL), NULL)),
        NULL, tok, R_NOKEY);
    /* an Ed25519 key never verifies ES256 */
    {
        signer_t es = PK("ES256", g_ec256_a);
        EXPECT_FAIL(p, pol, NULL, jws(p, &es, hdr_alg(p, "ES256"), pl_good(p)), R_NOKEY);
    }
}

/* Mixed key set: each token finds its own key. */
static void test_mixed_key_set(void **state)
{
    apr_pool_t *p = POOL;
    signer_t hs = HSx("HS256", S1, 32);
    signer_t rs = PK("RS256", g_rsa_a);
    signer_t es = PK("ES256", g_ec256_a);
    signer_t ed = PK("EdDSA", g_ed_a);
    vjwt_policy_t *pol =
        pol_keys(p, keys_of(p, key_pem(p, g_ed_a, "ed"), key_pem(p, g_ec256_a, "ec"),
                            key_ne(p, g_rsa_a, "rsa"), key_secret(p, S1, 32, "hs"), NULL));
    EXPECT_OK(p, pol, NULL, jws(p, &hs, hdr_alg(p, "HS256"), pl_good(p)));
    EXPECT_OK(p, pol, NULL, jws(p, &rs, hdr_alg(p, "RS256"), pl_good(p)));
    EXPECT_OK(p, pol, NULL, jws(p, &es, hdr_kid(p, "ES256", "ec"), pl_good(p)));
    EXPECT_OK(p, pol, NULL, jws(p, &ed, hdr_kid(p, "EdDSA", "nope"), pl_good(p)));
    /* kid "rsa" names only an incompatible key: bound to it all the same, no other key is
     * tried */
    EXPECT_FAIL(p, pol, NULL, jws(p, &es, hdr_kid(p, "ES256", "rsa"), pl_good(p)), R_SIG);
}

/* --- lifetime through the pipeline (C82-C92) ------------------------------------------------- */

static const char *hs_token(apr_pool_t *p, const char *payload)
{
    signer_t s = HSx("HS256", S1, 32);
    return jws(p, &s, hdr_alg(p, "HS256"), payload);
}

static vjwt_policy_t *hs_policy(apr_pool_t *p)
{
    return pol_keys(p, keys_of(p, key_secret(p, S1, 32, NULL), NULL));
}

static void test_lifetime_policy_C82_to_C91(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_policy_t *pol = hs_policy(p);
    vjwt_verdict_t v;

    /* C82, C83, C84 */
    EXPECT_FAIL(p, pol, NULL, hs_token(p, "{\"sub\":\"u\"}"), R_INVALID);
    pol->require_exp = 0;
    EXPECT_OK(p, pol, NULL, hs_token(p, "{\"sub\":\"u\"}"));
    EXPECT_FAIL(p, pol, NULL, hs_token(p, apr_psprintf(p, "{\"exp\":%.0f}", NOW - 10)), R_EXPIRED);
    pol->require_exp = VJWT_UNSET;
    /* C85, C86 */
    EXPECT_FAIL(p, pol, NULL, hs_token(p, apr_psprintf(p, "{\"exp\":%.0f}", NOW - 10)), R_EXPIRED);
    pol->clock_skew = 60;
    EXPECT_OK(p, pol, NULL, hs_token(p, apr_psprintf(p, "{\"exp\":%.0f}", NOW - 10)));
    /* C87, C88 */
    pol->clock_skew = 0;
    EXPECT_FAIL(p, pol, NULL,
                hs_token(p, apr_psprintf(p, "{\"exp\":%.0f,\"nbf\":%.0f}", NOW + 3600, NOW + 30)),
                R_INVALID);
    pol->clock_skew = 60;
    EXPECT_OK(p, pol, NULL,
              hs_token(p, apr_psprintf(p, "{\"exp\":%.0f,\"nbf\":%.0f}", NOW + 3600, NOW + 30)));
    pol->clock_skew = VJWT_UNSET;
    /* C89 */
    EXPECT_OK(p, pol, NULL, hs_token(p, apr_psprintf(p, "{\"exp\":%.1f}", NOW + 100.5)));
    EXPECT_FAIL(p, pol, NULL, hs_token(p, apr_psprintf(p, "{\"exp\":%.1f}", NOW - 0.5)), R_EXPIRED);
    /* C90 */
    EXPECT_OK(p, pol, NULL,
              hs_token(p, apr_psprintf(p, "{\"exp\":%.0f,\"iat\":%.0f}", NOW + 3600, NOW + 999)));
    /* C91 */
    EXPECT_FAIL(p, pol, NULL,
                hs_token(p, apr_psprintf(p, "{\"exp\":%.0f,\"nbf\":%.0f}", NOW + 100, NOW + 150)),
                R_INVALID);
    /* now is an argument: the same token at another time */
    {
        const char *tok = hs_token(p, apr_psprintf(p, "{\"exp\":%.0f}", NOW + 100));
        assert_int_equal(run_(p, pol, NULL, tok, NOW + 99, NULL, &v), APR_SUCCESS);
        assert_true(run_(p, pol, NULL, tok, NOW + 101, NULL, &v) != APR_SUCCESS);
        assert_int_equal(v.reason, R_EXPIRED);
    }
}

/* C92: an expired token with a bad signature: the signature fails first. */
static void test_expired_bad_sig_C92(void **state)
{
    apr_pool_t *p = POOL;
    signer_t bad = FL(HSx("HS256", S1, 32), SIG_FLIP);
    EXPECT_FAIL(p, hs_policy(p), NULL,
                jws(p, &bad, hdr_alg(p, "HS256"), apr_psprintf(p, "{\"exp\":%.0f}", NOW - 10)),
                R_SIG);
}

/* C38 end to end, and the registered-claim types. */
static void test_claim_types_C38(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_policy_t *pol = hs_policy(p);
    EXPECT_FAIL(p, pol, NULL, hs_token(p, "{\"exp\":\"1800000000\"}"), R_INVALID);
    EXPECT_FAIL(p, pol, NULL, hs_token(p, apr_psprintf(p, "{\"exp\":%.0f,\"iss\":7}", NOW + 60)),
                R_INVALID);
    EXPECT_FAIL(p, pol, NULL, hs_token(p, "{\"exp\":1e300}"), R_INVALID);
}

/* --- audience, issuer, claims through the policy ---------------------------------------------- */

static void test_policy_checks_pass(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_policy_t *pol = hs_policy(p);
    vjwt_token_t *t;
    pol->audiences = strs(p, "api://other", "api://app");
    pol->issuers = strs(p, "https://issuer.example", NULL);
    pol->claims = claims_of(p, claim(p, "sub", 0, "user1"), claim(p, "iat", 0, NULL));
    t = EXPECT_OK(p, pol, NULL, hs_token(p, pl_good(p)));
    assert_string_equal(t->alg, "HS256");
}

/* C96: aud [] with audiences configured: TokenAudienceNotAllowed, not JwtInvalid. */
static void test_audience_empty_array_C96(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_policy_t *pol = hs_policy(p);
    pol->audiences = strs(p, "api://app", NULL);
    EXPECT_FAIL(p, pol, NULL, hs_token(p, apr_psprintf(p, "{\"aud\":[],\"exp\":%.0f}", NOW + 60)),
                R_AUD);
    EXPECT_FAIL(p, pol, NULL, hs_token(p, apr_psprintf(p, "{\"exp\":%.0f}", NOW + 60)), R_AUD);
}

/* C99 through the policy switch. */
static void test_audience_trailing_slash_policy_C99(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_policy_t *pol = hs_policy(p);
    const char *tok = hs_token(
        p, apr_psprintf(p, "{\"aud\":\"https://api.example.com/\",\"exp\":%.0f}", NOW + 60));
    pol->audiences = strs(p, "https://api.example.com", NULL);
    EXPECT_OK(p, pol, NULL, tok);
    pol->aud_ignore_trailing_slash = 0;
    EXPECT_FAIL(p, pol, NULL, tok, R_AUD);
    pol->aud_ignore_trailing_slash = 1;
    EXPECT_OK(p, pol, NULL, tok);
}

/* C105 through the policy. */
static void test_required_claims_policy_C105(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_policy_t *pol = hs_policy(p);
    vjwt_verdict_t v;
    const char *tok = hs_token(p, pl_good(p));
    pol->claims = claims_of(p, claim(p, "roles_x", 1, "a"), claim(p, "tid_x", 0, NULL));
    EXPECT_FAIL(p, pol, NULL, tok, R_NOCLAIM);
    run_(p, pol, NULL, tok, NOW, NULL, &v);
    assert_non_null(strstr(v.detail, "roles_x"));
    assert_non_null(strstr(v.detail, "tid_x"));
    assert_true(strstr(v.detail, "roles_x") < strstr(v.detail, "tid_x"));
    pol->claims = claims_of(p, claim(p, "sub", 0, "user2"), NULL);
    EXPECT_FAIL(p, pol, NULL, tok, R_BADCLAIM);
}

/* --- docs/conformance.md#pipeline: the order of the steps -----------------------------------
 */

/* Step 1 belongs to the caller; steps 2-3: structure before anything else (C30, C31). */
static void test_order_structure_first(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_policy_t *pol = hs_policy(p);
    const char *good = hs_token(p, pl_good(p));
    vjwt_policy_t *none = vjwt_policy_make(p);

    EXPECT_FAIL(p, pol, NULL, apr_pstrcat(p, good, ".", strrchr(good, '.') + 1, NULL), R_INVALID);
    EXPECT_FAIL(p, pol, NULL, apr_pstrcat(p, good, ".AAAA.AAAA", NULL), R_INVALID); /* JWE */
    EXPECT_FAIL(p, none, NULL, apr_pstrcat(p, good, ".AAAA.AAAA", NULL), R_INVALID);
    EXPECT_FAIL(p, none, NULL, "not-a-token", R_INVALID);
    EXPECT_FAIL(p, pol, NULL, apr_pstrcat(p, "Bearer ", good, NULL), R_INVALID); /* C24 */
    /* C30: the cap of the policy */
    pol->max_token_len = 64;
    EXPECT_FAIL(p, pol, NULL, good, R_INVALID);
    pol->max_token_len = (int)strlen(good);
    EXPECT_OK(p, pol, NULL, good);
}

/* C30: the default cap. */
static void test_order_default_cap_C30(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_policy_t *pol = hs_policy(p);
    char *fill = apr_palloc(p, 20001);
    memset(fill, 'x', 20000);
    fill[20000] = 0;
    EXPECT_FAIL(p, pol, NULL,
                hs_token(p, apr_psprintf(p, "{\"exp\":%.0f,\"pad\":\"%s\"}", NOW + 60, fill)),
                R_INVALID);
}

/* Steps 3, 5, 6 before 7 and 8: header and payload problems beat a bad signature. */
static void test_order_header_payload_before_signature(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_policy_t *pol = hs_policy(p);
    signer_t bad = FL(HSx("HS256", S1, 32), SIG_FLIP);
    signer_t good = HSx("HS256", S1, 32);

    /* C34 */
    EXPECT_FAIL(p, pol, NULL, jws(p, &bad, "{\"typ\":\"JWT\"}", pl_good(p)), R_INVALID);
    EXPECT_FAIL(p, vjwt_policy_make(p), NULL, jws(p, &good, "{\"typ\":\"JWT\"}", pl_good(p)),
                R_INVALID);
    /* C36 */
    EXPECT_FAIL(p, pol, NULL,
                jws(p, &good, "{\"alg\":\"HS256\",\"crit\":[\"foo\"],\"foo\":1}", pl_good(p)),
                R_INVALID);
    EXPECT_FAIL(p, pol, NULL, jws(p, &bad, "{\"alg\":\"HS256\",\"crit\":[]}", pl_good(p)),
                R_INVALID);
    /* C37 */
    EXPECT_OK(p, pol, NULL, jws(p, &good, "{\"alg\":\"HS256\",\"foo\":1}", pl_good(p)));
    /* step 6: payload not a JSON object, even when correctly signed */
    EXPECT_FAIL(p, pol, NULL, jws(p, &good, hdr_alg(p, "HS256"), "[1,2]"), R_INVALID);
    EXPECT_FAIL(p, pol, NULL, jws(p, &bad, hdr_alg(p, "HS256"), "not json"), R_INVALID);
    /* C35 in the payload */
    EXPECT_FAIL(p, pol, NULL,
                jws(p, &good, hdr_alg(p, "HS256"),
                    apr_psprintf(p, "{\"exp\":%.0f,\"sub\":\"a\",\"sub\":\"b\"}", NOW + 60)),
                R_INVALID);
    /* step 5 before 7: alg none with crit */
    {
        vjwt_policy_t *uns = vjwt_policy_make(p);
        uns->require_signed = 0;
        EXPECT_FAIL(p, uns, NULL,
                    apr_pstrcat(p, b64u(p, "{\"alg\":\"none\",\"crit\":\"x\"}"), ".",
                                b64u(p, pl_good(p)), ".", NULL),
                    R_INVALID);
    }
}

/* Step 8 before 9-13: a bad signature beats every claim problem. */
static void test_order_signature_before_claims(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_policy_t *pol = hs_policy(p);
    signer_t bad = FL(HSx("HS256", S1, 32), SIG_FLIP);
    pol->audiences = strs(p, "api://x", NULL);
    pol->issuers = strs(p, "https://x", NULL);
    pol->claims = claims_of(p, claim(p, "missing", 0, NULL), NULL);
    EXPECT_FAIL(p, pol, NULL, jws(p, &bad, hdr_alg(p, "HS256"), "{\"exp\":\"soon\"}"), R_SIG);
    EXPECT_FAIL(p, pol, NULL, jws(p, &bad, hdr_alg(p, "HS256"), "{}"), R_SIG);
    EXPECT_FAIL(p, pol, NULL,
                jws(p, &bad, hdr_alg(p, "HS256"),
                    apr_psprintf(p, "{\"exp\":%.0f,\"aud\":\"no\",\"iss\":\"no\"}", NOW + 60)),
                R_SIG);
}

/* Step 9 before 10 and 11. */
static void test_order_types_before_lifetime(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_policy_t *pol = hs_policy(p);
    pol->audiences = strs(p, "api://x", NULL);
    EXPECT_FAIL(p, pol, NULL, hs_token(p, apr_psprintf(p, "{\"exp\":%.0f,\"aud\":42}", NOW - 100)),
                R_INVALID);
    EXPECT_FAIL(p, pol, NULL,
                hs_token(p, apr_psprintf(p, "{\"exp\":%.0f,\"nbf\":\"x\"}", NOW - 100)), R_INVALID);
}

/* Step 10 before 11: lifetime beats audience. */
static void test_order_lifetime_before_audience(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_policy_t *pol = hs_policy(p);
    pol->audiences = strs(p, "api://x", NULL);
    pol->issuers = strs(p, "https://x", NULL);
    EXPECT_FAIL(
        p, pol, NULL,
        hs_token(p, apr_psprintf(p, "{\"exp\":%.0f,\"aud\":\"no\",\"iss\":\"no\"}", NOW - 10)),
        R_EXPIRED);
    EXPECT_FAIL(p, pol, NULL,
                hs_token(p, apr_psprintf(p, "{\"exp\":%.0f,\"nbf\":%.0f,\"aud\":\"no\"}",
                                         NOW + 3600, NOW + 30)),
                R_INVALID);
    EXPECT_FAIL(p, pol, NULL, hs_token(p, "{\"aud\":\"no\"}"), R_INVALID);
}

/* C104: audience before issuer. */
static void test_order_audience_before_issuer_C104(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_policy_t *pol = hs_policy(p);
    pol->audiences = strs(p, "api://x", NULL);
    pol->issuers = strs(p, "https://x", NULL);
    EXPECT_FAIL(
        p, pol, NULL,
        hs_token(p, apr_psprintf(p, "{\"exp\":%.0f,\"aud\":\"no\",\"iss\":\"no\"}", NOW + 60)),
        R_AUD);
    EXPECT_FAIL(
        p, pol, NULL,
        hs_token(p, apr_psprintf(p, "{\"exp\":%.0f,\"aud\":\"api://x\",\"iss\":\"no\"}", NOW + 60)),
        R_ISS);
}

/* C120: audience before required claims; issuer before required claims. */
static void test_order_claims_last_C120(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_policy_t *pol = hs_policy(p);
    pol->audiences = strs(p, "api://x", NULL);
    pol->claims = claims_of(p, claim(p, "role", 0, "admin"), NULL);
    EXPECT_FAIL(p, pol, NULL,
                hs_token(p, apr_psprintf(p, "{\"exp\":%.0f,\"aud\":\"no\"}", NOW + 60)), R_AUD);
    pol->audiences = NULL;
    pol->issuers = strs(p, "https://x", NULL);
    EXPECT_FAIL(
        p, pol, NULL,
        hs_token(p, apr_psprintf(p, "{\"exp\":%.0f,\"iss\":\"no\",\"role\":\"user\"}", NOW + 60)),
        R_ISS);
    pol->issuers = NULL;
    EXPECT_FAIL(p, pol, NULL,
                hs_token(p, apr_psprintf(p, "{\"exp\":%.0f,\"role\":\"user\"}", NOW + 60)),
                R_BADCLAIM);
    EXPECT_FAIL(p, pol, NULL, hs_token(p, apr_psprintf(p, "{\"exp\":%.0f}", NOW + 60)), R_NOCLAIM);
    EXPECT_OK(p, pol, NULL,
              hs_token(p, apr_psprintf(p, "{\"exp\":%.0f,\"role\":[\"admin\"]}", NOW + 60)));
}

/* Step 7 before 8: alg none is refused before key selection, even with no keys. */
static void test_order_none_before_keys(void **state)
{
    apr_pool_t *p = POOL;
    EXPECT_FAIL(p, vjwt_policy_make(p), NULL, unsigned_token(p, "none", ""), R_SIG);
    EXPECT_FAIL(p, vjwt_policy_make(p), NULL, unsigned_token(p, "none", "AAAA"), R_SIG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, vjwt_test_pool_setup, vjwt_test_pool_teardown)
        T(test_hs256_ok_C39),
        T(test_hs_bit_flip_C40),
        T(test_payload_changed_C41),
        T(test_signing_input_as_received_C65),
        T(test_rollover_C42),
        T(test_kid_match_only_C43),
        T(test_kid_no_match_fallback_C44),
        T(test_kid_no_match_no_verify_C45),
        T(test_no_kid_no_verify_C46),
        T(test_no_keys_C47),
        T(test_kid_case_sensitive_C48),
        T(test_kid_idless_keys_not_in_match),
        T(test_kid_shared_step5),
        T(test_kid_match_only_among_compatible),
        T(test_kid_names_other_type_no_fallback),
        T(test_issuer_binds_discovery_keys),
        T(test_signature_stage_direct),
        T(test_none_rejected_by_default_C49),
        T(test_none_allowed_C50),
        T(test_none_with_signature_C51),
        T(test_unsigned_allowed_signed_still_verified_C52),
        T(test_none_spelling),
        T(test_rs256_with_hmac_key_C53),
        T(test_hs256_with_rsa_pubkey_bytes_C54),
        T(test_ec_curve_binding_C60),
        T(test_rsa_1024_floor_C61),
        T(test_hmac_secret_length_C62),
        T(test_alg_not_allowed_C63),
        T(test_embedded_jwk_ignored_C64),
        T(test_key_alg_pin),
        T(test_rs256_ne_C55),
        T(test_rsa_algs_C56),
        T(test_ecdsa_raw_C57),
        T(test_ecdsa_der_C58),
        T(test_ecdsa_zero_and_range_C59),
        T(test_eddsa),
        T(test_mixed_key_set),
        T(test_lifetime_policy_C82_to_C91),
        T(test_expired_bad_sig_C92),
        T(test_claim_types_C38),
        T(test_policy_checks_pass),
        T(test_audience_empty_array_C96),
        T(test_audience_trailing_slash_policy_C99),
        T(test_required_claims_policy_C105),
        T(test_order_structure_first),
        T(test_order_default_cap_C30),
        T(test_order_header_payload_before_signature),
        T(test_order_signature_before_claims),
        T(test_order_types_before_lifetime),
        T(test_order_lifetime_before_audience),
        T(test_order_audience_before_issuer_C104),
        T(test_order_claims_last_C120),
        T(test_order_none_before_keys),
#undef T
    };
    vjwt_test_init();
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
