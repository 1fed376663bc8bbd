/* vjwt_validate.c - the validation pipeline of docs/conformance.md#pipeline. */
#include <string.h>
#include <apr_strings.h>

#include "vjwt_validate.h"
#include "vjwt_jose.h"
#include "vjwt_claims.h"
#include "vjwt_authz.h"
#include "vjwt_b64.h"
#include "vjwt_json.h"

/* 1 when one of cands verifies t's signature; *used (when not NULL) gets that key. */
static int try_keys(const vjwt_token_t *t, const vjwt_alg_t *alg, const apr_array_header_t *cands,
                    const vjwt_key_t **used)
{
    int i;
    for (i = 0; i < cands->nelts; i++) {
        const vjwt_key_t *k = APR_ARRAY_IDX(cands, i, const vjwt_key_t *);
        if (vjwt_jose_verify(alg, k, (const unsigned char *)t->signing_input, t->signing_input_len,
                             t->sig, t->sig_len) == APR_SUCCESS) {
            if (used) {
                *used = k;
            }
            return 1;
        }
    }
    return 0;
}

/* An unsigned token (alg "none"): refused when signed tokens are required, and it must not
 * carry a signature. */
static apr_status_t check_unsigned(apr_pool_t *p, const vjwt_token_t *t, int require_signed,
                                   vjwt_verdict_t *v)
{
    if (require_signed) {
        return vjwt_fail(v, p, VJWT_R_TOKEN_SIGNATURE_INVALID,
                         "Signature validation failed. The token is unsigned (alg 'none') "
                         "and signed tokens are required. Access denied.");
    }
    if (t->sig_len > 0 || t->raw_len > t->signing_input_len + 1) {
        return vjwt_fail(v, p, VJWT_R_JWT_INVALID,
                         "An unsigned token (alg 'none') must have an empty signature.");
    }
    return APR_SUCCESS;
}

/* The keys that may verify a token. */
typedef struct {
    apr_array_header_t *cands;   /* K: the keys bound to the algorithm (RFC 8725 3.1) */
    apr_array_header_t *matched; /* M: those of K whose id is the token's kid */
    int named;                   /* some key of any type or algorithm has the id kid */
} key_choice_t;

static void choose_keys(apr_pool_t *p, const vjwt_token_t *t, const apr_array_header_t *keys,
                        const vjwt_alg_t *alg, int min_rsa_bits, key_choice_t *c)
{
    int i;

    c->cands = apr_array_make(p, keys ? keys->nelts : 1, sizeof(const vjwt_key_t *));
    c->matched = apr_array_make(p, 2, sizeof(const vjwt_key_t *));
    c->named = 0;
    for (i = 0; keys && i < keys->nelts; i++) {
        const vjwt_key_t *k = APR_ARRAY_IDX(keys, i, const vjwt_key_t *);
        int same_kid = t->kid && k && k->kid && strcmp(t->kid, k->kid) == 0;
        c->named |= same_kid;
        if (!vjwt_key_fits_alg(k, alg, min_rsa_bits, NULL)) {
            continue;
        }
        APR_ARRAY_PUSH(c->cands, const vjwt_key_t *) = k;
        if (same_kid) {
            APR_ARRAY_PUSH(c->matched, const vjwt_key_t *) = k;
        }
    }
}

/* A token with a kid. A kid that names a key binds the token to the keys with that id,
 * whatever their type (RFC 7515 4.1.4): it never falls back to keys with other ids. */
