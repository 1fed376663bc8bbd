/*
 * mod_validate_jwt.c - the module record and the request side of the httpd glue.
 *
 * Owns: the access_checker hook that strips client-sent claim headers, the check_authn hook
 * for AuthType JWT, the failure response (status, APIM JSON body, WWW-Authenticate,
 * environment), the success side effects (REMOTE_USER, claims in the environment or
 * headers, the request's validated token) and the fixups hook that keeps the token from the
 * backend (ValidateJWTForwardToken Off). The authorization providers are in
 * httpd/vjwt_mod_authz.c, the metrics in httpd/vjwt_mod_metrics.c. Directives and
 * configuration are in
 * httpd/vjwt_mod_config.c, the key store's httpd side in httpd/vjwt_mod_store.c (see
 * httpd/vjwt_mod.h). Everything about tokens, keys and claims is in libvjwt (src/), which
 * has no httpd headers.
 *
 * Thread context: the request hooks run on any worker thread and only read configuration.
 */
#include <string.h>

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "mod_auth.h"
#include "mod_core.h"
#include "ap_expr.h"
#include "apr_strings.h"
#include "apr_lib.h"

#include "vjwt.h"
#include "httpd/vjwt_mod.h"

#define VJWT_AUTH_TYPE     "JWT"
#define VJWT_ENV_VALUE_MAX 4096

APLOG_USE_MODULE(validate_jwt);

/* The JWE context (the OpenSSL algorithms decryption needs), made once per configuration
 * load in post_config, before the children fork; read-only afterwards, shared by threads.
 * NULL when OpenSSL lacks an algorithm: encrypted tokens then fail with JwtInvalid. */
static const vjwt_jwe_ctx_t *the_jwe_ctx;

/* The APIM failure body, `{ "statusCode": N, "message": "..." }` byte for byte
 * (docs/conformance.md#failure-response); jansson encodes the message as a JSON string. */
const char *vjwt_mod_failure_body(apr_pool_t *p, int status, const char *message)
{
    json_t *s = vjwt_json_own(p, json_string(message));
    const char *text = vjwt_json_text(p, s);
    if (!text) {
        /* not UTF-8 (the configuration refuses such messages; never send broken JSON) */
        text = "\"Invalid JWT.\"";
    }
    return apr_psprintf(p, "{ \"statusCode\": %d, \"message\": %s }", status, text);
}

const char *vjwt_mod_realm(request_rec *r, const vjwt_policy_t *pol)
{
    const char *realm = pol->realm ? pol->realm : r->server->server_hostname;
    char *out, *o;
    if (!realm) {
        return "";
    }
    out = o = apr_palloc(r->pool, strlen(realm) + 1);
    for (; *realm; realm++) {
        if (*realm != '"' && *realm != '\\' && !apr_iscntrl(*realm)) {
            *o++ = *realm;
        }
    }
    *o = 0;
    return out;
}

/* The failure in the environment, for ErrorDocument, logging and CGI. */
void vjwt_mod_set_error_env(request_rec *r, const vjwt_policy_t *pol, const char *reason,
                            const char *detail)
{
    apr_table_setn(r->subprocess_env, "VALIDATE_JWT_ERROR_SOURCE", "validate-jwt");
    apr_table_setn(r->subprocess_env, "VALIDATE_JWT_ERROR_REASON", reason);
    apr_table_set(r->subprocess_env, "VALIDATE_JWT_ERROR_MESSAGE", detail);
    if (pol->id && *pol->id) {
        apr_table_setn(r->subprocess_env, "VALIDATE_JWT_ERROR_POLICY_ID", pol->id);
    }
}

