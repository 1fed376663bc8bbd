/*
 * test_policy_xml.c - the <validate-jwt> XML reader (src/vjwt_policy_xml.c): a bare
 * element, <policies>/<inbound> selection, every attribute and its error message with the
 * line number, DOCTYPE/entity refusal, the size cap, {{named values}}, policy expressions,
 * <issuer-signing-keys>, <decryption-keys>, <required-claims>, <audiences>, <issuers> and
 * <openid-config>. README.md describes the accepted subset.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <apr_strings.h>
#include <openssl/core_names.h>

#include "vjwt_jwe.h"
#include "vjwt_policy_xml.h"
#include "vjwt_jwk.h"

#define POOL ((apr_pool_t *)*state)

/* "0123456789abcdef0123456789abcdef": a 32-byte HMAC secret. */
#define SECRET32_B64 "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

static EVP_PKEY *g_rsa;

static int group_setup(void **state)
{
    (void)state;
    vjwt_test_init();
    g_rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    return g_rsa ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    EVP_PKEY_free(g_rsa);
    return 0;
}

/* Named values for the tests: a small fixed table. */
static const char *named(void *baton, const char *name)
{
    static const char *const table[][2] = {
        {"hdr", "X-Token"},        {"aud", "api://one"},
        {"tricky", "a\"b<c>&d'e"}, {"multi", "line1\nline2\nline3"},
        {"secret", SECRET32_B64},
    };
    size_t i;
    (void)baton;
    for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        if (!strcmp(table[i][0], name)) {
            return table[i][1];
        }
    }
    return NULL;
}

static vjwt_xml_result_t *parse_ok(apr_pool_t *p, const char *xml, const char *select_id)
{
    vjwt_xml_result_t *r = apr_pcalloc(p, sizeof(*r));
    const char *err = NULL;
    if (vjwt_policy_xml_parse(r, p, "t.xml", xml, strlen(xml), select_id, named, NULL, &err) !=
        APR_SUCCESS) {
        fail_msg("parse failed: %s\n--- %s", err ? err : "(no error)", xml);
    }
    return r;
}

/* The parse fails with an error that starts "t.xml:LINE: " (line 0: "t.xml: ") and holds
 * want. */
static void parse_err(apr_pool_t *p, const char *xml, const char *select_id, int line,
                      const char *want)
{
    vjwt_xml_result_t r;
    const char *err = NULL;
    const char *prefix = line ? apr_psprintf(p, "t.xml:%d: ", line) : "t.xml: ";
    apr_status_t rv =
        vjwt_policy_xml_parse(&r, p, "t.xml", xml, strlen(xml), select_id, named, NULL, &err);
    if (rv == APR_SUCCESS) {
        fail_msg("parse succeeded, expected '%s'\n--- %s", want, xml);
    }
    assert_non_null(err);
    if (strncmp(err, prefix, strlen(prefix)) != 0) {
        fail_msg("expected '%s' at the start of '%s'", prefix, err);
    }
    assert_contains(err, want);
}

/* The result has a warning that holds want. */
static void assert_warning(const vjwt_xml_result_t *r, const char *want)
{
    int i;
    for (i = 0; i < r->warnings->nelts; i++) {
        if (strstr(APR_ARRAY_IDX(r->warnings, i, const char *), want)) {
            return;
        }
    }
    fail_msg("no warning with '%s' (%d warnings)", want, r->warnings->nelts);
}

/* One parse_err() per case: fmt holds one %s for the case's XML. */
typedef struct {
    const char *xml;
    int line;
    const char *want;
} err_case_t;

static void parse_err_cases(apr_pool_t *p, const char *fmt, const err_case_t *cases, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        parse_err(p, apr_psprintf(p, fmt, cases[i].xml), NULL, cases[i].line, cases[i].want);
    }
}

#define NCASES(a) (sizeof(a) / sizeof((a)[0]))

static const char *str_at(const apr_array_header_t *a, int i)
{
    return APR_ARRAY_IDX(a, i, const char *);
}

static const vjwt_key_t *key_at(const vjwt_policy_t *pol, int i)
{
    return APR_ARRAY_IDX(pol->keys, i, const vjwt_key_t *);
}

/* ---- a bare <validate-jwt> ------------------------------------------------------------- */

static void t_bare(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_xml_result_t *r = parse_ok(p, "<validate-jwt header-name=\"Authorization\"/>", NULL);
    assert_int_equal(r->pol->source, VJWT_SRC_HEADER);
    assert_string_equal(r->pol->source_name, "Authorization");
    /* every APIM field is set: the defaults */
    assert_int_equal(r->pol->status, 401);
    assert_int_equal(r->pol->require_exp, 1);
    assert_int_equal(r->pol->require_signed, 1);
    assert_int_equal(r->pol->clock_skew, 0);
    assert_null(r->pol->error_message);
    assert_null(r->pol->require_scheme);
    assert_null(r->pol->output_var);
    assert_null(r->pol->id);
    assert_null(r->pol->keys);
    assert_null(r->pol->audiences);
    assert_null(r->pol->issuers);
    assert_null(r->pol->claims);
    assert_string_equal(r->file, "t.xml");
    assert_int_equal(r->line, 1);
    assert_int_equal(r->openid->nelts, 0);
    assert_int_equal(r->certrefs->nelts, 0);
    assert_warning(r, "t.xml:1: validate-jwt: no signing key and no key source: every signed token "
                      "will be rejected (add <issuer-signing-keys> or <openid-config>)");

    /* the XML declaration, comments and blank text are fine */
    r = parse_ok(p,
                 "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<!-- a comment -->\n"
                 "<validate-jwt query-parameter-name=\"access_token\">\n  <!-- inside -->\n"
                 "</validate-jwt>\n",
                 NULL);
    assert_int_equal(r->pol->source, VJWT_SRC_QUERY);
    assert_string_equal(r->pol->source_name, "access_token");
    assert_int_equal(r->line, 3);

    r = parse_ok(p, "<validate-jwt token-value=\"eyJ.x.y\"/>", NULL);
    assert_int_equal(r->pol->source, VJWT_SRC_VALUE);
    assert_string_equal(r->pol->source_name, "eyJ.x.y");
}

