/*
 * dl_schema.c - Delta schema JSON to and from batch.h schemas, and the
 * evolution rule (see dl_schema.h and specs/delta-parquet.md A6).
 *
 * Writing follows Spark's key order ({"name","type","nullable","metadata"};
 * array and map objects likewise) so a schemaString we write reads like
 * one Spark wrote, and a table's schema re-serialised after a merge only
 * differs where a column was added.
 *
 * Names.  Delta column names are unique ASCII-case-insensitively; matching
 * uses our own ASCII folding, never the C library's locale.  Every struct
 * is checked for duplicates through a sorted index of its field names,
 * which merging also uses to find a pipeline column in the table in
 * O(log n), so a table with thousands of columns merges in
 * O(n log n).
 *
 * Error text names the column by its dotted path; list elements and map
 * keys/values appear as the child names batch.h gives them ("element",
 * "key", "value"), e.g. "column events.element.amount: ...".
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dl_schema.h"
#include "ingestd/error.h"
#include "ingestd/json.h"

#define MAX_PRECISION 38

static const struct {
    const char *name;
    enum ingest_type_id type;
} prims[] = {
    { "boolean", INGEST_TYPE_BOOLEAN }, { "byte", INGEST_TYPE_INT8 },
    { "short", INGEST_TYPE_INT16 },     { "integer", INGEST_TYPE_INT32 },
    { "long", INGEST_TYPE_INT64 },      { "float", INGEST_TYPE_FLOAT },
    { "double", INGEST_TYPE_DOUBLE },   { "string", INGEST_TYPE_STRING },
    { "binary", INGEST_TYPE_BINARY },   { "date", INGEST_TYPE_DATE },
    { "timestamp", INGEST_TYPE_TIMESTAMP },
};
enum { NPRIMS = sizeof prims / sizeof prims[0] };

static const char *prim_name(enum ingest_type_id t)
{
    for (size_t i = 0; i < NPRIMS; i++)
        if (prims[i].type == t)
            return prims[i].name;
    return NULL;
}

/* --- names ------------------------------------------------------------------------ */

static int ascii_casecmp(const char *a, const char *b)
{
    for (;; a++, b++) {
        int ca = (unsigned char)*a, cb = (unsigned char)*b;
        if (ca >= 'A' && ca <= 'Z')
            ca += 'a' - 'A';
        if (cb >= 'A' && cb <= 'Z')
            cb += 'a' - 'A';
        if (ca != cb || !ca)
            return ca - cb;
    }
}

/* Field positions of one struct sorted by folded name. */
struct name_index {
    const struct ingest_field *fields;
    size_t *ord;
    size_t n;
};

/* qsort_r (glibc) keeps this reentrant: any thread may merge schemas. */
static int cmp_ord(const void *a, const void *b, void *ctx)
{
    const struct ingest_field *fs = ctx;
    return ascii_casecmp(fs[*(const size_t *)a].name, fs[*(const size_t *)b].name);
}

/* Builds the index; *dup is set to a field whose name repeats another's
 * (the later one in struct order), else NULL.  0 or INGEST_ENOMEM. */
static int index_build(struct name_index *ix, const struct ingest_field *fs, size_t n,
                       const struct ingest_field **dup)
{
    ix->fields = fs;
    ix->n = n;
    ix->ord = malloc((n ? n : 1) * sizeof *ix->ord);
    *dup = NULL;
    if (!ix->ord)
        return INGEST_ENOMEM;
    for (size_t i = 0; i < n; i++)
        ix->ord[i] = i;
    qsort_r(ix->ord, n, sizeof *ix->ord, cmp_ord, (void *)fs);
    for (size_t i = 1; i < n; i++) {
        if (ascii_casecmp(fs[ix->ord[i - 1]].name, fs[ix->ord[i]].name) == 0) {
            size_t later = ix->ord[i] > ix->ord[i - 1] ? ix->ord[i] : ix->ord[i - 1];
            if (!*dup || later < (size_t)(*dup - fs))
                *dup = &fs[later];
        }
    }
    return 0;
}

