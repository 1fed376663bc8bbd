/*
 * vjwt_mod_config.c - the configuration side of the httpd glue: every ValidateJWT* directive
 * (per scope and server-wide), the per-dir and per-server config objects and their merge,
 * ValidateJWTPolicy files, named values and certificates, and the check_config checks that
 * must fail `apachectl configtest` (certificate references, keyless scopes).
 *
 * Thread context: everything here runs at configuration time in the parent (directive
 * handlers, merge, check_config); the request path only reads what it built.
 */
#include <string.h>

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "ap_expr.h"
#include "ap_provider.h"
#include "ap_socache.h"
#include "apr_strings.h"
#include "apr_lib.h"

#include "vjwt.h"
#include "vjwt_mod.h"

APLOG_USE_MODULE(validate_jwt);

/* A `certificate-id=ID` key waiting for check_config to find ValidateJWTCertificate ID. */
typedef struct {
    const char *cert_id;
    const char *kid;
    apr_array_header_t *keys; /* the scope's key list holding the placeholder */
    int index;
    int decryption; /* keys is a decryption key list (vjwt_jwe_key_t *) */
    const char *file;
    int line;
    const char *what; /* the directive, for the message */
} cert_ref_t;

/* ValidateJWTCertificate ID FILE: the public key (signing), and the private key when FILE
 * holds one (decryption). */
typedef struct {
    const vjwt_key_t *key;
    const vjwt_jwe_key_t *dkey; /* NULL: a certificate or public key only */
    const char *file;           /* where the directive is */
    int line;
} cert_t;

/* ------------------------------------------------------------------------------------ */
/* configuration objects                                                                */

/* Key-store options not set: the store's defaults apply (vjwt_mod_store.c). */
static void srv_conf_unset(vjwt_srv_conf_t *sc)
{
    sc->refresh = sc->refetch = sc->max_stale = -1;
    sc->connect_timeout = sc->total_timeout = sc->max_size = sc->allow_http = -1;
    sc->token_cache = sc->token_cache_entries = -1;
}

vjwt_srv_conf_t *vjwt_mod_srv_conf(server_rec *s)
{
    return ap_get_module_config(s->module_config, &validate_jwt_module);
}

void *vjwt_mod_create_srv_conf(apr_pool_t *p, server_rec *s)
{
    vjwt_srv_conf_t *sc = apr_pcalloc(p, sizeof(*sc));
    srv_conf_unset(sc);
    sc->certs = apr_hash_make(p);
    sc->cert_refs = apr_array_make(p, 2, sizeof(cert_ref_t));
    return sc;
}

void *vjwt_mod_merge_srv_conf(apr_pool_t *p, void *basev, void *addv)
{
    vjwt_srv_conf_t *base = basev, *add = addv, *n = apr_pcalloc(p, sizeof(*n));
    n->certs = apr_hash_overlay(p, add->certs, base->certs);
    n->cert_refs = add->cert_refs; /* each server resolves the references made in it */
    /* the key-store options are server-wide: only the main server's count */
    srv_conf_unset(n);
    return n;
}

void *vjwt_mod_create_dir_conf(apr_pool_t *p, char *dir)
{
    vjwt_dir_conf_t *dc = apr_pcalloc(p, sizeof(*dc));
    dc->pol = vjwt_policy_make(p);
    dc->scope = dir;
    dc->report_only = -1;
    return dc;
}

void *vjwt_mod_merge_dir_conf(apr_pool_t *p, void *basev, void *addv)
{
    vjwt_dir_conf_t *base = basev, *add = addv, *n = apr_pcalloc(p, sizeof(*n));
    n->pol = vjwt_policy_merge(p, base->pol, add->pol);
    n->token_expr = add->pol->source != VJWT_SRC_UNSET ? add->token_expr : base->token_expr;
    n->scope = add->scope ? add->scope : base->scope;
    n->report_only = add->report_only != -1 ? add->report_only : base->report_only;
    return n;
}

/* ------------------------------------------------------------------------------------ */
/* directive helpers                                                                    */

/* The scope's policy, marked as used; the first ValidateJWT line of the scope is kept for
 * start-up messages about the scope. */
static vjwt_policy_t *cmd_pol(cmd_parms *cmd, void *dcfg)
{
    vjwt_dir_conf_t *dc = dcfg;
    if (!dc->pol->enabled && cmd->directive) {
        dc->file = cmd->directive->filename;
        dc->line = cmd->directive->line_num;
    }
    dc->pol->enabled = 1;
    return dc->pol;
}

/* The scope's list for a directive: a list the scope's ValidateJWTPolicy set is replaced by
 * the first directive after it; otherwise directives add to the list. */
static apr_array_header_t *scope_list(cmd_parms *cmd, void *dcfg, unsigned bit,
                                      apr_array_header_t **field, int elt_size)
{
    vjwt_dir_conf_t *dc = dcfg;
    if (dc->from_policy & bit) {
        dc->from_policy &= ~bit;
        *field = NULL;
    }
    if (!*field) {
        *field = apr_array_make(cmd->pool, 2, elt_size);
    }
    return *field;
}

static const char *cmd_err(cmd_parms *cmd, const char *what, const char *value)
{
    return apr_psprintf(cmd->pool, "%s: %s '%s'", cmd->cmd->name, what, value);
}

/* Split a directive's raw arguments into words. Double quotes group, anywhere in a word
 * (separator=" " is the word `separator= `); a backslash escapes the next character inside
 * quotes. */
static const char *split_words(cmd_parms *cmd, const char *args, apr_array_header_t **out)
{
    apr_array_header_t *words = apr_array_make(cmd->pool, 4, sizeof(const char *));
    const char *s = args;
    while (*s) {
        char *w, *o;
        int quoted = 0, any = 0;
        while (apr_isspace(*s)) {
            s++;
        }
        if (!*s) {
            break;
        }
        w = o = apr_palloc(cmd->pool, strlen(s) + 1);
        while (*s && (quoted || !apr_isspace(*s))) {
            if (*s == '"') {
                quoted = !quoted;
                any = 1;
                s++;
                continue;
            }
            if (quoted && *s == '\\' && s[1]) {
                s++;
            }
            *o++ = *s++;
            any = 1;
        }
        if (quoted) {
            return apr_psprintf(cmd->pool, "%s: unbalanced double quote in '%s'", cmd->cmd->name,
                                args);
        }
        *o = 0;
        if (any) {
            APR_ARRAY_PUSH(words, const char *) = w;
        }
    }
    *out = words;
    return NULL;
}

/* ------------------------------------------------------------------------------------ */
/* scalar fields: the core's setter (vjwt_policy_set) behind one handler                 */

/* cmd->info of a field directive: &field_ids[field], so that a field's directive name can be
 * found in the table below. */
static const char field_ids[VJWT_F_COUNT];
#define FIELD(f) ((void *)&field_ids[f])

static vjwt_field_e field_of(const void *info)
{
    return (vjwt_field_e)((const char *)info - field_ids);
}

/* The directive that sets field f (for notes that name another directive). */
static const char *field_directive(vjwt_field_e f)
{
    const command_rec *c;
    for (c = vjwt_mod_cmds; f >= 0 && c->name; c++) {
        if (c->cmd_data == FIELD(f)) {
            return c->name;
        }
    }
    return "ValidateJWT";
}

static int note_aplevel(vjwt_log_level_e level)
{
    return level == VJWT_LOG_ERR      ? APLOG_ERR
           : level == VJWT_LOG_WARN   ? APLOG_WARNING
           : level == VJWT_LOG_NOTICE ? APLOG_NOTICE
           : level == VJWT_LOG_INFO   ? APLOG_INFO
                                      : APLOG_DEBUG;
}