static void t_all_attributes(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_xml_result_t *r = parse_ok(
        p,
        "<validate-jwt header-name=\"Authorization\" failed-validation-httpcode=\"403\"\n"
        "    failed-validation-error-message=\"Go away\" require-expiration-time=\"false\"\n"
        "    require-scheme=\"Bearer\" require-signed-tokens=\"FALSE\" clock-skew=\"120\"\n"
        "    output-token-variable-name=\"jwt.out_1-x\" id=\"main\">\n"
        "  <openid-config url=\"https://idp.example/.well-known/openid-configuration\"/>\n"
        "</validate-jwt>",
        NULL);
    assert_int_equal(r->pol->status, 403);
    assert_string_equal(r->pol->error_message, "Go away");
    assert_int_equal(r->pol->require_exp, 0);
    assert_string_equal(r->pol->require_scheme, "Bearer");
    assert_int_equal(r->pol->require_signed, 0);
    assert_int_equal(r->pol->clock_skew, 120);
    assert_string_equal(r->pol->output_var, "jwt.out_1-x");
    assert_string_equal(r->pol->id, "main");
    assert_int_equal(r->warnings->nelts, 0);

    /* booleans in any case; an empty error message is no message */
    r = parse_ok(p,
                 "<validate-jwt header-name=\"h\" require-expiration-time=\"True\" "
                 "require-signed-tokens=\"tRuE\" failed-validation-error-message=\"\"/>",
                 NULL);
    assert_int_equal(r->pol->require_exp, 1);
    assert_int_equal(r->pol->require_signed, 1);
    assert_null(r->pol->error_message);
}

static void t_attribute_warnings(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_xml_result_t *r =
        parse_ok(p, "<validate-jwt\n query-parameter-name=\"t\" require-scheme=\"Bearer\"/>", NULL);
    /* libxml2 numbers an element by the line its start tag ends on */
    assert_warning(r, "t.xml:2: validate-jwt/@require-scheme: has no effect unless the token "
                      "comes from the Authorization header");
    r = parse_ok(p, "<validate-jwt header-name=\"X-Token\" require-scheme=\"Bearer\"/>", NULL);
    assert_warning(r, "has no effect unless");
    r = parse_ok(p, "<validate-jwt header-name=\"authorization\" require-scheme=\"Bearer\"/>",
                 NULL);
    assert_warning(r, "no signing key and no key source");
    assert_int_equal(r->warnings->nelts, 1);

    r = parse_ok(p, "<validate-jwt header-name=\"h\" clock-skew=\"601\"/>", NULL);
    assert_warning(r, "validate-jwt/@clock-skew: more than 600 seconds of clock skew");
    r = parse_ok(p, "<validate-jwt header-name=\"h\" clock-skew=\"600\"/>", NULL);
    assert_int_equal(r->warnings->nelts, 1); /* only "no keys" */
}

static void t_attribute_errors(void **state)
{
    static const err_case_t cases[] = {
        {"", 3, "validate-jwt: no token source; add exactly one of header-name=\"Authorization\""},
        {"header-name=\"a\" query-parameter-name=\"b\"", 3,
         "validate-jwt: header-name, query-parameter-name and token-value exclude each other"},
        {"header-name=\"a\" token-value=\"b\"", 3, "exclude each other"},
        {"query-parameter-name=\"a\" token-value=\"b\"", 3, "exclude each other"},
        {"header-name=\"\"", 3, "validate-jwt/@header-name: empty header name"},
        {"query-parameter-name=\"\"", 3,
         "validate-jwt/@query-parameter-name: empty parameter name"},
        {"token-value=\"\"", 3, "validate-jwt/@token-value: empty token value"},
        {"header-name=\"h\" require-scheme=\"\"", 3, "validate-jwt/@require-scheme: empty scheme"},
        {"header-name=\"h\" failed-validation-httpcode=\"200\"", 3,
         "validate-jwt/@failed-validation-httpcode: '200' must be an HTTP status code from 400 "
         "to 599"},
        {"header-name=\"h\" failed-validation-httpcode=\"4O1\"", 3, "'4O1' must be an HTTP status"},
        {"header-name=\"h\" failed-validation-httpcode=\"600\"", 3, "'600' must be an HTTP status"},
        {"header-name=\"h\" clock-skew=\"-1\"", 3,
         "validate-jwt/@clock-skew: '-1' must be a whole, non-negative number of seconds"},
        {"header-name=\"h\" clock-skew=\"1.5\"", 3, "'1.5' must be a whole"},
        {"header-name=\"h\" clock-skew=\"86401\"", 3, "'86401' is larger than allowed"},
        {"header-name=\"h\" require-expiration-time=\"yes\"", 3,
         "validate-jwt/@require-expiration-time: 'yes' is not a boolean; use true or false"},
        {"header-name=\"h\" require-signed-tokens=\"1\"", 3,
         "validate-jwt/@require-signed-tokens: '1' is not a boolean"},
        {"header-name=\"h\" output-token-variable-name=\"\"", 3,
         "validate-jwt/@output-token-variable-name: empty name"},
        {"header-name=\"h\" output-token-variable-name=\"a b\"", 3,
         "validate-jwt/@output-token-variable-name: 'a b' must be made of letters, digits"},
        {"header-name=\"h\" output-token-variable-name=\"a;b\"", 3,
         "'a;b' must be made of letters"},
        {"header-name=\"h\" foo=\"bar\"", 3,
         "validate-jwt/@foo: unknown attribute; <validate-jwt> accepts header-name, "
         "query-parameter-name, token-value"},
    };
    /* the element is on line 3: the error names it */
    parse_err_cases(POOL, "<!-- one -->\n\n<validate-jwt %s/>\n", cases, NCASES(cases));
}

