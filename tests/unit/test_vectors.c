/*
 * test_vectors.c - drives every vector file in $VJWT_TESTVECTORS (see its README.md):
 *
 *  - Wycheproof primitive files (RSA PKCS#1, RSA-PSS, ECDSA P1363, Ed25519, HMAC): key from
 *    the group JWK through vjwt_jwk_parse (built from raw components where the file has no
 *    JWK), then vjwt_key_fits_alg + vjwt_jose_verify; the group DER key is loaded through
 *    vjwt_key_from_pem as a cross-check (same key as the JWK).
 *  - Wycheproof JOSE files end to end: vjwt_jwks_from_json + vjwt_token_parse +
 *    vjwt_validate_signature with every algorithm allowed. JWE inputs must be rejected by
 *    vjwt_token_parse.
 *  - rfc/ files end to end, the allowlist being the test's alg.
 *
 * Expected results: wycheproof_jws_overrides.json applied, "acceptable" taken as invalid.
 * Each file is one cmocka test; every mismatch is printed as file:tcId comment flags, and a
 * file with any mismatch fails. Cases a strict implementation cannot satisfy are listed in
 * expected_failures[] with the reason; an entry that starts passing is a mismatch too.
 */
#include "testutil.h"
#include "vjwt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_file_info.h>
#include <jansson.h>
#include <openssl/evp.h>

typedef struct {
    const char *file;
    long tcid;
    const char *reason;
} xfail_t;

static const xfail_t expected_failures[] = {
    /* A 2048-bit RS256 key whose modulus has the ROCA (CVE-2017-15361) structure. Detecting
     * it needs the ROCA fingerprint test, which the module does not implement (the README of
     * the vectors calls the check optional); the signature itself is valid, so the token
     * verifies. */
    {"wycheproof/json_web_key_test.json", 7, "ROCA-weak RSA modulus not detected"},
    {"wycheproof/json_web_crypto_test.json", 46, "ROCA-weak RSA modulus not detected"},
};

typedef struct {
    const char *file; /* relative to the vectors directory */
    int run, pass, skip, xfail, mismatch, jwe_rejected, jws_layer;
    const char *skip_reason;
} counts_t;

static json_t *load_json(apr_pool_t *p, const char *rel)
{
    json_error_t e;
    const char *path = vjwt_test_vector_path(p, rel);
    json_t *j = json_load_file(path, 0, &e);
    if (!j) {
        fail_msg("cannot load %s: %s (line %d)", path, e.text, e.line);
    }
    return vjwt_json_own(p, j);
}

static const xfail_t *find_xfail(const char *file, long tcid)
{
    size_t i;
    for (i = 0; i < sizeof(expected_failures) / sizeof(expected_failures[0]); i++) {
        if (expected_failures[i].tcid == tcid && strcmp(expected_failures[i].file, file) == 0) {
            return &expected_failures[i];
        }
    }
    return NULL;
}

/* strict_jws_result of (file, tcId) from wycheproof_jws_overrides.json, or NULL. */
static const char *find_override(json_t *ov, const char *file, long tcid)
{
    json_t *arr = json_object_get(ov, "overrides"), *o;
    size_t i, k;
    json_array_foreach(arr, i, o)
    {
        json_t *ids = json_object_get(o, "tcIds"), *id;
        if (strcmp(json_string_value(json_object_get(o, "file")), file) != 0) {
            continue;
        }
        json_array_foreach(ids, k, id)
        {
            if (json_integer_value(id) == tcid) {
                return json_string_value(json_object_get(o, "strict_jws_result"));
            }
        }
    }
    return NULL;
}

/*
 * Expected result of a Wycheproof test: the override when listed (its first word; where it
 * names two policies the first is the strict one the module implements), else "result";
 * "acceptable" counts as invalid. Returns 1 valid, 0 invalid, -1 skip.
 */
static int expected_of(json_t *ov, const char *base, json_t *t, const char **skip_reason)
{
    const char *r = find_override(ov, base, (long)json_integer_value(json_object_get(t, "tcId")));
    if (!r) {
        r = json_string_value(json_object_get(t, "result"));
    }
    if (!r) {
        fail_msg("%s: test without result", base);
    }
    if (strncmp(r, "not applicable", 14) == 0) {
        *skip_reason = r;
        return -1;
    }
    return strncmp(r, "valid", 5) == 0;
}

static const char *flags_text(apr_pool_t *p, json_t *t)
{
    json_t *f = json_object_get(t, "flags"), *e;
    size_t i;
    const char *s = "[";
    json_array_foreach(f, i, e)
    {
        s = apr_pstrcat(p, s, i ? "," : "", json_string_value(e), NULL);
    }
    return apr_pstrcat(p, s, "]", NULL);
}

