/*
 * dl_path.c - partition values as text, Hive directory names and add.path
 * encoding (see dl_path.h; specs/delta-parquet.md A4).
 *
 * Values are written the way Delta readers parse them back, so a reader's
 * partition pruning sees exactly the value that was in the row:
 *   - floats use the shortest digits that read back to the same float (or
 *     double), fixed notation between 1e-7 and 1e21 as JavaScript prints
 *     numbers, with ".0" added to integral values as Java prints them (the
 *     golden tables log "1.0", "0.0");
 *   - dates and timestamps go through civil_from_days (Howard Hinnant's
 *     days -> year/month/day algorithm for the proleptic Gregorian calendar,
 *     valid for any int64 day count); only years 0001-9999 fit the
 *     four-digit forms, anything else is refused rather than written in a
 *     shape readers would misparse;
 *   - decimals print their unscaled integer with the point inserted,
 *     computed in __int128 so precision 38 fits.
 * dl_stats.c formats its min/max through dl_partition_value as well, so
 * both places agree on every number and date.
 *
 * Two escapings are stacked on a partition path: Hive's %XX on each
 * `col=value` component (what the directory is named on disk), then URI
 * encoding of the whole relative path for add.path, which turns Hive's '%'
 * into "%25".  dl_uri_decode undoes only the second one: it yields the name
 * on disk.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dl_path.h"
#include "ingestd/error.h"

static const char HEX[] = "0123456789ABCDEF";

/* --- calendar ------------------------------------------------------------------------ */

/* Days since 1970-01-01 -> proleptic Gregorian date (Hinnant's civil_from_days):
 * shift the epoch to 0000-03-01 so the leap day ends each 400-year era, then
 * split into era, year of era, day of year and a March-based month. */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);                           /* [0, 146096] */
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  /* [0, 399] */
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                /* [0, 365] */
    unsigned mp = (5 * doy + 2) / 153;                                     /* [0, 11] */
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int put_date(int64_t days, struct ingest_buf *out)
{
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    if (y < 1 || y > 9999)
        return INGEST_ERANGE;
    ingest_buf_printf(out, "%04d-%02u-%02u", (int)y, m, d);
    return 0;
}

static int put_timestamp(int64_t us, struct ingest_buf *out)
{
    const int64_t us_per_day = INT64_C(86400000000);
    int64_t days = us / us_per_day, rem = us % us_per_day;
    if (rem < 0) {                                       /* floor, so rem is in [0, 1 day) */
        rem += us_per_day;
        days--;
    }
    int64_t secs = rem / 1000000;
    int rc = put_date(days, out);
    if (rc < 0)
        return rc;
    ingest_buf_printf(out, "T%02d:%02d:%02d.%06dZ", (int)(secs / 3600), (int)(secs / 60 % 60),
                      (int)(secs % 60), (int)(rem % 1000000));
    return 0;
}

/* --- numbers ------------------------------------------------------------------------- */

/* Shortest round-tripping text of x (as a float when is_float): the
 * fewest significant digits p whose %.{p-1}e reads back to x, then those
 * digits placed in fixed notation when the exponent is in (-7, 21).  (The
 * digits must come from %e: %f would print the binary value's exact
 * expansion, 1e20f as 100000002004087734272.) */
