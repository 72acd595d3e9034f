/*
 * conf_value.c - parsers for typed config values: sizes, durations,
 * booleans, integers, listen addresses, column types and paths.
 *
 * They are strict on purpose: "64MB" and "64MiB" are both accepted and mean
 * different things, but "64 megs", "1.5.0s" or a bare "30" for a duration
 * are errors with a hint, because a silently misread limit is worse than a
 * refused config.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <uv.h>

#include "ingestd/config.h"
#include "ingestd/error.h"
#include "ingestd/http.h"

void ingest_conf_errors_init(struct ingest_conf_errors *errs)
{
    ingest_buf_init(&errs->text);
    errs->count = 0;
}

void ingest_conf_errors_free(struct ingest_conf_errors *errs)
{
    ingest_buf_free(&errs->text);
    errs->count = 0;
}

void ingest_conf_error(struct ingest_conf_errors *errs, const char *file, int line,
                       const char *fmt, ...)
{
    if (!errs)
        return;
    if (line > 0)
        ingest_buf_printf(&errs->text, "%s:%d: ", file, line);
    else
        ingest_buf_printf(&errs->text, "%s: ", file);
    va_list ap;
    va_start(ap, fmt);
    ingest_buf_vprintf(&errs->text, fmt, ap);
    va_end(ap);
    ingest_buf_putc(&errs->text, '\n');
    errs->count++;
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return INGEST_ECONFIG;
}

/* Reads a non-negative decimal number with an optional fraction; underscores
 * may group digits ("1_000_000").  *end points past it. */
static int read_number(const char *s, long double *out, const char **end)
{
    const char *p = s;
    long double v = 0;
    int digits = 0;
    for (; isdigit((unsigned char)*p) || (*p == '_' && digits); p++) {
        if (*p == '_')
            continue;
        v = v * 10 + (*p - '0');
        digits++;
    }
    if (*p == '.' && isdigit((unsigned char)p[1])) {
        long double scale = 0.1L;
        for (p++; isdigit((unsigned char)*p); p++, scale /= 10)
            v += (*p - '0') * scale;
    }
    if (!digits)
        return -1;
    *out = v;
    *end = p;
    return 0;
}

int ingest_conf_parse_size(const char *s, int64_t *out, char *err, size_t errlen)
{
    static const struct { const char *unit; long double mult; } units[] = {
        { "", 1 }, { "b", 1 },
        { "k", 1024.0L }, { "kib", 1024.0L }, { "kb", 1e3L },
        { "m", 1048576.0L }, { "mib", 1048576.0L }, { "mb", 1e6L },
        { "g", 1073741824.0L }, { "gib", 1073741824.0L }, { "gb", 1e9L },
        { "t", 1099511627776.0L }, { "tib", 1099511627776.0L }, { "tb", 1e12L },
    };
    long double v;
    const char *p;
    if (read_number(s, &v, &p) < 0)
        return fail(err, errlen, "'%s' is not a size (examples: 64MiB, 512KiB, 1GB, 4096)", s);
    while (*p == ' ')
        p++;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcasecmp(p, units[i].unit) == 0) {
            long double bytes = v * units[i].mult;
            if (bytes > (long double)INT64_MAX)
                return fail(err, errlen, "size '%s' is too large", s);
            if (bytes != (long double)(int64_t)bytes)
                return fail(err, errlen, "size '%s' is not a whole number of bytes", s);
            *out = (int64_t)bytes;
            return 0;
        }
    }
    return fail(err, errlen, "unknown size unit in '%s' (use B, KiB, MiB, GiB, TiB, KB, MB, GB, TB)",
                s);
}

