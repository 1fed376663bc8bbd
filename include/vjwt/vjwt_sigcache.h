/*
 * vjwt_sigcache.h - a per-process memo of verified signatures, so that a token presented
 * again (the common case: a client reuses its access token) costs a SHA-256 and claim
 * checks instead of a public-key operation.
 *
 * Only successes are remembered. The key is SHA-256(token) plus what decided the signature:
 * the key list identity, the key-set generation (it changes whenever fetched keys change),
 * the algorithm allowlist, the RSA floor and require-signed. An entry lives until the
 * token's exp (at most max_ttl). Claims and time are always checked again; the memo only
 * skips the signature. Bounded: when full it starts afresh.
 *
 * Thread context: any thread (one mutex; held only for the lookup or insert).
 */
#ifndef VJWT_SIGCACHE_H
#define VJWT_SIGCACHE_H

#include <apr_pools.h>
#include <apr_time.h>

typedef struct vjwt_sigcache vjwt_sigcache_t;

/* The identity of what verified a signature (see above). */
typedef struct {
    const void *keys;        /* static key list identity */
    const void *sources;     /* key source list identity */
    apr_uint64_t generation; /* key-set generation of the sources */
    unsigned alg_mask;
    int min_rsa_bits;
    int require_signed;
} vjwt_sigcache_scope_t;

/* max_entries >= 1. The cache lives in its own allocator; destroyed with p. */
apr_status_t vjwt_sigcache_make(vjwt_sigcache_t **out, apr_pool_t *p, int max_entries,
                                apr_interval_time_t max_ttl);

/* 1 when this token's signature was verified under scope and the entry is still valid. */
int vjwt_sigcache_hit(vjwt_sigcache_t *c, const char *token, apr_size_t len,
                      const vjwt_sigcache_scope_t *scope, apr_time_t now);

/* Remember a verified signature until expires (clamped to now + max_ttl). */
void vjwt_sigcache_put(vjwt_sigcache_t *c, const char *token, apr_size_t len,
                       const vjwt_sigcache_scope_t *scope, apr_time_t now, apr_time_t expires);

/* Entries now held, hits and misses so far (for tests and status). */
void vjwt_sigcache_stats(vjwt_sigcache_t *c, int *entries, apr_uint64_t *hits,
                         apr_uint64_t *misses);

#endif
