/*
 * test_fetch.c - vjwt_fetch and vjwt_fetch_check_url against a scripted HTTP server on
 * 127.0.0.1 (a thread in this test, port 0). The server answers every request with the
 * next raw response of its script (the last one repeats), closes the connection after
 * each response and records the request heads. Nothing but 127.0.0.1 is ever contacted:
 * the non-loopback redirect target must be refused by the URL check before curl connects.
 * The server can also speak TLS with a self-signed certificate made here (ca_file, name
 * checks, https-to-http redirects).
 */
#include "testutil.h"
#include "vjwt_fetch.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <apr_strings.h>
#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* ---- the scripted server ------------------------------------------------------------ */

#define MAX_STEPS 16
#define MAX_REQS  32

typedef struct {
    const char *raw; /* whole response: status line, headers, body */
    int delay_ms;    /* wait this long before answering */
    int hold_ms;     /* keep the connection open this long after answering */
} step_t;

typedef struct {
    int lfd;
    int port;
    pthread_t th;
    pthread_mutex_t mu;
    int stop;
    step_t steps[MAX_STEPS];
    int nsteps;
    int conns;
    int nreqs;
    char *reqs[MAX_REQS]; /* request heads, malloc'ed */
    SSL_CTX *tls;         /* NULL: plain http */
} srv_t;

typedef struct {
    apr_pool_t *p;
    srv_t srv;
} fixture_t;

static int srv_stopping(srv_t *s)
{
    int v;
    pthread_mutex_lock(&s->mu);
    v = s->stop;
    pthread_mutex_unlock(&s->mu);
    return v;
}

/* Sleep ms in short slices; returns early when the server stops. */
static void srv_sleep(srv_t *s, int ms)
{
    while (ms > 0 && !srv_stopping(s)) {
        int slice = ms < 20 ? ms : 20;
        struct timespec ts = {0, (long)slice * 1000000L};
        nanosleep(&ts, NULL);
        ms -= slice;
    }
}

static void send_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n <= 0) {
            if (n < 0 && errno == EINTR) {
                continue;
            }
            return; /* the client went away (size limit, timeout): fine */
        }
        buf += n;
        len -= (size_t)n;
    }
}

/* TLS connection: blocking with a receive timeout. */
static void srv_conn_tls(srv_t *s, int fd)
{
    char head[4096];
    size_t len = 0;
    step_t step;
    SSL *ssl = SSL_new(s->tls);
    struct timeval tv = {2, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (!ssl) {
        return;
    }
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) != 1) {
        SSL_free(ssl);
        ERR_clear_error();
        return;
    }
    head[0] = 0;
    while (len < sizeof(head) - 1 && !strstr(head, "\r\n\r\n")) {
        int n = SSL_read(ssl, head + len, (int)(sizeof(head) - 1 - len));
        if (n <= 0) {
            SSL_free(ssl);
            ERR_clear_error();
            return;
        }
        len += (size_t)n;
        head[len] = 0;
    }
    pthread_mutex_lock(&s->mu);
    if (s->nreqs < MAX_REQS) {
        s->reqs[s->nreqs] = strdup(head);
    }
    step = s->nsteps == 0         ? (step_t){"HTTP/1.1 500 No Script\r\n\r\n", 0, 0}
           : s->nreqs < s->nsteps ? s->steps[s->nreqs]
                                  : s->steps[s->nsteps - 1];
    s->nreqs++;
    pthread_mutex_unlock(&s->mu);
    srv_sleep(s, step.delay_ms);
    if (!srv_stopping(s)) {
        SSL_write(ssl, step.raw, (int)strlen(step.raw));
        SSL_shutdown(ssl);
    }
    SSL_free(ssl);
    ERR_clear_error();
}

/* One connection: read one request head, answer with the next step, close. */
static void srv_conn(srv_t *s, int fd)
{
    char head[4096];
    size_t len = 0;
    int waited = 0;
    step_t step;
    while (len < sizeof(head) - 1) {
        struct pollfd pfd = {fd, POLLIN, 0};
        ssize_t n;
        if (srv_stopping(s) || waited > 5000) {
            return;
        }
        if (poll(&pfd, 1, 20) <= 0) {
            waited += 20;
            continue;
        }
        n = recv(fd, head + len, sizeof(head) - 1 - len, 0);
        if (n <= 0) {
            return;
        }
        len += (size_t)n;
        head[len] = 0;
        if (strstr(head, "\r\n\r\n")) {
            break;
        }
    }
    pthread_mutex_lock(&s->mu);
    if (s->nreqs < MAX_REQS) {
        s->reqs[s->nreqs] = strdup(head);
    }
    step = s->nsteps == 0         ? (step_t){"HTTP/1.1 500 No Script\r\n\r\n", 0, 0}
           : s->nreqs < s->nsteps ? s->steps[s->nreqs]
                                  : s->steps[s->nsteps - 1];
    s->nreqs++;
    pthread_mutex_unlock(&s->mu);
    srv_sleep(s, step.delay_ms);
    if (!srv_stopping(s)) {
        send_all(fd, step.raw, strlen(step.raw));
    }
    srv_sleep(s, step.hold_ms);
}

static void *srv_main(void *arg)
{
    srv_t *s = arg;
    while (!srv_stopping(s)) {
        struct pollfd pfd = {s->lfd, POLLIN, 0};
        int fd;
        if (poll(&pfd, 1, 20) <= 0) {
            continue;
        }
        fd = accept(s->lfd, NULL, NULL);
        if (fd < 0) {
            continue;
        }
        pthread_mutex_lock(&s->mu);
        s->conns++;
        pthread_mutex_unlock(&s->mu);
        if (s->tls) {
            srv_conn_tls(s, fd);
        }
        else {
            srv_conn(s, fd);
        }
        shutdown(fd, SHUT_RDWR);
        close(fd);
    }
    return NULL;
}

/* A listening socket on 127.0.0.1, port chosen by the kernel; returns the fd. */
static int listen_loopback(int *port)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    assert_true(fd >= 0);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(fd, 16), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

static int srv_start_tls(srv_t *s, SSL_CTX *tls)
{
    memset(s, 0, sizeof(*s));
    s->tls = tls;
    pthread_mutex_init(&s->mu, NULL);
    s->lfd = listen_loopback(&s->port);
    return pthread_create(&s->th, NULL, srv_main, s) == 0 ? 0 : -1;
}

static int srv_start(srv_t *s)
{
    return srv_start_tls(s, NULL);
}

static void srv_stop(srv_t *s)
{
    int i;
    pthread_mutex_lock(&s->mu);
    s->stop = 1;
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->th, NULL);
    close(s->lfd);
    for (i = 0; i < s->nreqs && i < MAX_REQS; i++) {
        free(s->reqs[i]);
    }
    pthread_mutex_destroy(&s->mu);
    if (s->tls) {
        SSL_CTX_free(s->tls);
    }
}

static void srv_script(srv_t *s, int n, const step_t *steps)
{
    int i;
    assert_true(n <= MAX_STEPS);
    pthread_mutex_lock(&s->mu);
    for (i = 0; i < n; i++) {
        s->steps[i] = steps[i];
    }
    s->nsteps = n;
    pthread_mutex_unlock(&s->mu);
}

static int srv_nreqs(srv_t *s)
{
    int n;
    pthread_mutex_lock(&s->mu);
    n = s->nreqs;
    pthread_mutex_unlock(&s->mu);
    return n;
}

/* The request head number i (copied into p). */
static const char *srv_req(apr_pool_t *p, srv_t *s, int i)
{
    const char *r = NULL;
    pthread_mutex_lock(&s->mu);
    if (i < s->nreqs && i < MAX_REQS) {
        r = apr_pstrdup(p, s->reqs[i]);
    }
    pthread_mutex_unlock(&s->mu);
    assert_non_null(r);
    return r;
}

