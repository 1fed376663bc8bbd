/* vjwt_vcache.c - the cache of validation results (see vjwt_vcache.h). */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <apr_thread_mutex.h>

#include "vjwt_vcache.h"

#define MAX_SHARDS 16

typedef struct entry {
    vjwt_vcache_key_t key;
    apr_time_t until;
    void *value;
    void (*free_fn)(void *);
    apr_size_t bytes; /* the value's and this struct's */
    atomic_int refs;  /* the cache's own reference (while filed) and one per request */
    int slot;         /* index in the shard's ring */
    int used;         /* CLOCK: looked up since the hand last passed */
    struct entry *next;
} entry_t;

typedef struct {
    apr_thread_mutex_t *mu;
    entry_t **buckets; /* chains by key hash */
    unsigned nbuckets; /* a power of two */
    entry_t **ring;    /* the CLOCK: cap slots, NULL when free */
    int cap, hand, count;
    apr_size_t bytes, max_bytes;
    apr_uint64_t hits, misses, inserts, evictions;
    char pad[64]; /* shards that neighbour in memory don't share a cache line */
} shard_t;

struct vjwt_vcache {
    shard_t shards[MAX_SHARDS];
    unsigned nshards; /* a power of two */
    apr_interval_time_t max_ttl;
};

static apr_uint64_t key_hash(const vjwt_vcache_key_t *k)
{
    apr_uint64_t h = 0;
    memcpy(&h, k->digest, sizeof(h)); /* a SHA-256: already uniform */
    return h ^ (k->policy * APR_UINT64_C(0x9E3779B97F4A7C15)) ^ k->generation;
}

static int key_equal(const vjwt_vcache_key_t *a, const vjwt_vcache_key_t *b)
{
    return a->policy == b->policy && a->generation == b->generation &&
           memcmp(a->digest, b->digest, sizeof(a->digest)) == 0;
}

static void entry_unref(entry_t *e)
{
    if (atomic_fetch_sub(&e->refs, 1) == 1) {
        if (e->free_fn) {
            e->free_fn(e->value);
        }
        else {
            free(e->value);
        }
        free(e);
    }
}

static apr_status_t entry_release(void *data)
{
    entry_unref(data);
    return APR_SUCCESS;
}

static shard_t *shard_of(vjwt_vcache_t *c, const vjwt_vcache_key_t *k)
{
    return &c->shards[k->digest[31] & (c->nshards - 1)];
}

static entry_t **chain_of(shard_t *sh, const vjwt_vcache_key_t *k)
{
    return &sh->buckets[(key_hash(k) >> 8) & (sh->nbuckets - 1)];
}

/* Unfiles e (under the shard's mutex); the entry goes when its last user lets go. */
static void unfile(shard_t *sh, entry_t *e)
{
    entry_t **pp = chain_of(sh, &e->key);
    while (*pp && *pp != e) {
        pp = &(*pp)->next;
    }
    if (*pp) {
        *pp = e->next;
    }
    sh->ring[e->slot] = NULL;
    sh->count--;
    sh->bytes -= e->bytes;
    entry_unref(e);
}

static apr_status_t cache_cleanup(void *data)
{
    vjwt_vcache_t *c = data;
    unsigned s;
    int i;
    for (s = 0; s < c->nshards; s++) {
        shard_t *sh = &c->shards[s];
        for (i = 0; i < sh->cap; i++) {
            if (sh->ring[i]) {
                unfile(sh, sh->ring[i]);
            }
        }
    }
    return APR_SUCCESS;
}

static apr_status_t shard_init(shard_t *sh, apr_pool_t *p, int cap, apr_size_t max_bytes)
{
    sh->cap = cap;
    sh->max_bytes = max_bytes;
    for (sh->nbuckets = 8; sh->nbuckets < (unsigned)cap; sh->nbuckets <<= 1) {
    }
    sh->buckets = apr_pcalloc(p, sh->nbuckets * sizeof(entry_t *));
    sh->ring = apr_pcalloc(p, (apr_size_t)cap * sizeof(entry_t *));
    return apr_thread_mutex_create(&sh->mu, APR_THREAD_MUTEX_DEFAULT, p);
}