/* The core's notes for this directive line, with their own tags: a note about the value just
 * set as "NAME VALUE at FILE:LINE: TEXT"; otherwise (value NULL) "NAME at FILE:LINE: TEXT",
 * where TEXT follows the directive of the note's field when that is another one (e.g.
 * "ValidateJWTRequireScheme has no effect ..."). Key notes (vjwt_keyspec.h) have no field. */
static void log_notes(cmd_parms *cmd, const apr_array_header_t *notes, const char *value)
{
    int i;
    for (i = 0; i < notes->nelts; i++) {
        const vjwt_note_t *n = &APR_ARRAY_IDX(notes, i, vjwt_note_t);
        int whole = !value && n->field != VJWT_F_NONE; /* about another directive's field */
        ap_log_error(APLOG_MARK, note_aplevel(n->level), 0, cmd->server,
                     "VJWT%05d: %s%s%s at %s:%d: %s%s%s", n->tag, cmd->cmd->name, value ? " " : "",
                     value ? value : "", cmd->directive->filename, cmd->directive->line_num,
                     whole ? field_directive(n->field) : "", whole ? " " : "", n->text);
    }
}

static apr_array_header_t *new_notes(cmd_parms *cmd)
{
    return apr_array_make(cmd->temp_pool, 1, sizeof(vjwt_note_t));
}

/* require-scheme only applies to the Authorization header (docs/conformance.md#policy-files). */
static void check_scheme(cmd_parms *cmd, const vjwt_policy_t *pol)
{
    apr_array_header_t *notes = new_notes(cmd);
    vjwt_policy_check(cmd->temp_pool, pol, VJWT_CHECK_SCHEME, notes);
    log_notes(cmd, notes, NULL);
}

/* "NAME: REASON, got 'VALUE'" (the value is left out when empty). */
static const char *field_err(cmd_parms *cmd, const char *reason, const char *value)
{
    return *value ? apr_psprintf(cmd->pool, "%s: %s, got '%s'", cmd->cmd->name, reason, value)
                  : apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name, reason);
}

/* Every scalar directive: the field id is cmd->info. */
static const char *cmd_field(cmd_parms *cmd, void *dcfg, const char *arg)
{
    vjwt_policy_t *pol = cmd_pol(cmd, dcfg);
    vjwt_field_e f = field_of(cmd->info);
    apr_array_header_t *notes = new_notes(cmd);
    const char *err = vjwt_policy_set(cmd->pool, pol, f, arg, notes);
    if (err) {
        return field_err(cmd, err, arg);
    }
    log_notes(cmd, notes, arg);
    if (f == VJWT_F_REQUIRE_SCHEME) {
        check_scheme(cmd, pol);
    }
    return NULL;
}

static const char *source_taken(cmd_parms *cmd, const vjwt_policy_t *pol)
{
    return apr_psprintf(cmd->pool,
                        "%s: this scope already takes the token from %s; use only one of "
                        "ValidateJWTHeaderName, ValidateJWTQueryParameterName, "
                        "ValidateJWTCookieName and ValidateJWTTokenValue per scope",
                        cmd->cmd->name,
                        pol->source == VJWT_SRC_HEADER   ? "a header (ValidateJWTHeaderName)"
                        : pol->source == VJWT_SRC_QUERY  ? "the query string "
                                                           "(ValidateJWTQueryParameterName)"
                        : pol->source == VJWT_SRC_COOKIE ? "a cookie (ValidateJWTCookieName)"
                                                         : "ValidateJWTTokenValue");
}

/* The token-source directives: one source per scope (a directive after the scope's
 * ValidateJWTPolicy replaces the file's source); ValidateJWTTokenValue is an ap_expr. */
static const char *cmd_source(cmd_parms *cmd, void *dcfg, const char *arg)
{
    vjwt_dir_conf_t *dc = dcfg;
    vjwt_policy_t *pol = cmd_pol(cmd, dcfg);
    vjwt_field_e f = field_of(cmd->info);
    const char *err;
    if (!(dc->from_policy & VJWT_FROM_POLICY_SOURCE) && pol->source != VJWT_SRC_UNSET) {
        return source_taken(cmd, pol);
    }
    err = vjwt_policy_set(cmd->pool, pol, f, arg, NULL);
    if (err) {
        return field_err(cmd, err, arg);
    }
    dc->from_policy &= ~VJWT_FROM_POLICY_SOURCE;
    dc->token_expr = NULL;
    if (f == VJWT_F_TOKEN_VALUE) {
        dc->token_expr = ap_expr_parse_cmd(cmd, arg, AP_EXPR_FLAG_STRING_RESULT, &err, NULL);
        if (err) {
            return apr_psprintf(cmd->pool, "%s: cannot parse expression '%s': %s", cmd->cmd->name,
                                arg, err);
        }
    }
    check_scheme(cmd, pol);
    return NULL;
}

static const char *push_string(cmd_parms *cmd, void *dcfg, unsigned bit, apr_array_header_t **list,
                               const char *arg)
{
    if (!*arg) {
        return cmd_err(cmd, "values must not be empty:", arg);
    }
    APR_ARRAY_PUSH(scope_list(cmd, dcfg, bit, list, sizeof(const char *)), const char *) = arg;
    return NULL;
}

static const char *cmd_audience(cmd_parms *cmd, void *dcfg, const char *arg)
{
    return push_string(cmd, dcfg, VJWT_FROM_POLICY_AUDIENCES, &cmd_pol(cmd, dcfg)->audiences, arg);
}

static const char *cmd_issuer(cmd_parms *cmd, void *dcfg, const char *arg)
{
    return push_string(cmd, dcfg, VJWT_FROM_POLICY_ISSUERS, &cmd_pol(cmd, dcfg)->issuers, arg);
}

static const char *cmd_required_claim(cmd_parms *cmd, void *dcfg, const char *args)
{
    vjwt_policy_t *pol = cmd_pol(cmd, dcfg);
    apr_array_header_t *words;
    vjwt_claim_req_t *c;
    const char *err = split_words(cmd, args, &words);
    int i = 1;
    if (err) {
        return err;
    }
    if (words->nelts < 1 || !*APR_ARRAY_IDX(words, 0, const char *)) {
        return apr_psprintf(cmd->pool,
                            "%s: needs a claim name: NAME [match=all|any] [separator=C] "
                            "[VALUE...]",
                            cmd->cmd->name);
    }
    c = apr_pcalloc(cmd->pool, sizeof(*c));
    c->name = APR_ARRAY_IDX(words, 0, const char *);
    if ((err = vjwt_claim_name_check(c->name)) != NULL) {
        return cmd_err(cmd, apr_pstrcat(cmd->pool, err, ":", NULL), c->name);
    }
    c->values = apr_array_make(cmd->pool, 2, sizeof(const char *));
    for (; i < words->nelts; i++) {
        const char *w = APR_ARRAY_IDX(words, i, const char *);
        if (!strncmp(w, "match=", 6)) {
            err = vjwt_parse_option(cmd->pool, vjwt_match_options, 0, w + 6, &c->match_any);
            if (err) {
                return cmd_err(cmd, apr_pstrcat(cmd->pool, "match ", err, ", got", NULL), w + 6);
            }
        }
        else if (!strncmp(w, "separator=", 10)) {
            if (!w[10]) {
                return cmd_err(cmd,
                               "separator must not be empty (quote a space: separator=\" \"),"
                               " got",
                               w);
            }
            c->separator = w + 10;
        }
        else {
            break;
        }
    }
    for (; i < words->nelts; i++) {
        APR_ARRAY_PUSH(c->values, const char *) = APR_ARRAY_IDX(words, i, const char *);
    }
    APR_ARRAY_PUSH(
        scope_list(cmd, dcfg, VJWT_FROM_POLICY_CLAIMS, &pol->claims, sizeof(vjwt_claim_req_t *)),
        vjwt_claim_req_t *) = c;
    return NULL;
}

