#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <apr_file_io.h>
#include <openssl/bn.h>
#include <openssl/x509.h>

void vjwt_test_init(void)
{
    static int done;
    if (!done) {
        apr_initialize();
        atexit(apr_terminate);
        done = 1;
    }
}

int vjwt_test_pool_setup(void **state)
{
    apr_pool_t *p = NULL;
    vjwt_test_init();
    if (apr_pool_create(&p, NULL) != APR_SUCCESS) {
        return -1;
    }
    *state = p;
    return 0;
}

int vjwt_test_pool_teardown(void **state)
{
    apr_pool_destroy((apr_pool_t *)*state);
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

int vjwt_test_hex(apr_pool_t *p, const char *hex, unsigned char **out, apr_size_t *len)
{
    apr_size_t n = strlen(hex), i;
    unsigned char *b;
    if (n % 2) {
        return -1;
    }
    b = apr_palloc(p, n / 2 + 1);
    for (i = 0; i < n / 2; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            return -1;
        }
        b[i] = (unsigned char)(hi << 4 | lo);
    }
    b[n / 2] = 0;
    *out = b;
    *len = n / 2;
    return 0;
}

char *vjwt_test_read_file(apr_pool_t *p, const char *path, apr_size_t *len)
{
    FILE *f = fopen(path, "rb");
    long sz;
    char *buf;
    if (!f) {
        fail_msg("cannot open %s", path);
    }
    fseek(f, 0, SEEK_END);
    sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = apr_palloc(p, (apr_size_t)sz + 1);
    if (sz > 0 && fread(buf, 1, (size_t)sz, f) != (size_t)sz) {
        fclose(f);
        fail_msg("cannot read %s", path);
    }
    fclose(f);
    buf[sz] = 0;
    if (len) {
        *len = (apr_size_t)sz;
    }
    return buf;
}

const char *vjwt_test_vector_path(apr_pool_t *p, const char *rel)
{
    const char *base = getenv("VJWT_TESTVECTORS");
    apr_finfo_t fi;
    if (!base || !*base) {
        base = "../shared/testvectors";
    }
    if (apr_stat(&fi, base, APR_FINFO_TYPE, p) != APR_SUCCESS || fi.filetype != APR_DIR) {
        print_message("no test vectors in %s (set TESTVECTORS): skipped\n", base);
        skip();
    }
    return apr_pstrcat(p, base, "/", rel, NULL);
}

apr_array_header_t *vjwt_test_strs(apr_pool_t *p, ...)
{
    apr_array_header_t *a = apr_array_make(p, 4, sizeof(const char *));
    const char *s;
    va_list ap;
    va_start(ap, p);
    while ((s = va_arg(ap, const char *)) != NULL) {
        APR_ARRAY_PUSH(a, const char *) = s;
    }
    va_end(ap);
    return a;
}

const char *vjwt_test_bn_b64url(apr_pool_t *p, EVP_PKEY *k, const char *param)
{
    BIGNUM *bn = NULL;
    unsigned char *buf;
    int n;
    if (EVP_PKEY_get_bn_param(k, param, &bn) != 1) {
        fail_msg("EVP_PKEY_get_bn_param %s failed", param);
    }
    buf = apr_palloc(p, (apr_size_t)BN_num_bytes(bn) + 1);
    n = BN_bn2bin(bn, buf);
    BN_free(bn);
    return vjwt_test_b64url(p, buf, (apr_size_t)n);
}

unsigned char *vjwt_test_der_of(apr_pool_t *p, EVP_PKEY *k, apr_size_t *len)
{
    unsigned char *der = NULL, *copy;
    int n = i2d_PUBKEY(k, &der);
    if (n <= 0) {
        fail_msg("i2d_PUBKEY failed");
    }
    copy = apr_pmemdup(p, der, (apr_size_t)n);
    OPENSSL_free(der);
    *len = (apr_size_t)n;
    return copy;
}

const char *vjwt_test_b64url(apr_pool_t *p, const void *data, apr_size_t n)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const unsigned char *in = data;
    char *out = apr_palloc(p, (n + 2) / 3 * 4 + 1);
    char *o = out;
    apr_size_t i;
    for (i = 0; i + 2 < n; i += 3) {
        *o++ = tbl[in[i] >> 2];
        *o++ = tbl[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
        *o++ = tbl[((in[i + 1] & 15) << 2) | (in[i + 2] >> 6)];
        *o++ = tbl[in[i + 2] & 63];
    }
    if (n - i == 1) {
        *o++ = tbl[in[i] >> 2];
        *o++ = tbl[(in[i] & 3) << 4];
    }
    else if (n - i == 2) {
        *o++ = tbl[in[i] >> 2];
        *o++ = tbl[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
        *o++ = tbl[(in[i + 1] & 15) << 2];
    }
    *o = 0;
    return out;
}
