/*
 * test_vcache.c - the token cache: keys (digest, policy, generation), expiry, the bounds in
 * entries and bytes, CLOCK's second chance, references that outlive eviction, threads; and
 * the request pipeline through it (vjwt_validate_request): hits judge only the clock,
 * rejected tokens are kept apart, nothing is kept when the verdict could change.
 */
#include "testutil.h"

#include <string.h>
#include <stdlib.h>
#include <apr_strings.h>
#include <pthread.h>
#include <apr_time.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "vjwt.h"

static int freed; /* values freed so far (count_free) */

static void count_free(void *v)
{
    __atomic_add_fetch(&freed, 1, __ATOMIC_SEQ_CST);
    free(v);
}

static vjwt_vcache_key_t key_of(const char *tok, apr_uint64_t policy, apr_uint64_t gen)
{
    vjwt_vcache_key_t k;
    memset(&k, 0, sizeof(k));
    vjwt_sha256(tok, strlen(tok), k.digest);
    k.policy = policy;
    k.generation = gen;
    return k;
}

static void put_text(vjwt_vcache_t *c, const vjwt_vcache_key_t *k, const char *text, apr_time_t now,
                     apr_time_t until)
{
    char *v = strdup(text);
    vjwt_vcache_put(c, k, v, strlen(v) + 1, now, until, count_free);
}

static void t_keys_and_expiry(void **state)
{
    apr_pool_t *p = *state;
    vjwt_vcache_t *c;
    vjwt_vcache_stats_t st;
    apr_time_t now = apr_time_from_sec(1000000);
    vjwt_vcache_key_t a = key_of("tok", 1, 7);
    vjwt_vcache_key_t other_policy = key_of("tok", 2, 7), other_gen = key_of("tok", 1, 8);

    assert_int_equal(vjwt_vcache_make(&c, p, 100, 1 << 20, apr_time_from_sec(60)), APR_SUCCESS);
    assert_null(vjwt_vcache_get(c, p, &a, now));
    put_text(c, &a, "value-a", now, now + apr_time_from_sec(30));
    assert_string_equal(vjwt_vcache_get(c, p, &a, now), "value-a");
    assert_null(vjwt_vcache_get(c, p, &other_policy, now));
    assert_null(vjwt_vcache_get(c, p, &other_gen, now));
    /* expiry: the entry's own, and the cache's max_ttl */
    assert_null(vjwt_vcache_get(c, p, &a, now + apr_time_from_sec(30)));
    put_text(c, &other_gen, "long", now, APR_INT64_MAX);
    assert_non_null(vjwt_vcache_get(c, p, &other_gen, now + apr_time_from_sec(59)));
    assert_null(vjwt_vcache_get(c, p, &other_gen, now + apr_time_from_sec(61)));
    /* already expired: freed at once, not kept */
    freed = 0;
    put_text(c, &other_policy, "old", now, now - 1);
    assert_int_equal(freed, 1);
    /* a new value under the same key replaces the old one */
    put_text(c, &a, "value-b", now, now + apr_time_from_sec(30));
    assert_string_equal(vjwt_vcache_get(c, p, &a, now), "value-b");
    vjwt_vcache_stats(c, &st);
    assert_int_equal(st.entries, 2);
    assert_int_equal(st.hits, 3);
    assert_int_equal(st.misses, 5);
}

static void t_bounded(void **state)
{
    apr_pool_t *p = *state, *cp;
    vjwt_vcache_t *c;
    vjwt_vcache_stats_t st;
    apr_time_t now = apr_time_from_sec(1000000);
    char big[2000];
    int i;

    apr_pool_create(&cp, p);
    freed = 0;
    /* entries: 1000 fit in 300 slots (16 shards); never more, one eviction per insert */
    assert_int_equal(vjwt_vcache_make(&c, cp, 300, 1 << 24, apr_time_from_sec(60)), APR_SUCCESS);
    for (i = 0; i < 1000; i++) {
        vjwt_vcache_key_t k = key_of(apr_psprintf(p, "token-%d", i), 1, 0);
        put_text(c, &k, "v", now, APR_INT64_MAX);
        vjwt_vcache_stats(c, &st);
        assert_true(st.entries <= 304);
    }
    assert_true(st.entries > 200);
    assert_int_equal((int)st.evictions, freed);
    assert_int_equal((int)(st.inserts - st.evictions), st.entries);
    apr_pool_destroy(cp); /* frees every entry */
    assert_int_equal(freed, 1000);

    /* bytes: 2000-byte values in 64 KiB (one shard: fewer than 256 entries) */
    apr_pool_create(&cp, p);
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    assert_int_equal(vjwt_vcache_make(&c, cp, 200, 65536, apr_time_from_sec(60)), APR_SUCCESS);
    for (i = 0; i < 500; i++) {
        vjwt_vcache_key_t k = key_of(apr_psprintf(p, "token-%d", i), 1, 0);
        put_text(c, &k, big, now, APR_INT64_MAX);
        vjwt_vcache_stats(c, &st);
        assert_true(st.bytes <= 65536 + 1);
    }
    assert_true(st.entries >= 25 && st.entries <= 32);
    /* a value above a quarter of the bytes is not kept */
    {
        char *huge = calloc(1, 17000);
        vjwt_vcache_key_t k = key_of("huge", 1, 0);
        vjwt_vcache_put(c, &k, huge, 17000, now, APR_INT64_MAX, count_free);
        assert_null(vjwt_vcache_get(c, p, &k, now));
    }
    apr_pool_destroy(cp);
}