/* ValidateJWTEntraTenant TENANT [authority=URL]: the tenant's v2.0 discovery document, its
 * v2.0 and v1 issuers, and a required tid equal to TENANT, as if written out (README.md
 * "Microsoft Entra ID"). */
static const char *cmd_entra_tenant(cmd_parms *cmd, void *dcfg, const char *tenant, const char *opt)
{
    vjwt_policy_t *pol = cmd_pol(cmd, dcfg);
    vjwt_entra_t e;
    vjwt_claim_req_t *c;
    apr_array_header_t *iss;
    const char *err, *authority = NULL;
    if (opt) {
        if (strncmp(opt, "authority=", 10) != 0) {
            return cmd_err(cmd, "takes TENANT [authority=URL], got", opt);
        }
        authority = opt + 10;
    }
    err = vjwt_entra_expand(cmd->pool, tenant, authority, &e);
    if (err) {
        return apr_psprintf(cmd->pool, "%s: '%s' %s", cmd->cmd->name,
                            authority && !strncmp(err, "authority", 9) ? authority : tenant, err);
    }
    scope_list(cmd, dcfg, VJWT_FROM_POLICY_SOURCES, &pol->sources, sizeof(void *));
    err = vjwt_mod_add_source(cmd, pol, VJWT_KS_DISCOVERY, e.discovery);
    if (err) {
        return err;
    }
    iss = scope_list(cmd, dcfg, VJWT_FROM_POLICY_ISSUERS, &pol->issuers, sizeof(const char *));
    APR_ARRAY_PUSH(iss, const char *) = e.issuer_v2;
    APR_ARRAY_PUSH(iss, const char *) = e.issuer_v1;
    c = apr_pcalloc(cmd->pool, sizeof(*c));
    c->name = "tid";
    c->values = apr_array_make(cmd->pool, 1, sizeof(const char *));
    APR_ARRAY_PUSH(c->values, const char *) = e.tenant;
    APR_ARRAY_PUSH(
        scope_list(cmd, dcfg, VJWT_FROM_POLICY_CLAIMS, &pol->claims, sizeof(vjwt_claim_req_t *)),
        vjwt_claim_req_t *) = c;
    return NULL;
}

/* ValidateJWTClaimHeader CLAIM HEADER (repeatable: lines of a scope add up). */
static const char *cmd_claim_header(cmd_parms *cmd, void *dcfg, const char *claim,
                                    const char *header)
{
    vjwt_policy_t *pol = cmd_pol(cmd, dcfg);
    const char *err = vjwt_policy_add_claim_header(cmd->pool, pol, claim, header);
    if (!err) {
        return NULL;
    }
    if (!*claim || !*header) {
        return apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name, err);
    }
    /* the core checks the claim first: name the value the error is about */
    return apr_psprintf(cmd->pool, "%s: '%s' %s", cmd->cmd->name,
                        vjwt_claim_name_check(claim) ? claim : header, err);
}

/* file: paths of key specs are relative to ServerRoot. */
static const char *server_root_path(void *baton, apr_pool_t *p, const char *path)
{
    (void)baton;
    return ap_server_root_relative(p, path);
}

/* A certificate-id= key: a placeholder in keys that check_config replaces. */
static void push_cert_ref(cmd_parms *cmd, apr_array_header_t *keys, const vjwt_keyspec_t *spec,
                          int decryption)
{
    vjwt_srv_conf_t *sc = vjwt_mod_srv_conf(cmd->server);
    cert_ref_t *ref = apr_array_push(sc->cert_refs);
    ref->cert_id = spec->cert_id;
    ref->kid = spec->kid;
    ref->keys = keys;
    ref->index = keys->nelts;
    ref->decryption = decryption;
    ref->file = cmd->directive->filename;
    ref->line = cmd->directive->line_num;
    ref->what = cmd->cmd->name;
    APR_ARRAY_PUSH(keys, const void *) = NULL;
}

/* The keys of spec into the scope's key list, with their notes in the error log. */
static const char *add_keyspec(cmd_parms *cmd, void *dcfg, const vjwt_keyspec_t *spec)
{
    vjwt_policy_t *pol = cmd_pol(cmd, dcfg);
    apr_array_header_t *keys =
        scope_list(cmd, dcfg, VJWT_FROM_POLICY_KEYS, &pol->keys, sizeof(const vjwt_key_t *));
    apr_array_header_t *notes = apr_array_make(cmd->temp_pool, 2, sizeof(vjwt_note_t));
    const char *err = NULL;
    int i, before = keys->nelts;
    apr_status_t rv = vjwt_keyspec_load(cmd->pool, spec, server_root_path, NULL, keys, notes, &err);
    if (rv == VJWT_KEYSPEC_NEEDS_CERTIFICATE) {
        push_cert_ref(cmd, keys, spec, 0);
        return NULL;
    }
    if (rv == APR_SUCCESS) {
        for (i = before; i < keys->nelts; i++) {
            vjwt_key_notes(APR_ARRAY_IDX(keys, i, const vjwt_key_t *),
                           vjwt_policy_min_rsa_bits(pol), notes);
        }
    }
    log_notes(cmd, notes, NULL);
    return rv == APR_SUCCESS ? NULL : apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name, err);
}

/* The decryption key of spec into the scope's decryption key list, with its note. */
static const char *add_decryption_keyspec(cmd_parms *cmd, void *dcfg, const vjwt_keyspec_t *spec)
{
    vjwt_policy_t *pol = cmd_pol(cmd, dcfg);
    apr_array_header_t *keys = scope_list(cmd, dcfg, VJWT_FROM_POLICY_DECRYPTION_KEYS,
                                          &pol->decryption_keys, sizeof(const vjwt_jwe_key_t *));
    apr_array_header_t *notes = apr_array_make(cmd->temp_pool, 1, sizeof(vjwt_note_t));
    const char *err = NULL;
    apr_status_t rv =
        vjwt_keyspec_load_decryption(cmd->pool, spec, server_root_path, NULL, keys, &err);
    if (rv == VJWT_KEYSPEC_NEEDS_CERTIFICATE) {
        push_cert_ref(cmd, keys, spec, 1);
        return NULL;
    }
    if (rv != APR_SUCCESS) {
        return apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name, err);
    }
    vjwt_decryption_key_notes(APR_ARRAY_IDX(keys, keys->nelts - 1, const vjwt_jwe_key_t *),
                              vjwt_policy_min_rsa_bits(pol), notes);
    log_notes(cmd, notes, NULL);
    return NULL;
}

/* ValidateJWTIssuerSigningKey [id=KID] BASE64-SECRET | n=.. e=.. | certificate-id=ID |
 * file:PATH, and ValidateJWTDecryptionKey (cmd->info set) [id=KID] BASE64-KEY | file:PATH |
 * certificate-id=ID: the grammar of vjwt_keyspec.h, without n=/e= for decryption keys. */
static const char *cmd_key(cmd_parms *cmd, void *dcfg, const char *args)
{
    int decryption = cmd->info != NULL;
    apr_array_header_t *words;
    vjwt_keyspec_t spec;
    const char *const *w;
    const char *err = split_words(cmd, args, &words);
    apr_status_t rv;
    if (err) {
        return err;
    }
    w = (const char *const *)words->elts;
    rv = decryption ? vjwt_keyspec_parse_decryption(&spec, cmd->pool, w, words->nelts, &err)
                    : vjwt_keyspec_parse(&spec, cmd->pool, w, words->nelts, &err);
    if (rv != APR_SUCCESS) {
        return apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name, err);
    }
    return decryption ? add_decryption_keyspec(cmd, dcfg, &spec) : add_keyspec(cmd, dcfg, &spec);
}

