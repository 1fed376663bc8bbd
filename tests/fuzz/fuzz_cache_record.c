/*
 * fuzz_cache_record.c - what the key store reads back from the shared cache (memcache,
 * redis or shmcb, which other processes and hosts write): the key record, the generation
 * entry and the attempt marker. Every cache read returns the input; fetches fail, so the
 * store has to live on what the cache says.
 *
 * Input: byte 0 chooses whether a cache secret is configured (bit 0) and, with a secret,
 * whether the cache answers the rest sealed under the right key (bit 1: the parsers behind
 * the seal) or as it is (the seal check itself); bytes 1.. are the value.
 */
#include <string.h>

#include <apr_strings.h>

#include "fuzz_common.h"
#include "vjwt.h"

static const unsigned char secret[] = "fuzzing-cache-secret-0123456789";

typedef struct {
    const char *val;
    apr_size_t len;
    const unsigned char *seal_key; /* NULL: answer the value as it is */
} cached_t;

static apr_time_t fake_now;

/* Every reading moves the clock on by a second: the store's bounded waits for a peer's
 * attempt end after one poll instead of sleeping through real time. */
static apr_time_t clock_now(void)
{
    fake_now += apr_time_from_sec(1);
    return fake_now;
}

static apr_status_t cache_get(void *baton, apr_pool_t *p, const char *key, apr_size_t max,
                              char **val, apr_size_t *len)
{
    const cached_t *c = baton;
    if (c->seal_key) {
        *val = (char *)vjwt_cache_record_seal(p, c->seal_key, key, c->val, c->len, len);
    }
    else {
        *val = apr_pstrmemdup(p, c->val, c->len);
        *len = c->len;
    }
    if (max && *len > max + VJWT_CACHE_SEAL_OVER) {
        return APR_NOTFOUND;
    }
    return APR_SUCCESS;
}

static apr_status_t cache_set(void *baton, apr_pool_t *p, const char *key, const char *val,
                              apr_size_t len, apr_time_t expiry)
{
    (void)baton;
    (void)p;
    (void)key;
    (void)val;
    (void)len;
    (void)expiry;
    return APR_SUCCESS;
}

static apr_status_t failing_fetch(void *baton, apr_pool_t *p, const char *url,
                                  const vjwt_fetch_opts_t *o, vjwt_fetch_result_t *res)
{
    (void)baton;
    (void)o;
    memset(res, 0, sizeof(*res));
    res->max_age = -1;
    res->error = apr_psprintf(p, "GET %s: refused (fuzzing)", url);
    return APR_EGENERAL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *root = fuzz_root(), *p, *rp;
    apr_array_header_t *registry;
    vjwt_store_opts_t o;
    vjwt_store_t *st = NULL;
    vjwt_keys_view_t view;
    unsigned char mac_key[VJWT_CACHE_MAC_LEN];
    cached_t c;
    const char *opened;
    apr_size_t opened_len;
    if (size < 1) {
        return 0;
    }
    vjwt_cache_mac_key(mac_key, secret, sizeof(secret) - 1);
    c.val = (const char *)data + 1;
    c.len = size - 1;
    c.seal_key = (data[0] & 3) == 3 ? mac_key : NULL;
    vjwt_cache_record_open(mac_key, "vjwt:any", c.val, c.len, &opened, &opened_len);
    fake_now = apr_time_from_sec(1700000000);

    apr_pool_create(&p, root);
    registry = apr_array_make(p, 2, sizeof(vjwt_ks_source_t *));
    vjwt_ks_source_make(p, registry, VJWT_KS_DISCOVERY,
                        "https://idp.example/.well-known/openid-configuration");
    vjwt_ks_source_make(p, registry, VJWT_KS_JWKS_URL, "https://other.example/jwks");
    vjwt_store_opts_default(&o);
    o.fetcher = failing_fetch;
    o.fetch.timeout_ms = 1;
    o.now = clock_now;
    o.log.log = fuzz_quiet_log;
    o.cache.baton = &c;
    o.cache.get = cache_get;
    o.cache.set = cache_set;
    if (data[0] & 1) {
        o.cache_secret = secret;
        o.cache_secret_len = sizeof(secret) - 1;
    }
    if (vjwt_store_make(&st, p, &o, registry) == APR_SUCCESS) {
        apr_pool_create(&rp, p);
        vjwt_store_collect(st, rp, registry, NULL, &view);
        vjwt_store_refetch_for_kid(st, rp, registry, "unknown-kid");
        apr_pool_destroy(rp);
        fake_now += apr_time_from_sec(2);
        vjwt_store_tick(st, p); /* generation entry, refresh due */
        fake_now += apr_time_from_sec(86400 * 30);
        vjwt_store_tick(st, p);
        apr_pool_create(&rp, p);
        vjwt_store_collect(st, rp, registry, NULL, &view);
        apr_pool_destroy(rp);
    }
    apr_pool_destroy(p);
    return 0;
}