/* ---- <policies> ------------------------------------------------------------------------ */

static const char TWO_POLICIES[] = "<policies>\n"
                                   "  <inbound>\n"
                                   "    <base/>\n"
                                   "    <validate-jwt id=\"a\" header-name=\"A\"/>\n"
                                   "    <choose><when condition=\"x\">\n"
                                   "      <validate-jwt id=\"b\" header-name=\"B\"/>\n"
                                   "    </when></choose>\n"
                                   "  </inbound>\n"
                                   "  <backend><base/></backend>\n"
                                   "</policies>\n";

static void t_policies(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_xml_result_t *r;

    r = parse_ok(p, TWO_POLICIES, "b");
    assert_string_equal(r->pol->id, "b");
    assert_string_equal(r->pol->source_name, "B");
    assert_int_equal(r->line, 6);
    r = parse_ok(p, TWO_POLICIES, "a");
    assert_string_equal(r->pol->source_name, "A");
    assert_int_equal(r->line, 4);

    parse_err(p, TWO_POLICIES, NULL, 1,
              "policies: 2 <validate-jwt> elements in <inbound> (line 4 (id a), line 6 (id b)); "
              "give each an id and pick one with ValidateJWTPolicy FILE id=ID");
    parse_err(p, TWO_POLICIES, "c", 1, "policies: no <validate-jwt id=\"c\"> in <inbound>");

    /* one policy: no id needed */
    r = parse_ok(p,
                 "<policies><inbound><validate-jwt header-name=\"A\"/></inbound>"
                 "<outbound/></policies>",
                 NULL);
    assert_string_equal(r->pol->source_name, "A");

    parse_err(p,
              "<policies>\n<inbound/>\n<outbound>\n<validate-jwt header-name=\"A\"/>\n"
              "</outbound>\n</policies>",
              NULL, 4, "policies: <validate-jwt> is only allowed in <inbound>");
    parse_err(p, "<policies>\n<inbound><base/></inbound>\n</policies>", NULL, 1,
              "policies: no <validate-jwt> in <inbound>");
    parse_err(p, "<policies/>", NULL, 1, "no <validate-jwt> in <inbound>");
    parse_err(p, "\n<check-header name=\"x\"/>", NULL, 2,
              "check-header: the file must hold a <validate-jwt> element or an APIM <policies> "
              "document");
    parse_err(p, "<validate-azure-ad-token tenant-id=\"x\"/>", NULL, 1,
              "validate-azure-ad-token: <validate-azure-ad-token> is not supported");
}

/* ---- XML safety: DOCTYPE, entities, NUL, size ---------------------------------------- */

static void t_doctype_and_entities(void **state)
{
    apr_pool_t *p = POOL;
    parse_err(p,
              "<?xml version=\"1.0\"?>\n<!DOCTYPE validate-jwt [<!ENTITY x \"Authorization\">]>\n"
              "<validate-jwt header-name=\"&x;\"/>",
              NULL, 0, "a DOCTYPE is not allowed in a policy file (no DTDs or external entities)");
    parse_err(p,
              "<!DOCTYPE validate-jwt SYSTEM \"file:///etc/passwd\">"
              "<validate-jwt header-name=\"h\"/>",
              NULL, 0, "a DOCTYPE is not allowed");
    /* an entity without a DTD is not well-formed, and nothing is read from anywhere */
    parse_err(p, "<validate-jwt\n header-name=\"&xxe;\"/>", NULL, 2, "not well-formed XML");
    /* the predefined entities and character references are plain XML */
    {
        vjwt_xml_result_t *r =
            parse_ok(p, "<validate-jwt query-parameter-name=\"a&amp;b&#65;&lt;\"/>", NULL);
        assert_string_equal(r->pol->source_name, "a&bA<");
    }
    parse_err(p, "<validate-jwt header-name=\"h\">\n\n</validate", NULL, 3, "not well-formed XML");
    parse_err(p, "", NULL, 1, "not well-formed XML");
}

static void t_nul_and_size(void **state)
{
    apr_pool_t *p = POOL;
    static const char head[] = "<validate-jwt header-name=\"h\"><!--";
    static const char tail[] = "--></validate-jwt>";
    vjwt_xml_result_t r;
    const char *err = NULL;
    char nul[] = "<validate-jwt header-name=\"h\"/>\0";
    apr_size_t max = VJWT_POLICY_XML_MAX_SIZE, n;
    char *big = apr_palloc(p, max + 2);

    assert_int_equal(
        vjwt_policy_xml_parse(&r, p, "t.xml", nul, sizeof(nul), NULL, named, NULL, &err),
        APR_EINVAL);
    assert_string_equal(err, "t.xml: the policy file holds a NUL byte");

    /* exactly the cap: a comment fills it up */
    memset(big, 'x', max + 1);
    memcpy(big, head, strlen(head));
    memcpy(big + max - strlen(tail), tail, strlen(tail));
    big[max] = 0;
    n = strlen(big);
    assert_int_equal(n, max);
    assert_int_equal(vjwt_policy_xml_parse(&r, p, "t.xml", big, n, NULL, named, NULL, &err),
                     APR_SUCCESS);

    /* one byte more */
    memcpy(big + max + 1 - strlen(tail), tail, strlen(tail));
    big[max + 1] = 0;
    err = NULL;
    assert_int_equal(vjwt_policy_xml_parse(&r, p, "t.xml", big, max + 1, NULL, named, NULL, &err),
                     APR_EINVAL);
    assert_string_equal(err, apr_psprintf(p, "t.xml: the policy file is larger than %d bytes",
                                          VJWT_POLICY_XML_MAX_SIZE));
}

