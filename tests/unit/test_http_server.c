/*
 * test_http_server.c - the HTTP server over real loopback sockets.
 *
 * Each test gets its own server on 127.0.0.1:0 and its own uv loop, run by a
 * second thread; the test thread is the client, with blocking sockets and
 * receive timeouts.  The loop thread is only touched through a uv_async_t
 * that stops the server; teardown then checks that `done` ran once and that
 * uv_loop_close() succeeds, i.e. that every handle was closed (leaks are left
 * to ASan/valgrind).  Waits scale with TEST_TIMEOUT_SCALE (default 1).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ingestd/http.h"

#define BIG_BODY (8u << 20)

struct fixture {
    uv_loop_t loop;
    uv_async_t stop_async;
    pthread_t thread;
    struct ingest_http *http;
    struct ingest_log log;
    int port;
    int stopped;                /* test thread: the loop has been joined */
    atomic_int stop_called;     /* ingest_http_stop was called (loop thread) */
    atomic_int done_calls;
};

struct client {
    int fd;
    int reset;                  /* the server's close was an RST */
    size_t len;
    char buf[65536];
};

struct response {
    int status;
    long content_length;        /* -1: no header */
    char connection[32];
    char content_type[64];
    char allow[64];
    char body[4096];            /* the first bytes */
    size_t body_len;            /* all of it */
};

static int scale(void)
{
    const char *s = getenv("TEST_TIMEOUT_SCALE");
    int v = s ? atoi(s) : 1;
    return v > 0 ? v : 1;
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
    nanosleep(&ts, NULL);
}

/* --- the server side (loop thread) ------------------------------------------- */

static void on_done(void *ud)
{
    struct fixture *fx = ud;
    atomic_fetch_add(&fx->done_calls, 1);
}

static void stop_once(struct fixture *fx)
{
    if (!atomic_exchange(&fx->stop_called, 1))
        ingest_http_stop(fx->http, on_done, fx);
}

static void handler(void *ud, const char *path, const char *query, struct ingest_http_reply *reply)
{
    struct fixture *fx = ud;
    if (strcmp(path, "/x") == 0) {
        ingest_buf_printf(&reply->body, "hello from %s\n", path);
    } else if (strcmp(path, "/echo") == 0) {
        ingest_buf_printf(&reply->body, "path=%s query=%s", path, query);
    } else if (strcmp(path, "/json") == 0) {
        reply->content_type = "application/json";
        ingest_buf_puts(&reply->body, "{}");
    } else if (strcmp(path, "/big") == 0) {
        reply->content_type = "application/octet-stream";
        if (ingest_buf_reserve(&reply->body, BIG_BODY) == 0) {
            memset(reply->body.data, 'b', BIG_BODY);
            reply->body.len = BIG_BODY;
        }
    } else if (strcmp(path, "/bad-status") == 0) {
        reply->status = 42;
    } else if (strcmp(path, "/stop") == 0) {
        stop_once(fx);
    } else {
        reply->status = 404;
        ingest_buf_puts(&reply->body, "not found\n");
    }
}

static void on_stop_async(uv_async_t *async)
{
    stop_once(async->data);
    uv_close((uv_handle_t *)async, NULL);
}

static void *run_loop(void *arg)
{
    struct fixture *fx = arg;
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    return NULL;
}

/* NULL if the server does not start (the reason is printed). */
static struct fixture *fixture_start(const char *listen, const struct ingest_http_opts *opts)
{
    char err[256];
    struct fixture *fx = calloc(1, sizeof *fx);
    if (!fx || uv_loop_init(&fx->loop) != 0) {
        free(fx);
        return NULL;
    }
    /* Debug level to /dev/null: every log call runs, nothing is printed. */
    fx->log.level = INGEST_LEVEL_DEBUG;
    fx->log.fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    fx->http = ingest_http_start(&fx->loop, listen, opts, handler, fx, &fx->log, err, sizeof err);
    if (!fx->http) {
        print_message("ingest_http_start(%s): %s\n", listen, err);
        uv_loop_close(&fx->loop);
        close(fx->log.fd);
        free(fx);
        return NULL;
    }
    fx->port = ingest_http_port(fx->http);
    uv_async_init(&fx->loop, &fx->stop_async, on_stop_async);
    fx->stop_async.data = fx;
    if (pthread_create(&fx->thread, NULL, run_loop, fx) != 0)
        abort();
    return fx;
}

