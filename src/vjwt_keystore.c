/* vjwt_keystore.c - key sets from discovery documents and JWKS URLs (see vjwt_keystore.h). */
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_lib.h>
#include <apr_hash.h>
#include <apr_thread_mutex.h>
#include <apr_portable.h>
#include <stdatomic.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "vjwt_keystore.h"
#include "vjwt_crypto.h"
#include "vjwt_b64.h"
#include "vjwt_json.h"

/* Log tags, documented in docs/log-messages.md. VJWT_TAG(n) keeps the 5-digit form greppable
 * for scripts/check-lognos.sh. */
#define VJWT_TAG(n)       (1##n - 100000)
#define MAX_UNKNOWN_KIDS  1024
#define UNKNOWN_SLOTS     (2 * MAX_UNKNOWN_KIDS)
#define KID_QUIET         apr_time_from_sec(1)
#define MAX_BAD_RECORDS   256
#define MAX_SKIP_NOTES    10
#define COLD_POLL         apr_time_from_msec(50)
#define LOST_RECORD_GRACE apr_time_from_sec(1)
/* Times read back from the shared cache (whoever can write it can plant any number) are
 * taken only within these bounds of the reader's clock. */
#define MAX_CLOCK_SKEW apr_time_from_sec(300)
#define MAX_SET_LIFE   apr_time_from_sec(86400L * 400)

typedef struct snapshot {
    apr_pool_t *pool; /* unmanaged: any thread may destroy it */
    apr_array_header_t *keys;
    const char *issuer;
    const char *jwks_text; /* to tell a rotation from a plain refresh */
    apr_time_t fetched;
    apr_time_t refresh_at;
    /* Kids that stayed unknown after a fetch: a set of 64-bit digests (open addressing,
     * 0 = empty) that readers probe without a lock; added to under the source's mutex. */
    _Atomic apr_uint64_t unknown[UNKNOWN_SLOTS];
    int n_unknown;           /* under the source's mutex */
    apr_uint64_t retired_at; /* the store epoch when it was replaced (under retire_mu) */
    struct snapshot *next_retired;
} snapshot_t;

/* One reader's slot, alone in its cache line: 0 when free, else the epoch its reader began in. */
#define READER_SLOTS 128
typedef struct {
    _Atomic apr_uint64_t epoch;
    char pad[64 - sizeof(apr_uint64_t)];
} reader_slot_t;

struct vjwt_ks_source {
    vjwt_ks_kind_e kind;
    const char *url;
    const char *record_key;
    const char *attempt_key;
    const char *generation_key; /* the fetch time of the shared record, small */
    vjwt_store_t *store;
    apr_thread_mutex_t *mutex;       /* writers of cur and of its unknown kids */
    apr_thread_mutex_t *fetch_mutex; /* one fetch at a time in this process */
    _Atomic(snapshot_t *) cur;       /* read without a lock, inside a read section */
    apr_time_t local_attempt;        /* attempt marker without a shared cache; with one, the last
                                      * fetch of a lost record (lost_record) */
    /* Until when unknown kids don't look at the shared cache or the provider again: set when
     * such a look changed nothing (a flood of random kids then costs no lock). */
    _Atomic apr_time_t kid_quiet_until;
};

struct vjwt_store {
    apr_pool_t *pool;
    vjwt_store_opts_t o;
    apr_array_header_t *sources;
    unsigned char mac_key[VJWT_CACHE_MAC_LEN];
    int sealed;                 /* mac_key is set: every shared value is authenticated */
    apr_thread_mutex_t *bad_mu; /* bad_keys, bad_pool */
    apr_pool_t *bad_pool;       /* only under bad_mu */
    apr_hash_t *bad_keys;       /* cache keys whose value failed authentication (logged) */
    /* Readers (see "read sections" below): no lock, an epoch in a slot. */
    _Atomic apr_uint64_t epoch; /* advanced by every retirement; starts at 1 */
    atomic_int overflow;        /* readers that found no free slot */
    reader_slot_t slots[READER_SLOTS];
    apr_thread_mutex_t *retire_mu; /* retired (writers only) */
    snapshot_t *retired;           /* replaced snapshots a reader may still see */
};

typedef enum { UPDATE_COLD, UPDATE_REFRESH, UPDATE_KID } update_mode_e;

/* ------------------------------------------------------------------------------------ */

void vjwt_store_opts_default(vjwt_store_opts_t *o)
{
    memset(o, 0, sizeof(*o));
    o->refresh = apr_time_from_sec(3600);
    o->refetch = apr_time_from_sec(10);
    o->max_stale = 0;
    vjwt_fetch_opts_default(&o->fetch);
}

static apr_time_t now_of(const vjwt_store_t *st)
{
    return st->o.now ? st->o.now() : apr_time_now();
}

static const char *hash_key(apr_pool_t *p, const char *prefix, vjwt_ks_kind_e kind, const char *url)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0, i;
    char hex[33];
    const char *in = apr_psprintf(p, "%d %s", (int)kind, url);
    EVP_Digest(in, strlen(in), md, &n, EVP_sha256(), NULL);
    for (i = 0; i < 16 && i < n; i++) {
        apr_snprintf(hex + 2 * i, 3, "%02x", md[i]);
    }
    hex[32] = 0;
    return apr_pstrcat(p, prefix, hex, NULL);
}

vjwt_ks_source_t *vjwt_ks_source_make(apr_pool_t *p, apr_array_header_t *registry,
                                      vjwt_ks_kind_e kind, const char *url)
{
    vjwt_ks_source_t *src;
    int i;
    for (i = 0; i < registry->nelts; i++) {
        src = APR_ARRAY_IDX(registry, i, vjwt_ks_source_t *);
        if (src->kind == kind && strcmp(src->url, url) == 0) {
            return src;
        }
    }
    src = apr_pcalloc(p, sizeof(*src));
    src->kind = kind;
    src->url = apr_pstrdup(p, url);
    src->record_key = hash_key(p, "vjwt:k:", kind, url);
    src->attempt_key = hash_key(p, "vjwt:a:", kind, url);
    src->generation_key = hash_key(p, "vjwt:g:", kind, url);
    APR_ARRAY_PUSH(registry, vjwt_ks_source_t *) = src;
    return src;
}

const char *vjwt_ks_source_url(const vjwt_ks_source_t *src)
{
    return src->url;
}

static void snapshot_destroy(snapshot_t *s);

/* The store's pool goes: every snapshot goes with it (readers are gone by then). */
static apr_status_t store_cleanup(void *data)
{
    vjwt_store_t *st = data;
    snapshot_t *s;
    int i;
    for (i = 0; i < st->sources->nelts; i++) {
        vjwt_ks_source_t *src = APR_ARRAY_IDX(st->sources, i, vjwt_ks_source_t *);
        s = atomic_exchange(&src->cur, NULL);
        if (s) {
            snapshot_destroy(s);
        }
    }
    while ((s = st->retired) != NULL) {
        st->retired = s->next_retired;
        snapshot_destroy(s);
    }
    return APR_SUCCESS;
}

