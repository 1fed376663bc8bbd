/* vjwt_claims.c - registered claim types, lifetime, audience, issuer, required claims. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_time.h>

#include "vjwt_claims.h"
#include "vjwt_authz.h"
#include "vjwt_json.h"

#define MAX_NUMERIC_DATE 9007199254740992.0 /* 2^53 */
#define MAX_DETAIL_VALUE 256

static const char *number_text(apr_pool_t *p, const json_t *v)
{
    double d;
    int prec;
    if (json_is_integer(v)) {
        return apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)json_integer_value(v));
    }
    d = json_real_value(v);
    /* The shortest text that reads back as the same double: 1.5 -> "1.5". */
    for (prec = 1; prec <= 17; prec++) {
        char buf[40];
        snprintf(buf, sizeof(buf), "%.*g", prec, d);
        if (strtod(buf, NULL) == d) {
            return apr_pstrdup(p, buf);
        }
    }
    return apr_psprintf(p, "%.17g", d);
}

static const char *scalar_text(apr_pool_t *p, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        return json_string_value(v);
    case JSON_INTEGER:
    case JSON_REAL:
        return number_text(p, v);
    case JSON_TRUE:
        return "true";
    case JSON_FALSE:
        return "false";
    case JSON_NULL:
        return NULL;
    default:
        return vjwt_json_text(p, v);
    }
}

static void push_split(apr_array_header_t *arr, apr_pool_t *p, const char *s, const char *sep)
{
    apr_size_t seplen;
    if (!s) {
        return;
    }
    if (!sep || !*sep) {
        APR_ARRAY_PUSH(arr, const char *) = s;
        return;
    }
    seplen = strlen(sep);
    for (;;) {
        const char *hit = strstr(s, sep);
        apr_size_t len = hit ? (apr_size_t)(hit - s) : strlen(s);
        if (len > 0) {
            APR_ARRAY_PUSH(arr, const char *) = apr_pstrmemdup(p, s, len);
        }
        if (!hit) {
            break;
        }
        s = hit + seplen;
    }
}

apr_array_header_t *vjwt_claim_strings(apr_pool_t *p, const json_t *value, const char *separator)
{
    apr_array_header_t *arr;
    if (!value || json_is_null(value)) {
        return NULL;
    }
    arr = apr_array_make(p, 4, sizeof(const char *));
    if (json_is_array(value)) {
        size_t i;
        const json_t *e;
        json_array_foreach(value, i, e)
        {
            push_split(arr, p, scalar_text(p, e), separator);
        }
    }
    else {
        push_split(arr, p, scalar_text(p, value), separator);
    }
    return arr;
}

/* The values joined with ',' for a detail message: linear (one allocation), and only as
 * much as the message shows is copied. */
static const char *join_values(apr_pool_t *p, const apr_array_header_t *arr)
{
    apr_size_t total = 0, n = 0;
    char *s;
    int i;
    for (i = 0; arr && i < arr->nelts && total <= MAX_DETAIL_VALUE; i++) {
        total += (i ? 1 : 0) + strlen(APR_ARRAY_IDX(arr, i, const char *));
    }
    if (total > MAX_DETAIL_VALUE) {
        total = MAX_DETAIL_VALUE + 1; /* vjwt_sanitize marks the cut */
    }
    s = apr_palloc(p, total + 1);
    for (i = 0; arr && i < arr->nelts && n < total; i++) {
        const char *v = APR_ARRAY_IDX(arr, i, const char *);
        apr_size_t len = strlen(v);
        if (i) {
            s[n++] = ',';
        }
        if (len > total - n) {
            len = total - n;
        }
        memcpy(s + n, v, len);
        n += len;
    }
    s[n] = 0;
    return vjwt_sanitize(p, s, MAX_DETAIL_VALUE);
}

static int numeric_ok(const json_t *v)
{
    double d;
    if (!json_is_number(v)) {
        return 0;
    }
    d = json_number_value(v);
    return isfinite(d) && fabs(d) <= MAX_NUMERIC_DATE;
}

