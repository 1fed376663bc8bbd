#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <apr_file_io.h>

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
    if (!base || !*base) {
        base = "../shared/testvectors";
    }
    return apr_pstrcat(p, base, "/", rel, NULL);
}

const char *vjwt_test_data_path(apr_pool_t *p, const char *rel)
{
    const char *base = getenv("VJWT_TESTDATA");
    if (!base || !*base) {
        base = "tests/data";
    }
    return apr_pstrcat(p, base, "/", rel, NULL);
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
