/*
 * pq_read.c - the Parquet reader's public face (parquet_reader.h): open,
 * footer, projection and record assembly.
 *
 * Open reads the whole file (or borrows the caller's buffer), checks the
 * PAR1 magic and the footer length, decodes FileMetaData into an arena and
 * converts the schema (pq_read_schema.c).  A read decodes the projected
 * leaves one at a time (pq_read_pages.c) and places each leaf's entries
 * into the batch with two passes over its levels: the first counts the
 * slots of the vectors the leaf owns, the second fills them.  Finally every
 * vector's shape is checked (struct children as long as the struct, list
 * offsets within the child, map keys and values equal in number, columns
 * as long as the row group), so no corrupt file can hand a consumer a
 * batch that indexes out of bounds.
 *
 * Projection: a batch's schema is a reader-owned list of top-level fields
 * (shallow copies of the file schema's fields); one is kept per distinct
 * projection and freed at close.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ingestd/error.h"
#include "ingestd/parquet_reader.h"
#include "pq_read.h"

struct proj {
    struct proj *next;
    struct ingest_schema schema;    /* fields: shallow copies */
    uint32_t *tops;                 /* file field index of each */
};

struct ingest_parquet_reader {
    const uint8_t *buf;
    size_t len;
    uint8_t *owned;
    struct pq_source src;
    struct pq_arena arena;
    struct pq_file_meta fm;
    struct ingest_schema schema;
    struct pq_leaf *leaves;
    size_t nleaves;
    struct proj *projs;
    size_t max_values;
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (!err || !errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

void ingest_parquet_reader_close(struct ingest_parquet_reader *r)
{
    if (!r)
        return;
    while (r->projs) {
        struct proj *p = r->projs;
        r->projs = p->next;
        free(p->schema.fields);
        free(p->tops);
        free(p);
    }
    ingest_schema_free(&r->schema);
    free(r->leaves);
    pq_arena_free(&r->arena);
    free(r->owned);
    free(r);
}

static int parse_footer(struct ingest_parquet_reader *r, char *err, size_t errlen)
{
    const uint8_t *b = r->buf;
    size_t len = r->len;
    if (len < 12 || memcmp(b, "PAR1", 4) || memcmp(b + len - 4, "PAR1", 4)) {
        set_err(err, errlen, "not a Parquet file (%zu bytes, no PAR1 magic)", len);
        return INGEST_ECORRUPT;
    }
    uint32_t flen = (uint32_t)b[len - 8] | (uint32_t)b[len - 7] << 8 |
                    (uint32_t)b[len - 6] << 16 | (uint32_t)b[len - 5] << 24;
    if (flen > len - 12) {
        set_err(err, errlen, "footer length %u exceeds the file (%zu bytes)", flen, len);
        return INGEST_ECORRUPT;
    }
    struct tc_in in = { b + len - 8 - flen, b + len - 8, 0 };
    int rc = pq_decode_file_meta(&in, &r->arena, &r->fm);
    if (rc < 0) {
        set_err(err, errlen, "footer: %s", rc == INGEST_ENOMEM ? "out of memory"
                                                               : "malformed FileMetaData");
        return rc;
    }
    if (r->fm.num_rows < 0) {
        set_err(err, errlen, "footer: negative row count");
        return INGEST_ECORRUPT;
    }
    r->src.buf = b;
    r->src.len = len - 8 - flen;
    return 0;
}

static struct ingest_parquet_reader *open_common(struct ingest_parquet_reader *r, char *err,
                                                 size_t errlen)
{
    char why[256] = "";
    r->max_values = (size_t)1 << 28;
    if (parse_footer(r, err, errlen) < 0)
        goto fail;
    if (pq_schema_convert(&r->fm, &r->arena, &r->schema, &r->leaves, &r->nleaves, why,
                          sizeof why) < 0) {
        set_err(err, errlen, "schema: %s", why);
        goto fail;
    }
    for (uint32_t i = 0; i < r->fm.nrow_groups; i++) {
        if (r->fm.row_groups[i].ncolumns != r->nleaves) {
            set_err(err, errlen, "row group %u has %u columns, the schema %zu leaves", i,
                    r->fm.row_groups[i].ncolumns, r->nleaves);
            goto fail;
        }
    }
    return r;
fail:
    ingest_parquet_reader_close(r);
    return NULL;
}

struct ingest_parquet_reader *ingest_parquet_reader_open_buf(const void *buf, size_t len,
                                                             char *errbuf, size_t errlen)
{
    struct ingest_parquet_reader *r = calloc(1, sizeof *r);
    if (!r) {
        set_err(errbuf, errlen, "out of memory");
        return NULL;
    }
    r->buf = buf;
    r->len = len;
    return open_common(r, errbuf, errlen);
}

struct ingest_parquet_reader *ingest_parquet_reader_open(const char *path, char *errbuf,
                                                         size_t errlen)
{
    struct ingest_parquet_reader *r = NULL;
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        set_err(errbuf, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        set_err(errbuf, errlen, "%s: not a regular file", path);
        goto fail;
    }
    if (!(r = calloc(1, sizeof *r)) || !(r->owned = malloc(st.st_size ? st.st_size : 1))) {
        set_err(errbuf, errlen, "%s: out of memory", path);
        goto fail;
    }
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, r->owned + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            set_err(errbuf, errlen, "%s: %s", path, n < 0 ? strerror(errno) : "short read");
            goto fail;
        }
        got += (size_t)n;
    }
    close(fd);
    r->buf = r->owned;
    r->len = got;
    r = open_common(r, errbuf, errlen);
    if (!r && errbuf && errlen) {
        char tmp[512];
        snprintf(tmp, sizeof tmp, "%s: %s", path, errbuf);
        snprintf(errbuf, errlen, "%s", tmp);
    }
    return r;
fail:
    close(fd);
    ingest_parquet_reader_close(r);
    return NULL;
}

