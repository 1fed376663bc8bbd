/*
 * vjwt_json.c - strict JSON for JOSE on top of jansson. See vjwt_json.h.
 */
#include "vjwt_json.h"

#include <string.h>
#include <apr_strings.h>

/* Largest document accepted (a JWKS or a discovery document is far smaller). */
#define VJWT_JSON_MAX_SIZE (4u * 1024u * 1024u)

/*
 * Nesting depth of buf[0..len), counting '[' and '{' outside strings (a backslash inside a
 * string escapes the next character). Stops early and returns max + 1 as soon as the depth
 * exceeds max, so jansson never sees a deeply nested document.
 */
static int json_depth_exceeds(const char *buf, apr_size_t len, int max)
{
    apr_size_t i;
    int depth = 0, in_str = 0, esc = 0;

    for (i = 0; i < len; i++) {
        char c = buf[i];
        if (in_str) {
            if (esc) {
                esc = 0;
            }
            else if (c == '\\') {
                esc = 1;
            }
            else if (c == '"') {
                in_str = 0;
            }
            continue;
        }
        if (c == '"') {
            in_str = 1;
        }
        else if (c == '[' || c == '{') {
            if (++depth > max) {
                return 1;
            }
        }
        else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
    }
    return 0;
}

/* jansson's error text may quote input bytes: keep it printable ASCII for log lines. */
static const char *json_err_text(apr_pool_t *p, const char *text)
{
    char *s = apr_pstrndup(p, text, 120);
    char *c;
    for (c = s; *c; c++) {
        if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7E) {
            *c = '?';
        }
    }
    return s;
}

static apr_status_t json_cleanup(void *data)
{
    json_decref((json_t *)data);
    return APR_SUCCESS;
}

json_t *vjwt_json_own(apr_pool_t *p, json_t *j)
{
    if (j) {
        apr_pool_cleanup_register(p, j, json_cleanup, apr_pool_cleanup_null);
    }
    return j;
}

apr_status_t vjwt_json_parse(json_t **out, apr_pool_t *p, const char *buf, apr_size_t len,
                             int want_object, const char **err)
{
    json_error_t jerr;
    json_t *j;
    size_t flags = JSON_REJECT_DUPLICATES;

    if (out) {
        *out = NULL;
    }
    if (!out || (!buf && len)) {
        if (err) {
            *err = "no input";
        }
        return APR_EINVAL;
    }
    if (len == 0) {
        if (err) {
            *err = "empty document";
        }
        return APR_EINVAL;
    }
    if (len > VJWT_JSON_MAX_SIZE) {
        if (err) {
            *err = "document too large";
        }
        return APR_EINVAL;
    }
    if (json_depth_exceeds(buf, len, VJWT_JSON_MAX_DEPTH)) {
        if (err) {
            *err = apr_psprintf(p, "nesting deeper than %d", VJWT_JSON_MAX_DEPTH);
        }
        return APR_EINVAL;
    }
    if (!want_object) {
        flags |= JSON_DECODE_ANY;
    }
    /* JSON_ALLOW_NUL is not set: "\u0000" in a string is an error. jansson checks UTF-8
     * and rejects trailing data after the value. */
    j = json_loadb(buf, len, flags, &jerr);
    if (!j) {
        if (err) {
            *err = apr_psprintf(p, "invalid JSON: %s", json_err_text(p, jerr.text));
        }
        return APR_EINVAL;
    }
    if (want_object && !json_is_object(j)) {
        json_decref(j);
        if (err) {
            *err = "not a JSON object";
        }
        return APR_EINVAL;
    }
    *out = vjwt_json_own(p, j);
    return APR_SUCCESS;
}

const char *vjwt_json_text(apr_pool_t *p, const json_t *j)
{
    json_malloc_t mfn = NULL;
    json_free_t ffn = NULL;
    char *s;
    const char *copy;

    if (!j) {
        return NULL;
    }
    s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
    if (!s) {
        return NULL;
    }
    copy = apr_pstrdup(p, s);
    /* json_dumps allocates with jansson's allocator */
    json_get_alloc_funcs(&mfn, &ffn);
    if (ffn) {
        ffn(s);
    }
    return copy;
}
