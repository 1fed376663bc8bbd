/*
 * vjwt_jwe.c - compact JWE decryption (RFC 7516) with the algorithms of RFC 7518 sections
 * 4.1-4.6 and 5.1-5.3. See vjwt_jwe.h.
 *
 * Ownership: every EVP_PKEY and secret belongs to its vjwt_jwe_key_t, every fetched
 * algorithm to the vjwt_jwe_ctx_t; a cleanup on their pool frees them. Per-call OpenSSL
 * objects (cipher, MAC, KDF and PKEY contexts, the ephemeral public key) are freed before
 * the function that made them returns; CEKs, KEKs and shared secrets live on the stack and
 * are cleansed on every path.
 *
 * Fetching: the ciphers, digests, HMAC and SSKDF are fetched once by vjwt_jwe_ctx_make, which
 * also keeps HMAC contexts with their digest set (duplicated per token), and an A*KW key
 * keeps an AES-ECB context keyed once (RFC 3394 unwrap in vjwt_crypto.c, with AES-NI, where
 * OpenSSL 3.0's key-wrap cipher runs software AES). Per call, OpenSSL still looks up by name
 * the digest given to SSKDF as a parameter, the RSA-OAEP digests and the key-exchange/
 * asymmetric-cipher implementation of the key (ECDH-ES and RSA-OAEP, whose own cost is one
 * EC scalar multiplication or RSA private-key operation).
 */
#include "vjwt_jwe.h"
#include "vjwt_b64.h"
#include "vjwt_crypto.h"
#include "vjwt_json.h"
#include "vjwt_jwk.h"

#include <string.h>
#include <strings.h>
#include <apr_strings.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/param_build.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#define JWE_RSA_MIN_LOAD_BITS 1024
#define JWE_RSA_MAX_BITS      16384
#define JWE_DEFAULT_MAX_PT    (64 * 1024)
#define JWE_MAX_CEK           64
#define JWE_MAX_FIELD         66 /* P-521 */

/* ---- algorithm tables ----------------------------------------------------------------- */

typedef enum { KM_DIR = 1, KM_AESKW, KM_RSA_OAEP, KM_ECDH_ES, KM_ECDH_ES_KW } km_e;

typedef struct {
    const char *name;
    km_e km;
    apr_size_t kek_len; /* A*KW and ECDH-ES+A*KW: AES key length */
    int oaep_bits;      /* RSA-OAEP: 1 (SHA-1) or 256 */
} km_alg_t;

static const km_alg_t km_algs[] = {
    {"dir", KM_DIR, 0, 0},
    {"A128KW", KM_AESKW, 16, 0},
    {"A192KW", KM_AESKW, 24, 0},
    {"A256KW", KM_AESKW, 32, 0},
    {"RSA-OAEP", KM_RSA_OAEP, 0, 1},
    {"RSA-OAEP-256", KM_RSA_OAEP, 0, 256},
    {"ECDH-ES", KM_ECDH_ES, 0, 0},
    {"ECDH-ES+A128KW", KM_ECDH_ES_KW, 16, 0},
    {"ECDH-ES+A192KW", KM_ECDH_ES_KW, 24, 0},
    {"ECDH-ES+A256KW", KM_ECDH_ES_KW, 32, 0},
};

typedef enum { CE_CBC_HS = 1, CE_GCM } ce_e;

typedef struct {
    const char *name;
    ce_e ce;
    apr_size_t key_len; /* CEK */
    apr_size_t iv_len;
    apr_size_t tag_len;
    int idx; /* 0/1/2: AES-128/192/256; CBC-HS: SHA-256/384/512 */
} enc_alg_t;

static const enc_alg_t enc_algs[] = {
    {"A128CBC-HS256", CE_CBC_HS, 32, 16, 16, 0}, {"A192CBC-HS384", CE_CBC_HS, 48, 16, 24, 1},
    {"A256CBC-HS512", CE_CBC_HS, 64, 16, 32, 2}, {"A128GCM", CE_GCM, 16, 12, 16, 0},
    {"A192GCM", CE_GCM, 24, 12, 16, 1},          {"A256GCM", CE_GCM, 32, 12, 16, 2},
};

#define N_KM  (sizeof(km_algs) / sizeof(km_algs[0]))
#define N_ENC (sizeof(enc_algs) / sizeof(enc_algs[0]))

static const km_alg_t *km_lookup(const char *name)
{
    apr_size_t i;
    for (i = 0; i < N_KM; i++) {
        if (strcmp(km_algs[i].name, name) == 0) {
            return &km_algs[i];
        }
    }
    return NULL;
}

static const enc_alg_t *enc_lookup(const char *name)
{
    apr_size_t i;
    for (i = 0; i < N_ENC; i++) {
        if (strcmp(enc_algs[i].name, name) == 0) {
            return &enc_algs[i];
        }
    }
    return NULL;
}

static apr_status_t fail(const char **err, const char *why)
{
    if (err) {
        *err = why;
    }
    return APR_EINVAL;
}

/* ---- the fetched algorithms ------------------------------------------------------------ */

struct vjwt_jwe_ctx_t {
    EVP_CIPHER *gcm[3], *cbc[3];
    EVP_MD *sha1, *sha256, *sha[3]; /* sha[i]: SHA-256/384/512 */
    EVP_MAC *hmac;
    EVP_MAC_CTX *hmac_sha[3]; /* HMAC with SHA-256/384/512 set, no key: duplicated per token */
    EVP_KDF *sskdf;
    /* the CEK a failed unwrap or RSA decryption goes on with (RFC 7516 section 11.5):
     * drawn once from the DRBG, never revealed, so the tag check fails as it would with a
     * fresh random CEK, without a DRBG call (and OpenSSL 3.0's lock in RAND_bytes) per
     * token */
    unsigned char fallback_cek[JWE_MAX_CEK];
};

static apr_status_t ctx_cleanup(void *data)
{
    vjwt_jwe_ctx_t *c = data;
    int i;
    for (i = 0; i < 3; i++) {
        EVP_CIPHER_free(c->gcm[i]);
        EVP_CIPHER_free(c->cbc[i]);
        EVP_MD_free(c->sha[i]);
        EVP_MAC_CTX_free(c->hmac_sha[i]);
    }
    EVP_MD_free(c->sha1);
    EVP_MAC_free(c->hmac);
    EVP_KDF_free(c->sskdf);
    OPENSSL_cleanse(c, sizeof(*c));
    return APR_SUCCESS;
}

