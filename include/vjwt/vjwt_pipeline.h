/*
 * vjwt_pipeline.h - validation against a policy's key sources: the one entry point the
 * httpd glue and the CLI share, so both judge a token the same way.
 *
 * This sits on top of vjwt_validate.h (the pipeline itself, which knows nothing of fetching)
 * and vjwt_keystore.h (discovery documents and JWKS URLs).
 *
 * Thread context: any thread of any child once the store is made; all allocation from the
 * pool given (the request pool). Key-store snapshots are read inside a read section that
 * ends before these functions return: nothing they return points at a key.
 */
#ifndef VJWT_PIPELINE_H
#define VJWT_PIPELINE_H

#include <apr_pools.h>
#include "vjwt_keystore.h"
#include "vjwt_policy.h"
#include "vjwt_token.h"
#include "vjwt_validate.h"
#include "vjwt_vcache.h"
#include "vjwt_verdict.h"
#include "vjwt_verified.h"

/* o's keys, issuers, key origins and generation from view (the rest of o is untouched). */
void vjwt_validate_opts_from_view(vjwt_validate_opts_t *o, const vjwt_keys_view_t *view);

/* vjwt_validate_with on the keys of the policy's sources (pol->sources) in store:
 * - no sources, or no store: the policy's own keys only;
 * - otherwise the collected keys (the policy's, then every source's); when no key has the
 *   token's kid, the sources are refreshed once (vjwt_store_refetch_for_kid, within the
 *   refetch floor) and, if that changed them, the token is judged again on the new keys;
 * - when it still fails on the signature (SignatureKeyNotFound or SignatureInvalid, with an
 *   algorithm the module knows) and a source has no usable keys, the verdict becomes
 *   KeysUnavailable: the missing keys might have verified it.
 * *out (may be NULL) as for vjwt_validate. Nothing is cached. */
apr_status_t vjwt_validate_stored(apr_pool_t *p, vjwt_store_t *store, const vjwt_policy_t *pol,
                                  const char *token, apr_size_t len, double now, vjwt_token_t **out,
                                  vjwt_verdict_t *v);

/* The same with base's decryption_keys and jwe_ctx (base may be NULL; its keys, issuers and
 * generation are replaced by the store's). An encrypted token is decrypted and its inner
 * token judged as above: the refetch for an unknown kid and KeysUnavailable look at the
 * inner token. */
apr_status_t vjwt_validate_stored_ex(apr_pool_t *p, vjwt_store_t *store, const vjwt_policy_t *pol,
                                     const vjwt_validate_opts_t *base, const char *token,
                                     apr_size_t len, double now, vjwt_token_t **out,
                                     vjwt_verdict_t *v);

/* What a request validates with, besides the policy and the store. */
typedef struct {
    vjwt_validate_opts_t base; /* decryption_keys and jwe_ctx (the rest is ignored) */
    vjwt_vcache_t *accepted;   /* records of tokens that passed every step but the clock;
                                * NULL: no cache at all */
    vjwt_vcache_t *rejected;   /* records of tokens that failed for good (NULL: not kept) */
    apr_pool_t *refs;          /* holds the references to cached records (NULL: the pool given);
                                * must live as long as anything that points into the outcome */
    int require_user;          /* the remote-user claim must be present (vjwt_verified_judge) */
} vjwt_request_opts_t;

/* What a request learns about its token. */
typedef struct {
    const vjwt_verified_t *rec; /* always set: the verdict's parts, log fields, exports */
    const vjwt_token_t *token;  /* the token model, when this call parsed it (NULL after a
                                 * cache hit: rec->payload_json holds the claims) */
    int cached;                 /* rec came from the cache */
} vjwt_outcome_t;

/* The request path: vjwt_validate_stored_ex through the token cache. The cache is looked up
 * under SHA-256(token), pol->ident and the sources' key-set generation (a policy with
 * ident 0 is never cached); on a hit only the lifetime (and require_user) is judged again.
 * On a miss the token is judged afresh and its record kept, in ro->accepted or
 * ro->rejected, unless the verdict may change without the clock (an unknown kid, a source
 * without keys). Returns the verdict at now in v, as vjwt_validate_stored_ex would (plus
 * require_user). */
apr_status_t vjwt_validate_request(apr_pool_t *p, vjwt_store_t *store, const vjwt_policy_t *pol,
                                   const vjwt_request_opts_t *ro, const char *token, apr_size_t len,
                                   double now, vjwt_outcome_t *out, vjwt_verdict_t *v);

#endif
