/*
 * test_policy.c - the policy model: unset fields, defaults, child-over-parent merge, the
 * client-facing message and the value parsers (docs/conformance.md#policy-files,
 * #failure-response).
 *
 * Rows of docs/conformance.md covered: C5, C6, C7, C63 (allowlist parser), C123,
 * C125, C126, C134 (merge).
 */
#include "testutil.h"

#include <string.h>
#include <apr_strings.h>

#include "vjwt_policy.h"
#include "vjwt_jose.h"
#include "vjwt_token.h"
#include "vjwt_verdict.h"
#include "vjwt_secret.h"
#include "vjwt_policy_xml.h"

#include <apr_file_io.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#define POOL ((apr_pool_t *)*state)

static unsigned alg_bit(const char *name)
{
    const vjwt_alg_t *a = vjwt_alg_lookup(name);
    if (!a) {
        fail_msg("alg %s not in the registry", name);
    }
    return a->bit;
}

/* --- make and defaults -------------------------------------------------------------- */

static void test_make_all_unset(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_policy_t *pol = vjwt_policy_make(p);

    assert_non_null(pol);
    assert_int_equal(pol->source, VJWT_SRC_UNSET);
    assert_null(pol->source_name);
    assert_null(pol->require_scheme);
    assert_int_equal(pol->status, VJWT_UNSET);
    assert_null(pol->error_message);
    assert_int_equal(pol->require_exp, VJWT_UNSET);
    assert_int_equal(pol->require_signed, VJWT_UNSET);
    assert_int_equal(pol->clock_skew, VJWT_UNSET);
    assert_null(pol->output_var);
    assert_null(pol->id);
    assert_null(pol->keys);
    assert_null(pol->audiences);
    assert_null(pol->issuers);
    assert_null(pol->claims);
    assert_int_equal(pol->alg_mask, 0);
    assert_int_equal(pol->min_rsa_bits, VJWT_UNSET);
    assert_int_equal(pol->aud_ignore_trailing_slash, VJWT_UNSET);
    assert_int_equal(pol->max_token_len, VJWT_UNSET);
    assert_null(pol->remote_user_claim);
    assert_int_equal(pol->pass_claims, VJWT_UNSET);
    assert_int_equal(pol->www_authenticate, VJWT_UNSET);
    assert_null(pol->realm);
}

static void check_defaults(const vjwt_policy_t *pol)
{
    const char *name = NULL;
    assert_int_equal(vjwt_policy_source(pol, &name), VJWT_SRC_HEADER);
    assert_non_null(name);
    assert_string_equal(name, "Authorization");
    assert_int_equal(vjwt_policy_status(pol), 401);
    assert_int_equal(vjwt_policy_require_exp(pol), 1);
    assert_int_equal(vjwt_policy_require_signed(pol), 1);
    assert_int_equal(vjwt_policy_clock_skew(pol), 0);
    assert_int_equal(vjwt_policy_alg_mask(pol), vjwt_alg_mask_all());
    assert_int_equal(vjwt_policy_min_rsa_bits(pol), VJWT_DEFAULT_MIN_RSA_BITS);
    assert_int_equal(vjwt_policy_min_rsa_bits(pol), 2048);
    assert_int_equal(vjwt_policy_aud_ignore_trailing_slash(pol), 1);
    assert_int_equal(vjwt_policy_max_token_len(pol), VJWT_DEFAULT_MAX_TOKEN_LEN);
    assert_int_equal(vjwt_policy_max_token_len(pol), 16384);
    assert_string_equal(vjwt_policy_remote_user_claim(pol), "sub");
    assert_int_equal(vjwt_policy_pass_claims(pol), VJWT_PASS_ENV);
    assert_int_equal(vjwt_policy_www_authenticate(pol), 1);
}

/* C6, C7 defaults and the other attribute defaults. */
static void test_defaults(void **state)
{
    apr_pool_t *p = POOL;
    check_defaults(vjwt_policy_make(p));
}

/* Accessors return set values, including "off" values that equal 0. */
static void test_accessors_set_values(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_policy_t *pol = vjwt_policy_make(p);
    const char *name = NULL;

    pol->source = VJWT_SRC_QUERY;
    pol->source_name = "access_token";
    pol->status = 403;
    pol->require_exp = 0;
    pol->require_signed = 0;
    pol->clock_skew = 120;
    pol->alg_mask = alg_bit("RS256") | alg_bit("ES256");
    pol->min_rsa_bits = 1024;
    pol->aud_ignore_trailing_slash = 0;
    pol->max_token_len = 4096;
    pol->remote_user_claim = "oid";
    pol->pass_claims = VJWT_PASS_NONE;
    pol->www_authenticate = 0;

    assert_int_equal(vjwt_policy_source(pol, &name), VJWT_SRC_QUERY);
    assert_string_equal(name, "access_token");
    assert_int_equal(vjwt_policy_status(pol), 403);
    assert_int_equal(vjwt_policy_require_exp(pol), 0);
    assert_int_equal(vjwt_policy_require_signed(pol), 0);
    assert_int_equal(vjwt_policy_clock_skew(pol), 120);
    assert_int_equal(vjwt_policy_alg_mask(pol), alg_bit("RS256") | alg_bit("ES256"));
    assert_int_equal(vjwt_policy_min_rsa_bits(pol), 1024);
    assert_int_equal(vjwt_policy_aud_ignore_trailing_slash(pol), 0);
    assert_int_equal(vjwt_policy_max_token_len(pol), 4096);
    assert_string_equal(vjwt_policy_remote_user_claim(pol), "oid");
    assert_int_equal(vjwt_policy_pass_claims(pol), VJWT_PASS_NONE);
    assert_int_equal(vjwt_policy_www_authenticate(pol), 0);

    pol->source = VJWT_SRC_HEADER;
    pol->source_name = "X-Token";
    assert_int_equal(vjwt_policy_source(pol, &name), VJWT_SRC_HEADER);
    assert_string_equal(name, "X-Token");
    pol->pass_claims = VJWT_PASS_BOTH;
    assert_int_equal(vjwt_policy_pass_claims(pol), VJWT_PASS_BOTH);
    pol->pass_claims = VJWT_PASS_HEADERS;
    assert_int_equal(vjwt_policy_pass_claims(pol), VJWT_PASS_HEADERS);
}

/* --- merge ----------------------------------------------------------------------------- */

