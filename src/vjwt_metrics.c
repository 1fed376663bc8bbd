/* vjwt_metrics.c - the operator's figures in one shared block (see vjwt_metrics.h). */
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include <jansson.h>

#include "vjwt_metrics.h"
#include "vjwt_json.h"

#define MAGIC       APR_UINT64_C(0x766a77746d657431) /* "vjwtmet1" */
#define OTHER       "(other)"
#define SOURCE_NAME (2 * VJWT_METRICS_NAME)

const double vjwt_metrics_bucket_le[VJWT_METRICS_BUCKETS] = {0.01, 0.05, 0.1, 0.25, 0.5,
                                                             1,    2.5,  5,   10,   0};
/* The same as label values (APR's formatter writes 0.01 as ".01"). */
static const char *const bucket_label[VJWT_METRICS_BUCKETS] = {
    "0.01", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"};

/* Both kinds of slot begin with this: a name's hash (0: free) and whether the name is
 * written yet. */
typedef struct {
    _Atomic apr_uint64_t hash;
    atomic_int ready;
} slot_head_t;

typedef struct {
    slot_head_t head;
    char name[VJWT_METRICS_NAME];
    _Atomic apr_uint64_t count[VJWT_RESULT__COUNT][VJWT_R__COUNT];
} scope_slot_t;

typedef struct {
    slot_head_t head;
    char name[SOURCE_NAME];
    _Atomic apr_uint64_t fetches[VJWT_FETCH__COUNT];
    _Atomic apr_uint64_t keys;
    _Atomic apr_int64_t good_at;
    atomic_int last_failed;
    _Atomic apr_uint64_t buckets[VJWT_METRICS_BUCKETS];
    _Atomic apr_uint64_t duration_count;
    _Atomic apr_uint64_t duration_usec;
} source_slot_t;

struct vjwt_metrics {
    _Atomic apr_uint64_t magic; /* written last when laid out */
    apr_uint64_t layout;
    _Atomic apr_uint64_t cache_hits, cache_misses;
    scope_slot_t scopes[VJWT_METRICS_SCOPES]; /* [0]: "(other)" */
    source_slot_t sources[VJWT_METRICS_SOURCES];
};

apr_size_t vjwt_metrics_size(void)
{
    return sizeof(vjwt_metrics_t);
}

static void name_slot(slot_head_t *h, char *dst, apr_size_t max, const char *name)
{
    apr_cpystrn(dst, name, max);
    atomic_store(&h->hash, 1);
    atomic_store(&h->ready, 1);
}

vjwt_metrics_t *vjwt_metrics_attach(void *mem, apr_size_t size)
{
    vjwt_metrics_t *m = mem;
    if (size < sizeof(*m)) {
        return NULL;
    }
    if (atomic_load(&m->magic) == MAGIC && m->layout == sizeof(*m)) {
        return m; /* a graceful restart: the counters go on */
    }
    memset(m, 0, sizeof(*m));
    m->layout = sizeof(*m);
    name_slot(&m->scopes[0].head, m->scopes[0].name, sizeof(m->scopes[0].name), OTHER);
    name_slot(&m->sources[0].head, m->sources[0].name, sizeof(m->sources[0].name), OTHER);
    atomic_store(&m->magic, MAGIC);
    return m;
}

static apr_uint64_t name_hash(const char *s)
{
    apr_uint64_t h = APR_UINT64_C(14695981039346656037);
    for (; *s; s++) {
        h = (h ^ (unsigned char)*s) * APR_UINT64_C(1099511628211);
    }
    return h > 1 ? h : 2; /* 0 = free, 1 = "(other)" */
}

/* The slot of name among n slots of stride bytes at base (slot 0 is "(other)"): found, or
 * claimed with a compare-and-swap of its hash and then named; 0 when all are taken. */
static int claim(void *base, apr_size_t stride, int n, apr_size_t name_off, apr_size_t name_max,
                 const char *name)
{
    apr_uint64_t h = name_hash(name);
    int i;
    for (i = 0; i < n - 1; i++) {
        int idx = 1 + (int)((h + (apr_uint64_t)i) % (apr_uint64_t)(n - 1));
        slot_head_t *s = (slot_head_t *)((char *)base + (apr_size_t)idx * stride);
        apr_uint64_t seen = atomic_load(&s->hash);
        if (seen == 0 && atomic_compare_exchange_strong(&s->hash, &seen, h)) {
            apr_cpystrn((char *)s + name_off, name, name_max);
            atomic_store(&s->ready, 1);
            return idx;
        }
        if (seen == h) {
            return idx;
        }
    }
    return 0;
}

int vjwt_metrics_scope(vjwt_metrics_t *m, const char *name)
{
    return claim(m->scopes, sizeof(scope_slot_t), VJWT_METRICS_SCOPES, offsetof(scope_slot_t, name),
                 VJWT_METRICS_NAME, name && *name ? name : "/");
}

int vjwt_metrics_source(vjwt_metrics_t *m, const char *url)
{
    return claim(m->sources, sizeof(source_slot_t), VJWT_METRICS_SOURCES,
                 offsetof(source_slot_t, name), SOURCE_NAME, url);
}

void vjwt_metrics_request(vjwt_metrics_t *m, int scope, vjwt_result_e result, vjwt_reason_e reason)
{
    if (scope >= 0 && scope < VJWT_METRICS_SCOPES && result < VJWT_RESULT__COUNT &&
        (unsigned)reason < VJWT_R__COUNT) {
        atomic_fetch_add_explicit(&m->scopes[scope].count[result][reason], 1, memory_order_relaxed);
    }
}

void vjwt_metrics_token_cache(vjwt_metrics_t *m, int hit)
{
    atomic_fetch_add_explicit(hit ? &m->cache_hits : &m->cache_misses, 1, memory_order_relaxed);
}

void vjwt_metrics_fetch(vjwt_metrics_t *m, int source, vjwt_fetch_result_e result,
                        apr_interval_time_t duration, int keys, apr_time_t good_at)
{
    source_slot_t *s;
    double secs = (double)duration / APR_USEC_PER_SEC;
    int b;
    if (source < 0 || source >= VJWT_METRICS_SOURCES || result >= VJWT_FETCH__COUNT) {
        return;
    }
    s = &m->sources[source];
    atomic_fetch_add(&s->fetches[result], 1);
    for (b = 0; b < VJWT_METRICS_BUCKETS - 1 && secs > vjwt_metrics_bucket_le[b]; b++) {
    }
    atomic_fetch_add(&s->buckets[b], 1);
    atomic_fetch_add(&s->duration_count, 1);
    atomic_fetch_add(&s->duration_usec, (apr_uint64_t)(duration > 0 ? duration : 0));
    if (result == VJWT_FETCH_ERROR) {
        atomic_store(&s->last_failed, 1);
        return;
    }
    atomic_store(&s->keys, (apr_uint64_t)(keys > 0 ? keys : 0));
    atomic_store(&s->good_at, good_at);
    atomic_store(&s->last_failed, 0);
}

/* ---- reading and rendering ----------------------------------------------------------- */

static void read_scopes(vjwt_metrics_t *m, apr_pool_t *p, apr_array_header_t *out)
{
    int i, r, k;
    for (i = 0; i < VJWT_METRICS_SCOPES; i++) {
        scope_slot_t *s = &m->scopes[i];
        vjwt_metrics_scope_t o;
        apr_uint64_t any = 0;
        if (!atomic_load(&s->head.ready)) {
            continue;
        }
        o.name = s->name;
        for (r = 0; r < VJWT_RESULT__COUNT; r++) {
            for (k = 0; k < VJWT_R__COUNT; k++) {
                o.count[r][k] = atomic_load_explicit(&s->count[r][k], memory_order_relaxed);
                any |= o.count[r][k];
            }
        }
        if (i > 0 || any) { /* "(other)" only once something was counted there */
            o.name = apr_pstrdup(p, o.name);
            *(vjwt_metrics_scope_t *)apr_array_push(out) = o;
        }
    }
}

static void read_sources(vjwt_metrics_t *m, apr_pool_t *p, apr_array_header_t *out)
{
    int i, b;
    for (i = 1; i < VJWT_METRICS_SOURCES; i++) {
        source_slot_t *s = &m->sources[i];
        vjwt_metrics_source_t *o;
        if (!atomic_load(&s->head.ready)) {
            continue;
        }
        o = apr_array_push(out);
        o->url = apr_pstrdup(p, s->name);
        for (b = 0; b < VJWT_FETCH__COUNT; b++) {
            o->fetches[b] = atomic_load(&s->fetches[b]);
        }
        o->keys = atomic_load(&s->keys);
        o->good_at = atomic_load(&s->good_at);
        o->last_failed = atomic_load(&s->last_failed);
        for (b = 0; b < VJWT_METRICS_BUCKETS; b++) {
            o->buckets[b] = atomic_load(&s->buckets[b]);
        }
        o->duration_count = atomic_load(&s->duration_count);
        o->duration_sum = (double)atomic_load(&s->duration_usec) / APR_USEC_PER_SEC;
    }
}

void vjwt_metrics_read(vjwt_metrics_t *m, apr_pool_t *p, vjwt_metrics_view_t *view)
{
    view->scopes = apr_array_make(p, 8, sizeof(vjwt_metrics_scope_t));
    view->sources = apr_array_make(p, 4, sizeof(vjwt_metrics_source_t));
    read_scopes(m, p, view->scopes);
    read_sources(m, p, view->sources);
    view->cache_hits = atomic_load(&m->cache_hits);
    view->cache_misses = atomic_load(&m->cache_misses);
}

int vjwt_metrics_stale(const vjwt_metrics_source_t *s, apr_time_t now,
                       apr_interval_time_t max_stale)
{
    return s->last_failed || !s->good_at || (max_stale > 0 && now - s->good_at > max_stale);
}

static const char *const result_names[VJWT_RESULT__COUNT] = {"accepted", "rejected", "reported"};
static const char *const fetch_names[VJWT_FETCH__COUNT] = {"ok", "error", "not_modified"};

/* A label value of the exposition format: backslash, double quote and line feed escaped. */
static const char *label(apr_pool_t *p, const char *s)
{
    char *out = apr_palloc(p, strlen(s) * 2 + 1), *o = out;
    for (; *s; s++) {
        if (*s == '\\' || *s == '"') {
            *o++ = '\\';
            *o++ = *s;
        }
        else if (*s == '\n') {
            *o++ = '\\';
            *o++ = 'n';
        }
        else {
            *o++ = *s;
        }
    }
    *o = 0;
    return out;
}

static const char *reason_label(vjwt_result_e r, int k)
{
    return r == VJWT_RESULT_ACCEPTED ? "none" : vjwt_reason_name((vjwt_reason_e)k);
}

static void family(apr_array_header_t *out, const char *name, const char *type, const char *help)
{
    APR_ARRAY_PUSH(out, const char *) =
        apr_psprintf(out->pool, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

apr_array_header_t *vjwt_metrics_series(apr_pool_t *p, const vjwt_metrics_view_t *v)
{
    apr_array_header_t *out = apr_array_make(p, 8, sizeof(vjwt_metrics_series_t));
    int i, r, k;
    for (i = 0; i < v->scopes->nelts; i++) {
        const vjwt_metrics_scope_t *s = &APR_ARRAY_IDX(v->scopes, i, vjwt_metrics_scope_t);
        for (r = 0; r < VJWT_RESULT__COUNT; r++) {
            for (k = 0; k < VJWT_R__COUNT; k++) {
                vjwt_metrics_series_t *e;
                /* every scope shows its accepted series; others once they happened */
                if (s->count[r][k] == 0 && !(r == VJWT_RESULT_ACCEPTED && k == VJWT_R_OK)) {
                    continue;
                }
                e = apr_array_push(out);
                e->scope = s->name;
                e->result = result_names[r];
                e->reason = reason_label((vjwt_result_e)r, k);
                e->count = s->count[r][k];
            }
        }
    }
    return out;
}

static void prom_requests(apr_array_header_t *out, const vjwt_metrics_view_t *v)
{
    apr_array_header_t *series = vjwt_metrics_series(out->pool, v);
    int i;
    family(out, "validate_jwt_requests_total", "counter",
           "Requests judged, by configured scope, result and failure reason.");
    for (i = 0; i < series->nelts; i++) {
        const vjwt_metrics_series_t *e = &APR_ARRAY_IDX(series, i, vjwt_metrics_series_t);
        APR_ARRAY_PUSH(out, const char *) =
            apr_psprintf(out->pool,
                         "validate_jwt_requests_total{scope=\"%s\",result=\"%s\",reason=\"%s\"} "
                         "%" APR_UINT64_T_FMT "\n",
                         label(out->pool, e->scope), e->result, e->reason, e->count);
    }
}

static void prom_source_lines(apr_array_header_t *out, const vjwt_metrics_view_t *v,
                              const char *metric, apr_time_t now, apr_interval_time_t max_stale)
{
    int i, f;
    for (i = 0; i < v->sources->nelts; i++) {
        const vjwt_metrics_source_t *s = &APR_ARRAY_IDX(v->sources, i, vjwt_metrics_source_t);
        const char *src = label(out->pool, s->url);
        if (strcmp(metric, "fetches") == 0) {
            for (f = 0; f < VJWT_FETCH__COUNT; f++) {
                APR_ARRAY_PUSH(out, const char *) = apr_psprintf(
                    out->pool,
                    "validate_jwt_key_fetches_total{source=\"%s\",result=\"%s\"} %" APR_UINT64_T_FMT
                    "\n",
                    src, fetch_names[f], s->fetches[f]);
            }
        }
        else if (strcmp(metric, "keys") == 0) {
            APR_ARRAY_PUSH(out, const char *) =
                apr_psprintf(out->pool, "validate_jwt_keys{source=\"%s\"} %" APR_UINT64_T_FMT "\n",
                             src, s->keys);
        }
        else if (strcmp(metric, "age") == 0 && s->good_at) {
            APR_ARRAY_PUSH(out, const char *) =
                apr_psprintf(out->pool, "validate_jwt_keys_age_seconds{source=\"%s\"} %.3f\n", src,
                             (double)(now - s->good_at) / APR_USEC_PER_SEC);
        }
        else if (strcmp(metric, "stale") == 0) {
            APR_ARRAY_PUSH(out, const char *) =
                apr_psprintf(out->pool, "validate_jwt_keys_stale{source=\"%s\"} %d\n", src,
                             vjwt_metrics_stale(s, now, max_stale));
        }
    }
}

static void prom_durations(apr_array_header_t *out, const vjwt_metrics_view_t *v)
{
    int i, b;
    family(out, "validate_jwt_fetch_duration_seconds", "histogram",
           "Time one fetch of a key source took (discovery document and key set together).");
    for (i = 0; i < v->sources->nelts; i++) {
        const vjwt_metrics_source_t *s = &APR_ARRAY_IDX(v->sources, i, vjwt_metrics_source_t);
        const char *src = label(out->pool, s->url);
        apr_uint64_t cum = 0;
        for (b = 0; b < VJWT_METRICS_BUCKETS; b++) {
            cum += s->buckets[b];
            APR_ARRAY_PUSH(out, const char *) =
                apr_psprintf(out->pool,
                             "validate_jwt_fetch_duration_seconds_bucket{source=\"%s\",le=\"%s\"} "
                             "%" APR_UINT64_T_FMT "\n",
                             src, bucket_label[b], cum);
        }
        APR_ARRAY_PUSH(out, const char *) = apr_psprintf(
            out->pool,
            "validate_jwt_fetch_duration_seconds_sum{source=\"%s\"} %.6f\n"
            "validate_jwt_fetch_duration_seconds_count{source=\"%s\"} %" APR_UINT64_T_FMT "\n",
            src, s->duration_sum, src, s->duration_count);
    }
}

const char *vjwt_metrics_prometheus(apr_pool_t *p, const vjwt_metrics_view_t *v, apr_time_t now,
                                    apr_interval_time_t max_stale)
{
    apr_array_header_t *out = apr_array_make(p, 64, sizeof(const char *));
    prom_requests(out, v);
    family(out, "validate_jwt_key_fetches_total", "counter",
           "Fetches of a key source by outcome (not_modified: the key set was unchanged).");
    prom_source_lines(out, v, "fetches", now, max_stale);
    family(out, "validate_jwt_keys", "gauge",
           "Usable keys of the source after its last good fetch.");
    prom_source_lines(out, v, "keys", now, max_stale);
    family(out, "validate_jwt_keys_age_seconds", "gauge", "Seconds since the last good fetch.");
    prom_source_lines(out, v, "age", now, max_stale);
    family(out, "validate_jwt_keys_stale", "gauge",
           "1 when the last fetch failed or the keys are older than ValidateJWTKeysMaxStale.");
    prom_source_lines(out, v, "stale", now, max_stale);
    prom_durations(out, v);
    family(out, "validate_jwt_token_cache_hits_total", "counter",
           "Tokens judged from the token cache.");
    APR_ARRAY_PUSH(out, const char *) = apr_psprintf(
        p, "validate_jwt_token_cache_hits_total %" APR_UINT64_T_FMT "\n", v->cache_hits);
    family(out, "validate_jwt_token_cache_misses_total", "counter", "Tokens judged afresh.");
    APR_ARRAY_PUSH(out, const char *) = apr_psprintf(
        p, "validate_jwt_token_cache_misses_total %" APR_UINT64_T_FMT "\n", v->cache_misses);
    return apr_array_pstrcat(p, out, 0);
}

static json_t *json_requests(apr_pool_t *p, const vjwt_metrics_view_t *v)
{
    apr_array_header_t *series = vjwt_metrics_series(p, v);
    json_t *arr = json_array();
    int i;
    for (i = 0; i < series->nelts; i++) {
        const vjwt_metrics_series_t *e = &APR_ARRAY_IDX(series, i, vjwt_metrics_series_t);
        json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:I}", "scope", e->scope, "result",
                                             e->result, "reason", e->reason, "count",
                                             (json_int_t)e->count));
    }
    return arr;
}

