/*
 * test_jose.c - the algorithm registry, key/alg binding, signature verification for every
 * algorithm (keys generated here with OpenSSL, signatures made with EVP in test code), and
 * the key parsers: JWK, JWKS, PEM/DER, files, n/e, secrets.
 */
#include "testutil.h"
#include "vjwt_b64.h"
#include "vjwt_json.h"
#include "vjwt_jwk.h"
#include "vjwt_jose.h"
#include "vjwt_crypto.h"

#include <stdio.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_file_io.h>
#include <pthread.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

static EVP_PKEY *g_rsa2048, *g_rsa2048b, *g_rsa1024, *g_p256, *g_p384, *g_p521, *g_ed25519;

static const unsigned char MSG[] = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0";
#define MSGLEN (sizeof(MSG) - 1)

static const unsigned char SECRET64[64] =
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde";

/* ---- key generation and signing (test side) ----------------------------------------- */

static int group_setup(void **state)
{
    (void)state;
    g_rsa2048 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    g_rsa2048b = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    g_rsa1024 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    g_p256 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    g_p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    g_p521 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521");
    g_ed25519 = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    return (g_rsa2048 && g_rsa2048b && g_rsa1024 && g_p256 && g_p384 && g_p521 && g_ed25519) ? 0
                                                                                             : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    EVP_PKEY_free(g_rsa2048);
    EVP_PKEY_free(g_rsa2048b);
    EVP_PKEY_free(g_rsa1024);
    EVP_PKEY_free(g_p256);
    EVP_PKEY_free(g_p384);
    EVP_PKEY_free(g_p521);
    EVP_PKEY_free(g_ed25519);
    return 0;
}

static const EVP_MD *md_of(const vjwt_alg_t *alg)
{
    return alg->hash_bits == 256   ? EVP_sha256()
           : alg->hash_bits == 384 ? EVP_sha384()
           : alg->hash_bits == 512 ? EVP_sha512()
                                   : NULL;
}

/* DER ECDSA / raw RSA / Ed25519 signature with EVP; pss_salt < -2 means the default. */
static unsigned char *evp_sign(apr_pool_t *p, EVP_PKEY *k, const EVP_MD *md, int pss, int pss_salt,
                               const EVP_MD *mgf1, const unsigned char *msg, size_t mlen,
                               size_t *siglen)
{
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    unsigned char *sig = NULL;
    size_t len = 0;
    assert_non_null(mctx);
    assert_int_equal(EVP_DigestSignInit(mctx, &pctx, md, NULL, k), 1);
    if (pss) {
        assert_true(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0);
        assert_true(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, pss_salt) > 0);
        assert_true(EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, mgf1 ? mgf1 : md) > 0);
    }
    assert_int_equal(EVP_DigestSign(mctx, NULL, &len, msg, mlen), 1);
    sig = apr_palloc(p, len);
    assert_int_equal(EVP_DigestSign(mctx, sig, &len, msg, mlen), 1);
    EVP_MD_CTX_free(mctx);
    *siglen = len;
    return sig;
}

/* DER ECDSA-Sig-Value to raw R||S of 2*half octets. */
static unsigned char *der_to_raw(apr_pool_t *p, const unsigned char *der, size_t derlen,
                                 size_t half)
{
    const unsigned char *q = der;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &q, (long)derlen);
    const BIGNUM *r, *s;
    unsigned char *raw = apr_palloc(p, 2 * half);
    assert_non_null(es);
    ECDSA_SIG_get0(es, &r, &s);
    assert_int_equal(BN_bn2binpad(r, raw, (int)half), (int)half);
    assert_int_equal(BN_bn2binpad(s, raw + half, (int)half), (int)half);
    ECDSA_SIG_free(es);
    return raw;
}

/* A JWS signature of msg with alg, as a JWS producer would make it. */
static unsigned char *jws_sign(apr_pool_t *p, const char *alg_name, EVP_PKEY *k,
                               const unsigned char *secret, size_t slen, const unsigned char *msg,
                               size_t mlen, size_t *siglen)
{
    const vjwt_alg_t *alg = vjwt_alg_lookup(alg_name);
    unsigned char *sig;
    assert_non_null(alg);
    switch (alg->family) {
    case VJWT_FAM_HMAC: {
        unsigned char *mac = apr_palloc(p, EVP_MAX_MD_SIZE);
        const char *mdname = alg->hash_bits == 256   ? "SHA256"
                             : alg->hash_bits == 384 ? "SHA384"
                                                     : "SHA512";
        assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, mdname, NULL, secret, slen, msg, mlen, mac,
                                  EVP_MAX_MD_SIZE, siglen));
        return mac;
    }
    case VJWT_FAM_RSA_PKCS1:
        return evp_sign(p, k, md_of(alg), 0, 0, NULL, msg, mlen, siglen);
    case VJWT_FAM_RSA_PSS:
        return evp_sign(p, k, md_of(alg), 1, RSA_PSS_SALTLEN_DIGEST, NULL, msg, mlen, siglen);
    case VJWT_FAM_ECDSA: {
        size_t derlen;
        sig = evp_sign(p, k, md_of(alg), 0, 0, NULL, msg, mlen, &derlen);
        *siglen = alg->sig_len;
        return der_to_raw(p, sig, derlen, alg->sig_len / 2);
    }
    case VJWT_FAM_EDDSA:
        return evp_sign(p, k, NULL, 0, 0, NULL, msg, mlen, siglen);
    }
    return NULL;
}

/* ---- key material as text ----------------------------------------------------------- */

static const char *pem_of(apr_pool_t *p, EVP_PKEY *k)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *data;
    long n;
    const char *s;
    assert_int_equal(PEM_write_bio_PUBKEY(b, k), 1);
    n = BIO_get_mem_data(b, &data);
    s = apr_pstrndup(p, data, (apr_size_t)n);
    BIO_free(b);
    return s;
}

/* The public JWK of k (a new json_t owned by p). */
static json_t *jwk_of(apr_pool_t *p, EVP_PKEY *k)
{
    json_t *j = vjwt_json_own(p, json_object());
    if (EVP_PKEY_is_a(k, "RSA")) {
        json_object_set_new(j, "kty", json_string("RSA"));
        json_object_set_new(j, "n", json_string(bn_b64url(p, k, OSSL_PKEY_PARAM_RSA_N)));
        json_object_set_new(j, "e", json_string(bn_b64url(p, k, OSSL_PKEY_PARAM_RSA_E)));
    }
    else if (EVP_PKEY_is_a(k, "EC")) {
        unsigned char pt[200];
        size_t len = 0, half;
        char group[64];
        const char *crv;
        assert_int_equal(
            EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt), &len), 1);
        assert_int_equal(pt[0], 4);
        half = (len - 1) / 2;
        assert_int_equal(EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group,
                                                        sizeof(group), NULL),
                         1);
        crv = strcmp(group, "prime256v1") == 0  ? "P-256"
              : strcmp(group, "secp384r1") == 0 ? "P-384"
                                                : "P-521";
        json_object_set_new(j, "kty", json_string("EC"));
        json_object_set_new(j, "crv", json_string(crv));
        json_object_set_new(j, "x", json_string(vjwt_b64url_encode(p, pt + 1, half)));
        json_object_set_new(j, "y", json_string(vjwt_b64url_encode(p, pt + 1 + half, half)));
    }
    else {
        unsigned char raw[32];
        size_t len = sizeof(raw);
        assert_int_equal(EVP_PKEY_get_raw_public_key(k, raw, &len), 1);
        json_object_set_new(j, "kty", json_string("OKP"));
        json_object_set_new(j, "crv", json_string("Ed25519"));
        json_object_set_new(j, "x", json_string(vjwt_b64url_encode(p, raw, len)));
    }
    return j;
}

static json_t *jparse(apr_pool_t *p, const char *s)
{
    json_t *j = NULL;
    const char *err = NULL;
    if (vjwt_json_parse(&j, p, s, strlen(s), 1, &err) != APR_SUCCESS) {
        fail_msg("test JSON does not parse: %s: %s", err, s);
    }
    return j;
}

/* A self-signed certificate for k, as standard base64 DER (an x5c entry). */
static const char *cert_b64(apr_pool_t *p, EVP_PKEY *k)
{
    X509 *x = X509_new();
    X509_NAME *name;
    unsigned char *der = NULL;
    char *b64;
    int n;
    assert_non_null(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, k);
    name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"vjwt test", -1, -1,
                               0);
    X509_set_issuer_name(x, name);
    assert_true(X509_sign(x, k, EVP_PKEY_is_a(k, "ED25519") ? NULL : EVP_sha256()) > 0);
    n = i2d_X509(x, &der);
    assert_true(n > 0);
    b64 = apr_palloc(p, (apr_size_t)(4 * ((n + 2) / 3) + 1));
    EVP_EncodeBlock((unsigned char *)b64, der, n);
    OPENSSL_free(der);
    X509_free(x);
    return b64;
}

static const char *cert_pem(apr_pool_t *p, const char *b64)
{
    return apr_pstrcat(p, "-----BEGIN CERTIFICATE-----\n", b64, "\n-----END CERTIFICATE-----\n",
                       NULL);
}

static vjwt_key_t *must_jwk(apr_pool_t *p, json_t *j)
{
    vjwt_key_t *k = NULL;
    const char *err = NULL;
    if (vjwt_jwk_parse(&k, p, j, &err) != APR_SUCCESS) {
        fail_msg("JWK refused: %s: %s", err, vjwt_json_text(p, j));
    }
    return k;
}

static vjwt_key_t *must_pem(apr_pool_t *p, const char *buf, apr_size_t len)
{
    vjwt_key_t *k = NULL;
    const char *err = NULL;
    if (vjwt_key_from_pem(&k, p, buf, len, &err) != APR_SUCCESS) {
        fail_msg("PEM/DER refused: %s", err);
    }
    return k;
}

