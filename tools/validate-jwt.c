/*
 * validate-jwt - explain offline what mod_validate_jwt decides for a token.
 *
 *   validate-jwt [options] TOKEN|-
 *     --key 'KEY-SPEC' (repeatable): the grammar of ValidateJWTIssuerSigningKey in one
 *        value, words separated by spaces: [id=KID] BASE64-SECRET | [id=KID] n=B64URL
 *        e=B64URL | [id=KID] file:PATH (vjwt_keyspec.h; certificate-id= needs the module)
 *     --aud AUD  --iss ISS  (repeatable)   --claim NAME=VALUE (match all)
 *     --alg ALG (repeatable allowlist)  --skew SECONDS  --no-exp  --unsigned-ok
 *     --now EPOCH  --min-rsa-bits N  --repeat N (benchmark: validate N times)
 *     --openid-config URL  --jwks-uri URL  (repeatable: keys fetched as the module does)
 *     --decryption-key 'KEY-SPEC' (repeatable): the grammar of ValidateJWTDecryptionKey:
 *        [id=KID] BASE64-KEY | [id=KID] file:PATH (a PEM or DER private key)
 *     --policy FILE [--policy-id ID]: an APIM <validate-jwt> policy file read as
 *        ValidateJWTPolicy reads it (keys, decryption keys, audiences, issuers, claims,
 *        openid-config sources fetched by this process); --named-value NAME=VALUE
 *        (repeatable) is what {{NAME}} stands for. The other options then act as the
 *        directives after ValidateJWTPolicy do: a scalar option overrides the file's value,
 *        and the first --key, --decryption-key, --aud, --iss, --claim or --openid-config /
 *        --jwks-uri replaces the file's list of that kind (later ones add to it).
 *        certificate-id= (in the file or an option) needs the module's certificates: the
 *        CLI refuses it unless an option replaces that key list.
 *
 *     --require-claim NAME=VALUE (repeatable): after an OK verdict, what `Require jwt-claim
 *        NAME VALUE` decides (NAME may be a JSON Pointer such as /realm_access/roles; --claim
 *        and --policy claim names take pointers too); --require-scope S (repeatable): what
 *        `Require jwt-scope S...` decides. A denial prints "authorization: 403 ..." and exits 1.
 *     --certificate ID=FILE (repeatable): what ValidateJWTCertificate ID FILE is to the
 *        module, for the policy file's certificate-id="ID" keys
 *     --offline: static keys only, no key source is fetched
 *     --fetch-proxy 'none|env|URL [file:PATH]': ValidateJWTFetchProxy for the fetches
 *     --json: the verdict (or the lint report) as one JSON object on stdout
 *   validate-jwt --lint FILE.xml [--policy-id ID] [--named-value N=V]... [--certificate ID=FILE]...
 *     every error and warning apachectl configtest gives for ValidateJWTPolicy FILE.xml,
 *     with file and line; exit 0 when there is none, 1 otherwise.
 *
 * Prints the header, the payload, the pipeline's steps (what each one checked, the one that
 * failed) and the verdict (OK or the reason and detail), and exits 0 when the token is
 * accepted, 1 when rejected, 2 on usage or configuration errors. Key warnings (short HMAC
 * secret, RSA key below the floor, skipped keys of a key file) go to stderr.
 *
 * The token is judged by vjwt_validate_stored, the entry point the module uses: with URLs,
 * a key store of this process (default options, no shared cache) fetches the discovery
 * documents and JWK Sets, an unknown kid refetches once, and a source that gave no keys
 * makes a signature failure KeysUnavailable. Each source is fetched once per run (the
 * refetch floor is the refresh interval). The store's warnings go to stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <apr_general.h>
#include <apr_getopt.h>
#include <apr_hash.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_time.h>
#include <jansson.h>

#include "vjwt.h"

static void usage(void)
{
    fprintf(stderr,
            "usage: validate-jwt [--key '[id=KID] file:PATH|n=.. e=..|BASE64'] [--aud A] [--iss I] "
            "[--claim NAME=VALUE] [--alg ALG] [--skew S] [--no-exp] [--unsigned-ok] "
            "[--now EPOCH] [--min-rsa-bits N] [--repeat N] [--openid-config URL] "
            "[--jwks-uri URL] [--decryption-key '[id=KID] file:PATH|BASE64'] "
            "[--policy FILE [--policy-id ID] [--named-value NAME=VALUE]] "
            "[--require-claim NAME=VALUE] [--require-scope S] "
            "[--certificate ID=FILE] [--offline] [--fetch-proxy 'none|env|URL [file:PATH]'] "
            "[--json] TOKEN|-\n"
            "       validate-jwt --lint FILE.xml [--policy-id ID] [--named-value NAME=VALUE] "
            "[--certificate ID=FILE] [--json]\n");
    exit(2);
}

static void push(apr_pool_t *p, apr_array_header_t **a, const char *s)
{
    if (!*a) {
        *a = apr_array_make(p, 2, sizeof(const char *));
    }
    APR_ARRAY_PUSH(*a, const char *) = s;
}

/* One --key value: the directive's key grammar (vjwt_keyspec.h); notes of a key file
 * (skipped keys) on stderr. */
static void add_key(apr_pool_t *p, vjwt_policy_t *pol, const char *text)
{
    const char *err = NULL;
    vjwt_keyspec_t spec;
    apr_array_header_t *notes = apr_array_make(p, 1, sizeof(vjwt_note_t));
    apr_status_t rv;
    int i;
    if (!pol->keys) {
        pol->keys = apr_array_make(p, 2, sizeof(const vjwt_key_t *));
    }
    rv = vjwt_keyspec_parse_text(&spec, p, text, &err);
    if (rv == APR_SUCCESS) {
        rv = vjwt_keyspec_load(p, &spec, NULL, NULL, pol->keys, notes, &err);
    }
    for (i = 0; i < notes->nelts; i++) {
        const vjwt_note_t *nt = &APR_ARRAY_IDX(notes, i, vjwt_note_t);
        fprintf(stderr, "validate-jwt: VJWT%05d: --key %s: %s\n", nt->tag, text, nt->text);
    }
    if (rv == VJWT_KEYSPEC_NEEDS_CERTIFICATE) {
        fprintf(stderr,
                "validate-jwt: --key %s: certificate-id= names a ValidateJWTCertificate "
                "of the module; give the file with file:PATH\n",
                text);
        exit(2);
    }
    if (rv != APR_SUCCESS) {
        fprintf(stderr, "validate-jwt: --key %s: %s\n", text, err);
        exit(2);
    }
}

