/*
 * testutil.h - shared helpers for the cmocka unit tests (tests/unit/libtestutil.la): a
 * fresh APR pool per test, hex and base64url, file reading, the location of the shared
 * test vectors, string arrays, key parameters, and assert_contains().
 */
#ifndef VJWT_TESTUTIL_H
#define VJWT_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <apr_pools.h>
#include <apr_tables.h>
#include <openssl/evp.h>

/* cmocka setup/teardown: *state becomes a fresh apr_pool_t *. */
int vjwt_test_pool_setup(void **state);
int vjwt_test_pool_teardown(void **state);

/* Initialises APR once; call at the start of main(). */
void vjwt_test_init(void);

/* Hex to bytes; returns 0 on success, -1 on odd length or a non-hex character. */
int vjwt_test_hex(apr_pool_t *p, const char *hex, unsigned char **out, apr_size_t *len);

/* base64url without padding, written independently of src/vjwt_b64.c, so tests of the
 * strict decoder don't check it against itself. */
const char *vjwt_test_b64url(apr_pool_t *p, const void *data, apr_size_t n);

/* Whole file into a NUL-terminated buffer; fails the test when unreadable. */
char *vjwt_test_read_file(apr_pool_t *p, const char *path, apr_size_t *len);

/* $VJWT_TESTVECTORS/<rel> (make check sets it from configure's TESTVECTORS; default
 * ../shared/testvectors). Skips the calling test (cmocka skip()) when that directory is
 * missing, e.g. in make distcheck without the vectors. */
const char *vjwt_test_vector_path(apr_pool_t *p, const char *rel);

/* The strings up to the first NULL as an array of const char *. */
apr_array_header_t *vjwt_test_strs(apr_pool_t *p, ...);

/* strs(p, "a", "b") - the NULL terminator is added. */
#define strs(p, ...) vjwt_test_strs((p), __VA_ARGS__, (const char *)NULL)

/* base64url (no padding) of the big-number parameter param (e.g. OSSL_PKEY_PARAM_RSA_N)
 * of k, as in a JWK. */
const char *vjwt_test_bn_b64url(apr_pool_t *p, EVP_PKEY *k, const char *param);
#define bn_b64url vjwt_test_bn_b64url

/* The DER SubjectPublicKeyInfo of k. */
unsigned char *vjwt_test_der_of(apr_pool_t *p, EVP_PKEY *k, apr_size_t *len);
#define der_of vjwt_test_der_of

/* Fails the test unless needle occurs in hay (hay may be NULL). */
#define assert_contains(hay, needle)                                                               \
    do {                                                                                           \
        const char *h_ = (hay), *n_ = (needle);                                                    \
        if (!h_ || !strstr(h_, n_)) {                                                              \
            fail_msg("expected '%s' in '%s'", n_, h_ ? h_ : "(null)");                             \
        }                                                                                          \
    } while (0)

#endif