static vjwt_key_t *must_secret(apr_pool_t *p, const unsigned char *s, apr_size_t len)
{
    vjwt_key_t *k = NULL;
    const char *err = NULL;
    assert_int_equal(vjwt_key_from_secret(&k, p, s, len, &err), APR_SUCCESS);
    return k;
}

/* JWK parse failure whose reason contains want. */
static void jwk_refused(apr_pool_t *p, json_t *j, const char *want)
{
    vjwt_key_t *k = (vjwt_key_t *)1;
    const char *err = NULL;
    if (vjwt_jwk_parse(&k, p, j, &err) == APR_SUCCESS) {
        fail_msg("JWK accepted, expected '%s': %s", want, vjwt_json_text(p, j));
    }
    assert_null(k);
    assert_non_null(err);
    if (!strstr(err, want)) {
        fail_msg("JWK refused with '%s', expected '%s'", err, want);
    }
}

static json_t *with(apr_pool_t *p, json_t *base, const char *member, json_t *value)
{
    json_t *j = vjwt_json_own(p, json_deep_copy(base));
    if (value) {
        json_object_set_new(j, member, value);
    }
    else {
        json_object_del(j, member);
    }
    return j;
}

/* ---- registry ------------------------------------------------------------------------ */

static void t_registry(void **state)
{
    static const char *const names[] = {"HS256", "HS384", "HS512", "RS256", "RS384",
                                        "RS512", "PS256", "PS384", "PS512", "ES256",
                                        "ES384", "ES512", "EdDSA"};
    int n = 0, i;
    unsigned seen = 0;
    const vjwt_alg_t *all = vjwt_alg_all(&n);
    (void)state;
    assert_int_equal(n, 13);
    for (i = 0; i < n; i++) {
        assert_string_equal(all[i].name, names[i]);
        assert_ptr_equal(vjwt_alg_lookup(names[i]), &all[i]);
        assert_int_equal(all[i].bit, 1u << i);
        assert_int_equal(seen & all[i].bit, 0);
        seen |= all[i].bit;
    }
    assert_int_equal(vjwt_alg_mask_all(), seen);
    assert_null(vjwt_alg_lookup("none"));
    assert_null(vjwt_alg_lookup("None"));
    assert_null(vjwt_alg_lookup("hs256"));
    assert_null(vjwt_alg_lookup("HS1"));
    assert_null(vjwt_alg_lookup("RS1"));
    assert_null(vjwt_alg_lookup("ES256K"));
    assert_null(vjwt_alg_lookup("Ed25519"));
    assert_null(vjwt_alg_lookup("ES521"));
    assert_null(vjwt_alg_lookup("HS256 "));
    assert_null(vjwt_alg_lookup(""));
    assert_null(vjwt_alg_lookup(NULL));
    assert_int_equal(vjwt_alg_lookup("ES256")->sig_len, 64);
    assert_int_equal(vjwt_alg_lookup("ES384")->sig_len, 96);
    assert_int_equal(vjwt_alg_lookup("ES512")->sig_len, 132);
    assert_int_equal(vjwt_alg_lookup("ES512")->curve_nid, NID_secp521r1);
    assert_int_equal(vjwt_alg_lookup("EdDSA")->sig_len, 64);
    assert_int_equal(vjwt_alg_lookup("HS384")->sig_len, 48);
}

/* ---- verification of every algorithm ------------------------------------------------ */

typedef struct {
    const char *alg;
    EVP_PKEY **pkey;
} alg_case_t;

static const alg_case_t alg_cases[] = {
    {"HS256", NULL},       {"HS384", NULL},       {"HS512", NULL},       {"RS256", &g_rsa2048},
    {"RS384", &g_rsa2048}, {"RS512", &g_rsa2048}, {"PS256", &g_rsa2048}, {"PS384", &g_rsa2048},
    {"PS512", &g_rsa2048}, {"ES256", &g_p256},    {"ES384", &g_p384},    {"ES512", &g_p521},
    {"EdDSA", &g_ed25519},
};

/* The key for case c through loader 0 = JWK, 1 = PEM, 2 = DER (HMAC: secret / oct JWK),
 * 3 = the JWK's key without its verification templates (contexts built per call). */
static vjwt_key_t *case_key(apr_pool_t *p, const alg_case_t *c, int loader)
{
    apr_size_t len;
    unsigned char *der;
    if (loader == 3) {
        vjwt_key_t *k = apr_pmemdup(p, case_key(p, c, 0), sizeof(vjwt_key_t));
        assert_non_null(k->tmpl);
        k->tmpl = NULL;
        return k;
    }
    if (!c->pkey) {
        if (loader == 0) {
            return must_jwk(p, vjwt_json_own(p, json_pack("{s:s, s:s}", "kty", "oct", "k",
                                                          vjwt_b64url_encode(p, SECRET64, 64))));
        }
        return must_secret(p, SECRET64, 64);
    }
    switch (loader) {
    case 0:
        return must_jwk(p, jwk_of(p, *c->pkey));
    case 1: {
        const char *pem = pem_of(p, *c->pkey);
        return must_pem(p, pem, strlen(pem));
    }
    default:
        der = der_of(p, *c->pkey, &len);
        return must_pem(p, (const char *)der, len);
    }
}

static void t_verify_all_algs(void **state)
{
    apr_pool_t *p = *state;
    size_t i;
    int loader;
    for (i = 0; i < sizeof(alg_cases) / sizeof(alg_cases[0]); i++) {
        const alg_case_t *c = &alg_cases[i];
        const vjwt_alg_t *alg = vjwt_alg_lookup(c->alg);
        size_t siglen, l;
        unsigned char *sig =
            jws_sign(p, c->alg, c->pkey ? *c->pkey : NULL, SECRET64, 64, MSG, MSGLEN, &siglen);
        unsigned char *bad = apr_palloc(p, siglen + 2);
        unsigned char *msg2 = apr_pmemdup(p, MSG, MSGLEN);
        for (loader = 0; loader < 4; loader++) {
            vjwt_key_t *k = case_key(p, c, loader);
            const char *why = NULL;
            if (!vjwt_key_fits_alg(k, alg, VJWT_DEFAULT_MIN_RSA_BITS, &why)) {
                fail_msg("%s loader %d: key does not fit: %s", c->alg, loader, why);
            }
            if (vjwt_jose_verify(alg, k, MSG, MSGLEN, sig, siglen) != APR_SUCCESS) {
                fail_msg("%s loader %d: valid signature refused", c->alg, loader);
            }
            /* one bit of the message */
            msg2[5] ^= 0x01;
            assert_int_equal(vjwt_jose_verify(alg, k, msg2, MSGLEN, sig, siglen), APR_EGENERAL);
            msg2[5] ^= 0x01;
            /* one bit of the signature, first and last octet */
            memcpy(bad, sig, siglen);
            bad[0] ^= 0x80;
            assert_int_equal(vjwt_jose_verify(alg, k, MSG, MSGLEN, bad, siglen), APR_EGENERAL);
            memcpy(bad, sig, siglen);
            bad[siglen - 1] ^= 0x01;
            assert_int_equal(vjwt_jose_verify(alg, k, MSG, MSGLEN, bad, siglen), APR_EGENERAL);
            /* every shorter length, one and two octets longer, and empty: refused, no crash */
            memcpy(bad, sig, siglen);
            bad[siglen] = 0;
            bad[siglen + 1] = 0;
            for (l = 0; l < siglen; l++) {
                assert_int_equal(vjwt_jose_verify(alg, k, MSG, MSGLEN, bad, l), APR_EGENERAL);
            }
            assert_int_equal(vjwt_jose_verify(alg, k, MSG, MSGLEN, bad, siglen + 1), APR_EGENERAL);
            assert_int_equal(vjwt_jose_verify(alg, k, MSG, MSGLEN, bad, siglen + 2), APR_EGENERAL);
            assert_int_equal(vjwt_jose_verify(alg, k, MSG, MSGLEN, NULL, 0), APR_EGENERAL);
            assert_int_equal(vjwt_jose_verify(alg, k, MSG, MSGLEN, NULL, siglen), APR_EGENERAL);
            /* a truncated message */
            assert_int_equal(vjwt_jose_verify(alg, k, MSG, MSGLEN - 1, sig, siglen), APR_EGENERAL);
            assert_int_equal(vjwt_jose_verify(alg, k, NULL, 0, sig, siglen), APR_EGENERAL);
        }
        /* an empty message signs and verifies */
        sig = jws_sign(p, c->alg, c->pkey ? *c->pkey : NULL, SECRET64, 64,
                       (const unsigned char *)"", 0, &siglen);
        assert_int_equal(vjwt_jose_verify(alg, case_key(p, c, 0), NULL, 0, sig, siglen),
                         APR_SUCCESS);
        assert_int_equal(ERR_peek_error(), 0);
    }
}

/* ---- one key object verified by several threads at once ---------------------------- */

#define CONC_THREADS 4
#define CONC_ROUNDS  40

typedef struct {
    const vjwt_alg_t *alg;
    const vjwt_key_t *key;
    const unsigned char *sig, *bad;
    size_t siglen;
} conc_case_t;

typedef struct {
    const conc_case_t *cases;
    int ncases, seed, wrong, errq;
} conc_arg_t;

/* pthreads, not apr_thread_exit: ASan reports a false stack overflow in the
 * sigaltstack of threads ended by pthread_exit. */
static void *conc_worker(void *data)
{
    conc_arg_t *a = data;
    int r, i;
    for (r = 0; r < CONC_ROUNDS; r++) {
        for (i = 0; i < a->ncases; i++) {
            const conc_case_t *c = &a->cases[(i + a->seed) % a->ncases];
            int valid = (r + i + a->seed) % 2 == 0;
            apr_status_t want = valid ? APR_SUCCESS : APR_EGENERAL;
            if (vjwt_jose_verify(c->alg, c->key, MSG, MSGLEN, valid ? c->sig : c->bad, c->siglen) !=
                want) {
                a->wrong++;
            }
            /* a refused signature leaves nothing on the thread's error queue */
            if (ERR_peek_error() != 0) {
                a->errq++;
                ERR_clear_error();
            }
        }
    }
    return NULL;
}

