/* vjwt_authz.c - claim paths, scopes, claim-value matching, token type and age; see
 * vjwt_authz.h. */
#include <math.h>
#include <string.h>
#include <strings.h>
#include <apr_strings.h>
#include <apr_lib.h>

#include "vjwt_authz.h"
#include "vjwt_claims.h"

#define MAX_DETAIL 256

const char *vjwt_claim_name_check(const char *name)
{
    const char *c;
    if (!name || !*name) {
        return "empty claim name";
    }
    if (*name != '/') {
        return NULL;
    }
    if (strlen(name) > VJWT_CLAIM_PATH_MAX) {
        return "is a claim path (JSON Pointer) longer than 1024 bytes";
    }
    for (c = name; *c; c++) {
        if (*c == '~' && c[1] != '0' && c[1] != '1') {
            return "is not a valid JSON Pointer (RFC 6901): '~' must be followed by 0 or 1 "
                   "(~0 stands for '~', ~1 for '/')";
        }
    }
    return NULL;
}

/* An array index of RFC 6901: "0" or digits without a leading zero; -1 otherwise. */
static long array_index(const char *tok, size_t size)
{
    long n = 0;
    const char *c;
    if (!*tok || (tok[0] == '0' && tok[1])) {
        return -1;
    }
    for (c = tok; *c; c++) {
        if (*c < '0' || *c > '9') {
            return -1;
        }
        n = n * 10 + (*c - '0');
        if ((size_t)n >= size) {
            return -1; /* also stops the number from growing */
        }
    }
    return n;
}

const json_t *vjwt_claim_lookup(const json_t *payload, const char *name)
{
    char tok[VJWT_CLAIM_PATH_MAX + 1];
    const json_t *cur = payload;
    const char *s;
    if (!payload || !name) {
        return NULL;
    }
    if (*name != '/') {
        return json_object_get(payload, name);
    }
    if (strlen(name) > VJWT_CLAIM_PATH_MAX) {
        return NULL;
    }
    s = name;
    while (*s == '/') {
        size_t n = 0;
        s++;
        /* one reference token, unescaped: ~1 -> '/', ~0 -> '~' (in that order, RFC 6901 4) */
        for (; *s && *s != '/'; s++) {
            if (*s == '~') {
                if (s[1] == '0') {
                    tok[n++] = '~';
                }
                else if (s[1] == '1') {
                    tok[n++] = '/';
                }
                else {
                    return NULL;
                }
                s++;
            }
            else {
                tok[n++] = *s;
            }
        }
        tok[n] = 0;
        if (json_is_object(cur)) {
            cur = json_object_get(cur, tok);
        }
        else if (json_is_array(cur)) {
            long i = array_index(tok, json_array_size(cur));
            cur = i < 0 ? NULL : json_array_get(cur, (size_t)i);
        }
        else {
            return NULL;
        }
        if (!cur) {
            return NULL;
        }
    }
    return cur;
}

static void push_words(apr_pool_t *p, apr_array_header_t *out, const char *s)
{
    while (*s && out->nelts < VJWT_SCOPES_MAX) {
        const char *e;
        while (*s == ' ') {
            s++;
        }
        for (e = s; *e && *e != ' '; e++) {
        }
        if (e > s) {
            APR_ARRAY_PUSH(out, const char *) = apr_pstrmemdup(p, s, (apr_size_t)(e - s));
        }
        s = e;
    }
}

apr_array_header_t *vjwt_token_scopes(apr_pool_t *p, const json_t *payload)
{
    apr_array_header_t *out = apr_array_make(p, 8, sizeof(const char *));
    const json_t *scope = json_object_get(payload, "scope");
    const json_t *scp = json_object_get(payload, "scp");
    if (json_is_string(scope)) {
        push_words(p, out, json_string_value(scope));
    }
    if (json_is_string(scp)) {
        push_words(p, out, json_string_value(scp));
    }
    else if (json_is_array(scp)) {
        size_t i;
        const json_t *e;
        json_array_foreach(scp, i, e)
        {
            if (out->nelts >= VJWT_SCOPES_MAX) {
                break;
            }
            if (json_is_string(e) && *json_string_value(e)) {
                APR_ARRAY_PUSH(out, const char *) = json_string_value(e);
            }
        }
    }
    return out;
}

int vjwt_scopes_cover(apr_pool_t *p, const json_t *payload, const apr_array_header_t *wanted)
{
    apr_array_header_t *have = vjwt_token_scopes(p, payload);
    int i;
    for (i = 0; wanted && i < wanted->nelts; i++) {
        if (!vjwt_strings_contain(have, APR_ARRAY_IDX(wanted, i, const char *))) {
            return 0;
        }
    }
    return 1;
}

int vjwt_claim_value_allowed(apr_pool_t *p, const json_t *value, const apr_array_header_t *allowed)
{
    apr_array_header_t *have = vjwt_claim_strings(p, value, NULL);
    int i;
    for (i = 0; have && i < have->nelts; i++) {
        if (vjwt_strings_contain(allowed, APR_ARRAY_IDX(have, i, const char *))) {
            return 1;
        }
    }
    return 0;
}