const struct ingest_schema *ingest_parquet_reader_schema(const struct ingest_parquet_reader *r)
{
    return &r->schema;
}

size_t ingest_parquet_reader_num_rows(const struct ingest_parquet_reader *r)
{
    return (size_t)r->fm.num_rows;
}

size_t ingest_parquet_reader_num_row_groups(const struct ingest_parquet_reader *r)
{
    return r->fm.nrow_groups;
}

size_t ingest_parquet_reader_row_group_rows(const struct ingest_parquet_reader *r, size_t rg)
{
    return rg < r->fm.nrow_groups ? (size_t)r->fm.row_groups[rg].num_rows : 0;
}

const char *ingest_parquet_reader_created_by(const struct ingest_parquet_reader *r)
{
    return r->fm.created_by;
}

size_t ingest_parquet_reader_kv_count(const struct ingest_parquet_reader *r)
{
    return r->fm.nkv;
}

int ingest_parquet_reader_kv_at(const struct ingest_parquet_reader *r, size_t i,
                                const char **key, const char **value)
{
    if (i >= r->fm.nkv)
        return INGEST_EINVAL;
    *key = r->fm.kv[i].key;
    *value = r->fm.kv[i].value;
    return 0;
}

const char *ingest_parquet_reader_kv_get(const struct ingest_parquet_reader *r, const char *key)
{
    for (uint32_t i = 0; i < r->fm.nkv; i++)
        if (!strcmp(r->fm.kv[i].key, key))
            return r->fm.kv[i].value;
    return NULL;
}

void ingest_parquet_reader_set_max_values(struct ingest_parquet_reader *r, size_t max)
{
    r->max_values = max;
}

/* --- projection ---------------------------------------------------------- */

static int wanted(const char *const *columns, const char *name)
{
    if (!columns)
        return 1;
    for (size_t i = 0; columns[i]; i++)
        if (!strcmp(columns[i], name))
            return 1;
    return 0;
}

