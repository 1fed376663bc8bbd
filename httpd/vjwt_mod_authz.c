/*
 * vjwt_mod_authz.c - the authorization providers `Require jwt-claim NAME VALUE...` and
 * `Require jwt-scope SCOPE...`, in the shape of mod_authz_core's providers: the Require
 * arguments are parsed once, at configuration time (parsed_require_line), and each request
 * is judged on the token this module authenticated it with (vjwt_mod_request_token).
 *
 * A denial is a 403 with the module's JSON body ({ "statusCode": 403, "message":
 * "Forbidden." } or "Insufficient scope.") and, for a scope, the RFC 6750 section 3.1
 * challenge. httpd decides the outcome only after every Require line of the section, so a
 * denial is noted in r->notes, with the error environment. mod_authz_core answers a denied
 * authenticated user with 401 (AuthzSendForbiddenOnFailure Off, its default): the
 * note_auth_failure hook, which it calls then, and the insert_error_filter hook turn that
 * into the 403; the body is the JSON one unless an ErrorDocument 403 is configured. The
 * fixups hook, reached only when the request was granted after all (e.g. by another line of a
 * <RequireAny>), takes the notes back.
 *
 * Names: mod_auth_openidc registers `Require claim` (no clash). mod_authnz_jwt registers
 * `Require jwt-claim` too, and claims `AuthType jwt`: httpd keeps one provider per name, that
 * of the module loaded last, so check_config says so when both are loaded (README.md
 * "Authorization").
 *
 * Thread context: the providers and hooks run on any worker thread and only read
 * configuration; parse callbacks run at configuration time.
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
#include "ap_provider.h"
#include "util_filter.h"
#include "apr_strings.h"
#include "apr_lib.h"

#include "vjwt.h"
#include "vjwt_mod.h"

APLOG_USE_MODULE(validate_jwt);

#define NOTE_DENIED   "validate-jwt-authz"       /* "scope" or "claim" */
#define NOTE_SCOPES   "validate-jwt-authz-scope" /* the scopes a denied jwt-scope wanted */
#define NOTE_AS_401   "validate-jwt-authz-401"   /* mod_authz_core made the denial a 401 */
#define NOTE_LOG      "validate-jwt-authz-log"   /* the log text of each denial */
#define JSON_FILTER   "VALIDATE_JWT_AUTHZ_JSON"
#define REASON        "TokenClaimValueNotAllowed"
#define MSG_FORBIDDEN "Forbidden."
#define MSG_SCOPE     "Insufficient scope."

/* A parsed Require line. */
typedef struct {
    const char *name;           /* jwt-claim: the claim name or path */
    apr_array_header_t *values; /* jwt-claim: allowed values; jwt-scope: wanted scopes */
    const char *text;           /* the scopes joined with ' ' (jwt-scope) */
} require_t;

static const char *words_of(cmd_parms *cmd, const char *line, apr_array_header_t **out)
{
    apr_array_header_t *w = apr_array_make(cmd->pool, 4, sizeof(const char *));
    const char *s = line;
    while (*s) {
        char *word = ap_getword_conf(cmd->pool, &s);
        if (!*word) {
            break;
        }
        APR_ARRAY_PUSH(w, const char *) = word;
    }
    *out = w;
    return NULL;
}

static const char *claim_parse(cmd_parms *cmd, const char *line, const void **parsed)
{
    require_t *req = apr_pcalloc(cmd->pool, sizeof(*req));
    apr_array_header_t *w;
    const char *err;
    int i;
    words_of(cmd, line, &w);
    if (w->nelts < 2) {
        return "Require jwt-claim: needs a claim name and at least one value: "
               "Require jwt-claim NAME VALUE...";
    }
    req->name = APR_ARRAY_IDX(w, 0, const char *);
    err = vjwt_claim_name_check(req->name);
    if (err) {
        return apr_psprintf(cmd->pool, "Require jwt-claim: '%s' %s", req->name, err);
    }
    req->values = apr_array_make(cmd->pool, w->nelts - 1, sizeof(const char *));
    for (i = 1; i < w->nelts; i++) {
        APR_ARRAY_PUSH(req->values, const char *) = APR_ARRAY_IDX(w, i, const char *);
    }
    *parsed = req;
    return NULL;
}

/* RFC 6749 section 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ). */
static int scope_token(const char *s)
{
    if (!*s) {
        return 0;
    }
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x21 || c > 0x7e || c == '"' || c == '\\') {
            return 0;
        }
    }
    return 1;
}