/* Every algorithm, valid and invalid signatures interleaved, from CONC_THREADS threads that
 * share each key object (and so its verification templates). Run under the sanitizer build
 * too (--enable-sanitizers). */
static void t_verify_concurrent(void **state)
{
    apr_pool_t *p = *state;
    size_t n = sizeof(alg_cases) / sizeof(alg_cases[0]), i;
    conc_case_t *cases = apr_pcalloc(p, n * sizeof(*cases));
    conc_arg_t args[CONC_THREADS];
    pthread_t th[CONC_THREADS];
    int t, nc = 0;

    for (i = 0; i < n; i++) {
        const alg_case_t *c = &alg_cases[i];
        unsigned char *bad;
        if (strcmp(c->alg, "ES384") == 0) {
            continue; /* slow without a constant-time fast path; ES256/ES512 cover ECDSA */
        }
        cases[nc].alg = vjwt_alg_lookup(c->alg);
        cases[nc].key = case_key(p, c, 0);
        cases[nc].sig = jws_sign(p, c->alg, c->pkey ? *c->pkey : NULL, SECRET64, 64, MSG, MSGLEN,
                                 &cases[nc].siglen);
        bad = apr_pmemdup(p, cases[nc].sig, cases[nc].siglen);
        bad[cases[nc].siglen / 2] ^= 0x10;
        cases[nc].bad = bad;
        nc++;
    }
    for (t = 0; t < CONC_THREADS; t++) {
        args[t].cases = cases;
        args[t].ncases = nc;
        args[t].seed = t;
        args[t].wrong = args[t].errq = 0;
        assert_int_equal(pthread_create(&th[t], NULL, conc_worker, &args[t]), 0);
    }
    for (t = 0; t < CONC_THREADS; t++) {
        assert_int_equal(pthread_join(th[t], NULL), 0);
    }
    for (t = 0; t < CONC_THREADS; t++) {
        assert_int_equal(args[t].wrong, 0);
        assert_int_equal(args[t].errq, 0);
    }
}

/* vjwt_sha256 (the pre-fetched digest): FIPS 180-2 B.1 and the empty message */
static void t_sha256(void **state)
{
    apr_pool_t *p = *state;
    unsigned char out[32], *want;
    apr_size_t wl;
    assert_int_equal(vjwt_sha256("abc", 3, out), 1);
    assert_int_equal(
        vjwt_test_hex(p, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", &want,
                      &wl),
        0);
    assert_memory_equal(out, want, 32);
    assert_int_equal(vjwt_sha256(NULL, 0, out), 1);
    assert_int_equal(
        vjwt_test_hex(p, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", &want,
                      &wl),
        0);
    assert_memory_equal(out, want, 32);
}

static void t_verify_guards(void **state)
{
    apr_pool_t *p = *state;
    vjwt_key_t *rsa = must_jwk(p, jwk_of(p, g_rsa2048));
    vjwt_key_t *sec = must_secret(p, SECRET64, 64);
    size_t siglen;
    unsigned char *sig = jws_sign(p, "RS256", g_rsa2048, NULL, 0, MSG, MSGLEN, &siglen);
    const vjwt_alg_t *rs256 = vjwt_alg_lookup("RS256"), *hs256 = vjwt_alg_lookup("HS256");
    assert_int_equal(vjwt_jose_verify(NULL, rsa, MSG, MSGLEN, sig, siglen), APR_EGENERAL);
    assert_int_equal(vjwt_jose_verify(rs256, NULL, MSG, MSGLEN, sig, siglen), APR_EGENERAL);
    assert_int_equal(vjwt_jose_verify(rs256, rsa, NULL, MSGLEN, sig, siglen), APR_EGENERAL);
    /* a key of another type is refused even if the caller skipped vjwt_key_fits_alg */
    assert_int_equal(vjwt_jose_verify(rs256, sec, MSG, MSGLEN, sig, siglen), APR_EGENERAL);
    assert_int_equal(vjwt_jose_verify(hs256, rsa, MSG, MSGLEN, sig, 32), APR_EGENERAL);
    assert_int_equal(vjwt_jose_verify(rs256, rsa, MSG, MSGLEN, sig, siglen), APR_SUCCESS);
    /* RS256 and PS256 signatures do not cross over */
    assert_int_equal(vjwt_jose_verify(vjwt_alg_lookup("PS256"), rsa, MSG, MSGLEN, sig, siglen),
                     APR_EGENERAL);
    assert_int_equal(vjwt_jose_verify(vjwt_alg_lookup("RS384"), rsa, MSG, MSGLEN, sig, siglen),
                     APR_EGENERAL);
    sig = jws_sign(p, "PS256", g_rsa2048, NULL, 0, MSG, MSGLEN, &siglen);
    assert_int_equal(vjwt_jose_verify(rs256, rsa, MSG, MSGLEN, sig, siglen), APR_EGENERAL);
    /* HS256 MAC presented as HS512 (same key) */
    sig = jws_sign(p, "HS256", NULL, SECRET64, 64, MSG, MSGLEN, &siglen);
    assert_int_equal(vjwt_jose_verify(vjwt_alg_lookup("HS512"), sec, MSG, MSGLEN, sig, siglen),
                     APR_EGENERAL);
}

static void t_ecdsa_encoding(void **state)
{
    apr_pool_t *p = *state;
    static const struct {
        const char *alg;
        EVP_PKEY **k;
        int nid;
    } cases[] = {{"ES256", &g_p256, NID_X9_62_prime256v1},
                 {"ES384", &g_p384, NID_secp384r1},
                 {"ES512", &g_p521, NID_secp521r1}};
    size_t i;
    for (i = 0; i < 3; i++) {
        const vjwt_alg_t *alg = vjwt_alg_lookup(cases[i].alg);
        vjwt_key_t *k = must_jwk(p, jwk_of(p, *cases[i].k));
        size_t half = alg->sig_len / 2, derlen;
        unsigned char *der = evp_sign(p, *cases[i].k, md_of(alg), 0, 0, NULL, MSG, MSGLEN, &derlen);
        unsigned char *raw = der_to_raw(p, der, derlen, half);
        unsigned char *x = apr_palloc(p, alg->sig_len + 1);
        EC_GROUP *grp = EC_GROUP_new_by_curve_name(cases[i].nid);
        const BIGNUM *n = EC_GROUP_get0_order(grp);
        BIGNUM *s = BN_bin2bn(raw + half, (int)half, NULL), *t = BN_new();

        assert_int_equal(vjwt_jose_verify(alg, k, MSG, MSGLEN, raw, alg->sig_len), APR_SUCCESS);
        /* the DER form is not a JWS signature */
        assert_int_equal(vjwt_jose_verify(alg, k, MSG, MSGLEN, der, derlen), APR_EGENERAL);
        /* R and S swapped */
        memcpy(x, raw + half, half);
        memcpy(x + half, raw, half);
        assert_int_equal(vjwt_jose_verify(alg, k, MSG, MSGLEN, x, alg->sig_len), APR_EGENERAL);
        /* r = 0, s = 0, both 0 */
        memcpy(x, raw, alg->sig_len);
        memset(x, 0, half);
        assert_int_equal(vjwt_jose_verify(alg, k, MSG, MSGLEN, x, alg->sig_len), APR_EGENERAL);
        memcpy(x, raw, alg->sig_len);
        memset(x + half, 0, half);
        assert_int_equal(vjwt_jose_verify(alg, k, MSG, MSGLEN, x, alg->sig_len), APR_EGENERAL);
        memset(x, 0, alg->sig_len);
        assert_int_equal(vjwt_jose_verify(alg, k, MSG, MSGLEN, x, alg->sig_len), APR_EGENERAL);
        /* r = n and s = n */
        memcpy(x, raw, alg->sig_len);
        BN_bn2binpad(n, x, (int)half);
        assert_int_equal(vjwt_jose_verify(alg, k, MSG, MSGLEN, x, alg->sig_len), APR_EGENERAL);
        memcpy(x, raw, alg->sig_len);
        BN_bn2binpad(n, x + half, (int)half);
        assert_int_equal(vjwt_jose_verify(alg, k, MSG, MSGLEN, x, alg->sig_len), APR_EGENERAL);
        /* s + n (fits in the field only for P-521): refused */
        if (BN_add(t, s, n) && BN_num_bytes(t) <= (int)half) {
            memcpy(x, raw, alg->sig_len);
            BN_bn2binpad(t, x + half, (int)half);
            assert_int_equal(vjwt_jose_verify(alg, k, MSG, MSGLEN, x, alg->sig_len), APR_EGENERAL);
        }
        /* the high-s twin (r, n - s) is a valid ECDSA signature and verifies: the range check
         * does not cut into [1, n-1] */
        assert_int_equal(BN_sub(t, n, s), 1);
        memcpy(x, raw, alg->sig_len);
        BN_bn2binpad(t, x + half, (int)half);
        assert_int_equal(vjwt_jose_verify(alg, k, MSG, MSGLEN, x, alg->sig_len), APR_SUCCESS);
        /* one octet short (leading zero stripped style) */
        assert_int_equal(vjwt_jose_verify(alg, k, MSG, MSGLEN, raw + 1, alg->sig_len - 1),
                         APR_EGENERAL);
        BN_free(s);
        BN_free(t);
        EC_GROUP_free(grp);
    }
}

