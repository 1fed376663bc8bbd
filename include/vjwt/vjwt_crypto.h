/*
 * vjwt_crypto.h - the OpenSSL algorithm objects the request path uses, fetched once per
 * process, and the per-key verification templates built from them.
 *
 * OpenSSL 3 looks an algorithm up by name in its method store whenever it is handed a name
 * or a legacy object (EVP_sha256(), "HMAC"/"SHA256"): that lookup goes through locks shared
 * by every thread (OpenSSL's crypto(7), "Performance"). Here the digests and HMAC are fetched
 * explicitly once (vjwt_crypto_init, thread-safe and idempotent, called lazily by every
 * function below), and each verification key gets contexts initialised once for every
 * algorithm it can verify (vjwt_verify_tmpl_make). A verification duplicates the template
 * (EVP_PKEY_CTX_dup, EVP_MAC_CTX_dup, EVP_MD_CTX_copy_ex), which only reads it and takes
 * references with atomic counters, so one template serves any number of threads at once.
 *
 * Thread context: any thread. Templates are made with their key (configuration time or the
 * key store's fetch thread), read-only afterwards and freed with the key.
 */
#ifndef VJWT_CRYPTO_H
#define VJWT_CRYPTO_H

#include <stddef.h>
#include <openssl/evp.h>

/* Fetches SHA-256/384/512, HMAC and AES-128/192/256-ECB once per process (CRYPTO_THREAD_run_once).
 * 1 when all are there; 0 when OpenSSL could not provide one (every caller then fails safe). */
int vjwt_crypto_init(void);

/* The pre-fetched SHA-2 digest of bits 256, 384 or 512; NULL for other sizes or when
 * vjwt_crypto_init failed. */
const EVP_MD *vjwt_crypto_md(int bits);

/* The pre-fetched HMAC; NULL when vjwt_crypto_init failed. */
EVP_MAC *vjwt_crypto_hmac(void);

/* SHA-256 of in[0..len) into out with the pre-fetched digest (no per-call fetch). 1 on
 * success, 0 on a libcrypto failure (out is then zeroed). */
int vjwt_sha256(const void *in, size_t len, unsigned char out[32]);

/* Verification templates of one key: contexts initialised for each algorithm the key's type
 * can verify, never used directly, only duplicated. Slots the key cannot use stay NULL. */
typedef struct vjwt_verify_tmpl_t {
    EVP_MAC_CTX *hmac[3];   /* HS256/384/512: HMAC keyed with the secret, digest set */
    EVP_PKEY_CTX *pkcs1[3]; /* RS256/384/512: verify op, PKCS#1 v1.5, signature digest */
    EVP_PKEY_CTX *pss[3];   /* PS256/384/512: verify op, PSS, MGF1 digest, salt = hash */
    EVP_PKEY_CTX *ecdsa;    /* ES*: verify op with the digest of the key's curve */
    EVP_MD_CTX *eddsa;      /* EdDSA: DigestVerifyInit done, no digest */
} vjwt_verify_tmpl_t;

/* Index 0/1/2 of a SHA-2 size 256/384/512 in the arrays above; -1 for others. */
int vjwt_crypto_md_index(int bits);

/* A fresh HMAC context keyed with secret[0..len) for SHA-2 of bits; NULL on failure. */
EVP_MAC_CTX *vjwt_hmac_ctx_make(const unsigned char *secret, size_t len, int bits);

/* A fresh verification context on pkey: rsa_padding RSA_PKCS1_PADDING or
 * RSA_PKCS1_PSS_PADDING for RSA keys, 0 for EC; md the signature digest. NULL on failure. */
EVP_PKEY_CTX *vjwt_verify_ctx_make(EVP_PKEY *pkey, int rsa_padding, const EVP_MD *md);

/* A fresh Ed25519 DigestVerify context on pkey; NULL on failure. */
EVP_MD_CTX *vjwt_eddsa_ctx_make(EVP_PKEY *pkey);

/* The templates of a key: pkey for RSA/EC/OKP keys (curve_nid for EC and OKP), or the HMAC
 * secret. NULL when nothing could be built (verification then builds its contexts per call,
 * with the same result). Free with vjwt_verify_tmpl_free. */
vjwt_verify_tmpl_t *vjwt_verify_tmpl_make(EVP_PKEY *pkey, int curve_nid,
                                          const unsigned char *secret, size_t secret_len);
void vjwt_verify_tmpl_free(vjwt_verify_tmpl_t *t);

/* ---- AES key unwrap (RFC 3394), used by JWE A*KW and ECDH-ES+A*KW ------------------ */

/* An AES-ECB decryption context (padding off) keyed with kek of 16, 24 or 32 bytes, with
 * the pre-fetched cipher; NULL on failure. A template: vjwt_aes_unwrap only copies it. */
EVP_CIPHER_CTX *vjwt_aes_kw_ctx_make(const unsigned char *kek, size_t kek_len);

/* RFC 3394 section 2.2.2 unwrap of ek[0..ek_len) (a multiple of 8, at least 24 and at most
 * 8 + 64 bytes) into exactly ek_len - 8 bytes at out, on a copy of kw (from
 * vjwt_aes_kw_ctx_make): 6n AES block decryptions (AES-NI where the CPU has it), then the
 * integrity check value compared in constant time. 1 on success; 0 otherwise, out then
 * zeroed. */
int vjwt_aes_unwrap(const EVP_CIPHER_CTX *kw, const unsigned char *ek, size_t ek_len,
                    unsigned char *out);

#endif
