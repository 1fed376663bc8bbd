/*
 * fuzz_common.h - shared set-up of the fuzz targets: APR once, a root pool, a fresh pool
 * per input. Built with libFuzzer (make fuzz) or with standalone.c (make check replays the
 * seed corpus).
 */
#ifndef VJWT_FUZZ_COMMON_H
#define VJWT_FUZZ_COMMON_H

#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <apr_general.h>
#include <apr_pools.h>

static inline apr_pool_t *fuzz_root(void)
{
    static apr_pool_t *root;
    if (!root) {
        apr_initialize();
        apr_pool_create(&root, NULL);
    }
    return root;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
