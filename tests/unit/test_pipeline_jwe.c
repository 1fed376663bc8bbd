/*
 * test_pipeline_jwe.c - encrypted tokens (JWE) through the validation pipeline
 * (vjwt_validate_with, vjwt_validate_stored_ex): a JWE around signed tokens passes with the
 * decryption key and its inner token then goes through every JWS step with the JWS reasons
 * (docs/conformance.md#encrypted-tokens). Tokens come from python3-jwcrypto
 * (tests/data/jwe/pipeline.json, made by tests/data/jwe/make_pipeline.py); negative cases
 * alter them here. The memo of verified tokens holds a JWE as a whole: a repeated JWE is not
 * decrypted again.
 */
#include "testutil.h"

#include <stdio.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_time.h>
#include <jansson.h>

#include "vjwt_json.h"
#include "vjwt_jwe.h"
#include "vjwt_jwk.h"
#include "vjwt_pipeline.h"
#include "vjwt_policy.h"
#include "vjwt_validate.h"

#define POOL ((apr_pool_t *)*state)
#define NOW  1700000000.0

/* ---- fixtures ---------------------------------------------------------------------------- */

static const char *data_path(apr_pool_t *p, const char *name)
{
    const char *f = __FILE__, *slash = strrchr(f, '/');
    const char *dir = slash ? apr_pstrndup(p, f, (apr_size_t)(slash - f)) : ".";
    return apr_pstrcat(p, dir, "/../data/jwe/", name, NULL);
}

static json_t *g_data;

static int group_setup(void **state)
{
    json_error_t e;
    apr_pool_t *p;
    (void)state;
    vjwt_test_init();
    apr_pool_create(&p, NULL);
    g_data = json_load_file(data_path(p, "pipeline.json"), 0, &e);
    apr_pool_destroy(p);
    return g_data ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    json_decref(g_data);
    return 0;
}

static const char *tok(const char *name)
{
    const char *s = json_string_value(json_object_get(json_object_get(g_data, "tokens"), name));
    if (!s) {
        fail_msg("no token %s in pipeline.json", name);
    }
    return s;
}

static json_t *jwk_of(const char *kid)
{
    size_t i;
    json_t *k;
    json_array_foreach(json_object_get(g_data, "keys"), i, k)
    {
        if (strcmp(json_string_value(json_object_get(k, "kid")), kid) == 0) {
            return k;
        }
    }
    fail_msg("no key %s in pipeline.json", kid);
    return NULL;
}

/* Signing keys signer-rs256 (public) and signer-hs256; decryption keys dir-256 and rsa-enc;
 * iss and aud of the tokens. */
static vjwt_policy_t *policy(apr_pool_t *p)
{
    static const char *const sign[] = {"signer-rs256", "signer-hs256"};
    static const char *const dec[] = {"dir-256", "rsa-enc"};
    vjwt_policy_t *pol = vjwt_policy_make(p);
    size_t i;
    pol->keys = apr_array_make(p, 2, sizeof(vjwt_key_t *));
    pol->decryption_keys = apr_array_make(p, 2, sizeof(const vjwt_jwe_key_t *));
    for (i = 0; i < 2; i++) {
        vjwt_key_t *k = NULL;
        vjwt_jwe_key_t *d = NULL;
        const char *err = NULL;
        if (vjwt_jwk_parse(&k, p, jwk_of(sign[i]), &err) != APR_SUCCESS) {
            fail_msg("%s: %s", sign[i], err);
        }
        APR_ARRAY_PUSH(pol->keys, vjwt_key_t *) = k;
        if (vjwt_jwe_key_from_jwk(&d, p, jwk_of(dec[i]), &err) != APR_SUCCESS) {
            fail_msg("%s: %s", dec[i], err);
        }
        APR_ARRAY_PUSH(pol->decryption_keys, const vjwt_jwe_key_t *) = d;
    }
    pol->audiences = strs(p, "api://jwe");
    pol->issuers = strs(p, "https://issuer.example");
    return pol;
}