/* A media type without its optional "application/" prefix (RFC 7515 section 4.1.9). */
static const char *bare_type(const char *s)
{
    return strncasecmp(s, "application/", 12) == 0 ? s + 12 : s;
}

const char *vjwt_token_type_check(const char *s)
{
    const char *c;
    if (!*s || !*bare_type(s)) {
        return "empty token type";
    }
    for (c = s; *c; c++) {
        if (*c <= 0x20 || *c >= 0x7f || *c == '"' || *c == '\\' || *c == ',') {
            return "is not a media type (letters, digits and !#$&-^_.+/ only)";
        }
    }
    return NULL;
}

apr_status_t vjwt_check_token_type(apr_pool_t *p, const json_t *header,
                                   const apr_array_header_t *types, vjwt_verdict_t *v)
{
    const json_t *typ;
    const char *got;
    int i;
    if (!types || types->nelts == 0) {
        return APR_SUCCESS;
    }
    typ = json_object_get(header, "typ");
    if (json_is_string(typ)) {
        for (i = 0; i < types->nelts; i++) {
            if (strcasecmp(bare_type(json_string_value(typ)),
                           bare_type(APR_ARRAY_IDX(types, i, const char *))) == 0) {
                return APR_SUCCESS;
            }
        }
    }
    if (!typ) {
        got = "is missing";
    }
    else if (!json_is_string(typ)) {
        got = "is not a string";
    }
    else {
        got = apr_psprintf(p, "'%s'", vjwt_sanitize(p, json_string_value(typ), 64));
    }
    return vjwt_fail(v, p, VJWT_R_JWT_INVALID, "The token type (header 'typ') %s; expected '%s'.",
                     got, vjwt_sanitize(p, apr_array_pstrcat(p, types, ' '), MAX_DETAIL));
}

apr_status_t vjwt_check_token_age(apr_pool_t *p, const vjwt_lifetime_t *lt, int max_age, int skew,
                                  double now, vjwt_verdict_t *v)
{
    double t;
    if (max_age < 0) {
        return APR_SUCCESS;
    }
    if (!lt->has_iat || !isfinite(lt->iat)) {
        return vjwt_fail(v, p, VJWT_R_TOKEN_EXPIRED,
                         "Lifetime validation failed. The token has no Issued At time (iat) and "
                         "a maximum token age of %d seconds is set.",
                         max_age);
    }
    t = lt->iat;
    if (t > now + skew) {
        return vjwt_fail(v, p, VJWT_R_TOKEN_EXPIRED,
                         "Lifetime validation failed. The token was issued %.0f seconds in the "
                         "future (iat).",
                         t - now);
    }
    if (now - t > (double)max_age + skew) {
        return vjwt_fail(v, p, VJWT_R_TOKEN_EXPIRED,
                         "Lifetime validation failed. The token was issued %.0f seconds ago "
                         "(iat); the maximum token age is %d seconds.",
                         now - t, max_age);
    }
    return APR_SUCCESS;
}

static int is_guid(const char *s)
{
    int i;
    if (strlen(s) != 36) {
        return 0;
    }
    for (i = 0; i < 36; i++) {
        char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-') {
                return 0;
            }
        }
        else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
            return 0;
        }
    }
    return 1;
}

const char *vjwt_entra_expand(apr_pool_t *p, const char *tenant, const char *authority,
                              vjwt_entra_t *out)
{
    char *t, *a;
    apr_size_t n;
    const char *host;
    if (!is_guid(tenant)) {
        return "is not a tenant id (a GUID such as 72f988bf-86f1-41af-91ab-2d7cd011db47)";
    }
    t = apr_pstrdup(p, tenant);
    for (a = t; *a; a++) {
        *a = (char)apr_tolower(*a);
    }
    a = apr_pstrdup(p, authority ? authority : VJWT_ENTRA_AUTHORITY);
    if (strncasecmp(a, "https://", 8) != 0 && strncasecmp(a, "http://", 7) != 0) {
        return "authority= must be an http or https URL";
    }
    if (strpbrk(a, "?# \t\"")) {
        return "authority= must be a URL without query, fragment, spaces or quotes";
    }
    n = strlen(a);
    while (n > 0 && a[n - 1] == '/') {
        a[--n] = 0;
    }
    host = strstr(a, "://"); /* gone when only slashes followed the scheme */
    host = host ? host + 3 : "";
    if (!*host || *host == '/') {
        return "authority= has no host";
    }
    out->tenant = t;
    out->issuer_v2 = apr_pstrcat(p, a, "/", t, "/v2.0", NULL);
    out->discovery = apr_pstrcat(p, out->issuer_v2, "/.well-known/openid-configuration", NULL);
    out->issuer_v1 = apr_pstrcat(p,
                                 strncasecmp(host, "login.chinacloudapi.cn", 22) == 0 &&
                                         (host[22] == 0 || host[22] == '/' || host[22] == ':')
                                     ? "https://sts.chinacloudapi.cn/"
                                     : "https://sts.windows.net/",
                                 t, "/", NULL);
    return NULL;
}