apr_status_t vjwt_store_make(vjwt_store_t **out, apr_pool_t *p, const vjwt_store_opts_t *o,
                             apr_array_header_t *registry)
{
    vjwt_store_t *st = apr_pcalloc(p, sizeof(*st));
    int i;
    st->pool = p;
    st->o = *o;
    st->sources = registry;
    st->o.cache_secret = NULL; /* only the derived key is kept */
    st->o.cache_secret_len = 0;
    if (o->cache_secret && o->cache_secret_len > 0) {
        vjwt_cache_mac_key(st->mac_key, o->cache_secret, o->cache_secret_len);
        st->sealed = 1;
    }
    atomic_init(&st->epoch, 1);
    atomic_init(&st->overflow, 0);
    for (i = 0; i < READER_SLOTS; i++) {
        atomic_init(&st->slots[i].epoch, 0);
    }
    if (apr_thread_mutex_create(&st->bad_mu, APR_THREAD_MUTEX_DEFAULT, p) != APR_SUCCESS ||
        apr_thread_mutex_create(&st->retire_mu, APR_THREAD_MUTEX_DEFAULT, p) != APR_SUCCESS ||
        apr_pool_create(&st->bad_pool, p) != APR_SUCCESS) {
        return APR_ENOMEM;
    }
    st->bad_keys = apr_hash_make(st->bad_pool);
    for (i = 0; i < registry->nelts; i++) {
        vjwt_ks_source_t *src = APR_ARRAY_IDX(registry, i, vjwt_ks_source_t *);
        apr_status_t rv;
        src->store = st;
        atomic_init(&src->cur, NULL);
        atomic_init(&src->kid_quiet_until, 0);
        src->local_attempt = 0;
        rv = apr_thread_mutex_create(&src->mutex, APR_THREAD_MUTEX_DEFAULT, p);
        if (rv == APR_SUCCESS) {
            rv = apr_thread_mutex_create(&src->fetch_mutex, APR_THREAD_MUTEX_DEFAULT, p);
        }
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    apr_pool_cleanup_register(p, st, store_cleanup, apr_pool_cleanup_null);
    *out = st;
    return APR_SUCCESS;
}

int vjwt_store_retry_after(const vjwt_store_t *st)
{
    int s = (int)apr_time_sec(st->o.refetch);
    return s > 0 ? s : 1;
}

/* ------------------------------------------------------------------------------------ */
/* snapshots                                                                            */

static void snapshot_destroy(snapshot_t *s)
{
    apr_pool_destroy(s->pool);
}

/* Builds a snapshot from a JWKS text. Symmetric keys are never taken from a remote set. */
static snapshot_t *snapshot_build(const vjwt_ks_source_t *src, const char *issuer, const char *jwks,
                                  apr_size_t len, apr_time_t fetched, apr_time_t refresh_at,
                                  apr_array_header_t *skipped, apr_pool_t *tp, const char **err)
{
    apr_pool_t *sp;
    snapshot_t *s;
    apr_array_header_t *keys = NULL;
    int i, first_note = skipped ? skipped->nelts : 0;
    apr_status_t rv;
    if (apr_pool_create_unmanaged_ex(&sp, NULL, NULL) != APR_SUCCESS) {
        *err = "out of memory";
        return NULL;
    }
    s = apr_pcalloc(sp, sizeof(*s));
    s->pool = sp;
    rv = vjwt_jwks_parse(&keys, sp, jwks, len, skipped, err);
    /* The parser writes its notes in sp, which may go below: the caller's copies are in tp. */
    for (i = first_note; skipped && i < skipped->nelts; i++) {
        APR_ARRAY_IDX(skipped, i, const char *) =
            apr_pstrdup(tp, APR_ARRAY_IDX(skipped, i, const char *));
    }
    if (rv != APR_SUCCESS) {
        *err = apr_pstrdup(tp, *err ? *err : "invalid key set"); /* sp goes now */
        apr_pool_destroy(sp);
        return NULL;
    }
    s->keys = apr_array_make(sp, keys->nelts, sizeof(const vjwt_key_t *));
    for (i = 0; i < keys->nelts; i++) {
        const vjwt_key_t *k = APR_ARRAY_IDX(keys, i, const vjwt_key_t *);
        if (k->kty == VJWT_KTY_OCT) {
            if (skipped) {
                APR_ARRAY_PUSH(skipped, const char *) = apr_psprintf(
                    tp, "%s: symmetric (oct) keys are not accepted from a fetched key set",
                    k->kid ? k->kid : apr_psprintf(tp, "#%d", i));
            }
            continue;
        }
        APR_ARRAY_PUSH(s->keys, const vjwt_key_t *) = k;
    }
    if (s->keys->nelts == 0) {
        *err = "the key set holds no usable signing key";
        apr_pool_destroy(sp);
        return NULL;
    }
    s->issuer = issuer ? apr_pstrdup(sp, issuer) : NULL;
    s->jwks_text = apr_pstrmemdup(sp, jwks, len);
    s->fetched = fetched;
    s->refresh_at = refresh_at;
    (void)src;
    return s;
}

/* ---- read sections ------------------------------------------------------------------
 * Epoch-based reclamation: a reader takes a free slot (compare-and-swap) and writes the
 * store's epoch into it, then loads the current snapshots; a replaced snapshot is tagged
 * with the epoch it was retired in and freed once no slot holds an epoch at or below that
 * tag. Readers take no lock and never wait; only writers (fetches, the background tick)
 * take retire_mu. All atomics are sequentially consistent: a reader whose slot the
 * writer did not see loads the snapshot the writer installed. */

/* Where a thread starts looking for a free slot, so threads rarely try the same one. */
static unsigned slot_hint(void)
{
    apr_uint64_t h = (apr_uint64_t)(apr_uintptr_t)apr_os_thread_current();
    return (unsigned)((h * APR_UINT64_C(0x9E3779B97F4A7C15)) >> 40) % READER_SLOTS;
}

void vjwt_store_read_begin(vjwt_store_t *st, vjwt_store_read_t *rd)
{
    unsigned start = slot_hint(), i;
    rd->st = st;
    for (i = 0; i < READER_SLOTS; i++) {
        unsigned n = (start + i) % READER_SLOTS;
        apr_uint64_t expect = 0, e = atomic_load(&st->epoch);
        if (atomic_load(&st->slots[n].epoch) == 0 &&
            atomic_compare_exchange_strong(&st->slots[n].epoch, &expect, e)) {
            rd->slot = (int)n;
            return;
        }
    }
    atomic_fetch_add(&st->overflow, 1); /* holds back every reclamation while it reads */
    rd->slot = -1;
}

void vjwt_store_read_end(vjwt_store_read_t *rd)
{
    if (!rd->st) {
        return;
    }
    if (rd->slot >= 0) {
        atomic_store(&rd->st->slots[rd->slot].epoch, 0);
    }
    else {
        atomic_fetch_sub(&rd->st->overflow, 1);
    }
    rd->st = NULL;
}

static apr_status_t read_end_cleanup(void *data)
{
    vjwt_store_read_end(data);
    return APR_SUCCESS;
}

/* 1 when no reader that began in epoch e or before is still reading. */
static int readers_past(vjwt_store_t *st, apr_uint64_t e)
{
    int i;
    if (atomic_load(&st->overflow) > 0) {
        return 0;
    }
    for (i = 0; i < READER_SLOTS; i++) {
        apr_uint64_t v = atomic_load(&st->slots[i].epoch);
        if (v != 0 && v <= e) {
            return 0;
        }
    }
    return 1;
}

/* Frees the retired snapshots that no reader can still see. */
static void reclaim(vjwt_store_t *st)
{
    snapshot_t **pp, *s;
    apr_thread_mutex_lock(st->retire_mu);
    for (pp = &st->retired; (s = *pp) != NULL;) {
        if (readers_past(st, s->retired_at)) {
            *pp = s->next_retired;
            snapshot_destroy(s);
        }
        else {
            pp = &s->next_retired;
        }
    }
    apr_thread_mutex_unlock(st->retire_mu);
}

int vjwt_store_retired(vjwt_store_t *st)
{
    snapshot_t *s;
    int n = 0;
    apr_thread_mutex_lock(st->retire_mu);
    for (s = st->retired; s; s = s->next_retired) {
        n++;
    }
    apr_thread_mutex_unlock(st->retire_mu);
    return n;
}

/* Swap in a new snapshot; the old one goes once every reader that may see it is done. */
static void snapshot_install(vjwt_ks_source_t *src, snapshot_t *s)
{
    vjwt_store_t *st = src->store;
    snapshot_t *old;
    apr_thread_mutex_lock(src->mutex);
    old = atomic_exchange(&src->cur, s);
    apr_thread_mutex_unlock(src->mutex);
    if (old) {
        apr_thread_mutex_lock(st->retire_mu);
        old->retired_at = atomic_fetch_add(&st->epoch, 1);
        old->next_retired = st->retired;
        st->retired = old;
        apr_thread_mutex_unlock(st->retire_mu);
        reclaim(st);
    }
}

/* The current snapshot (NULL when there is none); valid until the read section ends. */
static snapshot_t *snapshot_current(vjwt_ks_source_t *src)
{
    return atomic_load(&src->cur);
}

static apr_time_t current_fetched(vjwt_ks_source_t *src)
{
    snapshot_t *s;
    apr_time_t t;
    apr_thread_mutex_lock(src->mutex); /* a writer's view: cur is not replaced meanwhile */
    s = atomic_load(&src->cur);
    t = s ? s->fetched : 0;
    apr_thread_mutex_unlock(src->mutex);
    return t;
}

static int snapshot_usable(const vjwt_store_t *st, const snapshot_t *s, apr_time_t now)
{
    return s && (st->o.max_stale <= 0 || now - s->fetched <= st->o.max_stale);
}

/* ------------------------------------------------------------------------------------ */
/* the shared record: {"v":1,"fetched":usec,"refresh_at":usec,"issuer":...,"jwks":"..."} */

static int shared(const vjwt_store_t *st)
{
    return st->o.cache.get && st->o.cache.set;
}

static void cache_lock(const vjwt_store_t *st)
{
    if (st->o.cache.lock) {
        st->o.cache.lock(st->o.cache.baton);
    }
}

static void cache_unlock(const vjwt_store_t *st)
{
    if (st->o.cache.unlock) {
        st->o.cache.unlock(st->o.cache.baton);
    }
}

/* ---- authenticated values ---- */

static const char SEAL_LABEL[] = "mod_validate_jwt shared cache v1";
static const char SEAL_PREFIX[] = "vjwt1.";

void vjwt_cache_mac_key(unsigned char out[VJWT_CACHE_MAC_LEN], const unsigned char *secret,
                        apr_size_t len)
{
    size_t n = 0;
    if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, secret, len,
                   (const unsigned char *)SEAL_LABEL, sizeof(SEAL_LABEL) - 1, out,
                   VJWT_CACHE_MAC_LEN, &n) ||
        n != VJWT_CACHE_MAC_LEN) {
        /* cannot happen with a working libcrypto; a key nobody else has fails closed */
        EVP_Digest(secret, len, out, NULL, EVP_sha256(), NULL);
    }
}