static const char *url_of(apr_pool_t *p, const srv_t *s, const char *path)
{
    return apr_psprintf(p, "http://127.0.0.1:%d%s", s->port, path);
}

/* A response with Content-Length; extra is "" or header lines each ending in CRLF. */
static const char *resp(apr_pool_t *p, const char *status, const char *extra, const char *body)
{
    return apr_psprintf(p,
                        "HTTP/1.1 %s\r\nContent-Type: application/json\r\n"
                        "Content-Length: %" APR_SIZE_T_FMT "\r\nConnection: close\r\n%s\r\n%s",
                        status, strlen(body), extra, body);
}

/* A response whose body ends when the connection closes (no Content-Length). */
static const char *resp_eof(apr_pool_t *p, const char *status, const char *extra, const char *body)
{
    return apr_psprintf(
        p, "HTTP/1.1 %s\r\nContent-Type: application/json\r\nConnection: close\r\n%s\r\n%s", status,
        extra, body);
}

static const char *redirect_to(apr_pool_t *p, const char *code, const char *location)
{
    return resp(p, code, apr_psprintf(p, "Location: %s\r\n", location), "");
}

static int fixture_setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    void *ps = NULL;
    if (!f || vjwt_test_pool_setup(&ps) != 0) {
        free(f);
        return -1;
    }
    f->p = ps;
    if (srv_start(&f->srv) != 0) {
        return -1;
    }
    *state = f;
    return 0;
}

static int fixture_teardown(void **state)
{
    fixture_t *f = *state;
    void *ps = f->p;
    srv_stop(&f->srv);
    vjwt_test_pool_teardown(&ps);
    free(f);
    return 0;
}

static vjwt_fetch_opts_t opts(void)
{
    vjwt_fetch_opts_t o;
    vjwt_fetch_opts_default(&o);
    o.connect_timeout_ms = 2000;
    o.timeout_ms = 5000;
    return o;
}

static long ms_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (long)(t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/* 1 when needle occurs in hay, ignoring ASCII case. */
static int ci_contains(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        if (strncasecmp(hay, needle, n) == 0) {
            return 1;
        }
    }
    return 0;
}

#define assert_not_contains(hay, needle)                                                           \
    do {                                                                                           \
        const char *h_ = (hay), *n_ = (needle);                                                    \
        if (h_ && ci_contains(h_, n_)) {                                                           \
            fail_msg("did not expect '%s' in '%s'", n_, h_);                                       \
        }                                                                                          \
    } while (0)

/* ---- defaults ----------------------------------------------------------------------- */

static void t_opts_default(void **state)
{
    vjwt_fetch_opts_t o;
    (void)state;
    memset(&o, 0x5a, sizeof(o));
    vjwt_fetch_opts_default(&o);
    assert_int_equal(o.connect_timeout_ms, 5000);
    assert_int_equal(o.timeout_ms, 10000);
    assert_int_equal(o.max_size, 1024 * 1024);
    assert_int_equal(o.max_redirects, 3);
    assert_int_equal(o.allow_http, 0);
    assert_null(o.ca_file);
}

/* ---- 200 ---------------------------------------------------------------------------- */

static void t_ok_content_length(void **state)
{
    fixture_t *f = *state;
    apr_pool_t *p = f->p;
    const char *body = "{\"keys\":[]}";
    vjwt_fetch_opts_t o = opts();
    vjwt_fetch_result_t res;
    const char *url = url_of(p, &f->srv, "/jwks?x=1");
    const char *req;
    step_t st[] = {{resp(p, "200 OK", "", body), 0, 0}};
    srv_script(&f->srv, 1, st);

    assert_int_equal(vjwt_fetch(p, url, &o, &res), APR_SUCCESS);
    assert_int_equal(res.status, 200);
    assert_non_null(res.body);
    assert_int_equal(res.len, strlen(body));
    assert_string_equal(res.body, body);
    assert_int_equal(res.body[res.len], 0);
    assert_int_equal(res.max_age, -1);
    assert_string_equal(res.final_url, url);
    assert_null(res.error);

    assert_int_equal(srv_nreqs(&f->srv), 1);
    req = srv_req(p, &f->srv, 0);
    assert_true(strncmp(req, "GET /jwks?x=1 HTTP/1.1\r\n", 24) == 0);
    assert_contains(req, apr_psprintf(p, "Host: 127.0.0.1:%d\r\n", f->srv.port));
    assert_contains(req, "User-Agent: mod_validate_jwt\r\n");
    assert_not_contains(req, "Cookie:");
    assert_not_contains(req, "Authorization:");
}

static void t_ok_empty_body(void **state)
{
    fixture_t *f = *state;
    apr_pool_t *p = f->p;
    vjwt_fetch_opts_t o = opts();
    vjwt_fetch_result_t res;
    step_t st[] = {{resp(p, "200 OK", "", ""), 0, 0}};
    srv_script(&f->srv, 1, st);
    assert_int_equal(vjwt_fetch(p, url_of(p, &f->srv, "/"), &o, &res), APR_SUCCESS);
    assert_int_equal(res.status, 200);
    assert_non_null(res.body);
    assert_string_equal(res.body, "");
    assert_int_equal(res.len, 0);
}

static void t_ok_chunked(void **state)
{
    fixture_t *f = *state;
    apr_pool_t *p = f->p;
    vjwt_fetch_opts_t o = opts();
    vjwt_fetch_result_t res;
    step_t st[] = {{"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                    "5\r\n{\"key\r\n"
                    "8\r\ns\":[1,2]\r\n"
                    "1\r\n}\r\n"
                    "0\r\n\r\n",
                    0, 0}};
    srv_script(&f->srv, 1, st);
    assert_int_equal(vjwt_fetch(p, url_of(p, &f->srv, "/c"), &o, &res), APR_SUCCESS);
    assert_int_equal(res.status, 200);
    assert_string_equal(res.body, "{\"keys\":[1,2]}");
    assert_int_equal(res.len, 14);
}

static void t_ok_until_eof(void **state)
{
    fixture_t *f = *state;
    apr_pool_t *p = f->p;
    vjwt_fetch_opts_t o = opts();
    vjwt_fetch_result_t res;
    step_t st[] = {{resp_eof(p, "200 OK", "", "{\"a\":1}"), 0, 0}};
    srv_script(&f->srv, 1, st);
    assert_int_equal(vjwt_fetch(p, url_of(p, &f->srv, "/e"), &o, &res), APR_SUCCESS);
    assert_string_equal(res.body, "{\"a\":1}");
    assert_int_equal(res.len, 7);
}

/* A body bigger than the sink's first buffer (16 KiB) is assembled completely. */
static void t_ok_large_body(void **state)
{
    fixture_t *f = *state;
    apr_pool_t *p = f->p;
    vjwt_fetch_opts_t o = opts();
    vjwt_fetch_result_t res;
    apr_size_t n = 200000, i;
    char *body = apr_palloc(p, n + 1);
    for (i = 0; i < n; i++) {
        body[i] = (char)('a' + (i * 7) % 26);
    }
    body[n] = 0;
    {
        step_t st[] = {{resp(p, "200 OK", "", body), 0, 0}};
        srv_script(&f->srv, 1, st);
    }
    assert_int_equal(vjwt_fetch(p, url_of(p, &f->srv, "/big"), &o, &res), APR_SUCCESS);
    assert_int_equal(res.len, n);
    assert_memory_equal(res.body, body, n);
    assert_int_equal(res.body[n], 0);
}

/* ---- failures with a response -------------------------------------------------------- */

static void t_non_200(void **state)
{
    fixture_t *f = *state;
    apr_pool_t *p = f->p;
    static const struct {
        const char *line;
        long code;
    } cases[] = {{"404 Not Found", 404},
                 {"500 Internal Server Error", 500},
                 {"503 Service Unavailable", 503},
                 {"204 No Content", 204},
                 {"302 Found", 302}}; /* a redirect without Location is a failure too */
    size_t i;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        vjwt_fetch_opts_t o = opts();
        vjwt_fetch_result_t res;
        step_t st[] = {{resp(p, cases[i].line, "", "{\"keys\":[]}"), 0, 0}};
        const char *url = url_of(p, &f->srv, apr_psprintf(p, "/s%ld", cases[i].code));
        srv_script(&f->srv, 1, st);
        assert_int_equal(vjwt_fetch(p, url, &o, &res), APR_EGENERAL);
        assert_int_equal(res.status, cases[i].code);
        assert_non_null(res.error);
        assert_contains(res.error, apr_psprintf(p, "HTTP status %ld", cases[i].code));
        assert_contains(res.error, url);
    }
}