apr_status_t vjwt_claims_check_types(apr_pool_t *p, const json_t *payload, vjwt_verdict_t *v)
{
    static const char *const dates[] = {"exp", "nbf", "iat", NULL};
    static const char *const strings[] = {"iss", "sub", "jti", NULL};
    const json_t *aud;
    int i;
    for (i = 0; dates[i]; i++) {
        const json_t *c = json_object_get(payload, dates[i]);
        if (c && !numeric_ok(c)) {
            return vjwt_fail(v, p, VJWT_R_JWT_INVALID,
                             "The claim '%s' is not a NumericDate (a JSON number within "
                             "+-2^53).",
                             dates[i]);
        }
    }
    for (i = 0; strings[i]; i++) {
        const json_t *c = json_object_get(payload, strings[i]);
        if (c && !json_is_string(c)) {
            return vjwt_fail(v, p, VJWT_R_JWT_INVALID, "The claim '%s' is not a string.",
                             strings[i]);
        }
    }
    aud = json_object_get(payload, "aud");
    if (aud && !json_is_string(aud)) {
        size_t k;
        const json_t *e;
        if (!json_is_array(aud)) {
            return vjwt_fail(v, p, VJWT_R_JWT_INVALID,
                             "The claim 'aud' is neither a string nor an array of strings.");
        }
        json_array_foreach(aud, k, e)
        {
            if (!json_is_string(e)) {
                return vjwt_fail(v, p, VJWT_R_JWT_INVALID,
                                 "The claim 'aud' is neither a string nor an array of strings.");
            }
        }
    }
    return APR_SUCCESS;
}

static const char *iso_time(apr_pool_t *p, double t)
{
    apr_time_exp_t xt;
    if (t < 0 || t > 253402300799.0) {
        return apr_psprintf(p, "%.0f", t);
    }
    apr_time_exp_gmt(&xt, apr_time_from_sec((apr_time_t)t));
    return apr_psprintf(p, "%04d-%02d-%02dT%02d:%02d:%02dZ", xt.tm_year + 1900, xt.tm_mon + 1,
                        xt.tm_mday, xt.tm_hour, xt.tm_min, xt.tm_sec);
}

void vjwt_lifetime_of(const json_t *payload, vjwt_lifetime_t *lt)
{
    const json_t *exp = json_object_get(payload, "exp");
    const json_t *nbf = json_object_get(payload, "nbf");
    const json_t *iat = json_object_get(payload, "iat");
    lt->has_exp = json_is_number(exp);
    lt->has_nbf = json_is_number(nbf);
    lt->has_iat = json_is_number(iat);
    lt->exp = lt->has_exp ? json_number_value(exp) : 0;
    lt->nbf = lt->has_nbf ? json_number_value(nbf) : 0;
    lt->iat = lt->has_iat ? json_number_value(iat) : 0;
}

apr_status_t vjwt_claims_check_lifetime(apr_pool_t *p, const json_t *payload, int require_exp,
                                        int skew, double now, vjwt_verdict_t *v)
{
    vjwt_lifetime_t lt;
    vjwt_lifetime_of(payload, &lt);
    return vjwt_lifetime_check(p, &lt, require_exp, skew, now, v);
}

