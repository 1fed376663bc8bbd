/*
 * vjwt_mod.h - what the files of the httpd glue share. The glue is split by httpd concern:
 *   mod_validate_jwt.c        module record, request hooks (claim-header stripping,
 *                             check_authn, token removal in fixups) and responses (failure
 *                             body, success side effects)
 *   httpd/vjwt_mod_config.c   every directive, the config objects and their merge,
 *                             check_config
 *   httpd/vjwt_mod_store.c    key sources, socache + global mutex (the core's cache port),
 *                             watchdog, token cache, log bridge
 *   httpd/vjwt_mod_metrics.c  shared counters, the validate-jwt-metrics handler, the
 *                             mod_status section
 *   httpd/vjwt_mod_authz.c    the authorization providers Require jwt-claim / jwt-scope and
 *                             their 403 response; they read the request's validated token
 *                             through vjwt_mod_request_token()
 *
 * Thread context: configuration structs are written at configuration time only.
 */
#ifndef VJWT_MOD_H
#define VJWT_MOD_H

#include "httpd.h"
#include "http_config.h"
#include "vjwt.h"

#define VJWT_LOGNO(n) "VJWT" #n ": "

extern module AP_MODULE_DECLARE_DATA validate_jwt_module;

/* Server config. The key-store options are read from the main server's only. */
typedef struct {
    apr_hash_t *certs;             /* ID -> its keys (ValidateJWTCertificate; vjwt_mod_config.c) */
    apr_array_header_t *cert_refs; /* certificate-id= uses waiting for check_config */
    /* server-wide, main server only */
    const char *cache_spec;            /* ValidateJWTCache; NULL = default shmcb */
    const unsigned char *cache_secret; /* ValidateJWTCacheSecret file contents; NULL = none */
    apr_size_t cache_secret_len;
    int refresh; /* seconds, -1 unset */
    int refetch;
    int max_stale; /* 0 = unlimited */
    int connect_timeout;
    int total_timeout;
    int max_size;
    int allow_http;
    const char *ca_file;
    vjwt_fetch_proxy_t proxy; /* ValidateJWTFetchProxy; zeroes: none (direct) */
    int token_cache;          /* ValidateJWTTokenCache: -1 unset, 0 off, 1 on */
    int token_cache_entries;
    apr_size_t token_cache_bytes; /* 0 = default */
} vjwt_srv_conf_t;

/* Per-dir config. */
/* Fields a ValidateJWTPolicy set in this scope: the first directive after it that sets one
 * of them replaces the policy's value (a list starts anew) instead of adding to it. */
#define VJWT_FROM_POLICY_SOURCE          0x01
#define VJWT_FROM_POLICY_KEYS            0x02
#define VJWT_FROM_POLICY_AUDIENCES       0x04
#define VJWT_FROM_POLICY_ISSUERS         0x08
#define VJWT_FROM_POLICY_CLAIMS          0x10
#define VJWT_FROM_POLICY_SOURCES         0x20
#define VJWT_FROM_POLICY_DECRYPTION_KEYS 0x40

typedef struct {
    vjwt_policy_t *pol;
    void *token_expr;     /* ap_expr_info_t * of ValidateJWTTokenValue; follows pol->source */
    unsigned from_policy; /* VJWT_FROM_POLICY_* */
    const char *policy;   /* the ValidateJWTPolicy file of this scope */
    const char *file;     /* where the first ValidateJWT directive of the scope is */
    int line;
    const char *scope; /* the section's path (metrics label); the most specific one wins */
    int report_only;   /* ValidateJWTReportOnly: -1 unset, 0 off, 1 on */
} vjwt_dir_conf_t;