/* HMAC-SHA-256(mac_key, name NUL val) into out; 0 on a libcrypto failure. */
static int seal_mac(const unsigned char *mac_key, const char *name, const char *val, apr_size_t len,
                    unsigned char out[VJWT_CACHE_MAC_LEN])
{
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    OSSL_PARAM params[2];
    size_t n = 0;
    int ok;
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();
    ok = ctx && EVP_MAC_init(ctx, mac_key, VJWT_CACHE_MAC_LEN, params) &&
         EVP_MAC_update(ctx, (const unsigned char *)name, strlen(name) + 1) &&
         EVP_MAC_update(ctx, (const unsigned char *)val, len) &&
         EVP_MAC_final(ctx, out, &n, VJWT_CACHE_MAC_LEN) && n == VJWT_CACHE_MAC_LEN;
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    return ok;
}

const char *vjwt_cache_record_seal(apr_pool_t *p, const unsigned char *mac_key, const char *name,
                                   const char *val, apr_size_t len, apr_size_t *outlen)
{
    unsigned char mac[VJWT_CACHE_MAC_LEN];
    const char *tag;
    char *out;
    apr_size_t tlen, plen = sizeof(SEAL_PREFIX) - 1;
    if (!mac_key) {
        *outlen = len;
        return apr_pstrmemdup(p, val, len);
    }
    if (!seal_mac(mac_key, name, val, len, mac)) {
        memset(mac, 0, sizeof(mac)); /* opens nowhere: readers ignore it */
    }
    tag = vjwt_b64url_encode(p, mac, sizeof(mac));
    tlen = strlen(tag);
    *outlen = plen + tlen + 1 + len;
    out = apr_palloc(p, *outlen + 1);
    memcpy(out, SEAL_PREFIX, plen);
    memcpy(out + plen, tag, tlen);
    out[plen + tlen] = '.';
    memcpy(out + plen + tlen + 1, val, len);
    out[*outlen] = 0;
    return out;
}

apr_status_t vjwt_cache_record_open(const unsigned char *mac_key, const char *name, const char *rec,
                                    apr_size_t len, const char **val, apr_size_t *vlen)
{
    unsigned char mac[VJWT_CACHE_MAC_LEN], want[VJWT_CACHE_MAC_LEN];
    apr_size_t plen = sizeof(SEAL_PREFIX) - 1, tlen = 43, i; /* 43: 32 bytes in base64url */
    unsigned v = 0;
    if (!rec) {
        return APR_EGENERAL;
    }
    if (!mac_key) {
        *val = rec;
        *vlen = len;
        return APR_SUCCESS;
    }
    if (len < plen + tlen + 1 || memcmp(rec, SEAL_PREFIX, plen) != 0 || rec[plen + tlen] != '.') {
        return APR_EGENERAL;
    }
    /* decode the tag by hand: no allocation, and no pool needed */
    for (i = 0; i < tlen; i++) {
        char c = rec[plen + i];
        unsigned d = c >= 'A' && c <= 'Z'   ? (unsigned)(c - 'A')
                     : c >= 'a' && c <= 'z' ? (unsigned)(c - 'a' + 26)
                     : c >= '0' && c <= '9' ? (unsigned)(c - '0' + 52)
                     : c == '-'             ? 62u
                     : c == '_'             ? 63u
                                            : 64u;
        if (d == 64u) {
            return APR_EGENERAL;
        }
        v = v << 6 | d;
        if (i % 4 == 3) {
            mac[i / 4 * 3] = (unsigned char)(v >> 16);
            mac[i / 4 * 3 + 1] = (unsigned char)(v >> 8);
            mac[i / 4 * 3 + 2] = (unsigned char)v;
            v = 0;
        }
    }
    /* 43 = 10 groups of 4 + 3 characters: 18 bits, 2 bytes and 2 unused (zero) bits */
    if (v & 3u) {
        return APR_EGENERAL;
    }
    mac[30] = (unsigned char)(v >> 10);
    mac[31] = (unsigned char)(v >> 2);
    if (!seal_mac(mac_key, name, rec + plen + tlen + 1, len - plen - tlen - 1, want) ||
        CRYPTO_memcmp(mac, want, sizeof(mac)) != 0) {
        return APR_EGENERAL;
    }
    *val = rec + plen + tlen + 1;
    *vlen = len - plen - tlen - 1;
    return APR_SUCCESS;
}