/* ---- {{named values}} ------------------------------------------------------------------ */

static void t_named_values(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_xml_result_t *r;

    r = parse_ok(p,
                 "<validate-jwt header-name=\"{{hdr}}\" id=\"{{ tricky }}\">\n"
                 "  <audiences><audience>{{aud}}</audience></audiences>\n"
                 "  <issuer-signing-keys><key>{{secret}}</key></issuer-signing-keys>\n"
                 "</validate-jwt>",
                 NULL);
    assert_string_equal(r->pol->source_name, "X-Token");
    /* the value is XML-escaped before parsing: markup in it stays text */
    assert_string_equal(r->pol->id, "a\"b<c>&d'e");
    assert_string_equal(str_at(r->pol->audiences, 0), "api://one");
    assert_int_equal(key_at(r->pol, 0)->secret_len, 32);

    /* a value with newlines keeps the line numbers of what follows */
    parse_err(p,
              "<validate-jwt header-name=\"h\" id=\"{{multi}}\">\n"
              "  <audiences>\n"
              "    <audience/>\n"
              "  </audiences>\n"
              "</validate-jwt>",
              NULL, 3, "validate-jwt/audiences/audience[1]: empty <audience>");
    r = parse_ok(p, "<validate-jwt header-name=\"h\" id=\"{{multi}}\"/>", NULL);
    assert_string_equal(r->pol->id, "line1\nline2\nline3");

    parse_err(p, "<validate-jwt\n header-name=\"{{nope}}\"/>", NULL, 2,
              "the named value {{nope}} is not defined; add 'ValidateJWTNamedValue nope VALUE' "
              "to the server configuration before this line");
    parse_err(p, "<validate-jwt\n\n header-name=\"{{hdr\"/>", NULL, 3,
              "'{{' without a matching '}}'");
    parse_err(p, "<validate-jwt header-name=\"{{a b}}\"/>", NULL, 1,
              "'{{a b}}' is not a named value (names use letters, digits, '-', '.' and '_')");
    parse_err(p, "<validate-jwt header-name=\"{{}}\"/>", NULL, 1,
              "the named value {{}} is not defined");

    /* without a lookup function every name is undefined */
    {
        vjwt_xml_result_t res;
        const char *err = NULL;
        static const char xml[] = "<validate-jwt header-name=\"{{hdr}}\"/>";
        assert_int_equal(
            vjwt_policy_xml_parse(&res, p, "t.xml", xml, strlen(xml), NULL, NULL, NULL, &err),
            APR_EINVAL);
        assert_contains(err, "the named value {{hdr}} is not defined");
    }
}

/* ---- policy expressions ------------------------------------------------------------------ */

static void t_policy_expressions(void **state)
{
    apr_pool_t *p = POOL;
    parse_err(p, "<validate-jwt\n header-name=\"@(context.Request.Headers['x'])\"/>", NULL, 2,
              "validate-jwt/@header-name: policy expressions (\"@(...)\", \"@{...}\") are not "
              "supported by mod_validate_jwt; use a literal value (or a {{named value}} set with "
              "ValidateJWTNamedValue)");
    parse_err(p, "<validate-jwt token-value=\"@(context.Request.Headers['x'])\"/>", NULL, 1,
              "validate-jwt/@token-value: policy expressions");
    parse_err(p, "<validate-jwt token-value=\"@{ return 1; }\"/>", NULL, 1,
              "use a literal value or take the token with header-name or query-parameter-name");
    parse_err(p, "<validate-jwt header-name=\"h\" clock-skew=\"  @(1)\"/>", NULL, 1,
              "validate-jwt/@clock-skew: policy expressions");
    parse_err(p,
              "<validate-jwt header-name=\"h\">\n <audiences>\n"
              "  <audience>\n   @(context.Api.Name)\n  </audience>\n </audiences>\n"
              "</validate-jwt>",
              NULL, 3, "validate-jwt/audiences/audience[1]: policy expressions");
    parse_err(p,
              "<validate-jwt header-name=\"h\"><required-claims><claim name=\"@(x)\"/>"
              "</required-claims></validate-jwt>",
              NULL, 1, "validate-jwt/required-claims/claim[1]/@name: policy expressions");
    /* "@" elsewhere is a literal */
    {
        vjwt_xml_result_t *r =
            parse_ok(p,
                     "<validate-jwt header-name=\"h\"><issuers><issuer>a@(b)</issuer></issuers>"
                     "</validate-jwt>",
                     NULL);
        assert_string_equal(str_at(r->pol->issuers, 0), "a@(b)");
    }
}

/* ---- <issuer-signing-keys> ------------------------------------------------------------- */