static void t_too_large_content_length(void **state)
{
    fixture_t *f = *state;
    apr_pool_t *p = f->p;
    vjwt_fetch_opts_t o = opts();
    vjwt_fetch_result_t res;
    char *body = apr_palloc(p, 5001);
    memset(body, 'x', 5000);
    body[5000] = 0;
    {
        step_t st[] = {{resp(p, "200 OK", "", body), 0, 0}};
        srv_script(&f->srv, 1, st);
    }
    o.max_size = 1000;
    assert_int_equal(vjwt_fetch(p, url_of(p, &f->srv, "/big"), &o, &res), APR_EGENERAL);
    assert_contains(res.error, "larger than 1000 bytes");
    assert_null(res.body);
}

static void t_too_large_no_length(void **state)
{
    fixture_t *f = *state;
    apr_pool_t *p = f->p;
    vjwt_fetch_opts_t o = opts();
    vjwt_fetch_result_t res;
    char *body = apr_palloc(p, 50001);
    memset(body, 'y', 50000);
    body[50000] = 0;
    {
        step_t st[] = {{resp_eof(p, "200 OK", "", body), 0, 0}};
        srv_script(&f->srv, 1, st);
    }
    o.max_size = 1000;
    assert_int_equal(vjwt_fetch(p, url_of(p, &f->srv, "/big"), &o, &res), APR_EGENERAL);
    assert_contains(res.error, "larger than 1000 bytes");
    assert_null(res.body);
}

static void t_too_large_chunked(void **state)
{
    fixture_t *f = *state;
    apr_pool_t *p = f->p;
    vjwt_fetch_opts_t o = opts();
    vjwt_fetch_result_t res;
    char *chunk = apr_palloc(p, 801);
    memset(chunk, 'z', 800);
    chunk[800] = 0;
    {
        step_t st[] = {{apr_psprintf(p,
                                     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                                     "Connection: close\r\n\r\n320\r\n%s\r\n320\r\n%s\r\n0\r\n\r\n",
                                     chunk, chunk),
                        0, 0}};
        srv_script(&f->srv, 1, st);
    }
    o.max_size = 1000;
    assert_int_equal(vjwt_fetch(p, url_of(p, &f->srv, "/big"), &o, &res), APR_EGENERAL);
    assert_contains(res.error, "larger than 1000 bytes");
}

/* Exactly max_size bytes is allowed. */
static void t_size_at_limit(void **state)
{
    fixture_t *f = *state;
    apr_pool_t *p = f->p;
    vjwt_fetch_opts_t o = opts();
    vjwt_fetch_result_t res;
    char *body = apr_palloc(p, 1001);
    memset(body, 'w', 1000);
    body[1000] = 0;
    {
        step_t st[] = {{resp_eof(p, "200 OK", "", body), 0, 0}};
        srv_script(&f->srv, 1, st);
    }
    o.max_size = 1000;
    assert_int_equal(vjwt_fetch(p, url_of(p, &f->srv, "/limit"), &o, &res), APR_SUCCESS);
    assert_int_equal(res.len, 1000);
}

/* ---- failures without a response ---------------------------------------------------- */

static void t_total_timeout(void **state)
{
    fixture_t *f = *state;
    apr_pool_t *p = f->p;
    vjwt_fetch_opts_t o = opts();
    vjwt_fetch_result_t res;
    struct timespec t0;
    long ms;
    step_t st[] = {{resp(p, "200 OK", "", "{}"), 3000, 0}};
    srv_script(&f->srv, 1, st);
    o.timeout_ms = 300;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(vjwt_fetch(p, url_of(p, &f->srv, "/slow"), &o, &res), APR_EGENERAL);
    ms = ms_since(&t0);
    assert_true(ms >= 250);
    if (ms > 1500) {
        fail_msg("timeout_ms=300 took %ld ms", ms);
    }
    assert_int_equal(res.status, 0);
    assert_non_null(res.error);
    assert_contains(res.error, "timed out");
    assert_int_equal(srv_nreqs(&f->srv), 1);
}

/* The total time limit covers the whole fetch, redirects included: three hops of 400 ms
 * each (each under the limit) against a 700 ms total end at ~700 ms, not 1200+. */
static void t_total_timeout_over_redirects(void **state)
{
    fixture_t *f = *state;
    apr_pool_t *p = f->p;
    vjwt_fetch_opts_t o = opts();
    vjwt_fetch_result_t res;
    struct timespec t0;
    long ms;
    step_t st[] = {{redirect_to(p, "302 Found", "/b"), 400, 0},
                   {redirect_to(p, "302 Found", "/c"), 400, 0},
                   {resp(p, "200 OK", "", "{}"), 400, 0}};
    srv_script(&f->srv, 3, st);
    o.timeout_ms = 700;
    o.connect_timeout_ms = 5000;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(vjwt_fetch(p, url_of(p, &f->srv, "/a"), &o, &res), APR_EGENERAL);
    ms = ms_since(&t0);
    if (ms > 1000) {
        fail_msg("a 700 ms total took %ld ms over three slow hops", ms);
    }
    assert_non_null(res.error);
    /* an absolute deadline in the past: nothing is contacted */
    o.deadline = apr_time_now() - 1;
    assert_int_equal(vjwt_fetch(p, url_of(p, &f->srv, "/a"), &o, &res), APR_TIMEUP);
    assert_contains(res.error, "time limit");
}

static int always_stopping(void)
{
    return 1;
}

/* A fetch in progress ends at once when the process is stopping (opts.stopping). */
static void t_stopping_aborts(void **state)
{
    fixture_t *f = *state;
    apr_pool_t *p = f->p;
    vjwt_fetch_opts_t o = opts();
    vjwt_fetch_result_t res;
    struct timespec t0;
    long ms;
    step_t st[] = {{resp(p, "200 OK", "", "{}"), 2000, 0}};
    srv_script(&f->srv, 1, st);
    o.stopping = always_stopping;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(vjwt_fetch(p, url_of(p, &f->srv, "/slow"), &o, &res), APR_EGENERAL);
    ms = ms_since(&t0);
    if (ms > 1500) {
        fail_msg("a stopping process still waited %ld ms for the fetch", ms);
    }
    assert_non_null(res.error);
}

/* A body that stalls after the headers is cut off by the total timeout too. */
static void t_total_timeout_slow_body(void **state)
{
    fixture_t *f = *state;
    apr_pool_t *p = f->p;
    vjwt_fetch_opts_t o = opts();
    vjwt_fetch_result_t res;
    struct timespec t0;
    long ms;
    /* headers promise 100 bytes, 2 arrive, then nothing for 3 s */
    step_t st[] = {
        {"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{\"", 0, 3000}};
    srv_script(&f->srv, 1, st);
    o.timeout_ms = 300;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(vjwt_fetch(p, url_of(p, &f->srv, "/stall"), &o, &res), APR_EGENERAL);
    ms = ms_since(&t0);
    assert_true(ms >= 250);
    if (ms > 1500) {
        fail_msg("timeout_ms=300 took %ld ms", ms);
    }
    assert_contains(res.error, "timed out");
    assert_null(res.body);
}

