/*
 * bench_request.c - the module's request path in the core (vjwt_validate_request), per
 * algorithm: a token judged afresh (token cache off) and the same token presented again
 * (a hit in the token cache), in CPU microseconds of the thread; ten rounds of N calls,
 * interleaved, the fastest round counts. With "-t T", T threads run the cached case at once
 * on one cache (the figure is then per call per thread).
 *
 *     bench/bench_request DIR [N]      DIR: what bench/mint.py wrote (ALG.jwt, ALG.key)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <apr_file_io.h>
#include <apr_time.h>

#include "vjwt.h"

#define ROUNDS 10

static const char *read_text(apr_pool_t *p, const char *path)
{
    char *text = NULL;
    apr_file_t *f;
    apr_finfo_t fi;
    apr_size_t n;
    if (apr_file_open(&f, path, APR_FOPEN_READ, 0, p) != APR_SUCCESS ||
        apr_file_info_get(&fi, APR_FINFO_SIZE, f) != APR_SUCCESS) {
        fprintf(stderr, "bench_request: cannot read %s\n", path);
        exit(2);
    }
    n = (apr_size_t)fi.size;
    text = apr_pcalloc(p, n + 1);
    apr_file_read_full(f, text, n, &n);
    apr_file_close(f);
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r')) {
        text[--n] = 0;
    }
    return text;
}

static vjwt_policy_t *policy(apr_pool_t *p, const char *keyspec)
{
    vjwt_policy_t *pol = vjwt_policy_make(p);
    vjwt_keyspec_t spec;
    const char *err = NULL;
    pol->keys = apr_array_make(p, 1, sizeof(vjwt_key_t *));
    if (vjwt_keyspec_parse_text(&spec, p, keyspec, &err) != APR_SUCCESS ||
        vjwt_keyspec_load(p, &spec, NULL, NULL, pol->keys, NULL, &err) != APR_SUCCESS) {
        fprintf(stderr, "bench_request: key %s: %s\n", keyspec, err);
        exit(2);
    }
    pol->audiences = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(pol->audiences, const char *) = "api://bench";
    pol->issuers = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(pol->issuers, const char *) = "https://bench";
    pol->pass_claims = VJWT_PASS_ENV;
    return pol;
}

static double cpu_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* CPU microseconds per call, n calls with a fresh request pool each. */
static double per_call(apr_pool_t *p, const vjwt_policy_t *pol, const vjwt_request_opts_t *ro,
                       const char *token, int n)
{
    double now = (double)apr_time_now() / APR_USEC_PER_SEC, t0;
    apr_pool_t *rp;
    int i;
    apr_pool_create(&rp, p);
    t0 = cpu_us();
    for (i = 0; i < n; i++) {
        vjwt_outcome_t out;
        vjwt_verdict_t v;
        apr_pool_clear(rp);
        if (vjwt_validate_request(rp, NULL, pol, ro, token, strlen(token), now, &out, &v) !=
            APR_SUCCESS) {
            fprintf(stderr, "bench_request: refused: %s\n", v.detail);
            exit(1);
        }
    }
    apr_pool_destroy(rp);
    return (cpu_us() - t0) / n;
}

int main(int argc, char **argv)
{
    static const char *const algs[] = {"HS256", "RS256", "PS256", "ES256", "ES384", "EdDSA"};
    apr_pool_t *p;
    int n, a, r;
    if (argc < 2) {
        fprintf(stderr, "usage: bench_request DIR [N]\n");
        return 2;
    }
    n = argc > 2 ? atoi(argv[2]) : 2000;
    apr_app_initialize(&argc, (const char *const **)&argv, NULL);
    apr_pool_create(&p, NULL);
    printf("| alg | judged afresh, µs | cached, µs |\n|---|---|---|\n");
    for (a = 0; a < (int)(sizeof(algs) / sizeof(algs[0])); a++) {
        const char *tok = read_text(p, apr_psprintf(p, "%s/%s.jwt", argv[1], algs[a]));
        const char *key = read_text(p, apr_psprintf(p, "%s/%s.key", argv[1], algs[a]));
        vjwt_policy_t *pol = policy(p, key);
        vjwt_request_opts_t off, on;
        double best_off = 1e9, best_on = 1e9;
        memset(&off, 0, sizeof(off));
        memset(&on, 0, sizeof(on));
        on.require_user = 1;
        off.require_user = 1;
        vjwt_vcache_make(&on.accepted, p, 10000, 2 << 20, apr_time_from_sec(3600));
        vjwt_vcache_make(&on.rejected, p, 1000, 256 << 10, apr_time_from_sec(3600));
        for (r = 0; r < ROUNDS; r++) {
            double x = per_call(p, pol, &off, tok, n / (a == 4 ? 10 : 1) + 1);
            double y = per_call(p, pol, &on, tok, n * 10);
            best_off = x < best_off ? x : best_off;
            best_on = y < best_on ? y : best_on;
        }
        printf("| %s | %.1f | %.2f |\n", algs[a], best_off, best_on);
    }
    apr_pool_destroy(p);
    apr_terminate();
    return 0;
}
