/*
 * httpstress - hammers ingestd's HTTP server with good and bad clients.
 *
 *   httpstress [-i SECONDS] [-d SECONDS] [-p PATH] HOST PORT [N]
 *
 * Opens N (default 300) connections at once to a loopback address and gives
 * each one role, round robin: a valid GET of PATH (default /metrics; expects
 * 200 and reads the whole body by Content-Length), GET /nope (404), POST
 * (405), binary junk (400 or a close), an oversize header (431 or a close),
 * half a request then disconnect, connect then close, and slowloris (one
 * byte, then silence: the server must close it within -i SECONDS, default
 * 15; -i 0 sends the byte and does not wait).  Everything shares one poll()
 * loop and an overall deadline (-d, default 30 s).  Afterwards a fresh GET of
 * PATH must still succeed.  Prints a summary; exits 0 only if every
 * connection behaved as expected, 1 if not, 2 on bad usage.
 *
 * Plain sockets, no libuv; loopback only, so it cannot be aimed elsewhere.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum kind { GET_OK, GET_404, POST_405, GARBAGE, OVERSIZE, HALF, CONNECT_CLOSE, SLOWLORIS, NKINDS };
enum state { CONNECTING, SENDING, RECEIVING, IDLE, DONE };

/* expect: the status that passes; close_ok: a close without one passes too. */
static const struct {
    const char *name;
    int expect;
    int close_ok;
} kinds[NKINDS] = {
    [GET_OK] = { "get-200", 200, 0 },         [GET_404] = { "get-404", 404, 0 },
    [POST_405] = { "post-405", 405, 0 },      [GARBAGE] = { "garbage-400", 400, 1 },
    [OVERSIZE] = { "oversize-431", 431, 1 },  [HALF] = { "half-request", 0, 1 },
    [CONNECT_CLOSE] = { "connect-close", 0, 1 }, [SLOWLORIS] = { "slowloris", 0, 1 },
};

struct conn {
    int fd;
    enum kind kind;
    enum state state;
    const char *out;
    size_t out_len, out_off;
    char head[8192];
    size_t head_len;
    int status;                 /* 0 until a whole head has arrived */
    long content_length;        /* -1 if absent */
    long body_got;
    long t_start, t_quiet;      /* ms: connect, and when a slowloris went silent */
    int ok;
    const char *why;
};

struct opts {
    struct sockaddr_storage ss;
    socklen_t slen;
    const char *path;
    long idle_ms, deadline_ms;
    int n;
};

static char req_get[512], req_post[256], req_garbage[512], *req_oversize;
static size_t len_get, len_post, len_oversize;
static const char req_404[] = "GET /nope HTTP/1.1\r\nHost: stress\r\n\r\n";
static const char req_half[] = "GET /metrics HTTP/1.1\r\nHost: str";

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void build_requests(const char *path)
{
    len_get = (size_t)snprintf(req_get, sizeof req_get, "GET %s HTTP/1.1\r\nHost: stress\r\n"
                               "Accept: */*\r\n\r\n", path);
    len_post = (size_t)snprintf(req_post, sizeof req_post, "POST %s HTTP/1.1\r\nHost: stress\r\n"
                                "Content-Length: 11\r\n\r\nhello world", path);
    unsigned x = 2463534242u;   /* xorshift: the same junk every run */
    for (size_t i = 0; i < sizeof req_garbage; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        req_garbage[i] = (char)x;
    }
    req_garbage[0] = 0x16;      /* no method starts like this: 400 at once */
    len_oversize = 64 * 1024;
    req_oversize = malloc(len_oversize);
    if (!req_oversize)
        exit(2);
    int n = sprintf(req_oversize, "GET %.100s HTTP/1.1\r\nX-Big: ", path);
    memset(req_oversize + n, 'a', len_oversize - (size_t)n - 4);
    memcpy(req_oversize + len_oversize - 4, "\r\n\r\n", 4);
}

static void finish(struct conn *c, int ok, const char *why)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->state = DONE;
    c->ok = ok;
    c->why = why;
}

static void start(struct conn *c, const struct opts *o, enum kind kind)
{
    memset(c, 0, sizeof *c);
    c->kind = kind;
    c->content_length = -1;
    c->t_start = now_ms();
    switch (kind) {
    case GET_OK:    c->out = req_get, c->out_len = len_get; break;
    case GET_404:   c->out = req_404, c->out_len = sizeof req_404 - 1; break;
    case POST_405:  c->out = req_post, c->out_len = len_post; break;
    case GARBAGE:   c->out = req_garbage, c->out_len = sizeof req_garbage; break;
    case OVERSIZE:  c->out = req_oversize, c->out_len = len_oversize; break;
    case HALF:      c->out = req_half, c->out_len = sizeof req_half - 1; break;
    case SLOWLORIS: c->out = "G", c->out_len = 1; break;
    default:        break;
    }
    c->fd = socket(o->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        finish(c, 0, "socket() failed");
        return;
    }
    c->state = CONNECTING;
    if (connect(c->fd, (const struct sockaddr *)&o->ss, o->slen) < 0 && errno != EINPROGRESS)
        finish(c, 0, "connect failed");
}

