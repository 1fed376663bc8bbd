/*
 * fuzz_common.h - shared set-up of the fuzz targets: APR once (terminated at exit), a root
 * pool, a fresh pool per input. Built with libFuzzer (make fuzz) or with standalone.c (make check
 * replays the seed corpus).
 */
#ifndef VJWT_FUZZ_COMMON_H
#define VJWT_FUZZ_COMMON_H

#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <apr_general.h>
#include <apr_pools.h>

#include "vjwt_keystore.h"

static inline apr_pool_t *fuzz_root(void)
{
    static apr_pool_t *root;
    if (!root) {
        apr_initialize();
        /* at exit every pool goes, with the cleanups that free what targets keep for the
         * whole run (fixed key sets): the leak checker sees only real leaks */
        atexit(apr_terminate);
        apr_pool_create(&root, NULL);
    }
    return root;
}

/* A key-store log sink that drops everything (the targets check behaviour, not messages;
 * the messages are still formatted, which is what matters for memory safety). */
static inline void fuzz_quiet_log(void *baton, vjwt_log_level_e level, const char *file, int line,
                                  int tag, const char *msg)
{
    (void)baton;
    (void)level;
    (void)file;
    (void)line;
    (void)tag;
    (void)msg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