/* vjwt_mod_config.c: config objects, the directive table and the check_config hook. */
extern const command_rec vjwt_mod_cmds[];
void *vjwt_mod_create_dir_conf(apr_pool_t *p, char *dir);
void *vjwt_mod_merge_dir_conf(apr_pool_t *p, void *basev, void *addv);
void *vjwt_mod_create_srv_conf(apr_pool_t *p, server_rec *s);
void *vjwt_mod_merge_srv_conf(apr_pool_t *p, void *basev, void *addv);
void vjwt_mod_config_register_hooks(apr_pool_t *p);

/* The server's config; the server-wide (key-store) options are read from the main
 * server's. */
vjwt_srv_conf_t *vjwt_mod_srv_conf(server_rec *s);

/* mod_validate_jwt.c: the token this module authenticated the request with (its header and
 * payload are checked claims), or NULL when it did not authenticate this request. Valid for
 * the request's lifetime; for authorization providers and logging. */
const vjwt_token_t *vjwt_mod_request_token(const request_rec *r);

/* vjwt_mod_metrics.c: the shared counters (NULL when they could not be made), a request's
 * verdict counted under its scope (the policy id, else the section's path), the key
 * store's fetch reports (vjwt_store_opts_t.on_fetch), and the hooks. */
vjwt_metrics_t *vjwt_mod_metrics(void);
void vjwt_mod_count(const vjwt_dir_conf_t *dc, vjwt_result_e result, vjwt_reason_e reason);
void vjwt_mod_on_fetch(void *baton, const char *url, int result, apr_interval_time_t took, int keys,
                       apr_time_t fetched);
void vjwt_mod_metrics_register_hooks(apr_pool_t *p);

/* mod_validate_jwt.c: the module's failure body `{ "statusCode": N, "message": "..." }`
 * (docs/conformance.md#failure-response). */
const char *vjwt_mod_failure_body(apr_pool_t *p, int status, const char *message);

/* mod_validate_jwt.c: the realm of WWW-Authenticate (ValidateJWTRealm or the server name),
 * without quotes, backslashes or control characters. */
const char *vjwt_mod_realm(request_rec *r, const vjwt_policy_t *pol);

/* mod_validate_jwt.c: a failure that ValidateJWTReportOnly lets through: the error
 * environment, VALIDATE_JWT_REPORT_ONLY=1 and a "reported" count (the caller logs it). */
void vjwt_mod_reported(request_rec *r, const vjwt_dir_conf_t *dc, vjwt_reason_e reason,
                       const char *detail);

/* mod_validate_jwt.c: VALIDATE_JWT_ERROR_SOURCE/REASON/MESSAGE/POLICY_ID of a failure. */
void vjwt_mod_set_error_env(request_rec *r, const vjwt_policy_t *pol, const char *reason,
                            const char *detail);

/* vjwt_mod_authz.c: providers, filter and hooks; register_hooks calls this. */
void vjwt_mod_authz_register_hooks(apr_pool_t *p);

/* vjwt_mod_store.c */

/* ValidateJWTOpenIDConfig / ValidateJWTJWKSURI URL: declares the source (checked against
 * ValidateJWTFetchAllowHTTP in check_config) and adds it to the scope's policy. */
const char *vjwt_mod_add_source(cmd_parms *cmd, vjwt_policy_t *pol, vjwt_ks_kind_e kind,
                                const char *url);

/* The same for an <openid-config> of a policy file (file and line for messages). */
const char *vjwt_mod_add_source_at(cmd_parms *cmd, vjwt_policy_t *pol, vjwt_ks_kind_e kind,
                                   const char *url, const char *file, int line);

/* The process's token cache (vjwt_pipeline.h: accepted and rejected records); both NULL
 * when ValidateJWTTokenCache is Off. */
void vjwt_mod_token_cache(vjwt_vcache_t **accepted, vjwt_vcache_t **rejected);

/* Hooks of the key-store glue; register_hooks calls this. */
void vjwt_mod_store_register_hooks(apr_pool_t *p);

/* The process's key store; NULL when no location uses a discovery or JWKS URL. */
vjwt_store_t *vjwt_mod_store(void);

#endif