/* A body shorter than its Content-Length (the server closes early) is a failure. */
static void t_truncated_body(void **state)
{
    fixture_t *f = *state;
    apr_pool_t *p = f->p;
    vjwt_fetch_opts_t o = opts();
    vjwt_fetch_result_t res;
    step_t st[] = {{"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{}", 0, 0}};
    srv_script(&f->srv, 1, st);
    assert_int_equal(vjwt_fetch(p, url_of(p, &f->srv, "/short"), &o, &res), APR_EGENERAL);
    assert_non_null(res.error);
    assert_null(res.body);
}

static void t_connection_refused(void **state)
{
    fixture_t *f = *state;
    apr_pool_t *p = f->p;
    vjwt_fetch_opts_t o = opts();
    vjwt_fetch_result_t res;
    int port, fd = listen_loopback(&port);
    struct timespec t0;
    close(fd); /* nothing listens there now */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(vjwt_fetch(p, apr_psprintf(p, "http://127.0.0.1:%d/jwks", port), &o, &res),
                     APR_EGENERAL);
    assert_true(ms_since(&t0) < 1500);
    assert_int_equal(res.status, 0);
    assert_non_null(res.error);
    assert_contains(res.error, apr_psprintf(p, "GET http://127.0.0.1:%d/jwks: ", port));
    assert_null(res.body);
}

/* ---- redirects ---------------------------------------------------------------------- */

static void t_redirect_followed(void **state)
{
    fixture_t *f = *state;
    apr_pool_t *p = f->p;
    vjwt_fetch_opts_t o = opts();
    vjwt_fetch_result_t res;
    step_t st[] = {
        {resp(p, "302 Found",
              "Location: /b\r\nCache-Control: max-age=5\r\nSet-Cookie: sid=1; Path=/\r\n", ""),
         0, 0},
        {resp(p, "200 OK", "", "{\"at\":\"b\"}"), 0, 0}};
    srv_script(&f->srv, 2, st);
    assert_int_equal(vjwt_fetch(p, url_of(p, &f->srv, "/a"), &o, &res), APR_SUCCESS);
    assert_int_equal(res.status, 200);
    assert_string_equal(res.body, "{\"at\":\"b\"}");
    assert_string_equal(res.final_url, url_of(p, &f->srv, "/b"));
    /* the redirect response's Cache-Control does not carry over to the final one */
    assert_int_equal(res.max_age, -1);
    assert_int_equal(srv_nreqs(&f->srv), 2);
    assert_true(strncmp(srv_req(p, &f->srv, 0), "GET /a HTTP/1.1\r\n", 17) == 0);
    assert_true(strncmp(srv_req(p, &f->srv, 1), "GET /b HTTP/1.1\r\n", 17) == 0);
    /* no cookie engine */
    assert_not_contains(srv_req(p, &f->srv, 1), "Cookie:");
}

/* A redirect response's body does not leak into an empty final body.
 *
 * Regression test (fixed): fetch_once resets
 * sink->len between hops but not the buffer's content, and on_body is never called for an
 * empty final body, so res->body is the redirect response's text while res->len is 0
 * (vjwt_fetch.h: body is NUL-terminated; here it is not the body). Fix: sink->buf[0] = 0
 * with the reset (or res->body = "" when sink->len == 0). */
static void t_redirect_then_empty_body(void **state)
{
    fixture_t *f = *state;
    apr_pool_t *p = f->p;
    vjwt_fetch_opts_t o = opts();
    vjwt_fetch_result_t res;
    step_t st[] = {{resp(p, "302 Found", "Location: /empty\r\n", "<html>moved here</html>"), 0, 0},
                   {resp(p, "200 OK", "", ""), 0, 0}};
    srv_script(&f->srv, 2, st);
    assert_int_equal(vjwt_fetch(p, url_of(p, &f->srv, "/a"), &o, &res), APR_SUCCESS);
    assert_int_equal(res.status, 200);
    assert_int_equal(res.len, 0);
    assert_non_null(res.body);
    assert_string_equal(res.body, "");
}

static void t_redirect_codes(void **state)
{
    fixture_t *f = *state;
    apr_pool_t *p = f->p;
    static const char *codes[] = {"301 Moved Permanently", "303 See Other",
                                  "307 Temporary Redirect", "308 Permanent Redirect"};
    size_t i;
    for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        vjwt_fetch_opts_t o = opts();
        vjwt_fetch_result_t res;
        int before = srv_nreqs(&f->srv);
        step_t st[MAX_STEPS];
        int k;
        /* the script is indexed by request number: pad the ones already served */
        for (k = 0; k < before; k++) {
            st[k] = (step_t){"", 0, 0};
        }
        st[before] = (step_t){redirect_to(p, codes[i], url_of(p, &f->srv, "/final")), 0, 0};
        st[before + 1] = (step_t){resp(p, "200 OK", "", "{}"), 0, 0};
        srv_script(&f->srv, before + 2, st);
        assert_int_equal(vjwt_fetch(p, url_of(p, &f->srv, "/start"), &o, &res), APR_SUCCESS);
        assert_string_equal(res.final_url, url_of(p, &f->srv, "/final"));
        assert_int_equal(srv_nreqs(&f->srv), before + 2);
    }
}

/* Exactly max_redirects hops are allowed. */
static void t_redirect_max_hops(void **state)
{
    fixture_t *f = *state;
    apr_pool_t *p = f->p;
    vjwt_fetch_opts_t o = opts();
    vjwt_fetch_result_t res;
    step_t st[] = {{redirect_to(p, "302 Found", "/r1"), 0, 0},
                   {redirect_to(p, "302 Found", "/r2"), 0, 0},
                   {redirect_to(p, "302 Found", "/r3"), 0, 0},
                   {resp(p, "200 OK", "", "{\"hops\":3}"), 0, 0}};
    srv_script(&f->srv, 4, st);
    assert_int_equal(vjwt_fetch(p, url_of(p, &f->srv, "/r0"), &o, &res), APR_SUCCESS);
    assert_string_equal(res.body, "{\"hops\":3}");
    assert_string_equal(res.final_url, url_of(p, &f->srv, "/r3"));
    assert_int_equal(srv_nreqs(&f->srv), 4);
}

static void t_redirect_loop(void **state)
{
    fixture_t *f = *state;
    apr_pool_t *p = f->p;
    vjwt_fetch_opts_t o = opts();
    vjwt_fetch_result_t res;
    step_t st[] = {{redirect_to(p, "302 Found", "/loop"), 0, 0}}; /* repeats forever */
    srv_script(&f->srv, 1, st);
    assert_int_equal(vjwt_fetch(p, url_of(p, &f->srv, "/loop"), &o, &res), APR_EGENERAL);
    assert_contains(res.error, "more than 3 redirects");
    /* the first request and three followed hops; the fourth redirect is not followed */
    assert_int_equal(srv_nreqs(&f->srv), 4);

    /* max_redirects 0: no redirect at all */
    o.max_redirects = 0;
    assert_int_equal(vjwt_fetch(p, url_of(p, &f->srv, "/loop"), &o, &res), APR_EGENERAL);
    assert_contains(res.error, "more than 0 redirects");
    assert_int_equal(srv_nreqs(&f->srv), 5);
}

/* A redirect off loopback to plain http is refused by the URL check before any connection:
 * 192.0.2.1 (TEST-NET-1) is never contacted, so this returns at once. */