/* One --decryption-key value: the grammar of ValidateJWTDecryptionKey (vjwt_keyspec.h);
 * certificate-id= needs the module. */
static void add_decryption_key(apr_pool_t *p, vjwt_policy_t *pol, const char *text)
{
    const char *err = NULL;
    vjwt_keyspec_t spec;
    apr_status_t rv;
    if (!pol->decryption_keys) {
        pol->decryption_keys = apr_array_make(p, 2, sizeof(const vjwt_jwe_key_t *));
    }
    rv = vjwt_keyspec_parse_decryption_text(&spec, p, text, &err);
    if (rv == APR_SUCCESS) {
        rv = vjwt_keyspec_load_decryption(p, &spec, NULL, NULL, pol->decryption_keys, &err);
    }
    if (rv == VJWT_KEYSPEC_NEEDS_CERTIFICATE) {
        fprintf(stderr,
                "validate-jwt: --decryption-key %s: certificate-id= names a "
                "ValidateJWTCertificate of the module; give the private key with file:PATH\n",
                text);
        exit(2);
    }
    if (rv != APR_SUCCESS) {
        fprintf(stderr, "validate-jwt: --decryption-key %s: %s\n", text, err);
        exit(2);
    }
}

/* Warnings about keys that verify (or decrypt) nothing, or less, under the final
 * --min-rsa-bits. */
static void warn_weak_keys(apr_pool_t *p, const vjwt_policy_t *pol)
{
    apr_array_header_t *notes = apr_array_make(p, 1, sizeof(vjwt_note_t));
    int i;
    for (i = 0; pol->keys && i < pol->keys->nelts; i++) {
        vjwt_key_notes(APR_ARRAY_IDX(pol->keys, i, const vjwt_key_t *),
                       vjwt_policy_min_rsa_bits(pol), notes);
    }
    for (i = 0; pol->decryption_keys && i < pol->decryption_keys->nelts; i++) {
        vjwt_decryption_key_notes(APR_ARRAY_IDX(pol->decryption_keys, i, const vjwt_jwe_key_t *),
                                  vjwt_policy_min_rsa_bits(pol), notes);
    }
    for (i = 0; i < notes->nelts; i++) {
        const vjwt_note_t *nt = &APR_ARRAY_IDX(notes, i, vjwt_note_t);
        if (nt->level <= VJWT_LOG_WARN) {
            fprintf(stderr, "validate-jwt: VJWT%05d: %s\n", nt->tag, nt->text);
        }
    }
}

static void add_claim(apr_pool_t *p, vjwt_policy_t *pol, const char *arg)
{
    vjwt_claim_req_t *c = apr_pcalloc(p, sizeof(*c));
    char *name = apr_pstrdup(p, arg), *eq = strchr(name, '=');
    c->values = apr_array_make(p, 1, sizeof(const char *));
    if (eq) {
        *eq = 0;
        APR_ARRAY_PUSH(c->values, const char *) = eq + 1;
    }
    c->name = name;
    if (vjwt_claim_name_check(name)) {
        fprintf(stderr, "validate-jwt: --claim %s: %s\n", arg, vjwt_claim_name_check(name));
        exit(2);
    }
    if (!pol->claims) {
        pol->claims = apr_array_make(p, 2, sizeof(vjwt_claim_req_t *));
    }
    APR_ARRAY_PUSH(pol->claims, vjwt_claim_req_t *) = c;
}

static void add_source(apr_pool_t *p, vjwt_policy_t *pol, apr_array_header_t *registry,
                       vjwt_ks_kind_e kind, const char *url)
{
    if (!pol->sources) {
        pol->sources = apr_array_make(p, 2, sizeof(vjwt_ks_source_t *));
    }
    APR_ARRAY_PUSH(pol->sources, vjwt_ks_source_t *) = vjwt_ks_source_make(p, registry, kind, url);
}

/* The key store's warnings and errors (a fetch that failed, keys skipped) on stderr. */
static int store_is_level(void *baton, vjwt_log_level_e level)
{
    (void)baton;
    return level <= VJWT_LOG_WARN;
}

static void store_log(void *baton, vjwt_log_level_e level, const char *file, int line, int tag,
                      const char *msg)
{
    (void)baton;
    (void)level;
    (void)file;
    (void)line;
    fprintf(stderr, "validate-jwt: VJWT%05d: %s\n", tag, msg);
}

static char *read_stdin(apr_pool_t *p)
{
    char buf[65536];
    size_t n = fread(buf, 1, sizeof(buf) - 1, stdin);
    buf[n] = 0;
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ')) {
        buf[--n] = 0;
    }
    return apr_pstrdup(p, buf);
}

/* Lists a --policy file set: the first option of the kind replaces the file's list. */
#define FROM_POLICY_KEYS            0x01
#define FROM_POLICY_DECRYPTION_KEYS 0x02
#define FROM_POLICY_AUDIENCES       0x04
#define FROM_POLICY_ISSUERS         0x08
#define FROM_POLICY_CLAIMS          0x10
#define FROM_POLICY_SOURCES         0x20

/* What the options ask for. */
typedef struct {
    vjwt_policy_t *pol;
    apr_array_header_t *registry; /* vjwt_ks_source_t *: --openid-config, --jwks-uri */
    const char *token;            /* the argument: a token or "-" */
    double now;
    long repeat;
    const char *policy;           /* --policy FILE */
    const char *policy_id;        /* --policy-id ID */
    apr_hash_t *named;            /* --named-value NAME=VALUE */
    unsigned from_policy;         /* FROM_POLICY_*: lists still as the file set them */
    apr_array_header_t *certrefs; /* vjwt_xml_certref_t of the file */
    apr_hash_t *certs;            /* --certificate ID -> cli_cert_t */
    const char *lint;             /* --lint FILE */
    int json;                     /* --json */
    int offline;                  /* --offline */
    vjwt_fetch_proxy_t proxy;     /* --fetch-proxy */
    int proxy_set;
} cli_t;