/* Record one result; prints mismatches. */
static void record(apr_pool_t *p, counts_t *c, json_t *t, long tcid, int expected, int got,
                   const char *detail)
{
    const xfail_t *xf = find_xfail(c->file, tcid);
    const char *comment = t ? json_string_value(json_object_get(t, "comment")) : NULL;
    c->run++;
    if (got < 0) {
        c->mismatch++;
        printf("  MISMATCH %s:%ld %s: harness check failed: %s\n", c->file, tcid,
               comment ? comment : "", detail ? detail : "");
        return;
    }
    if (xf) {
        if (got != expected) {
            c->xfail++;
            printf("  xfail %s:%ld %s (%s)\n", c->file, tcid, comment ? comment : "", xf->reason);
        }
        else {
            c->mismatch++;
            printf("  UNEXPECTED PASS %s:%ld %s: remove it from expected_failures\n", c->file, tcid,
                   comment ? comment : "");
        }
        return;
    }
    if (got == expected) {
        c->pass++;
        if (getenv("VJWT_VECTORS_VERBOSE") && detail) {
            printf("  ok %s:%ld %s %s: %s\n", c->file, tcid, comment ? comment : "",
                   got ? "valid" : "invalid", detail);
        }
        return;
    }
    c->mismatch++;
    printf("  MISMATCH %s:%ld %s %s expected %s got %s%s%s\n", c->file, tcid,
           comment ? comment : "", t ? flags_text(p, t) : "", expected ? "valid" : "invalid",
           got ? "valid" : "invalid", detail ? ": " : "", detail ? detail : "");
}

static void report(counts_t *c)
{
    printf("%s: %d run, %d pass, %d skipped%s%s%s, %d expected failures, %d mismatches", c->file,
           c->run, c->pass, c->skip, c->skip ? " (" : "", c->skip ? c->skip_reason : "",
           c->skip ? ")" : "", c->xfail, c->mismatch);
    if (c->jws_layer) {
        printf(", %d with a non-JSON payload (JwtInvalid as JWT; JWS layer checked)", c->jws_layer);
    }
    if (c->jwe_rejected) {
        printf(", %d JWE inputs rejected by the token parser", c->jwe_rejected);
    }
    printf("\n");
    fflush(stdout);
    if (c->mismatch) {
        fail_msg("%s: %d mismatches", c->file, c->mismatch);
    }
}

static void hexdec(apr_pool_t *p, counts_t *c, json_t *o, const char *name, unsigned char **out,
                   apr_size_t *len)
{
    const char *h = json_string_value(json_object_get(o, name));
    if (!h || vjwt_test_hex(p, h, out, len) != 0) {
        fail_msg("%s: harness error: member %s is not hex", c->file, name);
    }
}

/* ---- primitive files ---------------------------------------------------------------- */

typedef enum { PRIM_RSA, PRIM_PSS, PRIM_ECDSA, PRIM_EDDSA, PRIM_HMAC } prim_e;

static const char *sha_suffix(const char *sha)
{
    if (!sha) {
        return NULL;
    }
    if (strcmp(sha, "SHA-256") == 0) {
        return "256";
    }
    if (strcmp(sha, "SHA-384") == 0) {
        return "384";
    }
    if (strcmp(sha, "SHA-512") == 0) {
        return "512";
    }
    return NULL;
}

/* Hex integer to exactly n octets (leading zero octets stripped, then left-padded). */
static const char *hex_to_b64url_fixed(apr_pool_t *p, counts_t *c, const char *hex, apr_size_t n)
{
    unsigned char *b, *out;
    apr_size_t len;
    if (vjwt_test_hex(p, hex, &b, &len) != 0) {
        fail_msg("%s: harness error: bad hex %s", c->file, hex);
    }
    while (len > n && *b == 0) {
        b++;
        len--;
    }
    if (len > n) {
        fail_msg("%s: harness error: coordinate longer than the field", c->file);
    }
    out = apr_pcalloc(p, n);
    memcpy(out + (n - len), b, len);
    return vjwt_b64url_encode(p, out, n);
}

static const char *hex_to_b64url(apr_pool_t *p, counts_t *c, const char *hex)
{
    unsigned char *b;
    apr_size_t len;
    if (vjwt_test_hex(p, hex, &b, &len) != 0) {
        fail_msg("%s: harness error: bad hex %s", c->file, hex);
    }
    while (len > 1 && *b == 0) {
        b++;
        len--;
    }
    return vjwt_b64url_encode(p, b, len);
}

