/*
 * validate-jwt - explain offline what mod_validate_jwt decides for a token.
 *
 *   validate-jwt [options] TOKEN|-
 *     --key file:PATH | --key n=B64URL,e=B64URL | --key BASE64-SECRET   (repeatable)
 *     --aud AUD  --iss ISS  (repeatable)   --claim NAME=VALUE (match all)
 *     --alg ALG (repeatable allowlist)  --skew SECONDS  --no-exp  --unsigned-ok
 *     --now EPOCH  --min-rsa-bits N  --repeat N (benchmark: validate N times)
 *     --openid-config URL  --jwks-uri URL  (repeatable: keys fetched as the module does)
 *
 * Prints the verdict (OK or the reason and detail), the header and the payload, and exits
 * 0 when the token is accepted, 1 when rejected, 2 on usage or key errors.
 *
 * The token is judged by vjwt_validate_stored, the entry point the module uses: with URLs,
 * a key store of this process (default options, no shared cache) fetches the discovery
 * documents and JWK Sets, an unknown kid refetches once, and a source that gave no keys
 * makes a signature failure KeysUnavailable. The store's warnings go to stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <apr_time.h>

#include "vjwt.h"

static void usage(void)
{
    fprintf(stderr, "usage: validate-jwt [--key file:PATH|n=..,e=..|BASE64] [--aud A] [--iss I] "
                    "[--claim NAME=VALUE] [--alg ALG] [--skew S] [--no-exp] [--unsigned-ok] "
                    "[--now EPOCH] [--min-rsa-bits N] [--repeat N] [--openid-config URL] "
                    "[--jwks-uri URL] TOKEN|-\n");
    exit(2);
}

static void push(apr_pool_t *p, apr_array_header_t **a, const char *s)
{
    if (!*a) {
        *a = apr_array_make(p, 2, sizeof(const char *));
    }
    APR_ARRAY_PUSH(*a, const char *) = s;
}

static void add_key(apr_pool_t *p, vjwt_policy_t *pol, const char *spec)
{
    const char *err = NULL;
    vjwt_key_t *k = NULL;
    if (!pol->keys) {
        pol->keys = apr_array_make(p, 2, sizeof(const vjwt_key_t *));
    }
    if (!strncmp(spec, "file:", 5)) {
        if (vjwt_keys_from_file(pol->keys, p, spec + 5, NULL, &err) != APR_SUCCESS) {
            fprintf(stderr, "validate-jwt: %s: %s\n", spec, err);
            exit(2);
        }
        return;
    }
    if (!strncmp(spec, "n=", 2)) {
        char *n = apr_pstrdup(p, spec + 2), *e = strstr(n, ",e=");
        if (!e) {
            usage();
        }
        *e = 0;
        if (vjwt_key_from_rsa_ne(&k, p, n, e + 3, &err) != APR_SUCCESS) {
            fprintf(stderr, "validate-jwt: n/e key: %s\n", err);
            exit(2);
        }
    }
    else {
        unsigned char *b;
        apr_size_t len;
        if (vjwt_secret_decode(p, spec, "--key value", &b, &len, &err) != APR_SUCCESS ||
            vjwt_key_from_secret(&k, p, b, len, &err) != APR_SUCCESS) {
            fprintf(stderr, "validate-jwt: %s\n", err);
            exit(2);
        }
    }
    APR_ARRAY_PUSH(pol->keys, const vjwt_key_t *) = k;
}

static void add_source(apr_pool_t *p, vjwt_policy_t *pol, apr_array_header_t *registry,
                       vjwt_ks_kind_e kind, const char *url)
{
    if (!pol->sources) {
        pol->sources = apr_array_make(p, 2, sizeof(vjwt_ks_source_t *));
    }
    APR_ARRAY_PUSH(pol->sources, vjwt_ks_source_t *) = vjwt_ks_source_make(p, registry, kind, url);
}

/* The key store's warnings and errors (a fetch that failed, keys skipped) on stderr. */
static int store_is_level(void *baton, vjwt_log_level_e level)
{
    (void)baton;
    return level <= VJWT_LOG_WARN;
}

static void store_log(void *baton, vjwt_log_level_e level, const char *file, int line, int tag,
                      const char *msg)
{
    (void)baton;
    (void)level;
    (void)file;
    (void)line;
    fprintf(stderr, "validate-jwt: VJWT%05d: %s\n", tag, msg);
}

static char *read_stdin(apr_pool_t *p)
{
    char buf[65536];
    size_t n = fread(buf, 1, sizeof(buf) - 1, stdin);
    buf[n] = 0;
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ')) {
        buf[--n] = 0;
    }
    return apr_pstrdup(p, buf);
}