static void put_real(double x, int is_float, struct ingest_buf *out)
{
    if (isnan(x)) {
        ingest_buf_puts(out, "NaN");
        return;
    }
    if (isinf(x)) {
        ingest_buf_puts(out, x < 0 ? "-Infinity" : "Infinity");
        return;
    }
    char s[64];
    int p = 1, maxp = is_float ? 9 : 17;
    for (; p < maxp; p++) {
        snprintf(s, sizeof s, "%.*e", p - 1, x);
        if (is_float ? strtof(s, NULL) == (float)x : strtod(s, NULL) == x)
            break;
    }
    snprintf(s, sizeof s, "%.*e", p - 1, x);
    char *ep = strchr(s, 'e');
    int e = atoi(ep + 1);
    if (e <= -7 || e >= 21) {
        ingest_buf_puts(out, s);            /* d.ddde+XX */
        return;
    }
    const char *m = s;
    if (*m == '-')
        ingest_buf_putc(out, *m++);
    char digits[24];
    int nd = 0;
    for (; m < ep; m++)
        if (*m != '.')
            digits[nd++] = *m;
    if (e < 0) {
        ingest_buf_puts(out, "0.");
        for (int k = 0; k < -e - 1; k++)
            ingest_buf_putc(out, '0');
        ingest_buf_append(out, digits, (size_t)nd);
        return;
    }
    for (int k = 0; k <= e; k++)
        ingest_buf_putc(out, k < nd ? digits[k] : '0');
    ingest_buf_putc(out, '.');
    if (nd > e + 1)
        ingest_buf_append(out, digits + e + 1, (size_t)(nd - e - 1));
    else
        ingest_buf_putc(out, '0');
}

/* Unscaled value u with `scale` digits after the point. */
static void put_decimal(__int128 u, int scale, struct ingest_buf *out)
{
    unsigned __int128 a = u < 0 ? -(unsigned __int128)u : (unsigned __int128)u;
    char digits[48];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + (int)(a % 10));
        a /= 10;
    } while (a);
    while (n < (size_t)scale + 1)
        digits[n++] = '0';
    if (u < 0)
        ingest_buf_putc(out, '-');
    for (size_t i = n; i-- > 0;) {
        ingest_buf_putc(out, digits[i]);
        if (i == (size_t)scale && scale > 0)
            ingest_buf_putc(out, '.');
    }
}

static __int128 dec128_le(const uint8_t *p)
{
    unsigned __int128 u = 0;
    for (int k = 15; k >= 0; k--)
        u = u << 8 | p[k];
    return (__int128)u;
}

/* --- dl_partition_value ----------------------------------------------------------------- */

static int partitionable(enum ingest_type_id t)
{
    return t != INGEST_TYPE_BINARY && t != INGEST_TYPE_STRUCT && t != INGEST_TYPE_LIST &&
           t != INGEST_TYPE_MAP;
}

int dl_partition_value(const struct ingest_vector *v, size_t row, struct ingest_buf *out,
                       int *is_null)
{
    const struct ingest_field *f = v->field;
    *is_null = 0;
    if (!partitionable(f->type))
        return INGEST_ENOTSUP;
    if (row >= v->length)
        return INGEST_EINVAL;
    if (!ingest_vector_valid(v, row)) {
        *is_null = 1;
        return 0;
    }
    const void *val = (const char *)v->values + row * ingest_type_width(f);
    int rc = 0;
    switch (f->type) {
    case INGEST_TYPE_BOOLEAN:
        ingest_buf_puts(out, *(const uint8_t *)val ? "true" : "false");
        break;
    case INGEST_TYPE_INT8:
        ingest_buf_printf(out, "%d", *(const int8_t *)val);
        break;
    case INGEST_TYPE_INT16:
        ingest_buf_printf(out, "%d", *(const int16_t *)val);
        break;
    case INGEST_TYPE_INT32:
        ingest_buf_printf(out, "%" PRId32, *(const int32_t *)val);
        break;
    case INGEST_TYPE_INT64:
        ingest_buf_printf(out, "%" PRId64, *(const int64_t *)val);
        break;
    case INGEST_TYPE_FLOAT:
        put_real(*(const float *)val, 1, out);
        break;
    case INGEST_TYPE_DOUBLE:
        put_real(*(const double *)val, 0, out);
        break;
    case INGEST_TYPE_DATE:
        rc = put_date(*(const int32_t *)val, out);
        break;
    case INGEST_TYPE_TIMESTAMP:
        rc = put_timestamp(*(const int64_t *)val, out);
        break;
    case INGEST_TYPE_DECIMAL:
        if (f->scale < 0 || f->scale > 38 || f->precision < 1 || f->precision > 38)
            return INGEST_EINVAL;
        put_decimal(f->precision <= 18 ? *(const int64_t *)val : dec128_le(val), f->scale, out);
        break;
    case INGEST_TYPE_STRING:
        ingest_buf_append(out, v->data + v->offsets[row], v->offsets[row + 1] - v->offsets[row]);
        break;
    default:
        return INGEST_ENOTSUP;
    }
    if (rc < 0)
        return rc;
    return out->oom ? INGEST_ENOMEM : 0;
}

