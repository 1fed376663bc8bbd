/* vjwt_policy_xml.c - <validate-jwt> (docs/conformance.md#policy-files) into the policy model. */
#include <string.h>
#include <apr_strings.h>
#include <apr_lib.h>
#include <apr_file_io.h>
#include <apr_file_info.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "vjwt_policy_xml.h"
#include "vjwt_keyspec.h"
#include "vjwt_b64.h"
#include "vjwt_jwk.h"
#include "vjwt_verdict.h"

typedef struct {
    apr_pool_t *p;
    const char *file;
    vjwt_xml_result_t *res;
    const char *err; /* first error */
} ctx_t;

/* Records the error once and returns APR_EINVAL. */
static apr_status_t xfail(ctx_t *c, const xmlNode *n, const char *path, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

static apr_status_t xfail(ctx_t *c, const xmlNode *n, const char *path, const char *fmt, ...)
{
    va_list ap;
    const char *msg;
    va_start(ap, fmt);
    msg = apr_pvsprintf(c->p, fmt, ap);
    va_end(ap);
    if (!c->err) {
        c->err = apr_psprintf(c->p, "%s:%ld: %s: %s", c->file, n ? xmlGetLineNo(n) : 0L, path, msg);
    }
    return APR_EINVAL;
}

static void warn(ctx_t *c, const xmlNode *n, const char *path, const char *msg)
{
    APR_ARRAY_PUSH(c->res->warnings, const char *) =
        apr_psprintf(c->p, "%s:%ld: %s: %s", c->file, xmlGetLineNo(n), path, msg);
}

static const char *name_of(const xmlNode *n)
{
    return (const char *)n->name;
}

static const char *trimmed(apr_pool_t *p, const char *s)
{
    apr_size_t len;
    while (*s && apr_isspace(*s)) {
        s++;
    }
    len = strlen(s);
    while (len && apr_isspace(s[len - 1])) {
        len--;
    }
    return apr_pstrmemdup(p, s, len);
}

/* An attribute value (NULL when absent), checked for policy expressions
 * (docs/conformance.md#named-values). */
static apr_status_t attr(ctx_t *c, const xmlNode *n, const char *path, const char *name,
                         const char **out)
{
    xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)name);
    const char *s;
    *out = NULL;
    if (!v) {
        return APR_SUCCESS;
    }
    s = apr_pstrdup(c->p, (const char *)v);
    xmlFree(v);
    if (!strncmp(trimmed(c->p, s), "@(", 2) || !strncmp(trimmed(c->p, s), "@{", 2)) {
        return xfail(c, n, apr_psprintf(c->p, "%s/@%s", path, name),
                     "policy expressions (\"@(...)\", \"@{...}\") are not supported by "
                     "mod_validate_jwt; use a literal value%s",
                     !strcmp(name, "token-value")
                         ? " or take the token with header-name or query-parameter-name"
                         : " (or a {{named value}} set with ValidateJWTNamedValue)");
    }
    *out = s;
    return APR_SUCCESS;
}

/* The text of an element (trimmed), checked for policy expressions. Child elements are an
 * error. */
static apr_status_t text(ctx_t *c, const xmlNode *n, const char *path, const char **out)
{
    const xmlNode *k;
    xmlChar *v;
    const char *s;
    for (k = n->children; k; k = k->next) {
        if (k->type == XML_ELEMENT_NODE) {
            return xfail(c, k, apr_psprintf(c->p, "%s/%s", path, name_of(k)),
                         "unexpected element inside <%s>; it holds text only", name_of(n));
        }
    }
    v = xmlNodeGetContent(n);
    s = trimmed(c->p, v ? (const char *)v : "");
    if (v) {
        xmlFree(v);
    }
    if (!strncmp(s, "@(", 2) || !strncmp(s, "@{", 2)) {
        return xfail(c, n, path,
                     "policy expressions (\"@(...)\", \"@{...}\") are not supported by "
                     "mod_validate_jwt; use a literal value (or a {{named value}} set with "
                     "ValidateJWTNamedValue)");
    }
    *out = s;
    return APR_SUCCESS;
}

/* Every attribute of n must be in allowed (NULL-terminated). */
static apr_status_t only_attrs(ctx_t *c, const xmlNode *n, const char *path,
                               const char *const *allowed)
{
    const xmlAttr *a;
    for (a = n->properties; a; a = a->next) {
        int i, ok = 0;
        for (i = 0; allowed[i]; i++) {
            if (!strcmp((const char *)a->name, allowed[i])) {
                ok = 1;
            }
        }
        if (!ok) {
            const char *list = "";
            for (i = 0; allowed[i]; i++) {
                list = apr_pstrcat(c->p, list, i ? ", " : "", allowed[i], NULL);
            }
            return xfail(c, n, apr_psprintf(c->p, "%s/@%s", path, (const char *)a->name),
                         "unknown attribute; <%s> accepts %s", name_of(n),
                         *list ? list : "no attributes");
        }
    }
    return APR_SUCCESS;
}

