/*
 * vjwt_crypto.c - algorithm objects fetched once per process and per-key verification
 * templates. See vjwt_crypto.h.
 *
 * The fetched objects live until the process ends (they are never freed: keys made at any
 * time may hold references to them, and OpenSSL's own exit handling releases the providers).
 */
#include "vjwt_crypto.h"

#include <stdint.h>
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/params.h>
#include <openssl/rsa.h>

static CRYPTO_ONCE crypto_once = CRYPTO_ONCE_STATIC_INIT;
static EVP_MD *sha2[3]; /* SHA2-256, SHA2-384, SHA2-512 */
static const char *const sha2_names[3] = {"SHA2-256", "SHA2-384", "SHA2-512"};
static EVP_MAC *hmac;
static EVP_CIPHER *aes_ecb[3]; /* AES-128/192/256-ECB */
static int crypto_ok;

static void crypto_fetch(void)
{
    int i, ok = 1;
    for (i = 0; i < 3; i++) {
        sha2[i] = EVP_MD_fetch(NULL, sha2_names[i], NULL);
        ok = ok && sha2[i] != NULL;
    }
    aes_ecb[0] = EVP_CIPHER_fetch(NULL, "AES-128-ECB", NULL);
    aes_ecb[1] = EVP_CIPHER_fetch(NULL, "AES-192-ECB", NULL);
    aes_ecb[2] = EVP_CIPHER_fetch(NULL, "AES-256-ECB", NULL);
    hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    crypto_ok = ok && hmac != NULL && aes_ecb[0] && aes_ecb[1] && aes_ecb[2];
    ERR_clear_error();
}

int vjwt_crypto_init(void)
{
    return CRYPTO_THREAD_run_once(&crypto_once, crypto_fetch) && crypto_ok;
}

int vjwt_crypto_md_index(int bits)
{
    switch (bits) {
    case 256:
        return 0;
    case 384:
        return 1;
    case 512:
        return 2;
    }
    return -1;
}

const EVP_MD *vjwt_crypto_md(int bits)
{
    int i = vjwt_crypto_md_index(bits);
    return i >= 0 && vjwt_crypto_init() ? sha2[i] : NULL;
}

EVP_MAC *vjwt_crypto_hmac(void)
{
    return vjwt_crypto_init() ? hmac : NULL;
}

int vjwt_sha256(const void *in, size_t len, unsigned char out[32])
{
    static const unsigned char empty[1] = {0};
    const EVP_MD *md = vjwt_crypto_md(256);
    unsigned int n = 0;
    if (md && EVP_Digest(in ? in : empty, in ? len : 0, out, &n, md, NULL) == 1 && n == 32) {
        return 1;
    }
    memset(out, 0, 32);
    ERR_clear_error();
    return 0;
}

EVP_MAC_CTX *vjwt_hmac_ctx_make(const unsigned char *secret, size_t len, int bits)
{
    int i = vjwt_crypto_md_index(bits);
    EVP_MAC *mac = vjwt_crypto_hmac();
    EVP_MAC_CTX *c;
    OSSL_PARAM params[2];

    if (i < 0 || !mac || !secret || len == 0) {
        return NULL;
    }
    c = EVP_MAC_CTX_new(mac);
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)sha2_names[i], 0);
    params[1] = OSSL_PARAM_construct_end();
    if (!c || EVP_MAC_init(c, secret, len, params) != 1) {
        EVP_MAC_CTX_free(c);
        c = NULL;
    }
    ERR_clear_error();
    return c;
}

EVP_PKEY_CTX *vjwt_verify_ctx_make(EVP_PKEY *pkey, int rsa_padding, const EVP_MD *md)
{
    EVP_PKEY_CTX *c = md ? EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL) : NULL;
    int ok = c && EVP_PKEY_verify_init(c) == 1;

    if (ok && rsa_padding == RSA_PKCS1_PSS_PADDING) {
        /* RFC 7518 3.5: MGF1 with the same hash, salt as long as the hash */
        ok = EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PSS_PADDING) > 0 &&
             EVP_PKEY_CTX_set_signature_md(c, md) > 0 &&
             EVP_PKEY_CTX_set_rsa_pss_saltlen(c, RSA_PSS_SALTLEN_DIGEST) > 0 &&
             EVP_PKEY_CTX_set_rsa_mgf1_md(c, md) > 0;
    }
    else if (ok && rsa_padding) {
        ok = EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) > 0 &&
             EVP_PKEY_CTX_set_signature_md(c, md) > 0;
    }
    else if (ok) {
        ok = EVP_PKEY_CTX_set_signature_md(c, md) > 0;
    }
    if (!ok) {
        EVP_PKEY_CTX_free(c);
        c = NULL;
    }
    ERR_clear_error();
    return c;
}

EVP_MD_CTX *vjwt_eddsa_ctx_make(EVP_PKEY *pkey)
{
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    if (m && EVP_DigestVerifyInit_ex(m, NULL, NULL, NULL, NULL, pkey, NULL) != 1) {
        EVP_MD_CTX_free(m);
        m = NULL;
    }
    ERR_clear_error();
    return m;
}

/* SHA-2 size of the ES* algorithm of an EC curve (RFC 7518 3.4); 0 for other curves. */
static int ec_curve_bits(int nid)
{
    switch (nid) {
    case NID_X9_62_prime256v1:
        return 256;
    case NID_secp384r1:
        return 384;
    case NID_secp521r1:
        return 512;
    }
    return 0;
}