static void t_redirect_to_non_loopback_http(void **state)
{
    fixture_t *f = *state;
    apr_pool_t *p = f->p;
    vjwt_fetch_opts_t o = opts();
    vjwt_fetch_result_t res;
    struct timespec t0;
    step_t st[] = {{redirect_to(p, "302 Found", "http://192.0.2.1/jwks"), 0, 0}};
    srv_script(&f->srv, 1, st);
    o.connect_timeout_ms = 5000;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(vjwt_fetch(p, url_of(p, &f->srv, "/go"), &o, &res), APR_EGENERAL);
    if (ms_since(&t0) > 1000) {
        fail_msg("took %ld ms: was 192.0.2.1 contacted?", ms_since(&t0));
    }
    assert_contains(res.error, "URL 'http://192.0.2.1/jwks' uses plain http to a host that is "
                               "not loopback");
    assert_int_equal(srv_nreqs(&f->srv), 1);
}

/* The same for a redirect to a non-http scheme. */
static void t_redirect_to_other_scheme(void **state)
{
    fixture_t *f = *state;
    apr_pool_t *p = f->p;
    vjwt_fetch_opts_t o = opts();
    vjwt_fetch_result_t res;
    step_t st[] = {{redirect_to(p, "302 Found", "ftp://127.0.0.1/jwks"), 0, 0}};
    srv_script(&f->srv, 1, st);
    assert_int_equal(vjwt_fetch(p, url_of(p, &f->srv, "/go"), &o, &res), APR_EGENERAL);
    assert_contains(res.error, "scheme 'ftp:'");
    assert_int_equal(srv_nreqs(&f->srv), 1);
}

/* The initial URL goes through the same check: nothing is contacted. */
static void t_refused_url_not_contacted(void **state)
{
    fixture_t *f = *state;
    apr_pool_t *p = f->p;
    vjwt_fetch_opts_t o = opts();
    vjwt_fetch_result_t res;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(vjwt_fetch(p, "http://192.0.2.1/x", &o, &res), APR_EGENERAL);
    assert_true(ms_since(&t0) < 1000);
    assert_contains(res.error, "not loopback");
    assert_int_equal(res.status, 0);
    assert_int_equal(vjwt_fetch(p, "file:///etc/passwd", &o, &res), APR_EGENERAL);
    assert_null(res.body);
    assert_non_null(res.error);
}

/* Proxies from the environment are not used (the "proxy" here is a second loopback
 * listener that must not see a request). */
static void t_env_proxy_ignored(void **state)
{
    fixture_t *f = *state;
    apr_pool_t *p = f->p;
    vjwt_fetch_opts_t o = opts();
    vjwt_fetch_result_t res;
    srv_t proxy;
    step_t st[] = {{resp(p, "200 OK", "", "{\"direct\":true}"), 0, 0}};
    step_t pst[] = {{resp(p, "200 OK", "", "{\"direct\":false}"), 0, 0}};
    const char *purl;
    assert_int_equal(srv_start(&proxy), 0);
    srv_script(&proxy, 1, pst);
    srv_script(&f->srv, 1, st);
    purl = apr_psprintf(p, "http://127.0.0.1:%d", proxy.port);
    setenv("http_proxy", purl, 1);
    setenv("HTTPS_PROXY", purl, 1);
    setenv("ALL_PROXY", purl, 1);
    unsetenv("no_proxy");
    unsetenv("NO_PROXY");
    assert_int_equal(vjwt_fetch(p, url_of(p, &f->srv, "/p"), &o, &res), APR_SUCCESS);
    unsetenv("http_proxy");
    unsetenv("HTTPS_PROXY");
    unsetenv("ALL_PROXY");
    assert_string_equal(res.body, "{\"direct\":true}");
    assert_int_equal(srv_nreqs(&proxy), 0);
    srv_stop(&proxy);
}

/* ---- ValidateJWTFetchProxy ---------------------------------------------------------- */

/* The proxy setting: none, env, a URL with or without credentials (in the URL or a file);
 * every error text is free of the password. */
static void t_proxy_parse(void **state)
{
    fixture_t *f = *state;
    apr_pool_t *p = f->p;
    vjwt_fetch_proxy_t px;
    const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    const char *good = apr_psprintf(p, "%s/vjwt-proxy-good-%d", dir, (int)getpid());
    const char *bad = apr_psprintf(p, "%s/vjwt-proxy-bad-%d", dir, (int)getpid());
    const char *err;
    FILE *fh;
    static const struct {
        const char *arg;
        const char *want; /* error substring */
    } errors[] = {
        {"ftp://proxy:21", "expects none, env or an http:// or https:// proxy URL"},
        {"socks5://u:Sekr1t@proxy:1080", "expects none, env"},
        {"proxy:3128", "expects none, env"},
        {"http://", "is not a proxy URL with a host"},
        {"http://u:Sekr1t@proxy:3128/path", "without a path"},
        {"http://u:Sekr1t@proxy:3128/?q=1", "without a path"},
        {"http://:Sekr1t@proxy:3128", "empty proxy user name"},
    };
    size_t i;

    assert_null(vjwt_fetch_proxy_parse(p, "none", NULL, &px));
    assert_int_equal(px.mode, VJWT_PROXY_NONE);
    assert_null(vjwt_fetch_proxy_parse(p, "ENV", NULL, &px));
    assert_int_equal(px.mode, VJWT_PROXY_ENV);
    assert_string_equal(vjwt_fetch_proxy_describe(p, &px), "env");
    assert_null(vjwt_fetch_proxy_parse(p, "http://proxy.example:3128", NULL, &px));
    assert_int_equal(px.mode, VJWT_PROXY_URL);
    assert_string_equal(px.url, "http://proxy.example:3128");
    assert_null(px.user);
    assert_null(vjwt_fetch_proxy_parse(p, "https://proxy.example/", NULL, &px));
    assert_string_equal(px.url, "https://proxy.example");
    /* credentials in the URL, percent-decoded, and cut from the URL curl gets */
    assert_null(vjwt_fetch_proxy_parse(p, "http://al%40ice:p%3Ass%40w0rd@[::1]:8080", NULL, &px));
    assert_string_equal(px.url, "http://[::1]:8080");
    assert_string_equal(px.user, "al@ice");
    assert_string_equal(px.password, "p:ss@w0rd");
    assert_string_equal(vjwt_fetch_proxy_describe(p, &px), "http://[::1]:8080 (with credentials)");

    for (i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
        err = vjwt_fetch_proxy_parse(p, errors[i].arg, NULL, &px);
        assert_non_null(err);
        assert_contains(err, errors[i].want);
        assert_not_contains(err, "Sekr1t");
        assert_int_equal(px.mode, VJWT_PROXY_NONE);
    }

    /* file:PATH: user:password on the first line */
    fh = fopen(good, "w");
    assert_non_null(fh);
    fputs("bob:pa:ss word\r\nsecond line\n", fh);
    fclose(fh);
    assert_null(vjwt_fetch_proxy_parse(p, "http://127.0.0.1:3128", good, &px));
    assert_string_equal(px.user, "bob");
    assert_string_equal(px.password, "pa:ss word");
    err = vjwt_fetch_proxy_parse(p, "http://u:Sekr1t@127.0.0.1:3128", good, &px);
    assert_contains(err, "in the URL and in a file");
    assert_not_contains(err, "Sekr1t");
    assert_contains(vjwt_fetch_proxy_parse(p, "env", good, &px), "with a proxy URL only");
    fh = fopen(bad, "w");
    assert_non_null(fh);
    fputs("Sekr1t-without-a-colon\n", fh);
    fclose(fh);
    err = vjwt_fetch_proxy_parse(p, "http://127.0.0.1:3128", bad, &px);
    assert_contains(err, "must hold user:password on its first line");
    assert_not_contains(err, "Sekr1t");
    remove(good);
    remove(bad);
    err = vjwt_fetch_proxy_parse(p, "http://127.0.0.1:3128", bad, &px);
    assert_contains(err, apr_psprintf(p, "cannot read the proxy credentials file '%s'", bad));
}