/* Non-blank text directly inside a container element is an error. */
static apr_status_t no_text(ctx_t *c, const xmlNode *k, const char *path)
{
    if ((k->type == XML_TEXT_NODE || k->type == XML_CDATA_SECTION_NODE) && k->content &&
        *trimmed(c->p, (const char *)k->content)) {
        return xfail(c, k, path, "unexpected text '%s'",
                     vjwt_sanitize(c->p, trimmed(c->p, (const char *)k->content), 40));
    }
    return APR_SUCCESS;
}

static apr_status_t xml_bool(ctx_t *c, const xmlNode *n, const char *path, const char *name,
                             int *field)
{
    const char *v;
    apr_status_t rv = attr(c, n, path, name, &v);
    if (rv != APR_SUCCESS || !v) {
        return rv;
    }
    if (!strcasecmp(v, "true")) {
        *field = 1;
    }
    else if (!strcasecmp(v, "false")) {
        *field = 0;
    }
    else {
        return xfail(c, n, apr_psprintf(c->p, "%s/@%s", path, name),
                     "'%s' is not a boolean; use true or false", v);
    }
    return APR_SUCCESS;
}

/* ------------------------------------------------------------------------------------ */
/* child elements                                                                        */

/* The element children of n in order: each must be an <item> (blank text between them is
 * fine); fn gets each with its path "path/item[i]". */
typedef apr_status_t child_fn(ctx_t *c, const xmlNode *k, const char *kp, void *baton);

static apr_status_t each_child(ctx_t *c, const xmlNode *n, const char *path, const char *item,
                               child_fn *fn, void *baton)
{
    const xmlNode *k;
    int i = 0;
    apr_status_t rv;
    for (k = n->children; k; k = k->next) {
        const char *kp;
        if (k->type != XML_ELEMENT_NODE) {
            if ((rv = no_text(c, k, path)) != APR_SUCCESS) {
                return rv;
            }
            continue;
        }
        kp = apr_psprintf(c->p, "%s/%s[%d]", path, name_of(k), ++i);
        if (strcmp(name_of(k), item) != 0) {
            return xfail(c, k, kp, "unknown element; <%s> holds <%s> only", name_of(n), item);
        }
        if ((rv = fn(c, k, kp, baton)) != APR_SUCCESS) {
            return rv;
        }
    }
    return APR_SUCCESS;
}

static apr_status_t read_string(ctx_t *c, const xmlNode *k, const char *kp, void *baton)
{
    static const char *const none[] = {NULL};
    apr_array_header_t *out = baton;
    const char *v;
    apr_status_t rv;
    if ((rv = only_attrs(c, k, kp, none)) != APR_SUCCESS ||
        (rv = text(c, k, kp, &v)) != APR_SUCCESS) {
        return rv;
    }
    if (!*v) {
        return xfail(c, k, kp, "empty <%s>; give a value or remove the element", name_of(k));
    }
    APR_ARRAY_PUSH(out, const char *) = v;
    return APR_SUCCESS;
}

static apr_status_t read_string_list(ctx_t *c, const xmlNode *n, const char *path, const char *item,
                                     apr_array_header_t **out)
{
    static const char *const none[] = {NULL};
    apr_status_t rv = only_attrs(c, n, path, none);
    *out = apr_array_make(c->p, 2, sizeof(const char *));
    if (rv == APR_SUCCESS) {
        rv = each_child(c, n, path, item, read_string, *out);
    }
    if (rv == APR_SUCCESS && (*out)->nelts == 0) {
        return xfail(c, n, path, "<%s> needs at least one <%s>; remove it to skip the check",
                     name_of(n), item);
    }
    return rv;
}

/* A certificate-id key: a NULL placeholder in pol->keys that the caller fills. */
static void push_certref(ctx_t *c, const xmlNode *k, vjwt_policy_t *pol, const vjwt_keyspec_t *spec)
{
    vjwt_xml_certref_t *ref = apr_array_push(c->res->certrefs);
    ref->cert_id = spec->cert_id;
    ref->kid = spec->kid;
    ref->index = pol->keys->nelts;
    ref->line = (int)xmlGetLineNo(k);
    APR_ARRAY_PUSH(pol->keys, const vjwt_key_t *) = NULL;
}

/* <key> into the key-spec model (vjwt_keyspec.h), loaded like a directive's key; its warnings
 * (short HMAC secret, RSA key below the default floor) go with the element's line. */