/* The list of a kind for an option: the file's list is dropped by the first option. */
static apr_array_header_t **option_list(cli_t *cli, unsigned bit, apr_array_header_t **field)
{
    if (cli->from_policy & bit) {
        cli->from_policy &= ~bit;
        *field = NULL;
    }
    return field;
}

/* --require-claim / --require-scope: the authorization providers' decisions after an OK
 * verdict (Require jwt-claim NAME VALUE, Require jwt-scope S...). */
static struct {
    apr_array_header_t *claims; /* vjwt_claim_req_t *: one value each */
    apr_array_header_t *scopes; /* const char * */
} authz;

static void add_require(apr_pool_t *p, int scope, const char *arg)
{
    vjwt_claim_req_t *c;
    char *eq;
    const char *err;
    if (scope) {
        push(p, &authz.scopes, arg);
        return;
    }
    c = apr_pcalloc(p, sizeof(*c));
    c->name = apr_pstrdup(p, arg);
    eq = strchr(c->name, '=');
    err = eq ? (*eq = 0, vjwt_claim_name_check(c->name)) : "expects NAME=VALUE";
    if (err) {
        fprintf(stderr, "validate-jwt: --require-claim %s: %s\n", arg, err);
        exit(2);
    }
    c->values = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(c->values, const char *) = eq + 1;
    if (!authz.claims) {
        authz.claims = apr_array_make(p, 2, sizeof(vjwt_claim_req_t *));
    }
    APR_ARRAY_PUSH(authz.claims, vjwt_claim_req_t *) = c;
}

/* 0 when every --require-claim and --require-scope grants t, else 1 (printed). */
static int authorize(apr_pool_t *p, const vjwt_token_t *t)
{
    int i;
    for (i = 0; authz.claims && i < authz.claims->nelts; i++) {
        const vjwt_claim_req_t *c = APR_ARRAY_IDX(authz.claims, i, const vjwt_claim_req_t *);
        const json_t *val = vjwt_claim_lookup(t->payload, c->name);
        if (!val || !vjwt_claim_value_allowed(p, val, c->values)) {
            printf("authorization: 403 TokenClaimValueNotAllowed (jwt-claim %s %s: %s)\n", c->name,
                   APR_ARRAY_IDX(c->values, 0, const char *),
                   val ? "not an allowed value" : "no such claim");
            return 1;
        }
    }
    if (authz.scopes && !vjwt_scopes_cover(p, t->payload, authz.scopes)) {
        printf("authorization: 403 TokenClaimValueNotAllowed (jwt-scope %s: "
               "insufficient_scope)\n",
               apr_array_pstrcat(p, authz.scopes, ' '));
        return 1;
    }
    if (authz.claims || authz.scopes) {
        printf("authorization: granted\n");
    }
    return 0;
}

enum {
    OPT_KEY = 256,
    OPT_AUD,
    OPT_ISS,
    OPT_CLAIM,
    OPT_ALG,
    OPT_SKEW,
    OPT_NO_EXP,
    OPT_UNSIGNED_OK,
    OPT_NOW,
    OPT_MIN_RSA_BITS,
    OPT_REPEAT,
    OPT_OPENID_CONFIG,
    OPT_JWKS_URI,
    OPT_DECRYPTION_KEY,
    OPT_POLICY,
    OPT_POLICY_ID,
    OPT_NAMED_VALUE,
    OPT_REQUIRE_CLAIM,
    OPT_REQUIRE_SCOPE,
    OPT_CERTIFICATE,
    OPT_LINT,
    OPT_JSON,
    OPT_OFFLINE,
    OPT_FETCH_PROXY
};

static const apr_getopt_option_t options[] = {
    {"key", OPT_KEY, 1, "a key: [id=KID] file:PATH | n=B64URL e=B64URL | BASE64-SECRET"},
    {"aud", OPT_AUD, 1, "an accepted audience"},
    {"iss", OPT_ISS, 1, "an accepted issuer"},
    {"claim", OPT_CLAIM, 1, "NAME=VALUE: a required claim"},
    {"alg", OPT_ALG, 1, "an allowed algorithm"},
    {"skew", OPT_SKEW, 1, "clock skew in seconds"},
    {"no-exp", OPT_NO_EXP, 0, "exp is not required"},
    {"unsigned-ok", OPT_UNSIGNED_OK, 0, "alg none is allowed"},
    {"now", OPT_NOW, 1, "the time, seconds since the epoch"},
    {"min-rsa-bits", OPT_MIN_RSA_BITS, 1, "smallest RSA modulus used"},
    {"repeat", OPT_REPEAT, 1, "validate N times (benchmark)"},
    {"openid-config", OPT_OPENID_CONFIG, 1, "an OpenID discovery document URL"},
    {"jwks-uri", OPT_JWKS_URI, 1, "a JWK Set URL"},
    {"decryption-key", OPT_DECRYPTION_KEY, 1, "a decryption key: [id=KID] file:PATH | BASE64"},
    {"policy", OPT_POLICY, 1, "an APIM <validate-jwt> policy file"},
    {"policy-id", OPT_POLICY_ID, 1, "the <validate-jwt id=...> of the policy file"},
    {"named-value", OPT_NAMED_VALUE, 1, "NAME=VALUE: what {{NAME}} stands for in the policy"},
    {"require-claim", OPT_REQUIRE_CLAIM, 1, "NAME=VALUE: Require jwt-claim NAME VALUE"},
    {"require-scope", OPT_REQUIRE_SCOPE, 1, "S: Require jwt-scope S"},
    {"certificate", OPT_CERTIFICATE, 1, "ID=FILE: ValidateJWTCertificate ID FILE"},
    {"lint", OPT_LINT, 1, "check a policy file as apachectl configtest does"},
    {"json", OPT_JSON, 0, "machine-readable output"},
    {"offline", OPT_OFFLINE, 0, "static keys only: fetch nothing"},
    {"fetch-proxy", OPT_FETCH_PROXY, 1, "none|env|URL [file:PATH]: ValidateJWTFetchProxy"},
    {NULL, 0, 0, NULL},
};

/* A policy field from an option, through the core's setter: the same values and checks as
 * the directive; notes (e.g. a large clock skew) go to stderr with their tags. */