static apr_status_t verify_with_kid(apr_pool_t *p, const vjwt_token_t *t, const vjwt_alg_t *alg,
                                    const key_choice_t *c, const vjwt_key_t **used,
                                    vjwt_verdict_t *v)
{
    if (c->named && c->matched->nelts == 0) {
        return vjwt_fail(v, p, VJWT_R_TOKEN_SIGNATURE_INVALID,
                         "Signature validation failed. No key with kid '%s' can verify a %s "
                         "signature. Access denied.",
                         vjwt_sanitize(p, t->kid, 128), alg->name);
    }
    if (c->matched->nelts > 0) {
        if (try_keys(t, alg, c->matched, used)) {
            return APR_SUCCESS;
        }
        return vjwt_fail(v, p, VJWT_R_TOKEN_SIGNATURE_INVALID,
                         "Signature validation failed. The key with kid '%s' did not verify "
                         "the %s signature. Access denied.",
                         vjwt_sanitize(p, t->kid, 128), alg->name);
    }
    if (c->cands->nelts > 0 && try_keys(t, alg, c->cands, used)) {
        return APR_SUCCESS;
    }
    return vjwt_fail(v, p, VJWT_R_TOKEN_SIGNATURE_KEY_NOT_FOUND,
                     "Signature validation failed. Unable to match key: kid: '%s' (%d %s "
                     "key(s) tried). Access denied.",
                     vjwt_sanitize(p, t->kid, 128), c->cands->nelts, alg->name);
}

/* A token without a kid: any key bound to the algorithm may verify it. */
static apr_status_t verify_without_kid(apr_pool_t *p, const vjwt_token_t *t, const vjwt_alg_t *alg,
                                       const key_choice_t *c, const vjwt_key_t **used,
                                       vjwt_verdict_t *v)
{
    if (c->cands->nelts == 0) {
        return vjwt_fail(v, p, VJWT_R_TOKEN_SIGNATURE_KEY_NOT_FOUND,
                         "Signature validation failed. No usable signing key for %s. Access "
                         "denied.",
                         alg->name);
    }
    if (try_keys(t, alg, c->cands, used)) {
        return APR_SUCCESS;
    }
    return vjwt_fail(v, p, VJWT_R_TOKEN_SIGNATURE_INVALID,
                     "Signature validation failed. %d %s key(s) tried. Access denied.",
                     c->cands->nelts, alg->name);
}

apr_status_t vjwt_validate_signature(apr_pool_t *p, const vjwt_token_t *t,
                                     const apr_array_header_t *keys, unsigned alg_mask,
                                     int min_rsa_bits, int require_signed, const vjwt_key_t **used,
                                     vjwt_verdict_t *v)
{
    const vjwt_alg_t *alg;
    key_choice_t c;

    if (used) {
        *used = NULL;
    }
    if (strcmp(t->alg, "none") == 0) {
        return check_unsigned(p, t, require_signed, v);
    }
    alg = vjwt_alg_lookup(t->alg);
    if (!alg || !(alg_mask & alg->bit)) {
        return vjwt_fail(v, p, VJWT_R_TOKEN_SIGNATURE_INVALID,
                         "Signature validation failed. The algorithm '%s' is not allowed. "
                         "Access denied.",
                         vjwt_sanitize(p, t->alg, 32));
    }
    choose_keys(p, t, keys, alg, min_rsa_bits, &c);
    if (t->kid) {
        return verify_with_kid(p, t, alg, &c, used, v);
    }
    return verify_without_kid(p, t, alg, &c, used, v);
}

apr_status_t vjwt_validate(apr_pool_t *p, const vjwt_policy_t *pol, const apr_array_header_t *keys,
                           const char *token, apr_size_t len, double now, vjwt_token_t **out,
                           vjwt_verdict_t *v)
{
    return vjwt_validate_ex(p, pol, keys, NULL, token, len, now, out, v);
}

apr_status_t vjwt_validate_ex(apr_pool_t *p, const vjwt_policy_t *pol,
                              const apr_array_header_t *keys,
                              const apr_array_header_t *discovered_issuers, const char *token,
                              apr_size_t len, double now, vjwt_token_t **out, vjwt_verdict_t *v)
{
    vjwt_validate_opts_t o;
    memset(&o, 0, sizeof(o));
    o.keys = keys;
    o.discovered_issuers = discovered_issuers;
    return vjwt_validate_with(p, pol, &o, token, len, now, out, v);
}