/* A value that failed authentication: logged once per process and cache key. */
static void bad_record(vjwt_store_t *st, apr_pool_t *tp, const char *key)
{
    const char *url = "?";
    int first, i;
    apr_thread_mutex_lock(st->bad_mu);
    first = !apr_hash_get(st->bad_keys, key, APR_HASH_KEY_STRING);
    if (first && apr_hash_count(st->bad_keys) < MAX_BAD_RECORDS) {
        const char *copy = apr_pstrdup(st->bad_pool, key);
        apr_hash_set(st->bad_keys, copy, APR_HASH_KEY_STRING, copy);
    }
    apr_thread_mutex_unlock(st->bad_mu);
    if (!first) {
        return;
    }
    for (i = 0; i < st->sources->nelts; i++) {
        const vjwt_ks_source_t *src = APR_ARRAY_IDX(st->sources, i, const vjwt_ks_source_t *);
        if (!strcmp(key, src->record_key) || !strcmp(key, src->attempt_key) ||
            !strcmp(key, src->generation_key)) {
            url = src->url;
        }
    }
    vjwt_log(&st->o.log, VJWT_LOG_WARN, VJWT_TAG(00221), tp,
             "the shared cache value %s (keys of %s) failed authentication: it was written "
             "with another ValidateJWTCacheSecret or by someone else; ignored, the keys are "
             "fetched from the source (logged once per process)",
             key, url);
}

/* get + open, under the cache lock held by the caller. APR_NOTFOUND for a value that fails
 * authentication. */
static apr_status_t cache_get_locked(vjwt_store_t *st, apr_pool_t *tp, const char *key,
                                     apr_size_t max, char **val, apr_size_t *len)
{
    const char *in = NULL;
    apr_size_t inlen = 0;
    apr_status_t rv = st->o.cache.get(
        st->o.cache.baton, tp, key, max && st->sealed ? max + VJWT_CACHE_SEAL_OVER : max, val, len);
    if (rv != APR_SUCCESS || !st->sealed) {
        return rv;
    }
    if (!*val || vjwt_cache_record_open(st->mac_key, key, *val, *len, &in, &inlen) != APR_SUCCESS) {
        *val = NULL;
        *len = 0;
        return APR_EGENERAL; /* the caller unlocks, then bad_record logs */
    }
    *val = (char *)in;
    *len = inlen;
    return APR_SUCCESS;
}

static apr_status_t cache_set_locked(vjwt_store_t *st, apr_pool_t *tp, const char *key,
                                     const char *val, apr_time_t expiry)
{
    apr_size_t len = strlen(val);
    if (st->sealed) {
        val = vjwt_cache_record_seal(tp, st->mac_key, key, val, len, &len);
    }
    return st->o.cache.set(st->o.cache.baton, tp, key, val, len, expiry);
}

/* One get or set under the cache lock (every access is locked: shmcb needs it). */
static apr_status_t cache_get(vjwt_store_t *st, apr_pool_t *tp, const char *key, apr_size_t max,
                              char **val, apr_size_t *len)
{
    apr_status_t rv;
    cache_lock(st);
    rv = cache_get_locked(st, tp, key, max, val, len);
    cache_unlock(st);
    if (rv == APR_EGENERAL && st->sealed) {
        bad_record(st, tp, key);
        rv = APR_NOTFOUND;
    }
    return rv;
}

static apr_status_t cache_set(vjwt_store_t *st, apr_pool_t *tp, const char *key, const char *val,
                              apr_time_t expiry)
{
    apr_status_t rv;
    cache_lock(st);
    rv = cache_set_locked(st, tp, key, val, expiry);
    cache_unlock(st);
    return rv;
}

/* fetched in (0, now + skew], refresh_at in [fetched, fetched + MAX_SET_LIFE]: then no
 * arithmetic on them (now - fetched, refresh_at + max_stale) can overflow. */
static int record_times_ok(apr_time_t now, json_int_t fetched, json_int_t refresh_at)
{
    return fetched > 0 && fetched <= now + MAX_CLOCK_SKEW && refresh_at >= fetched &&
           refresh_at - fetched <= MAX_SET_LIFE;
}

/* A time in decimal usec (attempt marker, generation entry) within (0, now + skew];
 * 0 when absent, malformed or out of range. */
static apr_time_t parse_cache_time(const char *val, apr_time_t now)
{
    apr_int64_t v = 0;
    const char *c = val;
    if (!c) {
        return 0;
    }
    while (apr_isdigit(*c)) {
        if (v > (now + MAX_CLOCK_SKEW) / 10) {
            return 0; /* beyond the bound whatever follows (and no overflow) */
        }
        v = v * 10 + (*c++ - '0');
    }
    if (c == val || (*c && *c != ' ') || v > now + MAX_CLOCK_SKEW) {
        return 0;
    }
    return (apr_time_t)v;
}

static snapshot_t *record_load(vjwt_ks_source_t *src, apr_pool_t *tp, apr_time_t newer_than)
{
    vjwt_store_t *st = src->store;
    char *val = NULL;
    apr_size_t len = 0;
    json_t *j = NULL, *jw, *ji, *jf, *jr;
    const char *err = NULL;
    snapshot_t *s;
    apr_status_t rv;
    if (!shared(st)) {
        return NULL;
    }
    rv = cache_get(st, tp, src->record_key, 0, &val, &len);
    if (rv != APR_SUCCESS) {
        return NULL;
    }
    if (vjwt_json_parse(&j, tp, val, len, 1, &err) != APR_SUCCESS) {
        return NULL;
    }
    jw = json_object_get(j, "jwks");
    ji = json_object_get(j, "issuer");
    jf = json_object_get(j, "fetched");
    jr = json_object_get(j, "refresh_at");
    if (!json_is_string(jw) || !json_is_integer(jf) || !json_is_integer(jr) ||
        json_integer_value(jf) <= newer_than) {
        return NULL;
    }
    if (!record_times_ok(now_of(st), json_integer_value(jf), json_integer_value(jr))) {
        vjwt_log(&st->o.log, VJWT_LOG_WARN, VJWT_TAG(00210), tp,
                 "the shared cache entry for %s holds fetch times out of range; ignored", src->url);
        return NULL;
    }
    s = snapshot_build(src, json_is_string(ji) ? json_string_value(ji) : NULL,
                       json_string_value(jw), json_string_length(jw),
                       (apr_time_t)json_integer_value(jf), (apr_time_t)json_integer_value(jr), NULL,
                       tp, &err);
    if (s) {
        vjwt_log(&st->o.log, VJWT_LOG_INFO, VJWT_TAG(00203), tp,
                 "keys of %s taken from the shared cache: %d key(s), fetched %" APR_TIME_T_FMT
                 " s ago by another process or host",
                 src->url, s->keys->nelts, apr_time_sec(now_of(st) - s->fetched));
    }
    return s;
}