static void t_redact(void **state)
{
    fixture_t *f = *state;
    apr_pool_t *p = f->p;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"GET http://u:pw@host/x: refused", "GET http://***@host/x: refused"},
        {"proxy 'https://a:b@c@proxy:1' and http://h/p",
         "proxy 'https://***@proxy:1' and http://h/p"},
        {"no URL here", "no URL here"},
        {"http://host/path@x", "http://host/path@x"},
        {"x://u@h y://v@w", "x://***@h y://***@w"},
        {"", ""},
    };
    size_t i;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_string_equal(vjwt_fetch_redact(p, cases[i].in), cases[i].out);
    }
}

/* A proxy URL: the request goes to the proxy in absolute form with Basic credentials (the
 * target host idp.invalid never resolves: only the proxy can serve it); a failure's error
 * text has no credentials. */
static void t_proxy_url_used(void **state)
{
    fixture_t *f = *state;
    apr_pool_t *p = f->p;
    vjwt_fetch_opts_t o = opts();
    vjwt_fetch_result_t res;
    const char *req, *err;
    step_t st[] = {{resp(p, "200 OK", "", "{\"via\":\"proxy\"}"), 0, 0}};
    srv_script(&f->srv, 1, st);
    o.allow_http = 1;
    err = vjwt_fetch_proxy_parse(
        p, apr_psprintf(p, "http://alice:Sekr1t@127.0.0.1:%d", f->srv.port), NULL, &o.proxy);
    assert_null(err);
    setenv("no_proxy", "*", 1); /* a URL proxy ignores the environment's no_proxy */
    assert_int_equal(vjwt_fetch(p, "http://idp.invalid/jwks", &o, &res), APR_SUCCESS);
    unsetenv("no_proxy");
    assert_string_equal(res.body, "{\"via\":\"proxy\"}");
    req = srv_req(p, &f->srv, 0);
    assert_true(strncmp(req, "GET http://idp.invalid/jwks HTTP/1.1\r\n", 38) == 0);
    /* base64("alice:Sekr1t") */
    assert_contains(req, "Proxy-Authorization: Basic YWxpY2U6U2VrcjF0\r\n");

    /* the proxy gone: the error names the proxy's host, never the password */
    o.proxy.url = "http://127.0.0.1:1";
    assert_int_equal(vjwt_fetch(p, "http://idp.invalid/jwks", &o, &res), APR_EGENERAL);
    assert_non_null(res.error);
    assert_not_contains(res.error, "Sekr1t");
    /* none: the same URL does not resolve */
    o.proxy.mode = VJWT_PROXY_NONE;
    assert_int_equal(vjwt_fetch(p, "http://idp.invalid/jwks", &o, &res), APR_EGENERAL);
    assert_int_equal(srv_nreqs(&f->srv), 1);
}

/* An https key URL through the proxy: a CONNECT tunnel (TLS stays end to end) with the
 * credentials for the proxy; a refused CONNECT fails the fetch, and its error text holds no
 * password. */
static void t_proxy_https_connect(void **state)
{
    fixture_t *f = *state;
    apr_pool_t *p = f->p;
    vjwt_fetch_opts_t o = opts();
    vjwt_fetch_result_t res;
    const char *req;
    step_t st[] = {{resp(p, "403 Forbidden", "", ""), 0, 0}};
    srv_script(&f->srv, 1, st);
    assert_null(vjwt_fetch_proxy_parse(
        p, apr_psprintf(p, "http://alice:Sekr1t@127.0.0.1:%d", f->srv.port), NULL, &o.proxy));
    assert_int_equal(vjwt_fetch(p, "https://idp.invalid/jwks", &o, &res), APR_EGENERAL);
    assert_int_equal(srv_nreqs(&f->srv), 1);
    req = srv_req(p, &f->srv, 0);
    assert_true(strncmp(req, "CONNECT idp.invalid:443 HTTP/1.1\r\n", 34) == 0);
    assert_contains(req, "Proxy-Authorization: Basic YWxpY2U6U2VrcjF0\r\n");
    assert_not_contains(req, "/jwks");
    assert_non_null(res.error);
    assert_not_contains(res.error, "Sekr1t");
}

/* env: libcurl takes http_proxy from the environment, and no_proxy too. */
static void t_proxy_env(void **state)
{
    fixture_t *f = *state;
    apr_pool_t *p = f->p;
    vjwt_fetch_opts_t o = opts();
    vjwt_fetch_result_t res;
    srv_t direct;
    step_t st[] = {{resp(p, "200 OK", "", "{\"via\":\"proxy\"}"), 0, 0}};
    step_t dst[] = {{resp(p, "200 OK", "", "{\"via\":\"direct\"}"), 0, 0}};
    assert_int_equal(srv_start(&direct), 0);
    srv_script(&direct, 1, dst);
    srv_script(&f->srv, 1, st);
    o.proxy.mode = VJWT_PROXY_ENV;
    setenv("http_proxy", apr_psprintf(p, "http://127.0.0.1:%d", f->srv.port), 1);
    unsetenv("no_proxy");
    unsetenv("NO_PROXY");
    assert_int_equal(vjwt_fetch(p, url_of(p, &direct, "/j"), &o, &res), APR_SUCCESS);
    assert_string_equal(res.body, "{\"via\":\"proxy\"}");
    setenv("no_proxy", "127.0.0.1", 1);
    assert_int_equal(vjwt_fetch(p, url_of(p, &direct, "/j"), &o, &res), APR_SUCCESS);
    assert_string_equal(res.body, "{\"via\":\"direct\"}");
    unsetenv("no_proxy");
    unsetenv("http_proxy");
    assert_int_equal(srv_nreqs(&f->srv), 1);
    assert_int_equal(srv_nreqs(&direct), 1);
    srv_stop(&direct);
}

/* ---- Cache-Control ------------------------------------------------------------------ */

static void t_cache_control(void **state)
{
    fixture_t *f = *state;
    apr_pool_t *p = f->p;
    static const struct {
        const char *hdr;
        long want;
    } cases[] = {
        {"Cache-Control: max-age=120\r\n", 120},
        {"Cache-Control: public, max-age=86400\r\n", 86400},
        {"cache-control: Max-Age=60, must-revalidate\r\n", 60},
        {"Cache-Control: no-cache\r\n", 0},
        {"Cache-Control: no-store\r\n", 0},
        {"Cache-Control: private, no-cache=\"set-cookie\"\r\n", 0},
        {"Cache-Control: max-age=0\r\n", 0},
        {"Cache-Control: public\r\n", -1},
        {"Cache-Control: max-age=abc\r\n", -1},
        /* remote numbers are clamped while read: none may overflow a later apr_time_t */
        {"Cache-Control: max-age=10000000000000\r\n", VJWT_FETCH_MAX_AGE_MAX},
        {"Cache-Control: max-age=99999999999999999999999999999\r\n", VJWT_FETCH_MAX_AGE_MAX},
        {"Cache-Control: max-age=31536001\r\n", VJWT_FETCH_MAX_AGE_MAX},
        {"Cache-Control: max-age=31536000\r\n", 31536000},
        {"Cache-Control: max-age=-1\r\n", -1},
        {"Cache-Control: max-age=1e999\r\n", 1},
        {"Expires: Thu, 01 Jan 1970 00:00:00 GMT\r\n", -1},
        {"", -1},
    };
    size_t i;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        vjwt_fetch_opts_t o = opts();
        vjwt_fetch_result_t res;
        int before = srv_nreqs(&f->srv);
        step_t st[1];
        st[0] = (step_t){resp(p, "200 OK", cases[i].hdr, "{}"), 0, 0};
        /* the last step repeats: a one-step script serves the next request */
        srv_script(&f->srv, 1, st);
        assert_int_equal(vjwt_fetch(p, url_of(p, &f->srv, "/cc"), &o, &res), APR_SUCCESS);
        if (res.max_age != cases[i].want) {
            fail_msg("'%s': max_age %ld, want %ld", cases[i].hdr, res.max_age, cases[i].want);
        }
        assert_int_equal(srv_nreqs(&f->srv), before + 1);
    }
}

