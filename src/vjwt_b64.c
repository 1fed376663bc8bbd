/*
 * vjwt_b64.c - strict base64url (RFC 7515 section 2) and standard base64 (RFC 4648
 * section 4) with a small table decoder. See vjwt_b64.h for the rules.
 */
#include "vjwt_b64.h"

#include <string.h>

#define B64_BAD 0xFF

/* Wipe a partly decoded buffer (it may hold secret bytes) before failing. */
static apr_status_t b64_fail(unsigned char *buf, apr_size_t n)
{
    volatile unsigned char *v = buf;
    while (n--) {
        *v++ = 0;
    }
    return APR_EINVAL;
}

/* Value of c in the alphabet that has c62/c63 as its last two letters, or B64_BAD. */
static unsigned char b64_val(unsigned char c, unsigned char c62, unsigned char c63)
{
    if (c >= 'A' && c <= 'Z') {
        return (unsigned char)(c - 'A');
    }
    if (c >= 'a' && c <= 'z') {
        return (unsigned char)(c - 'a' + 26);
    }
    if (c >= '0' && c <= '9') {
        return (unsigned char)(c - '0' + 52);
    }
    if (c == c62) {
        return 62;
    }
    if (c == c63) {
        return 63;
    }
    return B64_BAD;
}

/*
 * Decode n alphabet characters (no padding) from in. n % 4 must not be 1. When canonical is
 * set, the unused low bits of the last character must be zero. Output is NUL-terminated.
 */
