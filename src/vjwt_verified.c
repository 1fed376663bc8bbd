/* vjwt_verified.c - the record a judged token leaves (see vjwt_verified.h). */
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include <openssl/crypto.h>

#include "vjwt_verified.h"
#include "vjwt_validate.h"
#include "vjwt_export.h"
#include "vjwt_authz.h"
#include "vjwt_json.h"

#define ENV_CLAIM_PREFIX "VALIDATE_JWT_CLAIM_"
#define MAX_LOG_NAMES    16

static const char *claim_text(apr_pool_t *p, const json_t *value)
{
    return vjwt_claim_join(p, value, VJWT_EXPORT_MAX_ELEMENTS, VJWT_EXPORT_MAX_BYTES);
}

static const char *header_member(const json_t *h, const char *name)
{
    const json_t *j = h ? json_object_get(h, name) : NULL;
    return json_is_string(j) ? json_string_value(j) : NULL;
}

static void describe(vjwt_verified_t *rec, const vjwt_token_t *t)
{
    if (!t) {
        return;
    }
    rec->alg = t->alg;
    rec->kid = t->kid;
    rec->enc = header_member(t->jwe_header, "enc");
    rec->key_alg = header_member(t->jwe_header, "alg");
    rec->sensitive = t->jwe_header != NULL;
}

vjwt_verified_t *vjwt_verified_failed(apr_pool_t *p, const vjwt_token_t *t, const vjwt_verdict_t *v)
{
    vjwt_verified_t *rec = apr_pcalloc(p, sizeof(*rec));
    rec->token_reason = v->reason != VJWT_R_OK ? v->reason : VJWT_R_JWT_INVALID;
    rec->token_detail = v->detail;
    describe(rec, t);
    return rec;
}

/* Claim names for a log line: quoted, escaped, at most MAX_LOG_NAMES of them. */
static const char *log_names(apr_pool_t *p, const apr_array_header_t *names)
{
    apr_array_header_t *parts;
    int i;
    if (names->nelts == 0) {
        return NULL;
    }
    parts = apr_array_make(p, names->nelts * 3 + 1, sizeof(const char *));
    for (i = 0; i < names->nelts && i < MAX_LOG_NAMES; i++) {
        APR_ARRAY_PUSH(parts, const char *) = i ? ", \"" : "\"";
        APR_ARRAY_PUSH(parts, const char *) =
            vjwt_sanitize(p, APR_ARRAY_IDX(names, i, const char *), 64);
        APR_ARRAY_PUSH(parts, const char *) = "\"";
    }
    if (names->nelts > MAX_LOG_NAMES) {
        APR_ARRAY_PUSH(parts, const char *) = ", ...";
    }
    return apr_array_pstrcat(p, parts, 0);
}

static void push_pair(apr_array_header_t *to, const char *name, const char *value)
{
    vjwt_pair_t *pr = apr_array_push(to);
    pr->name = name;
    pr->value = value;
}

/* ValidateJWTOutputTokenVariableName X: X_ALG ... X_IAT (common header fields and claims),
 * X_CLAIM_<name> for every exported claim, X_ENC and X_ALG_KEY for an encrypted token. X
 * itself, the token, is the caller's. */
static void output_var_fields(apr_pool_t *p, const char *x, const vjwt_token_t *t,
                              const apr_array_header_t *items, apr_array_header_t *env)
{
    static const struct {
        const char *suffix, *claim;
        int in_header;
    } fields[] = {{"_ALG", "alg", 1}, {"_TYP", "typ", 1}, {"_ISS", "iss", 0},
                  {"_SUB", "sub", 0}, {"_JTI", "jti", 0}, {"_AUD", "aud", 0},
                  {"_EXP", "exp", 0}, {"_NBF", "nbf", 0}, {"_IAT", "iat", 0}};
    size_t f;
    int i;
    for (f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
        const char *text = claim_text(
            p, json_object_get(fields[f].in_header ? t->header : t->payload, fields[f].claim));
        if (text) {
            push_pair(env, apr_pstrcat(p, x, fields[f].suffix, NULL), text);
        }
    }
    for (i = 0; i < items->nelts; i++) {
        const vjwt_export_item_t *it = &APR_ARRAY_IDX(items, i, vjwt_export_item_t);
        push_pair(env, apr_pstrcat(p, x, "_CLAIM_", it->name, NULL), it->value);
    }
    if (t->jwe_header) {
        const char *enc = claim_text(p, json_object_get(t->jwe_header, "enc"));
        const char *alg = claim_text(p, json_object_get(t->jwe_header, "alg"));
        if (enc) {
            push_pair(env, apr_pstrcat(p, x, "_ENC", NULL), enc);
        }
        if (alg) {
            push_pair(env, apr_pstrcat(p, x, "_ALG_KEY", NULL), alg);
        }
    }
}