static json_t *json_source(const vjwt_metrics_source_t *s, apr_time_t now,
                           apr_interval_time_t max_stale)
{
    json_t *buckets = json_array();
    apr_uint64_t cum = 0;
    int b;
    for (b = 0; b < VJWT_METRICS_BUCKETS; b++) {
        cum += s->buckets[b];
        json_array_append_new(buckets, json_pack("{s:o, s:I}", "le",
                                                 b < VJWT_METRICS_BUCKETS - 1
                                                     ? json_real(vjwt_metrics_bucket_le[b])
                                                     : json_string("+Inf"),
                                                 "count", (json_int_t)cum));
    }
    return json_pack(
        "{s:s, s:{s:I, s:I, s:I}, s:I, s:o, s:i, s:{s:I, s:f, s:o}}", "source", s->url, "fetches",
        "ok", (json_int_t)s->fetches[VJWT_FETCH_OK], "error",
        (json_int_t)s->fetches[VJWT_FETCH_ERROR], "not_modified",
        (json_int_t)s->fetches[VJWT_FETCH_NOT_MODIFIED], "keys", (json_int_t)s->keys,
        "keys_age_seconds",
        s->good_at ? json_real((double)(now - s->good_at) / APR_USEC_PER_SEC) : json_null(),
        "keys_stale", vjwt_metrics_stale(s, now, max_stale), "fetch_duration_seconds", "count",
        (json_int_t)s->duration_count, "sum", s->duration_sum, "buckets", buckets);
}

const char *vjwt_metrics_json(apr_pool_t *p, const vjwt_metrics_view_t *v, apr_time_t now,
                              apr_interval_time_t max_stale)
{
    json_t *sources = json_array(), *doc;
    int i;
    for (i = 0; i < v->sources->nelts; i++) {
        json_array_append_new(
            sources,
            json_source(&APR_ARRAY_IDX(v->sources, i, vjwt_metrics_source_t), now, max_stale));
    }
    doc = vjwt_json_own(p, json_pack("{s:o, s:o, s:{s:I, s:I}}", "requests", json_requests(p, v),
                                     "key_sources", sources, "token_cache", "hits",
                                     (json_int_t)v->cache_hits, "misses",
                                     (json_int_t)v->cache_misses));
    return vjwt_json_text(p, doc);
}
