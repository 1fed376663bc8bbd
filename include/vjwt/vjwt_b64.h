/*
 * vjwt_b64.h - strict base64url (RFC 7515 section 2) and standard base64 (RFC 4648 section 4).
 *
 * Thread context: any thread; output is allocated from the given pool and NUL-terminated
 * (the terminator is not counted in *outlen).
 */
#ifndef VJWT_B64_H
#define VJWT_B64_H

#include <apr_pools.h>

/* Strict base64url: only [A-Za-z0-9_-], no '=', no whitespace, len % 4 != 1, and the unused
 * trailing bits must be zero (canonical). APR_EINVAL on any violation. */
apr_status_t vjwt_b64url_decode(apr_pool_t *p, const char *in, apr_size_t len, unsigned char **out,
                                apr_size_t *outlen);

/* For the members of a JWK (n, e, x, y, d, k): base64url or standard base64, '=' padding
 * optional. One alphabet per string ('-' or '_' together with '+' or '/' is APR_EINVAL),
 * padding only at the end and only the amount that completes the last group of 4, no
 * whitespace, canonical trailing bits. *lenient (may be NULL) is set to 1 when the text was
 * not strict base64url (standard alphabet or padding), 0 otherwise. */
apr_status_t vjwt_b64_decode_jwk(apr_pool_t *p, const char *in, apr_size_t len, unsigned char **out,
                                 apr_size_t *outlen, int *lenient);

/* base64url without padding. */
const char *vjwt_b64url_encode(apr_pool_t *p, const unsigned char *in, apr_size_t len);

/* Standard base64 with optional '=' padding (as APIM key text). Surrounding whitespace is
 * ignored; anything else outside the alphabet is APR_EINVAL. */
apr_status_t vjwt_b64_decode(apr_pool_t *p, const char *in, apr_size_t len, unsigned char **out,
                             apr_size_t *outlen);

#endif
