/*
 * dl_stats.c - add.stats JSON from the Parquet writer's per-leaf statistics
 * (see dl_stats.h; specs/delta-parquet.md A5).
 *
 * The schema is walked three times, once per object (minValues, maxValues,
 * nullCount), in depth-first order, which is also the order of the
 * writer's leaf columns; a walk consumes one info column per leaf (a list
 * or map skips all of its leaves) and one unit of the indexed-column budget
 * per leaf or per list/map.  A struct opens a nested object that is taken
 * back again when none of its leaves wrote anything, so an object never
 * holds an empty struct.
 *
 * Every bound written must stay a bound for the rows in the file, since
 * readers skip files on them: string maxima cut at 32 characters get
 * U+10FFFF appended, timestamps are cut down to milliseconds (readers
 * widen the max by 1 ms for this), and a float column with a NaN or an
 * infinite bound gets no min/max at all.  When a bound cannot be written
 * (date outside 0001-9999, a string that is not UTF-8) the column keeps
 * only its nullCount.  Numbers, dates and timestamps are formatted by
 * dl_partition_value so partition values and stats read the same.
 */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "dl_path.h"
#include "dl_stats.h"
#include "ingestd/error.h"
#include "ingestd/json.h"

#define STRING_PREFIX 32                /* Spark's stringPrefixLength */
#define MAX_TIE_EXTEND STRING_PREFIX    /* U+10FFFF chars a max may carry past the prefix */

enum pass { PASS_MIN, PASS_MAX, PASS_NULLS };

struct walk {
    const struct ingest_parquet_file_info *info;
    size_t col;                 /* next info->columns entry */
    long budget;                /* indexed leaves left; < 0: unlimited */
    enum pass pass;
    int mismatch;               /* info does not describe this schema */
};

/* --- JSON text ------------------------------------------------------------------------- */

/* s[0..n) as a JSON string literal; s must be UTF-8 (NUL bytes allowed). */
static void json_str(struct ingest_buf *out, const char *s, size_t n)
{
    ingest_buf_putc(out, '"');
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            run++;
            continue;
        }
        if (run)
            ingest_buf_append(out, s + i - run, run);
        run = 0;
        switch (c) {
        case '"': ingest_buf_puts(out, "\\\""); break;
        case '\\': ingest_buf_puts(out, "\\\\"); break;
        case '\n': ingest_buf_puts(out, "\\n"); break;
        case '\r': ingest_buf_puts(out, "\\r"); break;
        case '\t': ingest_buf_puts(out, "\\t"); break;
        default: ingest_buf_printf(out, "\\u%04x", c); break;
        }
    }
    if (run)
        ingest_buf_append(out, s + n - run, run);
    ingest_buf_putc(out, '"');
}

static void key(struct ingest_buf *out, int *first, const char *name)
{
    if (!*first)
        ingest_buf_putc(out, ',');
    *first = 0;
    json_str(out, name, strlen(name));
    ingest_buf_putc(out, ':');
}

/* Takes back what was appended after mark (never grows: after a failed
 * append the buffer may be shorter than the caller expects). */
static void rollback(struct ingest_buf *out, size_t mark)
{
    if (mark >= out->len)
        return;
    out->len = mark;
    out->data[mark] = '\0';
}

/* --- UTF-8 ----------------------------------------------------------------------------- */

/* Length of the well-formed UTF-8 character at p[0..n) (RFC 3629: no
 * overlongs, no surrogates, nothing past U+10FFFF), or 0.  *cp gets it. */