/* ValidateJWTClaimHeader headers and ValidateJWTPassClaimsAs payload (vjwt_export.h). */
static void chosen_exports(apr_pool_t *p, const vjwt_policy_t *pol, const vjwt_token_t *t,
                           vjwt_verified_t *rec, apr_array_header_t *env,
                           apr_array_header_t *headers)
{
    apr_array_header_t *items = apr_array_make(p, 4, sizeof(vjwt_export_item_t));
    apr_array_header_t *skipped = apr_array_make(p, 1, sizeof(const char *));
    vjwt_export_item_t e, h;
    int i;
    vjwt_export_claim_headers(p, pol, t, items, skipped);
    for (i = 0; i < items->nelts; i++) {
        const vjwt_export_item_t *it = &APR_ARRAY_IDX(items, i, vjwt_export_item_t);
        push_pair(headers, it->name, it->value);
    }
    rec->unexported_headers = log_names(p, skipped);
    if (!(vjwt_policy_pass_claims(pol) & VJWT_PASS_PAYLOAD)) {
        return;
    }
    if (vjwt_export_payload(p, t, &e, &h)) {
        push_pair(env, e.name, e.value);
        push_pair(headers, h.name, h.value);
    }
    else {
        rec->payload_refused = 1;
    }
}

/* The exports of ValidateJWTPassClaimsAs and ValidateJWTOutputTokenVariableName. */
static void compose_exports(apr_pool_t *p, const vjwt_policy_t *pol, const vjwt_token_t *t,
                            vjwt_verified_t *rec)
{
    vjwt_pass_e pass = vjwt_policy_pass_claims(pol);
    int out_var = pol->output_var && *pol->output_var;
    apr_array_header_t *env = apr_array_make(p, 8, sizeof(vjwt_pair_t));
    apr_array_header_t *headers = apr_array_make(p, 8, sizeof(vjwt_pair_t));
    vjwt_export_t ex;
    int i;
    chosen_exports(p, pol, t, rec, env, headers);
    if ((pass & VJWT_PASS_BOTH) || out_var) {
        vjwt_export_claims(p, t->payload, &ex);
        rec->unexported_case = log_names(p, ex.collided);
        rec->unexported_size = log_names(p, ex.too_many);
        for (i = 0; i < ex.items->nelts; i++) {
            const vjwt_export_item_t *it = &APR_ARRAY_IDX(ex.items, i, vjwt_export_item_t);
            if (pass & VJWT_PASS_ENV) {
                push_pair(env, apr_pstrcat(p, ENV_CLAIM_PREFIX, it->name, NULL), it->value);
            }
            if (pass & VJWT_PASS_HEADERS) {
                push_pair(headers, apr_pstrcat(p, VJWT_CLAIM_HEADER_PREFIX, it->name, NULL),
                          it->value);
            }
        }
        if (out_var) {
            output_var_fields(p, pol->output_var, t, ex.items, env);
            rec->output_token = t->jwe_header ? t->raw : NULL;
        }
    }
    rec->env = (const vjwt_pair_t *)env->elts;
    rec->n_env = env->nelts;
    rec->headers = (const vjwt_pair_t *)headers->elts;
    rec->n_headers = headers->nelts;
}

vjwt_verified_t *vjwt_verified_build(apr_pool_t *p, const vjwt_policy_t *pol, const vjwt_token_t *t,
                                     apr_status_t claims_rc, const vjwt_verdict_t *claims_v)
{
    vjwt_verified_t *rec = apr_pcalloc(p, sizeof(*rec));
    describe(rec, t);
    vjwt_lifetime_of(t->payload, &rec->life);
    if (claims_rc != APR_SUCCESS) {
        rec->claims_reason = claims_v->reason != VJWT_R_OK ? claims_v->reason : VJWT_R_JWT_INVALID;
        rec->claims_detail = claims_v->detail;
        return rec;
    }
    rec->user = claim_text(p, vjwt_claim_lookup(t->payload, vjwt_policy_remote_user_claim(pol)));
    if (rec->user && !*rec->user) {
        rec->user = NULL;
    }
    compose_exports(p, pol, t, rec);
    rec->payload_json = vjwt_json_text(p, t->payload);
    return rec;
}

/* A verdict from a record: its detail is copied into p (the record may be freed before the
 * request ends with the pool). */
