/*
 * vjwt_validate.h - the pipeline (docs/conformance.md#pipeline): token text + policy +
 * candidate keys + time -> verdict. The httpd glue and the CLI reach it through
 * vjwt_validate_stored (vjwt_pipeline.h), which adds the keys of the policy's key sources.
 *
 * Thread context: any thread; all allocation from the pool given (the request pool).
 */
#ifndef VJWT_VALIDATE_H
#define VJWT_VALIDATE_H

#include <apr_pools.h>
#include <apr_tables.h>
#include "vjwt_verdict.h"
#include "vjwt_policy.h"
#include "vjwt_token.h"
#include "vjwt_jwk.h"
#include "vjwt_jwe.h"
#include "vjwt_claims.h"

/* Steps 7-8: the signature stage alone (docs/conformance.md#key-choice for key selection and
 * binding, #algorithms for the allowlist). keys holds vjwt_key_t *. *used (may be NULL) gets the
 * key that verified. */
apr_status_t vjwt_validate_signature(apr_pool_t *p, const vjwt_token_t *t,
                                     const apr_array_header_t *keys, unsigned alg_mask,
                                     int min_rsa_bits, int require_signed, const vjwt_key_t **used,
                                     vjwt_verdict_t *v);

/* Steps 2-13 on a token already extracted (step 1 is the caller's). A token of five
 * segments is an encrypted token (JWE, RFC 7516): it is decrypted with the decryption keys
 * (docs/conformance.md#encrypted-tokens) and its plaintext, a compact JWS or a bare claims
 * set, goes through the same steps; *out then describes the inner token, with the outer
 * protected header in jwe_header. vjwt_validate and vjwt_validate_ex have no JWE context:
 * they refuse encrypted tokens (JwtInvalid); use vjwt_validate_with. keys may be NULL
 * (then the policy's keys are used). now is seconds since the epoch. *out (may be NULL)
 * gets the parsed token whenever parsing succeeded, even if a later step failed (so the
 * caller can log alg and kid); it is NULL when the token could not be parsed. */
apr_status_t vjwt_validate(apr_pool_t *p, const vjwt_policy_t *pol, const apr_array_header_t *keys,
                           const char *token, apr_size_t len, double now, vjwt_token_t **out,
                           vjwt_verdict_t *v);

/* vjwt_validate with keys and discovery issuers from a key store (see vjwt_keystore.h):
 * keys replaces the policy's keys (NULL: the policy's), discovered issuers join the
 * policy's issuers (docs/conformance.md#audience-issuer). */
apr_status_t vjwt_validate_ex(apr_pool_t *p, const vjwt_policy_t *pol,
                              const apr_array_header_t *keys,
                              const apr_array_header_t *discovered_issuers, const char *token,
                              apr_size_t len, double now, vjwt_token_t **out, vjwt_verdict_t *v);

/* Everything vjwt_validate_with can take besides the policy. Zero means "none". */
typedef struct {
    const apr_array_header_t *keys;               /* NULL: the policy's keys */
    const apr_array_header_t *discovered_issuers; /* issuers of discovery documents */
    apr_uint64_t key_generation;                  /* changes when fetched keys change */
    /* Where each key of keys came from (const char *, same order; NULL: no binding):
     * NULL = configured in the policy, "" = fetched from a JWKS URL, otherwise the issuer
     * of the discovery document it came from (may hold "{tenantid}"). When the token's iss
     * equals the issuer of one or more discovery documents, only their keys and the
     * configured ones may verify it; any other iss may be verified by every key. */
    const apr_array_header_t *key_issuers;
    /* Encrypted tokens: the decryption keys (const vjwt_jwe_key_t *; NULL: the policy's
     * decryption_keys) and the JWE context made at configuration time (NULL: a JWE fails
     * to decrypt). */
    const apr_array_header_t *decryption_keys;
    const vjwt_jwe_ctx_t *jwe_ctx;
} vjwt_validate_opts_t;

apr_status_t vjwt_validate_with(apr_pool_t *p, const vjwt_policy_t *pol,
                                const vjwt_validate_opts_t *o, const char *token, apr_size_t len,
                                double now, vjwt_token_t **out, vjwt_verdict_t *v);

/* vjwt_validate_with in the three parts the token cache keeps apart
 * (docs/conformance.md#pipeline): the token stage (steps 2-9: parse, decrypt, signature,
 * claim types, ValidateJWTTokenType; *out as for vjwt_validate), which never looks at the
 * clock; the time stage (step 10, the lifetime, and ValidateJWTMaxTokenAge), which only
 * needs the time claims; and the claims stage (steps 11-13: audience, issuer, required
 * claims), which never looks at the clock either. Run in that order they are
 * vjwt_validate_with. */
apr_status_t vjwt_validate_token_stage(apr_pool_t *p, const vjwt_policy_t *pol,
                                       const vjwt_validate_opts_t *o, const char *token,
                                       apr_size_t len, vjwt_token_t **out, vjwt_verdict_t *v);
apr_status_t vjwt_validate_time_stage(apr_pool_t *p, const vjwt_policy_t *pol,
                                      const vjwt_lifetime_t *lt, double now, vjwt_verdict_t *v);
apr_status_t vjwt_validate_claims_stage(apr_pool_t *p, const vjwt_policy_t *pol,
                                        const vjwt_validate_opts_t *o, const vjwt_token_t *t,
                                        vjwt_verdict_t *v);

#endif