static void set_field(apr_pool_t *p, vjwt_policy_t *pol, vjwt_field_e f, const char *opt,
                      const char *val)
{
    apr_array_header_t *notes = apr_array_make(p, 1, sizeof(vjwt_note_t));
    const char *err = vjwt_policy_set(p, pol, f, val, notes);
    int i;
    if (err) {
        fprintf(stderr, "validate-jwt: %s: %s, got '%s'\n", opt, err, val);
        exit(2);
    }
    for (i = 0; i < notes->nelts; i++) {
        const vjwt_note_t *n = &APR_ARRAY_IDX(notes, i, vjwt_note_t);
        fprintf(stderr, "VJWT%05d: %s %s: %s\n", n->tag, opt, val, n->text);
    }
}

/* One option into cli. */
static void apply_option(cli_t *cli, apr_pool_t *p, int opt, const char *val)
{
    vjwt_policy_t *pol = cli->pol;
    switch (opt) {
    case OPT_KEY:
        option_list(cli, FROM_POLICY_KEYS, &pol->keys);
        add_key(p, pol, val);
        break;
    case OPT_DECRYPTION_KEY:
        option_list(cli, FROM_POLICY_DECRYPTION_KEYS, &pol->decryption_keys);
        add_decryption_key(p, pol, val);
        break;
    case OPT_OPENID_CONFIG:
    case OPT_JWKS_URI:
        option_list(cli, FROM_POLICY_SOURCES, &pol->sources);
        add_source(p, pol, cli->registry,
                   opt == OPT_OPENID_CONFIG ? VJWT_KS_DISCOVERY : VJWT_KS_JWKS_URL, val);
        break;
    case OPT_AUD:
        push(p, option_list(cli, FROM_POLICY_AUDIENCES, &pol->audiences), val);
        break;
    case OPT_ISS:
        push(p, option_list(cli, FROM_POLICY_ISSUERS, &pol->issuers), val);
        break;
    case OPT_CLAIM:
        option_list(cli, FROM_POLICY_CLAIMS, &pol->claims);
        add_claim(p, pol, val);
        break;
    case OPT_POLICY:
    case OPT_POLICY_ID:
    case OPT_NAMED_VALUE:
    case OPT_CERTIFICATE:
    case OPT_LINT:
    case OPT_JSON:
    case OPT_OFFLINE:
    case OPT_FETCH_PROXY:
        break; /* read before the others (apply_policy_option, apply_run_option) */
    case OPT_ALG:
        set_field(p, pol, VJWT_F_ALGORITHM, "--alg", val);
        break;
    case OPT_SKEW:
        set_field(p, pol, VJWT_F_CLOCK_SKEW, "--skew", val);
        break;
    case OPT_NO_EXP:
        set_field(p, pol, VJWT_F_REQUIRE_EXP, "--no-exp", "false");
        break;
    case OPT_UNSIGNED_OK:
        set_field(p, pol, VJWT_F_REQUIRE_SIGNED, "--unsigned-ok", "false");
        break;
    case OPT_NOW:
        cli->now = atof(val);
        break;
    case OPT_MIN_RSA_BITS:
        set_field(p, pol, VJWT_F_MIN_RSA_BITS, "--min-rsa-bits", val);
        break;
    case OPT_REPEAT:
        cli->repeat = atol(val);
        break;
    case OPT_REQUIRE_CLAIM:
    case OPT_REQUIRE_SCOPE:
        add_require(p, opt == OPT_REQUIRE_SCOPE, val);
        break;
    default:
        usage();
    }
}

/* --named-value NAME=VALUE, with the rules of ValidateJWTNamedValue. */
static void add_named_value(cli_t *cli, apr_pool_t *p, const char *arg)
{
    const char *eq = strchr(arg, '='), *c;
    const char *name = eq ? apr_pstrmemdup(p, arg, (apr_size_t)(eq - arg)) : arg;
    for (c = name; eq && *c; c++) {
        if (!apr_isalnum(*c) && *c != '-' && *c != '.' && *c != '_') {
            break;
        }
    }
    if (!eq || !*name || *c) {
        fprintf(stderr,
                "validate-jwt: --named-value: expects NAME=VALUE, NAME of letters, digits, "
                "'-', '.' and '_', got '%s'\n",
                arg);
        exit(2);
    }
    if (apr_hash_get(cli->named, name, APR_HASH_KEY_STRING)) {
        fprintf(stderr, "validate-jwt: --named-value: %s is given twice\n", name);
        exit(2);
    }
    apr_hash_set(cli->named, name, APR_HASH_KEY_STRING, eq + 1);
}

/* A certificate of --certificate ID=FILE: the keys ValidateJWTCertificate ID FILE gives. */
typedef struct {
    const vjwt_key_t *key;
    const vjwt_jwe_key_t *dkey; /* NULL: no private key in the file */
    const char *file;
} cli_cert_t;

/* --certificate ID=FILE, loaded as ValidateJWTCertificate loads it (notes on stderr). */
static void add_certificate(cli_t *cli, apr_pool_t *p, const char *arg)
{
    const char *eq = strchr(arg, '='), *err = NULL;
    const char *id = eq ? apr_pstrmemdup(p, arg, (apr_size_t)(eq - arg)) : NULL;
    apr_array_header_t *notes = apr_array_make(p, 1, sizeof(vjwt_note_t));
    cli_cert_t *c = apr_pcalloc(p, sizeof(*c));
    const vjwt_key_t *sig = NULL;
    int i;
    if (!id || !*id || !eq[1]) {
        fprintf(stderr, "validate-jwt: --certificate: expects ID=FILE, got '%s'\n", arg);
        exit(2);
    }
    if (apr_hash_get(cli->certs, id, APR_HASH_KEY_STRING)) {
        fprintf(stderr, "validate-jwt: --certificate: %s is given twice\n", id);
        exit(2);
    }
    c->file = eq + 1;
    if (vjwt_keyspec_load_certificate(p, c->file, &sig, &c->dkey, notes, &err) != APR_SUCCESS) {
        fprintf(stderr, "validate-jwt: --certificate %s: %s\n", arg, err);
        exit(2);
    }
    c->key = sig;
    vjwt_key_notes(sig, VJWT_DEFAULT_MIN_RSA_BITS, notes);
    for (i = 0; i < notes->nelts; i++) {
        const vjwt_note_t *nt = &APR_ARRAY_IDX(notes, i, vjwt_note_t);
        if (nt->level <= VJWT_LOG_WARN) {
            fprintf(stderr, "validate-jwt: VJWT%05d: --certificate %s: %s\n", nt->tag, id,
                    nt->text);
        }
    }
    apr_hash_set(cli->certs, id, APR_HASH_KEY_STRING, c);
}

