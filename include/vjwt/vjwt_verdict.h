/*
 * vjwt_verdict.h - the one failure type of libvjwt.
 *
 * Every validation failure is a reason (named after Azure API Management's
 * validate-jwt reasons, see docs/conformance.md#failure-reasons) plus a short detail text that goes
 * to logs and the request environment, never to the client.
 *
 * Thread context: any thread. The detail string lives in the pool given to the
 * function that failed.
 */
#ifndef VJWT_VERDICT_H
#define VJWT_VERDICT_H

#include <apr_pools.h>

typedef enum {
    VJWT_R_OK = 0,
    VJWT_R_TOKEN_NOT_PRESENT,             /* TokenNotPresent */
    VJWT_R_JWT_INVALID,                   /* JwtInvalid */
    VJWT_R_TOKEN_SIGNATURE_INVALID,       /* TokenSignatureInvalid */
    VJWT_R_TOKEN_SIGNATURE_KEY_NOT_FOUND, /* TokenSignatureKeyNotFound */
    VJWT_R_TOKEN_EXPIRED,                 /* TokenExpired */
    VJWT_R_TOKEN_AUDIENCE_NOT_ALLOWED,    /* TokenAudienceNotAllowed */
    VJWT_R_TOKEN_ISSUER_NOT_ALLOWED,      /* TokenIssuerNotAllowed */
    VJWT_R_TOKEN_CLAIM_NOT_FOUND,         /* TokenClaimNotFound */
    VJWT_R_TOKEN_CLAIM_VALUE_NOT_ALLOWED, /* TokenClaimValueNotAllowed */
    VJWT_R_KEYS_UNAVAILABLE,              /* KeysUnavailable (module extension, 503) */
    VJWT_R__COUNT
} vjwt_reason_e;

typedef struct {
    vjwt_reason_e reason;
    const char *detail; /* pool-allocated, never holds token or key material */
} vjwt_verdict_t;

/* "TokenExpired" etc.; never NULL. */
const char *vjwt_reason_name(vjwt_reason_e reason);

/* Fixed RFC 6750 error_description text for a reason (only %x20-21 / %x23-5B / %x5D-7E). */
const char *vjwt_reason_description(vjwt_reason_e reason);

/* Set v (if not NULL) to reason + formatted detail. Returns APR_EGENERAL for chaining. */
apr_status_t vjwt_fail(vjwt_verdict_t *v, apr_pool_t *p, vjwt_reason_e reason, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* Copy s into p with control characters replaced by '?', '"' and '\\' written as \x22 and
 * \x5c, and at most max bytes of s (an ellipsis marks a cut). For client-controlled values
 * echoed into detail messages and log lines: the result holds no '"', so it can't end a
 * quoted field (not even after httpd's error log escapes the backslash). */
const char *vjwt_sanitize(apr_pool_t *p, const char *s, apr_size_t max);

#endif