/* The group JWK, or one built from the raw public key when the group has none. */
static json_t *group_jwk(apr_pool_t *p, counts_t *c, prim_e kind, json_t *g, int *built)
{
    json_t *jwk = json_object_get(g, kind == PRIM_RSA ? "keyJwk" : "publicKeyJwk");
    json_t *pk = json_object_get(g, "publicKey");
    *built = 0;
    if (jwk) {
        return jwk;
    }
    *built = 1;
    if (kind == PRIM_PSS || kind == PRIM_RSA) {
        return vjwt_json_own(
            p, json_pack(
                   "{s:s, s:s, s:s}", "kty", "RSA", "n",
                   hex_to_b64url(p, c, json_string_value(json_object_get(pk, "modulus"))), "e",
                   hex_to_b64url(p, c, json_string_value(json_object_get(pk, "publicExponent")))));
    }
    if (kind == PRIM_ECDSA) {
        const char *curve = json_string_value(json_object_get(pk, "curve"));
        const char *crv;
        apr_size_t n;
        if (strcmp(curve, "secp256r1") == 0) {
            crv = "P-256";
            n = 32;
        }
        else if (strcmp(curve, "secp384r1") == 0) {
            crv = "P-384";
            n = 48;
        }
        else if (strcmp(curve, "secp521r1") == 0) {
            crv = "P-521";
            n = 66;
        }
        else {
            fail_msg("%s: harness error: curve %s", c->file, curve);
            return NULL;
        }
        return vjwt_json_own(
            p, json_pack(
                   "{s:s, s:s, s:s, s:s}", "kty", "EC", "crv", crv, "x",
                   hex_to_b64url_fixed(p, c, json_string_value(json_object_get(pk, "wx")), n), "y",
                   hex_to_b64url_fixed(p, c, json_string_value(json_object_get(pk, "wy")), n)));
    }
    fail_msg("%s: harness error: group without JWK", c->file);
    return NULL;
}

