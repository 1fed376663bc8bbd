/*
 * vjwt_mod_metrics.c - the operator's figures in httpd: the shared block of counters
 * (vjwt_metrics.h) in anonymous shared memory made once by the parent and kept across
 * graceful restarts (ap_retained_data), the validate-jwt-metrics handler (Prometheus text,
 * or JSON with ?format=json) and the validate_jwt section of mod_status.
 *
 * Thread context: the block is written with atomic operations by every thread of every
 * child; the handler and the status hook only read it.
 */
#include <string.h>

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "ap_mpm.h"
#include "mod_status.h"
#include "scoreboard.h"
#include "apr_shm.h"
#include "apr_strings.h"

#include "httpd/vjwt_mod.h"

APLOG_USE_MODULE(validate_jwt);

#define METRICS_HANDLER "validate-jwt-metrics"
#define RETAINED_KEY    "mod_validate_jwt-metrics"

typedef struct {
    apr_shm_t *shm;
} retained_t;

static vjwt_metrics_t *the_metrics; /* set in post_config, before the children fork */

vjwt_metrics_t *vjwt_mod_metrics(void)
{
    return the_metrics;
}

void vjwt_mod_count(const vjwt_dir_conf_t *dc, vjwt_result_e result, vjwt_reason_e reason)
{
    const char *scope;
    if (!the_metrics) {
        return;
    }
    scope = dc->pol->id && *dc->pol->id ? dc->pol->id : dc->scope;
    vjwt_metrics_request(the_metrics, vjwt_metrics_scope(the_metrics, scope), result, reason);
}

void vjwt_mod_on_fetch(void *baton, const char *url, int result, apr_interval_time_t took, int keys,
                       apr_time_t fetched)
{
    (void)baton;
    if (the_metrics) {
        vjwt_metrics_fetch(the_metrics, vjwt_metrics_source(the_metrics, url),
                           (vjwt_fetch_result_e)result, took, keys, fetched);
    }
}

/* The block, made at the first start and found again at every restart. */
static int metrics_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                               server_rec *s)
{
    retained_t *rt = ap_retained_data_get(RETAINED_KEY);
    apr_status_t rv;
    if (!rt) {
        rt = ap_retained_data_create(RETAINED_KEY, sizeof(*rt));
        rt->shm = NULL;
    }
    if (!rt->shm) {
        rv = apr_shm_create(&rt->shm, vjwt_metrics_size(), NULL, s->process->pool);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s,
                         VJWT_LOGNO(00361) "cannot make the shared memory of the metrics; "
                                           "the metrics handler and status section stay empty");
            rt->shm = NULL;
            the_metrics = NULL;
            return OK;
        }
    }
    the_metrics = vjwt_metrics_attach(apr_shm_baseaddr_get(rt->shm), apr_shm_size_get(rt->shm));
    return OK;
}

static apr_interval_time_t max_stale_of(request_rec *r)
{
    vjwt_srv_conf_t *sc = vjwt_mod_srv_conf(r->server);
    return sc->max_stale > 0 ? apr_time_from_sec(sc->max_stale) : 0;
}

static int metrics_handler(request_rec *r)
{
    vjwt_metrics_view_t view;
    const char *body;
    int json;
    if (!r->handler || strcmp(r->handler, METRICS_HANDLER) != 0) {
        return DECLINED;
    }
    if (r->method_number != M_GET) {
        r->allowed = AP_METHOD_BIT << M_GET;
        return HTTP_METHOD_NOT_ALLOWED;
    }
    json = r->args && ap_strstr_c(r->args, "format=json") != NULL;
    if (!the_metrics) {
        return HTTP_SERVICE_UNAVAILABLE;
    }
    vjwt_metrics_read(the_metrics, r->pool, &view);
    body = json ? vjwt_metrics_json(r->pool, &view, apr_time_now(), max_stale_of(r))
                : vjwt_metrics_prometheus(r->pool, &view, apr_time_now(), max_stale_of(r));
    ap_set_content_type(r, json ? "application/json" : "text/plain; version=0.0.4");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    ap_set_content_length(r, (apr_off_t)strlen(body));
    if (!r->header_only) {
        ap_rputs(body, r);
    }
    return OK;
}

/* ---- mod_status ----------------------------------------------------------------------- */

