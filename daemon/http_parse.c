/*
 * http_parse.c - parses one HTTP/1.1 request head (RFC 9112) for http.c.
 *
 * A pure function over untrusted bytes: no allocation, no state between
 * calls, and every read is checked against one scan limit, min(len,
 * max_bytes).  The caller calls it again from the start when more bytes have
 * arrived; http.c only does so when a line end or the blank line shows up,
 * so a head dribbled in byte by byte is not rescanned quadratically.
 *
 * It rejects as early as it can: a bad byte in the request line is a 400 (or
 * a long target a 414) before the rest of the head has arrived, so binary
 * junk never sits in a buffer until the idle timeout.  Precedence once the
 * request line is whole: 505 for a version other than 1.x, then 405 for a
 * method other than GET/HEAD (headers are not looked at), then 400 for a
 * target that is neither origin-form nor absolute-form.
 *
 * The listen address parser ("HOST:PORT" etc.) lives here too: it is the
 * other piece of untrusted text the server reads, and tests want it alone.
 *
 * Choices where the RFC leaves room (documented in http.h as well):
 *  - CRLF and bare LF both end lines; a CR not followed by LF is a 400.
 *  - Empty lines before the request line are skipped (RFC 9112 2.2).
 *  - obs-fold (a header line starting with SP/HTAB) is a 400.
 *  - Host is not required, so `printf 'GET / HTTP/1.1\r\n\r\n' | nc` works.
 *  - An absolute-form target (http://host/p?q) is reduced to "/p?q".
 *  - A GET/HEAD that announces a body (Content-Length > 0 or any
 *    Transfer-Encoding) is answered, with keep_alive forced to 0: the server
 *    never reads bodies, so it closes rather than parse the body as the next
 *    request.  A malformed or conflicting Content-Length, or both headers
 *    together (the request-smuggling shape), is a 400.
 */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ingestd/http.h"

#define TARGET_MAX  (sizeof ((struct ingest_http_request *)0)->target)
#define METHOD_MAX  (sizeof ((struct ingest_http_request *)0)->method)
#define METHOD_LONG 32          /* no real method is longer; longer is junk */
#define INCOMPLETE  0

struct cursor {
    const unsigned char *p;
    size_t lim;                 /* min(len, max_bytes) */
    size_t pos;
};

/* What the headers said, folded into the request at the end. */
struct hdrs {
    int conn_close;
    int conn_keep;
    int have_len;
    unsigned long long content_len;
    int chunked;                /* any Transfer-Encoding */
};

static int is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return 1;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int is_ows(unsigned char c)
{
    return c == ' ' || c == '\t';
}

/* Skips CRLF/LF lines before the request line. */
static int skip_empty_lines(struct cursor *cur)
{
    while (cur->pos < cur->lim) {
        unsigned char c = cur->p[cur->pos];
        if (c == '\n') {
            cur->pos++;
        } else if (c == '\r') {
            if (cur->pos + 1 == cur->lim)
                return INCOMPLETE;
            if (cur->p[cur->pos + 1] != '\n')
                return -400;
            cur->pos += 2;
        } else {
            return 1;
        }
    }
    return INCOMPLETE;
}

static int parse_method(struct cursor *cur, struct ingest_http_request *req)
{
    size_t start = cur->pos;
    while (cur->pos < cur->lim && is_tchar(cur->p[cur->pos])) {
        if (cur->pos - start >= METHOD_LONG)
            return -400;
        cur->pos++;
    }
    if (cur->pos == cur->lim)
        return INCOMPLETE;
    if (cur->p[cur->pos] != ' ' || cur->pos == start)
        return -400;
    /* A long method is kept truncated: it is answered 405 anyway. */
    size_t n = cur->pos - start;
    if (n >= METHOD_MAX)
        n = METHOD_MAX - 1;
    memcpy(req->method, cur->p + start, n);
    req->method[n] = '\0';
    cur->pos++;
    return 1;
}

static int parse_target(struct cursor *cur, struct ingest_http_request *req)
{
    size_t start = cur->pos;
    while (cur->pos < cur->lim && cur->p[cur->pos] != ' ') {
        unsigned char c = cur->p[cur->pos];
        if (c < 0x21 || c == 0x7f)      /* controls; CR/LF here = no version */
            return -400;
        if (cur->pos - start >= TARGET_MAX - 1)
            return -414;
        cur->pos++;
    }
    if (cur->pos == cur->lim)
        return INCOMPLETE;
    size_t n = cur->pos - start;
    if (n == 0)
        return -400;
    memcpy(req->target, cur->p + start, n);
    req->target[n] = '\0';
    cur->pos++;
    return 1;
}

/* 1-3 digits into *out. */
static int parse_digits(struct cursor *cur, int *out)
{
    int v = 0, n = 0;
    while (cur->pos < cur->lim && cur->p[cur->pos] >= '0' && cur->p[cur->pos] <= '9') {
        if (++n > 3)
            return -400;
        v = v * 10 + (cur->p[cur->pos++] - '0');
    }
    if (cur->pos == cur->lim)
        return INCOMPLETE;
    if (n == 0)
        return -400;
    *out = v;
    return 1;
}

