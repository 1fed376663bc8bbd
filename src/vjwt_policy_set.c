/*
 * vjwt_policy_set.c - the policy rules that directives and policy files share: one table of
 * settable fields (parse, check, store), the notes about valid but doubtful settings, the
 * whole-policy checks, and the APIM defaults and overlay of a policy file.
 *
 * A file of its own so that vjwt_policy.c stays the model (make, merge, defaults).
 */
#include <string.h>
#include <strings.h>
#include <apr_strings.h>
#include <apr_lib.h>

#include "vjwt_policy.h"
#include "vjwt_authz.h"

/* Log tags, documented in docs/log-messages.md. VJWT_TAG(n) keeps the 5-digit form greppable
 * (scripts/check-lognos.sh) and yields the number. */
#define VJWT_TAG(n) (1##n - 100000)

#define MAX_SKEW      86400
#define WARN_SKEW     600
#define ALG_NAMES     "HS256 HS384 HS512 RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA"
#define STATUS_REASON "must be an HTTP status code from 400 to 599"

const vjwt_option_t vjwt_bool_options[] = {
    {"On", 1}, {"Off", 0}, {"true", 1}, {"false", 0}, {NULL, 0}};
const vjwt_option_t vjwt_pass_options[] = {
    {"none", VJWT_PASS_NONE}, {"headers", VJWT_PASS_HEADERS}, {"environment", VJWT_PASS_ENV},
    {"both", VJWT_PASS_BOTH}, {"payload", VJWT_PASS_PAYLOAD}, {NULL, 0}};
const vjwt_option_t vjwt_match_options[] = {{"all", 0}, {"any", 1}, {NULL, 0}};

const char *vjwt_option_names(apr_pool_t *p, const vjwt_option_t *table)
{
    const char *list = "";
    int i, n;
    for (n = 0; table[n].name; n++) {
    }
    for (i = 0; i < n; i++) {
        list = apr_pstrcat(p, list, i == 0 ? "" : i == n - 1 ? " or " : ", ", table[i].name, NULL);
    }
    return list;
}

const char *vjwt_parse_option(apr_pool_t *p, const vjwt_option_t *table, int any_case,
                              const char *name, int *out)
{
    int i;
    for (i = 0; table[i].name; i++) {
        if (any_case ? !strcasecmp(name, table[i].name) : !strcmp(name, table[i].name)) {
            *out = table[i].value;
            return NULL;
        }
    }
    return apr_pstrcat(p, "must be ", vjwt_option_names(p, table), NULL);
}

