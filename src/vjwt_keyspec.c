/* vjwt_keyspec.c - one key-spec grammar (directive, policy file <key>, CLI --key), its loader
 * and the configuration-time key notes (vjwt_keyspec.h). */
#include <string.h>
#include <apr_strings.h>
#include <apr_lib.h>
#include <apr_file_io.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "vjwt_keyspec.h"
#include "vjwt_b64.h"
#include "vjwt_secret.h"

/* Log tags, documented in docs/log-messages.md; VJWT_TAG(n) keeps the 5-digit form greppable
 * for scripts/check-lognos.sh. */
#define VJWT_TAG(n) (1##n - 100000)

#define KEY_FORMS "BASE64-SECRET, n=... e=..., certificate-id=ID or file:PATH"

static apr_status_t fail(const char **err, const char *msg)
{
    *err = msg;
    return APR_EINVAL;
}

static const char *joined(apr_pool_t *p, const char *const *words, int nwords)
{
    const char *s = "";
    int i;
    for (i = 0; i < nwords; i++) {
        s = apr_pstrcat(p, s, i ? " " : "", words[i], NULL);
    }
    return s;
}

/* The single value (not id=, n=, e=) into its form. */
static apr_status_t classify(vjwt_keyspec_t *out, apr_pool_t *p, const char *value,
                             const char **err)
{
    if (!strncmp(value, "certificate-id=", 15)) {
        if (!value[15]) {
            return fail(err, apr_psprintf(p, "certificate-id= needs an ID, got '%s'", value));
        }
        out->form = VJWT_KEYSPEC_CERT;
        out->cert_id = value + 15;
    }
    else if (!strncmp(value, "file:", 5)) {
        if (!value[5]) {
            return fail(err, apr_psprintf(p, "invalid key file path '%s'", value));
        }
        out->form = VJWT_KEYSPEC_FILE;
        out->path = value + 5;
    }
    else {
        out->form = VJWT_KEYSPEC_SECRET;
        out->secret = value;
    }
    return APR_SUCCESS;
}

#define DECRYPTION_FORMS "BASE64-KEY, certificate-id=ID or file:PATH"

/* A decryption key's words: n=... or e=... is a signing key (checked before the grammar, so
 * that n= alone gets this error too). */
static apr_status_t no_ne(apr_pool_t *p, const char *const *words, int nwords, const char **err)
{
    int i;
    for (i = 0; i < nwords; i++) {
        if (!strncmp(words[i], "n=", 2) || !strncmp(words[i], "e=", 2)) {
            return fail(err, apr_psprintf(p, VJWT_KEYSPEC_NE_NOT_DECRYPTION ", got '%s'",
                                          joined(p, words, nwords)));
        }
    }
    return APR_SUCCESS;
}

static apr_status_t parse_words(vjwt_keyspec_t *out, apr_pool_t *p, const char *const *words,
                                int nwords, const char *forms, const char **err)
{
    const char *n = NULL, *e = NULL, *value = NULL;
    int i;
    memset(out, 0, sizeof(*out));
    out->noun = "key";
    out->source = "inline secret";
    for (i = 0; i < nwords; i++) {
        const char *w = words[i];
        if (i == 0 && !strncmp(w, "id=", 3)) {
            if (!w[3]) {
                return fail(err, apr_psprintf(p, "id= needs a key id, got '%s'", w));
            }
            out->kid = w + 3;
        }
        else if (!strncmp(w, "n=", 2) && !n) {
            n = w + 2;
        }
        else if (!strncmp(w, "e=", 2) && !e) {
            e = w + 2;
        }
        else if (!value && !n && !e) {
            value = w;
        }
        else {
            return fail(err, apr_psprintf(p, "expected [id=KID] and one key (%s), got '%s'", forms,
                                          joined(p, words, nwords)));
        }
    }
    if ((n || e) && value) {
        return fail(err, apr_psprintf(p, "a key is either n=... e=... or one other value, got '%s'",
                                      joined(p, words, nwords)));
    }
    if (n || e) {
        if (!n || !e || !*n || !*e) {
            return fail(err, apr_psprintf(p, "an RSA key needs both n= and e=, got '%s'",
                                          joined(p, words, nwords)));
        }
        out->form = VJWT_KEYSPEC_RSA_NE;
        out->n = n;
        out->e = e;
        return APR_SUCCESS;
    }
    if (!value) {
        return fail(err, apr_psprintf(p, "needs a key: %s", forms));
    }
    return classify(out, p, value, err);
}