/* Consumes CRLF or LF. */
static int parse_eol(struct cursor *cur)
{
    if (cur->pos == cur->lim)
        return INCOMPLETE;
    if (cur->p[cur->pos] == '\n') {
        cur->pos++;
        return 1;
    }
    if (cur->p[cur->pos] != '\r')
        return -400;
    if (cur->pos + 1 == cur->lim)
        return INCOMPLETE;
    if (cur->p[cur->pos + 1] != '\n')
        return -400;
    cur->pos += 2;
    return 1;
}

/* "HTTP/" major "." minor EOL; major must be 1 and minor one digit, else 505. */
static int parse_version(struct cursor *cur, struct ingest_http_request *req)
{
    static const char prefix[] = "HTTP/";
    int major = 0, minor = 0, rc;
    for (size_t i = 0; i < sizeof prefix - 1; i++, cur->pos++) {
        if (cur->pos == cur->lim)
            return INCOMPLETE;
        if (cur->p[cur->pos] != (unsigned char)prefix[i])
            return -400;
    }
    if ((rc = parse_digits(cur, &major)) <= 0)
        return rc;
    if (cur->p[cur->pos] != '.')
        return -400;
    cur->pos++;
    if ((rc = parse_digits(cur, &minor)) <= 0)
        return rc;
    if ((rc = parse_eol(cur)) <= 0)
        return rc;
    if (major != 1 || minor > 9)
        return -505;
    req->minor = minor;
    return 1;
}

/* http://host[:port]/p?q -> /p?q, in place (never longer than the input). */
static int reduce_absolute_form(struct ingest_http_request *req)
{
    char *t = req->target;
    if (t[0] == '/')
        return 1;
    size_t skip;
    if (strncasecmp(t, "http://", 7) == 0)
        skip = 7;
    else if (strncasecmp(t, "https://", 8) == 0)
        skip = 8;
    else
        return -400;    /* "*", authority-form and relative targets */
    char *rest = t + skip + strcspn(t + skip, "/?");
    if (*rest == '/') {
        memmove(t, rest, strlen(rest) + 1);
    } else {
        memmove(t + 1, rest, strlen(rest) + 1);
        t[0] = '/';
    }
    return 1;
}

static int parse_request_line(struct cursor *cur, struct ingest_http_request *req)
{
    int rc;
    if ((rc = skip_empty_lines(cur)) <= 0 || (rc = parse_method(cur, req)) <= 0 ||
        (rc = parse_target(cur, req)) <= 0 || (rc = parse_version(cur, req)) <= 0)
        return rc;
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0)
        return -405;
    return reduce_absolute_form(req);
}

static int token_eq(const unsigned char *s, size_t n, const char *word)
{
    return strlen(word) == n && strncasecmp((const char *)s, word, n) == 0;
}

/* Connection: a comma-separated list of tokens. */
static void on_connection_header(struct hdrs *h, const unsigned char *v, size_t n)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && (is_ows(v[i]) || v[i] == ','))
            i++;
        size_t start = i;
        while (i < n && v[i] != ',' && !is_ows(v[i]))
            i++;
        if (token_eq(v + start, i - start, "close"))
            h->conn_close = 1;
        else if (token_eq(v + start, i - start, "keep-alive"))
            h->conn_keep = 1;
    }
}

static int on_content_length(struct hdrs *h, const unsigned char *v, size_t n)
{
    unsigned long long len = 0;
    if (n == 0 || n > 18)       /* 18 digits cannot overflow */
        return -400;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -400;
        len = len * 10 + (v[i] - '0');
    }
    if (h->have_len && h->content_len != len)
        return -400;
    h->have_len = 1;
    h->content_len = len;
    return 1;
}

static int on_header(struct hdrs *h, const unsigned char *name, size_t nlen,
                     const unsigned char *v, size_t vlen)
{
    if (token_eq(name, nlen, "Connection"))
        on_connection_header(h, v, vlen);
    else if (token_eq(name, nlen, "Content-Length"))
        return on_content_length(h, v, vlen);
    else if (token_eq(name, nlen, "Transfer-Encoding"))
        h->chunked = 1;
    return 1;
}

