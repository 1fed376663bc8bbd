/*
 * vjwt_mod_store.c - httpd side of the key store: the registry of key sources, the socache
 * instance and global mutex behind the core's cache port, the watchdog thread that
 * refreshes keys in every child, the per-child token cache, and the log
 * bridge. Its directives are in vjwt_mod_config.c.
 *
 * Thread context: check_config and post_config in the parent at
 * configuration time; child_init once per child; the cache port and the watchdog callback
 * on any thread of a child.
 */
#include <string.h>

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "ap_provider.h"
#include "ap_socache.h"
#include "util_mutex.h"
#include "mod_watchdog.h"
#include "ap_mpm.h"
#include "apr_atomic.h"
#include "apr_strings.h"
#include "apr_global_mutex.h"
#include "apr_optional.h"

#include "vjwt_mod.h"

APLOG_USE_MODULE(validate_jwt);

#define SOURCES_KEY        "validate_jwt:sources"
#define MUTEX_TYPE         "validate-jwt-keys"
#define CACHE_CNAME        "validate_jwt"
#define WATCHDOG_NAME      "validate_jwt"
#define DEFAULT_CACHE      "shmcb"
#define DEFAULT_SHMCB_SIZE "(4194304)"
#define RECORD_SLACK       4096

/* Where a source was declared, for the check_config URL check. */
typedef struct {
    vjwt_ks_source_t *src;
    const char *directive;
    const char *file;
    int line;
} source_decl_t;

typedef struct {
    apr_array_header_t *sources; /* vjwt_ks_source_t *, for the core */
    apr_array_header_t *decls;   /* source_decl_t */
} registry_t;

/* The cache port's state. Written in post_config (before fork), read-only afterwards. */
typedef struct {
    ap_socache_provider_t *prov;
    ap_socache_instance_t *inst;
    apr_global_mutex_t *mutex;
    server_rec *s;
    apr_size_t max;
} cache_t;

static vjwt_store_t *the_store;
static cache_t *the_cache;
/* The token cache, made in child_init before threads serve: records of accepted tokens,
 * and a smaller one of tokens refused for good (so a flood of one bad token is as cheap
 * as one good token presented again, and can't push good tokens out). */
static vjwt_vcache_t *the_accepted, *the_rejected;

#define DEFAULT_TOKEN_CACHE_ENTRIES 10000
#define DEFAULT_TOKEN_CACHE_BYTES   (1024 * 1024)
#define TOKEN_CACHE_MAX_TTL         apr_time_from_sec(3600)

void vjwt_mod_token_cache(vjwt_vcache_t **accepted, vjwt_vcache_t **rejected)
{
    *accepted = the_accepted;
    *rejected = the_rejected;
}

vjwt_store_t *vjwt_mod_store(void)
{
    return the_store;
}

static registry_t *registry(apr_pool_t *pconf)
{
    void *data = NULL;
    registry_t *reg;
    apr_pool_userdata_get(&data, SOURCES_KEY, pconf);
    if (data) {
        return data;
    }
    reg = apr_pcalloc(pconf, sizeof(*reg));
    reg->sources = apr_array_make(pconf, 4, sizeof(vjwt_ks_source_t *));
    reg->decls = apr_array_make(pconf, 4, sizeof(source_decl_t));
    apr_pool_userdata_set(reg, SOURCES_KEY, apr_pool_cleanup_null, pconf);
    return reg;
}

const char *vjwt_mod_add_source(cmd_parms *cmd, vjwt_policy_t *pol, vjwt_ks_kind_e kind,
                                const char *url)
{
    return vjwt_mod_add_source_at(cmd, pol, kind, url, cmd->directive->filename,
                                  cmd->directive->line_num);
}