static apr_status_t read_key(ctx_t *c, const xmlNode *k, const char *kp, void *baton)
{
    static const char *const key_attrs[] = {"id", "certificate-id", "n", "e", NULL};
    vjwt_policy_t *pol = baton;
    const char *id, *cert, *nn, *e, *body, *why = NULL;
    vjwt_keyspec_t spec;
    apr_array_header_t *notes;
    int i, before = pol->keys->nelts;
    apr_status_t rv;
    if ((rv = only_attrs(c, k, kp, key_attrs)) != APR_SUCCESS ||
        (rv = attr(c, k, kp, "id", &id)) != APR_SUCCESS ||
        (rv = attr(c, k, kp, "certificate-id", &cert)) != APR_SUCCESS ||
        (rv = attr(c, k, kp, "n", &nn)) != APR_SUCCESS ||
        (rv = attr(c, k, kp, "e", &e)) != APR_SUCCESS ||
        (rv = text(c, k, kp, &body)) != APR_SUCCESS) {
        return rv;
    }
    if (vjwt_keyspec_from_xml(&spec, c->p, id, cert, nn, e, body, &why) != APR_SUCCESS) {
        return xfail(c, k, kp, "%s", why);
    }
    rv = vjwt_keyspec_load(c->p, &spec, NULL, NULL, pol->keys, NULL, &why);
    if (rv == VJWT_KEYSPEC_NEEDS_CERTIFICATE) {
        push_certref(c, k, pol, &spec);
        return APR_SUCCESS;
    }
    if (rv != APR_SUCCESS) {
        return xfail(c, k, kp, "%s", why);
    }
    notes = apr_array_make(c->p, 1, sizeof(vjwt_key_note_t));
    for (i = before; i < pol->keys->nelts; i++) {
        vjwt_key_notes(APR_ARRAY_IDX(pol->keys, i, const vjwt_key_t *),
                       vjwt_policy_min_rsa_bits(pol), notes);
    }
    for (i = 0; i < notes->nelts; i++) {
        const vjwt_key_note_t *nt = &APR_ARRAY_IDX(notes, i, vjwt_key_note_t);
        if (nt->level <= VJWT_LOG_WARN) { /* the result has warnings only */
            warn(c, k, kp, nt->text);
        }
    }
    return APR_SUCCESS;
}

static apr_status_t read_keys(ctx_t *c, const xmlNode *n, const char *path)
{
    static const char *const none[] = {NULL};
    vjwt_policy_t *pol = c->res->pol;
    apr_status_t rv = only_attrs(c, n, path, none);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    pol->keys = apr_array_make(c->p, 2, sizeof(const vjwt_key_t *));
    rv = each_child(c, n, path, "key", read_key, pol);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (pol->keys->nelts == 0) {
        return xfail(c, n, path, "<issuer-signing-keys> needs at least one <key>");
    }
    return APR_SUCCESS;
}

/* JWE is not built yet: say so, after the checks that apply anyway (docs/conformance.md C17). */
static apr_status_t read_decryption_keys(ctx_t *c, const xmlNode *n, const char *path)
{
    const xmlNode *k;
    int i = 0;
    for (k = n->children; k; k = k->next) {
        if (k->type == XML_ELEMENT_NODE && !strcmp(name_of(k), "key")) {
            i++;
            if (xmlHasProp(k, (const xmlChar *)"n") || xmlHasProp(k, (const xmlChar *)"e")) {
                return xfail(c, k, apr_psprintf(c->p, "%s/key[%d]", path, i),
                             "n/e keys are signing keys only; a decryption key is base64 text "
                             "or certificate-id");
            }
        }
    }
    return xfail(c, n, path,
                 "encrypted tokens (JWE) are not supported by this version of "
                 "mod_validate_jwt; remove <decryption-keys> (tokens must be signed JWS)");
}

/* A <value> of a <claim>: text, empty allowed (an empty claim value can be required). */
static apr_status_t read_value(ctx_t *c, const xmlNode *v, const char *vp, void *baton)
{
    static const char *const none[] = {NULL};
    const char *val;
    apr_status_t rv;
    if ((rv = only_attrs(c, v, vp, none)) != APR_SUCCESS ||
        (rv = text(c, v, vp, &val)) != APR_SUCCESS) {
        return rv;
    }
    APR_ARRAY_PUSH((apr_array_header_t *)baton, const char *) = val;
    return APR_SUCCESS;
}