static const char *cmd_openid_config(cmd_parms *cmd, void *dcfg, const char *arg)
{
    vjwt_policy_t *pol = cmd_pol(cmd, dcfg);
    scope_list(cmd, dcfg, VJWT_FROM_POLICY_SOURCES, &pol->sources, sizeof(void *));
    return vjwt_mod_add_source(cmd, pol, VJWT_KS_DISCOVERY, arg);
}

/* A URL is fetched like a discovery document's jwks_uri; anything else is a file read now. */
static const char *cmd_jwks_uri(cmd_parms *cmd, void *dcfg, const char *arg)
{
    if (ap_strstr_c(arg, "://")) {
        vjwt_policy_t *pol = cmd_pol(cmd, dcfg);
        scope_list(cmd, dcfg, VJWT_FROM_POLICY_SOURCES, &pol->sources, sizeof(void *));
        return vjwt_mod_add_source(cmd, pol, VJWT_KS_JWKS_URL, arg);
    }
    else {
        const char *word = apr_pstrcat(cmd->pool, "file:", arg, NULL), *err = NULL;
        vjwt_keyspec_t spec;
        if (vjwt_keyspec_parse(&spec, cmd->pool, &word, 1, &err) != APR_SUCCESS) {
            return apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name, err);
        }
        return add_keyspec(cmd, dcfg, &spec);
    }
}

#define NAMED_VALUES_KEY "validate_jwt:named-values"

static apr_hash_t *named_values(apr_pool_t *pconf)
{
    void *data = NULL;
    apr_pool_userdata_get(&data, NAMED_VALUES_KEY, pconf);
    if (!data) {
        data = apr_hash_make(pconf);
        apr_pool_userdata_set(data, NAMED_VALUES_KEY, apr_pool_cleanup_null, pconf);
    }
    return data;
}

static const char *named_value(void *baton, const char *name)
{
    return apr_hash_get((apr_hash_t *)baton, name, APR_HASH_KEY_STRING);
}

/* ValidateJWTNamedValue NAME VALUE: what {{NAME}} stands for in policy files (APIM named
 * values). Defined before the ValidateJWTPolicy lines that use it. */
static const char *cmd_named_value(cmd_parms *cmd, void *dcfg, const char *name, const char *value)
{
    apr_hash_t *nv = named_values(cmd->pool);
    const char *c;
    if (!*name) {
        return cmd_err(cmd, "needs a name, got", name);
    }
    for (c = name; *c; c++) {
        if (!apr_isalnum(*c) && *c != '-' && *c != '.' && *c != '_') {
            return cmd_err(cmd, "names use letters, digits, '-', '.' and '_', got", name);
        }
    }
    if (apr_hash_get(nv, name, APR_HASH_KEY_STRING)) {
        return cmd_err(cmd, "defines this name twice:", name);
    }
    apr_hash_set(nv, name, APR_HASH_KEY_STRING, value);
    return NULL;
}

/* The certificate-id= keys of a policy file, for check_config. */
static void add_policy_cert_refs(cmd_parms *cmd, vjwt_policy_t *pol, const vjwt_xml_result_t *res,
                                 const char *path)
{
    vjwt_srv_conf_t *sc = vjwt_mod_srv_conf(cmd->server);
    int i;
    for (i = 0; i < res->certrefs->nelts; i++) {
        vjwt_xml_certref_t *xr = &APR_ARRAY_IDX(res->certrefs, i, vjwt_xml_certref_t);
        cert_ref_t *ref = apr_array_push(sc->cert_refs);
        ref->cert_id = xr->cert_id;
        ref->kid = xr->kid;
        ref->keys = xr->decryption ? pol->decryption_keys : pol->keys;
        ref->index = xr->index;
        ref->decryption = xr->decryption;
        ref->file = path;
        ref->line = xr->line;
        ref->what = xr->decryption ? "ValidateJWTPolicy: <decryption-keys><key>"
                                   : "ValidateJWTPolicy: <key>";
    }
}

/* ValidateJWTPolicy FILE [id=ID]: an APIM <validate-jwt> fills every APIM field of this
 * scope (absent ones get their defaults), so it replaces an outer policy as a whole;
 * directives after it in this scope or in inner scopes override single fields. */
static const char *cmd_policy(cmd_parms *cmd, void *dcfg, const char *file, const char *sel)
{
    vjwt_dir_conf_t *dc = dcfg;
    vjwt_policy_t *pol = cmd_pol(cmd, dcfg), *x;
    vjwt_xml_result_t res;
    const char *path = ap_server_root_relative(cmd->pool, file), *err = NULL, *id = NULL;
    int i;

    if (dc->policy) {
        return apr_psprintf(cmd->pool,
                            "%s: this scope already has the policy %s; use one "
                            "policy per scope (inner scopes may have their own)",
                            cmd->cmd->name, dc->policy);
    }
    if (sel) {
        if (strncmp(sel, "id=", 3) != 0 || !sel[3]) {
            return cmd_err(cmd, "the second argument must be id=ID, got", sel);
        }
        id = sel + 3;
    }
    if (!path) {
        return cmd_err(cmd, "invalid path", file);
    }
    if (vjwt_policy_xml_read(&res, cmd->pool, path, id, named_value, named_values(cmd->pool),
                             &err) != APR_SUCCESS) {
        return apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name, err);
    }
    for (i = 0; i < res.warnings->nelts; i++) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, cmd->server, VJWT_LOGNO(00015) "%s at %s:%d: %s",
                     cmd->cmd->name, cmd->directive->filename, cmd->directive->line_num,
                     APR_ARRAY_IDX(res.warnings, i, const char *));
    }
    x = res.pol;
    vjwt_policy_overlay(cmd->pool, pol, x);
    dc->token_expr = NULL;
    add_policy_cert_refs(cmd, pol, &res, path);
    for (i = 0; i < res.openid->nelts; i++) {
        vjwt_xml_openid_t *o = &APR_ARRAY_IDX(res.openid, i, vjwt_xml_openid_t);
        err = vjwt_mod_add_source_at(cmd, pol, VJWT_KS_DISCOVERY, o->url, path, o->line);
        if (err) {
            return apr_psprintf(cmd->pool, "%s: %s:%d: validate-jwt/openid-config: %s",
                                cmd->cmd->name, path, o->line, err);
        }
    }
    dc->from_policy = VJWT_FROM_POLICY_SOURCE | VJWT_FROM_POLICY_KEYS | VJWT_FROM_POLICY_AUDIENCES |
                      VJWT_FROM_POLICY_ISSUERS | VJWT_FROM_POLICY_CLAIMS |
                      VJWT_FROM_POLICY_SOURCES | VJWT_FROM_POLICY_DECRYPTION_KEYS;
    dc->policy = path;
    return NULL;
}

/* ValidateJWTCertificate ID FILE: one certificate or public key, or a private key (with its
 * certificate or not), named by certificate-id=. */
