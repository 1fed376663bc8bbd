/* fuzz_jwks.c - JWK Set parsing (as fetched from a jwks_uri or read from a key file). */
#include "fuzz_common.h"
#include "vjwt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *root = fuzz_root(), *p;
    apr_array_header_t *keys = NULL, *skipped;
    const char *err = NULL;
    apr_pool_create(&p, root);
    skipped = apr_array_make(p, 2, sizeof(const char *));
    if (vjwt_jwks_parse(&keys, p, (const char *)data, size, skipped, &err) == APR_SUCCESS) {
        int i;
        for (i = 0; i < keys->nelts; i++) {
            vjwt_key_describe(p, APR_ARRAY_IDX(keys, i, const vjwt_key_t *));
        }
    }
    {
        vjwt_key_t *k = NULL;
        vjwt_key_from_pem(&k, p, (const char *)data, size, &err);
    }
    apr_pool_destroy(p);
    return 0;
}
