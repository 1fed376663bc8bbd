/*
 * vjwt_crypto.h - OpenSSL algorithms fetched once per process, so that no request fetches
 * one by name (each fetch goes through OpenSSL's method store, under a lock that all
 * threads share).
 *
 * Thread context: any thread; the first call fetches (once, under CRYPTO_THREAD_run_once).
 */
#ifndef VJWT_CRYPTO_H
#define VJWT_CRYPTO_H

#include <stddef.h>

/* SHA-256 of in[0..len) into out. */
void vjwt_sha256(const void *in, size_t len, unsigned char out[32]);

#endif