static const char *scope_parse(cmd_parms *cmd, const char *line, const void **parsed)
{
    require_t *req = apr_pcalloc(cmd->pool, sizeof(*req));
    int i;
    words_of(cmd, line, &req->values);
    if (req->values->nelts < 1) {
        return "Require jwt-scope: needs at least one scope: Require jwt-scope SCOPE...";
    }
    for (i = 0; i < req->values->nelts; i++) {
        const char *s = APR_ARRAY_IDX(req->values, i, const char *);
        if (!scope_token(s)) {
            return apr_psprintf(cmd->pool,
                                "Require jwt-scope: '%s' is not a scope (RFC 6749 section 3.3: "
                                "printable ASCII without spaces, '\"' and '\\')",
                                s);
        }
    }
    req->text = apr_array_pstrcat(cmd->pool, req->values, ' ');
    *parsed = req;
    return NULL;
}

/* ValidateJWTReportOnly On: the denial is reported (environment, a warning, the metrics)
 * and the line grants. */
static authz_status report_denial(request_rec *r, const vjwt_dir_conf_t *dc, const char *require,
                                  const char *detail)
{
    vjwt_mod_reported(r, dc, VJWT_R_TOKEN_CLAIM_VALUE_NOT_ALLOWED, detail);
    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                  VJWT_LOGNO(00363) "JWT authorization would be denied (ValidateJWTReportOnly): "
                                    "reason=%s require=\"%s\" user=\"%s\" detail=\"%s\"",
                  REASON, vjwt_sanitize(r->pool, require, 256),
                  vjwt_sanitize(r->pool, r->user ? r->user : "", 128),
                  vjwt_sanitize(r->pool, detail, 512));
    return AUTHZ_GRANTED;
}

/* A denial: noted for the error response, with the error environment and the log line,
 * which is written only when the denial stands (log_denials). */
static authz_status deny(request_rec *r, const char *require, const char *kind, const char *detail)
{
    const vjwt_dir_conf_t *dc = ap_get_module_config(r->per_dir_config, &validate_jwt_module);
    const char *old = apr_table_get(r->notes, NOTE_DENIED);
    if (dc->report_only == 1) {
        return report_denial(r, dc, require, detail);
    }
    if (!old || strcmp(old, "scope") != 0) {
        apr_table_setn(r->notes, NOTE_DENIED, kind); /* a scope denial wins the body */
    }
    vjwt_mod_set_error_env(r, dc->pol, REASON, detail);
    apr_table_addn(r->notes, NOTE_LOG,
                   apr_psprintf(r->pool, "require=\"%s\" user=\"%s\" detail=\"%s\"",
                                vjwt_sanitize(r->pool, require, 256),
                                vjwt_sanitize(r->pool, r->user ? r->user : "", 128),
                                vjwt_sanitize(r->pool, detail, 512)));
    return AUTHZ_DENIED;
}

static int log_one(void *rec, const char *key, const char *value)
{
    request_rec *r = rec;
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                  VJWT_LOGNO(00320) "JWT authorization denied: reason=%s status=403 %s", REASON,
                  value);
    return 1;
}

/* The log lines of the denials of a request whose answer is the 403, once; the request
 * counts as rejected (its token was counted as accepted by authentication). */
static void log_denials(request_rec *r)
{
    const vjwt_dir_conf_t *dc = ap_get_module_config(r->per_dir_config, &validate_jwt_module);
    if (apr_table_get(r->notes, NOTE_LOG)) {
        vjwt_mod_count(dc, VJWT_RESULT_REJECTED, VJWT_R_TOKEN_CLAIM_VALUE_NOT_ALLOWED);
    }
    apr_table_do(log_one, r, r->notes, NOTE_LOG, NULL);
    apr_table_unset(r->notes, NOTE_LOG);
}

/* No token of this module: authentication must run first; in a report-only scope whose
 * token failed (reported already, REMOTE_USER empty) the line grants. */
static authz_status no_token(request_rec *r)
{
    const vjwt_dir_conf_t *dc = ap_get_module_config(r->per_dir_config, &validate_jwt_module);
    if (r->user && dc && dc->report_only == 1 &&
        apr_table_get(r->subprocess_env, "VALIDATE_JWT_REPORT_ONLY")) {
        return AUTHZ_GRANTED;
    }
    return AUTHZ_DENIED_NO_USER;
}