static vjwt_policy_t *full_parent(apr_pool_t *p)
{
    vjwt_policy_t *pol = vjwt_policy_make(p);
    pol->source = VJWT_SRC_HEADER;
    pol->source_name = "X-Parent";
    pol->require_scheme = "Bearer";
    pol->status = 403;
    pol->error_message = "parent message";
    pol->require_exp = 0;
    pol->require_signed = 0;
    pol->clock_skew = 60;
    pol->output_var = "pjwt";
    pol->id = "parent-id";
    pol->keys = apr_array_make(p, 1, sizeof(void *));
    pol->audiences = strs(p, "aud-a", "aud-b");
    pol->issuers = strs(p, "iss-a", NULL);
    pol->claims = apr_array_make(p, 1, sizeof(vjwt_claim_req_t *));
    pol->alg_mask = alg_bit("RS256");
    pol->min_rsa_bits = 1024;
    pol->aud_ignore_trailing_slash = 0;
    pol->max_token_len = 8000;
    pol->remote_user_claim = "oid";
    pol->pass_claims = VJWT_PASS_HEADERS;
    pol->www_authenticate = 0;
    pol->realm = "parent-realm";
    pol->enabled = 1;
    return pol;
}

/* Unset child fields inherit every parent field. */
static void test_merge_child_unset_inherits(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_policy_t *base = full_parent(p);
    vjwt_policy_t *add = vjwt_policy_make(p);
    vjwt_policy_t *m = vjwt_policy_merge(p, base, add);
    const char *name = NULL;

    assert_non_null(m);
    assert_true(m != base && m != add);
    assert_int_equal(vjwt_policy_source(m, &name), VJWT_SRC_HEADER);
    assert_string_equal(name, "X-Parent");
    assert_string_equal(m->require_scheme, "Bearer");
    assert_int_equal(vjwt_policy_status(m), 403);
    assert_string_equal(m->error_message, "parent message");
    assert_int_equal(vjwt_policy_require_exp(m), 0);
    assert_int_equal(vjwt_policy_require_signed(m), 0);
    assert_int_equal(vjwt_policy_clock_skew(m), 60);
    assert_string_equal(m->output_var, "pjwt");
    assert_string_equal(m->id, "parent-id");
    assert_ptr_equal(m->keys, base->keys);
    assert_non_null(m->audiences);
    assert_int_equal(m->audiences->nelts, 2);
    assert_string_equal(APR_ARRAY_IDX(m->audiences, 0, const char *), "aud-a");
    assert_string_equal(APR_ARRAY_IDX(m->audiences, 1, const char *), "aud-b");
    assert_non_null(m->issuers);
    assert_int_equal(m->issuers->nelts, 1);
    assert_non_null(m->claims);
    assert_int_equal(vjwt_policy_alg_mask(m), alg_bit("RS256"));
    assert_int_equal(vjwt_policy_min_rsa_bits(m), 1024);
    assert_int_equal(vjwt_policy_aud_ignore_trailing_slash(m), 0);
    assert_int_equal(vjwt_policy_max_token_len(m), 8000);
    assert_string_equal(vjwt_policy_remote_user_claim(m), "oid");
    assert_int_equal(vjwt_policy_pass_claims(m), VJWT_PASS_HEADERS);
    assert_int_equal(vjwt_policy_www_authenticate(m), 0);
    assert_string_equal(m->realm, "parent-realm");
}

/* Set child fields win, field by field; lists replace, never append (C134). */
static void test_merge_child_overrides(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_policy_t *base = full_parent(p);
    vjwt_policy_t *add = vjwt_policy_make(p);
    vjwt_policy_t *m;
    const char *name = NULL;

    add->source = VJWT_SRC_QUERY;
    add->source_name = "access_token";
    add->require_scheme = "DPoP";
    add->status = 400;
    add->error_message = "child message";
    add->require_exp = 1;
    add->require_signed = 1;
    add->clock_skew = 0; /* 0 is a set value */
    add->output_var = "cjwt";
    add->id = "child-id";
    add->keys = apr_array_make(p, 1, sizeof(void *));
    add->audiences = strs(p, "aud-c", NULL);
    add->issuers = strs(p, "iss-b", "iss-c");
    add->claims = apr_array_make(p, 2, sizeof(vjwt_claim_req_t *));
    add->alg_mask = alg_bit("ES256");
    add->min_rsa_bits = 3072;
    add->aud_ignore_trailing_slash = 1;
    add->max_token_len = 2000;
    add->remote_user_claim = "email";
    add->pass_claims = VJWT_PASS_NONE; /* 0 is a set value */
    add->www_authenticate = 1;
    add->realm = "child-realm";
    add->enabled = 1;

    m = vjwt_policy_merge(p, base, add);
    assert_int_equal(vjwt_policy_source(m, &name), VJWT_SRC_QUERY);
    assert_string_equal(name, "access_token");
    assert_string_equal(m->require_scheme, "DPoP");
    assert_int_equal(vjwt_policy_status(m), 400);
    assert_string_equal(m->error_message, "child message");
    assert_int_equal(vjwt_policy_require_exp(m), 1);
    assert_int_equal(vjwt_policy_require_signed(m), 1);
    assert_int_equal(vjwt_policy_clock_skew(m), 0);
    assert_string_equal(m->output_var, "cjwt");
    assert_string_equal(m->id, "child-id");
    assert_ptr_equal(m->keys, add->keys);
    assert_int_equal(m->audiences->nelts, 1);
    assert_string_equal(APR_ARRAY_IDX(m->audiences, 0, const char *), "aud-c");
    assert_int_equal(m->issuers->nelts, 2);
    assert_string_equal(APR_ARRAY_IDX(m->issuers, 0, const char *), "iss-b");
    assert_string_equal(APR_ARRAY_IDX(m->issuers, 1, const char *), "iss-c");
    assert_ptr_equal(m->claims, add->claims);
    assert_int_equal(vjwt_policy_alg_mask(m), alg_bit("ES256"));
    assert_int_equal(vjwt_policy_min_rsa_bits(m), 3072);
    assert_int_equal(vjwt_policy_aud_ignore_trailing_slash(m), 1);
    assert_int_equal(vjwt_policy_max_token_len(m), 2000);
    assert_string_equal(vjwt_policy_remote_user_claim(m), "email");
    assert_int_equal(vjwt_policy_pass_claims(m), VJWT_PASS_NONE);
    assert_int_equal(vjwt_policy_www_authenticate(m), 1);
    assert_string_equal(m->realm, "child-realm");
    assert_int_equal(m->enabled, 1);
}