static void run_primitive(apr_pool_t *p, const char *rel, prim_e kind)
{
    counts_t c = {0};
    const char *base = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;
    json_t *doc = load_json(p, rel);
    json_t *ov = load_json(p, "wycheproof_jws_overrides.json");
    json_t *groups = json_object_get(doc, "testGroups"), *g;
    apr_pool_t *gp, *tp;
    size_t gi;

    c.file = rel;
    apr_pool_create(&gp, p);
    apr_pool_create(&tp, p);
    json_array_foreach(groups, gi, g)
    {
        const char *sha = json_string_value(json_object_get(g, "sha"));
        const char *suffix = sha_suffix(sha);
        const vjwt_alg_t *alg = NULL;
        vjwt_key_t *key = NULL;
        const char *keyerr = NULL, *why = NULL;
        json_t *tests = json_object_get(g, "tests"), *t;
        size_t ti;
        int fits = 0;

        apr_pool_clear(gp);
        switch (kind) {
        case PRIM_RSA:
            alg = suffix ? vjwt_alg_lookup(apr_pstrcat(gp, "RS", suffix, NULL)) : NULL;
            break;
        case PRIM_PSS:
            alg = suffix ? vjwt_alg_lookup(apr_pstrcat(gp, "PS", suffix, NULL)) : NULL;
            break;
        case PRIM_ECDSA:
            alg = suffix ? vjwt_alg_lookup(apr_pstrcat(gp, "ES", suffix, NULL)) : NULL;
            break;
        case PRIM_EDDSA:
            alg = vjwt_alg_lookup("EdDSA");
            break;
        case PRIM_HMAC:
            alg = strstr(rel, "sha256")   ? vjwt_alg_lookup("HS256")
                  : strstr(rel, "sha384") ? vjwt_alg_lookup("HS384")
                                          : vjwt_alg_lookup("HS512");
            break;
        }
        if (!alg) {
            /* no JWS algorithm for this hash (SHA-1/SHA-224 PSS groups): every test of the
             * group must be marked "not applicable" by the overrides, checked below */
            json_array_foreach(tests, ti, t)
            {
                const char *sr = NULL;
                if (expected_of(ov, base, t, &sr) != -1) {
                    fail_msg("%s:%ld: group %s has no JWS alg but the test is not skipped", rel,
                             (long)json_integer_value(json_object_get(t, "tcId")), sha ? sha : "?");
                }
                c.skip++;
                c.skip_reason = apr_psprintf(p, "%s", sr);
            }
            continue;
        }
        if (kind != PRIM_HMAC) {
            int built;
            json_t *jwk = group_jwk(gp, &c, kind, g, &built);
            const char *der_hex = json_string_value(json_object_get(g, "publicKeyDer"));
            if (vjwt_jwk_parse(&key, gp, jwk, &keyerr) != APR_SUCCESS) {
                key = NULL;
            }
            /* cross-check: the DER SubjectPublicKeyInfo through the PEM/DER loader */
            if (der_hex) {
                unsigned char *der;
                apr_size_t derlen;
                vjwt_key_t *dk = NULL;
                const char *derr = NULL;
                hexdec(gp, &c, g, "publicKeyDer", &der, &derlen);
                if (vjwt_key_from_pem(&dk, gp, (const char *)der, derlen, &derr) == APR_SUCCESS) {
                    if (!key) {
                        printf("  note %s: group %d: JWK refused (%s) but DER loads\n", rel,
                               (int)gi, keyerr);
                    }
                    else if (EVP_PKEY_eq(key->pkey, dk->pkey) != 1) {
                        fail_msg("%s: group %d: JWK and DER keys differ", rel, (int)gi);
                    }
                }
                else if (key && kind != PRIM_PSS) {
                    /* PSS DERs may be RSASSA-PSS SPKIs, which the loader refuses */
                    printf("  note %s: group %d: DER refused: %s\n", rel, (int)gi, derr);
                }
            }
            if (key) {
                fits = vjwt_key_fits_alg(key, alg, VJWT_DEFAULT_MIN_RSA_BITS, &why);
            }
            else {
                why = keyerr;
            }
            if (!key || !fits) {
                printf("  note %s: group %d%s: key unusable for %s: %s\n", rel, (int)gi,
                       built ? " (JWK built from raw key)" : "", alg->name, why);
            }
        }
        json_array_foreach(tests, ti, t)
        {
            long tcid = (long)json_integer_value(json_object_get(t, "tcId"));
            const char *sr = NULL;
            int exp = expected_of(ov, base, t, &sr), got = 0;
            unsigned char *msg, *sig;
            apr_size_t msglen, siglen;
            const char *detail = NULL;

            apr_pool_clear(tp);
            if (exp < 0) {
                c.skip++;
                c.skip_reason = apr_psprintf(p, "%s", sr);
                continue;
            }
            hexdec(tp, &c, t, "msg", &msg, &msglen);
            hexdec(tp, &c, t, kind == PRIM_HMAC ? "tag" : "sig", &sig, &siglen);
            if (kind == PRIM_HMAC) {
                unsigned char *kb;
                apr_size_t kl;
                json_t *jwk;
                hexdec(tp, &c, t, "key", &kb, &kl);
                jwk = vjwt_json_own(
                    tp, json_pack("{s:s, s:s}", "kty", "oct", "k", vjwt_b64url_encode(tp, kb, kl)));
                key = NULL;
                if (vjwt_jwk_parse(&key, tp, jwk, &detail) == APR_SUCCESS) {
                    fits = vjwt_key_fits_alg(key, alg, VJWT_DEFAULT_MIN_RSA_BITS, &detail);
                }
                else {
                    key = NULL;
                }
            }
            if (key && fits) {
                vjwt_key_t bare = *key;
                got = vjwt_jose_verify(alg, key, msg, msglen, sig, siglen) == APR_SUCCESS;
                /* the key's verification templates change nothing: the same verdict from
                 * contexts built for this one call */
                assert_non_null(key->tmpl);
                bare.tmpl = NULL;
                if ((vjwt_jose_verify(alg, &bare, msg, msglen, sig, siglen) == APR_SUCCESS) !=
                    got) {
                    fail_msg("%s tcId %ld: verdict with templates differs from without", base,
                             tcid);
                }
            }
            else {
                detail = detail ? detail : why;
            }
            record(tp, &c, t, tcid, exp, got, detail);
        }
    }
    apr_pool_destroy(tp);
    apr_pool_destroy(gp);
    report(&c);
}

#define PRIM_TEST(fn, file, kind)                                                                  \
    static void fn(void **state)                                                                   \
    {                                                                                              \
        run_primitive((apr_pool_t *)*state, "wycheproof/" file, kind);                             \
    }