static const char *cmd_certificate(cmd_parms *cmd, void *dcfg, const char *id, const char *file)
{
    vjwt_srv_conf_t *sc = vjwt_mod_srv_conf(cmd->server);
    apr_array_header_t *notes = apr_array_make(cmd->temp_pool, 1, sizeof(vjwt_note_t));
    const char *err = NULL, *path;
    const vjwt_key_t *sig = NULL;
    cert_t *c;
    vjwt_key_t *k;
    if (!*id) {
        return cmd_err(cmd, "needs an ID, got", id);
    }
    if (!*file || !(path = ap_server_root_relative(cmd->pool, file))) {
        return cmd_err(cmd, "invalid file path", file);
    }
    c = apr_pcalloc(cmd->pool, sizeof(*c));
    if (vjwt_keyspec_load_certificate(cmd->pool, path, &sig, &c->dkey, notes, &err) ==
        APR_SUCCESS) {
        k = vjwt_key_with_kid(cmd->pool, sig, NULL);
        k->source = apr_pstrcat(cmd->pool, "certificate-id=", id, NULL);
        vjwt_key_notes(k, VJWT_DEFAULT_MIN_RSA_BITS, notes);
        c->key = k;
    }
    log_notes(cmd, notes, NULL);
    if (!c->key) {
        return apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name, err);
    }
    if (apr_hash_get(sc->certs, id, APR_HASH_KEY_STRING)) {
        return cmd_err(cmd, "defines this ID twice:", id);
    }
    c->file = cmd->directive->filename;
    c->line = cmd->directive->line_num;
    apr_hash_set(sc->certs, id, APR_HASH_KEY_STRING, c);
    return NULL;
}

/* ------------------------------------------------------------------------------------ */
/* server-wide directives                                                               */

static const char *global_only(cmd_parms *cmd)
{
    return ap_check_cmd_context(cmd, GLOBAL_ONLY);
}

static const char *cmd_cache(cmd_parms *cmd, void *dcfg, const char *arg)
{
    vjwt_srv_conf_t *sc = vjwt_mod_srv_conf(cmd->server);
    const char *err = global_only(cmd), *name = arg, *colon;
    if (err) {
        return err;
    }
    if (strcasecmp(arg, "none") != 0) {
        colon = strchr(arg, ':');
        if (colon) {
            name = apr_pstrmemdup(cmd->temp_pool, arg, (apr_size_t)(colon - arg));
        }
        if (!ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP, name, AP_SOCACHE_PROVIDER_VERSION)) {
            apr_array_header_t *names = ap_list_provider_names(
                cmd->temp_pool, AP_SOCACHE_PROVIDER_GROUP, AP_SOCACHE_PROVIDER_VERSION);
            const char *list = "";
            int i;
            for (i = 0; i < names->nelts; i++) {
                ap_list_provider_names_t *n = &APR_ARRAY_IDX(names, i, ap_list_provider_names_t);
                list = apr_pstrcat(cmd->temp_pool, list, i ? ", " : "", n->provider_name, NULL);
            }
            return apr_psprintf(cmd->pool,
                                "%s: '%s' is not a loaded socache provider (loaded: %s); load "
                                "its module (e.g. socache_%s_module) before this line, or use "
                                "none",
                                cmd->cmd->name, name, *list ? list : "none", name);
        }
    }
    sc->cache_spec = arg;
    return NULL;
}

#define CACHE_SECRET_MIN 16
#define CACHE_SECRET_MAX 4096

/* The secret file's bytes into *buf: a regular file of at most CACHE_SECRET_MAX bytes that
 * other users can neither read nor write. */
static const char *read_secret_file(cmd_parms *cmd, const char *path, unsigned char **buf,
                                    apr_size_t *got)
{
    apr_file_t *f = NULL;
    apr_finfo_t fi;
    char ebuf[120];
    apr_status_t rv =
        apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY, APR_OS_DEFAULT, cmd->temp_pool);
    if (rv == APR_SUCCESS) {
        rv = apr_file_info_get(&fi, APR_FINFO_SIZE | APR_FINFO_TYPE | APR_FINFO_PROT, f);
    }
    if (rv != APR_SUCCESS) {
        if (f) {
            apr_file_close(f);
        }
        return apr_psprintf(cmd->pool, "%s: cannot read '%s': %s", cmd->cmd->name, path,
                            apr_strerror(rv, ebuf, sizeof(ebuf)));
    }
    if (fi.filetype != APR_REG || fi.size > CACHE_SECRET_MAX) {
        apr_file_close(f);
        return apr_psprintf(cmd->pool, "%s: '%s' is not a regular file of at most %d bytes",
                            cmd->cmd->name, path, CACHE_SECRET_MAX);
    }
    if (fi.protection & (APR_FPROT_WREAD | APR_FPROT_WWRITE)) {
        apr_file_close(f);
        return apr_psprintf(cmd->pool,
                            "%s: '%s' is readable or writable by every user; make it readable "
                            "by root only (chmod 600)",
                            cmd->cmd->name, path);
    }
    *buf = apr_palloc(cmd->pool, (apr_size_t)fi.size + 1);
    rv = apr_file_read_full(f, *buf, (apr_size_t)fi.size, got);
    apr_file_close(f);
    if (rv != APR_SUCCESS && !APR_STATUS_IS_EOF(rv)) {
        return apr_psprintf(cmd->pool, "%s: cannot read '%s': %s", cmd->cmd->name, path,
                            apr_strerror(rv, ebuf, sizeof(ebuf)));
    }
    return NULL;
}

/* ValidateJWTCacheSecret file:PATH - the file's bytes (trailing line breaks and blanks
 * dropped) are the secret; the file must not be readable or writable by others. */
static const char *cmd_cache_secret(cmd_parms *cmd, void *dcfg, const char *arg)
{
    vjwt_srv_conf_t *sc = vjwt_mod_srv_conf(cmd->server);
    const char *err = global_only(cmd), *path;
    apr_size_t got = 0;
    unsigned char *buf = NULL;
    if (err) {
        return err;
    }
    if (strncmp(arg, "file:", 5) != 0 || !arg[5]) {
        return apr_psprintf(cmd->pool, "%s: expects file:PATH, got '%s'", cmd->cmd->name, arg);
    }
    path = ap_server_root_relative(cmd->pool, arg + 5);
    if (!path) {
        return apr_psprintf(cmd->pool, "%s: invalid path '%s'", cmd->cmd->name, arg + 5);
    }
    if ((err = read_secret_file(cmd, path, &buf, &got)) != NULL) {
        return err;
    }
    while (got > 0 && (buf[got - 1] == '\n' || buf[got - 1] == '\r' || buf[got - 1] == ' ' ||
                       buf[got - 1] == '\t')) {
        got--;
    }
    if (got < CACHE_SECRET_MIN) {
        return apr_psprintf(cmd->pool, "%s: '%s' holds %d byte(s); the secret needs at least %d",
                            cmd->cmd->name, path, (int)got, CACHE_SECRET_MIN);
    }
    sc->cache_secret = buf;
    sc->cache_secret_len = got;
    return NULL;
}

static const char *cmd_interval(cmd_parms *cmd, void *dcfg, const char *arg)
{
    vjwt_srv_conf_t *sc = vjwt_mod_srv_conf(cmd->server);
    const char *err = global_only(cmd);
    int *field = (int *)((char *)sc + (apr_size_t)cmd->info), n = 0;
    if (err) {
        return err;
    }
    if (field == &sc->max_stale && !strcasecmp(arg, "unlimited")) {
        *field = 0;
        return NULL;
    }
    if (vjwt_parse_seconds(arg, 86400 * 365, &n) || n < 1) {
        return apr_psprintf(cmd->pool, "%s: must be a whole number of seconds from 1%s, got '%s'",
                            cmd->cmd->name, field == &sc->max_stale ? " or unlimited" : "", arg);
    }
    *field = n;
    return NULL;
}

