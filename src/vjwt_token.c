/* vjwt_token.c - compact JWS parsing (RFC 7515 7.1) and the token location rules of
 * docs/conformance.md#token-location. */
#include <string.h>
#include <apr_strings.h>
#include <apr_lib.h>
#include <openssl/evp.h>

#include "vjwt_token.h"
#include "vjwt_crypto.h"
#include "vjwt_b64.h"
#include "vjwt_json.h"

/* Header parameter names registered by RFC 7515 and RFC 7518: never valid in "crit". */
static const char *const registered_header_names[] = {
    "alg", "jku", "jwk", "kid", "x5u", "x5c", "x5t", "x5t#S256", "typ", "cty", "crit",
    "enc", "zip", "epk", "apu", "apv", "iv",  "tag", "p2s",      "p2c", NULL};

static int is_registered_header(const char *name)
{
    int i;
    for (i = 0; registered_header_names[i]; i++) {
        if (strcmp(registered_header_names[i], name) == 0) {
            return 1;
        }
    }
    return 0;
}

/* RFC 7515 section 4.1.11. The module implements no extension, so every well-formed crit
 * still names something unsupported; the detail tells which rule was hit. */
static apr_status_t check_crit(apr_pool_t *p, json_t *header, vjwt_verdict_t *v)
{
    json_t *crit = json_object_get(header, "crit");
    size_t i;
    json_t *e;
    if (!crit) {
        return APR_SUCCESS;
    }
    if (!json_is_array(crit) || json_array_size(crit) == 0) {
        return vjwt_fail(v, p, VJWT_R_JWT_INVALID,
                         "Header 'crit' must be a non-empty array of strings.");
    }
    json_array_foreach(crit, i, e)
    {
        const char *name;
        if (!json_is_string(e)) {
            return vjwt_fail(v, p, VJWT_R_JWT_INVALID,
                             "Header 'crit' must be a non-empty array of strings.");
        }
        name = json_string_value(e);
        if (is_registered_header(name)) {
            return vjwt_fail(v, p, VJWT_R_JWT_INVALID,
                             "Header 'crit' lists the registered parameter '%s'.",
                             vjwt_sanitize(p, name, 64));
        }
        if (!json_object_get(header, name)) {
            return vjwt_fail(v, p, VJWT_R_JWT_INVALID,
                             "Header 'crit' lists '%s', which is not in the header.",
                             vjwt_sanitize(p, name, 64));
        }
    }
    e = json_array_get(crit, 0);
    return vjwt_fail(v, p, VJWT_R_JWT_INVALID,
                     "Header 'crit' lists the unsupported extension '%s'.",
                     vjwt_sanitize(p, json_string_value(e), 64));
}

/* One base64url segment that must hold a JSON object; what names it in the detail. */
static apr_status_t decode_json_segment(json_t **out, apr_pool_t *p, const char *what,
                                        const char *s, apr_size_t len, vjwt_verdict_t *v)
{
    unsigned char *buf;
    apr_size_t n;
    const char *err = NULL;
    if (len == 0) {
        return vjwt_fail(v, p, VJWT_R_JWT_INVALID, "The JWT %s is empty.", what);
    }
    if (vjwt_b64url_decode(p, s, len, &buf, &n) != APR_SUCCESS) {
        return vjwt_fail(v, p, VJWT_R_JWT_INVALID, "The JWT %s is not valid base64url.", what);
    }
    if (vjwt_json_parse(out, p, (const char *)buf, n, 1, &err) != APR_SUCCESS) {
        return vjwt_fail(v, p, VJWT_R_JWT_INVALID, "The JWT %s is not a valid JSON object: %s.",
                         what, err ? err : "parse error");
    }
    return APR_SUCCESS;
}