/* The server closed (EOF or reset) or cannot be written to any more. */
static void on_closed(struct conn *c, const struct opts *o)
{
    if (c->kind == SLOWLORIS && c->state == IDLE) {
        long waited = now_ms() - c->t_quiet;
        finish(c, o->idle_ms == 0 || waited <= o->idle_ms, "closed too late");
    } else if (c->status && kinds[c->kind].expect == c->status) {
        finish(c, c->kind != GET_OK || c->body_got == c->content_length, "body cut short");
    } else if (c->status) {
        finish(c, 0, "unexpected status");
    } else {
        finish(c, kinds[c->kind].close_ok, "closed before a response");
    }
}

static void on_writable(struct conn *c, const struct opts *o)
{
    if (c->state == CONNECTING) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err) {
            finish(c, 0, "connect failed");
            return;
        }
        if (c->kind == CONNECT_CLOSE) {
            finish(c, 1, NULL);
            return;
        }
        c->state = SENDING;
    }
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (n < 0 && errno == EAGAIN)
            return;
        if (n < 0) {    /* the server answered and closed; read the answer */
            c->state = RECEIVING;
            return;
        }
        c->out_off += (size_t)n;
    }
    if (c->kind == HALF) {
        finish(c, 1, NULL);
    } else if (c->kind == SLOWLORIS) {
        c->state = IDLE;
        c->t_quiet = now_ms();
        if (o->idle_ms == 0)
            c->ok = 1;  /* not waited for; closed at the end */
    } else {
        c->state = RECEIVING;
    }
}

/* Status and Content-Length once the head is whole. */
static void parse_head(struct conn *c, size_t end)
{
    char *cl;
    c->head[end] = '\0';
    if (sscanf(c->head, "HTTP/1.%*d %d", &c->status) != 1 || c->status <= 0)
        c->status = -1;
    if ((cl = strcasestr(c->head, "\r\nContent-Length:")))
        c->content_length = atol(cl + 17);
}

static void on_readable(struct conn *c, const struct opts *o)
{
    char buf[16384];
    ssize_t n = recv(c->fd, buf, sizeof buf, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        on_closed(c, o);
        return;
    }
    if (c->state == IDLE) {
        buf[n < 32 ? n : 31] = '\0';
        sscanf(buf, "HTTP/1.%*d %d", &c->status);
        finish(c, 0, "slowloris got an answer");
        return;
    }
    size_t off = 0;
    if (!c->status) {
        size_t take = (size_t)n < sizeof c->head - 1 - c->head_len ? (size_t)n
                                                                   : sizeof c->head - 1 - c->head_len;
        memcpy(c->head + c->head_len, buf, take);
        c->head_len += take;
        char *end = memmem(c->head, c->head_len, "\r\n\r\n", 4);
        if (!end) {
            if (c->head_len == sizeof c->head - 1)
                finish(c, 0, "response head too large");
            return;
        }
        size_t hlen = (size_t)(end - c->head) + 4;
        off = take - (c->head_len - hlen);  /* body bytes in this read start here */
        parse_head(c, hlen);
    }
    c->body_got += n - (ssize_t)off;
    if (c->content_length < 0 || c->body_got < c->content_length)
        return;     /* keep reading: the rest, or EOF */
    if (c->status != kinds[c->kind].expect)
        finish(c, 0, "unexpected status");
    else
        finish(c, c->body_got == c->content_length, "body longer than Content-Length");
}

/* Runs the connections to completion or the deadline (ms, absolute). */
static void run(struct conn *conns, int n, const struct opts *o, long deadline)
{
    struct pollfd *pfds = calloc((size_t)n, sizeof *pfds);
    int *idx = calloc((size_t)n, sizeof *idx);
    if (!pfds || !idx)
        exit(2);
    for (;;) {
        int np = 0, busy = 0;
        long t = now_ms();
        for (int i = 0; i < n; i++) {
            struct conn *c = &conns[i];
            if (c->state == DONE || (c->state == IDLE && o->idle_ms == 0))
                continue;
            if (c->state == IDLE && t - c->t_quiet > o->idle_ms) {
                finish(c, 0, "slowloris not closed in time");
                continue;
            }
            busy++;
            pfds[np] = (struct pollfd){ c->fd, c->state == CONNECTING || c->state == SENDING
                                                   ? POLLOUT | POLLIN : POLLIN, 0 };
            idx[np++] = i;
        }
        if (busy == 0 || t >= deadline)
            break;
        long wait = deadline - t < 100 ? deadline - t : 100;
        if (poll(pfds, (nfds_t)np, (int)wait) < 0 && errno != EINTR)
            break;
        for (int k = 0; k < np; k++) {
            struct conn *c = &conns[idx[k]];
            if (c->state == DONE || !pfds[k].revents)
                continue;
            if ((pfds[k].revents & POLLOUT) || c->state == CONNECTING)
                on_writable(c, o);
            if (c->state != DONE && c->state != CONNECTING && (pfds[k].revents & (POLLIN | POLLHUP | POLLERR)))
                on_readable(c, o);
        }
    }
    for (int i = 0; i < n; i++)     /* past the deadline, or -i 0 slowloris */
        if (conns[i].state != DONE)
            finish(&conns[i], conns[i].ok, "deadline passed");
    free(pfds);
    free(idx);
}