PRIM_TEST(t_rsa_2048_256, "rsa_signature_2048_sha256_test.json", PRIM_RSA)
PRIM_TEST(t_rsa_2048_384, "rsa_signature_2048_sha384_test.json", PRIM_RSA)
PRIM_TEST(t_rsa_2048_512, "rsa_signature_2048_sha512_test.json", PRIM_RSA)
PRIM_TEST(t_rsa_3072_256, "rsa_signature_3072_sha256_test.json", PRIM_RSA)
PRIM_TEST(t_rsa_3072_384, "rsa_signature_3072_sha384_test.json", PRIM_RSA)
PRIM_TEST(t_rsa_3072_512, "rsa_signature_3072_sha512_test.json", PRIM_RSA)
PRIM_TEST(t_rsa_4096_256, "rsa_signature_4096_sha256_test.json", PRIM_RSA)
PRIM_TEST(t_rsa_4096_384, "rsa_signature_4096_sha384_test.json", PRIM_RSA)
PRIM_TEST(t_rsa_4096_512, "rsa_signature_4096_sha512_test.json", PRIM_RSA)
PRIM_TEST(t_pss_2048_256, "rsa_pss_2048_sha256_mgf1_32_test.json", PRIM_PSS)
PRIM_TEST(t_pss_2048_384, "rsa_pss_2048_sha384_mgf1_48_test.json", PRIM_PSS)
PRIM_TEST(t_pss_3072_256, "rsa_pss_3072_sha256_mgf1_32_test.json", PRIM_PSS)
PRIM_TEST(t_pss_4096_256, "rsa_pss_4096_sha256_mgf1_32_test.json", PRIM_PSS)
PRIM_TEST(t_pss_4096_384, "rsa_pss_4096_sha384_mgf1_48_test.json", PRIM_PSS)
PRIM_TEST(t_pss_4096_512, "rsa_pss_4096_sha512_mgf1_64_test.json", PRIM_PSS)
PRIM_TEST(t_pss_misc, "rsa_pss_misc_test.json", PRIM_PSS)
PRIM_TEST(t_ecdsa_p256, "ecdsa_secp256r1_sha256_p1363_test.json", PRIM_ECDSA)
PRIM_TEST(t_ecdsa_p384, "ecdsa_secp384r1_sha384_p1363_test.json", PRIM_ECDSA)
PRIM_TEST(t_ecdsa_p521, "ecdsa_secp521r1_sha512_p1363_test.json", PRIM_ECDSA)
PRIM_TEST(t_ed25519, "ed25519_test.json", PRIM_EDDSA)
PRIM_TEST(t_hmac_256, "hmac_sha256_test.json", PRIM_HMAC)
PRIM_TEST(t_hmac_384, "hmac_sha384_test.json", PRIM_HMAC)
PRIM_TEST(t_hmac_512, "hmac_sha512_test.json", PRIM_HMAC)

/* ---- end to end --------------------------------------------------------------------- */

/*
 * 1 when the payload segment of a three-part compact token is strict base64url of something
 * that is not a JSON object. libvjwt validates JWTs, and a JWT payload must be a JSON object
 * (RFC 7519 7.2 step 10), so vjwt_token_parse rejects such tokens with JwtInvalid by design.
 * Many JWS vectors sign arbitrary octets ("foo", "Payload", empty), so for them the harness
 * checks both: the parser rejects the token, and the JWS layer gives the vector's result.
 */
static int non_json_payload(apr_pool_t *p, const char *jws, apr_size_t len, apr_size_t *d1,
                            apr_size_t *d2)
{
    const char *a = memchr(jws, '.', len), *b;
    unsigned char *pl;
    apr_size_t pllen;
    json_t *j = NULL;
    if (!a) {
        return 0;
    }
    b = memchr(a + 1, '.', len - (apr_size_t)(a + 1 - jws));
    if (!b || memchr(b + 1, '.', len - (apr_size_t)(b + 1 - jws))) {
        return 0;
    }
    if (vjwt_b64url_decode(p, a + 1, (apr_size_t)(b - a - 1), &pl, &pllen) != APR_SUCCESS) {
        return 0;
    }
    *d1 = (apr_size_t)(a - jws);
    *d2 = (apr_size_t)(b - jws);
    return vjwt_json_parse(&j, p, (const char *)pl, pllen, 1, NULL) != APR_SUCCESS;
}

static const char *verdict_text(apr_pool_t *p, const vjwt_verdict_t *v)
{
    return apr_pstrcat(p, vjwt_reason_name(v->reason), " ", v->detail ? v->detail : "", NULL);
}

/* 1 when the compact token verifies with keys (signature stage only). *jws_layer is set when
 * the non-JSON-payload path above was taken. */
