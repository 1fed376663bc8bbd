/* vjwt_sigcache.c - memo of verified signatures (see vjwt_sigcache.h). */
#include <string.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "vjwt_sigcache.h"

typedef struct {
    unsigned char digest[32];
    vjwt_sigcache_scope_t scope;
} entry_key_t;

/* The value of an entry: how long it is valid and, for a JWE, its plaintext. */
typedef struct {
    apr_time_t until;
    unsigned char *data; /* NULL for a JWS entry */
    apr_size_t data_len;
} entry_t;

struct vjwt_sigcache {
    apr_thread_mutex_t *mutex;
    apr_pool_t *pool; /* unmanaged; holds the table; replaced when full */
    apr_hash_t *table;
    int max_entries;
    apr_interval_time_t max_ttl;
    apr_size_t data_bytes; /* plaintext bytes held by the table */
    apr_uint64_t hits, misses;
};

/* Cleanses the plaintexts of the table (they came out of encrypted tokens). */
static void wipe_data(vjwt_sigcache_t *c)
{
    apr_hash_index_t *hi;
    if (!c->table || c->data_bytes == 0) {
        return;
    }
    for (hi = apr_hash_first(NULL, c->table); hi; hi = apr_hash_next(hi)) {
        entry_t *e = apr_hash_this_val(hi);
        if (e->data) {
            OPENSSL_cleanse(e->data, e->data_len);
        }
    }
    c->data_bytes = 0;
}

static apr_status_t sigcache_cleanup(void *data)
{
    vjwt_sigcache_t *c = data;
    if (c->pool) {
        wipe_data(c);
        apr_pool_destroy(c->pool);
        c->pool = NULL;
    }
    return APR_SUCCESS;
}

static apr_status_t fresh_table(vjwt_sigcache_t *c)
{
    if (c->pool) {
        wipe_data(c);
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
    k->scope.decryption_keys = scope->decryption_keys;
}

/* The valid entry of k, or NULL; counts the hit or miss. Called with the mutex held. */
static entry_t *lookup(vjwt_sigcache_t *c, const entry_key_t *k, apr_time_t now)
{
    entry_t *e = apr_hash_get(c->table, k, sizeof(*k));
    if (e && e->until > now) {
        c->hits++;
        return e;
    }
    c->misses++;
    return NULL;
}

int vjwt_sigcache_hit(vjwt_sigcache_t *c, const char *token, apr_size_t len,
                      const vjwt_sigcache_scope_t *scope, apr_time_t now)
{
    entry_key_t k;
    int hit;
    make_key(&k, token, len, scope);
    apr_thread_mutex_lock(c->mutex);
    hit = lookup(c, &k, now) != NULL;
    apr_thread_mutex_unlock(c->mutex);
    return hit;
}

const char *vjwt_sigcache_get_data(vjwt_sigcache_t *c, apr_pool_t *p, const char *token,
                                   apr_size_t len, const vjwt_sigcache_scope_t *scope,
                                   apr_time_t now, apr_size_t *data_len)
{
    entry_key_t k;
    entry_t *e;
    char *out = NULL;
    make_key(&k, token, len, scope);
    apr_thread_mutex_lock(c->mutex);
    e = lookup(c, &k, now);
    if (e && e->data) {
        out = apr_palloc(p, e->data_len + 1);
        memcpy(out, e->data, e->data_len);
        out[e->data_len] = 0;
        *data_len = e->data_len;
    }
    apr_thread_mutex_unlock(c->mutex);
    return out;
}

void vjwt_sigcache_put(vjwt_sigcache_t *c, const char *token, apr_size_t len,
                       const vjwt_sigcache_scope_t *scope, apr_time_t now, apr_time_t expires)
{
    vjwt_sigcache_put_data(c, token, len, scope, now, expires, NULL, 0);
}

void vjwt_sigcache_put_data(vjwt_sigcache_t *c, const char *token, apr_size_t len,
                            const vjwt_sigcache_scope_t *scope, apr_time_t now, apr_time_t expires,
                            const void *data, apr_size_t data_len)
{
    entry_key_t k;
    entry_t *e;
    if (expires > now + c->max_ttl) {
        expires = now + c->max_ttl;
    }
    if (expires <= now || (data && data_len > VJWT_SIGCACHE_MAX_DATA / 4)) {
        return;
    }
    make_key(&k, token, len, scope);
    apr_thread_mutex_lock(c->mutex);
    if (((int)apr_hash_count(c->table) >= c->max_entries ||
         (data && c->data_bytes + data_len > VJWT_SIGCACHE_MAX_DATA)) &&
        fresh_table(c) != APR_SUCCESS) {
        apr_thread_mutex_unlock(c->mutex);
        return;
    }
    e = apr_hash_get(c->table, &k, sizeof(k));
    if (!e) {
        entry_key_t *kc = apr_pmemdup(c->pool, &k, sizeof(k));
        e = apr_pcalloc(c->pool, sizeof(*e));
        apr_hash_set(c->table, kc, sizeof(*kc), e);
    }
    if (data && !e->data) {
        /* the same token under the same scope always decrypts to the same plaintext */
        e->data = apr_pmemdup(c->pool, data, data_len ? data_len : 1);
        e->data_len = data_len;
        c->data_bytes += data_len;
    }
    e->until = expires;
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
