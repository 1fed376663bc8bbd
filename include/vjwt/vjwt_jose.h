/*
 * vjwt_jose.h - the JWS algorithm registry, key/alg binding (RFC 8725 section 3.1) and
 * signature verification with OpenSSL EVP.
 *
 * Thread context: any thread. The only state is process-wide and read-only once made: the
 * digests and HMAC fetched once (vjwt_crypto.h) and each key's verification templates.
 */
#ifndef VJWT_JOSE_H
#define VJWT_JOSE_H

#include <apr_pools.h>
#include "vjwt_jwk.h"

typedef enum {
    VJWT_FAM_HMAC = 1,
    VJWT_FAM_RSA_PKCS1,
    VJWT_FAM_RSA_PSS,
    VJWT_FAM_ECDSA,
    VJWT_FAM_EDDSA
} vjwt_alg_family_e;

typedef struct {
    const char *name; /* "RS256" ... exact, case-sensitive */
    vjwt_alg_family_e family;
    vjwt_kty_e kty;
    int hash_bits;      /* 256/384/512; 0 for EdDSA */
    int curve_nid;      /* ECDSA: required curve; 0 otherwise */
    apr_size_t sig_len; /* ECDSA: exact R||S length; EdDSA 64; HMAC: hash length */
    unsigned bit;       /* 1 << index, for allowlists */
} vjwt_alg_t;

/* All supported algorithms, in registry order; *n set to the count. */
const vjwt_alg_t *vjwt_alg_all(int *n);

/* Exact lookup; NULL for unknown names (including "none", "hs256", "HS1"). */
const vjwt_alg_t *vjwt_alg_lookup(const char *name);

/* Bitmask of every supported algorithm. */
unsigned vjwt_alg_mask_all(void);

#define VJWT_DEFAULT_MIN_RSA_BITS 2048

/* 1 when key may verify alg: kty fits, EC curve fits, JWK alg (if any) equals alg,
 * RSA bits >= min_rsa_bits, HMAC secret >= hash length. Otherwise 0 and *why (if not
 * NULL) says why. */
int vjwt_key_fits_alg(const vjwt_key_t *key, const vjwt_alg_t *alg, int min_rsa_bits,
                      const char **why);

/* Verify sig over in with key (the caller has checked vjwt_key_fits_alg). APR_SUCCESS when
 * the signature is valid, APR_EGENERAL when not; never crashes on any input lengths.
 * ECDSA signatures are raw R||S of exactly alg->sig_len bytes, r and s in [1, n-1];
 * PSS uses MGF1 with the same hash and salt length = hash length; HMAC compares the full
 * length in constant time. Uses a duplicate of the key's template for alg (vjwt_crypto.h),
 * so nothing is fetched by name per call; leaves nothing on OpenSSL's error queue. */
apr_status_t vjwt_jose_verify(const vjwt_alg_t *alg, const vjwt_key_t *key, const unsigned char *in,
                              apr_size_t inlen, const unsigned char *sig, apr_size_t siglen);

#endif