/* Position of the field named `name` (folded), or (size_t)-1. */
static size_t index_find(const struct name_index *ix, const char *name)
{
    size_t lo = 0, hi = ix->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = ascii_casecmp(ix->fields[ix->ord[mid]].name, name);
        if (c == 0)
            return ix->ord[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (size_t)-1;
}

/* --- paths and messages ---------------------------------------------------------- */

/* A dotted column path built up during recursion; too long a path is cut. */
struct path {
    char buf[512];
    size_t len;
};

static size_t path_push(struct path *p, const char *name)
{
    size_t old = p->len;
    int n = snprintf(p->buf + old, sizeof p->buf - old, "%s%s", old ? "." : "", name);
    p->len = n < 0 ? old : old + (size_t)n;
    if (p->len >= sizeof p->buf)
        p->len = sizeof p->buf - 1;
    return old;
}

static void path_pop(struct path *p, size_t old)
{
    p->len = old;
    p->buf[old] = '\0';
}

static int fail_at(int rc, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail_at(int rc, char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

/* A bounded string for type names in messages; output past cap is cut. */
struct tbuf {
    char s[200];
    size_t len;
};

static void tb_put(struct tbuf *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void tb_put(struct tbuf *t, const char *fmt, ...)
{
    if (t->len >= sizeof t->s - 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->s + t->len, sizeof t->s - t->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        t->len += (size_t)n;
    if (t->len >= sizeof t->s)
        t->len = sizeof t->s - 1;
}

/* Delta-style type text: long, decimal(10,2), array<long>,
 * map<string,long>, struct<a:long,b:string>. */
static void type_text(const struct ingest_field *f, struct tbuf *t)
{
    const char *p = prim_name(f->type);
    if (p) {
        tb_put(t, "%s", p);
        return;
    }
    switch (f->type) {
    case INGEST_TYPE_DECIMAL:
        tb_put(t, "decimal(%d,%d)", f->precision, f->scale);
        return;
    case INGEST_TYPE_LIST:
        tb_put(t, "array<");
        if (f->nchildren == 1)
            type_text(&f->children[0], t);
        tb_put(t, ">");
        return;
    case INGEST_TYPE_MAP:
        tb_put(t, "map<");
        if (f->nchildren == 2) {
            type_text(&f->children[0], t);
            tb_put(t, ",");
            type_text(&f->children[1], t);
        }
        tb_put(t, ">");
        return;
    case INGEST_TYPE_STRUCT:
        tb_put(t, "struct<");
        for (size_t k = 0; k < f->nchildren; k++) {
            tb_put(t, "%s%s:", k ? "," : "", f->children[k].name);
            type_text(&f->children[k], t);
        }
        tb_put(t, ">");
        return;
    default:
        tb_put(t, "?");
    }
}

/* --- copy ----------------------------------------------------------------------------- */

static int copy_field(const struct ingest_field *src, struct ingest_field *dst)
{
    memset(dst, 0, sizeof *dst);
    dst->type = src->type;
    dst->precision = src->precision;
    dst->scale = src->scale;
    dst->nullable = src->nullable;
    if (src->name && !(dst->name = strdup(src->name)))
        return INGEST_ENOMEM;
    if (!src->nchildren)
        return 0;
    dst->children = calloc(src->nchildren, sizeof *dst->children);
    if (!dst->children)
        return INGEST_ENOMEM;
    dst->nchildren = src->nchildren;
    for (size_t k = 0; k < src->nchildren; k++) {
        int rc = copy_field(&src->children[k], &dst->children[k]);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int dl_schema_copy(const struct ingest_schema *src, struct ingest_schema *dst)
{
    int rc = INGEST_ENOMEM;
    memset(dst, 0, sizeof *dst);
    if (!src->nfields)
        return 0;
    dst->fields = calloc(src->nfields, sizeof *dst->fields);
    if (!dst->fields)
        goto fail;
    dst->nfields = src->nfields;
    for (size_t i = 0; i < src->nfields; i++) {
        rc = copy_field(&src->fields[i], &dst->fields[i]);
        if (rc < 0)
            goto fail;
    }
    return 0;
fail:
    ingest_schema_free(dst);
    return rc;
}

/* --- to JSON ----------------------------------------------------------------------- */

static int put_struct(const struct ingest_field *fs, size_t n, struct ingest_buf *out);

static int valid_decimal(int precision, int scale)
{
    return precision >= 1 && precision <= MAX_PRECISION && scale >= 0 && scale <= precision;
}

static int put_type(const struct ingest_field *f, struct ingest_buf *out)
{
    const char *p = prim_name(f->type);
    if (p) {
        ingest_buf_printf(out, "\"%s\"", p);
        return 0;
    }
    switch (f->type) {
    case INGEST_TYPE_DECIMAL:
        if (!valid_decimal(f->precision, f->scale))
            return INGEST_EINVAL;
        ingest_buf_printf(out, "\"decimal(%d,%d)\"", f->precision, f->scale);
        return 0;
    case INGEST_TYPE_STRUCT:
        return put_struct(f->children, f->nchildren, out);
    case INGEST_TYPE_LIST: {
        if (f->nchildren != 1)
            return INGEST_EINVAL;
        ingest_buf_puts(out, "{\"type\":\"array\",\"elementType\":");
        int rc = put_type(&f->children[0], out);
        ingest_buf_printf(out, ",\"containsNull\":%s}",
                          f->children[0].nullable ? "true" : "false");
        return rc;
    }
    case INGEST_TYPE_MAP: {
        if (f->nchildren != 2)
            return INGEST_EINVAL;
        ingest_buf_puts(out, "{\"type\":\"map\",\"keyType\":");
        int rc = put_type(&f->children[0], out);
        if (rc < 0)
            return rc;
        ingest_buf_puts(out, ",\"valueType\":");
        rc = put_type(&f->children[1], out);
        ingest_buf_printf(out, ",\"valueContainsNull\":%s}",
                          f->children[1].nullable ? "true" : "false");
        return rc;
    }
    default:
        return INGEST_EINVAL;
    }
}

static int put_struct(const struct ingest_field *fs, size_t n, struct ingest_buf *out)
{
    struct name_index ix;
    const struct ingest_field *dup;
    for (size_t i = 0; i < n; i++)
        if (!fs[i].name)
            return INGEST_EINVAL;
    int rc = index_build(&ix, fs, n, &dup);
    free(ix.ord);
    if (rc < 0)
        return rc;
    if (dup)
        return INGEST_EINVAL;
    ingest_buf_puts(out, "{\"type\":\"struct\",\"fields\":[");
    for (size_t i = 0; i < n; i++) {
        ingest_buf_puts(out, i ? ",{\"name\":" : "{\"name\":");
        ingest_buf_json_str(out, fs[i].name);
        ingest_buf_puts(out, ",\"type\":");
        rc = put_type(&fs[i], out);
        if (rc < 0)
            return rc;
        ingest_buf_printf(out, ",\"nullable\":%s,\"metadata\":{}}",
                          fs[i].nullable ? "true" : "false");
    }
    ingest_buf_puts(out, "]}");
    return 0;
}

int dl_schema_to_json(const struct ingest_schema *s, struct ingest_buf *out)
{
    /* Appends are checked once, through the buffer's sticky flag. */
    int rc = put_struct(s->fields, s->nfields, out);
    if (rc < 0)
        return rc;
    return out->oom ? INGEST_ENOMEM : 0;
}

/* --- from JSON ---------------------------------------------------------------------- */

struct rd {
    struct path path;
    char *err;
    size_t errlen;
};

static int parse_type(struct rd *rd, const struct ingest_json *t, struct ingest_field *f);

/* "decimal", "decimal(P,S)" with optional blanks, as Spark's
 * DataType.fromJson accepts them; "decimal" alone is decimal(10,0). */
static int parse_decimal(struct rd *rd, const char *s, struct ingest_field *f)
{
    long v[2] = { 10, 0 };
    const char *p = s + strlen("decimal");
    if (*p) {
        if (*p++ != '(')
            goto unknown;
        for (int k = 0; k < 2; k++) {
            while (*p == ' ')
                p++;
            int neg = k == 1 && *p == '-';
            p += neg;
            if (*p < '0' || *p > '9')
                goto bad;
            v[k] = 0;
            for (int digits = 0; *p >= '0' && *p <= '9'; p++, digits++) {
                if (digits == 3)
                    goto bad;
                v[k] = v[k] * 10 + (*p - '0');
            }
            if (neg)
                v[k] = -v[k];
            while (*p == ' ')
                p++;
            if (*p++ != (k ? ')' : ','))
                goto bad;
        }
        if (*p)
            goto bad;
    }
    if (v[1] < 0)
        return fail_at(INGEST_ENOTSUP, rd->err, rd->errlen,
                       "field %s: type %s: negative scale is not supported", rd->path.buf, s);
    if (!valid_decimal((int)v[0], (int)v[1]))
        goto bad;
    f->type = INGEST_TYPE_DECIMAL;
    f->precision = (int)v[0];
    f->scale = (int)v[1];
    return 0;
bad:
    return fail_at(INGEST_EPARSE, rd->err, rd->errlen,
                   "field %s: bad decimal type '%s' (precision 1..38, scale 0..precision)",
                   rd->path.buf, s);
unknown:
    return fail_at(INGEST_ENOTSUP, rd->err, rd->errlen, "field %s: type %s is not supported",
                   rd->path.buf, s);
}

static int parse_prim(struct rd *rd, const struct ingest_json *t, struct ingest_field *f)
{
    const char *s = t->str;
    if (strlen(s) != t->len)
        return fail_at(INGEST_EPARSE, rd->err, rd->errlen, "field %s: type name holds a NUL",
                       rd->path.buf);
    for (size_t i = 0; i < NPRIMS; i++) {
        if (strcmp(s, prims[i].name) == 0) {
            f->type = prims[i].type;
            return 0;
        }
    }
    if (strncmp(s, "decimal", 7) == 0)
        return parse_decimal(rd, s, f);
    return fail_at(INGEST_ENOTSUP, rd->err, rd->errlen, "field %s: type %s is not supported",
                   rd->path.buf, s);
}

/* A boolean member; what names it in the message. */
static int get_bool(struct rd *rd, const struct ingest_json *obj, const char *key, int *out)
{
    const struct ingest_json *b = ingest_json_get(obj, key);
    if (!b)
        return fail_at(INGEST_EPARSE, rd->err, rd->errlen, "field %s: missing %s",
                       rd->path.buf, key);
    *out = ingest_json_bool(b);
    if (*out < 0)
        return fail_at(INGEST_EPARSE, rd->err, rd->errlen, "field %s: %s is not a boolean",
                       rd->path.buf, key);
    return 0;
}

/* Child k of f, named `name`, typed by member `key` of obj. */
static int parse_child(struct rd *rd, const struct ingest_json *obj, const char *key,
                       const char *name, struct ingest_field *f, size_t k)
{
    const struct ingest_json *t = ingest_json_get(obj, key);
    if (!t)
        return fail_at(INGEST_EPARSE, rd->err, rd->errlen, "field %s: missing %s",
                       rd->path.buf, key);
    struct ingest_field *c = &f->children[k];
    if (!(c->name = strdup(name)))
        return INGEST_ENOMEM;
    size_t old = path_push(&rd->path, name);
    int rc = parse_type(rd, t, c);
    path_pop(&rd->path, old);
    return rc;
}

static int alloc_children(struct ingest_field *f, size_t n)
{
    if (!n)
        return 0;
    f->children = calloc(n, sizeof *f->children);
    if (!f->children)
        return INGEST_ENOMEM;
    f->nchildren = n;
    return 0;
}

static int parse_fields(struct rd *rd, const struct ingest_json *obj,
                        struct ingest_field **fields, size_t *n);

static int parse_complex(struct rd *rd, const struct ingest_json *t, struct ingest_field *f)
{
    const char *kind = ingest_json_string(ingest_json_get(t, "type"));
    int rc;
    if (!kind)
        return fail_at(INGEST_EPARSE, rd->err, rd->errlen, "field %s: type object without type",
                       rd->path.buf);
    if (strcmp(kind, "struct") == 0) {
        f->type = INGEST_TYPE_STRUCT;
        return parse_fields(rd, t, &f->children, &f->nchildren);
    }
    if (strcmp(kind, "array") == 0) {
        f->type = INGEST_TYPE_LIST;
        if ((rc = alloc_children(f, 1)) < 0 ||
            (rc = parse_child(rd, t, "elementType", "element", f, 0)) < 0)
            return rc;
        return get_bool(rd, t, "containsNull", &f->children[0].nullable);
    }
    if (strcmp(kind, "map") == 0) {
        f->type = INGEST_TYPE_MAP;
        if ((rc = alloc_children(f, 2)) < 0 ||
            (rc = parse_child(rd, t, "keyType", "key", f, 0)) < 0 ||
            (rc = parse_child(rd, t, "valueType", "value", f, 1)) < 0)
            return rc;
        return get_bool(rd, t, "valueContainsNull", &f->children[1].nullable);
    }
    return fail_at(INGEST_ENOTSUP, rd->err, rd->errlen, "field %s: type %s is not supported",
                   rd->path.buf, kind);
}

static int parse_type(struct rd *rd, const struct ingest_json *t, struct ingest_field *f)
{
    if (t->type == INGEST_JSON_STRING)
        return parse_prim(rd, t, f);
    if (t->type == INGEST_JSON_OBJECT)
        return parse_complex(rd, t, f);
    return fail_at(INGEST_EPARSE, rd->err, rd->errlen,
                   "field %s: type is neither a name nor an object", rd->path.buf);
}

static int parse_field(struct rd *rd, const struct ingest_json *obj, struct ingest_field *f)
{
    if (obj->type != INGEST_JSON_OBJECT)
        return fail_at(INGEST_EPARSE, rd->err, rd->errlen,
                       "field %s: a fields entry is not an object",
                       rd->path.len ? rd->path.buf : "(top level)");
    const struct ingest_json *name = ingest_json_get(obj, "name");
    if (!name || name->type != INGEST_JSON_STRING)
        return fail_at(INGEST_EPARSE, rd->err, rd->errlen, "field %s: %s", rd->path.buf,
                       name ? "name is not a string" : "entry without name");
    if (strlen(name->str) != name->len)
        return fail_at(INGEST_EPARSE, rd->err, rd->errlen, "field %s: name holds a NUL",
                       rd->path.buf);
    if (!(f->name = strdup(name->str)))
        return INGEST_ENOMEM;
    size_t old = path_push(&rd->path, f->name);
    const struct ingest_json *t = ingest_json_get(obj, "type");
    int rc = t ? parse_type(rd, t, f)
               : fail_at(INGEST_EPARSE, rd->err, rd->errlen, "field %s: missing type",
                         rd->path.buf);
    if (rc == 0)
        rc = get_bool(rd, obj, "nullable", &f->nullable);
    path_pop(&rd->path, old);
    return rc;
}

/* The "fields" of a struct type object; refuses duplicate names. */
static int parse_fields(struct rd *rd, const struct ingest_json *obj,
                        struct ingest_field **fields, size_t *n)
{
    const struct ingest_json *arr = ingest_json_get(obj, "fields");
    if (!arr || arr->type != INGEST_JSON_ARRAY)
        return fail_at(INGEST_EPARSE, rd->err, rd->errlen, "field %s: struct without fields",
                       rd->path.len ? rd->path.buf : "(top level)");
    if (!arr->count)
        return 0;
    *fields = calloc(arr->count, sizeof **fields);
    if (!*fields)
        return INGEST_ENOMEM;
    *n = arr->count;
    size_t i = 0;
    for (const struct ingest_json *e = arr->child; e; e = e->next, i++) {
        int rc = parse_field(rd, e, &(*fields)[i]);
        if (rc < 0)
            return rc;
    }
    struct name_index ix;
    const struct ingest_field *dup;
    int rc = index_build(&ix, *fields, *n, &dup);
    free(ix.ord);
    if (rc < 0)
        return rc;
    if (dup) {
        size_t old = path_push(&rd->path, dup->name);
        rc = fail_at(INGEST_EPARSE, rd->err, rd->errlen,
                     "field %s: duplicate name (names are case-insensitive)", rd->path.buf);
        path_pop(&rd->path, old);
    }
    return rc;
}

int dl_schema_from_json(const char *text, size_t len, struct ingest_schema *out, char *err,
                        size_t errlen)
{
    struct ingest_json_doc doc = { 0 };
    struct rd rd = { .err = err, .errlen = errlen };
    char jerr[160] = "";
    memset(out, 0, sizeof *out);
    int rc = ingest_json_parse(text, len, &doc, jerr, sizeof jerr);
    if (rc < 0) {
        fail_at(rc, err, errlen, "schema JSON: %s", jerr);
        goto fail;
    }
    const char *kind = ingest_json_string(ingest_json_get(doc.root, "type"));
    if (!kind || strcmp(kind, "struct") != 0) {
        rc = fail_at(INGEST_EPARSE, err, errlen, "schema JSON: not a struct type object");
        goto fail;
    }
    rc = parse_fields(&rd, doc.root, &out->fields, &out->nfields);
    if (rc < 0)
        goto fail;
    ingest_json_doc_free(&doc);
    return 0;
fail:
    if (rc == INGEST_ENOMEM)
        fail_at(rc, err, errlen, "schema JSON: out of memory");
    ingest_json_doc_free(&doc);
    ingest_schema_free(out);
    return rc;
}

/* --- merge ------------------------------------------------------------------------------ */

struct mg {
    struct path path;
    int changed;
    char *err;
    size_t errlen;
};

static int merge_field(struct mg *mg, const struct ingest_field *have,
                       const struct ingest_field *want, struct ingest_field *out);

/* Same type, names folded, nullability of nested parts included: what a
 * map key must be, since keys do not evolve. */
static int same_type(const struct ingest_field *a, const struct ingest_field *b)
{
    if (a->type != b->type || a->nchildren != b->nchildren)
        return 0;
    if (a->type == INGEST_TYPE_DECIMAL && (a->precision != b->precision || a->scale != b->scale))
        return 0;
    for (size_t k = 0; k < a->nchildren; k++) {
        const struct ingest_field *x = &a->children[k], *y = &b->children[k];
        if (ascii_casecmp(x->name, y->name) != 0 || x->nullable != y->nullable ||
            !same_type(x, y))
            return 0;
    }
    return 1;
}

static int type_conflict(struct mg *mg, const struct ingest_field *have,
                         const struct ingest_field *want)
{
    struct tbuf h = { .len = 0 }, w = { .len = 0 };
    type_text(have, &h);
    type_text(want, &w);
    return fail_at(INGEST_ECONFLICT, mg->err, mg->errlen, "column %s: table has %s, pipeline has %s",
                   mg->path.buf, h.s, w.s);
}

static int dup_error(struct mg *mg, const struct ingest_field *dup, const char *side)
{
    size_t old = path_push(&mg->path, dup->name);
    int rc = fail_at(INGEST_EINVAL, mg->err, mg->errlen,
                     "column %s: duplicate name in the %s schema (names are case-insensitive)",
                     mg->path.buf, side);
    path_pop(&mg->path, old);
    return rc;
}

/* One struct level: have's fields in order, each merged with its match in
 * want; then want's new fields, made nullable.  *out and *nout receive the
 * result (an array sized for both, unused tail zeroed). */
static int merge_struct(struct mg *mg, const struct ingest_field *hf, size_t hn,
                        const struct ingest_field *wf, size_t wn, struct ingest_field **out,
                        size_t *nout)
{
    struct name_index hix = { 0 }, wix = { 0 };
    const struct ingest_field *dup;
    char *used = NULL;
    int rc = index_build(&hix, hf, hn, &dup);
    if (rc < 0 || (dup && (rc = dup_error(mg, dup, "table")) < 0))
        goto fail;
    rc = index_build(&wix, wf, wn, &dup);
    if (rc < 0 || (dup && (rc = dup_error(mg, dup, "pipeline")) < 0))
        goto fail;
    rc = INGEST_ENOMEM;
    used = calloc(wn ? wn : 1, 1);
    *out = calloc(hn + wn ? hn + wn : 1, sizeof **out);
    if (!used || !*out)
        goto fail;
    *nout = hn + wn;
    size_t k = 0;
    for (size_t i = 0; i < hn; i++, k++) {
        size_t j = index_find(&wix, hf[i].name);
        size_t old = path_push(&mg->path, hf[i].name);
        if (j == (size_t)-1) {
            rc = hf[i].nullable ? copy_field(&hf[i], &(*out)[k])
                                : fail_at(INGEST_ECONFLICT, mg->err, mg->errlen,
                                          "column %s: NOT NULL in the table but missing from "
                                          "the pipeline", mg->path.buf);
        } else {
            used[j] = 1;
            rc = merge_field(mg, &hf[i], &wf[j], &(*out)[k]);
        }
        path_pop(&mg->path, old);
        if (rc < 0)
            goto fail;
    }
    for (size_t j = 0; j < wn; j++) {
        if (used[j])
            continue;
        if ((rc = copy_field(&wf[j], &(*out)[k++])) < 0)
            goto fail;
        (*out)[k - 1].nullable = 1;
        mg->changed = 1;
    }
    *nout = k;
    rc = 0;
fail:
    free(hix.ord);
    free(wix.ord);
    free(used);
    return rc;
}

/* Merges one child of a list or map under its child name. */
static int merge_child(struct mg *mg, const struct ingest_field *have,
                       const struct ingest_field *want, struct ingest_field *out, size_t k)
{
    size_t old = path_push(&mg->path, have->children[k].name);
    int rc = merge_field(mg, &have->children[k], &want->children[k], &out->children[k]);
    path_pop(&mg->path, old);
    return rc;
}

static int merge_field(struct mg *mg, const struct ingest_field *have,
                       const struct ingest_field *want, struct ingest_field *out)
{
    if (!have->nullable && want->nullable)
        return fail_at(INGEST_ECONFLICT, mg->err, mg->errlen,
                       "column %s: NOT NULL in the table, nullable in the pipeline",
                       mg->path.buf);
    if (have->type != want->type ||
        (have->type == INGEST_TYPE_DECIMAL &&
         (have->precision != want->precision || have->scale != want->scale)))
        return type_conflict(mg, have, want);
    size_t nkids = have->type == INGEST_TYPE_LIST ? 1 : have->type == INGEST_TYPE_MAP ? 2 : 0;
    if (nkids && (have->nchildren != nkids || want->nchildren != nkids))
        return fail_at(INGEST_EINVAL, mg->err, mg->errlen, "column %s: malformed %s",
                       mg->path.buf, ingest_type_name(have->type));
    out->type = have->type;
    out->precision = have->precision;
    out->scale = have->scale;
    out->nullable = have->nullable;
    if (!(out->name = strdup(have->name)))
        return INGEST_ENOMEM;
    switch (have->type) {
    case INGEST_TYPE_STRUCT:
        return merge_struct(mg, have->children, have->nchildren, want->children,
                            want->nchildren, &out->children, &out->nchildren);
    case INGEST_TYPE_LIST:
        if (alloc_children(out, 1) < 0)
            return INGEST_ENOMEM;
        return merge_child(mg, have, want, out, 0);
    case INGEST_TYPE_MAP: {
        if (alloc_children(out, 2) < 0)
            return INGEST_ENOMEM;
        if (!same_type(&have->children[0], &want->children[0])) {
            size_t old = path_push(&mg->path, have->children[0].name);
            int rc = type_conflict(mg, &have->children[0], &want->children[0]);
            path_pop(&mg->path, old);
            return rc;
        }
        int rc = copy_field(&have->children[0], &out->children[0]);
        return rc < 0 ? rc : merge_child(mg, have, want, out, 1);
    }
    default:
        return 0;
    }
}

int dl_schema_merge(const struct ingest_schema *have, const struct ingest_schema *want,
                    struct ingest_schema *merged, char *err, size_t errlen)
{
    struct mg mg = { .err = err, .errlen = errlen };
    struct ingest_schema tmp = { 0 };
    int rc = merge_struct(&mg, have->fields, have->nfields, want->fields, want->nfields,
                          &tmp.fields, &tmp.nfields);
    if (rc == INGEST_ENOMEM)
        fail_at(rc, err, errlen, "schema merge: out of memory");
    if (rc < 0 || !mg.changed) {
        ingest_schema_free(&tmp);
        return rc;
    }
    *merged = tmp;
    return 1;
}
