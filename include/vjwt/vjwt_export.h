/*
 * vjwt_export.h - what of a verified payload reaches the backend (environment variables
 * and X-JWT-Claim-* request headers), and which client headers must be removed.
 *
 * Names: a claim is exported when its name is made of [A-Za-z0-9_] only. httpd's tables
 * compare names without regard to case, and proxied backends often treat '-' and '_'
 * alike, so claims whose names are equal after folding case and '-' to '_' ("roles",
 * "ROLES") would be ambiguous: every member of such a group is left out.
 *
 * Values: strings as they are, numbers as decimal text, true/false, objects and nested
 * arrays as compact JSON; array elements joined with ','; control characters become '?';
 * at most VJWT_EXPORT_MAX_BYTES bytes (a cut is marked with "..."). An array with more
 * than VJWT_EXPORT_MAX_ELEMENTS elements is not exported at all.
 *
 * Thread context: any thread; everything is allocated from the given pool.
 */
#ifndef VJWT_EXPORT_H
#define VJWT_EXPORT_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <jansson.h>

#include "vjwt_policy.h"
#include "vjwt_token.h"

#define VJWT_EXPORT_MAX_ELEMENTS 1000
#define VJWT_EXPORT_MAX_BYTES    4096

/* The request-header prefix of exported claims; vjwt_is_claim_header() matches it with
 * any case and '-' or '_' in each place. */
#define VJWT_CLAIM_HEADER_PREFIX "X-JWT-Claim-"

typedef struct {
    const char *name;  /* the claim name */
    const char *value; /* its text */
} vjwt_export_item_t;

typedef struct {
    apr_array_header_t *items;    /* vjwt_export_item_t, in payload order */
    apr_array_header_t *collided; /* const char *: names left out because they collide */
    apr_array_header_t *too_many; /* const char *: arrays above VJWT_EXPORT_MAX_ELEMENTS */
} vjwt_export_t;

/* A claim value as one text (see above); NULL for NULL, JSON null, or an array with more
 * than max_elements elements. Linear in the size of the value. */
const char *vjwt_claim_join(apr_pool_t *p, const json_t *value, int max_elements,
                            apr_size_t max_bytes);

/* The exportable top-level claims of payload. Never fails; out's arrays are never NULL. */
void vjwt_export_claims(apr_pool_t *p, const json_t *payload, vjwt_export_t *out);

/* 1 when name equals name2 after folding ASCII case and '-' to '_'. */
int vjwt_export_names_collide(const char *name, const char *name2);

/* 1 when the header name starts with X-JWT-Claim- in any case and with '-' or '_' in any
 * of its three separators (X_JWT_Claim_sub, x-jwt-claim_roles...). */
int vjwt_is_claim_header(const char *name);

/* ---- ValidateJWTClaimHeader and ValidateJWTPassClaimsAs payload ------------------------- */

#define VJWT_CLAIM_HEADER_MAX_BYTES 8192
#define VJWT_PAYLOAD_ENV            "VALIDATE_JWT_PAYLOAD"
#define VJWT_PAYLOAD_HEADER         "X-JWT-Payload"

/* A claim as the value of a ValidateJWTClaimHeader header: a string as it is, a number or
 * boolean as JSON text (numbers as required claims compare them), an object as compact JSON,
 * an array's elements joined with ',' (a string element that holds ',' JSON-encoded, with its
 * quotes; other elements as above, nested arrays as compact JSON). Control characters become
 * '?'. NULL for NULL, JSON null, an array of more than VJWT_EXPORT_MAX_ELEMENTS elements, or a
 * text longer than VJWT_CLAIM_HEADER_MAX_BYTES (such a header is left out, never cut). */
const char *vjwt_claim_header_value(apr_pool_t *p, const json_t *value);

/* The ValidateJWTClaimHeader headers of pol for token t into items (vjwt_export_item_t, name
 * = the header): one per configured line whose claim the token has, in configuration order.
 * The headers of claims present but too large to send are appended to skipped (const char *).
 * items and skipped are arrays the caller made. */
void vjwt_export_claim_headers(apr_pool_t *p, const vjwt_policy_t *pol, const vjwt_token_t *t,
                               apr_array_header_t *items, apr_array_header_t *skipped);

/* ValidateJWTPassClaimsAs payload: env gets VJWT_PAYLOAD_ENV and the payload JSON as the
 * issuer wrote it; header gets VJWT_PAYLOAD_HEADER and the base64url of those bytes (as
 * Envoy's forward_payload_header). 0 when the payload holds a NUL byte (nothing exported),
 * else 1. */
int vjwt_export_payload(apr_pool_t *p, const vjwt_token_t *t, vjwt_export_item_t *env,
                        vjwt_export_item_t *header);

#endif
