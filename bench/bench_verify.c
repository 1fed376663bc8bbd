/*
 * bench_verify.c - cost of one JWS signature verification (vjwt_jose_verify) per algorithm,
 * with a valid and with an invalid signature (the last octet of the valid one flipped), in
 * 1 and in 2 threads sharing one key object, for a few seconds each. Prints per case the
 * verifications done, wall microseconds per verification per thread and CPU microseconds
 * per verification. Keys and tokens: bench/mint_verify.py (python3-jwcrypto).
 *
 *     bench/bench_verify FILE [SECONDS [ALG|all [valid|invalid|both [THREADS|both]]]]
 *
 * bench/verify.sh runs it and, case by case, under strace to count futex calls.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <jansson.h>

#include "vjwt.h"

typedef struct {
    const vjwt_alg_t *alg;
    const vjwt_key_t *key;
    const unsigned char *in;
    apr_size_t inlen;
    const unsigned char *sig;
    apr_size_t siglen;
    int expect; /* APR_SUCCESS or APR_EGENERAL */
    double seconds;
    long count;
    double cpu_s;
    int wrong;
} run_t;

static double now_s(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *worker(void *arg)
{
    run_t *r = arg;
    double c0 = now_s(CLOCK_THREAD_CPUTIME_ID);
    double end = now_s(CLOCK_MONOTONIC) + r->seconds;
    long n = 0;
    int i;
    while (now_s(CLOCK_MONOTONIC) < end) {
        for (i = 0; i < 50; i++) {
            if (vjwt_jose_verify(r->alg, r->key, r->in, r->inlen, r->sig, r->siglen) != r->expect) {
                r->wrong++;
            }
        }
        n += 50;
    }
    r->count = n;
    r->cpu_s = now_s(CLOCK_THREAD_CPUTIME_ID) - c0;
    return NULL;
}

static void one_case(const run_t *tmpl, const char *label, int threads)
{
    run_t r[8];
    pthread_t th[8];
    double w0, wall;
    long total = 0;
    double cpu = 0;
    int i, wrong = 0;

    for (i = 0; i < threads; i++) {
        r[i] = *tmpl;
        pthread_create(&th[i], NULL, worker, &r[i]);
    }
    w0 = now_s(CLOCK_MONOTONIC);
    for (i = 0; i < threads; i++) {
        pthread_join(th[i], NULL);
        total += r[i].count;
        cpu += r[i].cpu_s;
        wrong += r[i].wrong;
    }
    wall = now_s(CLOCK_MONOTONIC) - w0;
    printf("%-6s %-8s %7d %12ld %14.2f %13.2f%s\n", tmpl->alg->name, label, threads, total,
           wall * threads * 1e6 / (double)total, cpu * 1e6 / (double)total,
           wrong ? "  WRONG RESULTS" : "");
    fflush(stdout);
}

int main(int argc, char **argv)
{
    apr_pool_t *p;
    json_error_t e;
    json_t *d, *ent;
    size_t idx;
    double seconds = argc > 2 ? atof(argv[2]) : 2.0;
    const char *only = argc > 3 ? argv[3] : "all";
    const char *which = argc > 4 ? argv[4] : "both";
    const char *thr = argc > 5 ? argv[5] : "both";

    if (argc < 2 || seconds <= 0 || !(d = json_load_file(argv[1], 0, &e))) {
        fprintf(stderr, "usage: bench_verify FILE [SECONDS [ALG|all [valid|invalid|both "
                        "[1|2|both]]]]\n");
        return 2;
    }
    apr_initialize();
    apr_pool_create(&p, NULL);
    printf("%-6s %-8s %7s %12s %14s %13s\n", "alg", "sig", "threads", "verifies", "wall_us/verify",
           "cpu_us/verify");
    json_array_foreach(d, idx, ent)
    {
        const char *alg = json_string_value(json_object_get(ent, "alg"));
        const char *tok = json_string_value(json_object_get(ent, "token"));
        const char *dot2 = strrchr(tok, '.');
        vjwt_key_t *k = NULL;
        const char *err = NULL;
        unsigned char *sig, *bad;
        apr_size_t siglen;
        run_t t;
        int v, n;

        if (strcmp(only, "all") != 0 && strcmp(only, alg) != 0) {
            continue;
        }
        if (vjwt_jwk_parse(&k, p, json_object_get(ent, "jwk"), &err) != APR_SUCCESS || !dot2 ||
            vjwt_b64url_decode(p, dot2 + 1, strlen(dot2 + 1), &sig, &siglen) != APR_SUCCESS) {
            fprintf(stderr, "bench_verify: %s: %s\n", alg, err ? err : "bad token");
            return 2;
        }
        bad = apr_pmemdup(p, sig, siglen);
        bad[siglen - 1] ^= 0x01;
        memset(&t, 0, sizeof(t));
        t.alg = vjwt_alg_lookup(alg);
        t.key = k;
        t.in = (const unsigned char *)tok;
        t.inlen = (apr_size_t)(dot2 - tok);
        t.seconds = seconds;
        t.siglen = siglen;
        for (v = 0; v < 2; v++) {
            if ((v == 0 && strcmp(which, "invalid") == 0) ||
                (v == 1 && strcmp(which, "valid") == 0)) {
                continue;
            }
            t.sig = v == 0 ? sig : bad;
            t.expect = v == 0 ? APR_SUCCESS : APR_EGENERAL;
            for (n = 1; n <= 2; n++) {
                if (strcmp(thr, "both") == 0 || atoi(thr) == n) {
                    one_case(&t, v == 0 ? "valid" : "invalid", n);
                }
            }
        }
    }
    apr_pool_destroy(p);
    json_decref(d);
    apr_terminate();
    return 0;
}
