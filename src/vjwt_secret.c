/* vjwt_secret.c - inline HMAC secrets: base64, never a pasted key or certificate. */
#include <string.h>
#include <apr_strings.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "vjwt_b64.h"
#include "vjwt_secret.h"

#define USE_INSTEAD                                                                                \
    "use certificate-id=ID (with ValidateJWTCertificate), n=... e=... or file:PATH for public "    \
    "keys and certificates"

/* 1 when d2i of form which (the index in vjwt_secret_check's msg) consumed exactly len
 * bytes and produced an object. */
static int parses_as(const unsigned char *der, apr_size_t len, int which)
{
    const unsigned char *q = der;
    long n = (long)len;
    EVP_PKEY *k = NULL;
    X509 *x = NULL;
    X509_SIG *s = NULL;
    int ok;

    switch (which) {
    case 0:
        k = d2i_PUBKEY(NULL, &q, n);
        break;
    case 1:
        k = d2i_PublicKey(EVP_PKEY_RSA, NULL, &q, n);
        break;
    case 2:
        x = d2i_X509(NULL, &q, n);
        break;
    case 3:
        k = d2i_AutoPrivateKey(NULL, &q, n);
        break;
    case 4:
        s = d2i_X509_SIG(NULL, &q, n); /* encrypted PKCS#8 */
        break;
    default:
        break;
    }
    ok = (k || x || s) && q == der + len;
    EVP_PKEY_free(k);
    X509_free(x);
    X509_SIG_free(s);
    return ok;
}

#define NOT_A_SECRET(what) what ", not an HMAC secret; " USE_INSTEAD

apr_status_t vjwt_secret_check(const unsigned char *der, apr_size_t len, const char **why)
{
    static const char *const msg[] = {
        NOT_A_SECRET("a public key (SubjectPublicKeyInfo)"),
        NOT_A_SECRET("an RSA public key (PKCS#1)"),
        NOT_A_SECRET("an X.509 certificate"),
        NOT_A_SECRET("a private key"),
        NOT_A_SECRET("an encrypted private key (PKCS#8)"),
    };
    int i;
    /* every DER key or certificate is a SEQUENCE */
    if (!der || len < 2 || der[0] != 0x30) {
        return APR_SUCCESS;
    }
    for (i = 0; i < (int)(sizeof(msg) / sizeof(msg[0])); i++) {
        if (parses_as(der, len, i)) {
            *why = msg[i];
            return APR_EINVAL;
        }
    }
    return APR_SUCCESS;
}

apr_status_t vjwt_secret_decode(apr_pool_t *p, const char *text, const char *noun,
                                unsigned char **out, apr_size_t *outlen, const char **why)
{
    unsigned char *secret = NULL;
    apr_size_t len = 0;
    *out = NULL;
    *outlen = 0;
    if (!text || strstr(text, "-----BEGIN")) {
        *why = apr_psprintf(p, "the %s is %s", noun, NOT_A_SECRET("PEM text"));
        return APR_EINVAL;
    }
    if (vjwt_b64_decode(p, text, strlen(text), &secret, &len) != APR_SUCCESS || len == 0) {
        *why = apr_psprintf(p,
                            "the %s is not valid base64 (an inline key is always a base64 HMAC "
                            "secret; " USE_INSTEAD ")",
                            noun);
        return APR_EINVAL;
    }
    if (vjwt_secret_check(secret, len, why) != APR_SUCCESS) {
        memset(secret, 0, len);
        *why = apr_psprintf(p, "the %s is %s", noun, *why);
        return APR_EINVAL;
    }
    *out = secret;
    *outlen = len;
    return APR_SUCCESS;
}
