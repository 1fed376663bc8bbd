/*
 * test_keyspec.c - the key-spec grammar shared by ValidateJWTIssuerSigningKey, a policy
 * file's <key> and the CLI's --key (src/vjwt_keyspec.c): every form and every error of the
 * word parser and of the XML builder, the loader (secret, n/e, file with its notes,
 * certificate-id left to the caller), vjwt_key_with_kid sharing the EVP_PKEY, and the
 * weak-key notes.
 */
#include "testutil.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <apr_strings.h>
#include <openssl/core_names.h>
#include <openssl/encoder.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "vjwt_keyspec.h"

#define POOL ((apr_pool_t *)*state)

/* "0123456789abcdef0123456789abcdef": a 32-byte HMAC secret. */
#define SECRET32_B64 "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
/* 64 bytes of 'a' */
#define SECRET64_B64                                                                               \
    "YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYQ=="

static EVP_PKEY *g_rsa, *g_rsa1024, *g_ec;

static int group_setup(void **state)
{
    (void)state;
    vjwt_test_init();
    g_rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    g_rsa1024 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    g_ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    return g_rsa && g_rsa1024 && g_ec ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    EVP_PKEY_free(g_rsa);
    EVP_PKEY_free(g_rsa1024);
    EVP_PKEY_free(g_ec);
    return 0;
}

static const char *write_temp(apr_pool_t *p, const char *data)
{
    char *path = apr_pstrdup(p, "/tmp/vjwt-test-keyspec-XXXXXX");
    int fd = mkstemp(path);
    apr_size_t len = strlen(data);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
    return path;
}

/* Parses the words (NULL-terminated) and expects success. */
static vjwt_keyspec_t parse_ok(apr_pool_t *p, apr_array_header_t *words)
{
    vjwt_keyspec_t s;
    const char *err = NULL;
    if (vjwt_keyspec_parse(&s, p, (const char *const *)words->elts, words->nelts, &err) !=
        APR_SUCCESS) {
        fail_msg("parse failed: %s", err ? err : "(no error)");
    }
    return s;
}

static void parse_err(apr_pool_t *p, apr_array_header_t *words, const char *want)
{
    vjwt_keyspec_t s;
    const char *err = NULL;
    assert_int_equal(
        vjwt_keyspec_parse(&s, p, (const char *const *)words->elts, words->nelts, &err),
        APR_EINVAL);
    assert_contains(err, want);
}

static const vjwt_key_t *key_at(const apr_array_header_t *keys, int i)
{
    return APR_ARRAY_IDX(keys, i, const vjwt_key_t *);
}

static const vjwt_note_t *note_at(const apr_array_header_t *notes, int i)
{
    return &APR_ARRAY_IDX(notes, i, vjwt_note_t);
}

/* ---- the word grammar ------------------------------------------------------------------ */

static void t_parse_forms(void **state)
{
    apr_pool_t *p = POOL;
    const char *err = NULL;
    vjwt_keyspec_t s = parse_ok(p, strs(p, SECRET32_B64));
    assert_int_equal(s.form, VJWT_KEYSPEC_SECRET);
    assert_null(s.kid);
    assert_string_equal(s.secret, SECRET32_B64);

    s = parse_ok(p, strs(p, "id=k1", SECRET32_B64));
    assert_int_equal(s.form, VJWT_KEYSPEC_SECRET);
    assert_string_equal(s.kid, "k1");

    s = parse_ok(p, strs(p, "id=r", "n=NNN", "e=AQAB"));
    assert_int_equal(s.form, VJWT_KEYSPEC_RSA_NE);
    assert_string_equal(s.kid, "r");
    assert_string_equal(s.n, "NNN");
    assert_string_equal(s.e, "AQAB");
    s = parse_ok(p, strs(p, "e=AQAB", "n=NNN")); /* any order */
    assert_int_equal(s.form, VJWT_KEYSPEC_RSA_NE);
    assert_string_equal(s.n, "NNN");

    s = parse_ok(p, strs(p, "id=c", "certificate-id=my-cert"));
    assert_int_equal(s.form, VJWT_KEYSPEC_CERT);
    assert_string_equal(s.cert_id, "my-cert");
    assert_string_equal(s.kid, "c");

    s = parse_ok(p, strs(p, "file:/etc/x.pem"));
    assert_int_equal(s.form, VJWT_KEYSPEC_FILE);
    assert_string_equal(s.path, "/etc/x.pem");

    /* the CLI's one value: split at white space, file: takes the rest */
    assert_int_equal(vjwt_keyspec_parse_text(&s, p, "  id=k2   n=NN  e=AQAB ", &err), APR_SUCCESS);
    assert_int_equal(s.form, VJWT_KEYSPEC_RSA_NE);
    assert_string_equal(s.kid, "k2");
    assert_string_equal(s.e, "AQAB");
    assert_int_equal(vjwt_keyspec_parse_text(&s, p, "id=f file:/a dir/k.pem  ", &err), APR_SUCCESS);
    assert_int_equal(s.form, VJWT_KEYSPEC_FILE);
    assert_string_equal(s.path, "/a dir/k.pem");
}