apr_status_t vjwt_jwe_ctx_make(vjwt_jwe_ctx_t **out, apr_pool_t *p, const char **err)
{
    static const char *const gcm[3] = {"AES-128-GCM", "AES-192-GCM", "AES-256-GCM"};
    static const char *const cbc[3] = {"AES-128-CBC", "AES-192-CBC", "AES-256-CBC"};
    static const char *const sha[3] = {"SHA2-256", "SHA2-384", "SHA2-512"};
    vjwt_jwe_ctx_t *c;
    int i;

    if (!out) {
        return fail(err, "no output");
    }
    *out = NULL;
    c = apr_pcalloc(p, sizeof(*c));
    apr_pool_cleanup_register(p, c, ctx_cleanup, apr_pool_cleanup_null);
    for (i = 0; i < 3; i++) {
        c->gcm[i] = EVP_CIPHER_fetch(NULL, gcm[i], NULL);
        c->cbc[i] = EVP_CIPHER_fetch(NULL, cbc[i], NULL);
        c->sha[i] = EVP_MD_fetch(NULL, sha[i], NULL);
        if (!c->gcm[i] || !c->cbc[i] || !c->sha[i]) {
            ERR_clear_error();
            return fail(err, "OpenSSL lacks an AES mode or SHA-2 digest JWE needs");
        }
    }
    c->sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
    c->sha256 = c->sha[0];
    c->hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    c->sskdf = EVP_KDF_fetch(NULL, "SSKDF", NULL);
    if (!c->sha1 || !c->hmac || !c->sskdf) {
        ERR_clear_error();
        return fail(err, "OpenSSL lacks SHA-1, HMAC or SSKDF");
    }
    for (i = 0; i < 3; i++) {
        OSSL_PARAM params[2];
        params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)sha[i], 0);
        params[1] = OSSL_PARAM_construct_end();
        c->hmac_sha[i] = EVP_MAC_CTX_new(c->hmac);
        if (!c->hmac_sha[i] || EVP_MAC_CTX_set_params(c->hmac_sha[i], params) != 1) {
            ERR_clear_error();
            return fail(err, "OpenSSL cannot set up HMAC with SHA-2");
        }
    }
    if (RAND_priv_bytes(c->fallback_cek, sizeof(c->fallback_cek)) != 1) {
        ERR_clear_error();
        return fail(err, "OpenSSL's random generator failed");
    }
    *out = c;
    return APR_SUCCESS;
}

/* ---- keys ------------------------------------------------------------------------------ */

static apr_status_t key_cleanup(void *data)
{
    vjwt_jwe_key_t *k = data;
    EVP_CIPHER_CTX_free(k->kw); /* cleanses its key schedule */
    k->kw = NULL;
    vjwt_key_material_free(&k->pkey, k->secret, k->secret_len);
    return APR_SUCCESS;
}

static vjwt_jwe_key_t *key_new(apr_pool_t *p, vjwt_jwe_kind_e kind, const char *kid,
                               const char *source)
{
    vjwt_jwe_key_t *k = apr_pcalloc(p, sizeof(*k));
    k->kind = kind;
    k->kid = kid ? apr_pstrdup(p, kid) : NULL;
    k->source = source;
    apr_pool_cleanup_register(p, k, key_cleanup, apr_pool_cleanup_null);
    return k;
}

static int secret_len_ok(apr_size_t len)
{
    return len == 16 || len == 24 || len == 32 || len == 48 || len == 64;
}

apr_status_t vjwt_jwe_key_from_secret(vjwt_jwe_key_t **out, apr_pool_t *p, const char *kid,
                                      const unsigned char *secret, apr_size_t len, const char **err)
{
    vjwt_jwe_key_t *k;
    if (!out) {
        return fail(err, "no output");
    }
    *out = NULL;
    if (!secret || !secret_len_ok(len)) {
        return fail(err, "a symmetric decryption key must be 16, 24, 32, 48 or 64 bytes "
                         "(A*KW: 16/24/32; dir: the enc's key length)");
    }
    k = key_new(p, VJWT_JWE_KEY_OCT, kid, "secret");
    k->secret = apr_pmemdup(p, secret, len);
    k->secret_len = len;
    k->bits = (int)(len * 8);
    if (len <= 32) {
        k->kw = vjwt_aes_kw_ctx_make(k->secret, len); /* NULL: made per unwrap instead */
    }
    *out = k;
    return APR_SUCCESS;
}

/* 1 when pkey holds the private half (RSA d, EC private scalar). */
static int has_private(EVP_PKEY *pkey, const char *param)
{
    BIGNUM *bn = NULL;
    int ok = EVP_PKEY_get_bn_param(pkey, param, &bn) == 1 && bn && !BN_is_zero(bn);
    BN_clear_free(bn);
    return ok;
}

/* What a private EVP_PKEY is: RSA of 1024..16384 bits or EC on P-256/384/521, with its
 * private half. */
static apr_status_t pkey_kind(EVP_PKEY *pkey, vjwt_jwe_kind_e *kind, int *bits, int *nid,
                              const char **err)
{
    const vjwt_curve_t *c;

    if (EVP_PKEY_is_a(pkey, "RSA")) {
        *kind = VJWT_JWE_KEY_RSA;
        *bits = EVP_PKEY_get_bits(pkey);
        if (*bits < JWE_RSA_MIN_LOAD_BITS || *bits > JWE_RSA_MAX_BITS) {
            return fail(err, "RSA decryption key must have 1024 to 16384 bits");
        }
        if (!has_private(pkey, OSSL_PKEY_PARAM_RSA_D)) {
            return fail(err, "not a private key (a decryption key needs the private half)");
        }
        return APR_SUCCESS;
    }
    if (!EVP_PKEY_is_a(pkey, "EC")) {
        return fail(err, "decryption key must be RSA or EC (P-256/384/521)");
    }
    *kind = VJWT_JWE_KEY_EC;
    if (!(c = vjwt_pkey_curve(pkey))) {
        return fail(err, "EC decryption key must be on P-256, P-384 or P-521");
    }
    *nid = c->nid;
    *bits = c->bits;
    if (!has_private(pkey, OSSL_PKEY_PARAM_PRIV_KEY)) {
        return fail(err, "not a private key (a decryption key needs the private half)");
    }
    return APR_SUCCESS;
}