int vjwt_is_utf8(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    while (*u) {
        unsigned c = *u++, min, cp;
        int more, i;
        if (c < 0x80) {
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            more = 1, min = 0x80, cp = c & 0x1F;
        }
        else if (c >= 0xE0 && c <= 0xEF) {
            more = 2, min = 0x800, cp = c & 0x0F;
        }
        else if (c >= 0xF0 && c <= 0xF4) {
            more = 3, min = 0x10000, cp = c & 0x07;
        }
        else {
            return 0; /* continuation byte, overlong lead (C0, C1) or beyond U+10FFFF */
        }
        for (i = 0; i < more; i++, u++) {
            if ((*u & 0xC0) != 0x80) {
                return 0;
            }
            cp = (cp << 6) | (*u & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return 0;
        }
    }
    return 1;
}

static void note(apr_pool_t *p, apr_array_header_t *notes, vjwt_log_level_e level, int tag,
                 vjwt_field_e field, const char *text)
{
    vjwt_note_t *n;
    if (!notes) {
        return;
    }
    n = apr_array_push(notes);
    n->level = level;
    n->tag = tag;
    n->field = field;
    n->text = apr_pstrdup(p, text);
}

/* ------------------------------------------------------------------------------------ */
/* the field table                                                                       */

typedef struct field_s field_t;
typedef const char *set_fn(const field_t *f, apr_pool_t *p, vjwt_policy_t *pol, const char *v,
                           apr_array_header_t *notes);

struct field_s {
    vjwt_field_e field;
    set_fn *set;
    apr_size_t off;               /* the member of vjwt_policy_t */
    int min, max;                 /* numbers; for a token source, min is the vjwt_source_e */
    const vjwt_option_t *options; /* enumerations */
    int (*ok_char)(int c);        /* strings: allowed characters (NULL: any) */
    const char *why;              /* the reason when a character or number is refused */
    const char *empty;            /* the reason when "" is refused (NULL: "" is fine) */
};

#define INT_AT(pol, f) ((int *)((char *)(pol) + (f)->off))
#define STR_AT(pol, f) ((const char **)((char *)(pol) + (f)->off))

static const char *check_string(const field_t *f, const char *v)
{
    const char *c;
    if (!*v) {
        return f->empty;
    }
    for (c = v; f->ok_char && *c; c++) {
        if (!f->ok_char((unsigned char)*c)) {
            return f->why;
        }
    }
    return NULL;
}

static const char *set_string(const field_t *f, apr_pool_t *p, vjwt_policy_t *pol, const char *v,
                              apr_array_header_t *notes)
{
    const char *err = check_string(f, v);
    if (!err) {
        *STR_AT(pol, f) = v;
    }
    return err;
}

static const char *set_source(const field_t *f, apr_pool_t *p, vjwt_policy_t *pol, const char *v,
                              apr_array_header_t *notes)
{
    const char *err = check_string(f, v);
    if (!err) {
        pol->source = (vjwt_source_e)f->min;
        pol->source_name = v;
    }
    return err;
}

/* An empty message means "use the default messages" (docs/conformance.md#policy-files). The
 * message goes into a JSON body, so it must be UTF-8. */
static const char *set_message(const field_t *f, apr_pool_t *p, vjwt_policy_t *pol, const char *v,
                               apr_array_header_t *notes)
{
    if (!vjwt_is_utf8(v)) {
        return "is not valid UTF-8 (the message goes into a JSON body); save the "
               "configuration as UTF-8";
    }
    pol->error_message = *v ? v : NULL;
    return NULL;
}

static const char *set_option(const field_t *f, apr_pool_t *p, vjwt_policy_t *pol, const char *v,
                              apr_array_header_t *notes)
{
    return vjwt_parse_option(p, f->options, 1, v, INT_AT(pol, f));
}

static const char *set_status(const field_t *f, apr_pool_t *p, vjwt_policy_t *pol, const char *v,
                              apr_array_header_t *notes)
{
    return vjwt_parse_status(v, &pol->status);
}

static const char *set_number(const field_t *f, apr_pool_t *p, vjwt_policy_t *pol, const char *v,
                              apr_array_header_t *notes)
{
    int n = 0;
    if (vjwt_parse_seconds(v, f->max, &n) || n < f->min) {
        return f->why;
    }
    *INT_AT(pol, f) = n;
    return NULL;
}

static const char *set_skew(const field_t *f, apr_pool_t *p, vjwt_policy_t *pol, const char *v,
                            apr_array_header_t *notes)
{
    const char *err = vjwt_parse_seconds(v, MAX_SKEW, &pol->clock_skew);
    if (!err && pol->clock_skew > WARN_SKEW) {
        note(p, notes, VJWT_LOG_WARN, VJWT_TAG(00001), f->field,
             "more than 600 seconds of clock skew lets expired tokens through for a long time");
    }
    return err;
}

static const char *set_alg(const field_t *f, apr_pool_t *p, vjwt_policy_t *pol, const char *v,
                           apr_array_header_t *notes)
{
    if (!strcmp(v, "none")) {
        return "cannot allow unsigned tokens; turn off the signed-token requirement "
               "(ValidateJWTRequireSignedTokens Off) for that";
    }
    return vjwt_parse_alg_list(v, &pol->alg_mask);
}

/* RFC 9110 section 5.6.2 token characters. */
static int header_char(int c)
{
    return apr_isgraph(c) && !strchr("()<>@,;:\\\"/[]?={}", c);
}

static int scheme_char(int c)
{
    return apr_isgraph(c);
}

static int var_char(int c)
{
    return apr_isalnum(c) || c == '_' || c == '-' || c == '.';
}

/* A quoted-string of WWW-Authenticate (RFC 9110 section 5.6.4) without escapes. */
static int realm_char(int c)
{
    return c != '"' && c != '\\' && !apr_iscntrl(c);
}

/* none|headers|environment|both and/or payload, as words: "environment payload". */
static const char *set_pass(const field_t *f, apr_pool_t *p, vjwt_policy_t *pol, const char *v,
                            apr_array_header_t *notes)
{
    char *words = apr_pstrdup(p, v), *last = NULL, *w;
    int out = 0, n = 0, none = 0;
    for (w = apr_strtok(words, " \t", &last); w; w = apr_strtok(NULL, " \t", &last)) {
        int bits = 0;
        const char *err = vjwt_parse_option(p, f->options, 1, w, &bits);
        if (err) {
            return err;
        }
        none |= bits == VJWT_PASS_NONE;
        out |= bits;
        n++;
    }
    if (n == 0) {
        return apr_pstrcat(p, "must be ", vjwt_option_names(p, f->options), NULL);
    }
    if (none && n > 1) {
        return "none cannot be combined with other choices";
    }
    pol->pass_claims = out;
    return NULL;
}

/* One accepted typ, added to the list (a directive may give several). */
static const char *set_type(const field_t *f, apr_pool_t *p, vjwt_policy_t *pol, const char *v,
                            apr_array_header_t *notes)
{
    const char *err = vjwt_token_type_check(v);
    if (err) {
        return err;
    }
    if (!pol->token_types) {
        pol->token_types = apr_array_make(p, 2, sizeof(const char *));
    }
    APR_ARRAY_PUSH(pol->token_types, const char *) = v;
    return NULL;
}

static const char *set_claim_name(const field_t *f, apr_pool_t *p, vjwt_policy_t *pol,
                                  const char *v, apr_array_header_t *notes)
{
    const char *err = vjwt_claim_name_check(v);
    if (!err) {
        *STR_AT(pol, f) = v;
    }
    return err;
}

#define AT(m) APR_OFFSETOF(vjwt_policy_t, m)

static const field_t fields[] = {
    {VJWT_F_HEADER_NAME, set_source, 0, VJWT_SRC_HEADER, 0, NULL, header_char,
     "is not a valid HTTP header name", "empty header name"},
    {VJWT_F_QUERY_NAME, set_source, 0, VJWT_SRC_QUERY, 0, NULL, NULL, NULL, "empty parameter name"},
    {VJWT_F_TOKEN_VALUE, set_source, 0, VJWT_SRC_VALUE, 0, NULL, NULL, NULL, "empty token value"},
    {VJWT_F_REQUIRE_SCHEME, set_string, AT(require_scheme), 0, 0, NULL, scheme_char,
     "is not a valid authentication scheme name", "empty scheme"},
    {VJWT_F_STATUS, set_status, AT(status), 0, 0, NULL, NULL, NULL, NULL},
    {VJWT_F_ERROR_MESSAGE, set_message, AT(error_message), 0, 0, NULL, NULL, NULL, NULL},
    {VJWT_F_REQUIRE_EXP, set_option, AT(require_exp), 0, 0, vjwt_bool_options, NULL, NULL, NULL},
    {VJWT_F_REQUIRE_SIGNED, set_option, AT(require_signed), 0, 0, vjwt_bool_options, NULL, NULL,
     NULL},
    {VJWT_F_CLOCK_SKEW, set_skew, AT(clock_skew), 0, MAX_SKEW, NULL, NULL, NULL, NULL},
    {VJWT_F_OUTPUT_VAR, set_string, AT(output_var), 0, 0, NULL, var_char,
     "must be made of letters, digits, '_', '-' and '.'", "empty name"},
    {VJWT_F_ID, set_string, AT(id), 0, 0, NULL, NULL, NULL, NULL},
    {VJWT_F_ALGORITHM, set_alg, AT(alg_mask), 0, 0, NULL, NULL, NULL, NULL},
    {VJWT_F_REMOTE_USER_CLAIM, set_claim_name, AT(remote_user_claim), 0, 0, NULL, NULL, NULL,
     "empty claim name"},
    {VJWT_F_PASS_CLAIMS, set_pass, AT(pass_claims), 0, 0, vjwt_pass_options, NULL, NULL, NULL},
    {VJWT_F_WWW_AUTHENTICATE, set_option, AT(www_authenticate), 0, 0, vjwt_bool_options, NULL, NULL,
     NULL},
    {VJWT_F_REALM, set_string, AT(realm), 0, 0, NULL, realm_char,
     "must not hold quotes, backslashes or control characters", NULL},
    {VJWT_F_MIN_RSA_BITS, set_number, AT(min_rsa_bits), 1024, 16384, NULL, NULL,
     "must be a number of bits from 1024 to 16384", NULL},
    {VJWT_F_AUD_SLASH, set_option, AT(aud_ignore_trailing_slash), 0, 0, vjwt_bool_options, NULL,
     NULL, NULL},
    {VJWT_F_MAX_TOKEN_LEN, set_number, AT(max_token_len), 64, 1024 * 1024, NULL, NULL,
     "must be a number of bytes from 64 to 1048576", NULL},
    {VJWT_F_COOKIE_NAME, set_source, 0, VJWT_SRC_COOKIE, 0, NULL, header_char,
     "is not a valid cookie name", "empty cookie name"},
    {VJWT_F_FORWARD_TOKEN, set_option, AT(forward_token), 0, 0, vjwt_bool_options, NULL, NULL,
     NULL},
    {VJWT_F_TOKEN_TYPE, set_type, AT(token_types), 0, 0, NULL, NULL, NULL, NULL},
    {VJWT_F_MAX_TOKEN_AGE, set_number, AT(max_token_age), 0, 31536000, NULL, NULL,
     "must be a number of seconds from 0 to 31536000", NULL},
};

const char *vjwt_policy_set(apr_pool_t *p, vjwt_policy_t *pol, vjwt_field_e field,
                            const char *value, apr_array_header_t *notes)
{
    apr_size_t i;
    for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (fields[i].field == field) {
            return fields[i].set(&fields[i], p, pol, value, notes);
        }
    }
    return "is not a settable field";
}

