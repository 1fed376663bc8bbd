/*
 * vjwt.h - umbrella header of libvjwt, the httpd-independent core of mod_validate_jwt.
 * Include this, or the one header of the module you use.
 */
#ifndef VJWT_H
#define VJWT_H

#include "vjwt_verdict.h"
#include "vjwt_b64.h"
#include "vjwt_json.h"
#include "vjwt_token.h"
#include "vjwt_jwk.h"
#include "vjwt_jose.h"
#include "vjwt_policy.h"
#include "vjwt_claims.h"
#include "vjwt_crypto.h"
#include "vjwt_vcache.h"
#include "vjwt_verified.h"
#include "vjwt_metrics.h"
#include "vjwt_validate.h"
#include "vjwt_fetch.h"
#include "vjwt_keystore.h"
#include "vjwt_pipeline.h"
#include "vjwt_policy_xml.h"
#include "vjwt_export.h"
#include "vjwt_secret.h"
#include "vjwt_keyspec.h"
#include "vjwt_jwe.h"
#include "vjwt_authz.h"
#include "vjwt_source.h"

#endif
