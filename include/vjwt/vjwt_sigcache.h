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
 * An encrypted token (JWE) is remembered as a whole: its entry also holds the plaintext it
 * decrypted to, so that a repeated JWE is neither decrypted nor verified again (scope then
 * also names the decryption keys). The plaintexts held count against VJWT_SIGCACHE_MAX_DATA
 * bytes (when a new one would exceed it, the memo starts afresh) and are cleansed when the
 * memo lets them go.
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
    const void *decryption_keys; /* JWE entries: decryption key list identity; else NULL */
} vjwt_sigcache_scope_t;

/* The most plaintext bytes all JWE entries of a memo hold together. */
#define VJWT_SIGCACHE_MAX_DATA (8 * 1024 * 1024)

/* max_entries >= 1. The cache lives in its own allocator; destroyed with p. */
apr_status_t vjwt_sigcache_make(vjwt_sigcache_t **out, apr_pool_t *p, int max_entries,
                                apr_interval_time_t max_ttl);

/* 1 when this token's signature was verified under scope and the entry is still valid. */
int vjwt_sigcache_hit(vjwt_sigcache_t *c, const char *token, apr_size_t len,
                      const vjwt_sigcache_scope_t *scope, apr_time_t now);

/* Remember a verified signature until expires (clamped to now + max_ttl). */
void vjwt_sigcache_put(vjwt_sigcache_t *c, const char *token, apr_size_t len,
                       const vjwt_sigcache_scope_t *scope, apr_time_t now, apr_time_t expires);

/* A JWE entry: a copy in p of the plaintext remembered with the token under scope
 * (NUL-terminated; its length in *data_len), or NULL when there is no valid entry with data.
 * Counts as a hit or a miss like vjwt_sigcache_hit. */
const char *vjwt_sigcache_get_data(vjwt_sigcache_t *c, apr_pool_t *p, const char *token,
                                   apr_size_t len, const vjwt_sigcache_scope_t *scope,
                                   apr_time_t now, apr_size_t *data_len);

/* vjwt_sigcache_put that also remembers data[0..data_len) (the JWE's plaintext). Nothing is
 * remembered when data_len is above VJWT_SIGCACHE_MAX_DATA / 4. */
void vjwt_sigcache_put_data(vjwt_sigcache_t *c, const char *token, apr_size_t len,
                            const vjwt_sigcache_scope_t *scope, apr_time_t now, apr_time_t expires,
                            const void *data, apr_size_t data_len);

/* Entries now held, hits and misses so far (for tests and status). */
void vjwt_sigcache_stats(vjwt_sigcache_t *c, int *entries, apr_uint64_t *hits,
                         apr_uint64_t *misses);

#endif
