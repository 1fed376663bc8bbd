/*
 * vjwt_jose.c - the JWS algorithm registry (RFC 7518 section 3, RFC 8037), key/alg binding
 * (RFC 8725 section 3.1) and signature verification with OpenSSL 3 EVP. See vjwt_jose.h.
 */
#include "vjwt_jose.h"
#include "vjwt_crypto.h"

#include <string.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/rsa.h>

/* "none" is deliberately absent: an unsigned token is never verified here. */
static const vjwt_alg_t vjwt_algs[] = {
    {"HS256", VJWT_FAM_HMAC, VJWT_KTY_OCT, 256, 0, 32, 1u << 0},
    {"HS384", VJWT_FAM_HMAC, VJWT_KTY_OCT, 384, 0, 48, 1u << 1},
    {"HS512", VJWT_FAM_HMAC, VJWT_KTY_OCT, 512, 0, 64, 1u << 2},
    {"RS256", VJWT_FAM_RSA_PKCS1, VJWT_KTY_RSA, 256, 0, 0, 1u << 3},
    {"RS384", VJWT_FAM_RSA_PKCS1, VJWT_KTY_RSA, 384, 0, 0, 1u << 4},
    {"RS512", VJWT_FAM_RSA_PKCS1, VJWT_KTY_RSA, 512, 0, 0, 1u << 5},
    {"PS256", VJWT_FAM_RSA_PSS, VJWT_KTY_RSA, 256, 0, 0, 1u << 6},
    {"PS384", VJWT_FAM_RSA_PSS, VJWT_KTY_RSA, 384, 0, 0, 1u << 7},
    {"PS512", VJWT_FAM_RSA_PSS, VJWT_KTY_RSA, 512, 0, 0, 1u << 8},
    {"ES256", VJWT_FAM_ECDSA, VJWT_KTY_EC, 256, NID_X9_62_prime256v1, 64, 1u << 9},
    {"ES384", VJWT_FAM_ECDSA, VJWT_KTY_EC, 384, NID_secp384r1, 96, 1u << 10},
    {"ES512", VJWT_FAM_ECDSA, VJWT_KTY_EC, 512, NID_secp521r1, 132, 1u << 11},
    {"EdDSA", VJWT_FAM_EDDSA, VJWT_KTY_OKP, 0, 0, 64, 1u << 12},
};

#define VJWT_NALGS ((int)(sizeof(vjwt_algs) / sizeof(vjwt_algs[0])))

/* Group orders n of the three curves (SEC 2 / FIPS 186-4), big-endian, each as long as one
 * half of R||S. test_jose.c checks that r or s = n are refused and that r, s near n (the
 * high-s twin of a valid signature) still verify. */
static const unsigned char order_p256[32] = {
    0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17, 0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51};
static const unsigned char order_p384[48] = {
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xC7, 0x63, 0x4D, 0x81, 0xF4, 0x37, 0x2D, 0xDF,
    0x58, 0x1A, 0x0D, 0xB2, 0x48, 0xB0, 0xA7, 0x7A, 0xEC, 0xEC, 0x19, 0x6A, 0xCC, 0xC5, 0x29, 0x73};
static const unsigned char order_p521[66] = {
    0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFA, 0x51, 0x86, 0x87, 0x83, 0xBF, 0x2F, 0x96, 0x6B,
    0x7F, 0xCC, 0x01, 0x48, 0xF7, 0x09, 0xA5, 0xD0, 0x3B, 0xB5, 0xC9, 0xB8, 0x89, 0x9C,
    0x47, 0xAE, 0xBB, 0x6F, 0xB7, 0x1E, 0x91, 0x38, 0x64, 0x09};

const vjwt_alg_t *vjwt_alg_all(int *n)
{
    if (n) {
        *n = VJWT_NALGS;
    }
    return vjwt_algs;
}

const vjwt_alg_t *vjwt_alg_lookup(const char *name)
{
    int i;
    if (!name) {
        return NULL;
    }
    for (i = 0; i < VJWT_NALGS; i++) {
        if (strcmp(vjwt_algs[i].name, name) == 0) {
            return &vjwt_algs[i];
        }
    }
    return NULL;
}

unsigned vjwt_alg_mask_all(void)
{
    unsigned m = 0;
    int i;
    for (i = 0; i < VJWT_NALGS; i++) {
        m |= vjwt_algs[i].bit;
    }
    return m;
}