/* One "name: value" line, or the blank line that ends the head (returns 2). */
static int parse_header_line(struct cursor *cur, struct hdrs *h)
{
    if (cur->pos == cur->lim)
        return INCOMPLETE;
    unsigned char c = cur->p[cur->pos];
    if (c == '\r' || c == '\n') {
        int rc = parse_eol(cur);
        return rc <= 0 ? rc : 2;
    }
    if (is_ows(c))
        return -400;            /* obs-fold */
    size_t name = cur->pos;
    while (cur->pos < cur->lim && is_tchar(cur->p[cur->pos]))
        cur->pos++;
    if (cur->pos == cur->lim)
        return INCOMPLETE;
    if (cur->p[cur->pos] != ':' || cur->pos == name)
        return -400;
    size_t nlen = cur->pos - name;
    size_t val = ++cur->pos;
    while (cur->pos < cur->lim && cur->p[cur->pos] != '\n') {
        c = cur->p[cur->pos];
        if (c == '\r') {
            if (cur->pos + 1 == cur->lim)
                return INCOMPLETE;
            if (cur->p[cur->pos + 1] != '\n')
                return -400;
        } else if ((c < 0x20 && c != '\t') || c == 0x7f) {
            return -400;
        }
        cur->pos++;
    }
    if (cur->pos == cur->lim)
        return INCOMPLETE;
    size_t end = cur->pos++;
    if (end > val && cur->p[end - 1] == '\r')
        end--;
    while (val < end && is_ows(cur->p[val]))
        val++;
    while (end > val && is_ows(cur->p[end - 1]))
        end--;
    return on_header(h, cur->p + name, nlen, cur->p + val, end - val);
}

int ingest_http_parse(const char *data, size_t len, size_t max_bytes,
                      struct ingest_http_request *req)
{
    memset(req, 0, sizeof *req);
    if (max_bytes > 0x7fffffff)         /* the result must fit an int */
        max_bytes = 0x7fffffff;
    if (!data)
        len = 0;
    struct cursor cur = { (const unsigned char *)data, len < max_bytes ? len : max_bytes, 0 };
    struct hdrs h = { 0 };
    /* With max_bytes in hand and still no end, the head is too large. */
    int incomplete = len >= max_bytes ? -431 : INCOMPLETE;

    int rc = parse_request_line(&cur, req);
    if (rc == INCOMPLETE)
        return incomplete;
    if (rc < 0)
        return rc;
    while ((rc = parse_header_line(&cur, &h)) == 1)
        ;
    if (rc == INCOMPLETE)
        return incomplete;
    if (rc < 0)
        return rc;
    if (h.have_len && h.chunked)
        return -400;
    req->has_body = h.chunked || h.content_len > 0;
    req->keep_alive = req->minor >= 1 ? !h.conn_close : h.conn_keep && !h.conn_close;
    if (req->has_body)
        req->keep_alive = 0;
    return (int)cur.pos;
}

/* A name resolves to its first IPv4 address if it has one: a client that
 * connects to "localhost" most likely tries 127.0.0.1. */
static int resolve_name(const char *host, int port, struct sockaddr_storage *ss, char *errbuf,
                        size_t errlen)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
    struct addrinfo *res = NULL, *ai, *pick = NULL;
    int rc = getaddrinfo(host, NULL, &hints, &res);
    if (rc != 0) {
        snprintf(errbuf, errlen, "listen address: cannot resolve \"%s\": %s", host, gai_strerror(rc));
        return -1;
    }
    for (ai = res; ai; ai = ai->ai_next)
        if ((ai->ai_family == AF_INET && (!pick || pick->ai_family != AF_INET)) ||
            (ai->ai_family == AF_INET6 && !pick))
            pick = ai;
    if (!pick) {
        freeaddrinfo(res);
        snprintf(errbuf, errlen, "listen address: \"%s\" has no IP address", host);
        return -1;
    }
    memcpy(ss, pick->ai_addr, pick->ai_addrlen);
    if (pick->ai_family == AF_INET)
        ((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
    else
        ((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
    freeaddrinfo(res);
    return 0;
}

/* --- listen addresses ------------------------------------------------------ */

int ingest_http_parse_listen(const char *addr, struct sockaddr_storage *ss, char *errbuf,
                          size_t errlen)
{
    char host[256];
    const char *host_s, *end, *port_s;
    memset(ss, 0, sizeof *ss);
    if (!addr)
        goto bad;
    int v6 = addr[0] == '[';
    if (v6) {
        host_s = addr + 1;
        end = strchr(addr, ']');
        if (!end || end[1] != ':')
            goto bad;
        port_s = end + 2;
    } else {
        host_s = addr;
        end = strrchr(addr, ':');
        if (!end || memchr(addr, ':', (size_t)(end - addr)))
            goto bad;   /* no port, or an IPv6 address without brackets */
        port_s = end + 1;
    }
    size_t hlen = (size_t)(end - host_s), plen = strlen(port_s);
    if (hlen >= sizeof host || plen == 0 || plen > 5 || strspn(port_s, "0123456789") != plen ||
        atoi(port_s) > 65535)
        goto bad;
    memcpy(host, host_s, hlen);
    host[hlen] = '\0';
    int port = atoi(port_s);
    if (v6) {
        if (uv_ip6_addr(host, port, (struct sockaddr_in6 *)ss) != 0)
            goto bad;
        return 0;
    }
    if (uv_ip4_addr(hlen ? host : "0.0.0.0", port, (struct sockaddr_in *)ss) == 0)
        return 0;
    return resolve_name(host, port, ss, errbuf, errlen);
bad:
    snprintf(errbuf, errlen, "listen address \"%s\": expected HOST:PORT, [IPV6]:PORT or :PORT",
             addr ? addr : "(null)");
    return -1;
}