/* The challenge of a 401 (RFC 6750 section 3), and Retry-After of a 503. */
static void set_error_headers(request_rec *r, const vjwt_policy_t *pol, const vjwt_verdict_t *v,
                              int status)
{
    if (status == HTTP_UNAUTHORIZED && vjwt_policy_www_authenticate(pol)) {
        const char *realm = vjwt_mod_realm(r, pol);
        apr_table_setn(r->err_headers_out, "WWW-Authenticate",
                       v->reason == VJWT_R_TOKEN_NOT_PRESENT
                           ? apr_psprintf(r->pool, "Bearer realm=\"%s\"", realm)
                           : apr_psprintf(r->pool,
                                          "Bearer realm=\"%s\", error=\"invalid_token\", "
                                          "error_description=\"%s\"",
                                          realm, vjwt_reason_description(v->reason)));
    }
    if (status == HTTP_SERVICE_UNAVAILABLE) {
        vjwt_store_t *store = vjwt_mod_store();
        apr_table_setn(r->err_headers_out, "Retry-After",
                       apr_itoa(r->pool, store ? vjwt_store_retry_after(store) : 60));
    }
}

/* What the log lines add for an encrypted token: ` enc="A256GCM" key_alg="RSA-OAEP"` (the
 * outer header), or ` enc="?"` for a five-segment token that was not opened; "" for a
 * JWS. */
static const char *jwe_log_fields(apr_pool_t *p, const vjwt_verified_t *rec, const char *token)
{
    int dots = 0;
    if (rec && (rec->enc || rec->key_alg)) {
        return apr_psprintf(p, " enc=\"%s\" key_alg=\"%s\"",
                            rec->enc ? vjwt_sanitize(p, rec->enc, 32) : "-",
                            rec->key_alg ? vjwt_sanitize(p, rec->key_alg, 32) : "-");
    }
    for (; token && *token && dots < 5; token++) {
        dots += *token == '.';
    }
    return dots == 4 ? " enc=\"?\"" : "";
}

/* The token's fingerprint for a log line: the record's when the token cache hashed the
 * token already, else hashed now; "-" without a token. */
static const char *fingerprint_of(request_rec *r, const vjwt_verified_t *rec, const char *token)
{
    if (rec && rec->fingerprint) {
        return rec->fingerprint;
    }
    return token ? vjwt_token_fingerprint(r->pool, token, strlen(token)) : "-";
}

/* Writes the APIM JSON body as the response; DONE tells httpd it was sent. */
static int send_failure_body(request_rec *r, int status, const char *message)
{
    const char *body = vjwt_mod_failure_body(r->pool, status, message);
    ap_discard_request_body(r);
    r->status = status;
    r->status_line = NULL;
    ap_run_insert_error_filter(r);
    ap_set_content_type(r, "application/json");
    ap_set_content_length(r, (apr_off_t)strlen(body));
    apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
    if (!r->header_only) {
        ap_rwrite(body, (int)strlen(body), r);
    }
    /* Sent now, not when the request ends: mpm_event looks for the client's next request
     * on this worker only after the response is out; a body still buffered then sends
     * every keep-alive connection back through the listener to another worker (about six
     * more futex calls per rejected request). */
    ap_rflush(r);
    return DONE;
}

static int fail_request(request_rec *r, const vjwt_policy_t *pol, const vjwt_verdict_t *v,
                        const vjwt_verified_t *rec, const char *token)
{
    int status =
        v->reason == VJWT_R_KEYS_UNAVAILABLE ? HTTP_SERVICE_UNAVAILABLE : vjwt_policy_status(pol);
    const char *reason = vjwt_reason_name(v->reason);
    const char *detail = v->detail ? v->detail : reason;

    vjwt_mod_set_error_env(r, pol, reason, detail);
    /* every client-controlled value is quoted and escaped: it can't add a field */
    if (APLOG_R_IS_LEVEL(r, APLOG_INFO)) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      VJWT_LOGNO(00100) "JWT rejected: reason=%s status=%d detail=\"%s\" "
                                        "alg=\"%s\" kid=\"%s\" token=%s%s",
                      reason, status, vjwt_sanitize(r->pool, detail, 1024),
                      rec && rec->alg ? vjwt_sanitize(r->pool, rec->alg, 32) : "-",
                      rec && rec->kid ? vjwt_sanitize(r->pool, rec->kid, 64) : "-",
                      fingerprint_of(r, rec, token), jwe_log_fields(r->pool, rec, token));
    }
    set_error_headers(r, pol, v, status);

    /* A subrequest never writes a response of its own; an ErrorDocument for this status
     * wins over the JSON body (httpd sends it, with our env available). */
    if (r->main || ap_response_code_string(r, ap_index_of_response(status))) {
        return status;
    }
    return send_failure_body(r, status,
                             v->reason == VJWT_R_KEYS_UNAVAILABLE
                                 ? "Signing keys unavailable."
                                 : vjwt_policy_message(pol, v->reason));
}