const char *vjwt_mod_add_source_at(cmd_parms *cmd, vjwt_policy_t *pol, vjwt_ks_kind_e kind,
                                   const char *url, const char *file, int line)
{
    registry_t *reg = registry(cmd->pool);
    source_decl_t *d;
    /* Scheme and syntax now; plain http to non-loopback hosts once ValidateJWTFetchAllowHTTP
     * is known (check_config). */
    const char *why = vjwt_fetch_check_url(cmd->temp_pool, url, 1);
    if (why) {
        return apr_psprintf(cmd->pool, "%s: '%s' %s", cmd->cmd->name, url, why);
    }
    d = apr_array_push(reg->decls);
    d->src = vjwt_ks_source_make(cmd->pool, reg->sources, kind, url);
    d->directive = cmd->cmd->name;
    d->file = file;
    d->line = line;
    if (!pol->sources) {
        pol->sources = apr_array_make(cmd->pool, 2, sizeof(vjwt_ks_source_t *));
    }
    APR_ARRAY_PUSH(pol->sources, vjwt_ks_source_t *) = d->src;
    return NULL;
}

/* ------------------------------------------------------------------------------------ */
/* the cache port over socache + global mutex                                            */

static apr_status_t port_get(void *baton, apr_pool_t *p, const char *key, apr_size_t max,
                             char **val, apr_size_t *len)
{
    cache_t *c = baton;
    apr_size_t cap = (max && max < c->max) ? max : c->max;
    unsigned int n = (unsigned int)cap;
    unsigned char *buf = apr_palloc(p, cap + 1);
    apr_status_t rv = c->prov->retrieve(c->inst, c->s, (const unsigned char *)key,
                                        (unsigned int)strlen(key), buf, &n, p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    buf[n] = 0;
    *val = (char *)buf;
    *len = n;
    return APR_SUCCESS;
}

static apr_status_t port_set(void *baton, apr_pool_t *p, const char *key, const char *val,
                             apr_size_t len, apr_time_t expiry)
{
    cache_t *c = baton;
    if (len > c->max) {
        return APR_ENOSPC;
    }
    return c->prov->store(c->inst, c->s, (const unsigned char *)key, (unsigned int)strlen(key),
                          expiry, (unsigned char *)val, (unsigned int)len, p);
}

static apr_status_t port_lock(void *baton)
{
    return apr_global_mutex_lock(((cache_t *)baton)->mutex);
}

static apr_status_t port_unlock(void *baton)
{
    return apr_global_mutex_unlock(((cache_t *)baton)->mutex);
}

/* The core's levels have values of their own: map them explicitly. */
static int store_aplevel(vjwt_log_level_e level)
{
    switch (level) {
    case VJWT_LOG_ERR:
        return APLOG_ERR;
    case VJWT_LOG_WARN:
        return APLOG_WARNING;
    case VJWT_LOG_NOTICE:
        return APLOG_NOTICE;
    case VJWT_LOG_INFO:
        return APLOG_INFO;
    case VJWT_LOG_DEBUG:
    default:
        return APLOG_DEBUG;
    }
}

static int store_is_level(void *baton, vjwt_log_level_e level)
{
    return APLOG_IS_LEVEL((server_rec *)baton, store_aplevel(level));
}

/* The core's file and line go to the error log (shown at debug, as httpd does). */
static void store_log(void *baton, vjwt_log_level_e level, const char *file, int line, int tag,
                      const char *msg)
{
    ap_log_error_(file, line, APLOG_MODULE_INDEX, store_aplevel(level), 0, (server_rec *)baton,
                  "VJWT%05d: %s", tag, msg);
}

/* ------------------------------------------------------------------------------------ */
/* hooks                                                                                */

static apr_status_t reset_globals(void *data)
{
    the_store = NULL;
    the_cache = NULL;
    return APR_SUCCESS;
}

static apr_status_t reset_token_cache(void *data)
{
    the_accepted = the_rejected = NULL;
    return APR_SUCCESS;
}

/* The token cache of this child: seven eighths of the bytes (and entries) for accepted
 * tokens, one eighth for rejected ones. */
static void make_token_cache(apr_pool_t *p, server_rec *s, const vjwt_srv_conf_t *sc)
{
    int n = sc->token_cache_entries > 0 ? sc->token_cache_entries : DEFAULT_TOKEN_CACHE_ENTRIES;
    apr_size_t bytes =
        sc->token_cache_bytes > 0 ? sc->token_cache_bytes : DEFAULT_TOKEN_CACHE_BYTES;
    int n_rej = n / 8 > 0 ? n / 8 : 1;
    if (vjwt_vcache_make(&the_accepted, p, n - n_rej > 0 ? n - n_rej : 1, bytes - bytes / 8,
                         TOKEN_CACHE_MAX_TTL) != APR_SUCCESS ||
        vjwt_vcache_make(&the_rejected, p, n_rej, bytes / 8 + 1, TOKEN_CACHE_MAX_TTL) !=
            APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                     VJWT_LOGNO(00360) "cannot make the token cache; every token is judged "
                                       "afresh");
        the_accepted = the_rejected = NULL;
        return;
    }
    apr_pool_cleanup_register(p, NULL, reset_token_cache, apr_pool_cleanup_null);
}