static void t_pss_params(void **state)
{
    apr_pool_t *p = *state;
    vjwt_key_t *k = must_jwk(p, jwk_of(p, g_rsa2048));
    const vjwt_alg_t *ps256 = vjwt_alg_lookup("PS256");
    size_t siglen;
    unsigned char *sig;
    sig = evp_sign(p, g_rsa2048, EVP_sha256(), 1, 32, NULL, MSG, MSGLEN, &siglen);
    assert_int_equal(vjwt_jose_verify(ps256, k, MSG, MSGLEN, sig, siglen), APR_SUCCESS);
    /* salt length other than the hash length */
    sig = evp_sign(p, g_rsa2048, EVP_sha256(), 1, 0, NULL, MSG, MSGLEN, &siglen);
    assert_int_equal(vjwt_jose_verify(ps256, k, MSG, MSGLEN, sig, siglen), APR_EGENERAL);
    sig = evp_sign(p, g_rsa2048, EVP_sha256(), 1, 20, NULL, MSG, MSGLEN, &siglen);
    assert_int_equal(vjwt_jose_verify(ps256, k, MSG, MSGLEN, sig, siglen), APR_EGENERAL);
    sig = evp_sign(p, g_rsa2048, EVP_sha256(), 1, 64, NULL, MSG, MSGLEN, &siglen);
    assert_int_equal(vjwt_jose_verify(ps256, k, MSG, MSGLEN, sig, siglen), APR_EGENERAL);
    sig = evp_sign(p, g_rsa2048, EVP_sha256(), 1, RSA_PSS_SALTLEN_MAX, NULL, MSG, MSGLEN, &siglen);
    assert_int_equal(vjwt_jose_verify(ps256, k, MSG, MSGLEN, sig, siglen), APR_EGENERAL);
    /* MGF1 with another hash */
    sig = evp_sign(p, g_rsa2048, EVP_sha256(), 1, 32, EVP_sha1(), MSG, MSGLEN, &siglen);
    assert_int_equal(vjwt_jose_verify(ps256, k, MSG, MSGLEN, sig, siglen), APR_EGENERAL);
    sig = evp_sign(p, g_rsa2048, EVP_sha256(), 1, 32, EVP_sha512(), MSG, MSGLEN, &siglen);
    assert_int_equal(vjwt_jose_verify(ps256, k, MSG, MSGLEN, sig, siglen), APR_EGENERAL);
}

/* ---- key / alg binding ------------------------------------------------------------- */

static void t_binding(void **state)
{
    apr_pool_t *p = *state;
    vjwt_key_t *rsa = must_jwk(p, jwk_of(p, g_rsa2048));
    vjwt_key_t *p256 = must_jwk(p, jwk_of(p, g_p256));
    vjwt_key_t *p384 = must_jwk(p, jwk_of(p, g_p384));
    vjwt_key_t *p521 = must_jwk(p, jwk_of(p, g_p521));
    vjwt_key_t *ed = must_jwk(p, jwk_of(p, g_ed25519));
    vjwt_key_t *sec = must_secret(p, SECRET64, 64);
    const char *why = NULL;
    int n, i;
    const vjwt_alg_t *all = vjwt_alg_all(&n);

    /* each key fits exactly its family (and curve) */
    for (i = 0; i < n; i++) {
        const vjwt_alg_t *a = &all[i];
        assert_int_equal(vjwt_key_fits_alg(rsa, a, 2048, NULL), a->kty == VJWT_KTY_RSA);
        assert_int_equal(vjwt_key_fits_alg(sec, a, 2048, NULL), a->kty == VJWT_KTY_OCT);
        assert_int_equal(vjwt_key_fits_alg(p256, a, 2048, NULL), strcmp(a->name, "ES256") == 0);
        assert_int_equal(vjwt_key_fits_alg(p384, a, 2048, NULL), strcmp(a->name, "ES384") == 0);
        assert_int_equal(vjwt_key_fits_alg(p521, a, 2048, NULL), strcmp(a->name, "ES512") == 0);
        assert_int_equal(vjwt_key_fits_alg(ed, a, 2048, NULL), strcmp(a->name, "EdDSA") == 0);
    }
    /* HMAC never with an RSA key, and the reason says so */
    assert_int_equal(vjwt_key_fits_alg(rsa, vjwt_alg_lookup("HS256"), 2048, &why), 0);
    assert_non_null(why);
    assert_non_null(strstr(why, "symmetric"));
    /* ES256 never with P-384 */
    why = NULL;
    assert_int_equal(vjwt_key_fits_alg(p384, vjwt_alg_lookup("ES256"), 2048, &why), 0);
    assert_non_null(strstr(why, "curve"));
    assert_int_equal(vjwt_key_fits_alg(NULL, vjwt_alg_lookup("ES256"), 2048, &why), 0);
    assert_int_equal(vjwt_key_fits_alg(rsa, NULL, 2048, &why), 0);
    /* an ES256 signature by the P-256 key is not accepted by a P-384 key even when forced */
    {
        size_t siglen;
        unsigned char *sig = jws_sign(p, "ES256", g_p256, NULL, 0, MSG, MSGLEN, &siglen);
        assert_int_equal(vjwt_jose_verify(vjwt_alg_lookup("ES256"), p384, MSG, MSGLEN, sig, siglen),
                         APR_EGENERAL);
    }
}

static void t_rsa_floor(void **state)
{
    apr_pool_t *p = *state;
    vjwt_key_t *k = must_jwk(p, jwk_of(p, g_rsa1024));
    const vjwt_alg_t *rs256 = vjwt_alg_lookup("RS256");
    const char *why = NULL;
    size_t siglen;
    unsigned char *sig = jws_sign(p, "RS256", g_rsa1024, NULL, 0, MSG, MSGLEN, &siglen);
    assert_int_equal(k->bits, 1024);
    assert_int_equal(vjwt_key_fits_alg(k, rs256, VJWT_DEFAULT_MIN_RSA_BITS, &why), 0);
    assert_non_null(strstr(why, "minimum"));
    assert_int_equal(vjwt_key_fits_alg(k, vjwt_alg_lookup("PS256"), 2048, NULL), 0);
    assert_int_equal(vjwt_key_fits_alg(k, rs256, 1024, NULL), 1);
    assert_int_equal(vjwt_jose_verify(rs256, k, MSG, MSGLEN, sig, siglen), APR_SUCCESS);
    k = must_jwk(p, jwk_of(p, g_rsa2048));
    assert_int_equal(k->bits, 2048);
    assert_int_equal(vjwt_key_fits_alg(k, rs256, 2048, NULL), 1);
    assert_int_equal(vjwt_key_fits_alg(k, rs256, 3072, NULL), 0);
}

static void t_hmac_secret_len(void **state)
{
    apr_pool_t *p = *state;
    vjwt_key_t *k32 = must_secret(p, SECRET64, 32), *k31 = must_secret(p, SECRET64, 31);
    vjwt_key_t *k48 = must_secret(p, SECRET64, 48), *k64 = must_secret(p, SECRET64, 64);
    const vjwt_alg_t *hs256 = vjwt_alg_lookup("HS256"), *hs384 = vjwt_alg_lookup("HS384"),
                     *hs512 = vjwt_alg_lookup("HS512");
    const char *why = NULL;
    size_t siglen;
    unsigned char *sig;
    assert_int_equal(vjwt_key_fits_alg(k32, hs256, 2048, NULL), 1);
    assert_int_equal(vjwt_key_fits_alg(k32, hs384, 2048, NULL), 0);
    assert_int_equal(vjwt_key_fits_alg(k32, hs512, 2048, &why), 0);
    assert_non_null(strstr(why, "shorter"));
    assert_int_equal(vjwt_key_fits_alg(k31, hs256, 2048, NULL), 0);
    assert_int_equal(vjwt_key_fits_alg(k48, hs384, 2048, NULL), 1);
    assert_int_equal(vjwt_key_fits_alg(k48, hs512, 2048, NULL), 0);
    assert_int_equal(vjwt_key_fits_alg(k64, hs512, 2048, NULL), 1);
    assert_int_equal(vjwt_key_fits_alg(k64, hs256, 2048, NULL), 1);
    /* a 32-byte secret verifies HS256 */
    sig = jws_sign(p, "HS256", NULL, SECRET64, 32, MSG, MSGLEN, &siglen);
    assert_int_equal(vjwt_jose_verify(hs256, k32, MSG, MSGLEN, sig, siglen), APR_SUCCESS);
    /* a truncated tag (16 octets) is refused even though it is a prefix of the right MAC */
    assert_int_equal(vjwt_jose_verify(hs256, k32, MSG, MSGLEN, sig, 16), APR_EGENERAL);
    /* the secret is copied */
    {
        unsigned char buf[32];
        vjwt_key_t *k;
        memcpy(buf, SECRET64, 32);
        k = must_secret(p, buf, 32);
        memset(buf, 0, sizeof(buf));
        assert_int_equal(vjwt_jose_verify(hs256, k, MSG, MSGLEN, sig, siglen), APR_SUCCESS);
        assert_string_equal(k->source, "secret");
        assert_int_equal(k->kty, VJWT_KTY_OCT);
        assert_int_equal(k->bits, 256);
    }
    {
        vjwt_key_t *k = NULL;
        const char *err = NULL;
        assert_int_equal(vjwt_key_from_secret(&k, p, SECRET64, 0, &err), APR_EINVAL);
        assert_non_null(err);
        assert_int_equal(vjwt_key_from_secret(&k, p, NULL, 3, &err), APR_EINVAL);
    }
}