static apr_status_t read_claim(ctx_t *c, const xmlNode *k, const char *kp, void *baton)
{
    static const char *const claim_attrs[] = {"name", "match", "separator", NULL};
    const char *name, *match, *sep;
    vjwt_claim_req_t *cl;
    apr_status_t rv;
    if ((rv = only_attrs(c, k, kp, claim_attrs)) != APR_SUCCESS ||
        (rv = attr(c, k, kp, "name", &name)) != APR_SUCCESS ||
        (rv = attr(c, k, kp, "match", &match)) != APR_SUCCESS ||
        (rv = attr(c, k, kp, "separator", &sep)) != APR_SUCCESS) {
        return rv;
    }
    if (!name || !*name) {
        return xfail(c, k, kp, "<claim> needs a name=\"...\"");
    }
    cl = apr_pcalloc(c->p, sizeof(*cl));
    cl->name = name;
    if (match && !strcmp(match, "any")) {
        cl->match_any = 1;
    }
    else if (match && strcmp(match, "all") != 0) {
        return xfail(c, k, apr_psprintf(c->p, "%s/@match", kp),
                     "'%s' is not a match mode; use all or any", match);
    }
    if (sep && !*sep) {
        return xfail(c, k, apr_psprintf(c->p, "%s/@separator", kp),
                     "empty separator; remove it or give one, e.g. separator=\" \"");
    }
    cl->separator = sep;
    cl->values = apr_array_make(c->p, 2, sizeof(const char *));
    rv = each_child(c, k, kp, "value", read_value, cl->values);
    if (rv == APR_SUCCESS) {
        APR_ARRAY_PUSH((apr_array_header_t *)baton, vjwt_claim_req_t *) = cl;
    }
    return rv;
}

static apr_status_t read_claims(ctx_t *c, const xmlNode *n, const char *path)
{
    static const char *const none[] = {NULL};
    vjwt_policy_t *pol = c->res->pol;
    apr_status_t rv = only_attrs(c, n, path, none);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    pol->claims = apr_array_make(c->p, 2, sizeof(vjwt_claim_req_t *));
    rv = each_child(c, n, path, "claim", read_claim, pol->claims);
    if (rv == APR_SUCCESS && pol->claims->nelts == 0) {
        return xfail(c, n, path, "<required-claims> needs at least one <claim>");
    }
    return rv;
}

static apr_status_t read_openid(ctx_t *c, const xmlNode *n, const char *path)
{
    static const char *const attrs[] = {"url", "validate-connectivity", NULL};
    const char *url;
    vjwt_xml_openid_t *o;
    int vc = 1;
    apr_status_t rv;
    if ((rv = only_attrs(c, n, path, attrs)) != APR_SUCCESS ||
        (rv = attr(c, n, path, "url", &url)) != APR_SUCCESS ||
        (rv = xml_bool(c, n, path, "validate-connectivity", &vc)) != APR_SUCCESS) {
        return rv;
    }
    if (!url || !*url) {
        return xfail(c, n, path,
                     "<openid-config> needs url=\"https://.../.well-known/"
                     "openid-configuration\"");
    }
    if (n->children) {
        const xmlNode *k;
        for (k = n->children; k; k = k->next) {
            if (k->type == XML_ELEMENT_NODE) {
                return xfail(c, k, path, "<openid-config> has no child elements");
            }
            if ((rv = no_text(c, k, path)) != APR_SUCCESS) {
                return rv;
            }
        }
    }
    o = apr_array_push(c->res->openid);
    o->url = url;
    o->validate_connectivity = vc;
    o->line = (int)xmlGetLineNo(n);
    return APR_SUCCESS;
}

/* ------------------------------------------------------------------------------------ */
/* <validate-jwt>                                                                        */

