/*
 * vjwt_log.c - the core's log port (see vjwt_log.h).
 */
#include <stdarg.h>
#include <apr_strings.h>
#include "vjwt_log.h"

int vjwt_log_is_level(const vjwt_log_port_t *port, vjwt_log_level_e level)
{
    if (!port || !port->log) {
        return 0;
    }
    return port->is_level ? port->is_level(port->baton, level) : 1;
}

void vjwt_log_(const vjwt_log_port_t *port, vjwt_log_level_e level, const char *file, int line,
               int tag, apr_pool_t *p, const char *fmt, ...)
{
    va_list ap;
    const char *msg;
    if (!vjwt_log_is_level(port, level)) {
        return;
    }
    va_start(ap, fmt);
    msg = apr_pvsprintf(p, fmt, ap);
    va_end(ap);
    port->log(port->baton, level, file, line, tag, msg);
}