static void record_store(vjwt_ks_source_t *src, apr_pool_t *tp, const snapshot_t *s)
{
    vjwt_store_t *st = src->store;
    json_t *j;
    char *text;
    apr_status_t rv;
    apr_time_t expiry;
    if (!shared(st)) {
        return;
    }
    j = json_pack("{s:i, s:s, s:I, s:I, s:s?, s:s}", "v", 1, "url", src->url, "fetched",
                  (json_int_t)s->fetched, "refresh_at", (json_int_t)s->refresh_at, "issuer",
                  s->issuer, "jwks", s->jwks_text);
    if (!j) {
        return;
    }
    text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (!text) {
        return;
    }
    /* Kept past refresh_at so that a stale-but-good set survives an IdP outage. */
    expiry = s->refresh_at + (st->o.max_stale > 0 ? st->o.max_stale : apr_time_from_sec(86400 * 7));
    rv = cache_set(st, tp, src->record_key, text, expiry);
    free(text);
    if (rv == APR_SUCCESS) {
        rv = cache_set(st, tp, src->generation_key,
                       apr_psprintf(tp, "%" APR_TIME_T_FMT, s->fetched), expiry);
    }
    if (rv != APR_SUCCESS) {
        vjwt_log(&st->o.log, VJWT_LOG_WARN, VJWT_TAG(00204), tp,
                 "cannot store the keys of %s in the shared cache (status %d); other processes "
                 "will fetch them themselves",
                 src->url, rv);
    }
}

/* The attempt marker: at most one fetch per source per refetch interval, server-wide.
 * Returns 1 when this caller may fetch now (and has set the marker). */
static int attempt_claim(vjwt_ks_source_t *src, apr_pool_t *tp, apr_time_t now,
                         apr_time_t *claimed_at, int *failed)
{
    vjwt_store_t *st = src->store;
    int ok;
    apr_status_t got = APR_NOTFOUND;
    *claimed_at = 0;
    *failed = 0;
    if (!shared(st)) {
        ok = !src->local_attempt || now - src->local_attempt >= st->o.refetch;
        if (ok) {
            src->local_attempt = now;
        }
        else {
            *claimed_at = src->local_attempt;
        }
        return ok;
    }
    cache_lock(st);
    {
        char *val = NULL;
        apr_size_t len = 0;
        apr_time_t mark_at = 0;
        got = cache_get_locked(st, tp, src->attempt_key, 64, &val, &len);
        if (got == APR_SUCCESS && val) {
            mark_at = parse_cache_time(val, now); /* 0: none, or planted out of range */
        }
        if (mark_at && now - mark_at < st->o.refetch) {
            *claimed_at = mark_at;
            *failed = strstr(val, " failed") != NULL;
            ok = 0;
        }
        else {
            const char *mark = apr_psprintf(tp, "%" APR_TIME_T_FMT, now);
            cache_set_locked(st, tp, src->attempt_key, mark, now + st->o.refetch);
            ok = 1;
        }
    }
    cache_unlock(st);
    if (got == APR_EGENERAL && st->sealed) {
        bad_record(st, tp, src->attempt_key); /* not under the cache lock */
    }
    return ok;
}

/* The claimed attempt failed: processes waiting for its result stop waiting. */
static void attempt_failed(vjwt_ks_source_t *src, apr_pool_t *tp, apr_time_t claimed)
{
    vjwt_store_t *st = src->store;
    const char *mark = apr_psprintf(tp, "%" APR_TIME_T_FMT " failed", claimed);
    if (shared(st)) {
        cache_set(st, tp, src->attempt_key, mark, claimed + st->o.refetch);
    }
}

/* Whether the attempt being waited for has failed. */
static int attempt_has_failed(vjwt_ks_source_t *src, apr_pool_t *tp)
{
    vjwt_store_t *st = src->store;
    char *val = NULL;
    apr_size_t len = 0;
    apr_status_t rv = cache_get(st, tp, src->attempt_key, 64, &val, &len);
    return rv == APR_SUCCESS && val && strstr(val, " failed") != NULL;
}

/* ------------------------------------------------------------------------------------ */
/* fetching                                                                             */

static apr_status_t get_doc(vjwt_store_t *st, apr_pool_t *tp, const char *url,
                            const vjwt_fetch_opts_t *fo, vjwt_fetch_result_t *res, long *max_age)
{
    apr_status_t rv = st->o.fetcher ? st->o.fetcher(st->o.fetcher_baton, tp, url, fo, res)
                                    : vjwt_fetch(tp, url, fo, res);
    if (rv == APR_SUCCESS && res->max_age >= 0 && (*max_age < 0 || res->max_age < *max_age)) {
        /* remote number: bounded before it ever becomes an apr_time_t */
        *max_age = res->max_age > VJWT_FETCH_MAX_AGE_MAX ? VJWT_FETCH_MAX_AGE_MAX : res->max_age;
    }
    return rv;
}

static int keys_lenient(const apr_array_header_t *keys)
{
    int i;
    for (i = 0; i < keys->nelts; i++) {
        if (APR_ARRAY_IDX(keys, i, const vjwt_key_t *)->lenient) {
            return 1;
        }
    }
    return 0;
}

/* Fetches the source's discovery document: its issuer and a jwks_uri that obeys the rules
 * of configured URLs. Returns 0 with *err on failure. */
static int read_discovery(vjwt_ks_source_t *src, apr_pool_t *tp, const vjwt_fetch_opts_t *fo,
                          long *max_age, const char **issuer, const char **jwks_url,
                          const char **err)
{
    vjwt_store_t *st = src->store;
    vjwt_fetch_result_t res;
    json_t *doc = NULL, *ji, *ju;
    const char *jerr = NULL, *why;
    if (get_doc(st, tp, src->url, fo, &res, max_age) != APR_SUCCESS) {
        *err = res.error ? res.error : "fetch failed";
        return 0;
    }
    if (vjwt_json_parse(&doc, tp, res.body, res.len, 1, &jerr) != APR_SUCCESS) {
        *err = apr_psprintf(tp, "the discovery document is not a JSON object: %s",
                            jerr ? jerr : "parse error");
        return 0;
    }
    ji = json_object_get(doc, "issuer");
    ju = json_object_get(doc, "jwks_uri");
    if (!json_is_string(ji) || !*json_string_value(ji)) {
        *err = "the discovery document has no 'issuer' string";
        return 0;
    }
    if (!json_is_string(ju) || !*json_string_value(ju)) {
        *err = "the discovery document has no 'jwks_uri' string";
        return 0;
    }
    *issuer = json_string_value(ji);
    *jwks_url = json_string_value(ju);
    why = vjwt_fetch_check_url(tp, *jwks_url, st->o.fetch.allow_http);
    if (why) {
        *err = apr_psprintf(tp, "jwks_uri '%s' %s", *jwks_url, why);
        return 0;
    }
    return 1;
}

/* How long fetched keys are fresh: the configured refresh, shortened by the documents'
 * max-age (max_age < 0: none), at most half of the stale limit, at least the refetch
 * floor. */