static const char *cmd_fetch_timeout(cmd_parms *cmd, void *dcfg, const char *a1, const char *a2)
{
    vjwt_srv_conf_t *sc = vjwt_mod_srv_conf(cmd->server);
    const char *err = global_only(cmd);
    int c = 0, t = 0;
    if (err) {
        return err;
    }
    if (vjwt_parse_seconds(a1, 300, &c) || c < 1 ||
        (a2 && (vjwt_parse_seconds(a2, 600, &t) || t < 1))) {
        return apr_psprintf(cmd->pool,
                            "%s: expects CONNECT [TOTAL] in whole seconds (1-300, 1-600), got "
                            "'%s%s%s'",
                            cmd->cmd->name, a1, a2 ? " " : "", a2 ? a2 : "");
    }
    sc->connect_timeout = c;
    sc->total_timeout = a2 ? t : (c * 2 > 600 ? 600 : c * 2);
    if (sc->total_timeout < sc->connect_timeout) {
        return apr_psprintf(cmd->pool, "%s: TOTAL must not be shorter than CONNECT",
                            cmd->cmd->name);
    }
    return NULL;
}

static const char *cmd_fetch_max_size(cmd_parms *cmd, void *dcfg, const char *arg)
{
    vjwt_srv_conf_t *sc = vjwt_mod_srv_conf(cmd->server);
    const char *err = global_only(cmd);
    int n = 0;
    if (err) {
        return err;
    }
    if (vjwt_parse_seconds(arg, 16 * 1024 * 1024, &n) || n < 1024) {
        return apr_psprintf(cmd->pool,
                            "%s: must be a number of bytes from 1024 to 16777216, got "
                            "'%s'",
                            cmd->cmd->name, arg);
    }
    sc->max_size = n;
    return NULL;
}

static const char *cmd_ca_file(cmd_parms *cmd, void *dcfg, const char *arg)
{
    vjwt_srv_conf_t *sc = vjwt_mod_srv_conf(cmd->server);
    const char *err = global_only(cmd), *path;
    apr_finfo_t fi;
    if (err) {
        return err;
    }
    path = ap_server_root_relative(cmd->pool, arg);
    if (!path || apr_stat(&fi, path, APR_FINFO_TYPE, cmd->temp_pool) != APR_SUCCESS ||
        fi.filetype != APR_REG) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not a readable file", cmd->cmd->name, arg);
    }
    sc->ca_file = path;
    return NULL;
}

static const char *cmd_allow_http(cmd_parms *cmd, void *dcfg, const char *arg)
{
    vjwt_srv_conf_t *sc = vjwt_mod_srv_conf(cmd->server);
    const char *err = global_only(cmd);
    if (err) {
        return err;
    }
    err = vjwt_parse_bool(arg, &sc->allow_http);
    return err ? apr_psprintf(cmd->pool, "%s: %s '%s'", cmd->cmd->name, err, arg) : NULL;
}

/* ValidateJWTFetchProxy none|env|URL [file:PATH]: the credentials file is read now; no
 * error text holds the credentials (vjwt_fetch_proxy_parse). */
static const char *cmd_fetch_proxy(cmd_parms *cmd, void *dcfg, const char *a1, const char *a2)
{
    vjwt_srv_conf_t *sc = vjwt_mod_srv_conf(cmd->server);
    const char *err = global_only(cmd), *cred = NULL;
    if (err) {
        return err;
    }
    if (a2) {
        if (strncasecmp(a2, "file:", 5) != 0 || !a2[5]) {
            /* not echoed: it may be the credentials themselves */
            return apr_psprintf(cmd->pool,
                                "%s: the second argument must be file:PATH of a file holding "
                                "user:password",
                                cmd->cmd->name);
        }
        cred = ap_server_root_relative(cmd->pool, a2 + 5);
        if (!cred) {
            return apr_psprintf(cmd->pool, "%s: invalid path '%s'", cmd->cmd->name, a2 + 5);
        }
    }
    err = vjwt_fetch_proxy_parse(cmd->pool, a1, cred, &sc->proxy);
    return err ? apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name, err) : NULL;
}

/* A size in bytes: digits with an optional K, M or G (powers of 1024), 64K to 1G. */
static const char *parse_size(const char *s, apr_size_t *out)
{
    apr_uint64_t n = 0, unit = 1;
    const char *c = s;
    for (; *c >= '0' && *c <= '9' && n < APR_UINT64_C(1) << 40; c++) {
        n = n * 10 + (apr_uint64_t)(*c - '0');
    }
    if (c == s) {
        return "must be a number of bytes, with K, M or G for KiB, MiB or GiB";
    }
    if (*c && !c[1] && strchr("kKmMgG", *c)) {
        unit = *c == 'k' || *c == 'K' ? 1024 : *c == 'm' || *c == 'M' ? 1024 * 1024 : 1 << 30;
        c++;
    }
    if (*c) {
        return "must be a number of bytes, with K, M or G for KiB, MiB or GiB";
    }
    n *= unit;
    if (n < 65536 || n > (APR_UINT64_C(1) << 30)) {
        return "must be from 64K to 1G";
    }
    *out = (apr_size_t)n;
    return NULL;
}

/* ValidateJWTReportOnly On|Off: judge every request, stop none (README "Operations"). */
static const char *cmd_report_only(cmd_parms *cmd, void *dcfg, int on)
{
    vjwt_dir_conf_t *dc = dcfg;
    (void)cmd;
    dc->report_only = on;
    return NULL;
}

static const char *cmd_token_cache(cmd_parms *cmd, void *dcfg, const char *a1, const char *a2,
                                   const char *a3)
{
    vjwt_srv_conf_t *sc = vjwt_mod_srv_conf(cmd->server);
    const char *err = global_only(cmd);
    int n = 0;
    if (err) {
        return err;
    }
    err = vjwt_parse_bool(a1, &sc->token_cache);
    if (err) {
        return apr_psprintf(cmd->pool, "%s: %s '%s'", cmd->cmd->name, err, a1);
    }
    if (a2) {
        if (vjwt_parse_seconds(a2, 10000000, &n) || n < 1) {
            return apr_psprintf(cmd->pool,
                                "%s: ENTRIES must be a number from 1 to 10000000, got "
                                "'%s'",
                                cmd->cmd->name, a2);
        }
        sc->token_cache_entries = n;
    }
    if (a3 && (err = parse_size(a3, &sc->token_cache_bytes)) != NULL) {
        return apr_psprintf(cmd->pool, "%s: SIZE %s, got '%s'", cmd->cmd->name, err, a3);
    }
    return NULL;
}

/* ------------------------------------------------------------------------------------ */
/* hooks                                                                                */

/* Cross-directive checks that must fail `apachectl configtest`: check_config runs before
 * configtest exits (post_config does not). */
static int has_any(const apr_array_header_t *a)
{
    return a && a->nelts > 0;
}

/* The core's keyless note for a section's policy with the server defaults' keys and key
 * sources where it has none; NULL when it has keys. */
static const vjwt_note_t *keyless_note(apr_pool_t *p, const vjwt_policy_t *pol,
                                       const vjwt_policy_t *def)
{
    vjwt_policy_t view = *pol;
    apr_array_header_t *notes = apr_array_make(p, 1, sizeof(vjwt_note_t));
    view.keys = has_any(pol->keys) ? pol->keys : def->keys;
    view.sources = has_any(pol->sources) ? pol->sources : def->sources;
    vjwt_policy_check(p, &view, VJWT_CHECK_KEYS, notes);
    return notes->nelts ? &APR_ARRAY_IDX(notes, 0, vjwt_note_t) : NULL;
}

/* docs/conformance.md#policy-files: a policy with no key source is valid but rejects every signed
 * token; say so at start-up. A section counts as keyless when neither it, the server defaults, nor
 * an enclosing section of the same kind (a path prefix) has keys. Policy files warn themselves. */