static void t_keys(void **state)
{
    apr_pool_t *p = POOL;
    const char *n = bn_b64url(p, g_rsa, OSSL_PKEY_PARAM_RSA_N);
    const char *e = bn_b64url(p, g_rsa, OSSL_PKEY_PARAM_RSA_E);
    const vjwt_xml_certref_t *ref;
    vjwt_xml_result_t *r = parse_ok(p,
                                    apr_psprintf(p,
                                                 "<validate-jwt header-name=\"h\">\n"
                                                 "  <issuer-signing-keys>\n"
                                                 "    <key id=\"hs\">  " SECRET32_B64 "  </key>\n"
                                                 "    <key id=\"rsa\" n=\"%s\" e=\"%s\"/>\n"
                                                 "    <key certificate-id=\"my-cert\" id=\"c\"/>\n"
                                                 "    <key certificate-id=\"other\"></key>\n"
                                                 "  </issuer-signing-keys>\n"
                                                 "</validate-jwt>",
                                                 n, e),
                                    NULL);
    assert_int_equal(r->pol->keys->nelts, 4);
    assert_int_equal(key_at(r->pol, 0)->kty, VJWT_KTY_OCT);
    assert_string_equal(key_at(r->pol, 0)->kid, "hs");
    assert_int_equal(key_at(r->pol, 0)->secret_len, 32);
    assert_memory_equal(key_at(r->pol, 0)->secret, "0123456789abcdef0123456789abcdef", 32);
    assert_string_equal(key_at(r->pol, 0)->source, "policy secret");
    assert_int_equal(key_at(r->pol, 1)->kty, VJWT_KTY_RSA);
    assert_string_equal(key_at(r->pol, 1)->kid, "rsa");
    assert_int_equal(key_at(r->pol, 1)->bits, 2048);
    /* certificate-id: a placeholder the caller fills */
    assert_null(key_at(r->pol, 2));
    assert_null(key_at(r->pol, 3));
    assert_int_equal(r->certrefs->nelts, 2);
    ref = &APR_ARRAY_IDX(r->certrefs, 0, vjwt_xml_certref_t);
    assert_string_equal(ref->cert_id, "my-cert");
    assert_string_equal(ref->kid, "c");
    assert_int_equal(ref->index, 2);
    assert_int_equal(ref->line, 5);
    ref = &APR_ARRAY_IDX(r->certrefs, 1, vjwt_xml_certref_t);
    assert_string_equal(ref->cert_id, "other");
    assert_null(ref->kid);
    assert_int_equal(ref->index, 3);
    assert_int_equal(ref->line, 6);
    assert_int_equal(r->warnings->nelts, 0);

    /* a short secret verifies nothing: a warning with its line */
    r = parse_ok(p,
                 "<validate-jwt header-name=\"h\">\n<issuer-signing-keys>\n"
                 "<key>c2VjcmV0</key>\n</issuer-signing-keys></validate-jwt>",
                 NULL);
    assert_warning(r, "t.xml:3: validate-jwt/issuer-signing-keys/key[1]: the HMAC secret has 6 "
                      "bytes; HS256 needs at least 32");
}

static void t_key_errors(void **state)
{
    static const err_case_t cases[] = {
        {"<key>not base64!</key>", 3,
         "validate-jwt/issuer-signing-keys/key[1]: the key text is not valid base64"},
        {"<key n=\"AQAB\"/>", 3, "key[1]: an RSA key needs both n and e (base64url)"},
        {"<key e=\"AQAB\"/>", 3, "key[1]: an RSA key needs both n and e"},
        {"<key n=\"AQAB\" e=\"AQAB\"/>", 3, "key[1]: invalid RSA key: "},
        {"<key certificate-id=\"\"/>", 3, "key[1]: empty certificate-id"},
        {"<key/>", 3,
         "key[1]: a key is exactly one of: base64 text (HMAC secret), certificate-id=\"...\", "
         "or n=\"...\" e=\"...\"; this one has none"},
        {"<key certificate-id=\"c\">" SECRET32_B64 "</key>", 3, "key[1]: a key is exactly one of"},
        {"<key certificate-id=\"c\" n=\"AQAB\" e=\"AQAB\"/>", 3, "this one has several"},
        {"<key kid=\"x\">" SECRET32_B64 "</key>", 3,
         "key[1]/@kid: unknown attribute; <key> accepts id, certificate-id, n, e"},
        {"<key><b/></key>", 3, "key[1]/b: unexpected element inside <key>; it holds text only"},
        {"<key certificate-id=\"c\"/><cert/>", 3,
         "issuer-signing-keys/cert[2]: unknown element; <issuer-signing-keys> holds <key> only"},
        {"text<key certificate-id=\"c\"/>", 3,
         "validate-jwt/issuer-signing-keys: unexpected text 'text'"},
        {"", 2, "validate-jwt/issuer-signing-keys: <issuer-signing-keys> needs at least one <key>"},
        {"<key certificate-id=\"c\"/></issuer-signing-keys>\n<issuer-signing-keys>"
         "<key certificate-id=\"d\"/>",
         4, "validate-jwt/issuer-signing-keys: <issuer-signing-keys> may appear only once"},
    };
    apr_pool_t *p = POOL;
    parse_err_cases(p,
                    "<validate-jwt header-name=\"h\">\n<issuer-signing-keys>\n%s"
                    "</issuer-signing-keys>\n</validate-jwt>",
                    cases, NCASES(cases));
    parse_err(p,
              "<validate-jwt header-name=\"h\">\n<issuer-signing-keys x=\"1\">\n"
              "<key certificate-id=\"c\"/></issuer-signing-keys></validate-jwt>",
              NULL, 2,
              "validate-jwt/issuer-signing-keys/@x: unknown attribute; <issuer-signing-keys> "
              "accepts no attributes");
}

static const vjwt_jwe_key_t *dkey_at(const vjwt_policy_t *pol, int i)
{
    return APR_ARRAY_IDX(pol->decryption_keys, i, const vjwt_jwe_key_t *);
}

/* <decryption-keys>: base64 symmetric keys (with id, from a named value) and certificate-id
 * placeholders recorded with the decryption flag. */