static void t_parse_errors(void **state)
{
    apr_pool_t *p = POOL;
    const char *err = NULL;
    vjwt_keyspec_t s;
    parse_err(p, strs(p, "id=", SECRET32_B64), "id= needs a key id, got 'id='");
    parse_err(p, strs(p, "n=NNN"), "an RSA key needs both n= and e=, got 'n=NNN'");
    parse_err(p, strs(p, "e=AQAB"), "an RSA key needs both n= and e=");
    parse_err(p, strs(p, "n=", "e=AQAB"), "an RSA key needs both n= and e=");
    parse_err(p, strs(p, SECRET32_B64, SECRET32_B64),
              "expected [id=KID] and one key (BASE64-SECRET, n=... e=..., certificate-id=ID or "
              "file:PATH), got '" SECRET32_B64 " " SECRET32_B64 "'");
    parse_err(p, strs(p, "n=A", "e=B", "n=C"), "expected [id=KID] and one key");
    parse_err(p, strs(p, "n=A", "e=B", SECRET32_B64), "expected [id=KID] and one key");
    parse_err(p, strs(p, "certificate-id=c", "n=A", "e=B"),
              "a key is either n=... e=... or one other value, got 'certificate-id=c n=A e=B'");
    parse_err(p, strs(p, "k", "id=x"), "expected [id=KID] and one key");
    parse_err(p, strs(p, "certificate-id="), "certificate-id= needs an ID, got 'certificate-id='");
    parse_err(p, strs(p, "file:"), "invalid key file path 'file:'");
    parse_err(p, strs(p, "id=k"),
              "needs a key: BASE64-SECRET, n=... e=..., certificate-id=ID or file:PATH");
    assert_int_equal(vjwt_keyspec_parse(&s, p, NULL, 0, &err), APR_EINVAL);
    assert_contains(err, "needs a key");
    assert_int_equal(vjwt_keyspec_parse_text(&s, p, "n=AA,e=AQAB", &err), APR_EINVAL);
    assert_contains(err, "an RSA key needs both n= and e=");
}

/* ---- the XML builder ------------------------------------------------------------------- */

static void t_from_xml(void **state)
{
    apr_pool_t *p = POOL;
    vjwt_keyspec_t s;
    const char *err = NULL;
    assert_int_equal(vjwt_keyspec_from_xml(&s, p, "h", NULL, NULL, NULL, SECRET32_B64, &err),
                     APR_SUCCESS);
    assert_int_equal(s.form, VJWT_KEYSPEC_SECRET);
    assert_string_equal(s.kid, "h");
    assert_string_equal(s.source, "policy secret");
    assert_int_equal(vjwt_keyspec_from_xml(&s, p, NULL, NULL, "NN", "AQAB", "", &err), APR_SUCCESS);
    assert_int_equal(s.form, VJWT_KEYSPEC_RSA_NE);
    assert_int_equal(vjwt_keyspec_from_xml(&s, p, "c", "cert", NULL, NULL, "", &err), APR_SUCCESS);
    assert_int_equal(s.form, VJWT_KEYSPEC_CERT);
    assert_string_equal(s.cert_id, "cert");

    assert_int_equal(vjwt_keyspec_from_xml(&s, p, NULL, NULL, "NN", NULL, "", &err), APR_EINVAL);
    assert_string_equal(err, "an RSA key needs both n and e (base64url)");
    assert_int_equal(vjwt_keyspec_from_xml(&s, p, NULL, NULL, NULL, "AQAB", "", &err), APR_EINVAL);
    assert_string_equal(err, "an RSA key needs both n and e (base64url)");
    assert_int_equal(vjwt_keyspec_from_xml(&s, p, NULL, NULL, NULL, NULL, "", &err), APR_EINVAL);
    assert_contains(err, "a key is exactly one of: base64 text (HMAC secret), "
                         "certificate-id=\"...\", or n=\"...\" e=\"...\"; this one has none");
    assert_int_equal(vjwt_keyspec_from_xml(&s, p, NULL, "c", NULL, NULL, SECRET32_B64, &err),
                     APR_EINVAL);
    assert_contains(err, "this one has several");
    assert_int_equal(vjwt_keyspec_from_xml(&s, p, NULL, "c", "NN", "AQAB", "", &err), APR_EINVAL);
    assert_contains(err, "this one has several");
    assert_int_equal(vjwt_keyspec_from_xml(&s, p, NULL, "", NULL, NULL, "", &err), APR_EINVAL);
    assert_string_equal(err, "empty certificate-id");
}

/* ---- the loader ------------------------------------------------------------------------ */