/* A discovery issuer d matches the token's iss s: literally, or for a "{tenantid}"
 * template with the token's tid filled in (the same rule as the issuer check in
 * vjwt_claims.c). */
static int issuer_matches(apr_pool_t *p, const char *d, const char *s, const json_t *payload)
{
    const char *at = strstr(d, "{tenantid}");
    const json_t *tid;
    if (!at) {
        return strcmp(d, s) == 0;
    }
    tid = json_object_get(payload, "tid");
    if (!json_is_string(tid) || !*json_string_value(tid)) {
        return 0;
    }
    return strcmp(s, apr_pstrcat(p, apr_pstrmemdup(p, d, (apr_size_t)(at - d)),
                                 json_string_value(tid), at + strlen("{tenantid}"), NULL)) == 0;
}

/* The keys that may verify t: when t's iss is the issuer of some discovery document, only
 * that document's keys and the configured ones (see vjwt_validate_opts_t.key_issuers). */
static const apr_array_header_t *keys_for_issuer(apr_pool_t *p, const apr_array_header_t *keys,
                                                 const apr_array_header_t *origins,
                                                 const vjwt_token_t *t)
{
    const json_t *iss = json_object_get(t->payload, "iss");
    apr_array_header_t *out;
    char *bound;
    int i, any = 0;
    if (!keys || !origins || origins->nelts != keys->nelts || !json_is_string(iss)) {
        return keys;
    }
    bound = apr_pcalloc(p, (apr_size_t)keys->nelts + 1);
    for (i = 0; i < keys->nelts; i++) {
        const char *o = APR_ARRAY_IDX(origins, i, const char *);
        if (o && *o && issuer_matches(p, o, json_string_value(iss), t->payload)) {
            bound[i] = 1;
            any = 1;
        }
    }
    if (!any) {
        return keys;
    }
    out = apr_array_make(p, keys->nelts, sizeof(const vjwt_key_t *));
    for (i = 0; i < keys->nelts; i++) {
        if (bound[i] || !APR_ARRAY_IDX(origins, i, const char *)) {
            APR_ARRAY_PUSH(out, const vjwt_key_t *) = APR_ARRAY_IDX(keys, i, const vjwt_key_t *);
        }
    }
    return out;
}

/* The signature stage alone, on the keys o and t's issuer allow; *used as for
 * vjwt_validate_signature. */
static apr_status_t verify_token(apr_pool_t *p, const vjwt_policy_t *pol,
                                 const vjwt_validate_opts_t *o, const vjwt_token_t *t,
                                 const vjwt_key_t **used, vjwt_verdict_t *v)
{
    const apr_array_header_t *keys =
        o->keys ? keys_for_issuer(p, o->keys, o->key_issuers, t) : pol->keys;
    return vjwt_validate_signature(p, t, keys, vjwt_policy_alg_mask(pol),
                                   vjwt_policy_min_rsa_bits(pol), vjwt_policy_require_signed(pol),
                                   used, v);
}

/* ---- encrypted tokens (JWE) ----------------------------------------------------------- */

/* 1 when the token has five segments (four dots): a compact JWE (RFC 7516 section 7.1). */
static int is_jwe(const char *token, apr_size_t len)
{
    apr_size_t i;
    int dots = 0;
    for (i = 0; i < len && dots <= 4; i++) {
        dots += token[i] == '.';
    }
    return dots == 4;
}

/* The token model of a decrypted plaintext: a compact JWS (a nested JWT, RFC 7519 section
 * 7.2 step 8), or a bare claims set (a JSON object: an encrypted but unsigned JWT, steps
 * 9-10), which becomes an unsigned token with an empty header and alg "none". */
