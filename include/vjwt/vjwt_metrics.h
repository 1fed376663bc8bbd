/*
 * vjwt_metrics.h - the operator's figures: requests by scope, result and reason; key
 * fetches, keys and their age by source; token cache hits and misses.
 *
 * They live in one block of memory the caller provides. The httpd glue puts it in shared
 * memory that every child maps and that outlives graceful restarts, so the counters are
 * the sum over all children and never go back. Every update is a lock-free atomic
 * operation on that block; names (scopes, sources) take a slot on first use with a
 * compare-and-swap. Labels are bounded: at most VJWT_METRICS_SCOPES scopes (configured
 * Location paths or policy ids, never request paths) and VJWT_METRICS_SOURCES sources; a
 * name that finds no free slot is counted under "(other)".
 *
 * Thread context: any thread of any process that maps the block.
 */
#ifndef VJWT_METRICS_H
#define VJWT_METRICS_H

#include <apr_pools.h>
#include <apr_time.h>
#include "vjwt_verdict.h"

#define VJWT_METRICS_SCOPES  512
#define VJWT_METRICS_SOURCES 64
#define VJWT_METRICS_NAME    256 /* bytes of a name kept (longer names are cut) */

typedef enum {
    VJWT_RESULT_ACCEPTED = 0,
    VJWT_RESULT_REJECTED,
    VJWT_RESULT_REPORTED, /* ValidateJWTReportOnly: would have been rejected */
    VJWT_RESULT__COUNT
} vjwt_result_e;

typedef enum {
    VJWT_FETCH_OK = 0,
    VJWT_FETCH_ERROR,
    VJWT_FETCH_NOT_MODIFIED, /* fetched, and the key set was the one already held */
    VJWT_FETCH__COUNT
} vjwt_fetch_result_e;

typedef struct vjwt_metrics vjwt_metrics_t;

/* Bytes the block needs. */
apr_size_t vjwt_metrics_size(void);

/* The metrics in mem (size >= vjwt_metrics_size()): laid out afresh when mem holds no
 * metrics of this layout, adopted (counters kept) when it does. */
vjwt_metrics_t *vjwt_metrics_attach(void *mem, apr_size_t size);

/* The slot of a scope (made on first use); never fails. */
int vjwt_metrics_scope(vjwt_metrics_t *m, const char *name);
void vjwt_metrics_request(vjwt_metrics_t *m, int scope, vjwt_result_e result, vjwt_reason_e reason);
void vjwt_metrics_token_cache(vjwt_metrics_t *m, int hit);

/* The slot of a key source (its URL); never fails. */
int vjwt_metrics_source(vjwt_metrics_t *m, const char *url);
/* A fetch of a source ended: duration is what it took; on OK and NOT_MODIFIED, keys is the
 * number of usable keys now and good_at the time of the fetch. */
void vjwt_metrics_fetch(vjwt_metrics_t *m, int source, vjwt_fetch_result_e result,
                        apr_interval_time_t duration, int keys, apr_time_t good_at);

/* A copy of every figure, for rendering. */
typedef struct {
    const char *name;
    apr_uint64_t count[VJWT_RESULT__COUNT][VJWT_R__COUNT];
} vjwt_metrics_scope_t;

#define VJWT_METRICS_BUCKETS 10 /* fetch duration buckets; the last is +Inf */

typedef struct {
    const char *url;
    apr_uint64_t fetches[VJWT_FETCH__COUNT];
    apr_uint64_t keys;
    apr_time_t good_at; /* 0: never */
    int last_failed;
    apr_uint64_t buckets[VJWT_METRICS_BUCKETS]; /* not cumulative */
    apr_uint64_t duration_count;
    double duration_sum; /* seconds */
} vjwt_metrics_source_t;

typedef struct {
    apr_array_header_t *scopes;  /* vjwt_metrics_scope_t */
    apr_array_header_t *sources; /* vjwt_metrics_source_t */
    apr_uint64_t cache_hits, cache_misses;
} vjwt_metrics_view_t;

/* Upper bounds of the fetch duration buckets, in seconds (the last is +Inf). */
extern const double vjwt_metrics_bucket_le[VJWT_METRICS_BUCKETS];

void vjwt_metrics_read(vjwt_metrics_t *m, apr_pool_t *p, vjwt_metrics_view_t *view);

/* One series of validate_jwt_requests_total. */
typedef struct {
    const char *scope, *result, *reason; /* reason "none" for accepted */
    apr_uint64_t count;
} vjwt_metrics_series_t;

/* The series worth showing (vjwt_metrics_series_t): every scope's accepted one, the others
 * once they have counted something. Prometheus, JSON and the status page show these. */
apr_array_header_t *vjwt_metrics_series(apr_pool_t *p, const vjwt_metrics_view_t *v);

/* Keys are stale when the last fetch failed, or when they are older than max_stale (> 0). */
int vjwt_metrics_stale(const vjwt_metrics_source_t *s, apr_time_t now,
                       apr_interval_time_t max_stale);

/* The Prometheus text exposition format (version 0.0.4), and the same figures as JSON. */
const char *vjwt_metrics_prometheus(apr_pool_t *p, const vjwt_metrics_view_t *v, apr_time_t now,
                                    apr_interval_time_t max_stale);
const char *vjwt_metrics_json(apr_pool_t *p, const vjwt_metrics_view_t *v, apr_time_t now,
                              apr_interval_time_t max_stale);

#endif