static apr_status_t load(apr_pool_t *p, const char *text, apr_array_header_t *keys,
                         apr_array_header_t *notes, const char **err)
{
    vjwt_keyspec_t s;
    if (vjwt_keyspec_parse_text(&s, p, text, err) != APR_SUCCESS) {
        fail_msg("parse failed: %s", *err);
    }
    return vjwt_keyspec_load(p, &s, NULL, NULL, keys, notes, err);
}

static void t_load_secret_ne_cert(void **state)
{
    apr_pool_t *p = POOL;
    apr_array_header_t *keys = apr_array_make(p, 2, sizeof(const vjwt_key_t *));
    apr_array_header_t *notes = apr_array_make(p, 2, sizeof(vjwt_note_t));
    const char *err = NULL;

    assert_int_equal(load(p, "id=h " SECRET32_B64, keys, notes, &err), APR_SUCCESS);
    assert_int_equal(keys->nelts, 1);
    assert_int_equal(key_at(keys, 0)->kty, VJWT_KTY_OCT);
    assert_string_equal(key_at(keys, 0)->kid, "h");
    assert_string_equal(key_at(keys, 0)->source, "inline secret");
    assert_memory_equal(key_at(keys, 0)->secret, "0123456789abcdef0123456789abcdef", 32);

    assert_int_equal(
        load(p,
             apr_psprintf(p, "id=r n=%s e=%s", bn_b64url(p, g_rsa, OSSL_PKEY_PARAM_RSA_N),
                          bn_b64url(p, g_rsa, OSSL_PKEY_PARAM_RSA_E)),
             keys, notes, &err),
        APR_SUCCESS);
    assert_int_equal(keys->nelts, 2);
    assert_int_equal(key_at(keys, 1)->kty, VJWT_KTY_RSA);
    assert_int_equal(key_at(keys, 1)->bits, 2048);
    assert_string_equal(key_at(keys, 1)->kid, "r");

    /* certificate-id: nothing loaded, the caller resolves it */
    assert_int_equal(load(p, "certificate-id=c", keys, notes, &err),
                     VJWT_KEYSPEC_NEEDS_CERTIFICATE);
    assert_int_equal(keys->nelts, 2);
    assert_int_equal(notes->nelts, 0);

    /* errors: not base64, a public key pasted as a secret, a bad modulus */
    assert_int_equal(load(p, "not*base64", keys, notes, &err), APR_EINVAL);
    assert_contains(err, "the key is not valid base64");
    assert_int_equal(load(p, "-----BEGIN", keys, notes, &err), APR_EINVAL);
    assert_contains(err, "file:");
    assert_int_equal(load(p, "n=!!! e=AQAB", keys, notes, &err), APR_EINVAL);
    assert_contains(err, "invalid RSA key: ");
    assert_int_equal(keys->nelts, 2);
}

static const char *jwk_rsa(apr_pool_t *p, EVP_PKEY *k, const char *kid, const char *extra)
{
    return apr_psprintf(p, "{\"kty\":\"RSA\",\"kid\":\"%s\",\"n\":\"%s\",\"e\":\"%s\"%s}", kid,
                        bn_b64url(p, k, OSSL_PKEY_PARAM_RSA_N),
                        bn_b64url(p, k, OSSL_PKEY_PARAM_RSA_E), extra);
}

static void t_load_file(void **state)
{
    apr_pool_t *p = POOL;
    apr_array_header_t *keys = apr_array_make(p, 2, sizeof(const vjwt_key_t *));
    apr_array_header_t *notes = apr_array_make(p, 2, sizeof(vjwt_note_t));
    const char *err = NULL;
    /* two keys and one for encryption (skipped) */
    const char *two =
        write_temp(p, apr_psprintf(p, "{\"keys\":[%s,%s,%s]}", jwk_rsa(p, g_rsa, "a", ""),
                                   jwk_rsa(p, g_rsa1024, "b", ""),
                                   jwk_rsa(p, g_rsa, "x", ",\"use\":\"enc\"")));
    /* one key, e padded: decoded leniently */
    const char *one =
        write_temp(p, apr_psprintf(p, "{\"keys\":[%s]}",
                                   apr_psprintf(p,
                                                "{\"kty\":\"RSA\",\"kid\":\"o\","
                                                "\"n\":\"%s\",\"e\":\"AQAB\"}",
                                                bn_b64url(p, g_rsa, OSSL_PKEY_PARAM_RSA_N))));

    assert_int_equal(load(p, apr_pstrcat(p, "file:", two, NULL), keys, notes, &err), APR_SUCCESS);
    assert_int_equal(keys->nelts, 2);
    assert_string_equal(key_at(keys, 0)->kid, "a");
    assert_string_equal(key_at(keys, 1)->kid, "b");
    assert_int_equal(notes->nelts, 1);
    assert_int_equal(note_at(notes, 0)->level, VJWT_LOG_WARN);
    assert_int_equal(note_at(notes, 0)->tag, 5);
    assert_contains(note_at(notes, 0)->text, apr_psprintf(p, "key file %s: key skipped: ", two));

    /* id= with a file of two keys: an error, nothing added, the skip note still given */
    apr_array_clear(notes);
    assert_int_equal(load(p, apr_pstrcat(p, "id=k file:", two, NULL), keys, notes, &err),
                     APR_EINVAL);
    assert_string_equal(err, apr_psprintf(p,
                                          "id= names one key but '%s' holds 2 keys (their own "
                                          "kid members are used)",
                                          two));
    assert_int_equal(keys->nelts, 2);
    assert_int_equal(notes->nelts, 1);

    /* id= with a one-key file: the key gets that id */
    apr_array_clear(notes);
    assert_int_equal(load(p, apr_pstrcat(p, "id=mine file:", one, NULL), keys, notes, &err),
                     APR_SUCCESS);
    assert_int_equal(keys->nelts, 3);
    assert_string_equal(key_at(keys, 2)->kid, "mine");
    assert_int_equal(notes->nelts, 0);

    /* a missing file; a resolver that refuses */
    assert_int_equal(load(p, "file:/nonexistent/vjwt-key.pem", keys, notes, &err), APR_EINVAL);
    assert_contains(err, "cannot use key file '/nonexistent/vjwt-key.pem': ");
    unlink(two);
    unlink(one);
}

