/*
 * vjwt_policy_xml.h - an Azure API Management <validate-jwt> element (alone, or inside a
 * whole <policies> document) read into the policy model.
 *
 * libxml2 with no network, no DTD (any DOCTYPE is refused) and no entity expansion, and a
 * size cap. {{name}} named values are substituted before parsing, as APIM does. Every
 * error names the file, the line, the element or attribute path, and the fix.
 *
 * Thread context: configuration time only (libxml2's error handlers are set per call).
 */
#ifndef VJWT_POLICY_XML_H
#define VJWT_POLICY_XML_H

#include <apr_pools.h>
#include <apr_tables.h>
#include "vjwt_policy.h"

#define VJWT_POLICY_XML_MAX_SIZE (256 * 1024)

/* A <key certificate-id="..."> that the caller resolves (it owns the certificate table).
 * pol->keys[index] (a signing key), or with decryption set pol->decryption_keys[index] (the
 * certificate's private key, a vjwt_jwe_key_t), is a NULL placeholder until then. */
typedef struct {
    const char *cert_id;
    const char *kid;
    int index;
    int line;
    int decryption; /* 1: under <decryption-keys> */
} vjwt_xml_certref_t;

/* An <openid-config url="..."> for the caller to register as a key source. */
typedef struct {
    const char *url;
    int validate_connectivity;
    int line;
} vjwt_xml_openid_t;

typedef struct {
    vjwt_policy_t *pol;           /* every APIM field set: the XML value or the default */
    apr_array_header_t *openid;   /* vjwt_xml_openid_t */
    apr_array_header_t *certrefs; /* vjwt_xml_certref_t */
    apr_array_header_t *warnings; /* const char *, "file:line: text" */
    const char *file;
    int line; /* line of the <validate-jwt> element */
} vjwt_xml_result_t;

/* Looks up a named value; NULL when it is not defined. */
typedef const char *vjwt_named_value_fn(void *baton, const char *name);

/* Read path. select_id (may be NULL) picks the <validate-jwt id="..."> of a <policies>
 * document that holds several. On failure returns APR_EINVAL and *err. */
apr_status_t vjwt_policy_xml_read(vjwt_xml_result_t *out, apr_pool_t *p, const char *path,
                                  const char *select_id, vjwt_named_value_fn *named,
                                  void *named_baton, const char **err);

/* Same from memory; name is used in messages. */
apr_status_t vjwt_policy_xml_parse(vjwt_xml_result_t *out, apr_pool_t *p, const char *name,
                                   const char *buf, apr_size_t len, const char *select_id,
                                   vjwt_named_value_fn *named, void *named_baton, const char **err);

#endif