/* ---- vjwt_fetch_check_url ------------------------------------------------------------ */

static void t_check_url(void **state)
{
    fixture_t *f = *state;
    apr_pool_t *p = f->p;
    static const char *ok[] = {
        "https://login.example.com/.well-known/openid-configuration",
        "HTTPS://Example.COM/x",
        "https://192.0.2.1:8443/jwks",
        "http://127.0.0.1/jwks",
        "http://127.0.0.1:8080/x?y=1",
        "http://127.1.2.3/",
        "http://localhost/jwks",
        "http://LocalHost:81/",
        "http://[::1]/jwks",
        "http://[::1]:8080/jwks",
    };
    static const char *http_remote[] = {
        "http://example.com/jwks",
        "http://192.0.2.1/",
        "http://127.0.0.1.example.com/",
        "http://localhost.example.com/",
        "http://127.0.0.1@example.com/",
        "http://[::2]/",
        "http://[2001:db8::1]/",
        /* look like loopback but are no IPv4 address: the name would go to DNS */
        "http://127.0.0.999/",
        "http://127.0.0.1111/",
        "http://127.0.0.0999/",
        "http://127.256.0.1/",
        "HTTP://192.0.2.1/jwks",
        "http://[::ffff:127.0.0.1]/",
        "http://127.0.0.1.:80/",
    };
    static const char *never[] = {
        "ftp://example.com/jwks",
        "ftp://127.0.0.1/jwks",
        "file:///etc/passwd",
        "FILE:///etc/passwd",
        "file://localhost/etc/passwd",
        "data:,{\"keys\":[]}",
        "gopher://localhost/",
        "gopher://127.0.0.1:70/_GET",
        "dict://127.0.0.1:11211/",
        "ldap://127.0.0.1/",
        "not a url",
        "",
        "/relative/path",
        "example.com/jwks",
        "http://",
        "https://",
        "://x",
    };
    size_t i;
    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        const char *why = vjwt_fetch_check_url(p, ok[i], 0);
        if (why) {
            fail_msg("%s refused: %s", ok[i], why);
        }
        assert_null(vjwt_fetch_check_url(p, ok[i], 1));
    }
    for (i = 0; i < sizeof(http_remote) / sizeof(http_remote[0]); i++) {
        const char *why = vjwt_fetch_check_url(p, http_remote[i], 0);
        if (!why) {
            fail_msg("%s accepted without allow_http", http_remote[i]);
        }
        assert_contains(why, "plain http");
        why = vjwt_fetch_check_url(p, http_remote[i], 1);
        if (why) {
            fail_msg("%s refused with allow_http: %s", http_remote[i], why);
        }
    }
    for (i = 0; i < sizeof(never) / sizeof(never[0]); i++) {
        int allow;
        for (allow = 0; allow <= 1; allow++) {
            if (!vjwt_fetch_check_url(p, never[i], allow)) {
                fail_msg("'%s' accepted (allow_http %d)", never[i], allow);
            }
        }
    }
    assert_contains(vjwt_fetch_check_url(p, "ftp://example.com/jwks", 1), "https://");
    /* a refused scheme is named as such, whatever follows it */
    assert_contains(vjwt_fetch_check_url(p, "file:///etc/passwd", 1), "scheme 'file:'");
    assert_contains(vjwt_fetch_check_url(p, "GOPHER://127.0.0.1/", 0), "scheme 'gopher:'");
    assert_contains(vjwt_fetch_check_url(p, "not a url", 0), "absolute URL");
}

/* allow_http also lets the fetch itself speak plain http (checked on loopback, where the
 * rule would allow it anyway: the protocol list must not block http). */
static void t_allow_http_fetch(void **state)
{
    fixture_t *f = *state;
    apr_pool_t *p = f->p;
    vjwt_fetch_opts_t o = opts();
    vjwt_fetch_result_t res;
    step_t st[] = {{resp(p, "200 OK", "", "{}"), 0, 0}};
    srv_script(&f->srv, 1, st);
    o.allow_http = 1;
    assert_int_equal(vjwt_fetch(p, apr_psprintf(p, "http://localhost:%d/", f->srv.port), &o, &res),
                     APR_SUCCESS);
    assert_string_equal(res.body, "{}");
}

/* Fetches from several threads at once (one handle per call). */
typedef struct {
    const char *url;
    int ok;
} par_t;

static void *par_main(void *arg)
{
    par_t *a = arg;
    apr_pool_t *p = NULL;
    vjwt_fetch_opts_t o = opts();
    vjwt_fetch_result_t res;
    int i;
    apr_pool_create_unmanaged_ex(&p, NULL, NULL);
    for (i = 0; i < 5; i++) {
        if (vjwt_fetch(p, a->url, &o, &res) == APR_SUCCESS && strcmp(res.body, "{\"n\":1}") == 0) {
            a->ok++;
        }
    }
    apr_pool_destroy(p);
    return NULL;
}

static void t_parallel(void **state)
{
    fixture_t *f = *state;
    apr_pool_t *p = f->p;
    pthread_t th[4];
    par_t args[4];
    int i;
    step_t st[] = {{resp(p, "200 OK", "", "{\"n\":1}"), 0, 0}};
    srv_script(&f->srv, 1, st);
    for (i = 0; i < 4; i++) {
        args[i].url = url_of(p, &f->srv, "/par");
        args[i].ok = 0;
        assert_int_equal(pthread_create(&th[i], NULL, par_main, &args[i]), 0);
    }
    for (i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(args[i].ok, 5);
    }
    assert_int_equal(srv_nreqs(&f->srv), 20);
}

/* ---- TLS ---------------------------------------------------------------------------- */

typedef struct {
    apr_pool_t *p;
    srv_t srv;
    const char *ca_file; /* the server's self-signed certificate, PEM */
    char dir[64];
} tls_fixture_t;

/* A self-signed certificate for san ("IP:127.0.0.1", "DNS:localhost", ...). */
static SSL_CTX *tls_ctx(const char *san, const char *pem_path)
{
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    X509 *x = X509_new();
    X509_NAME *nm;
    X509_EXTENSION *ext;
    X509V3_CTX v3;
    SSL_CTX *ctx;
    FILE *fp;
    assert_non_null(k);
    assert_non_null(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, k);
    nm = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)"vjwt test", -1, -1,
                               0);
    X509_set_issuer_name(x, nm);
    X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san);
    assert_non_null(ext);
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    ext = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints, "critical,CA:TRUE");
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    assert_true(X509_sign(x, k, EVP_sha256()) > 0);
    fp = fopen(pem_path, "w");
    assert_non_null(fp);
    PEM_write_X509(fp, x);
    fclose(fp);
    ctx = SSL_CTX_new(TLS_server_method());
    assert_non_null(ctx);
    assert_int_equal(SSL_CTX_use_certificate(ctx, x), 1);
    assert_int_equal(SSL_CTX_use_PrivateKey(ctx, k), 1);
    X509_free(x);
    EVP_PKEY_free(k);
    return ctx;
}