static void t_jwk_alg_binding(void **state)
{
    apr_pool_t *p = *state;
    vjwt_key_t *k = must_jwk(p, with(p, jwk_of(p, g_rsa2048), "alg", json_string("RS256")));
    const char *why = NULL;
    assert_string_equal(k->alg, "RS256");
    assert_int_equal(vjwt_key_fits_alg(k, vjwt_alg_lookup("RS256"), 2048, NULL), 1);
    assert_int_equal(vjwt_key_fits_alg(k, vjwt_alg_lookup("PS256"), 2048, &why), 0);
    assert_non_null(strstr(why, "alg"));
    assert_int_equal(vjwt_key_fits_alg(k, vjwt_alg_lookup("RS512"), 2048, NULL), 0);
    k = must_jwk(p, with(p, jwk_of(p, g_rsa2048), "alg", json_string("PS384")));
    assert_int_equal(vjwt_key_fits_alg(k, vjwt_alg_lookup("PS384"), 2048, NULL), 1);
    assert_int_equal(vjwt_key_fits_alg(k, vjwt_alg_lookup("PS256"), 2048, NULL), 0);
    k = must_jwk(p, with(p, jwk_of(p, g_p521), "alg", json_string("ES512")));
    assert_int_equal(vjwt_key_fits_alg(k, vjwt_alg_lookup("ES512"), 2048, NULL), 1);
    k = must_jwk(p, vjwt_json_own(p, json_pack("{s:s, s:s, s:s}", "kty", "oct", "alg", "HS384", "k",
                                               vjwt_b64url_encode(p, SECRET64, 64))));
    assert_int_equal(vjwt_key_fits_alg(k, vjwt_alg_lookup("HS384"), 2048, NULL), 1);
    assert_int_equal(vjwt_key_fits_alg(k, vjwt_alg_lookup("HS256"), 2048, NULL), 0);
    assert_int_equal(vjwt_key_fits_alg(k, vjwt_alg_lookup("HS512"), 2048, NULL), 0);
    k = must_jwk(p, with(p, jwk_of(p, g_ed25519), "alg", json_string("EdDSA")));
    assert_int_equal(vjwt_key_fits_alg(k, vjwt_alg_lookup("EdDSA"), 2048, NULL), 1);
}

/* ---- JWK parsing --------------------------------------------------------------------- */

static void t_jwk_ok(void **state)
{
    apr_pool_t *p = *state;
    json_t *rsa = jwk_of(p, g_rsa2048);
    vjwt_key_t *k;
    json_t *j;

    k = must_jwk(p, rsa);
    assert_int_equal(k->kty, VJWT_KTY_RSA);
    assert_null(k->kid);
    assert_null(k->alg);
    assert_string_equal(k->source, "jwk");
    assert_non_null(k->pkey);
    assert_int_equal(EVP_PKEY_eq(k->pkey, g_rsa2048), 1);

    /* kid, use, key_ops, alg and private members: private ones are ignored */
    j = with(p, rsa, "kid", json_string("k-1"));
    json_object_set_new(j, "use", json_string("sig"));
    json_object_set_new(j, "key_ops", json_pack("[s,s]", "sign", "verify"));
    json_object_set_new(j, "alg", json_string("RS256"));
    json_object_set_new(j, "d", json_string("AQAB"));
    json_object_set_new(j, "p", json_string("not even base64url!"));
    json_object_set_new(j, "x5t", json_string("whatever"));
    k = must_jwk(p, j);
    assert_string_equal(k->kid, "k-1");
    assert_string_equal(k->alg, "RS256");

    /* e = 3, and n with a leading zero octet */
    {
        unsigned char *n;
        apr_size_t nlen;
        const char *ns = json_string_value(json_object_get(rsa, "n"));
        unsigned char *n0;
        assert_int_equal(vjwt_b64url_decode(p, ns, strlen(ns), &n, &nlen), APR_SUCCESS);
        n0 = apr_palloc(p, nlen + 1);
        n0[0] = 0;
        memcpy(n0 + 1, n, nlen);
        k = must_jwk(p, with(p, rsa, "e", json_string("Aw")));
        assert_int_equal(k->bits, 2048);
        k = must_jwk(p, with(p, rsa, "n", json_string(vjwt_b64url_encode(p, n0, nlen + 1))));
        assert_int_equal(k->bits, 2048);
        assert_int_equal(EVP_PKEY_eq(k->pkey, g_rsa2048), 1);
    }

    k = must_jwk(p, jwk_of(p, g_p256));
    assert_int_equal(k->kty, VJWT_KTY_EC);
    assert_int_equal(k->curve_nid, NID_X9_62_prime256v1);
    assert_int_equal(k->bits, 256);
    k = must_jwk(p, jwk_of(p, g_p384));
    assert_int_equal(k->curve_nid, NID_secp384r1);
    k = must_jwk(p, jwk_of(p, g_p521));
    assert_int_equal(k->curve_nid, NID_secp521r1);
    assert_int_equal(k->bits, 521);
    k = must_jwk(p, jwk_of(p, g_ed25519));
    assert_int_equal(k->kty, VJWT_KTY_OKP);
    assert_int_equal(k->curve_nid, NID_ED25519);
    k = must_jwk(p, jparse(p, "{\"kty\":\"oct\",\"k\":\"AQID\"}"));
    assert_int_equal(k->kty, VJWT_KTY_OCT);
    assert_int_equal(k->secret_len, 3);
    assert_memory_equal(k->secret, "\x01\x02\x03", 3);
}

static void t_jwk_errors(void **state)
{
    apr_pool_t *p = *state;
    json_t *rsa = jwk_of(p, g_rsa2048), *ec = jwk_of(p, g_p256), *ed = jwk_of(p, g_ed25519);
    json_t *j;

    jwk_refused(p, jparse(p, "{}"), "\"kty\" is missing");
    jwk_refused(p, vjwt_json_own(p, json_pack("[]")), "not a JSON object");
    jwk_refused(p, jparse(p, "{\"kty\":\"foo\",\"k\":\"AQID\"}"), "\"kty\" foo is not supported");
    jwk_refused(p, jparse(p, "{\"kty\":\"rsa\"}"), "not supported");
    jwk_refused(p, jparse(p, "{\"kty\":1}"), "\"kty\" is not a string");
    jwk_refused(p, with(p, rsa, "kid", json_integer(3)), "\"kid\" is not a string");

    /* use / key_ops */
    jwk_refused(p, with(p, rsa, "use", json_string("enc")), "\"use\" is enc");
    jwk_refused(p, with(p, ec, "use", json_string("SIG")), "\"use\"");
    jwk_refused(p, with(p, rsa, "use", json_true()), "not a string");
    jwk_refused(p, with(p, rsa, "key_ops", json_pack("[s]", "sign")), "verify");
    jwk_refused(p, with(p, rsa, "key_ops", json_pack("[s]", "sign, verify")), "verify");
    jwk_refused(p, with(p, rsa, "key_ops", json_pack("[]")), "verify");
    jwk_refused(p, with(p, rsa, "key_ops", json_string("verify")), "not an array");
    jwk_refused(p, with(p, rsa, "key_ops", json_pack("[s,i]", "verify", 1)), "non-string");
    jwk_refused(p, with(p, rsa, "key_ops", json_pack("[s,s]", "verify", "verify")), "duplicate");

    /* alg */
    jwk_refused(p, with(p, rsa, "alg", json_string("none")), "not a supported JWS algorithm");
    jwk_refused(p, with(p, rsa, "alg", json_string("RSA-OAEP")), "not a supported");
    jwk_refused(p, with(p, rsa, "alg", json_string("rs256")), "not a supported");
    jwk_refused(p, with(p, rsa, "alg", json_string("HS256")), "does not fit \"kty\" RSA");
    jwk_refused(p, with(p, rsa, "alg", json_string("ES256")), "does not fit");
    jwk_refused(p, with(p, ec, "alg", json_string("ES521")), "not a supported");
    jwk_refused(p, with(p, ec, "alg", json_string("ES384")), "does not fit curve P-256");
    jwk_refused(p, with(p, jwk_of(p, g_p384), "alg", json_string("ES256")), "does not fit curve");
    jwk_refused(p, with(p, ed, "alg", json_string("ES256")), "does not fit");
    jwk_refused(p, jparse(p, "{\"kty\":\"oct\",\"alg\":\"A256GCM\",\"k\":\"AQID\"}"),
                "not a supported");

    /* RSA members */
    jwk_refused(p, with(p, rsa, "e", json_string("AQ")), "odd and >= 3");
    jwk_refused(p, with(p, rsa, "e", json_string("Ag")), "odd and >= 3");
    jwk_refused(p, with(p, rsa, "e", json_string("AAE")), "odd and >= 3");
    jwk_refused(p, with(p, rsa, "e", json_string("")), "odd and >= 3");
    jwk_refused(p, with(p, rsa, "e", json_string("AQAB=")), "base64url");
    jwk_refused(p, with(p, rsa, "e", NULL), "\"e\" is missing");
    jwk_refused(p, with(p, rsa, "n", NULL), "\"n\" is missing");
    jwk_refused(p, jparse(p, "{\"kty\":\"RSA\"}"), "\"n\" and \"e\" are missing");
    jwk_refused(p, with(p, rsa, "n", json_string("AAAA")), "zero");
    jwk_refused(p, with(p, rsa, "n", json_string("AQAA")), "even");
    jwk_refused(p, with(p, rsa, "n", json_string("AQAD")), "512");
    jwk_refused(p, with(p, rsa, "n", json_string("AQAB")), "not smaller than n");
    jwk_refused(p, with(p, rsa, "n", json_string("+_8")), "base64url"); /* two alphabets */
    jwk_refused(p, with(p, rsa, "n", json_integer(5)), "not a string");

    /* EC members */
    j = with(p, ec, "y", NULL);
    jwk_refused(p, j, "\"y\" is missing");
    jwk_refused(p, with(p, ec, "crv", NULL), "\"crv\" is missing");
    jwk_refused(p, with(p, ec, "crv", json_string("P-192")), "not supported");
    jwk_refused(p, with(p, ec, "crv", json_string("secp256k1")), "not supported");
    /* P-256 coordinates declared as P-384 (Wycheproof json_web_key tcId 23) */
    jwk_refused(p, with(p, ec, "crv", json_string("P-384")), "48 octets");
    jwk_refused(p, with(p, ec, "x", json_string("AQID")), "32 octets");
    /* off-curve point: y + 1 */
    {
        const char *ys = json_string_value(json_object_get(ec, "y"));
        unsigned char *y;
        apr_size_t ylen;
        assert_int_equal(vjwt_b64url_decode(p, ys, strlen(ys), &y, &ylen), APR_SUCCESS);
        y[ylen - 1] ^= 0x01;
        jwk_refused(p, with(p, ec, "y", json_string(vjwt_b64url_encode(p, y, ylen))),
                    "not a valid point");
        /* coordinates >= p: all 0xFF */
        memset(y, 0xFF, ylen);
        jwk_refused(p, with(p, ec, "y", json_string(vjwt_b64url_encode(p, y, ylen))),
                    "not a valid point");
    }
    /* kty does not fit the members (Wycheproof json_web_key tcId 24) */
    jwk_refused(p, with(p, ec, "kty", json_string("RSA")), "are missing");

    /* OKP */
    jwk_refused(p, with(p, ed, "crv", json_string("Ed448")), "Ed448 is not supported");
    jwk_refused(p, with(p, ed, "crv", json_string("X25519")), "not supported");
    jwk_refused(p, with(p, ed, "crv", NULL), "\"crv\" is missing");
    jwk_refused(p, with(p, ed, "x", json_string("AQID")), "32 octets");
    jwk_refused(p, with(p, ed, "x", NULL), "\"x\" is missing");

    /* oct */
    jwk_refused(p, jparse(p, "{\"kty\":\"oct\",\"k\":\"\"}"), "\"k\" is empty");
    jwk_refused(p, jparse(p, "{\"kty\":\"oct\"}"), "\"k\" is missing");
    jwk_refused(p, jparse(p, "{\"kty\":\"oct\",\"k\":\"AQI==\"}"), "base64url");
    jwk_refused(p, jparse(p, "{\"kty\":\"oct\",\"k\":\"AR\"}"), "base64url");
    jwk_refused(p, jparse(p, "{\"kty\":\"oct\",\"alg\":\"HS256\",\"k\":\"AQID\"}"),
                "shorter than HS256");
    jwk_refused(p, jparse(p, "{\"kty\":\"oct\",\"k\":\"AQID\",\"x5c\":[]}"), "x5c");
}