apr_status_t vjwt_jwe_key_from_pkey(vjwt_jwe_key_t **out, apr_pool_t *p, const char *kid,
                                    EVP_PKEY *pkey, const char **err)
{
    vjwt_jwe_key_t *k;
    vjwt_jwe_kind_e kind = VJWT_JWE_KEY_RSA;
    int bits = 0, nid = 0;

    if (!out) {
        return fail(err, "no output");
    }
    *out = NULL;
    if (!pkey) {
        return fail(err, "no key");
    }
    ERR_clear_error();
    if (pkey_kind(pkey, &kind, &bits, &nid, err) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if (!vjwt_pkey_check(pkey, EVP_PKEY_KEYPAIR)) {
        return fail(err, "private key fails the key-pair consistency check");
    }
    if (EVP_PKEY_up_ref(pkey) != 1) {
        return fail(err, "cannot reference key");
    }
    k = key_new(p, kind, kid, "EVP_PKEY");
    k->pkey = pkey;
    k->bits = bits;
    k->curve_nid = nid;
    *out = k;
    return APR_SUCCESS;
}

apr_status_t vjwt_jwe_key_from_pem(vjwt_jwe_key_t **out, apr_pool_t *p, const char *kid,
                                   const char *buf, apr_size_t len, const char **err)
{
    EVP_PKEY *pkey = NULL;
    apr_status_t rv;

    if (!out) {
        return fail(err, "no output");
    }
    *out = NULL;
    if (vjwt_pkey_from_pem(&pkey, p, buf, len, EVP_PKEY_KEYPAIR, err) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    rv = vjwt_jwe_key_from_pkey(out, p, kid, pkey, err);
    EVP_PKEY_free(pkey);
    if (rv == APR_SUCCESS) {
        (*out)->source = "pem";
    }
    return rv;
}

apr_status_t vjwt_jwe_key_from_file(vjwt_jwe_key_t **out, apr_pool_t *p, const char *kid,
                                    const char *path, const char **err)
{
    apr_size_t n = 0;
    char *buf = NULL;
    apr_status_t rv;

    if (!out) {
        return fail(err, "no output");
    }
    *out = NULL;
    if (!path) {
        return fail(err, "no file");
    }
    if (vjwt_key_file_read(p, path, &buf, &n, err) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    rv = vjwt_jwe_key_from_pem(out, p, kid, buf, n, err);
    vjwt_wipe((unsigned char *)buf, n);
    if (rv == APR_SUCCESS) {
        (*out)->source = apr_pstrcat(p, "file:", path, NULL);
    }
    return rv;
}

/* ---- private JWK ---------------------------------------------------------------------- */

/* A required (or, with opt, optional) base64url/base64 member; *out NULL when absent. */
static apr_status_t jwk_b64(apr_pool_t *p, json_t *jwk, const char *name, int opt,
                            unsigned char **out, apr_size_t *len, const char **err)
{
    json_t *m = json_object_get(jwk, name);
    *out = NULL;
    *len = 0;
    if (!m) {
        return opt ? APR_SUCCESS : fail(err, apr_psprintf(p, "JWK lacks \"%s\"", name));
    }
    if (!json_is_string(m) || json_string_length(m) == 0 ||
        vjwt_b64_decode_jwk(p, json_string_value(m), json_string_length(m), out, len, NULL) !=
            APR_SUCCESS ||
        *len == 0) {
        return fail(err, apr_psprintf(p, "JWK \"%s\" is not base64url", name));
    }
    return APR_SUCCESS;
}

static apr_status_t jwk_rsa(EVP_PKEY **out, apr_pool_t *p, json_t *jwk, const char **err)
{
    static const char *const names[8] = {"n", "e", "d", "p", "q", "dp", "dq", "qi"};
    static const char *const params[8] = {
        OSSL_PKEY_PARAM_RSA_N,         OSSL_PKEY_PARAM_RSA_E,
        OSSL_PKEY_PARAM_RSA_D,         OSSL_PKEY_PARAM_RSA_FACTOR1,
        OSSL_PKEY_PARAM_RSA_FACTOR2,   OSSL_PKEY_PARAM_RSA_EXPONENT1,
        OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1};
    unsigned char *b[8] = {0};
    apr_size_t l[8] = {0};
    BIGNUM *bn[8] = {0};
    OSSL_PARAM_BLD *bld = NULL;
    apr_status_t rv = APR_EINVAL;
    int i, pushed = 1;

    *out = NULL;
    if (json_object_get(jwk, "oth")) {
        return fail(err, "multi-prime RSA JWK (\"oth\") is not supported");
    }
    for (i = 0; i < 8; i++) {
        if (jwk_b64(p, jwk, names[i], 0, &b[i], &l[i], err) != APR_SUCCESS) {
            goto done;
        }
    }
    bld = OSSL_PARAM_BLD_new();
    if (!bld) {
        fail(err, "out of memory");
        goto done;
    }
    for (i = 0; pushed && i < 8; i++) {
        bn[i] = i >= 2 ? BN_secure_new() : BN_new(); /* d and the CRT values: secure heap */
        pushed = bn[i] && BN_bin2bn(b[i], (int)l[i], bn[i]) &&
                 OSSL_PARAM_BLD_push_BN(bld, params[i], bn[i]);
    }
    rv = vjwt_pkey_from_params(out, "RSA", EVP_PKEY_KEYPAIR, bld, pushed,
                               "cannot build RSA key parameters",
                               "RSA JWK is not a valid private key", err); /* frees bld */
done:
    for (i = 0; i < 8; i++) {
        BN_clear_free(bn[i]);
        vjwt_wipe(b[i], l[i]);
    }
    ERR_clear_error();
    return rv;
}

static apr_status_t jwk_ec(EVP_PKEY **out, apr_pool_t *p, json_t *jwk, const char **err)
{
    json_t *crv = json_object_get(jwk, "crv");
    const vjwt_curve_t *c;
    unsigned char *x = NULL, *y = NULL, *d = NULL;
    apr_size_t xl, yl, dl = 0;
    apr_status_t rv = APR_EINVAL;

    *out = NULL;
    if (!json_is_string(crv) || !(c = vjwt_curve_by_crv(json_string_value(crv)))) {
        return fail(err, "EC JWK \"crv\" must be P-256, P-384 or P-521");
    }
    if (jwk_b64(p, jwk, "x", 0, &x, &xl, err) != APR_SUCCESS ||
        jwk_b64(p, jwk, "y", 0, &y, &yl, err) != APR_SUCCESS ||
        jwk_b64(p, jwk, "d", 0, &d, &dl, err) != APR_SUCCESS) {
        goto done;
    }
    if (xl != c->len || yl != c->len || dl != c->len) {
        fail(err, apr_psprintf(p, "EC JWK x, y and d must be %d octets each for %s", (int)c->len,
                               c->crv));
        goto done;
    }
    rv = vjwt_ec_pkey_from_xy(out, c, x, y, d, "cannot build EC key parameters",
                              "EC JWK is not a valid private key on its curve", err);
done:
    vjwt_wipe(d, dl);
    ERR_clear_error();
    return rv;
}

/* "key_ops" allows some decryption use. */
static int key_ops_ok(json_t *ops)
{
    size_t i;
    json_t *o;
    if (!json_is_array(ops)) {
        return 0;
    }
    json_array_foreach(ops, i, o)
    {
        const char *s = json_string_value(o);
        if (s && (strcmp(s, "decrypt") == 0 || strcmp(s, "unwrapKey") == 0 ||
                  strcmp(s, "deriveKey") == 0 || strcmp(s, "deriveBits") == 0)) {
            return 1;
        }
    }
    return 0;
}

/* "alg" of a private JWK of kty t: a supported key-management algorithm of that kind (for
 * an oct key also an enc: a dir key). */
static apr_status_t jwk_alg_check(const char *t, const char *alg_s, const char **err)
{
    const km_alg_t *km = km_lookup(alg_s);

    if (strcmp(t, "oct") == 0) {
        if (!(km && (km->km == KM_DIR || km->km == KM_AESKW)) && !enc_lookup(alg_s)) {
            return fail(err, "JWK \"alg\" is no supported algorithm for a symmetric "
                             "decryption key (dir, A128KW/A192KW/A256KW or an enc)");
        }
    }
    else if (strcmp(t, "RSA") == 0) {
        if (!km || km->km != KM_RSA_OAEP) {
            return fail(err, "JWK \"alg\" is no supported algorithm for an RSA "
                             "decryption key (RSA-OAEP, RSA-OAEP-256)");
        }
    }
    else if (!km || (km->km != KM_ECDH_ES && km->km != KM_ECDH_ES_KW)) {
        return fail(err, "JWK \"alg\" is no supported algorithm for an EC decryption key "
                         "(ECDH-ES, ECDH-ES+A128KW/A192KW/A256KW)");
    }
    return APR_SUCCESS;
}

/* The members every private JWK shares, in this order: "kty" (*t), "use", "key_ops", "kid"
 * (*kid_s, NULL when absent), "alg" (*alg_s, NULL when absent). */
static apr_status_t jwk_head(json_t *jwk, const char **t, const char **kid_s, const char **alg_s,
                             const char **err)
{
    json_t *kty = json_object_get(jwk, "kty"), *use, *ops, *kid, *alg;

    *kid_s = *alg_s = NULL;
    if (!json_is_object(jwk) || !json_is_string(kty)) {
        return fail(err, "JWK must be an object with a string \"kty\"");
    }
    *t = json_string_value(kty);
    use = json_object_get(jwk, "use");
    if (use && (!json_is_string(use) || strcmp(json_string_value(use), "enc") != 0)) {
        return fail(err, "JWK \"use\" is not \"enc\"");
    }
    ops = json_object_get(jwk, "key_ops");
    if (ops && !key_ops_ok(ops)) {
        return fail(err, "JWK \"key_ops\" allows no decryption");
    }
    kid = json_object_get(jwk, "kid");
    if (kid) {
        if (!json_is_string(kid)) {
            return fail(err, "JWK \"kid\" is not a string");
        }
        *kid_s = json_string_value(kid);
    }
    alg = json_object_get(jwk, "alg");
    if (alg) {
        if (!json_is_string(alg)) {
            return fail(err, "JWK \"alg\" is not a string");
        }
        *alg_s = json_string_value(alg);
        return jwk_alg_check(*t, *alg_s, err);
    }
    return APR_SUCCESS;
}

apr_status_t vjwt_jwe_key_from_jwk(vjwt_jwe_key_t **out, apr_pool_t *p, json_t *jwk,
                                   const char **err)
{
    const char *kid_s = NULL, *alg_s = NULL, *t = NULL;
    EVP_PKEY *pkey = NULL;
    apr_status_t rv;

    if (!out) {
        return fail(err, "no output");
    }
    *out = NULL;
    if (jwk_head(jwk, &t, &kid_s, &alg_s, err) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if (strcmp(t, "oct") == 0) {
        unsigned char *k;
        apr_size_t kl;
        if (jwk_b64(p, jwk, "k", 0, &k, &kl, err) != APR_SUCCESS) {
            return APR_EINVAL;
        }
        rv = vjwt_jwe_key_from_secret(out, p, kid_s, k, kl, err);
        vjwt_wipe(k, kl);
    }
    else {
        if (strcmp(t, "RSA") == 0) {
            rv = jwk_rsa(&pkey, p, jwk, err);
        }
        else if (strcmp(t, "EC") == 0) {
            rv = jwk_ec(&pkey, p, jwk, err);
        }
        else {
            return fail(err, "JWK \"kty\" must be oct, RSA or EC for a decryption key");
        }
        if (rv != APR_SUCCESS) {
            return rv;
        }
        rv = vjwt_jwe_key_from_pkey(out, p, kid_s, pkey, err);
        EVP_PKEY_free(pkey);
    }
    if (rv == APR_SUCCESS) {
        (*out)->alg = alg_s ? apr_pstrdup(p, alg_s) : NULL;
        (*out)->source = "jwk";
    }
    return rv;
}

const char *vjwt_jwe_key_describe(apr_pool_t *p, const vjwt_jwe_key_t *k)
{
    static const vjwt_kty_e kty[] = {VJWT_KTY_OCT, VJWT_KTY_RSA, VJWT_KTY_EC};
    vjwt_key_t d; /* described as the verification key of its type would be */

    if (!k) {
        return "(none)";
    }
    if (k->kind < VJWT_JWE_KEY_OCT || k->kind > VJWT_JWE_KEY_EC) {
        return "?";
    }
    memset(&d, 0, sizeof(d));
    d.kty = kty[k->kind - VJWT_JWE_KEY_OCT];
    d.bits = k->bits;
    d.curve_nid = k->curve_nid;
    d.secret_len = k->secret_len;
    return vjwt_key_describe(p, &d);
}

/* ---- decryption ------------------------------------------------------------------------ */

int vjwt_jwe_is_compact(const char *token, apr_size_t len)
{
    apr_size_t i, dots = 0;
    if (!token || len == 0 || token[0] == '.') {
        return 0;
    }
    for (i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)token[i];
        if (ch == '.') {
            dots++;
        }
        else if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                   (ch >= '0' && ch <= '9') || ch == '-' || ch == '_')) {
            return 0;
        }
    }
    return dots == 4;
}

typedef struct {
    const unsigned char *ek, *iv, *ct, *tag;
    apr_size_t ek_len, iv_len, ct_len, tag_len;
    const char *aad; /* the protected header segment, as sent */
    apr_size_t aad_len;
    EVP_PKEY *epk;
    int epk_nid;
    const unsigned char *apu, *apv;
    apr_size_t apu_len, apv_len;
} jwe_parts_t;

/* Ephemeral public key of ECDH-ES: a public EC JWK on P-256/384/521 whose point passes
 * EVP_PKEY_public_check (on the curve, not infinity: the invalid-curve attack). */
static apr_status_t epk_parse(jwe_parts_t *w, apr_pool_t *p, json_t *epk, const char **why)
{
    json_t *kty = json_object_get(epk, "kty"), *crv = json_object_get(epk, "crv");
    json_t *xj = json_object_get(epk, "x"), *yj = json_object_get(epk, "y");
    const vjwt_curve_t *c;
    unsigned char *x, *y;
    apr_size_t xl, yl;
    EVP_PKEY *pk = NULL;

    if (!json_is_object(epk)) {
        return fail(why, "\"epk\" missing or not an object");
    }
    if (!json_is_string(kty) || strcmp(json_string_value(kty), "EC") != 0) {
        return fail(why, "\"epk\" is not an EC key");
    }
    if (json_object_get(epk, "d")) {
        return fail(why, "\"epk\" holds a private key");
    }
    if (!json_is_string(crv) || !(c = vjwt_curve_by_crv(json_string_value(crv)))) {
        return fail(why, "\"epk\" crv is not P-256, P-384 or P-521");
    }
    if (!json_is_string(xj) || !json_is_string(yj) ||
        vjwt_b64url_decode(p, json_string_value(xj), json_string_length(xj), &x, &xl) !=
            APR_SUCCESS ||
        vjwt_b64url_decode(p, json_string_value(yj), json_string_length(yj), &y, &yl) !=
            APR_SUCCESS ||
        xl != c->len || yl != c->len) {
        return fail(why, "\"epk\" x/y missing, not base64url or not of the field size");
    }
    if (vjwt_ec_pkey_from_xy(&pk, c, x, y, NULL, "cannot build the epk",
                             "\"epk\" is not a point on its curve", why) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if (!vjwt_pkey_check(pk, EVP_PKEY_PUBLIC_KEY)) {
        EVP_PKEY_free(pk);
        return fail(why, "\"epk\" is not a valid public key on its curve");
    }
    w->epk = pk;
    w->epk_nid = c->nid;
    return APR_SUCCESS;
}

static int key_fits(const vjwt_jwe_key_t *k, const km_alg_t *km, const enc_alg_t *ce,
                    const jwe_parts_t *w, int min_rsa_bits)
{
    if (k->alg && strcmp(k->alg, km->name) != 0 &&
        !(km->km == KM_DIR && strcmp(k->alg, ce->name) == 0)) {
        return 0;
    }
    switch (km->km) {
    case KM_DIR:
        return k->kind == VJWT_JWE_KEY_OCT && k->secret_len == ce->key_len;
    case KM_AESKW:
        return k->kind == VJWT_JWE_KEY_OCT && k->secret_len == km->kek_len;
    case KM_RSA_OAEP:
        return k->kind == VJWT_JWE_KEY_RSA && k->bits >= min_rsa_bits;
    case KM_ECDH_ES:
    case KM_ECDH_ES_KW:
        return k->kind == VJWT_JWE_KEY_EC && k->curve_nid == w->epk_nid;
    }
    return 0;
}

/* RFC 3394 AES key unwrap of ek into exactly want bytes with tmpl (a key's AES-ECB template)
 * or, when tmpl is NULL, kek[0..kek_len). 1 on success. */
static int aes_unwrap(const EVP_CIPHER_CTX *tmpl, const unsigned char *kek, apr_size_t kek_len,
                      const unsigned char *ek, apr_size_t ek_len, unsigned char *out,
                      apr_size_t want)
{
    unsigned char buf[JWE_MAX_CEK];
    EVP_CIPHER_CTX *made = NULL;
    int ok;
    if (ek_len != want + 8 || want > JWE_MAX_CEK) {
        return 0;
    }
    if (!tmpl) {
        tmpl = made = vjwt_aes_kw_ctx_make(kek, kek_len);
    }
    ok = tmpl && vjwt_aes_unwrap(tmpl, ek, ek_len, buf);
    if (ok) {
        memcpy(out, buf, want); /* else out keeps the random CEK the caller put there */
    }
    EVP_CIPHER_CTX_free(made);
    OPENSSL_cleanse(buf, sizeof(buf));
    ERR_clear_error();
    return ok;
}

/* RSA-OAEP (SHA-1 or SHA-256, MGF1 with the same hash) into exactly want bytes. */
static int rsa_oaep(const vjwt_jwe_ctx_t *ctx, const vjwt_jwe_key_t *k, const km_alg_t *km,
                    const unsigned char *ek, apr_size_t ek_len, unsigned char *out, apr_size_t want)
{
    unsigned char buf[JWE_RSA_MAX_BITS / 8];
    size_t n = sizeof(buf);
    const EVP_MD *md = km->oaep_bits == 256 ? ctx->sha256 : ctx->sha1;
    EVP_PKEY_CTX *pc;
    int ok;
    if (ek_len != (apr_size_t)EVP_PKEY_get_size(k->pkey) || ek_len > sizeof(buf)) {
        return 0;
    }
    pc = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL);
    ok = pc && EVP_PKEY_decrypt_init(pc) == 1 &&
         EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_OAEP_PADDING) == 1 &&
         EVP_PKEY_CTX_set_rsa_oaep_md(pc, md) == 1 && EVP_PKEY_CTX_set_rsa_mgf1_md(pc, md) == 1 &&
         EVP_PKEY_decrypt(pc, buf, &n, ek, ek_len) == 1 && n == want;
    EVP_PKEY_CTX_free(pc);
    if (ok) {
        memcpy(out, buf, want);
    }
    OPENSSL_cleanse(buf, sizeof(buf));
    ERR_clear_error();
    return ok;
}

