/*
 * vjwt_jwe.h - decryption of compact JWE tokens (RFC 7516, algorithms of RFC 7518 sections 4
 * and 5), strictly: decryption keys, the algorithm set, key choice and binding, and the
 * decryption itself. The validation pipeline (vjwt_validate.c) calls it for five-segment
 * tokens and hands the plaintext (a compact JWS or a claims set) to the JWS side.
 *
 * Key management: dir, A128KW/A192KW/A256KW, RSA-OAEP, RSA-OAEP-256, ECDH-ES and
 * ECDH-ES+A128KW/A192KW/A256KW on P-256/P-384/P-521. Content encryption: A128CBC-HS256,
 * A192CBC-HS384, A256CBC-HS512, A128GCM, A192GCM, A256GCM. Refused: RSA1_5 (RFC 8725
 * section 3.2), any "zip" (RFC 8725 section 3.6), PBES2*, A*GCMKW, unknown alg/enc, any
 * "crit", a "cty" other than JWT, and a plaintext that is itself a compact JWE.
 *
 * Every failure is one status (APR_EGENERAL) with a JwtInvalid verdict whose detail is for
 * logs only: the caller answers the client the same way for all of them. A failed key
 * unwrap or RSA decryption continues with a CEK that is not the token's (RFC 7516 section
 * 11.5: random bytes drawn once per vjwt_jwe_ctx_t and never revealed), so it surfaces as an
 * authentication-tag failure.
 *
 * Ownership: a vjwt_jwe_key_t and a vjwt_jwe_ctx_t own their OpenSSL objects; a cleanup on
 * the pool they were made in frees them (secrets are cleansed). The decrypt results live
 * in the request pool given.
 *
 * Thread context: keys and ctx are made on the thread that owns their pool (configuration
 * time) and are read-only afterwards; vjwt_jwe_decrypt may run on any number of threads at
 * once with the same keys and ctx. The only globals are the algorithm objects vjwt_crypto.h
 * fetches once per process.
 */
#ifndef VJWT_JWE_H
#define VJWT_JWE_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "vjwt_verdict.h"

typedef enum { VJWT_JWE_KEY_OCT = 1, VJWT_JWE_KEY_RSA, VJWT_JWE_KEY_EC } vjwt_jwe_kind_e;

typedef struct {
    const char *kid; /* id of the key; NULL = none */
    vjwt_jwe_kind_e kind;
    EVP_PKEY *pkey;        /* RSA or EC private key */
    int bits;              /* RSA modulus bits; EC field bits; oct secret bits */
    int curve_nid;         /* EC: NID_X9_62_prime256v1 / NID_secp384r1 / NID_secp521r1 */
    unsigned char *secret; /* oct: 16, 24, 32, 48 or 64 bytes */
    apr_size_t secret_len;
    const char *alg;    /* JWK "alg": the only alg this key may be used with (for a dir key,
                           the enc); NULL = any alg its kind fits */
    const char *source; /* for log lines: "secret", "file:/x.pem", "jwk", "EVP_PKEY" */
    EVP_CIPHER_CTX *kw; /* oct of 16/24/32 bytes: AES-ECB decryption keyed with the secret,
                           copied per A*KW unwrap (vjwt_crypto.h); NULL otherwise */
} vjwt_jwe_key_t;

/* Symmetric key (raw bytes, copied) for dir or A*KW: 16, 24, 32, 48 or 64 bytes. kid may
 * be NULL. APR_EINVAL and *err on error. */
apr_status_t vjwt_jwe_key_from_secret(vjwt_jwe_key_t **out, apr_pool_t *p, const char *kid,
                                      const unsigned char *secret, apr_size_t len,
                                      const char **err);

/* Private RSA key (>= 1024 bits) or EC private key on P-256/P-384/P-521. The key takes its
 * own reference to pkey (EVP_PKEY_up_ref), released by the pool cleanup; the caller keeps
 * and frees its own reference. The key pair is checked (EVP_PKEY_pairwise_check). */
apr_status_t vjwt_jwe_key_from_pkey(vjwt_jwe_key_t **out, apr_pool_t *p, const char *kid,
                                    EVP_PKEY *pkey, const char **err);