static apr_status_t parse_inner(apr_pool_t *p, const vjwt_policy_t *pol, const char *pt,
                                apr_size_t len, vjwt_token_t **out, vjwt_verdict_t *v)
{
    apr_size_t i = 0;
    vjwt_token_t *t;
    const char *err = NULL;

    while (i < len && (pt[i] == ' ' || pt[i] == '\t' || pt[i] == '\r' || pt[i] == '\n')) {
        i++;
    }
    if (i == len || pt[i] != '{') {
        return vjwt_token_parse(out, p, pt, len, vjwt_policy_max_token_len(pol), v);
    }
    t = apr_pcalloc(p, sizeof(*t));
    if (vjwt_json_parse(&t->payload, p, pt, len, 1, &err) != APR_SUCCESS) {
        return vjwt_fail(v, p, VJWT_R_JWT_INVALID,
                         "The decrypted JWT claims set is not a valid JSON object: %s.",
                         err ? err : "parse error");
    }
    t->header = vjwt_json_own(p, json_object());
    t->raw = apr_pstrmemdup(p, pt, len);
    t->raw_len = len;
    t->signing_input = t->raw;
    t->signing_input_len = len;
    t->alg = "none";
    *out = t;
    return APR_SUCCESS;
}

/* The signature stage of a decrypted inner token; a bare claims set is an unsigned token. */
static apr_status_t check_inner_signature(apr_pool_t *p, const vjwt_policy_t *pol,
                                          const vjwt_validate_opts_t *o, const vjwt_token_t *t,
                                          vjwt_verdict_t *v)
{
    if (json_object_size(t->header) > 0) {
        return verify_token(p, pol, o, t, NULL, v);
    }
    if (vjwt_policy_require_signed(pol)) {
        return vjwt_fail(v, p, VJWT_R_TOKEN_SIGNATURE_INVALID,
                         "Signature validation failed. The encrypted token holds a bare claims "
                         "set, not a signed JWT, and signed tokens are required. Access denied.");
    }
    return APR_SUCCESS;
}

/* Decrypts a JWE and judges its inner token's signature (*out: the inner token, once it
 * parsed). */
static apr_status_t open_jwe(apr_pool_t *p, const vjwt_policy_t *pol, const vjwt_validate_opts_t *o,
                             const char *token, apr_size_t len, vjwt_token_t **out,
                             vjwt_verdict_t *v)
{
    const apr_array_header_t *dkeys =
        o->decryption_keys ? o->decryption_keys : pol->decryption_keys;
    vjwt_jwe_limits_t lim;
    vjwt_jwe_result_t r;
    apr_status_t rv;

    if (!dkeys || dkeys->nelts == 0) {
        return vjwt_fail(v, p, VJWT_R_JWT_INVALID,
                         "The JWT has 5 segments (JWE): encrypted token but no decryption keys.");
    }
    if (!o->jwe_ctx) {
        return vjwt_fail(v, p, VJWT_R_JWT_INVALID,
                         "The JWT is encrypted (JWE) and no JWE context is available here.");
    }
    lim.max_token_len = vjwt_policy_max_token_len(pol);
    lim.max_plaintext = lim.max_token_len;
    lim.min_rsa_bits = vjwt_policy_min_rsa_bits(pol);
    if (vjwt_jwe_decrypt(&r, p, o->jwe_ctx, dkeys, token, len, &lim, v) != APR_SUCCESS) {
        return vjwt_fail(v, p, VJWT_R_JWT_INVALID, "The encrypted JWT (JWE) was refused: %s.",
                         v && v->detail ? v->detail : "decryption failed");
    }
    rv = parse_inner(p, pol, (const char *)r.plaintext, r.plaintext_len, out, v);
    if (rv == APR_SUCCESS) {
        (*out)->jwe_header = r.header;
        rv = check_inner_signature(p, pol, o, *out, v);
    }
    return rv;
}