static void be32(unsigned char *b, apr_size_t v)
{
    b[0] = (unsigned char)(v >> 24);
    b[1] = (unsigned char)(v >> 16);
    b[2] = (unsigned char)(v >> 8);
    b[3] = (unsigned char)v;
}

/* ECDH-ES (RFC 7518 section 4.6): Z = ECDH(key, epk), then the Concat KDF (NIST SP 800-56A,
 * OpenSSL's SSKDF with SHA-256) with AlgorithmID = algid, PartyUInfo = apu, PartyVInfo = apv
 * and SuppPubInfo = out_len in bits. */
static int ecdh_es(apr_pool_t *p, const vjwt_jwe_ctx_t *ctx, const vjwt_jwe_key_t *k,
                   const jwe_parts_t *w, const char *algid, unsigned char *out, apr_size_t out_len)
{
    unsigned char z[JWE_MAX_FIELD];
    size_t zl = sizeof(z);
    apr_size_t al = strlen(algid), il = 4 + al + 4 + w->apu_len + 4 + w->apv_len + 4, off = 0;
    unsigned char *info = apr_palloc(p, il);
    EVP_PKEY_CTX *pc;
    EVP_KDF_CTX *kc = NULL;
    OSSL_PARAM params[4];
    int ok;

    pc = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL);
    ok = pc && EVP_PKEY_derive_init(pc) == 1 && EVP_PKEY_derive_set_peer_ex(pc, w->epk, 1) == 1 &&
         EVP_PKEY_derive(pc, z, &zl) == 1 && zl > 0;
    EVP_PKEY_CTX_free(pc);
    if (ok) {
        be32(info + off, al);
        memcpy(info + off + 4, algid, al);
        off += 4 + al;
        be32(info + off, w->apu_len);
        if (w->apu_len) {
            memcpy(info + off + 4, w->apu, w->apu_len);
        }
        off += 4 + w->apu_len;
        be32(info + off, w->apv_len);
        if (w->apv_len) {
            memcpy(info + off + 4, w->apv, w->apv_len);
        }
        off += 4 + w->apv_len;
        be32(info + off, out_len * 8);
        params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, "SHA2-256", 0);
        params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, z, zl);
        params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, il);
        params[3] = OSSL_PARAM_construct_end();
        kc = EVP_KDF_CTX_new(ctx->sskdf);
        ok = kc && EVP_KDF_derive(kc, out, out_len, params) == 1;
        EVP_KDF_CTX_free(kc);
    }
    OPENSSL_cleanse(z, sizeof(z));
    ERR_clear_error();
    return ok;
}