static const char *refuse(void *baton, apr_pool_t *p, const char *path)
{
    (void)baton;
    (void)p;
    (void)path;
    return NULL;
}

static const char *under_tmp(void *baton, apr_pool_t *p, const char *path)
{
    return apr_pstrcat(p, (const char *)baton, path, NULL);
}

static void t_load_file_notes(void **state)
{
    apr_pool_t *p = POOL;
    apr_array_header_t *keys = apr_array_make(p, 2, sizeof(const vjwt_key_t *));
    apr_array_header_t *notes = apr_array_make(p, 2, sizeof(vjwt_note_t));
    const char *err = NULL;
    vjwt_keyspec_t s;
    /* one key with a padded member (256 bytes: "=="): decoded leniently, one notice */
    const char *padded =
        write_temp(p, apr_psprintf(p, "{\"kty\":\"RSA\",\"n\":\"%s==\",\"e\":\"AQAB\"}",
                                   bn_b64url(p, g_rsa, OSSL_PKEY_PARAM_RSA_N)));
    const char *useless = write_temp(
        p, apr_psprintf(p, "{\"keys\":[%s]}", jwk_rsa(p, g_rsa, "x", ",\"use\":\"enc\"")));
    const char *slash = strrchr(padded, '/');

    assert_int_equal(vjwt_keyspec_parse_text(&s, p, apr_pstrcat(p, "file:", slash + 1, NULL), &err),
                     APR_SUCCESS);
    assert_int_equal(vjwt_keyspec_load(p, &s, under_tmp,
                                       apr_pstrmemdup(p, padded, (apr_size_t)(slash - padded + 1)),
                                       keys, notes, &err),
                     APR_SUCCESS);
    assert_int_equal(keys->nelts, 1);
    assert_true(key_at(keys, 0)->lenient);
    assert_int_equal(notes->nelts, 1);
    assert_int_equal(note_at(notes, 0)->level, VJWT_LOG_NOTICE);
    assert_int_equal(note_at(notes, 0)->tag, 40);
    assert_contains(note_at(notes, 0)->text, "decoded leniently");
    assert_int_equal(vjwt_keyspec_load(p, &s, refuse, NULL, keys, notes, &err), APR_EINVAL);
    assert_contains(err, "invalid key file path");

    /* no usable key at all */
    apr_array_clear(notes);
    assert_int_equal(load(p, apr_pstrcat(p, "file:", useless, NULL), keys, notes, &err),
                     APR_EINVAL);
    assert_string_equal(err, apr_psprintf(p, "key file '%s' holds no usable key", useless));
    assert_int_equal(notes->nelts, 1);
    assert_int_equal(note_at(notes, 0)->tag, 5);
    unlink(padded);
    unlink(useless);
}

/* ---- vjwt_key_with_kid and the notes --------------------------------------------------- */

static void t_key_with_kid(void **state)
{
    apr_pool_t *p = POOL;
    apr_array_header_t *keys = apr_array_make(p, 2, sizeof(const vjwt_key_t *));
    const char *err = NULL;
    const vjwt_key_t *k;
    vjwt_key_t *copy;
    assert_int_equal(
        load(p, apr_psprintf(p, "id=orig n=%s e=AQAB", bn_b64url(p, g_rsa, OSSL_PKEY_PARAM_RSA_N)),
             keys, NULL, &err),
        APR_SUCCESS);
    k = key_at(keys, 0);
    copy = vjwt_key_with_kid(p, k, "other");
    assert_ptr_not_equal(copy, k);
    assert_ptr_equal(copy->pkey, k->pkey); /* shared, owned by the original's pool */
    assert_string_equal(copy->kid, "other");
    assert_string_equal(k->kid, "orig");
    assert_int_equal(copy->bits, k->bits);
    copy = vjwt_key_with_kid(p, k, NULL);
    assert_null(copy->kid);
    assert_ptr_equal(copy->pkey, k->pkey);
}