static void t_decryption_keys(void **state)
{
    apr_pool_t *p = POOL;
    const vjwt_xml_certref_t *ref;
    vjwt_xml_result_t *r = parse_ok(p,
                                    "<validate-jwt header-name=\"h\">\n"
                                    "  <issuer-signing-keys>\n"
                                    "    <key certificate-id=\"sig\"/>\n"
                                    "  </issuer-signing-keys>\n"
                                    "  <decryption-keys>\n"
                                    "    <key id=\"d1\">" SECRET32_B64 "</key>\n"
                                    "    <key>{{secret}}</key>\n"
                                    "    <key id=\"d3\" certificate-id=\"my-cert\"/>\n"
                                    "    <key>MDEyMzQ1Njc4OWFiY2RlZg==</key>\n"
                                    "  </decryption-keys>\n"
                                    "</validate-jwt>",
                                    NULL);
    assert_int_equal(r->pol->keys->nelts, 1);
    assert_int_equal(r->pol->decryption_keys->nelts, 4);
    assert_int_equal(dkey_at(r->pol, 0)->kind, VJWT_JWE_KEY_OCT);
    assert_string_equal(dkey_at(r->pol, 0)->kid, "d1");
    assert_int_equal(dkey_at(r->pol, 0)->secret_len, 32);
    assert_memory_equal(dkey_at(r->pol, 0)->secret, "0123456789abcdef0123456789abcdef", 32);
    assert_null(dkey_at(r->pol, 1)->kid);
    assert_int_equal(dkey_at(r->pol, 1)->secret_len, 32);
    assert_null(dkey_at(r->pol, 2));
    assert_int_equal(dkey_at(r->pol, 3)->secret_len, 16);
    assert_int_equal(r->certrefs->nelts, 2);
    ref = &APR_ARRAY_IDX(r->certrefs, 0, vjwt_xml_certref_t);
    assert_string_equal(ref->cert_id, "sig");
    assert_int_equal(ref->decryption, 0);
    assert_int_equal(ref->index, 0);
    ref = &APR_ARRAY_IDX(r->certrefs, 1, vjwt_xml_certref_t);
    assert_string_equal(ref->cert_id, "my-cert");
    assert_string_equal(ref->kid, "d3");
    assert_int_equal(ref->decryption, 1);
    assert_int_equal(ref->index, 2);
    assert_int_equal(ref->line, 8);
    assert_int_equal(r->warnings->nelts, 0);

    /* without <decryption-keys> none are set (vjwt_policy_overlay makes that an empty list) */
    r = parse_ok(p, "<validate-jwt header-name=\"h\"/>", NULL);
    assert_null(r->pol->decryption_keys);
}

static void t_decryption_key_errors(void **state)
{
    static const err_case_t cases[] = {
        {"<key n=\"AQAB\" e=\"AQAB\"/>", 3,
         "validate-jwt/decryption-keys/key[1]: n/e keys are signing keys only; a decryption key "
         "is base64 text or certificate-id"},
        {"<key n=\"AQAB\"/>", 3, "key[1]: n/e keys are signing keys only"},
        {"<key certificate-id=\"c\"/><key e=\"AQAB\">" SECRET32_B64 "</key>", 3,
         "key[2]: n/e keys are signing keys only"},
        {"<key>c2VjcmV0</key>", 3,
         "key[1]: a symmetric decryption key must be 16, 24, 32, 48 or 64 bytes (A*KW: "
         "16/24/32; dir: the enc's key length), got 6"},
        {"<key>not*base64!</key>", 3, "key[1]: the decryption key text is not"},
        {"<key>-----BEGIN PRIVATE KEY-----</key>", 3, "key[1]: the decryption key text"},
        {"<key certificate-id=\"c\">" SECRET32_B64 "</key>", 3,
         "key[1]: a decryption key is exactly one of: base64 text (a symmetric key) or "
         "certificate-id=\"...\"; this one has both"},
        {"<key/>", 3, "key[1]: a decryption key is exactly one of"},
        {"<key id=\"x\"></key>", 3, "this one has none"},
        {"<key certificate-id=\"\"/>", 3, "key[1]: empty certificate-id"},
        {"<key kid=\"x\">" SECRET32_B64 "</key>", 3,
         "key[1]/@kid: unknown attribute; <key> accepts id, certificate-id, n, e"},
        {"<secret>" SECRET32_B64 "</secret>", 3,
         "decryption-keys/secret[1]: unknown element; <decryption-keys> holds <key> only"},
        {"", 2, "validate-jwt/decryption-keys: <decryption-keys> needs at least one <key>"},
        {"<key>{{secret}}</key></decryption-keys>\n<decryption-keys><key>{{secret}}</key>", 4,
         "<decryption-keys> may appear only once"},
    };
    parse_err_cases(POOL,
                    "<validate-jwt header-name=\"h\">\n<decryption-keys>\n%s</decryption-keys>\n"
                    "</validate-jwt>",
                    cases, NCASES(cases));
}

/* ---- <audiences>, <issuers>, <openid-config>, other children -------------------------- */