/* The CEK for key k: 1 with cek filled (possibly the fallback, see below), 0 on a failure
 * that reveals nothing secret (ECDH with an unusable epk, out of memory). A failed unwrap or
 * RSA decryption yields the context's secret fallback CEK (RFC 7516 section 11.5), so the
 * tag check fails, with the same work done as for a successful one. */
static int get_cek(apr_pool_t *p, const vjwt_jwe_ctx_t *ctx, const vjwt_jwe_key_t *k,
                   const km_alg_t *km, const enc_alg_t *ce, const jwe_parts_t *w,
                   unsigned char *cek)
{
    unsigned char kek[32];
    int ok;
    switch (km->km) {
    case KM_DIR:
        memcpy(cek, k->secret, ce->key_len);
        return 1;
    case KM_ECDH_ES:
        return ecdh_es(p, ctx, k, w, ce->name, cek, ce->key_len);
    default:
        break;
    }
    memcpy(cek, ctx->fallback_cek, ce->key_len); /* replaced when the unwrap succeeds */
    switch (km->km) {
    case KM_AESKW:
        aes_unwrap(k->kw, k->secret, k->secret_len, w->ek, w->ek_len, cek, ce->key_len);
        return 1;
    case KM_RSA_OAEP:
        rsa_oaep(ctx, k, km, w->ek, w->ek_len, cek, ce->key_len);
        return 1;
    case KM_ECDH_ES_KW:
        ok = ecdh_es(p, ctx, k, w, km->name, kek, km->kek_len);
        if (ok) {
            aes_unwrap(NULL, kek, km->kek_len, w->ek, w->ek_len, cek, ce->key_len);
        }
        OPENSSL_cleanse(kek, sizeof(kek));
        return ok;
    default:
        return 0;
    }
}