static void warn_keyless(apr_array_header_t *secs, const vjwt_policy_t *def, const char *kind)
{
    int i, j;
    for (i = 0; secs && i < secs->nelts; i++) {
        ap_conf_vector_t *sec = APR_ARRAY_IDX(secs, i, ap_conf_vector_t *);
        vjwt_dir_conf_t *dc = ap_get_module_config(sec, &validate_jwt_module);
        core_dir_config *cd = ap_get_core_module_config(sec);
        const vjwt_note_t *n;
        if (!dc || !dc->pol->enabled || dc->policy || !cd->d ||
            !(n = keyless_note(secs->pool, dc->pol, def))) {
            continue;
        }
        for (j = 0; j < secs->nelts && n; j++) {
            ap_conf_vector_t *outer = APR_ARRAY_IDX(secs, j, ap_conf_vector_t *);
            vjwt_dir_conf_t *odc = ap_get_module_config(outer, &validate_jwt_module);
            core_dir_config *ocd = ap_get_core_module_config(outer);
            if (j != i && odc && ocd->d && !strncmp(cd->d, ocd->d, strlen(ocd->d)) &&
                !keyless_note(secs->pool, odc->pol, def)) {
                n = NULL; /* inherits keys */
            }
        }
        if (n) {
            ap_log_error(APLOG_MARK, APLOG_STARTUP | note_aplevel(n->level), 0, NULL,
                         "VJWT%05d: %s:%d: <%s %s>: %s (add ValidateJWTIssuerSigningKey, "
                         "ValidateJWTOpenIDConfig or ValidateJWTJWKSURI)",
                         n->tag, dc->file ? dc->file : "?", dc->line, kind, cd->d, n->text);
        }
    }
}

/* Fills the placeholder of ref with the certificate's key (a decryption reference: its
 * private key); logs why not and returns 0 when the certificate is missing or has no
 * private key. */
static int resolve_cert_ref(apr_pool_t *pconf, const cert_ref_t *ref, const cert_t *c)
{
    if (!c) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, NULL,
                     VJWT_LOGNO(00006) "Syntax error on line %d of %s: %s: certificate-id=%s "
                                       "names no certificate; add 'ValidateJWTCertificate %s "
                                       "/path/to/%s.pem' to the server configuration",
                     ref->line, ref->file, ref->what, ref->cert_id, ref->cert_id,
                     ref->decryption ? "private-key" : "cert");
        return 0;
    }
    if (!ref->decryption) {
        APR_ARRAY_IDX(ref->keys, ref->index, const vjwt_key_t *) =
            vjwt_key_with_kid(pconf, c->key, ref->kid);
        return 1;
    }
    if (!c->dkey) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, NULL,
                     VJWT_LOGNO(00301) "Syntax error on line %d of %s: %s: certificate-id=%s is "
                                       "a decryption key, but 'ValidateJWTCertificate %s' on "
                                       "line %d of %s holds no private key; give it a PEM or "
                                       "DER private key (RSA or EC), optionally followed by "
                                       "its certificate",
                     ref->line, ref->file, ref->what, ref->cert_id, ref->cert_id, c->line, c->file);
        return 0;
    }
    APR_ARRAY_IDX(ref->keys, ref->index, const vjwt_jwe_key_t *) =
        vjwt_jwe_key_with_kid(pconf, c->dkey, ref->kid);
    return 1;
}

static int check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    vjwt_srv_conf_t *main_sc = ap_get_module_config(s->module_config, &validate_jwt_module);
    server_rec *vs;
    for (vs = s; vs; vs = vs->next) {
        vjwt_srv_conf_t *sc = ap_get_module_config(vs->module_config, &validate_jwt_module);
        int i;
        for (i = 0; i < sc->cert_refs->nelts; i++) {
            cert_ref_t *ref = &APR_ARRAY_IDX(sc->cert_refs, i, cert_ref_t);
            const cert_t *c = apr_hash_get(sc->certs, ref->cert_id, APR_HASH_KEY_STRING);
            if (!c) {
                c = apr_hash_get(main_sc->certs, ref->cert_id, APR_HASH_KEY_STRING);
            }
            if (!resolve_cert_ref(pconf, ref, c)) {
                return HTTP_INTERNAL_SERVER_ERROR;
            }
        }
    }
    for (vs = s; vs; vs = vs->next) {
        core_server_config *core = ap_get_core_module_config(vs->module_config);
        vjwt_dir_conf_t *def = ap_get_module_config(vs->lookup_defaults, &validate_jwt_module);
        warn_keyless(core->sec_url, def->pol, "Location");
        warn_keyless(core->sec_dir, def->pol, "Directory");
    }
    return OK;
}

/* ------------------------------------------------------------------------------------ */
/* directive table: ValidateJWT + the <validate-jwt> attribute or element in CamelCase   */

#define DIR_CONF (RSRC_CONF | ACCESS_CONF)
#define DIR_AUTH (DIR_CONF | OR_AUTHCFG)