apr_status_t vjwt_lifetime_check(apr_pool_t *p, const vjwt_lifetime_t *lt, int require_exp,
                                 int skew, double now, vjwt_verdict_t *v)
{
    int jexp = lt->has_exp, jnbf = lt->has_nbf;
    double exp = lt->exp, nbf = lt->nbf;

    if (!jexp && require_exp) {
        return vjwt_fail(v, p, VJWT_R_JWT_INVALID,
                         "Lifetime validation failed. The token is missing an Expiration Time.");
    }
    if (jexp && jnbf && nbf > exp) {
        return vjwt_fail(v, p, VJWT_R_JWT_INVALID,
                         "Lifetime validation failed. The NotBefore '%s' is after Expires '%s'.",
                         iso_time(p, nbf), iso_time(p, exp));
    }
    if (jexp && now >= exp + skew) {
        return vjwt_fail(v, p, VJWT_R_TOKEN_EXPIRED,
                         "Lifetime validation failed. The token is expired. ValidTo: '%s', "
                         "Current time: '%s'. Access denied.",
                         iso_time(p, exp), iso_time(p, now));
    }
    if (jnbf && now + skew < nbf) {
        return vjwt_fail(v, p, VJWT_R_JWT_INVALID,
                         "Lifetime validation failed. The token is not yet valid. ValidFrom: "
                         "'%s', Current time: '%s'.",
                         iso_time(p, nbf), iso_time(p, now));
    }
    return APR_SUCCESS;
}

/* Equal, or equal but for one trailing '/' on one side (.NET's
 * IgnoreTrailingSlashWhenValidatingAudience). */
static int audience_equal(const char *a, const char *b, int ignore_slash)
{
    apr_size_t la, lb;
    if (strcmp(a, b) == 0) {
        return 1;
    }
    if (!ignore_slash) {
        return 0;
    }
    la = strlen(a);
    lb = strlen(b);
    if (la == lb + 1 && a[la - 1] == '/' && strncmp(a, b, lb) == 0) {
        return 1;
    }
    if (lb == la + 1 && b[lb - 1] == '/' && strncmp(a, b, la) == 0) {
        return 1;
    }
    return 0;
}

apr_status_t vjwt_claims_check_audience(apr_pool_t *p, const json_t *payload,
                                        const apr_array_header_t *audiences,
                                        int ignore_trailing_slash, vjwt_verdict_t *v)
{
    const json_t *aud;
    apr_array_header_t *vals;
    int i, j;
    if (!audiences || audiences->nelts == 0) {
        return APR_SUCCESS;
    }
    aud = json_object_get(payload, "aud");
    if (!aud || !(json_is_string(aud) || json_is_array(aud))) {
        return vjwt_fail(v, p, VJWT_R_TOKEN_AUDIENCE_NOT_ALLOWED,
                         "Audience validation failed. The token has no audience. Access denied.");
    }
    vals = vjwt_claim_strings(p, aud, NULL);
    for (i = 0; vals && i < vals->nelts; i++) {
        const char *t = APR_ARRAY_IDX(vals, i, const char *);
        if (!*t) {
            continue;
        }
        for (j = 0; j < audiences->nelts; j++) {
            if (audience_equal(t, APR_ARRAY_IDX(audiences, j, const char *),
                               ignore_trailing_slash)) {
                return APR_SUCCESS;
            }
        }
    }
    return vjwt_fail(v, p, VJWT_R_TOKEN_AUDIENCE_NOT_ALLOWED,
                     "Audience validation failed. Audiences: '%s'. Access denied.",
                     join_values(p, vals));
}

apr_status_t vjwt_claims_check_issuer(apr_pool_t *p, const json_t *payload,
                                      const apr_array_header_t *issuers, vjwt_verdict_t *v)
{
    return vjwt_claims_check_issuer_ex(p, payload, issuers, NULL, v);
}

/* A discovery issuer with "{tenantid}" replaced by the token's tid, or NULL. */
static const char *tenant_issuer(apr_pool_t *p, const char *tmpl, const json_t *payload)
{
    const char *at = strstr(tmpl, "{tenantid}");
    const json_t *tid = json_object_get(payload, "tid");
    if (!at || !json_is_string(tid) || !*json_string_value(tid)) {
        return NULL;
    }
    return apr_pstrcat(p, apr_pstrmemdup(p, tmpl, (apr_size_t)(at - tmpl)), json_string_value(tid),
                       at + strlen("{tenantid}"), NULL);
}