static const vjwt_jwe_ctx_t *ctx_of(apr_pool_t *p)
{
    vjwt_jwe_ctx_t *c = NULL;
    const char *err = NULL;
    assert_int_equal(vjwt_jwe_ctx_make(&c, p, &err), APR_SUCCESS);
    return c;
}

/* vjwt_validate_with on token at NOW with a JWE context (and o's memo, if any). */
static apr_status_t run(apr_pool_t *p, const vjwt_policy_t *pol, vjwt_validate_opts_t *o,
                        const char *token, vjwt_token_t **t, vjwt_verdict_t *v)
{
    vjwt_validate_opts_t mine;
    if (!o) {
        memset(&mine, 0, sizeof(mine));
        mine.jwe_ctx = ctx_of(p);
        o = &mine;
    }
    v->reason = VJWT_R_OK;
    v->detail = NULL;
    return vjwt_validate_with(p, pol, o, token, strlen(token), NOW, t, v);
}

static void expect_ok(apr_pool_t *p, const vjwt_policy_t *pol, const char *token)
{
    vjwt_verdict_t v;
    if (run(p, pol, NULL, token, NULL, &v) != APR_SUCCESS) {
        fail_msg("refused: %s: %s", vjwt_reason_name(v.reason), v.detail);
    }
}

static void expect_fail(apr_pool_t *p, const vjwt_policy_t *pol, const char *token,
                        vjwt_reason_e reason, const char *detail_part)
{
    vjwt_verdict_t v;
    if (run(p, pol, NULL, token, NULL, &v) == APR_SUCCESS) {
        fail_msg("accepted, expected %s", vjwt_reason_name(reason));
    }
    if (v.reason != reason) {
        fail_msg("%s (%s), expected %s", vjwt_reason_name(v.reason), v.detail,
                 vjwt_reason_name(reason));
    }
    if (detail_part) {
        assert_contains(v.detail, detail_part);
    }
}

/* token with the last character of segment i changed (a valid base64url character that
 * changes the decoded bytes). */
static const char *tamper(apr_pool_t *p, const char *token, int i)
{
    char *t = apr_pstrdup(p, token), *s = t, *e;
    while (i-- > 0) {
        s = strchr(s, '.') + 1;
    }
    e = strchr(s, '.');
    e = e ? e - 1 : t + strlen(t) - 1;
    *e = *e == 'A' ? 'Q' : 'A';
    return t;
}

/* ---- accepted --------------------------------------------------------------------------- */

static void test_accepted_inner_rs256_hs256(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_policy_t *pol = policy(p);
    vjwt_token_t *t = NULL;
    vjwt_verdict_t v;

    assert_int_equal(run(p, pol, NULL, tok("dir_a256gcm_rs256"), &t, &v), APR_SUCCESS);
    /* the token model is the inner token; the outer header is kept */
    assert_string_equal(t->alg, "RS256");
    assert_string_equal(t->kid, "signer-rs256");
    assert_string_equal(t->raw, tok("rs256"));
    assert_non_null(t->jwe_header);
    assert_string_equal(json_string_value(json_object_get(t->jwe_header, "enc")), "A256GCM");
    assert_string_equal(json_string_value(json_object_get(t->jwe_header, "alg")), "dir");
    assert_string_equal(json_string_value(json_object_get(t->payload, "sub")), "rs256-user");
    expect_ok(p, pol, tok("oaep_a256gcm_rs256"));
    expect_ok(p, pol, tok("oaep256_cbc_rs256"));
    expect_ok(p, pol, tok("dir_a256gcm_hs256"));
    expect_ok(p, pol, tok("oaep_a256gcm_hs256")); /* cty "jwt": any case */
    /* a plain JWS still passes: encryption is not mandatory */
    assert_int_equal(run(p, pol, NULL, tok("rs256"), &t, &v), APR_SUCCESS);
    assert_null(t->jwe_header);
}

/* ---- refused by the decryption (JwtInvalid) ---------------------------------------------- */

