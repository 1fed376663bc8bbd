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

#include "vjwt_log.h"

#define VJWT_UNSET (-1)

typedef enum {
    VJWT_SRC_UNSET = 0,
    VJWT_SRC_HEADER, /* source_name = header name */
    VJWT_SRC_QUERY,  /* source_name = query parameter name */
    VJWT_SRC_VALUE,  /* source_name = the literal token */
    VJWT_SRC_COOKIE  /* source_name = cookie name */
} vjwt_source_e;

typedef enum {
    VJWT_PASS_NONE = 0,
    VJWT_PASS_HEADERS = 1,
    VJWT_PASS_ENV = 2,
    VJWT_PASS_BOTH = 3,
    VJWT_PASS_PAYLOAD = 4 /* VALIDATE_JWT_PAYLOAD + X-JWT-Payload; combines with the others */
} vjwt_pass_e;

typedef struct {
    const char *name;
    int match_any;              /* 0 = all (default), 1 = any */
    const char *separator;      /* NULL = none */
    apr_array_header_t *values; /* const char *; empty = presence only */
} vjwt_claim_req_t;

/* ValidateJWTClaimHeader CLAIM HEADER: the request header HEADER carries the claim's value. */
typedef struct {
    const char *claim;  /* a claim name or path (vjwt_authz.h) */
    const char *header; /* an HTTP header name */
} vjwt_claim_header_t;

