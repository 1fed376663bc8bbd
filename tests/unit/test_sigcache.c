/*
 * test_sigcache.c - the memo of verified signatures: hits skip the signature (and only the
 * signature), misses for another scope, expiry, bound, and the pipeline through
 * vjwt_validate_with.
 */
#include "testutil.h"

#include <string.h>
#include <apr_strings.h>
#include <apr_time.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "vjwt.h"

static const unsigned char SECRET[32] = "0123456789abcdef0123456789abcdef";

/* An HS256 token over payload (JSON text), signed in the test with OpenSSL. */
static const char *hs256(apr_pool_t *p, const char *payload, const unsigned char *key)
{
    const char *h = vjwt_b64url_encode(p, (const unsigned char *)"{\"alg\":\"HS256\"}", 15);
    const char *b = vjwt_b64url_encode(p, (const unsigned char *)payload, strlen(payload));
    const char *in = apr_pstrcat(p, h, ".", b, NULL);
    unsigned char mac[32];
    unsigned int n = 0;
    HMAC(EVP_sha256(), key, 32, (const unsigned char *)in, strlen(in), mac, &n);
    return apr_pstrcat(p, in, ".", vjwt_b64url_encode(p, mac, n), NULL);
}

static vjwt_policy_t *policy_with(apr_pool_t *p, const unsigned char *secret)
{
    vjwt_policy_t *pol = vjwt_policy_make(p);
    vjwt_key_t *k;
    const char *err = NULL;
    assert_int_equal(vjwt_key_from_secret(&k, p, secret, 32, &err), APR_SUCCESS);
    pol->keys = apr_array_make(p, 1, sizeof(const vjwt_key_t *));
    APR_ARRAY_PUSH(pol->keys, const vjwt_key_t *) = k;
    return pol;
}

static void t_hit_and_miss(void **state)
{
    apr_pool_t *p = *state;
    vjwt_sigcache_t *c;
    vjwt_sigcache_scope_t a = {(void *)1, NULL, 7, 3, 2048, 1, NULL}, b = a;
    apr_time_t now = apr_time_from_sec(1000);
    int n;
    apr_uint64_t hits, misses;
    assert_int_equal(vjwt_sigcache_make(&c, p, 10, apr_time_from_sec(60)), APR_SUCCESS);
    assert_false(vjwt_sigcache_hit(c, "tok", 3, &a, now));
    vjwt_sigcache_put(c, "tok", 3, &a, now, now + apr_time_from_sec(30));
    assert_true(vjwt_sigcache_hit(c, "tok", 3, &a, now));
    assert_false(vjwt_sigcache_hit(c, "tok2", 4, &a, now));
    b.generation = 8; /* the fetched keys changed */
    assert_false(vjwt_sigcache_hit(c, "tok", 3, &b, now));
    b = a;
    b.alg_mask = 1; /* another allowlist */
    assert_false(vjwt_sigcache_hit(c, "tok", 3, &b, now));
    b = a;
    b.min_rsa_bits = 1024;
    assert_false(vjwt_sigcache_hit(c, "tok", 3, &b, now));
    /* expiry: exp passed, and the cache's own maximum */
    assert_false(vjwt_sigcache_hit(c, "tok", 3, &a, now + apr_time_from_sec(30)));
    vjwt_sigcache_put(c, "long", 4, &a, now, now + apr_time_from_sec(3600));
    assert_true(vjwt_sigcache_hit(c, "long", 4, &a, now + apr_time_from_sec(59)));
    assert_false(vjwt_sigcache_hit(c, "long", 4, &a, now + apr_time_from_sec(61)));
    /* an already expired token is not stored */
    vjwt_sigcache_put(c, "old", 3, &a, now, now - 1);
    assert_false(vjwt_sigcache_hit(c, "old", 3, &a, now));
    vjwt_sigcache_stats(c, &n, &hits, &misses);
    assert_int_equal(n, 2);
    assert_true(hits == 2);
}