static apr_interval_time_t refresh_interval(const vjwt_store_t *st, long max_age)
{
    apr_interval_time_t interval = st->o.refresh;

    if (max_age >= 0 && apr_time_from_sec(max_age) < interval) {
        interval = apr_time_from_sec(max_age);
    }
    /* Refresh well before the keys would go stale while the provider is up. */
    if (st->o.max_stale > 0 && interval > st->o.max_stale / 2) {
        interval = st->o.max_stale / 2;
    }
    if (interval < st->o.refetch) {
        interval = st->o.refetch;
    }
    return interval;
}

/* One warning per skipped key, at most MAX_SKIP_NOTES of them: a hostile set of 100,000
 * broken keys must not flood the error log. */
static void log_skipped(vjwt_store_t *st, apr_pool_t *tp, const char *jwks_url,
                        const apr_array_header_t *skipped)
{
    int i;

    for (i = 0; i < skipped->nelts && i < MAX_SKIP_NOTES; i++) {
        vjwt_log(&st->o.log, VJWT_LOG_WARN, VJWT_TAG(00202), tp, "%s: key skipped: %s", jwks_url,
                 APR_ARRAY_IDX(skipped, i, const char *));
    }
    if (skipped->nelts > MAX_SKIP_NOTES) {
        vjwt_log(&st->o.log, VJWT_LOG_WARN, VJWT_TAG(00211), tp, "%s: %d more key(s) skipped",
                 jwks_url, skipped->nelts - MAX_SKIP_NOTES);
    }
}

/* Fetch the source; on success a new snapshot (not yet installed). */
static snapshot_t *source_fetch(vjwt_ks_source_t *src, apr_pool_t *tp, apr_time_t now,
                                const char **err)
{
    vjwt_store_t *st = src->store;
    vjwt_fetch_result_t res;
    const char *jwks_url = src->url, *issuer = NULL;
    long max_age = -1;
    apr_array_header_t *skipped = apr_array_make(tp, 2, sizeof(const char *));
    snapshot_t *s;
    vjwt_fetch_opts_t fo = st->o.fetch;

    if (!fo.stopping) {
        fo.stopping = st->o.stopping;
    }
    /* One time limit for the discovery document and the key set together. */
    if (!fo.deadline) {
        fo.deadline = apr_time_now() + apr_time_from_msec(fo.timeout_ms);
    }

    if (src->kind == VJWT_KS_DISCOVERY &&
        !read_discovery(src, tp, &fo, &max_age, &issuer, &jwks_url, err)) {
        return NULL;
    }
    if (get_doc(st, tp, jwks_url, &fo, &res, &max_age) != APR_SUCCESS) {
        *err = res.error ? res.error : "fetch failed";
        return NULL;
    }
    s = snapshot_build(src, issuer, res.body, res.len, now, now + refresh_interval(st, max_age),
                       skipped, tp, err);
    log_skipped(st, tp, jwks_url, skipped);
    if (!s && *err) {
        *err = apr_psprintf(tp, "%s: %s", jwks_url, *err);
    }
    if (s && keys_lenient(s->keys)) {
        vjwt_log(&st->o.log, VJWT_LOG_NOTICE, VJWT_TAG(00220), tp,
                 "%s: some key members are standard base64 or padded, not base64url "
                 "(RFC 7518 6); decoded leniently",
                 jwks_url);
    }
    return s;
}

static const char *kid_list(apr_pool_t *p, const snapshot_t *s)
{
    const char *out = "";
    int i;
    for (i = 0; i < s->keys->nelts && i < 16; i++) {
        const vjwt_key_t *k = APR_ARRAY_IDX(s->keys, i, const vjwt_key_t *);
        out = apr_pstrcat(p, out, i ? " " : "", k->kid ? k->kid : "-", NULL);
    }
    return out;
}

static int has_kid(const snapshot_t *s, const char *kid);

/* The fetch mutex, waiting at most until `until` (real time; 0: not at all) for a fetch of
 * another thread to end. A request never blocks longer than the fetch time limit. */
static int fetch_lock(vjwt_ks_source_t *src, apr_time_t until, int *waited)
{
    for (;;) {
        if (apr_thread_mutex_trylock(src->fetch_mutex) == APR_SUCCESS) {
            return 1;
        }
        if (!until || apr_time_now() >= until) {
            return 0;
        }
        *waited = 1;
        apr_sleep(apr_time_from_msec(10));
    }
}

/* Fetches the source now (the caller holds the attempt claim and the fetch mutex): on
 * success the new keys are shared through the cache and installed (returns 1); on failure
 * the attempt is marked failed and the last good keys stay (returns 0). */
static int fetch_and_install(vjwt_ks_source_t *src, apr_pool_t *tp, apr_time_t now)
{
    vjwt_store_t *st = src->store;
    const char *err = NULL;
    apr_time_t started = apr_time_now();
    snapshot_t *s;
    s = source_fetch(src, tp, now, &err);
    if (!s) {
        if (st->o.on_fetch) {
            st->o.on_fetch(st->o.on_fetch_baton, src->url, 1, apr_time_now() - started, 0, 0);
        }
        attempt_failed(src, tp, now);
        apr_time_t kept = current_fetched(src);
        vjwt_log(&st->o.log, VJWT_LOG_WARN, VJWT_TAG(00201), tp,
                 "fetching keys from %s failed: %s; %s; next attempt in %d s", src->url,
                 err ? err : "unknown error",
                 kept ? apr_psprintf(tp, "keeping the keys fetched %" APR_TIME_T_FMT " s ago",
                                     apr_time_sec(now - kept))
                      : "no keys yet (requests that need them get 503)",
                 vjwt_store_retry_after(st));
        return 0;
    }
    {
        int rotated;
        apr_thread_mutex_lock(src->mutex);
        snapshot_t *cur = atomic_load(&src->cur);
        rotated = !cur || strcmp(cur->jwks_text, s->jwks_text) != 0;
        apr_thread_mutex_unlock(src->mutex);
        vjwt_log(&st->o.log, rotated ? VJWT_LOG_NOTICE : VJWT_LOG_INFO, VJWT_TAG(00200), tp,
                 "keys of %s %s: %d key(s) [%s]%s%s; next refresh in %" APR_TIME_T_FMT " s",
                 src->url, rotated ? "loaded" : "refreshed (unchanged)", s->keys->nelts,
                 kid_list(tp, s), s->issuer ? ", issuer " : "", s->issuer ? s->issuer : "",
                 apr_time_sec(s->refresh_at - now));
        if (st->o.on_fetch) {
            st->o.on_fetch(st->o.on_fetch_baton, src->url, rotated ? 0 : 2,
                           apr_time_now() - started, s->keys->nelts, s->fetched);
        }
    }
    record_store(src, tp, s);
    snapshot_install(src, s);
    return 1;
}

/* A process without keys whose attempt claim was refused: someone else is fetching right
 * now. Wait for their record, at most the fetch time limit in all (their fetch of discovery
 * + JWKS is bounded by it too). Returns 1 when their keys were installed; *failed is set
 * when their attempt failed. */
static int wait_for_peer(vjwt_ks_source_t *src, apr_pool_t *tp, apr_time_t claimed_at,
                         apr_time_t wait_end, int *failed)
{
    vjwt_store_t *st = src->store;
    apr_time_t until = claimed_at + apr_time_from_msec(st->o.fetch.timeout_ms) + COLD_POLL;
    while (now_of(st) < until && apr_time_now() < wait_end) {
        apr_pool_t *pp;
        snapshot_t *s;
        apr_sleep(COLD_POLL);
        apr_pool_create(&pp, tp);
        s = record_load(src, pp, 0);
        *failed = !s && attempt_has_failed(src, pp);
        apr_pool_destroy(pp);
        if (*failed) {
            return 0;
        }
        if (s) {
            snapshot_install(src, s);
            return 1;
        }
    }
    return 0;
}