static authz_status claim_check(request_rec *r, const char *line, const void *parsed)
{
    const require_t *req = parsed;
    const vjwt_token_t *t = vjwt_mod_request_token(r);
    const json_t *value;
    if (!r->user || !t) {
        return no_token(r);
    }
    value = vjwt_claim_lookup(t->payload, req->name);
    if (value && vjwt_claim_value_allowed(r->pool, value, req->values)) {
        return AUTHZ_GRANTED;
    }
    return deny(r, apr_pstrcat(r->pool, "jwt-claim ", line, NULL), "claim",
                apr_psprintf(r->pool, "Claim %s %s. Access denied.", req->name,
                             value ? "has none of the required values" : "is missing"));
}

static authz_status scope_check(request_rec *r, const char *line, const void *parsed)
{
    const require_t *req = parsed;
    const vjwt_token_t *t = vjwt_mod_request_token(r);
    if (!r->user || !t) {
        return no_token(r);
    }
    if (vjwt_scopes_cover(r->pool, t->payload, req->values)) {
        return AUTHZ_GRANTED;
    }
    apr_table_setn(r->notes, NOTE_SCOPES, req->text);
    return deny(r, apr_pstrcat(r->pool, "jwt-scope ", line, NULL), "scope",
                apr_psprintf(r->pool, "The token lacks a scope of: %s. Access denied.", req->text));
}

static const authz_provider claim_provider = {&claim_check, &claim_parse};
static const authz_provider scope_provider = {&scope_check, &scope_parse};

/* RFC 6750 section 3.1: the challenge of a denied jwt-scope of the request d, into out. */
static void set_challenge(request_rec *d, apr_table_t *out)
{
    const vjwt_dir_conf_t *dc = ap_get_module_config(d->per_dir_config, &validate_jwt_module);
    const char *kind = apr_table_get(d->notes, NOTE_DENIED);
    const char *scopes = apr_table_get(d->notes, NOTE_SCOPES);
    if (!kind || strcmp(kind, "scope") != 0 || !vjwt_policy_www_authenticate(dc->pol)) {
        return;
    }
    apr_table_setn(out, "WWW-Authenticate",
                   apr_psprintf(d->pool,
                                "Bearer realm=\"%s\", error=\"insufficient_scope\", "
                                "scope=\"%s\"",
                                vjwt_mod_realm(d, dc->pol), scopes ? scopes : ""));
}

/* The ErrorDocument 403 of the request's configuration, or NULL. */
static const char *error_document(request_rec *r)
{
    return ap_response_code_string(r, ap_index_of_response(HTTP_FORBIDDEN));
}

/* mod_authz_core answers an authenticated user's denial with 401 (unless
 * AuthzSendForbiddenOnFailure On) and calls this hook just before; the denial must be a 403
 * (RFC 6750 section 3.1). The status is changed in authz_error_response below; here the
 * response of the 401 becomes that of the 403: the ErrorDocument 403 when there is one (a
 * URL is followed by httpd as the 401's would be), else the JSON body. Also answers for
 * AuthType JWT in general: a failure to note needs no challenge of its own. */
static int authz_note_failure(request_rec *r, const char *auth_type)
{
    const char *doc;
    if (!auth_type || strcasecmp(auth_type, "JWT") != 0) {
        return DECLINED;
    }
    if (!apr_table_get(r->notes, NOTE_DENIED)) {
        return OK;
    }
    apr_table_setn(r->notes, NOTE_AS_401, "1");
    log_denials(r);
    doc = error_document(r);
    if (doc) {
        /* a text ErrorDocument is stored with a leading '"' (ap_custom_response adds it) */
        ap_custom_response(r, HTTP_UNAUTHORIZED, doc[0] == '"' ? doc + 1 : doc);
    }
    return OK;
}

/* The error response of a denial: status 403, the challenge for a scope, and the JSON body
 * unless an ErrorDocument 403 exists. Runs in ap_send_error_response before it reads the
 * ErrorDocument, and in our own failure responses (then nothing is noted). */
