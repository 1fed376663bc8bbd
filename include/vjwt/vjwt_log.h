/*
 * vjwt_log.h - the core's log port: the core logs through a port that the caller (the httpd
 * glue, the CLI, a test) implements; the core itself knows nothing of httpd's levels.
 *
 * vjwt_log() asks the port's is_level first and formats the message only when the level is
 * wanted, so a disabled debug line costs one call. It passes the caller's __FILE__ and
 * __LINE__, so a sink can show where in the core a line came from.
 *
 * The level values are the core's own and deliberately differ from syslog/APLOG_* numbers:
 * a sink maps them explicitly.
 */
#ifndef VJWT_LOG_H
#define VJWT_LOG_H

#include <apr_pools.h>

typedef enum {
    VJWT_LOG_ERR = 1,
    VJWT_LOG_WARN = 2,
    VJWT_LOG_NOTICE = 3,
    VJWT_LOG_INFO = 4,
    VJWT_LOG_DEBUG = 5
} vjwt_log_level_e;

typedef struct {
    void *baton;
    /* Nonzero when messages of level are wanted. NULL: every level is wanted. */
    int (*is_level)(void *baton, vjwt_log_level_e level);
    /* One formatted message; tag is the 5-digit VJWT number, file/line the core's call
     * site. NULL: nothing is logged (and nothing is formatted). */
    void (*log)(void *baton, vjwt_log_level_e level, const char *file, int line, int tag,
                const char *msg);
} vjwt_log_port_t;

/* Nonzero when port would take a message of level (port may be NULL). */
int vjwt_log_is_level(const vjwt_log_port_t *port, vjwt_log_level_e level);

/* Formats fmt in p and hands it to port->log, only when vjwt_log_is_level says so. */
void vjwt_log_(const vjwt_log_port_t *port, vjwt_log_level_e level, const char *file, int line,
               int tag, apr_pool_t *p, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 7, 8)))
#endif
    ;

#define vjwt_log(port, level, tag, p, ...)                                                         \
    vjwt_log_((port), (level), __FILE__, __LINE__, (tag), (p), __VA_ARGS__)

#endif