apr_status_t vjwt_token_check_length(apr_pool_t *p, apr_size_t len, apr_size_t max_len,
                                     vjwt_verdict_t *v)
{
    if (len > max_len) {
        return vjwt_fail(v, p, VJWT_R_JWT_INVALID,
                         "The JWT is %" APR_SIZE_T_FMT
                         " bytes, more than the limit of %" APR_SIZE_T_FMT ".",
                         len, max_len);
    }
    return APR_SUCCESS;
}

/* The length limit and the two dots of a compact JWS: dot[0] ends the header, dot[1] the
 * payload. Five segments are a JWE, which is named as such. */
static apr_status_t split_segments(apr_pool_t *p, const char *s, apr_size_t len, apr_size_t max_len,
                                   const char *dot[4], vjwt_verdict_t *v)
{
    int ndots = 0;
    apr_size_t i;
    apr_status_t rv = vjwt_token_check_length(p, len, max_len, v);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; i < len; i++) {
        if (s[i] == '.') {
            if (ndots == 4) {
                ndots++;
                break;
            }
            dot[ndots++] = s + i;
        }
    }
    if (ndots == 4) {
        return vjwt_fail(v, p, VJWT_R_JWT_INVALID,
                         "The JWT has 5 segments (JWE); no decryption keys are configured.");
    }
    if (ndots != 2) {
        return vjwt_fail(v, p, VJWT_R_JWT_INVALID,
                         "The JWT must have 3 dot-separated segments, it has %s.",
                         ndots > 4 ? "more than 5" : apr_itoa(p, ndots + 1));
    }
    return APR_SUCCESS;
}

/* The decoded header's members: "alg" (a string, required), "kid" (a string when present),
 * "typ" (kept when a string) and "crit" (check_crit). */
static apr_status_t read_header(apr_pool_t *p, vjwt_token_t *t, vjwt_verdict_t *v)
{
    json_t *alg = json_object_get(t->header, "alg");
    json_t *kid = json_object_get(t->header, "kid");
    json_t *typ = json_object_get(t->header, "typ");

    if (!alg) {
        return vjwt_fail(v, p, VJWT_R_JWT_INVALID, "The JWT header has no 'alg'.");
    }
    if (!json_is_string(alg)) {
        return vjwt_fail(v, p, VJWT_R_JWT_INVALID, "The JWT header 'alg' is not a string.");
    }
    t->alg = json_string_value(alg);
    if (kid) {
        if (!json_is_string(kid)) {
            return vjwt_fail(v, p, VJWT_R_JWT_INVALID, "The JWT header 'kid' is not a string.");
        }
        t->kid = json_string_value(kid);
    }
    if (typ && json_is_string(typ)) {
        t->typ = json_string_value(typ);
    }
    return check_crit(p, t->header, v);
}

