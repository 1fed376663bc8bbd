/*
 * vjwt_verified.h - what judging a token leaves behind: the verdict of every step that does
 * not depend on the clock, the time claims for the one that does, what log lines name,
 * and everything a successful request hands on (REMOTE_USER, environment variables,
 * request headers), already composed. The token cache (vjwt_vcache.h) keeps these records
 * so that a repeated token costs a SHA-256, a lookup, the lifetime check and the copying
 * of pointers: it is neither decoded nor parsed nor verified again.
 *
 * A record is immutable. Built in a pool by vjwt_verified_build; vjwt_verified_pack copies
 * it into one malloc'd block for the cache (freed by vjwt_verified_free, which wipes it
 * first when it came from an encrypted token).
 *
 * Thread context: any thread.
 */
#ifndef VJWT_VERIFIED_H
#define VJWT_VERIFIED_H

#include <apr_pools.h>
#include "vjwt_claims.h"
#include "vjwt_policy.h"
#include "vjwt_token.h"
#include "vjwt_verdict.h"

typedef struct {
    const char *name, *value;
} vjwt_pair_t;

typedef struct {
    /* The token stage (parse, decrypt, signature, claim types): VJWT_R_OK or its failure;
     * on failure nothing below but the log fields is set. */
    vjwt_reason_e token_reason;
    const char *token_detail;
    vjwt_lifetime_t life; /* step 10 runs on these at every use */
    /* The claims stage (audience, issuer, required claims). */
    vjwt_reason_e claims_reason;
    const char *claims_detail;
    /* For log lines: the (inner) header's alg and kid, the outer JWE header's enc and alg;
     * NULL when unknown. */
    const char *alg, *kid, *enc, *key_alg;
    /* What a successful request hands on (claims_reason OK). */
    const char *user;                 /* text of the remote-user claim; NULL: none */
    const vjwt_pair_t *env, *headers; /* composed names and values */
    int n_env, n_headers;
    const char *unexported_case, *unexported_size; /* names left out, for a log line; NULL */
    const char *unexported_headers; /* ValidateJWTClaimHeader claims too large; NULL */
    int payload_refused;            /* ValidateJWTPassClaimsAs payload: not passed (a NUL byte) */
    /* The value of ValidateJWTOutputTokenVariableName itself: the decrypted inner token of
     * a JWE; NULL for the token as presented (a JWS, or no output variable). */
    const char *output_token;
    const char *payload_json; /* the claims set as compact JSON, for later claim lookups */
    const char *fingerprint;  /* vjwt_token_fingerprint of the token when the token cache
                               * hashed it already; NULL otherwise */
    int sensitive;            /* from an encrypted token: wiped when freed */
    apr_size_t packed_size;   /* of the block, when packed; 0 in a pool */
} vjwt_verified_t;

/* The record of a token whose token stage failed with v (t: the token as far as it was
 * parsed, or NULL). */
vjwt_verified_t *vjwt_verified_failed(apr_pool_t *p, const vjwt_token_t *t,
                                      const vjwt_verdict_t *v);

/* The record of a token that passed the token stage: claims_rc/claims_v is the claims
 * stage's verdict; on success the exports pol asks for are composed (README "Claims to the
 * backend"). */
vjwt_verified_t *vjwt_verified_build(apr_pool_t *p, const vjwt_policy_t *pol, const vjwt_token_t *t,
                                     apr_status_t claims_rc, const vjwt_verdict_t *claims_v);

/* The verdict at now, in the order of the pipeline: the token stage, the lifetime, the
 * claims stage, then (require_user) the remote-user claim, which must be present and not
 * empty (TokenClaimNotFound). */
apr_status_t vjwt_verified_judge(apr_pool_t *p, const vjwt_verified_t *rec,
                                 const vjwt_policy_t *pol, double now, int require_user,
                                 vjwt_verdict_t *v);

/* A copy of rec in one malloc'd block (*bytes: its size), or NULL when out of memory. */
vjwt_verified_t *vjwt_verified_pack(const vjwt_verified_t *rec, apr_size_t *bytes);

/* Frees a packed record (the cache's free function). */
void vjwt_verified_free(void *rec);

#endif
