/* vjwt_policy.c - the policy model: unset fields, merge, defaults, value parsers. */
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>
#include <strings.h>
#include <apr_strings.h>
#include <apr_lib.h>

#include "vjwt_policy.h"
#include "vjwt_jose.h"
#include "vjwt_token.h"
#include "vjwt_verdict.h"

/* Policies are made at configuration time; the counter only has to be unique per process
 * (each child inherits the idents of the configuration it serves). */
static atomic_ullong next_ident = 1;

/* A merge's ident from its inputs' (splitmix64's finalizer over both). */
static apr_uint64_t merged_ident(apr_uint64_t base, apr_uint64_t add)
{
    apr_uint64_t z = base * APR_UINT64_C(0x9E3779B97F4A7C15) + add;
    if (base == 0 || add == 0) {
        return 0;
    }
    z = (z ^ (z >> 30)) * APR_UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * APR_UINT64_C(0x94D049BB133111EB);
    z ^= z >> 31;
    return z ? z : 1;
}

vjwt_policy_t *vjwt_policy_make(apr_pool_t *p)
{
    vjwt_policy_t *pol = apr_pcalloc(p, sizeof(*pol));
    pol->ident = (apr_uint64_t)atomic_fetch_add(&next_ident, 1);
    pol->source = VJWT_SRC_UNSET;
    pol->status = VJWT_UNSET;
    pol->require_exp = VJWT_UNSET;
    pol->require_signed = VJWT_UNSET;
    pol->clock_skew = VJWT_UNSET;
    pol->min_rsa_bits = VJWT_UNSET;
    pol->aud_ignore_trailing_slash = VJWT_UNSET;
    pol->max_token_len = VJWT_UNSET;
    pol->pass_claims = VJWT_UNSET;
    pol->www_authenticate = VJWT_UNSET;
    pol->max_token_age = VJWT_UNSET;
    pol->forward_token = VJWT_UNSET;
    return pol;
}

#define MERGE_INT(f) n->f = (add->f != VJWT_UNSET) ? add->f : base->f
#define MERGE_PTR(f) n->f = add->f ? add->f : base->f

vjwt_policy_t *vjwt_policy_merge(apr_pool_t *p, const vjwt_policy_t *base, const vjwt_policy_t *add)
{
    vjwt_policy_t *n = apr_palloc(p, sizeof(*n));
    n->ident = merged_ident(base->ident, add->ident);
    /* The token source is one field: header-name, query-parameter-name and token-value
     * exclude each other, so a child that sets one replaces the parent's choice. */
    if (add->source != VJWT_SRC_UNSET) {
        n->source = add->source;
        n->source_name = add->source_name;
    }
    else {
        n->source = base->source;
        n->source_name = base->source_name;
    }
    MERGE_PTR(require_scheme);
    MERGE_INT(status);
    MERGE_PTR(error_message);
    MERGE_INT(require_exp);
    MERGE_INT(require_signed);
    MERGE_INT(clock_skew);
    MERGE_PTR(output_var);
    MERGE_PTR(id);
    MERGE_PTR(keys);
    MERGE_PTR(decryption_keys);
    MERGE_PTR(audiences);
    MERGE_PTR(issuers);
    MERGE_PTR(claims);
    MERGE_PTR(sources);
    n->alg_mask = add->alg_mask ? add->alg_mask : base->alg_mask;
    MERGE_INT(min_rsa_bits);
    MERGE_INT(aud_ignore_trailing_slash);
    MERGE_INT(max_token_len);
    MERGE_PTR(remote_user_claim);
    MERGE_INT(pass_claims);
    MERGE_INT(www_authenticate);
    MERGE_PTR(realm);
    MERGE_PTR(claim_headers);
    MERGE_PTR(token_types);
    MERGE_INT(max_token_age);
    MERGE_INT(forward_token);
    n->enabled = add->enabled || base->enabled;
    return n;
}

#define DEF(v, d) ((v) == VJWT_UNSET ? (d) : (v))

vjwt_source_e vjwt_policy_source(const vjwt_policy_t *pol, const char **name)
{
    if (pol->source == VJWT_SRC_UNSET) {
        *name = "Authorization";
        return VJWT_SRC_HEADER;
    }
    *name = pol->source_name;
    return pol->source;
}