static int fits_fail(const char **why, const char *text)
{
    if (why) {
        *why = text;
    }
    return 0;
}

/* Why a key of another type cannot serve an algorithm, by the type the algorithm needs. */
static const char *kty_mismatch(vjwt_kty_e needed)
{
    switch (needed) {
    case VJWT_KTY_OCT:
        return "HMAC algorithms need a symmetric (oct) key";
    case VJWT_KTY_RSA:
        return "RS*/PS* algorithms need an RSA key";
    case VJWT_KTY_EC:
        return "ES* algorithms need an EC key";
    case VJWT_KTY_OKP:
        return "EdDSA needs an OKP key";
    }
    return "key type does not fit the algorithm";
}

/* The checks of one algorithm family on a key of the right type: secret length, RSA
 * modulus size, curve. */
static int fits_family(const vjwt_key_t *key, const vjwt_alg_t *alg, int min_rsa_bits,
                       const char **why)
{
    switch (alg->family) {
    case VJWT_FAM_HMAC:
        if (!key->secret || key->secret_len == 0) {
            return fits_fail(why, "symmetric key has no secret");
        }
        /* RFC 7518 3.2: a key of the same size as the hash output or larger */
        if (key->secret_len < (apr_size_t)(alg->hash_bits / 8)) {
            return fits_fail(why, "HMAC secret is shorter than the hash output");
        }
        return 1;
    case VJWT_FAM_RSA_PKCS1:
    case VJWT_FAM_RSA_PSS:
        if (!key->pkey) {
            return fits_fail(why, "RSA key has no public key");
        }
        if (key->bits < min_rsa_bits) {
            return fits_fail(why, "RSA modulus is smaller than the configured minimum");
        }
        return 1;
    case VJWT_FAM_ECDSA:
        if (!key->pkey) {
            return fits_fail(why, "EC key has no public key");
        }
        if (key->curve_nid != alg->curve_nid) {
            return fits_fail(why, "EC key is on another curve than the algorithm needs");
        }
        return 1;
    case VJWT_FAM_EDDSA:
        if (!key->pkey) {
            return fits_fail(why, "OKP key has no public key");
        }
        if (key->curve_nid != NID_ED25519) {
            return fits_fail(why, "only Ed25519 OKP keys are supported");
        }
        return 1;
    }
    return fits_fail(why, "unknown algorithm family");
}

int vjwt_key_fits_alg(const vjwt_key_t *key, const vjwt_alg_t *alg, int min_rsa_bits,
                      const char **why)
{
    if (why) {
        *why = NULL;
    }
    if (!key || !alg) {
        return fits_fail(why, "no key or algorithm");
    }
    if (key->kty != alg->kty) {
        return fits_fail(why, kty_mismatch(alg->kty));
    }
    /* RFC 8725 3.1: a key with a JWK "alg" is used with exactly that algorithm */
    if (key->alg && strcmp(key->alg, alg->name) != 0) {
        return fits_fail(why, "the key's JWK alg differs from the token alg");
    }
    return fits_family(key, alg, min_rsa_bits, why);
}

/*
 * Every verification uses the key's templates (vjwt_crypto.h): a duplicate of a context
 * initialised when the key was made, and digests fetched once per process, so that no
 * algorithm is looked up by name per call. A key without templates (one made by hand, not by
 * vjwt_jwk.c) gets the same contexts built per call.
 */

/* HMAC over in, full-length constant-time comparison with sig. */
static apr_status_t verify_hmac(const vjwt_alg_t *alg, const vjwt_key_t *key,
                                const unsigned char *in, apr_size_t inlen, const unsigned char *sig,
                                apr_size_t siglen)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    size_t maclen = 0;
    apr_status_t rv = APR_EGENERAL;
    int i = vjwt_crypto_md_index(alg->hash_bits);
    EVP_MAC_CTX *c;

    /* RFC 7518 3.2: the JWS signature is the full HMAC output, never a prefix */
    if (i < 0 || siglen != alg->sig_len || !key->secret || key->secret_len == 0) {
        return APR_EGENERAL;
    }
    c = key->tmpl && key->tmpl->hmac[i]
            ? EVP_MAC_CTX_dup(key->tmpl->hmac[i])
            : vjwt_hmac_ctx_make(key->secret, key->secret_len, alg->hash_bits);
    if (c && EVP_MAC_update(c, in, inlen) == 1 &&
        EVP_MAC_final(c, mac, &maclen, sizeof(mac)) == 1 && maclen == siglen &&
        CRYPTO_memcmp(mac, sig, siglen) == 0) {
        rv = APR_SUCCESS;
    }
    EVP_MAC_CTX_free(c);
    OPENSSL_cleanse(mac, sizeof(mac));
    return rv;
}