const command_rec vjwt_mod_cmds[] = {
    AP_INIT_TAKE1("ValidateJWTHeaderName", cmd_source, FIELD(VJWT_F_HEADER_NAME), DIR_AUTH,
                  "Request header that carries the token (default Authorization)"),
    AP_INIT_TAKE1("ValidateJWTQueryParameterName", cmd_source, FIELD(VJWT_F_QUERY_NAME), DIR_AUTH,
                  "Query-string parameter that carries the token"),
    AP_INIT_TAKE1("ValidateJWTTokenValue", cmd_source, FIELD(VJWT_F_TOKEN_VALUE), DIR_CONF,
                  "An ap_expr string expression that yields the token"),
    AP_INIT_FLAG("ValidateJWTReportOnly", cmd_report_only, NULL, DIR_AUTH,
                 "On|Off: validate and report every failure, but let every request through "
                 "(default Off)"),
    AP_INIT_TAKE1("ValidateJWTRequireScheme", cmd_field, FIELD(VJWT_F_REQUIRE_SCHEME), DIR_AUTH,
                  "Authorization scheme the token must use (e.g. Bearer)"),
    AP_INIT_TAKE1("ValidateJWTFailedValidationHTTPCode", cmd_field, FIELD(VJWT_F_STATUS), DIR_AUTH,
                  "Status of every failure response, 400-599 (default 401)"),
    AP_INIT_TAKE1("ValidateJWTFailedValidationErrorMessage", cmd_field, FIELD(VJWT_F_ERROR_MESSAGE),
                  DIR_AUTH, "Message of every failure response body"),
    AP_INIT_TAKE1("ValidateJWTRequireExpirationTime", cmd_field, FIELD(VJWT_F_REQUIRE_EXP),
                  DIR_AUTH, "On|Off: reject tokens without exp (default On)"),
    AP_INIT_TAKE1("ValidateJWTRequireSignedTokens", cmd_field, FIELD(VJWT_F_REQUIRE_SIGNED),
                  DIR_AUTH, "On|Off: reject unsigned (alg none) tokens (default On)"),
    AP_INIT_TAKE1("ValidateJWTClockSkew", cmd_field, FIELD(VJWT_F_CLOCK_SKEW), DIR_AUTH,
                  "Seconds of tolerance for exp and nbf (default 0)"),
    AP_INIT_TAKE1("ValidateJWTOutputTokenVariableName", cmd_field, FIELD(VJWT_F_OUTPUT_VAR),
                  DIR_AUTH, "Environment variable prefix that receives the validated token"),
    AP_INIT_TAKE1("ValidateJWTId", cmd_field, FIELD(VJWT_F_ID), DIR_AUTH,
                  "Policy id, reported in VALIDATE_JWT_ERROR_POLICY_ID"),
    AP_INIT_RAW_ARGS("ValidateJWTIssuerSigningKey", cmd_key, NULL, DIR_CONF,
                     "[id=KID] BASE64-SECRET | n=B64URL e=B64URL | certificate-id=ID | "
                     "file:PATH"),
    AP_INIT_RAW_ARGS("ValidateJWTDecryptionKey", cmd_key, (void *)1, DIR_CONF,
                     "[id=KID] BASE64-KEY | file:PATH | certificate-id=ID: a key that decrypts "
                     "encrypted tokens (JWE)"),
    AP_INIT_ITERATE("ValidateJWTAudience", cmd_audience, NULL, DIR_AUTH,
                    "Accepted audiences (any of them)"),
    AP_INIT_ITERATE("ValidateJWTIssuer", cmd_issuer, NULL, DIR_AUTH,
                    "Accepted issuers (any of them)"),
    AP_INIT_RAW_ARGS("ValidateJWTRequiredClaim", cmd_required_claim, NULL, DIR_AUTH,
                     "NAME [match=all|any] [separator=C] [VALUE...]"),
    AP_INIT_ITERATE("ValidateJWTAlgorithms", cmd_field, FIELD(VJWT_F_ALGORITHM), DIR_AUTH,
                    "Allowed JWS algorithms (default all supported, bound to key types)"),
    AP_INIT_TAKE1("ValidateJWTRemoteUserClaim", cmd_field, FIELD(VJWT_F_REMOTE_USER_CLAIM),
                  DIR_AUTH, "Claim that becomes REMOTE_USER (default sub)"),
    AP_INIT_RAW_ARGS("ValidateJWTPassClaimsAs", cmd_field, FIELD(VJWT_F_PASS_CLAIMS), DIR_AUTH,
                     "none|headers|environment|both (default environment), and/or payload"),
    AP_INIT_TAKE1("ValidateJWTCookieName", cmd_source, FIELD(VJWT_F_COOKIE_NAME), DIR_AUTH,
                  "Cookie that carries the token"),
    AP_INIT_TAKE1("ValidateJWTForwardToken", cmd_field, FIELD(VJWT_F_FORWARD_TOKEN), DIR_AUTH,
                  "On|Off: the token reaches the backend (default On)"),
    AP_INIT_ITERATE("ValidateJWTTokenType", cmd_field, FIELD(VJWT_F_TOKEN_TYPE), DIR_AUTH,
                    "Accepted header typ values (e.g. at+jwt), any case, application/ optional"),
    AP_INIT_TAKE1("ValidateJWTMaxTokenAge", cmd_field, FIELD(VJWT_F_MAX_TOKEN_AGE), DIR_AUTH,
                  "Seconds a token may be old (iat required)"),
    AP_INIT_TAKE12("ValidateJWTEntraTenant", cmd_entra_tenant, NULL, DIR_CONF,
                   "TENANT-ID [authority=URL]: Microsoft Entra ID's discovery document, v2.0 and "
                   "v1 issuers and tid"),
    AP_INIT_TAKE2("ValidateJWTClaimHeader", cmd_claim_header, NULL, DIR_AUTH,
                  "CLAIM HEADER: the request header HEADER carries the claim's value"),
    AP_INIT_TAKE1("ValidateJWTWWWAuthenticate", cmd_field, FIELD(VJWT_F_WWW_AUTHENTICATE), DIR_AUTH,
                  "On|Off: RFC 6750 WWW-Authenticate on 401 (default On)"),
    AP_INIT_TAKE1("ValidateJWTRealm", cmd_field, FIELD(VJWT_F_REALM), DIR_AUTH,
                  "realm of WWW-Authenticate (default the server name)"),
    AP_INIT_TAKE1("ValidateJWTMinRSAKeyBits", cmd_field, FIELD(VJWT_F_MIN_RSA_BITS), DIR_AUTH,
                  "Smallest RSA modulus used, 1024-16384 (default 2048)"),
    AP_INIT_TAKE1("ValidateJWTIgnoreAudienceTrailingSlash", cmd_field, FIELD(VJWT_F_AUD_SLASH),
                  DIR_AUTH, "On|Off: audiences differing by one trailing / are equal (default On)"),
    AP_INIT_TAKE1("ValidateJWTMaxTokenLength", cmd_field, FIELD(VJWT_F_MAX_TOKEN_LEN), DIR_AUTH,
                  "Longest accepted token in bytes (default 16384)"),
    AP_INIT_TAKE12("ValidateJWTPolicy", cmd_policy, NULL, DIR_CONF,
                   "FILE [id=ID]: an Azure API Management <validate-jwt> policy"),
    AP_INIT_TAKE2("ValidateJWTNamedValue", cmd_named_value, NULL, RSRC_CONF,
                  "NAME VALUE: what {{NAME}} stands for in policy files"),
    AP_INIT_TAKE1("ValidateJWTOpenIDConfig", cmd_openid_config, NULL, DIR_CONF,
                  "URL of an OpenID discovery document whose jwks_uri keys verify tokens"),
    AP_INIT_TAKE1("ValidateJWTJWKSURI", cmd_jwks_uri, NULL, DIR_CONF,
                  "URL or file of a JWK Set whose keys verify tokens"),
    AP_INIT_TAKE2("ValidateJWTCertificate", cmd_certificate, NULL, RSRC_CONF,
                  "ID FILE: a certificate, public key or private key that certificate-id=ID "
                  "names"),
    AP_INIT_TAKE1("ValidateJWTCache", cmd_cache, NULL, RSRC_CONF,
                  "socache provider[:args] shared by processes and hosts, or none (default "
                  "shmcb)"),
    AP_INIT_TAKE1("ValidateJWTCacheSecret", cmd_cache_secret, NULL, RSRC_CONF,
                  "file:PATH of a secret (16+ bytes) that authenticates the shared key cache"),
    AP_INIT_TAKE1("ValidateJWTKeysRefreshInterval", cmd_interval,
                  (void *)APR_OFFSETOF(vjwt_srv_conf_t, refresh), RSRC_CONF,
                  "Seconds between key refreshes (default 3600)"),
    AP_INIT_TAKE1("ValidateJWTKeysRefetchInterval", cmd_interval,
                  (void *)APR_OFFSETOF(vjwt_srv_conf_t, refetch), RSRC_CONF,
                  "Least seconds between two fetches of one source (default 10)"),
    AP_INIT_TAKE1("ValidateJWTKeysMaxStale", cmd_interval,
                  (void *)APR_OFFSETOF(vjwt_srv_conf_t, max_stale), RSRC_CONF,
                  "Seconds cached keys stay usable after their last fetch, or unlimited"),
    AP_INIT_TAKE12("ValidateJWTFetchTimeout", cmd_fetch_timeout, NULL, RSRC_CONF,
                   "CONNECT [TOTAL] seconds for key fetches (default 5 10)"),
    AP_INIT_TAKE1("ValidateJWTFetchMaxSize", cmd_fetch_max_size, NULL, RSRC_CONF,
                  "Largest discovery document or JWKS in bytes (default 1048576)"),
    AP_INIT_TAKE1("ValidateJWTCAFile", cmd_ca_file, NULL, RSRC_CONF,
                  "CA certificates for https key fetches (default: the system store)"),
    AP_INIT_TAKE123("ValidateJWTTokenCache", cmd_token_cache, NULL, RSRC_CONF,
                    "On|Off [ENTRIES [SIZE]]: remember validated tokens per child (default On "
                    "10000 1M)"),
    AP_INIT_TAKE1("ValidateJWTFetchAllowHTTP", cmd_allow_http, NULL, RSRC_CONF,
                  "On|Off: allow plain http key URLs to non-loopback hosts (default Off)"),
    AP_INIT_TAKE12("ValidateJWTFetchProxy", cmd_fetch_proxy, NULL, RSRC_CONF,
                   "none|env|URL [file:PATH]: how key fetches reach the network (default none: "
                   "direct); PATH holds user:password for the proxy"),
    {NULL}};

void vjwt_mod_config_register_hooks(apr_pool_t *p)
{
    ap_hook_check_config(check_config, NULL, NULL, APR_HOOK_MIDDLE);
}
