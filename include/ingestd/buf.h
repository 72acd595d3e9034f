/*
 * buf.h - a growable byte buffer.
 *
 * Used wherever text is built up (log lines, /metrics, JSON, error lists).
 * The buffer owns its memory; `data` is always NUL-terminated once anything
 * was appended, so it can be used as a C string.  Appends report allocation
 * failure through a sticky flag so a long chain of appends is checked once.
 */
#ifndef INGESTD_BUF_H
#define INGESTD_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct ingest_buf {
    char  *data;
    size_t len;
    size_t cap;
    int    oom;     /* set when an append could not grow the buffer */
};

#define INGEST_BUF_INIT { NULL, 0, 0, 0 }

void ingest_buf_init(struct ingest_buf *b);
/* Frees the memory; the buffer is empty and reusable afterwards. */
void ingest_buf_free(struct ingest_buf *b);
void ingest_buf_reset(struct ingest_buf *b);          /* len = 0, keeps memory */
int  ingest_buf_reserve(struct ingest_buf *b, size_t extra);
int  ingest_buf_append(struct ingest_buf *b, const void *p, size_t n);
int  ingest_buf_puts(struct ingest_buf *b, const char *s);
int  ingest_buf_putc(struct ingest_buf *b, char c);
int  ingest_buf_printf(struct ingest_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int  ingest_buf_vprintf(struct ingest_buf *b, const char *fmt, va_list ap);
/* Appends s as a JSON string literal (with quotes). */
int  ingest_buf_json_str(struct ingest_buf *b, const char *s);
/* Detaches the memory: the caller owns the returned string (free()). */
char *ingest_buf_steal(struct ingest_buf *b);

#endif