static apr_status_t recorded(apr_pool_t *p, vjwt_reason_e reason, const char *detail,
                             vjwt_verdict_t *v)
{
    return vjwt_fail(v, p, reason, "%s", detail ? detail : vjwt_reason_name(reason));
}

apr_status_t vjwt_verified_judge(apr_pool_t *p, const vjwt_verified_t *rec,
                                 const vjwt_policy_t *pol, double now, int require_user,
                                 vjwt_verdict_t *v)
{
    apr_status_t rv;
    if (rec->token_reason != VJWT_R_OK) {
        return recorded(p, rec->token_reason, rec->token_detail, v);
    }
    rv = vjwt_validate_time_stage(p, pol, &rec->life, now, v);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rec->claims_reason != VJWT_R_OK) {
        return recorded(p, rec->claims_reason, rec->claims_detail, v);
    }
    if (require_user && !rec->user) {
        return vjwt_fail(v, p, VJWT_R_TOKEN_CLAIM_NOT_FOUND,
                         "JWT is missing the following claims: %s (ValidateJWTRemoteUserClaim). "
                         "Access denied.",
                         vjwt_policy_remote_user_claim(pol));
    }
    if (v) {
        v->reason = VJWT_R_OK;
        v->detail = NULL;
    }
    return APR_SUCCESS;
}

/* ---- packing ------------------------------------------------------------------------- */

typedef void string_fn(const char **slot, void *ctx);

/* Calls fn on every string slot of rec (whose pair arrays are env and headers). */
static void each_string(vjwt_verified_t *rec, vjwt_pair_t *env, vjwt_pair_t *headers, string_fn *fn,
                        void *ctx)
{
    const char **slots[] = {&rec->token_detail,
                            &rec->claims_detail,
                            &rec->alg,
                            &rec->kid,
                            &rec->enc,
                            &rec->key_alg,
                            &rec->user,
                            &rec->unexported_case,
                            &rec->unexported_size,
                            &rec->payload_json,
                            &rec->output_token,
                            &rec->unexported_headers,
                            &rec->fingerprint};
    size_t i;
    int k;
    for (i = 0; i < sizeof(slots) / sizeof(slots[0]); i++) {
        fn(slots[i], ctx);
    }
    for (k = 0; k < rec->n_env; k++) {
        fn(&env[k].name, ctx);
        fn(&env[k].value, ctx);
    }
    for (k = 0; k < rec->n_headers; k++) {
        fn(&headers[k].name, ctx);
        fn(&headers[k].value, ctx);
    }
}

static void count_string(const char **slot, void *ctx)
{
    if (*slot) {
        *(apr_size_t *)ctx += strlen(*slot) + 1;
    }
}

static void copy_string(const char **slot, void *ctx)
{
    char **at = ctx;
    if (*slot) {
        apr_size_t n = strlen(*slot) + 1;
        memcpy(*at, *slot, n);
        *slot = *at;
        *at += n;
    }
}

vjwt_verified_t *vjwt_verified_pack(const vjwt_verified_t *src, apr_size_t *bytes)
{
    apr_size_t head = APR_ALIGN_DEFAULT(sizeof(*src)) +
                      (apr_size_t)(src->n_env + src->n_headers) * sizeof(vjwt_pair_t);
    apr_size_t strings = 0;
    vjwt_verified_t probe = *src, *dst;
    vjwt_pair_t *env, *headers;
    char *block, *at;

    each_string(&probe, (vjwt_pair_t *)src->env, (vjwt_pair_t *)src->headers, count_string,
                &strings);
    block = malloc(head + strings);
    if (!block) {
        return NULL;
    }
    dst = (vjwt_verified_t *)block;
    *dst = *src;
    env = (vjwt_pair_t *)(block + APR_ALIGN_DEFAULT(sizeof(*src)));
    headers = env + src->n_env;
    if (src->n_env) {
        memcpy(env, src->env, (apr_size_t)src->n_env * sizeof(vjwt_pair_t));
    }
    if (src->n_headers) {
        memcpy(headers, src->headers, (apr_size_t)src->n_headers * sizeof(vjwt_pair_t));
    }
    dst->env = env;
    dst->headers = headers;
    at = block + head;
    each_string(dst, env, headers, copy_string, &at);
    dst->packed_size = head + strings;
    *bytes = dst->packed_size;
    return dst;
}

void vjwt_verified_free(void *data)
{
    vjwt_verified_t *rec = data;
    if (rec && rec->sensitive) {
        OPENSSL_cleanse(rec, rec->packed_size);
    }
    free(rec);
}