int main(int argc, char **argv)
{
    apr_pool_t *p, *rp;
    vjwt_policy_t *pol;
    const char *token = NULL;
    double now = (double)apr_time_now() / APR_USEC_PER_SEC;
    long repeat = 1, i;
    int a;
    apr_status_t rc = APR_EGENERAL;
    vjwt_verdict_t v;
    vjwt_token_t *t = NULL;
    vjwt_store_t *store = NULL;
    apr_array_header_t *registry;

    apr_app_initialize(&argc, (const char *const **)&argv, NULL);
    atexit(apr_terminate);
    apr_pool_create(&p, NULL);
    pol = vjwt_policy_make(p);
    registry = apr_array_make(p, 2, sizeof(vjwt_ks_source_t *));

    for (a = 1; a < argc; a++) {
        const char *o = argv[a];
        const char *val = (a + 1 < argc) ? argv[a + 1] : NULL;
        if (!strcmp(o, "--no-exp")) {
            pol->require_exp = 0;
            continue;
        }
        if (!strcmp(o, "--unsigned-ok")) {
            pol->require_signed = 0;
            continue;
        }
        if (o[0] != '-' || !strcmp(o, "-")) {
            token = o;
            continue;
        }
        if (!val) {
            usage();
        }
        a++;
        if (!strcmp(o, "--key")) {
            add_key(p, pol, val);
        }
        else if (!strcmp(o, "--openid-config")) {
            add_source(p, pol, registry, VJWT_KS_DISCOVERY, val);
        }
        else if (!strcmp(o, "--jwks-uri")) {
            add_source(p, pol, registry, VJWT_KS_JWKS_URL, val);
        }
        else if (!strcmp(o, "--aud")) {
            push(p, &pol->audiences, val);
        }
        else if (!strcmp(o, "--iss")) {
            push(p, &pol->issuers, val);
        }
        else if (!strcmp(o, "--claim")) {
            vjwt_claim_req_t *c = apr_pcalloc(p, sizeof(*c));
            char *name = apr_pstrdup(p, val), *eq = strchr(name, '=');
            c->values = apr_array_make(p, 1, sizeof(const char *));
            if (eq) {
                *eq = 0;
                APR_ARRAY_PUSH(c->values, const char *) = eq + 1;
            }
            c->name = name;
            if (!pol->claims) {
                pol->claims = apr_array_make(p, 2, sizeof(vjwt_claim_req_t *));
            }
            APR_ARRAY_PUSH(pol->claims, vjwt_claim_req_t *) = c;
        }
        else if (!strcmp(o, "--alg")) {
            if (vjwt_parse_alg_list(val, &pol->alg_mask)) {
                fprintf(stderr, "validate-jwt: unknown algorithm %s\n", val);
                return 2;
            }
        }
        else if (!strcmp(o, "--skew")) {
            if (vjwt_parse_seconds(val, 86400, &pol->clock_skew)) {
                usage();
            }
        }
        else if (!strcmp(o, "--min-rsa-bits")) {
            pol->min_rsa_bits = atoi(val);
        }
        else if (!strcmp(o, "--now")) {
            now = atof(val);
        }
        else if (!strcmp(o, "--repeat")) {
            repeat = atol(val);
        }
        else {
            usage();
        }
    }
    if (!token) {
        usage();
    }
    if (!strcmp(token, "-")) {
        token = read_stdin(p);
    }

    if (registry->nelts > 0) {
        vjwt_store_opts_t so;
        if (vjwt_fetch_global_init() != APR_SUCCESS) {
            fprintf(stderr, "validate-jwt: curl_global_init failed\n");
            return 2;
        }
        vjwt_store_opts_default(&so);
        so.log.is_level = store_is_level;
        so.log.log = store_log;
        if (vjwt_store_make(&store, p, &so, registry) != APR_SUCCESS) {
            fprintf(stderr, "validate-jwt: cannot create the key store\n");
            return 2;
        }
    }

    apr_pool_create(&rp, p);
    for (i = 0; i < repeat; i++) {
        apr_pool_clear(rp);
        rc = vjwt_validate_stored(rp, store, pol, NULL, token, strlen(token), now, &t, &v);
    }
    if (t) {
        printf("header:  %s\npayload: %s\n", vjwt_json_text(rp, t->header),
               vjwt_json_text(rp, t->payload));
    }
    if (rc == APR_SUCCESS) {
        printf("verdict: OK\n");
        return 0;
    }
    printf("verdict: %s\ndetail:  %s\n", vjwt_reason_name(v.reason), v.detail ? v.detail : "");
    return 1;
}