int ingest_conf_parse_duration(const char *s, int64_t *ms, char *err, size_t errlen)
{
    static const struct { const char *unit; long double ms; } units[] = {
        { "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "min", 60000 },
        { "h", 3600000 }, { "d", 86400000 },
    };
    const char *p = s;
    long double total = 0;
    int parts = 0;
    if (strcmp(s, "0") == 0) {
        *ms = 0;
        return 0;
    }
    while (*p) {
        long double v;
        const char *q;
        if (read_number(p, &v, &q) < 0)
            return fail(err, errlen, "'%s' is not a duration (examples: 500ms, 5s, 1m30s, 2h)",
                        s);
        const char *u = q;
        while (isalpha((unsigned char)*q))
            q++;
        size_t ulen = (size_t)(q - u);
        if (ulen == 0)
            return fail(err, errlen, "duration '%s' needs a unit (ms, s, m, h, d), e.g. %.*ss",
                        s, (int)(q - p), p);
        size_t i;
        for (i = 0; i < sizeof units / sizeof units[0]; i++)
            if (strlen(units[i].unit) == ulen && strncasecmp(u, units[i].unit, ulen) == 0)
                break;
        if (i == sizeof units / sizeof units[0])
            return fail(err, errlen, "unknown unit '%.*s' in duration '%s' (use ms, s, m, h, d)",
                        (int)ulen, u, s);
        total += v * units[i].ms;
        parts++;
        p = q;
    }
    if (!parts)
        return fail(err, errlen, "empty duration");
    if (total > (long double)INT64_MAX / 2)
        return fail(err, errlen, "duration '%s' is too long", s);
    if (total != (long double)(int64_t)total)
        return fail(err, errlen, "duration '%s' is finer than a millisecond", s);
    *ms = (int64_t)total;
    return 0;
}

int ingest_conf_parse_bool(const char *s, int *out, char *err, size_t errlen)
{
    static const char *const yes[] = { "true", "yes", "on", "1" };
    static const char *const no[] = { "false", "no", "off", "0" };
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return fail(err, errlen, "'%s' is not a boolean (use true or false)", s);
}

int ingest_conf_parse_int(const char *s, int64_t *out, char *err, size_t errlen)
{
    const char *p = s;
    int neg = 0;
    if (*p == '-' || *p == '+')
        neg = *p++ == '-';
    if (!isdigit((unsigned char)*p))
        return fail(err, errlen, "'%s' is not an integer", s);
    uint64_t v = 0;
    for (; *p; p++) {
        if (*p == '_' && isdigit((unsigned char)p[1]))
            continue;
        if (!isdigit((unsigned char)*p))
            return fail(err, errlen, "'%s' is not an integer", s);
        if (v > (UINT64_MAX - 9) / 10)
            return fail(err, errlen, "integer '%s' is out of range", s);
        v = v * 10 + (uint64_t)(*p - '0');
    }
    if ((!neg && v > (uint64_t)INT64_MAX) || (neg && v > (uint64_t)INT64_MAX + 1))
        return fail(err, errlen, "integer '%s' is out of range", s);
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

int ingest_conf_parse_listen(const char *s, char *err, size_t errlen)
{
    /* The HTTP server's own parser decides, so what --check accepts is
     * exactly what the server can bind. */
    struct sockaddr_storage ss;
    if (strcmp(s, "off") == 0)
        return 0;
    if (ingest_http_parse_listen(s, &ss, err, errlen) < 0)
        return INGEST_ECONFIG;
    return 0;
}

char *ingest_conf_abspath(const char *basedir, const char *path)
{
    struct ingest_buf b = INGEST_BUF_INIT;
    if (path[0] != '/') {
        ingest_buf_puts(&b, basedir);
        ingest_buf_putc(&b, '/');
    }
    ingest_buf_puts(&b, path);
    if (b.oom) {
        ingest_buf_free(&b);
        return NULL;
    }
    /* Lexical normalisation: drop "." and empty components, fold "..". */
    char *src = b.data, *out = malloc(b.len + 2);
    if (!out) {
        ingest_buf_free(&b);
        return NULL;
    }
    size_t o = 0;
    char *save = NULL;
    for (char *c = strtok_r(src, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
        if (strcmp(c, ".") == 0)
            continue;
        if (strcmp(c, "..") == 0) {
            while (o > 0 && out[o - 1] != '/')
                o--;
            if (o > 0)
                o--;
            continue;
        }
        out[o++] = '/';
        size_t n = strlen(c);
        memcpy(out + o, c, n);
        o += n;
    }
    if (o == 0)
        out[o++] = '/';
    out[o] = '\0';
    ingest_buf_free(&b);
    return out;
}

int ingest_conf_parse_coltype(const char *text, struct ingest_column_conf *col,
                              char *err, size_t errlen)
{
    /* Aliases Spark users type out of habit map to the Delta names. */
    static const struct { const char *alias; enum ingest_type_id t; } aliases[] = {
        { "bigint", INGEST_TYPE_INT64 }, { "integer", INGEST_TYPE_INT32 },
        { "smallint", INGEST_TYPE_INT16 }, { "tinyint", INGEST_TYPE_INT8 },
        { "bool", INGEST_TYPE_BOOLEAN },
    };
    char word[32];
    const char *p = text;
    while (*p == ' ' || *p == '\t')
        p++;
    size_t n = 0;
    while (isalnum((unsigned char)p[n]) && n < sizeof word - 1) {
        word[n] = (char)tolower((unsigned char)p[n]);
        n++;
    }
    word[n] = '\0';
    p += n;
    int found = 0;
    /* The primitive types of batch.h, by their Delta names. */
    for (int t = INGEST_TYPE_BOOLEAN; t <= INGEST_TYPE_DECIMAL; t++)
        if (strcmp(word, ingest_type_name((enum ingest_type_id)t)) == 0) {
            col->type = (enum ingest_type_id)t;
            found = 1;
        }
    for (size_t i = 0; !found && i < sizeof aliases / sizeof aliases[0]; i++)
        if (strcmp(word, aliases[i].alias) == 0) {
            col->type = aliases[i].t;
            found = 1;
        }
    if (!found)
        return fail(err, errlen,
                    "unknown type '%s' (use string, long, int, short, byte, double, float, "
                    "boolean, date, timestamp, binary or decimal(p,s))", word);
    col->precision = col->scale = 0;
    if (col->type == INGEST_TYPE_DECIMAL) {
        int prec, scale, used = 0;
        if (sscanf(p, " ( %d , %d ) %n", &prec, &scale, &used) != 2 || used == 0)
            return fail(err, errlen, "decimal needs precision and scale: decimal(p,s)");
        if (prec < 1 || prec > 38 || scale < 0 || scale > prec)
            return fail(err, errlen, "decimal(%d,%d): need 1 <= p <= 38 and 0 <= s <= p",
                        prec, scale);
        col->precision = prec;
        col->scale = scale;
        p += used;
    }
    while (*p == ' ' || *p == '\t')
        p++;
    col->not_null = 0;
    if (*p) {
        char a[16] = "", b[16] = "";
        int used = 0;
        if (sscanf(p, "%15s %15s %n", a, b, &used) == 2 && p[used] == '\0' &&
            strcasecmp(a, "not") == 0 && strcasecmp(b, "null") == 0)
            col->not_null = 1;
        else
            return fail(err, errlen, "unexpected '%s' after the type (only 'not null' may follow)",
                        p);
    }
    return 0;
}
