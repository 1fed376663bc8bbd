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
 *
 * Prints the verdict (OK or the reason and detail), the header and the payload, and exits
 * 0 when the token is accepted, 1 when rejected, 2 on usage or key errors. Key warnings
 * (short HMAC secret, RSA key below the floor, skipped keys of a key file) go to stderr.
 *
 * The token is judged by vjwt_validate_stored, the entry point the module uses: with URLs,
 * a key store of this process (default options, no shared cache) fetches the discovery
 * documents and JWK Sets, an unknown kid refetches once, and a source that gave no keys
 * makes a signature failure KeysUnavailable. The store's warnings go to stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <apr_general.h>
#include <apr_getopt.h>
#include <apr_strings.h>
#include <apr_time.h>

#include "vjwt.h"

static void usage(void)
{
    fprintf(stderr,
            "usage: validate-jwt [--key '[id=KID] file:PATH|n=.. e=..|BASE64'] [--aud A] [--iss I] "
            "[--claim NAME=VALUE] [--alg ALG] [--skew S] [--no-exp] [--unsigned-ok] "
            "[--now EPOCH] [--min-rsa-bits N] [--repeat N] [--openid-config URL] "
            "[--jwks-uri URL] TOKEN|-\n");
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

/* Warnings about keys that verify nothing (or less) under the final --min-rsa-bits. */
static void warn_weak_keys(apr_pool_t *p, const vjwt_policy_t *pol)
{
    apr_array_header_t *notes = apr_array_make(p, 1, sizeof(vjwt_note_t));
    int i;
    for (i = 0; pol->keys && i < pol->keys->nelts; i++) {
        vjwt_key_notes(APR_ARRAY_IDX(pol->keys, i, const vjwt_key_t *),
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

/* What the options ask for. */
typedef struct {
    vjwt_policy_t *pol;
    apr_array_header_t *registry; /* vjwt_ks_source_t *: --openid-config, --jwks-uri */
    const char *token;            /* the argument: a token or "-" */
    double now;
    long repeat;
} cli_t;

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
    OPT_JWKS_URI
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
        add_key(p, pol, val);
        break;
    case OPT_OPENID_CONFIG:
        add_source(p, pol, cli->registry, VJWT_KS_DISCOVERY, val);
        break;
    case OPT_JWKS_URI:
        add_source(p, pol, cli->registry, VJWT_KS_JWKS_URL, val);
        break;
    case OPT_AUD:
        push(p, &pol->audiences, val);
        break;
    case OPT_ISS:
        push(p, &pol->issuers, val);
        break;
    case OPT_CLAIM:
        add_claim(p, pol, val);
        break;
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
    default:
        usage();
    }
}

/* Options anywhere on the line (apr_getopt_long, interleaved), then exactly one TOKEN|-.
 * apr_getopt_long refuses a bare "-" (APR_BADCH, past it, the non-option run intact): that
 * one is the token from standard input and stays among the arguments. */
static void parse_options(cli_t *cli, apr_pool_t *p, int argc, const char *const *argv)
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
            apply_option(cli, p, opt, val);
        }
        else if (rv != APR_BADCH || strcmp(os->argv[os->ind - 1], "-") != 0) {
            fprintf(stderr, "validate-jwt: %s: %s\n",
                    rv == APR_BADARG ? "missing or erroneous argument" : "invalid option",
                    os->argv[os->ind - 1]);
            usage();
        }
    }
    if (os->ind != argc - 1) {
        usage();
    }
    cli->token = os->argv[os->ind];
}

/* The token: the argument, or standard input for "-". */
static const char *read_token(apr_pool_t *p, const char *arg)
{
    return strcmp(arg, "-") ? arg : read_stdin(p);
}

/* A key store for --openid-config / --jwks-uri (NULL without them); exits 2 on failure. */
static vjwt_store_t *build_store(apr_pool_t *p, apr_array_header_t *registry)
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
    so.log.is_level = store_is_level;
    so.log.log = store_log;
    if (vjwt_store_make(&store, p, &so, registry) != APR_SUCCESS) {
        fprintf(stderr, "validate-jwt: cannot create the key store\n");
        exit(2);
    }
    return store;
}

/* Header, payload and verdict on stdout; the exit code. */
static int print_result(apr_pool_t *p, apr_status_t rc, const vjwt_token_t *t,
                        const vjwt_verdict_t *v)
{
    if (t && t->jwe_header) {
        printf("jwe:     %s\n", vjwt_json_text(p, t->jwe_header));
    }
    if (t) {
        printf("header:  %s\npayload: %s\n", vjwt_json_text(p, t->header),
               vjwt_json_text(p, t->payload));
    }
    if (rc == APR_SUCCESS) {
        printf("verdict: OK\n");
        return 0;
    }
    printf("verdict: %s\ndetail:  %s\n", vjwt_reason_name(v->reason), v->detail ? v->detail : "");
    return 1;
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

    parse_options(&cli, p, argc, (const char *const *)argv);
    warn_weak_keys(p, cli.pol);
    token = read_token(p, cli.token);
    store = build_store(p, cli.registry);

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
    return print_result(rp, rc, t, &v);
}
