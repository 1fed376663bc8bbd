/*
 * vjwt_jwk.c - verification keys: JWK (RFC 7517, RFC 7518 section 6, RFC 8037), JWKS, PEM/DER
 * public keys and certificates, RSA n/e and raw HMAC secrets. See vjwt_jwk.h.
 *
 * Ownership: every EVP_PKEY and secret belongs to its vjwt_key_t, whose pool cleanup
 * (key_cleanup) frees the EVP_PKEY and cleanses the secret. Until a key struct exists, the
 * OpenSSL objects of a function are freed at its one cleanup label.
 */
#include "vjwt_jwk.h"
#include "vjwt_b64.h"
#include "vjwt_crypto.h"
#include "vjwt_json.h"
#include "vjwt_jose.h"

#include <string.h>
#include <apr_strings.h>
#include <apr_file_io.h>
#include <apr_file_info.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#define VJWT_KEY_FILE_MAX       (1024 * 1024) /* key files are capped at 1 MiB */
#define VJWT_RSA_MIN_PARSE_BITS 512           /* smaller moduli are not RSA keys worth loading */
#define VJWT_RSA_MAX_BITS       16384         /* OpenSSL's own limit for RSA operations */

static const vjwt_curve_t vjwt_curves[] = {
    {"P-256", "prime256v1", NID_X9_62_prime256v1, 32, 256},
    {"P-384", "secp384r1", NID_secp384r1, 48, 384},
    {"P-521", "secp521r1", NID_secp521r1, 66, 521},
};

#define VJWT_NCURVES (sizeof(vjwt_curves) / sizeof(vjwt_curves[0]))

const vjwt_curve_t *vjwt_curve_by_crv(const char *crv)
{
    apr_size_t i;
    for (i = 0; i < VJWT_NCURVES; i++) {
        if (strcmp(vjwt_curves[i].crv, crv) == 0) {
            return &vjwt_curves[i];
        }
    }
    return NULL;
}

const vjwt_curve_t *vjwt_curve_by_nid(int nid)
{
    apr_size_t i;
    for (i = 0; i < VJWT_NCURVES; i++) {
        if (vjwt_curves[i].nid == nid) {
            return &vjwt_curves[i];
        }
    }
    return NULL;
}

/* Untrusted text (member values, kids) for error messages: printable ASCII, 64 bytes. */
static const char *san(apr_pool_t *p, const char *s)
{
    apr_size_t n = strlen(s), i;
    char *c;
    int cut = n > 64;
    if (cut) {
        n = 64;
    }
    c = apr_palloc(p, n + 4);
    for (i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        c[i] = (ch < 0x20 || ch > 0x7E) ? '?' : (char)ch;
    }
    if (cut) {
        memcpy(c + n, "...", 4);
    }
    else {
        c[n] = 0;
    }
    return c;
}

static apr_status_t fail(const char **err, const char *why)
{
    if (err) {
        *err = why;
    }
    return APR_EINVAL;
}

/* ---- key objects --------------------------------------------------------------------- */

static apr_status_t key_cleanup(void *data)
{
    vjwt_key_t *k = data;
    vjwt_verify_tmpl_free(k->tmpl);
    k->tmpl = NULL;
    vjwt_key_material_free(&k->pkey, k->secret, k->secret_len);
    return APR_SUCCESS;
}

/* A new key that owns pkey and secret from now on (either may be NULL), with its
 * verification templates (vjwt_crypto.h); nid is the curve of an EC or OKP key, else 0. */
static vjwt_key_t *key_new(apr_pool_t *p, vjwt_kty_e kty, EVP_PKEY *pkey, int nid,
                           unsigned char *secret, apr_size_t secret_len, const char *source)
{
    vjwt_key_t *k = apr_pcalloc(p, sizeof(*k));
    k->kty = kty;
    k->pkey = pkey;
    k->curve_nid = nid;
    k->secret = secret;
    k->secret_len = secret_len;
    k->source = source;
    k->tmpl = vjwt_verify_tmpl_make(pkey, nid, secret, secret_len);
    apr_pool_cleanup_register(p, k, key_cleanup, apr_pool_cleanup_null);
    return k;
}

/* Drop a key made in this file at once instead of at pool end. */
static void key_release(apr_pool_t *p, vjwt_key_t *k)
{
    apr_pool_cleanup_run(p, k, key_cleanup);
}

void vjwt_wipe(unsigned char *b, apr_size_t n)
{
    if (b && n) {
        OPENSSL_cleanse(b, n);
    }
}

void vjwt_key_material_free(EVP_PKEY **pkey, unsigned char *secret, apr_size_t len)
{
    EVP_PKEY_free(*pkey);
    *pkey = NULL;
    vjwt_wipe(secret, len);
}

/* RSA keys: a modulus of 512..16384 bits and an odd public exponent >= 3. */
static apr_status_t classify_rsa(apr_pool_t *p, EVP_PKEY *pkey, int *bits, const char **err)
{
    apr_status_t rv = APR_EINVAL;
    BIGNUM *e = NULL;
    int b = EVP_PKEY_get_bits(pkey);

    if (b < VJWT_RSA_MIN_PARSE_BITS || b > VJWT_RSA_MAX_BITS) {
        *err = apr_psprintf(p, "RSA modulus of %d bits is outside %d..%d", b,
                            VJWT_RSA_MIN_PARSE_BITS, VJWT_RSA_MAX_BITS);
    }
    else if (!EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e) || !e) {
        *err = "RSA key without a public exponent";
    }
    else if (!BN_is_odd(e) || BN_cmp(e, BN_value_one()) <= 0 || BN_is_word(e, 1)) {
        *err = "RSA public exponent must be odd and >= 3";
    }
    else {
        *bits = b;
        rv = APR_SUCCESS;
    }
    BN_free(e);
    return rv;
}

/* EC keys: a named curve among P-256/P-384/P-521 and a point that passes
 * EVP_PKEY_public_check. */
static apr_status_t classify_ec(apr_pool_t *p, EVP_PKEY *pkey, int *bits, int *nid,
                                const char **err)
{
    char group[64];
    size_t glen = 0;
    const vjwt_curve_t *c;
    int gnid;

    if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                        &glen)) {
        return fail(err, "EC key without a named curve");
    }
    gnid = OBJ_sn2nid(group);
    if (gnid == NID_undef) {
        gnid = EC_curve_nist2nid(group);
    }
    c = vjwt_curve_by_nid(gnid);
    if (!c) {
        *err = apr_psprintf(p, "EC curve %s is not supported (P-256, P-384, P-521)", san(p, group));
        return APR_EINVAL;
    }
    if (!vjwt_pkey_check(pkey, EVP_PKEY_PUBLIC_KEY)) {
        return fail(err, "EC public key is not a valid point on its curve");
    }
    *bits = c->bits;
    *nid = c->nid;
    return APR_SUCCESS;
}