/* The members of a key as real identity providers publish them: standard base64 with
 * padding (Battle.net), base64url with padding (Google, 2023). Both decode, the key says so,
 * and nonsense is still refused. */
static const char *std_b64(apr_pool_t *p, const char *url)
{
    char *s = apr_pstrdup(p, url);
    char *c;
    apr_size_t n = strlen(s);
    for (c = s; *c; c++) {
        *c = *c == '-' ? '+' : *c == '_' ? '/' : *c;
    }
    return n % 4 == 2   ? apr_pstrcat(p, s, "==", NULL)
           : n % 4 == 3 ? apr_pstrcat(p, s, "=", NULL)
                        : s;
}

static const char *padded(apr_pool_t *p, const char *url)
{
    apr_size_t n = strlen(url);
    return n % 4 == 2   ? apr_pstrcat(p, url, "==", NULL)
           : n % 4 == 3 ? apr_pstrcat(p, url, "=", NULL)
                        : url;
}

static apr_array_header_t *jwks_ok(apr_pool_t *p, const char *text, apr_array_header_t *skipped);

static void t_jwk_lenient_members(void **state)
{
    apr_pool_t *p = *state;
    json_t *rsa = jwk_of(p, g_rsa2048), *ec = jwk_of(p, g_p256);
    const char *n = json_string_value(json_object_get(rsa, "n"));
    const char *x = json_string_value(json_object_get(ec, "x"));
    const char *nstd = std_b64(p, n), *text;
    vjwt_key_t *k;
    apr_array_header_t *keys;

    k = must_jwk(p, rsa);
    assert_int_equal(k->lenient, 0);
    /* 256 bytes: always padded with "=="; '+' or '/' nearly always there too */
    assert_non_null(strstr(nstd, "=="));
    k = must_jwk(p, with(p, rsa, "n", json_string(nstd)));
    assert_int_equal(EVP_PKEY_eq(k->pkey, g_rsa2048), 1);
    assert_int_equal(k->lenient, 1);
    k = must_jwk(p, with(p, rsa, "n", json_string(padded(p, n))));
    assert_int_equal(EVP_PKEY_eq(k->pkey, g_rsa2048), 1);
    assert_int_equal(k->lenient, 1);
    k = must_jwk(p, with(p, rsa, "e", json_string("AQAB")));
    assert_int_equal(k->lenient, 0);
    k = must_jwk(p, with(p, ec, "x", json_string(std_b64(p, x))));
    assert_int_equal(EVP_PKEY_eq(k->pkey, g_p256), 1);
    assert_int_equal(k->lenient, 1);
    k = must_jwk(p, jparse(p, "{\"kty\":\"oct\",\"k\":\"AQI=\"}"));
    assert_int_equal(k->secret_len, 2);
    assert_int_equal(k->lenient, 1);

    /* still refused: whitespace, padding inside or too much, two alphabets, junk */
    jwk_refused(p, with(p, rsa, "n", json_string(apr_pstrcat(p, " ", nstd, NULL))), "base64url");
    jwk_refused(p, with(p, rsa, "n", json_string(apr_pstrcat(p, nstd, "\n", NULL))), "base64url");
    jwk_refused(p, with(p, rsa, "n", json_string(apr_pstrcat(p, nstd, "=", NULL))), "base64url");
    jwk_refused(p, with(p, rsa, "e", json_string("AQ=AB")), "base64url");
    jwk_refused(p, with(p, rsa, "e", json_string("AQAB=")), "base64url");
    jwk_refused(p, with(p, rsa, "e", json_string("=AQAB")), "base64url");
    jwk_refused(p, with(p, rsa, "e", json_string("AQ*B")), "base64url");
    jwk_refused(p, with(p, rsa, "n", json_string(apr_pstrcat(p, "-", nstd + 1, NULL))),
                "base64url");

    /* a set shaped like Battle.net's and one like Google's */
    text = apr_psprintf(p,
                        "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"bnet\",\"use\":\"sig\",\"alg\":"
                        "\"RS256\",\"n\":\"%s\",\"e\":\"AQAB\"}]}",
                        nstd);
    keys = jwks_ok(p, text, NULL);
    assert_int_equal(keys->nelts, 1);
    assert_int_equal(APR_ARRAY_IDX(keys, 0, vjwt_key_t *)->lenient, 1);
    text = apr_psprintf(p,
                        "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"g1\",\"use\":\"sig\",\"alg\":"
                        "\"RS256\",\"n\":\"%s\",\"e\":\"AQAB\"},{\"kty\":\"EC\",\"crv\":\"P-256\","
                        "\"x\":\"%s\",\"y\":\"%s\"}]}",
                        padded(p, n), x, json_string_value(json_object_get(ec, "y")));
    keys = jwks_ok(p, text, NULL);
    assert_int_equal(keys->nelts, 2);
    assert_int_equal(APR_ARRAY_IDX(keys, 0, vjwt_key_t *)->lenient, 1);
    assert_int_equal(APR_ARRAY_IDX(keys, 1, vjwt_key_t *)->lenient, 0);
}

static void t_jwk_x5c(void **state)
{
    apr_pool_t *p = *state;
    json_t *rsa = jwk_of(p, g_rsa2048);
    const char *crt = cert_b64(p, g_rsa2048), *crt_b = cert_b64(p, g_rsa2048b);
    const char *crt_ec = cert_b64(p, g_p256), *crt_ed = cert_b64(p, g_ed25519);
    vjwt_key_t *k;
    json_t *j;

    /* x5c only: the certificate's key */
    k = must_jwk(p, vjwt_json_own(p, json_pack("{s:s, s:[s]}", "kty", "RSA", "x5c", crt)));
    assert_int_equal(EVP_PKEY_eq(k->pkey, g_rsa2048), 1);
    assert_int_equal(k->bits, 2048);
    /* x5c with the same n/e; further chain entries are not used */
    k = must_jwk(p, with(p, rsa, "x5c", json_pack("[s,s]", crt, crt_b)));
    assert_int_equal(EVP_PKEY_eq(k->pkey, g_rsa2048), 1);
    /* x5c with another key than n/e */
    jwk_refused(p, with(p, rsa, "x5c", json_pack("[s]", crt_b)), "another key");
    /* EC: same key, crv from the certificate, wrong curve, wrong type */
    k = must_jwk(p, with(p, jwk_of(p, g_p256), "x5c", json_pack("[s]", crt_ec)));
    assert_int_equal(k->curve_nid, NID_X9_62_prime256v1);
    k = must_jwk(p, vjwt_json_own(p, json_pack("{s:s, s:[s]}", "kty", "EC", "x5c", crt_ec)));
    assert_int_equal(k->curve_nid, NID_X9_62_prime256v1);
    jwk_refused(p,
                vjwt_json_own(
                    p, json_pack("{s:s, s:s, s:[s]}", "kty", "EC", "crv", "P-384", "x5c", crt_ec)),
                "does not hold an EC key");
    jwk_refused(p, vjwt_json_own(p, json_pack("{s:s, s:[s]}", "kty", "EC", "x5c", crt)),
                "does not hold an EC key");
    jwk_refused(p, vjwt_json_own(p, json_pack("{s:s, s:[s]}", "kty", "RSA", "x5c", crt_ec)),
                "does not hold an RSA key");
    jwk_refused(p, with(p, jwk_of(p, g_p384), "x5c", json_pack("[s]", crt_ec)),
                "does not hold an EC key");
    /* Ed25519 */
    k = must_jwk(p, with(p, jwk_of(p, g_ed25519), "x5c", json_pack("[s]", crt_ed)));
    assert_int_equal(k->kty, VJWT_KTY_OKP);
    /* malformed x5c */
    jwk_refused(p, with(p, rsa, "x5c", json_string(crt)), "non-empty array");
    jwk_refused(p, with(p, rsa, "x5c", json_pack("[]")), "non-empty array");
    jwk_refused(p, with(p, rsa, "x5c", json_pack("[i]", 1)), "non-string");
    jwk_refused(p, with(p, rsa, "x5c", json_pack("[s]", "!!!!")), "not valid base64");
    jwk_refused(p, with(p, rsa, "x5c", json_pack("[s]", "AQIDBA==")), "not a DER X.509");
    /* base64url in x5c is not standard base64 when it uses - or _ */
    {
        char *u = apr_pstrdup(p, crt);
        char *c;
        int changed = 0;
        for (c = u; *c; c++) {
            if (*c == '+' || *c == '/') {
                *c = *c == '+' ? '-' : '_';
                changed = 1;
            }
        }
        if (changed) {
            jwk_refused(p, with(p, rsa, "x5c", json_pack("[s]", u)), "not valid base64");
        }
    }
    /* a certificate with trailing junk */
    j = with(p, rsa, "x5c",
             json_pack("[s]", apr_pstrcat(p, apr_pstrndup(p, crt, strlen(crt) - 4), "AAAA", "AAAA",
                                          NULL)));
    jwk_refused(p, j, "x5c");
}