static int e2e_valid(apr_pool_t *p, const char *jws, apr_size_t len, const apr_array_header_t *keys,
                     unsigned mask, const char **detail, int *jws_layer)
{
    vjwt_token_t *tok = NULL;
    vjwt_verdict_t v = {VJWT_R_OK, NULL};
    apr_size_t d1, d2;
    *detail = NULL;
    *jws_layer = 0;
    if (non_json_payload(p, jws, len, &d1, &d2)) {
        /* the JWT parser must refuse it ... */
        if (vjwt_token_parse(&tok, p, jws, len, 0, &v) == APR_SUCCESS) {
            *detail = "vjwt_token_parse accepted a non-JSON payload";
            return -1;
        }
        if (v.reason != VJWT_R_JWT_INVALID) {
            *detail =
                apr_pstrcat(p, "non-JSON payload not JwtInvalid: ", verdict_text(p, &v), NULL);
            return -1;
        }
        /* ... and the JWS layer decides the vector: the same header and signature parsed
         * with an empty-object payload, then verified over the real signing input */
        *jws_layer = 1;
        v.reason = VJWT_R_OK;
        v.detail = NULL;
        if (vjwt_token_parse(&tok, p,
                             apr_pstrcat(p, apr_pstrndup(p, jws, d1), ".e30", jws + d2, NULL),
                             len - (d2 - d1) + 4, 0, &v) != APR_SUCCESS) {
            *detail = verdict_text(p, &v);
            return 0;
        }
        tok->raw = apr_pstrndup(p, jws, len);
        tok->raw_len = len;
        tok->signing_input = tok->raw;
        tok->signing_input_len = d2;
    }
    else if (vjwt_token_parse(&tok, p, jws, len, 0, &v) != APR_SUCCESS) {
        *detail = verdict_text(p, &v);
        return 0;
    }
    if (vjwt_validate_signature(p, tok, keys, mask, VJWT_DEFAULT_MIN_RSA_BITS, 1, NULL, &v) !=
        APR_SUCCESS) {
        *detail = verdict_text(p, &v);
        return 0;
    }
    return 1;
}

/* A member that is a compact string or (JSON serialization) an object: the text fed to the
 * compact parser. */
static const char *token_text(apr_pool_t *p, json_t *v, apr_size_t *len)
{
    const char *s;
    if (json_is_string(v)) {
        *len = json_string_length(v);
        return json_string_value(v);
    }
    s = vjwt_json_text(p, v);
    *len = s ? strlen(s) : 0;
    return s ? s : "";
}

static void run_jose(apr_pool_t *p, const char *rel)
{
    counts_t c = {0};
    const char *base = strrchr(rel, '/') + 1;
    json_t *doc = load_json(p, rel);
    json_t *ov = load_json(p, "wycheproof_jws_overrides.json");
    json_t *groups = json_object_get(doc, "testGroups"), *g;
    apr_pool_t *gp, *tp;
    size_t gi;

    c.file = rel;
    apr_pool_create(&gp, p);
    apr_pool_create(&tp, p);
    json_array_foreach(groups, gi, g)
    {
        json_t *kj = json_object_get(g, "public");
        json_t *tests = json_object_get(g, "tests"), *t;
        apr_array_header_t *keys = NULL, *skipped;
        const char *seterr = NULL;
        size_t ti;

        apr_pool_clear(gp);
        if (!kj) {
            kj = json_object_get(g, "private"); /* only oct groups lack "public" */
        }
        skipped = apr_array_make(gp, 4, sizeof(const char *));
        if (!kj || vjwt_jwks_from_json(&keys, gp, kj, skipped, &seterr) != APR_SUCCESS) {
            keys = apr_array_make(gp, 1, sizeof(vjwt_key_t *)); /* set refused: no key */
        }
        json_array_foreach(tests, ti, t)
        {
            long tcid = (long)json_integer_value(json_object_get(t, "tcId"));
            json_t *jwe = json_object_get(t, "jwe");
            apr_size_t len;
            const char *text, *detail = NULL, *sr = NULL;
            int exp, got, jl;

            apr_pool_clear(tp);
            if (jwe) {
                /* a compact-JWS-only verifier: every JWE (valid or not) is rejected by the
                 * token parser, without crashing */
                vjwt_token_t *tok = NULL;
                vjwt_verdict_t v = {VJWT_R_OK, NULL};
                text = token_text(tp, jwe, &len);
                got = vjwt_token_parse(&tok, tp, text, len, 0, &v) == APR_SUCCESS;
                if (!got) {
                    c.jwe_rejected++;
                }
                record(tp, &c, t, tcid, 0, got, "JWE accepted by the JWS token parser");
                continue;
            }
            exp = expected_of(ov, base, t, &sr);
            if (exp < 0) {
                c.skip++;
                c.skip_reason = apr_psprintf(p, "%s", sr);
                continue;
            }
            text = token_text(tp, json_object_get(t, "jws"), &len);
            got = e2e_valid(tp, text, len, keys, vjwt_alg_mask_all(), &detail, &jl);
            c.jws_layer += jl;
            if (got != exp && !detail) {
                detail = "verified";
            }
            if (seterr) {
                detail = apr_pstrcat(tp, "key set refused: ", seterr, NULL);
            }
            else if (!got && skipped->nelts) {
                detail = apr_pstrcat(tp, detail,
                                     "; skipped keys: ", apr_array_pstrcat(tp, skipped, ';'), NULL);
            }
            record(tp, &c, t, tcid, exp, got, detail);
        }
    }
    apr_pool_destroy(tp);
    apr_pool_destroy(gp);
    report(&c);
}

static void t_jws(void **state)
{
    run_jose((apr_pool_t *)*state, "wycheproof/json_web_signature_test.json");
}