static struct proj *projection(struct ingest_parquet_reader *r, const char *const *columns)
{
    size_t n = 0;
    for (size_t i = 0; i < r->schema.nfields; i++)
        n += wanted(columns, r->schema.fields[i].name);
    for (struct proj *p = r->projs; p; p = p->next) {
        if (p->schema.nfields != n)
            continue;
        size_t k = 0;
        for (size_t i = 0; i < r->schema.nfields && k <= n; i++)
            if (wanted(columns, r->schema.fields[i].name))
                k += k < n && p->tops[k] == i;
        if (k == n)
            return p;
    }
    struct proj *p = calloc(1, sizeof *p);
    if (!p || !(p->schema.fields = calloc(n ? n : 1, sizeof *p->schema.fields)) ||
        !(p->tops = calloc(n ? n : 1, sizeof *p->tops))) {
        if (p) {
            free(p->schema.fields);
            free(p);
        }
        return NULL;
    }
    for (size_t i = 0; i < r->schema.nfields; i++) {
        if (!wanted(columns, r->schema.fields[i].name))
            continue;
        p->tops[p->schema.nfields] = (uint32_t)i;
        p->schema.fields[p->schema.nfields++] = r->schema.fields[i];
    }
    p->next = r->projs;
    r->projs = p;
    return p;
}

/* Gives v (and its descendants) their field and children arrays. */
static int vector_shape(struct ingest_vector *v, const struct ingest_field *f)
{
    memset(v, 0, sizeof *v);
    v->field = f;
    if (!f->nchildren)
        return 0;
    if (!(v->children = calloc(f->nchildren, sizeof *v->children)))
        return INGEST_ENOMEM;
    v->nchildren = f->nchildren;
    for (size_t i = 0; i < f->nchildren; i++)
        if (vector_shape(&v->children[i], &f->children[i]) < 0)
            return INGEST_ENOMEM;
    return 0;
}

/* --- record assembly ------------------------------------------------------ */

static int alloc_step(struct ingest_vector *v, const struct pq_step *s, size_t slots, size_t nulls)
{
    v->length = slots;
    v->null_count = nulls;
    if (nulls && !(v->validity = calloc((slots + 7) / 8, 1)))
        return INGEST_ENOMEM;
    if ((s->kind == PQ_V_LIST || s->kind == PQ_V_MAP) &&
        !(v->offsets = malloc((slots + 1) * sizeof *v->offsets)))
        return INGEST_ENOMEM;
    return 0;
}

/* Moves or scatters the dense values into the leaf vector's slots. */
static int alloc_leaf(struct ingest_vector *v, struct pq_dense *d, size_t slots)
{
    if (d->width) {
        if (slots == d->n) {
            v->values = d->fixed;
            d->fixed = NULL;
            if (!v->values && !(v->values = malloc(1)))
                return INGEST_ENOMEM;
            return 0;
        }
        if (!(v->values = calloc(slots ? slots : 1, d->width)))
            return INGEST_ENOMEM;
        return 0;
    }
    v->data = d->data;
    d->data = NULL;
    if (!v->data && !(v->data = malloc(1)))
        return INGEST_ENOMEM;
    if (slots == d->n && d->offs) {
        v->offsets = d->offs;
        d->offs = NULL;
        return 0;
    }
    if (!(v->offsets = calloc(slots + 1, sizeof *v->offsets)))
        return INGEST_ENOMEM;
    return 0;
}