/* CLOCK: an entry used since the hand last passed survives a sweep; unused ones go first. */
static void t_second_chance(void **state)
{
    apr_pool_t *p = *state;
    vjwt_vcache_t *c;
    apr_time_t now = apr_time_from_sec(1000000);
    vjwt_vcache_key_t hot = key_of("hot", 1, 0);
    int i;

    assert_int_equal(vjwt_vcache_make(&c, p, 8, 1 << 20, apr_time_from_sec(60)), APR_SUCCESS);
    put_text(c, &hot, "hot", now, APR_INT64_MAX);
    for (i = 0; i < 100; i++) {
        vjwt_vcache_key_t k = key_of(apr_psprintf(p, "cold-%d", i), 1, 0);
        assert_non_null(vjwt_vcache_get(c, p, &hot, now));
        put_text(c, &k, "cold", now, APR_INT64_MAX);
    }
    assert_string_equal(vjwt_vcache_get(c, p, &hot, now), "hot");
}

/* A request that holds a value keeps it readable after the cache dropped it; it is freed
 * when the request's pool goes. */
static void t_reference_outlives_eviction(void **state)
{
    apr_pool_t *p = *state, *rp;
    vjwt_vcache_t *c;
    apr_time_t now = apr_time_from_sec(1000000);
    vjwt_vcache_key_t k = key_of("held", 1, 0);
    const char *held;
    int i, before;

    assert_int_equal(vjwt_vcache_make(&c, p, 4, 1 << 20, apr_time_from_sec(60)), APR_SUCCESS);
    put_text(c, &k, "held value", now, APR_INT64_MAX);
    apr_pool_create(&rp, p);
    held = vjwt_vcache_get(c, rp, &k, now);
    freed = 0;
    for (i = 0; i < 20; i++) {
        vjwt_vcache_key_t o = key_of(apr_psprintf(p, "other-%d", i), 1, 0);
        put_text(c, &o, "x", now, APR_INT64_MAX);
    }
    assert_null(vjwt_vcache_get(c, p, &k, now)); /* evicted */
    assert_string_equal(held, "held value");     /* still there (ASan would see a free) */
    before = freed;
    apr_pool_destroy(rp);
    assert_int_equal(freed, before + 1);
}

typedef struct {
    vjwt_vcache_t *c;
    apr_pool_t *p;
    int bad;
} worker_t;

/* pthreads, not apr_thread_exit: ASan reports a false stack overflow in the
 * sigaltstack of threads ended by pthread_exit. */
static void *worker(void *data)
{
    worker_t *w = data;
    apr_time_t now = apr_time_from_sec(1000000);
    apr_pool_t *rp;
    int i;
    apr_pool_create_unmanaged_ex(&rp, NULL, NULL);
    for (i = 0; i < 20000; i++) {
        char name[32];
        vjwt_vcache_key_t k;
        const char *v;
        snprintf(name, sizeof(name), "t%d", i % 97);
        k = key_of(name, 1, 0);
        v = vjwt_vcache_get(w->c, rp, &k, now);
        if (v && strcmp(v, name) != 0) {
            w->bad++;
        }
        if (!v) {
            put_text(w->c, &k, name, now, APR_INT64_MAX);
        }
        if (i % 50 == 0) {
            apr_pool_clear(rp);
        }
    }
    apr_pool_destroy(rp);
    return NULL;
}