/* What the request hands on after success, composed when the token was first validated
 * (vjwt_verified.h): pointers into the record, which the request pool holds. */
static void apply_exports(request_rec *r, const vjwt_policy_t *pol, const vjwt_verified_t *rec,
                          const char *token)
{
    int i;
    if (rec->unexported_case) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      VJWT_LOGNO(00110) "claims not exported: their names differ only in case "
                                        "or '-'/'_': %s",
                      rec->unexported_case);
    }
    if (rec->unexported_size) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      VJWT_LOGNO(00111) "claims not exported: arrays of more than %d elements: "
                                        "%s",
                      VJWT_EXPORT_MAX_ELEMENTS, rec->unexported_size);
    }
    if (rec->unexported_headers) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      VJWT_LOGNO(00323) "ValidateJWTClaimHeader: headers not set, their claims "
                                        "are larger than %d bytes or arrays of more than %d "
                                        "elements: %s",
                      VJWT_CLAIM_HEADER_MAX_BYTES, VJWT_EXPORT_MAX_ELEMENTS,
                      rec->unexported_headers);
    }
    if (rec->payload_refused) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      VJWT_LOGNO(00324) "ValidateJWTPassClaimsAs payload: the payload holds a "
                                        "NUL byte and was not passed on");
    }
    for (i = 0; i < rec->n_env; i++) {
        apr_table_setn(r->subprocess_env, rec->env[i].name, rec->env[i].value);
    }
    for (i = 0; i < rec->n_headers; i++) {
        apr_table_setn(r->headers_in, rec->headers[i].name, rec->headers[i].value);
    }
    if (pol->output_var && *pol->output_var) {
        apr_table_setn(r->subprocess_env, pol->output_var,
                       rec->output_token ? rec->output_token : token);
    }
}

/* Client-sent claim headers must never reach the backend as if we had set them: every
 * X-JWT-Claim-* in any case and with '-' or '_' (proxied backends often treat them alike). */
static int strip_claim_header(void *rec, const char *key, const char *value)
{
    apr_array_header_t *names = rec;
    if (vjwt_is_claim_header(key)) {
        APR_ARRAY_PUSH(names, const char *) = key;
    }
    return 1;
}

/* ... and the headers this scope sets itself: ValidateJWTClaimHeader's and X-JWT-Payload. */
static void strip_claim_headers(request_rec *r, const vjwt_policy_t *pol)
{
    apr_array_header_t *names = apr_array_make(r->pool, 1, sizeof(const char *));
    int i;
    apr_table_do(strip_claim_header, names, r->headers_in, NULL);
    for (i = 0; i < names->nelts; i++) {
        apr_table_unset(r->headers_in, APR_ARRAY_IDX(names, i, const char *));
    }
    for (i = 0; pol && pol->claim_headers && i < pol->claim_headers->nelts; i++) {
        const char *h = APR_ARRAY_IDX(pol->claim_headers, i, const vjwt_claim_header_t *)->header;
        const char *src = NULL;
        if (vjwt_policy_source(pol, &src) != VJWT_SRC_HEADER || strcasecmp(h, src) != 0) {
            apr_table_unset(r->headers_in, h); /* never the header the token comes in */
        }
    }
    apr_table_unset(r->headers_in, VJWT_PAYLOAD_HEADER);
}