static void test_no_decryption_keys(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_policy_t *pol = policy(p);
    pol->decryption_keys = NULL;
    expect_fail(p, pol, tok("dir_a256gcm_rs256"), VJWT_R_JWT_INVALID,
                "encrypted token but no decryption keys");
    pol->decryption_keys = apr_array_make(p, 1, sizeof(const vjwt_jwe_key_t *));
    expect_fail(p, pol, tok("dir_a256gcm_rs256"), VJWT_R_JWT_INVALID,
                "encrypted token but no decryption keys");
    /* any five segments are an encrypted token */
    expect_fail(p, pol, "a.b.c.d.e", VJWT_R_JWT_INVALID, "encrypted token but no decryption keys");
}

static void test_tampered(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_policy_t *pol = policy(p);
    int i;
    for (i = 0; i < 5; i++) {
        if (i == 1) {
            continue; /* dir: the encrypted key is empty */
        }
        expect_fail(p, pol, tamper(p, tok("dir_a256gcm_rs256"), i), VJWT_R_JWT_INVALID, "JWE");
    }
    expect_fail(p, pol, tamper(p, tok("oaep_a256gcm_rs256"), 1), VJWT_R_JWT_INVALID, "JWE");
    expect_fail(p, pol, tamper(p, tok("oaep_a256gcm_rs256"), 4), VJWT_R_JWT_INVALID,
                "decryption failed");
}

static void test_refused_algorithms_and_keys(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_policy_t *pol = policy(p);
    expect_fail(p, pol, tok("rsa1_5"), VJWT_R_JWT_INVALID, "RSA1_5");
    expect_fail(p, pol, tok("zip"), VJWT_R_JWT_INVALID, "zip");
    expect_fail(p, pol, tok("oaep_other_key"), VJWT_R_JWT_INVALID, "JWE");
    /* the RSA floor of the policy applies to decryption keys too */
    pol->min_rsa_bits = 3072;
    expect_fail(p, pol, tok("oaep_a256gcm_hs256"), VJWT_R_JWT_INVALID, "no");
}

/* vjwt_validate has no JWE context: a JWE is refused, never decrypted. */
static void test_without_context(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_policy_t *pol = policy(p);
    vjwt_verdict_t v;
    const char *t = tok("dir_a256gcm_rs256");
    assert_int_not_equal(vjwt_validate(p, pol, NULL, t, strlen(t), NOW, NULL, &v), APR_SUCCESS);
    assert_int_equal(v.reason, VJWT_R_JWT_INVALID);
    assert_contains(v.detail, "no JWE context");
}

/* ---- the inner token: the JWS steps and reasons ----------------------------------------- */

static void test_inner_token_reasons(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_policy_t *pol = policy(p);
    expect_fail(p, pol, tok("dir_expired"), VJWT_R_TOKEN_EXPIRED, NULL);
    /* kid names the trusted key, which does not verify */
    expect_fail(p, pol, tok("dir_untrusted"), VJWT_R_TOKEN_SIGNATURE_INVALID, NULL);
    /* no kid: every RS256 key tried */
    expect_fail(p, pol, tok("dir_unknown_kid"), VJWT_R_TOKEN_SIGNATURE_INVALID, NULL);
    pol->audiences = strs(p, "api://other");
    expect_fail(p, pol, tok("dir_a256gcm_rs256"), VJWT_R_TOKEN_AUDIENCE_NOT_ALLOWED, NULL);
    pol->audiences = NULL;
    pol->issuers = strs(p, "https://other.example");
    expect_fail(p, pol, tok("oaep_a256gcm_hs256"), VJWT_R_TOKEN_ISSUER_NOT_ALLOWED, NULL);
}

static void test_inner_alg_none(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_policy_t *pol = policy(p);
    expect_fail(p, pol, tok("dir_none"), VJWT_R_TOKEN_SIGNATURE_INVALID, "unsigned");
    pol->require_signed = 0;
    expect_ok(p, pol, tok("dir_none"));
}

