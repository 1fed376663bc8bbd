/* vjwt_fetch.c - bounded HTTP(S) GET with libcurl, redirects checked hop by hop. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <apr_strings.h>
#include <apr_lib.h>
#include <apr_file_io.h>
#include <curl/curl.h>

#include "vjwt_fetch.h"

void vjwt_fetch_opts_default(vjwt_fetch_opts_t *o)
{
    memset(o, 0, sizeof(*o));
    o->connect_timeout_ms = 5000;
    o->timeout_ms = 10000;
    o->max_size = 1024 * 1024;
    o->max_redirects = 3;
}

apr_status_t vjwt_fetch_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? APR_SUCCESS : APR_EGENERAL;
}

/* host as curl's URL parser returns it (numeric IPv4 forms normalized to dotted quads). */
static int host_is_loopback(const char *host)
{
    if (!strcasecmp(host, "localhost") || !strcmp(host, "::1") || !strcmp(host, "[::1]")) {
        return 1;
    }
    if (!strncmp(host, "127.", 4)) {
        const char *c = host;
        int parts = 0;
        while (parts < 4) {
            int digits = 0, v = 0;
            while (apr_isdigit(*c) && digits < 4) {
                v = v * 10 + (*c++ - '0');
                digits++;
            }
            if (digits == 0 || digits > 3 || v > 255) {
                return 0;
            }
            parts++;
            if (parts < 4 && *c++ != '.') {
                return 0;
            }
        }
        return *c == 0;
    }
    return 0;
}

/* The scheme of url ("" when there is none), lower-cased, from p. */
static const char *url_scheme(apr_pool_t *p, const char *url)
{
    const char *c = url;
    char *out, *w;
    while (apr_isalnum(*c) || *c == '+' || *c == '-' || *c == '.') {
        c++;
    }
    if (*c != ':' || c == url) {
        return "";
    }
    out = apr_pstrmemdup(p, url, (apr_size_t)(c - url));
    for (w = out; *w; w++) {
        *w = (char)apr_tolower(*w);
    }
    return out;
}

const char *vjwt_fetch_check_url(apr_pool_t *p, const char *url, int allow_http)
{
    CURLU *u;
    char *scheme = NULL, *host = NULL;
    const char *err = NULL;
    const char *sch = url_scheme(p, url), *sep;
    if (strcmp(sch, "https") != 0 && strcmp(sch, "http") != 0) {
        return *sch ? apr_psprintf(p,
                                   "uses the scheme '%s:' (only https://, or http:// under "
                                   "the plain-http rule, may be fetched)",
                                   sch)
                    : "is not an absolute URL";
    }
    u = curl_url();
    if (!u) {
        return "out of memory";
    }
    sep = strstr(url, "://");
    if (!sep || sep[3] == '/' || sep[3] == 0) {
        curl_url_cleanup(u);
        return apr_pstrdup(p, sep ? "has no host" : "is not an absolute URL");
    }
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        err = "is not an absolute URL";
    }
    else if (!*host) {
        err = "has no host";
    }
    else if (!strcasecmp(scheme, "https")) {
        err = NULL;
    }
    else if (!strcasecmp(scheme, "http")) {
        if (!allow_http && !host_is_loopback(host)) {
            err = "uses plain http to a host that is not loopback (use https, or "
                  "ValidateJWTFetchAllowHTTP On)";
        }
    }
    else {
        err = "must be an https:// URL";
    }
    if (err) {
        err = apr_pstrdup(p, err);
    }
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return err;
}

/* ------------------------------------------------------------------------------------ */
/* proxy                                                                                */

const char *vjwt_fetch_redact(apr_pool_t *p, const char *text)
{
    const char *c = text, *sep;
    char *out = NULL;
    while ((sep = strstr(c, "://")) != NULL) {
        const char *a = sep + 3, *end = a, *at = NULL;
        /* the authority ends at the path, query, fragment, a quote or white space */
        while (*end && !strchr("/?#\"'<> \t\r\n", *end)) {
            if (*end == '@') {
                at = end;
            }
            end++;
        }
        if (at) {
            out = apr_pstrcat(p, out ? out : "", apr_pstrmemdup(p, c, (apr_size_t)(a - c)), "***",
                              NULL);
            c = at;
        }
        else {
            out = apr_pstrcat(p, out ? out : "", apr_pstrmemdup(p, c, (apr_size_t)(end - c)), NULL);
            c = end;
        }
    }
    return out ? apr_pstrcat(p, out, c, NULL) : text;
}