/* Runs first in access_checker, which httpd calls for every request, subrequest and internal
 * redirect before authentication, even where authentication is then skipped (Require all
 * granted, RequireAny with a non-user provider, Satisfy Any). It is skipped only for a
 * subrequest or redirect with the very configuration of its parent, whose headers were
 * cleaned here already. In a scope where the module is configured, no client claim header
 * survives; check_authn then sets the real ones. */
static int vjwt_strip_spoofed(request_rec *r)
{
    const vjwt_dir_conf_t *dc = ap_get_module_config(r->per_dir_config, &validate_jwt_module);
    const char *type = ap_auth_type(r);
    if ((dc && dc->pol->enabled) || (type && !strcasecmp(type, VJWT_AUTH_TYPE))) {
        strip_claim_headers(r, dc ? dc->pol : NULL);
    }
    return DECLINED;
}

/* Every Cookie header line's value. */
static int collect_value(void *rec, const char *key, const char *value)
{
    APR_ARRAY_PUSH((apr_array_header_t *)rec, const char *) = value;
    return 1;
}

/* The token of ValidateJWTCookieName; *refused says why when several cookies have the name. */
static const char *token_from_cookie(request_rec *r, const char *name, const char **refused)
{
    apr_array_header_t *vals = apr_array_make(r->pool, 2, sizeof(const char *));
    const char *tok;
    int several = 0;
    apr_table_do(collect_value, vals, r->headers_in, "Cookie", NULL);
    tok = vjwt_token_from_cookies(r->pool, vals, name, &several);
    if (several) {
        *refused = apr_psprintf(r->pool,
                                "More than one cookie is named '%s'; none of them is taken as "
                                "the token.",
                                vjwt_sanitize(r->pool, name, 64));
    }
    return tok;
}

static const char *extract_token(request_rec *r, const vjwt_dir_conf_t *dc, const char **refused)
{
    const vjwt_policy_t *pol = dc->pol;
    const char *name, *err = NULL, *val;
    *refused = NULL;
    switch (vjwt_policy_source(pol, &name)) {
    case VJWT_SRC_COOKIE:
        return token_from_cookie(r, name, refused);
    case VJWT_SRC_QUERY:
        return vjwt_token_from_query(r->pool, r->args, name);
    case VJWT_SRC_VALUE:
        if (!dc->token_expr) {
            /* token-value of a policy file: a literal token (docs/conformance.md#token-location
             * step 4) */
            return vjwt_token_from_header(r->pool, name);
        }
        val = ap_expr_str_exec(r, dc->token_expr, &err);
        if (err) {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                          VJWT_LOGNO(00101) "ValidateJWTTokenValue: cannot evaluate: \"%s\"",
                          vjwt_sanitize(r->pool, err, 512));
            return NULL;
        }
        return vjwt_token_from_header(r->pool, val);
    default:
        val = apr_table_get(r->headers_in, name);
        if (!strcasecmp(name, "Authorization")) {
            return vjwt_token_from_authorization(r->pool, val, pol->require_scheme);
        }
        return vjwt_token_from_header(r->pool, val);
    }
}

/* ValidateJWTForwardToken Off: the token leaves the request before the backend sees it. A
 * query parameter leaves r->args and the request's query as proxies, CGI (REQUEST_URI) and
 * logs read it (r->parsed_uri, r->unparsed_uri, r->the_request); the other parameters stay
 * as they were. */
