/* vjwt_keyspec.c - one key-spec grammar (directive, policy file <key>, CLI --key), its loader
 * and the configuration-time key notes (vjwt_keyspec.h). */
#include <string.h>
#include <apr_strings.h>
#include <apr_lib.h>
#include <openssl/crypto.h>

#include "vjwt_keyspec.h"
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

apr_status_t vjwt_keyspec_parse(vjwt_keyspec_t *out, apr_pool_t *p, const char *const *words,
                                int nwords, const char **err)
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
            return fail(err,
                        apr_psprintf(p, "expected [id=KID] and one key (" KEY_FORMS "), got '%s'",
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
        return fail(err, "needs a key: " KEY_FORMS);
    }
    return classify(out, p, value, err);
}

apr_status_t vjwt_keyspec_parse_text(vjwt_keyspec_t *out, apr_pool_t *p, const char *text,
                                     const char **err)
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
    return vjwt_keyspec_parse(out, p, (const char *const *)words->elts, words->nelts, err);
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