/* The first line of path, "user:password", into out (at most 4096 bytes). */
static const char *read_proxy_credentials(apr_pool_t *p, const char *path, vjwt_fetch_proxy_t *out)
{
    apr_file_t *f;
    char buf[4097], *nl, *colon;
    apr_size_t n = sizeof(buf) - 1, line_len;
    apr_status_t rv = apr_file_open(&f, path, APR_FOPEN_READ, APR_FPROT_OS_DEFAULT, p);
    if (rv != APR_SUCCESS) {
        return apr_psprintf(p, "cannot read the proxy credentials file '%s'", path);
    }
    rv = apr_file_read_full(f, buf, n, &n);
    apr_file_close(f);
    if (rv != APR_SUCCESS && rv != APR_EOF) {
        return apr_psprintf(p, "cannot read the proxy credentials file '%s'", path);
    }
    if (n >= sizeof(buf) - 1) {
        return apr_psprintf(p, "the proxy credentials file '%s' is larger than 4096 bytes", path);
    }
    buf[n] = 0;
    nl = memchr(buf, '\n', n);
    line_len = nl ? (apr_size_t)(nl - buf) : n;
    if (line_len > 0 && buf[line_len - 1] == '\r') {
        line_len--;
    }
    buf[line_len] = 0;
    colon = strchr(buf, ':');
    if (!colon || colon == buf || strlen(buf) != line_len) {
        /* no "user:" at the start of the first line, or a NUL byte inside it */
        memset(buf, 0, sizeof(buf));
        return apr_psprintf(p,
                            "the proxy credentials file '%s' must hold user:password on its "
                            "first line",
                            path);
    }
    *colon = 0;
    out->user = apr_pstrdup(p, buf);
    out->password = apr_pstrdup(p, colon + 1);
    memset(buf, 0, sizeof(buf));
    return NULL;
}