/* AES-GCM: 1 and pt, *pt_len on success (the tag matched). */
static int gcm_decrypt(const vjwt_jwe_ctx_t *ctx, const enc_alg_t *ce, const unsigned char *cek,
                       const jwe_parts_t *w, unsigned char *pt, apr_size_t *pt_len)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0, m = 0, ok;
    /* a 96-bit IV (what RFC 7518 5.3 prescribes, checked by parse_parts) is GCM's default:
     * cipher, key and IV in one initialisation */
    ok = c &&
         (w->iv_len == 12
              ? EVP_DecryptInit_ex2(c, ctx->gcm[ce->idx], cek, w->iv, NULL) == 1
              : EVP_DecryptInit_ex2(c, ctx->gcm[ce->idx], NULL, NULL, NULL) == 1 &&
                    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_IVLEN, (int)w->iv_len, NULL) == 1 &&
                    EVP_DecryptInit_ex2(c, NULL, cek, w->iv, NULL) == 1) &&
         EVP_DecryptUpdate(c, NULL, &n, (const unsigned char *)w->aad, (int)w->aad_len) == 1 &&
         EVP_DecryptUpdate(c, pt, &n, w->ct, (int)w->ct_len) == 1 &&
         EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, (int)w->tag_len, (void *)w->tag) == 1 &&
         EVP_DecryptFinal_ex(c, pt + n, &m) == 1;
    EVP_CIPHER_CTX_free(c);
    ERR_clear_error();
    if (ok) {
        *pt_len = (apr_size_t)n + (apr_size_t)m;
    }
    return ok;
}

/* AES-CBC + HMAC-SHA2 (RFC 7518 section 5.2): the tag (first half of the HMAC over
 * AAD || IV || ciphertext || AL) is compared in constant time before anything is
 * decrypted; then CBC with PKCS#7 padding. */
static int cbc_hs_decrypt(const vjwt_jwe_ctx_t *ctx, const enc_alg_t *ce, const unsigned char *cek,
                          const jwe_parts_t *w, unsigned char *pt, apr_size_t *pt_len)
{
    apr_size_t half = ce->key_len / 2;
    unsigned char mac[EVP_MAX_MD_SIZE], al[8];
    size_t macl = 0;
    uint64_t bits = (uint64_t)w->aad_len * 8;
    EVP_MAC_CTX *mc;
    EVP_CIPHER_CTX *c;
    int i, n = 0, m = 0, ok;

    for (i = 0; i < 8; i++) {
        al[i] = (unsigned char)(bits >> (56 - 8 * i));
    }
    /* the digest is set on the template: only the key is given here (no fetch by name) */
    mc = EVP_MAC_CTX_dup(ctx->hmac_sha[ce->idx]);
    ok = mc && EVP_MAC_init(mc, cek, half, NULL) == 1 &&
         EVP_MAC_update(mc, (const unsigned char *)w->aad, w->aad_len) == 1 &&
         EVP_MAC_update(mc, w->iv, w->iv_len) == 1 && EVP_MAC_update(mc, w->ct, w->ct_len) == 1 &&
         EVP_MAC_update(mc, al, sizeof(al)) == 1 &&
         EVP_MAC_final(mc, mac, &macl, sizeof(mac)) == 1 && macl == 2 * ce->tag_len;
    EVP_MAC_CTX_free(mc);
    ok = ok && w->tag_len == ce->tag_len && CRYPTO_memcmp(mac, w->tag, ce->tag_len) == 0;
    OPENSSL_cleanse(mac, sizeof(mac));
    if (!ok) {
        ERR_clear_error();
        return 0;
    }
    c = EVP_CIPHER_CTX_new();
    ok = c && EVP_DecryptInit_ex2(c, ctx->cbc[ce->idx], cek + half, w->iv, NULL) == 1 &&
         EVP_DecryptUpdate(c, pt, &n, w->ct, (int)w->ct_len) == 1 &&
         EVP_DecryptFinal_ex(c, pt + n, &m) == 1;
    EVP_CIPHER_CTX_free(c);
    ERR_clear_error();
    if (ok) {
        *pt_len = (apr_size_t)n + (apr_size_t)m;
    }
    return ok;
}

/* A compact JWE taken apart: its protected header's members and its decoded segments. */
typedef struct {
    json_t *hdr;
    const char *alg, *enc, *kid, *cty; /* kid, cty NULL when absent */
    const km_alg_t *km;
    const enc_alg_t *ce;
    jwe_parts_t w;
} jwe_token_t;