apr_status_t vjwt_keyspec_parse(vjwt_keyspec_t *out, apr_pool_t *p, const char *const *words,
                                int nwords, const char **err)
{
    return parse_words(out, p, words, nwords, KEY_FORMS, err);
}

apr_status_t vjwt_keyspec_parse_decryption(vjwt_keyspec_t *out, apr_pool_t *p,
                                           const char *const *words, int nwords, const char **err)
{
    apr_status_t rv = no_ne(p, words, nwords, err);
    if (rv == APR_SUCCESS) {
        rv = parse_words(out, p, words, nwords, DECRYPTION_FORMS, err);
    }
    if (rv == APR_SUCCESS) {
        out->noun = "decryption key";
    }
    return rv;
}

/* text split at white space; a word that starts with file: takes the rest of the text. */
static apr_array_header_t *split_text(apr_pool_t *p, const char *text)
{
    apr_array_header_t *words = apr_array_make(p, 4, sizeof(const char *));
    const char *s = text;
    while (*s) {
        const char *start;
        while (apr_isspace(*s)) {
            s++;
        }
        if (!*s) {
            break;
        }
        start = s;
        if (!strncmp(s, "file:", 5)) {
            s += strlen(s);
            while (s > start && apr_isspace(s[-1])) {
                s--;
            }
            APR_ARRAY_PUSH(words, const char *) = apr_pstrmemdup(p, start, (apr_size_t)(s - start));
            break;
        }
        while (*s && !apr_isspace(*s)) {
            s++;
        }
        APR_ARRAY_PUSH(words, const char *) = apr_pstrmemdup(p, start, (apr_size_t)(s - start));
    }
    return words;
}

apr_status_t vjwt_keyspec_parse_text(vjwt_keyspec_t *out, apr_pool_t *p, const char *text,
                                     const char **err)
{
    apr_array_header_t *words = split_text(p, text);
    return vjwt_keyspec_parse(out, p, (const char *const *)words->elts, words->nelts, err);
}

apr_status_t vjwt_keyspec_parse_decryption_text(vjwt_keyspec_t *out, apr_pool_t *p,
                                                const char *text, const char **err)
{
    apr_array_header_t *words = split_text(p, text);
    return vjwt_keyspec_parse_decryption(out, p, (const char *const *)words->elts, words->nelts,
                                         err);
}

apr_status_t vjwt_keyspec_from_xml(vjwt_keyspec_t *out, apr_pool_t *p, const char *id,
                                   const char *cert_id, const char *n, const char *e,
                                   const char *text, const char **err)
{
    int forms;
    memset(out, 0, sizeof(*out));
    out->kid = id;
    out->noun = "key text";
    out->source = "policy secret";
    if ((n && !e) || (e && !n)) {
        return fail(err, "an RSA key needs both n and e (base64url)");
    }
    forms = (text && *text ? 1 : 0) + (cert_id ? 1 : 0) + (n ? 1 : 0);
    if (forms != 1) {
        return fail(err, apr_psprintf(p,
                                      "a key is exactly one of: base64 text (HMAC secret), "
                                      "certificate-id=\"...\", or n=\"...\" e=\"...\"; this one "
                                      "has %s",
                                      forms ? "several" : "none"));
    }
    if (cert_id) {
        if (!*cert_id) {
            return fail(err, "empty certificate-id");
        }
        out->form = VJWT_KEYSPEC_CERT;
        out->cert_id = cert_id;
    }
    else if (n) {
        out->form = VJWT_KEYSPEC_RSA_NE;
        out->n = n;
        out->e = e;
    }
    else {
        out->form = VJWT_KEYSPEC_SECRET;
        out->secret = text;
    }
    return APR_SUCCESS;
}

static void note(apr_array_header_t *notes, vjwt_log_level_e level, int tag, const char *text)
{
    vjwt_note_t *nt;
    if (!notes) {
        return;
    }
    nt = apr_array_push(notes);
    nt->level = level;
    nt->tag = tag;
    nt->field = VJWT_F_NONE;
    nt->text = text;
}