/* A mixed child: some fields set, the rest inherited. */
static void test_merge_mixed(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_policy_t *base = vjwt_policy_make(p);
    vjwt_policy_t *add = vjwt_policy_make(p);
    vjwt_policy_t *m;

    base->audiences = strs(p, "parent-aud", NULL);
    base->status = 403;
    base->clock_skew = 30;
    add->issuers = strs(p, "child-iss", NULL);
    add->require_exp = 0;

    m = vjwt_policy_merge(p, base, add);
    assert_int_equal(m->audiences->nelts, 1);
    assert_string_equal(APR_ARRAY_IDX(m->audiences, 0, const char *), "parent-aud");
    assert_int_equal(m->issuers->nelts, 1);
    assert_string_equal(APR_ARRAY_IDX(m->issuers, 0, const char *), "child-iss");
    assert_int_equal(vjwt_policy_status(m), 403);
    assert_int_equal(vjwt_policy_clock_skew(m), 30);
    assert_int_equal(vjwt_policy_require_exp(m), 0);
    /* never-set fields still resolve to the defaults */
    assert_int_equal(vjwt_policy_require_signed(m), 1);
    assert_int_equal(vjwt_policy_www_authenticate(m), 1);
    assert_int_equal(vjwt_policy_alg_mask(m), vjwt_alg_mask_all());
    assert_null(m->keys);
}

static void test_merge_both_unset_gives_defaults(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_policy_t *m = vjwt_policy_merge(p, vjwt_policy_make(p), vjwt_policy_make(p));
    check_defaults(m);
    assert_null(m->audiences);
    assert_null(m->issuers);
    assert_null(m->claims);
    assert_null(m->keys);
    assert_null(m->error_message);
}

/* Merge chains (server -> location -> sub-location): the innermost set value wins. */
static void test_merge_three_levels(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_policy_t *a = vjwt_policy_make(p);
    vjwt_policy_t *b = vjwt_policy_make(p);
    vjwt_policy_t *c = vjwt_policy_make(p);
    vjwt_policy_t *m;

    a->status = 403;
    a->audiences = strs(p, "a", NULL);
    b->audiences = strs(p, "b", NULL);
    c->clock_skew = 5;
    m = vjwt_policy_merge(p, vjwt_policy_merge(p, a, b), c);
    assert_int_equal(vjwt_policy_status(m), 403);
    assert_int_equal(m->audiences->nelts, 1);
    assert_string_equal(APR_ARRAY_IDX(m->audiences, 0, const char *), "b");
    assert_int_equal(vjwt_policy_clock_skew(m), 5);
}

/* Neither input is changed. */
static void test_merge_inputs_untouched(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_policy_t *base = full_parent(p);
    vjwt_policy_t *add = vjwt_policy_make(p);
    vjwt_policy_t base_copy, add_copy;
    vjwt_policy_t *m;

    add->audiences = strs(p, "child", NULL);
    add->status = 400;
    memcpy(&base_copy, base, sizeof(base_copy));
    memcpy(&add_copy, add, sizeof(add_copy));

    m = vjwt_policy_merge(p, base, add);
    assert_memory_equal(&base_copy, base, sizeof(base_copy));
    assert_memory_equal(&add_copy, add, sizeof(add_copy));
    assert_int_equal(base->audiences->nelts, 2);
    assert_int_equal(add->audiences->nelts, 1);

    /* changing the result doesn't reach back into the inputs */
    m->status = 599;
    m->clock_skew = 9;
    assert_int_equal(base->status, 403);
    assert_int_equal(add->status, 400);
    assert_int_equal(base->clock_skew, 60);
    assert_int_equal(add->clock_skew, VJWT_UNSET);
}

/* --- message (docs/conformance.md#failure-response) -------------------------------------- */

/* C125, C126: defaults. */
static void test_message_defaults(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_policy_t *pol = vjwt_policy_make(p);
    int r;

    assert_string_equal(vjwt_policy_message(pol, VJWT_R_TOKEN_NOT_PRESENT), "JWT not present.");
    for (r = VJWT_R_JWT_INVALID; r < VJWT_R__COUNT; r++) {
        const char *m = vjwt_policy_message(pol, r);
        if (!m || strcmp(m, "Invalid JWT.")) {
            fail_msg("message for %s: '%s', want 'Invalid JWT.'",
                     vjwt_reason_name((vjwt_reason_e)r), m ? m : "(null)");
        }
    }
}

/* C123: the configured message is used for every reason, TokenNotPresent included. */
static void test_message_configured_C123(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_policy_t *pol = vjwt_policy_make(p);
    int r;

    pol->error_message = "Unauthorized. Access token is missing or invalid.";
    for (r = VJWT_R_TOKEN_NOT_PRESENT; r < VJWT_R__COUNT; r++) {
        assert_string_equal(vjwt_policy_message(pol, r),
                            "Unauthorized. Access token is missing or invalid.");
    }
}

/* Inherited through a merge. */
static void test_message_merged(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_policy_t *base = vjwt_policy_make(p);
    vjwt_policy_t *m;
    base->error_message = "from parent";
    m = vjwt_policy_merge(p, base, vjwt_policy_make(p));
    assert_string_equal(vjwt_policy_message(m, VJWT_R_TOKEN_NOT_PRESENT), "from parent");
    assert_string_equal(vjwt_policy_message(m, VJWT_R_TOKEN_EXPIRED), "from parent");
}

/* --- value parsers ------------------------------------------------------------------------- */

static void bool_ok_(const char *s, int want, int line)
{
    int out = -7;
    const char *err = vjwt_parse_bool(s, &out);
    if (err) {
        fail_msg("line %d: vjwt_parse_bool('%s') rejected: %s", line, s, err);
    }
    if (out != want) {
        fail_msg("line %d: vjwt_parse_bool('%s') = %d, want %d", line, s, out, want);
    }
}

static void bool_bad_(const char *s, int line)
{
    int out = -7;
    const char *err = vjwt_parse_bool(s, &out);
    if (!err || !*err) {
        fail_msg("line %d: vjwt_parse_bool('%s') accepted (%d)", line, s, out);
    }
}