/* Stops the server, joins the loop and checks that nothing was left open. */
static void fixture_stop(struct fixture *fx)
{
    if (fx->stopped)
        return;
    fx->stopped = 1;
    long start = now_ms();
    uv_async_send(&fx->stop_async);
    pthread_join(fx->thread, NULL);
    /* Promptly: not by waiting out the connections' timers. */
    assert_true(now_ms() - start < 1000L * scale());
    assert_int_equal(atomic_load(&fx->done_calls), 1);
    assert_int_equal(uv_loop_close(&fx->loop), 0);
}

static int setup_with(void **state, unsigned idle_ms, unsigned max_conns)
{
    struct ingest_http_opts opts = { .idle_timeout_ms = idle_ms, .max_connections = max_conns };
    *state = fixture_start("127.0.0.1:0", &opts);
    return *state ? 0 : -1;
}

static int setup(void **state)
{
    return setup_with(state, 5000 * scale(), 0);
}

static int setup_short_idle(void **state)
{
    return setup_with(state, 200, 0);
}

static int setup_two_connections(void **state)
{
    return setup_with(state, 5000 * scale(), 2);
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    fixture_stop(fx);
    close(fx->log.fd);
    free(fx);
    return 0;
}

/* --- the client side (test thread) ------------------------------------------- */

static struct client *client_connect_to(const struct sockaddr *sa, socklen_t slen)
{
    struct client *c = calloc(1, sizeof *c);
    assert_non_null(c);
    c->fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(c->fd >= 0);
    struct timeval tv = { 5 * scale(), 0 };
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    assert_int_equal(connect(c->fd, sa, slen), 0);
    return c;
}

static struct client *client_connect(int port)
{
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return client_connect_to((struct sockaddr *)&sin, sizeof sin);
}

static void client_close(struct client *c)
{
    close(c->fd);
    free(c);
}

/* Closes with an RST, as a crashed or impatient client does. */
static void client_abort(struct client *c)
{
    struct linger lg = { 1, 0 };
    setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    client_close(c);
}