static apr_status_t bad(vjwt_verdict_t *v, apr_pool_t *p, const char *detail)
{
    return vjwt_fail(v, p, VJWT_R_JWT_INVALID, "JWE: %s", detail);
}

/* Optional base64url header member (apu, apv). */
static apr_status_t hdr_b64(apr_pool_t *p, json_t *hdr, const char *name, const unsigned char **out,
                            apr_size_t *len)
{
    json_t *m = json_object_get(hdr, name);
    unsigned char *b = NULL;
    *out = NULL;
    *len = 0;
    if (!m) {
        return APR_SUCCESS;
    }
    if (!json_is_string(m) || vjwt_b64url_decode(p, json_string_value(m), json_string_length(m), &b,
                                                 len) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    *out = b;
    return APR_SUCCESS;
}

/* "crit" (RFC 7516 section 4.1.13, RFC 7515 section 4.1.11): no extension is understood,
 * so any "crit" is refused; the detail says whether it was even well formed. */
static const char *crit_detail(apr_pool_t *p, json_t *hdr, json_t *crit)
{
    size_t i;
    json_t *e;
    if (!json_is_array(crit) || json_array_size(crit) == 0) {
        return "\"crit\" is not a non-empty array";
    }
    json_array_foreach(crit, i, e)
    {
        if (!json_is_string(e)) {
            return "\"crit\" holds a non-string";
        }
        if (!json_object_get(hdr, json_string_value(e))) {
            return apr_psprintf(p, "\"crit\" names absent member \"%s\"",
                                vjwt_sanitize(p, json_string_value(e), 40));
        }
    }
    return apr_psprintf(p, "\"crit\" extension \"%s\" not understood",
                        vjwt_sanitize(p, json_string_value(json_array_get(crit, 0)), 40));
}

static int cty_ok(const char *cty)
{
    return strcasecmp(cty, "JWT") == 0 || strcasecmp(cty, "application/jwt") == 0;
}

/* The free of the ephemeral key on every path of vjwt_jwe_decrypt. */
static apr_status_t done(jwe_parts_t *w, apr_status_t rv)
{
    EVP_PKEY_free(w->epk);
    w->epk = NULL;
    return rv;
}

/* The five segments of token[0..len); 0 when there are not exactly five. */
static int split_segments(const char *token, apr_size_t len, const char **seg, apr_size_t *segl)
{
    apr_size_t i, start = 0;
    int nseg = 0;

    for (i = 0; i <= len; i++) {
        if (i == len || token[i] == '.') {
            if (nseg == 5) {
                return 0;
            }
            seg[nseg] = token + start;
            segl[nseg++] = i - start;
            start = i + 1;
        }
    }
    return nseg == 5;
}

/* The header's "alg" and "enc" as table entries; a detail for logs when refused. */
static const char *header_algs(jwe_token_t *t, apr_pool_t *p)
{
    t->km = km_lookup(t->alg);
    if (!t->km) {
        if (strcmp(t->alg, "RSA1_5") == 0) {
            return "alg RSA1_5 is refused (RFC 8725 section 3.2)";
        }
        if (strncmp(t->alg, "PBES2", 5) == 0) {
            return "PBES2 algorithms are refused";
        }
        return apr_psprintf(p, "unsupported alg \"%s\"", vjwt_sanitize(p, t->alg, 40));
    }
    t->ce = enc_lookup(t->enc);
    if (!t->ce) {
        return apr_psprintf(p, "unsupported enc \"%s\"", vjwt_sanitize(p, t->enc, 40));
    }
    return NULL;
}

/* The protected header (segment 0): NULL when usable, else a detail for logs. */
static const char *parse_header(jwe_token_t *t, apr_pool_t *p, const char *seg, apr_size_t segl)
{
    unsigned char *hbuf;
    apr_size_t hlen;
    const char *err = NULL, *why;
    json_t *j;

    if (segl == 0 || vjwt_b64url_decode(p, seg, segl, &hbuf, &hlen) != APR_SUCCESS) {
        return "protected header is not base64url";
    }
    if (vjwt_json_parse(&t->hdr, p, (const char *)hbuf, hlen, 1, &err) != APR_SUCCESS) {
        return apr_psprintf(p, "protected header: %s", err ? err : "invalid JSON");
    }
    if (!json_is_string(j = json_object_get(t->hdr, "alg"))) {
        return "\"alg\" missing or not a string";
    }
    t->alg = json_string_value(j);
    if (!json_is_string(j = json_object_get(t->hdr, "enc"))) {
        return "\"enc\" missing or not a string";
    }
    t->enc = json_string_value(j);
    if (json_object_get(t->hdr, "zip")) {
        return "compressed plaintext (\"zip\") is refused (RFC 8725 section 3.6)";
    }
    if ((j = json_object_get(t->hdr, "crit")) != NULL) {
        return crit_detail(p, t->hdr, j);
    }
    if ((why = header_algs(t, p)) != NULL) {
        return why;
    }
    if ((j = json_object_get(t->hdr, "kid")) != NULL) {
        if (!json_is_string(j)) {
            return "\"kid\" is not a string";
        }
        t->kid = json_string_value(j);
    }
    if ((j = json_object_get(t->hdr, "cty")) != NULL) {
        if (!json_is_string(j) || !cty_ok(json_string_value(j))) {
            return "\"cty\" is not JWT (nested JWE and other contents are refused)";
        }
        t->cty = json_string_value(j);
    }
    return NULL;
}

/* The other four segments, their sizes for alg/enc, and for ECDH-ES the epk, apu and apv:
 * NULL when usable, else a detail for logs (t->w.epk may be set: see done). */
static const char *parse_parts(jwe_token_t *t, apr_pool_t *p, const char **seg,
                               const apr_size_t *segl, apr_size_t max_pt)
{
    jwe_parts_t *w = &t->w;
    unsigned char *ek = NULL, *iv = NULL, *ct = NULL, *tag = NULL;
    const char *err = NULL;
    int no_ek = t->km->km == KM_DIR || t->km->km == KM_ECDH_ES;

    if ((segl[1] && vjwt_b64url_decode(p, seg[1], segl[1], &ek, &w->ek_len) != APR_SUCCESS) ||
        vjwt_b64url_decode(p, seg[2], segl[2], &iv, &w->iv_len) != APR_SUCCESS ||
        vjwt_b64url_decode(p, seg[3], segl[3], &ct, &w->ct_len) != APR_SUCCESS ||
        vjwt_b64url_decode(p, seg[4], segl[4], &tag, &w->tag_len) != APR_SUCCESS) {
        return "a segment is not base64url";
    }
    w->ek = ek;
    w->iv = iv;
    w->ct = ct;
    w->tag = tag;
    w->aad = seg[0];
    w->aad_len = segl[0];
    if (w->iv_len != t->ce->iv_len) {
        return apr_psprintf(p, "IV of %lu bytes, %s needs %lu", (unsigned long)w->iv_len,
                            t->ce->name, (unsigned long)t->ce->iv_len);
    }
    if (w->tag_len != t->ce->tag_len) {
        return apr_psprintf(p, "authentication tag of %lu bytes, %s needs %lu",
                            (unsigned long)w->tag_len, t->ce->name, (unsigned long)t->ce->tag_len);
    }
    if (w->ct_len == 0 || (t->ce->ce == CE_CBC_HS && w->ct_len % 16 != 0)) {
        return "ciphertext empty or not whole blocks";
    }
    if (w->ct_len > max_pt + 16) {
        return apr_psprintf(p, "ciphertext exceeds the plaintext limit of %lu bytes",
                            (unsigned long)max_pt);
    }
    if (no_ek != (w->ek_len == 0)) {
        return no_ek ? "encrypted key must be empty for direct encryption or key agreement"
                     : "encrypted key missing";
    }
    if (t->km->km == KM_ECDH_ES || t->km->km == KM_ECDH_ES_KW) {
        if (epk_parse(w, p, json_object_get(t->hdr, "epk"), &err) != APR_SUCCESS) {
            return err;
        }
        if (hdr_b64(p, t->hdr, "apu", &w->apu, &w->apu_len) != APR_SUCCESS ||
            hdr_b64(p, t->hdr, "apv", &w->apv, &w->apv_len) != APR_SUCCESS) {
            return "\"apu\"/\"apv\" is not base64url";
        }
    }
    return NULL;
}

/* 1 when the token's kid names one of the keys: then only keys of that kid are tried. */
static int kid_bound(const apr_array_header_t *keys, const char *kid)
{
    int i;
    for (i = 0; kid && keys && i < keys->nelts; i++) {
        const vjwt_jwe_key_t *k = APR_ARRAY_IDX(keys, i, const vjwt_jwe_key_t *);
        if (k && k->kid && strcmp(k->kid, kid) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Decrypt with key k into pt: 1 on success. *tried counts the keys that gave a CEK. */
static int decrypt_with(apr_pool_t *p, const vjwt_jwe_ctx_t *ctx, const vjwt_jwe_key_t *k,
                        const jwe_token_t *t, unsigned char *pt, apr_size_t *pt_len, int *tried)
{
    unsigned char cek[JWE_MAX_CEK];
    int ok = get_cek(p, ctx, k, t->km, t->ce, &t->w, cek);
    if (ok) {
        (*tried)++;
        ok = t->ce->ce == CE_GCM ? gcm_decrypt(ctx, t->ce, cek, &t->w, pt, pt_len)
                                 : cbc_hs_decrypt(ctx, t->ce, cek, &t->w, pt, pt_len);
    }
    OPENSSL_cleanse(cek, sizeof(cek));
    if (!ok) {
        OPENSSL_cleanse(pt, t->w.ct_len + 16);
    }
    return ok;
}

/* Every key that fits, in order, until one decrypts: NULL with out's plaintext and key set,
 * else a detail for logs. */
static const char *try_keys(vjwt_jwe_result_t *out, apr_pool_t *p, const vjwt_jwe_ctx_t *ctx,
                            const apr_array_header_t *keys, const jwe_token_t *t, int min_rsa,
                            apr_size_t max_pt)
{
    int i, bound = kid_bound(keys, t->kid), tried = 0, fitting = 0;
    unsigned char *pt = apr_palloc(p, t->w.ct_len + 16 + 1);
    apr_size_t pt_len = 0;

    for (i = 0; keys && i < keys->nelts; i++) {
        const vjwt_jwe_key_t *k = APR_ARRAY_IDX(keys, i, const vjwt_jwe_key_t *);
        if (!k || (bound && (!k->kid || strcmp(k->kid, t->kid) != 0)) ||
            !key_fits(k, t->km, t->ce, &t->w, min_rsa)) {
            continue;
        }
        fitting++;
        if (!decrypt_with(p, ctx, k, t, pt, &pt_len, &tried)) {
            continue;
        }
        if (pt_len > max_pt) {
            OPENSSL_cleanse(pt, t->w.ct_len + 16);
            return "plaintext exceeds the limit";
        }
        pt[pt_len] = 0;
        if (vjwt_jwe_is_compact((const char *)pt, pt_len)) {
            OPENSSL_cleanse(pt, pt_len);
            return "the plaintext is itself a JWE (nested JWE is refused)";
        }
        out->plaintext = pt;
        out->plaintext_len = pt_len;
        out->key = k;
        return NULL;
    }
    if (!fitting) {
        return bound ? apr_psprintf(p, "no key of kid \"%s\" fits %s/%s",
                                    vjwt_sanitize(p, t->kid, 40), t->alg, t->enc)
                     : apr_psprintf(p, "no decryption key fits %s/%s", t->alg, t->enc);
    }
    if (!tried) {
        return "key agreement failed";
    }
    return apr_psprintf(p, "decryption failed with %d key(s) (%s/%s)", tried, t->alg, t->enc);
}

apr_status_t vjwt_jwe_decrypt(vjwt_jwe_result_t *out, apr_pool_t *p, const vjwt_jwe_ctx_t *ctx,
                              const apr_array_header_t *keys, const char *token, apr_size_t len,
                              const vjwt_jwe_limits_t *lim, vjwt_verdict_t *v)
{
    const char *seg[5], *detail;
    apr_size_t segl[5], max_pt;
    int min_rsa;
    jwe_token_t t;

    memset(&t, 0, sizeof(t));
    if (!out || !ctx || !token) {
        return bad(v, p, "internal: no output, context or token");
    }
    memset(out, 0, sizeof(*out));
    max_pt = lim && lim->max_plaintext ? lim->max_plaintext : JWE_DEFAULT_MAX_PT;
    min_rsa = lim ? lim->min_rsa_bits : 2048;
    if (lim && lim->max_token_len && len > lim->max_token_len) {
        return bad(v, p,
                   apr_psprintf(p, "token of %lu bytes exceeds the limit of %lu",
                                (unsigned long)len, (unsigned long)lim->max_token_len));
    }
    if (!split_segments(token, len, seg, segl)) {
        return bad(v, p, "not 5 segments");
    }
    if ((detail = parse_header(&t, p, seg[0], segl[0])) != NULL) {
        return bad(v, p, detail);
    }
    if ((detail = parse_parts(&t, p, seg, segl, max_pt)) != NULL ||
        (detail = try_keys(out, p, ctx, keys, &t, min_rsa, max_pt)) != NULL) {
        return done(&t.w, bad(v, p, detail));
    }
    out->header = t.hdr;
    out->alg = t.alg;
    out->enc = t.enc;
    out->kid = t.kid;
    out->cty = t.cty;
    return done(&t.w, APR_SUCCESS);
}
