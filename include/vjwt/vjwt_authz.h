/*
 * vjwt_authz.h - claim paths (RFC 6901 JSON Pointer), scopes, claim-value matching, and the
 * token-type and token-age checks: what `Require jwt-claim` / `Require jwt-scope`, the claim
 * lookups of the policy (required claims, remote-user claim, claim headers) and the two
 * optional validation steps (ValidateJWTTokenType, ValidateJWTMaxTokenAge) share.
 *
 * Claim names: a name that starts with '/' is a JSON Pointer into the payload
 * (/realm_access/roles, /resource_access/orders-api/roles, /groups/0, /a~1b for the member
 * "a/b", /a~0b for "a~b"); any other name is a literal top-level member name, namespaced
 * names such as https://example.com/roles included.
 *
 * Thread context: any thread; everything is allocated from the given pool.
 */
#ifndef VJWT_AUTHZ_H
#define VJWT_AUTHZ_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <jansson.h>

#include "vjwt_verdict.h"
#include "vjwt_claims.h"

/* The longest claim path accepted in a configuration, in bytes. */
#define VJWT_CLAIM_PATH_MAX 1024
/* The most scopes read from one token; the rest are ignored. */
#define VJWT_SCOPES_MAX 1000

/* NULL when name is a usable claim name (non-empty; a pointer with '~' only as ~0 or ~1 and
 * at most VJWT_CLAIM_PATH_MAX bytes), else why not. */
const char *vjwt_claim_name_check(const char *name);

/* The value name designates in payload (see above), or NULL when there is none (a member or
 * index that is not there, a path through a string or number, a malformed pointer). Array
 * indices are decimal without leading zeros; "-" designates nothing. */
const json_t *vjwt_claim_lookup(const json_t *payload, const char *name);

/* The token's scopes (const char *): the space-separated words of "scope" (RFC 9068, RFC
 * 8693 section 4.2) and those of "scp", a string (space-separated) or an array of strings
 * (Microsoft Entra ID); at most VJWT_SCOPES_MAX. Never NULL. */
apr_array_header_t *vjwt_token_scopes(apr_pool_t *p, const json_t *payload);

/* 1 when every one of wanted is among the token's scopes. */
int vjwt_scopes_cover(apr_pool_t *p, const json_t *payload, const apr_array_header_t *wanted);

/* 1 when value, or an element of an array value, equals one of allowed (const char *). Values
 * compare as required claims do (vjwt_claim_strings: numbers as decimal text, true/false). */
int vjwt_claim_value_allowed(apr_pool_t *p, const json_t *value, const apr_array_header_t *allowed);

/* NULL when s is a usable `typ` value for ValidateJWTTokenType, else why not. */
const char *vjwt_token_type_check(const char *s);

/* The token type step: types NULL or empty = not checked; otherwise header's "typ" must be
 * a string equal to one of types without regard to case, an "application/" prefix on
 * either side ignored (RFC 7515 section 4.1.9). JwtInvalid naming the expected types. */
apr_status_t vjwt_check_token_type(apr_pool_t *p, const json_t *header,
                                   const apr_array_header_t *types, vjwt_verdict_t *v);

/* The token age step, on the time claims of a payload (vjwt_lifetime_of): max_age < 0 = not
 * checked; otherwise "iat" must be present, at most max_age + skew seconds in the past and at
 * most skew seconds in the future. TokenExpired otherwise. */
apr_status_t vjwt_check_token_age(apr_pool_t *p, const vjwt_lifetime_t *lt, int max_age, int skew,
                                  double now, vjwt_verdict_t *v);

/* ---- ValidateJWTEntraTenant TENANT [authority=URL] -------------------------------------- */

#define VJWT_ENTRA_AUTHORITY "https://login.microsoftonline.com"

/* What the Microsoft Entra ID shorthand stands for. */
typedef struct {
    const char *tenant;    /* the tenant id, lower case */
    const char *discovery; /* AUTHORITY/TENANT/v2.0/.well-known/openid-configuration */
    const char *issuer_v2; /* AUTHORITY/TENANT/v2.0 */
    const char *issuer_v1; /* https://sts.windows.net/TENANT/ (the cloud's v1 issuer) */
} vjwt_entra_t;

/* Expands tenant (a GUID, any case) and authority (NULL = VJWT_ENTRA_AUTHORITY; an http or
 * https URL without query or fragment; trailing '/' ignored). The v1 issuer is
 * https://sts.chinacloudapi.cn/TENANT/ for the authority login.chinacloudapi.cn (Azure operated
 * by 21Vianet) and https://sts.windows.net/TENANT/ for every other authority (global and US
 * Government clouds). NULL on success, else why not (to follow the value). */
const char *vjwt_entra_expand(apr_pool_t *p, const char *tenant, const char *authority,
                              vjwt_entra_t *out);

#endif