static int resolve_loopback(const char *host, const char *port, struct opts *o)
{
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
    struct addrinfo *res;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        fprintf(stderr, "httpstress: %s:%s: %s\n", host, port, gai_strerror(rc));
        return -1;
    }
    memcpy(&o->ss, res->ai_addr, res->ai_addrlen);
    o->slen = res->ai_addrlen;
    freeaddrinfo(res);
    if (o->ss.ss_family == AF_INET &&
        (ntohl(((struct sockaddr_in *)&o->ss)->sin_addr.s_addr) >> 24) == 127)
        return 0;
    if (o->ss.ss_family == AF_INET6 && IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)&o->ss)->sin6_addr))
        return 0;
    fprintf(stderr, "httpstress: %s is not a loopback address; refusing\n", host);
    return -1;
}

static int usage(void)
{
    fprintf(stderr, "usage: httpstress [-i IDLE_SECONDS] [-d DEADLINE_SECONDS] [-p PATH] HOST PORT [N]\n");
    return 2;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
    int ch;
    o->path = "/metrics";
    o->idle_ms = 15000;
    o->deadline_ms = 30000;
    o->n = 300;
    while ((ch = getopt(argc, argv, "i:d:p:")) != -1) {
        if (ch == 'i')
            o->idle_ms = (long)(atof(optarg) * 1000);
        else if (ch == 'd')
            o->deadline_ms = (long)(atof(optarg) * 1000);
        else if (ch == 'p' && optarg[0] == '/' && strlen(optarg) < 200 && !strpbrk(optarg, " \r\n"))
            o->path = optarg;
        else
            return -1;
    }
    if (argc - optind < 2 || argc - optind > 3 || o->idle_ms < 0 || o->deadline_ms <= 0)
        return -1;
    if (argc - optind == 3 && (o->n = atoi(argv[optind + 2])) <= 0)
        return -1;
    return resolve_loopback(argv[optind], argv[optind + 1], o);
}

/* Room for N sockets. */
static void raise_fd_limit(int n)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)n + 64) {
        rl.rlim_cur = rl.rlim_max < (rlim_t)n + 64 ? rl.rlim_max : (rlim_t)n + 64;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static int report(const struct conn *conns, int n, const struct conn *final, long elapsed)
{
    int ok[NKINDS] = { 0 }, answered[NKINDS] = { 0 }, total[NKINDS] = { 0 };
    int failed = 0, shown = 0, busy = 0;
    for (int i = 0; i < n; i++) {
        const struct conn *c = &conns[i];
        total[c->kind]++;
        ok[c->kind] += c->ok;
        answered[c->kind] += c->ok && c->status && c->status == kinds[c->kind].expect;
        busy += c->status == 503;
        if (!c->ok && shown++ < 20)
            fprintf(stderr, "  conn %d %s: %s (status %d)\n", i, kinds[c->kind].name,
                    c->why ? c->why : "?", c->status);
        failed += !c->ok;
    }
    printf("httpstress: %d connections in %.1f s\n", n, elapsed / 1000.0);
    for (int k = 0; k < NKINDS; k++) {
        printf("  %-14s %4d ok %4d failed", kinds[k].name, ok[k], total[k] - ok[k]);
        if (kinds[k].expect && kinds[k].close_ok)
            printf("   (%d answered %d, %d closed)", answered[k], kinds[k].expect, ok[k] - answered[k]);
        printf("\n");
    }
    if (busy)
        printf("  %d connections got 503: the server's max_connections is below N\n", busy);
    printf("  final GET: %s (status %d, %ld body bytes)\n", final->ok ? "ok" : final->why,
           final->status, final->body_got);
    int pass = failed == 0 && final->ok;
    printf("result: %s\n", pass ? "PASS" : "FAIL");
    return pass ? 0 : 1;
}

int main(int argc, char **argv)
{
    struct opts o;
    memset(&o, 0, sizeof o);
    if (parse_args(argc, argv, &o) < 0)
        return usage();
    raise_fd_limit(o.n);
    build_requests(o.path);
    struct conn *conns = calloc((size_t)o.n, sizeof *conns);
    struct conn *final = calloc(1, sizeof *final);
    if (!conns || !final)
        return 2;
    long t0 = now_ms(), deadline = t0 + o.deadline_ms;
    for (int i = 0; i < o.n; i++)
        start(&conns[i], &o, (enum kind)(i % NKINDS));
    run(conns, o.n, &o, deadline);
    /* The server must still serve after all that (5 s of grace if spent). */
    start(final, &o, GET_OK);
    run(final, 1, &o, (now_ms() < deadline ? deadline : now_ms()) + 5000);
    int rc = report(conns, o.n, final, now_ms() - t0);
    free(conns);
    free(final);
    free(req_oversize);
    return rc;
}
