/* vjwt_sigcache.c - memo of verified signatures (see vjwt_sigcache.h). */
#include <string.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <openssl/evp.h>

#include "vjwt_sigcache.h"

typedef struct {
    unsigned char digest[32];
    vjwt_sigcache_scope_t scope;
} entry_key_t;

struct vjwt_sigcache {
    apr_thread_mutex_t *mutex;
    apr_pool_t *pool; /* unmanaged; holds the table; replaced when full */
    apr_hash_t *table;
    int max_entries;
    apr_interval_time_t max_ttl;
    apr_uint64_t hits, misses;
};

static apr_status_t sigcache_cleanup(void *data)
{
    vjwt_sigcache_t *c = data;
    if (c->pool) {
        apr_pool_destroy(c->pool);
        c->pool = NULL;
    }
    return APR_SUCCESS;
}

static apr_status_t fresh_table(vjwt_sigcache_t *c)
{
    if (c->pool) {
        apr_pool_destroy(c->pool);
        c->pool = NULL;
    }
    if (apr_pool_create_unmanaged_ex(&c->pool, NULL, NULL) != APR_SUCCESS) {
        return APR_ENOMEM;
    }
    c->table = apr_hash_make(c->pool);
    return APR_SUCCESS;
}

apr_status_t vjwt_sigcache_make(vjwt_sigcache_t **out, apr_pool_t *p, int max_entries,
                                apr_interval_time_t max_ttl)
{
    vjwt_sigcache_t *c = apr_pcalloc(p, sizeof(*c));
    apr_status_t rv = apr_thread_mutex_create(&c->mutex, APR_THREAD_MUTEX_DEFAULT, p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    c->max_entries = max_entries > 0 ? max_entries : 1;
    c->max_ttl = max_ttl;
    rv = fresh_table(c);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    apr_pool_cleanup_register(p, c, sigcache_cleanup, apr_pool_cleanup_null);
    *out = c;
    return APR_SUCCESS;
}

static void make_key(entry_key_t *k, const char *token, apr_size_t len,
                     const vjwt_sigcache_scope_t *scope)
{
    unsigned int n = 0;
    memset(k, 0, sizeof(*k)); /* padding too: the key is compared as bytes */
    EVP_Digest(token, len, k->digest, &n, EVP_sha256(), NULL);
    k->scope.keys = scope->keys;
    k->scope.sources = scope->sources;
    k->scope.generation = scope->generation;
    k->scope.alg_mask = scope->alg_mask;
    k->scope.min_rsa_bits = scope->min_rsa_bits;
    k->scope.require_signed = scope->require_signed;
}

int vjwt_sigcache_hit(vjwt_sigcache_t *c, const char *token, apr_size_t len,
                      const vjwt_sigcache_scope_t *scope, apr_time_t now)
{
    entry_key_t k;
    const apr_time_t *until;
    int hit;
    make_key(&k, token, len, scope);
    apr_thread_mutex_lock(c->mutex);
    until = apr_hash_get(c->table, &k, sizeof(k));
    hit = until && *until > now;
    if (hit) {
        c->hits++;
    }
    else {
        c->misses++;
    }
    apr_thread_mutex_unlock(c->mutex);
    return hit;
}

void vjwt_sigcache_put(vjwt_sigcache_t *c, const char *token, apr_size_t len,
                       const vjwt_sigcache_scope_t *scope, apr_time_t now, apr_time_t expires)
{
    entry_key_t k;
    if (expires > now + c->max_ttl) {
        expires = now + c->max_ttl;
    }
    if (expires <= now) {
        return;
    }
    make_key(&k, token, len, scope);
    apr_thread_mutex_lock(c->mutex);
    if ((int)apr_hash_count(c->table) >= c->max_entries && fresh_table(c) != APR_SUCCESS) {
        apr_thread_mutex_unlock(c->mutex);
        return;
    }
    {
        apr_time_t *until = apr_hash_get(c->table, &k, sizeof(k));
        if (!until) {
            entry_key_t *kc = apr_pmemdup(c->pool, &k, sizeof(k));
            until = apr_palloc(c->pool, sizeof(*until));
            apr_hash_set(c->table, kc, sizeof(*kc), until);
        }
        *until = expires;
    }
    apr_thread_mutex_unlock(c->mutex);
}

void vjwt_sigcache_stats(vjwt_sigcache_t *c, int *entries, apr_uint64_t *hits, apr_uint64_t *misses)
{
    apr_thread_mutex_lock(c->mutex);
    *entries = (int)apr_hash_count(c->table);
    *hits = c->hits;
    *misses = c->misses;
    apr_thread_mutex_unlock(c->mutex);
}
