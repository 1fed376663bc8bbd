/*
 * test_keystore.c - the key store (vjwt_keystore.c) with a fake clock (opts.now), a fake
 * fetcher (scripted documents per URL, counted calls, no network) and an in-memory cache
 * port (a small table with expiry on the fake clock, and a lock that must never be taken
 * recursively nor held across a fetch). Two stores sharing one in-memory cache stand for
 * two processes or hosts. Keys are generated here with OpenSSL and published as JWKS text.
 *
 * Rows of docs/conformance.md: C69 C70 C71 C72 C73 C74 C75 C76 C77 C79, and
 * vjwt_validate_stored (vjwt_pipeline.c: the store-aware entry point of the module and the
 * CLI) with tokens signed here by a test-only RS256 signer (OpenSSL EVP). Run under
 * valgrind for the snapshot lifetime checks:
 *   libtool --mode=execute valgrind --leak-check=full --error-exitcode=1 tests/unit/test_keystore
 */
#include "testutil.h"
#include "vjwt_b64.h"
#include "vjwt_json.h"
#include "vjwt_jwk.h"
#include "vjwt_keystore.h"
#include "vjwt_pipeline.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <apr_strings.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>

#define SEC(n) apr_time_from_sec(n)
#define T0     SEC(1700000000)

#define DISC  "https://idp.test/.well-known/openid-configuration"
#define JWKS  "https://idp.test/keys"
#define ISS   "https://idp.test/"
#define DISC2 "https://other.test/v2.0/.well-known/openid-configuration"
#define JWKS2 "https://other.test/v2.0/keys"
#define ISS2  "https://other.test/v2.0"

#define TAG_LOADED  200
#define TAG_FAILED  201
#define TAG_SKIPPED 202
#define TAG_SHARED  203
#define TAG_LENIENT 220
#define TAG_FORGED  221

static EVP_PKEY *g_rsa1, *g_rsa2, *g_rsa3, *g_ec1;

/* ---- fake clock ----------------------------------------------------------------------
 * g_now, plus (when g_drift is set) the real time elapsed since clock_drift(1): a few tests
 * exercise code that polls the clock while it waits. */

static apr_time_t g_now;
static int g_drift;
static apr_time_t g_drift_base;

static apr_time_t real_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (apr_time_t)ts.tv_sec * APR_USEC_PER_SEC + ts.tv_nsec / 1000;
}

static apr_time_t fake_now(void)
{
    apr_time_t t = __atomic_load_n(&g_now, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&g_drift, __ATOMIC_SEQ_CST)) {
        t += real_usec() - g_drift_base;
    }
    return t;
}

static void clock_set(apr_time_t t)
{
    __atomic_store_n(&g_now, t, __ATOMIC_SEQ_CST);
}

static void clock_add(apr_interval_time_t d)
{
    __atomic_add_fetch(&g_now, d, __ATOMIC_SEQ_CST);
}

static void clock_drift(int on)
{
    g_drift_base = real_usec();
    __atomic_store_n(&g_drift, on, __ATOMIC_SEQ_CST);
}

/* ---- in-memory cache port ------------------------------------------------------------ */

#define CACHE_MAX 64

typedef struct {
    char *key;
    char *val;
    apr_size_t len;
    apr_time_t expiry;
} centry_t;

typedef struct {
    pthread_mutex_t data; /* the table and counters */
    pthread_mutex_t lock; /* the port's cross-process lock */
    centry_t e[CACHE_MAX];
    int n;
    int record_gets, attempt_gets, sets, locks;
    int errors; /* recursive lock, unlock without lock */
    char last_error[200];
} mcache_t;

static _Thread_local int tl_cache_locked;
static mcache_t g_cache;

static void mc_error(mcache_t *c, const char *what)
{
    pthread_mutex_lock(&c->data);
    c->errors++;
    snprintf(c->last_error, sizeof(c->last_error), "%s", what);
    pthread_mutex_unlock(&c->data);
}

static centry_t *mc_find(mcache_t *c, const char *key)
{
    int i;
    for (i = 0; i < c->n; i++) {
        if (strcmp(c->e[i].key, key) == 0) {
            return &c->e[i];
        }
    }
    return NULL;
}

static apr_status_t mc_get(void *baton, apr_pool_t *p, const char *key, apr_size_t max, char **val,
                           apr_size_t *len)
{
    (void)max;
    mcache_t *c = baton;
    centry_t *e;
    apr_status_t rv = APR_NOTFOUND;
    pthread_mutex_lock(&c->data);
    if (strncmp(key, "vjwt:a:", 7) == 0) {
        c->attempt_gets++;
    }
    else {
        c->record_gets++;
    }
    e = mc_find(c, key);
    if (e && e->expiry > fake_now()) {
        *val = apr_pstrmemdup(p, e->val, e->len);
        *len = e->len;
        rv = APR_SUCCESS;
    }
    pthread_mutex_unlock(&c->data);
    return rv;
}

static apr_status_t mc_set(void *baton, apr_pool_t *p, const char *key, const char *val,
                           apr_size_t len, apr_time_t expiry)
{
    mcache_t *c = baton;
    centry_t *e;
    (void)p;
    pthread_mutex_lock(&c->data);
    c->sets++;
    e = mc_find(c, key);
    if (!e) {
        if (c->n == CACHE_MAX) {
            pthread_mutex_unlock(&c->data);
            return APR_ENOSPC;
        }
        e = &c->e[c->n++];
        e->key = strdup(key);
        e->val = NULL;
    }
    free(e->val);
    e->val = malloc(len + 1);
    memcpy(e->val, val, len);
    e->val[len] = 0;
    e->len = len;
    e->expiry = expiry;
    pthread_mutex_unlock(&c->data);
    return APR_SUCCESS;
}

static apr_status_t mc_lock(void *baton)
{
    mcache_t *c = baton;
    if (tl_cache_locked) {
        mc_error(c, "recursive cache lock");
        return APR_EGENERAL;
    }
    pthread_mutex_lock(&c->lock);
    tl_cache_locked = 1;
    pthread_mutex_lock(&c->data);
    c->locks++;
    pthread_mutex_unlock(&c->data);
    return APR_SUCCESS;
}

static apr_status_t mc_unlock(void *baton)
{
    mcache_t *c = baton;
    if (!tl_cache_locked) {
        mc_error(c, "cache unlock without lock");
        return APR_EGENERAL;
    }
    tl_cache_locked = 0;
    pthread_mutex_unlock(&c->lock);
    return APR_SUCCESS;
}

static void mc_init(mcache_t *c)
{
    memset(c, 0, sizeof(*c));
    pthread_mutex_init(&c->data, NULL);
    pthread_mutex_init(&c->lock, NULL);
}

static void mc_free(mcache_t *c)
{
    int i;
    for (i = 0; i < c->n; i++) {
        free(c->e[i].key);
        free(c->e[i].val);
    }
    c->n = 0;
    pthread_mutex_destroy(&c->data);
    pthread_mutex_destroy(&c->lock);
}

static vjwt_cache_port_t mc_port(mcache_t *c)
{
    vjwt_cache_port_t port;
    port.baton = c;
    port.get = mc_get;
    port.set = mc_set;
    port.lock = mc_lock;
    port.unlock = mc_unlock;
    return port;
}

/* The stored value of the first key with prefix (copied into p), or NULL. */
static const char *mc_peek(apr_pool_t *p, mcache_t *c, const char *prefix, apr_time_t *expiry)
{
    const char *v = NULL;
    int i;
    pthread_mutex_lock(&c->data);
    for (i = 0; i < c->n; i++) {
        if (strncmp(c->e[i].key, prefix, strlen(prefix)) == 0) {
            v = apr_pstrdup(p, c->e[i].val);
            if (expiry) {
                *expiry = c->e[i].expiry;
            }
            break;
        }
    }
    pthread_mutex_unlock(&c->data);
    return v;
}

static void mc_poke_all(mcache_t *c, const char *prefix, const char *val)
{
    int i;
    pthread_mutex_lock(&c->data);
    for (i = 0; i < c->n; i++) {
        if (strncmp(c->e[i].key, prefix, strlen(prefix)) == 0) {
            free(c->e[i].val);
            c->e[i].val = strdup(val);
            c->e[i].len = strlen(val);
        }
    }
    pthread_mutex_unlock(&c->data);
}

/* Every entry under prefix holds val from now on, expiring far in the future (what whoever
 * can write the cache could plant). */
static void mc_plant_all(mcache_t *c, const char *prefix, const char *val)
{
    int i;
    mc_poke_all(c, prefix, val);
    pthread_mutex_lock(&c->data);
    for (i = 0; i < c->n; i++) {
        if (strncmp(c->e[i].key, prefix, strlen(prefix)) == 0) {
            c->e[i].expiry = T0 + SEC(86400L * 3650);
        }
    }
    pthread_mutex_unlock(&c->data);
}

static int mc_record_gets(void)
{
    int n;
    pthread_mutex_lock(&g_cache.data);
    n = g_cache.record_gets + g_cache.attempt_gets;
    pthread_mutex_unlock(&g_cache.data);
    return n;
}

/* ---- fake fetcher -------------------------------------------------------------------- */

#define DOCS_MAX 8

typedef struct {
    char *url;
    char *body; /* NULL: fail */
    char *error;
    long status;
    long max_age;
    int calls;
} doc_t;

typedef struct {
    pthread_mutex_t mu;
    doc_t d[DOCS_MAX];
    int n;
    int calls;
    int delay_ms;
    int errors; /* fetches under the cache lock */
} fetcher_t;

static fetcher_t g_fetch;

static doc_t *doc_slot(const char *url)
{
    int i;
    for (i = 0; i < g_fetch.n; i++) {
        if (strcmp(g_fetch.d[i].url, url) == 0) {
            return &g_fetch.d[i];
        }
    }
    assert_true(g_fetch.n < DOCS_MAX);
    g_fetch.d[g_fetch.n].url = strdup(url);
    return &g_fetch.d[g_fetch.n++];
}

/* url answers 200 with body and max_age (-1: no Cache-Control). */
static void serve(const char *url, const char *body, long max_age)
{
    doc_t *d;
    pthread_mutex_lock(&g_fetch.mu);
    d = doc_slot(url);
    free(d->body);
    free(d->error);
    d->body = strdup(body);
    d->error = NULL;
    d->status = 200;
    d->max_age = max_age;
    pthread_mutex_unlock(&g_fetch.mu);
}

/* url fails (status 0: no response) with error. */
static void fail_url(const char *url, long status, const char *error)
{
    doc_t *d;
    pthread_mutex_lock(&g_fetch.mu);
    d = doc_slot(url);
    free(d->body);
    free(d->error);
    d->body = NULL;
    d->error = strdup(error);
    d->status = status;
    d->max_age = -1;
    pthread_mutex_unlock(&g_fetch.mu);
}

static int calls(const char *url)
{
    int i, n = 0;
    pthread_mutex_lock(&g_fetch.mu);
    for (i = 0; i < g_fetch.n; i++) {
        if (strcmp(g_fetch.d[i].url, url) == 0) {
            n = g_fetch.d[i].calls;
        }
    }
    pthread_mutex_unlock(&g_fetch.mu);
    return n;
}

static int total_calls(void)
{
    int n;
    pthread_mutex_lock(&g_fetch.mu);
    n = g_fetch.calls;
    pthread_mutex_unlock(&g_fetch.mu);
    return n;
}

static apr_status_t fake_fetch(void *baton, apr_pool_t *p, const char *url,
                               const vjwt_fetch_opts_t *o, vjwt_fetch_result_t *res)
{
    fetcher_t *f = baton;
    apr_status_t rv = APR_EGENERAL;
    int i, delay;
    (void)o;
    memset(res, 0, sizeof(*res));
    res->max_age = -1;
    pthread_mutex_lock(&f->mu);
    if (tl_cache_locked) {
        f->errors++; /* a fetch must never run under the cache lock */
    }
    f->calls++;
    delay = f->delay_ms;
    res->error = apr_psprintf(p, "GET %s: no such document", url);
    for (i = 0; i < f->n; i++) {
        doc_t *d = &f->d[i];
        if (strcmp(d->url, url) != 0) {
            continue;
        }
        d->calls++;
        res->status = d->status;
        if (d->body) {
            res->body = apr_pstrdup(p, d->body);
            res->len = strlen(d->body);
            res->max_age = d->max_age;
            res->final_url = apr_pstrdup(p, url);
            res->error = NULL;
            rv = APR_SUCCESS;
        }
        else {
            res->error = apr_pstrdup(p, d->error);
        }
    }
    pthread_mutex_unlock(&f->mu);
    if (delay > 0) {
        struct timespec ts = {0, (long)delay * 1000000L};
        nanosleep(&ts, NULL);
    }
    return rv;
}

static void fetch_reset(void)
{
    int i;
    for (i = 0; i < g_fetch.n; i++) {
        free(g_fetch.d[i].url);
        free(g_fetch.d[i].body);
        free(g_fetch.d[i].error);
    }
    memset(&g_fetch, 0, sizeof(g_fetch));
    pthread_mutex_init(&g_fetch.mu, NULL);
}

/* ---- log capture --------------------------------------------------------------------- */

#define LOGS_MAX 512

typedef struct {
    int tag;
    vjwt_log_level_e level;
    char msg[600];
} logrec_t;

static pthread_mutex_t g_log_mu = PTHREAD_MUTEX_INITIALIZER;
static logrec_t g_logs[LOGS_MAX];
static int g_nlogs;

static void cap_log(void *baton, vjwt_log_level_e level, const char *file, int line, int tag,
                    const char *msg)
{
    (void)baton;
    (void)file;
    (void)line;
    pthread_mutex_lock(&g_log_mu);
    if (getenv("VJWT_TEST_VERBOSE")) {
        fprintf(stderr, "  log %05d [%d] %s\n", tag, (int)level, msg);
    }
    if (g_nlogs < LOGS_MAX) {
        g_logs[g_nlogs].tag = tag;
        g_logs[g_nlogs].level = level;
        snprintf(g_logs[g_nlogs].msg, sizeof(g_logs[g_nlogs].msg), "%s", msg);
        g_nlogs++;
    }
    pthread_mutex_unlock(&g_log_mu);
}

static int log_count(int tag)
{
    int i, n = 0;
    pthread_mutex_lock(&g_log_mu);
    for (i = 0; i < g_nlogs; i++) {
        n += g_logs[i].tag == tag;
    }
    pthread_mutex_unlock(&g_log_mu);
    return n;
}

/* The last message with tag (and level, unless 0), or NULL. */
static const char *log_last(int tag)
{
    int i;
    const char *m = NULL;
    pthread_mutex_lock(&g_log_mu);
    for (i = 0; i < g_nlogs; i++) {
        if (g_logs[i].tag == tag) {
            m = g_logs[i].msg;
        }
    }
    pthread_mutex_unlock(&g_log_mu);
    return m;
}

