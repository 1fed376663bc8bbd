/*
 * fuzz_jwe.c - compact JWE parsing and decryption (vjwt_jwe_decrypt) with a fixed key set:
 * dir keys of 32 and 16 bytes, A128KW/A256KW keys, RSA 2048, EC P-256/384/521 (the test
 * keys of tests/data/jwe/interop.json, so its tokens are seeds that decrypt). An input that
 * is a JSON object is also read as a private JWK, one that looks like PEM or DER as a
 * private key.
 */
#include <string.h>
#include <apr_strings.h>

#include "fuzz_common.h"
#include "vjwt.h"

static const char *const jwks[] = {
    /* dir-256 */
    "{\"k\":\"tAA4XU2i9sFEzKGAoRNZG9PRk3CyCZOEuza8H75n_P4\",\"kid\":\"dir-256\",\"kty\":\"oct\"}",
    /* dir-128 */
    "{\"k\":\"t_m_xtvFTd9UnYmITnoSzw\",\"kid\":\"dir-128\",\"kty\":\"oct\"}",
    /* kw-128 */
    "{\"k\":\"zNOh2B7FHF3Khp2hp_csjg\",\"kid\":\"kw-128\",\"kty\":\"oct\"}",
    /* kw-256 */
    "{\"k\":\"J4WhxN9EQqTxdsTAZ6EzrJZfhfrYft38r-Al0jTN4ag\",\"kid\":\"kw-256\",\"kty\":\"oct\"}",
    /* rsa-2048 */
    "{\"d\":\"T7aQLXEcALisGuuv4RrnfCccuLVX6NpyGunpieSgAYkWAdfOk5YDwYPtofLtKUN8AKl_VbDgyw"
    "5khEj5QROz8NsYX_sGX84pT2Y83pzENRCSOLdtFrsiAzjfWhikQoTqZbYKiescqugtqRiaszh4y-vaCZ"
    "VunEmXsmhhE03zPcXc4YfSebpaDp_R3wUx_kpvZX5dv0eClseOf7HuIasRgizPbLbpDCfFXoQAoLJbgz"
    "JZkIzU6EXwDdTGxtYHuq-ueeG0faYQNWDX1ry9eqXW6h0XbJXq1Yy-aQcfLEMsWH2-dIjYTSODEIVO6O"
    "tf8QWUz4P2eZMpHhbuVmiV8H6QQQ\",\"dp\":\"MA4Bqas3NxvrRXAu0_yL11Dy7tQBylPQwf70v5mXJw6E"
    "8o165h26gFyEgF33IH-NL6Pj3-Xi4clerHO4RwuQW1ZkIl_mLlfDnKK1WCvr9EkM7I9nDSY3zZU4D_7t"
    "3p_aksrI-ZA4hV1nJv-q_mO8y37-yu1PjvGxg1MJKsl2ae8\",\"dq\":\"qzMiQZ7vyxjY81e-9u-bjfg13"
    "73mLFUwAxG-XqlXiYynQ2q0W0EjcA968bN04C4Z_PJAW9cXPlEyR0BB4wZqvIHASX-FTgtiuHKQ7GhHS"
    "mCS-ihvgFbtiPMiggoscQA5iWFLB-CiwwbhD2p6BgJD8V6Om5j3NiDzlU4RQXOUl8E\",\"e\":\"AQAB\",\""
    "kid\":\"rsa-2048\",\"kty\":\"RSA\",\"n\":\"tgx2KrvhD4Ylr_fjmk7kqYn-GSYTXn-Rtqk5uu0yvUSFrgY"
    "UM1YfFdcSbx2K7p1HWLpOGH1qPlLKoKce9eobr8rFUHB17KxPJIpm6SVPbRjFhXMlOVv1lWA0RH63YWV"
    "hocouoSLPcGFZt0mnbB50zjRf4JfxffYNkZqb2uXjh-MQvHMgTZlZeuggpmaQA6rF-OIcULISxjmYDAh"
    "Ryd8O24D66Qh9YjrafvAMPpXsLfRQSLMNoKSxH8xczwWwXXz854qeQy1ZAAmZyKUfLcDL5kUn5d6TQTJ"
    "sx6VLpHQZjE8UuHcMy9P14Wp0R4BIr_YmdigBnlA3DAmkTZYkla5D6w\",\"p\":\"7T10LpukVBAq6iPpoi"
    "ZzIAIMh9GTPht7W8TPtBCPfPnFb0xf84QNTtW53Etagq8Ykm18vxp-EyxruBOvItgDEHbIEiDBbUiQ8v"
    "NeTFoZV_mys2O2RGgnadVCTcYRMWumL5TZ_0pN5p7MJu6CSUtxqqSxr0cSf6XpiLesfsmfOCs\",\"q\":\""
    "xHG_F6YclBy42J4_2OiwuwyrobGde4xu0ZX8HshIaMIsAaPtCkjLNa_vS7OQOwjl3DA78fWWmCLkWfW5"
    "FGQM3jYDjjSWrh446f5myjJek7km1Rt6j1MDlKnj634Zds2lIqfOTokM1wbYPWdjV0GIp9wto2e1O6wM"
    "IUPk6FMJg0E\",\"qi\":\"sEDCZvZQiN0tPgjF0-yzwWHteRWX21gwxZR7N2D072gEkVFmePHGoFLjaRflM"
    "OIS7EGgDzqu-EBq9gxt5mQI_UsX6JyFPLlI76Lhamm3swFBeVT0fU_vWXuA08unY81k38mGiwviI0zcO"
    "AxH8Z4XP8QbpJ-fQHzrPWj8UgoWXvU\"}",
    /* ec-P-256 */
    "{\"crv\":\"P-256\",\"d\":\"gOLvE8pLfYtIO2FGCkTG5mgT_y7IjJFekH0s0sMp4RI\",\"kid\":\"ec-P-256"
    "\",\"kty\":\"EC\",\"x\":\"gzZ-bXyuQWU_RC2I3hDCor55Whp_dtzRsmsAkWgpRqQ\",\"y\":\"RFb88Ais1lEA"
    "aoogmapxdJqn-TZu2grTtN3G1Y2lUfM\"}",
    /* ec-P-384 */
    "{\"crv\":\"P-384\",\"d\":\"OXQf--qr2xP22UB-IWm_9zzLLJWmK3TlOZjsIfYBz5SUrdUYIIqbBJIOvyFL"
    "FBJQ\",\"kid\":\"ec-P-384\",\"kty\":\"EC\",\"x\":\"RXOSBruy8NT3MeKbY__zmGzVe5hOlwM08Yu2tRRZJ"
    "OjuGGEmAXh5ai6ZP90nEVJD\",\"y\":\"ES5kH-kHDJmOeDYLA8hTixdELsINnVv8hJ7FILPlnVFxypIJk-"
    "h2T_FTkY2Bgp-R\"}",
    /* ec-P-521 */
    "{\"crv\":\"P-521\",\"d\":\"AC-3HFiCYd8ZR4v8ZoiGSbfki86PDy2JtWmzSlcDcHgHfZDMJPWDmlh8myZN"
    "8W9WjIKFY0F6AgEzTNjp-t6JYzk5\",\"kid\":\"ec-P-521\",\"kty\":\"EC\",\"x\":\"AGqpAqj-xZsf9kwjY"
    "2BC15MXCaay4zE_H9DVlTtyJDLvZWaVLZcYwuzBIK9T4-AO5SvcFDx3k_8VdO0ymCDj_NNa\",\"y\":\"AU"
    "z7YDynbpz1ILhxH9az_rlK1T6s0N-DepeLCTTvJsJGQpNmHWmRXoELK6AkkvwySzRGw2xjT0-MGAQV7T"
    "8a1v_x\"}",
};