/* sig over the digest of in, with a duplicate of tmpl (a verification context made by
 * vjwt_verify_ctx_make), or, when tmpl is NULL, a context made now for pkey. */
static apr_status_t pkey_verify(EVP_PKEY_CTX *tmpl, EVP_PKEY *pkey, int rsa_padding,
                                const EVP_MD *md, const unsigned char *sig, apr_size_t siglen,
                                const unsigned char *in, apr_size_t inlen)
{
    unsigned char dg[EVP_MAX_MD_SIZE];
    unsigned int dglen = 0;
    EVP_PKEY_CTX *c;
    apr_status_t rv = APR_EGENERAL;

    if (!md || EVP_Digest(in, inlen, dg, &dglen, md, NULL) != 1) {
        return APR_EGENERAL;
    }
    c = tmpl ? EVP_PKEY_CTX_dup(tmpl) : vjwt_verify_ctx_make(pkey, rsa_padding, md);
    if (c && EVP_PKEY_verify(c, sig, siglen, dg, dglen) == 1) {
        rv = APR_SUCCESS;
    }
    EVP_PKEY_CTX_free(c);
    return rv;
}

/* RS* and PS*: a signature exactly as long as the modulus, then pkey_verify. */
static apr_status_t verify_rsa(const vjwt_alg_t *alg, const vjwt_key_t *key,
                               const unsigned char *in, apr_size_t inlen, const unsigned char *sig,
                               apr_size_t siglen)
{
    int i = vjwt_crypto_md_index(alg->hash_bits);
    int pss = alg->family == VJWT_FAM_RSA_PSS;
    EVP_PKEY_CTX *tmpl = NULL;
    int size;

    if (!key->pkey || i < 0) {
        return APR_EGENERAL;
    }
    size = EVP_PKEY_get_size(key->pkey);
    if (size <= 0 || siglen != (apr_size_t)size) {
        return APR_EGENERAL;
    }
    if (key->tmpl) {
        tmpl = pss ? key->tmpl->pss[i] : key->tmpl->pkcs1[i];
    }
    return pkey_verify(tmpl, key->pkey, pss ? RSA_PKCS1_PSS_PADDING : RSA_PKCS1_PADDING,
                       vjwt_crypto_md(alg->hash_bits), sig, siglen, in, inlen);
}

static const unsigned char *ec_order(int nid)
{
    switch (nid) {
    case NID_X9_62_prime256v1:
        return order_p256;
    case NID_secp384r1:
        return order_p384;
    case NID_secp521r1:
        return order_p521;
    }
    return NULL;
}

/* 1 when the big-endian number a[0..n) is zero. */
static int be_is_zero(const unsigned char *a, apr_size_t n)
{
    unsigned char acc = 0;
    apr_size_t i;
    for (i = 0; i < n; i++) {
        acc |= a[i];
    }
    return acc == 0;
}

/* DER INTEGER of the non-zero big-endian a[0..n) (n <= 66) at der; returns its length. */
static apr_size_t der_integer(unsigned char *der, const unsigned char *a, apr_size_t n)
{
    apr_size_t pad;
    while (n > 1 && a[0] == 0) { /* minimal encoding: no leading zero octets */
        a++;
        n--;
    }
    pad = (a[0] & 0x80) ? 1 : 0; /* a positive number whose first bit is set */
    der[0] = 0x02;
    der[1] = (unsigned char)(n + pad);
    der[2] = 0;
    memcpy(der + 2 + pad, a, n);
    return 2 + pad + n;
}

/* DER (what OpenSSL verifies) of the ECDSA signature R||S with non-zero halves of half
 * (<= 66) octets: SEQUENCE { INTEGER r, INTEGER s } (RFC 3279 2.2.3). Returns the length. */