static vjwt_log_level_e log_last_level(int tag)
{
    int i;
    vjwt_log_level_e l = 0;
    pthread_mutex_lock(&g_log_mu);
    for (i = 0; i < g_nlogs; i++) {
        if (g_logs[i].tag == tag) {
            l = g_logs[i].level;
        }
    }
    pthread_mutex_unlock(&g_log_mu);
    return l;
}

/* 1 when some message with tag since index from contains text. */
static int log_has(int from, int tag, const char *text)
{
    int i, found = 0;
    pthread_mutex_lock(&g_log_mu);
    for (i = from; i < g_nlogs; i++) {
        if (g_logs[i].tag == tag && strstr(g_logs[i].msg, text)) {
            found = 1;
        }
    }
    pthread_mutex_unlock(&g_log_mu);
    return found;
}

static int log_mark(void)
{
    int n;
    pthread_mutex_lock(&g_log_mu);
    n = g_nlogs;
    pthread_mutex_unlock(&g_log_mu);
    return n;
}

#define assert_logged(from, tag, text)                                                             \
    do {                                                                                           \
        if (!log_has((from), (tag), (text))) {                                                     \
            fail_msg("no log %05d with '%s' (last: %s)", (tag), (text),                            \
                     log_last(tag) ? log_last(tag) : "none");                                      \
        }                                                                                          \
    } while (0)

/* ---- keys and documents --------------------------------------------------------------- */

/* The public JWK of k with kid (a new reference). */
static json_t *jwk(apr_pool_t *p, EVP_PKEY *k, const char *kid)
{
    json_t *j = json_object();
    if (EVP_PKEY_is_a(k, "RSA")) {
        json_object_set_new(j, "kty", json_string("RSA"));
        json_object_set_new(j, "n", json_string(bn_b64url(p, k, OSSL_PKEY_PARAM_RSA_N)));
        json_object_set_new(j, "e", json_string(bn_b64url(p, k, OSSL_PKEY_PARAM_RSA_E)));
    }
    else {
        unsigned char pt[200];
        size_t len = 0, half;
        assert_int_equal(
            EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt), &len), 1);
        assert_int_equal(pt[0], 4);
        half = (len - 1) / 2;
        json_object_set_new(j, "kty", json_string("EC"));
        json_object_set_new(j, "crv", json_string("P-256"));
        json_object_set_new(j, "x", json_string(vjwt_b64url_encode(p, pt + 1, half)));
        json_object_set_new(j, "y", json_string(vjwt_b64url_encode(p, pt + 1 + half, half)));
    }
    if (kid) {
        json_object_set_new(j, "kid", json_string(kid));
    }
    return j;
}

/* j with member name set to v (steals v), returns j. */
static json_t *with(json_t *j, const char *name, json_t *v)
{
    json_object_set_new(j, name, v);
    return j;
}

static json_t *oct_jwk(apr_pool_t *p, const char *kid)
{
    static const unsigned char secret[32] = "0123456789abcdef0123456789abcde";
    json_t *j = json_object();
    json_object_set_new(j, "kty", json_string("oct"));
    json_object_set_new(j, "k", json_string(vjwt_b64url_encode(p, secret, sizeof(secret))));
    json_object_set_new(j, "kid", json_string(kid));
    return j;
}

/* {"keys":[...]} of the given JWKs (NULL-terminated; references stolen), as text in p. */
static const char *jwks_text(apr_pool_t *p, ...)
{
    va_list ap;
    json_t *set = json_object(), *arr = json_array(), *k;
    char *txt;
    const char *out;
    va_start(ap, p);
    while ((k = va_arg(ap, json_t *)) != NULL) {
        json_array_append_new(arr, k);
    }
    va_end(ap);
    json_object_set_new(set, "keys", arr);
    txt = json_dumps(set, JSON_COMPACT);
    json_decref(set);
    out = apr_pstrdup(p, txt);
    free(txt);
    return out;
}

static const char *disc_text(apr_pool_t *p, const char *issuer, const char *jwks_uri)
{
    return apr_psprintf(p,
                        "{\"issuer\":\"%s\",\"jwks_uri\":\"%s\",\"id_token_signing_alg_"
                        "values_supported\":[\"RS256\",\"ES256\"]}",
                        issuer, jwks_uri);
}

/* The standard provider: DISC -> ISS, JWKS with r1 (RSA) and e1 (EC). */
static void std_idp(apr_pool_t *p)
{
    serve(DISC, disc_text(p, ISS, JWKS), -1);
    serve(JWKS, jwks_text(p, jwk(p, g_rsa1, "r1"), jwk(p, g_ec1, "e1"), NULL), -1);
}

/* ---- store set-up --------------------------------------------------------------------- */

typedef struct {
    apr_array_header_t *reg;
    apr_array_header_t *srcs; /* what a policy passes to collect */
    vjwt_store_t *st;
} env_t;

static vjwt_store_opts_t base_opts(int shared)
{
    vjwt_store_opts_t o;
    vjwt_store_opts_default(&o);
    o.refetch = SEC(60); /* the fake-clock cases below are written around a 60 s floor */
    o.now = fake_now;
    o.log.log = cap_log;
    o.fetcher = fake_fetch;
    o.fetcher_baton = &g_fetch;
    if (shared) {
        o.cache = mc_port(&g_cache);
    }
    return o;
}

/* A store with one source per (kind, url) pair given (NULL-terminated url list, kind first). */
static void env_make(env_t *e, apr_pool_t *p, const vjwt_store_opts_t *o, vjwt_ks_kind_e kind,
                     const char *url, const char *url2)
{
    e->reg = apr_array_make(p, 2, sizeof(vjwt_ks_source_t *));
    e->srcs = apr_array_make(p, 2, sizeof(vjwt_ks_source_t *));
    APR_ARRAY_PUSH(e->srcs, vjwt_ks_source_t *) = vjwt_ks_source_make(p, e->reg, kind, url);
    if (url2) {
        APR_ARRAY_PUSH(e->srcs, vjwt_ks_source_t *) = vjwt_ks_source_make(p, e->reg, kind, url2);
    }
    assert_int_equal(vjwt_store_make(&e->st, p, o, e->reg), APR_SUCCESS);
}

static void collect(env_t *e, apr_pool_t *rp, vjwt_keys_view_t *v)
{
    memset(v, 0, sizeof(*v));
    vjwt_store_collect(e->st, rp, e->srcs, NULL, v);
    assert_non_null(v->keys);
    assert_non_null(v->issuers);
}

static const vjwt_key_t *key_at(const vjwt_keys_view_t *v, int i)
{
    return APR_ARRAY_IDX(v->keys, i, const vjwt_key_t *);
}

/* "r1 e1" */
static const char *kids(apr_pool_t *p, const vjwt_keys_view_t *v)
{
    const char *s = "";
    int i;
    for (i = 0; i < v->keys->nelts; i++) {
        const vjwt_key_t *k = key_at(v, i);
        s = apr_pstrcat(p, s, i ? " " : "", k->kid ? k->kid : "-", NULL);
    }
    return s;
}

static const char *issuers(apr_pool_t *p, const vjwt_keys_view_t *v)
{
    const char *s = "";
    int i;
    for (i = 0; i < v->issuers->nelts; i++) {
        s = apr_pstrcat(p, s, i ? " " : "", APR_ARRAY_IDX(v->issuers, i, const char *), NULL);
    }
    return s;
}

#define assert_kids(p, env, want)                                                                  \
    do {                                                                                           \
        vjwt_keys_view_t v_;                                                                       \
        collect((env), (p), &v_);                                                                  \
        assert_string_equal(kids((p), &v_), (want));                                               \
    } while (0)

/* ---- fixtures -------------------------------------------------------------------------- */

static int group_setup(void **state)
{
    (void)state;
    g_rsa1 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    g_rsa2 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    g_rsa3 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    g_ec1 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    pthread_mutex_init(&g_fetch.mu, NULL);
    return g_rsa1 && g_rsa2 && g_rsa3 && g_ec1 ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    EVP_PKEY_free(g_rsa1);
    EVP_PKEY_free(g_rsa2);
    EVP_PKEY_free(g_rsa3);
    EVP_PKEY_free(g_ec1);
    fetch_reset();
    return 0;
}

static int setup(void **state)
{
    fetch_reset();
    mc_init(&g_cache);
    pthread_mutex_lock(&g_log_mu);
    g_nlogs = 0;
    pthread_mutex_unlock(&g_log_mu);
    clock_drift(0);
    clock_set(T0);
    return vjwt_test_pool_setup(state);
}

static int teardown(void **state)
{
    int rc = vjwt_test_pool_teardown(state), bad = 0;
    if (g_cache.errors) {
        fprintf(stderr, "cache port misuse: %d (%s)\n", g_cache.errors, g_cache.last_error);
        bad = 1;
    }
    if (g_fetch.errors) {
        fprintf(stderr, "%d fetch(es) ran under the cache lock\n", g_fetch.errors);
        bad = 1;
    }
    mc_free(&g_cache);
    clock_drift(0);
    return rc || bad ? -1 : 0;
}

/* ---- basics ---------------------------------------------------------------------------- */

static void t_opts_and_sources(void **state)
{
    apr_pool_t *p = *state;
    vjwt_store_opts_t o;
    apr_array_header_t *reg = apr_array_make(p, 2, sizeof(vjwt_ks_source_t *));
    vjwt_ks_source_t *a, *b, *c;
    vjwt_store_t *st;
    memset(&o, 0x5a, sizeof(o));
    vjwt_store_opts_default(&o);
    assert_true(o.refresh == SEC(3600));
    assert_true(o.refetch == SEC(10));
    assert_true(o.max_stale == 0);
    assert_null(o.cache.get);
    assert_null(o.cache.set);
    assert_null(o.cache.lock);
    assert_null(o.cache.unlock);
    assert_null(o.log.baton);
    assert_null(o.log.is_level);
    assert_null(o.log.log);
    assert_null(o.fetcher);
    assert_null(o.now);
    assert_int_equal(o.fetch.timeout_ms, 10000);

    a = vjwt_ks_source_make(p, reg, VJWT_KS_DISCOVERY, DISC);
    b = vjwt_ks_source_make(p, reg, VJWT_KS_DISCOVERY, apr_pstrdup(p, DISC));
    c = vjwt_ks_source_make(p, reg, VJWT_KS_JWKS_URL, DISC);
    assert_ptr_equal(a, b);
    assert_ptr_not_equal(a, c);
    assert_int_equal(reg->nelts, 2);
    assert_string_equal(vjwt_ks_source_url(a), DISC);

    assert_int_equal(vjwt_store_make(&st, p, &o, reg), APR_SUCCESS);
    assert_int_equal(vjwt_store_retry_after(st), 10);
    o.refetch = SEC(300);
    assert_int_equal(vjwt_store_make(&st, p, &o, reg), APR_SUCCESS);
    assert_int_equal(vjwt_store_retry_after(st), 300);
    o.refetch = apr_time_from_msec(10);
    assert_int_equal(vjwt_store_make(&st, p, &o, reg), APR_SUCCESS);
    assert_int_equal(vjwt_store_retry_after(st), 1);
}

/* C66, C69: the first collect fetches discovery and JWKS once; later ones fetch nothing. */
static void t_cold_start(void **state)
{
    apr_pool_t *p = *state;
    vjwt_store_opts_t o = base_opts(0);
    env_t e;
    vjwt_keys_view_t v;
    int i;
    std_idp(p);
    env_make(&e, p, &o, VJWT_KS_DISCOVERY, DISC, NULL);
    assert_int_equal(total_calls(), 0); /* nothing happens before a request */

    collect(&e, p, &v);
    assert_int_equal(calls(DISC), 1);
    assert_int_equal(calls(JWKS), 1);
    assert_int_equal(v.unavailable, 0);
    assert_string_equal(kids(p, &v), "r1 e1");
    assert_string_equal(vjwt_key_describe(p, key_at(&v, 0)), "RSA 2048");
    assert_string_equal(vjwt_key_describe(p, key_at(&v, 1)), "EC P-256");
    assert_int_equal(EVP_PKEY_eq(key_at(&v, 0)->pkey, g_rsa1), 1);
    assert_int_equal(EVP_PKEY_eq(key_at(&v, 1)->pkey, g_ec1), 1);
    assert_string_equal(issuers(p, &v), ISS);
    assert_logged(0, TAG_LOADED, "keys of " DISC " loaded: 2 key(s) [r1 e1], issuer " ISS);
    assert_int_equal(log_last_level(TAG_LOADED), VJWT_LOG_NOTICE);
    assert_int_equal(log_count(TAG_FAILED), 0);

    /* C69: within the refresh interval nothing is fetched again */
    for (i = 0; i < 10; i++) {
        clock_add(SEC(359));
        collect(&e, p, &v);
        assert_string_equal(kids(p, &v), "r1 e1");
        assert_string_equal(issuers(p, &v), ISS);
        vjwt_store_tick(e.st, p);
    }
    assert_int_equal(calls(DISC), 1);
    assert_int_equal(calls(JWKS), 1);
}

/* A JWKS URL source: only the key set is fetched, and it brings no issuer. */
static void t_jwks_url_source(void **state)
{
    apr_pool_t *p = *state;
    vjwt_store_opts_t o = base_opts(0);
    env_t e;
    vjwt_keys_view_t v;
    std_idp(p);
    env_make(&e, p, &o, VJWT_KS_JWKS_URL, JWKS, NULL);
    collect(&e, p, &v);
    assert_int_equal(calls(DISC), 0);
    assert_int_equal(calls(JWKS), 1);
    assert_string_equal(kids(p, &v), "r1 e1");
    assert_int_equal(v.issuers->nelts, 0);
    assert_int_equal(v.unavailable, 0);
}

/* Static keys come first; no sources at all is fine too (C76). */
static void t_static_keys(void **state)
{
    apr_pool_t *p = *state;
    vjwt_store_opts_t o = base_opts(0);
    env_t e;
    vjwt_keys_view_t v;
    apr_array_header_t *stat = NULL;
    const char *err = NULL;
    std_idp(p);
    assert_int_equal(vjwt_jwks_parse(&stat, p, jwks_text(p, jwk(p, g_rsa3, "s1"), NULL),
                                     strlen(jwks_text(p, jwk(p, g_rsa3, "s1"), NULL)), NULL, &err),
                     APR_SUCCESS);
    env_make(&e, p, &o, VJWT_KS_DISCOVERY, DISC, NULL);
    vjwt_store_collect(e.st, p, e.srcs, stat, &v);
    assert_string_equal(kids(p, &v), "s1 r1 e1");
    assert_string_equal(issuers(p, &v), ISS);
    vjwt_store_collect(e.st, p, NULL, stat, &v);
    assert_string_equal(kids(p, &v), "s1");
    assert_int_equal(v.issuers->nelts, 0);
    assert_int_equal(v.unavailable, 0);
    vjwt_store_collect(e.st, p, NULL, NULL, &v);
    assert_int_equal(v.keys->nelts, 0);
    assert_int_equal(v.unavailable, 0);
}