static apr_status_t load_secret(apr_pool_t *p, const vjwt_keyspec_t *spec, apr_array_header_t *keys,
                                const char **err)
{
    unsigned char *secret;
    apr_size_t len;
    vjwt_key_t *k;
    const char *why = NULL;
    apr_status_t rv;
    if (vjwt_secret_decode(p, spec->secret, spec->noun ? spec->noun : "key", &secret, &len, &why) !=
        APR_SUCCESS) {
        return fail(err, why);
    }
    rv = vjwt_key_from_secret(&k, p, secret, len, &why);
    OPENSSL_cleanse(secret, len);
    if (rv != APR_SUCCESS) {
        return fail(err, why);
    }
    k->kid = spec->kid;
    if (spec->source) {
        k->source = spec->source;
    }
    APR_ARRAY_PUSH(keys, const vjwt_key_t *) = k;
    return APR_SUCCESS;
}

static apr_status_t load_file(apr_pool_t *p, const vjwt_keyspec_t *spec,
                              vjwt_keyspec_path_fn *resolve, void *baton, apr_array_header_t *keys,
                              apr_array_header_t *notes, const char **err)
{
    const char *path = resolve ? resolve(baton, p, spec->path) : spec->path, *why = NULL;
    apr_array_header_t *found = apr_array_make(p, 2, sizeof(const vjwt_key_t *));
    apr_array_header_t *skipped = apr_array_make(p, 1, sizeof(const char *));
    int i;
    if (!path || !*path) {
        return fail(err, apr_psprintf(p, "invalid key file path 'file:%s'", spec->path));
    }
    if (vjwt_keys_from_file(found, p, path, skipped, &why) != APR_SUCCESS) {
        return fail(err, apr_psprintf(p, "cannot use key file '%s': %s", path, why));
    }
    for (i = 0; i < skipped->nelts; i++) {
        note(notes, VJWT_LOG_WARN, VJWT_TAG(00005),
             apr_psprintf(p, "key file %s: key skipped: %s", path,
                          APR_ARRAY_IDX(skipped, i, const char *)));
    }
    if (found->nelts == 0) {
        return fail(err, apr_psprintf(p, "key file '%s' holds no usable key", path));
    }
    for (i = 0; i < found->nelts; i++) {
        if (APR_ARRAY_IDX(found, i, const vjwt_key_t *)->lenient) {
            note(notes, VJWT_LOG_NOTICE, VJWT_TAG(00040),
                 apr_psprintf(p,
                              "key file %s: some key members are standard base64 or padded, "
                              "not base64url; decoded leniently",
                              path));
            break;
        }
    }
    if (spec->kid && found->nelts > 1) {
        return fail(err, apr_psprintf(p,
                                      "id= names one key but '%s' holds %d keys (their own kid "
                                      "members are used)",
                                      path, found->nelts));
    }
    for (i = 0; i < found->nelts; i++) {
        const vjwt_key_t *k = APR_ARRAY_IDX(found, i, const vjwt_key_t *);
        APR_ARRAY_PUSH(keys, const vjwt_key_t *) =
            spec->kid ? vjwt_key_with_kid(p, k, spec->kid) : k;
    }
    return APR_SUCCESS;
}

apr_status_t vjwt_keyspec_load(apr_pool_t *p, const vjwt_keyspec_t *spec,
                               vjwt_keyspec_path_fn *resolve, void *baton, apr_array_header_t *keys,
                               apr_array_header_t *notes, const char **err)
{
    vjwt_key_t *k;
    const char *why = NULL;
    switch (spec->form) {
    case VJWT_KEYSPEC_SECRET:
        return load_secret(p, spec, keys, err);
    case VJWT_KEYSPEC_RSA_NE:
        if (vjwt_key_from_rsa_ne(&k, p, spec->n, spec->e, &why) != APR_SUCCESS) {
            return fail(err, apr_psprintf(p, "invalid RSA key: %s", why));
        }
        k->kid = spec->kid;
        APR_ARRAY_PUSH(keys, const vjwt_key_t *) = k;
        return APR_SUCCESS;
    case VJWT_KEYSPEC_FILE:
        return load_file(p, spec, resolve, baton, keys, notes, err);
    case VJWT_KEYSPEC_CERT:
        return VJWT_KEYSPEC_NEEDS_CERTIFICATE;
    }
    return fail(err, "no key form");
}

vjwt_key_t *vjwt_key_with_kid(apr_pool_t *p, const vjwt_key_t *key, const char *kid)
{
    vjwt_key_t *copy = apr_pmemdup(p, key, sizeof(*key));
    copy->kid = kid;
    return copy;
}

