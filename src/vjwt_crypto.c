/* vjwt_crypto.c - algorithms fetched once per process (see vjwt_crypto.h). */
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "vjwt_crypto.h"

static CRYPTO_ONCE fetch_once = CRYPTO_ONCE_STATIC_INIT;
static EVP_MD *sha256_md; /* lives as long as the process */

static void fetch_all(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA2-256", NULL);
}

void vjwt_sha256(const void *in, size_t len, unsigned char out[32])
{
    unsigned int n = 0;
    if (!CRYPTO_THREAD_run_once(&fetch_once, fetch_all) || !sha256_md) {
        EVP_Digest(in, len, out, &n, EVP_sha256(), NULL); /* OpenSSL without a default provider */
        return;
    }
    EVP_Digest(in, len, out, &n, sha256_md, NULL);
}