const char *vjwt_fetch_proxy_parse(apr_pool_t *p, const char *arg, const char *cred_file,
                                   vjwt_fetch_proxy_t *out)
{
    CURLU *u;
    char *host = NULL, *port = NULL, *user = NULL, *pass = NULL, *path = NULL, *query = NULL,
         *frag = NULL;
    const char *err = NULL, *sch;
    memset(out, 0, sizeof(*out));
    if (!strcasecmp(arg, "none") || !strcasecmp(arg, "env")) {
        if (cred_file) {
            return "proxy credentials (file:PATH) go with a proxy URL only";
        }
        out->mode = strcasecmp(arg, "none") ? VJWT_PROXY_ENV : VJWT_PROXY_NONE;
        return NULL;
    }
    sch = url_scheme(p, arg);
    if (strcmp(sch, "http") != 0 && strcmp(sch, "https") != 0) {
        return apr_psprintf(p, "expects none, env or an http:// or https:// proxy URL, got '%s'",
                            vjwt_fetch_redact(p, arg));
    }
    u = curl_url();
    if (!u) {
        return "out of memory";
    }
    if (curl_url_set(u, CURLUPART_URL, arg, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !*host) {
        err = "is not a proxy URL with a host";
    }
    else {
        curl_url_get(u, CURLUPART_PORT, &port, 0);
        curl_url_get(u, CURLUPART_USER, &user, CURLU_URLDECODE);
        curl_url_get(u, CURLUPART_PASSWORD, &pass, CURLU_URLDECODE);
        curl_url_get(u, CURLUPART_PATH, &path, 0);
        curl_url_get(u, CURLUPART_QUERY, &query, 0);
        curl_url_get(u, CURLUPART_FRAGMENT, &frag, 0);
        if ((path && strcmp(path, "/") != 0 && *path) || query || frag) {
            err = "is a proxy URL: scheme://[user:password@]host[:port] without a path";
        }
        else if (user && cred_file) {
            err = "has credentials in the URL and in a file: give them once";
        }
        else if (user && !*user) {
            err = "has an empty proxy user name";
        }
    }
    if (!err) {
        out->mode = VJWT_PROXY_URL;
        out->url = apr_pstrcat(p, sch, "://", host, port ? ":" : "", port ? port : "", NULL);
        if (user) {
            out->user = apr_pstrdup(p, user);
            out->password = apr_pstrdup(p, pass ? pass : "");
        }
    }
    if (pass) {
        memset(pass, 0, strlen(pass));
    }
    curl_free(host);
    curl_free(port);
    curl_free(user);
    curl_free(pass);
    curl_free(path);
    curl_free(query);
    curl_free(frag);
    curl_url_cleanup(u);
    if (err) {
        memset(out, 0, sizeof(*out));
        return apr_psprintf(p, "'%s' %s", vjwt_fetch_redact(p, arg), err);
    }
    if (cred_file) {
        err = read_proxy_credentials(p, cred_file, out);
    }
    return err;
}

const char *vjwt_fetch_proxy_describe(apr_pool_t *p, const vjwt_fetch_proxy_t *proxy)
{
    switch (proxy->mode) {
    case VJWT_PROXY_ENV:
        return "env";
    case VJWT_PROXY_URL:
        return apr_pstrcat(p, proxy->url, proxy->user ? " (with credentials)" : "", NULL);
    default:
        return "none";
    }
}

/* The proxy options of a reset handle. */
static void set_proxy(CURL *c, const vjwt_fetch_opts_t *o)
{
    switch (o->proxy.mode) {
    case VJWT_PROXY_URL:
        curl_easy_setopt(c, CURLOPT_PROXY, o->proxy.url);
        /* every fetch through this proxy: the environment's no_proxy does not apply */
        curl_easy_setopt(c, CURLOPT_NOPROXY, "");
        if (o->proxy.user) {
            curl_easy_setopt(c, CURLOPT_PROXYUSERNAME, o->proxy.user);
            curl_easy_setopt(c, CURLOPT_PROXYPASSWORD, o->proxy.password);
        }
        if (o->ca_file) {
            curl_easy_setopt(c, CURLOPT_PROXY_CAINFO, o->ca_file);
        }
        break;
    case VJWT_PROXY_ENV:
        /* libcurl reads https_proxy / http_proxy / no_proxy itself while CURLOPT_PROXY and
         * CURLOPT_NOPROXY are unset */
        break;
    default:
        curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    }
}

typedef struct {
    apr_pool_t *p;
    char *buf;
    apr_size_t len, cap, max;
    int too_big;
    long max_age;
} sink_t;

static size_t on_body(char *data, size_t size, size_t nmemb, void *baton)
{
    sink_t *s = baton;
    size_t n = size * nmemb;
    if (s->len + n > s->max) {
        s->too_big = 1;
        return 0; /* aborts the transfer */
    }
    if (s->len + n + 1 > s->cap) {
        apr_size_t cap = s->cap ? s->cap : 16384;
        char *nb;
        while (cap < s->len + n + 1) {
            cap *= 2;
        }
        nb = apr_palloc(s->p, cap);
        if (s->len) {
            memcpy(nb, s->buf, s->len);
        }
        s->buf = nb;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, data, n);
    s->len += n;
    s->buf[s->len] = 0;
    return n;
}

/* Cache-Control: ... max-age=N ... (case-insensitive directive name). */
static size_t on_header(char *data, size_t size, size_t nmemb, void *baton)
{
    sink_t *s = baton;
    size_t n = size * nmemb;
    if (n > 14 && !strncasecmp(data, "cache-control:", 14)) {
        char *line = apr_pstrmemdup(s->p, data + 14, n - 14), *tok, *last;
        for (tok = apr_strtok(line, ",", &last); tok; tok = apr_strtok(NULL, ",", &last)) {
            while (apr_isspace(*tok)) {
                tok++;
            }
            if (!strncasecmp(tok, "max-age=", 8) && apr_isdigit(tok[8])) {
                /* a remote number: clamped while read, so that no later conversion
                 * to apr_time_t can overflow (RFC 9111 1.2.2: delta-seconds) */
                const char *d = tok + 8;
                long v = 0;
                while (apr_isdigit(*d)) {
                    if (v < VJWT_FETCH_MAX_AGE_MAX) {
                        v = v * 10 + (*d - '0');
                    }
                    d++;
                }
                s->max_age = v > VJWT_FETCH_MAX_AGE_MAX ? VJWT_FETCH_MAX_AGE_MAX : v;
            }
            else if (!strncasecmp(tok, "no-store", 8) || !strncasecmp(tok, "no-cache", 8)) {
                s->max_age = 0;
            }
        }
    }
    return n;
}

/* A fetch in progress ends at once when the process is stopping. */
static int on_progress(void *baton, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    const vjwt_fetch_opts_t *o = baton;
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    return o->stopping && o->stopping() ? 1 : 0;
}

/* One GET of url on a reset handle: https (http only where allowed), no redirects
 * followed by curl, the time left, the size cap, TLS verification, the proxy, the sink. */
static void prepare_handle(CURL *c, const char *url, const vjwt_fetch_opts_t *o, long connect_ms,
                           long left_ms, sink_t *sink, char *errbuf)
{
    curl_easy_reset(c);
    sink->len = 0;
    if (sink->buf) {
        sink->buf[0] = 0;
    }
    sink->too_big = 0;
    sink->max_age = -1;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR,
                     o->allow_http || !strncasecmp(url, "http:", 5) ? "http,https" : "https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, left_ms);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_size);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    if (o->ca_file) {
        curl_easy_setopt(c, CURLOPT_CAINFO, o->ca_file);
    }
    set_proxy(c, o);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "mod_validate_jwt");
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, sink);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, sink);
    if (o->stopping) {
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)o);
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    }
}

