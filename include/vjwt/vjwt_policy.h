/*
 * vjwt_policy.h - the policy model: one struct that directives (and later the
 * <validate-jwt> XML reader) fill. Fields start unset; merge takes the child's field when
 * it is set, else the parent's (lists are single fields: a child's list replaces the
 * parent's). Accessors resolve defaults.
 *
 * Thread context: make/merge/setters at configuration time (or in httpd's per-request
 * merge, which only reads base and add); accessors on any thread.
 */
#ifndef VJWT_POLICY_H
#define VJWT_POLICY_H

#include <apr_pools.h>
#include <apr_tables.h>

#define VJWT_UNSET (-1)

typedef enum {
    VJWT_SRC_UNSET = 0,
    VJWT_SRC_HEADER, /* source_name = header name */
    VJWT_SRC_QUERY,  /* source_name = query parameter name */
    VJWT_SRC_VALUE   /* source_name = the literal token */
} vjwt_source_e;

typedef enum {
    VJWT_PASS_NONE = 0,
    VJWT_PASS_HEADERS = 1,
    VJWT_PASS_ENV = 2,
    VJWT_PASS_BOTH = 3
} vjwt_pass_e;

typedef struct {
    const char *name;
    int match_any;              /* 0 = all (default), 1 = any */
    const char *separator;      /* NULL = none */
    apr_array_header_t *values; /* const char *; empty = presence only */
} vjwt_claim_req_t;

typedef struct {
    vjwt_source_e source;
    const char *source_name;
    const char *require_scheme;
    int status;                    /* failed-validation-httpcode, 400..599 */
    const char *error_message;     /* failed-validation-error-message */
    int require_exp;               /* 0/1 */
    int require_signed;            /* 0/1 */
    int clock_skew;                /* seconds >= 0 */
    const char *output_var;        /* output-token-variable-name */
    const char *id;                /* policy id */
    apr_array_header_t *keys;      /* vjwt_key_t *; NULL = unset */
    apr_array_header_t *audiences; /* const char * */
    apr_array_header_t *issuers;   /* const char * */
    apr_array_header_t *claims;    /* vjwt_claim_req_t * */
    apr_array_header_t *sources;   /* vjwt_ks_source_t *: discovery documents, JWKS URLs */
    unsigned alg_mask;             /* 0 = unset */
    int min_rsa_bits;
    int aud_ignore_trailing_slash;
    int max_token_len;
    const char *remote_user_claim;
    int pass_claims;      /* vjwt_pass_e */
    int www_authenticate; /* 0/1 */
    const char *realm;    /* NULL = server name */
    int enabled;          /* 1 once any field of the policy was set in some scope */
} vjwt_policy_t;

/* Every field unset. */
vjwt_policy_t *vjwt_policy_make(apr_pool_t *p);

/* New policy: add's set fields over base's. Neither input is changed. */
vjwt_policy_t *vjwt_policy_merge(apr_pool_t *p, const vjwt_policy_t *base,
                                 const vjwt_policy_t *add);

/* Accessors that resolve defaults (README.md "Directives", docs/conformance.md#policy-files). */
vjwt_source_e vjwt_policy_source(const vjwt_policy_t *pol, const char **name);
int vjwt_policy_status(const vjwt_policy_t *pol);
int vjwt_policy_require_exp(const vjwt_policy_t *pol);
int vjwt_policy_require_signed(const vjwt_policy_t *pol);
int vjwt_policy_clock_skew(const vjwt_policy_t *pol);
unsigned vjwt_policy_alg_mask(const vjwt_policy_t *pol);
int vjwt_policy_min_rsa_bits(const vjwt_policy_t *pol);
int vjwt_policy_aud_ignore_trailing_slash(const vjwt_policy_t *pol);
apr_size_t vjwt_policy_max_token_len(const vjwt_policy_t *pol);
const char *vjwt_policy_remote_user_claim(const vjwt_policy_t *pol);
vjwt_pass_e vjwt_policy_pass_claims(const vjwt_policy_t *pol);
int vjwt_policy_www_authenticate(const vjwt_policy_t *pol);

/* The client-facing message for a failure reason: the configured message, else
 * "JWT not present." for TokenNotPresent and "Invalid JWT." otherwise. */
const char *vjwt_policy_message(const vjwt_policy_t *pol, int reason);

/* Value parsers shared by directives and XML; NULL on success, else an error text. */
const char *vjwt_parse_bool(const char *s, int *out);             /* true/false/on/off, any case */
const char *vjwt_parse_status(const char *s, int *out);           /* 400..599 */
const char *vjwt_parse_seconds(const char *s, int max, int *out); /* 0..max, digits only */
const char *vjwt_parse_alg_list(const char *s, unsigned *mask);   /* adds one name to mask */

#endif