/* ---- JWKS ---------------------------------------------------------------------------- */

static apr_array_header_t *jwks_ok(apr_pool_t *p, const char *text, apr_array_header_t *skipped)
{
    apr_array_header_t *keys = NULL;
    const char *err = NULL;
    if (vjwt_jwks_parse(&keys, p, text, strlen(text), skipped, &err) != APR_SUCCESS) {
        fail_msg("JWKS refused: %s", err);
    }
    assert_non_null(keys);
    return keys;
}

static void jwks_refused(apr_pool_t *p, const char *text, const char *want)
{
    apr_array_header_t *keys = (apr_array_header_t *)1;
    const char *err = NULL;
    assert_int_equal(vjwt_jwks_parse(&keys, p, text, strlen(text), NULL, &err), APR_EINVAL);
    assert_null(keys);
    if (!err || !strstr(err, want)) {
        fail_msg("JWKS refused with '%s', expected '%s'", err ? err : "(null)", want);
    }
}

static void t_jwks(void **state)
{
    apr_pool_t *p = *state;
    const char *rsa = vjwt_json_text(p, with(p, jwk_of(p, g_rsa2048), "kid", json_string("r1")));
    const char *rsab = vjwt_json_text(p, with(p, jwk_of(p, g_rsa2048b), "kid", json_string("r1")));
    const char *ec = vjwt_json_text(p, with(p, jwk_of(p, g_p256), "kid", json_string("r1")));
    const char *enc =
        vjwt_json_text(p, with(p, with(p, jwk_of(p, g_rsa2048b), "kid", json_string("r1")), "use",
                               json_string("enc")));
    const char *oct = "{\"kty\":\"oct\",\"kid\":\"h\",\"k\":\"AQID\"}";
    apr_array_header_t *skipped = apr_array_make(p, 4, sizeof(const char *)), *keys;

    /* unusable keys are skipped with a reason naming the kid or index */
    keys = jwks_ok(p,
                   apr_pstrcat(p, "{\"keys\":[", rsa,
                               ",{\"kty\":\"EC\",\"kid\":\"bad\",\"crv\":\"P-256\"},"
                               "{\"kty\":\"XYZ\"},42,",
                               "{\"kty\":\"OKP\",\"crv\":\"Ed448\",\"x\":\"AQID\"}]}", NULL),
                   skipped);
    assert_int_equal(keys->nelts, 1);
    assert_string_equal(APR_ARRAY_IDX(keys, 0, vjwt_key_t *)->kid, "r1");
    assert_int_equal(skipped->nelts, 4);
    assert_non_null(strstr(APR_ARRAY_IDX(skipped, 0, const char *), "bad/1: "));
    assert_non_null(strstr(APR_ARRAY_IDX(skipped, 1, const char *), "/2: "));
    assert_non_null(strstr(APR_ARRAY_IDX(skipped, 2, const char *), "/3: not a JSON object"));
    assert_non_null(strstr(APR_ARRAY_IDX(skipped, 3, const char *), "Ed448"));

    /* a single JWK is a one-key set; an empty set is not an error */
    keys = jwks_ok(p, rsa, NULL);
    assert_int_equal(keys->nelts, 1);
    keys = jwks_ok(p, "{\"keys\":[]}", NULL);
    assert_int_equal(keys->nelts, 0);
    keys = jwks_ok(p, "{\"keys\":[{\"kty\":\"oct\",\"use\":\"enc\",\"k\":\"AQID\"}]}", NULL);
    assert_int_equal(keys->nelts, 0);

    /* same kid with another kty is allowed (RFC 7517 4.5) */
    keys = jwks_ok(p, apr_pstrcat(p, "{\"keys\":[", rsa, ",", ec, "]}", NULL), NULL);
    assert_int_equal(keys->nelts, 2);
    /* same kid on an encryption key of the same kty: that entry is just skipped */
    apr_array_clear(skipped);
    keys = jwks_ok(p, apr_pstrcat(p, "{\"keys\":[", rsa, ",", enc, "]}", NULL), skipped);
    assert_int_equal(keys->nelts, 1);
    assert_int_equal(skipped->nelts, 1);

    /* set-level failures */
    jwks_refused(p, apr_pstrcat(p, "{\"keys\":[", rsa, ",", rsab, "]}", NULL),
                 "two RSA keys with kid r1");
    /* a malformed duplicate still counts */
    jwks_refused(p,
                 apr_pstrcat(p, "{\"keys\":[", rsa,
                             ",{\"kty\":\"RSA\",\"kid\":\"r1\",\"n\":\"AQ=\",\"e\":\"AQAB\"}]}",
                             NULL),
                 "kid r1");
    jwks_refused(p, apr_pstrcat(p, "{\"keys\":[", rsa, ",", oct, "]}", NULL), "mixes");
    jwks_refused(p, "{\"keys\":{}}", "not an array");
    jwks_refused(p, "{\"foo\":[]}", "no \"keys\"");
    jwks_refused(p, "[]", "JWKS");
    jwks_refused(p, "not json", "JWKS");
    jwks_refused(p, "{\"keys\":[],\"keys\":[]}", "JWKS");
    jwks_refused(p, "", "JWKS");
    {
        apr_array_header_t *k2 = NULL;
        const char *err = NULL;
        assert_int_equal(vjwt_jwks_from_json(&k2, p, NULL, NULL, &err), APR_EINVAL);
        assert_int_equal(vjwt_jwks_from_json(&k2, p, jparse(p, "{\"keys\":[]}"), NULL, &err),
                         APR_SUCCESS);
        assert_int_equal(k2->nelts, 0);
    }
}

/* ---- PEM / DER / files ---------------------------------------------------------------- */

static void pem_refused(apr_pool_t *p, const char *buf, apr_size_t len, const char *want)
{
    vjwt_key_t *k = (vjwt_key_t *)1;
    const char *err = NULL;
    assert_int_equal(vjwt_key_from_pem(&k, p, buf, len, &err), APR_EINVAL);
    assert_null(k);
    if (!err || !strstr(err, want)) {
        fail_msg("PEM refused with '%s', expected '%s'", err ? err : "(null)", want);
    }
}