static void t_key_notes(void **state)
{
    apr_pool_t *p = POOL;
    apr_array_header_t *keys = apr_array_make(p, 4, sizeof(const vjwt_key_t *));
    apr_array_header_t *notes = apr_array_make(p, 2, sizeof(vjwt_note_t));
    const char *err = NULL;
    int i;
    assert_int_equal(load(p, "c2VjcmV0", keys, NULL, &err), APR_SUCCESS); /* 6 bytes */
    assert_int_equal(load(p, SECRET32_B64, keys, NULL, &err), APR_SUCCESS);
    assert_int_equal(load(p, SECRET64_B64, keys, NULL, &err), APR_SUCCESS);
    assert_int_equal(
        load(p, apr_psprintf(p, "n=%s e=AQAB", bn_b64url(p, g_rsa1024, OSSL_PKEY_PARAM_RSA_N)),
             keys, NULL, &err),
        APR_SUCCESS);
    assert_int_equal(
        load(p, apr_psprintf(p, "n=%s e=AQAB", bn_b64url(p, g_rsa, OSSL_PKEY_PARAM_RSA_N)), keys,
             NULL, &err),
        APR_SUCCESS);
    for (i = 0; i < keys->nelts; i++) {
        vjwt_key_notes(key_at(keys, i), 2048, notes);
    }
    assert_int_equal(notes->nelts, 3);
    assert_int_equal(note_at(notes, 0)->level, VJWT_LOG_WARN);
    assert_int_equal(note_at(notes, 0)->tag, 2);
    assert_string_equal(note_at(notes, 0)->text, "the HMAC secret has 6 bytes; HS256 needs at "
                                                 "least 32, so no token can be verified with it");
    assert_int_equal(note_at(notes, 1)->level, VJWT_LOG_DEBUG);
    assert_int_equal(note_at(notes, 1)->tag, 3);
    assert_string_equal(note_at(notes, 1)->text,
                        "the HMAC secret has 32 bytes; it is not used for HS384 and HS512");
    assert_int_equal(note_at(notes, 2)->level, VJWT_LOG_WARN);
    assert_int_equal(note_at(notes, 2)->tag, 4);
    assert_string_equal(note_at(notes, 2)->text,
                        "the RSA key has 1024 bits, below the floor of 2048; it verifies nothing "
                        "unless ValidateJWTMinRSAKeyBits allows it");
    /* a lower floor: no RSA note */
    apr_array_clear(notes);
    vjwt_key_notes(key_at(keys, 3), 1024, notes);
    assert_int_equal(notes->nelts, 0);
}

/* ---- decryption keys ------------------------------------------------------------------- */

/* What of k to write: PKCS#8 PEM, traditional PEM, PKCS#8 DER, the public key, or a
 * self-signed certificate of cert_key after the private key k. */
enum { PEM_PKCS8, PEM_TRAD, DER_PKCS8, PEM_PUBLIC, PEM_KEY_CERT };

static X509 *self_signed(EVP_PKEY *k)
{
    X509 *x = X509_new();
    assert_non_null(x);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, k);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                               (const unsigned char *)"t", -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(x));
    assert_true(X509_sign(x, k, EVP_sha256()) > 0);
    return x;
}

/* "-----BEGIN RSA PRIVATE KEY-----" (PKCS#1) or "EC PRIVATE KEY" (SEC 1). */
static int write_traditional(FILE *f, EVP_PKEY *k)
{
    OSSL_ENCODER_CTX *ctx =
        OSSL_ENCODER_CTX_new_for_pkey(k, EVP_PKEY_KEYPAIR, "PEM", "type-specific", NULL);
    int ok = ctx && OSSL_ENCODER_to_fp(ctx, f) == 1;
    OSSL_ENCODER_CTX_free(ctx);
    return ok;
}

static const char *write_key(apr_pool_t *p, EVP_PKEY *k, int how, EVP_PKEY *cert_key)
{
    char *path = apr_pstrdup(p, "/tmp/vjwt-test-keyspec-XXXXXX");
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "wb");
    X509 *x = NULL;
    int ok = 0;
    assert_non_null(f);
    switch (how) {
    case PEM_PKCS8:
    case PEM_KEY_CERT:
        ok = PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
        break;
    case PEM_TRAD:
        ok = write_traditional(f, k);
        break;
    case DER_PKCS8:
        ok = i2d_PKCS8PrivateKey_fp(f, k, NULL, NULL, 0, NULL, NULL);
        break;
    case PEM_PUBLIC:
        ok = PEM_write_PUBKEY(f, k);
        break;
    }
    if (how == PEM_KEY_CERT) {
        x = self_signed(cert_key);
        ok = ok && PEM_write_X509(f, x);
        X509_free(x);
    }
    fclose(f);
    assert_true(ok);
    return path;
}