/* A process without keys that was refused the attempt claim, and whose peer's attempt has
 * ended without failing, yet finds no record it can read: the record was lost (evicted
 * from a full cache, too large for it, or refused by the cache secret). Waiting for the
 * floor would leave this process answering 503 although the provider is up, so it fetches
 * by itself, at most once per refetch interval per process. Only cold processes do this:
 * unknown-kid refetches stay under the server-wide floor. Called with the fetch mutex. */
static int lost_record(vjwt_ks_source_t *src, update_mode_e mode, apr_time_t now,
                       apr_time_t claimed_at, int settled)
{
    vjwt_store_t *st = src->store;
    /* now is when this request came in: a request that has waited for the peer's attempt
     * has used its time and does not fetch as well; the second of grace covers the peer
     * still writing its outcome. */
    if (mode != UPDATE_COLD || settled || !shared(st) || current_fetched(src) ||
        now - claimed_at < apr_time_from_msec(st->o.fetch.timeout_ms) + LOST_RECORD_GRACE) {
        return 0;
    }
    if (src->local_attempt && now - src->local_attempt < st->o.refetch) {
        return 0;
    }
    src->local_attempt = now;
    return 1;
}

/* Takes the fetch mutex for an update; 0 when it was not taken. */
static int update_lock(vjwt_ks_source_t *src, update_mode_e mode, apr_time_t now,
                       apr_time_t wait_end, int *waited)
{
    vjwt_store_t *st = src->store;
    apr_time_t have = current_fetched(src);

    if (mode == UPDATE_REFRESH ||
        (mode == UPDATE_KID && have && (st->o.max_stale <= 0 || now - have <= st->o.max_stale))) {
        /* The background refresh, and an unknown kid while this process has usable keys,
         * never wait for a fetch another thread runs: the token is judged against the keys
         * we have (the other fetch installs its keys for the next request). */
        return fetch_lock(src, 0, waited);
    }
    /* 0: no keys yet, and another thread's fetch outlasted the time limit */
    return fetch_lock(src, wait_end, waited);
}

/* Step 1 of an update: another process or host may have fetched already, and another
 * thread of this process may have loaded keys while we waited. Installs a newer shared
 * record (*changed). Returns 1 when that settles the update; *have is then the fetch time
 * of the keys this process has. */
static int settled_by_record(vjwt_ks_source_t *src, apr_pool_t *tp, update_mode_e mode,
                             apr_time_t now, const char *kid, apr_time_t *have, int *changed)
{
    snapshot_t *s;
    apr_time_t due;

    *have = current_fetched(src);
    s = record_load(src, tp, *have);
    if (s) {
        int fresh = s->refresh_at > now, found = kid && has_kid(s, kid);
        snapshot_install(src, s);
        *changed = 1;
        *have = s->fetched;
        /* UPDATE_KID: when the shared keys lack the kid too, fetch if the floor allows. */
        return mode == UPDATE_COLD || (mode == UPDATE_REFRESH && fresh) ||
               (mode == UPDATE_KID && found);
    }
    if (mode == UPDATE_COLD && *have) {
        return 1; /* another thread of this process loaded keys while we waited */
    }
    if (mode == UPDATE_REFRESH && *have) {
        apr_thread_mutex_lock(src->mutex);
        s = atomic_load(&src->cur);
        due = s ? s->refresh_at : 0;
        apr_thread_mutex_unlock(src->mutex);
        return due > now;
    }
    return 0;
}

/* Bring the source up to date (kid: the unknown kid of UPDATE_KID). Returns 1 when a
 * different snapshot was installed. */
static int source_update(vjwt_ks_source_t *src, apr_pool_t *tp, update_mode_e mode, const char *kid)
{
    vjwt_store_t *st = src->store;
    apr_time_t now = now_of(st), have, claimed_at;
    apr_time_t wait_end = apr_time_now() + apr_time_from_msec(st->o.fetch.timeout_ms);
    int changed = 0, failed = 0, waited = 0;

    if (!update_lock(src, mode, now, wait_end, &waited)) {
        return 0;
    }
    /* 1. Another process or host may have fetched already. */
    if (settled_by_record(src, tp, mode, now, kid, &have, &changed)) {
        goto done;
    }

    /* 2. At most one fetch per refetch interval in the whole server. A request that has
     * waited for another thread's attempt takes its outcome and does not start another:
     * what it waits for in all stays within the fetch time limit. */
    if (waited) {
        goto done;
    }
    if (!attempt_claim(src, tp, now, &claimed_at, &failed)) {
        if (mode == UPDATE_COLD && !have && shared(st) && !failed) {
            changed |= wait_for_peer(src, tp, claimed_at, wait_end, &failed);
        }
        if (!lost_record(src, mode, now, claimed_at, failed || changed)) {
            goto done;
        }
    }

    /* 3. Fetch; no lock that readers need is held. */
    changed |= fetch_and_install(src, tp, now);

done:
    apr_thread_mutex_unlock(src->fetch_mutex);
    return changed;
}

/* ------------------------------------------------------------------------------------ */
/* request path and background                                                          */

/* The current snapshot of src if it is usable now; one that never loaded keys (or whose
 * keys are too old) is loaded first, as vjwt_store_collect says. Inside a read section. */
static snapshot_t *usable_snapshot(vjwt_store_t *st, vjwt_ks_source_t *src, apr_pool_t *rp,
                                   apr_time_t now)
{
    snapshot_t *s = snapshot_current(src);
    if (!snapshot_usable(st, s, now)) {
        apr_pool_t *tp;
        apr_pool_create(&tp, rp);
        source_update(src, tp, UPDATE_COLD, NULL);
        apr_pool_destroy(tp);
        s = snapshot_current(src);
    }
    return snapshot_usable(st, s, now) ? s : NULL;
}

/* FNV-1a step over a snapshot's fetch time: a new key set always has a new one. */
static apr_uint64_t generation_step(apr_uint64_t g, const snapshot_t *s, int i)
{
    return (g ^ (apr_uint64_t)s->fetched ^ (apr_uint64_t)i) * APR_UINT64_C(1099511628211);
}

int vjwt_store_generation(vjwt_store_t *st, const apr_array_header_t *sources, apr_uint64_t *gen)
{
    apr_time_t now = now_of(st);
    int i;
    *gen = 0;
    for (i = 0; sources && i < sources->nelts; i++) {
        snapshot_t *s = snapshot_current(APR_ARRAY_IDX(sources, i, vjwt_ks_source_t *));
        if (!snapshot_usable(st, s, now)) {
            return 0;
        }
        *gen = generation_step(*gen, s, i);
    }
    return 1;
}