/* ---- refresh --------------------------------------------------------------------------- */

/* C70: tick refetches after the refresh interval, not before; a missing source is loaded. */
static void t_refresh_tick(void **state)
{
    apr_pool_t *p = *state;
    vjwt_store_opts_t o = base_opts(0);
    env_t e;
    vjwt_keys_view_t v;
    int mark;
    std_idp(p);
    env_make(&e, p, &o, VJWT_KS_DISCOVERY, DISC, NULL);

    vjwt_store_tick(e.st, p); /* missing: loaded by the background too */
    assert_int_equal(calls(JWKS), 1);
    assert_kids(p, &e, "r1 e1");
    assert_int_equal(calls(JWKS), 1);

    clock_add(SEC(3599));
    vjwt_store_tick(e.st, p);
    assert_int_equal(calls(DISC), 1);
    assert_int_equal(calls(JWKS), 1);

    /* unchanged set: refreshed at 3600 s, logged at info level */
    clock_add(SEC(1));
    mark = log_mark();
    vjwt_store_tick(e.st, p);
    assert_int_equal(calls(DISC), 2);
    assert_int_equal(calls(JWKS), 2);
    assert_logged(mark, TAG_LOADED, "refreshed (unchanged)");
    assert_int_equal(log_last_level(TAG_LOADED), VJWT_LOG_INFO);

    /* rotation: r1 goes, r2 comes */
    serve(JWKS, jwks_text(p, jwk(p, g_rsa2, "r2"), jwk(p, g_ec1, "e1"), NULL), -1);
    clock_add(SEC(3000));
    vjwt_store_tick(e.st, p);
    assert_int_equal(calls(JWKS), 2);
    assert_kids(p, &e, "r1 e1");
    clock_add(SEC(601));
    mark = log_mark();
    vjwt_store_tick(e.st, p);
    assert_int_equal(calls(DISC), 3);
    assert_int_equal(calls(JWKS), 3);
    assert_logged(mark, TAG_LOADED, "loaded: 2 key(s) [r2 e1]");
    assert_int_equal(log_last_level(TAG_LOADED), VJWT_LOG_NOTICE);
    collect(&e, p, &v);
    assert_string_equal(kids(p, &v), "r2 e1");
    assert_int_equal(EVP_PKEY_eq(key_at(&v, 0)->pkey, g_rsa2), 1);

    /* a changed jwks_uri in the discovery document is followed */
    serve(JWKS2, jwks_text(p, jwk(p, g_rsa3, "r3"), NULL), -1);
    serve(DISC, disc_text(p, ISS, JWKS2), -1);
    clock_add(SEC(3601));
    vjwt_store_tick(e.st, p);
    assert_int_equal(calls(JWKS2), 1);
    assert_kids(p, &e, "r3");
}

/* Cache-Control max-age (the smaller of both documents') sets the refresh time, clamped to
 * [refetch, refresh]. */
static void t_max_age(void **state)
{
    apr_pool_t *p = *state;
    static const struct {
        long disc_age, jwks_age;
        long want_s;
    } cases[] = {
        {-1, -1, 3600},
        {-1, 120, 120},
        {-1, 5, 60},
        {-1, 0, 60},
        {-1, 100000, 3600},
        {300, -1, 300},
        {600, 200, 200},
        {90, 1000, 90},
        /* remote numbers far beyond any apr_time_t: clamped, no overflow (UBSan) */
        {-1, 10000000000000L, 3600},
        {10000000000000L, 10000000000000L, 3600},
        {-1, 9223372036854775807L, 3600},
    };
    size_t i;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        apr_pool_t *cp;
        vjwt_store_opts_t o = base_opts(0);
        env_t e;
        int before;
        apr_pool_create(&cp, p);
        serve(DISC, disc_text(cp, ISS, JWKS), cases[i].disc_age);
        serve(JWKS, jwks_text(cp, jwk(cp, g_rsa1, "r1"), NULL), cases[i].jwks_age);
        env_make(&e, cp, &o, VJWT_KS_DISCOVERY, DISC, NULL);
        before = calls(JWKS);
        assert_kids(cp, &e, "r1");
        assert_int_equal(calls(JWKS), before + 1);
        clock_add(SEC(cases[i].want_s) - SEC(1));
        vjwt_store_tick(e.st, cp);
        if (calls(JWKS) != before + 1) {
            fail_msg("case %d: refreshed before %ld s", (int)i, cases[i].want_s);
        }
        clock_add(SEC(2));
        vjwt_store_tick(e.st, cp);
        if (calls(JWKS) != before + 2) {
            fail_msg("case %d: not refreshed after %ld s", (int)i, cases[i].want_s);
        }
        assert_logged(0, TAG_LOADED, apr_psprintf(cp, "next refresh in %ld s", cases[i].want_s));
        apr_pool_destroy(cp);
        clock_add(SEC(100000));
    }
}

/* ---- unknown kid ----------------------------------------------------------------------- */

/* C71, C72 in one process without a shared cache. */
static void t_refetch_for_kid(void **state)
{
    apr_pool_t *p = *state;
    vjwt_store_opts_t o = base_opts(0);
    env_t e;
    vjwt_keys_view_t v;
    std_idp(p);
    env_make(&e, p, &o, VJWT_KS_DISCOVERY, DISC, NULL);
    assert_kids(p, &e, "r1 e1");

    /* the provider rotates in r2 */
    serve(JWKS, jwks_text(p, jwk(p, g_rsa1, "r1"), jwk(p, g_ec1, "e1"), jwk(p, g_rsa2, "r2"), NULL),
          -1);

    /* C72: within the floor of the last fetch: no fetch, the request is judged at once */
    clock_add(SEC(30));
    assert_int_equal(vjwt_store_refetch_for_kid(e.st, p, e.srcs, "r2"), 0);
    assert_int_equal(calls(JWKS), 1);
    assert_int_equal(calls(DISC), 1);
    assert_kids(p, &e, "r1 e1");

    /* C71: after the floor the same kid fetches, and the new key is there */
    clock_add(SEC(31));
    assert_int_equal(vjwt_store_refetch_for_kid(e.st, p, e.srcs, "r2"), 1);
    assert_int_equal(calls(DISC), 2);
    assert_int_equal(calls(JWKS), 2);
    collect(&e, p, &v);
    assert_string_equal(kids(p, &v), "r1 e1 r2");
    assert_int_equal(EVP_PKEY_eq(key_at(&v, 2)->pkey, g_rsa2), 1);

    /* another unknown kid within the floor of that fetch: nothing */
    clock_add(SEC(59));
    assert_int_equal(vjwt_store_refetch_for_kid(e.st, p, e.srcs, "r9"), 0);
    assert_int_equal(calls(JWKS), 2);

    /* a refetch also moves the next refresh: tick does not fetch at 3600 s from the start */
    clock_set(T0 + SEC(3600) + SEC(10));
    vjwt_store_tick(e.st, p);
    assert_int_equal(calls(JWKS), 2);
    clock_set(T0 + SEC(61) + SEC(3600));
    vjwt_store_tick(e.st, p);
    assert_int_equal(calls(JWKS), 3);

    /* with no sources nothing happens */
    assert_int_equal(vjwt_store_refetch_for_kid(e.st, p, NULL, "x"), 0);
}

/* A flood of random kids within the refetch floor: the first looks at the shared cache (a
 * peer may have fetched), the others of the next second don't (no cross-process lock per
 * request); after that second, one looks again. */
static void t_unknown_kids_quiet_second(void **state)
{
    apr_pool_t *p = *state;
    vjwt_store_opts_t o = base_opts(1);
    env_t e;
    int lookups, i;
    std_idp(p);
    env_make(&e, p, &o, VJWT_KS_DISCOVERY, DISC, NULL);
    assert_kids(p, &e, "r1 e1");
    lookups = mc_record_gets();
    assert_int_equal(vjwt_store_refetch_for_kid(e.st, p, e.srcs, "rnd-0"), 0); /* floor */
    assert_true(mc_record_gets() > lookups);
    lookups = mc_record_gets();
    for (i = 1; i < 50; i++) {
        assert_int_equal(vjwt_store_refetch_for_kid(e.st, p, e.srcs, apr_psprintf(p, "rnd-%d", i)),
                         0);
    }
    assert_int_equal(mc_record_gets(), lookups);
    clock_add(apr_time_from_msec(1100));
    assert_int_equal(vjwt_store_refetch_for_kid(e.st, p, e.srcs, "rnd-x"), 0);
    assert_true(mc_record_gets() > lookups);
    assert_int_equal(calls(JWKS), 1);
}

/* A kid still unknown after a fetch is remembered: no fetch and no cache lookup for it until
 * the next fetch of the source. */
static void t_unknown_kid_remembered(void **state)
{
    apr_pool_t *p = *state;
    vjwt_store_opts_t o = base_opts(1);
    env_t e;
    int lookups;
    std_idp(p);
    env_make(&e, p, &o, VJWT_KS_DISCOVERY, DISC, NULL);
    assert_kids(p, &e, "r1 e1");

    clock_add(SEC(61));
    assert_int_equal(vjwt_store_refetch_for_kid(e.st, p, e.srcs, "ghost"), 1);
    assert_int_equal(calls(JWKS), 2);

    clock_add(SEC(200));
    lookups = mc_record_gets();
    assert_int_equal(vjwt_store_refetch_for_kid(e.st, p, e.srcs, "ghost"), 0);
    assert_int_equal(vjwt_store_refetch_for_kid(e.st, p, e.srcs, "ghost"), 0);
    assert_int_equal(calls(JWKS), 2);
    assert_int_equal(mc_record_gets(), lookups);

    /* another kid fetches (the floor has passed) ... */
    assert_int_equal(vjwt_store_refetch_for_kid(e.st, p, e.srcs, "other"), 1);
    assert_int_equal(calls(JWKS), 3);
    /* ... and that fetch forgets what was unknown before: ghost is tried again (within the
     * floor now, so no fetch, but the shared cache is asked) */
    clock_add(SEC(10));
    lookups = mc_record_gets();
    assert_int_equal(vjwt_store_refetch_for_kid(e.st, p, e.srcs, "ghost"), 0);
    assert_true(mc_record_gets() > lookups);
    assert_int_equal(calls(JWKS), 3);
    clock_add(SEC(51));
    assert_int_equal(vjwt_store_refetch_for_kid(e.st, p, e.srcs, "ghost"), 1);
    assert_int_equal(calls(JWKS), 4);

    /* a kid that the new set does have is not remembered as unknown */
    serve(JWKS, jwks_text(p, jwk(p, g_rsa1, "r1"), jwk(p, g_rsa2, "r2"), NULL), -1);
    clock_add(SEC(61));
    assert_int_equal(vjwt_store_refetch_for_kid(e.st, p, e.srcs, "r2"), 1);
    assert_kids(p, &e, "r1 r2");
    /* and the background refresh also forgets remembered kids */
    clock_add(SEC(61));
    assert_int_equal(vjwt_store_refetch_for_kid(e.st, p, e.srcs, "ghost"), 1);
    assert_int_equal(calls(JWKS), 6);
    clock_add(SEC(3601));
    vjwt_store_tick(e.st, p);
    assert_int_equal(calls(JWKS), 7);
    clock_add(SEC(61));
    assert_int_equal(vjwt_store_refetch_for_kid(e.st, p, e.srcs, "ghost"), 1);
    assert_int_equal(calls(JWKS), 8);
}

/* ---- two processes or hosts sharing the cache ------------------------------------------- */

static void t_shared_two_stores(void **state)
{
    apr_pool_t *p = *state;
    vjwt_store_opts_t o = base_opts(1);
    env_t a, b;
    vjwt_keys_view_t v;
    int mark;
    std_idp(p);
    env_make(&a, p, &o, VJWT_KS_DISCOVERY, DISC, NULL);
    env_make(&b, p, &o, VJWT_KS_DISCOVERY, DISC, NULL);

    /* A fetches and publishes; B takes the record */
    assert_kids(p, &a, "r1 e1");
    assert_int_equal(calls(JWKS), 1);
    clock_add(SEC(1));
    mark = log_mark();
    collect(&b, p, &v);
    assert_string_equal(kids(p, &v), "r1 e1");
    assert_string_equal(issuers(p, &v), ISS);
    assert_int_equal(calls(DISC), 1);
    assert_int_equal(calls(JWKS), 1);
    assert_logged(mark, TAG_SHARED, "keys of " DISC " taken from the shared cache: 2 key(s)");
    assert_int_equal(EVP_PKEY_eq(key_at(&v, 0)->pkey, g_rsa1), 1);

    /* rotation; A sees a token with the new kid after the floor (C71) */
    serve(JWKS, jwks_text(p, jwk(p, g_rsa1, "r1"), jwk(p, g_ec1, "e1"), jwk(p, g_rsa2, "r2"), NULL),
          -1);
    clock_set(T0 + SEC(61));
    assert_int_equal(vjwt_store_refetch_for_kid(a.st, p, a.srcs, "r2"), 1);
    assert_int_equal(calls(JWKS), 2);
    assert_kids(p, &a, "r1 e1 r2");

    /* B gets the same token: it reads A's record instead of fetching (C72, other host) */
    clock_set(T0 + SEC(62));
    assert_int_equal(vjwt_store_refetch_for_kid(b.st, p, b.srcs, "r2"), 1);
    assert_int_equal(calls(JWKS), 2);
    assert_int_equal(calls(DISC), 2);
    assert_kids(p, &b, "r1 e1 r2");

    /* another unknown kid: within the server-wide floor for both */
    clock_set(T0 + SEC(63));
    assert_int_equal(vjwt_store_refetch_for_kid(b.st, p, b.srcs, "r3"), 0);
    assert_int_equal(vjwt_store_refetch_for_kid(a.st, p, a.srcs, "r3"), 0);
    assert_int_equal(calls(JWKS), 2);

    /* after the floor B fetches; A then takes B's record without fetching */
    serve(JWKS, jwks_text(p, jwk(p, g_rsa2, "r2"), jwk(p, g_rsa3, "r3"), NULL), -1);
    clock_set(T0 + SEC(122));
    assert_int_equal(vjwt_store_refetch_for_kid(b.st, p, b.srcs, "r3"), 1);
    assert_int_equal(calls(JWKS), 3);
    clock_set(T0 + SEC(123));
    assert_int_equal(vjwt_store_refetch_for_kid(a.st, p, a.srcs, "r3"), 1);
    assert_int_equal(calls(JWKS), 3);
    assert_kids(p, &a, "r2 r3");

    /* the background refresh: A refreshes, B's tick takes A's record (C70 server-wide) */
    clock_set(T0 + SEC(122) + SEC(3600) + SEC(1));
    vjwt_store_tick(a.st, p);
    assert_int_equal(calls(JWKS), 4);
    clock_add(SEC(1));
    vjwt_store_tick(b.st, p);
    assert_int_equal(calls(JWKS), 4);
    assert_kids(p, &b, "r2 r3");
    /* neither refreshes again before the next interval */
    clock_add(SEC(1800));
    vjwt_store_tick(a.st, p);
    vjwt_store_tick(b.st, p);
    assert_int_equal(calls(JWKS), 4);
    assert_int_equal(calls(DISC), 4);
    assert_true(g_cache.locks > 0);
}