/* C5: true/false/on/off in any letter case. */
static void test_parse_bool_C5(void **state)
{
    (void)state;
    bool_ok_("true", 1, __LINE__);
    bool_ok_("True", 1, __LINE__);
    bool_ok_("TRUE", 1, __LINE__);
    bool_ok_("false", 0, __LINE__);
    bool_ok_("FALSE", 0, __LINE__);
    bool_ok_("fAlSe", 0, __LINE__);
    bool_ok_("On", 1, __LINE__);
    bool_ok_("on", 1, __LINE__);
    bool_ok_("ON", 1, __LINE__);
    bool_ok_("off", 0, __LINE__);
    bool_ok_("Off", 0, __LINE__);
    bool_bad_("yes", __LINE__);
    bool_bad_("no", __LINE__);
    bool_bad_("", __LINE__);
    bool_bad_("1", __LINE__);
    bool_bad_("0", __LINE__);
    bool_bad_("tru", __LINE__);
    bool_bad_("truee", __LINE__);
    bool_bad_("t", __LINE__);
    bool_bad_("o", __LINE__);
    bool_bad_("onn", __LINE__);
    bool_bad_("true1", __LINE__);
}

static void int_ok_(const char *(*fn)(const char *, int *), const char *fname, const char *s,
                    int want, int line)
{
    int out = -7;
    const char *err = fn(s, &out);
    if (err) {
        fail_msg("line %d: %s('%s') rejected: %s", line, fname, s, err);
    }
    if (out != want) {
        fail_msg("line %d: %s('%s') = %d, want %d", line, fname, s, out, want);
    }
}

static void int_bad_(const char *(*fn)(const char *, int *), const char *fname, const char *s,
                     int line)
{
    int out = -7;
    const char *err = fn(s, &out);
    if (!err || !*err) {
        fail_msg("line %d: %s('%s') accepted (%d)", line, fname, s, out);
    }
}

#define STATUS_OK(s, w) int_ok_(vjwt_parse_status, "vjwt_parse_status", s, w, __LINE__)
#define STATUS_BAD(s)   int_bad_(vjwt_parse_status, "vjwt_parse_status", s, __LINE__)

/* C7: 400..599. */
static void test_parse_status_C7(void **state)
{
    (void)state;
    STATUS_OK("400", 400);
    STATUS_OK("401", 401);
    STATUS_OK("403", 403);
    STATUS_OK("500", 500);
    STATUS_OK("599", 599);
    STATUS_BAD("399");
    STATUS_BAD("600");
    STATUS_BAD("200");
    STATUS_BAD("0");
    STATUS_BAD("-401");
    STATUS_BAD("abc");
    STATUS_BAD("401x");
    STATUS_BAD("x401");
    STATUS_BAD("");
    STATUS_BAD("4.01e2");
    STATUS_BAD("401.0");
    STATUS_BAD("4294967697"); /* 2^32 + 401 */
    STATUS_BAD("99999999999999999999");
}

static void seconds_ok_(const char *s, int max, int want, int line)
{
    int out = -7;
    const char *err = vjwt_parse_seconds(s, max, &out);
    if (err) {
        fail_msg("line %d: vjwt_parse_seconds('%s', %d) rejected: %s", line, s, max, err);
    }
    if (out != want) {
        fail_msg("line %d: vjwt_parse_seconds('%s', %d) = %d, want %d", line, s, max, out, want);
    }
}

static void seconds_bad_(const char *s, int max, int line)
{
    int out = -7;
    const char *err = vjwt_parse_seconds(s, max, &out);
    if (!err || !*err) {
        fail_msg("line %d: vjwt_parse_seconds('%s', %d) accepted (%d)", line, s, max, out);
    }
}

/* C6: a non-negative decimal integer up to max. */
static void test_parse_seconds_C6(void **state)
{
    (void)state;
    seconds_ok_("0", 600, 0, __LINE__);
    seconds_ok_("60", 600, 60, __LINE__);
    seconds_ok_("120", 600, 120, __LINE__);
    seconds_ok_("600", 600, 600, __LINE__);
    seconds_ok_("3600", 86400, 3600, __LINE__);
    seconds_bad_("601", 600, __LINE__);
    seconds_bad_("-1", 600, __LINE__);
    seconds_bad_("-0", 600, __LINE__);
    seconds_bad_("+5", 600, __LINE__);
    seconds_bad_("1.5", 600, __LINE__);
    seconds_bad_("1.0", 600, __LINE__);
    seconds_bad_("", 600, __LINE__);
    seconds_bad_("x", 600, __LINE__);
    seconds_bad_("60s", 600, __LINE__);
    seconds_bad_("1e2", 600, __LINE__);
    seconds_bad_("00:01:00", 600, __LINE__);
    seconds_bad_("4294967296", 600, __LINE__);           /* 2^32 */
    seconds_bad_("99999999999999999999", 600, __LINE__); /* overflows any integer */
    seconds_bad_("99999999999999999999", 2147483647, __LINE__);
}

static void alg_ok_(const char *s, int line)
{
    unsigned mask = 0;
    const char *err = vjwt_parse_alg_list(s, &mask);
    if (err) {
        fail_msg("line %d: vjwt_parse_alg_list('%s') rejected: %s", line, s, err);
    }
    if (mask != alg_bit(s)) {
        fail_msg("line %d: vjwt_parse_alg_list('%s') mask 0x%x, want 0x%x", line, s, mask,
                 alg_bit(s));
    }
}

static void alg_bad_(const char *s, int line)
{
    unsigned mask = 0x1;
    const char *err = vjwt_parse_alg_list(s, &mask);
    if (!err || !*err) {
        fail_msg("line %d: vjwt_parse_alg_list('%s') accepted (mask 0x%x)", line, s, mask);
    }
    if (mask != 0x1) {
        fail_msg("line %d: vjwt_parse_alg_list('%s') rejected but changed the mask to 0x%x", line,
                 s, mask);
    }
}