static const vjwt_jwe_key_t *dkey_at(const apr_array_header_t *keys, int i)
{
    return APR_ARRAY_IDX(keys, i, const vjwt_jwe_key_t *);
}

static void dparse_err(apr_pool_t *p, const char *text, const char *want)
{
    vjwt_keyspec_t s;
    const char *err = NULL;
    assert_int_equal(vjwt_keyspec_parse_decryption_text(&s, p, text, &err), APR_EINVAL);
    assert_contains(err, want);
}

static void t_decryption_parse(void **state)
{
    apr_pool_t *p = POOL;
    const char *err = NULL;
    vjwt_keyspec_t s;
    apr_array_header_t *w = strs(p, "id=d", SECRET32_B64);
    assert_int_equal(
        vjwt_keyspec_parse_decryption(&s, p, (const char *const *)w->elts, w->nelts, &err),
        APR_SUCCESS);
    assert_int_equal(s.form, VJWT_KEYSPEC_SECRET);
    assert_string_equal(s.kid, "d");
    assert_string_equal(s.noun, "decryption key");
    assert_int_equal(vjwt_keyspec_parse_decryption_text(&s, p, "id=f file:/a dir/k.pem", &err),
                     APR_SUCCESS);
    assert_int_equal(s.form, VJWT_KEYSPEC_FILE);
    assert_string_equal(s.path, "/a dir/k.pem");
    assert_int_equal(vjwt_keyspec_parse_decryption_text(&s, p, "certificate-id=c", &err),
                     APR_SUCCESS);
    assert_int_equal(s.form, VJWT_KEYSPEC_CERT);
    assert_string_equal(s.cert_id, "c");

    dparse_err(p, "n=AQAB e=AQAB", VJWT_KEYSPEC_NE_NOT_DECRYPTION ", got 'n=AQAB e=AQAB'");
    dparse_err(p, "id=k n=AQAB", VJWT_KEYSPEC_NE_NOT_DECRYPTION);
    dparse_err(p, "e=AQAB", VJWT_KEYSPEC_NE_NOT_DECRYPTION);
    dparse_err(p, "", "needs a key: BASE64-KEY, certificate-id=ID or file:PATH");
    dparse_err(p, "id=k", "needs a key: BASE64-KEY");
    dparse_err(p, "id= " SECRET32_B64, "id= needs a key id");
    dparse_err(p, SECRET32_B64 " " SECRET32_B64,
               "expected [id=KID] and one key (BASE64-KEY, certificate-id=ID or file:PATH)");
    dparse_err(p, "certificate-id=", "certificate-id= needs an ID");
    dparse_err(p, "file:", "invalid key file path");
}

static void t_decryption_from_xml(void **state)
{
    apr_pool_t *p = POOL;
    const char *err = NULL;
    vjwt_keyspec_t s;
    assert_int_equal(
        vjwt_keyspec_decryption_from_xml(&s, p, "k", NULL, NULL, NULL, SECRET32_B64, &err),
        APR_SUCCESS);
    assert_int_equal(s.form, VJWT_KEYSPEC_SECRET);
    assert_string_equal(s.kid, "k");
    assert_int_equal(vjwt_keyspec_decryption_from_xml(&s, p, NULL, "c", NULL, NULL, "", &err),
                     APR_SUCCESS);
    assert_int_equal(s.form, VJWT_KEYSPEC_CERT);
    assert_int_equal(vjwt_keyspec_decryption_from_xml(&s, p, NULL, NULL, "AQAB", "AQAB", "", &err),
                     APR_EINVAL);
    assert_string_equal(err, "n/e keys are signing keys only; a decryption key is base64 text or "
                             "certificate-id");
    assert_int_equal(vjwt_keyspec_decryption_from_xml(&s, p, NULL, NULL, NULL, "AQAB", "", &err),
                     APR_EINVAL);
    assert_contains(err, "n/e keys are signing keys only");
    assert_int_equal(
        vjwt_keyspec_decryption_from_xml(&s, p, NULL, "c", NULL, NULL, SECRET32_B64, &err),
        APR_EINVAL);
    assert_contains(err, "this one has both");
    assert_int_equal(vjwt_keyspec_decryption_from_xml(&s, p, NULL, NULL, NULL, NULL, "", &err),
                     APR_EINVAL);
    assert_contains(err, "this one has none");
    assert_int_equal(vjwt_keyspec_decryption_from_xml(&s, p, NULL, "", NULL, NULL, "", &err),
                     APR_EINVAL);
    assert_string_equal(err, "empty certificate-id");
}