/* A rotation that removes a key reaches the other processes within a tick: B's keys are
 * not due, yet its tick sees the newer shared record (generation entry) and takes it without
 * fetching, so the removed key stops verifying there too. */
static void t_rotation_reaches_other_stores(void **state)
{
    apr_pool_t *p = *state;
    vjwt_store_opts_t o = base_opts(1);
    env_t a, b;
    std_idp(p);
    env_make(&a, p, &o, VJWT_KS_DISCOVERY, DISC, NULL);
    env_make(&b, p, &o, VJWT_KS_DISCOVERY, DISC, NULL);
    assert_kids(p, &a, "r1 e1");
    clock_add(SEC(1));
    assert_kids(p, &b, "r1 e1");
    assert_int_equal(calls(JWKS), 1);

    /* r1 is removed, r2 added; A meets r2 after the floor and refetches */
    serve(JWKS, jwks_text(p, jwk(p, g_ec1, "e1"), jwk(p, g_rsa2, "r2"), NULL), -1);
    clock_set(T0 + SEC(61));
    assert_int_equal(vjwt_store_refetch_for_kid(a.st, p, a.srcs, "r2"), 1);
    assert_kids(p, &a, "e1 r2");
    assert_int_equal(calls(JWKS), 2);

    /* B's keys are far from due; one tick later it has A's set, without a fetch */
    clock_add(SEC(1));
    vjwt_store_tick(b.st, p);
    assert_kids(p, &b, "e1 r2");
    assert_int_equal(calls(JWKS), 2);
    /* and further ticks change nothing */
    clock_add(SEC(1));
    vjwt_store_tick(b.st, p);
    vjwt_store_tick(a.st, p);
    assert_int_equal(calls(JWKS), 2);
    assert_kids(p, &b, "e1 r2");
}

/* The shared record: what is stored, with which lifetime; a broken record is ignored. */
static void t_shared_record(void **state)
{
    apr_pool_t *p = *state;
    vjwt_store_opts_t o = base_opts(1);
    env_t a, b, c;
    vjwt_keys_view_t v;
    const char *rec, *err = NULL;
    apr_time_t expiry = 0;
    json_t *j = NULL;
    std_idp(p);
    serve(JWKS, jwks_text(p, jwk(p, g_rsa1, "r1"), NULL), 600);
    env_make(&a, p, &o, VJWT_KS_DISCOVERY, DISC, NULL);
    assert_kids(p, &a, "r1");

    rec = mc_peek(p, &g_cache, "vjwt:k:", &expiry);
    assert_non_null(rec);
    assert_int_equal(vjwt_json_parse(&j, p, rec, strlen(rec), 1, &err), APR_SUCCESS);
    assert_int_equal(json_integer_value(json_object_get(j, "v")), 1);
    assert_true(json_integer_value(json_object_get(j, "fetched")) == T0);
    assert_true(json_integer_value(json_object_get(j, "refresh_at")) == T0 + SEC(600));
    assert_string_equal(json_string_value(json_object_get(j, "issuer")), ISS);
    assert_string_equal(json_string_value(json_object_get(j, "jwks")),
                        jwks_text(p, jwk(p, g_rsa1, "r1"), NULL));
    /* kept a week past its refresh time when max_stale is unlimited */
    assert_true(expiry == T0 + SEC(600) + SEC(86400 * 7));
    assert_non_null(mc_peek(p, &g_cache, "vjwt:a:", NULL));

    /* a stale record (past refresh_at) still serves a cold process; its tick then fetches */
    clock_set(T0 + SEC(5000));
    env_make(&b, p, &o, VJWT_KS_DISCOVERY, DISC, NULL);
    assert_kids(p, &b, "r1");
    assert_int_equal(calls(JWKS), 1);
    vjwt_store_tick(b.st, p);
    assert_int_equal(calls(JWKS), 2);

    /* a broken record is ignored: a new process fetches itself (after the floor) */
    mc_poke_all(&g_cache, "vjwt:k:", "{not json");
    clock_add(SEC(61));
    env_make(&c, p, &o, VJWT_KS_DISCOVERY, DISC, NULL);
    collect(&c, p, &v);
    assert_string_equal(kids(p, &v), "r1");
    assert_int_equal(calls(JWKS), 3);
    mc_poke_all(&g_cache, "vjwt:k:", "{\"v\":1,\"fetched\":\"x\"}");
    clock_add(SEC(61));
    env_make(&c, p, &o, VJWT_KS_DISCOVERY, DISC, NULL);
    collect(&c, p, &v);
    assert_string_equal(kids(p, &v), "r1");
    assert_int_equal(calls(JWKS), 4);

    /* with max_stale the record lives refresh_at + max_stale (the record in the cache is
     * past its refresh time, so the new process's tick loads it and then fetches) */
    o.max_stale = SEC(7200);
    clock_add(SEC(700));
    env_make(&c, p, &o, VJWT_KS_DISCOVERY, DISC, NULL);
    vjwt_store_tick(c.st, p);
    assert_int_equal(calls(JWKS), 5);
    assert_non_null(mc_peek(p, &g_cache, "vjwt:k:", &expiry));
    assert_true(expiry == fake_now() + SEC(600) + SEC(7200));

    /* a different source has a different record */
    clock_add(SEC(61));
    serve(DISC2, disc_text(p, ISS2, JWKS2), -1);
    serve(JWKS2, jwks_text(p, jwk(p, g_rsa2, "x2"), NULL), -1);
    env_make(&c, p, &o, VJWT_KS_DISCOVERY, DISC2, NULL);
    assert_kids(p, &c, "x2");
    assert_int_equal(calls(JWKS2), 1);
}

/* ---- authenticated shared values (ValidateJWTCacheSecret) ------------------------------ */

static const unsigned char SECRET[] = "0123456789abcdef-cache-secret";

static vjwt_store_opts_t sealed_opts(void)
{
    vjwt_store_opts_t o = base_opts(1);
    o.cache_secret = SECRET;
    o.cache_secret_len = sizeof(SECRET) - 1;
    return o;
}

/* The cache key the store uses for prefix ("vjwt:k:" ...) of a (kind, url) source. */
static const char *src_key(apr_pool_t *p, const char *prefix, vjwt_ks_kind_e kind, const char *url)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0, i;
    char hex[33];
    const char *in = apr_psprintf(p, "%d %s", (int)kind, url);
    EVP_Digest(in, strlen(in), md, &n, EVP_sha256(), NULL);
    for (i = 0; i < 16; i++) {
        apr_snprintf(hex + 2 * i, 3, "%02x", md[i]);
    }
    return apr_pstrcat(p, prefix, hex, NULL);
}

static void mc_put(mcache_t *c, apr_pool_t *p, const char *key, const char *val)
{
    assert_int_equal(mc_set(c, p, key, val, strlen(val), T0 + SEC(86400 * 30)), APR_SUCCESS);
}

static const char *mc_value(apr_pool_t *p, mcache_t *c, const char *key)
{
    centry_t *e;
    const char *v = NULL;
    pthread_mutex_lock(&c->data);
    e = mc_find(c, key);
    if (e) {
        v = apr_pstrmemdup(p, e->val, e->len);
    }
    pthread_mutex_unlock(&c->data);
    return v;
}

/* seal/open: a round trip; the name, the key and every byte are bound. */
static void t_cache_record_seal(void **state)
{
    apr_pool_t *p = *state;
    unsigned char k1[VJWT_CACHE_MAC_LEN], k2[VJWT_CACHE_MAC_LEN];
    const char *rec, *val = NULL;
    char *bad;
    apr_size_t len = 0, vlen = 0, i;
    vjwt_cache_mac_key(k1, SECRET, sizeof(SECRET) - 1);
    vjwt_cache_mac_key(k2, (const unsigned char *)"another secret of 16+ bytes", 27);
    assert_memory_not_equal(k1, k2, sizeof(k1));

    rec = vjwt_cache_record_seal(p, k1, "vjwt:k:1", "{\"v\":1}", 7, &len);
    assert_int_equal(len, 7 + VJWT_CACHE_SEAL_OVER);
    assert_int_equal(strncmp(rec, "vjwt1.", 6), 0);
    assert_int_equal(vjwt_cache_record_open(k1, "vjwt:k:1", rec, len, &val, &vlen), APR_SUCCESS);
    assert_int_equal(vlen, 7);
    assert_memory_equal(val, "{\"v\":1}", 7);
    /* another name (a record moved to another key), another key, no seal */
    assert_int_equal(vjwt_cache_record_open(k1, "vjwt:k:2", rec, len, &val, &vlen), APR_EGENERAL);
    assert_int_equal(vjwt_cache_record_open(k2, "vjwt:k:1", rec, len, &val, &vlen), APR_EGENERAL);
    assert_int_equal(vjwt_cache_record_open(k1, "vjwt:k:1", "{\"v\":1}", 7, &val, &vlen),
                     APR_EGENERAL);
    /* every byte flipped, every length cut */
    for (i = 0; i < len; i++) {
        bad = apr_pstrmemdup(p, rec, len);
        bad[i] ^= 0x01;
        assert_int_equal(vjwt_cache_record_open(k1, "vjwt:k:1", bad, len, &val, &vlen),
                         APR_EGENERAL);
        assert_int_equal(vjwt_cache_record_open(k1, "vjwt:k:1", rec, i, &val, &vlen), APR_EGENERAL);
    }
    /* an empty value seals too */
    rec = vjwt_cache_record_seal(p, k1, "n", "", 0, &len);
    assert_int_equal(vjwt_cache_record_open(k1, "n", rec, len, &val, &vlen), APR_SUCCESS);
    assert_int_equal(vlen, 0);
    /* no key: values pass through */
    rec = vjwt_cache_record_seal(p, NULL, "n", "abc", 3, &len);
    assert_string_equal(rec, "abc");
    assert_int_equal(vjwt_cache_record_open(NULL, "n", "abc", 3, &val, &vlen), APR_SUCCESS);
    assert_int_equal(vlen, 3);
}

/* With a secret every value in the cache is sealed; stores with the same secret share. */
static void t_sealed_share(void **state)
{
    apr_pool_t *p = *state;
    vjwt_store_opts_t o = sealed_opts();
    env_t a, b;
    const char *rec;
    int mark = log_mark();
    std_idp(p);
    env_make(&a, p, &o, VJWT_KS_DISCOVERY, DISC, NULL);
    assert_kids(p, &a, "r1 e1");
    rec = mc_value(p, &g_cache, src_key(p, "vjwt:k:", VJWT_KS_DISCOVERY, DISC));
    assert_non_null(rec);
    assert_int_equal(strncmp(rec, "vjwt1.", 6), 0);
    assert_int_equal(
        strncmp(mc_value(p, &g_cache, src_key(p, "vjwt:a:", VJWT_KS_DISCOVERY, DISC)), "vjwt1.", 6),
        0);
    assert_int_equal(
        strncmp(mc_value(p, &g_cache, src_key(p, "vjwt:g:", VJWT_KS_DISCOVERY, DISC)), "vjwt1.", 6),
        0);
    clock_add(SEC(1));
    env_make(&b, p, &o, VJWT_KS_DISCOVERY, DISC, NULL);
    assert_kids(p, &b, "r1 e1");
    assert_int_equal(calls(JWKS), 1);
    assert_int_equal(log_count(TAG_FORGED), 0);
    assert_logged(mark, TAG_SHARED, "taken from the shared cache");
}

/* A record planted by whoever can write the cache (plain, or sealed with another secret)
 * is ignored: the store fetches the keys itself, and says so once. */
static void t_forged_record_ignored(void **state)
{
    apr_pool_t *p = *state;
    vjwt_store_opts_t o = sealed_opts(), other = sealed_opts();
    env_t a, b, c;
    vjwt_keys_view_t v;
    const char *rk = src_key(p, "vjwt:k:", VJWT_KS_DISCOVERY, DISC),
               *gk = src_key(p, "vjwt:g:", VJWT_KS_DISCOVERY, DISC),
               *ak = src_key(p, "vjwt:a:", VJWT_KS_DISCOVERY, DISC);
    const char *forged = apr_psprintf(
        p,
        "{\"v\":1,\"fetched\":%" APR_TIME_T_FMT ",\"refresh_at\":%" APR_TIME_T_FMT
        ",\"issuer\":\"" ISS "\",\"jwks\":%s}",
        T0, T0 + SEC(86400),
        vjwt_json_text(p, vjwt_json_own(p, json_string(jwks_text(p, jwk(p, g_rsa3, "r1"), NULL)))));
    int mark = log_mark();
    std_idp(p);

    /* the attacker's record, unsealed, in an empty cache */
    mc_put(&g_cache, p, rk, forged);
    env_make(&a, p, &o, VJWT_KS_DISCOVERY, DISC, NULL);
    collect(&a, p, &v);
    assert_string_equal(kids(p, &v), "r1 e1");
    assert_int_equal(EVP_PKEY_eq(key_at(&v, 0)->pkey, g_rsa1), 1);
    assert_int_equal(calls(JWKS), 1);
    assert_int_equal(log_count(TAG_FORGED), 1);
    assert_logged(mark, TAG_FORGED, DISC);
    /* the store replaced it with its own sealed record */
    assert_int_equal(strncmp(mc_value(p, &g_cache, rk), "vjwt1.", 6), 0);

    /* sealed with another secret, and the generation entry planted too: the next process
     * fetches itself (after the floor); a tick that reads the generation entry again does
     * not log again */
    other.cache_secret = (const unsigned char *)"the attacker's own secret";
    other.cache_secret_len = 25;
    {
        unsigned char k[VJWT_CACHE_MAC_LEN];
        apr_size_t len;
        vjwt_cache_mac_key(k, other.cache_secret, other.cache_secret_len);
        mc_put(&g_cache, p, rk, vjwt_cache_record_seal(p, k, rk, forged, strlen(forged), &len));
        mc_put(&g_cache, p, gk, vjwt_cache_record_seal(p, k, gk, "99999999999999999", 17, &len));
        mc_put(&g_cache, p, ak, "1 failed");
    }
    clock_add(SEC(61));
    mark = log_mark();
    env_make(&b, p, &o, VJWT_KS_DISCOVERY, DISC, NULL);
    collect(&b, p, &v);
    assert_string_equal(kids(p, &v), "r1 e1");
    assert_int_equal(EVP_PKEY_eq(key_at(&v, 0)->pkey, g_rsa1), 1);
    assert_int_equal(calls(JWKS), 2);
    assert_true(log_has(mark, TAG_FORGED, rk));
    assert_true(log_has(mark, TAG_FORGED, ak));
    mc_put(&g_cache, p, gk, "99999999999999999");
    clock_add(SEC(1));
    vjwt_store_tick(b.st, p);
    clock_add(SEC(1));
    vjwt_store_tick(b.st, p);
    vjwt_store_tick(b.st, p);
    assert_int_equal(calls(JWKS), 2);
    assert_int_equal(log_count(TAG_FORGED), 4); /* 1 for a, rk + ak + gk once for b */
    assert_kids(p, &b, "r1 e1");

    /* a genuine record of another source, moved to this source's key, is refused */
    serve(DISC2, disc_text(p, ISS2, JWKS2), -1);
    serve(JWKS2, jwks_text(p, jwk(p, g_rsa2, "x2"), NULL), -1);
    clock_add(SEC(61));
    env_make(&c, p, &o, VJWT_KS_DISCOVERY, DISC2, NULL);
    assert_kids(p, &c, "x2");
    mc_put(&g_cache, p, rk, mc_value(p, &g_cache, src_key(p, "vjwt:k:", VJWT_KS_DISCOVERY, DISC2)));
    clock_add(SEC(61));
    mark = log_mark();
    env_make(&c, p, &o, VJWT_KS_DISCOVERY, DISC, NULL);
    assert_kids(p, &c, "r1 e1");
    assert_int_equal(calls(JWKS), 3);
    assert_true(log_has(mark, TAG_FORGED, rk));
}

