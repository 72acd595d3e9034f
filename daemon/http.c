/*
 * http.c - the process's small HTTP/1.1 server (see http.h).
 *
 * Everything runs on the loop thread.  The listening socket is created,
 * bound and put in listen state with plain socket calls, so every start-up
 * failure is synchronous and leaves no handle on the loop; libuv then adopts
 * the socket (uv_tcp_open).
 *
 * A connection (struct conn: a tcp and a timer handle) goes through phases:
 *   READ    bytes go into one fixed buffer of max_request_bytes until
 *           ingest_http_parse says the head is whole or is an error;
 *   WRITE   reading is stopped and the reply goes out in one uv_write
 *           (status line + headers, then the body unless HEAD);
 *   LINGER  after a reply that ends the connection (errors, Connection:
 *           close, HTTP/1.0, a request with a body) the write side is shut
 *           down and whatever the client still sends is read and dropped for
 *           a moment: closing with unread data makes the kernel send an RST,
 *           which can destroy the reply before the client has read it.
 * Keep-alive goes from WRITE back to READ.  Pipelining falls out of the
 * buffer: bytes after one head stay there and are parsed once the previous
 * reply is written, so replies leave in request order, one at a time, and a
 * client cannot queue more than one buffer of requests.
 *
 * One timer per connection bounds each phase as a whole (see http.h), which
 * is what defeats slowloris.  Past max_connections a new connection is
 * accepted, sent a best-effort 503 and closed, so the backlog never fills.
 * Memory is freed only in close callbacks; the server is freed after the
 * last of its handles has closed, and then `done` runs.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ingestd/http.h"

#define DEFAULT_MAX_REQUEST 8192
#define DEFAULT_IDLE_MS     10000
#define DEFAULT_MAX_CONNS   512
#define MAX_REQUEST_LIMIT   (1u << 20)  /* it is a per-connection buffer */
#define BACKLOG             511
#define LINGER_MS           2000
#define LINGER_MAX_BYTES    (1u << 20)
#define BODY_KEEP_BYTES     (1u << 20)  /* bigger reply buffers are not kept */
#define EARLY_PARSE_BYTES   16          /* parse every read until this many */

enum phase { READ, WRITE, LINGER };

struct conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_write_t wreq;
    uv_shutdown_t sreq;
    struct ingest_http *http;
    struct conn *prev, *next;
    char *in;                   /* max_request_bytes, allocated at first read */
    size_t in_len;
    size_t lingered;            /* bytes dropped in LINGER */
    struct ingest_buf head;     /* status line and headers being written */
    struct ingest_buf body;     /* reply body being written */
    enum phase phase;
    int close_after;            /* end the connection once the write is done */
    int saw_line;               /* a line end was seen in the current head */
    int reading;
    int closing;
    int open_handles;
};

struct ingest_http {
    uv_loop_t *loop;
    uv_tcp_t listener;
    uv_tcp_t spare;             /* rejects a connection when malloc fails */
    struct ingest_http_opts opts;
    ingest_http_handler handler;
    void *ud;
    const struct ingest_log *log;
    struct conn *conns;
    unsigned nconns;
    unsigned units;             /* listener, conns, rejected sockets still open */
    int port;
    int spare_busy;
    int stalled;                /* a connection waits in the listener for the spare */
    int at_limit;               /* rejecting; logged once per episode */
    int stopping;
    void (*done)(void *);
    void *done_ud;
};

static const char busy_reply[] =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
    "Content-Length: 20\r\nConnection: close\r\n\r\nService Unavailable\n";

static void on_connection(uv_stream_t *server, int status);
static void process(struct conn *conn, size_t old_len);

static const char *reason(int status)
{
    static const struct { int status; const char *text; } reasons[] = {
        { 200, "OK" }, { 201, "Created" }, { 202, "Accepted" }, { 204, "No Content" },
        { 301, "Moved Permanently" }, { 302, "Found" }, { 304, "Not Modified" },
        { 400, "Bad Request" }, { 401, "Unauthorized" }, { 403, "Forbidden" },
        { 404, "Not Found" }, { 405, "Method Not Allowed" }, { 408, "Request Timeout" },
        { 414, "URI Too Long" }, { 429, "Too Many Requests" },
        { 431, "Request Header Fields Too Large" }, { 500, "Internal Server Error" },
        { 501, "Not Implemented" }, { 503, "Service Unavailable" },
        { 505, "HTTP Version Not Supported" },
    };
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
        if (reasons[i].status == status)
            return reasons[i].text;
    return status < 300 ? "OK" : status < 400 ? "Redirection" : status < 500 ? "Client Error"
                                                                          : "Server Error";
}

