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

#endif