/* Without a secret the values are the plain records (as before) and a store with a secret
 * does not take them. */
static void t_unsealed_not_taken_by_sealed(void **state)
{
    apr_pool_t *p = *state;
    vjwt_store_opts_t plain = base_opts(1), o = sealed_opts();
    env_t a, b;
    const char *rec;
    std_idp(p);
    env_make(&a, p, &plain, VJWT_KS_DISCOVERY, DISC, NULL);
    assert_kids(p, &a, "r1 e1");
    rec = mc_value(p, &g_cache, src_key(p, "vjwt:k:", VJWT_KS_DISCOVERY, DISC));
    assert_int_equal(rec[0], '{');
    assert_int_equal(log_count(TAG_FORGED), 0);
    clock_add(SEC(61));
    env_make(&b, p, &o, VJWT_KS_DISCOVERY, DISC, NULL);
    assert_kids(p, &b, "r1 e1");
    assert_int_equal(calls(JWKS), 2);
    assert_int_equal(log_count(TAG_FORGED), 1); /* the record (the attempt marker expired) */
}

/* A fetched set with standard-base64 or padded members loads, and that is logged once per
 * fetched set; the view says where each key came from. */
static void t_lenient_set_and_origins(void **state)
{
    apr_pool_t *p = *state;
    vjwt_store_opts_t o = base_opts(0);
    env_t e;
    vjwt_keys_view_t v;
    json_t *k1 = jwk(p, g_rsa1, "r1");
    const char *n = json_string_value(json_object_get(k1, "n"));
    apr_array_header_t *stat = apr_array_make(p, 1, sizeof(const vjwt_key_t *));
    int mark = log_mark();
    serve(DISC, disc_text(p, ISS, JWKS), -1);
    json_object_set_new(k1, "n", json_string(apr_pstrcat(p, n, "==", NULL)));
    serve(JWKS, jwks_text(p, k1, jwk(p, g_ec1, "e1"), NULL), -1);
    serve(JWKS2, jwks_text(p, jwk(p, g_rsa2, "x2"), NULL), -1);
    e.reg = apr_array_make(p, 2, sizeof(vjwt_ks_source_t *));
    e.srcs = apr_array_make(p, 2, sizeof(vjwt_ks_source_t *));
    APR_ARRAY_PUSH(e.srcs, vjwt_ks_source_t *) =
        vjwt_ks_source_make(p, e.reg, VJWT_KS_DISCOVERY, DISC);
    APR_ARRAY_PUSH(e.srcs, vjwt_ks_source_t *) =
        vjwt_ks_source_make(p, e.reg, VJWT_KS_JWKS_URL, JWKS2);
    assert_int_equal(vjwt_store_make(&e.st, p, &o, e.reg), APR_SUCCESS);
    {
        vjwt_keys_view_t v0;
        memset(&v0, 0, sizeof(v0));
        vjwt_store_collect(e.st, p, e.srcs, NULL, &v0);
        APR_ARRAY_PUSH(stat, const vjwt_key_t *) = APR_ARRAY_IDX(v0.keys, 2, const vjwt_key_t *);
    }
    memset(&v, 0, sizeof(v));
    vjwt_store_collect(e.st, p, e.srcs, stat, &v);
    assert_string_equal(kids(p, &v), "x2 r1 e1 x2");
    assert_int_equal(EVP_PKEY_eq(key_at(&v, 1)->pkey, g_rsa1), 1);
    assert_int_equal(log_count(TAG_LENIENT), 1);
    assert_logged(mark, TAG_LENIENT, JWKS);
    assert_int_equal(v.key_issuers->nelts, 4);
    assert_null(APR_ARRAY_IDX(v.key_issuers, 0, const char *));
    assert_string_equal(APR_ARRAY_IDX(v.key_issuers, 1, const char *), ISS);
    assert_string_equal(APR_ARRAY_IDX(v.key_issuers, 2, const char *), ISS);
    assert_string_equal(APR_ARRAY_IDX(v.key_issuers, 3, const char *), "");
}

/* Numbers read back from the shared cache are bounded before any arithmetic: a planted
 * attempt marker or record with huge, negative or malformed times is ignored (it neither
 * overflows nor blocks fetching for ever, nor wins over every later fetch). */
static void t_planted_cache_numbers(void **state)
{
    apr_pool_t *p = *state;
    vjwt_store_opts_t o = base_opts(1);
    env_t a, b;
    vjwt_keys_view_t v;
    static const char *markers[] = {
        "9223372036854775807",
        "-9223372036854775808",
        "99999999999999999999999",
        "-1",
        "1e999",
        "NaN",
        "",
        "4102444800000000 failed", /* 2100-01-01 */
    };
    static const char *records[] = {
        "{\"v\":1,\"fetched\":9223372036854775807,\"refresh_at\":9223372036854775807,"
        "\"jwks\":\"%s\"}",
        "{\"v\":1,\"fetched\":1,\"refresh_at\":-9223372036854775807,\"jwks\":\"%s\"}",
        "{\"v\":1,\"fetched\":4102444800000000,\"refresh_at\":4102444800000000,"
        "\"jwks\":\"%s\"}",
        "{\"v\":1,\"fetched\":1700000000000000,\"refresh_at\":9223372036854775807,"
        "\"jwks\":\"%s\"}",
    };
    const char *evil, *esc;
    size_t i;
    std_idp(p);
    serve(JWKS, jwks_text(p, jwk(p, g_rsa1, "r1"), NULL), -1);
    env_make(&a, p, &o, VJWT_KS_DISCOVERY, DISC, NULL);
    assert_kids(p, &a, "r1");
    for (i = 0; i < sizeof(markers) / sizeof(markers[0]); i++) {
        int before = calls(JWKS);
        clock_add(SEC(61));
        mc_plant_all(&g_cache, "vjwt:a:", markers[i]);
        /* past the floor, an unknown kid fetches: the planted marker does not hold it back */
        vjwt_store_refetch_for_kid(a.st, p, a.srcs, apr_psprintf(p, "ghost%d", (int)i));
        if (calls(JWKS) != before + 1) {
            fail_msg("attempt marker '%s' blocked the fetch", markers[i]);
        }
    }
    /* records: a new process ignores them and fetches itself */
    evil = jwks_text(p, jwk(p, g_rsa3, "planted"), NULL);
    {
        /* the JWKS text as a JSON string: escape the quotes */
        json_t *js = json_string(evil);
        char *d = json_dumps(js, JSON_ENCODE_ANY);
        esc = apr_pstrndup(p, d + 1, strlen(d) - 2);
        free(d);
        json_decref(js);
    }
    for (i = 0; i < sizeof(records) / sizeof(records[0]); i++) {
        int before = calls(JWKS);
        clock_add(SEC(61));
        mc_plant_all(&g_cache, "vjwt:k:", apr_psprintf(p, records[i], esc));
        mc_plant_all(&g_cache, "vjwt:g:", "9223372036854775807");
        env_make(&b, p, &o, VJWT_KS_DISCOVERY, DISC, NULL);
        collect(&b, p, &v);
        if (strcmp(kids(p, &v), "r1") != 0 || calls(JWKS) != before + 1) {
            fail_msg("record %d: kids '%s', %d fetch(es)", (int)i, kids(p, &v),
                     calls(JWKS) - before);
        }
        assert_logged(0, 210, "out of range");
        /* the tick of a process with keys does not take it either */
        vjwt_store_tick(a.st, p);
        assert_kids(p, &a, "r1");
    }
}

/* ---- failures ------------------------------------------------------------------------- */

typedef struct {
    const char *what;
    const char *disc; /* NULL: fails with HTTP 500 */
    const char *jwks; /* NULL: fails with a timeout */
    const char *logged;
} fail_case_t;

/* C73: a failed refresh keeps the previous keys and issuer, and is logged (201). */
static void t_failed_refresh_keeps_keys(void **state)
{
    apr_pool_t *p = *state;
    vjwt_store_opts_t o = base_opts(0);
    env_t e;
    vjwt_keys_view_t v;
    size_t i;
    fail_case_t cases[7];
    size_t n = 0;
    std_idp(p);
    cases[n++] = (fail_case_t){"discovery 500", NULL, "x", "HTTP status 500"};
    cases[n++] = (fail_case_t){"JWKS timeout", disc_text(p, ISS, JWKS), NULL, "timed out"};
    cases[n++] = (fail_case_t){"JWKS without keys", disc_text(p, ISS, JWKS), "{\"kid\":\"x\"}",
                               "no \"keys\" array"};
    cases[n++] = (fail_case_t){"JWKS empty", disc_text(p, ISS, JWKS), "{\"keys\":[]}",
                               "no usable signing key"};
    cases[n++] = (fail_case_t){"discovery not JSON", "[1,2]", "x", "not a JSON object"};
    cases[n++] = (fail_case_t){"discovery without issuer", "{\"jwks_uri\":\"" JWKS "\"}", "x",
                               "no 'issuer' string"};
    cases[n++] = (fail_case_t){"discovery without jwks_uri", "{\"issuer\":\"" ISS "\"}", "x",
                               "no 'jwks_uri' string"};
    env_make(&e, p, &o, VJWT_KS_DISCOVERY, DISC, NULL);
    assert_kids(p, &e, "r1 e1");

    for (i = 0; i < n; i++) {
        int before = total_calls(), mark = log_mark();
        if (cases[i].disc) {
            serve(DISC, cases[i].disc, -1);
        }
        else {
            fail_url(DISC, 500, "GET " DISC ": HTTP status 500");
        }
        if (cases[i].jwks) {
            serve(JWKS, cases[i].jwks, -1);
        }
        else {
            fail_url(JWKS, 0, "GET " JWKS ": Operation timed out after 10000 milliseconds");
        }
        clock_add(SEC(3601));
        vjwt_store_tick(e.st, p);
        if (total_calls() == before) {
            fail_msg("%s: no fetch attempted", cases[i].what);
        }
        if (!log_has(mark, TAG_FAILED, cases[i].logged) ||
            !log_has(mark, TAG_FAILED, "keeping the keys fetched") ||
            !log_has(mark, TAG_FAILED, "fetching keys from " DISC " failed")) {
            fail_msg("%s: log %s", cases[i].what, log_last(TAG_FAILED));
        }
        assert_int_equal(log_last_level(TAG_FAILED), VJWT_LOG_WARN);
        collect(&e, p, &v);
        if (strcmp(kids(p, &v), "r1 e1") != 0 || strcmp(issuers(p, &v), ISS) != 0 ||
            v.unavailable) {
            fail_msg("%s: keys [%s] issuers [%s] unavailable %d", cases[i].what, kids(p, &v),
                     issuers(p, &v), v.unavailable);
        }
        /* the next attempt only after the floor */
        before = total_calls();
        clock_add(SEC(30));
        vjwt_store_tick(e.st, p);
        assert_int_equal(vjwt_store_refetch_for_kid(e.st, p, e.srcs, "nope"), 0);
        assert_int_equal(total_calls(), before);
    }

    /* the jwks_uri of the discovery document must pass the URL rules too */
    {
        int mark = log_mark();
        serve(DISC, disc_text(p, ISS, "http://idp.test/keys"), -1);
        serve(JWKS, jwks_text(p, jwk(p, g_rsa2, "r2"), NULL), -1);
        clock_add(SEC(3601));
        vjwt_store_tick(e.st, p);
        assert_logged(mark, TAG_FAILED, "jwks_uri 'http://idp.test/keys' uses plain http");
        assert_kids(p, &e, "r1 e1");
    }

    /* a failed unknown-kid refetch keeps the keys too and returns 0 */
    clock_add(SEC(61));
    assert_int_equal(vjwt_store_refetch_for_kid(e.st, p, e.srcs, "r2"), 0);
    assert_kids(p, &e, "r1 e1");

    /* the provider is back: the next due refresh replaces the keys */
    serve(DISC, disc_text(p, ISS2, JWKS), -1);
    clock_add(SEC(61));
    vjwt_store_tick(e.st, p);
    collect(&e, p, &v);
    assert_string_equal(kids(p, &v), "r2");
    assert_string_equal(issuers(p, &v), ISS2);
}

/* C73 for a JWKS that is not JSON, or that holds two RSA keys with one kid: the refresh
 * fails, is logged with the parser's reason, and the keys stay.
 *
 * Regression test (fixed): snapshot_build
 * passes its own snapshot pool to vjwt_jwks_parse, which allocates the error text there
 * ("JWKS: <why>", "JWKS holds two RSA keys with kid X"), then destroys that pool on failure;
 * source_fetch then formats the freed text (vjwt_keystore.c, "%s: %s", jwks_url, *err):
 * a use-after-free whenever the provider serves a body that is not JSON (an HTML error page
 * with status 200) or a set with a duplicate kid. */
