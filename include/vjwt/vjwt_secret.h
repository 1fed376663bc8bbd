/*
 * vjwt_secret.h - inline HMAC secrets (ValidateJWTIssuerSigningKey VALUE, a policy file's
 * <key>BASE64</key>, the CLI's --key): standard base64 that must not be a public key,
 * certificate or private key. Anyone holding a public key could otherwise mint HS256
 * tokens with it as the secret (RFC 8725 section 2.1, 3.1).
 *
 * Thread context: any thread (configuration time in practice).
 */
#ifndef VJWT_SECRET_H
#define VJWT_SECRET_H

#include <apr_pools.h>

/* Decode base64 text into a secret of at least one byte. APR_EINVAL with *why set ("the
 * <noun> is ...", noun e.g. "key") when the text is PEM ("-----BEGIN"), not base64, empty,
 * or decodes to DER that OpenSSL reads as a SubjectPublicKeyInfo, PKCS#1 RSAPublicKey,
 * X.509 certificate or private key (PKCS#8 or traditional). The caller wipes *out after
 * use. */
apr_status_t vjwt_secret_decode(apr_pool_t *p, const char *text, const char *noun,
                                unsigned char **out, apr_size_t *outlen, const char **why);

/* APR_EINVAL with *why set (e.g. "an X.509 certificate, not an HMAC secret; use ...")
 * when the bytes parse, all of them, as a DER key or certificate. */
apr_status_t vjwt_secret_check(const unsigned char *der, apr_size_t len, const char **why);

#endif
