/* vjwt_verdict.c - reason names, RFC 6750 descriptions, failure helper. */
#include <stdarg.h>
#include <string.h>
#include <apr_strings.h>

#include "vjwt_verdict.h"

static const struct {
    const char *name;
    const char *description;
} reasons[VJWT_R__COUNT] = {
    [VJWT_R_OK] = {"OK", "OK"},
    [VJWT_R_TOKEN_NOT_PRESENT] = {"TokenNotPresent", "No access token was presented"},
    [VJWT_R_JWT_INVALID] = {"JwtInvalid", "The access token is malformed or not valid"},
    [VJWT_R_TOKEN_SIGNATURE_INVALID] = {"TokenSignatureInvalid",
                                        "The access token signature is invalid"},
    [VJWT_R_TOKEN_SIGNATURE_KEY_NOT_FOUND] = {"TokenSignatureKeyNotFound",
                                              "No key to verify the access token was found"},
    [VJWT_R_TOKEN_EXPIRED] = {"TokenExpired", "The access token expired"},
    [VJWT_R_TOKEN_AUDIENCE_NOT_ALLOWED] = {"TokenAudienceNotAllowed",
                                           "The access token audience is not allowed"},
    [VJWT_R_TOKEN_ISSUER_NOT_ALLOWED] = {"TokenIssuerNotAllowed",
                                         "The access token issuer is not allowed"},
    [VJWT_R_TOKEN_CLAIM_NOT_FOUND] = {"TokenClaimNotFound",
                                      "The access token lacks a required claim"},
    [VJWT_R_TOKEN_CLAIM_VALUE_NOT_ALLOWED] = {"TokenClaimValueNotAllowed",
                                              "A claim value of the access token is not allowed"},
    [VJWT_R_KEYS_UNAVAILABLE] = {"KeysUnavailable", "Signing keys are unavailable"},
};

const char *vjwt_reason_name(vjwt_reason_e reason)
{
    if ((int)reason < 0 || reason >= VJWT_R__COUNT) {
        return "JwtInvalid";
    }
    return reasons[reason].name;
}

const char *vjwt_reason_description(vjwt_reason_e reason)
{
    if ((int)reason < 0 || reason >= VJWT_R__COUNT) {
        return reasons[VJWT_R_JWT_INVALID].description;
    }
    return reasons[reason].description;
}

apr_status_t vjwt_fail(vjwt_verdict_t *v, apr_pool_t *p, vjwt_reason_e reason, const char *fmt, ...)
{
    if (v) {
        va_list ap;
        va_start(ap, fmt);
        v->reason = reason;
        v->detail = apr_pvsprintf(p, fmt, ap);
        va_end(ap);
    }
    return APR_EGENERAL;
}

const char *vjwt_sanitize(apr_pool_t *p, const char *s, apr_size_t max)
{
    apr_size_t n, i, o = 0;
    char *out;
    if (!s) {
        return "(null)";
    }
    for (n = 0; n < max && s[n]; n++) {
    }
    out = apr_palloc(p, 4 * n + 4);
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            /* \x22 / \x5c: no quote survives, even after httpd's error log doubles '\\' */
            memcpy(out + o, c == '"' ? "\\x22" : "\\x5c", 4);
            o += 4;
        }
        else {
            out[o++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
        }
    }
    if (s[n]) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = 0;
    return out;
}