/* PEM or DER private key: PKCS#8 ("PRIVATE KEY") or traditional ("RSA PRIVATE KEY",
 * "EC PRIVATE KEY"); in PEM, other blocks (a certificate) before or after are skipped.
 * Encrypted keys are refused. At most 1 MiB. */
apr_status_t vjwt_jwe_key_from_pem(vjwt_jwe_key_t **out, apr_pool_t *p, const char *kid,
                                   const char *buf, apr_size_t len, const char **err);

/* Same, read from a file. */
apr_status_t vjwt_jwe_key_from_file(vjwt_jwe_key_t **out, apr_pool_t *p, const char *kid,
                                    const char *path, const char **err);

/* Private JWK (RFC 7518 section 6): kty "oct" with "k"; "RSA" with n, e, d, p, q, dp, dq, qi
 * (no "oth"); "EC" with crv (P-256/384/521), x, y, d. "use", if present, must be "enc";
 * "key_ops", if present, must allow decrypt, unwrapKey or deriveKey; "alg", if present, must
 * be a supported key-management algorithm of the key's kind (for an oct key also an enc:
 * a dir key); "kid" must be a string. */
apr_status_t vjwt_jwe_key_from_jwk(vjwt_jwe_key_t **out, apr_pool_t *p, json_t *jwk,
                                   const char **err);

/* "RSA 2048", "EC P-256", "oct 256 bits" for log lines. */
const char *vjwt_jwe_key_describe(apr_pool_t *p, const vjwt_jwe_key_t *k);

/* The OpenSSL algorithms JWE needs (AES-GCM/CBC, SHA-1/256/384/512, HMAC, SSKDF), fetched
 * once here, so the request path does no implicit fetches for them (A*KW uses AES-ECB from
 * vjwt_crypto.h), and the fallback CEK of failed unwraps. Make one at configuration time and
 * share it read-only. */
typedef struct vjwt_jwe_ctx_t vjwt_jwe_ctx_t;
apr_status_t vjwt_jwe_ctx_make(vjwt_jwe_ctx_t **out, apr_pool_t *p, const char **err);

typedef struct {
    apr_size_t max_token_len; /* the whole compact JWE; 0 = no limit */
    apr_size_t max_plaintext; /* decrypted bytes; 0 = 64 KiB */
    int min_rsa_bits;         /* RSA decryption keys below this are not candidates */
} vjwt_jwe_limits_t;

typedef struct {
    json_t *header;                 /* protected header, owned by the pool given */
    const char *alg, *enc, *kid;    /* from the header (kid NULL when absent) */
    const char *cty;                /* NULL when absent */
    const unsigned char *plaintext; /* NUL-terminated (not counted in plaintext_len) */
    apr_size_t plaintext_len;
    const vjwt_jwe_key_t *key; /* the key that decrypted it */
} vjwt_jwe_result_t;

/* 1 when token[0..len) has the shape of a compact JWE: only base64url characters and
 * exactly four '.', the first segment (header) not empty; else 0. A decrypted plaintext of
 * that shape is refused as a nested JWE. */
int vjwt_jwe_is_compact(const char *token, apr_size_t len);

/* Decrypt the compact JWE token[0..len) with keys (array of const vjwt_jwe_key_t *).
 * Key choice: when the header's "kid" equals the kid of one or more keys, only those keys
 * are tried; otherwise every key. Of these, only keys bound to the alg/enc are used (oct
 * length exactly what dir+enc or A*KW needs; RSA >= min_rsa_bits; EC on the epk's curve;
 * a JWK "alg" equal to the token's). APR_SUCCESS and *out filled, or APR_EGENERAL with
 * v (may be NULL) set to JwtInvalid and a detail for logs. */
apr_status_t vjwt_jwe_decrypt(vjwt_jwe_result_t *out, apr_pool_t *p, const vjwt_jwe_ctx_t *ctx,
                              const apr_array_header_t *keys, const char *token, apr_size_t len,
                              const vjwt_jwe_limits_t *lim, vjwt_verdict_t *v);

#endif