/* --fetch-proxy 'none|env|URL [file:PATH]': ValidateJWTFetchProxy's value in one word list. */
static void set_fetch_proxy(cli_t *cli, apr_pool_t *p, const char *arg)
{
    char *val = apr_pstrdup(p, arg), *sp = strchr(val, ' ');
    const char *cred = NULL, *err;
    if (sp) {
        *sp++ = 0;
        while (*sp == ' ') {
            sp++;
        }
        if (strncmp(sp, "file:", 5) != 0 || !sp[5]) {
            fprintf(stderr, "validate-jwt: --fetch-proxy: the second word must be file:PATH of a "
                            "file holding user:password\n");
            exit(2);
        }
        cred = sp + 5;
    }
    err = vjwt_fetch_proxy_parse(p, val, cred, &cli->proxy);
    if (err) {
        fprintf(stderr, "validate-jwt: --fetch-proxy: %s\n", err);
        exit(2);
    }
    cli->proxy_set = 1;
}

/* --certificate, --lint, --json, --offline, --fetch-proxy: read with the policy options. */
static void apply_run_option(cli_t *cli, apr_pool_t *p, int opt, const char *val)
{
    switch (opt) {
    case OPT_CERTIFICATE:
        add_certificate(cli, p, val);
        break;
    case OPT_LINT:
        if (cli->lint) {
            fprintf(stderr, "validate-jwt: --lint given twice\n");
            exit(2);
        }
        cli->lint = val;
        break;
    case OPT_JSON:
        cli->json = 1;
        break;
    case OPT_OFFLINE:
        cli->offline = 1;
        break;
    case OPT_FETCH_PROXY:
        set_fetch_proxy(cli, p, val);
        break;
    default:
        break;
    }
}

/* --policy, --policy-id and --named-value: read before the other options. */
static void apply_policy_option(cli_t *cli, apr_pool_t *p, int opt, const char *val)
{
    if ((opt == OPT_POLICY && cli->policy) || (opt == OPT_POLICY_ID && cli->policy_id)) {
        fprintf(stderr, "validate-jwt: --%s given twice\n",
                opt == OPT_POLICY ? "policy" : "policy-id");
        exit(2);
    }
    if (opt == OPT_POLICY) {
        cli->policy = val;
    }
    else if (opt == OPT_POLICY_ID) {
        cli->policy_id = val;
    }
    else if (opt == OPT_NAMED_VALUE) {
        add_named_value(cli, p, val);
    }
    else {
        apply_run_option(cli, p, opt, val);
    }
}

/* Options anywhere on the line (apr_getopt_long, interleaved), then exactly one TOKEN|-.
 * apr_getopt_long refuses a bare "-" (APR_BADCH, past it, the non-option run intact): that
 * one is the token from standard input and stays among the arguments. Phase 0 takes the
 * policy options only (errors are left to phase 1), phase 1 every other one. */
static void parse_options(cli_t *cli, apr_pool_t *p, int argc, const char *const *argv, int phase)
{
    apr_getopt_t *os;
    const char *val;
    int opt;
    apr_status_t rv;
    apr_getopt_init(&os, p, argc, argv);
    os->interleave = 1;
    os->errfn = NULL;
    while ((rv = apr_getopt_long(os, options, &opt, &val)) != APR_EOF) {
        if (rv == APR_SUCCESS) {
            if (phase == 0) {
                apply_policy_option(cli, p, opt, val);
            }
            else {
                apply_option(cli, p, opt, val);
            }
        }
        else if (phase == 1 && (rv != APR_BADCH || strcmp(os->argv[os->ind - 1], "-") != 0)) {
            fprintf(stderr, "validate-jwt: %s: %s\n",
                    rv == APR_BADARG ? "missing or erroneous argument" : "invalid option",
                    os->argv[os->ind - 1]);
            usage();
        }
    }
    if (phase == 1 && os->ind != argc - (cli->lint ? 0 : 1)) {
        usage(); /* one TOKEN|-, none with --lint */
    }
    cli->token = os->ind < argc ? os->argv[os->ind] : NULL;
}

static const char *named_value(void *baton, const char *name)
{
    return apr_hash_get((apr_hash_t *)baton, name, APR_HASH_KEY_STRING);
}

/* --policy FILE into cli->pol, as ValidateJWTPolicy does: the file's fields over the policy,
 * its openid-config sources in this process's store, its warnings on stderr. */
static void read_policy(cli_t *cli, apr_pool_t *p)
{
    vjwt_xml_result_t res;
    const char *err = NULL;
    int i;
    if (!cli->policy) {
        if (cli->policy_id || apr_hash_count(cli->named)) {
            fprintf(stderr, "validate-jwt: --policy-id and --named-value need --policy\n");
            exit(2);
        }
        return;
    }
    if (vjwt_policy_xml_read(&res, p, cli->policy, cli->policy_id, named_value, cli->named, &err) !=
        APR_SUCCESS) {
        fprintf(stderr, "validate-jwt: --policy: %s\n", err);
        exit(2);
    }
    for (i = 0; i < res.warnings->nelts; i++) {
        fprintf(stderr, "validate-jwt: VJWT00015: --policy: %s\n",
                APR_ARRAY_IDX(res.warnings, i, const char *));
    }
    vjwt_policy_overlay(p, cli->pol, res.pol);
    for (i = 0; i < res.openid->nelts; i++) {
        add_source(p, cli->pol, cli->registry, VJWT_KS_DISCOVERY,
                   APR_ARRAY_IDX(res.openid, i, vjwt_xml_openid_t).url);
    }
    cli->certrefs = res.certrefs;
    cli->from_policy = FROM_POLICY_KEYS | FROM_POLICY_DECRYPTION_KEYS | FROM_POLICY_AUDIENCES |
                       FROM_POLICY_ISSUERS | FROM_POLICY_CLAIMS | FROM_POLICY_SOURCES;
}

