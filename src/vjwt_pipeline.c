/* vjwt_pipeline.c - validation against a policy's key sources, through the token cache
 * (vjwt_pipeline.h). */
#include <string.h>

#include "vjwt_pipeline.h"
#include "vjwt_crypto.h"
#include "vjwt_jose.h"

void vjwt_validate_opts_from_view(vjwt_validate_opts_t *o, const vjwt_keys_view_t *view)
{
    o->keys = view->keys;
    o->discovered_issuers = view->issuers;
    o->key_issuers = view->key_issuers;
    o->key_generation = view->generation;
}

static int has_sources(const vjwt_store_t *store, const vjwt_policy_t *pol)
{
    return store && pol->sources && pol->sources->nelts > 0;
}

/* The token stage on the keys of the policy's sources: refetch once for an unknown kid,
 * KeysUnavailable when a source without keys might have verified the token. Inside a read
 * section of the store. o gets the view; *unavailable the sources without usable keys. */
static apr_status_t token_stage_stored(apr_pool_t *p, vjwt_store_t *store, const vjwt_policy_t *pol,
                                       vjwt_validate_opts_t *o, const char *token, apr_size_t len,
                                       vjwt_token_t **out, vjwt_verdict_t *v, int *unavailable)
{
    vjwt_keys_view_t view;
    vjwt_token_t *t = NULL;
    apr_status_t rv;

    *unavailable = 0;
    if (!has_sources(store, pol)) {
        return vjwt_validate_token_stage(p, pol, o, token, len, out, v);
    }
    vjwt_store_view(store, p, pol->sources, pol->keys, &view);
    vjwt_validate_opts_from_view(o, &view);
    rv = vjwt_validate_token_stage(p, pol, o, token, len, &t, v);
    if (rv != APR_SUCCESS && v->reason == VJWT_R_TOKEN_SIGNATURE_KEY_NOT_FOUND && t && t->kid &&
        vjwt_store_refetch_for_kid(store, p, pol->sources, t->kid)) {
        vjwt_store_view(store, p, pol->sources, pol->keys, &view);
        vjwt_validate_opts_from_view(o, &view);
        rv = vjwt_validate_token_stage(p, pol, o, token, len, &t, v);
    }
    *unavailable = view.unavailable;
    /* A source without keys might hold the one that verifies: the token can't be judged. */
    if (rv != APR_SUCCESS && view.unavailable > 0 &&
        (v->reason == VJWT_R_TOKEN_SIGNATURE_KEY_NOT_FOUND ||
         v->reason == VJWT_R_TOKEN_SIGNATURE_INVALID) &&
        t && vjwt_alg_lookup(t->alg)) {
        vjwt_fail(v, p, VJWT_R_KEYS_UNAVAILABLE,
                  "No signing keys from %d of %d key source(s): the identity provider was not "
                  "reachable, or its keys are older than ValidateJWTKeysMaxStale.",
                  view.unavailable, pol->sources->nelts);
    }
    *out = t;
    return rv;
}

static void opts_from_base(vjwt_validate_opts_t *o, const vjwt_validate_opts_t *base)
{
    memset(o, 0, sizeof(*o));
    if (base) {
        o->decryption_keys = base->decryption_keys;
        o->jwe_ctx = base->jwe_ctx;
    }
}

apr_status_t vjwt_validate_stored(apr_pool_t *p, vjwt_store_t *store, const vjwt_policy_t *pol,
                                  const char *token, apr_size_t len, double now, vjwt_token_t **out,
                                  vjwt_verdict_t *v)
{
    return vjwt_validate_stored_ex(p, store, pol, NULL, token, len, now, out, v);
}

apr_status_t vjwt_validate_stored_ex(apr_pool_t *p, vjwt_store_t *store, const vjwt_policy_t *pol,
                                     const vjwt_validate_opts_t *base, const char *token,
                                     apr_size_t len, double now, vjwt_token_t **out,
                                     vjwt_verdict_t *v)
{
    vjwt_request_opts_t ro; /* no token cache */
    vjwt_outcome_t res;
    apr_status_t rv;
    memset(&ro, 0, sizeof(ro));
    if (base) {
        ro.base = *base;
    }
    rv = vjwt_validate_request(p, store, pol, &ro, token, len, now, &res, v);
    if (out) {
        *out = (vjwt_token_t *)res.token; /* made in p by this call */
    }
    return rv;
}

/* ---- through the token cache ---------------------------------------------------------- */

