/*
 * vjwt_fetch.h - bounded HTTP(S) GET of discovery documents and JWK Sets (libcurl).
 *
 * https only, with certificate verification; plain http only to loopback hosts
 * (127.0.0.0/8, ::1, localhost) or when allow_http is set. Redirects are followed by hand,
 * at most max_redirects, and every hop is checked by the same URL rules (only http and https,
 * ever). One total time limit for the whole fetch, redirects included (each hop gets what is
 * left of it; the connect timeout is capped by it too), a body size cap (counted after
 * decompression), no signals, no cookies. Proxy: none (direct, the default: the
 * environment's proxy variables are ignored), env (libcurl reads https_proxy, http_proxy and
 * no_proxy) or one proxy URL for every fetch (vjwt_fetch_proxy_t). Proxy credentials never
 * appear in an error text (vjwt_fetch_redact).
 *
 * Thread context: any thread; one curl easy handle per call, freed before it returns.
 * curl_global_init must have run (vjwt_fetch_global_init, before threads exist).
 */
#ifndef VJWT_FETCH_H
#define VJWT_FETCH_H

#include <apr_pools.h>
#include <apr_time.h>

/* How fetches reach the network. */
typedef enum {
    VJWT_PROXY_NONE = 0, /* direct; https_proxy etc. in the environment are ignored */
    VJWT_PROXY_ENV,      /* libcurl reads https_proxy / http_proxy / no_proxy */
    VJWT_PROXY_URL       /* every fetch through url (no_proxy is not read) */
} vjwt_proxy_mode_e;

typedef struct {
    vjwt_proxy_mode_e mode;
    const char *url;      /* VJWT_PROXY_URL: http[s]://host[:port], never with credentials */
    const char *user;     /* NULL: no proxy credentials */
    const char *password; /* with user */
} vjwt_fetch_proxy_t;

typedef struct {
    int connect_timeout_ms;   /* default 5000 */
    int timeout_ms;           /* total, redirects included, default 10000 */
    apr_size_t max_size;      /* default 1 MiB */
    int max_redirects;        /* default 3 */
    int allow_http;           /* plain http to any host */
    const char *ca_file;      /* NULL: system store */
    apr_time_t deadline;      /* 0: timeout_ms from the call; else the absolute end of the
                               * fetch (one limit for several fetches, e.g. discovery + JWKS) */
    int (*stopping)(void);    /* NULL, or nonzero when the process is stopping: abort */
    vjwt_fetch_proxy_t proxy; /* default (zeroes): VJWT_PROXY_NONE */
} vjwt_fetch_opts_t;

/* Cache-Control max-age values above this (seconds) are read as this. */
#define VJWT_FETCH_MAX_AGE_MAX (86400L * 365)

typedef struct {
    long status; /* final HTTP status, 0 when no response */
    char *body;  /* NUL-terminated, from the pool */
    apr_size_t len;
    long max_age; /* Cache-Control max-age in seconds, -1 when absent */
    const char *final_url;
    const char *error; /* on failure: what went wrong */
} vjwt_fetch_result_t;

void vjwt_fetch_opts_default(vjwt_fetch_opts_t *o);

/* Once per process, before threads. */
apr_status_t vjwt_fetch_global_init(void);

/* NULL when url may be fetched under these rules, else why not (config-time check too). */
const char *vjwt_fetch_check_url(apr_pool_t *p, const char *url, int allow_http);

/* The proxy setting "none", "env" or an http(s) proxy URL, with credentials either as
 * user:password@ in the URL (percent-decoded) or in cred_file (NULL: none), a file whose
 * first line is user:password (read now, at most 4096 bytes). NULL on success, else an
 * error text from p that never holds the credentials. */
const char *vjwt_fetch_proxy_parse(apr_pool_t *p, const char *arg, const char *cred_file,
                                   vjwt_fetch_proxy_t *out);

/* text with the user information of every "scheme://user:password@" replaced by "***", for
 * log lines and error texts (from p; text itself when it has none). */
const char *vjwt_fetch_redact(apr_pool_t *p, const char *text);

/* The proxy setting for log lines: "none", "env" or the URL (never credentials; with
 * " (with credentials)" when there are some). */
const char *vjwt_fetch_proxy_describe(apr_pool_t *p, const vjwt_fetch_proxy_t *proxy);

/* GET url. APR_SUCCESS only for a 200 response within the limits; otherwise APR_EGENERAL
 * with res->error set (res->status holds the status when there was a response). */
apr_status_t vjwt_fetch(apr_pool_t *p, const char *url, const vjwt_fetch_opts_t *o,
                        vjwt_fetch_result_t *res);

#endif