/* The certificate-id= keys of the policy file whose key list no option replaced: filled
 * from --certificate ID=FILE as the module fills them from ValidateJWTCertificate. */
static void check_certrefs(cli_t *cli, apr_pool_t *p)
{
    int i;
    for (i = 0; cli->certrefs && i < cli->certrefs->nelts; i++) {
        const vjwt_xml_certref_t *r = &APR_ARRAY_IDX(cli->certrefs, i, vjwt_xml_certref_t);
        const cli_cert_t *c = apr_hash_get(cli->certs, r->cert_id, APR_HASH_KEY_STRING);
        if (!(cli->from_policy &
              (r->decryption ? FROM_POLICY_DECRYPTION_KEYS : FROM_POLICY_KEYS))) {
            continue;
        }
        if (!c) {
            fprintf(stderr,
                    "validate-jwt: --policy %s:%d: certificate-id=\"%s\" names a "
                    "ValidateJWTCertificate of the module; give it with --certificate %s=FILE, or "
                    "replace the file's %s with %s\n",
                    cli->policy, r->line, r->cert_id, r->cert_id,
                    r->decryption ? "<decryption-keys>" : "<issuer-signing-keys>",
                    r->decryption ? "--decryption-key file:PATH" : "--key file:PATH");
            exit(2);
        }
        if (r->decryption && !c->dkey) {
            fprintf(stderr,
                    "validate-jwt: --policy %s:%d: certificate-id=\"%s\" is a decryption key, "
                    "but --certificate %s=%s holds no private key\n",
                    cli->policy, r->line, r->cert_id, r->cert_id, c->file);
            exit(2);
        }
        if (r->decryption) {
            APR_ARRAY_IDX(cli->pol->decryption_keys, r->index, const vjwt_jwe_key_t *) =
                vjwt_jwe_key_with_kid(p, c->dkey, r->kid);
        }
        else {
            APR_ARRAY_IDX(cli->pol->keys, r->index, const vjwt_key_t *) =
                vjwt_key_with_kid(p, c->key, r->kid);
        }
    }
}

/* The token: the argument, or standard input for "-". */
static const char *read_token(apr_pool_t *p, const char *arg)
{
    return strcmp(arg, "-") ? arg : read_stdin(p);
}

/* A key store for --openid-config / --jwks-uri (NULL without them); exits 2 on failure.
 * A one-shot run fetches each source once: the refetch floor is the refresh interval. */
static vjwt_store_t *build_store(apr_pool_t *p, apr_array_header_t *registry,
                                 const vjwt_fetch_proxy_t *proxy)
{
    vjwt_store_opts_t so;
    vjwt_store_t *store = NULL;
    if (registry->nelts == 0) {
        return NULL;
    }
    if (vjwt_fetch_global_init() != APR_SUCCESS) {
        fprintf(stderr, "validate-jwt: curl_global_init failed\n");
        exit(2);
    }
    vjwt_store_opts_default(&so);
    so.refetch = so.refresh;
    so.fetch.proxy = *proxy;
    so.log.is_level = store_is_level;
    so.log.log = store_log;
    if (vjwt_store_make(&store, p, &so, registry) != APR_SUCCESS) {
        fprintf(stderr, "validate-jwt: cannot create the key store\n");
        exit(2);
    }
    return store;
}

/* ---- the verdict, step by step ------------------------------------------------------ */

/* The pipeline's steps (README "How a request is validated"), as the CLI reports them. */
enum {
    STEP_TOKEN,
    STEP_DECODE,
    STEP_SIGNATURE,
    STEP_LIFETIME,
    STEP_AUDIENCE,
    STEP_ISSUER,
    STEP_CLAIMS,
    STEP_COUNT
};

static const char *const step_names[STEP_COUNT] = {
    "token",          "structure, header, decryption",
    "signature",      "registered claims and lifetime",
    "audience",       "issuer",
    "required claims"};

/* The step a failure belongs to. JwtInvalid is the structure or header step unless the
 * token parsed and the core's detail is one of the claim-type or lifetime checks (RFC 7519
 * 4.1), which run after the signature. */
static int failed_step(const vjwt_verdict_t *v, const vjwt_token_t *t)
{
    const char *d = v->detail ? v->detail : "";
    switch (v->reason) {
    case VJWT_R_TOKEN_NOT_PRESENT:
        return STEP_TOKEN;
    case VJWT_R_TOKEN_SIGNATURE_INVALID:
    case VJWT_R_TOKEN_SIGNATURE_KEY_NOT_FOUND:
    case VJWT_R_KEYS_UNAVAILABLE:
        return STEP_SIGNATURE;
    case VJWT_R_TOKEN_EXPIRED:
        return STEP_LIFETIME;
    case VJWT_R_TOKEN_AUDIENCE_NOT_ALLOWED:
        return STEP_AUDIENCE;
    case VJWT_R_TOKEN_ISSUER_NOT_ALLOWED:
        return STEP_ISSUER;
    case VJWT_R_TOKEN_CLAIM_NOT_FOUND:
    case VJWT_R_TOKEN_CLAIM_VALUE_NOT_ALLOWED:
        return STEP_CLAIMS;
    default:
        return t && (!strncmp(d, "The claim ", 10) || !strncmp(d, "Lifetime ", 9)) ? STEP_LIFETIME
                                                                                   : STEP_DECODE;
    }
}

static int count(const apr_array_header_t *a)
{
    return a ? a->nelts : 0;
}

/* What a step checked, for the explanation. */
static const char *step_what(apr_pool_t *p, const cli_t *cli, int step, const vjwt_token_t *t)
{
    const vjwt_policy_t *pol = cli->pol;
    switch (step) {
    case STEP_SIGNATURE:
        return apr_psprintf(p, "alg %s%s%s%s; %d static key(s), %d key source(s)%s",
                            t && t->alg ? t->alg : "?", t && t->kid ? ", kid \"" : "",
                            t && t->kid ? vjwt_sanitize(p, t->kid, 64) : "",
                            t && t->kid ? "\"" : "", count(pol->keys), count(pol->sources),
                            cli->offline ? " (--offline)" : "");
    case STEP_AUDIENCE:
        return count(pol->audiences) ? apr_psprintf(p, "%d audience(s)", count(pol->audiences))
                                     : NULL;
    case STEP_ISSUER:
        return count(pol->issuers) || count(pol->sources)
                   ? apr_psprintf(p, "%d issuer(s), and those of the discovery documents",
                                  count(pol->issuers))
                   : NULL;
    case STEP_CLAIMS:
        return count(pol->claims) ? apr_psprintf(p, "%d claim(s)", count(pol->claims)) : NULL;
    default:
        return "";
    }
}