int vjwt_pkey_check(EVP_PKEY *pkey, int selection)
{
    EVP_PKEY_CTX *cctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    int ok = cctx && (selection == EVP_PKEY_KEYPAIR ? EVP_PKEY_pairwise_check(cctx)
                                                    : EVP_PKEY_public_check(cctx)) == 1;
    EVP_PKEY_CTX_free(cctx);
    ERR_clear_error();
    return ok;
}

/*
 * What an EVP_PKEY is, for keys from any source: RSA (plain rsaEncryption; RSA-PSS-restricted
 * keys are refused) with an odd e >= 3 and a modulus of 512..16384 bits, EC on P-256/P-384/
 * P-521 passing EVP_PKEY_public_check, or Ed25519.
 */
static apr_status_t pkey_classify(apr_pool_t *p, EVP_PKEY *pkey, vjwt_kty_e *kty, int *bits,
                                  int *nid, const char **err)
{
    apr_status_t rv = APR_EINVAL;
    const char *type;

    *bits = 0;
    *nid = 0;
    if (EVP_PKEY_is_a(pkey, "RSA")) {
        *kty = VJWT_KTY_RSA;
        rv = classify_rsa(p, pkey, bits, err);
    }
    else if (EVP_PKEY_is_a(pkey, "EC")) {
        *kty = VJWT_KTY_EC;
        rv = classify_ec(p, pkey, bits, nid, err);
    }
    else if (EVP_PKEY_is_a(pkey, "ED25519")) {
        *kty = VJWT_KTY_OKP;
        *bits = EVP_PKEY_get_bits(pkey);
        *nid = NID_ED25519;
        rv = APR_SUCCESS;
    }
    else {
        type = EVP_PKEY_get0_type_name(pkey);
        *err = apr_psprintf(p, "unsupported key type %s", san(p, type ? type : "?"));
    }
    ERR_clear_error();
    return rv;
}

/* A key from an EVP_PKEY; takes ownership of pkey in every case. */
static apr_status_t key_from_pkey(vjwt_key_t **out, apr_pool_t *p, EVP_PKEY *pkey,
                                  const char *source, const char **err)
{
    vjwt_kty_e kty = VJWT_KTY_RSA;
    int bits, nid;
    vjwt_key_t *k;

    if (pkey_classify(p, pkey, &kty, &bits, &nid, err) != APR_SUCCESS) {
        EVP_PKEY_free(pkey);
        return APR_EINVAL;
    }
    k = key_new(p, kty, pkey, nid, NULL, 0, source);
    k->bits = bits;
    *out = k;
    return APR_SUCCESS;
}

apr_status_t vjwt_pkey_from_params(EVP_PKEY **out, const char *type, int selection,
                                   OSSL_PARAM_BLD *bld, int pushed, const char *build_why,
                                   const char *reject_why, const char **err)
{
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pkey = NULL;
    apr_status_t rv = APR_EINVAL;

    if (!bld || !pushed || !(params = OSSL_PARAM_BLD_to_param(bld))) {
        *err = build_why;
        goto done;
    }
    ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &pkey, selection, params) != 1 || !pkey) {
        *err = reject_why;
        goto done;
    }
    *out = pkey;
    pkey = NULL;
    rv = APR_SUCCESS;
done:
    EVP_PKEY_free(pkey);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    ERR_clear_error();
    return rv;
}

/* Drops leading zero octets of a big-endian number. */
static void strip_zeros(const unsigned char **v, apr_size_t *len)
{
    while (*len && **v == 0) {
        (*v)++;
        (*len)--;
    }
}

/* The octet-level checks of RSA n and e (already without leading zeros). */
static apr_status_t rsa_ne_check(const unsigned char *n, apr_size_t nlen, const unsigned char *e,
                                 apr_size_t elen, const char **err)
{
    if (nlen == 0) {
        return fail(err, "RSA modulus n is zero");
    }
    if (nlen > VJWT_RSA_MAX_BITS / 8) {
        return fail(err, "RSA modulus n is too large");
    }
    if ((n[nlen - 1] & 1) == 0) {
        return fail(err, "RSA modulus n is even");
    }
    /* e must be odd and >= 3 (e = 1 makes every signature trivial to forge) */
    if (elen == 0 || (e[elen - 1] & 1) == 0 || (elen == 1 && e[0] < 3)) {
        return fail(err, "RSA public exponent e must be odd and >= 3");
    }
    if (elen > nlen) {
        return fail(err, "RSA public exponent e is larger than n");
    }
    return APR_SUCCESS;
}

/* RSA public key from big-endian n and e (leading zero octets are tolerated). */
static apr_status_t rsa_pkey(apr_pool_t *p, EVP_PKEY **out, const unsigned char *n, apr_size_t nlen,
                             const unsigned char *e, apr_size_t elen, const char **err)
{
    BIGNUM *bn_n = NULL, *bn_e = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    apr_status_t rv = APR_EINVAL;

    (void)p;
    *out = NULL;
    strip_zeros(&n, &nlen);
    strip_zeros(&e, &elen);
    if (rsa_ne_check(n, nlen, e, elen, err) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    ERR_clear_error();
    bn_n = BN_bin2bn(n, (int)nlen, NULL);
    bn_e = BN_bin2bn(e, (int)elen, NULL);
    if (!bn_n || !bn_e) {
        *err = "out of memory";
    }
    else if (BN_cmp(bn_e, bn_n) >= 0) {
        *err = "RSA public exponent e is not smaller than n";
    }
    else {
        bld = OSSL_PARAM_BLD_new();
        rv = vjwt_pkey_from_params(
            out, "RSA", EVP_PKEY_PUBLIC_KEY, bld,
            bld && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) &&
                OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e),
            "cannot build RSA key parameters", "OpenSSL rejected the RSA key", err);
    }
    BN_free(bn_n);
    BN_free(bn_e);
    ERR_clear_error();
    return rv;
}

/* EC public key from x and y of exactly the field size. The point is checked by
 * pkey_classify (EVP_PKEY_public_check). */
static apr_status_t ec_pkey(apr_pool_t *p, EVP_PKEY **out, const vjwt_curve_t *c,
                            const unsigned char *x, apr_size_t xlen, const unsigned char *y,
                            apr_size_t ylen, const char **err)
{
    *out = NULL;
    if (xlen != c->len || ylen != c->len) {
        *err = apr_psprintf(p, "EC x and y must be %d octets each for %s", (int)c->len, c->crv);
        return APR_EINVAL;
    }
    return vjwt_ec_pkey_from_xy(out, c, x, y, NULL, "cannot build EC key parameters",
                                "EC public key is not a valid point on its curve", err);
}