static void t_jwk(void **state)
{
    run_jose((apr_pool_t *)*state, "wycheproof/json_web_key_test.json");
}

static void t_jwc(void **state)
{
    run_jose((apr_pool_t *)*state, "wycheproof/json_web_crypto_test.json");
}

static void t_jwe(void **state)
{
    run_jose((apr_pool_t *)*state, "wycheproof/json_web_encryption_test.json");
}

/* rfc/ files: the test's jwk as the only key, its alg as the only allowed algorithm. */
static void run_rfc(apr_pool_t *p, const char *rel)
{
    counts_t c = {0};
    json_t *doc = load_json(p, rel);
    json_t *tests = json_object_get(doc, "tests"), *t;
    apr_pool_t *tp;
    size_t ti;

    c.file = rel;
    apr_pool_create(&tp, p);
    json_array_foreach(tests, ti, t)
    {
        const char *id = json_string_value(json_object_get(t, "id"));
        const char *alg_s = json_string_value(json_object_get(t, "alg"));
        const char *exp_s = json_string_value(json_object_get(t, "expected"));
        const vjwt_alg_t *alg = vjwt_alg_lookup(alg_s);
        apr_array_header_t *keys = NULL, *skipped;
        const char *seterr = NULL, *detail = NULL, *text;
        apr_size_t len;
        int exp, got, jl;

        apr_pool_clear(tp);
        if (!id || !exp_s || !alg) {
            fail_msg("%s: harness error: test %d lacks id/expected or has unknown alg %s", rel,
                     (int)ti, alg_s ? alg_s : "(none)");
        }
        exp = strcmp(exp_s, "valid") == 0;
        skipped = apr_array_make(tp, 2, sizeof(const char *));
        if (vjwt_jwks_from_json(&keys, tp, json_object_get(t, "jwk"), skipped, &seterr) !=
            APR_SUCCESS) {
            keys = apr_array_make(tp, 1, sizeof(vjwt_key_t *));
        }
        text = token_text(tp, json_object_get(t, "jws"), &len);
        got = e2e_valid(tp, text, len, keys, alg->bit, &detail, &jl);
        c.jws_layer += jl;
        if (got < 0) {
            c.run++;
            c.mismatch++;
            printf("  MISMATCH %s:%s: harness check failed: %s\n", rel, id, detail);
        }
        else if (got != exp) {
            c.run++;
            c.mismatch++;
            printf("  MISMATCH %s:%s expected %s got %s: %s%s%s\n", rel, id, exp_s,
                   got ? "valid" : "invalid", detail ? detail : "verified",
                   skipped->nelts ? "; skipped keys: " : "",
                   skipped->nelts ? apr_array_pstrcat(tp, skipped, ';') : "");
        }
        else {
            c.run++;
            c.pass++;
        }
    }
    apr_pool_destroy(tp);
    report(&c);
}

#define RFC_TEST(fn, file)                                                                         \
    static void fn(void **state)                                                                   \
    {                                                                                              \
        run_rfc((apr_pool_t *)*state, "rfc/" file);                                                \
    }

RFC_TEST(t_rfc7515_a1, "rfc7515_A1_hs256.json")
RFC_TEST(t_rfc7515_a2, "rfc7515_A2_rs256.json")
RFC_TEST(t_rfc7515_a3, "rfc7515_A3_es256.json")
RFC_TEST(t_rfc7515_a4, "rfc7515_A4_es512.json")
RFC_TEST(t_rfc7515_a5, "rfc7515_A5_none.json")
RFC_TEST(t_rfc7520_41, "rfc7520_4_1_rs256.json")
RFC_TEST(t_rfc7520_42, "rfc7520_4_2_ps384.json")
RFC_TEST(t_rfc7520_43, "rfc7520_4_3_es512.json")
RFC_TEST(t_rfc7520_44, "rfc7520_4_4_hs256.json")
RFC_TEST(t_rfc8037_a, "rfc8037_A_ed25519.json")