static apr_status_t dload(apr_pool_t *p, const char *text, apr_array_header_t *keys,
                          const char **err)
{
    vjwt_keyspec_t s;
    apr_status_t rv = vjwt_keyspec_parse_decryption_text(&s, p, text, err);
    return rv == APR_SUCCESS ? vjwt_keyspec_load_decryption(p, &s, NULL, NULL, keys, err) : rv;
}

static void t_decryption_load_secret(void **state)
{
    apr_pool_t *p = POOL;
    apr_array_header_t *keys = apr_array_make(p, 2, sizeof(const vjwt_jwe_key_t *));
    const char *err = NULL;
    unsigned char *der = NULL;
    char *b64;
    int i, len;
    static const char *const good[] = {
        "MDEyMzQ1Njc4OWFiY2RlZg==",                                         /* 16 */
        "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3",                                 /* 24 */
        SECRET32_B64,                                                       /* 32 */
        "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVm", /* 48 */
        SECRET64_B64,                                                       /* 64 */
    };
    for (i = 0; i < 5; i++) {
        assert_int_equal(dload(p, apr_pstrcat(p, "id=k ", good[i], NULL), keys, &err), APR_SUCCESS);
        assert_int_equal(dkey_at(keys, i)->kind, VJWT_JWE_KEY_OCT);
        assert_string_equal(dkey_at(keys, i)->kid, "k");
        assert_string_equal(dkey_at(keys, i)->source, "inline secret");
    }
    assert_int_equal(dkey_at(keys, 0)->secret_len, 16);
    assert_int_equal(dkey_at(keys, 4)->secret_len, 64);
    /* wrong lengths, not base64, pasted keys: nothing added */
    assert_int_equal(dload(p, "c2VjcmV0", keys, &err), APR_EINVAL);
    assert_string_equal(err, "a symmetric decryption key must be 16, 24, 32, 48 or 64 bytes "
                             "(A*KW: 16/24/32; dir: the enc's key length), got 6");
    assert_int_equal(dload(p, "MDEyMzQ1Njc4OWFiY2RlZjA=", keys, &err), APR_EINVAL);
    assert_contains(err, "got 17");
    assert_int_equal(dload(p, "not*base64!", keys, &err), APR_EINVAL);
    assert_contains(err, "the decryption key is not valid base64 (inline, a decryption key is a "
                         "base64 symmetric key; a private key is given with file:PATH or "
                         "certificate-id=ID");
    assert_int_equal(dload(p, "-----BEGIN", keys, &err), APR_EINVAL);
    assert_contains(err, "the decryption key is PEM text, not a symmetric key");
    len = i2d_PrivateKey(g_ec, &der);
    assert_true(len > 0);
    b64 = apr_palloc(p, (apr_size_t)len * 2 + 4);
    EVP_EncodeBlock((unsigned char *)b64, der, len);
    OPENSSL_free(der);
    assert_int_equal(dload(p, b64, keys, &err), APR_EINVAL);
    assert_contains(err, "the decryption key is a private key, not a symmetric key; a private key "
                         "is given with file:PATH");
    assert_int_equal(keys->nelts, 5);
}

static void t_decryption_load_file(void **state)
{
    apr_pool_t *p = POOL;
    apr_array_header_t *keys = apr_array_make(p, 2, sizeof(const vjwt_jwe_key_t *));
    apr_array_header_t *notes = apr_array_make(p, 2, sizeof(vjwt_note_t));
    const char *err = NULL, *files[4];
    vjwt_keyspec_t s;
    int i;
    files[0] = write_key(p, g_rsa, PEM_PKCS8, NULL);
    files[1] = write_key(p, g_rsa, PEM_TRAD, NULL);
    files[2] = write_key(p, g_ec, DER_PKCS8, NULL);
    files[3] = write_key(p, g_ec, PEM_KEY_CERT, g_ec);
    for (i = 0; i < 4; i++) {
        assert_int_equal(dload(p, apr_pstrcat(p, "id=f file:", files[i], NULL), keys, &err),
                         APR_SUCCESS);
        assert_string_equal(dkey_at(keys, i)->kid, "f");
        assert_int_equal(dkey_at(keys, i)->kind, i < 2 ? VJWT_JWE_KEY_RSA : VJWT_JWE_KEY_EC);
        unlink(files[i]);
    }
    /* a public key is not a decryption key; a missing file; certificate-id is the caller's */
    files[0] = write_key(p, g_rsa, PEM_PUBLIC, NULL);
    assert_int_equal(dload(p, apr_pstrcat(p, "file:", files[0], NULL), keys, &err), APR_EINVAL);
    assert_string_equal(err, apr_psprintf(p,
                                          "'%s' holds a public key or certificate; a decryption "
                                          "key needs the private key (PEM or DER, RSA or EC)",
                                          files[0]));
    unlink(files[0]);
    assert_int_equal(dload(p, "file:/nonexistent/k.pem", keys, &err), APR_EINVAL);
    assert_contains(err, "cannot use decryption key file '/nonexistent/k.pem': ");
    assert_int_equal(dload(p, "certificate-id=c", keys, &err), VJWT_KEYSPEC_NEEDS_CERTIFICATE);
    s.form = VJWT_KEYSPEC_RSA_NE;
    assert_int_equal(vjwt_keyspec_load_decryption(p, &s, NULL, NULL, keys, &err), APR_EINVAL);
    assert_string_equal(err, VJWT_KEYSPEC_NE_NOT_DECRYPTION);
    assert_int_equal(keys->nelts, 4);

    /* notes: an RSA key below the floor; EC and oct keys get none */
    vjwt_decryption_key_notes(dkey_at(keys, 0), 3072, notes);
    vjwt_decryption_key_notes(dkey_at(keys, 0), 2048, notes);
    vjwt_decryption_key_notes(dkey_at(keys, 2), 3072, notes);
    assert_int_equal(notes->nelts, 1);
    assert_int_equal(note_at(notes, 0)->level, VJWT_LOG_WARN);
    assert_int_equal(note_at(notes, 0)->tag, 300);
    assert_string_equal(note_at(notes, 0)->text,
                        "the RSA decryption key has 2048 bits, below the floor of 3072; it "
                        "decrypts nothing unless ValidateJWTMinRSAKeyBits allows it");
    /* a copy with another kid shares the key */
    assert_string_equal(vjwt_jwe_key_with_kid(p, dkey_at(keys, 0), "z")->kid, "z");
    assert_ptr_equal(vjwt_jwe_key_with_kid(p, dkey_at(keys, 0), NULL)->pkey,
                     dkey_at(keys, 0)->pkey);
    assert_string_equal(dkey_at(keys, 0)->kid, "f");
}