static void status_auto(request_rec *r, const vjwt_metrics_view_t *v, apr_time_t now,
                        apr_interval_time_t max_stale)
{
    apr_array_header_t *series = vjwt_metrics_series(r->pool, v);
    int i;
    ap_rprintf(r, "ValidateJWTTokenCacheHits: %" APR_UINT64_T_FMT "\n", v->cache_hits);
    ap_rprintf(r, "ValidateJWTTokenCacheMisses: %" APR_UINT64_T_FMT "\n", v->cache_misses);
    for (i = 0; i < series->nelts; i++) {
        const vjwt_metrics_series_t *e = &APR_ARRAY_IDX(series, i, vjwt_metrics_series_t);
        ap_rprintf(r, "ValidateJWTRequests[%s,%s,%s]: %" APR_UINT64_T_FMT "\n", e->scope, e->result,
                   e->reason, e->count);
    }
    for (i = 0; i < v->sources->nelts; i++) {
        const vjwt_metrics_source_t *s = &APR_ARRAY_IDX(v->sources, i, vjwt_metrics_source_t);
        ap_rprintf(r,
                   "ValidateJWTKeys[%s]: %" APR_UINT64_T_FMT "\nValidateJWTKeysStale[%s]: %d\n"
                   "ValidateJWTKeyFetches[%s,ok]: %" APR_UINT64_T_FMT
                   "\nValidateJWTKeyFetches[%s,error]: %" APR_UINT64_T_FMT "\n",
                   s->url, s->keys, s->url, vjwt_metrics_stale(s, now, max_stale), s->url,
                   s->fetches[VJWT_FETCH_OK] + s->fetches[VJWT_FETCH_NOT_MODIFIED], s->url,
                   s->fetches[VJWT_FETCH_ERROR]);
        if (s->good_at) {
            ap_rprintf(r, "ValidateJWTKeysAgeSeconds[%s]: %.0f\n", s->url,
                       (double)(now - s->good_at) / APR_USEC_PER_SEC);
        }
    }
}

static void status_html(request_rec *r, const vjwt_metrics_view_t *v, apr_time_t now,
                        apr_interval_time_t max_stale)
{
    apr_array_header_t *series = vjwt_metrics_series(r->pool, v);
    int i;
    ap_rputs("<hr />\n<h2>validate_jwt</h2>\n", r);
    ap_rprintf(r, "<p>Token cache: %" APR_UINT64_T_FMT " hits, %" APR_UINT64_T_FMT " misses</p>\n",
               v->cache_hits, v->cache_misses);
    ap_rputs("<table border=\"1\"><tr><th>scope</th><th>result</th><th>reason</th>"
             "<th>requests</th></tr>\n",
             r);
    for (i = 0; i < series->nelts; i++) {
        const vjwt_metrics_series_t *e = &APR_ARRAY_IDX(series, i, vjwt_metrics_series_t);
        ap_rprintf(r, "<tr><td>%s</td><td>%s</td><td>%s</td><td>%" APR_UINT64_T_FMT "</td></tr>\n",
                   ap_escape_html(r->pool, e->scope), e->result, e->reason, e->count);
    }
    ap_rputs("</table>\n<table border=\"1\"><tr><th>key source</th><th>keys</th><th>age (s)</th>"
             "<th>stale</th><th>fetches ok</th><th>unchanged</th><th>errors</th></tr>\n",
             r);
    for (i = 0; i < v->sources->nelts; i++) {
        const vjwt_metrics_source_t *s = &APR_ARRAY_IDX(v->sources, i, vjwt_metrics_source_t);
        ap_rprintf(r,
                   "<tr><td>%s</td><td>%" APR_UINT64_T_FMT
                   "</td><td>%s</td><td>%s</td><td>%" APR_UINT64_T_FMT "</td><td>%" APR_UINT64_T_FMT
                   "</td><td>%" APR_UINT64_T_FMT "</td></tr>\n",
                   ap_escape_html(r->pool, s->url), s->keys,
                   s->good_at ? apr_psprintf(r->pool, "%.0f",
                                             (double)(now - s->good_at) / APR_USEC_PER_SEC)
                              : "-",
                   vjwt_metrics_stale(s, now, max_stale) ? "yes" : "no", s->fetches[VJWT_FETCH_OK],
                   s->fetches[VJWT_FETCH_NOT_MODIFIED], s->fetches[VJWT_FETCH_ERROR]);
    }
    ap_rputs("</table>\n", r);
}

/* The validate_jwt section of /server-status (with ExtendedStatus On), as mod_ssl and
 * mod_md add theirs. */
static int metrics_status_hook(request_rec *r, int flags)
{
    vjwt_metrics_view_t view;
    apr_time_t now = apr_time_now();
    if (!the_metrics || !ap_extended_status) {
        return OK;
    }
    vjwt_metrics_read(the_metrics, r->pool, &view);
    if (flags & AP_STATUS_SHORT) {
        status_auto(r, &view, now, max_stale_of(r));
    }
    else {
        status_html(r, &view, now, max_stale_of(r));
    }
    return OK;
}

void vjwt_mod_metrics_register_hooks(apr_pool_t *p)
{
    (void)p;
    ap_hook_post_config(metrics_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(metrics_handler, NULL, NULL, APR_HOOK_MIDDLE);
    APR_OPTIONAL_HOOK(ap, status_hook, metrics_status_hook, NULL, NULL, APR_HOOK_MIDDLE);
}
