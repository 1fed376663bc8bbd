/*
 * vjwt_keyspec.h - one grammar for a configured verification key, shared by
 * ValidateJWTIssuerSigningKey, a policy file's <key> and the CLI's --key, and the loader
 * that turns it into vjwt_key_t(s).
 *
 *   [id=KID] BASE64-SECRET | [id=KID] n=B64URL e=B64URL | [id=KID] certificate-id=ID
 *   | [id=KID] file:PATH
 *
 * A spec is parsed from words (the directive's arguments, already split; the CLI's one
 * option value split at white space) or built from a <key> element's attributes and text;
 * both apply the same rules: exactly one key form, n= needs e=, no empty id or
 * certificate-id. vjwt_keyspec_load() makes the keys; a certificate-id is resolved by the
 * caller, which owns the certificate table.
 *
 * Key notes are the configuration-time remarks about a key that the caller logs with its
 * own location (directive file:line, policy file line, stderr): short HMAC secrets
 * (RFC 7518 section 3.2), RSA keys below the floor, skipped keys of a key file.
 *
 * Decryption keys (ValidateJWTDecryptionKey, a policy file's <decryption-keys><key>, the
 * CLI's --decryption-key) use the same grammar without n=/e=:
 *
 *   [id=KID] BASE64-KEY | [id=KID] file:PATH | [id=KID] certificate-id=ID
 *
 * BASE64-KEY is a symmetric key of 16, 24, 32, 48 or 64 bytes (dir or A*KW, RFC 7518 sections
 * 4.4 and 4.5); file:PATH a PEM or DER private key (RSA, EC P-256/384/521); they load into
 * vjwt_jwe_key_t (vjwt_jwe.h).
 *
 * Thread context: configuration time (the thread that owns the pool).
 */
#ifndef VJWT_KEYSPEC_H
#define VJWT_KEYSPEC_H

#include <apr_pools.h>
#include <apr_tables.h>
#include "vjwt_jwe.h"
#include "vjwt_jwk.h"
#include "vjwt_log.h"
#include "vjwt_policy.h"

typedef enum {
    VJWT_KEYSPEC_SECRET = 1, /* inline HMAC secret, standard base64 */
    VJWT_KEYSPEC_RSA_NE,     /* RSA modulus and exponent, base64url */
    VJWT_KEYSPEC_CERT,       /* certificate-id=ID: resolved by the caller */
    VJWT_KEYSPEC_FILE        /* file:PATH: PEM/DER key or certificate, JWK or JWKS */
} vjwt_keyspec_form_e;

typedef struct {
    const char *kid; /* id=; NULL = none (never empty) */
    vjwt_keyspec_form_e form;
    const char *secret;  /* SECRET: the base64 text */
    const char *n, *e;   /* RSA_NE */
    const char *cert_id; /* CERT (never empty) */
    const char *path;    /* FILE, as written (never empty) */
    /* For messages and vjwt_key_t.source of an inline secret; set by the parser ("key",
     * "inline secret") and the XML builder ("key text", "policy secret"). */
    const char *noun;
    const char *source;
} vjwt_keyspec_t;

/* vjwt_keyspec_load()'s answer for a certificate-id= spec: nothing loaded, the caller
 * looks the certificate up (and gives it the spec's kid with vjwt_key_with_kid). */
#define VJWT_KEYSPEC_NEEDS_CERTIFICATE APR_INCOMPLETE

/* Configuration-time remarks about keys are vjwt_note_t (vjwt_policy.h) with field
 * VJWT_F_NONE: level, log tag and text, without location; the caller prefixes where the key
 * was configured. */

/* Parses the directive grammar from nwords words: an optional first word id=KID, then
 * either one value (certificate-id=ID, file:PATH or a base64 secret) or the two words
 * n=... and e=... in any order. On error returns APR_EINVAL and *err (without the
 * directive's name; it quotes the words). */
apr_status_t vjwt_keyspec_parse(vjwt_keyspec_t *out, apr_pool_t *p, const char *const *words,
                                int nwords, const char **err);

/* Same from one string split at white space (the CLI's --key 'id=k1 n=... e=...'); a word
 * that starts with file: takes the rest of the text, so a path may hold spaces. */
apr_status_t vjwt_keyspec_parse_text(vjwt_keyspec_t *out, apr_pool_t *p, const char *text,
                                     const char **err);

/* Builds a spec from a <key> element: the attributes id, certificate-id, n, e (NULL when
 * absent) and the trimmed text. The rules of vjwt_keyspec_parse, worded for XML: n and e
 * together, exactly one of text, certificate-id, n/e; a non-empty certificate-id. There is
 * no file form in policy files. On error APR_EINVAL and *err. */
apr_status_t vjwt_keyspec_from_xml(vjwt_keyspec_t *out, apr_pool_t *p, const char *id,
                                   const char *cert_id, const char *n, const char *e,
                                   const char *text, const char **err);

/* Resolves a file: path of a spec (e.g. against httpd's ServerRoot); NULL = invalid. */
typedef const char *vjwt_keyspec_path_fn(void *baton, apr_pool_t *p, const char *path);

/* Makes the keys of spec in p and appends them (const vjwt_key_t *) to keys:
 *   SECRET  vjwt_secret_decode + vjwt_key_from_secret (the decoded bytes are wiped);
 *   RSA_NE  vjwt_key_from_rsa_ne;
 *   FILE    vjwt_keys_from_file on resolve(path) (resolve may be NULL: the path as is);
 *           every key of the file, or the one key with the spec's kid. Notes (may be NULL;
 *           vjwt_key_note_t) get one warning per skipped key (VJWT00005) and one notice
 *           when members were decoded leniently (VJWT00040), also when the file then has
 *           no usable key or several keys for one id=;
 *   CERT    nothing: returns VJWT_KEYSPEC_NEEDS_CERTIFICATE.
 * Weak-key remarks are not added here: see vjwt_key_notes. On error APR_EINVAL and *err
 * (without the directive's name); keys is then unchanged. */