int vjwt_policy_status(const vjwt_policy_t *pol)
{
    return DEF(pol->status, 401);
}

int vjwt_policy_require_exp(const vjwt_policy_t *pol)
{
    return DEF(pol->require_exp, 1);
}

int vjwt_policy_require_signed(const vjwt_policy_t *pol)
{
    return DEF(pol->require_signed, 1);
}

int vjwt_policy_clock_skew(const vjwt_policy_t *pol)
{
    return DEF(pol->clock_skew, 0);
}

unsigned vjwt_policy_alg_mask(const vjwt_policy_t *pol)
{
    return pol->alg_mask ? pol->alg_mask : vjwt_alg_mask_all();
}

int vjwt_policy_min_rsa_bits(const vjwt_policy_t *pol)
{
    return DEF(pol->min_rsa_bits, VJWT_DEFAULT_MIN_RSA_BITS);
}

int vjwt_policy_aud_ignore_trailing_slash(const vjwt_policy_t *pol)
{
    return DEF(pol->aud_ignore_trailing_slash, 1);
}

apr_size_t vjwt_policy_max_token_len(const vjwt_policy_t *pol)
{
    return (apr_size_t)DEF(pol->max_token_len, VJWT_DEFAULT_MAX_TOKEN_LEN);
}

const char *vjwt_policy_remote_user_claim(const vjwt_policy_t *pol)
{
    return pol->remote_user_claim ? pol->remote_user_claim : "sub";
}

vjwt_pass_e vjwt_policy_pass_claims(const vjwt_policy_t *pol)
{
    return (vjwt_pass_e)DEF(pol->pass_claims, VJWT_PASS_ENV);
}

int vjwt_policy_www_authenticate(const vjwt_policy_t *pol)
{
    return DEF(pol->www_authenticate, 1);
}

int vjwt_policy_max_token_age(const vjwt_policy_t *pol)
{
    return DEF(pol->max_token_age, -1);
}

int vjwt_policy_forward_token(const vjwt_policy_t *pol)
{
    return DEF(pol->forward_token, 1);
}

const char *vjwt_policy_message(const vjwt_policy_t *pol, int reason)
{
    if (pol->error_message && *pol->error_message) {
        return pol->error_message;
    }
    return reason == VJWT_R_TOKEN_NOT_PRESENT ? "JWT not present." : "Invalid JWT.";
}

const char *vjwt_parse_bool(const char *s, int *out)
{
    if (!strcasecmp(s, "true") || !strcasecmp(s, "on")) {
        *out = 1;
        return NULL;
    }
    if (!strcasecmp(s, "false") || !strcasecmp(s, "off")) {
        *out = 0;
        return NULL;
    }
    return "must be On, Off, true or false";
}

static int all_digits(const char *s)
{
    if (!*s) {
        return 0;
    }
    for (; *s; s++) {
        if (!apr_isdigit(*s)) {
            return 0;
        }
    }
    return 1;
}

const char *vjwt_parse_status(const char *s, int *out)
{
    int n;
    if (!all_digits(s) || strlen(s) != 3) {
        return "must be an HTTP status code from 400 to 599";
    }
    n = atoi(s);
    if (n < 400 || n > 599) {
        return "must be an HTTP status code from 400 to 599";
    }
    *out = n;
    return NULL;
}

const char *vjwt_parse_seconds(const char *s, int max, int *out)
{
    apr_int64_t n;
    if (!all_digits(s) || strlen(s) > 9) {
        return "must be a whole, non-negative number of seconds";
    }
    n = apr_atoi64(s);
    if (n > max) {
        return "is larger than allowed";
    }
    *out = (int)n;
    return NULL;
}

const char *vjwt_parse_alg_list(const char *s, unsigned *mask)
{
    const vjwt_alg_t *a = vjwt_alg_lookup(s);
    if (!a) {
        return "is not a supported JWS algorithm (HS256 HS384 HS512 RS256 RS384 RS512 PS256 "
               "PS384 PS512 ES256 ES384 ES512 EdDSA)";
    }
    *mask |= a->bit;
    return NULL;
}