apr_status_t vjwt_ec_pkey_from_xy(EVP_PKEY **out, const vjwt_curve_t *c, const unsigned char *x,
                                  const unsigned char *y, const unsigned char *d,
                                  const char *build_why, const char *reject_why, const char **err)
{
    unsigned char pt[1 + 2 * 66];
    OSSL_PARAM_BLD *bld;
    BIGNUM *bn = NULL;
    apr_status_t rv;
    int pushed;

    *out = NULL;
    if (c->len > 66) {
        return fail(err, build_why);
    }
    pt[0] = 0x04; /* uncompressed point */
    memcpy(pt + 1, x, c->len);
    memcpy(pt + 1 + c->len, y, c->len);
    ERR_clear_error();
    bld = OSSL_PARAM_BLD_new();
    pushed = bld && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, c->group, 0) &&
             OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt, 1 + 2 * c->len);
    if (pushed && d) {
        /* the private scalar: secure heap, cleared on free */
        pushed = (bn = BN_secure_new()) != NULL && BN_bin2bn(d, (int)c->len, bn) &&
                 OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, bn);
    }
    rv = vjwt_pkey_from_params(out, "EC", d ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, bld, pushed,
                               build_why, reject_why, err);
    BN_clear_free(bn);
    return rv;
}

/* Public key of a DER certificate that must fill der[0..len) exactly. */
static EVP_PKEY *cert_pkey(const unsigned char *der, apr_size_t len)
{
    const unsigned char *q = der;
    X509 *x;
    EVP_PKEY *pkey = NULL;

    if (len == 0 || len > VJWT_KEY_FILE_MAX) {
        return NULL;
    }
    x = d2i_X509(NULL, &q, (long)len);
    if (x && q == der + len) {
        pkey = X509_get_pubkey(x); /* a new reference */
    }
    X509_free(x);
    return pkey;
}

/* ---- JWK ---------------------------------------------------------------------------- */

/* Optional string member: APR_SUCCESS with *out NULL when absent; APR_EINVAL when not a
 * string. */
static apr_status_t opt_str(apr_pool_t *p, json_t *o, const char *name, const char **out,
                            const char **err)
{
    json_t *v = json_object_get(o, name);
    *out = NULL;
    if (!v) {
        return APR_SUCCESS;
    }
    if (!json_is_string(v)) {
        *err = apr_psprintf(p, "\"%s\" is not a string", name);
        return APR_EINVAL;
    }
    *out = json_string_value(v);
    return APR_SUCCESS;
}

/* Optional base64url member (standard base64 and padding tolerated, vjwt_b64_decode_jwk).
 * *present says whether it was there. */