static void t_pem(void **state)
{
    apr_pool_t *p = *state;
    const char *pem = pem_of(p, g_rsa2048), *crt;
    apr_size_t dlen;
    unsigned char *der;
    vjwt_key_t *k;

    k = must_pem(p, pem, strlen(pem));
    assert_int_equal(EVP_PKEY_eq(k->pkey, g_rsa2048), 1);
    assert_string_equal(k->source, "pem");
    /* text around the block is allowed */
    k = must_pem(p, apr_pstrcat(p, "my key\n", pem, "\n", NULL), strlen(pem) + 9);
    /* EC and Ed25519 */
    pem = pem_of(p, g_p384);
    k = must_pem(p, pem, strlen(pem));
    assert_int_equal(k->curve_nid, NID_secp384r1);
    assert_int_equal(k->kty, VJWT_KTY_EC);
    pem = pem_of(p, g_ed25519);
    k = must_pem(p, pem, strlen(pem));
    assert_int_equal(k->kty, VJWT_KTY_OKP);
    /* certificate, PEM and DER */
    crt = cert_b64(p, g_p521);
    k = must_pem(p, cert_pem(p, crt), strlen(cert_pem(p, crt)));
    assert_int_equal(k->curve_nid, NID_secp521r1);
    assert_int_equal(vjwt_b64_decode(p, crt, strlen(crt), &der, &dlen), APR_SUCCESS);
    k = must_pem(p, (const char *)der, dlen);
    assert_int_equal(EVP_PKEY_eq(k->pkey, g_p521), 1);
    /* SPKI DER */
    der = der_of(p, g_rsa2048, &dlen);
    k = must_pem(p, (const char *)der, dlen);
    assert_int_equal(EVP_PKEY_eq(k->pkey, g_rsa2048), 1);
    pem_refused(p, (const char *)der, dlen - 1, "neither PEM nor");
    {
        unsigned char *d2 = apr_palloc(p, dlen + 1);
        memcpy(d2, der, dlen);
        d2[dlen] = 0;
        pem_refused(p, (const char *)d2, dlen + 1, "neither PEM nor");
    }
    /* PKCS#1 RSAPublicKey, PEM "RSA PUBLIC KEY" and bare DER */
    {
        unsigned char *pk1 = NULL;
        int n = i2d_PublicKey(g_rsa2048, &pk1);
        BIO *b = BIO_new(BIO_s_mem());
        char *data;
        long blen;
        assert_true(n > 0);
        k = must_pem(p, (const char *)pk1, (apr_size_t)n);
        assert_int_equal(EVP_PKEY_eq(k->pkey, g_rsa2048), 1);
        assert_true(PEM_write_bio(b, "RSA PUBLIC KEY", "", pk1, n) > 0);
        blen = BIO_get_mem_data(b, &data);
        k = must_pem(p, data, (apr_size_t)blen);
        assert_int_equal(EVP_PKEY_eq(k->pkey, g_rsa2048), 1);
        /* a PUBLIC KEY label on PKCS#1 content is refused */
        BIO_free(b);
        b = BIO_new(BIO_s_mem());
        assert_true(PEM_write_bio(b, "PUBLIC KEY", "", pk1, n) > 0);
        blen = BIO_get_mem_data(b, &data);
        pem_refused(p, data, (apr_size_t)blen, "does not hold a valid key");
        BIO_free(b);
        OPENSSL_free(pk1);
    }
    /* private keys are refused */
    {
        BIO *b = BIO_new(BIO_s_mem());
        char *data;
        long blen;
        assert_int_equal(PEM_write_bio_PrivateKey(b, g_p256, NULL, NULL, 0, NULL, NULL), 1);
        blen = BIO_get_mem_data(b, &data);
        pem_refused(p, data, (apr_size_t)blen, "PRIVATE KEY");
        BIO_free(b);
    }
    /* exactly one key */
    pem = apr_pstrcat(p, pem_of(p, g_rsa2048), pem_of(p, g_p256), NULL);
    pem_refused(p, pem, strlen(pem), "more than one PEM block");
    pem = pem_of(p, g_rsa2048);
    pem_refused(p, pem, strlen(pem) - 30, "malformed PEM");
    pem = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";
    pem_refused(p, pem, strlen(pem), "valid key");
    pem_refused(p, "garbage", 7, "neither PEM nor");
    pem_refused(p, "", 0, "no key data");
    /* unsupported key types and small RSA */
    {
        EVP_PKEY *k448 = EVP_PKEY_Q_keygen(NULL, NULL, "ED448");
        EVP_PKEY *k256k1 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp256k1");
        EVP_PKEY *k512 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)512);
        EVP_PKEY *kpss = EVP_PKEY_Q_keygen(NULL, NULL, "RSA-PSS", (size_t)2048);
        if (k448) {
            pem = pem_of(p, k448);
            pem_refused(p, pem, strlen(pem), "unsupported key type");
        }
        if (k256k1) {
            pem = pem_of(p, k256k1);
            pem_refused(p, pem, strlen(pem), "secp256k1 is not supported");
        }
        if (k512) {
            pem = pem_of(p, k512);
            k = must_pem(p, pem, strlen(pem));
            assert_int_equal(k->bits, 512);
        }
        if (kpss) {
            pem = pem_of(p, kpss);
            pem_refused(p, pem, strlen(pem), "unsupported key type");
        }
        EVP_PKEY_free(k448);
        EVP_PKEY_free(k256k1);
        EVP_PKEY_free(k512);
        EVP_PKEY_free(kpss);
    }
    assert_int_equal(ERR_peek_error(), 0);
}

static const char *write_temp(apr_pool_t *p, const char *data, apr_size_t len)
{
    apr_file_t *f;
    char *tmpl = apr_pstrdup(p, "/tmp/vjwt-test-XXXXXX");
    apr_size_t n = len;
    assert_int_equal(
        apr_file_mktemp(&f, tmpl,
                        APR_FOPEN_CREATE | APR_FOPEN_READ | APR_FOPEN_WRITE | APR_FOPEN_EXCL, p),
        APR_SUCCESS);
    assert_int_equal(apr_file_write_full(f, data, len, &n), APR_SUCCESS);
    apr_file_close(f);
    return tmpl;
}

static void t_keys_from_file(void **state)
{
    apr_pool_t *p = *state;
    apr_array_header_t *keys = apr_array_make(p, 4, sizeof(vjwt_key_t *));
    apr_array_header_t *skipped = apr_array_make(p, 4, sizeof(const char *));
    const char *pem = pem_of(p, g_rsa2048), *err = NULL, *f1, *f2, *f3, *f4, *f5;
    const char *jwks = apr_pstrcat(p, "  \n{\"keys\":[", vjwt_json_text(p, jwk_of(p, g_p256)),
                                   ",{\"kty\":\"oct\",\"use\":\"enc\",\"k\":\"AQID\"}]}", NULL);
    apr_size_t dlen;
    unsigned char *der = der_of(p, g_ed25519, &dlen);
    char *big;

    f1 = write_temp(p, pem, strlen(pem));
    f2 = write_temp(p, jwks, strlen(jwks));
    f3 = write_temp(p, (const char *)der, dlen);
    assert_int_equal(vjwt_keys_from_file(keys, p, f1, skipped, &err), APR_SUCCESS);
    assert_int_equal(vjwt_keys_from_file(keys, p, f2, skipped, &err), APR_SUCCESS);
    assert_int_equal(vjwt_keys_from_file(keys, p, f3, skipped, &err), APR_SUCCESS);
    assert_int_equal(keys->nelts, 3);
    assert_int_equal(skipped->nelts, 1);
    assert_int_equal(APR_ARRAY_IDX(keys, 0, vjwt_key_t *)->kty, VJWT_KTY_RSA);
    assert_int_equal(APR_ARRAY_IDX(keys, 1, vjwt_key_t *)->kty, VJWT_KTY_EC);
    assert_int_equal(APR_ARRAY_IDX(keys, 2, vjwt_key_t *)->kty, VJWT_KTY_OKP);
    assert_string_equal(APR_ARRAY_IDX(keys, 1, vjwt_key_t *)->source,
                        apr_pstrcat(p, "file:", f2, NULL));

    /* failures: set-level JWKS problem, junk, too big, missing, a directory */
    f4 = write_temp(p, "{\"keys\":5}", 10);
    err = NULL;
    assert_int_equal(vjwt_keys_from_file(keys, p, f4, NULL, &err), APR_EINVAL);
    assert_non_null(strstr(err, f4));
    assert_non_null(strstr(err, "not an array"));
    big = apr_palloc(p, 1024 * 1024 + 1);
    memset(big, ' ', 1024 * 1024 + 1);
    f5 = write_temp(p, big, 1024 * 1024 + 1);
    assert_int_equal(vjwt_keys_from_file(keys, p, f5, NULL, &err), APR_EINVAL);
    assert_non_null(strstr(err, "1 MiB"));
    assert_int_equal(vjwt_keys_from_file(keys, p, "/nonexistent/vjwt.pem", NULL, &err), APR_EINVAL);
    assert_int_equal(vjwt_keys_from_file(keys, p, "/tmp", NULL, &err), APR_EINVAL);
    assert_int_equal(keys->nelts, 3);
    apr_file_remove(f1, p);
    apr_file_remove(f2, p);
    apr_file_remove(f3, p);
    apr_file_remove(f4, p);
    apr_file_remove(f5, p);
}

static void t_rsa_ne_and_describe(void **state)
{
    apr_pool_t *p = *state;
    json_t *rsa = jwk_of(p, g_rsa2048);
    vjwt_key_t *k = NULL;
    const char *err = NULL;
    assert_int_equal(vjwt_key_from_rsa_ne(&k, p, json_string_value(json_object_get(rsa, "n")),
                                          json_string_value(json_object_get(rsa, "e")), &err),
                     APR_SUCCESS);
    assert_int_equal(EVP_PKEY_eq(k->pkey, g_rsa2048), 1);
    assert_string_equal(k->source, "n/e");
    assert_string_equal(vjwt_key_describe(p, k), "RSA 2048");
    assert_int_equal(
        vjwt_key_from_rsa_ne(&k, p, json_string_value(json_object_get(rsa, "n")), "AQ", &err),
        APR_EINVAL);
    assert_null(k);
    assert_int_equal(vjwt_key_from_rsa_ne(&k, p, "AQAB=", "AQAB", &err), APR_EINVAL);
    assert_int_equal(vjwt_key_from_rsa_ne(&k, p, NULL, "AQAB", &err), APR_EINVAL);

    assert_string_equal(vjwt_key_describe(p, must_jwk(p, jwk_of(p, g_p256))), "EC P-256");
    assert_string_equal(vjwt_key_describe(p, must_jwk(p, jwk_of(p, g_p384))), "EC P-384");
    assert_string_equal(vjwt_key_describe(p, must_jwk(p, jwk_of(p, g_p521))), "EC P-521");
    assert_string_equal(vjwt_key_describe(p, must_jwk(p, jwk_of(p, g_ed25519))), "OKP Ed25519");
    assert_string_equal(vjwt_key_describe(p, must_secret(p, SECRET64, 32)), "oct 256 bits");
    assert_string_equal(vjwt_key_describe(p, NULL), "no key");
}

/* keys made in a pool are released with it (run under valgrind) */
static void t_key_lifetime(void **state)
{
    apr_pool_t *p = *state, *sub;
    int i;
    for (i = 0; i < 3; i++) {
        const char *pem = pem_of(p, g_p256);
        apr_pool_create(&sub, p);
        must_jwk(sub, jwk_of(sub, g_rsa2048));
        must_pem(sub, pem, strlen(pem));
        must_secret(sub, SECRET64, 64);
        jwks_ok(sub, "{\"keys\":[{\"kty\":\"oct\",\"k\":\"AQID\"}]}", NULL);
        apr_pool_destroy(sub);
    }
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, vjwt_test_pool_setup, vjwt_test_pool_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(t_registry),
        T(t_verify_all_algs),
        T(t_verify_concurrent),
        T(t_sha256),
        T(t_verify_guards),
        T(t_ecdsa_encoding),
        T(t_pss_params),
        T(t_binding),
        T(t_rsa_floor),
        T(t_hmac_secret_len),
        T(t_jwk_alg_binding),
        T(t_jwk_ok),
        T(t_jwk_errors),
        T(t_jwk_lenient_members),
        T(t_jwk_x5c),
        T(t_jwks),
        T(t_pem),
        T(t_keys_from_file),
        T(t_rsa_ne_and_describe),
        T(t_key_lifetime),
    };
    vjwt_test_init();
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