/* docs/conformance.md#algorithms, C63: exact, case-sensitive names; none/unknown rejected. */
static void test_parse_alg_list(void **state)
{
    unsigned mask = 0;
    int n = 0, i;
    const vjwt_alg_t *all = vjwt_alg_all(&n);
    (void)state;

    alg_ok_("RS256", __LINE__);
    alg_ok_("HS256", __LINE__);
    alg_ok_("PS512", __LINE__);
    alg_ok_("ES256", __LINE__);
    alg_bad_("none", __LINE__);
    alg_bad_("None", __LINE__);
    alg_bad_("hs256", __LINE__);
    alg_bad_("rs256", __LINE__);
    alg_bad_("HS1", __LINE__);
    alg_bad_("RS1", __LINE__);
    alg_bad_("ES256K", __LINE__);
    alg_bad_("", __LINE__);
    alg_bad_("RS256 ", __LINE__);
    alg_bad_("RS256,ES256", __LINE__);

    /* names add up */
    assert_null(vjwt_parse_alg_list("RS256", &mask));
    assert_null(vjwt_parse_alg_list("ES256", &mask));
    assert_int_equal(mask, alg_bit("RS256") | alg_bit("ES256"));
    assert_null(vjwt_parse_alg_list("RS256", &mask));
    assert_int_equal(mask, alg_bit("RS256") | alg_bit("ES256"));

    /* every registry name parses, and together they make the full mask */
    assert_true(n >= 12);
    mask = 0;
    for (i = 0; i < n; i++) {
        assert_null(vjwt_parse_alg_list(all[i].name, &mask));
    }
    assert_int_equal(mask, vjwt_alg_mask_all());
}

/* --- inline secrets that are really keys or certificates (RFC 8725 3.1) ---------------- */

typedef int (*i2d_fn)(const void *obj, unsigned char **out);

/* Standard base64 of len bytes. */
static const char *b64(apr_pool_t *p, const unsigned char *der, int len)
{
    char *out = apr_palloc(p, (apr_size_t)(4 * ((len + 2) / 3) + 1));
    EVP_EncodeBlock((unsigned char *)out, der, len);
    return out;
}

static const char *der_b64(apr_pool_t *p, unsigned char *der, int len)
{
    const char *s;
    assert_true(len > 0);
    s = b64(p, der, len);
    OPENSSL_free(der);
    return s;
}

/* A self-signed certificate for k. */
static X509 *self_signed(EVP_PKEY *k)
{
    X509 *x = X509_new();
    X509_NAME *name;
    assert_non_null(x);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, k);
    name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"t", -1, -1, 0);
    X509_set_issuer_name(x, name);
    assert_true(X509_sign(x, k, EVP_sha256()) > 0);
    return x;
}

static void expect_rejected(apr_pool_t *p, const char *text, const char *what)
{
    unsigned char *secret = NULL;
    apr_size_t len = 0;
    const char *why = NULL;
    if (vjwt_secret_decode(p, text, "key", &secret, &len, &why) == APR_SUCCESS) {
        fail_msg("%s was accepted as an HMAC secret", what);
    }
    assert_non_null(why);
    assert_non_null(strstr(why, "certificate-id="));
    assert_non_null(strstr(why, "n=... e=..."));
    assert_non_null(strstr(why, "file:"));
    assert_null(secret);
}

/* The text of the public key k in each DER form a pasted key comes in. */
static void expect_key_forms_rejected(apr_pool_t *p, EVP_PKEY *k, int rsa)
{
    unsigned char *der = NULL;
    X509 *x = self_signed(k);
    PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8(k);
    BIO *bio = BIO_new(BIO_s_mem());
    char *pem;
    long n;

    expect_rejected(p, der_b64(p, der, i2d_PUBKEY(k, &der)), "SubjectPublicKeyInfo");
    der = NULL;
    expect_rejected(p, der_b64(p, der, i2d_X509(x, &der)), "a certificate");
    der = NULL;
    expect_rejected(p, der_b64(p, der, i2d_PrivateKey(k, &der)), "a traditional private key");
    der = NULL;
    expect_rejected(p, der_b64(p, der, i2d_PKCS8_PRIV_KEY_INFO(p8, &der)), "PKCS#8");
    if (rsa) {
        der = NULL;
        expect_rejected(p, der_b64(p, der, i2d_PublicKey(k, &der)), "PKCS#1 RSAPublicKey");
    }
    /* PEM text (whatever the type) */
    PEM_write_bio_PUBKEY(bio, k);
    n = BIO_get_mem_data(bio, &pem);
    expect_rejected(p, apr_pstrmemdup(p, pem, (apr_size_t)n), "PEM text");
    BIO_free(bio);
    PKCS8_PRIV_KEY_INFO_free(p8);
    X509_free(x);
}

static void test_secret_rejects_keys(void **state)
{
    EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    assert_non_null(rsa);
    assert_non_null(ec);
    expect_key_forms_rejected(POOL, rsa, 1);
    expect_key_forms_rejected(POOL, ec, 0);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(ec);
    expect_rejected(POOL, "-----BEGIN CERTIFICATE-----", "a PEM header");
    expect_rejected(POOL, "not base64!", "bad base64");
    expect_rejected(POOL, "", "an empty key");
}

static void test_secret_accepts_random(void **state)
{
    int i;
    for (i = 0; i < 2000; i++) {
        unsigned char raw[64], *secret;
        apr_size_t n = i % 2 ? 64 : 32, len;
        const char *why = NULL;
        assert_int_equal(RAND_bytes(raw, (int)n), 1);
        if (i < 8) {
            raw[0] = 0x30; /* a DER SEQUENCE tag is not enough to be a key */
        }
        assert_int_equal(
            vjwt_secret_decode(POOL, b64(POOL, raw, (int)n), "key", &secret, &len, &why),
            APR_SUCCESS);
        assert_int_equal(len, n);
        assert_memory_equal(secret, raw, n);
    }
}

/* A policy file's <key>BASE64</key> goes through the same check, with file and line. */
static void test_policy_xml_rejects_pasted_key(void **state)
{
    EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    unsigned char *der = NULL;
    const char *spki = der_b64(POOL, der, i2d_PUBKEY(ec, &der)), *err = NULL;
    char path[] = "/tmp/vjwt-test-policy-XXXXXX";
    apr_file_t *f;
    vjwt_xml_result_t res;
    EVP_PKEY_free(ec);
    assert_int_equal(apr_file_mktemp(&f, path, APR_FOPEN_CREATE | APR_FOPEN_WRITE, POOL),
                     APR_SUCCESS);
    apr_file_printf(f,
                    "<validate-jwt header-name=\"Authorization\">\n"
                    "  <issuer-signing-keys>\n"
                    "    <key>%s</key>\n"
                    "  </issuer-signing-keys>\n"
                    "</validate-jwt>\n",
                    spki);
    apr_file_close(f);
    assert_int_not_equal(vjwt_policy_xml_read(&res, POOL, path, NULL, NULL, NULL, &err),
                         APR_SUCCESS);
    apr_file_remove(path, POOL);
    assert_non_null(err);
    assert_non_null(strstr(err, ":3"));
    assert_non_null(strstr(err, "certificate-id="));
}