static apr_status_t fetch_once(apr_pool_t *p, CURL *c, const char *url, const vjwt_fetch_opts_t *o,
                               apr_time_t deadline, vjwt_fetch_result_t *res, sink_t *sink,
                               char **redirect)
{
    CURLcode cc;
    char *loc = NULL;
    char errbuf[CURL_ERROR_SIZE] = "";
    const char *why = vjwt_fetch_check_url(p, url, o->allow_http);
    apr_interval_time_t left = deadline - apr_time_now();
    long left_ms = (long)apr_time_as_msec(left), connect_ms = o->connect_timeout_ms;
    if (why) {
        res->error = apr_psprintf(p, "URL '%s' %s", url, why);
        return APR_EGENERAL;
    }
    /* one deadline for the whole fetch, redirects included: each hop gets what is left */
    if (left_ms < 1) {
        res->error =
            apr_psprintf(p, "GET %s: the fetch time limit (%d ms) is used up", url, o->timeout_ms);
        return APR_TIMEUP;
    }
    if (connect_ms <= 0 || connect_ms > left_ms) {
        connect_ms = left_ms;
    }
    prepare_handle(c, url, o, connect_ms, left_ms, sink, errbuf);

    cc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &res->status);
    if (cc != CURLE_OK) {
        if (sink->too_big || cc == CURLE_FILESIZE_EXCEEDED) {
            res->error =
                apr_psprintf(p, "GET %s: the response is larger than %" APR_SIZE_T_FMT " bytes",
                             url, o->max_size);
        }
        else {
            res->error =
                apr_psprintf(p, "GET %s: %s", url, *errbuf ? errbuf : curl_easy_strerror(cc));
        }
        return APR_EGENERAL;
    }
    if (res->status >= 300 && res->status < 400 &&
        curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &loc) == CURLE_OK && loc) {
        *redirect = apr_pstrdup(p, loc);
        return APR_SUCCESS;
    }
    if (res->status != 200) {
        res->error = apr_psprintf(p, "GET %s: HTTP status %ld", url, res->status);
        return APR_EGENERAL;
    }
    res->body = sink->buf ? sink->buf : apr_pstrdup(p, "");
    res->len = sink->len;
    res->max_age = sink->max_age;
    res->final_url = url;
    return APR_SUCCESS;
}

apr_status_t vjwt_fetch(apr_pool_t *p, const char *url, const vjwt_fetch_opts_t *o,
                        vjwt_fetch_result_t *res)
{
    CURL *c = curl_easy_init();
    sink_t sink;
    apr_status_t rv = APR_EGENERAL;
    apr_time_t deadline = o->deadline;
    int hops;

    memset(res, 0, sizeof(*res));
    res->max_age = -1;
    if (!c) {
        res->error = "cannot create a curl handle";
        return APR_ENOMEM;
    }
    memset(&sink, 0, sizeof(sink));
    sink.p = p;
    sink.max = o->max_size;
    if (!deadline) {
        deadline = apr_time_now() + apr_time_from_msec(o->timeout_ms);
    }
    for (hops = 0;; hops++) {
        char *redirect = NULL;
        rv = fetch_once(p, c, url, o, deadline, res, &sink, &redirect);
        if (rv != APR_SUCCESS || !redirect) {
            break;
        }
        if (hops >= o->max_redirects) {
            res->error = apr_psprintf(p, "GET %s: more than %d redirects", url, o->max_redirects);
            rv = APR_EGENERAL;
            break;
        }
        if (!strncasecmp(url, "https:", 6) && strncasecmp(redirect, "https:", 6) != 0) {
            res->error =
                apr_psprintf(p, "GET %s: redirect from https to '%s' refused", url, redirect);
            rv = APR_EGENERAL;
            break;
        }
        url = redirect;
    }
    curl_easy_cleanup(c);
    if (res->error) {
        res->error = vjwt_fetch_redact(p, res->error);
    }
    return rv;
}