/* ValidateJWTCertificate files: public forms sign only; a private key (with or without its
 * certificate) also decrypts, its public half signs. */
static void t_load_certificate(void **state)
{
    apr_pool_t *p = POOL;
    apr_array_header_t *notes = apr_array_make(p, 2, sizeof(vjwt_note_t));
    const vjwt_key_t *sig;
    const vjwt_jwe_key_t *dec;
    const char *err = NULL;
    const char *pub = write_key(p, g_rsa, PEM_PUBLIC, NULL);
    const char *priv = write_key(p, g_rsa, PEM_TRAD, NULL);
    const char *both = write_key(p, g_ec, PEM_KEY_CERT, g_ec);
    const char *der = write_key(p, g_ec, DER_PKCS8, NULL);
    const char *mismatch = write_key(p, g_rsa, PEM_KEY_CERT, g_ec);

    assert_int_equal(vjwt_keyspec_load_certificate(p, pub, &sig, &dec, notes, &err), APR_SUCCESS);
    assert_int_equal(sig->kty, VJWT_KTY_RSA);
    assert_null(dec);
    assert_int_equal(vjwt_keyspec_load_certificate(p, priv, &sig, &dec, notes, &err), APR_SUCCESS);
    assert_int_equal(sig->kty, VJWT_KTY_RSA);
    assert_int_equal(EVP_PKEY_eq(sig->pkey, g_rsa), 1);
    assert_int_equal(dec->kind, VJWT_JWE_KEY_RSA);
    assert_int_equal(vjwt_keyspec_load_certificate(p, both, &sig, &dec, notes, &err), APR_SUCCESS);
    assert_int_equal(sig->kty, VJWT_KTY_EC);
    assert_int_equal(dec->kind, VJWT_JWE_KEY_EC);
    assert_int_equal(vjwt_keyspec_load_certificate(p, der, &sig, &dec, notes, &err), APR_SUCCESS);
    assert_int_equal(EVP_PKEY_eq(sig->pkey, g_ec), 1);
    assert_non_null(dec);
    assert_int_equal(vjwt_keyspec_load_certificate(p, mismatch, &sig, &dec, notes, &err),
                     APR_EINVAL);
    assert_string_equal(err, apr_psprintf(p,
                                          "cannot use private key file '%s': the certificate in "
                                          "'%s' does not hold the public key of its private key",
                                          mismatch, mismatch));
    assert_null(dec);
    assert_int_equal(
        vjwt_keyspec_load_certificate(p, "/nonexistent/c.pem", &sig, &dec, notes, &err),
        APR_EINVAL);
    assert_contains(err, "cannot use key file '/nonexistent/c.pem'");
    assert_int_equal(notes->nelts, 0);
    unlink(pub);
    unlink(priv);
    unlink(both);
    unlink(der);
    unlink(mismatch);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, vjwt_test_pool_setup, vjwt_test_pool_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(t_parse_forms),
        T(t_parse_errors),
        T(t_from_xml),
        T(t_load_secret_ne_cert),
        T(t_load_file),
        T(t_load_file_notes),
        T(t_key_with_kid),
        T(t_key_notes),
        T(t_decryption_parse),
        T(t_decryption_from_xml),
        T(t_decryption_load_secret),
        T(t_decryption_load_file),
        T(t_load_certificate),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