static apr_status_t opt_b64(apr_pool_t *p, json_t *o, const char *name, unsigned char **out,
                            apr_size_t *outlen, int *present, const char **err)
{
    const char *s;
    *out = NULL;
    *outlen = 0;
    *present = 0;
    if (opt_str(p, o, name, &s, err) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if (!s) {
        return APR_SUCCESS;
    }
    *present = 1;
    if (vjwt_b64_decode_jwk(p, s, json_string_length(json_object_get(o, name)), out, outlen,
                            NULL) != APR_SUCCESS) {
        *err = apr_psprintf(p, "\"%s\" is not valid base64url (or base64)", name);
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

/* The first x5c certificate's key: "x5c" must be a non-empty array of standard base64 DER
 * certificates (RFC 7517 4.7); only the first one is used (no chain validation). */
static apr_status_t x5c_pkey(apr_pool_t *p, json_t *x5c, EVP_PKEY **out, const char **err)
{
    size_t i;
    unsigned char *der;
    apr_size_t derlen;
    json_t *first;

    *out = NULL;
    if (!json_is_array(x5c) || json_array_size(x5c) == 0) {
        return fail(err, "\"x5c\" is not a non-empty array");
    }
    for (i = 0; i < json_array_size(x5c); i++) {
        if (!json_is_string(json_array_get(x5c, i))) {
            return fail(err, "\"x5c\" holds a non-string");
        }
    }
    first = json_array_get(x5c, 0);
    if (vjwt_b64_decode(p, json_string_value(first), json_string_length(first), &der, &derlen) !=
        APR_SUCCESS) {
        return fail(err, "\"x5c\"[0] is not valid base64");
    }
    ERR_clear_error();
    *out = cert_pkey(der, derlen);
    ERR_clear_error();
    if (!*out) {
        return fail(err, "\"x5c\"[0] is not a DER X.509 certificate");
    }
    return APR_SUCCESS;
}

/* "key_ops", when present, must be an array of distinct strings that holds "verify". */
static apr_status_t check_key_ops(apr_pool_t *p, json_t *ops, const char **err)
{
    size_t i, j;
    int verify = 0;
    if (!json_is_array(ops)) {
        return fail(err, "\"key_ops\" is not an array");
    }
    for (i = 0; i < json_array_size(ops); i++) {
        json_t *v = json_array_get(ops, i);
        if (!json_is_string(v)) {
            return fail(err, "\"key_ops\" holds a non-string");
        }
        for (j = 0; j < i; j++) {
            if (json_equal(v, json_array_get(ops, j))) {
                return fail(err, "\"key_ops\" holds a duplicate");
            }
        }
        if (strcmp(json_string_value(v), "verify") == 0) {
            verify = 1;
        }
    }
    if (!verify) {
        return fail(err, "\"key_ops\" does not include \"verify\"");
    }
    (void)p;
    return APR_SUCCESS;
}

/* x5c next to explicit key members: both must be the same key (RFC 7517 4.7). With no
 * explicit members the certificate's key is used. Takes ownership of both keys; *out gets
 * the one that stays. */
static apr_status_t merge_x5c(EVP_PKEY *explicit_key, EVP_PKEY *cert_key, EVP_PKEY **out,
                              const char **err)
{
    *out = NULL;
    if (!explicit_key) {
        *out = cert_key;
        return APR_SUCCESS;
    }
    if (!cert_key) {
        *out = explicit_key;
        return APR_SUCCESS;
    }
    ERR_clear_error();
    if (EVP_PKEY_eq(explicit_key, cert_key) != 1) {
        ERR_clear_error();
        EVP_PKEY_free(explicit_key);
        EVP_PKEY_free(cert_key);
        return fail(err, "the \"x5c\" certificate holds another key than the JWK members");
    }
    EVP_PKEY_free(cert_key);
    *out = explicit_key;
    return APR_SUCCESS;
}

/* ---- JWK key types ------------------------------------------------------------------ */

typedef struct jwk_kty_s jwk_kty_t;

/* Makes the key of one kty from a JWK; alg is its "alg" (NULL = none). */
typedef apr_status_t (*jwk_kty_parse_f)(vjwt_key_t **out, apr_pool_t *p, json_t *jwk,
                                        const jwk_kty_t *t, const vjwt_alg_t *alg,
                                        const char **err);

/* One supported "kty" (RFC 7518 6.1, RFC 8037 2): jwk_parse and the JWKS set rules both
 * read this table (jwk_ktys below). */
struct jwk_kty_s {
    const char *name; /* the "kty" value */
    vjwt_kty_e kty;
    int symmetric;         /* a shared secret, not a public key (JWKS mixing rule) */
    const char *member[2]; /* base64url key members; a pair must be present together */
    const char *x5c_type;  /* what an "x5c" certificate must hold (EVP_PKEY_is_a) */
    const char *x5c_what;  /* that, in the error when it holds something else */
    jwk_kty_parse_f parse;
};

/* The decoded key members of a JWK, in the order of jwk_kty_t.member. */
typedef struct {
    unsigned char *v[2];
    apr_size_t len[2];
    int present; /* 0: absent (an "x5c" carries the key) */
} jwk_members_t;

/* The key members of t. A pair must be present together; they are required unless the JWK
 * has an "x5c" (have_x5c). */
static apr_status_t jwk_members(apr_pool_t *p, json_t *jwk, const jwk_kty_t *t, int have_x5c,
                                jwk_members_t *m, const char **err)
{
    int h[2] = {0, 0};
    int i, n = t->member[1] ? 2 : 1;

    for (i = 0; i < n; i++) {
        if (opt_b64(p, jwk, t->member[i], &m->v[i], &m->len[i], &h[i], err) != APR_SUCCESS) {
            return APR_EINVAL;
        }
    }
    if (n == 2 && h[0] != h[1]) {
        *err = apr_psprintf(p, "\"%s\" is missing", t->member[h[0] ? 1 : 0]);
        return APR_EINVAL;
    }
    if (!h[0] && !have_x5c) {
        *err = n == 2 ? apr_psprintf(p, "\"%s\" and \"%s\" are missing", t->member[0], t->member[1])
                      : apr_psprintf(p, "\"%s\" is missing", t->member[0]);
        return APR_EINVAL;
    }
    m->present = h[0];
    return APR_SUCCESS;
}

const vjwt_curve_t *vjwt_pkey_curve(EVP_PKEY *pkey)
{
    char group[64];
    size_t glen = 0;
    const vjwt_curve_t *c = NULL;

    if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                       &glen)) {
        c = vjwt_curve_by_nid(OBJ_sn2nid(group));
    }
    ERR_clear_error();
    return c;
}

/* The key of the first "x5c" certificate, which must be a t->x5c_type key; for EC (c not
 * NULL) on a supported curve, equal to *c when *c is set; *c becomes that curve. *out is
 * NULL when the JWK has no "x5c". */
static apr_status_t jwk_x5c_key(apr_pool_t *p, json_t *x5c, const jwk_kty_t *t,
                                const vjwt_curve_t **c, EVP_PKEY **out, const char **err)
{
    const vjwt_curve_t *cc = NULL;

    *out = NULL;
    if (!x5c) {
        return APR_SUCCESS;
    }
    if (x5c_pkey(p, x5c, out, err) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if (!EVP_PKEY_is_a(*out, t->x5c_type) ||
        (c && (!(cc = vjwt_pkey_curve(*out)) || (*c && cc != *c)))) {
        EVP_PKEY_free(*out);
        *out = NULL;
        *err = apr_psprintf(p, "the \"x5c\" certificate does not hold %s", t->x5c_what);
        return APR_EINVAL;
    }
    if (c) {
        *c = cc;
    }
    return APR_SUCCESS;
}

/* The public key of an asymmetric JWK from its explicit key (made from the members; NULL
 * when absent) and its "x5c" (jwk_x5c_key, merge_x5c). Takes ownership of explicit_key. */
static apr_status_t jwk_public(apr_pool_t *p, json_t *x5c, const jwk_kty_t *t,
                               EVP_PKEY *explicit_key, const vjwt_curve_t **c, EVP_PKEY **out,
                               const char **err)
{
    EVP_PKEY *cert_key = NULL;

    *out = NULL;
    if (jwk_x5c_key(p, x5c, t, c, &cert_key, err) != APR_SUCCESS) {
        EVP_PKEY_free(explicit_key);
        return APR_EINVAL;
    }
    return merge_x5c(explicit_key, cert_key, out, err);
}

static apr_status_t jwk_oct(vjwt_key_t **out, apr_pool_t *p, json_t *jwk, const jwk_kty_t *t,
                            const vjwt_alg_t *alg, const char **err)
{
    jwk_members_t m;

    if (json_object_get(jwk, "x5c")) {
        return fail(err, "\"x5c\" on a symmetric key");
    }
    if (jwk_members(p, jwk, t, 0, &m, err) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if (m.len[0] == 0) {
        return fail(err, "\"k\" is empty");
    }
    /* RFC 7518 3.2: with an "alg" the key is only ever used with it, so a secret too short
     * for that alg makes the key useless: refuse it here, where the reason is clear. */
    if (alg && m.len[0] < (apr_size_t)(alg->hash_bits / 8)) {
        vjwt_wipe(m.v[0], m.len[0]);
        *err = apr_psprintf(p, "%d-byte secret is shorter than %s needs (%d bytes)", (int)m.len[0],
                            alg->name, alg->hash_bits / 8);
        return APR_EINVAL;
    }
    *out = key_new(p, VJWT_KTY_OCT, NULL, 0, m.v[0], m.len[0], "jwk");
    (*out)->bits = (int)(m.len[0] * 8);
    return APR_SUCCESS;
}

static apr_status_t jwk_rsa(vjwt_key_t **out, apr_pool_t *p, json_t *jwk, const jwk_kty_t *t,
                            const vjwt_alg_t *alg, const char **err)
{
    jwk_members_t m;
    EVP_PKEY *explicit_key = NULL, *pkey;
    json_t *x5c = json_object_get(jwk, "x5c");

    (void)alg;
    if (jwk_members(p, jwk, t, x5c != NULL, &m, err) != APR_SUCCESS ||
        (m.present &&
         rsa_pkey(p, &explicit_key, m.v[0], m.len[0], m.v[1], m.len[1], err) != APR_SUCCESS) ||
        jwk_public(p, x5c, t, explicit_key, NULL, &pkey, err) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    return key_from_pkey(out, p, pkey, "jwk", err);
}

/* The JWK's "crv" for EC: *c is NULL when absent; an unknown curve is an error. */
static apr_status_t jwk_ec_curve(apr_pool_t *p, json_t *jwk, const vjwt_curve_t **c,
                                 const char **err)
{
    const char *crv;

    *c = NULL;
    if (opt_str(p, jwk, "crv", &crv, err) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if (crv) {
        *c = vjwt_curve_by_crv(crv);
        if (!*c) {
            *err = apr_psprintf(p, "EC \"crv\" %s is not supported (P-256, P-384, P-521)",
                                san(p, crv));
            return APR_EINVAL;
        }
    }
    return APR_SUCCESS;
}

static apr_status_t jwk_ec(vjwt_key_t **out, apr_pool_t *p, json_t *jwk, const jwk_kty_t *t,
                           const vjwt_alg_t *alg, const char **err)
{
    jwk_members_t m;
    const vjwt_curve_t *c = NULL;
    EVP_PKEY *explicit_key = NULL, *pkey;
    json_t *x5c = json_object_get(jwk, "x5c");

    if (jwk_ec_curve(p, jwk, &c, err) != APR_SUCCESS ||
        jwk_members(p, jwk, t, x5c != NULL, &m, err) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if (!c && (m.present || !x5c)) {
        return fail(err, "\"crv\" is missing");
    }
    if ((m.present &&
         ec_pkey(p, &explicit_key, c, m.v[0], m.len[0], m.v[1], m.len[1], err) != APR_SUCCESS) ||
        jwk_public(p, x5c, t, explicit_key, &c, &pkey, err) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if (alg && alg->curve_nid != c->nid) {
        EVP_PKEY_free(pkey);
        *err = apr_psprintf(p, "\"alg\" %s does not fit curve %s", alg->name, c->crv);
        return APR_EINVAL;
    }
    return key_from_pkey(out, p, pkey, "jwk", err);
}

/* Ed25519 public key from the 32-octet "x" (RFC 8037 2). */
static apr_status_t ed25519_pkey(EVP_PKEY **out, const unsigned char *x, apr_size_t xlen,
                                 const char **err)
{
    if (xlen != 32) {
        return fail(err, "Ed25519 \"x\" must be 32 octets");
    }
    ERR_clear_error();
    *out = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x, xlen);
    ERR_clear_error();
    if (!*out) {
        return fail(err, "OpenSSL rejected the Ed25519 key");
    }
    return APR_SUCCESS;
}

static apr_status_t jwk_okp(vjwt_key_t **out, apr_pool_t *p, json_t *jwk, const jwk_kty_t *t,
                            const vjwt_alg_t *alg, const char **err)
{
    jwk_members_t m;
    const char *crv;
    EVP_PKEY *explicit_key = NULL, *pkey;
    json_t *x5c = json_object_get(jwk, "x5c");

    (void)alg;
    if (opt_str(p, jwk, "crv", &crv, err) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if (!crv) {
        return fail(err, "\"crv\" is missing");
    }
    if (strcmp(crv, "Ed25519") != 0) {
        /* Ed448, X25519, X448 and anything else: RFC 8037 curves we do not verify with */
        *err = apr_psprintf(p, "OKP \"crv\" %s is not supported (Ed25519 only)", san(p, crv));
        return APR_EINVAL;
    }
    if (jwk_members(p, jwk, t, x5c != NULL, &m, err) != APR_SUCCESS ||
        (m.present && ed25519_pkey(&explicit_key, m.v[0], m.len[0], err) != APR_SUCCESS) ||
        jwk_public(p, x5c, t, explicit_key, NULL, &pkey, err) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    return key_from_pkey(out, p, pkey, "jwk", err);
}

static const jwk_kty_t jwk_ktys[] = {
    {"RSA", VJWT_KTY_RSA, 0, {"n", "e"}, "RSA", "an RSA key", jwk_rsa},
    {"EC", VJWT_KTY_EC, 0, {"x", "y"}, "EC", "an EC key on \"crv\"", jwk_ec},
    {"OKP", VJWT_KTY_OKP, 0, {"x", NULL}, "ED25519", "an Ed25519 key", jwk_okp},
    {"oct", VJWT_KTY_OCT, 1, {"k", NULL}, NULL, NULL, jwk_oct},
};

#define JWK_NKTYS (sizeof(jwk_ktys) / sizeof(jwk_ktys[0]))

/* The table entry of a "kty" value; NULL when we do not support it. */
static const jwk_kty_t *jwk_kty_by_name(const char *name)
{
    apr_size_t i;
    for (i = 0; i < JWK_NKTYS; i++) {
        if (strcmp(jwk_ktys[i].name, name) == 0) {
            return &jwk_ktys[i];
        }
    }
    return NULL;
}

/* ---- JWK ---------------------------------------------------------------------------- */

/* 1 when a key member (of any kty in jwk_ktys) that decoded was standard base64 or padded
 * (not base64url). */
static int jwk_lenient(json_t *jwk)
{
    apr_size_t i, m;
    for (i = 0; i < JWK_NKTYS; i++) {
        for (m = 0; m < 2 && jwk_ktys[i].member[m]; m++) {
            json_t *v = json_object_get(jwk, jwk_ktys[i].member[m]);
            if (json_is_string(v) && strpbrk(json_string_value(v), "+/=")) {
                return 1;
            }
        }
    }
    return 0;
}

/* What the members every JWK shares say. */
typedef struct {
    const jwk_kty_t *t;
    const char *kid;
    const vjwt_alg_t *alg; /* NULL = none */
} jwk_head_t;

/* "alg" must be a JWS algorithm we support and fit the key type (the EC curve is checked
 * by jwk_ec); "none", encryption algorithms and unknown names make the key unusable. */
static apr_status_t jwk_head_alg(jwk_head_t *h, apr_pool_t *p, const char *alg_s, const char **err)
{
    if (!alg_s) {
        return APR_SUCCESS;
    }
    h->alg = vjwt_alg_lookup(alg_s);
    if (!h->alg) {
        *err = apr_psprintf(p, "\"alg\" %s is not a supported JWS algorithm", san(p, alg_s));
        return APR_EINVAL;
    }
    if (h->alg->kty != h->t->kty) {
        *err = apr_psprintf(p, "\"alg\" %s does not fit \"kty\" %s", h->alg->name, h->t->name);
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

/* The shared members, in this order: "kty", "kid", "use" and "alg" are strings, "kty" is
 * supported, "use" is "sig", "key_ops" holds "verify", "alg" fits (jwk_head_alg). */
static apr_status_t jwk_head(jwk_head_t *h, apr_pool_t *p, json_t *jwk, const char **err)
{
    const char *kty_s, *use, *alg_s;
    json_t *ops = json_object_get(jwk, "key_ops");

    memset(h, 0, sizeof(*h));
    if (opt_str(p, jwk, "kty", &kty_s, err) != APR_SUCCESS ||
        opt_str(p, jwk, "kid", &h->kid, err) != APR_SUCCESS ||
        opt_str(p, jwk, "use", &use, err) != APR_SUCCESS ||
        opt_str(p, jwk, "alg", &alg_s, err) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if (!kty_s) {
        return fail(err, "\"kty\" is missing");
    }
    h->t = jwk_kty_by_name(kty_s);
    if (!h->t) {
        *err = apr_psprintf(p, "\"kty\" %s is not supported", san(p, kty_s));
        return APR_EINVAL;
    }
    /* only verification keys: "use" must be "sig" when present */
    if (use && strcmp(use, "sig") != 0) {
        *err = apr_psprintf(p, "\"use\" is %s, not sig", san(p, use));
        return APR_EINVAL;
    }
    if (ops && check_key_ops(p, ops, err) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    return jwk_head_alg(h, p, alg_s, err);
}

static apr_status_t jwk_parse(vjwt_key_t **out, apr_pool_t *p, json_t *jwk, const char **err)
{
    jwk_head_t h;
    vjwt_key_t *k = NULL;

    *out = NULL;
    if (!json_is_object(jwk)) {
        return fail(err, "not a JSON object");
    }
    if (jwk_head(&h, p, jwk, err) != APR_SUCCESS ||
        h.t->parse(&k, p, jwk, h.t, h.alg, err) != APR_SUCCESS) {
        return APR_EINVAL; /* the parsers free what they made */
    }
    if (k->kty != h.t->kty) {
        key_release(p, k);
        return fail(err, "key material does not fit \"kty\"");
    }
    k->kid = h.kid ? apr_pstrdup(p, h.kid) : NULL;
    k->alg = h.alg ? h.alg->name : NULL;
    k->lenient = jwk_lenient(jwk);
    *out = k;
    return APR_SUCCESS;
}

apr_status_t vjwt_jwk_parse(vjwt_key_t **out, apr_pool_t *p, json_t *jwk, const char **err)
{
    const char *why = NULL;
    apr_status_t rv;

    if (!out) {
        return fail(err, "no output");
    }
    rv = jwk_parse(out, p, jwk, &why);
    if (rv != APR_SUCCESS) {
        *out = NULL;
        if (err) {
            *err = why ? why : "invalid JWK";
        }
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

/* ---- JWKS --------------------------------------------------------------------------- */

static void skip_note(apr_pool_t *p, apr_array_header_t *skipped, json_t *jwk, size_t idx,
                      const char *why)
{
    json_t *kid = json_is_object(jwk) ? json_object_get(jwk, "kid") : NULL;
    const char *txt;
    if (!skipped) {
        return;
    }
    if (json_is_string(kid)) {
        txt = apr_psprintf(p, "%s/%d: %s", san(p, json_string_value(kid)), (int)idx, why);
    }
    else {
        txt = apr_psprintf(p, "-/%d: %s", (int)idx, why);
    }
    APR_ARRAY_PUSH(skipped, const char *) = txt;
}

/* 1 when a JWK says it is not for signatures: "use" other than "sig", or "key_ops" without
 * "verify". Such an entry is skipped without taking part in the set-level rules. */
static int jwk_not_for_signing(json_t *jwk)
{
    json_t *use = json_object_get(jwk, "use"), *ops = json_object_get(jwk, "key_ops"), *v;
    size_t i;
    if (json_is_string(use) && strcmp(json_string_value(use), "sig") != 0) {
        return 1;
    }
    if (json_is_array(ops)) {
        json_array_foreach(ops, i, v)
        {
            if (json_is_string(v) && strcmp(json_string_value(v), "verify") == 0) {
                return 0;
            }
        }
        return 1;
    }
    return 0;
}

/*
 * Set-level rules. Individual keys that cannot be used are skipped (RFC 7517 5: "ignore
 * JWKs with an unknown kty or invalid members"); these problems fail the whole set instead,
 * because they mean the set itself is wrong or ambiguous (Wycheproof json_web_key_test.json):
 *
 *  1. Not a JSON object, or an object with neither "keys" nor "kty", or a "keys" that is not
 *     an array (RFC 7517 5.1).
 *  2. Symmetric ("oct") and asymmetric (RSA, EC, OKP) signing keys mixed (Wycheproof tcId 1,
 *     "MixedKeySet"): a published set of public keys never carries secrets, and a set of
 *     secrets is never published, so a mix means key material is confused.
 *  3. Two signing keys with the same "kty" and the same "kid" (Wycheproof tcId 4,
 *     "DuplicateKid"): RFC 7517 4.5 lets keys of different kty share a kid, but within one
 *     kty a kid would no longer name one key. Entries without a kid are never compared.
 *
 * "Signing keys" for rules 2 and 3 are the entries with a string "kty" that are not marked
 * as not for signatures (jwk_not_for_signing): usable keys AND entries skipped for a
 * malformed member. A broken duplicate still counts (tcId 4: the second key's "k" is not
 * canonical base64url): the publisher meant two keys under one kid, and quietly using the
 * other one would hide that. Entries for encryption ("use":"enc") never count.
 *
 * On a set failure the keys made so far are released at once.
 */
typedef struct {
    const char *kty; /* declared kty */
    const char *kid; /* NULL = none */
} jwks_entry_t;

static apr_status_t jwks_check_set(apr_pool_t *p, const jwks_entry_t *e, size_t n, const char **err)
{
    size_t i, j;
    int sym = 0, asym = 0;
    for (i = 0; i < n; i++) {
        const jwk_kty_t *t = jwk_kty_by_name(e[i].kty);
        if (t && t->symmetric) {
            sym = 1;
        }
        else if (t) {
            asym = 1;
        }
        if (!e[i].kid) {
            continue;
        }
        for (j = 0; j < i; j++) {
            if (e[j].kid && strcmp(e[j].kty, e[i].kty) == 0 && strcmp(e[j].kid, e[i].kid) == 0) {
                *err = apr_psprintf(p, "JWKS holds two %s keys with kid %s", san(p, e[i].kty),
                                    san(p, e[i].kid));
                return APR_EINVAL;
            }
        }
    }
    if (sym && asym) {
        *err = "JWKS mixes symmetric (oct) and asymmetric keys";
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

apr_status_t vjwt_jwks_from_json(apr_array_header_t **keys, apr_pool_t *p, json_t *j,
                                 apr_array_header_t *skipped, const char **err)
{
    json_t *arr;
    apr_array_header_t *res;
    jwks_entry_t *ent;
    size_t i, n, nent = 0;
    const char *why = NULL;

    if (!keys) {
        return fail(err, "no output");
    }
    *keys = NULL;
    if (!json_is_object(j)) {
        return fail(err, "JWKS is not a JSON object");
    }
    arr = json_object_get(j, "keys");
    if (!arr && !json_object_get(j, "kty")) {
        return fail(err, "JWKS has no \"keys\" array");
    }
    if (arr && !json_is_array(arr)) {
        return fail(err, "JWKS \"keys\" is not an array");
    }
    n = arr ? json_array_size(arr) : 1;
    res = apr_array_make(p, (int)(n ? n : 1), sizeof(vjwt_key_t *));
    ent = apr_pcalloc(p, sizeof(*ent) * (n ? n : 1));
    for (i = 0; i < n; i++) {
        json_t *jwk = arr ? json_array_get(arr, i) : j;
        vjwt_key_t *k = NULL;
        if (json_is_object(jwk) && json_is_string(json_object_get(jwk, "kty")) &&
            !jwk_not_for_signing(jwk)) {
            json_t *kid = json_object_get(jwk, "kid");
            ent[nent].kty = json_string_value(json_object_get(jwk, "kty"));
            ent[nent].kid = json_is_string(kid) ? json_string_value(kid) : NULL;
            nent++;
        }
        if (jwk_parse(&k, p, jwk, &why) != APR_SUCCESS) {
            skip_note(p, skipped, jwk, i, why ? why : "invalid JWK");
            continue;
        }
        APR_ARRAY_PUSH(res, vjwt_key_t *) = k;
    }
    if (jwks_check_set(p, ent, nent, &why) != APR_SUCCESS) {
        int m;
        for (m = 0; m < res->nelts; m++) {
            key_release(p, APR_ARRAY_IDX(res, m, vjwt_key_t *));
        }
        return fail(err, why);
    }
    *keys = res;
    return APR_SUCCESS;
}

apr_status_t vjwt_jwks_parse(apr_array_header_t **keys, apr_pool_t *p, const char *buf,
                             apr_size_t len, apr_array_header_t *skipped, const char **err)
{
    apr_pool_t *tmp = NULL;
    json_t *j = NULL;
    const char *why = NULL;
    apr_status_t rv;

    if (!keys) {
        return fail(err, "no output");
    }
    *keys = NULL;
    /* the parsed document (which may hold secrets) lives only as long as this call */
    if (apr_pool_create(&tmp, p) != APR_SUCCESS) {
        return fail(err, "out of memory");
    }
    if (vjwt_json_parse(&j, tmp, buf, len, 1, &why) != APR_SUCCESS) {
        rv = fail(err, apr_pstrcat(p, "JWKS: ", why ? why : "invalid JSON", NULL));
    }
    else {
        rv = vjwt_jwks_from_json(keys, p, j, skipped, err);
    }
    apr_pool_destroy(tmp);
    return rv;
}

/* ---- PEM / DER ---------------------------------------------------------------------- */

/* One DER object that fills der[0..len): SubjectPublicKeyInfo, certificate or (when
 * allowed) PKCS#1 RSAPublicKey. kind: 0 = any, 1 = SPKI, 2 = certificate, 3 = PKCS#1. */
static EVP_PKEY *der_pkey(const unsigned char *der, apr_size_t len, int kind)
{
    const unsigned char *q;
    EVP_PKEY *pkey;

    if (len == 0 || len > VJWT_KEY_FILE_MAX) {
        return NULL;
    }
    if (kind == 0 || kind == 1) {
        q = der;
        pkey = d2i_PUBKEY(NULL, &q, (long)len);
        if (pkey && q == der + len) {
            return pkey;
        }
        EVP_PKEY_free(pkey);
    }
    if (kind == 0 || kind == 2) {
        pkey = cert_pkey(der, len);
        if (pkey) {
            return pkey;
        }
    }
    if (kind == 0 || kind == 3) {
        q = der;
        pkey = d2i_PublicKey(EVP_PKEY_RSA, NULL, &q, (long)len);
        if (pkey && q == der + len) {
            return pkey;
        }
        EVP_PKEY_free(pkey);
    }
    return NULL;
}

static int has_pem_begin(const char *buf, apr_size_t len)
{
    static const char marker[] = "-----BEGIN ";
    apr_size_t m = sizeof(marker) - 1, i;
    for (i = 0; i + m <= len; i++) {
        if (memcmp(buf + i, marker, m) == 0) {
            return 1;
        }
    }
    return 0;
}

/* What a PEM block name holds, as a der_pkey kind; 0 when it is not a public key or
 * certificate (private keys included: the module is configured with public keys only). */
static int pem_kind(const char *name)
{
    if (strcmp(name, "PUBLIC KEY") == 0) {
        return 1;
    }
    if (strcmp(name, "CERTIFICATE") == 0 || strcmp(name, "X509 CERTIFICATE") == 0) {
        return 2;
    }
    if (strcmp(name, "RSA PUBLIC KEY") == 0) {
        return 3;
    }
    return 0;
}

/* The key of the one PEM block in buf; *why on failure. */
static EVP_PKEY *pem_pkey(apr_pool_t *p, const char *buf, apr_size_t len, const char **why)
{
    BIO *bio = BIO_new_mem_buf(buf, (int)len);
    char *name = NULL, *header = NULL;
    unsigned char *data = NULL;
    long dlen = 0;
    EVP_PKEY *pkey = NULL;

    if (!bio) {
        *why = "out of memory";
    }
    else if (!PEM_read_bio(bio, &name, &header, &data, &dlen) || dlen <= 0) {
        *why = "malformed PEM";
    }
    else if (!pem_kind(name)) {
        *why = apr_psprintf(p, "PEM block \"%s\" is not a public key or certificate", san(p, name));
    }
    else if (header && *header) {
        *why = "PEM headers (encryption) are not supported";
    }
    else if (!(pkey = der_pkey(data, (apr_size_t)dlen, pem_kind(name)))) {
        *why = apr_psprintf(p, "PEM block \"%s\" does not hold a valid key", name);
    }
    else {
        /* exactly one key: a second PEM block is an error (PEM_read_bio skips text) */
        OPENSSL_free(name);
        OPENSSL_free(header);
        OPENSSL_free(data);
        name = header = NULL;
        data = NULL;
        if (PEM_read_bio(bio, &name, &header, &data, &dlen)) {
            *why = "more than one PEM block";
            EVP_PKEY_free(pkey);
            pkey = NULL;
        }
    }
    BIO_free(bio);
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(data);
    return pkey;
}

/* Encrypted private keys: no password, never a prompt. */
static int no_password(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

/* A private key: the first PEM private-key block (others skipped), or DER (PKCS#8 or
 * traditional) that fills buf[0..len). */
static EVP_PKEY *private_pkey(const char *buf, apr_size_t len, int pem, const char **why)
{
    EVP_PKEY *pkey = NULL;
    BIO *bio;
    const unsigned char *q = (const unsigned char *)buf;

    if (pem) {
        bio = BIO_new_mem_buf(buf, (int)len);
        pkey = bio ? PEM_read_bio_PrivateKey(bio, NULL, no_password, NULL) : NULL;
        BIO_free(bio);
        *why = "no unencrypted PEM private key found";
    }
    else {
        pkey = d2i_AutoPrivateKey(NULL, &q, (long)len);
        if (pkey && q != (const unsigned char *)buf + len) {
            EVP_PKEY_free(pkey);
            pkey = NULL;
        }
        *why = "neither PEM nor a DER private key (PKCS#8 or traditional)";
    }
    return pkey;
}

apr_status_t vjwt_pkey_from_pem(EVP_PKEY **out, apr_pool_t *p, const char *buf, apr_size_t len,
                                int selection, const char **err)
{
    const char *why = NULL;

    *out = NULL;
    if (!buf || len == 0) {
        return fail(err, "no key data");
    }
    if (len > VJWT_KEY_FILE_MAX) {
        return fail(err, "key data larger than 1 MiB");
    }
    ERR_clear_error();
    if (selection == EVP_PKEY_KEYPAIR) {
        *out = private_pkey(buf, len, has_pem_begin(buf, len), &why);
    }
    else if (has_pem_begin(buf, len)) {
        *out = pem_pkey(p, buf, len, &why);
    }
    else {
        /* DER: SubjectPublicKeyInfo, certificate or PKCS#1 RSAPublicKey */
        *out = der_pkey((const unsigned char *)buf, len, 0);
        why = "neither PEM nor a DER public key or certificate";
    }
    ERR_clear_error();
    return *out ? APR_SUCCESS : fail(err, why ? why : "invalid key");
}

apr_status_t vjwt_key_from_pem(vjwt_key_t **out, apr_pool_t *p, const char *buf, apr_size_t len,
                               const char **err)
{
    EVP_PKEY *pkey;
    apr_status_t rv;
    const char *why = NULL;

    if (!out) {
        return fail(err, "no output");
    }
    *out = NULL;
    rv = vjwt_pkey_from_pem(&pkey, p, buf, len, EVP_PKEY_PUBLIC_KEY, &why);
    if (rv == APR_SUCCESS) {
        rv = key_from_pkey(out, p, pkey, "pem", &why); /* owns pkey from here */
    }
    ERR_clear_error();
    if (rv != APR_SUCCESS) {
        *out = NULL;
        return fail(err, why ? why : "invalid key");
    }
    return APR_SUCCESS;
}

apr_status_t vjwt_key_file_read(apr_pool_t *p, const char *path, char **buf, apr_size_t *got,
                                const char **err)
{
    apr_file_t *f = NULL;
    apr_finfo_t fi;
    apr_status_t rv;
    char ebuf[120];

    *got = 0;
    rv = apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY, APR_OS_DEFAULT, p);
    if (rv != APR_SUCCESS) {
        return fail(
            err, apr_psprintf(p, "cannot open %s: %s", path, apr_strerror(rv, ebuf, sizeof(ebuf))));
    }
    rv = apr_file_info_get(&fi, APR_FINFO_SIZE | APR_FINFO_TYPE, f);
    if (rv != APR_SUCCESS || fi.filetype != APR_REG) {
        apr_file_close(f);
        return fail(err, apr_psprintf(p, "%s is not a regular file", path));
    }
    if (fi.size > VJWT_KEY_FILE_MAX) {
        apr_file_close(f);
        return fail(err, apr_psprintf(p, "%s is larger than 1 MiB", path));
    }
    *buf = apr_palloc(p, (apr_size_t)fi.size + 1);
    rv = apr_file_read_full(f, *buf, (apr_size_t)fi.size, got);
    apr_file_close(f);
    if (rv != APR_SUCCESS && !(APR_STATUS_IS_EOF(rv) && *got == 0 && fi.size == 0)) {
        vjwt_wipe((unsigned char *)*buf, (apr_size_t)fi.size);
        return fail(
            err, apr_psprintf(p, "cannot read %s: %s", path, apr_strerror(rv, ebuf, sizeof(ebuf))));
    }
    (*buf)[*got] = 0;
    return APR_SUCCESS;
}

/* The keys of a key file's text: a JWK or JWKS when it starts with '{', else PEM/DER. */
static apr_status_t keys_from_text(apr_array_header_t *keys, apr_pool_t *p, const char *buf,
                                   apr_size_t len, const char *source, apr_array_header_t *skipped,
                                   const char **why)
{
    apr_size_t i;
    apr_status_t rv;
    int m;

    for (i = 0; i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n');
         i++) {
    }
    if (i < len && buf[i] == '{') {
        apr_array_header_t *set = NULL;
        rv = vjwt_jwks_parse(&set, p, buf, len, skipped, why);
        for (m = 0; rv == APR_SUCCESS && m < set->nelts; m++) {
            vjwt_key_t *k = APR_ARRAY_IDX(set, m, vjwt_key_t *);
            k->source = source;
            APR_ARRAY_PUSH(keys, vjwt_key_t *) = k;
        }
    }
    else {
        vjwt_key_t *k = NULL;
        rv = vjwt_key_from_pem(&k, p, buf, len, why);
        if (rv == APR_SUCCESS) {
            k->source = source;
            APR_ARRAY_PUSH(keys, vjwt_key_t *) = k;
        }
    }
    return rv;
}

apr_status_t vjwt_keys_from_file(apr_array_header_t *keys, apr_pool_t *p, const char *path,
                                 apr_array_header_t *skipped, const char **err)
{
    apr_size_t got = 0;
    char *buf = NULL;
    apr_status_t rv;
    const char *why = NULL;

    if (!keys || !path) {
        return fail(err, "no key file");
    }
    if (vjwt_key_file_read(p, path, &buf, &got, err) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    rv = keys_from_text(keys, p, buf, got, apr_pstrcat(p, "file:", path, NULL), skipped, &why);
    /* a JWKS file may hold HMAC secrets */
    vjwt_wipe((unsigned char *)buf, got);
    if (rv != APR_SUCCESS) {
        return fail(err, apr_psprintf(p, "%s: %s", path, why ? why : "invalid key file"));
    }
    return APR_SUCCESS;
}

/* ---- other forms -------------------------------------------------------------------- */

apr_status_t vjwt_key_from_rsa_ne(vjwt_key_t **out, apr_pool_t *p, const char *n_b64url,
                                  const char *e_b64url, const char **err)
{
    unsigned char *n, *e;
    apr_size_t nlen, elen;
    EVP_PKEY *pkey = NULL;
    const char *why = NULL;

    if (!out) {
        return fail(err, "no output");
    }
    *out = NULL;
    if (!n_b64url || !e_b64url) {
        return fail(err, "RSA key needs both n and e");
    }
    if (vjwt_b64url_decode(p, n_b64url, strlen(n_b64url), &n, &nlen) != APR_SUCCESS) {
        return fail(err, "n is not valid base64url");
    }
    if (vjwt_b64url_decode(p, e_b64url, strlen(e_b64url), &e, &elen) != APR_SUCCESS) {
        return fail(err, "e is not valid base64url");
    }
    if (rsa_pkey(p, &pkey, n, nlen, e, elen, &why) != APR_SUCCESS ||
        key_from_pkey(out, p, pkey, "n/e", &why) != APR_SUCCESS) {
        *out = NULL;
        return fail(err, why ? why : "invalid RSA key");
    }
    return APR_SUCCESS;
}

apr_status_t vjwt_key_from_secret(vjwt_key_t **out, apr_pool_t *p, const unsigned char *secret,
                                  apr_size_t len, const char **err)
{
    unsigned char *copy;

    if (!out) {
        return fail(err, "no output");
    }
    *out = NULL;
    if (!secret || len == 0) {
        return fail(err, "empty HMAC secret");
    }
    copy = apr_palloc(p, len);
    memcpy(copy, secret, len);
    *out = key_new(p, VJWT_KTY_OCT, NULL, 0, copy, len, "secret");
    (*out)->bits = (int)(len * 8);
    return APR_SUCCESS;
}

const char *vjwt_key_describe(apr_pool_t *p, const vjwt_key_t *k)
{
    const vjwt_curve_t *c;
    if (!k) {
        return "no key";
    }
    switch (k->kty) {
    case VJWT_KTY_RSA:
        return apr_psprintf(p, "RSA %d", k->bits);
    case VJWT_KTY_EC:
        c = vjwt_curve_by_nid(k->curve_nid);
        return apr_pstrcat(p, "EC ", c ? c->crv : "?", NULL);
    case VJWT_KTY_OKP:
        return k->curve_nid == NID_ED25519 ? "OKP Ed25519" : "OKP ?";
    case VJWT_KTY_OCT:
        return apr_psprintf(p, "oct %d bits", (int)(k->secret_len * 8));
    }
    return "unknown key";
}
