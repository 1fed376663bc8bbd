/*
 * vjwt_pipeline.h - validation against a policy's key sources: the one entry point the
 * httpd glue and the CLI share, so both judge a token the same way.
 *
 * This sits on top of vjwt_validate.h (the pipeline itself, which knows nothing of fetching)
 * and vjwt_keystore.h (discovery documents and JWKS URLs).
 *
 * Thread context: any thread of any child once the store is made; all allocation from the
 * pool given (the request pool, which also holds the store's snapshot references).
 */
#ifndef VJWT_PIPELINE_H
#define VJWT_PIPELINE_H

#include <apr_pools.h>
#include "vjwt_keystore.h"
#include "vjwt_policy.h"
#include "vjwt_sigcache.h"
#include "vjwt_token.h"
#include "vjwt_validate.h"
#include "vjwt_verdict.h"

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
 * sigcache may be NULL. *out (may be NULL) as for vjwt_validate. */
apr_status_t vjwt_validate_stored(apr_pool_t *p, vjwt_store_t *store, const vjwt_policy_t *pol,
                                  vjwt_sigcache_t *sigcache, const char *token, apr_size_t len,
                                  double now, vjwt_token_t **out, vjwt_verdict_t *v);

/* The same with base's sigcache, decryption_keys and jwe_ctx (base may be NULL; its keys,
 * issuers and generation are replaced by the store's). An encrypted token is decrypted and
 * its inner token judged as above: the refetch for an unknown kid and KeysUnavailable look
 * at the inner token. This is the entry point that accepts encrypted tokens. */
apr_status_t vjwt_validate_stored_ex(apr_pool_t *p, vjwt_store_t *store, const vjwt_policy_t *pol,
                                     const vjwt_validate_opts_t *base, const char *token,
                                     apr_size_t len, double now, vjwt_token_t **out,
                                     vjwt_verdict_t *v);

#endif
