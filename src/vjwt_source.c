/* vjwt_source.c - the cookie token source and token removal; see vjwt_source.h. */
#include <string.h>
#include <apr_strings.h>

#include "vjwt_source.h"

#define MAX_COOKIE_PAIRS 1000

/* One cookie-pair of s (up to the next ';', or ',' where httpd joined two Cookie lines; a
 * cookie-value has neither, RFC 6265 section 4.1.1): name and nlen, val and vlen, spaces around
 * both trimmed; returns where the next pair starts (or the end). */
static const char *next_pair(const char *s, const char **name, apr_size_t *nlen, const char **val,
                             apr_size_t *vlen)
{
    const char *end = s + strcspn(s, ";,");
    const char *eq = memchr(s, '=', (apr_size_t)(end - s));
    const char *ne = eq ? eq : end, *vs = eq ? eq + 1 : end, *ve = end;
    while (s < ne && (*s == ' ' || *s == '\t')) {
        s++;
    }
    while (ne > s && (ne[-1] == ' ' || ne[-1] == '\t')) {
        ne--;
    }
    while (vs < ve && (*vs == ' ' || *vs == '\t')) {
        vs++;
    }
    while (ve > vs && (ve[-1] == ' ' || ve[-1] == '\t')) {
        ve--;
    }
    *name = s;
    *nlen = (apr_size_t)(ne - s);
    *val = eq ? vs : NULL;
    *vlen = eq ? (apr_size_t)(ve - vs) : 0;
    return *end ? end + 1 : end;
}

static int name_is(const char *n, apr_size_t nlen, const char *name)
{
    return nlen == strlen(name) && memcmp(n, name, nlen) == 0;
}

const char *vjwt_token_from_cookies(apr_pool_t *p, const apr_array_header_t *headers,
                                    const char *name, int *several)
{
    const char *found = NULL;
    apr_size_t found_len = 0;
    int i, hits = 0, pairs = 0;
    *several = 0;
    for (i = 0; headers && i < headers->nelts; i++) {
        const char *s = APR_ARRAY_IDX(headers, i, const char *);
        while (s && *s && pairs++ < MAX_COOKIE_PAIRS) {
            const char *n, *v;
            apr_size_t nlen, vlen;
            s = next_pair(s, &n, &nlen, &v, &vlen);
            if (!name_is(n, nlen, name)) {
                continue;
            }
            if (++hits > 1) {
                *several = 1;
                return NULL;
            }
            found = v;
            found_len = vlen;
        }
    }
    if (!found) {
        return NULL;
    }
    if (found_len >= 2 && found[0] == '"' && found[found_len - 1] == '"') {
        found++;
        found_len -= 2;
    }
    return found_len ? apr_pstrmemdup(p, found, found_len) : NULL;
}

const char *vjwt_cookie_remove(apr_pool_t *p, const char *header, const char *name)
{
    apr_array_header_t *keep = apr_array_make(p, 4, sizeof(const char *));
    const char *s = header;
    while (s && *s) {
        const char *n, *v;
        apr_size_t nlen, vlen;
        s = next_pair(s, &n, &nlen, &v, &vlen);
        if (nlen == 0 && !v) {
            continue; /* an empty piece ("a=1;;b=2") */
        }
        if (!name_is(n, nlen, name)) {
            const char *end = v ? v + vlen : n + nlen;
            if (keep->nelts) {
                APR_ARRAY_PUSH(keep, const char *) = "; ";
            }
            APR_ARRAY_PUSH(keep, const char *) = apr_pstrmemdup(p, n, (apr_size_t)(end - n));
        }
    }
    return keep->nelts ? apr_array_pstrcat(p, keep, 0) : NULL;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* 1 when the raw query key s[0..len) percent-decodes to name. */
static int key_is(const char *s, apr_size_t len, const char *name)
{
    apr_size_t i = 0;
    const char *n = name;
    while (i < len) {
        char c = s[i];
        if (c == '%') {
            int hi = i + 2 < len ? hexval(s[i + 1]) : -1;
            int lo = hi >= 0 ? hexval(s[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                return 0;
            }
            c = (char)(hi * 16 + lo);
            i += 3;
        }
        else {
            i++;
        }
        if (*n++ != c || c == 0) {
            return 0;
        }
    }
    return *n == 0;
}

const char *vjwt_query_remove(apr_pool_t *p, const char *query, const char *name)
{
    apr_array_header_t *keep = apr_array_make(p, 4, sizeof(const char *));
    const char *q = query;
    while (q && *q) {
        const char *end = q + strcspn(q, "&");
        const char *eq = memchr(q, '=', (apr_size_t)(end - q));
        const char *kend = eq ? eq : end;
        if (!key_is(q, (apr_size_t)(kend - q), name) && end > q) {
            if (keep->nelts) {
                APR_ARRAY_PUSH(keep, const char *) = "&";
            }
            APR_ARRAY_PUSH(keep, const char *) = apr_pstrmemdup(p, q, (apr_size_t)(end - q));
        }
        q = *end ? end + 1 : end;
    }
    return keep->nelts ? apr_array_pstrcat(p, keep, 0) : NULL;
}