static void remove_token(request_rec *r, const vjwt_policy_t *pol)
{
    apr_array_header_t *vals;
    const char *name, *rest;
    int i;
    switch (vjwt_policy_source(pol, &name)) {
    case VJWT_SRC_HEADER:
        apr_table_unset(r->headers_in, name);
        break;
    case VJWT_SRC_QUERY:
        rest = vjwt_query_remove(r->pool, r->args, name);
        r->args = (char *)rest;
        r->parsed_uri.query = (char *)rest;
        if (r->unparsed_uri && strchr(r->unparsed_uri, '?')) {
            const char *q = strchr(r->unparsed_uri, '?'), *old = r->unparsed_uri;
            const char *in_line = r->the_request ? strstr(r->the_request, old) : NULL;
            r->unparsed_uri =
                apr_pstrcat(r->pool, apr_pstrmemdup(r->pool, old, (apr_size_t)(q - old)),
                            rest ? "?" : "", rest ? rest : "", NULL);
            if (in_line) {
                /* the request line, which CGI's REQUEST_URI and %r are read from */
                r->the_request = apr_pstrcat(
                    r->pool,
                    apr_pstrmemdup(r->pool, r->the_request, (apr_size_t)(in_line - r->the_request)),
                    r->unparsed_uri, in_line + strlen(old), NULL);
            }
        }
        break;
    case VJWT_SRC_COOKIE:
        vals = apr_array_make(r->pool, 2, sizeof(const char *));
        apr_table_do(collect_value, vals, r->headers_in, "Cookie", NULL);
        apr_table_unset(r->headers_in, "Cookie");
        for (i = 0; i < vals->nelts; i++) {
            rest = vjwt_cookie_remove(r->pool, APR_ARRAY_IDX(vals, i, const char *), name);
            if (rest) {
                apr_table_addn(r->headers_in, "Cookie", rest);
            }
        }
        break;
    default:
        break; /* ValidateJWTTokenValue: the module does not know where the token came from */
    }
}

/* The request's token as this module judged it: the outcome, and the token model, parsed
 * again from the record's claims only when a cache hit left none and someone asks
 * (vjwt_mod_request_token). In r->request_config. */
typedef struct {
    const vjwt_verified_t *rec;
    const vjwt_token_t *token;
} request_token_t;

/* The top request's pool: what it holds lives as long as every subrequest and internal
 * redirect of it, which may copy the exported pointers. */
static apr_pool_t *top_pool(request_rec *r)
{
    while (r->main) {
        r = r->main;
    }
    while (r->prev) {
        r = r->prev;
    }
    return r->pool;
}

/* The pipeline through the token cache, with the keys of the policy's discovery documents
 * and JWKS URLs: an unknown kid may refresh them once (rate-limited), and no keys at all
 * is KeysUnavailable (503). */
static apr_status_t validate(request_rec *r, const vjwt_policy_t *pol, const char *token,
                             vjwt_outcome_t *out, vjwt_verdict_t *v)
{
    vjwt_request_opts_t ro;
    apr_status_t rv;
    memset(&ro, 0, sizeof(ro));
    vjwt_mod_token_cache(&ro.accepted, &ro.rejected);
    ro.base.jwe_ctx = the_jwe_ctx;
    ro.refs = top_pool(r);
    ro.require_user = 1;
    rv = vjwt_validate_request(r->pool, vjwt_mod_store(), pol, &ro, token, strlen(token),
                               (double)apr_time_now() / APR_USEC_PER_SEC, out, v);
    if (ro.accepted && vjwt_mod_metrics()) {
        vjwt_metrics_token_cache(vjwt_mod_metrics(), out->cached);
    }
    return rv;
}

static void accepted(request_rec *r, const vjwt_policy_t *pol, const vjwt_outcome_t *out,
                     const char *token)
{
    const vjwt_verified_t *rec = out->rec;
    request_token_t *rt = apr_palloc(r->pool, sizeof(*rt));
    rt->rec = rec;
    rt->token = out->token;
    r->user = (char *)rec->user;
    ap_set_module_config(r->request_config, &validate_jwt_module, rt);
    apply_exports(r, pol, rec, token);
    if (APLOG_R_IS_LEVEL(r, APLOG_DEBUG)) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                      VJWT_LOGNO(00102) "JWT accepted: user=\"%s\" alg=\"%s\" kid=\"%s\" "
                                        "token=%s%s%s",
                      vjwt_sanitize(r->pool, rec->user, 128),
                      rec->alg ? vjwt_sanitize(r->pool, rec->alg, 32) : "-",
                      rec->kid ? vjwt_sanitize(r->pool, rec->kid, 64) : "-",
                      fingerprint_of(r, rec, token), jwe_log_fields(r->pool, rec, token),
                      out->cached ? " cached" : "");
    }
}