typedef struct {
    vjwt_source_e source;
    const char *source_name;
    const char *require_scheme;
    int status;                          /* failed-validation-httpcode, 400..599 */
    const char *error_message;           /* failed-validation-error-message */
    int require_exp;                     /* 0/1 */
    int require_signed;                  /* 0/1 */
    int clock_skew;                      /* seconds >= 0 */
    const char *output_var;              /* output-token-variable-name */
    const char *id;                      /* policy id */
    apr_array_header_t *keys;            /* vjwt_key_t *; NULL = unset */
    apr_array_header_t *audiences;       /* const char * */
    apr_array_header_t *issuers;         /* const char * */
    apr_array_header_t *claims;          /* vjwt_claim_req_t * */
    apr_array_header_t *sources;         /* vjwt_ks_source_t *: discovery documents, JWKS URLs */
    apr_array_header_t *decryption_keys; /* const vjwt_jwe_key_t *; NULL = unset */
    unsigned alg_mask;                   /* 0 = unset */
    int min_rsa_bits;
    int aud_ignore_trailing_slash;
    int max_token_len;
    const char *remote_user_claim;
    int pass_claims;                   /* vjwt_pass_e */
    int www_authenticate;              /* 0/1 */
    const char *realm;                 /* NULL = server name */
    int enabled;                       /* 1 once any field of the policy was set in some scope */
    apr_array_header_t *claim_headers; /* vjwt_claim_header_t *; NULL = unset */
    apr_array_header_t *token_types;   /* const char *: accepted typ values; NULL = unset */
    int max_token_age;                 /* seconds since iat; VJWT_UNSET = not checked */
    int forward_token;                 /* 0/1: the token reaches the backend (default 1) */
    /* Identity for the token cache: policies with the same ident judge every token the
     * same way. vjwt_policy_make gives each policy a new one; vjwt_policy_merge derives the
     * merged policy's from its two inputs', so that the per-request merges of httpd's
     * sections give equal idents for equal merges. 0: never cached. */
    apr_uint64_t ident;
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
int vjwt_policy_max_token_age(const vjwt_policy_t *pol); /* -1 = not checked */
int vjwt_policy_forward_token(const vjwt_policy_t *pol);

/* The client-facing message for a failure reason: the configured message, else
 * "JWT not present." for TokenNotPresent and "Invalid JWT." otherwise. */
const char *vjwt_policy_message(const vjwt_policy_t *pol, int reason);

/* Value parsers shared by directives and XML; NULL on success, else an error text. */
const char *vjwt_parse_bool(const char *s, int *out);             /* true/false/on/off, any case */
const char *vjwt_parse_status(const char *s, int *out);           /* 400..599 */
const char *vjwt_parse_seconds(const char *s, int max, int *out); /* 0..max, digits only */
const char *vjwt_parse_alg_list(const char *s, unsigned *mask);   /* adds one name to mask */

/* ---- setting fields from text (directives and policy files alike) ----------------------- */

/* The scalar fields a directive or a <validate-jwt> attribute sets. Adding one: an entry here,
 * its row in vjwt_policy_set.c's table, and its directive line in the glue. */
typedef enum {
    VJWT_F_NONE = -1,      /* a note about the policy as a whole */
    VJWT_F_HEADER_NAME,    /* token from this request header */
    VJWT_F_QUERY_NAME,     /* token from this query parameter */
    VJWT_F_TOKEN_VALUE,    /* token given literally (the glue may parse it as an expression) */
    VJWT_F_REQUIRE_SCHEME, /* Authorization scheme */
    VJWT_F_STATUS,         /* failure status, 400..599 */
    VJWT_F_ERROR_MESSAGE,  /* failure message, UTF-8; empty = the default messages */
    VJWT_F_REQUIRE_EXP,    /* bool */
    VJWT_F_REQUIRE_SIGNED, /* bool */
    VJWT_F_CLOCK_SKEW,     /* seconds 0..86400 (note above 600) */
    VJWT_F_OUTPUT_VAR,     /* letters, digits, '_', '-', '.' */
    VJWT_F_ID,             /* any text */
    VJWT_F_ALGORITHM,      /* one JWS algorithm name, added to the allowed set */
    VJWT_F_REMOTE_USER_CLAIM,
    VJWT_F_PASS_CLAIMS, /* none|headers|environment|both, and/or payload (words) */
    VJWT_F_WWW_AUTHENTICATE,
    VJWT_F_REALM, /* no quotes, backslashes or control characters */
    VJWT_F_MIN_RSA_BITS,
    VJWT_F_AUD_SLASH, /* ignore one trailing slash of audiences */
    VJWT_F_MAX_TOKEN_LEN,
    VJWT_F_COOKIE_NAME,   /* token from this cookie */
    VJWT_F_FORWARD_TOKEN, /* bool */
    VJWT_F_TOKEN_TYPE,    /* one accepted typ, added to the list */
    VJWT_F_MAX_TOKEN_AGE, /* seconds 0..31536000 */
    VJWT_F_COUNT
} vjwt_field_e;

/* Something to tell the operator about a setting that is valid but probably not meant. The
 * core does not log these: the caller logs each (with tag as "VJWT%05d" and where the setting
 * is) or adds it to a file's warnings. text reads after the name of field (the directive or
 * the attribute), e.g. "<name> has no effect unless ..."; for VJWT_F_NONE it stands alone. */
typedef struct {
    vjwt_log_level_e level;
    int tag; /* 5-digit VJWT log tag (docs/log-messages.md) */
    vjwt_field_e field;
    const char *text;
} vjwt_note_t;

/* Parses value for field, checks it, and stores it in pol. Returns NULL, or an error text
 * that names neither the directive nor the attribute: the reason, to follow the value
 * ("must be an HTTP status code from 400 to 599") or, for an empty value, standing alone
 * ("empty header name"). Notes (vjwt_note_t) are appended to notes when it is not NULL. The
 * one-token-source-per-scope rule is the caller's (a directive may override a policy file). */
const char *vjwt_policy_set(apr_pool_t *p, vjwt_policy_t *pol, vjwt_field_e field,
                            const char *value, apr_array_header_t *notes);

/* ValidateJWTClaimHeader CLAIM HEADER: checks both and appends the pair to pol->claim_headers
 * (a new list when unset). HEADER must not be a header the request needs as the client sent
 * it (Authorization, Cookie, Host, framing headers...) nor X-JWT-Payload. NULL or an error
 * text as for vjwt_policy_set. */
const char *vjwt_policy_add_claim_header(apr_pool_t *p, vjwt_policy_t *pol, const char *claim,
                                         const char *header);

/* Whole-policy checks (what) -> notes:
 *   VJWT_CHECK_SCHEME  require-scheme set while the token does not come from the
 *                      Authorization header (RFC 6750 section 2.1 schemes only exist there)
 *   VJWT_CHECK_KEYS    no key and no key source: every signed token will be rejected
 * Key sources are counted as pol->sources->nelts whatever the element type. */
#define VJWT_CHECK_SCHEME 0x1
#define VJWT_CHECK_KEYS   0x2
#define VJWT_CHECK_ALL    0x3
void vjwt_policy_check(apr_pool_t *p, const vjwt_policy_t *pol, unsigned what,
                       apr_array_header_t *notes);

/* An APIM <validate-jwt>'s defaults for the fields it did not set: status 401, expiration
 * time and signed tokens required, no clock skew. */
void vjwt_policy_apim_defaults(vjwt_policy_t *pol);

/* A policy file over a scope (docs/conformance.md#policy-files): every APIM field of dst
 * (token source, scheme, status, message, expiration, signing, skew, output variable, id,
 * keys, audiences, issuers, claims, key sources) is replaced by src's; a field src lacks
 * becomes "" or an empty list, so that it hides the outer scope's value in the merge, and
 * unset numbers get the APIM defaults. dst->sources is a new empty list for the caller to
 * fill. The module's own fields (algorithms, realm, pass-claims...) are left alone. */
void vjwt_policy_overlay(apr_pool_t *p, vjwt_policy_t *dst, const vjwt_policy_t *src);

/* Option tables: enumerated values. */
typedef struct {
    const char *name;
    int value;
} vjwt_option_t;

extern const vjwt_option_t vjwt_bool_options[];  /* On, Off, true, false */
extern const vjwt_option_t vjwt_pass_options[];  /* none, headers, environment, both */
extern const vjwt_option_t vjwt_match_options[]; /* all, any (compared exactly) */

/* "A, B or C": the names of table. */
const char *vjwt_option_names(apr_pool_t *p, const vjwt_option_t *table);

/* The value of name in table (NULL-name terminated), compared without regard to case when
 * any_case. NULL on success, else "must be A, B or C" listed from the table. */
const char *vjwt_parse_option(apr_pool_t *p, const vjwt_option_t *table, int any_case,
                              const char *name, int *out);

/* Nonzero when s is well-formed UTF-8 (RFC 3629: no overlongs, surrogates or values above
 * U+10FFFF). */
int vjwt_is_utf8(const char *s);

#endif