/* Every vector file is driven by one of the tests above: a new file must be added here. */
static const char *const covered_files[] = {"wycheproof/rsa_signature_2048_sha256_test.json",
                                            "wycheproof/rsa_signature_2048_sha384_test.json",
                                            "wycheproof/rsa_signature_2048_sha512_test.json",
                                            "wycheproof/rsa_signature_3072_sha256_test.json",
                                            "wycheproof/rsa_signature_3072_sha384_test.json",
                                            "wycheproof/rsa_signature_3072_sha512_test.json",
                                            "wycheproof/rsa_signature_4096_sha256_test.json",
                                            "wycheproof/rsa_signature_4096_sha384_test.json",
                                            "wycheproof/rsa_signature_4096_sha512_test.json",
                                            "wycheproof/rsa_pss_2048_sha256_mgf1_32_test.json",
                                            "wycheproof/rsa_pss_2048_sha384_mgf1_48_test.json",
                                            "wycheproof/rsa_pss_3072_sha256_mgf1_32_test.json",
                                            "wycheproof/rsa_pss_4096_sha256_mgf1_32_test.json",
                                            "wycheproof/rsa_pss_4096_sha384_mgf1_48_test.json",
                                            "wycheproof/rsa_pss_4096_sha512_mgf1_64_test.json",
                                            "wycheproof/rsa_pss_misc_test.json",
                                            "wycheproof/ecdsa_secp256r1_sha256_p1363_test.json",
                                            "wycheproof/ecdsa_secp384r1_sha384_p1363_test.json",
                                            "wycheproof/ecdsa_secp521r1_sha512_p1363_test.json",
                                            "wycheproof/ed25519_test.json",
                                            "wycheproof/hmac_sha256_test.json",
                                            "wycheproof/hmac_sha384_test.json",
                                            "wycheproof/hmac_sha512_test.json",
                                            "wycheproof/json_web_signature_test.json",
                                            "wycheproof/json_web_key_test.json",
                                            "wycheproof/json_web_crypto_test.json",
                                            "wycheproof/json_web_encryption_test.json",
                                            "rfc/rfc7515_A1_hs256.json",
                                            "rfc/rfc7515_A2_rs256.json",
                                            "rfc/rfc7515_A3_es256.json",
                                            "rfc/rfc7515_A4_es512.json",
                                            "rfc/rfc7515_A5_none.json",
                                            "rfc/rfc7520_4_1_rs256.json",
                                            "rfc/rfc7520_4_2_ps384.json",
                                            "rfc/rfc7520_4_3_es512.json",
                                            "rfc/rfc7520_4_4_hs256.json",
                                            "rfc/rfc8037_A_ed25519.json",
                                            NULL};

static void check_dir(apr_pool_t *p, const char *sub, int *seen)
{
    apr_dir_t *d;
    apr_finfo_t fi;
    const char *path = vjwt_test_vector_path(p, sub);
    assert_int_equal(apr_dir_open(&d, path, p), APR_SUCCESS);
    while (apr_dir_read(&fi, APR_FINFO_NAME | APR_FINFO_TYPE, d) == APR_SUCCESS) {
        const char *rel;
        int i, found = 0;
        apr_size_t n = strlen(fi.name);
        if (fi.filetype != APR_REG || n < 5 || strcmp(fi.name + n - 5, ".json") != 0) {
            continue;
        }
        rel = apr_pstrcat(p, sub, "/", fi.name, NULL);
        for (i = 0; covered_files[i]; i++) {
            if (strcmp(covered_files[i], rel) == 0) {
                found = 1;
                seen[i] = 1;
            }
        }
        if (!found) {
            fail_msg("vector file %s is not driven by test_vectors.c", rel);
        }
    }
    apr_dir_close(d);
}

static void t_all_files_covered(void **state)
{
    apr_pool_t *p = *state;
    int seen[64] = {0}, i;
    check_dir(p, "wycheproof", seen);
    check_dir(p, "rfc", seen);
    for (i = 0; covered_files[i]; i++) {
        if (!seen[i]) {
            fail_msg("vector file %s is missing", covered_files[i]);
        }
    }
    printf("all %d vector files are driven\n", i);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, vjwt_test_pool_setup, vjwt_test_pool_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(t_rsa_2048_256), T(t_rsa_2048_384),
        T(t_rsa_2048_512), T(t_rsa_3072_256),
        T(t_rsa_3072_384), T(t_rsa_3072_512),
        T(t_rsa_4096_256), T(t_rsa_4096_384),
        T(t_rsa_4096_512), T(t_pss_2048_256),
        T(t_pss_2048_384), T(t_pss_3072_256),
        T(t_pss_4096_256), T(t_pss_4096_384),
        T(t_pss_4096_512), T(t_pss_misc),
        T(t_ecdsa_p256),   T(t_ecdsa_p384),
        T(t_ecdsa_p521),   T(t_ed25519),
        T(t_hmac_256),     T(t_hmac_384),
        T(t_hmac_512),     T(t_jws),
        T(t_jwk),          T(t_jwc),
        T(t_jwe),          T(t_rfc7515_a1),
        T(t_rfc7515_a2),   T(t_rfc7515_a3),
        T(t_rfc7515_a4),   T(t_rfc7515_a5),
        T(t_rfc7520_41),   T(t_rfc7520_42),
        T(t_rfc7520_43),   T(t_rfc7520_44),
        T(t_rfc8037_a),    T(t_all_files_covered),
    };
    vjwt_test_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
