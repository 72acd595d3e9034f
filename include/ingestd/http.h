/*
 * http.h - the process's small HTTP/1.1 server (metrics, health, status).
 *
 * Runs on the libuv loop; every callback happens on the loop thread.  It
 * serves GET and HEAD only, one request at a time per connection, with
 * keep-alive.  It is built to survive junk from the network: a request head
 * larger than max_request_bytes gets 431, a malformed one 400, another method
 * 405, an idle or slow connection is closed after idle_timeout_ms, and past
 * max_connections new connections are accepted and closed at once so the
 * listen backlog never fills.
 *
 * Details: past max_connections the new connection is sent a best-effort 503
 * (only if the socket takes it without waiting) before the close.  After any
 * reply that ends a connection (an error, Connection: close, HTTP/1.0) the
 * server half-closes and drains the client for up to 2 s before closing, so
 * the reply is not destroyed by an RST.  Pipelined requests are answered in
 * order, one at a time.  The path given to the handler is not percent-decoded.
 */
#ifndef INGESTD_HTTP_H
#define INGESTD_HTTP_H

#include <stddef.h>
#include <uv.h>

#include "ingestd/buf.h"
#include "ingestd/log.h"

struct ingest_http;

/* A zero field means its default. */
struct ingest_http_opts {
    size_t   max_request_bytes;   /* request line + headers; default 8192, at most 1 MiB */
    unsigned idle_timeout_ms;     /* default 10000 */
    unsigned max_connections;     /* default 512 */
};
/* idle_timeout_ms bounds each phase as a whole, not the gap between packets:
 * a whole request head must arrive within it (counted from accept or from the
 * end of the previous response), and a response must be written within it.
 * A client that trickles one byte a second is closed all the same. */

/* What a handler fills in.  body is pre-initialised and owned by the server. */
struct ingest_http_reply {
    int              status;        /* default 200 */
    const char      *content_type;  /* static string; default text/plain */
    struct ingest_buf body;
};

/* Called on the loop thread for each GET/HEAD request.  path is the request
 * target without the query string; query is the part after '?' or "".  A
 * status outside 200..599, or a body whose append failed (body.oom), is
 * answered 500.  For HEAD the body is built but only its length is sent. */
typedef void (*ingest_http_handler)(void *ud, const char *path, const char *query,
                                    struct ingest_http_reply *reply);

/*
 * Starts listening on `listen` ("HOST:PORT", "[::1]:PORT" or ":PORT").
 * opts may be NULL for defaults.  log may be NULL.  Returns NULL and fills
 * errbuf on failure (bad address, port in use).
 * Call on the loop thread (or before the loop runs).  The socket is bound and
 * listening (backlog 511, SO_REUSEADDR) before any libuv handle exists, so a
 * failure leaves nothing on the loop.  HOST may be a name; it is resolved
 * synchronously (startup only).  The caller keeps `log`; it must outlive the
 * server.
 */
struct ingest_http *ingest_http_start(uv_loop_t *loop, const char *listen,
                                      const struct ingest_http_opts *opts,
                                      ingest_http_handler handler, void *ud,
                                      const struct ingest_log *log,
                                      char *errbuf, size_t errlen);

/* The bound port (useful with port 0).  Any thread. */
int ingest_http_port(const struct ingest_http *http);

/* Stops listening and closes every connection; the memory is freed once the
 * last handle has closed, after which `done` (may be NULL) is called.  Loop
 * thread only; may be called from inside the handler.  http may be NULL (done
 * is then called at once); a second call is ignored. */
void ingest_http_stop(struct ingest_http *http, void (*done)(void *), void *done_ud);

/*
 * Request parsing, exposed for tests and fuzzing (pure; no I/O).
 * Parses one request head from data[0..len).  Returns:
 *   >0  the head is complete: number of bytes it took (incl. the blank line);
 *    0  incomplete: more bytes are needed;
 *   <0  -status: the HTTP status to answer (400, 405, 414, 431, 505).
 * CRLF and bare LF are both accepted.  target holds at most 2047 bytes (more
 * is 414); an absolute-form target is reduced to its path and query.  405 is
 * returned as soon as the request line is whole, without reading headers.  A
 * GET/HEAD announcing a body (Content-Length > 0, Transfer-Encoding) parses
 * with has_body = 1 and keep_alive = 0: it is answered, then the connection
 * closes, because bodies are never read.  Host is not required.
 */
struct ingest_http_request {
    char method[8];
    char target[2048];
    int  minor;       /* HTTP/1.<minor> */
    int  keep_alive;  /* after Connection: header and version */
    int  has_body;    /* Content-Length > 0 or Transfer-Encoding present */
};
int ingest_http_parse(const char *data, size_t len, size_t max_bytes,
                      struct ingest_http_request *req);

/*
 * Parses a listen address: "HOST:PORT", "[IPV6]:PORT" or ":PORT" (0.0.0.0).
 * PORT is 0..65535.  HOST may be a name, resolved synchronously with
 * getaddrinfo (its first IPv4 address if it has one).  Returns 0, or -1 with
 * a reason in errbuf.  Any thread.
 */
int ingest_http_parse_listen(const char *addr, struct sockaddr_storage *ss,
                             char *errbuf, size_t errlen);

#endif