void vjwt_key_notes(const vjwt_key_t *key, int min_rsa_bits, apr_array_header_t *notes)
{
    apr_pool_t *p = notes->pool;
    int len = (int)key->secret_len;
    if (key->kty == VJWT_KTY_OCT && len < 32) {
        note(notes, VJWT_LOG_WARN, VJWT_TAG(00002),
             apr_psprintf(p,
                          "the HMAC secret has %d bytes; HS256 needs at least 32, so no token "
                          "can be verified with it",
                          len));
    }
    else if (key->kty == VJWT_KTY_OCT && len < 64) {
        note(notes, VJWT_LOG_DEBUG, VJWT_TAG(00003),
             apr_psprintf(p, "the HMAC secret has %d bytes; it is not used for %s", len,
                          len < 48 ? "HS384 and HS512" : "HS512"));
    }
    else if (key->kty == VJWT_KTY_RSA && key->bits < min_rsa_bits) {
        note(notes, VJWT_LOG_WARN, VJWT_TAG(00004),
             apr_psprintf(p,
                          "the RSA key has %d bits, below the floor of %d; it verifies nothing "
                          "unless ValidateJWTMinRSAKeyBits allows it",
                          key->bits, min_rsa_bits));
    }
}

/* ------------------------------------------------------------------------------------ */
/* decryption keys                                                                      */

apr_status_t vjwt_keyspec_decryption_from_xml(vjwt_keyspec_t *out, apr_pool_t *p, const char *id,
                                              const char *cert_id, const char *n, const char *e,
                                              const char *text, const char **err)
{
    int forms;
    memset(out, 0, sizeof(*out));
    out->kid = id;
    out->noun = "decryption key text";
    out->source = "policy secret";
    if (n || e) {
        return fail(err, "n/e keys are signing keys only; a decryption key is base64 text or "
                         "certificate-id");
    }
    forms = (text && *text ? 1 : 0) + (cert_id ? 1 : 0);
    if (forms != 1) {
        return fail(err, apr_psprintf(p,
                                      "a decryption key is exactly one of: base64 text (a "
                                      "symmetric key) or certificate-id=\"...\"; this one has %s",
                                      forms ? "both" : "none"));
    }
    if (cert_id) {
        if (!*cert_id) {
            return fail(err, "empty certificate-id");
        }
        out->form = VJWT_KEYSPEC_CERT;
        out->cert_id = cert_id;
        return APR_SUCCESS;
    }
    out->form = VJWT_KEYSPEC_SECRET;
    out->secret = text;
    return APR_SUCCESS;
}

#define PRIVATE_KEYS_INSTEAD                                                                       \
    "a private key is given with file:PATH or certificate-id=ID (ValidateJWTCertificate)"

/* The vjwt_secret_decode rules, worded for a symmetric decryption key: standard base64, and
 * no pasted PEM or DER key or certificate. The caller wipes *out. */
static apr_status_t decode_symmetric(apr_pool_t *p, const vjwt_keyspec_t *spec, unsigned char **out,
                                     apr_size_t *len, const char **err)
{
    const char *noun = spec->noun ? spec->noun : "decryption key", *why = NULL, *cut;
    *out = NULL;
    if (strstr(spec->secret, "-----BEGIN")) {
        return fail(err, apr_psprintf(p, "the %s is PEM text, not a symmetric key; %s", noun,
                                      PRIVATE_KEYS_INSTEAD));
    }
    if (vjwt_b64_decode(p, spec->secret, strlen(spec->secret), out, len) != APR_SUCCESS ||
        *len == 0) {
        return fail(err, apr_psprintf(p,
                                      "the %s is not valid base64 (inline, a decryption key is a "
                                      "base64 symmetric key; %s)",
                                      noun, PRIVATE_KEYS_INSTEAD));
    }
    if (vjwt_secret_check(*out, *len, &why) != APR_SUCCESS) {
        OPENSSL_cleanse(*out, *len);
        cut = strstr(why, ", not ");
        return fail(err, apr_psprintf(p, "the %s is %s, not a symmetric key; %s", noun,
                                      cut ? apr_pstrmemdup(p, why, (apr_size_t)(cut - why)) : why,
                                      PRIVATE_KEYS_INSTEAD));
    }
    return APR_SUCCESS;
}

static apr_status_t load_decryption_secret(apr_pool_t *p, const vjwt_keyspec_t *spec,
                                           apr_array_header_t *keys, const char **err)
{
    unsigned char *secret;
    apr_size_t len;
    vjwt_jwe_key_t *k = NULL;
    const char *why = NULL;
    apr_status_t rv = decode_symmetric(p, spec, &secret, &len, err);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = vjwt_jwe_key_from_secret(&k, p, spec->kid, secret, len, &why);
    OPENSSL_cleanse(secret, len);
    if (rv != APR_SUCCESS) {
        return fail(err, apr_psprintf(p, "%s, got %d", why, (int)len));
    }
    if (spec->source) {
        k->source = spec->source;
    }
    APR_ARRAY_PUSH(keys, const vjwt_jwe_key_t *) = k;
    return APR_SUCCESS;
}

