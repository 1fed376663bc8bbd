/*
 * vjwt_keystore.h - keys from OpenID discovery documents and JWKS URLs: one store per
 * process, immutable key-set snapshots, sharing of fetched documents between processes and
 * hosts through a cache port, rate-limited single-flight fetching, refresh, outage rules.
 *
 * Lifecycle: sources are declared at configuration time (vjwt_ks_source_make), the store
 * is made after the configuration is read (vjwt_store_make, in the parent, before fork);
 * from then on every function is safe on any thread of any child.
 *
 * Readers take no lock at all: inside a read section (vjwt_store_read_begin/end, an epoch
 * in a slot taken by compare-and-swap) they load each source's current snapshot, and a
 * replaced snapshot is freed only once every read section that may see it has ended. A fetch never
 * runs under a lock that readers need; at most one fetch per source runs at a time in a
 * process, and the cache port's lock plus an attempt marker in the shared cache keep it to
 * at most one per refetch interval in the whole server (and every host sharing the cache).
 */
#ifndef VJWT_KEYSTORE_H
#define VJWT_KEYSTORE_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>
#include "vjwt_fetch.h"
#include "vjwt_jwk.h"
#include "vjwt_log.h"

/* A shared cache of small blobs with an absolute expiry (the glue wraps httpd's socache).
 * Every member may be NULL: then the store works per process. */
typedef struct {
    void *baton;
    /* APR_SUCCESS and *val (from p, NUL-terminated) when found; APR_NOTFOUND when not.
     * max: the largest value expected (0: the port's own maximum). */
    apr_status_t (*get)(void *baton, apr_pool_t *p, const char *key, apr_size_t max, char **val,
                        apr_size_t *len);
    apr_status_t (*set)(void *baton, apr_pool_t *p, const char *key, const char *val,
                        apr_size_t len, apr_time_t expiry);
    /* A lock over all processes sharing the cache (not held across fetches). */
    apr_status_t (*lock)(void *baton);
    apr_status_t (*unlock)(void *baton);
} vjwt_cache_port_t;

/* The fetcher (vjwt_fetch by default; tests plug in fakes). */
typedef apr_status_t vjwt_fetcher_fn(void *baton, apr_pool_t *p, const char *url,
                                     const vjwt_fetch_opts_t *o, vjwt_fetch_result_t *res);

typedef struct {
    apr_interval_time_t refresh;   /* background refresh period (default 3600 s) */
    apr_interval_time_t refetch;   /* floor between fetches of one source (default 10 s) */
    apr_interval_time_t max_stale; /* 0 = unlimited */
    vjwt_fetch_opts_t fetch;
    vjwt_cache_port_t cache;
    vjwt_log_port_t log;      /* empty = nothing logged (vjwt_log.h) */
    vjwt_fetcher_fn *fetcher; /* NULL = vjwt_fetch */
    void *fetcher_baton;
    apr_time_t (*now)(void); /* NULL = apr_time_now (tests use a fake clock) */
    /* ValidateJWTCacheSecret: every value in the shared cache is authenticated under a key
     * derived from it (vjwt_cache_record_seal); NULL = values are stored as they are. */
    const unsigned char *cache_secret;
    apr_size_t cache_secret_len;
    /* Told of every fetch that ended in this process (NULL: nobody): the source's URL, the
     * outcome (a vjwt_fetch_result_e of vjwt_metrics.h: 0 ok, 1 error, 2 ok but the key
     * set was unchanged), how long it took, and on success the number of usable keys and
     * the fetch time. Called from the fetching thread, with no lock held. */
    void (*on_fetch)(void *baton, const char *url, int result, apr_interval_time_t took, int keys,
                     apr_time_t fetched);
    void *on_fetch_baton;
    int (*stopping)(void); /* NULL, or nonzero once the process is stopping: the tick
                            * returns early and fetches in progress are aborted */
} vjwt_store_opts_t;

/* Authentication of shared-cache values (HMAC-SHA-256, RFC 2104). A sealed value is
 * "vjwt1." + base64url(MAC) + "." + value, where MAC = HMAC(mac_key, name NUL value):
 * the cache key's name is bound in, so a value cannot be moved to another key.
 * mac_key is VJWT_CACHE_MAC_LEN bytes from vjwt_cache_mac_key; NULL means no secret
 * (seal and open pass values through unchanged). */
#define VJWT_CACHE_MAC_LEN   32
#define VJWT_CACHE_SEAL_OVER 50 /* bytes a seal adds */

/* The MAC key derived from the configured secret (HMAC(secret, fixed label)). */
void vjwt_cache_mac_key(unsigned char out[VJWT_CACHE_MAC_LEN], const unsigned char *secret,
                        apr_size_t len);

/* The sealed form of val (from p, NUL-terminated, length in *outlen). */
const char *vjwt_cache_record_seal(apr_pool_t *p, const unsigned char *mac_key, const char *name,
                                   const char *val, apr_size_t len, apr_size_t *outlen);