static int store_pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    return ap_mutex_register(pconf, MUTEX_TYPE, NULL, APR_LOCK_DEFAULT, 0) == APR_SUCCESS
               ? OK
               : HTTP_INTERNAL_SERVER_ERROR;
}

/* http:// sources need ValidateJWTFetchAllowHTTP On unless the host is loopback
 * (docs/conformance.md C80). */
static int store_check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    registry_t *reg = registry(pconf);
    vjwt_srv_conf_t *sc = vjwt_mod_srv_conf(s);
    int i;
    for (i = 0; i < reg->decls->nelts; i++) {
        source_decl_t *d = &APR_ARRAY_IDX(reg->decls, i, source_decl_t);
        const char *why =
            vjwt_fetch_check_url(ptemp, vjwt_ks_source_url(d->src), sc->allow_http == 1);
        if (why) {
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, NULL,
                         VJWT_LOGNO(00007) "Syntax error on line %d of %s: %s: '%s' %s", d->line,
                         d->file, d->directive, vjwt_ks_source_url(d->src), why);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    if (sc->allow_http == 1) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_WARNING, 0, NULL,
                     VJWT_LOGNO(00008) "ValidateJWTFetchAllowHTTP On: keys may be fetched over "
                                       "plain http, where anyone on the path can replace them");
    }
    return OK;
}

/* The watchdog thread belongs to the process pool, not the child's: it still runs while the
 * child's pool (the cache mutex, the token cache) goes, and while exit() runs OpenSSL's
 * atexit cleanup. So the child's pool cleanup (child_exit) raises child_stopping and waits
 * until no tick is inside the store; after that no tick starts, and a fetch in progress
 * aborts (the fetcher asks vjwt_stopping). */
static apr_uint32_t child_stopping;
static apr_uint32_t ticking;

static int vjwt_stopping(void)
{
    int state = 0;
    if (apr_atomic_read32(&child_stopping)) {
        return 1;
    }
    return ap_mpm_query(AP_MPMQ_MPM_STATE, &state) == APR_SUCCESS && state == AP_MPMQ_STOPPING;
}

static apr_status_t wd_callback(int state, void *data, apr_pool_t *pool)
{
    (void)data;
    if (state == AP_WATCHDOG_STATE_RUNNING && the_store) {
        apr_atomic_inc32(&ticking);
        if (!apr_atomic_read32(&child_stopping)) {
            vjwt_store_tick(the_store, pool);
        }
        apr_atomic_dec32(&ticking);
    }
    return APR_SUCCESS;
}

#define CHILD_EXIT_WAIT_STEPS 300 /* x 10 ms: a fetch in progress aborts well within it */

static apr_status_t child_exit(void *data)
{
    int i;
    (void)data;
    apr_atomic_set32(&child_stopping, 1);
    for (i = 0; i < CHILD_EXIT_WAIT_STEPS && apr_atomic_read32(&ticking); i++) {
        apr_sleep(apr_time_from_msec(10));
    }
    return APR_SUCCESS;
}

/* ValidateJWTCache provider[:args] into the provider name and its arguments; shmcb without
 * arguments gets a file in the runtime directory and a size that fits key sets. */
