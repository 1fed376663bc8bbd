/*
 * vjwt_jwk.h - prepared verification keys and the parsers that make them: JWK, JWKS,
 * PEM public key or certificate, RSA n/e, raw HMAC secret.
 *
 * A vjwt_key_t is immutable once made; its EVP_PKEY (or secret) and its verification
 * templates are released by a cleanup on the pool it was made in (secrets are cleansed). Keys are
 * made at configuration time (or by the key store) and read by any number of request threads.
 *
 * Thread context: parsers on the thread that owns the pool; the keys on any thread.
 */
#ifndef VJWT_JWK_H
#define VJWT_JWK_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <jansson.h>
#include <openssl/evp.h>

typedef enum { VJWT_KTY_OCT = 1, VJWT_KTY_RSA, VJWT_KTY_EC, VJWT_KTY_OKP } vjwt_kty_e;

typedef struct {
    const char *kid; /* `id` of a static key or `kid` of a JWK; NULL = none */
    vjwt_kty_e kty;
    EVP_PKEY *pkey;        /* RSA, EC, OKP */
    int bits;              /* RSA modulus bits; EC field bits; oct secret bits */
    int curve_nid;         /* EC: NID_X9_62_prime256v1 / NID_secp384r1 / NID_secp521r1;
                              OKP: NID_ED25519 */
    unsigned char *secret; /* oct */
    apr_size_t secret_len;
    const char *alg;    /* JWK "alg": the only alg this key may be used with; NULL = any
                           alg of its family */
    const char *source; /* where it came from, for log lines: "file:/x.pem", "n/e", ... */
    int lenient;        /* JWK: a member was standard base64 or padded, not base64url */
    /* verification contexts built when the key is made (vjwt_crypto.h), freed with it;
       NULL = none (vjwt_jose_verify then builds them per call). A copy of the struct
       (vjwt_key_with_kid) shares them, as it shares pkey. */
    struct vjwt_verify_tmpl_t *tmpl;
} vjwt_key_t;

/* One JWK object. The members n, e, x, y, k decode as base64url or standard base64 with
 * optional padding (vjwt_b64_decode_jwk): published sets use both; the key's lenient flag
 * tells that the set should be reported. Only public (verification) use is considered: "use" other
 * than "sig", "key_ops" without "verify", unknown kty/crv, missing or invalid members, e < 3 or
 * even, and an x5c whose first certificate's key differs from n/e or x/y are errors. Private
 * members are ignored. On error returns APR_EINVAL with *err set. */
apr_status_t vjwt_jwk_parse(vjwt_key_t **out, apr_pool_t *p, json_t *jwk, const char **err);

/* A JWKS {"keys":[...]} (or a single JWK object, taken as a one-key set). Keys that cannot
 * be used are skipped: each skip appends "kid/index: why" to *skipped (may be NULL).
 * Set-level problems fail the whole set (APR_EINVAL, *err): not JSON, no "keys" array,
 * duplicate kid among signing keys of the same kty, symmetric and asymmetric signing keys
 * mixed. "Signing keys" are the usable ones plus those skipped for a malformed member;
 * entries marked for other uses ("use" not "sig", "key_ops" without "verify") do not count
 * (see jwks_check_set in vjwt_jwk.c). An empty result is not an error here; callers decide. */
apr_status_t vjwt_jwks_parse(apr_array_header_t **keys, apr_pool_t *p, const char *buf,
                             apr_size_t len, apr_array_header_t *skipped, const char **err);

/* Same, from an already parsed JSON value. */
apr_status_t vjwt_jwks_from_json(apr_array_header_t **keys, apr_pool_t *p, json_t *j,
                                 apr_array_header_t *skipped, const char **err);

/* PEM public key ("PUBLIC KEY", "RSA PUBLIC KEY") or certificate, or DER of either.
 * Exactly one key. */
apr_status_t vjwt_key_from_pem(vjwt_key_t **out, apr_pool_t *p, const char *buf, apr_size_t len,
                               const char **err);

/* A file that holds PEM/DER, a JWK or a JWKS: appends every key to keys. */
apr_status_t vjwt_keys_from_file(apr_array_header_t *keys, apr_pool_t *p, const char *path,
                                 apr_array_header_t *skipped, const char **err);