static void t_bad_jwks_text(void **state)
{
    apr_pool_t *p = *state;
    vjwt_store_opts_t o = base_opts(0);
    env_t e;
    static const char *logged[] = {"JWKS: ", "JWKS holds two RSA keys with kid d1"};
    const char *bodies[2];
    int i;
    std_idp(p);
    bodies[0] = "<html>oops</html>";
    bodies[1] = jwks_text(p, jwk(p, g_rsa1, "d1"), jwk(p, g_rsa2, "d1"), NULL);
    env_make(&e, p, &o, VJWT_KS_DISCOVERY, DISC, NULL);
    assert_kids(p, &e, "r1 e1");
    for (i = 0; i < 2; i++) {
        int mark = log_mark();
        serve(JWKS, bodies[i], -1);
        clock_add(SEC(3601));
        vjwt_store_tick(e.st, p);
        assert_int_equal(calls(JWKS), 2 + i);
        assert_logged(mark, TAG_FAILED, apr_pstrcat(p, JWKS ": ", logged[i], NULL));
        assert_kids(p, &e, "r1 e1");
    }
}

/* C74: never fetched and the provider is down: unavailable, attempts only once per floor,
 * and the keys come without a restart once the provider answers. */
static void t_never_fetched(void **state)
{
    apr_pool_t *p = *state;
    vjwt_store_opts_t o = base_opts(0);
    env_t e;
    vjwt_keys_view_t v;
    apr_array_header_t *stat = NULL;
    const char *err = NULL, *txt;
    std_idp(p);
    fail_url(DISC, 0, "GET " DISC ": Could not resolve host: idp.test");
    env_make(&e, p, &o, VJWT_KS_DISCOVERY, DISC, NULL);

    collect(&e, p, &v);
    assert_int_equal(v.unavailable, 1);
    assert_int_equal(v.keys->nelts, 0);
    assert_int_equal(v.issuers->nelts, 0);
    assert_int_equal(calls(DISC), 1);
    assert_int_equal(calls(JWKS), 0);
    assert_logged(0, TAG_FAILED, "Could not resolve host");
    assert_logged(0, TAG_FAILED, "no keys yet");
    assert_logged(0, TAG_FAILED, "next attempt in 60 s");
    assert_int_equal(vjwt_store_retry_after(e.st), 60);

    /* within the floor: no attempt from requests, unknown kids or the background */
    clock_add(SEC(30));
    collect(&e, p, &v);
    assert_int_equal(v.unavailable, 1);
    assert_int_equal(vjwt_store_refetch_for_kid(e.st, p, e.srcs, "k"), 0);
    vjwt_store_tick(e.st, p);
    assert_int_equal(calls(DISC), 1);

    /* static keys still serve next to the unavailable source (C76) */
    txt = jwks_text(p, jwk(p, g_rsa3, "s1"), NULL);
    assert_int_equal(vjwt_jwks_parse(&stat, p, txt, strlen(txt), NULL, &err), APR_SUCCESS);
    vjwt_store_collect(e.st, p, e.srcs, stat, &v);
    assert_string_equal(kids(p, &v), "s1");
    assert_int_equal(v.unavailable, 1);

    /* after the floor the background tries again (still down) */
    clock_add(SEC(31));
    vjwt_store_tick(e.st, p);
    assert_int_equal(calls(DISC), 2);
    assert_int_equal(log_count(TAG_FAILED), 2);

    /* provider back; the next request after the floor loads the keys */
    std_idp(p);
    clock_add(SEC(59));
    collect(&e, p, &v);
    assert_int_equal(v.unavailable, 1);
    assert_int_equal(calls(DISC), 2);
    clock_add(SEC(2));
    collect(&e, p, &v);
    assert_int_equal(v.unavailable, 0);
    assert_string_equal(kids(p, &v), "r1 e1");
    assert_string_equal(issuers(p, &v), ISS);
    assert_int_equal(calls(DISC), 3);
}

/* C74 with a shared cache: a request inside the refetch floor after a failed first fetch is
 * answered at once (503), it does not wait.
 *
 * Regression test (fixed): with a
 * shared cache, UPDATE_COLD with no keys and a refused attempt claim polls the record until
 * claimed_at + 2 * fetch.timeout_ms, even when the claimed attempt has already failed, so
 * every request during a provider outage waits up to 20 s (default timeout) in the first
 * 20 s of each refetch interval, holding the source's fetch mutex.
 * docs/conformance.md#discovery-keys: a request within the refetch interval of a failed attempt
 * does not wait; it is answered at once. */
static void t_never_fetched_shared_no_wait(void **state)
{
    apr_pool_t *p = *state;
    vjwt_store_opts_t o = base_opts(1);
    env_t e;
    vjwt_keys_view_t v;
    apr_time_t t;
    long waited_ms;
    fail_url(DISC, 503, "GET " DISC ": HTTP status 503");
    o.fetch.timeout_ms = 1000;
    env_make(&e, p, &o, VJWT_KS_DISCOVERY, DISC, NULL);
    clock_drift(1); /* the store polls the clock while it waits: let it move */
    collect(&e, p, &v);
    assert_int_equal(v.unavailable, 1);
    assert_int_equal(calls(DISC), 1);

    t = real_usec();
    collect(&e, p, &v);
    waited_ms = (long)((real_usec() - t) / 1000);
    clock_drift(0);
    assert_int_equal(v.unavailable, 1);
    assert_int_equal(calls(DISC), 1);
    if (waited_ms > 300) {
        fail_msg("a request inside the refetch floor after a failed fetch waited "
                 "%ld ms (fetch.timeout_ms 1000) instead of answering at once",
                 waited_ms);
    }
}

/* Another process is fetching right now: a cold process waits for its record (bounded)
 * instead of fetching too. */
static void t_cold_waits_for_other_fetch(void **state)
{
    apr_pool_t *p = *state;
    vjwt_store_opts_t o = base_opts(1);
    env_t a, b;
    vjwt_keys_view_t v;
    apr_time_t t;
    long waited_ms;
    std_idp(p);
    o.fetch.timeout_ms = 300;
    env_make(&a, p, &o, VJWT_KS_DISCOVERY, DISC, NULL);
    env_make(&b, p, &o, VJWT_KS_DISCOVERY, DISC, NULL);
    /* A has claimed the attempt and its record is not there (yet): B, cold, must not fetch
     * within the floor; it polls for the record, at most 2 * timeout after A's claim */
    assert_kids(p, &a, "r1 e1");
    mc_poke_all(&g_cache, "vjwt:k:", "{}");
    clock_drift(1);
    t = real_usec();
    collect(&b, p, &v); /* waits up to claimed_at + timeout for a record, none comes */
    waited_ms = (long)((real_usec() - t) / 1000);
    clock_drift(0);
    /* B has waited its time for A's attempt: it does not fetch as well */
    assert_int_equal(v.unavailable, 1);
    assert_int_equal(calls(JWKS), 1);
    assert_true(waited_ms < 300 + 500);
}

/* A record that can never be stored (too large for the cache, evicted at once): every cold
 * process fetches by itself, once per refetch interval, instead of answering 503 until the
 * floor ends; a process with keys still respects the server-wide floor for unknown kids. */
static void t_lost_record_cold_fetch(void **state)
{
    apr_pool_t *p = *state;
    vjwt_store_opts_t o = base_opts(1);
    env_t a, b, c;
    vjwt_keys_view_t v;
    std_idp(p);
    o.fetch.timeout_ms = 300;
    env_make(&a, p, &o, VJWT_KS_DISCOVERY, DISC, NULL);
    env_make(&b, p, &o, VJWT_KS_DISCOVERY, DISC, NULL);
    env_make(&c, p, &o, VJWT_KS_DISCOVERY, DISC, NULL);
    assert_kids(p, &a, "r1 e1");
    mc_poke_all(&g_cache, "vjwt:k:", "{}");
    clock_add(SEC(2)); /* A's attempt is long over */
    collect(&b, p, &v);
    assert_int_equal(v.unavailable, 0);
    assert_int_equal(calls(JWKS), 2);
    mc_poke_all(&g_cache, "vjwt:k:", "{}");
    collect(&c, p, &v);
    assert_int_equal(v.unavailable, 0);
    assert_int_equal(calls(JWKS), 3);
    /* B has keys: an unknown kid inside the floor fetches nothing */
    assert_int_equal(vjwt_store_refetch_for_kid(b.st, p, b.srcs, "nope"), 0);
    assert_int_equal(calls(JWKS), 3);
}

/* max_stale: keys older than max_stale are not used (the provider being down). */
static void t_max_stale(void **state)
{
    apr_pool_t *p = *state;
    vjwt_store_opts_t o = base_opts(0);
    env_t e;
    vjwt_keys_view_t v;
    apr_array_header_t *stat = NULL;
    const char *err = NULL, *txt;
    std_idp(p);
    o.refresh = SEC(120);
    o.max_stale = SEC(300);
    env_make(&e, p, &o, VJWT_KS_DISCOVERY, DISC, NULL);
    assert_kids(p, &e, "r1 e1");

    fail_url(DISC, 500, "GET " DISC ": HTTP status 500");
    clock_set(T0 + SEC(121));
    vjwt_store_tick(e.st, p);
    assert_int_equal(calls(DISC), 2);
    clock_set(T0 + SEC(200));
    vjwt_store_tick(e.st, p);
    assert_int_equal(calls(DISC), 3);
    clock_set(T0 + SEC(300));
    collect(&e, p, &v);
    assert_string_equal(kids(p, &v), "r1 e1");
    assert_int_equal(v.unavailable, 0);

    clock_set(T0 + SEC(301));
    collect(&e, p, &v);
    assert_int_equal(v.unavailable, 1);
    assert_int_equal(v.keys->nelts, 0);
    assert_int_equal(v.issuers->nelts, 0);
    txt = jwks_text(p, jwk(p, g_rsa3, "s1"), NULL);
    assert_int_equal(vjwt_jwks_parse(&stat, p, txt, strlen(txt), NULL, &err), APR_SUCCESS);
    vjwt_store_collect(e.st, p, e.srcs, stat, &v);
    assert_string_equal(kids(p, &v), "s1");
    assert_int_equal(v.unavailable, 1);

    /* back: the background refresh brings fresh keys */
    std_idp(p);
    vjwt_store_tick(e.st, p);
    assert_int_equal(calls(DISC), 4);
    collect(&e, p, &v);
    assert_string_equal(kids(p, &v), "r1 e1");
    assert_int_equal(v.unavailable, 0);
}

/* max_stale shorter than the refresh interval, provider healthy: the keys must not run out.
 *
 * Regression test (fixed): refresh_at is
 * fetched + refresh (or max-age), never earlier than fetched + max_stale, and collect does
 * not fetch for a source that has (stale) keys; so with ValidateJWTKeysMaxStale 600 and the
 * default refresh 3600 every request gets 503 KeysUnavailable from 600 s to 3600 s after
 * each fetch although the provider answers. README: max_stale is "how long keys stay usable
 * after their last successful fetch while the provider is down". */
static void t_max_stale_below_refresh(void **state)
{
    apr_pool_t *p = *state;
    vjwt_store_opts_t o = base_opts(0);
    env_t e;
    vjwt_keys_view_t v;
    std_idp(p);
    o.max_stale = SEC(600);
    env_make(&e, p, &o, VJWT_KS_DISCOVERY, DISC, NULL);
    assert_kids(p, &e, "r1 e1");
    clock_set(T0 + SEC(601));
    vjwt_store_tick(e.st, p);
    collect(&e, p, &v);
    if (v.unavailable || strcmp(kids(p, &v), "r1 e1") != 0) {
        fail_msg("provider healthy, max_stale 600 s < refresh 3600 s: at 601 s keys "
                 "[%s], unavailable %d, fetches %d",
                 kids(p, &v), v.unavailable, calls(JWKS));
    }
}

/* ---- key set content ------------------------------------------------------------------- */

/* C77, C79: use:"enc", key_ops without verify and unknown kty are skipped (logged 202),
 * the other keys are kept. */
static void t_skipped_keys(void **state)
{
    apr_pool_t *p = *state;
    vjwt_store_opts_t o = base_opts(0);
    env_t e;
    vjwt_keys_view_t v;
    json_t *unknown = json_pack("{s:s, s:s, s:s}", "kty", "XYZ", "kid", "u1", "x", "AQAB");
    std_idp(p);
    serve(JWKS,
          jwks_text(p, with(jwk(p, g_rsa1, "r1"), "use", json_string("sig")),
                    with(jwk(p, g_rsa2, "enc1"), "use", json_string("enc")),
                    with(jwk(p, g_ec1, "ops1"), "key_ops", json_pack("[s]", "encrypt")), unknown,
                    with(oct_jwk(p, "o-enc"), "use", json_string("enc")),
                    with(jwk(p, g_rsa3, "r3"), "key_ops", json_pack("[s]", "verify")), NULL),
          -1);
    env_make(&e, p, &o, VJWT_KS_DISCOVERY, DISC, NULL);
    collect(&e, p, &v);
    assert_string_equal(kids(p, &v), "r1 r3");
    assert_int_equal(v.unavailable, 0);
    assert_int_equal(log_count(TAG_SKIPPED), 4);
    assert_logged(0, TAG_SKIPPED, JWKS ": key skipped: enc1");
    assert_logged(0, TAG_SKIPPED, "key skipped: ops1");
    assert_logged(0, TAG_SKIPPED, "key skipped: u1");
    assert_logged(0, TAG_SKIPPED, "key skipped: o-enc");
    assert_int_equal(log_last_level(TAG_SKIPPED), VJWT_LOG_WARN);
    assert_logged(0, TAG_LOADED, "2 key(s) [r1 r3]");
}

/* Symmetric keys are never taken from a fetched set. An oct-only set leaves no usable key
 * (202 per key, then 201); oct keys mixed with public keys make the JWKS parser refuse the
 * whole set (vjwt_jwk.c, Wycheproof MixedKeySet), which is a failed fetch (201). */