/* 0 if everything was sent; -1 if the server had closed. */
static int client_send(struct client *c, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static void send_str(struct client *c, const char *s)
{
    assert_int_equal(client_send(c, s, strlen(s)), 0);
}

/* >0 bytes added to the buffer, 0 EOF, -1 error or timeout. */
static ssize_t client_fill(struct client *c)
{
    if (c->len == sizeof c->buf)
        return -1;
    ssize_t n;
    do
        n = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
    while (n < 0 && errno == EINTR);
    if (n > 0)
        c->len += (size_t)n;
    if (n < 0 && errno == ECONNRESET)
        c->reset = 1;
    return n;
}

static void header_value(const char *head, const char *name, char *out, size_t outlen)
{
    char key[64];
    snprintf(key, sizeof key, "\r\n%s:", name);
    const char *p = strcasestr(head, key);
    out[0] = '\0';
    if (!p)
        return;
    p += strlen(key);
    p += strspn(p, " ");
    size_t n = strcspn(p, "\r");
    if (n >= outlen)
        n = outlen - 1;
    memcpy(out, p, n);
    out[n] = '\0';
}

/* Reads one response; 0, or -1 if the connection ended first. */
static int read_response(struct client *c, struct response *r, int head_only)
{
    char *end;
    memset(r, 0, sizeof *r);
    while (!(end = memmem(c->buf, c->len, "\r\n\r\n", 4)))
        if (client_fill(c) <= 0)
            return -1;
    size_t hlen = (size_t)(end - c->buf) + 4;
    char *head = strndup(c->buf, hlen);
    char cl[32];
    assert_non_null(head);
    if (sscanf(head, "HTTP/1.1 %d ", &r->status) != 1)
        r->status = -1;
    header_value(head, "Content-Length", cl, sizeof cl);
    r->content_length = cl[0] ? atol(cl) : -1;
    header_value(head, "Connection", r->connection, sizeof r->connection);
    header_value(head, "Content-Type", r->content_type, sizeof r->content_type);
    header_value(head, "Allow", r->allow, sizeof r->allow);
    free(head);
    memmove(c->buf, c->buf + hlen, c->len - hlen);
    c->len -= hlen;
    size_t want = head_only || r->content_length < 0 ? 0 : (size_t)r->content_length;
    while (r->body_len < want) {
        if (c->len == 0 && client_fill(c) <= 0)
            return -1;
        size_t n = c->len < want - r->body_len ? c->len : want - r->body_len;
        if (r->body_len < sizeof r->body - 1) {
            size_t keep = sizeof r->body - 1 - r->body_len;
            memcpy(r->body + r->body_len, c->buf, n < keep ? n : keep);
        }
        r->body_len += n;
        memmove(c->buf, c->buf + n, c->len - n);
        c->len -= n;
    }
    return 0;
}

/* Milliseconds until the server closed (EOF or reset), or -1 on timeout.
 * What arrives meanwhile is kept, unless the buffer fills. */
static long wait_closed(struct client *c, long timeout_ms)
{
    long start = now_ms();
    for (;;) {
        long left = timeout_ms - (now_ms() - start);
        struct pollfd pfd = { c->fd, POLLIN, 0 };
        if (left <= 0 || poll(&pfd, 1, (int)left) == 0)
            return -1;
        if (c->len == sizeof c->buf)
            c->len = 0;
        ssize_t n = client_fill(c);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
            return now_ms() - start;
    }
}

static void expect_closed(struct client *c)
{
    assert_true(wait_closed(c, 5000L * scale()) >= 0);
}

/* A request on a fresh connection; the response in r. */
static void get_once(struct fixture *fx, const char *request, struct response *r)
{
    struct client *c = client_connect(fx->port);
    send_str(c, request);
    assert_int_equal(read_response(c, r, 0), 0);
    client_close(c);
}

/* --- tests ------------------------------------------------------------------- */

static void test_get_returns_handler_body_with_content_length(void **state)
{
    struct response r;
    get_once(*state, "GET /x HTTP/1.1\r\nHost: t\r\n\r\n", &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "hello from /x\n");
    assert_int_equal(r.content_length, strlen("hello from /x\n"));
    assert_string_equal(r.content_type, "text/plain");
    assert_string_equal(r.connection, "keep-alive");
    get_once(*state, "GET /json HTTP/1.1\r\n\r\n", &r);
    assert_string_equal(r.content_type, "application/json");
    assert_string_equal(r.body, "{}");
}

static void test_query_is_split_from_path(void **state)
{
    struct response r;
    get_once(*state, "GET /echo?a=1&b=%20 HTTP/1.1\r\n\r\n", &r);
    assert_string_equal(r.body, "path=/echo query=a=1&b=%20");
    get_once(*state, "GET http://h:1/echo?q HTTP/1.1\r\n\r\n", &r);
    assert_string_equal(r.body, "path=/echo query=q");
    get_once(*state, "GET /echo HTTP/1.1\r\n\r\n", &r);
    assert_string_equal(r.body, "path=/echo query=");
}

static void test_head_returns_headers_without_body(void **state)
{
    struct fixture *fx = *state;
    struct client *c = client_connect(fx->port);
    struct response r;
    send_str(c, "HEAD /x HTTP/1.1\r\n\r\n");
    assert_int_equal(read_response(c, &r, 1), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.content_length, strlen("hello from /x\n"));
    /* If a body had been sent it would come before this response. */
    send_str(c, "GET /echo?after-head HTTP/1.1\r\n\r\n");
    assert_int_equal(read_response(c, &r, 0), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "path=/echo query=after-head");
    client_close(c);
}

static void test_handler_status_is_sent(void **state)
{
    struct response r;
    get_once(*state, "GET /nope HTTP/1.1\r\n\r\n", &r);
    assert_int_equal(r.status, 404);
    assert_string_equal(r.body, "not found\n");
}

static void test_invalid_handler_status_becomes_500(void **state)
{
    struct response r;
    get_once(*state, "GET /bad-status HTTP/1.1\r\n\r\n", &r);
    assert_int_equal(r.status, 500);
    assert_string_equal(r.connection, "close");
}

/* An error reply, then the server closes. */
static void expect_error(struct fixture *fx, const void *req, size_t len, int status)
{
    struct client *c = client_connect(fx->port);
    struct response r;
    assert_int_equal(client_send(c, req, len), 0);
    assert_int_equal(read_response(c, &r, 0), 0);
    assert_int_equal(r.status, status);
    assert_string_equal(r.connection, "close");
    assert_int_equal(r.body_len, (size_t)r.content_length);
    expect_closed(c);
    client_close(c);
}

static void test_post_gets_405_with_allow_and_close(void **state)
{
    const char *req = "POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello";
    struct client *c = client_connect(((struct fixture *)*state)->port);
    struct response r;
    send_str(c, req);
    assert_int_equal(read_response(c, &r, 0), 0);
    assert_int_equal(r.status, 405);
    assert_string_equal(r.allow, "GET, HEAD");
    expect_closed(c);
    client_close(c);
}

static void test_garbage_gets_400_and_close(void **state)
{
    static const unsigned char tls_hello[] = { 0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00 };
    expect_error(*state, tls_hello, sizeof tls_hello, 400);
    const char *junk = "this is not http at all\r\n\r\n";
    expect_error(*state, junk, strlen(junk), 400);
}

static void test_oversized_head_gets_431_and_close(void **state)
{
    size_t len = 20 * 1024 + 64;
    char *req = malloc(len);
    assert_non_null(req);
    int n = sprintf(req, "GET /x HTTP/1.1\r\nX-Big: ");
    memset(req + n, 'a', len - (size_t)n - 4);
    memcpy(req + len - 4, "\r\n\r\n", 4);
    expect_error(*state, req, len, 431);
    free(req);
}

/* The error reply is not lost to an RST while the client is still sending:
 * the server half-closes and drains instead of closing on unread data. */
static void test_error_reply_survives_a_client_still_sending(void **state)
{
    struct fixture *fx = *state;
    struct client *c = client_connect(fx->port);
    struct response r;
    char chunk[16384];
    memset(chunk, 'a', sizeof chunk);
    send_str(c, "GET /x HTTP/1.1\r\nX-Big: ");
    assert_int_equal(client_send(c, chunk, sizeof chunk), 0);
    assert_int_equal(read_response(c, &r, 0), 0);
    assert_int_equal(r.status, 431);
    sleep_ms(50);                   /* a careless server has closed by now */
    for (int i = 0; i < 16; i++)    /* 256 KiB more, all accepted */
        assert_int_equal(client_send(c, chunk, sizeof chunk), 0);
    shutdown(c->fd, SHUT_WR);
    expect_closed(c);
    assert_false(c->reset);         /* a clean FIN, nothing unread was dropped */
    client_close(c);
}

static void test_long_target_gets_414_and_unknown_version_505(void **state)
{
    char req[4096];
    int n = sprintf(req, "GET /");
    memset(req + n, 'a', 3000);
    n += 3000;
    n += sprintf(req + n, " HTTP/1.1\r\n\r\n");
    expect_error(*state, req, (size_t)n, 414);
    const char *v2 = "GET /x HTTP/2.0\r\n\r\n";
    expect_error(*state, v2, strlen(v2), 505);
}

static void test_keep_alive_serves_two_requests_on_one_connection(void **state)
{
    struct fixture *fx = *state;
    struct client *c = client_connect(fx->port);
    struct response r;
    for (int i = 0; i < 3; i++) {
        send_str(c, "GET /x HTTP/1.1\r\n\r\n");
        assert_int_equal(read_response(c, &r, 0), 0);
        assert_int_equal(r.status, 200);
        assert_string_equal(r.connection, "keep-alive");
    }
    send_str(c, "GET /x HTTP/1.1\r\nConnection: close\r\n\r\n");
    assert_int_equal(read_response(c, &r, 0), 0);
    assert_string_equal(r.connection, "close");
    expect_closed(c);
    client_close(c);
}

static void test_http10_closes_unless_keep_alive_is_asked(void **state)
{
    struct fixture *fx = *state;
    struct client *c = client_connect(fx->port);
    struct response r;
    send_str(c, "GET /x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert_int_equal(read_response(c, &r, 0), 0);
    assert_string_equal(r.connection, "keep-alive");
    send_str(c, "GET /x HTTP/1.0\r\n\r\n");
    assert_int_equal(read_response(c, &r, 0), 0);
    assert_string_equal(r.connection, "close");
    expect_closed(c);
    client_close(c);
}

static void test_pipelined_requests_in_one_write_are_answered_in_order(void **state)
{
    struct fixture *fx = *state;
    struct client *c = client_connect(fx->port);
    struct response r;
    send_str(c, "GET /echo?1 HTTP/1.1\r\n\r\nHEAD /x HTTP/1.1\r\n\r\nGET /echo?3 HTTP/1.1\r\n\r\n"
                "GET /echo?4 HTTP/1.1\r\nConnection: close\r\n\r\nGET /echo?never HTTP/1.1\r\n\r\n");
    assert_int_equal(read_response(c, &r, 0), 0);
    assert_string_equal(r.body, "path=/echo query=1");
    assert_int_equal(read_response(c, &r, 1), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(read_response(c, &r, 0), 0);
    assert_string_equal(r.body, "path=/echo query=3");
    assert_int_equal(read_response(c, &r, 0), 0);
    assert_string_equal(r.body, "path=/echo query=4");
    assert_string_equal(r.connection, "close");
    assert_int_equal(c->len, 0);        /* nothing after the close */
    expect_closed(c);
    client_close(c);
}

static void test_get_with_body_is_answered_then_closed(void **state)
{
    struct fixture *fx = *state;
    struct client *c = client_connect(fx->port);
    struct response r;
    /* The body looks like a request: it must not be served. */
    send_str(c, "GET /x HTTP/1.1\r\nContent-Length: 23\r\n\r\nGET /nope HTTP/1.1\r\n\r\n");
    assert_int_equal(read_response(c, &r, 0), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.connection, "close");
    expect_closed(c);
    assert_int_equal(c->len, 0);
    client_close(c);
}

static void test_idle_connection_is_closed_after_timeout(void **state)
{
    struct fixture *fx = *state;
    struct client *c = client_connect(fx->port);
    long ms = wait_closed(c, 3000L * scale());
    assert_true(ms >= 100);     /* idle_timeout_ms is 200 */
    client_close(c);
    /* After a response the clock starts again. */
    c = client_connect(fx->port);
    struct response r;
    send_str(c, "GET /x HTTP/1.1\r\n\r\n");
    assert_int_equal(read_response(c, &r, 0), 0);
    assert_true(wait_closed(c, 3000L * scale()) >= 100);
    client_close(c);
}

static void test_trickled_request_is_closed_at_timeout(void **state)
{
    struct fixture *fx = *state;
    struct client *c = client_connect(fx->port);
    long start = now_ms();
    send_str(c, "GET /x HTTP/1.1\r\n");
    /* A byte every 50 ms would keep a per-read timer alive for ever. */
    while (now_ms() - start < 3000L * scale()) {
        if (client_send(c, "X", 1) < 0)
            break;
        struct pollfd pfd = { c->fd, POLLIN, 0 };
        if (poll(&pfd, 1, 50) > 0)
            break;
    }
    assert_true(wait_closed(c, 1000L * scale()) >= 0);
    assert_true(now_ms() - start < 2000L * scale());
    assert_null(memmem(c->buf, c->len, "200 OK", 6));
    client_close(c);
}

static void test_max_connections_rejects_the_extra_one(void **state)
{
    struct fixture *fx = *state;
    struct client *held[2];
    struct response r;
    for (int i = 0; i < 2; i++) {   /* a reply proves the server holds it */
        held[i] = client_connect(fx->port);
        send_str(held[i], "GET /x HTTP/1.1\r\n\r\n");
        assert_int_equal(read_response(held[i], &r, 0), 0);
    }
    /* Closed at once (idle_timeout_ms is 5 s here).  The 503 is best effort
     * in general, but an empty loopback socket buffer always takes it. */
    struct client *extra = client_connect(fx->port);
    assert_true(wait_closed(extra, 1000L * scale()) >= 0);
    assert_true(extra->len > 13);
    assert_memory_equal(extra->buf, "HTTP/1.1 503 ", 13);
    client_close(extra);
    /* Once one closes, a new connection is served again. */
    client_close(held[0]);
    int served = 0;
    for (long start = now_ms(); !served && now_ms() - start < 3000L * scale(); sleep_ms(20)) {
        struct client *c = client_connect(fx->port);
        if (client_send(c, "GET /x HTTP/1.1\r\n\r\n", 19) == 0 && read_response(c, &r, 0) == 0)
            served = r.status == 200;
        client_close(c);
    }
    assert_true(served);
    client_close(held[1]);
}

static void test_client_disconnects_are_harmless(void **state)
{
    struct fixture *fx = *state;
    struct response r;
    struct client *c;
    c = client_connect(fx->port);           /* connect and go */
    client_close(c);
    c = client_connect(fx->port);           /* half a request */
    send_str(c, "GET /x HTTP/1.1\r\nHo");
    client_close(c);
    c = client_connect(fx->port);           /* half a request, then RST */
    send_str(c, "GET /x HT");
    client_abort(c);
    c = client_connect(fx->port);           /* gone in the middle of a big reply */
    send_str(c, "GET /big HTTP/1.1\r\n\r\n");
    assert_true(client_fill(c) > 0);
    client_abort(c);
    c = client_connect(fx->port);           /* request, then RST before the reply */
    send_str(c, "GET /big HTTP/1.1\r\n\r\nGET /big HTTP/1.1\r\n\r\n");
    client_abort(c);
    c = client_connect(fx->port);           /* half-close after the request */
    send_str(c, "GET /x HTTP/1.1\r\n\r\n");
    shutdown(c->fd, SHUT_WR);
    assert_int_equal(read_response(c, &r, 0), 0);
    assert_int_equal(r.status, 200);
    expect_closed(c);
    client_close(c);
    get_once(fx, "GET /x HTTP/1.1\r\n\r\n", &r);   /* and the server still works */
    assert_int_equal(r.status, 200);
}

static void test_big_body_arrives_whole(void **state)
{
    struct response r;
    get_once(*state, "GET /big HTTP/1.1\r\n\r\n", &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.content_length, BIG_BODY);
    assert_int_equal(r.body_len, BIG_BODY);
}

static void test_stop_with_open_connections_completes(void **state)
{
    struct fixture *fx = *state;
    struct response r;
    struct client *c[5];
    c[0] = client_connect(fx->port);        /* idle */
    c[1] = client_connect(fx->port);        /* mid-request */
    send_str(c[1], "GET /x HTTP/1.1\r\nHost:");
    c[2] = client_connect(fx->port);        /* a big reply not being read */
    send_str(c[2], "GET /big HTTP/1.1\r\n\r\n");
    c[3] = client_connect(fx->port);        /* lingering after Connection: close */
    send_str(c[3], "GET /x HTTP/1.0\r\n\r\n");
    assert_int_equal(read_response(c[3], &r, 0), 0);
    c[4] = client_connect(fx->port);        /* keep-alive, between requests */
    send_str(c[4], "GET /x HTTP/1.1\r\n\r\n");
    assert_int_equal(read_response(c[4], &r, 0), 0);
    sleep_ms(100);                          /* let the server see it all */
    fixture_stop(fx);                       /* done ran, the loop is empty */
    for (int i = 0; i < 5; i++) {
        expect_closed(c[i]);
        client_close(c[i]);
    }
}

static void test_handler_may_stop_the_server(void **state)
{
    struct fixture *fx = *state;
    struct client *c = client_connect(fx->port);
    send_str(c, "GET /stop HTTP/1.1\r\n\r\n");
    expect_closed(c);
    client_close(c);
    for (long start = now_ms(); !atomic_load(&fx->done_calls) && now_ms() - start < 3000; )
        sleep_ms(10);
    assert_int_equal(atomic_load(&fx->done_calls), 1);
}

static void test_ipv6_loopback_is_served(void **state)
{
    (void)state;
    struct fixture *fx = fixture_start("[::1]:0", NULL);
    if (!fx)
        skip();     /* no IPv6 here */
    struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)fx->port),
                                 .sin6_addr = IN6ADDR_LOOPBACK_INIT };
    struct client *c = client_connect_to((struct sockaddr *)&sin6, sizeof sin6);
    struct response r;
    send_str(c, "GET /x HTTP/1.1\r\n\r\n");
    assert_int_equal(read_response(c, &r, 0), 0);
    assert_int_equal(r.status, 200);
    client_close(c);
    teardown((void **)&fx);
}

