/*
 * vjwt_token.h - compact JWS: split, strict base64url, strict JSON header and payload.
 * Also the token location rules (docs/conformance.md#token-location) that don't need httpd.
 *
 * Thread context: any thread; everything lives in the pool given.
 */
#ifndef VJWT_TOKEN_H
#define VJWT_TOKEN_H

#include <apr_pools.h>
#include <jansson.h>
#include "vjwt_verdict.h"

#define VJWT_DEFAULT_MAX_TOKEN_LEN 16384

typedef struct {
    const char *raw; /* the compact token (NUL-terminated copy) */
    apr_size_t raw_len;
    const char *signing_input; /* == raw, first signing_input_len bytes: "header.payload" */
    apr_size_t signing_input_len;
    json_t *header;     /* owned by the pool */
    json_t *payload;    /* owned by the pool */
    const char *alg;    /* header alg (always a string after a successful parse) */
    const char *kid;    /* header kid or NULL */
    const char *typ;    /* header typ or NULL */
    unsigned char *sig; /* decoded signature, may be empty */
    apr_size_t sig_len;
    /* An encrypted token (JWE, RFC 7516): the fields above describe the inner token (the
     * decrypted compact JWS, or a bare claims set: then header is {} and alg "none"), and
     * jwe_header is the outer protected header ("alg" = key management, "enc"). NULL for a
     * token that was not encrypted. */
    json_t *jwe_header;
} vjwt_token_t;

/* The ValidateJWTMaxTokenLength rule, for a JWS and a whole JWE alike: JwtInvalid when len
 * is over max_len, else APR_SUCCESS. */
apr_status_t vjwt_token_check_length(apr_pool_t *p, apr_size_t len, apr_size_t max_len,
                                     vjwt_verdict_t *v);

/* Parse a compact JWS. Failures are JwtInvalid with a detail saying what is wrong:
 * segment count, bad base64url, not a JSON object, duplicate member, alg missing or not a
 * string, malformed or unsupported crit. max_len 0 means VJWT_DEFAULT_MAX_TOKEN_LEN. */
apr_status_t vjwt_token_parse(vjwt_token_t **out, apr_pool_t *p, const char *s, apr_size_t len,
                              apr_size_t max_len, vjwt_verdict_t *v);

/* Token location step 1 (docs/conformance.md#token-location): token from an Authorization header
 * value. require_scheme NULL: the first word is dropped when the value holds a space. Returns the
 * token (trimmed) or NULL when "not present". */
const char *vjwt_token_from_authorization(apr_pool_t *p, const char *value,
                                          const char *require_scheme);

/* Token location step 2: any other header: trimmed value or NULL when empty. */
const char *vjwt_token_from_header(apr_pool_t *p, const char *value);

/* Token location step 3: first occurrence of name in a raw query string, percent-decoded
 * ('+' stays '+'). NULL when missing or empty or badly encoded. */
const char *vjwt_token_from_query(apr_pool_t *p, const char *query, const char *name);

/* First 8 hex digits of SHA-256(token): a log fingerprint that does not reveal it. */
const char *vjwt_token_fingerprint(apr_pool_t *p, const char *token, apr_size_t len);

/* The same from the token's SHA-256 when the caller has it already. */
const char *vjwt_token_fingerprint_of(apr_pool_t *p, const unsigned char md[32]);

#endif
