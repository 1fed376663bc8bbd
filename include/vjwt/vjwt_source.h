/*
 * vjwt_source.h - the cookie token source (ValidateJWTCookieName) and the removal of the
 * token from the request before it is forwarded (ValidateJWTForwardToken Off). The httpd glue
 * hands the header values and the query string in and puts the results back.
 *
 * Thread context: any thread; everything is allocated from the given pool.
 */
#ifndef VJWT_SOURCE_H
#define VJWT_SOURCE_H

#include <apr_pools.h>
#include <apr_tables.h>

/* The value of the cookie name among the Cookie header values headers (const char *; RFC
 * 6265 section 4.2.1: name=value pairs separated by ';' and optional spaces, or by ',' where
 * httpd joined several Cookie lines into one; names compare
 * exactly; one pair of double quotes around a value is removed). NULL when there is no such
 * cookie or its value is empty. *several is set to 1, and NULL returned, when more than one
 * cookie has that name in all the values together (e.g. "a=1; a=2", or two Cookie lines):
 * a sibling domain can plant a second cookie of the same name, so none of them is taken. */
const char *vjwt_token_from_cookies(apr_pool_t *p, const apr_array_header_t *headers,
                                    const char *name, int *several);

/* A Cookie header value without the cookies called name (the other pairs in their order,
 * separated by "; "); NULL when none remains. */
const char *vjwt_cookie_remove(apr_pool_t *p, const char *header, const char *name);

/* A query string without the parameters whose name (percent-decoded) is name; the others
 * are kept byte for byte and in order. NULL when none remains. */
const char *vjwt_query_remove(apr_pool_t *p, const char *query, const char *name);

#endif