/* ValidateJWTReportOnly: the failure is reported (environment, a warning, the metrics)
 * and the request goes on, authenticated with an empty REMOTE_USER and no claims. */
void vjwt_mod_reported(request_rec *r, const vjwt_dir_conf_t *dc, vjwt_reason_e reason,
                       const char *detail)
{
    vjwt_mod_set_error_env(r, dc->pol, vjwt_reason_name(reason), detail);
    apr_table_setn(r->subprocess_env, "VALIDATE_JWT_REPORT_ONLY", "1");
    vjwt_mod_count(dc, VJWT_RESULT_REPORTED, reason);
}

static int report_only(request_rec *r, const vjwt_dir_conf_t *dc, const vjwt_verdict_t *v,
                       const vjwt_verified_t *rec, const char *token)
{
    const char *reason = vjwt_reason_name(v->reason);
    const char *detail = v->detail ? v->detail : reason;
    vjwt_mod_reported(r, dc, v->reason, detail);
    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                  VJWT_LOGNO(00362) "JWT would be rejected (ValidateJWTReportOnly): reason=%s "
                                    "detail=\"%s\" alg=\"%s\" kid=\"%s\" token=%s%s",
                  reason, vjwt_sanitize(r->pool, detail, 1024),
                  rec && rec->alg ? vjwt_sanitize(r->pool, rec->alg, 32) : "-",
                  rec && rec->kid ? vjwt_sanitize(r->pool, rec->kid, 64) : "-",
                  fingerprint_of(r, rec, token), jwe_log_fields(r->pool, rec, token));
    r->user = apr_pstrdup(r->pool, ""); /* authenticated, with no identity */
    return OK;
}

/* A failure: reported in report-only mode, else counted and answered. */
static int failed(request_rec *r, const vjwt_dir_conf_t *dc, const vjwt_verdict_t *v,
                  const vjwt_verified_t *rec, const char *token)
{
    if (dc->report_only == 1) {
        return report_only(r, dc, v, rec, token);
    }
    vjwt_mod_count(dc, VJWT_RESULT_REJECTED, v->reason);
    return fail_request(r, dc->pol, v, rec, token);
}

static int vjwt_check_authn(request_rec *r)
{
    const char *type = ap_auth_type(r);
    vjwt_dir_conf_t *dc;
    const vjwt_policy_t *pol;
    const char *token, *refused = NULL;
    vjwt_outcome_t out;
    vjwt_verdict_t v = {VJWT_R_OK, NULL};

    if (!type || strcasecmp(type, VJWT_AUTH_TYPE) != 0) {
        return DECLINED;
    }
    dc = ap_get_module_config(r->per_dir_config, &validate_jwt_module);
    pol = dc->pol;
    r->ap_auth_type = (char *)VJWT_AUTH_TYPE;
    /* client claim headers are gone already: vjwt_strip_spoofed ran in access_checker */

    token = extract_token(r, dc, &refused);
    if (refused) {
        vjwt_fail(&v, r->pool, VJWT_R_JWT_INVALID, "%s", refused);
        return failed(r, dc, &v, NULL, NULL);
    }
    if (!token) {
        v.reason = VJWT_R_TOKEN_NOT_PRESENT;
        v.detail = "JWT not present.";
        return failed(r, dc, &v, NULL, NULL);
    }
    if (validate(r, pol, token, &out, &v) != APR_SUCCESS) {
        return failed(r, dc, &v, out.rec, token);
    }
    vjwt_mod_count(dc, VJWT_RESULT_ACCEPTED, VJWT_R_OK);
    accepted(r, pol, &out, token);
    return OK;
}

