/*
 * vjwt_vcache.h - the per-process cache of validation results (ValidateJWTTokenCache): a
 * token presented again is neither decoded, parsed nor verified again.
 *
 * An entry is filed under the token's SHA-256, the identity of the policy that judged it
 * and the key-set generation it was judged with (a key rotation starts a new generation,
 * so nothing verified by a removed key survives it). Its value is an immutable blob the
 * caller built (vjwt_verified.h); the cache frees it with the caller's function once the
 * entry is dropped and the last request using it has let go (a reference released by a
 * pool cleanup), so a request never sees a value freed under it.
 *
 * Bounded in entries and in bytes. A full cache evicts one entry at a time by CLOCK
 * (second chance: an entry used since the hand last passed stays), never everything at
 * once; expired entries go first. The table is split into shards by token digest, each
 * with its own mutex held only for a lookup or an insert, so no lock is shared by all
 * threads.
 *
 * Thread context: any thread.
 */
#ifndef VJWT_VCACHE_H
#define VJWT_VCACHE_H

#include <apr_pools.h>
#include <apr_time.h>

typedef struct vjwt_vcache vjwt_vcache_t;

/* What an entry is filed under. */
typedef struct {
    unsigned char digest[32]; /* SHA-256 of the token as presented */
    apr_uint64_t policy;      /* the policy's identity (vjwt_policy_t.ident) */
    apr_uint64_t generation;  /* the key-set generation (vjwt_keys_view_t.generation) */
} vjwt_vcache_key_t;

/* max_entries >= 1, max_bytes >= 1; entries live at most max_ttl. Destroyed with p (after
 * the last request using an entry has let go of it). */
apr_status_t vjwt_vcache_make(vjwt_vcache_t **out, apr_pool_t *p, int max_entries,
                              apr_size_t max_bytes, apr_interval_time_t max_ttl);

/* Files value (bytes long, counted against max_bytes) under k until `until` (clamped to
 * now + max_ttl), replacing an entry under the same key. The cache owns value from now
 * on: free_fn(value) runs when it is dropped and unused. A value already expired, or
 * larger than a quarter of a shard's bytes, is freed at once. */
void vjwt_vcache_put(vjwt_vcache_t *c, const vjwt_vcache_key_t *k, void *value, apr_size_t bytes,
                     apr_time_t now, apr_time_t until, void (*free_fn)(void *));

/* The value filed under k and valid at now, or NULL. It stays valid until p is cleared or
 * destroyed. */
const void *vjwt_vcache_get(vjwt_vcache_t *c, apr_pool_t *p, const vjwt_vcache_key_t *k,
                            apr_time_t now);

typedef struct {
    apr_uint64_t hits, misses, inserts, evictions;
    int entries;
    apr_size_t bytes;
} vjwt_vcache_stats_t;

/* Totals over the shards (for status pages and tests; takes each shard's mutex). */
void vjwt_vcache_stats(vjwt_vcache_t *c, vjwt_vcache_stats_t *out);

#endif