static apr_status_t read_validate_jwt(ctx_t *c, const xmlNode *vj)
{
    static const char *const attrs[] = {"header-name",
                                        "query-parameter-name",
                                        "token-value",
                                        "failed-validation-httpcode",
                                        "failed-validation-error-message",
                                        "require-expiration-time",
                                        "require-scheme",
                                        "require-signed-tokens",
                                        "clock-skew",
                                        "output-token-variable-name",
                                        "id",
                                        NULL};
    const char *path = "validate-jwt", *hn, *qn, *tv, *code, *msg, *scheme, *skew, *outv, *id;
    vjwt_policy_t *pol = c->res->pol;
    const xmlNode *k;
    int sources, seen[6] = {0, 0, 0, 0, 0, 0};
    apr_status_t rv;

    if ((rv = only_attrs(c, vj, path, attrs)) != APR_SUCCESS ||
        (rv = attr(c, vj, path, "header-name", &hn)) != APR_SUCCESS ||
        (rv = attr(c, vj, path, "query-parameter-name", &qn)) != APR_SUCCESS ||
        (rv = attr(c, vj, path, "token-value", &tv)) != APR_SUCCESS ||
        (rv = attr(c, vj, path, "failed-validation-httpcode", &code)) != APR_SUCCESS ||
        (rv = attr(c, vj, path, "failed-validation-error-message", &msg)) != APR_SUCCESS ||
        (rv = attr(c, vj, path, "require-scheme", &scheme)) != APR_SUCCESS ||
        (rv = attr(c, vj, path, "clock-skew", &skew)) != APR_SUCCESS ||
        (rv = attr(c, vj, path, "output-token-variable-name", &outv)) != APR_SUCCESS ||
        (rv = attr(c, vj, path, "id", &id)) != APR_SUCCESS ||
        (rv = xml_bool(c, vj, path, "require-expiration-time", &pol->require_exp)) != APR_SUCCESS ||
        (rv = xml_bool(c, vj, path, "require-signed-tokens", &pol->require_signed)) !=
            APR_SUCCESS) {
        return rv;
    }

    /* Exactly one token source (docs/conformance.md C1, C2). */
    sources = (hn ? 1 : 0) + (qn ? 1 : 0) + (tv ? 1 : 0);
    if (sources == 0) {
        return xfail(c, vj, path,
                     "no token source; add exactly one of header-name=\"Authorization\", "
                     "query-parameter-name=\"...\" or token-value=\"...\"");
    }
    if (sources > 1) {
        return xfail(c, vj, path,
                     "header-name, query-parameter-name and token-value exclude each other; "
                     "keep exactly one");
    }
    if (hn) {
        if (!*hn) {
            return xfail(c, vj, "validate-jwt/@header-name", "empty header name");
        }
        pol->source = VJWT_SRC_HEADER;
        pol->source_name = hn;
    }
    else if (qn) {
        if (!*qn) {
            return xfail(c, vj, "validate-jwt/@query-parameter-name", "empty parameter name");
        }
        pol->source = VJWT_SRC_QUERY;
        pol->source_name = qn;
    }
    else {
        if (!*tv) {
            return xfail(c, vj, "validate-jwt/@token-value", "empty token value");
        }
        pol->source = VJWT_SRC_VALUE;
        pol->source_name = tv;
    }
    if (scheme) {
        if (!*scheme) {
            return xfail(c, vj, "validate-jwt/@require-scheme", "empty scheme");
        }
        pol->require_scheme = scheme;
        if (!hn || strcasecmp(hn, "Authorization") != 0) {
            warn(c, vj, "validate-jwt/@require-scheme",
                 "has no effect unless the token comes from the Authorization header");
        }
    }
    if (code) {
        const char *e = vjwt_parse_status(code, &pol->status);
        if (e) {
            return xfail(c, vj, "validate-jwt/@failed-validation-httpcode", "'%s' %s", code, e);
        }
    }
    if (msg && *msg) {
        pol->error_message = msg;
    }
    if (skew) {
        const char *e = vjwt_parse_seconds(skew, 86400, &pol->clock_skew);
        if (e) {
            return xfail(c, vj, "validate-jwt/@clock-skew", "'%s' %s", skew, e);
        }
        if (pol->clock_skew > 600) {
            warn(c, vj, "validate-jwt/@clock-skew",
                 "more than 600 seconds of clock skew lets expired tokens through for long");
        }
    }
    if (outv) {
        const char *s;
        if (!*outv) {
            return xfail(c, vj, "validate-jwt/@output-token-variable-name", "empty name");
        }
        for (s = outv; *s; s++) {
            if (!apr_isalnum(*s) && *s != '_' && *s != '-' && *s != '.') {
                return xfail(c, vj, "validate-jwt/@output-token-variable-name",
                             "'%s': use letters, digits, '_', '-' and '.'", outv);
            }
        }
        pol->output_var = outv;
    }
    pol->id = id;

    /* Children, in any order (docs/conformance.md C14), each at most once except openid-config
     * (docs/conformance.md#policy-files). */
    for (k = vj->children; k; k = k->next) {
        const char *name, *kp;
        int slot;
        if (k->type != XML_ELEMENT_NODE) {
            if ((rv = no_text(c, k, path)) != APR_SUCCESS) {
                return rv;
            }
            continue;
        }
        name = name_of(k);
        kp = apr_pstrcat(c->p, path, "/", name, NULL);
        if (!strcmp(name, "openid-config")) {
            rv = read_openid(c, k, kp);
            if (rv != APR_SUCCESS) {
                return rv;
            }
            continue;
        }
        slot = !strcmp(name, "issuer-signing-keys") ? 0
               : !strcmp(name, "decryption-keys")   ? 1
               : !strcmp(name, "audiences")         ? 2
               : !strcmp(name, "issuers")           ? 3
               : !strcmp(name, "required-claims")   ? 4
                                                    : -1;
        if (slot < 0) {
            if (!strcmp(name, "zumo-master-key")) {
                return xfail(c, k, kp,
                             "<zumo-master-key> (Azure Mobile Services) is not supported; "
                             "use <issuer-signing-keys>");
            }
            return xfail(c, k, kp,
                         "unknown element; <validate-jwt> accepts openid-config, "
                         "issuer-signing-keys, decryption-keys, audiences, issuers and "
                         "required-claims");
        }
        if (seen[slot]++) {
            return xfail(c, k, kp, "<%s> may appear only once", name);
        }
        switch (slot) {
        case 0:
            rv = read_keys(c, k, kp);
            break;
        case 1:
            rv = read_decryption_keys(c, k, kp);
            break;
        case 2:
            rv = read_string_list(c, k, kp, "audience", &pol->audiences);
            break;
        case 3:
            rv = read_string_list(c, k, kp, "issuer", &pol->issuers);
            break;
        default:
            rv = read_claims(c, k, kp);
            break;
        }
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    if (!pol->keys && c->res->openid->nelts == 0) {
        warn(c, vj, path,
             "no <issuer-signing-keys> and no <openid-config>: every signed token will be "
             "rejected");
    }
    return APR_SUCCESS;
}

/* Every <validate-jwt> under node, in document order. */
static void collect(const xmlNode *node, apr_array_header_t *found)
{
    const xmlNode *k;
    for (k = node; k; k = k->next) {
        if (k->type != XML_ELEMENT_NODE) {
            continue;
        }
        if (!strcmp(name_of(k), "validate-jwt")) {
            APR_ARRAY_PUSH(found, const xmlNode *) = k;
        }
        else {
            collect(k->children, found);
        }
    }
}

static apr_status_t find_policy(ctx_t *c, const xmlNode *root, const char *select_id,
                                const xmlNode **out)
{
    const char *rn = name_of(root);
    apr_array_header_t *found;
    const xmlNode *k, *inbound = NULL;
    int i;

    if (!strcmp(rn, "validate-jwt")) {
        *out = root;
        return APR_SUCCESS;
    }
    if (!strcmp(rn, "validate-azure-ad-token")) {
        return xfail(c, root, rn,
                     "<validate-azure-ad-token> is not supported; express it as <validate-jwt> "
                     "with the tenant's <openid-config> and <audiences>");
    }
    if (strcmp(rn, "policies") != 0) {
        return xfail(c, root, rn,
                     "the file must hold a <validate-jwt> element or an APIM <policies> "
                     "document");
    }
    for (k = root->children; k; k = k->next) {
        if (k->type == XML_ELEMENT_NODE && !strcmp(name_of(k), "inbound")) {
            inbound = k;
        }
    }
    found = apr_array_make(c->p, 2, sizeof(const xmlNode *));
    if (inbound) {
        collect(inbound->children, found);
    }
    if (found->nelts == 0) {
        apr_array_header_t *elsewhere = apr_array_make(c->p, 1, sizeof(const xmlNode *));
        collect(root->children, elsewhere);
        if (elsewhere->nelts) {
            return xfail(c, APR_ARRAY_IDX(elsewhere, 0, const xmlNode *), "policies",
                         "<validate-jwt> is only allowed in <inbound>");
        }
        return xfail(c, root, "policies", "no <validate-jwt> in <inbound>");
    }
    if (select_id) {
        for (i = 0; i < found->nelts; i++) {
            const xmlNode *n = APR_ARRAY_IDX(found, i, const xmlNode *);
            xmlChar *id = xmlGetNoNsProp(n, (const xmlChar *)"id");
            int match = id && !strcmp((const char *)id, select_id);
            if (id) {
                xmlFree(id);
            }
            if (match) {
                *out = n;
                return APR_SUCCESS;
            }
        }
        return xfail(c, root, "policies", "no <validate-jwt id=\"%s\"> in <inbound>", select_id);
    }
    if (found->nelts > 1) {
        const char *list = "";
        for (i = 0; i < found->nelts; i++) {
            const xmlNode *n = APR_ARRAY_IDX(found, i, const xmlNode *);
            xmlChar *id = xmlGetNoNsProp(n, (const xmlChar *)"id");
            list = apr_psprintf(c->p, "%s%sline %ld (id %s)", list, i ? ", " : "", xmlGetLineNo(n),
                                id ? (const char *)id : "none");
            if (id) {
                xmlFree(id);
            }
        }
        return xfail(c, root, "policies",
                     "%d <validate-jwt> elements in <inbound> (%s); give each an id and pick "
                     "one with ValidateJWTPolicy FILE id=ID",
                     found->nelts, list);
    }
    *out = APR_ARRAY_IDX(found, 0, const xmlNode *);
    return APR_SUCCESS;
}

/* {{name}} -> the named value, XML-escaped (newlines as character references, so line
 * numbers stay right). */
static apr_status_t substitute(ctx_t *c, const char *buf, apr_size_t len,
                               vjwt_named_value_fn *named, void *baton, char **out,
                               apr_size_t *outlen)
{
    const char *s = buf, *end = buf + len;
    char *res = apr_palloc(c->p, 1);
    int line = 1;
    *res = 0;
    while (s < end) {
        const char *open = NULL, *close, *q;
        for (q = s; q + 1 < end; q++) {
            if (q[0] == '{' && q[1] == '{') {
                open = q;
                break;
            }
        }
        if (!open) {
            res = apr_pstrcat(c->p, res, apr_pstrmemdup(c->p, s, (apr_size_t)(end - s)), NULL);
            break;
        }
        for (q = s; q < open; q++) {
            line += *q == '\n';
        }
        res = apr_pstrcat(c->p, res, apr_pstrmemdup(c->p, s, (apr_size_t)(open - s)), NULL);
        close = NULL;
        for (q = open + 2; q + 1 < end && q - open < 300; q++) {
            if (q[0] == '}' && q[1] == '}') {
                close = q;
                break;
            }
        }
        if (!close) {
            c->err = apr_psprintf(c->p, "%s:%d: '{{' without a matching '}}'", c->file, line);
            return APR_EINVAL;
        }
        {
            const char *name =
                trimmed(c->p, apr_pstrmemdup(c->p, open + 2, (apr_size_t)(close - open - 2)));
            const char *v, *p2;
            char *esc, *e;
            for (p2 = name; *p2; p2++) {
                if (!apr_isalnum(*p2) && *p2 != '-' && *p2 != '.' && *p2 != '_') {
                    c->err = apr_psprintf(c->p,
                                          "%s:%d: '{{%s}}' is not a named value (names use "
                                          "letters, digits, '-', '.' and '_')",
                                          c->file, line, vjwt_sanitize(c->p, name, 64));
                    return APR_EINVAL;
                }
            }
            v = (named && *name) ? named(baton, name) : NULL;
            if (!v) {
                c->err = apr_psprintf(c->p,
                                      "%s:%d: the named value {{%s}} is not defined; add "
                                      "'ValidateJWTNamedValue %s VALUE' to the server "
                                      "configuration before this line",
                                      c->file, line, name, name);
                return APR_EINVAL;
            }
            esc = e = apr_palloc(c->p, strlen(v) * 6 + 1);
            for (p2 = v; *p2; p2++) {
                switch (*p2) {
                case '&':
                    e = stpcpy(e, "&amp;");
                    break;
                case '<':
                    e = stpcpy(e, "&lt;");
                    break;
                case '>':
                    e = stpcpy(e, "&gt;");
                    break;
                case '"':
                    e = stpcpy(e, "&quot;");
                    break;
                case '\'':
                    e = stpcpy(e, "&apos;");
                    break;
                case '\n':
                    e = stpcpy(e, "&#10;");
                    break;
                default:
                    *e++ = *p2;
                }
            }
            *e = 0;
            res = apr_pstrcat(c->p, res, esc, NULL);
        }
        s = close + 2;
    }
    *out = res;
    *outlen = strlen(res);
    return APR_SUCCESS;
}

static void quiet(void *ctx, const char *msg, ...)
{
}

static void quiet_structured(void *ctx, xmlErrorPtr e)
{
}

static void free_doc(xmlDocPtr doc, xmlParserCtxtPtr ctxt)
{
    if (doc) {
        xmlFreeDoc(doc);
    }
    if (ctxt) {
        xmlFreeParserCtxt(ctxt);
    }
}

apr_status_t vjwt_policy_xml_parse(vjwt_xml_result_t *out, apr_pool_t *p, const char *name,
                                   const char *buf, apr_size_t len, const char *select_id,
                                   vjwt_named_value_fn *named, void *named_baton, const char **err)
{
    ctx_t c;
    xmlParserCtxtPtr ctxt = NULL;
    xmlDocPtr doc = NULL;
    const xmlNode *root, *vj = NULL;
    char *text;
    apr_size_t tlen;
    apr_status_t rv;

    memset(&c, 0, sizeof(c));
    memset(out, 0, sizeof(*out));
    c.p = p;
    c.file = name;
    c.res = out;
    out->file = name;
    out->pol = vjwt_policy_make(p);
    out->openid = apr_array_make(p, 1, sizeof(vjwt_xml_openid_t));
    out->certrefs = apr_array_make(p, 1, sizeof(vjwt_xml_certref_t));
    out->warnings = apr_array_make(p, 1, sizeof(const char *));

    if (len > VJWT_POLICY_XML_MAX_SIZE) {
        *err = apr_psprintf(p, "%s: the policy file is larger than %d bytes", name,
                            VJWT_POLICY_XML_MAX_SIZE);
        return APR_EINVAL;
    }
    if (memchr(buf, 0, len)) {
        *err = apr_psprintf(p, "%s: the policy file holds a NUL byte", name);
        return APR_EINVAL;
    }
    if (memmem(buf, len, "<!DOCTYPE", 9)) {
        *err = apr_psprintf(p,
                            "%s: a DOCTYPE is not allowed in a policy file (no DTDs or external "
                            "entities)",
                            name);
        return APR_EINVAL;
    }
    rv = substitute(&c, buf, len, named, named_baton, &text, &tlen);
    if (rv != APR_SUCCESS) {
        *err = c.err;
        return rv;
    }

    xmlSetGenericErrorFunc(NULL, quiet);
    xmlSetStructuredErrorFunc(NULL, quiet_structured);
    ctxt = xmlNewParserCtxt();
    if (!ctxt) {
        *err = "out of memory";
        return APR_ENOMEM;
    }
    doc = xmlCtxtReadMemory(ctxt, text, (int)tlen, name, NULL,
                            XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_NOWARNING |
                                XML_PARSE_NOERROR);
    if (!doc) {
        xmlErrorPtr e = xmlCtxtGetLastError(ctxt);
        *err = apr_psprintf(p, "%s:%d: not well-formed XML: %s", name, e ? e->line : 0,
                            e && e->message ? trimmed(p, e->message) : "parse error");
        free_doc(doc, ctxt);
        return APR_EINVAL;
    }
    if (doc->intSubset || doc->extSubset) {
        *err = apr_psprintf(p, "%s: a DOCTYPE is not allowed in a policy file", name);
        free_doc(doc, ctxt);
        return APR_EINVAL;
    }
    root = xmlDocGetRootElement(doc);
    rv = root ? find_policy(&c, root, select_id, &vj) : APR_EINVAL;
    if (!root) {
        c.err = apr_psprintf(p, "%s: empty document", name);
    }
    if (rv == APR_SUCCESS) {
        out->line = (int)xmlGetLineNo(vj);
        rv = read_validate_jwt(&c, vj);
    }
    free_doc(doc, ctxt);
    if (rv != APR_SUCCESS) {
        *err = c.err ? c.err : apr_psprintf(p, "%s: invalid policy", name);
        return rv;
    }
    /* Every APIM field is now set: a policy replaces an outer one as a whole (docs/conformance.md
     * C134). */
    if (out->pol->status == VJWT_UNSET) {
        out->pol->status = 401;
    }
    if (out->pol->require_exp == VJWT_UNSET) {
        out->pol->require_exp = 1;
    }
    if (out->pol->require_signed == VJWT_UNSET) {
        out->pol->require_signed = 1;
    }
    if (out->pol->clock_skew == VJWT_UNSET) {
        out->pol->clock_skew = 0;
    }
    return APR_SUCCESS;
}

apr_status_t vjwt_policy_xml_read(vjwt_xml_result_t *out, apr_pool_t *p, const char *path,
                                  const char *select_id, vjwt_named_value_fn *named,
                                  void *named_baton, const char **err)
{
    apr_file_t *f = NULL;
    apr_finfo_t fi;
    apr_size_t got = 0;
    char *buf, ebuf[120];
    apr_status_t rv = apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY, APR_OS_DEFAULT, p);
    if (rv != APR_SUCCESS) {
        *err = apr_psprintf(p, "cannot open %s: %s", path, apr_strerror(rv, ebuf, sizeof(ebuf)));
        return rv;
    }
    rv = apr_file_info_get(&fi, APR_FINFO_SIZE | APR_FINFO_TYPE, f);
    if (rv != APR_SUCCESS || fi.filetype != APR_REG || fi.size > VJWT_POLICY_XML_MAX_SIZE) {
        apr_file_close(f);
        *err = apr_psprintf(p, "%s is not a regular file of at most %d bytes", path,
                            VJWT_POLICY_XML_MAX_SIZE);
        return APR_EINVAL;
    }
    buf = apr_palloc(p, (apr_size_t)fi.size + 1);
    rv = apr_file_read_full(f, buf, (apr_size_t)fi.size, &got);
    apr_file_close(f);
    if (rv != APR_SUCCESS && !(APR_STATUS_IS_EOF(rv) && fi.size == 0)) {
        *err = apr_psprintf(p, "cannot read %s: %s", path, apr_strerror(rv, ebuf, sizeof(ebuf)));
        return rv;
    }
    buf[got] = 0;
    return vjwt_policy_xml_parse(out, p, path, buf, got, select_id, named, named_baton, err);
}