static apr_status_t b64_decode_core(apr_pool_t *p, const unsigned char *in, apr_size_t n,
                                    unsigned char c62, unsigned char c63, int canonical,
                                    unsigned char **out, apr_size_t *outlen)
{
    apr_size_t full = n / 4, rem = n % 4, i, o = 0;
    unsigned char *buf;
    unsigned char v[4];

    if (rem == 1) {
        return APR_EINVAL;
    }
    buf = apr_palloc(p, full * 3 + (rem ? rem - 1 : 0) + 1);
    for (i = 0; i < full; i++) {
        const unsigned char *q = in + 4 * i;
        int k;
        for (k = 0; k < 4; k++) {
            v[k] = b64_val(q[k], c62, c63);
            if (v[k] == B64_BAD) {
                return b64_fail(buf, o);
            }
        }
        buf[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
        buf[o++] = (unsigned char)((v[1] & 0x0F) << 4 | v[2] >> 2);
        buf[o++] = (unsigned char)((v[2] & 0x03) << 6 | v[3]);
    }
    if (rem) {
        const unsigned char *q = in + 4 * full;
        apr_size_t k;
        for (k = 0; k < rem; k++) {
            v[k] = b64_val(q[k], c62, c63);
            if (v[k] == B64_BAD) {
                return b64_fail(buf, o);
            }
        }
        buf[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
        if (rem == 2) {
            /* 12 bits carry 8: the low 4 bits of the 2nd character are unused */
            if (canonical && (v[1] & 0x0F) != 0) {
                return b64_fail(buf, o);
            }
        }
        else {
            /* rem == 3: 18 bits carry 16: the low 2 bits of the 3rd character are unused */
            buf[o++] = (unsigned char)((v[1] & 0x0F) << 4 | v[2] >> 2);
            if (canonical && (v[2] & 0x03) != 0) {
                return b64_fail(buf, o);
            }
        }
    }
    buf[o] = 0;
    *out = buf;
    *outlen = o;
    return APR_SUCCESS;
}

apr_status_t vjwt_b64url_decode(apr_pool_t *p, const char *in, apr_size_t len, unsigned char **out,
                                apr_size_t *outlen)
{
    if (!out || !outlen || (!in && len)) {
        return APR_EINVAL;
    }
    /* Every character is checked against [A-Za-z0-9_-] by the core: '=', '+', '/',
     * whitespace and NUL bytes are all outside it. */
    return b64_decode_core(p, (const unsigned char *)(in ? in : ""), len, '-', '_', 1, out, outlen);
}

apr_status_t vjwt_b64_decode_jwk(apr_pool_t *p, const char *in, apr_size_t len, unsigned char **out,
                                 apr_size_t *outlen, int *lenient)
{
    apr_size_t n = len, pad = 0, i;
    int url = 0, std = 0;
    apr_status_t rv;

    if (lenient) {
        *lenient = 0;
    }
    if (!out || !outlen || (!in && len)) {
        return APR_EINVAL;
    }
    if (!in) {
        in = "";
    }
    while (n > 0 && in[n - 1] == '=') {
        n--;
        pad++;
    }
    /* padding completes the last group: "xx==" or "xxx=", nothing else */
    if (pad && (pad > 2 || (n + pad) % 4 != 0 || n % 4 == 0)) {
        return APR_EINVAL;
    }
    for (i = 0; i < n; i++) {
        url |= in[i] == '-' || in[i] == '_';
        std |= in[i] == '+' || in[i] == '/';
    }
    if (url && std) {
        return APR_EINVAL;
    }
    /* every other character (a stray '=', whitespace, NUL) is rejected by the core */
    rv = b64_decode_core(p, (const unsigned char *)in, n, std ? '+' : '-', std ? '/' : '_', 1, out,
                         outlen);
    if (rv == APR_SUCCESS && lenient) {
        *lenient = std || pad;
    }
    return rv;
}

static const char b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

const char *vjwt_b64url_encode(apr_pool_t *p, const unsigned char *in, apr_size_t len)
{
    apr_size_t i, o = 0;
    char *buf;

    if (!in) {
        len = 0;
    }
    buf = apr_palloc(p, (len / 3) * 4 + 4 + 1);
    for (i = 0; i + 3 <= len; i += 3) {
        unsigned long w = (unsigned long)in[i] << 16 | (unsigned long)in[i + 1] << 8 | in[i + 2];
        buf[o++] = b64url_alphabet[(w >> 18) & 0x3F];
        buf[o++] = b64url_alphabet[(w >> 12) & 0x3F];
        buf[o++] = b64url_alphabet[(w >> 6) & 0x3F];
        buf[o++] = b64url_alphabet[w & 0x3F];
    }
    if (len - i == 1) {
        unsigned long w = (unsigned long)in[i] << 16;
        buf[o++] = b64url_alphabet[(w >> 18) & 0x3F];
        buf[o++] = b64url_alphabet[(w >> 12) & 0x3F];
    }
    else if (len - i == 2) {
        unsigned long w = (unsigned long)in[i] << 16 | (unsigned long)in[i + 1] << 8;
        buf[o++] = b64url_alphabet[(w >> 18) & 0x3F];
        buf[o++] = b64url_alphabet[(w >> 12) & 0x3F];
        buf[o++] = b64url_alphabet[(w >> 6) & 0x3F];
    }
    buf[o] = 0;
    return buf;
}

static int b64_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

apr_status_t vjwt_b64_decode(apr_pool_t *p, const char *in, apr_size_t len, unsigned char **out,
                             apr_size_t *outlen)
{
    apr_size_t start = 0, end = len, n, pad = 0;

    if (!out || !outlen || (!in && len)) {
        return APR_EINVAL;
    }
    if (!in) {
        in = "";
    }
    /* surrounding whitespace is ignored; whitespace inside is an error (the core rejects it) */
    while (start < end && b64_is_space(in[start])) {
        start++;
    }
    while (end > start && b64_is_space(in[end - 1])) {
        end--;
    }
    n = end - start;
    /* optional padding: when present, exactly the '=' count that makes the length a
     * multiple of 4 (one for 3 trailing characters, two for 2) */
    while (n > 0 && in[start + n - 1] == '=') {
        n--;
        pad++;
    }
    if (pad) {
        if (pad > 2 || (n + pad) % 4 != 0 || n % 4 == 0) {
            return APR_EINVAL;
        }
    }
    /* Trailing bits of the last character are not checked here: key text from
     * configuration is decoded the way common base64 tools decode it. */
    return b64_decode_core(p, (const unsigned char *)in + start, n, '+', '/', 0, out, outlen);
}
