/* fuzz_token.c - token extraction and the whole validation pipeline on arbitrary bytes. */
#include <string.h>
#include <apr_strings.h>

#include "fuzz_common.h"
#include "vjwt.h"

static vjwt_policy_t *policy(apr_pool_t *p)
{
    static vjwt_policy_t *pol;
    if (!pol) {
        static const unsigned char secret[] = "0123456789abcdef0123456789abcdef";
        vjwt_key_t *k;
        vjwt_claim_req_t *c;
        const char *err;
        pol = vjwt_policy_make(p);
        pol->keys = apr_array_make(p, 1, sizeof(const vjwt_key_t *));
        if (vjwt_key_from_secret(&k, p, secret, 32, &err) == APR_SUCCESS) {
            k->kid = "k1";
            APR_ARRAY_PUSH(pol->keys, const vjwt_key_t *) = k;
        }
        pol->audiences = apr_array_make(p, 1, sizeof(const char *));
        APR_ARRAY_PUSH(pol->audiences, const char *) = "api://a";
        c = apr_pcalloc(p, sizeof(*c));
        c->name = "scp";
        c->match_any = 1;
        c->separator = " ";
        c->values = apr_array_make(p, 1, sizeof(const char *));
        APR_ARRAY_PUSH(c->values, const char *) = "read";
        pol->claims = apr_array_make(p, 1, sizeof(vjwt_claim_req_t *));
        APR_ARRAY_PUSH(pol->claims, vjwt_claim_req_t *) = c;
        pol->require_signed = 0; /* reach the unsigned paths too */
    }
    return pol;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *root = fuzz_root(), *p;
    vjwt_token_t *t = NULL;
    vjwt_verdict_t v;
    const char *s;
    vjwt_policy_t *pol = policy(root);
    apr_pool_create(&p, root);
    s = apr_pstrmemdup(p, (const char *)data, size);
    vjwt_validate(p, pol, NULL, (const char *)data, size, 1700000000.0, &t, &v);
    vjwt_token_from_authorization(p, s, NULL);
    vjwt_token_from_authorization(p, s, "Bearer");
    vjwt_token_from_query(p, s, "access_token");
    if (t) {
        vjwt_claim_strings(p, t->payload, " ");
        vjwt_json_text(p, t->payload);
    }
    apr_pool_destroy(p);
    return 0;
}