/* ValidateJWTForwardToken Off, in fixups: after authentication and authorization, for every
 * request that reaches a handler, so also where httpd skipped authentication (Require all
 * granted, <RequireAny> with Require ip) and the token was never looked at. */
static int vjwt_fixups(request_rec *r)
{
    const vjwt_dir_conf_t *dc = ap_get_module_config(r->per_dir_config, &validate_jwt_module);
    const char *type = ap_auth_type(r);
    if (dc && (dc->pol->enabled || (type && !strcasecmp(type, VJWT_AUTH_TYPE))) &&
        !vjwt_policy_forward_token(dc->pol)) {
        remove_token(r, dc->pol);
    }
    return DECLINED;
}

const vjwt_token_t *vjwt_mod_request_token(const request_rec *r)
{
    request_token_t *rt = ap_get_module_config(r->request_config, &validate_jwt_module);
    vjwt_token_t *t;
    const char *err = NULL;
    if (!rt || rt->token || !rt->rec->payload_json) {
        return rt ? rt->token : NULL;
    }
    /* a cache hit: the claims again from the record (only for those who ask) */
    t = apr_pcalloc(r->pool, sizeof(*t));
    if (vjwt_json_parse(&t->payload, r->pool, rt->rec->payload_json, strlen(rt->rec->payload_json),
                        1, &err) != APR_SUCCESS) {
        return NULL;
    }
    t->header = vjwt_json_own(r->pool, json_object());
    t->alg = rt->rec->alg ? rt->rec->alg : "none";
    t->kid = rt->rec->kid;
    rt->token = t;
    return t;
}

static int vjwt_pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    json_object_seed(0);
    return OK;
}

static apr_status_t reset_jwe_ctx(void *data)
{
    the_jwe_ctx = NULL;
    return APR_SUCCESS;
}

/* The JWE context of this configuration, in pconf (freed with it, on restart too). */
static int vjwt_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    vjwt_jwe_ctx_t *ctx = NULL;
    const char *err = NULL;
    /* registered before the context's own cleanup, so it runs after it */
    apr_pool_cleanup_register(pconf, NULL, reset_jwe_ctx, apr_pool_cleanup_null);
    if (vjwt_jwe_ctx_make(&ctx, pconf, &err) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                     VJWT_LOGNO(00310) "encrypted tokens (JWE) can't be decrypted: %s; every "
                                       "JWE will be refused with JwtInvalid",
                     err ? err : "no JWE context");
        ctx = NULL;
    }
    the_jwe_ctx = ctx;
    return OK;
}

static void register_hooks(apr_pool_t *p)
{
    ap_hook_pre_config(vjwt_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(vjwt_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_access_checker(vjwt_strip_spoofed, NULL, NULL, APR_HOOK_REALLY_FIRST);
    ap_hook_check_authn(vjwt_check_authn, NULL, NULL, APR_HOOK_MIDDLE, AP_AUTH_INTERNAL_PER_CONF);
    ap_hook_fixups(vjwt_fixups, NULL, NULL, APR_HOOK_REALLY_FIRST);
    vjwt_mod_config_register_hooks(p);
    vjwt_mod_store_register_hooks(p);
    vjwt_mod_authz_register_hooks(p);
    vjwt_mod_metrics_register_hooks(p);
}

module AP_MODULE_DECLARE_DATA validate_jwt_module = {STANDARD20_MODULE_STUFF,
                                                     vjwt_mod_create_dir_conf,
                                                     vjwt_mod_merge_dir_conf,
                                                     vjwt_mod_create_srv_conf,
                                                     vjwt_mod_merge_srv_conf,
                                                     vjwt_mod_cmds,
                                                     register_hooks,
#if defined(AP_MODULE_FLAG_ALWAYS_MERGE)
                                                     AP_MODULE_FLAG_ALWAYS_MERGE
#endif
};