/* --- the setter, notes, whole-policy checks, overlay ---------------------------------- */

/* Sets field to value on a fresh policy; fails the test on an error. */
static vjwt_policy_t *set_ok_(apr_pool_t *p, vjwt_field_e f, const char *v,
                              apr_array_header_t *notes, int line)
{
    vjwt_policy_t *pol = vjwt_policy_make(p);
    const char *err = vjwt_policy_set(p, pol, f, v, notes);
    if (err) {
        fail_msg("line %d: field %d '%s' rejected: %s", line, (int)f, v, err);
    }
    return pol;
}
#define SET_OK(f, v) set_ok_(p, (f), (v), NULL, __LINE__)

/* The error for value must contain want, and the policy must stay untouched. */
static void set_bad_(apr_pool_t *p, vjwt_field_e f, const char *v, const char *want, int line)
{
    vjwt_policy_t *pol = vjwt_policy_make(p), *fresh = vjwt_policy_make(p);
    const char *err = vjwt_policy_set(p, pol, f, v, NULL);
    if (!err) {
        fail_msg("line %d: field %d '%s' accepted", line, (int)f, v);
    }
    if (!strstr(err, want)) {
        fail_msg("line %d: field %d '%s': error '%s' lacks '%s'", line, (int)f, v, err, want);
    }
    fresh->ident = pol->ident; /* each policy has its own */
    if (memcmp(pol, fresh, sizeof(*pol)) != 0) {
        fail_msg("line %d: field %d '%s' rejected but changed the policy", line, (int)f, v);
    }
}
#define SET_BAD(f, v, want) set_bad_(p, (f), (v), (want), __LINE__)

static void test_set_each_field(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_policy_t *pol;
    pol = SET_OK(VJWT_F_HEADER_NAME, "X-Token");
    assert_int_equal(pol->source, VJWT_SRC_HEADER);
    assert_string_equal(pol->source_name, "X-Token");
    SET_BAD(VJWT_F_HEADER_NAME, "X Token", "is not a valid HTTP header name");
    SET_BAD(VJWT_F_HEADER_NAME, "X:Token", "is not a valid HTTP header name");
    SET_BAD(VJWT_F_HEADER_NAME, "", "empty header name");
    pol = SET_OK(VJWT_F_QUERY_NAME, "access token");
    assert_int_equal(pol->source, VJWT_SRC_QUERY);
    SET_BAD(VJWT_F_QUERY_NAME, "", "empty parameter name");
    pol = SET_OK(VJWT_F_TOKEN_VALUE, "%{HTTP:X}");
    assert_int_equal(pol->source, VJWT_SRC_VALUE);
    SET_BAD(VJWT_F_TOKEN_VALUE, "", "empty token value");
    assert_string_equal(SET_OK(VJWT_F_REQUIRE_SCHEME, "Bearer")->require_scheme, "Bearer");
    SET_BAD(VJWT_F_REQUIRE_SCHEME, "Be arer", "is not a valid authentication scheme name");
    SET_BAD(VJWT_F_REQUIRE_SCHEME, "", "empty scheme");
    assert_int_equal(SET_OK(VJWT_F_STATUS, "403")->status, 403);
    SET_BAD(VJWT_F_STATUS, "399", "must be an HTTP status code from 400 to 599");
    SET_BAD(VJWT_F_STATUS, "4O1", "must be an HTTP status code");
    assert_int_equal(SET_OK(VJWT_F_CLOCK_SKEW, "86400")->clock_skew, 86400);
    SET_BAD(VJWT_F_CLOCK_SKEW, "86401", "is larger than allowed");
    SET_BAD(VJWT_F_CLOCK_SKEW, "-1", "must be a whole, non-negative number of seconds");
    assert_string_equal(SET_OK(VJWT_F_OUTPUT_VAR, "jwt_a-b.c")->output_var, "jwt_a-b.c");
    SET_BAD(VJWT_F_OUTPUT_VAR, "a b", "must be made of letters, digits, '_', '-' and '.'");
    SET_BAD(VJWT_F_OUTPUT_VAR, "", "empty name");
    assert_string_equal(SET_OK(VJWT_F_ID, "")->id, "");
    assert_int_equal(SET_OK(VJWT_F_ALGORITHM, "ES256")->alg_mask, alg_bit("ES256"));
    SET_BAD(VJWT_F_ALGORITHM, "none", "cannot allow unsigned tokens");
    SET_BAD(VJWT_F_ALGORITHM, "hs256", "is not a supported JWS algorithm");
    assert_string_equal(SET_OK(VJWT_F_REMOTE_USER_CLAIM, "email")->remote_user_claim, "email");
    SET_BAD(VJWT_F_REMOTE_USER_CLAIM, "", "empty claim name");
    assert_string_equal(SET_OK(VJWT_F_REALM, "My API")->realm, "My API");
    SET_BAD(VJWT_F_REALM, "a\"b", "must not hold quotes, backslashes or control characters");
    SET_BAD(VJWT_F_REALM, "a\tb", "must not hold quotes");
    assert_int_equal(SET_OK(VJWT_F_MIN_RSA_BITS, "1024")->min_rsa_bits, 1024);
    assert_int_equal(SET_OK(VJWT_F_MIN_RSA_BITS, "16384")->min_rsa_bits, 16384);
    SET_BAD(VJWT_F_MIN_RSA_BITS, "1023", "must be a number of bits from 1024 to 16384");
    SET_BAD(VJWT_F_MIN_RSA_BITS, "16385", "must be a number of bits from 1024 to 16384");
    assert_int_equal(SET_OK(VJWT_F_MAX_TOKEN_LEN, "64")->max_token_len, 64);
    SET_BAD(VJWT_F_MAX_TOKEN_LEN, "63", "must be a number of bytes from 64 to 1048576");
    SET_BAD(VJWT_F_MAX_TOKEN_LEN, "1048577", "must be a number of bytes from 64 to 1048576");
    SET_BAD(VJWT_F_NONE, "x", "is not a settable field");
}

