/*
 * log.c - logfmt lines to a file descriptor (see log.h).
 *
 * A line is assembled in a stack buffer and written with one write(2); a
 * line longer than the buffer is cut and ends with "..." rather than being
 * split over two writes, which would let other threads' lines interleave.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "ingestd/log.h"

#define LINE_MAX_BYTES 4096

struct line {
    char   buf[LINE_MAX_BYTES];
    size_t len;
    int    cut;
};

static void put(struct line *l, const char *s, size_t n)
{
    size_t room = sizeof l->buf - 5 - l->len; /* keep space for "...\n" */
    if (n > room) {
        n = room;
        l->cut = 1;
    }
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}

static void puts_(struct line *l, const char *s)
{
    put(l, s, strlen(s));
}

/* logfmt value: bare when it is a plain token, else quoted with escapes. */
static void put_value(struct line *l, const char *s)
{
    if (!s) {
        puts_(l, "null");
        return;
    }
    int bare = *s != '\0';
    for (const char *p = s; *p && bare; p++)
        if ((unsigned char)*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' || (unsigned char)*p >= 0x7f)
            bare = 0;
    if (bare) {
        puts_(l, s);
        return;
    }
    put(l, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[8];
        switch (*p) {
        case '"':  put(l, "\\\"", 2); break;
        case '\\': put(l, "\\\\", 2); break;
        case '\n': put(l, "\\n", 2); break;
        case '\r': put(l, "\\r", 2); break;
        case '\t': put(l, "\\t", 2); break;
        default:
            if (*p < 0x20 || *p == 0x7f) {
                snprintf(esc, sizeof esc, "\\x%02x", *p);
                puts_(l, esc);
            } else {
                put(l, (const char *)p, 1);
            }
        }
    }
    put(l, "\"", 1);
}

void ingest_log_emit(const struct ingest_log *log, int level, const char *pipeline,
                     const char *msg, ...)
{
    struct line l;
    l.len = 0;
    l.cut = 0;

    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    char ts[64];
    snprintf(ts, sizeof ts, "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03dZ level=%s",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
             tm.tm_sec, (int)(tv.tv_usec / 1000), ingest_log_level_name(level));
    puts_(&l, ts);
    if (pipeline) {
        puts_(&l, " pipeline=");
        put_value(&l, pipeline);
    }
    puts_(&l, " msg=");
    /* msg is always quoted so the field is easy to find by eye and by regex. */
    put(&l, "\"", 1);
    for (const char *p = msg; *p; p++) {
        if (*p == '"' || *p == '\\')
            put(&l, "\\", 1);
        if (*p == '\n')
            puts_(&l, "\\n");
        else
            put(&l, p, 1);
    }
    put(&l, "\"", 1);

    va_list ap;
    va_start(ap, msg);
    for (;;) {
        struct ingest_kv kv = va_arg(ap, struct ingest_kv);
        if (kv.type == INGEST_KV_T_END)
            break;
        char num[64];
        put(&l, " ", 1);
        puts_(&l, kv.key);
        put(&l, "=", 1);
        switch (kv.type) {
        case INGEST_KV_T_STR:
            put_value(&l, kv.v.s);
            break;
        case INGEST_KV_T_INT:
            snprintf(num, sizeof num, "%lld", kv.v.i);
            puts_(&l, num);
            break;
        case INGEST_KV_T_UINT:
            snprintf(num, sizeof num, "%llu", kv.v.u);
            puts_(&l, num);
            break;
        default:
            snprintf(num, sizeof num, "%.6g", kv.v.d);
            puts_(&l, num);
            break;
        }
    }
    va_end(ap);
    if (l.cut) {
        memcpy(l.buf + l.len, "...", 3);
        l.len += 3;
    }
    l.buf[l.len++] = '\n';
    ssize_t off = 0;
    while (off < (ssize_t)l.len) {
        ssize_t w = write(log->fd, l.buf + off, l.len - (size_t)off);
        if (w <= 0)
            break;   /* nowhere to report a failing log stream */
        off += w;
    }
}

static const char *const level_names[] = { "error", "warn", "info", "debug" };

int ingest_log_level_parse(const char *name)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(name, level_names[i]) == 0)
            return i;
    if (strcmp(name, "warning") == 0)
        return INGEST_LEVEL_WARN;
    return -1;
}

const char *ingest_log_level_name(int level)
{
    if (level < 0 || level > 3)
        return "info";
    return level_names[level];
}