static void t_oct_keys(void **state)
{
    apr_pool_t *p = *state;
    vjwt_store_opts_t o = base_opts(0);
    env_t e;
    vjwt_keys_view_t v;
    std_idp(p);
    serve(JWKS, jwks_text(p, oct_jwk(p, "o1"), oct_jwk(p, "o2"), NULL), -1);
    env_make(&e, p, &o, VJWT_KS_DISCOVERY, DISC, NULL);
    collect(&e, p, &v);
    assert_int_equal(v.unavailable, 1);
    assert_int_equal(v.keys->nelts, 0);
    assert_int_equal(log_count(TAG_SKIPPED), 2);
    assert_logged(0, TAG_SKIPPED, "o1: symmetric (oct) keys are not accepted");
    assert_logged(0, TAG_SKIPPED, "o2: symmetric (oct) keys are not accepted");
    assert_logged(0, TAG_FAILED, JWKS ": the key set holds no usable signing key");

    /* mixed: refused as a set; previous keys (none here, then r1) are what counts */
    serve(JWKS, jwks_text(p, jwk(p, g_rsa1, "r1"), NULL), -1);
    clock_add(SEC(61));
    assert_kids(p, &e, "r1");
    serve(JWKS, jwks_text(p, jwk(p, g_rsa1, "r1"), oct_jwk(p, "o1"), jwk(p, g_rsa2, "r2"), NULL),
          -1);
    clock_add(SEC(3601));
    vjwt_store_tick(e.st, p);
    assert_logged(0, TAG_FAILED, "mixes symmetric (oct) and asymmetric keys");
    collect(&e, p, &v);
    assert_string_equal(kids(p, &v), "r1");
}

/* C75: two discovery sources both give keys and issuers; one failing does not hide the
 * other. */
static void t_two_sources(void **state)
{
    apr_pool_t *p = *state;
    vjwt_store_opts_t o = base_opts(0);
    env_t e;
    vjwt_keys_view_t v;
    std_idp(p);
    serve(DISC2, disc_text(p, ISS2, JWKS2), -1);
    serve(JWKS2, jwks_text(p, jwk(p, g_rsa2, "x1"), jwk(p, g_rsa3, "x2"), NULL), -1);
    env_make(&e, p, &o, VJWT_KS_DISCOVERY, DISC, DISC2);
    collect(&e, p, &v);
    assert_string_equal(kids(p, &v), "r1 e1 x1 x2");
    assert_string_equal(issuers(p, &v), ISS " " ISS2);
    assert_int_equal(v.unavailable, 0);
    assert_int_equal(calls(DISC), 1);
    assert_int_equal(calls(DISC2), 1);

    /* a policy may use only one of them */
    {
        apr_array_header_t *one = apr_array_make(p, 1, sizeof(vjwt_ks_source_t *));
        APR_ARRAY_PUSH(one, vjwt_ks_source_t *) = APR_ARRAY_IDX(e.srcs, 1, vjwt_ks_source_t *);
        vjwt_store_collect(e.st, p, one, NULL, &v);
        assert_string_equal(kids(p, &v), "x1 x2");
        assert_string_equal(issuers(p, &v), ISS2);
    }

    /* one source whose provider never answered: the other still serves */
    {
        env_t f;
        fail_url(DISC2 "?p=down", 0, "connection refused");
        env_make(&f, p, &o, VJWT_KS_DISCOVERY, DISC2 "?p=down", DISC);
        collect(&f, p, &v);
        assert_string_equal(kids(p, &v), "r1 e1");
        assert_string_equal(issuers(p, &v), ISS);
        assert_int_equal(v.unavailable, 1);
    }

    /* an unknown kid refetches every source that is past its floor */
    clock_add(SEC(61));
    assert_int_equal(vjwt_store_refetch_for_kid(e.st, p, e.srcs, "zz"), 1);
    assert_int_equal(calls(DISC), 3);
    assert_int_equal(calls(DISC2), 2);
}

/* ---- snapshot lifetime ----------------------------------------------------------------- */

/* A reader's keys stay valid while it holds them, across refreshes that replace the
 * snapshot; they go when the reader's pool goes (valgrind checks both). */
static void t_snapshot_lifetime(void **state)
{
    apr_pool_t *p = *state;
    vjwt_store_opts_t o = base_opts(0);
    env_t e;
    vjwt_keys_view_t va, vb, vc;
    apr_pool_t *ra, *rb, *rc;
    int i;
    std_idp(p);
    env_make(&e, p, &o, VJWT_KS_DISCOVERY, DISC, NULL);
    apr_pool_create(&ra, p);
    collect(&e, ra, &va);
    assert_string_equal(kids(p, &va), "r1 e1");

    /* replaced twice while A holds the first snapshot */
    serve(JWKS, jwks_text(p, jwk(p, g_rsa2, "r2"), NULL), -1);
    clock_add(SEC(3601));
    vjwt_store_tick(e.st, p);
    apr_pool_create(&rb, p);
    collect(&e, rb, &vb);
    assert_string_equal(kids(p, &vb), "r2");
    serve(JWKS, jwks_text(p, jwk(p, g_rsa3, "r3"), NULL), -1);
    clock_add(SEC(3601));
    vjwt_store_tick(e.st, p);
    assert_int_equal(calls(JWKS), 3);

    /* the old keys are intact */
    for (i = 0; i < 2; i++) {
        assert_string_equal(kids(p, &va), "r1 e1");
        assert_string_equal(vjwt_key_describe(p, key_at(&va, 0)), "RSA 2048");
        assert_string_equal(vjwt_key_describe(p, key_at(&va, 1)), "EC P-256");
        assert_int_equal(EVP_PKEY_eq(key_at(&va, 0)->pkey, g_rsa1), 1);
        assert_int_equal(EVP_PKEY_eq(key_at(&va, 1)->pkey, g_ec1), 1);
        assert_string_equal(APR_ARRAY_IDX(va.issuers, 0, const char *), ISS);
        assert_int_equal(EVP_PKEY_eq(key_at(&vb, 0)->pkey, g_rsa2), 1);
    }
    /* both replaced snapshots wait: A's read section began before either was replaced */
    assert_int_equal(vjwt_store_retired(e.st), 2);
    apr_pool_destroy(ra); /* the first snapshot goes at the next tick; B still reads the second */
    vjwt_store_tick(e.st, p);
    assert_int_equal(vjwt_store_retired(e.st), 1);
    assert_int_equal(EVP_PKEY_eq(key_at(&vb, 0)->pkey, g_rsa2), 1);
    apr_pool_destroy(rb);
    vjwt_store_tick(e.st, p);
    assert_int_equal(vjwt_store_retired(e.st), 0);

    /* a reader holding the current snapshot and the same snapshot twice in one pool */
    apr_pool_create(&rc, p);
    collect(&e, rc, &vc);
    collect(&e, rc, &va);
    serve(JWKS, jwks_text(p, jwk(p, g_rsa1, "r1"), NULL), -1);
    clock_add(SEC(3601));
    vjwt_store_tick(e.st, p);
    assert_int_equal(EVP_PKEY_eq(key_at(&vc, 0)->pkey, g_rsa3), 1);
    assert_int_equal(EVP_PKEY_eq(key_at(&va, 0)->pkey, g_rsa3), 1);
    apr_pool_destroy(rc);
    assert_kids(p, &e, "r1");

    /* a failed refresh does not touch the current snapshot */
    apr_pool_create(&ra, p);
    collect(&e, ra, &va);
    fail_url(JWKS, 500, "HTTP status 500");
    clock_add(SEC(3601));
    vjwt_store_tick(e.st, p);
    apr_pool_destroy(ra);
    assert_kids(p, &e, "r1");
}

/* More read sections than slots: the extra ones are counted and hold back every
 * reclamation until they end. */
static void t_read_section_overflow(void **state)
{
    apr_pool_t *p = *state;
    vjwt_store_opts_t o = base_opts(0);
    env_t e;
    vjwt_store_read_t rd[140];
    vjwt_keys_view_t v;
    apr_pool_t *rp;
    int i;
    std_idp(p);
    env_make(&e, p, &o, VJWT_KS_DISCOVERY, DISC, NULL);
    apr_pool_create(&rp, p);
    collect(&e, rp, &v); /* loads the keys; its read section ends with rp */
    apr_pool_destroy(rp);
    for (i = 0; i < 140; i++) {
        vjwt_store_read_begin(e.st, &rd[i]);
    }
    assert_int_equal(rd[139].slot, -1);
    for (i = 0; i < 139; i++) {
        vjwt_store_read_end(&rd[i]); /* all but one overflowing section */
    }
    serve(JWKS, jwks_text(p, jwk(p, g_rsa2, "r2"), NULL), -1);
    clock_add(SEC(3601));
    vjwt_store_tick(e.st, p);
    vjwt_store_tick(e.st, p);
    assert_int_equal(vjwt_store_retired(e.st), 1);
    vjwt_store_read_end(&rd[139]);
    vjwt_store_read_end(&rd[139]); /* idempotent */
    vjwt_store_tick(e.st, p);
    assert_int_equal(vjwt_store_retired(e.st), 0);
}

/* ---- threads ------------------------------------------------------------------------- */

typedef struct {
    env_t *env;
    int id;
    volatile int *stop;
    int iterations;
    int unavailable_after_warmup;
    int wrong;
} worker_t;

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    apr_pool_t *tp = NULL;
    int i = 0;
    apr_pool_create_unmanaged_ex(&tp, NULL, NULL);
    while (!__atomic_load_n(w->stop, __ATOMIC_SEQ_CST)) {
        apr_pool_t *rp;
        vjwt_keys_view_t v;
        char kid[32];
        apr_pool_create(&rp, tp);
        vjwt_store_collect(w->env->st, rp, w->env->srcs, NULL, &v);
        if (v.unavailable && i > 20) {
            w->unavailable_after_warmup++;
        }
        if (!v.unavailable) {
            int k;
            for (k = 0; k < v.keys->nelts; k++) {
                const vjwt_key_t *key = APR_ARRAY_IDX(v.keys, k, const vjwt_key_t *);
                if (!key->pkey || !key->kid || strcmp(vjwt_key_describe(rp, key), "RSA 2048")) {
                    w->wrong++;
                }
            }
            if (v.issuers->nelts != 1 ||
                strcmp(APR_ARRAY_IDX(v.issuers, 0, const char *), ISS) != 0) {
                w->wrong++;
            }
        }
        snprintf(kid, sizeof(kid), "u-%d-%d", w->id, i % 7);
        if (vjwt_store_refetch_for_kid(w->env->st, rp, w->env->srcs, kid)) {
            vjwt_store_collect(w->env->st, rp, w->env->srcs, NULL, &v);
        }
        if (i % 5 == w->id % 5) {
            vjwt_store_tick(w->env->st, rp);
        }
        apr_pool_destroy(rp);
        i++;
    }
    w->iterations = i;
    apr_pool_destroy(tp);
    return NULL;
}

/* 8 threads (4 per store, two stores sharing the cache) collect, refetch for unknown kids
 * and tick for ~200 ms while the clock runs 2 s per ms (refresh 300 s): no crash, no lock misuse,
 * and fetches bounded by the server-wide floor. */