/* For each step: "ok", "failed", "not reached" or "not checked" (nothing configured). */
static const char *step_result(const cli_t *cli, apr_pool_t *p, int step, int failed,
                               const vjwt_token_t *t)
{
    if (failed >= 0 && step == failed) {
        return "failed";
    }
    if (failed >= 0 && step > failed) {
        return "not reached";
    }
    return step_what(p, cli, step, t) ? "ok" : "not checked";
}

static void print_steps(apr_pool_t *p, const cli_t *cli, apr_status_t rc, const vjwt_token_t *t,
                        const vjwt_verdict_t *v)
{
    int failed = rc == APR_SUCCESS ? -1 : failed_step(v, t), i;
    printf("steps:\n");
    for (i = 0; i < STEP_COUNT; i++) {
        const char *what = step_what(p, cli, i, t);
        printf("  %d. %-31s %s%s%s%s\n", i + 1, step_names[i], step_result(cli, p, i, failed, t),
               what && *what ? " (" : "", what && *what ? what : "", what && *what ? ")" : "");
        if (i == failed) {
            printf("     %s: %s\n", vjwt_reason_name(v->reason), v->detail ? v->detail : "");
        }
    }
}

/* Header, payload, steps and verdict on stdout; the exit code. */
static int print_result(apr_pool_t *p, const cli_t *cli, apr_status_t rc, const vjwt_token_t *t,
                        const vjwt_verdict_t *v)
{
    if (t && t->jwe_header) {
        printf("jwe:     %s\n", vjwt_json_text(p, t->jwe_header));
    }
    if (t) {
        printf("header:  %s\npayload: %s\n", vjwt_json_text(p, t->header),
               vjwt_json_text(p, t->payload));
    }
    print_steps(p, cli, rc, t, v);
    if (rc == APR_SUCCESS) {
        printf("verdict: OK\n");
        return 0;
    }
    printf("verdict: %s\ndetail:  %s\n", vjwt_reason_name(v->reason), v->detail ? v->detail : "");
    return 1;
}

/* Prints j as one line on stdout and frees it. */
static void print_json(json_t *j)
{
    char *text = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII);
    printf("%s\n", text ? text : "{}");
    free(text);
    json_decref(j);
}

/* --json: {"valid", "verdict", "detail", "jwe", "header", "payload", "steps"}. */
static int print_result_json(apr_pool_t *p, const cli_t *cli, apr_status_t rc,
                             const vjwt_token_t *t, const vjwt_verdict_t *v)
{
    json_t *o = json_object(), *steps = json_array();
    int failed = rc == APR_SUCCESS ? -1 : failed_step(v, t), i;
    json_object_set_new(o, "valid", json_boolean(rc == APR_SUCCESS));
    json_object_set_new(o, "verdict",
                        json_string(rc == APR_SUCCESS ? "OK" : vjwt_reason_name(v->reason)));
    json_object_set_new(o, "detail",
                        rc == APR_SUCCESS || !v->detail ? json_null() : json_string(v->detail));
    json_object_set(o, "jwe", t && t->jwe_header ? t->jwe_header : json_null());
    json_object_set(o, "header", t ? t->header : json_null());
    json_object_set(o, "payload", t ? t->payload : json_null());
    for (i = 0; i < STEP_COUNT; i++) {
        const char *what = step_what(p, cli, i, t);
        json_array_append_new(steps,
                              json_pack("{s:i, s:s, s:s, s:s?}", "step", i + 1, "name",
                                        step_names[i], "result", step_result(cli, p, i, failed, t),
                                        "checked", what && *what ? what : NULL));
    }
    json_object_set_new(o, "steps", steps);
    print_json(o);
    return rc == APR_SUCCESS ? 0 : 1;
}

/* ---- --lint ------------------------------------------------------------------------- */

typedef struct {
    int error; /* 1 error, 0 warning */
    int tag;   /* VJWTnnnnn, 0: none */
    int line;  /* 0: the whole file */
    const char *text;
} finding_t;

/* msg as "FILE:LINE: text" (the policy reader's form) into f's line and text. */
static void add_finding(apr_array_header_t *found, const char *file, int error, int tag,
                        const char *msg)
{
    finding_t *f = apr_array_push(found);
    size_t n = strlen(file);
    const char *c = msg + n + 1;
    f->error = error;
    f->tag = tag;
    f->line = 0;
    f->text = msg;
    if (!strncmp(msg, file, n) && msg[n] == ':' && apr_isdigit(*c)) {
        int line = 0;
        while (apr_isdigit(*c) && line < 100000000) {
            line = line * 10 + (*c++ - '0');
        }
        if (*c == ':') {
            f->line = line;
            f->text = c[1] == ' ' ? c + 2 : c + 1;
        }
    }
}

/* What apachectl configtest says about ValidateJWTPolicy FILE: the reader's error (it stops
 * at the first, as configtest does), its warnings (VJWT00015, which hold the whole-policy
 * checks), <openid-config> URLs the module refuses (VJWT00007: plain http to a host that is
 * not loopback, as without ValidateJWTFetchAllowHTTP On) and certificate-id= keys that no
 * --certificate resolves (VJWT00006, VJWT00301). Exit 0 when there is nothing, else 1. */
