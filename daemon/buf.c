/* buf.c - growable byte buffer (see buf.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingestd/buf.h"
#include "ingestd/error.h"

void ingest_buf_init(struct ingest_buf *b)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->oom = 0;
}

void ingest_buf_free(struct ingest_buf *b)
{
    free(b->data);
    ingest_buf_init(b);
}

void ingest_buf_reset(struct ingest_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

int ingest_buf_reserve(struct ingest_buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) {
        b->oom = 1;
        return INGEST_ENOMEM;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

int ingest_buf_append(struct ingest_buf *b, const void *p, size_t n)
{
    if (ingest_buf_reserve(b, n) < 0)
        return INGEST_ENOMEM;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int ingest_buf_puts(struct ingest_buf *b, const char *s)
{
    return ingest_buf_append(b, s, strlen(s));
}

int ingest_buf_putc(struct ingest_buf *b, char c)
{
    return ingest_buf_append(b, &c, 1);
}

int ingest_buf_vprintf(struct ingest_buf *b, const char *fmt, va_list ap)
{
    va_list cp;
    va_copy(cp, ap);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, cp);
    va_end(cp);
    if (n < 0)
        return INGEST_EINVAL;
    if ((size_t)n < sizeof small)
        return ingest_buf_append(b, small, (size_t)n);
    if (ingest_buf_reserve(b, (size_t)n) < 0)
        return INGEST_ENOMEM;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int ingest_buf_printf(struct ingest_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = ingest_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

int ingest_buf_json_str(struct ingest_buf *b, const char *s)
{
    int rc = ingest_buf_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p && rc == 0; p++) {
        switch (*p) {
        case '"':  rc = ingest_buf_puts(b, "\\\""); break;
        case '\\': rc = ingest_buf_puts(b, "\\\\"); break;
        case '\n': rc = ingest_buf_puts(b, "\\n"); break;
        case '\r': rc = ingest_buf_puts(b, "\\r"); break;
        case '\t': rc = ingest_buf_puts(b, "\\t"); break;
        default:
            if (*p < 0x20)
                rc = ingest_buf_printf(b, "\\u%04x", *p);
            else
                rc = ingest_buf_putc(b, (char)*p);
        }
    }
    return rc ? rc : ingest_buf_putc(b, '"');
}

char *ingest_buf_steal(struct ingest_buf *b)
{
    char *p = b->data;
    if (!p)
        p = calloc(1, 1);
    ingest_buf_init(b);
    return p;
}