static int assemble(const struct pq_leaf *leaf, struct pq_chunk *ch, struct ingest_vector *top,
                    size_t nrows, char *err, size_t errlen)
{
    size_t cnt[PQ_MAX_NEST] = { 0 }, nulls[PQ_MAX_NEST] = { 0 }, pos[PQ_MAX_NEST] = { 0 };
    struct ingest_vector *vec[PQ_MAX_NEST];
    const struct pq_step *st = leaf->steps;
    uint32_t ns = leaf->nsteps, k = 0;
    size_t rows = 0, present = 0;
    while (k < ns && !st[k].owner)
        k++;
    vec[0] = top;
    for (uint32_t j = 1; j < ns; j++)
        vec[j] = &vec[j - 1]->children[st[j].child];
    /* pass 1: count */
    for (size_t i = 0; i < ch->nlevels; i++) {
        uint8_t r = ch->rep[i], d = ch->def[i];
        rows += r == 0;
        present += d == leaf->max_def;
        for (uint32_t j = k; j < ns; j++) {
            if (r <= st[j].slot_rep && d >= st[j].slot_def) {
                cnt[j]++;
                nulls[j] += d < st[j].def_present;
            }
        }
    }
    if (rows != nrows || (ch->nlevels && ch->rep[0] != 0)) {
        set_err(err, errlen, "column %s: %zu rows, the row group has %zu", leaf->name, rows, nrows);
        return INGEST_ECORRUPT;
    }
    if (present != ch->vals.n) {
        set_err(err, errlen, "column %s: %zu values for %zu present entries", leaf->name,
                ch->vals.n, present);
        return INGEST_ECORRUPT;
    }
    for (uint32_t j = k; j < ns; j++) {
        if (cnt[j] > UINT32_MAX) {
            set_err(err, errlen, "column %s: too many values", leaf->name);
            return INGEST_ERANGE;
        }
        if (alloc_step(vec[j], &st[j], cnt[j], nulls[j]) < 0 ||
            (j == ns - 1 && alloc_leaf(vec[j], &ch->vals, cnt[j]) < 0)) {
            set_err(err, errlen, "out of memory");
            return INGEST_ENOMEM;
        }
    }
    /* pass 2: fill */
    struct ingest_vector *lv = vec[ns - 1];
    size_t w = ch->vals.width, kv = 0;
    int scatter = w ? ch->vals.fixed != NULL : ch->vals.offs != NULL;
    for (size_t i = 0; i < ch->nlevels; i++) {
        uint8_t r = ch->rep[i], d = ch->def[i];
        for (uint32_t j = k; j < ns; j++) {
            if (r > st[j].slot_rep || d < st[j].slot_def)
                continue;
            size_t s = pos[j]++;
            if (d >= st[j].def_present && vec[j]->validity)
                vec[j]->validity[s >> 3] |= (uint8_t)(1u << (s & 7));
            if (st[j].kind == PQ_V_LIST || st[j].kind == PQ_V_MAP)
                vec[j]->offsets[s] = (uint32_t)pos[j + 1];
            else if (st[j].kind == PQ_V_LEAF && scatter) {
                if (w) {
                    if (d == leaf->max_def)
                        memcpy((uint8_t *)lv->values + s * w, ch->vals.fixed + kv * w, w);
                } else {
                    lv->offsets[s] = ch->vals.offs[kv];
                }
                kv += d == leaf->max_def;
            }
        }
    }
    for (uint32_t j = k; j + 1 < ns; j++)
        if (st[j].kind == PQ_V_LIST || st[j].kind == PQ_V_MAP)
            vec[j]->offsets[cnt[j]] = (uint32_t)pos[j + 1];
    if (scatter && !w)
        lv->offsets[cnt[ns - 1]] = ch->vals.n ? ch->vals.offs[ch->vals.n] : 0;
    return 0;
}

/* Every vector agrees with its children and its declared length. */
static int check_shape(const struct ingest_vector *v)
{
    const struct ingest_field *f = v->field;
    if (v->length && v->validity == NULL && v->null_count)
        return -1;
    switch (f->type) {
    case INGEST_TYPE_STRUCT:
        for (size_t i = 0; i < v->nchildren; i++)
            if (v->children[i].length != v->length || check_shape(&v->children[i]) < 0)
                return -1;
        return 0;
    case INGEST_TYPE_LIST:
    case INGEST_TYPE_MAP:
        if (!v->offsets)
            return -1;
        for (size_t i = 0; i < v->length; i++)
            if (v->offsets[i] > v->offsets[i + 1])
                return -1;
        for (size_t i = 0; i < v->nchildren; i++)
            if (v->children[i].length != v->offsets[v->length] ||
                check_shape(&v->children[i]) < 0)
                return -1;
        return 0;
    case INGEST_TYPE_STRING:
    case INGEST_TYPE_BINARY:
        return v->offsets && v->data ? 0 : -1;
    default:
        return v->values ? 0 : -1;
    }
}

