/*
 * fuzz_discovery.c - the key store's handling of fetched documents: an OpenID discovery
 * document (issuer, jwks_uri) and the JWK Set it points to, with any Cache-Control max-age.
 * The input goes through a key store with a scripted fetcher (no network), so every step
 * a fetched document takes in a child (parse, URL rules, snapshot, refresh times, logging)
 * runs as it does in httpd.
 *
 * Input: byte 0 chooses the role of the rest (see below) and the max-age; bytes 1.. are
 * the document.
 */
#include <string.h>

#include <apr_strings.h>

#include "fuzz_common.h"
#include "vjwt.h"

#define DISCOVERY_URL "https://idp.example/.well-known/openid-configuration"
#define JWKS_URL      "https://idp.example/jwks"

static const char good_discovery[] =
    "{\"issuer\":\"https://idp.example\",\"jwks_uri\":\"" JWKS_URL "\"}";
static const char good_jwks[] =
    "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"k1\",\"use\":\"sig\","
    "\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
    "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}]}";

typedef struct {
    const char *doc;
    apr_size_t len;
    int role;
    long max_age;
} script_t;

static apr_time_t fake_now;

static apr_time_t clock_now(void)
{
    return fake_now;
}

/* role 0: the input is the discovery document (its jwks_uri gets a good set);
 * role 1: a good discovery document, the input is the JWK Set;
 * role 2: a JWKS-URL source, the input is the JWK Set. */
static apr_status_t scripted_fetch(void *baton, apr_pool_t *p, const char *url,
                                   const vjwt_fetch_opts_t *o, vjwt_fetch_result_t *res)
{
    const script_t *s = baton;
    const char *body;
    apr_size_t len;
    (void)o;
    memset(res, 0, sizeof(*res));
    res->max_age = s->max_age;
    if (!strcmp(url, DISCOVERY_URL)) {
        body = s->role == 0 ? s->doc : good_discovery;
        len = s->role == 0 ? s->len : sizeof(good_discovery) - 1;
    }
    else {
        body = s->role == 0 ? good_jwks : s->doc;
        len = s->role == 0 ? sizeof(good_jwks) - 1 : s->len;
    }
    res->status = 200;
    res->body = apr_pstrmemdup(p, body, len);
    res->len = len;
    res->final_url = url;
    return APR_SUCCESS;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const long ages[] = {-1, 0, 1, 3600, 2147483647L, 9223372036854775807L};
    apr_pool_t *root = fuzz_root(), *p, *rp;
    apr_array_header_t *registry;
    vjwt_ks_source_t *src;
    vjwt_store_opts_t o;
    vjwt_store_t *st = NULL;
    vjwt_keys_view_t view;
    script_t s;
    if (size < 1) {
        return 0;
    }
    s.role = data[0] % 3;
    s.max_age = ages[(data[0] / 3) % (sizeof(ages) / sizeof(ages[0]))];
    s.doc = (const char *)data + 1;
    s.len = size - 1;
    fake_now = apr_time_from_sec(1700000000);

    apr_pool_create(&p, root);
    registry = apr_array_make(p, 1, sizeof(vjwt_ks_source_t *));
    src = vjwt_ks_source_make(p, registry, s.role == 2 ? VJWT_KS_JWKS_URL : VJWT_KS_DISCOVERY,
                              s.role == 2 ? JWKS_URL : DISCOVERY_URL);
    (void)src;
    vjwt_store_opts_default(&o);
    o.fetcher = scripted_fetch;
    o.fetcher_baton = &s;
    o.now = clock_now;
    o.log.log = fuzz_quiet_log;
    if (vjwt_store_make(&st, p, &o, registry) == APR_SUCCESS) {
        apr_pool_create(&rp, p);
        vjwt_store_collect(st, rp, registry, NULL, &view);
        vjwt_store_refetch_for_kid(st, rp, registry, "unknown-kid");
        apr_pool_destroy(rp);
        /* a day later: the refresh path */
        fake_now += apr_time_from_sec(86400);
        vjwt_store_tick(st, p);
        apr_pool_create(&rp, p);
        vjwt_store_collect(st, rp, registry, NULL, &view);
        apr_pool_destroy(rp);
    }
    apr_pool_destroy(p);
    return 0;
}