static void authz_error_response(request_rec *r)
{
    const char *kind = apr_table_get(r->notes, NOTE_DENIED);
    int scope, as_401 = apr_table_get(r->notes, NOTE_AS_401) != NULL;
    if (!kind || !(r->status == HTTP_FORBIDDEN || (as_401 && r->status == HTTP_UNAUTHORIZED))) {
        return;
    }
    log_denials(r);
    scope = !strcmp(kind, "scope");
    set_challenge(r, r->err_headers_out);
    r->status = HTTP_FORBIDDEN;
    r->status_line = NULL;
    if (error_document(r)) {
        return; /* ErrorDocument 403 wins (authz_note_failure made it the 401's) */
    }
    /* ap_send_error_response picks the body by the status it started with */
    ap_custom_response(
        r, as_401 ? HTTP_UNAUTHORIZED : HTTP_FORBIDDEN,
        vjwt_mod_failure_body(r->pool, HTTP_FORBIDDEN, scope ? MSG_SCOPE : MSG_FORBIDDEN));
    ap_add_output_filter(JSON_FILTER, NULL, r, r->connection);
}

/* The JSON body's type: ap_send_error_response sets text/html after the hook above. */
static apr_status_t json_type_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    ap_set_content_type(f->r, "application/json");
    apr_table_setn(f->r->headers_out, "Cache-Control", "no-store");
    ap_remove_output_filter(f);
    return ap_pass_brigade(f->next, bb);
}

/* Fixups: reached by a request that was granted, so a denial of one Require line that
 * another line outweighed leaves no trace; and by the internal redirect to a URL
 * ErrorDocument of a denial, whose status httpd copies from the 401. */
static int authz_fixups(request_rec *r)
{
    const char *kind = r->prev ? apr_table_get(r->prev->notes, NOTE_DENIED) : NULL;
    if (kind) {
        request_rec *d = r->prev; /* the denied request; this is its URL ErrorDocument */
        log_denials(d);
        if (r->status == HTTP_UNAUTHORIZED && apr_table_get(d->notes, NOTE_AS_401)) {
            r->status = HTTP_FORBIDDEN;
            r->status_line = NULL;
        }
        if (r->status == HTTP_FORBIDDEN) {
            set_challenge(d, r->err_headers_out);
        }
        return DECLINED;
    }
    if (apr_table_get(r->notes, NOTE_DENIED)) {
        apr_table_unset(r->notes, NOTE_DENIED);
        apr_table_unset(r->notes, NOTE_SCOPES);
        apr_table_unset(r->notes, NOTE_LOG);
        apr_table_unset(r->subprocess_env, "VALIDATE_JWT_ERROR_SOURCE");
        apr_table_unset(r->subprocess_env, "VALIDATE_JWT_ERROR_REASON");
        apr_table_unset(r->subprocess_env, "VALIDATE_JWT_ERROR_MESSAGE");
        apr_table_unset(r->subprocess_env, "VALIDATE_JWT_ERROR_POLICY_ID");
    }
    return DECLINED;
}

/* Another module (mod_authnz_jwt) loaded after this one owns `Require jwt-claim` then, and
 * both answer AuthType JWT: say so at start-up. */
static int authz_check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    const void *owner =
        ap_lookup_provider(AUTHZ_PROVIDER_GROUP, "jwt-claim", AUTHZ_PROVIDER_VERSION);
    if (owner != &claim_provider) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_WARNING, 0, NULL,
                     VJWT_LOGNO(00321) "'Require jwt-claim' belongs to another module loaded "
                                       "after mod_validate_jwt (mod_authnz_jwt?): its lines "
                                       "are judged by that module; load mod_validate_jwt "
                                       "last, or not both");
    }
    if (ap_find_linked_module("mod_authnz_jwt.c")) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_WARNING, 0, NULL,
                     VJWT_LOGNO(00322) "mod_authnz_jwt is loaded: it also answers 'AuthType "
                                       "jwt' (AuthType names ignore case), so both modules "
                                       "authenticate such sections; load only one of them");
    }
    return OK;
}

void vjwt_mod_authz_register_hooks(apr_pool_t *p)
{
    ap_hook_check_config(authz_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "jwt-claim", AUTHZ_PROVIDER_VERSION,
                              &claim_provider, AP_AUTH_INTERNAL_PER_CONF);
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "jwt-scope", AUTHZ_PROVIDER_VERSION,
                              &scope_provider, AP_AUTH_INTERNAL_PER_CONF);
    ap_register_output_filter(JSON_FILTER, json_type_filter, NULL, AP_FTYPE_CONTENT_SET);
    ap_hook_insert_error_filter(authz_error_response, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_note_auth_failure(authz_note_failure, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_fixups(authz_fixups, NULL, NULL, APR_HOOK_REALLY_FIRST);
}