/* --- lifetime --------------------------------------------------------------- */

/* One listener, conn or rejected socket has closed; the last one frees. */
static void unit_closed(struct ingest_http *http)
{
    if (--http->units > 0 || !http->stopping)
        return;
    void (*done)(void *) = http->done;
    void *done_ud = http->done_ud;
    free(http);
    if (done)
        done(done_ud);
}

static void on_listener_closed(uv_handle_t *handle)
{
    unit_closed(handle->data);
}

static void on_conn_closed(uv_handle_t *handle)
{
    struct conn *conn = handle->data;
    if (--conn->open_handles > 0)
        return;
    struct ingest_http *http = conn->http;
    if (conn->prev)
        conn->prev->next = conn->next;
    else
        http->conns = conn->next;
    if (conn->next)
        conn->next->prev = conn->prev;
    http->nconns--;
    free(conn->in);
    ingest_buf_free(&conn->head);
    ingest_buf_free(&conn->body);
    free(conn);
    unit_closed(http);
}

/* Safe to call twice; pending write/shutdown callbacks then see ECANCELED. */
static void close_conn(struct conn *conn)
{
    if (conn->closing)
        return;
    conn->closing = 1;
    uv_close((uv_handle_t *)&conn->tcp, on_conn_closed);
    uv_close((uv_handle_t *)&conn->timer, on_conn_closed);
}

static void on_timer(uv_timer_t *timer)
{
    struct conn *conn = timer->data;
    if (conn->phase != LINGER)
        INGEST_LOG_DEBUG(conn->http->log, NULL, "http connection timed out",
                         INGEST_KV_STR("phase", conn->phase == READ ? "read" : "write"));
    close_conn(conn);
}

static void arm_timer(struct conn *conn, unsigned ms)
{
    uv_timer_start(&conn->timer, on_timer, ms, 0);
}

/* --- reading ---------------------------------------------------------------- */

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    struct conn *conn = handle->data;
    size_t cap = conn->http->opts.max_request_bytes;
    (void)suggested;
    if (!conn->in)
        conn->in = malloc(cap);
    if (!conn->in || conn->in_len >= cap) {
        *buf = uv_buf_init(NULL, 0);    /* read_cb gets UV_ENOBUFS and closes */
        return;
    }
    *buf = uv_buf_init(conn->in + conn->in_len, (unsigned)(cap - conn->in_len));
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    struct conn *conn = stream->data;
    (void)buf;
    if (nread == 0 || conn->closing)
        return;
    if (nread < 0) {    /* EOF, reset or ENOBUFS: nobody left to answer */
        close_conn(conn);
        return;
    }
    if (conn->phase == LINGER) {
        conn->lingered += (size_t)nread;
        if (conn->lingered > LINGER_MAX_BYTES)
            close_conn(conn);
        return;
    }
    size_t old_len = conn->in_len;
    conn->in_len += (size_t)nread;
    process(conn, old_len);
}

static int start_reading(struct conn *conn)
{
    if (conn->reading)
        return 0;
    int rc = uv_read_start((uv_stream_t *)&conn->tcp, on_alloc, on_read);
    if (rc == 0)
        conn->reading = 1;
    return rc;
}

static void stop_reading(struct conn *conn)
{
    if (conn->reading)
        uv_read_stop((uv_stream_t *)&conn->tcp);
    conn->reading = 0;
}

/* --- writing ---------------------------------------------------------------- */

static void on_shutdown(uv_shutdown_t *sreq, int status)
{
    struct conn *conn = sreq->data;
    if (status < 0)
        close_conn(conn);
}

/* Half-close and drain briefly; EOF, the timer or too much data closes. */
static void begin_linger(struct conn *conn)
{
    unsigned idle = conn->http->opts.idle_timeout_ms;
    conn->phase = LINGER;
    conn->in_len = 0;
    conn->lingered = 0;
    arm_timer(conn, idle < LINGER_MS ? idle : LINGER_MS);
    if (uv_shutdown(&conn->sreq, (uv_stream_t *)&conn->tcp, on_shutdown) < 0 ||
        start_reading(conn) < 0)
        close_conn(conn);
}