static void test_bare_claims_set(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_policy_t *pol = policy(p);
    vjwt_token_t *t = NULL;
    vjwt_verdict_t v;
    expect_fail(p, pol, tok("dir_bare"), VJWT_R_TOKEN_SIGNATURE_INVALID, "bare claims set");
    pol->require_signed = 0;
    assert_int_equal(run(p, pol, NULL, tok("dir_bare"), &t, &v), APR_SUCCESS);
    assert_string_equal(t->alg, "none");
    assert_null(t->kid);
    assert_string_equal(json_string_value(json_object_get(t->payload, "sub")), "bare-user");
    /* lifetime, audience, issuer and claims still apply */
    pol->audiences = strs(p, "api://other");
    expect_fail(p, pol, tok("dir_bare"), VJWT_R_TOKEN_AUDIENCE_NOT_ALLOWED, NULL);
}

/* ValidateJWTMaxTokenLength measures the whole JWE, not its plaintext. */
static void test_max_length_whole_jwe(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_policy_t *pol = policy(p);
    const char *t = tok("oaep_a256gcm_rs256");
    pol->max_token_len = (int)strlen(t) - 1;
    assert_true(strlen(tok("rs256")) < (size_t)pol->max_token_len);
    expect_fail(p, pol, t, VJWT_R_JWT_INVALID, "more than the limit");
    pol->max_token_len = (int)strlen(t);
    expect_ok(p, pol, t);
}

/* vjwt_validate_stored_ex (the module's and the CLI's entry point) without sources. */
static void test_stored_entry_point(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_policy_t *pol = policy(p);
    vjwt_validate_opts_t o;
    vjwt_token_t *t = NULL;
    vjwt_verdict_t v;
    const char *jwe = tok("oaep_a256gcm_hs256");
    memset(&o, 0, sizeof(o));
    o.jwe_ctx = ctx_of(p);
    assert_int_equal(vjwt_validate_stored_ex(p, NULL, pol, &o, jwe, strlen(jwe), NOW, &t, &v),
                     APR_SUCCESS);
    assert_string_equal(t->alg, "HS256");
    jwe = tok("dir_untrusted");
    assert_int_not_equal(vjwt_validate_stored_ex(p, NULL, pol, &o, jwe, strlen(jwe), NOW, &t, &v),
                         APR_SUCCESS);
    assert_int_equal(v.reason, VJWT_R_TOKEN_SIGNATURE_INVALID);
    assert_non_null(t); /* the inner token, for the log line */
    assert_non_null(t->jwe_header);
}

/* ---- the token cache ------------------------------------------------------------------ */

/* vjwt_validate_request with ro's caches. */
static apr_status_t run_cached(apr_pool_t *p, const vjwt_policy_t *pol, vjwt_request_opts_t *ro,
                               const char *token, vjwt_outcome_t *out, vjwt_verdict_t *v)
{
    v->reason = VJWT_R_OK;
    v->detail = NULL;
    return vjwt_validate_request(p, NULL, pol, ro, token, strlen(token), NOW, out, v);
}

static void cache_opts(apr_pool_t *p, vjwt_request_opts_t *ro)
{
    memset(ro, 0, sizeof(*ro));
    assert_int_equal(vjwt_vcache_make(&ro->accepted, p, 100, 1 << 20, apr_time_from_sec(3600)),
                     APR_SUCCESS);
    assert_int_equal(vjwt_vcache_make(&ro->rejected, p, 100, 1 << 20, apr_time_from_sec(3600)),
                     APR_SUCCESS);
    ro->base.jwe_ctx = ctx_of(p);
}

/* A JWE in the cache is judged without its decryption: with no JWE context at all it
 * still passes, and its record names the outer header for the log line. */
