/*
 * bench_jwe.c - cost per validation of encrypted tokens (JWE) next to the signed token they
 * carry, through vjwt_validate_with (the module's pipeline, no process start): RS256 alone,
 * dir + A256GCM and RSA-OAEP + A256GCM around that RS256 token, each without and with the
 * token cache (vjwt_validate_request: one token presented again and again): ten rounds of N
 * validations per token, interleaved, and the fastest round counts (CPU time of the thread). Tokens
 * and keys are tests/data/jwe/pipeline.json (python3-jwcrypto, tests/data/jwe/make_pipeline.py).
 *
 *     bench/bench_jwe tests/data/jwe/pipeline.json [N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <apr_time.h>
#include <jansson.h>

#include "vjwt.h"

#define ROUNDS 10 /* runs of N validations per token; the fastest counts */

static json_t *key_of(json_t *d, const char *kid)
{
    size_t i;
    json_t *k;
    json_array_foreach(json_object_get(d, "keys"), i, k)
    {
        if (strcmp(json_string_value(json_object_get(k, "kid")), kid) == 0) {
            return k;
        }
    }
    fprintf(stderr, "bench_jwe: no key %s\n", kid);
    exit(2);
}

static vjwt_policy_t *policy(apr_pool_t *p, json_t *d)
{
    vjwt_policy_t *pol = vjwt_policy_make(p);
    vjwt_key_t *k = NULL;
    vjwt_jwe_key_t *dk = NULL, *rk = NULL, *kk = NULL;
    const char *err = NULL;
    if (vjwt_jwk_parse(&k, p, key_of(d, "signer-rs256"), &err) != APR_SUCCESS ||
        vjwt_jwe_key_from_jwk(&dk, p, key_of(d, "dir-256"), &err) != APR_SUCCESS ||
        vjwt_jwe_key_from_jwk(&kk, p, key_of(d, "kw-256"), &err) != APR_SUCCESS ||
        vjwt_jwe_key_from_jwk(&rk, p, key_of(d, "rsa-enc"), &err) != APR_SUCCESS) {
        fprintf(stderr, "bench_jwe: %s\n", err);
        exit(2);
    }
    pol->keys = apr_array_make(p, 1, sizeof(vjwt_key_t *));
    APR_ARRAY_PUSH(pol->keys, vjwt_key_t *) = k;
    pol->decryption_keys = apr_array_make(p, 3, sizeof(const vjwt_jwe_key_t *));
    APR_ARRAY_PUSH(pol->decryption_keys, const vjwt_jwe_key_t *) = dk;
    APR_ARRAY_PUSH(pol->decryption_keys, const vjwt_jwe_key_t *) = kk;
    APR_ARRAY_PUSH(pol->decryption_keys, const vjwt_jwe_key_t *) = rk;
    pol->audiences = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(pol->audiences, const char *) = json_string_value(json_object_get(d, "aud"));
    pol->issuers = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(pol->issuers, const char *) = json_string_value(json_object_get(d, "iss"));
    return pol;
}

/* CPU time of this thread in microseconds: other load on the machine does not count. */
static double cpu_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* CPU microseconds per validation of token, n times (a fresh request pool each time). */
static double per_validation(apr_pool_t *p, const vjwt_policy_t *pol, const vjwt_validate_opts_t *o,
                             const vjwt_request_opts_t *ro, const char *token, int n)
{
    apr_pool_t *rp;
    double t0;
    double now = (double)apr_time_now() / APR_USEC_PER_SEC;
    int i;
    apr_pool_create(&rp, p);
    t0 = cpu_us();
    for (i = 0; i < n; i++) {
        vjwt_verdict_t v;
        vjwt_outcome_t out;
        apr_pool_clear(rp);
        if ((ro ? vjwt_validate_request(rp, NULL, pol, ro, token, strlen(token), now, &out, &v)
                : vjwt_validate_with(rp, pol, o, token, strlen(token), now, NULL, &v)) !=
            APR_SUCCESS) {
            fprintf(stderr, "bench_jwe: refused: %s\n", v.detail);
            exit(1);
        }
    }
    apr_pool_destroy(rp);
    return (cpu_us() - t0) / n;
}

int main(int argc, char **argv)
{
    static const char *const names[] = {"rs256", "dir_a256gcm_rs256", "a256kw_a256gcm_rs256",
                                        "oaep_a256gcm_rs256"};
    static const char *const labels[] = {"RS256 alone", "dir+A256GCM(RS256)",
                                         "A256KW+A256GCM(RS256)", "RSA-OAEP+A256GCM(RS256)"};
    apr_pool_t *p;
    json_error_t e;
    json_t *d;
    vjwt_policy_t *pol;
    vjwt_validate_opts_t o;
    vjwt_jwe_ctx_t *ctx = NULL;
    vjwt_request_opts_t ro = {{0}, NULL, NULL, NULL, 0};
    const char *err = NULL;
    int n = argc > 2 ? atoi(argv[2]) : 1000, i, r;
    double cold[4], warm[4];

    if (argc < 2 || n < 1 || !(d = json_load_file(argv[1], 0, &e))) {
        fprintf(stderr, "usage: bench_jwe tests/data/jwe/pipeline.json [N per round]\n");
        return 2;
    }
    apr_initialize();
    apr_pool_create(&p, NULL);
    pol = policy(p, d);
    if (vjwt_jwe_ctx_make(&ctx, p, &err) != APR_SUCCESS ||
        vjwt_vcache_make(&ro.accepted, p, 100, 1 << 20, apr_time_from_sec(3600)) != APR_SUCCESS) {
        fprintf(stderr, "bench_jwe: %s\n", err ? err : "token cache");
        return 2;
    }
    memset(&o, 0, sizeof(o));
    o.jwe_ctx = ctx;
    ro.rejected = NULL;
    ro.base = o;
    ro.refs = NULL;
    ro.require_user = 0;
    /* rounds interleave the tokens, so that other load on the machine hits all alike; the
     * fastest round of each is kept */
    for (r = 0; r < ROUNDS; r++) {
        for (i = 0; i < 4; i++) {
            const char *t =
                json_string_value(json_object_get(json_object_get(d, "tokens"), names[i]));
            double us;
            us = per_validation(p, pol, &o, NULL, t, n);
            cold[i] = r == 0 || us < cold[i] ? us : cold[i];
            us = per_validation(p, pol, &o, &ro, t, n);
            warm[i] = r == 0 || us < warm[i] ? us : warm[i];
        }
    }
    printf("%-26s %8s %14s %10s %14s\n", "token", "n", "us/validation", "vs RS256", "cached us");
    for (i = 0; i < 4; i++) {
        printf("%-26s %8d %14.1f %9.0f%% %14.1f\n", labels[i], n * ROUNDS, cold[i],
               100.0 * (cold[i] - cold[0]) / cold[0], warm[i]);
    }
    apr_pool_destroy(p);
    json_decref(d);
    apr_terminate();
    return 0;
}