static apr_size_t ecdsa_der(const unsigned char *sig, apr_size_t half, unsigned char der[160])
{
    unsigned char body[2 * (3 + 66)];
    apr_size_t n = der_integer(body, sig, half);
    apr_size_t h;

    n += der_integer(body + n, sig + half, half);
    der[0] = 0x30;
    if (n < 0x80) {
        der[1] = (unsigned char)n;
        h = 2;
    }
    else {
        der[1] = 0x81; /* n <= 138: one length octet */
        der[2] = (unsigned char)n;
        h = 3;
    }
    memcpy(der + h, body, n);
    return h + n;
}

/* ES*: exactly alg->sig_len octets of R||S (RFC 7518 3.4), r and s in [1, n-1]; converted to
 * DER only for OpenSSL. */
static apr_status_t verify_ecdsa(const vjwt_alg_t *alg, const vjwt_key_t *key,
                                 const unsigned char *in, apr_size_t inlen,
                                 const unsigned char *sig, apr_size_t siglen)
{
    const unsigned char *order = ec_order(alg->curve_nid);
    apr_size_t half = alg->sig_len / 2;
    unsigned char der[160];
    apr_size_t derlen;

    if (!key->pkey || !order || half > 66 || siglen != alg->sig_len ||
        key->curve_nid != alg->curve_nid) {
        return APR_EGENERAL;
    }
    /* r, s in [1, n-1]; each half is as long as n, so a byte comparison is a numeric one */
    if (be_is_zero(sig, half) || be_is_zero(sig + half, half) || memcmp(sig, order, half) >= 0 ||
        memcmp(sig + half, order, half) >= 0) {
        return APR_EGENERAL;
    }
    derlen = ecdsa_der(sig, half, der);
    return pkey_verify(key->tmpl ? key->tmpl->ecdsa : NULL, key->pkey, 0,
                       vjwt_crypto_md(alg->hash_bits), der, derlen, in, inlen);
}

/* EdDSA (Ed25519): one-shot EVP_DigestVerify without a digest; 64-octet signature. */
static apr_status_t verify_eddsa(const vjwt_alg_t *alg, const vjwt_key_t *key,
                                 const unsigned char *in, apr_size_t inlen,
                                 const unsigned char *sig, apr_size_t siglen)
{
    EVP_MD_CTX *m = NULL;
    apr_status_t rv = APR_EGENERAL;

    if (!key->pkey || siglen != alg->sig_len || key->curve_nid != NID_ED25519) {
        return APR_EGENERAL;
    }
    if (key->tmpl && key->tmpl->eddsa) {
        m = EVP_MD_CTX_new();
        if (m && EVP_MD_CTX_copy_ex(m, key->tmpl->eddsa) != 1) {
            EVP_MD_CTX_free(m);
            m = NULL;
        }
    }
    else {
        m = vjwt_eddsa_ctx_make(key->pkey);
    }
    if (m && EVP_DigestVerify(m, sig, siglen, in, inlen) == 1) {
        rv = APR_SUCCESS;
    }
    EVP_MD_CTX_free(m);
    return rv;
}

apr_status_t vjwt_jose_verify(const vjwt_alg_t *alg, const vjwt_key_t *key, const unsigned char *in,
                              apr_size_t inlen, const unsigned char *sig, apr_size_t siglen)
{
    static const unsigned char empty[1] = {0};
    apr_status_t rv = APR_EGENERAL;

    if (!alg || !key || key->kty != alg->kty || (!in && inlen) || (!sig && siglen)) {
        return APR_EGENERAL;
    }
    if (!in) {
        in = empty;
    }
    if (!sig) {
        sig = empty;
    }
    ERR_clear_error();
    switch (alg->family) {
    case VJWT_FAM_HMAC:
        rv = verify_hmac(alg, key, in, inlen, sig, siglen);
        break;
    case VJWT_FAM_RSA_PKCS1:
    case VJWT_FAM_RSA_PSS:
        rv = verify_rsa(alg, key, in, inlen, sig, siglen);
        break;
    case VJWT_FAM_ECDSA:
        rv = verify_ecdsa(alg, key, in, inlen, sig, siglen);
        break;
    case VJWT_FAM_EDDSA:
        rv = verify_eddsa(alg, key, in, inlen, sig, siglen);
        break;
    }
    /* a failed verification leaves entries on the thread's error queue: drop them */
    ERR_clear_error();
    return rv;
}