static void t_lists_and_openid(void **state)
{
    apr_pool_t *p = POOL;
    const vjwt_xml_openid_t *o;
    vjwt_xml_result_t *r =
        parse_ok(p,
                 "<validate-jwt header-name=\"h\">\n"
                 "  <issuers><issuer> https://a/ </issuer><issuer>https://b/</issuer></issuers>\n"
                 "  <openid-config url=\"https://a/.well-known/openid-configuration\"/>\n"
                 "  <audiences><audience>api://x</audience></audiences>\n"
                 "  <openid-config url=\"https://b/.well-known/openid-configuration\"\n"
                 "                 validate-connectivity=\"false\"></openid-config>\n"
                 "</validate-jwt>",
                 NULL);
    assert_int_equal(r->pol->issuers->nelts, 2);
    assert_string_equal(str_at(r->pol->issuers, 0), "https://a/");
    assert_string_equal(str_at(r->pol->issuers, 1), "https://b/");
    assert_int_equal(r->pol->audiences->nelts, 1);
    assert_string_equal(str_at(r->pol->audiences, 0), "api://x");
    assert_int_equal(r->openid->nelts, 2);
    o = &APR_ARRAY_IDX(r->openid, 0, vjwt_xml_openid_t);
    assert_string_equal(o->url, "https://a/.well-known/openid-configuration");
    assert_int_equal(o->validate_connectivity, 1);
    assert_int_equal(o->line, 3);
    o = &APR_ARRAY_IDX(r->openid, 1, vjwt_xml_openid_t);
    assert_int_equal(o->validate_connectivity, 0);
    assert_int_equal(o->line, 6); /* where its start tag ends */
    assert_int_equal(r->warnings->nelts, 0);
}

static void t_child_errors(void **state)
{
    static const err_case_t cases[] = {
        {"<audiences/>", 2,
         "validate-jwt/audiences: <audiences> needs at least one <audience>; remove it to skip "
         "the check"},
        {"<issuers>\n</issuers>", 2, "validate-jwt/issuers: <issuers> needs at least one <issuer>"},
        {"<audiences>\n<audience> </audience></audiences>", 3,
         "validate-jwt/audiences/audience[1]: empty <audience>; give a value or remove the "
         "element"},
        {"<audiences><audience>a</audience>\n<issuer>b</issuer></audiences>", 3,
         "validate-jwt/audiences/issuer[2]: unknown element; <audiences> holds <audience> only"},
        {"<audiences x=\"1\"><audience>a</audience></audiences>", 2,
         "validate-jwt/audiences/@x: unknown attribute"},
        {"<audiences><audience a=\"1\">a</audience></audiences>", 2,
         "validate-jwt/audiences/audience[1]/@a: unknown attribute; <audience> accepts no "
         "attributes"},
        {"<audiences>a</audiences>", 2, "validate-jwt/audiences: unexpected text 'a'"},
        {"<audiences><audience>a</audience></audiences>\n<audiences><audience>b</audience>"
         "</audiences>",
         3, "validate-jwt/audiences: <audiences> may appear only once"},
        {"<openid-config/>", 2,
         "validate-jwt/openid-config: <openid-config> needs url=\"https://.../.well-known/"
         "openid-configuration\""},
        {"<openid-config url=\"https://a/\" validate-connectivity=\"no\"/>", 2,
         "validate-jwt/openid-config/@validate-connectivity: 'no' is not a boolean"},
        {"<openid-config url=\"https://a/\">\n<x/></openid-config>", 3,
         "validate-jwt/openid-config: <openid-config> has no child elements"},
        {"<openid-config url=\"https://a/\">text</openid-config>", 2,
         "validate-jwt/openid-config: unexpected text 'text'"},
        {"<openid-config url=\"https://a/\" metadata=\"x\"/>", 2,
         "validate-jwt/openid-config/@metadata: unknown attribute; <openid-config> accepts url, "
         "validate-connectivity"},
        {"<zumo-master-key id=\"x\">abc</zumo-master-key>", 2,
         "validate-jwt/zumo-master-key: <zumo-master-key> (Azure Mobile Services) is not "
         "supported; use <issuer-signing-keys>"},
        {"<audience>a</audience>", 2,
         "validate-jwt/audience: unknown element; <validate-jwt> accepts openid-config, "
         "issuer-signing-keys, decryption-keys, audiences, issuers and required-claims"},
    };
    apr_pool_t *p = POOL;
    parse_err_cases(p, "<validate-jwt header-name=\"h\">\n%s\n</validate-jwt>", cases,
                    NCASES(cases));
    parse_err(p, "<validate-jwt header-name=\"h\"> stray <issuers/></validate-jwt>", NULL, 1,
              "validate-jwt: unexpected text 'stray'");
}

/* ---- <required-claims> ------------------------------------------------------------------ */

static void t_required_claims(void **state)
{
    apr_pool_t *p = POOL;
    const vjwt_claim_req_t *c;
    vjwt_xml_result_t *r = parse_ok(p,
                                    "<validate-jwt header-name=\"h\"><required-claims>\n"
                                    "  <claim name=\"aud\"/>\n"
                                    "  <claim name=\"scp\" match=\"any\" separator=\" \">\n"
                                    "    <value>read</value><value> write </value>\n"
                                    "  </claim>\n"
                                    "  <claim name=\"roles\" match=\"all\">\n"
                                    "    <value>admin</value><value></value>\n"
                                    "  </claim>\n"
                                    "</required-claims></validate-jwt>",
                                    NULL);
    assert_int_equal(r->pol->claims->nelts, 3);
    c = APR_ARRAY_IDX(r->pol->claims, 0, vjwt_claim_req_t *);
    assert_string_equal(c->name, "aud");
    assert_int_equal(c->match_any, 0);
    assert_null(c->separator);
    assert_int_equal(c->values->nelts, 0); /* presence only */
    c = APR_ARRAY_IDX(r->pol->claims, 1, vjwt_claim_req_t *);
    assert_string_equal(c->name, "scp");
    assert_int_equal(c->match_any, 1);
    assert_string_equal(c->separator, " ");
    assert_int_equal(c->values->nelts, 2);
    assert_string_equal(str_at(c->values, 0), "read");
    assert_string_equal(str_at(c->values, 1), "write");
    c = APR_ARRAY_IDX(r->pol->claims, 2, vjwt_claim_req_t *);
    assert_int_equal(c->match_any, 0);
    assert_int_equal(c->values->nelts, 2);
    assert_string_equal(str_at(c->values, 1), ""); /* an empty value can be required */
}

