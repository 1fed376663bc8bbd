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
#include "vjwt_authz.h"
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

/* APIM's booleans: true or false in any letter case (docs/conformance.md C5), so that a file
 * that works here works in APIM; the directives also take On and Off. */
static const vjwt_option_t apim_bools[] = {{"true", 1}, {"false", 0}, {NULL, 0}};

static apr_status_t check_bool(ctx_t *c, const xmlNode *n, const char *path, const char *v,
                               int *out)
{
    if (vjwt_parse_option(c->p, apim_bools, 1, v, out)) {
        return xfail(c, n, path, "'%s' is not a boolean; use %s", v,
                     vjwt_option_names(c->p, apim_bools));
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
    return check_bool(c, n, apr_psprintf(c->p, "%s/@%s", path, name), v, field);
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

/* A certificate-id key: a NULL placeholder in keys (pol->keys, or pol->decryption_keys with
 * decryption) that the caller fills. */
static void push_certref(ctx_t *c, const xmlNode *k, apr_array_header_t *keys,
                         const vjwt_keyspec_t *spec, int decryption)
{
    vjwt_xml_certref_t *ref = apr_array_push(c->res->certrefs);
    ref->cert_id = spec->cert_id;
    ref->kid = spec->kid;
    ref->index = keys->nelts;
    ref->line = (int)xmlGetLineNo(k);
    ref->decryption = decryption;
    APR_ARRAY_PUSH(keys, const void *) = NULL;
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
        push_certref(c, k, pol->keys, &spec, 0);
        return APR_SUCCESS;
    }
    if (rv != APR_SUCCESS) {
        return xfail(c, k, kp, "%s", why);
    }
    notes = apr_array_make(c->p, 1, sizeof(vjwt_note_t));
    for (i = before; i < pol->keys->nelts; i++) {
        vjwt_key_notes(APR_ARRAY_IDX(pol->keys, i, const vjwt_key_t *),
                       vjwt_policy_min_rsa_bits(pol), notes);
    }
    for (i = 0; i < notes->nelts; i++) {
        const vjwt_note_t *nt = &APR_ARRAY_IDX(notes, i, vjwt_note_t);
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

/* A <decryption-keys><key>: base64 text (a symmetric key) or certificate-id (the private key
 * of a ValidateJWTCertificate); n/e is refused (docs/conformance.md C17). */
static apr_status_t read_decryption_key(ctx_t *c, const xmlNode *k, const char *kp, void *baton)
{
    static const char *const key_attrs[] = {"id", "certificate-id", "n", "e", NULL};
    apr_array_header_t *keys = baton;
    const char *id, *cert, *nn, *e, *body, *why = NULL;
    vjwt_keyspec_t spec;
    apr_status_t rv;
    if ((rv = only_attrs(c, k, kp, key_attrs)) != APR_SUCCESS ||
        (rv = attr(c, k, kp, "id", &id)) != APR_SUCCESS ||
        (rv = attr(c, k, kp, "certificate-id", &cert)) != APR_SUCCESS ||
        (rv = attr(c, k, kp, "n", &nn)) != APR_SUCCESS ||
        (rv = attr(c, k, kp, "e", &e)) != APR_SUCCESS ||
        (rv = text(c, k, kp, &body)) != APR_SUCCESS) {
        return rv;
    }
    if (vjwt_keyspec_decryption_from_xml(&spec, c->p, id, cert, nn, e, body, &why) != APR_SUCCESS) {
        return xfail(c, k, kp, "%s", why);
    }
    rv = vjwt_keyspec_load_decryption(c->p, &spec, NULL, NULL, keys, &why);
    if (rv == VJWT_KEYSPEC_NEEDS_CERTIFICATE) {
        push_certref(c, k, keys, &spec, 1);
        return APR_SUCCESS;
    }
    return rv == APR_SUCCESS ? APR_SUCCESS : xfail(c, k, kp, "%s", why);
}

static apr_status_t read_decryption_keys(ctx_t *c, const xmlNode *n, const char *path)
{
    static const char *const none[] = {NULL};
    vjwt_policy_t *pol = c->res->pol;
    apr_status_t rv = only_attrs(c, n, path, none);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    pol->decryption_keys = apr_array_make(c->p, 2, sizeof(const vjwt_jwe_key_t *));
    rv = each_child(c, n, path, "key", read_decryption_key, pol->decryption_keys);
    if (rv == APR_SUCCESS && pol->decryption_keys->nelts == 0) {
        return xfail(c, n, path, "<decryption-keys> needs at least one <key>");
    }
    return rv;
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
    if (vjwt_claim_name_check(name)) {
        return xfail(c, k, apr_psprintf(c->p, "%s/@name", kp), "'%s' %s", name,
                     vjwt_claim_name_check(name));
    }
    cl = apr_pcalloc(c->p, sizeof(*cl));
    cl->name = name;
    if (match && vjwt_parse_option(c->p, vjwt_match_options, 0, match, &cl->match_any)) {
        return xfail(c, k, apr_psprintf(c->p, "%s/@match", kp), "'%s' is not a match mode; use %s",
                     match, vjwt_option_names(c->p, vjwt_match_options));
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

/* The attributes of <validate-jwt> that set a policy field through the core's setter; the
 * first three are the token source, of which exactly one must be given. */
typedef struct {
    const char *name;
    vjwt_field_e field;
    int apim_bool; /* APIM's true/false only */
} vj_attr_t;

#define VJ_SOURCES 3

static const vj_attr_t vj_attrs[] = {
    {"header-name", VJWT_F_HEADER_NAME, 0},
    {"query-parameter-name", VJWT_F_QUERY_NAME, 0},
    {"token-value", VJWT_F_TOKEN_VALUE, 0},
    {"failed-validation-httpcode", VJWT_F_STATUS, 0},
    {"failed-validation-error-message", VJWT_F_ERROR_MESSAGE, 0},
    {"require-expiration-time", VJWT_F_REQUIRE_EXP, 1},
    {"require-scheme", VJWT_F_REQUIRE_SCHEME, 0},
    {"require-signed-tokens", VJWT_F_REQUIRE_SIGNED, 1},
    {"clock-skew", VJWT_F_CLOCK_SKEW, 0},
    {"output-token-variable-name", VJWT_F_OUTPUT_VAR, 0},
    {"id", VJWT_F_ID, 0},
};
#define VJ_ATTRS ((int)(sizeof(vj_attrs) / sizeof(vj_attrs[0])))

/* "validate-jwt/@NAME" of the attribute that sets field; "validate-jwt" for VJWT_F_NONE. */
static const char *field_path(ctx_t *c, vjwt_field_e field)
{
    int i;
    for (i = 0; i < VJ_ATTRS; i++) {
        if (vj_attrs[i].field == field) {
            return apr_pstrcat(c->p, "validate-jwt/@", vj_attrs[i].name, NULL);
        }
    }
    return "validate-jwt";
}

/* The core's notes become warnings of the file (logged by the caller). */
static void add_notes(ctx_t *c, const xmlNode *vj, const apr_array_header_t *notes,
                      const char *hint)
{
    int i;
    for (i = 0; i < notes->nelts; i++) {
        const vjwt_note_t *n = &APR_ARRAY_IDX(notes, i, vjwt_note_t);
        warn(c, vj, field_path(c, n->field),
             n->field == VJWT_F_NONE && hint ? apr_pstrcat(c->p, n->text, hint, NULL) : n->text);
    }
}

/* One attribute of the table through vjwt_policy_set; absent is fine. */
static apr_status_t set_attr(ctx_t *c, const xmlNode *vj, const vj_attr_t *a,
                             apr_array_header_t *notes)
{
    const char *path = "validate-jwt", *v, *err;
    int b;
    apr_status_t rv = attr(c, vj, path, a->name, &v);
    if (rv != APR_SUCCESS || !v ||
        (a->apim_bool && (rv = check_bool(c, vj, field_path(c, a->field), v, &b)) != APR_SUCCESS)) {
        return rv;
    }
    err = vjwt_policy_set(c->p, c->res->pol, a->field, v, notes);
    if (err) {
        return *v ? xfail(c, vj, field_path(c, a->field), "'%s' %s", v, err)
                  : xfail(c, vj, field_path(c, a->field), "%s", err);
    }
    return APR_SUCCESS;
}

/* Exactly one token source (docs/conformance.md C1, C2). */
static apr_status_t read_token_source(ctx_t *c, const xmlNode *vj)
{
    int i, sources = 0;
    for (i = 0; i < VJ_SOURCES; i++) {
        sources += xmlHasProp(vj, (const xmlChar *)vj_attrs[i].name) ? 1 : 0;
    }
    if (sources == 0) {
        return xfail(c, vj, "validate-jwt",
                     "no token source; add exactly one of header-name=\"Authorization\", "
                     "query-parameter-name=\"...\" or token-value=\"...\"");
    }
    if (sources > 1) {
        return xfail(c, vj, "validate-jwt",
                     "header-name, query-parameter-name and token-value exclude each other; "
                     "keep exactly one");
    }
    for (i = 0; i < VJ_SOURCES; i++) {
        apr_status_t rv = set_attr(c, vj, &vj_attrs[i], NULL);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    return APR_SUCCESS;
}

/* Every other attribute: only known ones, each through the setter. */
static apr_status_t read_attributes(ctx_t *c, const xmlNode *vj)
{
    const char **names = apr_pcalloc(c->p, (VJ_ATTRS + 1) * sizeof(*names));
    apr_array_header_t *notes = apr_array_make(c->p, 1, sizeof(vjwt_note_t));
    apr_status_t rv;
    int i;
    for (i = 0; i < VJ_ATTRS; i++) {
        names[i] = vj_attrs[i].name;
    }
    if ((rv = only_attrs(c, vj, "validate-jwt", names)) != APR_SUCCESS ||
        (rv = read_token_source(c, vj)) != APR_SUCCESS) {
        return rv;
    }
    for (i = VJ_SOURCES; i < VJ_ATTRS; i++) {
        if ((rv = set_attr(c, vj, &vj_attrs[i], notes)) != APR_SUCCESS) {
            return rv;
        }
    }
    add_notes(c, vj, notes, NULL);
    return APR_SUCCESS;
}

static apr_status_t read_audiences(ctx_t *c, const xmlNode *n, const char *path)
{
    return read_string_list(c, n, path, "audience", &c->res->pol->audiences);
}

static apr_status_t read_issuers(ctx_t *c, const xmlNode *n, const char *path)
{
    return read_string_list(c, n, path, "issuer", &c->res->pol->issuers);
}

/* The child elements of <validate-jwt>, in any order (docs/conformance.md C14), each at most
 * once except openid-config (docs/conformance.md#policy-files). */
typedef struct {
    const char *name;
    apr_status_t (*read)(ctx_t *c, const xmlNode *n, const char *path);
    int once;
} vj_child_t;

static const vj_child_t vj_children[] = {
    {"openid-config", read_openid, 0},
    {"issuer-signing-keys", read_keys, 1},
    {"decryption-keys", read_decryption_keys, 1},
    {"audiences", read_audiences, 1},
    {"issuers", read_issuers, 1},
    {"required-claims", read_claims, 1},
};
#define VJ_CHILDREN ((int)(sizeof(vj_children) / sizeof(vj_children[0])))

static apr_status_t unknown_child(ctx_t *c, const xmlNode *k, const char *kp)
{
    if (!strcmp(name_of(k), "zumo-master-key")) {
        return xfail(c, k, kp,
                     "<zumo-master-key> (Azure Mobile Services) is not supported; "
                     "use <issuer-signing-keys>");
    }
    return xfail(c, k, kp,
                 "unknown element; <validate-jwt> accepts openid-config, "
                 "issuer-signing-keys, decryption-keys, audiences, issuers and "
                 "required-claims");
}

static apr_status_t read_child(ctx_t *c, const xmlNode *k, int *seen)
{
    const char *kp = apr_pstrcat(c->p, "validate-jwt/", name_of(k), NULL);
    int i;
    for (i = 0; i < VJ_CHILDREN; i++) {
        if (!strcmp(name_of(k), vj_children[i].name)) {
            if (vj_children[i].once && seen[i]++) {
                return xfail(c, k, kp, "<%s> may appear only once", name_of(k));
            }
            return vj_children[i].read(c, k, kp);
        }
    }
    return unknown_child(c, k, kp);
}

static apr_status_t read_children(ctx_t *c, const xmlNode *vj)
{
    int seen[VJ_CHILDREN];
    const xmlNode *k;
    apr_status_t rv;
    memset(seen, 0, sizeof(seen));
    for (k = vj->children; k; k = k->next) {
        rv = k->type == XML_ELEMENT_NODE ? read_child(c, k, seen) : no_text(c, k, "validate-jwt");
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    return APR_SUCCESS;
}

/* The whole-policy checks; <openid-config> elements count as key sources. */
static void check_policy(ctx_t *c, const xmlNode *vj)
{
    vjwt_policy_t view = *c->res->pol;
    apr_array_header_t *notes = apr_array_make(c->p, 1, sizeof(vjwt_note_t));
    if (c->res->openid->nelts) {
        view.sources = c->res->openid;
    }
    vjwt_policy_check(c->p, &view, VJWT_CHECK_ALL, notes);
    add_notes(c, vj, notes, " (add <issuer-signing-keys> or <openid-config>)");
}

static apr_status_t read_validate_jwt(ctx_t *c, const xmlNode *vj)
{
    apr_status_t rv = read_attributes(c, vj);
    if (rv == APR_SUCCESS) {
        rv = read_children(c, vj);
    }
    if (rv == APR_SUCCESS) {
        check_policy(c, vj);
    }
    return rv;
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

/* The root is <validate-jwt> itself (*out set), or a <policies> document (*out NULL). */
static apr_status_t check_root(ctx_t *c, const xmlNode *root, const xmlNode **out)
{
    const char *rn = name_of(root);
    *out = NULL;
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
    return APR_SUCCESS;
}

/* The <validate-jwt> elements in <inbound>; at least one, and none elsewhere matters only
 * when <inbound> has none (then the error points at the misplaced one). */
static apr_status_t inbound_policies(ctx_t *c, const xmlNode *root, apr_array_header_t **out)
{
    const xmlNode *k, *inbound = NULL;
    apr_array_header_t *found = apr_array_make(c->p, 2, sizeof(const xmlNode *));
    for (k = root->children; k; k = k->next) {
        if (k->type == XML_ELEMENT_NODE && !strcmp(name_of(k), "inbound")) {
            inbound = k;
        }
    }
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
    *out = found;
    return APR_SUCCESS;
}

/* The id attribute of n, copied into the pool (NULL when absent). */
static const char *id_of(ctx_t *c, const xmlNode *n)
{
    xmlChar *id = xmlGetNoNsProp(n, (const xmlChar *)"id");
    const char *s = id ? apr_pstrdup(c->p, (const char *)id) : NULL;
    if (id) {
        xmlFree(id);
    }
    return s;
}

static apr_status_t select_by_id(ctx_t *c, const xmlNode *root, const apr_array_header_t *found,
                                 const char *select_id, const xmlNode **out)
{
    int i;
    for (i = 0; i < found->nelts; i++) {
        const xmlNode *n = APR_ARRAY_IDX(found, i, const xmlNode *);
        const char *id = id_of(c, n);
        if (id && !strcmp(id, select_id)) {
            *out = n;
            return APR_SUCCESS;
        }
    }
    return xfail(c, root, "policies", "no <validate-jwt id=\"%s\"> in <inbound>", select_id);
}

static apr_status_t too_many(ctx_t *c, const xmlNode *root, const apr_array_header_t *found)
{
    const char *list = "";
    int i;
    for (i = 0; i < found->nelts; i++) {
        const xmlNode *n = APR_ARRAY_IDX(found, i, const xmlNode *);
        const char *id = id_of(c, n);
        list = apr_psprintf(c->p, "%s%sline %ld (id %s)", list, i ? ", " : "", xmlGetLineNo(n),
                            id ? id : "none");
    }
    return xfail(c, root, "policies",
                 "%d <validate-jwt> elements in <inbound> (%s); give each an id and pick "
                 "one with ValidateJWTPolicy FILE id=ID",
                 found->nelts, list);
}

static apr_status_t find_policy(ctx_t *c, const xmlNode *root, const char *select_id,
                                const xmlNode **out)
{
    apr_array_header_t *found = NULL;
    apr_status_t rv = check_root(c, root, out);
    if (rv != APR_SUCCESS || *out) {
        return rv;
    }
    if ((rv = inbound_policies(c, root, &found)) != APR_SUCCESS) {
        return rv;
    }
    if (select_id) {
        return select_by_id(c, root, found, select_id, out);
    }
    if (found->nelts > 1) {
        return too_many(c, root, found);
    }
    *out = APR_ARRAY_IDX(found, 0, const xmlNode *);
    return APR_SUCCESS;
}

/* v with the XML special characters and newlines as references (so line numbers stay right). */
static const char *xml_escape(apr_pool_t *p, const char *v)
{
    char *esc = apr_palloc(p, strlen(v) * 6 + 1), *e = esc;
    for (; *v; v++) {
        switch (*v) {
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
            *e++ = *v;
        }
    }
    *e = 0;
    return esc;
}

/* The first "{{" in [s, end), or NULL. */
static const char *find_open(const char *s, const char *end)
{
    for (; s + 1 < end; s++) {
        if (s[0] == '{' && s[1] == '{') {
            return s;
        }
    }
    return NULL;
}

/* The "}}" closing open within 300 bytes, or NULL. */
static const char *find_close(const char *open, const char *end)
{
    const char *q;
    for (q = open + 2; q + 1 < end && q - open < 300; q++) {
        if (q[0] == '}' && q[1] == '}') {
            return q;
        }
    }
    return NULL;
}

/* The escaped value of the named value between open and close, or NULL with c->err. */
static const char *named_value(ctx_t *c, const char *open, const char *close, int line,
                               vjwt_named_value_fn *named, void *baton)
{
    const char *name =
        trimmed(c->p, apr_pstrmemdup(c->p, open + 2, (apr_size_t)(close - open - 2)));
    const char *v, *q;
    for (q = name; *q; q++) {
        if (!apr_isalnum(*q) && *q != '-' && *q != '.' && *q != '_') {
            c->err = apr_psprintf(c->p,
                                  "%s:%d: '{{%s}}' is not a named value (names use "
                                  "letters, digits, '-', '.' and '_')",
                                  c->file, line, vjwt_sanitize(c->p, name, 64));
            return NULL;
        }
    }
    v = (named && *name) ? named(baton, name) : NULL;
    if (!v) {
        c->err = apr_psprintf(c->p,
                              "%s:%d: the named value {{%s}} is not defined; add "
                              "'ValidateJWTNamedValue %s VALUE' to the server "
                              "configuration before this line",
                              c->file, line, name, name);
        return NULL;
    }
    return xml_escape(c->p, v);
}

/* {{name}} -> the named value, XML-escaped (docs/conformance.md#named-values). */
static apr_status_t substitute(ctx_t *c, const char *buf, apr_size_t len,
                               vjwt_named_value_fn *named, void *baton, char **out,
                               apr_size_t *outlen)
{
    const char *s = buf, *end = buf + len, *open, *close, *q, *v;
    char *res = "";
    int line = 1;
    while ((open = find_open(s, end)) != NULL) {
        for (q = s; q < open; q++) {
            line += *q == '\n';
        }
        res = apr_pstrcat(c->p, res, apr_pstrmemdup(c->p, s, (apr_size_t)(open - s)), NULL);
        if (!(close = find_close(open, end))) {
            c->err = apr_psprintf(c->p, "%s:%d: '{{' without a matching '}}'", c->file, line);
            return APR_EINVAL;
        }
        if (!(v = named_value(c, open, close, line, named, baton))) {
            return APR_EINVAL;
        }
        res = apr_pstrcat(c->p, res, v, NULL);
        s = close + 2;
    }
    *out = apr_pstrcat(c->p, res, apr_pstrmemdup(c->p, s, (apr_size_t)(end - s)), NULL);
    *outlen = strlen(*out);
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

static void init_result(ctx_t *c, vjwt_xml_result_t *out, apr_pool_t *p, const char *name)
{
    memset(c, 0, sizeof(*c));
    memset(out, 0, sizeof(*out));
    c->p = p;
    c->file = name;
    c->res = out;
    out->file = name;
    out->pol = vjwt_policy_make(p);
    out->openid = apr_array_make(p, 1, sizeof(vjwt_xml_openid_t));
    out->certrefs = apr_array_make(p, 1, sizeof(vjwt_xml_certref_t));
    out->warnings = apr_array_make(p, 1, sizeof(const char *));
}

/* What is refused before parsing: size, NUL bytes, a DOCTYPE (no DTDs, no entities). */
static const char *precheck(apr_pool_t *p, const char *name, const char *buf, apr_size_t len)
{
    if (len > VJWT_POLICY_XML_MAX_SIZE) {
        return apr_psprintf(p, "%s: the policy file is larger than %d bytes", name,
                            VJWT_POLICY_XML_MAX_SIZE);
    }
    if (memchr(buf, 0, len)) {
        return apr_psprintf(p, "%s: the policy file holds a NUL byte", name);
    }
    if (memmem(buf, len, "<!DOCTYPE", 9)) {
        return apr_psprintf(p,
                            "%s: a DOCTYPE is not allowed in a policy file (no DTDs or external "
                            "entities)",
                            name);
    }
    return NULL;
}

/* libxml2 without network, errors or warnings on stderr; *doc and *ctxt for free_doc. */
static apr_status_t parse_xml(ctx_t *c, const char *text, apr_size_t tlen, xmlDocPtr *doc,
                              xmlParserCtxtPtr *ctxt)
{
    xmlSetGenericErrorFunc(NULL, quiet);
    xmlSetStructuredErrorFunc(NULL, quiet_structured);
    *ctxt = xmlNewParserCtxt();
    if (!*ctxt) {
        c->err = "out of memory";
        return APR_ENOMEM;
    }
    *doc = xmlCtxtReadMemory(*ctxt, text, (int)tlen, c->file, NULL,
                             XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_NOWARNING |
                                 XML_PARSE_NOERROR);
    if (!*doc) {
        xmlErrorPtr e = xmlCtxtGetLastError(*ctxt);
        c->err = apr_psprintf(c->p, "%s:%d: not well-formed XML: %s", c->file, e ? e->line : 0,
                              e && e->message ? trimmed(c->p, e->message) : "parse error");
        return APR_EINVAL;
    }
    if ((*doc)->intSubset || (*doc)->extSubset) {
        c->err = apr_psprintf(c->p, "%s: a DOCTYPE is not allowed in a policy file", c->file);
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

/* The selected <validate-jwt> of doc into c->res. */
static apr_status_t read_doc(ctx_t *c, xmlDocPtr doc, const char *select_id)
{
    const xmlNode *root = xmlDocGetRootElement(doc), *vj = NULL;
    apr_status_t rv;
    if (!root) {
        c->err = apr_psprintf(c->p, "%s: empty document", c->file);
        return APR_EINVAL;
    }
    rv = find_policy(c, root, select_id, &vj);
    if (rv == APR_SUCCESS) {
        c->res->line = (int)xmlGetLineNo(vj);
        rv = read_validate_jwt(c, vj);
    }
    return rv;
}

apr_status_t vjwt_policy_xml_parse(vjwt_xml_result_t *out, apr_pool_t *p, const char *name,
                                   const char *buf, apr_size_t len, const char *select_id,
                                   vjwt_named_value_fn *named, void *named_baton, const char **err)
{
    ctx_t c;
    xmlParserCtxtPtr ctxt = NULL;
    xmlDocPtr doc = NULL;
    char *text;
    apr_size_t tlen;
    apr_status_t rv;

    init_result(&c, out, p, name);
    if ((*err = precheck(p, name, buf, len)) != NULL) {
        return APR_EINVAL;
    }
    rv = substitute(&c, buf, len, named, named_baton, &text, &tlen);
    if (rv == APR_SUCCESS) {
        rv = parse_xml(&c, text, tlen, &doc, &ctxt);
    }
    if (rv == APR_SUCCESS) {
        rv = read_doc(&c, doc, select_id);
    }
    free_doc(doc, ctxt);
    if (rv != APR_SUCCESS) {
        *err = c.err ? c.err : apr_psprintf(p, "%s: invalid policy", name);
        return rv;
    }
    /* Every APIM field is now set: a policy replaces an outer one as a whole
     * (docs/conformance.md#policy-files). */
    vjwt_policy_apim_defaults(out->pol);
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