static void on_write(uv_write_t *wreq, int status)
{
    struct conn *conn = wreq->data;
    if (conn->closing)
        return;
    if (status < 0) {   /* the client went away mid-reply */
        close_conn(conn);
        return;
    }
    if (conn->body.cap > BODY_KEEP_BYTES)
        ingest_buf_free(&conn->body);
    if (conn->close_after) {
        begin_linger(conn);
        return;
    }
    conn->phase = READ;
    arm_timer(conn, conn->http->opts.idle_timeout_ms);
    if (start_reading(conn) < 0 && conn->in_len == 0) {
        close_conn(conn);
        return;
    }
    if (conn->in_len > 0)   /* a pipelined request may already be whole */
        process(conn, 0);
}

/* Writes conn->body with a head for `status`; `extra` is more header lines. */
static void respond(struct conn *conn, int status, const char *ctype, int head_only,
                    int keep_alive, const char *extra)
{
    int bodyless = status == 204 || status == 304;
    struct ingest_buf *head = &conn->head;
    ingest_buf_reset(head);
    head->oom = 0;      /* sticky otherwise */
    ingest_buf_printf(head, "HTTP/1.1 %d %s\r\n", status, reason(status));
    if (!bodyless)
        ingest_buf_printf(head, "Content-Type: %s\r\nContent-Length: %zu\r\n", ctype,
                          conn->body.len);
    ingest_buf_printf(head, "Connection: %s\r\n%s\r\n", keep_alive ? "keep-alive" : "close",
                      extra);
    if (head->oom) {
        close_conn(conn);
        return;
    }
    uv_buf_t bufs[2];
    unsigned nbufs = 0;
    bufs[nbufs++] = uv_buf_init(head->data, (unsigned)head->len);
    if (!head_only && !bodyless && conn->body.len > 0)
        bufs[nbufs++] = uv_buf_init(conn->body.data, (unsigned)conn->body.len);
    conn->phase = WRITE;
    conn->close_after = !keep_alive;
    arm_timer(conn, conn->http->opts.idle_timeout_ms);
    if (uv_write(&conn->wreq, (uv_stream_t *)&conn->tcp, bufs, nbufs, on_write) < 0)
        close_conn(conn);
}

static void respond_error(struct conn *conn, int status)
{
    ingest_buf_reset(&conn->body);
    conn->body.oom = 0;
    ingest_buf_printf(&conn->body, "%s\n", reason(status));
    respond(conn, status, "text/plain", 0, 0, status == 405 ? "Allow: GET, HEAD\r\n" : "");
}

/* --- requests --------------------------------------------------------------- */

/*
 * Whether parsing could tell anything new: a head that arrives in tiny
 * pieces is parsed a constant number of times, not once per piece.  The
 * first bytes are always parsed (junk gets its 400 at once), then on the
 * first line end (the request line), the blank line, or a full buffer.
 */
static int worth_parsing(struct conn *conn, size_t old_len)
{
    const char *p = conn->in;
    if (old_len < EARLY_PARSE_BYTES || conn->in_len >= conn->http->opts.max_request_bytes)
        return 1;
    for (size_t i = old_len; i < conn->in_len; i++) {
        if (p[i] != '\n')
            continue;
        if (!conn->saw_line) {
            conn->saw_line = 1;
            return 1;
        }
        if (p[i - 1] == '\n' || (p[i - 1] == '\r' && p[i - 2] == '\n'))
            return 1;   /* i >= old_len >= EARLY_PARSE_BYTES, so i - 2 is in */
    }
    return 0;
}