static void cache_provider_args(apr_pool_t *ptemp, const char *spec, const char **name,
                                const char **args)
{
    const char *colon = strchr(spec, ':');
    *name = spec;
    *args = NULL;
    if (colon) {
        *name = apr_pstrmemdup(ptemp, spec, (apr_size_t)(colon - spec));
        *args = colon + 1;
    }
    else if (!strcmp(spec, "shmcb")) {
        /* shmcb's own default (512 KB) holds too few key sets and attempt markers */
        *args = apr_pstrcat(ptemp, ap_runtime_dir_relative(ptemp, "validate_jwt_keys"),
                            DEFAULT_SHMCB_SIZE, NULL);
    }
}

static const char *setup_cache(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s,
                               vjwt_srv_conf_t *sc, apr_size_t max_record)
{
    const char *spec = sc->cache_spec ? sc->cache_spec : DEFAULT_CACHE, *name, *args;
    const char *err;
    struct ap_socache_hints hints = {48, 4096, apr_time_from_sec(60)};
    cache_t *c;
    apr_status_t rv;

    if (!strcasecmp(spec, "none")) {
        return NULL;
    }
    cache_provider_args(ptemp, spec, &name, &args);
    c = apr_pcalloc(pconf, sizeof(*c));
    c->prov = ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP, name, AP_SOCACHE_PROVIDER_VERSION);
    if (!c->prov) {
        if (!sc->cache_spec) {
            ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s,
                         VJWT_LOGNO(00009) "socache_shmcb_module is not loaded: each child "
                                           "fetches and caches keys by itself (load it, or set "
                                           "ValidateJWTCache)");
            return NULL;
        }
        return apr_psprintf(ptemp, "ValidateJWTCache: socache provider '%s' is not loaded", name);
    }
    err = c->prov->create(&c->inst, args, ptemp, pconf);
    if (err) {
        return apr_psprintf(ptemp, "ValidateJWTCache %s: %s", spec, err);
    }
    rv = ap_global_mutex_create(&c->mutex, NULL, MUTEX_TYPE, NULL, s, pconf, 0);
    if (rv != APR_SUCCESS) {
        return apr_psprintf(ptemp, "ValidateJWTCache: cannot create the global mutex (%d)", rv);
    }
    rv = c->prov->init(c->inst, CACHE_CNAME, &hints, s, pconf);
    if (rv != APR_SUCCESS) {
        return apr_psprintf(ptemp, "ValidateJWTCache %s: cannot initialise the cache (%d)", spec,
                            rv);
    }
    c->s = s;
    c->max = max_record;
    the_cache = c;
    /* a cache outside this host's shared memory can be written by whoever reaches it */
    if (!sc->cache_secret && strncasecmp(name, "shm", 3) != 0) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                     VJWT_LOGNO(00041) "ValidateJWTCache %s without ValidateJWTCacheSecret: "
                                       "whoever can write to this cache can plant signing keys; "
                                       "set ValidateJWTCacheSecret file:PATH",
                     name);
    }
    return NULL;
}

/* The store's options: its defaults, overridden by the server-wide directives. */
static void store_options(vjwt_store_opts_t *o, const vjwt_srv_conf_t *sc, server_rec *s)
{
    vjwt_store_opts_default(o);
    o->on_fetch = vjwt_mod_on_fetch;
    if (sc->refresh > 0) {
        o->refresh = apr_time_from_sec(sc->refresh);
    }
    if (sc->refetch > 0) {
        o->refetch = apr_time_from_sec(sc->refetch);
    }
    if (o->refetch > o->refresh) {
        o->refetch = o->refresh;
    }
    if (sc->max_stale > 0) {
        o->max_stale = apr_time_from_sec(sc->max_stale);
    }
    if (sc->connect_timeout > 0) {
        o->fetch.connect_timeout_ms = sc->connect_timeout * 1000;
        o->fetch.timeout_ms = sc->total_timeout * 1000;
    }
    if (sc->max_size > 0) {
        o->fetch.max_size = (apr_size_t)sc->max_size;
    }
    o->fetch.allow_http = sc->allow_http == 1;
    o->fetch.ca_file = sc->ca_file;
    o->fetch.proxy = sc->proxy;
    o->log.baton = s;
    o->log.is_level = store_is_level;
    o->log.log = store_log;
    o->cache_secret = sc->cache_secret;
    o->cache_secret_len = sc->cache_secret_len;
    o->stopping = vjwt_stopping;
}

