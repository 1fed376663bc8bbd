/*
 * vjwt_claims.h - claim checks on a verified payload: registered claim types, lifetime
 * (exp/nbf with skew), audience, issuer, required claims (steps 9-13
 * of docs/conformance.md#pipeline).
 *
 * Thread context: any thread.
 */
#ifndef VJWT_CLAIMS_H
#define VJWT_CLAIMS_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <jansson.h>
#include "vjwt_verdict.h"
#include "vjwt_policy.h"

/* docs/conformance.md#required-claims rule 5: a claim's values as strings (arrays flattened one
 * level; numbers as decimal text; true/false; objects and nested arrays as compact JSON), each
 * split on separator when not NULL (empty pieces dropped). NULL when value is NULL or JSON null. */
apr_array_header_t *vjwt_claim_strings(apr_pool_t *p, const json_t *value, const char *separator);

/* 1 when vals (const char *, may be NULL) holds a string equal to s. */
int vjwt_strings_contain(const apr_array_header_t *vals, const char *s);

/* Step 9: exp/nbf/iat are finite numbers within +-2^53, iss/sub/jti strings, aud a string
 * or an array of strings. JwtInvalid otherwise. */
apr_status_t vjwt_claims_check_types(apr_pool_t *p, const json_t *payload, vjwt_verdict_t *v);

/* Step 10 (docs/conformance.md#lifetime; RFC 7519 4.1.4, 4.1.5). */
apr_status_t vjwt_claims_check_lifetime(apr_pool_t *p, const json_t *payload, int require_exp,
                                        int skew, double now, vjwt_verdict_t *v);

/* The time claims of a payload whose types passed step 9, kept so that the only step that
 * depends on the clock can run again without the payload (the token cache). */
typedef struct {
    double exp, nbf, iat;
    int has_exp, has_nbf, has_iat;
} vjwt_lifetime_t;

void vjwt_lifetime_of(const json_t *payload, vjwt_lifetime_t *lt);

/* Step 10 on extracted times: the same verdicts as vjwt_claims_check_lifetime. */
apr_status_t vjwt_lifetime_check(apr_pool_t *p, const vjwt_lifetime_t *lt, int require_exp,
                                 int skew, double now, vjwt_verdict_t *v);

/* Step 11: audiences NULL or empty = not checked. */
apr_status_t vjwt_claims_check_audience(apr_pool_t *p, const json_t *payload,
                                        const apr_array_header_t *audiences,
                                        int ignore_trailing_slash, vjwt_verdict_t *v);

/* Step 12: issuers NULL or empty = not checked. */
apr_status_t vjwt_claims_check_issuer(apr_pool_t *p, const json_t *payload,
                                      const apr_array_header_t *issuers, vjwt_verdict_t *v);

/* Step 12 with discovery issuers (docs/conformance.md#audience-issuer): the accepted set is
 * configured U discovered; a discovered issuer holding the literal "{tenantid}" is compared with
 * that text replaced by the token's "tid" claim (docs/conformance.md C81). Checked when either list
 * is non-empty. */
apr_status_t vjwt_claims_check_issuer_ex(apr_pool_t *p, const json_t *payload,
                                         const apr_array_header_t *configured,
                                         const apr_array_header_t *discovered, vjwt_verdict_t *v);

/* Step 13: presence of all, then values in order. Claim names may be paths (vjwt_authz.h). */
apr_status_t vjwt_claims_check_required(apr_pool_t *p, const json_t *payload,
                                        const apr_array_header_t *claims, vjwt_verdict_t *v);

#endif