/* Steps 2-8: the token (for a JWE, its inner token) parsed into *t and its signature. */
static apr_status_t parse_and_verify(apr_pool_t *p, const vjwt_policy_t *pol,
                                     const vjwt_validate_opts_t *o, const char *token,
                                     apr_size_t len, vjwt_token_t **t, vjwt_verdict_t *v)
{
    apr_size_t max = vjwt_policy_max_token_len(pol);
    apr_status_t rv;

    *t = NULL;
    if (!is_jwe(token, len)) {
        rv = vjwt_token_parse(t, p, token, len, max, v);
        return rv == APR_SUCCESS ? verify_token(p, pol, o, *t, NULL, v) : rv;
    }
    /* the limit applies to the whole JWE, before anything is decoded */
    rv = vjwt_token_check_length(p, len, max, v);
    return rv == APR_SUCCESS ? open_jwe(p, pol, o, token, len, t, v) : rv;
}

apr_status_t vjwt_validate_token_stage(apr_pool_t *p, const vjwt_policy_t *pol,
                                       const vjwt_validate_opts_t *o, const char *token,
                                       apr_size_t len, vjwt_token_t **out, vjwt_verdict_t *v)
{
    vjwt_token_t *t = NULL;
    apr_status_t rv = parse_and_verify(p, pol, o, token, len, &t, v);
    if (out) {
        *out = t;
    }
    if (rv == APR_SUCCESS) {
        rv = vjwt_claims_check_types(p, t->payload, v);
    }
    return rv == APR_SUCCESS ? vjwt_check_token_type(p, t->header, pol->token_types, v) : rv;
}

apr_status_t vjwt_validate_time_stage(apr_pool_t *p, const vjwt_policy_t *pol,
                                      const vjwt_lifetime_t *lt, double now, vjwt_verdict_t *v)
{
    apr_status_t rv = vjwt_lifetime_check(p, lt, vjwt_policy_require_exp(pol),
                                          vjwt_policy_clock_skew(pol), now, v);
    return rv == APR_SUCCESS ? vjwt_check_token_age(p, lt, vjwt_policy_max_token_age(pol),
                                                    vjwt_policy_clock_skew(pol), now, v)
                             : rv;
}

apr_status_t vjwt_validate_claims_stage(apr_pool_t *p, const vjwt_policy_t *pol,
                                        const vjwt_validate_opts_t *o, const vjwt_token_t *t,
                                        vjwt_verdict_t *v)
{
    apr_status_t rv = vjwt_claims_check_audience(p, t->payload, pol->audiences,
                                                 vjwt_policy_aud_ignore_trailing_slash(pol), v);
    if (rv == APR_SUCCESS) {
        rv = vjwt_claims_check_issuer_ex(p, t->payload, pol->issuers, o->discovered_issuers, v);
    }
    if (rv == APR_SUCCESS) {
        rv = vjwt_claims_check_required(p, t->payload, pol->claims, v);
    }
    return rv;
}

apr_status_t vjwt_validate_with(apr_pool_t *p, const vjwt_policy_t *pol,
                                const vjwt_validate_opts_t *o, const char *token, apr_size_t len,
                                double now, vjwt_token_t **out, vjwt_verdict_t *v)
{
    vjwt_token_t *t = NULL;
    vjwt_lifetime_t lt;
    apr_status_t rv;

    rv = vjwt_validate_token_stage(p, pol, o, token, len, &t, v);
    if (out) {
        *out = t;
    }
    if (rv == APR_SUCCESS) {
        vjwt_lifetime_of(t->payload, &lt);
        rv = vjwt_validate_time_stage(p, pol, &lt, now, v);
    }
    if (rv == APR_SUCCESS) {
        rv = vjwt_validate_claims_stage(p, pol, o, t, v);
    }
    if (rv == APR_SUCCESS && v) {
        v->reason = VJWT_R_OK;
        v->detail = NULL;
    }
    return rv;
}