/* The cache port over the socache instance that setup_cache made, if any. */
static void attach_cache(vjwt_store_opts_t *o)
{
    if (the_cache) {
        o->cache.baton = the_cache;
        o->cache.get = port_get;
        o->cache.set = port_set;
        o->cache.lock = port_lock;
        o->cache.unlock = port_unlock;
    }
}

/* Every child refreshes keys from mod_watchdog's thread; without it, requests do. */
static void start_watchdog(apr_pool_t *pconf, server_rec *s)
{
    APR_OPTIONAL_FN_TYPE(ap_watchdog_get_instance) * wd_get;
    APR_OPTIONAL_FN_TYPE(ap_watchdog_register_callback) * wd_register;
    ap_watchdog_t *wd = NULL;

    wd_get = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_get_instance);
    wd_register = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_register_callback);
    if (!wd_get || !wd_register || wd_get(&wd, WATCHDOG_NAME, 0, 0, pconf) != APR_SUCCESS ||
        wd_register(wd, AP_WD_TM_INTERVAL, the_store, wd_callback) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                     VJWT_LOGNO(00013) "mod_watchdog is not available: keys are loaded and "
                                       "refreshed only when requests need them");
    }
}

static int store_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    registry_t *reg = registry(pconf);
    vjwt_srv_conf_t *sc = vjwt_mod_srv_conf(s);
    vjwt_store_opts_t o;
    const char *err;

    apr_pool_cleanup_register(pconf, NULL, reset_globals, apr_pool_cleanup_null);
    if (reg->sources->nelts == 0 ||
        ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK;
    }
    if (vjwt_fetch_global_init() != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, VJWT_LOGNO(00010) "curl_global_init failed");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    store_options(&o, sc, s);
    err = setup_cache(pconf, ptemp, s, sc, o.fetch.max_size * 2 + RECORD_SLACK);
    if (err) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, VJWT_LOGNO(00011) "%s", err);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    attach_cache(&o);
    if (vjwt_store_make(&the_store, pconf, &o, reg->sources) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s,
                     VJWT_LOGNO(00012) "cannot create the key store");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (sc->proxy.mode != VJWT_PROXY_NONE) {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s,
                     VJWT_LOGNO(00340) "ValidateJWTFetchProxy: keys are fetched through %s",
                     vjwt_fetch_proxy_describe(ptemp, &sc->proxy));
    }
    start_watchdog(pconf, s);
    return OK;
}

static void store_child_init(apr_pool_t *p, server_rec *s)
{
    vjwt_srv_conf_t *sc = vjwt_mod_srv_conf(s);
    if (sc->token_cache != 0) {
        make_token_cache(p, s, sc);
    }
    if (the_cache && the_cache->mutex) {
        apr_status_t rv = apr_global_mutex_child_init(
            &the_cache->mutex, apr_global_mutex_lockfile(the_cache->mutex), p);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                         VJWT_LOGNO(00014) "cannot attach to the key cache mutex");
        }
    }
    /* registered last, so it runs first when the child's pool goes */
    apr_atomic_set32(&child_stopping, 0);
    apr_pool_cleanup_register(p, NULL, child_exit, apr_pool_cleanup_null);
}

void vjwt_mod_store_register_hooks(apr_pool_t *p)
{
    static const char *const after_watchdog[] = {"mod_watchdog.c", NULL};
    ap_hook_pre_config(store_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_config(store_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(store_post_config, NULL, after_watchdog, APR_HOOK_MIDDLE);
    ap_hook_child_init(store_child_init, NULL, NULL, APR_HOOK_MIDDLE);
}