typedef struct {
    vjwt_jwe_ctx_t *ctx;
    apr_array_header_t *keys;
} fuzz_jwe_t;

/* The fixed key set, made once in the root pool; fuzz_root() terminates APR at exit, so
 * the pool's cleanups free the keys and fetched algorithms before the leak check. */
static fuzz_jwe_t *fixture(apr_pool_t *p)
{
    static fuzz_jwe_t *f;
    if (!f) {
        size_t i;
        const char *err = NULL;
        f = apr_pcalloc(p, sizeof(*f));
        if (vjwt_jwe_ctx_make(&f->ctx, p, &err) != APR_SUCCESS) {
            abort();
        }
        f->keys = apr_array_make(p, 8, sizeof(const vjwt_jwe_key_t *));
        for (i = 0; i < sizeof(jwks) / sizeof(jwks[0]); i++) {
            json_t *j = NULL;
            vjwt_jwe_key_t *k = NULL;
            if (vjwt_json_parse(&j, p, jwks[i], strlen(jwks[i]), 1, &err) != APR_SUCCESS ||
                vjwt_jwe_key_from_jwk(&k, p, j, &err) != APR_SUCCESS) {
                abort(); /* the fixed keys must load */
            }
            APR_ARRAY_PUSH(f->keys, const vjwt_jwe_key_t *) = k;
        }
    }
    return f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *root = fuzz_root(), *p;
    fuzz_jwe_t *f = fixture(root);
    vjwt_jwe_limits_t lim = {16384, 8192, 2048};
    vjwt_jwe_result_t r;
    vjwt_verdict_t v;
    const char *err = NULL;
    apr_pool_create(&p, root);
    vjwt_jwe_is_compact((const char *)data, size);
    if (vjwt_jwe_decrypt(&r, p, f->ctx, f->keys, (const char *)data, size, &lim, &v) ==
        APR_SUCCESS) {
        if (r.plaintext[r.plaintext_len] != 0 || !r.key || !r.header) {
            abort();
        }
        vjwt_json_text(p, r.header);
        vjwt_jwe_key_describe(p, r.key);
    }
    else if (v.reason != VJWT_R_JWT_INVALID || !v.detail) {
        abort();
    }
    if (size && data[0] == '{') {
        json_t *j = NULL;
        vjwt_jwe_key_t *k = NULL;
        if (vjwt_json_parse(&j, p, (const char *)data, size, 1, &err) == APR_SUCCESS &&
            vjwt_jwe_key_from_jwk(&k, p, j, &err) == APR_SUCCESS) {
            vjwt_jwe_key_describe(p, k);
        }
    }
    else if (size && (data[0] == '-' || data[0] == 0x30)) {
        vjwt_jwe_key_t *k = NULL;
        vjwt_jwe_key_from_pem(&k, p, NULL, (const char *)data, size, &err);
    }
    apr_pool_destroy(p);
    return 0;
}
