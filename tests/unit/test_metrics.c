/*
 * test_metrics.c - the shared counters: slots by name (the same name the same slot, a full
 * table counts under "(other)"), counts from threads, fetch figures and the duration
 * histogram, staleness, adoption after a restart, and both renderings (Prometheus text with
 * escaped labels, JSON).
 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include <pthread.h>
#include <jansson.h>

#include "vjwt.h"

static void *block(apr_pool_t *p)
{
    return apr_pcalloc(p, vjwt_metrics_size());
}

static void t_slots(void **state)
{
    apr_pool_t *p = *state;
    vjwt_metrics_t *m = vjwt_metrics_attach(block(p), vjwt_metrics_size());
    int a = vjwt_metrics_scope(m, "/api"), b = vjwt_metrics_scope(m, "/other"), i, other = 0;
    assert_non_null(m);
    assert_null(vjwt_metrics_attach(block(p), vjwt_metrics_size() - 1));
    assert_true(a > 0 && b > 0 && a != b);
    assert_int_equal(vjwt_metrics_scope(m, "/api"), a);
    for (i = 0; i < VJWT_METRICS_SCOPES + 10; i++) {
        other += vjwt_metrics_scope(m, apr_psprintf(p, "/s%d", i)) == 0;
    }
    /* slot 0 is "(other)", /api and /other hold two: the rest finds no slot */
    assert_int_equal(other, (VJWT_METRICS_SCOPES + 10) - (VJWT_METRICS_SCOPES - 1 - 2));
    assert_int_equal(vjwt_metrics_scope(m, "/api"), a);
}

static void t_render(void **state)
{
    apr_pool_t *p = *state;
    vjwt_metrics_t *m = vjwt_metrics_attach(block(p), vjwt_metrics_size());
    vjwt_metrics_view_t v;
    apr_time_t now = apr_time_from_sec(1000000);
    int s = vjwt_metrics_scope(m, "/a\"b\\c\nd"), src = vjwt_metrics_source(m, "https://idp/jwks");
    const char *text, *js;
    json_t *doc;
    json_error_t jerr;

    vjwt_metrics_request(m, s, VJWT_RESULT_ACCEPTED, VJWT_R_OK);
    vjwt_metrics_request(m, s, VJWT_RESULT_REJECTED, VJWT_R_TOKEN_EXPIRED);
    vjwt_metrics_request(m, s, VJWT_RESULT_REJECTED, VJWT_R_TOKEN_EXPIRED);
    vjwt_metrics_request(m, s, VJWT_RESULT_REPORTED, VJWT_R_TOKEN_NOT_PRESENT);
    vjwt_metrics_token_cache(m, 1);
    vjwt_metrics_token_cache(m, 0);
    vjwt_metrics_token_cache(m, 1);
    vjwt_metrics_fetch(m, src, VJWT_FETCH_OK, apr_time_from_msec(30), 3,
                       now - apr_time_from_sec(20));
    vjwt_metrics_fetch(m, src, VJWT_FETCH_NOT_MODIFIED, apr_time_from_msec(300), 3,
                       now - apr_time_from_sec(10));
    vjwt_metrics_read(m, p, &v);
    text = vjwt_metrics_prometheus(p, &v, now, 0);
    assert_contains(text, "# TYPE validate_jwt_requests_total counter\n");
    assert_contains(text,
                    "validate_jwt_requests_total{scope=\"/a\\\"b\\\\c\\nd\",result=\"accepted\","
                    "reason=\"none\"} 1\n");
    assert_contains(text, "result=\"rejected\",reason=\"TokenExpired\"} 2\n");
    assert_contains(text, "result=\"reported\",reason=\"TokenNotPresent\"} 1\n");
    assert_null(strstr(text, "TokenIssuerNotAllowed")); /* series that never happened */
    assert_contains(
        text, "validate_jwt_key_fetches_total{source=\"https://idp/jwks\",result=\"ok\"} 1\n");
    assert_contains(text, "result=\"not_modified\"} 1\n");
    assert_contains(text, "validate_jwt_keys{source=\"https://idp/jwks\"} 3\n");
    assert_contains(text, "validate_jwt_keys_age_seconds{source=\"https://idp/jwks\"} 10.000\n");
    assert_contains(text, "validate_jwt_keys_stale{source=\"https://idp/jwks\"} 0\n");
    assert_contains(text, "_bucket{source=\"https://idp/jwks\",le=\"0.01\"} 0\n");
    assert_contains(text, "_bucket{source=\"https://idp/jwks\",le=\"0.05\"} 1\n");
    assert_contains(text, "_bucket{source=\"https://idp/jwks\",le=\"0.5\"} 2\n");
    assert_contains(text, "_bucket{source=\"https://idp/jwks\",le=\"+Inf\"} 2\n");
    assert_contains(
        text, "validate_jwt_fetch_duration_seconds_sum{source=\"https://idp/jwks\"} 0.330000\n");
    assert_contains(text, "validate_jwt_token_cache_hits_total 2\n");
    assert_contains(text, "validate_jwt_token_cache_misses_total 1\n");
    /* stale: a failed fetch, or keys older than max-stale */
    assert_contains(vjwt_metrics_prometheus(p, &v, now, apr_time_from_sec(5)),
                    "validate_jwt_keys_stale{source=\"https://idp/jwks\"} 1\n");
    vjwt_metrics_fetch(m, src, VJWT_FETCH_ERROR, apr_time_from_sec(20), 0, 0);
    vjwt_metrics_read(m, p, &v);
    text = vjwt_metrics_prometheus(p, &v, now, 0);
    assert_contains(text, "validate_jwt_keys_stale{source=\"https://idp/jwks\"} 1\n");
    assert_contains(text, "validate_jwt_keys{source=\"https://idp/jwks\"} 3\n"); /* kept */
    assert_contains(text, "result=\"error\"} 1\n");
    /* JSON: the same figures */
    js = vjwt_metrics_json(p, &v, now, 0);
    doc = json_loads(js, 0, &jerr);
    assert_non_null(doc);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(doc, "token_cache"), "hits")), 2);
    assert_int_equal(json_array_size(json_object_get(doc, "requests")), 3);
    assert_int_equal(
        json_integer_value(json_object_get(
            json_object_get(json_array_get(json_object_get(doc, "key_sources"), 0), "fetches"),
            "error")),
        1);
    json_decref(doc);
}