vjwt_verify_tmpl_t *vjwt_verify_tmpl_make(EVP_PKEY *pkey, int curve_nid,
                                          const unsigned char *secret, size_t secret_len)
{
    static const int bits[3] = {256, 384, 512};
    vjwt_verify_tmpl_t *t;
    int i, any = 0;

    if (!vjwt_crypto_init() || !(t = OPENSSL_zalloc(sizeof(*t)))) {
        ERR_clear_error();
        return NULL;
    }
    if (secret && secret_len) {
        for (i = 0; i < 3; i++) {
            any |= (t->hmac[i] = vjwt_hmac_ctx_make(secret, secret_len, bits[i])) != NULL;
        }
    }
    else if (pkey && EVP_PKEY_is_a(pkey, "RSA")) {
        for (i = 0; i < 3; i++) {
            any |= (t->pkcs1[i] = vjwt_verify_ctx_make(pkey, RSA_PKCS1_PADDING, sha2[i])) != NULL;
            any |= (t->pss[i] = vjwt_verify_ctx_make(pkey, RSA_PKCS1_PSS_PADDING, sha2[i])) != NULL;
        }
    }
    else if (pkey && EVP_PKEY_is_a(pkey, "EC") && ec_curve_bits(curve_nid)) {
        any = (t->ecdsa =
                   vjwt_verify_ctx_make(pkey, 0, vjwt_crypto_md(ec_curve_bits(curve_nid)))) != NULL;
    }
    else if (pkey && curve_nid == NID_ED25519) {
        any = (t->eddsa = vjwt_eddsa_ctx_make(pkey)) != NULL;
    }
    ERR_clear_error();
    if (!any) {
        vjwt_verify_tmpl_free(t);
        return NULL;
    }
    return t;
}

void vjwt_verify_tmpl_free(vjwt_verify_tmpl_t *t)
{
    int i;
    if (!t) {
        return;
    }
    for (i = 0; i < 3; i++) {
        EVP_MAC_CTX_free(t->hmac[i]);
        EVP_PKEY_CTX_free(t->pkcs1[i]);
        EVP_PKEY_CTX_free(t->pss[i]);
    }
    EVP_PKEY_CTX_free(t->ecdsa);
    EVP_MD_CTX_free(t->eddsa);
    OPENSSL_free(t);
}

EVP_CIPHER_CTX *vjwt_aes_kw_ctx_make(const unsigned char *kek, size_t kek_len)
{
    EVP_CIPHER_CTX *c;
    int i = kek_len == 16 ? 0 : kek_len == 24 ? 1 : kek_len == 32 ? 2 : -1;

    if (i < 0 || !kek || !vjwt_crypto_init() || !(c = EVP_CIPHER_CTX_new())) {
        return NULL;
    }
    if (EVP_DecryptInit_ex2(c, aes_ecb[i], kek, NULL, NULL) != 1 ||
        EVP_CIPHER_CTX_set_padding(c, 0) != 1) {
        EVP_CIPHER_CTX_free(c);
        c = NULL;
    }
    ERR_clear_error();
    return c;
}

#define KW_MAX_N 8 /* 64-bit blocks of key data: a CEK of at most 64 bytes */

int vjwt_aes_unwrap(const EVP_CIPHER_CTX *kw, const unsigned char *ek, size_t ek_len,
                    unsigned char *out)
{
    /* RFC 3394 2.2.3.1: the default initial value */
    static const unsigned char iv[8] = {0xA6, 0xA6, 0xA6, 0xA6, 0xA6, 0xA6, 0xA6, 0xA6};
    unsigned char r[KW_MAX_N * 8], b[16], a[8];
    size_t n = ek_len / 8, i, k;
    EVP_CIPHER_CTX *c = NULL;
    int j, outl = 0, ok = 0;

    if (!kw || !ek || !out || ek_len % 8 != 0 || n < 3 || n - 1 > KW_MAX_N) {
        return 0;
    }
    n--; /* n 64-bit blocks of key data after A */
    c = EVP_CIPHER_CTX_new();
    if (!c || EVP_CIPHER_CTX_copy(c, kw) != 1) {
        goto done;
    }
    memcpy(a, ek, 8);
    memcpy(r, ek + 8, 8 * n);
    /* RFC 3394 2.2.2 (index-based): for j = 5..0, i = n..1:
     * B = AES-1(K, (A ^ t) | R[i]) with t = n*j+i, A = MSB(64, B), R[i] = LSB(64, B) */
    for (j = 5; j >= 0; j--) {
        for (i = n; i >= 1; i--) {
            uint64_t t = (uint64_t)n * (uint64_t)j + (uint64_t)i;
            memcpy(b, a, 8);
            for (k = 0; k < 8; k++) {
                b[7 - k] ^= (unsigned char)(t >> (8 * k));
            }
            memcpy(b + 8, r + 8 * (i - 1), 8);
            if (EVP_DecryptUpdate(c, b, &outl, b, 16) != 1 || outl != 16) {
                goto done;
            }
            memcpy(a, b, 8);
            memcpy(r + 8 * (i - 1), b + 8, 8);
        }
    }
    /* 2.2.3: the key data is authentic only when A is the initial value */
    ok = CRYPTO_memcmp(a, iv, 8) == 0;
done:
    if (ok) {
        memcpy(out, r, 8 * n);
    }
    else {
        memset(out, 0, 8 * n);
    }
    EVP_CIPHER_CTX_free(c);
    OPENSSL_cleanse(r, sizeof(r));
    OPENSSL_cleanse(b, sizeof(b));
    OPENSSL_cleanse(a, sizeof(a));
    ERR_clear_error();
    return ok;
}