apr_status_t vjwt_token_parse(vjwt_token_t **out, apr_pool_t *p, const char *s, apr_size_t len,
                              apr_size_t max_len, vjwt_verdict_t *v)
{
    vjwt_token_t *t;
    const char *dot[4];
    apr_status_t rv;

    rv = split_segments(p, s, len, max_len ? max_len : VJWT_DEFAULT_MAX_TOKEN_LEN, dot, v);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    t = apr_pcalloc(p, sizeof(*t));
    t->raw = apr_pstrmemdup(p, s, len);
    t->raw_len = len;
    t->signing_input = t->raw;
    t->signing_input_len = (apr_size_t)(dot[1] - s);

    rv = decode_json_segment(&t->header, p, "header", s, (apr_size_t)(dot[0] - s), v);
    if (rv == APR_SUCCESS) {
        rv = read_header(p, t, v);
    }
    if (rv == APR_SUCCESS) {
        rv = decode_json_segment(&t->payload, p, "payload", dot[0] + 1,
                                 (apr_size_t)(dot[1] - dot[0] - 1), v);
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (vjwt_b64url_decode(p, dot[1] + 1, (apr_size_t)(s + len - dot[1] - 1), &t->sig,
                           &t->sig_len) != APR_SUCCESS) {
        return vjwt_fail(v, p, VJWT_R_JWT_INVALID, "The JWT signature is not valid base64url.");
    }
    *out = t;
    return APR_SUCCESS;
}

static int is_ws(char c)
{
    return c == ' ' || c == '\t';
}

static const char *trim(apr_pool_t *p, const char *s, apr_size_t len)
{
    while (len > 0 && is_ws(*s)) {
        s++;
        len--;
    }
    while (len > 0 && is_ws(s[len - 1])) {
        len--;
    }
    return len ? apr_pstrmemdup(p, s, len) : NULL;
}

const char *vjwt_token_from_authorization(apr_pool_t *p, const char *value,
                                          const char *require_scheme)
{
    const char *v, *rest;
    if (!value) {
        return NULL;
    }
    v = trim(p, value, strlen(value));
    if (!v) {
        return NULL;
    }
    if (require_scheme && *require_scheme) {
        apr_size_t n = strlen(require_scheme);
        if (strncasecmp(v, require_scheme, n) != 0 || v[n] != ' ') {
            return NULL;
        }
        rest = v + n;
        return trim(p, rest, strlen(rest));
    }
    rest = v + strcspn(v, " \t");
    if (!*rest) {
        /* No space: the whole value is the token (docs/conformance.md#token-location step 1.4),
         * except a bare "Bearer", which is "Bearer " with the empty token trimmed away
         * (docs/conformance.md C25). */
        return strcasecmp(v, "Bearer") == 0 ? NULL : v;
    }
    return trim(p, rest, strlen(rest));
}

const char *vjwt_token_from_header(apr_pool_t *p, const char *value)
{
    return value ? trim(p, value, strlen(value)) : NULL;
}

static int hexdigit(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c = apr_tolower(c);
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;
}

static const char *percent_decode(apr_pool_t *p, const char *s, apr_size_t len)
{
    char *out = apr_palloc(p, len + 1), *o = out;
    apr_size_t i;
    for (i = 0; i < len; i++) {
        if (s[i] == '%') {
            int hi, lo;
            if (i + 2 >= len) {
                return NULL;
            }
            hi = hexdigit((unsigned char)s[i + 1]);
            lo = hexdigit((unsigned char)s[i + 2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                return NULL;
            }
            *o++ = (char)(hi << 4 | lo);
            i += 2;
        }
        else {
            *o++ = s[i];
        }
    }
    *o = 0;
    return out;
}

const char *vjwt_token_from_query(apr_pool_t *p, const char *query, const char *name)
{
    const char *q = query;
    apr_size_t nlen;
    if (!query || !name) {
        return NULL;
    }
    nlen = strlen(name);
    while (*q) {
        const char *end = q + strcspn(q, "&");
        const char *eq = memchr(q, '=', (apr_size_t)(end - q));
        const char *kend = eq ? eq : end;
        const char *key = percent_decode(p, q, (apr_size_t)(kend - q));
        if (key && strlen(key) == nlen && memcmp(key, name, nlen) == 0) {
            const char *val;
            if (!eq) {
                return NULL;
            }
            val = percent_decode(p, eq + 1, (apr_size_t)(end - eq - 1));
            return (val && *val) ? val : NULL;
        }
        q = *end ? end + 1 : end;
    }
    return NULL;
}

const char *vjwt_token_fingerprint(apr_pool_t *p, const char *token, apr_size_t len)
{
    unsigned char md[32];
    if (vjwt_sha256(token, len, md) != 1) {
        return "00000000";
    }
    return vjwt_token_fingerprint_of(p, md);
}

const char *vjwt_token_fingerprint_of(apr_pool_t *p, const unsigned char md[32])
{
    static const char hex[] = "0123456789abcdef";
    char *out = apr_palloc(p, 9);
    int i;
    for (i = 0; i < 4; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[8] = 0;
    return out;
}