/* A restart attaches to the same block: counters go on; another layout starts afresh. */
static void t_adopt(void **state)
{
    apr_pool_t *p = *state;
    void *mem = block(p);
    vjwt_metrics_t *m = vjwt_metrics_attach(mem, vjwt_metrics_size());
    vjwt_metrics_view_t v;
    int s = vjwt_metrics_scope(m, "/x");
    vjwt_metrics_request(m, s, VJWT_RESULT_ACCEPTED, VJWT_R_OK);
    m = vjwt_metrics_attach(mem, vjwt_metrics_size());
    vjwt_metrics_request(m, vjwt_metrics_scope(m, "/x"), VJWT_RESULT_ACCEPTED, VJWT_R_OK);
    vjwt_metrics_read(m, p, &v);
    assert_int_equal(v.scopes->nelts, 1);
    assert_int_equal(APR_ARRAY_IDX(v.scopes, 0, vjwt_metrics_scope_t).count[0][0], 2);
    memset(mem, 0x5a, 16); /* not our layout any more */
    m = vjwt_metrics_attach(mem, vjwt_metrics_size());
    vjwt_metrics_read(m, p, &v);
    assert_int_equal(v.scopes->nelts, 0);
}

typedef struct {
    vjwt_metrics_t *m;
    int id;
} worker_t;

/* pthreads, not apr_thread_exit: ASan reports a false stack overflow in the
 * sigaltstack of threads ended by pthread_exit. */
static void *counter(void *data)
{
    worker_t *w = data;
    int i;
    for (i = 0; i < 20000; i++) {
        int s = vjwt_metrics_scope(w->m, i % 2 ? "/even" : "/odd");
        vjwt_metrics_request(w->m, s, VJWT_RESULT_REJECTED, VJWT_R_TOKEN_SIGNATURE_INVALID);
        vjwt_metrics_token_cache(w->m, i % 3 == 0);
    }
    return NULL;
}

static void t_threads(void **state)
{
    apr_pool_t *p = *state;
    vjwt_metrics_t *m = vjwt_metrics_attach(block(p), vjwt_metrics_size());
    pthread_t th[4];
    worker_t w[4];
    vjwt_metrics_view_t v;
    apr_uint64_t total = 0;
    int i;
    for (i = 0; i < 4; i++) {
        w[i].m = m;
        w[i].id = i;
        assert_int_equal(pthread_create(&th[i], NULL, counter, &w[i]), 0);
    }
    for (i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
    }
    vjwt_metrics_read(m, p, &v);
    assert_int_equal(v.scopes->nelts, 2);
    for (i = 0; i < 2; i++) {
        total += APR_ARRAY_IDX(v.scopes, i, vjwt_metrics_scope_t)
                     .count[VJWT_RESULT_REJECTED][VJWT_R_TOKEN_SIGNATURE_INVALID];
    }
    assert_int_equal(total, 80000);
    assert_int_equal(v.cache_hits + v.cache_misses, 80000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(t_slots, vjwt_test_pool_setup, vjwt_test_pool_teardown),
        cmocka_unit_test_setup_teardown(t_render, vjwt_test_pool_setup, vjwt_test_pool_teardown),
        cmocka_unit_test_setup_teardown(t_adopt, vjwt_test_pool_setup, vjwt_test_pool_teardown),
        cmocka_unit_test_setup_teardown(t_threads, vjwt_test_pool_setup, vjwt_test_pool_teardown),
    };
    vjwt_test_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