/* Judges the token afresh: its record (in p), and whether the cache may keep it (the
 * outcome can't change but by the clock, which the record leaves to its every use). */
static vjwt_verified_t *judge_afresh(apr_pool_t *p, vjwt_store_t *store, const vjwt_policy_t *pol,
                                     const vjwt_request_opts_t *ro, const char *token,
                                     apr_size_t len, vjwt_outcome_t *out, apr_uint64_t *gen,
                                     int *keep)
{
    vjwt_validate_opts_t o;
    vjwt_token_t *t = NULL;
    vjwt_verdict_t v = {VJWT_R_OK, NULL}, cv = {VJWT_R_OK, NULL};
    int unavailable = 0;
    apr_status_t rv;

    opts_from_base(&o, ro ? &ro->base : NULL);
    rv = token_stage_stored(p, store, pol, &o, token, len, &t, &v, &unavailable);
    out->token = t;
    *gen = o.key_generation;
    /* Not kept: an unknown kid (a refetch may bring it) and any judgement made while a
     * source had no keys. */
    *keep = unavailable == 0 && v.reason != VJWT_R_TOKEN_SIGNATURE_KEY_NOT_FOUND &&
            v.reason != VJWT_R_KEYS_UNAVAILABLE;
    if (rv != APR_SUCCESS) {
        return vjwt_verified_failed(p, t, &v);
    }
    rv = vjwt_validate_claims_stage(p, pol, &o, t, &cv);
    return vjwt_verified_build(p, pol, t, rv, &cv);
}

static void keep_record(const vjwt_request_opts_t *ro, const vjwt_vcache_key_t *key,
                        const vjwt_verified_t *rec, apr_time_t now)
{
    int good = rec->token_reason == VJWT_R_OK && rec->claims_reason == VJWT_R_OK;
    vjwt_vcache_t *c = good ? ro->accepted : ro->rejected;
    apr_size_t bytes = 0;
    vjwt_verified_t *packed;
    if (!c || !(packed = vjwt_verified_pack(rec, &bytes))) {
        return;
    }
    /* until the cache's own limit: the record's lifetime is checked at every use */
    vjwt_vcache_put(c, key, packed, bytes, now, APR_INT64_MAX, vjwt_verified_free);
}

/* The record the cache holds for key, or NULL. */
static const vjwt_verified_t *cached(const vjwt_request_opts_t *ro, apr_pool_t *refs,
                                     const vjwt_vcache_key_t *key, apr_time_t now)
{
    const vjwt_verified_t *rec = vjwt_vcache_get(ro->accepted, refs, key, now);
    if (!rec && ro->rejected) {
        rec = vjwt_vcache_get(ro->rejected, refs, key, now);
    }
    return rec;
}

apr_status_t vjwt_validate_request(apr_pool_t *p, vjwt_store_t *store, const vjwt_policy_t *pol,
                                   const vjwt_request_opts_t *ro, const char *token, apr_size_t len,
                                   double now, vjwt_outcome_t *out, vjwt_verdict_t *v)
{
    apr_time_t tnow = (apr_time_t)(now * APR_USEC_PER_SEC);
    int use_cache = ro && ro->accepted && pol->ident != 0, keep = 0;
    vjwt_store_read_t rd = {NULL, 0};
    vjwt_vcache_key_t key;
    const vjwt_verified_t *rec = NULL;
    apr_status_t rv;

    memset(out, 0, sizeof(*out));
    if (has_sources(store, pol)) {
        vjwt_store_read_begin(store, &rd);
    }
    if (use_cache) {
        vjwt_sha256(token, len, key.digest);
        key.policy = pol->ident;
        key.generation = 0;
        if (!has_sources(store, pol) ||
            vjwt_store_generation(store, pol->sources, &key.generation)) {
            rec = cached(ro, ro->refs ? ro->refs : p, &key, tnow);
        }
    }
    out->cached = rec != NULL;
    if (!rec) {
        vjwt_verified_t *fresh =
            judge_afresh(p, store, pol, ro, token, len, out, &key.generation, &keep);
        if (use_cache) {
            fresh->fingerprint = vjwt_token_fingerprint_of(p, key.digest); /* for log lines */
        }
        if (use_cache && keep) {
            keep_record(ro, &key, fresh, tnow);
        }
        rec = fresh;
    }
    vjwt_store_read_end(&rd); /* neither the record nor the token model holds a key */
    out->rec = rec;
    rv = vjwt_verified_judge(p, rec, pol, now, ro ? ro->require_user : 0, v);
    return rv;
}