const char *vjwt_policy_add_claim_header(apr_pool_t *p, vjwt_policy_t *pol, const char *claim,
                                         const char *header)
{
    static const char *const reserved[] = {"Authorization",
                                           "Proxy-Authorization",
                                           "Cookie",
                                           "Host",
                                           "Content-Length",
                                           "Content-Type",
                                           "Content-Encoding",
                                           "Transfer-Encoding",
                                           "Connection",
                                           "Keep-Alive",
                                           "TE",
                                           "Trailer",
                                           "Upgrade",
                                           "Expect",
                                           "X-JWT-Payload",
                                           NULL};
    vjwt_claim_header_t *ch;
    const char *err = vjwt_claim_name_check(claim), *c;
    int i;
    if (err) {
        return err;
    }
    if (!*header) {
        return "empty header name";
    }
    for (c = header; *c; c++) {
        if (!header_char((unsigned char)*c)) {
            return "is not a valid HTTP header name";
        }
    }
    for (i = 0; reserved[i]; i++) {
        if (!strcasecmp(header, reserved[i])) {
            return "is a header the module or httpd needs as the client sent it (credentials, "
                   "cookies, message framing, X-JWT-Payload); choose another name";
        }
    }
    ch = apr_palloc(p, sizeof(*ch));
    ch->claim = claim;
    ch->header = header;
    if (!pol->claim_headers) {
        pol->claim_headers = apr_array_make(p, 2, sizeof(vjwt_claim_header_t *));
    }
    APR_ARRAY_PUSH(pol->claim_headers, vjwt_claim_header_t *) = ch;
    return NULL;
}