static void test_set_options(void **state)
{
    apr_pool_t *p = POOL;
    static const vjwt_field_e bools[] = {VJWT_F_REQUIRE_EXP, VJWT_F_REQUIRE_SIGNED,
                                         VJWT_F_WWW_AUTHENTICATE, VJWT_F_AUD_SLASH};
    apr_size_t i;
    for (i = 0; i < sizeof(bools) / sizeof(bools[0]); i++) {
        vjwt_policy_t *on = SET_OK(bools[i], "ON"), *off = SET_OK(bools[i], "False");
        assert_int_equal(vjwt_policy_require_exp(on) + vjwt_policy_require_signed(on) +
                             vjwt_policy_www_authenticate(on) +
                             vjwt_policy_aud_ignore_trailing_slash(on),
                         4); /* the others default to on */
        assert_int_equal(vjwt_policy_require_exp(off) + vjwt_policy_require_signed(off) +
                             vjwt_policy_www_authenticate(off) +
                             vjwt_policy_aud_ignore_trailing_slash(off),
                         3);
        /* the error lists the choices from the table */
        SET_BAD(bools[i], "yes", "must be On, Off, true or false");
    }
    assert_int_equal(SET_OK(VJWT_F_PASS_CLAIMS, "Headers")->pass_claims, VJWT_PASS_HEADERS);
    assert_int_equal(SET_OK(VJWT_F_PASS_CLAIMS, "both")->pass_claims, VJWT_PASS_BOTH);
    assert_int_equal(SET_OK(VJWT_F_PASS_CLAIMS, "none")->pass_claims, VJWT_PASS_NONE);
    assert_int_equal(SET_OK(VJWT_F_PASS_CLAIMS, "environment")->pass_claims, VJWT_PASS_ENV);
    SET_BAD(VJWT_F_PASS_CLAIMS, "cookies", "must be none, headers, environment, both or payload");
    {
        int any = -1;
        assert_null(vjwt_parse_option(p, vjwt_match_options, 0, "any", &any));
        assert_int_equal(any, 1);
        assert_null(vjwt_parse_option(p, vjwt_match_options, 0, "all", &any));
        assert_int_equal(any, 0);
        assert_string_equal(vjwt_parse_option(p, vjwt_match_options, 0, "ANY", &any),
                            "must be all or any");
        assert_int_equal(any, 0);
    }
}

/* error_message goes into a JSON body: it must be UTF-8 (RFC 8259 section 8.1). */
static void test_set_message_utf8(void **state)
{
    apr_pool_t *p = POOL;
    assert_string_equal(SET_OK(VJWT_F_ERROR_MESSAGE, "Zugriff verweigert \xc3\xa4 \xe2\x82\xac "
                                                     "\xf0\x9f\x94\x92")
                            ->error_message,
                        "Zugriff verweigert \xc3\xa4 \xe2\x82\xac \xf0\x9f\x94\x92");
    assert_null(SET_OK(VJWT_F_ERROR_MESSAGE, "")->error_message);            /* "" = the defaults */
    SET_BAD(VJWT_F_ERROR_MESSAGE, "caf\xe9", "is not valid UTF-8");          /* Latin-1 */
    SET_BAD(VJWT_F_ERROR_MESSAGE, "\xc3", "is not valid UTF-8");             /* cut short */
    SET_BAD(VJWT_F_ERROR_MESSAGE, "\xc0\xaf", "is not valid UTF-8");         /* overlong */
    SET_BAD(VJWT_F_ERROR_MESSAGE, "\xe0\x80\xaf", "is not valid UTF-8");     /* overlong */
    SET_BAD(VJWT_F_ERROR_MESSAGE, "\xed\xa0\x80", "is not valid UTF-8");     /* surrogate */
    SET_BAD(VJWT_F_ERROR_MESSAGE, "\xf4\x90\x80\x80", "is not valid UTF-8"); /* > U+10FFFF */
    SET_BAD(VJWT_F_ERROR_MESSAGE, "\x80", "is not valid UTF-8");             /* continuation */
    assert_true(vjwt_is_utf8("\xef\xbf\xbf\xf4\x8f\xbf\xbf"));               /* U+FFFF, U+10FFFF */
}

static const vjwt_note_t *only_note(apr_array_header_t *notes)
{
    assert_int_equal(notes->nelts, 1);
    return &APR_ARRAY_IDX(notes, 0, vjwt_note_t);
}

static void test_set_notes(void **state)
{
    apr_pool_t *p = POOL;
    apr_array_header_t *notes = apr_array_make(p, 1, sizeof(vjwt_note_t));
    const vjwt_note_t *n;
    set_ok_(p, VJWT_F_CLOCK_SKEW, "600", notes, __LINE__);
    assert_int_equal(notes->nelts, 0);
    set_ok_(p, VJWT_F_CLOCK_SKEW, "601", notes, __LINE__);
    n = only_note(notes);
    assert_int_equal(n->tag, 1);
    assert_int_equal(n->level, VJWT_LOG_WARN);
    assert_int_equal(n->field, VJWT_F_CLOCK_SKEW);
    assert_contains(n->text, "more than 600 seconds of clock skew");
}