apr_status_t vjwt_vcache_make(vjwt_vcache_t **out, apr_pool_t *p, int max_entries,
                              apr_size_t max_bytes, apr_interval_time_t max_ttl)
{
    vjwt_vcache_t *c = apr_pcalloc(p, sizeof(*c));
    unsigned s;
    if (max_entries < 1) {
        max_entries = 1;
    }
    /* small caches stay in one shard, so that their bound is exact */
    c->nshards = max_entries >= 256 ? MAX_SHARDS : 1;
    c->max_ttl = max_ttl;
    for (s = 0; s < c->nshards; s++) {
        int cap = (max_entries + (int)c->nshards - 1) / (int)c->nshards;
        apr_status_t rv = shard_init(&c->shards[s], p, cap, max_bytes / c->nshards + 1);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    apr_pool_cleanup_register(p, c, cache_cleanup, apr_pool_cleanup_null);
    *out = c;
    return APR_SUCCESS;
}

const void *vjwt_vcache_get(vjwt_vcache_t *c, apr_pool_t *p, const vjwt_vcache_key_t *k,
                            apr_time_t now)
{
    shard_t *sh = shard_of(c, k);
    entry_t *e;
    apr_thread_mutex_lock(sh->mu);
    for (e = *chain_of(sh, k); e && !key_equal(&e->key, k); e = e->next) {
    }
    if (e && e->until > now) {
        e->used = 1;
        atomic_fetch_add(&e->refs, 1);
        sh->hits++;
    }
    else {
        e = NULL;
        sh->misses++;
    }
    apr_thread_mutex_unlock(sh->mu);
    if (!e) {
        return NULL;
    }
    apr_pool_cleanup_register(p, e, entry_release, apr_pool_cleanup_null);
    return e->value;
}

/* A free slot of the ring with room for need more bytes, evicting by CLOCK: expired
 * entries and those not used since the hand last passed go; used ones get a second
 * chance. Two turns of the hand always find one (need fits in max_bytes). */
static int make_room(shard_t *sh, apr_size_t need, apr_time_t now)
{
    int steps;
    for (steps = 0; steps <= 2 * sh->cap; steps++) {
        int i = sh->hand;
        entry_t *e = sh->ring[i];
        sh->hand = (sh->hand + 1) % sh->cap;
        if (e && e->used && e->until > now) {
            e->used = 0;
            continue;
        }
        if (e) {
            unfile(sh, e);
            sh->evictions++;
        }
        if (sh->bytes + need <= sh->max_bytes) {
            return i;
        }
    }
    return -1;
}

void vjwt_vcache_put(vjwt_vcache_t *c, const vjwt_vcache_key_t *k, void *value, apr_size_t bytes,
                     apr_time_t now, apr_time_t until, void (*free_fn)(void *))
{
    shard_t *sh = shard_of(c, k);
    entry_t *e, *old;
    int slot;

    if (until > now + c->max_ttl) {
        until = now + c->max_ttl;
    }
    bytes += sizeof(entry_t);
    if (until <= now || bytes > sh->max_bytes / 4 || !(e = calloc(1, sizeof(*e)))) {
        free_fn ? free_fn(value) : free(value);
        return;
    }
    e->key = *k;
    e->until = until;
    e->value = value;
    e->free_fn = free_fn;
    e->bytes = bytes;
    atomic_init(&e->refs, 1);
    apr_thread_mutex_lock(sh->mu);
    for (old = *chain_of(sh, k); old && !key_equal(&old->key, k); old = old->next) {
    }
    if (old) {
        unfile(sh, old);
    }
    slot = make_room(sh, bytes, now);
    if (slot < 0) {
        apr_thread_mutex_unlock(sh->mu);
        entry_unref(e);
        return;
    }
    e->slot = slot;
    e->next = *chain_of(sh, k);
    *chain_of(sh, k) = e;
    sh->ring[slot] = e;
    sh->count++;
    sh->bytes += bytes;
    sh->inserts++;
    apr_thread_mutex_unlock(sh->mu);
}

void vjwt_vcache_stats(vjwt_vcache_t *c, vjwt_vcache_stats_t *out)
{
    unsigned s;
    memset(out, 0, sizeof(*out));
    for (s = 0; s < c->nshards; s++) {
        shard_t *sh = &c->shards[s];
        apr_thread_mutex_lock(sh->mu);
        out->hits += sh->hits;
        out->misses += sh->misses;
        out->inserts += sh->inserts;
        out->evictions += sh->evictions;
        out->entries += sh->count;
        out->bytes += sh->bytes;
        apr_thread_mutex_unlock(sh->mu);
    }
}