/* ------------------------------------------------------------------------------------ */
/* whole-policy checks, APIM defaults and the policy-file overlay                        */

static int has_any(const apr_array_header_t *a)
{
    return a && a->nelts > 0;
}

void vjwt_policy_check(apr_pool_t *p, const vjwt_policy_t *pol, unsigned what,
                       apr_array_header_t *notes)
{
    if ((what & VJWT_CHECK_SCHEME) && pol->require_scheme && *pol->require_scheme &&
        pol->source != VJWT_SRC_UNSET &&
        !(pol->source == VJWT_SRC_HEADER && !strcasecmp(pol->source_name, "Authorization"))) {
        note(p, notes, VJWT_LOG_WARN, VJWT_TAG(00016), VJWT_F_REQUIRE_SCHEME,
             "has no effect unless the token comes from the Authorization header");
    }
    if ((what & VJWT_CHECK_KEYS) && !has_any(pol->keys) && !has_any(pol->sources)) {
        note(p, notes, VJWT_LOG_WARN, VJWT_TAG(00017), VJWT_F_NONE,
             "no signing key and no key source: every signed token will be rejected");
    }
}

void vjwt_policy_apim_defaults(vjwt_policy_t *pol)
{
    if (pol->status == VJWT_UNSET) {
        pol->status = 401;
    }
    if (pol->require_exp == VJWT_UNSET) {
        pol->require_exp = 1;
    }
    if (pol->require_signed == VJWT_UNSET) {
        pol->require_signed = 1;
    }
    if (pol->clock_skew == VJWT_UNSET) {
        pol->clock_skew = 0;
    }
}

static apr_array_header_t *or_empty(apr_pool_t *p, apr_array_header_t *a, int elt_size)
{
    return a ? a : apr_array_make(p, 1, elt_size);
}

void vjwt_policy_overlay(apr_pool_t *p, vjwt_policy_t *dst, const vjwt_policy_t *src)
{
    dst->source = src->source;
    dst->source_name = src->source_name;
    dst->require_scheme = src->require_scheme ? src->require_scheme : "";
    dst->status = src->status;
    dst->error_message = src->error_message ? src->error_message : "";
    dst->require_exp = src->require_exp;
    dst->require_signed = src->require_signed;
    dst->clock_skew = src->clock_skew;
    vjwt_policy_apim_defaults(dst);
    dst->output_var = src->output_var ? src->output_var : "";
    dst->id = src->id ? src->id : "";
    dst->keys = or_empty(p, src->keys, sizeof(void *));
    dst->decryption_keys = or_empty(p, src->decryption_keys, sizeof(void *));
    dst->audiences = or_empty(p, src->audiences, sizeof(const char *));
    dst->issuers = or_empty(p, src->issuers, sizeof(const char *));
    dst->claims = or_empty(p, src->claims, sizeof(vjwt_claim_req_t *));
    dst->sources = apr_array_make(p, 1, sizeof(void *));
    dst->enabled = 1;
}