static void t_required_claims_errors(void **state)
{
    static const err_case_t cases[] = {
        {"", 2, "validate-jwt/required-claims: <required-claims> needs at least one <claim>"},
        {"<claim/>", 3, "validate-jwt/required-claims/claim[1]: <claim> needs a name=\"...\""},
        {"<claim name=\"\"/>", 3, "claim[1]: <claim> needs a name"},
        {"<claim name=\"a\"/>\n<claim name=\"b\" match=\"some\"/>", 4,
         "validate-jwt/required-claims/claim[2]/@match: 'some' is not a match mode; use all or "
         "any"},
        {"<claim name=\"a\" separator=\"\"/>", 3,
         "claim[1]/@separator: empty separator; remove it or give one, e.g. separator=\" \""},
        {"<claim name=\"a\" value=\"x\"/>", 3,
         "claim[1]/@value: unknown attribute; <claim> accepts name, match, separator"},
        {"<claim name=\"a\">\n<values>x</values></claim>", 4,
         "claim[1]/values[1]: unknown element; <claim> holds <value> only"},
        {"<claim name=\"a\">x</claim>", 3,
         "validate-jwt/required-claims/claim[1]: unexpected text"},
        {"<claim name=\"a\"><value>\n<b/></value></claim>", 4,
         "claim[1]/value[1]/b: unexpected element inside <value>"},
        {"<claim name=\"a\"><value x=\"1\">v</value></claim>", 3,
         "claim[1]/value[1]/@x: unknown attribute; <value> accepts no attributes"},
        {"<value>x</value>", 3,
         "required-claims/value[1]: unknown element; <required-claims> holds <claim> only"},
    };
    parse_err_cases(POOL,
                    "<validate-jwt header-name=\"h\">\n<required-claims>\n%s"
                    "</required-claims>\n</validate-jwt>",
                    cases, NCASES(cases));
}

/* ---- vjwt_policy_xml_read --------------------------------------------------------------- */

static const char *write_temp(apr_pool_t *p, const char *data, apr_size_t len)
{
    char *path = apr_pstrdup(p, "/tmp/vjwt-test-policy-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
    return path;
}

/* The failure message goes into a JSON body: a policy file cannot give one that is not UTF-8.
 * A raw Latin-1 byte is not well-formed XML (libxml2 refuses it with the line); a file that
 * declares Latin-1 is converted, so the message arrives as UTF-8. */
static void t_message_utf8(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_xml_result_t *r;
    parse_err(p, "<validate-jwt header-name=\"h\"\n failed-validation-error-message=\"caf\xe9\"/>",
              NULL, 2, "not well-formed XML");
    r = parse_ok(p,
                 "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n"
                 "<validate-jwt header-name=\"h\" failed-validation-error-message=\"caf\xe9\"/>",
                 NULL);
    assert_string_equal(r->pol->error_message, "caf\xc3\xa9");
}

static void t_read_file(void **state)
{
    apr_pool_t *p = POOL;
    static const char xml[] = "<policies><inbound>\n<validate-jwt id=\"x\" header-name=\"h\"/>\n"
                              "</inbound></policies>";
    vjwt_xml_result_t r;
    const char *err = NULL, *path = write_temp(p, xml, strlen(xml)), *big;
    char *buf;

    assert_int_equal(vjwt_policy_xml_read(&r, p, path, "x", named, NULL, &err), APR_SUCCESS);
    assert_string_equal(r.pol->id, "x");
    assert_string_equal(r.file, path);
    assert_int_equal(r.line, 2);
    unlink(path);

    /* errors name the file */
    path = write_temp(p, "<validate-jwt/>", 15);
    assert_int_equal(vjwt_policy_xml_read(&r, p, path, NULL, named, NULL, &err), APR_EINVAL);
    assert_contains(err, apr_pstrcat(p, path, ":1: validate-jwt: no token source", NULL));
    unlink(path);

    assert_int_not_equal(vjwt_policy_xml_read(&r, p, path, NULL, named, NULL, &err), APR_SUCCESS);
    assert_contains(err, apr_pstrcat(p, "cannot open ", path, NULL));

    assert_int_equal(vjwt_policy_xml_read(&r, p, "/tmp", NULL, named, NULL, &err), APR_EINVAL);
    assert_contains(err, "/tmp is not a regular file of at most 262144 bytes");

    buf = apr_palloc(p, VJWT_POLICY_XML_MAX_SIZE + 1);
    memset(buf, ' ', VJWT_POLICY_XML_MAX_SIZE + 1);
    big = write_temp(p, buf, VJWT_POLICY_XML_MAX_SIZE + 1);
    assert_int_equal(vjwt_policy_xml_read(&r, p, big, NULL, named, NULL, &err), APR_EINVAL);
    assert_contains(err, "is not a regular file of at most 262144 bytes");
    unlink(big);

    path = write_temp(p, "", 0);
    assert_int_equal(vjwt_policy_xml_read(&r, p, path, NULL, named, NULL, &err), APR_EINVAL);
    assert_contains(err, "not well-formed XML");
    unlink(path);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, vjwt_test_pool_setup, vjwt_test_pool_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(t_bare),
        T(t_all_attributes),
        T(t_attribute_warnings),
        T(t_attribute_errors),
        T(t_policies),
        T(t_doctype_and_entities),
        T(t_nul_and_size),
        T(t_named_values),
        T(t_policy_expressions),
        T(t_keys),
        T(t_key_errors),
        T(t_decryption_keys),
        T(t_decryption_key_errors),
        T(t_lists_and_openid),
        T(t_child_errors),
        T(t_required_claims),
        T(t_required_claims_errors),
        T(t_message_utf8),
        T(t_read_file),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
