/* fuzz_policy_xml.c - <validate-jwt> policy files, named values included. */
#include <string.h>

#include "fuzz_common.h"
#include "vjwt.h"

static const char *named(void *baton, const char *name)
{
    return strcmp(name, "secret") == 0 ? "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
                                       : (strcmp(name, "amp") == 0 ? "a&b<c>\"d\n" : NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *root = fuzz_root(), *p;
    vjwt_xml_result_t res;
    const char *err = NULL;
    apr_pool_create(&p, root);
    vjwt_policy_xml_parse(&res, p, "fuzz.xml", (const char *)data, size, NULL, named, NULL, &err);
    vjwt_policy_xml_parse(&res, p, "fuzz.xml", (const char *)data, size, "p1", named, NULL, &err);
    apr_pool_destroy(p);
    return 0;
}