static void t_threads(void **state)
{
    apr_pool_t *p = *state;
    vjwt_store_opts_t o = base_opts(1);
    env_t a, b;
    pthread_t th[8];
    worker_t w[8];
    volatile int stop = 0;
    apr_time_t start_fake, t0 = real_usec();
    long fake_s;
    int i, total_iter = 0, fetches;
    serve(DISC, disc_text(p, ISS, JWKS), -1);
    serve(JWKS, jwks_text(p, jwk(p, g_rsa1, "r1"), jwk(p, g_rsa2, "r2"), NULL), -1);
    g_fetch.delay_ms = 2;
    o.refresh = SEC(300);
    env_make(&a, p, &o, VJWT_KS_DISCOVERY, DISC, NULL);
    env_make(&b, p, &o, VJWT_KS_DISCOVERY, DISC, NULL);
    start_fake = fake_now();
    for (i = 0; i < 8; i++) {
        w[i] = (worker_t){i < 4 ? &a : &b, i, &stop, 0, 0, 0};
        assert_int_equal(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
    }
    while (real_usec() - t0 < apr_time_from_msec(200)) {
        struct timespec ts = {0, 1000000L};
        nanosleep(&ts, NULL);
        clock_add(SEC(2));
    }
    __atomic_store_n(&stop, 1, __ATOMIC_SEQ_CST);
    for (i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        total_iter += w[i].iterations;
        assert_int_equal(w[i].wrong, 0);
        assert_int_equal(w[i].unavailable_after_warmup, 0);
    }
    fake_s = (long)apr_time_sec(fake_now() - start_fake);
    fetches = calls(JWKS);
    if (getenv("VJWT_TEST_VERBOSE")) {
        fprintf(stderr, "  %d iterations, %d fetches in %ld fake seconds\n", total_iter, fetches,
                fake_s);
    }
    if (fetches > fake_s / 60 + 2 || calls(DISC) != fetches) {
        fail_msg("%d JWKS / %d discovery fetches in %ld fake seconds (floor 60 s)", fetches,
                 calls(DISC), fake_s);
    }
    assert_true(fetches >= 1);
    assert_true(total_iter >= 8);
    assert_int_equal(log_count(TAG_FAILED), 0);
}

/* ---- vjwt_validate_stored: validation against the policy's sources ---------------------- */

/* A compact RS256 JWS of payload with kid, signed by k (a test-only signer). */
static const char *rs256(apr_pool_t *p, EVP_PKEY *k, const char *kid, const char *payload)
{
    const char *hdr = apr_psprintf(p, "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"%s\"}", kid);
    const char *si = apr_pstrcat(p, vjwt_test_b64url(p, hdr, strlen(hdr)), ".",
                                 vjwt_test_b64url(p, payload, strlen(payload)), NULL);
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    unsigned char *sig;
    size_t len = 0;
    assert_non_null(mctx);
    assert_int_equal(EVP_DigestSignInit(mctx, NULL, EVP_sha256(), NULL, k), 1);
    assert_int_equal(EVP_DigestSign(mctx, NULL, &len, (const unsigned char *)si, strlen(si)), 1);
    sig = apr_palloc(p, len);
    assert_int_equal(EVP_DigestSign(mctx, sig, &len, (const unsigned char *)si, strlen(si)), 1);
    EVP_MD_CTX_free(mctx);
    return apr_pstrcat(p, si, ".", vjwt_test_b64url(p, sig, len), NULL);
}

/* A token of the standard provider (iss ISS, valid for an hour around T0). */
static const char *idp_token(apr_pool_t *p, EVP_PKEY *k, const char *kid)
{
    return rs256(p, k, kid,
                 apr_psprintf(p, "{\"iss\":\"%s\",\"sub\":\"alice\",\"exp\":%ld}", ISS,
                              (long)apr_time_sec(T0) + 3600));
}

static double now_s(void)
{
    return (double)fake_now() / APR_USEC_PER_SEC;
}

static apr_status_t stored(apr_pool_t *p, env_t *e, const vjwt_policy_t *pol, const char *tok,
                           vjwt_token_t **t, vjwt_verdict_t *v)
{
    memset(v, 0, sizeof(*v));
    return vjwt_validate_stored(p, e ? e->st : NULL, pol, tok, strlen(tok), now_s(), t, v);
}

static vjwt_policy_t *src_policy(apr_pool_t *p, env_t *e)
{
    vjwt_policy_t *pol = vjwt_policy_make(p);
    pol->sources = e->srcs;
    return pol;
}

/* An unknown kid after the refetch floor refetches and is accepted in the same call. */
static void t_stored_refetch_accepts(void **state)
{
    apr_pool_t *p = *state;
    vjwt_store_opts_t o = base_opts(0);
    env_t e;
    vjwt_policy_t *pol;
    vjwt_token_t *t = NULL;
    vjwt_verdict_t v;
    std_idp(p);
    env_make(&e, p, &o, VJWT_KS_DISCOVERY, DISC, NULL);
    pol = src_policy(p, &e);

    /* cold: the first request loads the keys; the discovered issuer is accepted */
    assert_int_equal(stored(p, &e, pol, idp_token(p, g_rsa1, "r1"), &t, &v), APR_SUCCESS);
    assert_int_equal(v.reason, VJWT_R_OK);
    assert_non_null(t);
    assert_string_equal(t->kid, "r1");
    assert_int_equal(calls(JWKS), 1);

    /* the provider rotates in r2; after the floor the token with r2 refetches and passes */
    serve(JWKS, jwks_text(p, jwk(p, g_rsa1, "r1"), jwk(p, g_ec1, "e1"), jwk(p, g_rsa2, "r2"), NULL),
          -1);
    clock_add(SEC(61));
    t = NULL;
    assert_int_equal(stored(p, &e, pol, idp_token(p, g_rsa2, "r2"), &t, &v), APR_SUCCESS);
    assert_int_equal(v.reason, VJWT_R_OK);
    assert_non_null(t);
    assert_string_equal(t->kid, "r2");
    assert_int_equal(calls(DISC), 2);
    assert_int_equal(calls(JWKS), 2);

    /* out may be NULL */
    assert_int_equal(stored(p, &e, pol, idp_token(p, g_rsa2, "r2"), NULL, &v), APR_SUCCESS);
}

/* Within the refetch floor an unknown kid is judged at once on the keys there are. */
static void t_stored_refetch_floor(void **state)
{
    apr_pool_t *p = *state;
    vjwt_store_opts_t o = base_opts(0);
    env_t e;
    vjwt_policy_t *pol;
    vjwt_token_t *t = NULL;
    vjwt_verdict_t v;
    std_idp(p);
    env_make(&e, p, &o, VJWT_KS_DISCOVERY, DISC, NULL);
    pol = src_policy(p, &e);
    assert_int_equal(stored(p, &e, pol, idp_token(p, g_rsa1, "r1"), &t, &v), APR_SUCCESS);

    serve(JWKS, jwks_text(p, jwk(p, g_rsa1, "r1"), jwk(p, g_ec1, "e1"), jwk(p, g_rsa2, "r2"), NULL),
          -1);
    clock_add(SEC(30));
    assert_int_not_equal(stored(p, &e, pol, idp_token(p, g_rsa2, "r2"), &t, &v), APR_SUCCESS);
    assert_int_equal(v.reason, VJWT_R_TOKEN_SIGNATURE_KEY_NOT_FOUND);
    assert_contains(v.detail, "kid: 'r2'");
    assert_non_null(t);
    assert_int_equal(calls(JWKS), 1);
    assert_int_equal(calls(DISC), 1);

    /* a wrong signature with a known kid is TokenSignatureInvalid, and fetches nothing */
    assert_int_not_equal(stored(p, &e, pol, idp_token(p, g_rsa2, "r1"), &t, &v), APR_SUCCESS);
    assert_int_equal(v.reason, VJWT_R_TOKEN_SIGNATURE_INVALID);
    assert_int_equal(total_calls(), 2);
}

/* A source without keys: a token its keys might verify is KeysUnavailable; a token a
 * configured key verifies is still accepted; a token that fails for another reason keeps
 * its own verdict. */
static void t_stored_keys_unavailable(void **state)
{
    apr_pool_t *p = *state;
    vjwt_store_opts_t o = base_opts(0);
    env_t e;
    vjwt_policy_t *pol;
    vjwt_token_t *t = NULL;
    vjwt_verdict_t v;
    const char *err = NULL, *txt;
    std_idp(p);
    fail_url(DISC, 0, "GET " DISC ": Could not resolve host: idp.test");
    env_make(&e, p, &o, VJWT_KS_DISCOVERY, DISC, NULL);
    pol = src_policy(p, &e);

    assert_int_not_equal(stored(p, &e, pol, idp_token(p, g_rsa1, "r1"), &t, &v), APR_SUCCESS);
    assert_int_equal(v.reason, VJWT_R_KEYS_UNAVAILABLE);
    assert_string_equal(v.detail,
                        "No signing keys from 1 of 1 key source(s): the identity provider was not "
                        "reachable, or its keys are older than ValidateJWTKeysMaxStale.");
    assert_non_null(t);
    assert_int_equal(calls(DISC), 1);

    /* a configured key verifies next to the unavailable source */
    txt = jwks_text(p, jwk(p, g_rsa3, "s1"), NULL);
    assert_int_equal(vjwt_jwks_parse(&pol->keys, p, txt, strlen(txt), NULL, &err), APR_SUCCESS);
    pol->issuers = strs(p, ISS);
    assert_int_equal(stored(p, &e, pol, idp_token(p, g_rsa3, "s1"), &t, &v), APR_SUCCESS);

    assert_int_equal(calls(DISC), 1);

    /* a failure other than the signature keeps its own verdict */
    clock_add(SEC(3601));
    assert_int_not_equal(stored(p, &e, pol, idp_token(p, g_rsa3, "s1"), &t, &v), APR_SUCCESS);
    assert_int_equal(v.reason, VJWT_R_TOKEN_EXPIRED);

    /* a token the configured key does not verify: the source's keys might have */
    clock_add(-SEC(3601));
    assert_int_not_equal(stored(p, &e, pol, idp_token(p, g_rsa1, "s1"), &t, &v), APR_SUCCESS);
    assert_int_equal(v.reason, VJWT_R_KEYS_UNAVAILABLE);
    assert_int_equal(calls(DISC), 2); /* tried again once the floor had passed, still down */
}

/* No sources, or no store: the policy's own keys, nothing fetched, no KeysUnavailable. */
static void t_stored_plain(void **state)
{
    apr_pool_t *p = *state;
    vjwt_store_opts_t o = base_opts(0);
    env_t e;
    vjwt_policy_t *pol = vjwt_policy_make(p);
    vjwt_token_t *t = NULL;
    vjwt_verdict_t v;
    const char *err = NULL, *txt;
    std_idp(p);
    fail_url(DISC, 0, "GET " DISC ": Could not resolve host: idp.test");
    env_make(&e, p, &o, VJWT_KS_DISCOVERY, DISC, NULL);
    txt = jwks_text(p, jwk(p, g_rsa3, "s1"), NULL);
    assert_int_equal(vjwt_jwks_parse(&pol->keys, p, txt, strlen(txt), NULL, &err), APR_SUCCESS);
    pol->issuers = strs(p, ISS);

    /* no sources, with a store */
    assert_int_equal(stored(p, &e, pol, idp_token(p, g_rsa3, "s1"), &t, &v), APR_SUCCESS);
    assert_int_not_equal(stored(p, &e, pol, idp_token(p, g_rsa1, "r1"), &t, &v), APR_SUCCESS);
    assert_int_equal(v.reason, VJWT_R_TOKEN_SIGNATURE_KEY_NOT_FOUND);

    /* sources, but no store */
    pol->sources = e.srcs;
    assert_int_equal(stored(p, NULL, pol, idp_token(p, g_rsa3, "s1"), &t, &v), APR_SUCCESS);
    assert_int_not_equal(stored(p, NULL, pol, idp_token(p, g_rsa1, "r1"), &t, &v), APR_SUCCESS);
    assert_int_equal(v.reason, VJWT_R_TOKEN_SIGNATURE_KEY_NOT_FOUND);
    assert_int_equal(total_calls(), 0);
}

/* The log port (vjwt_log.h): a counting sink. */
typedef struct {
    int is_level_calls;
    int log_calls;
    vjwt_log_level_e max; /* levels up to max are wanted */
    const char *file;
    int line;
    char msg[128];
} count_sink_t;

static int count_is_level(void *baton, vjwt_log_level_e level)
{
    count_sink_t *c = baton;
    c->is_level_calls++;
    return level <= c->max;
}

static void count_log(void *baton, vjwt_log_level_e level, const char *file, int line, int tag,
                      const char *msg)
{
    count_sink_t *c = baton;
    (void)level;
    (void)tag;
    c->log_calls++;
    c->file = file;
    c->line = line;
    snprintf(c->msg, sizeof(c->msg), "%s", msg);
}

/* The core's levels are its own numbers (a sink must map them; they are not httpd's or
 * syslog's), is_level is asked before anything is formatted, and the call site is passed. */
static void t_log_port(void **state)
{
    apr_pool_t *p = *state;
    count_sink_t c = {0};
    vjwt_log_port_t port = {&c, count_is_level, count_log};
    int line;

    assert_int_equal(VJWT_LOG_ERR, 1);
    assert_int_equal(VJWT_LOG_DEBUG, 5);

    c.max = VJWT_LOG_WARN;
    vjwt_log(&port, VJWT_LOG_DEBUG, 12345, p, "debug %d", 1);
    assert_int_equal(c.is_level_calls, 1);
    assert_int_equal(c.log_calls, 0);
    /* not wanted: no pool needed, since nothing is formatted */
    vjwt_log(&port, VJWT_LOG_INFO, 12345, NULL, "info %s", "x");
    assert_int_equal(c.is_level_calls, 2);
    assert_int_equal(c.log_calls, 0);

    line = __LINE__ + 1;
    vjwt_log(&port, VJWT_LOG_WARN, 12345, p, "warn %s %d", "x", 2);
    assert_int_equal(c.is_level_calls, 3);
    assert_int_equal(c.log_calls, 1);
    assert_string_equal(c.msg, "warn x 2");
    assert_string_equal(c.file, __FILE__);
    assert_int_equal(c.line, line);

    /* NULL is_level: everything is wanted */
    port.is_level = NULL;
    vjwt_log(&port, VJWT_LOG_DEBUG, 12345, p, "debug");
    assert_int_equal(c.log_calls, 2);
    assert_int_equal(vjwt_log_is_level(&port, VJWT_LOG_DEBUG), 1);

    /* NULL log: nothing, and is_level is not even asked */
    port.is_level = count_is_level;
    port.log = NULL;
    vjwt_log(&port, VJWT_LOG_ERR, 12345, NULL, "err");
    assert_int_equal(c.is_level_calls, 3);
    assert_int_equal(c.log_calls, 2);
    assert_int_equal(vjwt_log_is_level(NULL, VJWT_LOG_ERR), 0);
}

/* The store logs through the port: with only warnings wanted, a cold start (which logs the
 * loaded keys at notice) asks is_level and never calls log. */
static void t_store_log_port(void **state)
{
    apr_pool_t *p = *state;
    vjwt_store_opts_t o = base_opts(0);
    count_sink_t c = {0};
    env_t e;
    vjwt_keys_view_t v;

    o.log.baton = &c;
    o.log.is_level = count_is_level;
    o.log.log = count_log;
    c.max = VJWT_LOG_WARN;
    std_idp(p);
    env_make(&e, p, &o, VJWT_KS_DISCOVERY, DISC, NULL);
    collect(&e, p, &v);
    assert_int_equal(v.unavailable, 0);
    assert_true(c.is_level_calls >= 1);
    assert_int_equal(c.log_calls, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(t_opts_and_sources, setup, teardown),
        cmocka_unit_test_setup_teardown(t_log_port, setup, teardown),
        cmocka_unit_test_setup_teardown(t_store_log_port, setup, teardown),
        cmocka_unit_test_setup_teardown(t_cold_start, setup, teardown),
        cmocka_unit_test_setup_teardown(t_jwks_url_source, setup, teardown),
        cmocka_unit_test_setup_teardown(t_static_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(t_refresh_tick, setup, teardown),
        cmocka_unit_test_setup_teardown(t_max_age, setup, teardown),
        cmocka_unit_test_setup_teardown(t_refetch_for_kid, setup, teardown),
        cmocka_unit_test_setup_teardown(t_unknown_kid_remembered, setup, teardown),
        cmocka_unit_test_setup_teardown(t_shared_two_stores, setup, teardown),
        cmocka_unit_test_setup_teardown(t_rotation_reaches_other_stores, setup, teardown),
        cmocka_unit_test_setup_teardown(t_planted_cache_numbers, setup, teardown),
        cmocka_unit_test_setup_teardown(t_shared_record, setup, teardown),
        cmocka_unit_test_setup_teardown(t_failed_refresh_keeps_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(t_bad_jwks_text, setup, teardown),
        cmocka_unit_test_setup_teardown(t_never_fetched, setup, teardown),
        cmocka_unit_test_setup_teardown(t_never_fetched_shared_no_wait, setup, teardown),
        cmocka_unit_test_setup_teardown(t_cold_waits_for_other_fetch, setup, teardown),
        cmocka_unit_test_setup_teardown(t_lost_record_cold_fetch, setup, teardown),
        cmocka_unit_test_setup_teardown(t_max_stale, setup, teardown),
        cmocka_unit_test_setup_teardown(t_max_stale_below_refresh, setup, teardown),
        cmocka_unit_test_setup_teardown(t_skipped_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(t_oct_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(t_two_sources, setup, teardown),
        cmocka_unit_test_setup_teardown(t_snapshot_lifetime, setup, teardown),
        cmocka_unit_test_setup_teardown(t_read_section_overflow, setup, teardown),
        cmocka_unit_test_setup_teardown(t_unknown_kids_quiet_second, setup, teardown),
        cmocka_unit_test_setup_teardown(t_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(t_cache_record_seal, setup, teardown),
        cmocka_unit_test_setup_teardown(t_sealed_share, setup, teardown),
        cmocka_unit_test_setup_teardown(t_forged_record_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(t_unsealed_not_taken_by_sealed, setup, teardown),
        cmocka_unit_test_setup_teardown(t_lenient_set_and_origins, setup, teardown),
        cmocka_unit_test_setup_teardown(t_stored_refetch_accepts, setup, teardown),
        cmocka_unit_test_setup_teardown(t_stored_refetch_floor, setup, teardown),
        cmocka_unit_test_setup_teardown(t_stored_keys_unavailable, setup, teardown),
        cmocka_unit_test_setup_teardown(t_stored_plain, setup, teardown),
    };
    vjwt_test_init();
    return cmocka_run_group_tests_name("keystore", tests, group_setup, group_teardown);
}