void vjwt_store_view(vjwt_store_t *st, apr_pool_t *rp, const apr_array_header_t *sources,
                     const apr_array_header_t *static_keys, vjwt_keys_view_t *view)
{
    apr_time_t now = now_of(st);
    int i, k, nstatic = static_keys ? static_keys->nelts : 0;
    view->keys = apr_array_make(rp, nstatic + 8, sizeof(const vjwt_key_t *));
    view->issuers = apr_array_make(rp, 2, sizeof(const char *));
    view->key_issuers = apr_array_make(rp, nstatic + 8, sizeof(const char *));
    view->unavailable = 0;
    view->generation = 0;
    if (static_keys) {
        apr_array_cat(view->keys, static_keys);
        for (i = 0; i < nstatic; i++) {
            APR_ARRAY_PUSH(view->key_issuers, const char *) = NULL;
        }
    }
    for (i = 0; sources && i < sources->nelts; i++) {
        snapshot_t *s = usable_snapshot(st, APR_ARRAY_IDX(sources, i, vjwt_ks_source_t *), rp, now);
        if (!s) {
            view->unavailable++;
            continue;
        }
        apr_array_cat(view->keys, s->keys);
        for (k = 0; k < s->keys->nelts; k++) {
            APR_ARRAY_PUSH(view->key_issuers, const char *) = s->issuer ? s->issuer : "";
        }
        view->generation = generation_step(view->generation, s, i);
        if (s->issuer) {
            APR_ARRAY_PUSH(view->issuers, const char *) = s->issuer;
        }
    }
}

void vjwt_store_collect(vjwt_store_t *st, apr_pool_t *rp, const apr_array_header_t *sources,
                        const apr_array_header_t *static_keys, vjwt_keys_view_t *view)
{
    vjwt_store_read_t *rd = apr_palloc(rp, sizeof(*rd));
    vjwt_store_read_begin(st, rd);
    apr_pool_cleanup_register(rp, rd, read_end_cleanup, apr_pool_cleanup_null);
    vjwt_store_view(st, rp, sources, static_keys, view);
}

static int has_kid(const snapshot_t *s, const char *kid)
{
    int i;
    for (i = 0; i < s->keys->nelts; i++) {
        const vjwt_key_t *k = APR_ARRAY_IDX(s->keys, i, const vjwt_key_t *);
        if (k->kid && strcmp(k->kid, kid) == 0) {
            return 1;
        }
    }
    return 0;
}

/* The set of unknown kids holds a 64-bit digest of each: the first bytes of its SHA-256
 * (never 0), so that no kid can be chosen to pass for another. */
static apr_uint64_t unknown_digest(const char *kid)
{
    unsigned char d[32];
    apr_uint64_t h = 0;
    int i;
    vjwt_sha256(kid, strlen(kid), d);
    for (i = 0; i < 8; i++) {
        h = (h << 8) | d[i];
    }
    return h ? h : 1;
}

static int unknown_has(snapshot_t *s, apr_uint64_t h)
{
    unsigned i, n = (unsigned)(h % UNKNOWN_SLOTS);
    for (i = 0; i < UNKNOWN_SLOTS; i++, n = (n + 1) % UNKNOWN_SLOTS) {
        apr_uint64_t v = atomic_load(&s->unknown[n]);
        if (v == h) {
            return 1;
        }
        if (v == 0) {
            return 0;
        }
    }
    return 0;
}

/* Under the source's mutex; at most MAX_UNKNOWN_KIDS, so probes stay short. */
static void unknown_add(snapshot_t *s, apr_uint64_t h)
{
    unsigned n = (unsigned)(h % UNKNOWN_SLOTS);
    if (s->n_unknown >= MAX_UNKNOWN_KIDS || unknown_has(s, h)) {
        return;
    }
    while (atomic_load(&s->unknown[n]) != 0) {
        n = (n + 1) % UNKNOWN_SLOTS;
    }
    atomic_store(&s->unknown[n], h);
    s->n_unknown++;
}

int vjwt_store_refetch_for_kid(vjwt_store_t *st, apr_pool_t *rp, const apr_array_header_t *sources,
                               const char *kid)
{
    apr_uint64_t kid_digest = unknown_digest(kid);
    vjwt_store_read_t rd;
    int i, changed = 0;
    vjwt_store_read_begin(st, &rd);
    for (i = 0; sources && i < sources->nelts; i++) {
        vjwt_ks_source_t *src = APR_ARRAY_IDX(sources, i, vjwt_ks_source_t *);
        snapshot_t *s;
        int updated;
        apr_pool_t *tp;
        apr_time_t seen;

        s = snapshot_current(src);
        /* A source without usable keys was just tried by vjwt_store_collect in this
         * request (waiting up to the fetch limit): trying it again would double the wait. */
        if (!snapshot_usable(st, s, now_of(st)) || unknown_has(s, kid_digest) ||
            now_of(st) < atomic_load(&src->kid_quiet_until)) {
            continue;
        }
        apr_pool_create(&tp, rp);
        seen = now_of(st);
        updated = source_update(src, tp, UPDATE_KID, kid);
        apr_pool_destroy(tp);
        changed |= updated;
        if (!updated) {
            /* refetch floor: not remembered, a later request may fetch; not before a second
             * has passed, though (the tick follows the shared record every second anyway) */
            atomic_store(&src->kid_quiet_until, seen + KID_QUIET);
            continue;
        }
        /* Keys fetched after the kid was first seen still lack it: remember that until the
         * next fetch. (Older keys from the shared cache prove nothing.) */
        s = snapshot_current(src);
        if (s && s->fetched >= seen && !has_kid(s, kid)) {
            apr_thread_mutex_lock(src->mutex);
            unknown_add(s, kid_digest);
            apr_thread_mutex_unlock(src->mutex);
        }
    }
    vjwt_store_read_end(&rd);
    return changed;
}

/* Keys that another process or host fetched after ours: take them (a rotation that
 * removed a key must reach every child, not only the one that refetched). */
static void follow_shared(vjwt_ks_source_t *src, apr_pool_t *tp, apr_time_t have)
{
    vjwt_store_t *st = src->store;
    char *val = NULL;
    apr_size_t len = 0;
    snapshot_t *s;
    if (!shared(st) || !have ||
        cache_get(st, tp, src->generation_key, 32, &val, &len) != APR_SUCCESS || !val ||
        parse_cache_time(val, now_of(st)) <= have) {
        return;
    }
    if (apr_thread_mutex_trylock(src->fetch_mutex) != APR_SUCCESS) {
        return; /* a refresh of this source is running in this process */
    }
    s = record_load(src, tp, current_fetched(src));
    if (s) {
        snapshot_install(src, s);
    }
    apr_thread_mutex_unlock(src->fetch_mutex);
}

void vjwt_store_tick(vjwt_store_t *st, apr_pool_t *p)
{
    apr_time_t now = now_of(st);
    int i;
    for (i = 0; i < st->sources->nelts; i++) {
        vjwt_ks_source_t *src = APR_ARRAY_IDX(st->sources, i, vjwt_ks_source_t *);
        apr_time_t due, have;
        apr_pool_t *tp;
        snapshot_t *s;
        if (st->o.stopping && st->o.stopping()) {
            return; /* the process is going: leave the rest (and keep exit short) */
        }
        apr_thread_mutex_lock(src->mutex);
        s = atomic_load(&src->cur);
        due = s ? s->refresh_at : 0;
        have = s ? s->fetched : 0;
        apr_thread_mutex_unlock(src->mutex);
        apr_pool_create(&tp, p);
        if (due <= now) {
            source_update(src, tp, UPDATE_REFRESH, NULL);
        }
        else {
            follow_shared(src, tp, have);
        }
        apr_pool_destroy(tp);
    }
    reclaim(st); /* snapshots whose last readers have finished since they were replaced */
}