int ingest_parquet_reader_read_row_group(struct ingest_parquet_reader *r, size_t rg,
                                         const char *const *columns, struct ingest_batch *out,
                                         char *errbuf, size_t errlen)
{
    char dummy[1];
    int rc = 0;
    if (!errbuf || !errlen)
        errbuf = dummy, errlen = sizeof dummy;
    memset(out, 0, sizeof *out);
    if (rg >= r->fm.nrow_groups) {
        set_err(errbuf, errlen, "row group %zu of %u", rg, r->fm.nrow_groups);
        return INGEST_EINVAL;
    }
    const struct pq_row_group *g = &r->fm.row_groups[rg];
    struct proj *p = projection(r, columns);
    if (!p) {
        set_err(errbuf, errlen, "out of memory");
        return INGEST_ENOMEM;
    }
    size_t nrows = (size_t)g->num_rows, budget = r->max_values;
    out->schema = &p->schema;
    out->nrows = nrows;
    if (!(out->columns = calloc(p->schema.nfields ? p->schema.nfields : 1,
                                sizeof *out->columns))) {
        set_err(errbuf, errlen, "out of memory");
        return INGEST_ENOMEM;
    }
    for (size_t i = 0; i < p->schema.nfields; i++)
        if (vector_shape(&out->columns[i], &p->schema.fields[i]) < 0) {
            rc = INGEST_ENOMEM;
            set_err(errbuf, errlen, "out of memory");
            goto fail;
        }
    for (size_t i = 0, li = 0; i < p->schema.nfields; i++) {
        while (li < r->nleaves && r->leaves[li].top < p->tops[i])
            li++;
        for (; li < r->nleaves && r->leaves[li].top == p->tops[i]; li++) {
            struct pq_chunk ch;
            if ((rc = pq_chunk_read(&r->src, &r->leaves[li], &g->columns[li], &budget, &ch,
                                    errbuf, errlen)) < 0)
                goto fail;
            rc = assemble(&r->leaves[li], &ch, &out->columns[i], nrows, errbuf, errlen);
            pq_chunk_free(&ch);
            if (rc < 0)
                goto fail;
        }
        if (out->columns[i].length != nrows || check_shape(&out->columns[i]) < 0) {
            set_err(errbuf, errlen, "column %s: inconsistent nesting levels",
                    p->schema.fields[i].name);
            rc = INGEST_ECORRUPT;
            goto fail;
        }
    }
    return 0;
fail:
    ingest_batch_free(out);
    out->schema = NULL;
    return rc;
}

int ingest_parquet_read_num_rows(const char *path, int64_t *rows, char *errbuf, size_t errlen)
{
    /* Only the tail is read: the footer and its length.  The footer is
     * parsed by the normal reader over a buffer "PAR1" + footer + length +
     * "PAR1", which is all open needs (chunks are located only when read). */
    int rc = INGEST_ECORRUPT;
    uint8_t *buf = NULL;
    struct stat st;
    uint8_t tail[8];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        set_err(errbuf, errlen, "%s: %s", path, strerror(errno));
        return ingest_err_from_errno(errno);
    }
    if (fstat(fd, &st) < 0 || st.st_size < 12 ||
        pread(fd, tail, 8, st.st_size - 8) != 8 || memcmp(tail + 4, "PAR1", 4) != 0) {
        set_err(errbuf, errlen, "%s: not a Parquet file", path);
        goto out;
    }
    uint32_t flen = (uint32_t)tail[0] | (uint32_t)tail[1] << 8 | (uint32_t)tail[2] << 16 |
                    (uint32_t)tail[3] << 24;
    if ((int64_t)flen > st.st_size - 12) {
        set_err(errbuf, errlen, "%s: footer length %u exceeds the file", path, flen);
        goto out;
    }
    if (!(buf = malloc((size_t)flen + 12))) {
        rc = INGEST_ENOMEM;
        set_err(errbuf, errlen, "%s: out of memory", path);
        goto out;
    }
    memcpy(buf, "PAR1", 4);
    if (pread(fd, buf + 4, (size_t)flen + 8, st.st_size - 8 - flen) != (ssize_t)flen + 8) {
        rc = INGEST_EIO;
        set_err(errbuf, errlen, "%s: short read", path);
        goto out;
    }
    char why[256];
    struct ingest_parquet_reader *r = ingest_parquet_reader_open_buf(buf, (size_t)flen + 12,
                                                                     why, sizeof why);
    if (!r) {
        set_err(errbuf, errlen, "%s: %s", path, why);
        goto out;
    }
    *rows = (int64_t)ingest_parquet_reader_num_rows(r);
    ingest_parquet_reader_close(r);
    rc = 0;
out:
    free(buf);
    close(fd);
    return rc;
}