static apr_status_t load_decryption_file(apr_pool_t *p, const vjwt_keyspec_t *spec,
                                         vjwt_keyspec_path_fn *resolve, void *baton,
                                         apr_array_header_t *keys, const char **err)
{
    const char *path = resolve ? resolve(baton, p, spec->path) : spec->path, *why = NULL, *why2;
    apr_array_header_t *pub = apr_array_make(p, 1, sizeof(const vjwt_key_t *));
    vjwt_jwe_key_t *k = NULL;
    if (!path || !*path) {
        return fail(err, apr_psprintf(p, "invalid key file path 'file:%s'", spec->path));
    }
    if (vjwt_jwe_key_from_file(&k, p, spec->kid, path, &why) == APR_SUCCESS) {
        APR_ARRAY_PUSH(keys, const vjwt_jwe_key_t *) = k;
        return APR_SUCCESS;
    }
    if (vjwt_keys_from_file(pub, p, path, NULL, &why2) == APR_SUCCESS && pub->nelts) {
        return fail(err, apr_psprintf(p,
                                      "'%s' holds a public key or certificate; a decryption key "
                                      "needs the private key (PEM or DER, RSA or EC)",
                                      path));
    }
    return fail(err, apr_psprintf(p, "cannot use decryption key file '%s': %s", path, why));
}

apr_status_t vjwt_keyspec_load_decryption(apr_pool_t *p, const vjwt_keyspec_t *spec,
                                          vjwt_keyspec_path_fn *resolve, void *baton,
                                          apr_array_header_t *keys, const char **err)
{
    switch (spec->form) {
    case VJWT_KEYSPEC_SECRET:
        return load_decryption_secret(p, spec, keys, err);
    case VJWT_KEYSPEC_FILE:
        return load_decryption_file(p, spec, resolve, baton, keys, err);
    case VJWT_KEYSPEC_CERT:
        return VJWT_KEYSPEC_NEEDS_CERTIFICATE;
    case VJWT_KEYSPEC_RSA_NE:
        return fail(err, VJWT_KEYSPEC_NE_NOT_DECRYPTION);
    }
    return fail(err, "no key form");
}

void vjwt_decryption_key_notes(const vjwt_jwe_key_t *key, int min_rsa_bits,
                               apr_array_header_t *notes)
{
    if (key->kind == VJWT_JWE_KEY_RSA && key->bits < min_rsa_bits) {
        note(notes, VJWT_LOG_WARN, VJWT_TAG(00300),
             apr_psprintf(notes->pool,
                          "the RSA decryption key has %d bits, below the floor of %d; it "
                          "decrypts nothing unless ValidateJWTMinRSAKeyBits allows it",
                          key->bits, min_rsa_bits));
    }
}

vjwt_jwe_key_t *vjwt_jwe_key_with_kid(apr_pool_t *p, const vjwt_jwe_key_t *key, const char *kid)
{
    vjwt_jwe_key_t *copy = apr_pmemdup(p, key, sizeof(*key));
    copy->kid = kid;
    return copy;
}

/* ------------------------------------------------------------------------------------ */
/* ValidateJWTCertificate files                                                         */

#define CERT_FILE_MAX (1024 * 1024)

/* The file's bytes (NUL-terminated) in *buf; the caller wipes them. */
static apr_status_t read_small_file(apr_pool_t *p, const char *path, char **buf, apr_size_t *len,
                                    const char **err)
{
    apr_file_t *f = NULL;
    apr_finfo_t fi;
    apr_status_t rv;
    if (apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY, APR_FPROT_OS_DEFAULT, p) !=
        APR_SUCCESS) {
        return fail(err, apr_psprintf(p, "cannot open '%s'", path));
    }
    if (apr_file_info_get(&fi, APR_FINFO_SIZE, f) != APR_SUCCESS || fi.size <= 0 ||
        fi.size > CERT_FILE_MAX) {
        apr_file_close(f);
        return fail(err, apr_psprintf(p, "'%s' is empty, unreadable or larger than 1 MiB", path));
    }
    *buf = apr_palloc(p, (apr_size_t)fi.size + 1);
    rv = apr_file_read_full(f, *buf, (apr_size_t)fi.size, len);
    apr_file_close(f);
    if (rv != APR_SUCCESS || *len != (apr_size_t)fi.size) {
        OPENSSL_cleanse(*buf, (apr_size_t)fi.size);
        return fail(err, apr_psprintf(p, "cannot read '%s'", path));
    }
    (*buf)[*len] = 0;
    return APR_SUCCESS;
}