static int tls_setup_san(void **state, const char *san)
{
    tls_fixture_t *f = calloc(1, sizeof(*f));
    void *ps = NULL;
    if (!f || vjwt_test_pool_setup(&ps) != 0) {
        free(f);
        return -1;
    }
    f->p = ps;
    strcpy(f->dir, "/tmp/vjwt-fetch-XXXXXX");
    if (!mkdtemp(f->dir)) {
        return -1;
    }
    f->ca_file = apr_pstrcat(f->p, f->dir, "/ca.pem", NULL);
    if (srv_start_tls(&f->srv, tls_ctx(san, f->ca_file)) != 0) {
        return -1;
    }
    *state = f;
    return 0;
}

static int tls_setup(void **state)
{
    return tls_setup_san(state, "IP:127.0.0.1");
}

static int tls_setup_wrong_name(void **state)
{
    return tls_setup_san(state, "DNS:other.example");
}

static int tls_teardown(void **state)
{
    tls_fixture_t *f = *state;
    void *ps = f->p;
    srv_stop(&f->srv);
    unlink(f->ca_file);
    rmdir(f->dir);
    vjwt_test_pool_teardown(&ps);
    free(f);
    return 0;
}

static const char *https_of(apr_pool_t *p, const srv_t *s, const char *path)
{
    return apr_psprintf(p, "https://127.0.0.1:%d%s", s->port, path);
}

static void t_tls_ok_with_ca_file(void **state)
{
    tls_fixture_t *f = *state;
    apr_pool_t *p = f->p;
    vjwt_fetch_opts_t o = opts();
    vjwt_fetch_result_t res;
    step_t st[] = {{resp(p, "200 OK", "Cache-Control: max-age=300\r\n", "{\"tls\":1}"), 0, 0}};
    srv_script(&f->srv, 1, st);
    o.ca_file = f->ca_file;
    assert_int_equal(vjwt_fetch(p, https_of(p, &f->srv, "/jwks"), &o, &res), APR_SUCCESS);
    assert_string_equal(res.body, "{\"tls\":1}");
    assert_int_equal(res.max_age, 300);
    assert_int_equal(srv_nreqs(&f->srv), 1);
}

/* The system store does not know the self-signed certificate: refused. */
static void t_tls_untrusted(void **state)
{
    tls_fixture_t *f = *state;
    apr_pool_t *p = f->p;
    vjwt_fetch_opts_t o = opts();
    vjwt_fetch_result_t res;
    step_t st[] = {{resp(p, "200 OK", "", "{}"), 0, 0}};
    srv_script(&f->srv, 1, st);
    assert_int_equal(vjwt_fetch(p, https_of(p, &f->srv, "/jwks"), &o, &res), APR_EGENERAL);
    assert_non_null(res.error);
    assert_contains(res.error, "certificate");
    assert_null(res.body);
    assert_int_equal(srv_nreqs(&f->srv), 0);
}

/* A trusted certificate for another name: refused (host name verification). */
static void t_tls_wrong_name(void **state)
{
    tls_fixture_t *f = *state;
    apr_pool_t *p = f->p;
    vjwt_fetch_opts_t o = opts();
    vjwt_fetch_result_t res;
    step_t st[] = {{resp(p, "200 OK", "", "{}"), 0, 0}};
    srv_script(&f->srv, 1, st);
    o.ca_file = f->ca_file;
    assert_int_equal(vjwt_fetch(p, https_of(p, &f->srv, "/jwks"), &o, &res), APR_EGENERAL);
    assert_non_null(res.error);
    assert_contains(res.error, "certificate");
    assert_int_equal(srv_nreqs(&f->srv), 0);
}

static void t_tls_redirect_https_ok(void **state)
{
    tls_fixture_t *f = *state;
    apr_pool_t *p = f->p;
    vjwt_fetch_opts_t o = opts();
    vjwt_fetch_result_t res;
    step_t st[] = {{redirect_to(p, "302 Found", "/next"), 0, 0},
                   {resp(p, "200 OK", "", "{\"hop\":2}"), 0, 0}};
    srv_script(&f->srv, 2, st);
    o.ca_file = f->ca_file;
    assert_int_equal(vjwt_fetch(p, https_of(p, &f->srv, "/first"), &o, &res), APR_SUCCESS);
    assert_string_equal(res.body, "{\"hop\":2}");
    assert_string_equal(res.final_url, https_of(p, &f->srv, "/next"));
}

/* https to plain http is refused even to loopback, and even with allow_http. */
static void t_tls_redirect_to_http_refused(void **state)
{
    tls_fixture_t *f = *state;
    apr_pool_t *p = f->p;
    srv_t plain;
    int allow;
    step_t pst[] = {{resp(p, "200 OK", "", "{}"), 0, 0}};
    assert_int_equal(srv_start(&plain), 0);
    srv_script(&plain, 1, pst);
    for (allow = 0; allow <= 1; allow++) {
        vjwt_fetch_opts_t o = opts();
        vjwt_fetch_result_t res;
        const char *target = url_of(p, &plain, "/plain");
        step_t st[] = {{redirect_to(p, "302 Found", target), 0, 0}};
        srv_script(&f->srv, 1, st);
        o.ca_file = f->ca_file;
        o.allow_http = allow;
        assert_int_equal(vjwt_fetch(p, https_of(p, &f->srv, "/up"), &o, &res), APR_EGENERAL);
        assert_contains(res.error, "redirect from https to");
        assert_contains(res.error, target);
    }
    assert_int_equal(srv_nreqs(&plain), 0);
    srv_stop(&plain);
}

int main(void)
{
    int rc;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_opts_default),
        cmocka_unit_test_setup_teardown(t_ok_content_length, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(t_ok_empty_body, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(t_ok_chunked, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(t_ok_until_eof, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(t_ok_large_body, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(t_non_200, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(t_too_large_content_length, fixture_setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(t_too_large_no_length, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(t_too_large_chunked, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(t_size_at_limit, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(t_total_timeout, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(t_total_timeout_slow_body, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(t_total_timeout_over_redirects, fixture_setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(t_stopping_aborts, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(t_truncated_body, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(t_connection_refused, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(t_redirect_followed, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(t_redirect_then_empty_body, fixture_setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(t_redirect_codes, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(t_redirect_max_hops, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(t_redirect_loop, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(t_redirect_to_non_loopback_http, fixture_setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(t_redirect_to_other_scheme, fixture_setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(t_refused_url_not_contacted, fixture_setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(t_env_proxy_ignored, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(t_proxy_parse, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(t_redact, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(t_proxy_url_used, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(t_proxy_https_connect, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(t_proxy_env, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(t_cache_control, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(t_check_url, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(t_allow_http_fetch, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(t_parallel, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(t_tls_ok_with_ca_file, tls_setup, tls_teardown),
        cmocka_unit_test_setup_teardown(t_tls_untrusted, tls_setup, tls_teardown),
        cmocka_unit_test_setup_teardown(t_tls_wrong_name, tls_setup_wrong_name, tls_teardown),
        cmocka_unit_test_setup_teardown(t_tls_redirect_https_ok, tls_setup, tls_teardown),
        cmocka_unit_test_setup_teardown(t_tls_redirect_to_http_refused, tls_setup, tls_teardown),
    };
    vjwt_test_init();
    /* a peer that goes away mid-write (TLS alerts, aborted transfers) must not kill the
     * test; httpd ignores SIGPIPE too */
    signal(SIGPIPE, SIG_IGN);
    if (vjwt_fetch_global_init() != APR_SUCCESS) {
        fprintf(stderr, "curl_global_init failed\n");
        return 1;
    }
    rc = cmocka_run_group_tests_name("fetch", tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
