/* vjwt_pipeline.c - validation against a policy's key sources (vjwt_pipeline.h). */
#include <string.h>

#include "vjwt_pipeline.h"
#include "vjwt_jose.h"

void vjwt_validate_opts_from_view(vjwt_validate_opts_t *o, const vjwt_keys_view_t *view)
{
    o->keys = view->keys;
    o->discovered_issuers = view->issuers;
    o->key_issuers = view->key_issuers;
    o->key_generation = view->generation;
}

apr_status_t vjwt_validate_stored(apr_pool_t *p, vjwt_store_t *store, const vjwt_policy_t *pol,
                                  vjwt_sigcache_t *sigcache, const char *token, apr_size_t len,
                                  double now, vjwt_token_t **out, vjwt_verdict_t *v)
{
    vjwt_validate_opts_t o;
    memset(&o, 0, sizeof(o));
    o.sigcache = sigcache;
    return vjwt_validate_stored_ex(p, store, pol, &o, token, len, now, out, v);
}

apr_status_t vjwt_validate_stored_ex(apr_pool_t *p, vjwt_store_t *store, const vjwt_policy_t *pol,
                                     const vjwt_validate_opts_t *base, const char *token,
                                     apr_size_t len, double now, vjwt_token_t **out,
                                     vjwt_verdict_t *v)
{
    vjwt_validate_opts_t o;
    vjwt_keys_view_t view;
    vjwt_token_t *t = NULL;
    vjwt_verdict_t mine;
    apr_status_t rv;

    if (!v) {
        v = &mine;
    }
    memset(&o, 0, sizeof(o));
    if (base) {
        o.sigcache = base->sigcache;
        o.decryption_keys = base->decryption_keys;
        o.jwe_ctx = base->jwe_ctx;
    }
    if (!pol->sources || pol->sources->nelts == 0 || !store) {
        return vjwt_validate_with(p, pol, &o, token, len, now, out, v);
    }
    vjwt_store_collect(store, p, pol->sources, pol->keys, &view);
    vjwt_validate_opts_from_view(&o, &view);
    rv = vjwt_validate_with(p, pol, &o, token, len, now, &t, v);
    if (rv != APR_SUCCESS && v->reason == VJWT_R_TOKEN_SIGNATURE_KEY_NOT_FOUND && t && t->kid &&
        vjwt_store_refetch_for_kid(store, p, pol->sources, t->kid)) {
        vjwt_store_collect(store, p, pol->sources, pol->keys, &view);
        vjwt_validate_opts_from_view(&o, &view);
        rv = vjwt_validate_with(p, pol, &o, token, len, now, &t, v);
    }
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
    if (out) {
        *out = t;
    }
    return rv;
}