static void t_threads(void **state)
{
    apr_pool_t *p = *state;
    pthread_t th[4];
    worker_t w[4];
    vjwt_vcache_t *c;
    int i;
    assert_int_equal(vjwt_vcache_make(&c, p, 40, 1 << 20, apr_time_from_sec(60)), APR_SUCCESS);
    for (i = 0; i < 4; i++) {
        w[i].c = c;
        w[i].p = p;
        w[i].bad = 0;
        assert_int_equal(pthread_create(&th[i], NULL, worker, &w[i]), 0);
    }
    for (i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].bad, 0);
    }
}

/* ---- the request pipeline ------------------------------------------------------------- */

static const unsigned char SECRET[32] = "0123456789abcdef0123456789abcdef";

/* An HS256 token over payload (JSON text), signed by OpenSSL's HMAC. */
static const char *hs256(apr_pool_t *p, const char *payload, const unsigned char *key)
{
    const char *h = vjwt_b64url_encode(p, (const unsigned char *)"{\"alg\":\"HS256\"}", 15);
    const char *b = vjwt_b64url_encode(p, (const unsigned char *)payload, strlen(payload));
    const char *in = apr_pstrcat(p, h, ".", b, NULL);
    unsigned char mac[32];
    unsigned int n = 0;
    HMAC(EVP_sha256(), key, 32, (const unsigned char *)in, strlen(in), mac, &n);
    return apr_pstrcat(p, in, ".", vjwt_b64url_encode(p, mac, n), NULL);
}

static vjwt_policy_t *hs_policy(apr_pool_t *p)
{
    vjwt_policy_t *pol = vjwt_policy_make(p);
    vjwt_key_t *k;
    const char *err = NULL;
    assert_int_equal(vjwt_key_from_secret(&k, p, SECRET, 32, &err), APR_SUCCESS);
    pol->keys = apr_array_make(p, 1, sizeof(const vjwt_key_t *));
    APR_ARRAY_PUSH(pol->keys, const vjwt_key_t *) = k;
    pol->audiences = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(pol->audiences, const char *) = "api";
    pol->pass_claims = VJWT_PASS_ENV;
    return pol;
}

static apr_status_t run(apr_pool_t *p, const vjwt_policy_t *pol, vjwt_request_opts_t *ro,
                        const char *tok, double now, vjwt_outcome_t *out, vjwt_verdict_t *v)
{
    return vjwt_validate_request(p, NULL, pol, ro, tok, strlen(tok), now, out, v);
}

