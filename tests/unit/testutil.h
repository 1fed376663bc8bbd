/*
 * testutil.h - shared helpers for the cmocka unit tests: a fresh APR pool per test,
 * hex decoding, file reading and the location of the shared test vectors.
 */
#ifndef VJWT_TESTUTIL_H
#define VJWT_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <apr_pools.h>
#include <apr_tables.h>

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

/* $VJWT_TESTVECTORS/<rel> (default ../shared/testvectors relative to the source tree). */
const char *vjwt_test_vector_path(apr_pool_t *p, const char *rel);

/* $VJWT_TESTDATA/<rel> (tests/data). */
const char *vjwt_test_data_path(apr_pool_t *p, const char *rel);

#endif
