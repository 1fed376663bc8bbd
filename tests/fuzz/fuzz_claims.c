/* fuzz_claims.c - arbitrary JSON payloads through the claim checks (types, lifetime,
 * audience, issuer, required claims with all/any/separator) and the claim export (names,
 * collisions, joins, caps). */
#include <string.h>
#include <apr_strings.h>

#include "fuzz_common.h"
#include "vjwt.h"

static apr_array_header_t *strings(apr_pool_t *p, const char *a, const char *b)
{
    apr_array_header_t *arr = apr_array_make(p, 2, sizeof(const char *));
    APR_ARRAY_PUSH(arr, const char *) = a;
    if (b) {
        APR_ARRAY_PUSH(arr, const char *) = b;
    }
    return arr;
}

static vjwt_claim_req_t *req(apr_pool_t *p, const char *name, int any, const char *sep,
                             const char *v1, const char *v2)
{
    vjwt_claim_req_t *c = apr_pcalloc(p, sizeof(*c));
    c->name = name;
    c->match_any = any;
    c->separator = sep;
    c->values = v1 ? strings(p, v1, v2) : apr_array_make(p, 1, sizeof(const char *));
    return c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static apr_array_header_t *claims, *auds, *issuers, *discovered;
    apr_pool_t *root = fuzz_root(), *p;
    json_t *payload;
    json_error_t jerr;
    vjwt_verdict_t v;
    vjwt_export_t ex;
    const char *name;
    json_t *value;
    int i;

    if (!claims) {
        claims = apr_array_make(root, 4, sizeof(vjwt_claim_req_t *));
        APR_ARRAY_PUSH(claims, vjwt_claim_req_t *) = req(root, "scp", 1, " ", "read", "write");
        APR_ARRAY_PUSH(claims, vjwt_claim_req_t *) = req(root, "roles", 0, NULL, "a", "b");
        APR_ARRAY_PUSH(claims, vjwt_claim_req_t *) = req(root, "groups", 0, ",", "x", NULL);
        APR_ARRAY_PUSH(claims, vjwt_claim_req_t *) = req(root, "sub", 0, NULL, NULL, NULL);
        auds = strings(root, "api://a", "https://b/");
        issuers = strings(root, "https://issuer", NULL);
        discovered = strings(root, "https://login/{tenantid}/v2.0", NULL);
    }
    payload = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
    if (!payload) {
        return 0;
    }
    apr_pool_create(&p, root);
    if (vjwt_claims_check_types(p, payload, &v) == APR_SUCCESS) {
        /* the later checks assume the registered claims have their types */
        vjwt_claims_check_lifetime(p, payload, 1, 30, 1700000000.0, &v);
        vjwt_claims_check_lifetime(p, payload, 0, 0, 1700000000.0, &v);
        vjwt_claims_check_audience(p, payload, auds, 1, &v);
        vjwt_claims_check_audience(p, payload, auds, 0, &v);
    }
    vjwt_claims_check_issuer_ex(p, payload, issuers, discovered, &v);
    vjwt_claims_check_required(p, payload, claims, &v);

    vjwt_export_claims(p, payload, &ex);
    for (i = 0; i < ex.items->nelts; i++) {
        const vjwt_export_item_t *it = &APR_ARRAY_IDX(ex.items, i, vjwt_export_item_t);
        int j;
        if (strlen(it->value) > VJWT_EXPORT_MAX_BYTES + 3 || strpbrk(it->value, "\r\n")) {
            abort();
        }
        for (j = 0; j < ex.items->nelts; j++) {
            if (j != i && vjwt_export_names_collide(
                              it->name, APR_ARRAY_IDX(ex.items, j, vjwt_export_item_t).name)) {
                abort(); /* an exported name is never ambiguous */
            }
        }
    }
    json_object_foreach(payload, name, value)
    {
        vjwt_claim_join(p, value, 3, 64);
        vjwt_is_claim_header(name);
        if (strlen(vjwt_sanitize(p, name, 32)) > 4 * 32 + 3) { /* "\x22" per byte at most */
            abort();
        }
    }
    json_decref(payload);
    apr_pool_destroy(p);
    return 0;
}
