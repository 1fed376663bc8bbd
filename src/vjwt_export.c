/* vjwt_export.c - claim names and values handed to the backend; see vjwt_export.h. */
#include <string.h>
#include <apr_hash.h>
#include <apr_strings.h>

#include "vjwt_authz.h"
#include "vjwt_b64.h"
#include "vjwt_claims.h"
#include "vjwt_export.h"
#include "vjwt_json.h"

static char fold(char c)
{
    if (c == '-') {
        return '_';
    }
    return (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
}

static const char *folded(apr_pool_t *p, const char *s)
{
    char *out = apr_pstrdup(p, s), *o;
    for (o = out; *o; o++) {
        *o = fold(*o);
    }
    return out;
}

int vjwt_export_names_collide(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        if (fold(*a) != fold(*b)) {
            return 0;
        }
    }
    return *a == *b;
}

int vjwt_is_claim_header(const char *name)
{
    static const char prefix[] = "X_JWT_CLAIM_";
    apr_size_t i;
    for (i = 0; i < sizeof(prefix) - 1; i++) {
        if (!name[i] || fold(name[i]) != prefix[i]) {
            return 0;
        }
    }
    return 1;
}

static int valid_name(const char *s)
{
    if (!*s) {
        return 0;
    }
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_')) {
            return 0;
        }
    }
    return 1;
}