static void serve(struct conn *conn, struct ingest_http_request *req)
{
    struct ingest_http *http = conn->http;
    char *q = strchr(req->target, '?');
    const char *query = "";
    if (q) {
        *q = '\0';
        query = q + 1;
    }
    ingest_buf_reset(&conn->body);
    conn->body.oom = 0;
    struct ingest_http_reply reply = { .status = 200, .content_type = "text/plain",
                                       .body = conn->body };
    http->handler(http->ud, req->target, query, &reply);
    conn->body = reply.body;    /* ours again, whatever the handler did to it */
    if (conn->closing)          /* the handler stopped the server */
        return;
    if (conn->body.oom || reply.status < 200 || reply.status > 599 ||
        conn->body.len > 0x7fffffff) {
        INGEST_LOG_WARN(http->log, NULL, "http handler failed", INGEST_KV_STR("path", req->target),
                        INGEST_KV_INT("status", reply.status), INGEST_KV_INT("oom", conn->body.oom));
        respond_error(conn, 500);
        return;
    }
    respond(conn, reply.status, reply.content_type ? reply.content_type : "text/plain",
            strcmp(req->method, "HEAD") == 0, req->keep_alive, "");
}

static void process(struct conn *conn, size_t old_len)
{
    struct ingest_http_request req;
    if (!worth_parsing(conn, old_len))
        return;
    int n = ingest_http_parse(conn->in, conn->in_len, conn->http->opts.max_request_bytes, &req);
    if (n == 0)
        return;
    stop_reading(conn);     /* one request at a time; the rest waits */
    if (n < 0) {
        INGEST_LOG_DEBUG(conn->http->log, NULL, "http request rejected",
                         INGEST_KV_INT("status", -n));
        respond_error(conn, -n);
        return;
    }
    conn->in_len -= (size_t)n;
    memmove(conn->in, conn->in + n, conn->in_len);
    conn->saw_line = 0;
    serve(conn, &req);
}

/* --- accepting -------------------------------------------------------------- */

static void on_reject_closed(uv_handle_t *handle)
{
    struct ingest_http *http = handle->data;
    if (handle != (uv_handle_t *)&http->spare) {
        free(handle);
    } else {
        http->spare_busy = 0;
        if (http->stalled && !http->stopping) {
            http->stalled = 0;
            on_connection((uv_stream_t *)&http->listener, 0);
        }
    }
    unit_closed(http);
}

/* Accepts and closes at once.  A connection must be accepted even without
 * memory, or libuv stops watching the listener: then the spare handle takes
 * it, and if the spare is busy the connection waits for its close. */
static void reject(struct ingest_http *http)
{
    uv_tcp_t *tcp = malloc(sizeof *tcp);
    if (!tcp) {
        if (http->spare_busy) {
            http->stalled = 1;
            return;
        }
        tcp = &http->spare;
        http->spare_busy = 1;
    }
    (void)uv_tcp_init(http->loop, tcp);
    tcp->data = http;
    http->units++;
    if (uv_accept((uv_stream_t *)&http->listener, (uv_stream_t *)tcp) == 0) {
        /* Best effort: a full socket buffer just means no 503. */
        uv_buf_t buf = uv_buf_init((char *)busy_reply, sizeof busy_reply - 1);
        (void)uv_try_write((uv_stream_t *)tcp, &buf, 1);
    }
    uv_close((uv_handle_t *)tcp, on_reject_closed);
}

static void on_connection(uv_stream_t *server, int status)
{
    struct ingest_http *http = server->data;
    if (status < 0) {
        INGEST_LOG_WARN(http->log, NULL, "http accept failed", INGEST_KV_STR("error", uv_strerror(status)));
        return;
    }
    if (http->nconns >= http->opts.max_connections) {
        if (!http->at_limit)
            INGEST_LOG_WARN(http->log, NULL, "http connection limit reached, rejecting",
                            INGEST_KV_UINT("max_connections", http->opts.max_connections));
        http->at_limit = 1;
        reject(http);
        return;
    }
    struct conn *conn = calloc(1, sizeof *conn);
    if (!conn) {
        reject(http);
        return;
    }
    http->at_limit = 0;
    conn->http = http;
    (void)uv_tcp_init(http->loop, &conn->tcp);
    (void)uv_timer_init(http->loop, &conn->timer);
    conn->tcp.data = conn->timer.data = conn->wreq.data = conn->sreq.data = conn;
    conn->open_handles = 2;
    conn->next = http->conns;
    if (http->conns)
        http->conns->prev = conn;
    http->conns = conn;
    http->nconns++;
    http->units++;
    if (uv_accept(server, (uv_stream_t *)&conn->tcp) < 0) {
        close_conn(conn);
        return;
    }
    (void)uv_tcp_nodelay(&conn->tcp, 1);    /* replies are one small write */
    arm_timer(conn, http->opts.idle_timeout_ms);
    if (start_reading(conn) < 0)
        close_conn(conn);
}