/* The value inside a sealed rec stored under name: APR_SUCCESS with *val (pointing into rec,
 * NUL-terminated when rec is) and *vlen; APR_EGENERAL when rec is not sealed with mac_key
 * under name. Any bytes are safe input. */
apr_status_t vjwt_cache_record_open(const unsigned char *mac_key, const char *name, const char *rec,
                                    apr_size_t len, const char **val, apr_size_t *vlen);

typedef enum { VJWT_KS_DISCOVERY = 1, VJWT_KS_JWKS_URL } vjwt_ks_kind_e;

typedef struct vjwt_store vjwt_store_t;
typedef struct vjwt_ks_source vjwt_ks_source_t;

/* Defaults for every option; the cache port and logger empty. */
void vjwt_store_opts_default(vjwt_store_opts_t *o);

/* Configuration time: a source, deduplicated by (kind, url) within registry (an array of
 * vjwt_ks_source_t * owned by the caller). */
vjwt_ks_source_t *vjwt_ks_source_make(apr_pool_t *p, apr_array_header_t *registry,
                                      vjwt_ks_kind_e kind, const char *url);
const char *vjwt_ks_source_url(const vjwt_ks_source_t *src);

/* After configuration: the store adopts every source of the registry. */
apr_status_t vjwt_store_make(vjwt_store_t **out, apr_pool_t *p, const vjwt_store_opts_t *o,
                             apr_array_header_t *registry);

/* What a request validates against. */
typedef struct {
    apr_array_header_t *keys;    /* const vjwt_key_t *: static keys, then every source's */
    apr_array_header_t *issuers; /* const char *: issuers of the discovery documents */
    /* const char *, one per key (vjwt_validate_opts_t.key_issuers): NULL for a static key,
     * "" for a key of a JWKS URL, the discovered issuer for a key of a discovery document */
    apr_array_header_t *key_issuers;
    int unavailable;         /* sources that have no usable keys */
    apr_uint64_t generation; /* changes whenever a source's keys change */
} vjwt_keys_view_t;

/* A read section: the snapshots (keys, issuers) seen inside it stay valid until it ends.
 * Lock-free and wait-free for the reader; any thread may end it. */
typedef struct {
    vjwt_store_t *st;
    int slot; /* -1: counted among the readers that found no free slot */
} vjwt_store_read_t;

void vjwt_store_read_begin(vjwt_store_t *st, vjwt_store_read_t *rd);
void vjwt_store_read_end(vjwt_store_read_t *rd); /* idempotent */

/* Snapshots replaced but not yet freed: a read section that began before they were
 * replaced is still open (they go at the next install or tick after it ends). */
int vjwt_store_retired(vjwt_store_t *st);

/* Inside a read section: 1 and *gen (as vjwt_keys_view_t.generation) when every source in
 * sources has usable keys now; 0 otherwise. No allocation, no fetch. */
int vjwt_store_generation(vjwt_store_t *st, const apr_array_header_t *sources, apr_uint64_t *gen);

/* Inside a read section: the keys of static_keys (may be NULL) and of every source in
 * sources (vjwt_ks_source_t *). A source that has never loaded keys in this process is
 * loaded at once (from the shared cache, or fetched, waiting at most the fetch timeout,
 * subject to the refetch floor). The view is valid until the read section ends. */
void vjwt_store_view(vjwt_store_t *st, apr_pool_t *rp, const apr_array_header_t *sources,
                     const apr_array_header_t *static_keys, vjwt_keys_view_t *view);

/* vjwt_store_view in a read section that ends when rp is cleared or destroyed. */
void vjwt_store_collect(vjwt_store_t *st, apr_pool_t *rp, const apr_array_header_t *sources,
                        const apr_array_header_t *static_keys, vjwt_keys_view_t *view);

/* Request path, for a kid found in no key: refresh the sources (from the shared cache or by
 * a fetch, within the refetch floor) unless kid is remembered as unknown since the last
 * fetch. Sources without usable keys are left alone (vjwt_store_collect has just tried
 * them). Never waits for a fetch another thread runs while the process has usable keys of
 * the source. Returns 1 when some source now has a different snapshot (collect again). */
int vjwt_store_refetch_for_kid(vjwt_store_t *st, apr_pool_t *rp, const apr_array_header_t *sources,
                               const char *kid);

/* Background: refresh every source whose keys are due (or missing), and take keys that
 * another process or host fetched since (a small generation entry in the shared cache says
 * so), so that a rotation reaches every child within a tick. Call every second or so from
 * one thread per process; never blocks on another fetch. */
void vjwt_store_tick(vjwt_store_t *st, apr_pool_t *p);

/* Seconds for Retry-After when keys are unavailable. */
int vjwt_store_retry_after(const vjwt_store_t *st);

#endif