const char *vjwt_claim_join(apr_pool_t *p, const json_t *value, int max_elements,
                            apr_size_t max_bytes)
{
    apr_array_header_t *vals;
    apr_size_t total = 0, n = 0;
    char *out;
    int i, cut = 0;
    if (!value || json_is_null(value)) {
        return NULL;
    }
    if (json_is_array(value) && json_array_size(value) > (size_t)max_elements) {
        return NULL;
    }
    vals = vjwt_claim_strings(p, value, NULL);
    if (!vals) {
        return NULL;
    }
    /* one pass for the length, one allocation, one pass to copy */
    for (i = 0; i < vals->nelts && total <= max_bytes; i++) {
        total += (i ? 1 : 0) + strlen(APR_ARRAY_IDX(vals, i, const char *));
    }
    if (total > max_bytes) {
        total = max_bytes;
        cut = 1;
    }
    out = apr_palloc(p, total + 4);
    for (i = 0; i < vals->nelts && n < total; i++) {
        const char *s = APR_ARRAY_IDX(vals, i, const char *);
        if (i) {
            out[n++] = ',';
        }
        for (; *s && n < total; s++) {
            unsigned char c = (unsigned char)*s;
            out[n++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
        }
    }
    if (cut) {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n] = 0;
    return out;
}

void vjwt_export_claims(apr_pool_t *p, const json_t *payload, vjwt_export_t *out)
{
    apr_hash_t *groups = apr_hash_make(p); /* folded name -> count */
    const char *name;
    json_t *value;
    out->items = apr_array_make(p, 8, sizeof(vjwt_export_item_t));
    out->collided = apr_array_make(p, 1, sizeof(const char *));
    out->too_many = apr_array_make(p, 1, sizeof(const char *));
    if (!json_is_object(payload)) {
        return;
    }
    json_object_foreach((json_t *)payload, name, value)
    {
        if (valid_name(name)) {
            const char *f = folded(p, name);
            apr_size_t n = (apr_size_t)apr_hash_get(groups, f, APR_HASH_KEY_STRING);
            apr_hash_set(groups, f, APR_HASH_KEY_STRING, (void *)(n + 1));
        }
    }
    json_object_foreach((json_t *)payload, name, value)
    {
        const char *text;
        vjwt_export_item_t *it;
        if (!valid_name(name)) {
            continue;
        }
        if ((apr_size_t)apr_hash_get(groups, folded(p, name), APR_HASH_KEY_STRING) > 1) {
            APR_ARRAY_PUSH(out->collided, const char *) = name;
            continue;
        }
        if (json_is_array(value) && json_array_size(value) > VJWT_EXPORT_MAX_ELEMENTS) {
            APR_ARRAY_PUSH(out->too_many, const char *) = name;
            continue;
        }
        text = vjwt_claim_join(p, value, VJWT_EXPORT_MAX_ELEMENTS, VJWT_EXPORT_MAX_BYTES);
        if (!text) {
            continue;
        }
        it = apr_array_push(out->items);
        it->name = name;
        it->value = text;
    }
}

/* The text of one scalar, object or nested array (see vjwt_claim_header_value). */
static const char *element_text(apr_pool_t *p, const json_t *e, int in_array)
{
    apr_array_header_t *one;
    if (json_is_object(e) || json_is_array(e)) {
        return vjwt_json_text(p, e);
    }
    if (json_is_string(e)) {
        const char *s = json_string_value(e);
        return in_array && strchr(s, ',') ? vjwt_json_text(p, e) : s;
    }
    one = vjwt_claim_strings(p, e, NULL);
    return one && one->nelts == 1 ? APR_ARRAY_IDX(one, 0, const char *) : NULL;
}

const char *vjwt_claim_header_value(apr_pool_t *p, const json_t *value)
{
    apr_array_header_t *parts;
    apr_size_t total = 0;
    char *out, *o;
    int i;
    if (!value || json_is_null(value)) {
        return NULL;
    }
    parts = apr_array_make(p, 4, sizeof(const char *));
    if (json_is_array(value)) {
        size_t k;
        const json_t *e;
        if (json_array_size(value) > VJWT_EXPORT_MAX_ELEMENTS) {
            return NULL;
        }
        json_array_foreach(value, k, e)
        {
            const char *t = json_is_null(e) ? "null" : element_text(p, e, 1);
            if (!t) {
                return NULL;
            }
            APR_ARRAY_PUSH(parts, const char *) = t;
        }
    }
    else {
        const char *t = element_text(p, value, 0);
        if (!t) {
            return NULL;
        }
        APR_ARRAY_PUSH(parts, const char *) = t;
    }
    for (i = 0; i < parts->nelts; i++) {
        total += (i ? 1 : 0) + strlen(APR_ARRAY_IDX(parts, i, const char *));
        if (total > VJWT_CLAIM_HEADER_MAX_BYTES) {
            return NULL;
        }
    }
    out = o = apr_palloc(p, total + 1);
    for (i = 0; i < parts->nelts; i++) {
        const char *s = APR_ARRAY_IDX(parts, i, const char *);
        if (i) {
            *o++ = ',';
        }
        for (; *s; s++) {
            unsigned char c = (unsigned char)*s;
            *o++ = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
        }
    }
    *o = 0;
    return out;
}

void vjwt_export_claim_headers(apr_pool_t *p, const vjwt_policy_t *pol, const vjwt_token_t *t,
                               apr_array_header_t *items, apr_array_header_t *skipped)
{
    int i;
    for (i = 0; pol->claim_headers && i < pol->claim_headers->nelts; i++) {
        const vjwt_claim_header_t *ch =
            APR_ARRAY_IDX(pol->claim_headers, i, const vjwt_claim_header_t *);
        const json_t *value = vjwt_claim_lookup(t->payload, ch->claim);
        const char *text;
        vjwt_export_item_t *it;
        if (!value || json_is_null(value)) {
            continue;
        }
        text = vjwt_claim_header_value(p, value);
        if (!text) {
            APR_ARRAY_PUSH(skipped, const char *) = ch->header;
            continue;
        }
        it = apr_array_push(items);
        it->name = ch->header;
        it->value = text;
    }
}

int vjwt_export_payload(apr_pool_t *p, const vjwt_token_t *t, vjwt_export_item_t *env,
                        vjwt_export_item_t *header)
{
    const char *seg, *end;
    unsigned char *bytes = NULL;
    apr_size_t n = 0;
    env->name = VJWT_PAYLOAD_ENV;
    header->name = VJWT_PAYLOAD_HEADER;
    seg = memchr(t->signing_input, '.', t->signing_input_len);
    if (json_object_size(t->header) == 0 || !seg) {
        /* a bare claims set from a JWE: raw is the JSON itself */
        bytes = (unsigned char *)apr_pstrmemdup(p, t->raw, t->raw_len);
        n = t->raw_len;
    }
    else {
        seg++;
        end = t->signing_input + t->signing_input_len;
        if (vjwt_b64url_decode(p, seg, (apr_size_t)(end - seg), &bytes, &n) != APR_SUCCESS) {
            return 0;
        }
    }
    if (memchr(bytes, 0, n)) {
        return 0;
    }
    env->value = apr_pstrmemdup(p, (const char *)bytes, n);
    header->value = vjwt_b64url_encode(p, bytes, n);
    return 1;
}