static void t_bounded(void **state)
{
    apr_pool_t *p = *state;
    vjwt_sigcache_t *c;
    vjwt_sigcache_scope_t a = {NULL, NULL, 0, 1, 2048, 1, NULL};
    apr_time_t now = apr_time_from_sec(1000);
    int i, n;
    apr_uint64_t hits, misses;
    assert_int_equal(vjwt_sigcache_make(&c, p, 4, apr_time_from_sec(60)), APR_SUCCESS);
    for (i = 0; i < 100; i++) {
        const char *t = apr_psprintf(p, "token-%d", i);
        vjwt_sigcache_put(c, t, strlen(t), &a, now, now + apr_time_from_sec(30));
        vjwt_sigcache_stats(c, &n, &hits, &misses);
        assert_true(n <= 4);
    }
    assert_true(vjwt_sigcache_hit(c, "token-99", 8, &a, now));
}

/* Through the pipeline: a hit skips the signature only; claims and time are checked again. */
static void t_pipeline(void **state)
{
    apr_pool_t *p = *state;
    vjwt_sigcache_t *c;
    vjwt_validate_opts_t o;
    vjwt_verdict_t v;
    double now = 2000000000.0;
    vjwt_policy_t *pol = policy_with(p, SECRET);
    const char *tok = hs256(p, "{\"sub\":\"a\",\"aud\":\"x\",\"exp\":2000000100}", SECRET);
    unsigned char other[32];
    apr_array_header_t *keys = pol->keys;

    memset(&o, 0, sizeof(o));
    assert_int_equal(vjwt_sigcache_make(&c, p, 100, apr_time_from_sec(3600)), APR_SUCCESS);
    o.sigcache = c;
    assert_int_equal(vjwt_validate_with(p, pol, &o, tok, strlen(tok), now, NULL, &v), APR_SUCCESS);
    /* the memo answers for the signature: with the key list emptied but the same identity,
     * the token still passes ... */
    keys->nelts = 0;
    assert_int_equal(vjwt_validate_with(p, pol, &o, tok, strlen(tok), now, NULL, &v), APR_SUCCESS);
    /* ... but claims and time are checked every time */
    pol->audiences = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(pol->audiences, const char *) = "y";
    assert_int_not_equal(vjwt_validate_with(p, pol, &o, tok, strlen(tok), now, NULL, &v),
                         APR_SUCCESS);
    assert_int_equal(v.reason, VJWT_R_TOKEN_AUDIENCE_NOT_ALLOWED);
    pol->audiences = NULL;
    /* past exp the entry is gone as well (it lives until exp at most) */
    keys->nelts = 1;
    assert_int_not_equal(vjwt_validate_with(p, pol, &o, tok, strlen(tok), now + 200, NULL, &v),
                         APR_SUCCESS);
    assert_int_equal(v.reason, VJWT_R_TOKEN_EXPIRED);
    /* a tampered token is another entry: verified (and refused) for itself */
    memset(other, 'z', sizeof(other));
    keys->nelts = 1;
    {
        const char *bad = hs256(p, "{\"sub\":\"a\",\"aud\":\"x\",\"exp\":2000000100}", other);
        assert_int_not_equal(vjwt_validate_with(p, pol, &o, bad, strlen(bad), now, NULL, &v),
                             APR_SUCCESS);
        assert_int_equal(v.reason, VJWT_R_TOKEN_SIGNATURE_INVALID);
        /* failures are not remembered */
        assert_int_not_equal(vjwt_validate_with(p, pol, &o, bad, strlen(bad), now, NULL, &v),
                             APR_SUCCESS);
    }
    /* another key-set generation misses: the emptied key list then refuses the token */
    keys->nelts = 0;
    o.key_generation = 42;
    assert_int_not_equal(vjwt_validate_with(p, pol, &o, tok, strlen(tok), now, NULL, &v),
                         APR_SUCCESS);
    assert_int_equal(v.reason, VJWT_R_TOKEN_SIGNATURE_KEY_NOT_FOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(t_hit_and_miss, vjwt_test_pool_setup,
                                        vjwt_test_pool_teardown),
        cmocka_unit_test_setup_teardown(t_bounded, vjwt_test_pool_setup, vjwt_test_pool_teardown),
        cmocka_unit_test_setup_teardown(t_pipeline, vjwt_test_pool_setup, vjwt_test_pool_teardown),
    };
    vjwt_test_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