static int run_lint(cli_t *cli, apr_pool_t *p)
{
    apr_array_header_t *found = apr_array_make(p, 4, sizeof(finding_t));
    vjwt_xml_result_t res;
    const char *err = NULL, *file = cli->lint;
    int i, errors = 0;
    if (vjwt_policy_xml_read(&res, p, file, cli->policy_id, named_value, cli->named, &err) !=
        APR_SUCCESS) {
        add_finding(found, file, 1, 0, err);
    }
    else {
        for (i = 0; i < res.warnings->nelts; i++) {
            add_finding(found, file, 0, 15, APR_ARRAY_IDX(res.warnings, i, const char *));
        }
        for (i = 0; i < res.openid->nelts; i++) {
            const vjwt_xml_openid_t *o = &APR_ARRAY_IDX(res.openid, i, vjwt_xml_openid_t);
            /* a URL that is no URL at all is a syntax error of the directive; plain http to
             * a host that is not loopback is refused later, by check_config (VJWT00007) */
            const char *why = vjwt_fetch_check_url(p, o->url, 1);
            int tag = 0;
            if (!why && (why = vjwt_fetch_check_url(p, o->url, 0)) != NULL) {
                tag = 7;
            }
            if (why) {
                add_finding(found, file, 1, tag,
                            apr_psprintf(p, "%s:%d: validate-jwt/openid-config: '%s' %s", file,
                                         o->line, o->url, why));
            }
        }
        for (i = 0; i < res.certrefs->nelts; i++) {
            const vjwt_xml_certref_t *r = &APR_ARRAY_IDX(res.certrefs, i, vjwt_xml_certref_t);
            const cli_cert_t *c = apr_hash_get(cli->certs, r->cert_id, APR_HASH_KEY_STRING);
            if (!c) {
                add_finding(found, file, 1, 6,
                            apr_psprintf(p,
                                         "%s:%d: certificate-id=%s names no certificate; the "
                                         "module needs 'ValidateJWTCertificate %s FILE' (here: "
                                         "--certificate %s=FILE)",
                                         file, r->line, r->cert_id, r->cert_id, r->cert_id));
            }
            else if (r->decryption && !c->dkey) {
                add_finding(found, file, 1, 301,
                            apr_psprintf(p,
                                         "%s:%d: certificate-id=%s is a decryption key, but %s "
                                         "holds no private key",
                                         file, r->line, r->cert_id, c->file));
            }
        }
    }
    for (i = 0; i < found->nelts; i++) {
        errors += APR_ARRAY_IDX(found, i, finding_t).error;
    }
    if (cli->json) {
        json_t *o = json_object(), *list = json_array();
        for (i = 0; i < found->nelts; i++) {
            const finding_t *f = &APR_ARRAY_IDX(found, i, finding_t);
            json_array_append_new(list,
                                  json_pack("{s:s, s:i, s:s?, s:s}", "level",
                                            f->error ? "error" : "warning", "line", f->line, "tag",
                                            f->tag ? apr_psprintf(p, "VJWT%05d", f->tag) : NULL,
                                            "text", f->text));
        }
        json_object_set_new(o, "file", json_string(file));
        json_object_set_new(o, "clean", json_boolean(found->nelts == 0));
        json_object_set_new(o, "errors", json_integer(errors));
        json_object_set_new(o, "warnings", json_integer(found->nelts - errors));
        json_object_set_new(o, "findings", list);
        print_json(o);
    }
    else {
        for (i = 0; i < found->nelts; i++) {
            const finding_t *f = &APR_ARRAY_IDX(found, i, finding_t);
            printf("%s:%s%s %s: %s%s%s\n", file, f->line ? apr_itoa(p, f->line) : "",
                   f->line ? ":" : "", f->error ? "error" : "warning",
                   f->tag ? apr_psprintf(p, "VJWT%05d", f->tag) : "", f->tag ? ": " : "", f->text);
        }
        printf("%s: %d error(s), %d warning(s)\n", file, errors, found->nelts - errors);
    }
    return found->nelts ? 1 : 0;
}

int main(int argc, char **argv)
{
    apr_pool_t *p, *rp;
    cli_t cli;
    const char *token;
    vjwt_store_t *store;
    apr_status_t rc = APR_EGENERAL;
    vjwt_verdict_t v;
    vjwt_token_t *t = NULL;
    vjwt_validate_opts_t vo;
    vjwt_jwe_ctx_t *jwe_ctx = NULL;
    const char *err = NULL;
    long i;

    apr_app_initialize(&argc, (const char *const **)&argv, NULL);
    atexit(apr_terminate);
    apr_pool_create(&p, NULL);
    memset(&cli, 0, sizeof(cli));
    cli.pol = vjwt_policy_make(p);
    cli.registry = apr_array_make(p, 2, sizeof(vjwt_ks_source_t *));
    cli.now = (double)apr_time_now() / APR_USEC_PER_SEC;
    cli.repeat = 1;
    cli.named = apr_hash_make(p);

    cli.certs = apr_hash_make(p);

    parse_options(&cli, p, argc, (const char *const *)argv, 0);
    if (cli.lint && cli.policy) {
        fprintf(stderr, "validate-jwt: --lint and --policy: give one of them\n");
        exit(2);
    }
    if (!cli.lint) {
        read_policy(&cli, p);
    }
    parse_options(&cli, p, argc, (const char *const *)argv, 1);
    if (cli.lint) {
        return run_lint(&cli, p);
    }
    check_certrefs(&cli, p);
    warn_weak_keys(p, cli.pol);
    token = read_token(p, cli.token);
    if (cli.offline) {
        /* static keys only: no key source is fetched */
        cli.pol->sources = NULL;
        apr_array_clear(cli.registry);
    }
    store = build_store(p, cli.registry, &cli.proxy);

    /* the JWE context, once for the run (encrypted tokens) */
    memset(&vo, 0, sizeof(vo));
    if (vjwt_jwe_ctx_make(&jwe_ctx, p, &err) != APR_SUCCESS) {
        fprintf(stderr, "validate-jwt: encrypted tokens can't be decrypted: %s\n", err);
    }
    vo.jwe_ctx = jwe_ctx;

    /* validate (--repeat times, for benchmarks) */
    apr_pool_create(&rp, p);
    for (i = 0; i < cli.repeat; i++) {
        apr_pool_clear(rp);
        rc =
            vjwt_validate_stored_ex(rp, store, cli.pol, &vo, token, strlen(token), cli.now, &t, &v);
    }
    return cli.json ? print_result_json(rp, &cli, rc, t, &v)
                    : (print_result(rp, &cli, rc, t, &v) || authorize(rp, t));
}