static void test_cache_skips_decryption(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_policy_t *pol = policy(p), *pol2;
    vjwt_request_opts_t ro;
    vjwt_outcome_t out;
    vjwt_vcache_stats_t st;
    vjwt_verdict_t v;
    const char *jwe = tok("oaep_a256gcm_rs256");

    cache_opts(p, &ro);
    assert_int_equal(run_cached(p, pol, &ro, jwe, &out, &v), APR_SUCCESS);
    vjwt_vcache_stats(ro.accepted, &st);
    assert_int_equal(st.entries, 1); /* one entry: the JWE, not its inner token besides */
    ro.base.jwe_ctx = NULL;          /* no way to decrypt any more */
    assert_int_equal(run_cached(p, pol, &ro, jwe, &out, &v), APR_SUCCESS);
    assert_true(out.cached);
    assert_string_equal(out.rec->alg, "RS256");
    assert_string_equal(out.rec->key_alg, "RSA-OAEP");
    assert_string_equal(out.rec->enc, "A256GCM");
    assert_true(out.rec->sensitive); /* wiped when the cache lets it go */
    /* another policy (other decryption keys, other audiences) is another entry: a miss, and
     * then no context to decrypt */
    pol2 = apr_pmemdup(p, pol, sizeof(*pol));
    pol2->ident = vjwt_policy_make(p)->ident;
    pol2->decryption_keys = apr_array_copy(p, pol->decryption_keys);
    assert_int_not_equal(run_cached(p, pol2, &ro, jwe, &out, &v), APR_SUCCESS);
    assert_int_equal(v.reason, VJWT_R_JWT_INVALID);
    /* a JWE refused for good is kept among the rejected: the same verdict, without
     * decrypting again */
    ro.base.jwe_ctx = ctx_of(p);
    assert_int_not_equal(run_cached(p, pol, &ro, tok("dir_untrusted"), &out, &v), APR_SUCCESS);
    assert_int_equal(v.reason, VJWT_R_TOKEN_SIGNATURE_INVALID);
    ro.base.jwe_ctx = NULL;
    assert_int_not_equal(run_cached(p, pol, &ro, tok("dir_untrusted"), &out, &v), APR_SUCCESS);
    assert_true(out.cached);
    assert_int_equal(v.reason, VJWT_R_TOKEN_SIGNATURE_INVALID);
}

/* What the cache saves on RSA-OAEP + A256GCM around RS256: printed, and at least a factor 3
 * (a decryption with a 2048-bit RSA private key costs far more than a lookup). */
static void test_cache_timing(void **state)
{
    apr_pool_t *p = POOL, *rp;
    vjwt_policy_t *pol = policy(p);
    vjwt_request_opts_t ro;
    vjwt_outcome_t out;
    vjwt_verdict_t v;
    const char *jwe = tok("oaep_a256gcm_rs256");
    apr_time_t t0, cold, warm;
    int i, n = 100;

    cache_opts(p, &ro);
    apr_pool_create(&rp, p);
    t0 = apr_time_now();
    for (i = 0; i < n; i++) {
        apr_pool_clear(rp);
        assert_int_equal(run(rp, pol, NULL, jwe, NULL, &v), APR_SUCCESS);
    }
    cold = apr_time_now() - t0;
    t0 = apr_time_now();
    for (i = 0; i < n; i++) {
        apr_pool_clear(rp);
        assert_int_equal(run_cached(rp, pol, &ro, jwe, &out, &v), APR_SUCCESS);
    }
    warm = apr_time_now() - t0;
    apr_pool_destroy(rp);
    printf("RSA-OAEP+A256GCM(RS256): %.1f us without the cache, %.1f us with it\n",
           (double)cold / n, (double)warm / n);
    assert_true(warm * 3 < cold);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, vjwt_test_pool_setup, vjwt_test_pool_teardown)
        T(test_accepted_inner_rs256_hs256),
        T(test_no_decryption_keys),
        T(test_tampered),
        T(test_refused_algorithms_and_keys),
        T(test_without_context),
        T(test_inner_token_reasons),
        T(test_inner_alg_none),
        T(test_bare_claims_set),
        T(test_max_length_whole_jwe),
        T(test_stored_entry_point),
        T(test_cache_skips_decryption),
        T(test_cache_timing),
#undef T
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