apr_status_t vjwt_claims_check_issuer_ex(apr_pool_t *p, const json_t *payload,
                                         const apr_array_header_t *configured,
                                         const apr_array_header_t *discovered, vjwt_verdict_t *v)
{
    const json_t *iss;
    const char *s;
    int i;
    if ((!configured || configured->nelts == 0) && (!discovered || discovered->nelts == 0)) {
        return APR_SUCCESS;
    }
    iss = json_object_get(payload, "iss");
    if (!iss || !json_is_string(iss)) {
        return vjwt_fail(v, p, VJWT_R_TOKEN_ISSUER_NOT_ALLOWED,
                         "Issuer validation failed. The token has no issuer. Access denied.");
    }
    s = json_string_value(iss);
    for (i = 0; configured && i < configured->nelts; i++) {
        if (strcmp(s, APR_ARRAY_IDX(configured, i, const char *)) == 0) {
            return APR_SUCCESS;
        }
    }
    for (i = 0; discovered && i < discovered->nelts; i++) {
        const char *d = APR_ARRAY_IDX(discovered, i, const char *);
        /* a template issuer only matches with the token's tid filled in, never literally */
        const char *t = strstr(d, "{tenantid}") ? tenant_issuer(p, d, payload) : d;
        if (t && strcmp(s, t) == 0) {
            return APR_SUCCESS;
        }
    }
    return vjwt_fail(v, p, VJWT_R_TOKEN_ISSUER_NOT_ALLOWED,
                     "Issuer validation failed. Issuer: '%s'. Access denied.",
                     vjwt_sanitize(p, s, MAX_DETAIL_VALUE));
}

int vjwt_strings_contain(const apr_array_header_t *vals, const char *s)
{
    int i;
    for (i = 0; vals && i < vals->nelts; i++) {
        if (strcmp(APR_ARRAY_IDX(vals, i, const char *), s) == 0) {
            return 1;
        }
    }
    return 0;
}

apr_status_t vjwt_claims_check_required(apr_pool_t *p, const json_t *payload,
                                        const apr_array_header_t *claims, vjwt_verdict_t *v)
{
    apr_array_header_t *missing;
    int i, j;
    if (!claims) {
        return APR_SUCCESS;
    }
    missing = apr_array_make(p, 1, sizeof(const char *));
    for (i = 0; i < claims->nelts; i++) {
        const vjwt_claim_req_t *c = APR_ARRAY_IDX(claims, i, const vjwt_claim_req_t *);
        const json_t *val = vjwt_claim_lookup(payload, c->name);
        if (!val || json_is_null(val)) {
            APR_ARRAY_PUSH(missing, const char *) = c->name;
            APR_ARRAY_PUSH(missing, const char *) = ", ";
        }
    }
    if (missing->nelts) {
        missing->nelts--; /* the last ", " */
        return vjwt_fail(v, p, VJWT_R_TOKEN_CLAIM_NOT_FOUND,
                         "JWT is missing the following claims: %s. Access denied.",
                         vjwt_sanitize(p, apr_array_pstrcat(p, missing, 0), MAX_DETAIL_VALUE));
    }
    for (i = 0; i < claims->nelts; i++) {
        const vjwt_claim_req_t *c = APR_ARRAY_IDX(claims, i, const vjwt_claim_req_t *);
        apr_array_header_t *have;
        int ok;
        if (!c->values || c->values->nelts == 0) {
            continue;
        }
        have = vjwt_claim_strings(p, vjwt_claim_lookup(payload, c->name), c->separator);
        ok = !c->match_any;
        for (j = 0; j < c->values->nelts; j++) {
            int found = vjwt_strings_contain(have, APR_ARRAY_IDX(c->values, j, const char *));
            if (c->match_any && found) {
                ok = 1;
                break;
            }
            if (!c->match_any && !found) {
                ok = 0;
                break;
            }
        }
        if (!ok) {
            return vjwt_fail(v, p, VJWT_R_TOKEN_CLAIM_VALUE_NOT_ALLOWED,
                             "Claim %s value of %s is not allowed. Access denied.",
                             vjwt_sanitize(p, c->name, 128), join_values(p, have));
        }
    }
    return APR_SUCCESS;
}