static void t_pipeline(void **state)
{
    apr_pool_t *p = *state;
    vjwt_policy_t *pol = hs_policy(p);
    vjwt_request_opts_t ro;
    vjwt_outcome_t out;
    vjwt_verdict_t v;
    vjwt_vcache_stats_t st;
    double now = 2000000000.0;
    const char *good = hs256(p, "{\"sub\":\"alice\",\"aud\":\"api\",\"exp\":2000000100}", SECRET);
    const char *wrong_aud = hs256(p, "{\"sub\":\"bob\",\"aud\":\"x\",\"exp\":2000000100}", SECRET);
    const char *no_sub = hs256(p, "{\"aud\":\"api\",\"exp\":2000000100}", SECRET);
    unsigned char other[32];

    memset(&ro, 0, sizeof(ro));
    ro.require_user = 1;
    assert_int_equal(vjwt_vcache_make(&ro.accepted, p, 100, 1 << 20, apr_time_from_sec(3600)),
                     APR_SUCCESS);
    assert_int_equal(vjwt_vcache_make(&ro.rejected, p, 100, 1 << 20, apr_time_from_sec(3600)),
                     APR_SUCCESS);

    /* a miss parses; a hit does not, and hands on the same composed exports */
    assert_int_equal(run(p, pol, &ro, good, now, &out, &v), APR_SUCCESS);
    assert_false(out.cached);
    assert_non_null(out.token);
    assert_int_equal(run(p, pol, &ro, good, now + 10, &out, &v), APR_SUCCESS);
    assert_true(out.cached);
    assert_null(out.token);
    assert_string_equal(out.rec->user, "alice");
    assert_true(out.rec->n_env >= 3);
    assert_string_equal(out.rec->env[0].name, "VALIDATE_JWT_CLAIM_sub");
    assert_string_equal(out.rec->env[0].value, "alice");
    assert_non_null(strstr(out.rec->payload_json, "\"alice\""));
    /* the clock is judged at every hit: later, the same record is expired */
    assert_int_not_equal(run(p, pol, &ro, good, now + 200, &out, &v), APR_SUCCESS);
    assert_true(out.cached);
    assert_int_equal(v.reason, VJWT_R_TOKEN_EXPIRED);
    /* ... and an expired token that also has the wrong audience is TokenExpired, as in the
     * pipeline's order, both when judged afresh and from the rejected cache */
    assert_int_not_equal(run(p, pol, &ro, wrong_aud, now + 200, &out, &v), APR_SUCCESS);
    assert_int_equal(v.reason, VJWT_R_TOKEN_EXPIRED);
    assert_false(out.cached);
    assert_int_not_equal(run(p, pol, &ro, wrong_aud, now, &out, &v), APR_SUCCESS);
    assert_true(out.cached);
    assert_int_equal(v.reason, VJWT_R_TOKEN_AUDIENCE_NOT_ALLOWED);
    /* the remote-user claim is judged from the record */
    assert_int_not_equal(run(p, pol, &ro, no_sub, now, &out, &v), APR_SUCCESS);
    assert_int_equal(v.reason, VJWT_R_TOKEN_CLAIM_NOT_FOUND);
    assert_int_not_equal(run(p, pol, &ro, no_sub, now, &out, &v), APR_SUCCESS);
    assert_true(out.cached);
    ro.require_user = 0;
    assert_int_equal(run(p, pol, &ro, no_sub, now, &out, &v), APR_SUCCESS);
    ro.require_user = 1;
    /* a bad signature is kept among the rejected, and only there */
    memset(other, 'z', sizeof(other));
    {
        const char *bad = hs256(p, "{\"sub\":\"a\",\"aud\":\"api\",\"exp\":2000000100}", other);
        assert_int_not_equal(run(p, pol, &ro, bad, now, &out, &v), APR_SUCCESS);
        assert_false(out.cached);
        assert_int_not_equal(run(p, pol, &ro, bad, now, &out, &v), APR_SUCCESS);
        assert_true(out.cached);
        assert_int_equal(v.reason, VJWT_R_TOKEN_SIGNATURE_INVALID);
    }
    vjwt_vcache_stats(ro.rejected, &st);
    assert_int_equal(st.entries, 2); /* wrong_aud, bad */
    vjwt_vcache_stats(ro.accepted, &st);
    assert_int_equal(st.entries, 2); /* good, no_sub */
    /* another policy (another ident) judges afresh */
    {
        vjwt_policy_t *other_pol = hs_policy(p);
        assert_int_equal(run(p, other_pol, &ro, good, now, &out, &v), APR_SUCCESS);
        assert_false(out.cached);
    }
    /* ident 0: never cached */
    pol->ident = 0;
    assert_int_equal(run(p, pol, &ro, good, now, &out, &v), APR_SUCCESS);
    assert_false(out.cached);
}

/* Merged policies: equal inputs give equal idents (httpd merges per request). */
static void t_merge_ident(void **state)
{
    apr_pool_t *p = *state;
    vjwt_policy_t *a = vjwt_policy_make(p), *b = vjwt_policy_make(p), *c = vjwt_policy_make(p);
    assert_int_not_equal(a->ident, b->ident);
    assert_int_equal(vjwt_policy_merge(p, a, b)->ident, vjwt_policy_merge(p, a, b)->ident);
    assert_int_not_equal(vjwt_policy_merge(p, a, b)->ident, vjwt_policy_merge(p, b, a)->ident);
    assert_int_not_equal(vjwt_policy_merge(p, a, b)->ident, vjwt_policy_merge(p, a, c)->ident);
    assert_int_not_equal(vjwt_policy_merge(p, a, b)->ident, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(t_keys_and_expiry, vjwt_test_pool_setup,
                                        vjwt_test_pool_teardown),
        cmocka_unit_test_setup_teardown(t_bounded, vjwt_test_pool_setup, vjwt_test_pool_teardown),
        cmocka_unit_test_setup_teardown(t_second_chance, vjwt_test_pool_setup,
                                        vjwt_test_pool_teardown),
        cmocka_unit_test_setup_teardown(t_reference_outlives_eviction, vjwt_test_pool_setup,
                                        vjwt_test_pool_teardown),
        cmocka_unit_test_setup_teardown(t_threads, vjwt_test_pool_setup, vjwt_test_pool_teardown),
        cmocka_unit_test_setup_teardown(t_pipeline, vjwt_test_pool_setup, vjwt_test_pool_teardown),
        cmocka_unit_test_setup_teardown(t_merge_ident, vjwt_test_pool_setup,
                                        vjwt_test_pool_teardown),
    };
    vjwt_test_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