/* When buf (PEM) holds a certificate, its key must be pkey's public half. */
static apr_status_t cert_matches(apr_pool_t *p, const char *path, const char *buf, apr_size_t len,
                                 EVP_PKEY *pkey, const char **err)
{
    BIO *bio = BIO_new_mem_buf(buf, (int)len);
    X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    EVP_PKEY *cpub = x ? X509_get0_pubkey(x) : NULL;
    int same = !x || (cpub && EVP_PKEY_eq(cpub, pkey) == 1);
    X509_free(x);
    BIO_free(bio);
    ERR_clear_error();
    return same ? APR_SUCCESS
                : fail(err, apr_psprintf(p,
                                         "the certificate in '%s' does not hold the public key "
                                         "of its private key",
                                         path));
}

/* The verification key of pkey's public half. */
static apr_status_t public_half(apr_pool_t *p, EVP_PKEY *pkey, const vjwt_key_t **sig,
                                const char **err)
{
    unsigned char *der = NULL;
    int len = i2d_PUBKEY(pkey, &der);
    vjwt_key_t *k = NULL;
    apr_status_t rv;
    if (len <= 0) {
        ERR_clear_error();
        return fail(err, "cannot encode the public half of the private key");
    }
    rv = vjwt_key_from_pem(&k, p, (const char *)der, (apr_size_t)len, err);
    OPENSSL_free(der);
    *sig = k;
    return rv;
}

/* The private-key form of a certificate file's bytes; *err says why it is not one. */
static apr_status_t load_private_certificate(apr_pool_t *p, const char *path, const char *buf,
                                             apr_size_t len, const vjwt_key_t **sig,
                                             const vjwt_jwe_key_t **dec, const char **err)
{
    vjwt_jwe_key_t *k = NULL;
    apr_status_t rv = vjwt_jwe_key_from_pem(&k, p, NULL, buf, len, err);
    if (rv == APR_SUCCESS) {
        k->source = apr_pstrcat(p, "file:", path, NULL);
        rv = cert_matches(p, path, buf, len, k->pkey, err);
    }
    if (rv == APR_SUCCESS) {
        rv = public_half(p, k->pkey, sig, err);
    }
    *dec = rv == APR_SUCCESS ? k : NULL;
    return rv;
}

apr_status_t vjwt_keyspec_load_certificate(apr_pool_t *p, const char *path, const vjwt_key_t **sig,
                                           const vjwt_jwe_key_t **dec, apr_array_header_t *notes,
                                           const char **err)
{
    vjwt_keyspec_t spec = {.form = VJWT_KEYSPEC_FILE, .path = path};
    apr_array_header_t *found = apr_array_make(p, 1, sizeof(const vjwt_key_t *));
    const char *pub_err = NULL, *priv_err = NULL;
    char *buf = NULL;
    apr_size_t len = 0;
    int looks_private;
    apr_status_t rv;
    *sig = NULL;
    *dec = NULL;
    if (vjwt_keyspec_load(p, &spec, NULL, NULL, found, notes, &pub_err) == APR_SUCCESS) {
        if (found->nelts != 1) {
            return fail(err, apr_psprintf(p,
                                          "'%s' must hold exactly one certificate or public key, "
                                          "or one private key",
                                          path));
        }
        *sig = APR_ARRAY_IDX(found, 0, const vjwt_key_t *);
        return APR_SUCCESS;
    }
    if (read_small_file(p, path, &buf, &len, &priv_err) != APR_SUCCESS) {
        return fail(err, pub_err);
    }
    rv = load_private_certificate(p, path, buf, len, sig, dec, &priv_err);
    looks_private = strstr(buf, "PRIVATE KEY-----") != NULL;
    OPENSSL_cleanse(buf, len);
    if (rv == APR_SUCCESS) {
        return APR_SUCCESS;
    }
    /* say what is wrong with the kind of file it looks like */
    return fail(err, looks_private
                         ? apr_psprintf(p, "cannot use private key file '%s': %s", path, priv_err)
                         : pub_err);
}