static void test_start_failure_leaves_nothing_on_the_loop(void **state)
{
    struct fixture *fx = *state;
    static const char *bad[] = { "nonsense", "127.0.0.1", "127.0.0.1:99999", "::1:80", NULL };
    uv_loop_t loop;
    char err[256], addr[64];
    assert_int_equal(uv_loop_init(&loop), 0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_null(ingest_http_start(&loop, bad[i], NULL, handler, NULL, NULL, err, sizeof err));
        assert_true(strlen(err) > 0);
    }
    snprintf(addr, sizeof addr, "127.0.0.1:%d", fx->port);     /* in use */
    assert_null(ingest_http_start(&loop, addr, NULL, handler, NULL, NULL, err, sizeof err));
    assert_non_null(strstr(err, "in use"));
    struct ingest_http_opts huge = { .max_request_bytes = 1u << 30 };
    assert_null(ingest_http_start(&loop, "127.0.0.1:0", &huge, handler, NULL, NULL, err, sizeof err));
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_stop_without_a_thread_frees_everything(void **state)
{
    (void)state;
    uv_loop_t loop;
    char err[256];
    struct fixture fx = { 0 };
    assert_int_equal(uv_loop_init(&loop), 0);
    struct ingest_http *http = ingest_http_start(&loop, ":0", NULL, handler, NULL, NULL, err, sizeof err);
    assert_non_null(http);
    assert_true(ingest_http_port(http) > 0);
    ingest_http_stop(http, on_done, &fx);
    ingest_http_stop(http, on_done, &fx);       /* ignored: still stopping */
    assert_int_equal(atomic_load(&fx.done_calls), 0);   /* only after the closes */
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(atomic_load(&fx.done_calls), 1);
    assert_int_equal(uv_loop_close(&loop), 0);
    ingest_http_stop(NULL, on_done, &fx);       /* NULL: done at once */
    assert_int_equal(atomic_load(&fx.done_calls), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_get_returns_handler_body_with_content_length, setup, teardown),
        cmocka_unit_test_setup_teardown(test_query_is_split_from_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_head_returns_headers_without_body, setup, teardown),
        cmocka_unit_test_setup_teardown(test_handler_status_is_sent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_handler_status_becomes_500, setup, teardown),
        cmocka_unit_test_setup_teardown(test_post_gets_405_with_allow_and_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage_gets_400_and_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oversized_head_gets_431_and_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_reply_survives_a_client_still_sending, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_target_gets_414_and_unknown_version_505, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keep_alive_serves_two_requests_on_one_connection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http10_closes_unless_keep_alive_is_asked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pipelined_requests_in_one_write_are_answered_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_with_body_is_answered_then_closed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idle_connection_is_closed_after_timeout, setup_short_idle, teardown),
        cmocka_unit_test_setup_teardown(test_trickled_request_is_closed_at_timeout, setup_short_idle, teardown),
        cmocka_unit_test_setup_teardown(test_max_connections_rejects_the_extra_one, setup_two_connections, teardown),
        cmocka_unit_test_setup_teardown(test_client_disconnects_are_harmless, setup, teardown),
        cmocka_unit_test_setup_teardown(test_big_body_arrives_whole, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_with_open_connections_completes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_handler_may_stop_the_server, setup, teardown),
        cmocka_unit_test(test_ipv6_loopback_is_served),
        cmocka_unit_test_setup_teardown(test_start_failure_leaves_nothing_on_the_loop, setup, teardown),
        cmocka_unit_test(test_stop_without_a_thread_frees_everything),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
