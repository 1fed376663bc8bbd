/*
 * vjwt_json.h - strict JSON for JOSE: jansson with duplicate member names rejected, UTF-8
 * checked, a nesting depth cap and a size cap. Parsed values are owned by the pool given:
 * a pool cleanup drops the reference.
 *
 * Thread context: any thread.
 */
#ifndef VJWT_JSON_H
#define VJWT_JSON_H

#include <apr_pools.h>
#include <jansson.h>

#define VJWT_JSON_MAX_DEPTH 32

/* Parse buf[0..len) as JSON; it must be an object when want_object is set.
 * On failure returns APR_EINVAL and, if err is not NULL, a short reason. */
apr_status_t vjwt_json_parse(json_t **out, apr_pool_t *p, const char *buf, apr_size_t len,
                             int want_object, const char **err);

/* Register json_decref(j) on p; returns j. */
json_t *vjwt_json_own(apr_pool_t *p, json_t *j);

/* Compact text of j allocated from p (keys in document order). */
const char *vjwt_json_text(apr_pool_t *p, const json_t *j);

#endif