static size_t utf8_char(const uint8_t *p, size_t n, uint32_t *cp)
{
    uint8_t c = p[0];
    size_t len = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3
               : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (!len || len > n)
        return 0;
    uint32_t v = len == 1 ? c : c & (0x7f >> len);
    for (size_t k = 1; k < len; k++) {
        if ((p[k] & 0xc0) != 0x80)
            return 0;
        v = v << 6 | (p[k] & 0x3f);
    }
    static const uint32_t least[] = { 0, 0, 0x80, 0x800, 0x10000 };
    if (v < least[len] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return len;
}

/* Bytes of the first `chars` characters of p[0..n) (all of it when shorter);
 * *whole = 1 when that is the whole string.  Returns (size_t)-1 when those
 * bytes are not UTF-8. */
static size_t utf8_prefix(const uint8_t *p, size_t n, size_t chars, int *whole)
{
    size_t i = 0;
    uint32_t cp;
    for (size_t k = 0; k < chars && i < n; k++) {
        size_t len = utf8_char(p + i, n - i, &cp);
        if (!len)
            return (size_t)-1;
        i += len;
    }
    *whole = i == n;
    return i;
}

/* --- bounds ---------------------------------------------------------------------------- */

static int eligible(enum ingest_type_id t)
{
    switch (t) {
    case INGEST_TYPE_INT8: case INGEST_TYPE_INT16: case INGEST_TYPE_INT32:
    case INGEST_TYPE_INT64: case INGEST_TYPE_FLOAT: case INGEST_TYPE_DOUBLE:
    case INGEST_TYPE_DECIMAL: case INGEST_TYPE_DATE: case INGEST_TYPE_TIMESTAMP:
    case INGEST_TYPE_STRING:
        return 1;
    default:
        return 0;
    }
}

/* The text of one fixed-width value through dl_partition_value (a one-row
 * vector over `val`). */
static int scalar_text(const struct ingest_field *f, const void *val, struct ingest_buf *out)
{
    struct ingest_vector v;
    memset(&v, 0, sizeof v);
    v.field = f;
    v.length = 1;
    v.values = (void *)val;
    int is_null;
    return dl_partition_value(&v, 0, out, &is_null);
}

/* Timestamp cut down to the millisecond: "...HH:MM:SS.sssZ". */
static int timestamp_ms(const struct ingest_field *f, int64_t us, struct ingest_buf *out)
{
    if (us < INT64_MIN + 1000)          /* far outside 0001-9999, and floor would overflow */
        return INGEST_ERANGE;
    int64_t floored = us - ((us % 1000) + 1000) % 1000;
    int rc = scalar_text(f, &floored, out);
    if (rc < 0)
        return rc;
    /* ".ffffffZ" -> ".fffZ": the last three digits are zeros now. */
    rollback(out, out->len - 4);
    ingest_buf_putc(out, 'Z');
    return 0;
}

static int string_min(const struct ingest_parquet_value *v, struct ingest_buf *out)
{
    int whole;
    size_t n = utf8_prefix(v->bytes, v->len, STRING_PREFIX, &whole);
    if (n == (size_t)-1)
        return INGEST_EINVAL;
    json_str(out, (const char *)v->bytes, n);       /* a prefix is still a lower bound */
    return 0;
}

/* At most 32 characters: as it is (the writer's cut maximum is already an
 * upper bound).  Longer: the prefix plus U+10FFFF, which sorts above every
 * continuation -- unless the next characters are U+10FFFF themselves, which
 * then join the prefix (Spark's truncateMaxStringAgg does the same). */
static int string_max(const struct ingest_parquet_value *v, struct ingest_buf *out)
{
    const uint8_t *p = v->bytes;
    int whole;
    size_t n = utf8_prefix(p, v->len, STRING_PREFIX, &whole);
    if (n == (size_t)-1)
        return INGEST_EINVAL;
    for (int extra = 0; !whole; extra++) {
        uint32_t cp;
        size_t len = utf8_char(p + n, v->len - n, &cp);
        if (!len || extra == MAX_TIE_EXTEND)
            return INGEST_EINVAL;
        if (cp != 0x10ffff)
            break;
        n += len;
        whole = n == v->len;
    }
    json_str(out, (const char *)p, n);
    if (!whole) {
        rollback(out, out->len - 1);                /* reopen the literal */
        ingest_buf_append(out, "\xf4\x8f\xbf\xbf\"", 5);
    }
    return 0;
}

static int bound_text(const struct ingest_field *f, const struct ingest_parquet_value *v,
                      int is_max, struct ingest_buf *out)
{
    switch (f->type) {
    case INGEST_TYPE_INT8: case INGEST_TYPE_INT16: case INGEST_TYPE_INT32:
    case INGEST_TYPE_INT64:
        ingest_buf_printf(out, "%" PRId64, v->i);
        return 0;
    case INGEST_TYPE_FLOAT: {
        float x = (float)v->d;
        return scalar_text(f, &x, out);
    }
    case INGEST_TYPE_DOUBLE:
        return scalar_text(f, &v->d, out);
    case INGEST_TYPE_DECIMAL:
        return scalar_text(f, f->precision <= 18 ? (const void *)&v->i : (const void *)v->dec,
                           out);
    case INGEST_TYPE_DATE: {
        if (v->i < INT32_MIN || v->i > INT32_MAX)
            return INGEST_ERANGE;
        int32_t days = (int32_t)v->i;
        ingest_buf_putc(out, '"');
        int rc = scalar_text(f, &days, out);
        ingest_buf_putc(out, '"');
        return rc;
    }
    case INGEST_TYPE_TIMESTAMP: {
        ingest_buf_putc(out, '"');
        int rc = timestamp_ms(f, v->i, out);
        ingest_buf_putc(out, '"');
        return rc;
    }
    case INGEST_TYPE_STRING:
        return is_max ? string_max(v, out) : string_min(v, out);
    default:
        return INGEST_ENOTSUP;
    }
}

/* Appends the min or max of a leaf (both must be writable, or neither is
 * written); returns 1 when it did. */
static int put_bound(const struct ingest_field *f, const struct ingest_parquet_column_info *ci,
                     int want_max, struct ingest_buf *out)
{
    if (!eligible(f->type) || !ci->has_min_max)
        return 0;
    if ((f->type == INGEST_TYPE_FLOAT || f->type == INGEST_TYPE_DOUBLE) &&
        (ci->nan_count > 0 || isinf(ci->min.d) || isinf(ci->max.d)))
        return 0;
    const struct ingest_parquet_value *want = want_max ? &ci->max : &ci->min;
    const struct ingest_parquet_value *other = want_max ? &ci->min : &ci->max;
    size_t mark = out->len;
    int rc = bound_text(f, other, !want_max, out);  /* only to learn that it can be written */
    rollback(out, mark);
    if (rc == 0)
        rc = bound_text(f, want, want_max, out);
    if (rc < 0) {
        rollback(out, mark);
        return 0;
    }
    return 1;
}

/* --- the walk -------------------------------------------------------------------------- */

static size_t count_leaves(const struct ingest_field *f)
{
    if (f->type != INGEST_TYPE_STRUCT && f->type != INGEST_TYPE_LIST &&
        f->type != INGEST_TYPE_MAP)
        return 1;
    size_t n = 0;
    for (size_t k = 0; k < f->nchildren; k++)
        n += count_leaves(&f->children[k]);
    return n;
}

static void leaf(struct walk *w, const struct ingest_field *f, struct ingest_buf *out,
                 int *first)
{
    const struct ingest_parquet_column_info *ci = &w->info->columns[w->col++];
    if (!ci->field || ci->field->type != f->type || ci->repeated) {
        w->mismatch = 1;
        return;
    }
    size_t mark = out->len;
    int was_first = *first;
    key(out, first, f->name);
    if (w->pass == PASS_NULLS) {
        ingest_buf_printf(out, "%" PRId64, ci->null_count);
    } else if (!put_bound(f, ci, w->pass == PASS_MAX, out)) {
        rollback(out, mark);
        *first = was_first;
    }
}

static void fields(struct walk *w, const struct ingest_field *fs, size_t n, struct ingest_buf *out,
                   int *first)
{
    for (size_t k = 0; k < n && w->budget != 0 && !w->mismatch; k++) {
        const struct ingest_field *f = &fs[k];
        if (f->type == INGEST_TYPE_LIST || f->type == INGEST_TYPE_MAP) {
            w->col += count_leaves(f);
            if (w->col > w->info->ncolumns)
                w->mismatch = 1;
            w->budget--;
            continue;
        }
        if (f->type != INGEST_TYPE_STRUCT) {
            if (w->col >= w->info->ncolumns) {
                w->mismatch = 1;
                return;
            }
            w->budget--;
            leaf(w, f, out, first);
            continue;
        }
        size_t mark = out->len;
        int was_first = *first, inner_first = 1;
        key(out, first, f->name);
        ingest_buf_putc(out, '{');
        fields(w, f->children, f->nchildren, out, &inner_first);
        if (inner_first) {
            rollback(out, mark);
            *first = was_first;
        } else {
            ingest_buf_putc(out, '}');
        }
    }
}

int dl_stats_json(const struct ingest_schema *schema, const struct ingest_parquet_file_info *info,
                  int num_indexed, struct ingest_buf *out)
{
    static const char *const names[] = { "minValues", "maxValues", "nullCount" };
    size_t mark = out->len;
    ingest_buf_printf(out, "{\"numRecords\":%" PRId64, info->num_rows);
    for (int pass = PASS_MIN; pass <= PASS_NULLS; pass++) {
        struct walk w = { .info = info, .budget = num_indexed < 0 ? -1 : num_indexed,
                          .pass = (enum pass)pass };
        int first = 1;
        ingest_buf_printf(out, ",\"%s\":{", names[pass]);
        fields(&w, schema->fields, schema->nfields, out, &first);
        ingest_buf_putc(out, '}');
        if (w.mismatch) {
            rollback(out, mark);
            return INGEST_EINVAL;
        }
    }
    ingest_buf_putc(out, '}');
    return out->oom ? INGEST_ENOMEM : 0;
}

/* --- reading ---------------------------------------------------------------------------- */

int dl_stats_num_records(const char *stats, size_t len, int64_t *out)
{
    struct ingest_json_doc doc;
    memset(&doc, 0, sizeof doc);
    char err[128];
    int rc = ingest_json_parse(stats, len, &doc, err, sizeof err);
    if (rc < 0)
        return rc;
    const struct ingest_json *n = ingest_json_get(doc.root, "numRecords");
    int64_t num = 0;
    if (!n)
        rc = INGEST_ENOENT;
    else if (ingest_json_int64(n, &num) < 0 || num < 0)
        rc = INGEST_EPARSE;
    else
        *out = num;
    ingest_json_doc_free(&doc);
    return rc;
}