/* --- Hive escaping ---------------------------------------------------------------------- */

static int hive_escaped(unsigned char c)
{
    if ((c >= 0x01 && c <= 0x1f) || c == 0x7f)
        return 1;
    return c && strchr("\"#%'*/:=?\\{[]^", c) != NULL;
}

int dl_hive_escape(const char *s, size_t n, struct ingest_buf *out)
{
    size_t run = 0;   /* bytes kept as they are, appended in one go */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!hive_escaped(c)) {
            run++;
            continue;
        }
        if (run)
            ingest_buf_append(out, s + i - run, run);
        run = 0;
        char esc[3] = { '%', HEX[c >> 4], HEX[c & 15] };
        ingest_buf_append(out, esc, 3);
    }
    if (run)
        ingest_buf_append(out, s + n - run, run);
    return out->oom ? INGEST_ENOMEM : 0;
}

int dl_partition_dir(const char *col, const char *value, struct ingest_buf *out)
{
    dl_hive_escape(col, strlen(col), out);
    ingest_buf_putc(out, '=');
    if (!value || !*value)
        ingest_buf_puts(out, "__HIVE_DEFAULT_PARTITION__");
    else
        dl_hive_escape(value, strlen(value), out);
    return out->oom ? INGEST_ENOMEM : 0;
}

/* --- URI encoding ----------------------------------------------------------------------- */

static int uri_kept(unsigned char c)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
        return 1;
    return c && strchr("-._~/=@:+,;$&!'()*", c) != NULL;
}

int dl_uri_encode(const char *path, struct ingest_buf *out)
{
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if (uri_kept(*p)) {
            ingest_buf_putc(out, (char)*p);
        } else {
            char esc[3] = { '%', HEX[*p >> 4], HEX[*p & 15] };
            ingest_buf_append(out, esc, 3);
        }
    }
    return out->oom ? INGEST_ENOMEM : 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Length of an RFC 3986 scheme followed by ':' at the start of path, or 0.
 * A '/' before any ':' means a plain path. */
static size_t scheme_len(const char *path)
{
    const char *p = path;
    if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')))
        return 0;
    while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
           *p == '+' || *p == '-' || *p == '.')
        p++;
    return *p == ':' ? (size_t)(p - path) : 0;
}

/* The absolute path part of a file: URI (after "file:"), or NULL: file:/p,
 * file:///p and file://localhost/p are local; another host is not. */
static const char *file_uri_path(const char *rest)
{
    if (strncmp(rest, "//", 2) == 0) {
        rest += 2;
        if (strncmp(rest, "localhost", 9) == 0)
            rest += 9;
    }
    return *rest == '/' ? rest : NULL;
}

int dl_uri_decode(const char *path, struct ingest_buf *out)
{
    size_t mark = out->len;
    size_t sl = scheme_len(path);
    if (sl) {
        if (sl != 4 || strncasecmp(path, "file", 4) != 0)
            return INGEST_EPARSE;
        path = file_uri_path(path + 5);
        if (!path)
            return INGEST_EPARSE;
    }
    for (const char *p = path; *p; p++) {
        if (*p != '%') {
            ingest_buf_putc(out, *p);
            continue;
        }
        int hi = hexval(p[1]), lo = hi < 0 ? -1 : hexval(p[2]);
        if (lo < 0 || (hi | lo) == 0)
            goto fail;
        ingest_buf_putc(out, (char)(hi << 4 | lo));
        p += 2;
    }
    return out->oom ? INGEST_ENOMEM : 0;

fail:
    out->len = mark;
    if (out->data)
        out->data[mark] = '\0';
    return INGEST_EPARSE;
}