/* --- starting and stopping --------------------------------------------------- */

/* Socket, SO_REUSEADDR (as uv_tcp_bind sets it), bind, listen.  -errno. */
static int open_listener(const struct sockaddr_storage *ss)
{
    int on = 1, err;
    socklen_t slen = ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                               : sizeof(struct sockaddr_in);
    int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        goto fail;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0 ||
        bind(fd, (const struct sockaddr *)ss, slen) < 0 || listen(fd, BACKLOG) < 0)
        goto fail;
    return fd;
fail:
    err = errno;
    if (fd >= 0)
        close(fd);
    return -err;
}

static int bound_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t slen = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &slen) < 0)
        return -1;
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static void set_opts(struct ingest_http_opts *dst, const struct ingest_http_opts *src)
{
    *dst = src ? *src : (struct ingest_http_opts){ 0 };
    if (!dst->max_request_bytes)
        dst->max_request_bytes = DEFAULT_MAX_REQUEST;
    if (!dst->idle_timeout_ms)
        dst->idle_timeout_ms = DEFAULT_IDLE_MS;
    if (!dst->max_connections)
        dst->max_connections = DEFAULT_MAX_CONNS;
}

struct ingest_http *ingest_http_start(uv_loop_t *loop, const char *listen_addr,
                                      const struct ingest_http_opts *opts,
                                      ingest_http_handler handler, void *ud,
                                      const struct ingest_log *log,
                                      char *errbuf, size_t errlen)
{
    struct sockaddr_storage ss;
    struct ingest_http *http = NULL;
    int fd = -1, rc;
    if (!loop || !handler) {
        snprintf(errbuf, errlen, "http: no loop or no handler");
        goto fail;
    }
    if (ingest_http_parse_listen(listen_addr, &ss, errbuf, errlen) < 0)
        goto fail;
    if (!(http = calloc(1, sizeof *http))) {
        snprintf(errbuf, errlen, "http: out of memory");
        goto fail;
    }
    set_opts(&http->opts, opts);
    if (http->opts.max_request_bytes > MAX_REQUEST_LIMIT) {
        snprintf(errbuf, errlen, "http: max_request_bytes %zu is above %u",
                 http->opts.max_request_bytes, MAX_REQUEST_LIMIT);
        goto fail;
    }
    if ((fd = open_listener(&ss)) < 0) {
        snprintf(errbuf, errlen, "cannot listen on %s: %s", listen_addr, strerror(-fd));
        goto fail;
    }
    http->loop = loop;
    http->handler = handler;
    http->ud = ud;
    http->log = log;
    http->port = bound_port(fd);
    http->units = 1;
    (void)uv_tcp_init(loop, &http->listener);
    http->listener.data = http;
    http->spare.data = http;
    if ((rc = uv_tcp_open(&http->listener, fd)) < 0 ||
        (rc = uv_listen((uv_stream_t *)&http->listener, BACKLOG, on_connection)) < 0) {
        /* Not seen in practice; the handle exists now, so the loop frees. */
        snprintf(errbuf, errlen, "cannot listen on %s: %s", listen_addr, uv_strerror(rc));
        if (uv_fileno((uv_handle_t *)&http->listener, &(uv_os_fd_t){ 0 }) != 0)
            close(fd);
        http->stopping = 1;
        uv_close((uv_handle_t *)&http->listener, on_listener_closed);
        return NULL;
    }
    return http;    /* the caller logs where it listens */
fail:
    if (fd >= 0)
        close(fd);
    free(http);
    return NULL;
}

int ingest_http_port(const struct ingest_http *http)
{
    return http ? http->port : -1;
}

void ingest_http_stop(struct ingest_http *http, void (*done)(void *), void *done_ud)
{
    if (!http) {
        if (done)
            done(done_ud);
        return;
    }
    if (http->stopping)
        return;
    http->stopping = 1;
    http->done = done;
    http->done_ud = done_ud;
    INGEST_LOG_DEBUG(http->log, NULL, "http stopping", INGEST_KV_UINT("connections", http->nconns));
    uv_close((uv_handle_t *)&http->listener, on_listener_closed);
    for (struct conn *conn = http->conns; conn; conn = conn->next)
        close_conn(conn);
}