apr_status_t vjwt_keyspec_load(apr_pool_t *p, const vjwt_keyspec_t *spec,
                               vjwt_keyspec_path_fn *resolve, void *baton, apr_array_header_t *keys,
                               apr_array_header_t *notes, const char **err);

/* A shallow copy of key, made in p, with kid (may be NULL) as its id. The copy SHARES the
 * original's EVP_PKEY and secret bytes: the original's pool owns them (its cleanup frees
 * the EVP_PKEY and wipes the secret), so the copy must not outlive that pool; p is the same
 * pool or a child of it. Nothing is freed through the copy. */
vjwt_key_t *vjwt_key_with_kid(apr_pool_t *p, const vjwt_key_t *key, const char *kid);

/* Appends to notes (vjwt_key_note_t, texts made in notes->pool) what makes key useless for
 * some algorithms: an HMAC secret under 32 bytes verifies nothing (warning, VJWT00002),
 * under 64 bytes not every HS* (debug, VJWT00003); an RSA key below min_rsa_bits verifies
 * nothing (warning, VJWT00004). Other keys get no note. */
void vjwt_key_notes(const vjwt_key_t *key, int min_rsa_bits, apr_array_header_t *notes);

/* ---- decryption keys ------------------------------------------------------------------- */

/* The error for n=/e= (or n/e attributes) given as a decryption key. */
#define VJWT_KEYSPEC_NE_NOT_DECRYPTION                                                             \
    "n/e keys are signing keys only; a decryption key is base64 text, file:PATH or "               \
    "certificate-id"

/* vjwt_keyspec_parse for a decryption key: the same words and rules, but a word n=... or
 * e=... is the error VJWT_KEYSPEC_NE_NOT_DECRYPTION. */
apr_status_t vjwt_keyspec_parse_decryption(vjwt_keyspec_t *out, apr_pool_t *p,
                                           const char *const *words, int nwords, const char **err);

/* Same from one string (the CLI's --decryption-key), split as vjwt_keyspec_parse_text. */
apr_status_t vjwt_keyspec_parse_decryption_text(vjwt_keyspec_t *out, apr_pool_t *p,
                                                const char *text, const char **err);

/* A <decryption-keys><key>: n or e present is an error ("n/e keys are signing keys only; a
 * decryption key is base64 text or certificate-id"); otherwise exactly one of text and
 * certificate-id, as vjwt_keyspec_from_xml. */
apr_status_t vjwt_keyspec_decryption_from_xml(vjwt_keyspec_t *out, apr_pool_t *p, const char *id,
                                              const char *cert_id, const char *n, const char *e,
                                              const char *text, const char **err);

/* Makes the decryption key of spec in p and appends it (const vjwt_jwe_key_t *) to keys:
 *   SECRET  vjwt_secret_decode (pasted keys refused) + vjwt_jwe_key_from_secret: 16, 24, 32,
 *           48 or 64 bytes (the decoded bytes are wiped);
 *   FILE    vjwt_jwe_key_from_file on resolve(path) (NULL: the path as is); a file with a
 *           public key or certificate only is refused with a message that says so;
 *   CERT    nothing: returns VJWT_KEYSPEC_NEEDS_CERTIFICATE;
 *   RSA_NE  the error VJWT_KEYSPEC_NE_NOT_DECRYPTION.
 * The key gets the spec's kid. Remarks (RSA below the floor): vjwt_decryption_key_notes. On
 * error APR_EINVAL and *err; keys is then unchanged. */
apr_status_t vjwt_keyspec_load_decryption(apr_pool_t *p, const vjwt_keyspec_t *spec,
                                          vjwt_keyspec_path_fn *resolve, void *baton,
                                          apr_array_header_t *keys, const char **err);

/* Appends to notes a warning (VJWT00300) when key is RSA below min_rsa_bits: it decrypts
 * nothing (such keys are not candidates, vjwt_jwe_decrypt). Other keys get no note. */
void vjwt_decryption_key_notes(const vjwt_jwe_key_t *key, int min_rsa_bits,
                               apr_array_header_t *notes);

/* A shallow copy of key with kid (may be NULL); shares the original's OpenSSL objects and
 * secret, owned by the original's pool (see vjwt_key_with_kid). */
vjwt_jwe_key_t *vjwt_jwe_key_with_kid(apr_pool_t *p, const vjwt_jwe_key_t *key, const char *kid);

/* The file of ValidateJWTCertificate ID FILE (path already resolved):
 *   - a certificate or public key (one key, vjwt_keys_from_file): *sig set, *dec NULL;
 *   - else a PEM or DER private key, RSA or EC P-256/384/521 (vjwt_jwe_key_from_file rules),
 *     optionally with its certificate (which must hold the same key): *dec is the private
 *     key and *sig its public half.
 * Notes as vjwt_keyspec_load for a file (skipped keys, lenient members). On error
 * APR_EINVAL and *err. */
apr_status_t vjwt_keyspec_load_certificate(apr_pool_t *p, const char *path, const vjwt_key_t **sig,
                                           const vjwt_jwe_key_t **dec, apr_array_header_t *notes,
                                           const char **err);

#endif