static void test_check(void **state)
{
    apr_pool_t *p = POOL;
    apr_array_header_t *notes = apr_array_make(p, 1, sizeof(vjwt_note_t));
    vjwt_policy_t *pol = vjwt_policy_make(p);
    const vjwt_note_t *n;
    /* scheme with the default source (Authorization) or Authorization in any case: fine */
    assert_null(vjwt_policy_set(p, pol, VJWT_F_REQUIRE_SCHEME, "Bearer", NULL));
    vjwt_policy_check(p, pol, VJWT_CHECK_SCHEME, notes);
    assert_null(vjwt_policy_set(p, pol, VJWT_F_HEADER_NAME, "authorization", NULL));
    vjwt_policy_check(p, pol, VJWT_CHECK_SCHEME, notes);
    assert_int_equal(notes->nelts, 0);
    assert_null(vjwt_policy_set(p, pol, VJWT_F_QUERY_NAME, "t", NULL));
    vjwt_policy_check(p, pol, VJWT_CHECK_SCHEME, notes);
    n = only_note(notes);
    assert_int_equal(n->tag, 16);
    assert_int_equal(n->field, VJWT_F_REQUIRE_SCHEME);
    assert_string_equal(n->text, "has no effect unless the token comes from the Authorization "
                                 "header");
    /* keys: none at all -> note 17; one key, or one key source, is enough */
    apr_array_clear(notes);
    vjwt_policy_check(p, pol, VJWT_CHECK_KEYS, notes);
    n = only_note(notes);
    assert_int_equal(n->tag, 17);
    assert_int_equal(n->field, VJWT_F_NONE);
    assert_contains(n->text, "every signed token will be rejected");
    apr_array_clear(notes);
    pol->sources = apr_array_make(p, 1, sizeof(void *));
    vjwt_policy_check(p, pol, VJWT_CHECK_KEYS, notes); /* an empty list is no source */
    assert_int_equal(notes->nelts, 1);
    apr_array_clear(notes);
    APR_ARRAY_PUSH(pol->sources, void *) = pol;
    vjwt_policy_check(p, pol, VJWT_CHECK_ALL & ~VJWT_CHECK_SCHEME, notes);
    assert_int_equal(notes->nelts, 0);
    pol->sources = NULL;
    pol->keys = apr_array_make(p, 1, sizeof(void *));
    APR_ARRAY_PUSH(pol->keys, void *) = NULL; /* a certificate-id placeholder counts */
    vjwt_policy_check(p, pol, VJWT_CHECK_KEYS, notes);
    assert_int_equal(notes->nelts, 0);
    vjwt_policy_check(p, pol, VJWT_CHECK_ALL, NULL); /* no notes wanted: fine */
}

static void test_overlay(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_policy_t *dst = vjwt_policy_make(p), *src = vjwt_policy_make(p), *outer, *m;
    apr_array_header_t *aud = apr_array_make(p, 1, sizeof(const char *));
    /* what the scope had from directives before the policy file */
    assert_null(vjwt_policy_set(p, dst, VJWT_F_REQUIRE_SCHEME, "Bearer", NULL));
    assert_null(vjwt_policy_set(p, dst, VJWT_F_STATUS, "403", NULL));
    assert_null(vjwt_policy_set(p, dst, VJWT_F_CLOCK_SKEW, "30", NULL));
    assert_null(vjwt_policy_set(p, dst, VJWT_F_REALM, "r", NULL));
    assert_null(vjwt_policy_set(p, dst, VJWT_F_PASS_CLAIMS, "none", NULL));
    dst->issuers = aud;
    /* the file: a query source and audiences, nothing else */
    assert_null(vjwt_policy_set(p, src, VJWT_F_QUERY_NAME, "t", NULL));
    APR_ARRAY_PUSH(aud, const char *) = "api";
    src->audiences = aud;
    vjwt_policy_overlay(p, dst, src);
    assert_int_equal(dst->source, VJWT_SRC_QUERY);
    assert_string_equal(dst->source_name, "t");
    assert_string_equal(dst->require_scheme, ""); /* absent: "" hides the outer value */
    assert_string_equal(dst->error_message, "");
    assert_string_equal(dst->output_var, "");
    assert_string_equal(dst->id, "");
    assert_int_equal(dst->status, 401); /* APIM defaults */
    assert_int_equal(dst->require_exp, 1);
    assert_int_equal(dst->require_signed, 1);
    assert_int_equal(dst->clock_skew, 0);
    assert_ptr_equal(dst->audiences, aud);
    assert_int_equal(dst->issuers->nelts, 0); /* absent list: empty, not the old one */
    assert_int_equal(dst->keys->nelts, 0);
    assert_int_equal(dst->claims->nelts, 0);
    assert_int_equal(dst->sources->nelts, 0);
    assert_true(dst->enabled);
    assert_string_equal(dst->realm, "r"); /* the module's own fields stay */
    assert_int_equal(dst->pass_claims, VJWT_PASS_NONE);
    /* merged under an outer scope, nothing of the outer APIM fields shows through */
    outer = vjwt_policy_make(p);
    assert_null(vjwt_policy_set(p, outer, VJWT_F_ERROR_MESSAGE, "outer", NULL));
    assert_null(vjwt_policy_set(p, outer, VJWT_F_OUTPUT_VAR, "outer", NULL));
    outer->claims = apr_array_make(p, 1, sizeof(void *));
    APR_ARRAY_PUSH(outer->claims, void *) = NULL;
    m = vjwt_policy_merge(p, outer, dst);
    assert_string_equal(vjwt_policy_message(m, VJWT_R_TOKEN_NOT_PRESENT), "JWT not present.");
    assert_string_equal(m->output_var, "");
    assert_int_equal(m->claims->nelts, 0);
    /* a file's set values are kept */
    src = vjwt_policy_make(p);
    assert_null(vjwt_policy_set(p, src, VJWT_F_HEADER_NAME, "Authorization", NULL));
    assert_null(vjwt_policy_set(p, src, VJWT_F_STATUS, "400", NULL));
    assert_null(vjwt_policy_set(p, src, VJWT_F_REQUIRE_EXP, "false", NULL));
    assert_null(vjwt_policy_set(p, src, VJWT_F_ERROR_MESSAGE, "no", NULL));
    vjwt_policy_overlay(p, dst, src);
    assert_int_equal(dst->status, 400);
    assert_int_equal(dst->require_exp, 0);
    assert_string_equal(dst->error_message, "no");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, vjwt_test_pool_setup, vjwt_test_pool_teardown)
        T(test_make_all_unset),
        T(test_defaults),
        T(test_accessors_set_values),
        T(test_merge_child_unset_inherits),
        T(test_merge_child_overrides),
        T(test_merge_mixed),
        T(test_merge_both_unset_gives_defaults),
        T(test_merge_three_levels),
        T(test_merge_inputs_untouched),
        T(test_message_defaults),
        T(test_message_configured_C123),
        T(test_message_merged),
        T(test_parse_bool_C5),
        T(test_parse_status_C7),
        T(test_parse_seconds_C6),
        T(test_parse_alg_list),
        T(test_secret_rejects_keys),
        T(test_secret_accepts_random),
        T(test_policy_xml_rejects_pasted_key),
        T(test_set_each_field),
        T(test_set_options),
        T(test_set_message_utf8),
        T(test_set_notes),
        T(test_check),
        T(test_overlay),
#undef T
    };
    vjwt_test_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