/* RSA public key from base64url n and e. */
apr_status_t vjwt_key_from_rsa_ne(vjwt_key_t **out, apr_pool_t *p, const char *n_b64url,
                                  const char *e_b64url, const char **err);

/* HMAC secret (raw bytes, copied). */
apr_status_t vjwt_key_from_secret(vjwt_key_t **out, apr_pool_t *p, const unsigned char *secret,
                                  apr_size_t len, const char **err);

/* "RSA 2048", "EC P-256", "OKP Ed25519", "oct 256 bits" for log lines. */
const char *vjwt_key_describe(apr_pool_t *p, const vjwt_key_t *k);

/* ---- shared with the JWE decryption keys (vjwt_jwe.c) -------------------------------- */

/* An EC curve JOSE supports (RFC 7518 section 6.2.1.1). */
typedef struct {
    const char *crv;   /* JWK name */
    const char *group; /* OpenSSL group name */
    int nid;
    apr_size_t len; /* field size in octets: length of x, y, d and of r, s */
    int bits;
} vjwt_curve_t;

/* P-256, P-384 or P-521 by JWK "crv" or by NID; NULL for any other curve. */
const vjwt_curve_t *vjwt_curve_by_crv(const char *crv);
const vjwt_curve_t *vjwt_curve_by_nid(int nid);

/* The curve of an EC EVP_PKEY (by its group's short name); NULL when not one of these. */
const vjwt_curve_t *vjwt_pkey_curve(EVP_PKEY *pkey);

/* The key of type ("RSA", "EC") that the parameters pushed to bld describe; selection is
 * EVP_PKEY_PUBLIC_KEY or EVP_PKEY_KEYPAIR. pushed is 0 when a push failed. Frees bld (NULL
 * allowed). build_why and reject_why are the errors when the parameters cannot be built and
 * when OpenSSL refuses them. */
apr_status_t vjwt_pkey_from_params(EVP_PKEY **out, const char *type, int selection,
                                   OSSL_PARAM_BLD *bld, int pushed, const char *build_why,
                                   const char *reject_why, const char **err);

/* EC key on c from x and y of c->len octets each (the caller checks the lengths); with d
 * (c->len octets too) a key pair, with d NULL a public key. The point is not checked here
 * beyond what EVP_PKEY_fromdata does. build_why, reject_why as for vjwt_pkey_from_params. */
apr_status_t vjwt_ec_pkey_from_xy(EVP_PKEY **out, const vjwt_curve_t *c, const unsigned char *x,
                                  const unsigned char *y, const unsigned char *d,
                                  const char *build_why, const char *reject_why, const char **err);

/* The one key in PEM or DER buf[0..len) (at most 1 MiB). selection EVP_PKEY_PUBLIC_KEY: a
 * public key or certificate as vjwt_key_from_pem takes it. EVP_PKEY_KEYPAIR: a private key,
 * PKCS#8 or traditional, not encrypted; in PEM, other blocks are skipped. The caller owns
 * *out. On error APR_EINVAL with *err set. */
apr_status_t vjwt_pkey_from_pem(EVP_PKEY **out, apr_pool_t *p, const char *buf, apr_size_t len,
                                int selection, const char **err);

/* The whole of a key file (a regular file of at most 1 MiB) into *buf, NUL-terminated. The
 * caller wipes it (vjwt_wipe) when it may hold secrets. */
apr_status_t vjwt_key_file_read(apr_pool_t *p, const char *path, char **buf, apr_size_t *got,
                                const char **err);

/* 1 when pkey passes OpenSSL's check for selection: EVP_PKEY_PUBLIC_KEY, the public key
 * (EVP_PKEY_public_check: for EC a point on the curve, not infinity); EVP_PKEY_KEYPAIR, the
 * consistency of the private and public halves (EVP_PKEY_pairwise_check). */
int vjwt_pkey_check(EVP_PKEY *pkey, int selection);

/* OPENSSL_cleanse of b[0..n); NULL or 0 does nothing. */
void vjwt_wipe(unsigned char *b, apr_size_t n);

/* What a key's pool cleanup does with the key material it owns: frees *pkey (sets it NULL)
 * and cleanses secret[0..len). Either may be NULL. */
void vjwt_key_material_free(EVP_PKEY **pkey, unsigned char *secret, apr_size_t len);

#endif
