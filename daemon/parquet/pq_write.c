/*
 * pq_write.c - the streaming Parquet writer (see include/ingestd/parquet.h).
 *
 * Open turns the schema into Parquet SchemaElements (A7: 3-level LIST and
 * MAP, decimals on INT32/INT64/FIXED_LEN_BYTE_ARRAY by precision) and one
 * `struct column` per leaf, each with the path of steps the shredder walks
 * from its top-level vector.
 *
 * Write cuts every batch into slices of SLICE_ROWS records.  For each slice
 * and leaf: shred into levels, gather the values into their physical form
 * (straight from the batch's buffer when nothing needs converting), fold
 * statistics, and encode into the column's open page, either as dictionary
 * indices or PLAIN.  A page is closed at a slice boundary, hence at a record
 * boundary, once it holds about page_bytes; its body (levels with their
 * 4-byte length prefixes, then values) is compressed and appended with its
 * header to the column's chunk buffer.  After each slice the row group's
 * uncompressed size is checked against row_group_bytes; a full row group
 * goes out column by column: dictionary page first, then the data pages.
 *
 * Dictionary: tried for every chunk of a non-boolean column.  It is dropped
 * for the rest of the chunk (later pages PLAIN) when it grows past
 * dict_max_bytes, or when after the first page dictionary plus indices are
 * not smaller than PLAIN would be.  Pages without any value are written
 * PLAIN, so an all-null chunk has no dictionary page.
 *
 * Row groups' metadata is serialized as soon as the group is written, so
 * nothing but bytes is kept for the footer.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


#include "ingestd/error.h"
#include "ingestd/parquet.h"
#include "pq_codec.h"
#include "pq_encode.h"
#include "thrift_enc.h"

#ifndef INGEST_VERSION
#define INGEST_VERSION "0.1.0"
#endif
#ifndef INGEST_BUILD
#define INGEST_BUILD "dev"
#endif

#define SLICE_ROWS 1024
#define MAX_LEVEL 250

enum conv { CV_NONE, CV_I8, CV_I16, CV_DEC32, CV_DEC128 };

struct page {
    struct ingest_buf def, rep;     /* raw levels, one byte per entry */
    struct ingest_buf vals;         /* PLAIN values */
    size_t    bool_bits;
    uint32_t *idx;                  /* dictionary indices */
    size_t    nidx, idx_cap;
    size_t    nent, nvals;
    size_t    plain_equiv;          /* PLAIN size of the dictionary-encoded values */
};

struct column {
    /* from the schema */
    struct pq_step steps[PQ_MAX_STEPS];
    size_t nsteps, top;
    const struct ingest_field *field;
    char  **path;
    size_t path_len;
    int    ptype;
    size_t width;                   /* physical bytes per value (0: BYTE_ARRAY) */
    enum conv conv;
    int    max_def, max_rep, repeated;
    int    dict_ok;
    /* the open page and the row group's chunk */
    struct page pg;
    struct pq_dict dict;
    int    dict_on, first_checked, used_plain, used_dict;
    struct ingest_buf chunk;        /* data pages: headers and bodies */
    int64_t num_values, unc, comp;
    int64_t file_values;            /* num_values of the chunks already written */
    struct pq_stats st, fst;        /* this chunk, the whole file */
    uint8_t *phys;                  /* gathered physical values */
    size_t phys_cap;
};

struct ingest_parquet_writer {
    const struct ingest_schema *schema;
    int    fd, own_fd;
    char  *path;
    int    codec, zstd_level, dict_off;
    size_t row_group_bytes, page_bytes, dict_max, stats_max;
    char  *created_by;
    struct pqw_kv *kv;
    size_t nkv;
    struct pqw_schema_element *se;
    size_t nse, se_cap;
    struct column *cols;
    size_t ncols, cols_cap;
    struct pq_levels lv;
    struct ingest_buf pbuf, cbuf, hbuf;   /* page body, compressed body, header */
    struct ingest_buf rgmeta, colmeta;    /* serialized RowGroups, one group's ColumnChunks */
    struct pq_compressor comp;            /* page compression, context kept between pages */
    size_t  nrg;
    int64_t rows, rg_rows;
    uint64_t pos;
    int    err;
};

/* --- schema ---------------------------------------------------------------- */

static int flba_width(int precision)
{
    __int128 maxv = 1;
    for (int i = 0; i < precision; i++)
        maxv *= 10;
    maxv -= 1;
    for (int n = 1; n <= 16; n++) {
        unsigned __int128 lim = ((unsigned __int128)1 << (8 * n - 1)) - 1;
        if ((unsigned __int128)maxv <= lim)
            return n;
    }
    return 16;
}

static struct pqw_schema_element *add_se(struct ingest_parquet_writer *w, const char *name,
                                         int repetition)
{
    if (w->nse == w->se_cap) {
        size_t cap = w->se_cap ? w->se_cap * 2 : 16;
        void *p = realloc(w->se, cap * sizeof *w->se);
        if (!p)
            return NULL;
        w->se = p;
        w->se_cap = cap;
    }
    struct pqw_schema_element *se = &w->se[w->nse++];
    memset(se, 0, sizeof *se);
    se->type = -1;
    se->repetition = repetition;
    se->name = name;
    se->num_children = -1;
    se->converted = -1;
    return se;
}

/* Fills a leaf's SchemaElement and its column's physical layout. */
static int leaf_type(const struct ingest_field *f, struct pqw_schema_element *se,
                     struct column *c, char *errbuf, size_t errlen)
{
    c->conv = CV_NONE;
    switch (f->type) {
    case INGEST_TYPE_BOOLEAN: se->type = PQW_BOOLEAN; c->width = 1; break;
    case INGEST_TYPE_INT8:
    case INGEST_TYPE_INT16:
        se->type = PQW_INT32;
        c->width = 4;
        c->conv = f->type == INGEST_TYPE_INT8 ? CV_I8 : CV_I16;
        se->converted = f->type == INGEST_TYPE_INT8 ? PQW_CT_INT_8 : PQW_CT_INT_16;
        se->logical = PQW_LT_INTEGER;
        se->lt_int_bits = f->type == INGEST_TYPE_INT8 ? 8 : 16;
        break;
    case INGEST_TYPE_INT32: se->type = PQW_INT32; c->width = 4; break;
    case INGEST_TYPE_INT64: se->type = PQW_INT64; c->width = 8; break;
    case INGEST_TYPE_FLOAT: se->type = PQW_FLOAT; c->width = 4; break;
    case INGEST_TYPE_DOUBLE: se->type = PQW_DOUBLE; c->width = 8; break;
    case INGEST_TYPE_STRING:
        se->type = PQW_BYTE_ARRAY;
        se->converted = PQW_CT_UTF8;
        se->logical = PQW_LT_STRING;
        break;
    case INGEST_TYPE_BINARY: se->type = PQW_BYTE_ARRAY; break;
    case INGEST_TYPE_DATE:
        se->type = PQW_INT32;
        c->width = 4;
        se->converted = PQW_CT_DATE;
        se->logical = PQW_LT_DATE;
        break;
    case INGEST_TYPE_TIMESTAMP:
        se->type = PQW_INT64;
        c->width = 8;
        se->converted = PQW_CT_TIMESTAMP_MICROS;
        se->logical = PQW_LT_TIMESTAMP;
        break;
    case INGEST_TYPE_DECIMAL:
        if (f->precision < 1 || f->precision > 38 || f->scale < 0 || f->scale > f->precision) {
            snprintf(errbuf, errlen, "column %s: decimal(%d,%d) is not supported", f->name,
                     f->precision, f->scale);
            return INGEST_EINVAL;
        }
        se->converted = PQW_CT_DECIMAL;
        se->logical = PQW_LT_DECIMAL;
        se->scale = f->scale;
        se->precision = f->precision;
        if (f->precision <= 9) {
            se->type = PQW_INT32;
            c->width = 4;
            c->conv = CV_DEC32;
        } else if (f->precision <= 18) {
            se->type = PQW_INT64;
            c->width = 8;
        } else {
            se->type = PQW_FLBA;
            se->type_length = flba_width(f->precision);
            c->width = (size_t)se->type_length;
            c->conv = CV_DEC128;
        }
        break;
    default:
        snprintf(errbuf, errlen, "column %s: type %s is not a leaf type", f->name,
                 ingest_type_name(f->type));
        return INGEST_EINVAL;
    }
    c->ptype = se->type;
    return 0;
}

struct walk {
    struct pq_step steps[PQ_MAX_STEPS];
    const char *path[PQ_MAX_STEPS * 2];
    size_t top;
};

static int add_leaf(struct ingest_parquet_writer *w, struct walk *wk, size_t nsteps,
                    size_t plen, const struct ingest_field *f, int def, int rep,
                    char *errbuf, size_t errlen)
{
    if (w->ncols == w->cols_cap) {
        size_t cap = w->cols_cap ? w->cols_cap * 2 : 8;
        void *p = realloc(w->cols, cap * sizeof *w->cols);
        if (!p)
            return INGEST_ENOMEM;
        w->cols = p;
        w->cols_cap = cap;
    }
    struct column *c = &w->cols[w->ncols];
    memset(c, 0, sizeof *c);
    w->ncols++;
    memcpy(c->steps, wk->steps, nsteps * sizeof c->steps[0]);
    c->nsteps = nsteps;
    c->top = wk->top;
    c->field = f;
    c->max_def = def;
    c->max_rep = rep;
    c->repeated = rep > 0;
    c->path = calloc(plen, sizeof *c->path);
    if (!c->path)
        return INGEST_ENOMEM;
    c->path_len = plen;
    for (size_t i = 0; i < plen; i++)
        if (!(c->path[i] = strdup(wk->path[i])))
            return INGEST_ENOMEM;
    struct pqw_schema_element *se = &w->se[w->nse - 1];
    int rc = leaf_type(f, se, c, errbuf, errlen);
    if (rc < 0)
        return rc;
    c->dict_ok = !w->dict_off && c->ptype != PQW_BOOLEAN;
    c->dict_on = c->dict_ok;
    pq_dict_init(&c->dict, c->ptype == PQW_BYTE_ARRAY ? 0 : c->width);
    enum pq_stats_kind k = c->ptype == PQW_BOOLEAN ? PQS_BOOL
                         : c->ptype == PQW_FLOAT || c->ptype == PQW_DOUBLE ? PQS_FLOAT
                         : c->ptype == PQW_BYTE_ARRAY ? PQS_BYTES
                         : c->ptype == PQW_FLBA ? PQS_DEC : PQS_INT;
    int utf8 = f->type == INGEST_TYPE_STRING;
    pq_stats_init(&c->st, k, utf8, w->stats_max);
    pq_stats_init(&c->fst, k, utf8, w->stats_max);
    return 0;
}

/* Adds field f (Parquet name `name`) at step depth d, path length plen. */
static int add_field(struct ingest_parquet_writer *w, struct walk *wk, size_t d, size_t plen,
                     const struct ingest_field *f, const char *name, int nullable, int def,
                     int rep, char *errbuf, size_t errlen)
{
    if (d + 1 >= PQ_MAX_STEPS || def + 2 > MAX_LEVEL) {
        snprintf(errbuf, errlen, "column %s: nesting too deep", f->name);
        return INGEST_EINVAL;
    }
    struct pq_step *st = &wk->steps[d];
    memset(st, 0, sizeof *st);
    st->nullable = nullable;
    wk->path[plen++] = name;
    if (nullable)
        def++;
    struct pqw_schema_element *se = add_se(w, name, nullable ? PQW_OPTIONAL : PQW_REQUIRED);
    if (!se)
        return INGEST_ENOMEM;
    int rc;
    switch (f->type) {
    case INGEST_TYPE_STRUCT:
        if (f->nchildren == 0) {
            snprintf(errbuf, errlen, "column %s: a struct needs at least one field", f->name);
            return INGEST_EINVAL;
        }
        se->num_children = (int32_t)f->nchildren;
        st->kind = PQ_STEP_STRUCT;
        for (size_t k = 0; k < f->nchildren; k++) {
            wk->steps[d].child = k;
            const struct ingest_field *cf = &f->children[k];
            rc = add_field(w, wk, d + 1, plen, cf, cf->name, cf->nullable, def, rep, errbuf,
                           errlen);
            if (rc < 0)
                return rc;
        }
        return 0;
    case INGEST_TYPE_LIST:
    case INGEST_TYPE_MAP: {
        int is_map = f->type == INGEST_TYPE_MAP;
        if (f->nchildren != (is_map ? 2u : 1u)) {
            snprintf(errbuf, errlen, "column %s: a %s needs %d child field(s)", f->name,
                     is_map ? "map" : "list", is_map ? 2 : 1);
            return INGEST_EINVAL;
        }
        se->num_children = 1;
        se->converted = is_map ? PQW_CT_MAP : PQW_CT_LIST;
        se->logical = is_map ? PQW_LT_MAP : PQW_LT_LIST;
        struct pqw_schema_element *rse = add_se(w, is_map ? "key_value" : "list", PQW_REPEATED);
        if (!rse)
            return INGEST_ENOMEM;
        rse->num_children = is_map ? 2 : 1;
        st->kind = is_map ? PQ_STEP_MAP : PQ_STEP_LIST;
        st->rep_level = (uint8_t)(rep + 1);
        wk->path[plen++] = is_map ? "key_value" : "list";
        for (size_t k = 0; k < f->nchildren; k++) {
            wk->steps[d].child = k;
            const struct ingest_field *cf = &f->children[k];
            const char *cname = is_map ? (k == 0 ? "key" : "value") : "element";
            int cnull = is_map && k == 0 ? 0 : cf->nullable;
            rc = add_field(w, wk, d + 1, plen, cf, cname, cnull, def + 1, rep + 1, errbuf,
                           errlen);
            if (rc < 0)
                return rc;
        }
        return 0;
    }
    default:
        st->kind = PQ_STEP_LEAF;
        return add_leaf(w, wk, d + 1, plen, f, def, rep, errbuf, errlen);
    }
}

static int build_schema(struct ingest_parquet_writer *w, char *errbuf, size_t errlen)
{
    const struct ingest_schema *s = w->schema;
    struct pqw_schema_element *root = add_se(w, "schema", -1);
    if (!root)
        return INGEST_ENOMEM;
    root->num_children = (int32_t)s->nfields;
    if (s->nfields == 0) {
        snprintf(errbuf, errlen, "schema has no fields");
        return INGEST_EINVAL;
    }
    struct walk wk;
    for (size_t i = 0; i < s->nfields; i++) {
        wk.top = i;
        const struct ingest_field *f = &s->fields[i];
        int rc = add_field(w, &wk, 0, 0, f, f->name, f->nullable, 0, 0, errbuf, errlen);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* --- output ------------------------------------------------------------------- */

static int write_all(struct ingest_parquet_writer *w, const void *p, size_t n)
{
    const char *s = p;
    while (n) {
        ssize_t k = write(w->fd, s, n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return w->err = ingest_err_from_errno(errno);
        }
        s += k;
        n -= (size_t)k;
        w->pos += (uint64_t)k;
    }
    return 0;
}

/* Compresses body into w->cbuf (or not) and appends header + body to out.
 * Returns the header + compressed size through *comp. */
static int emit_page(struct ingest_parquet_writer *w, struct ingest_buf *out,
                     struct pqw_page_header *ph, const struct ingest_buf *body,
                     int64_t *unc, int64_t *comp)
{
    const struct ingest_buf *stored = body;
    if (body->len > INT32_MAX)
        return INGEST_ERANGE;
    if (w->codec != PQ_CODEC_UNCOMPRESSED) {
        ingest_buf_reset(&w->cbuf);
        int rc = pq_compress(&w->comp, body->data, body->len, &w->cbuf);
        if (rc < 0)
            return rc;
        stored = &w->cbuf;
    }
    ph->uncompressed_size = (int32_t)body->len;
    ph->compressed_size = (int32_t)stored->len;
    ingest_buf_reset(&w->hbuf);
    pqw_put_page_header(&w->hbuf, ph);
    ingest_buf_append(out, w->hbuf.data, w->hbuf.len);
    ingest_buf_append(out, stored->data, stored->len);
    if (w->hbuf.oom || out->oom)
        return INGEST_ENOMEM;
    *unc += (int64_t)(w->hbuf.len + body->len);
    *comp += (int64_t)(w->hbuf.len + stored->len);
    return 0;
}

/* Appends a 4-byte length prefix and the RLE levels to w->pbuf. */
static void put_levels(struct ingest_buf *b, const struct ingest_buf *lv, int max)
{
    size_t at = b->len;
    uint8_t zero[4] = { 0 };
    ingest_buf_append(b, zero, 4);
    pq_rle_encode_u8(b, (const uint8_t *)lv->data, lv->len, pq_bit_width((uint64_t)max));
    if (b->oom)
        return;
    uint32_t n = (uint32_t)(b->len - at - 4);
    uint8_t le[4] = { (uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16), (uint8_t)(n >> 24) };
    memcpy(b->data + at, le, 4);
}

static size_t page_estimate(const struct column *c)
{
    size_t bw = (size_t)pq_bit_width(c->dict.n) + 1;
    return c->pg.vals.len + c->pg.nidx * bw / 8 + (c->pg.def.len + c->pg.rep.len) / 4;
}

static void page_reset(struct page *pg)
{
    ingest_buf_reset(&pg->def);
    ingest_buf_reset(&pg->rep);
    ingest_buf_reset(&pg->vals);
    pg->bool_bits = pg->nidx = pg->nent = pg->nvals = pg->plain_equiv = 0;
}

static int page_flush(struct ingest_parquet_writer *w, struct column *c)
{
    struct page *pg = &c->pg;
    if (pg->nent == 0)
        return 0;
    if (pg->nent > INT32_MAX)
        return INGEST_ERANGE;
    struct ingest_buf *b = &w->pbuf;
    ingest_buf_reset(b);
    if (c->max_rep)
        put_levels(b, &pg->rep, c->max_rep);
    if (c->max_def)
        put_levels(b, &pg->def, c->max_def);
    struct pqw_page_header ph = { .type = PQW_DATA_PAGE, .num_values = (int32_t)pg->nent };
    int is_dict = pg->nidx > 0;
    size_t idx_bytes = 0;
    if (is_dict) {
        uint32_t mx = 0;
        for (size_t j = 0; j < pg->nidx; j++)
            mx = pg->idx[j] > mx ? pg->idx[j] : mx;
        int bw = pq_bit_width(mx);
        bw = bw ? bw : 1;
        uint8_t bwb = (uint8_t)bw;
        size_t at = b->len;
        ingest_buf_append(b, &bwb, 1);
        pq_rle_encode_u32(b, pg->idx, pg->nidx, bw);
        idx_bytes = b->len - at;
        ph.encoding = PQW_ENC_RLE_DICTIONARY;
        c->used_dict = 1;
    } else {
        ingest_buf_append(b, pg->vals.data, pg->vals.len);
        ph.encoding = PQW_ENC_PLAIN;
        c->used_plain = 1;
    }
    if (b->oom)
        return INGEST_ENOMEM;
    int rc = emit_page(w, &c->chunk, &ph, b, &c->unc, &c->comp);
    if (rc < 0)
        return rc;
    c->num_values += (int64_t)pg->nent;
    if (is_dict && !c->first_checked) {
        c->first_checked = 1;
        if (c->dict.plain.len + idx_bytes >= pg->plain_equiv)
            c->dict_on = 0;
    }
    page_reset(pg);
    return 0;
}

/* --- values ----------------------------------------------------------------------- */

static int reserve_phys(struct column *c, size_t bytes)
{
    if (bytes <= c->phys_cap)
        return 0;
    size_t cap = c->phys_cap ? c->phys_cap : 4096;
    while (cap < bytes)
        cap *= 2;
    void *p = realloc(c->phys, cap);
    if (!p)
        return INGEST_ENOMEM;
    c->phys = p;
    c->phys_cap = cap;
    return 0;
}

/* The slice's values in physical form, contiguous (c->width bytes each):
 * the batch's own buffer when possible, else gathered into c->phys. */
static const uint8_t *gather(struct column *c, const struct ingest_vector *leaf,
                             const struct pq_levels *lv)
{
    size_t n = lv->nv;
    const uint8_t *src = leaf->values;
    if (c->conv == CV_NONE && lv->contig)
        return src + lv->base * c->width;
    if (reserve_phys(c, n * c->width + 1) < 0)
        return NULL;
    const uint32_t *ix = lv->vidx;
    size_t base = lv->base;
    int contig = lv->contig;
#define AT(j) (contig ? base + (j) : ix[j])
    switch (c->conv) {
    case CV_NONE:
        if (c->width == 4) {
            uint32_t *o = (uint32_t *)c->phys;
            const uint32_t *s = (const uint32_t *)src;
            for (size_t j = 0; j < n; j++)
                o[j] = s[ix[j]];
        } else if (c->width == 8) {
            uint64_t *o = (uint64_t *)c->phys;
            const uint64_t *s = (const uint64_t *)src;
            for (size_t j = 0; j < n; j++)
                o[j] = s[ix[j]];
        } else {
            for (size_t j = 0; j < n; j++)
                c->phys[j] = src[ix[j]];
        }
        break;
    case CV_I8: {
        int32_t *o = (int32_t *)c->phys;
        for (size_t j = 0; j < n; j++)
            o[j] = ((const int8_t *)src)[AT(j)];
        break;
    }
    case CV_I16: {
        int32_t *o = (int32_t *)c->phys;
        for (size_t j = 0; j < n; j++)
            o[j] = ((const int16_t *)src)[AT(j)];
        break;
    }
    case CV_DEC32: {
        int32_t *o = (int32_t *)c->phys;
        for (size_t j = 0; j < n; j++)
            o[j] = (int32_t)((const int64_t *)src)[AT(j)];
        break;
    }
    case CV_DEC128: {
        size_t wd = c->width;
        for (size_t j = 0; j < n; j++) {
            const uint8_t *le = src + (size_t)AT(j) * 16;
            uint8_t *be = c->phys + j * wd;
            for (size_t k = 0; k < wd; k++)
                be[k] = le[wd - 1 - k];
        }
        break;
    }
    }
#undef AT
    return c->phys;
}

static void fold_stats(struct column *c, const uint8_t *p, size_t n)
{
    switch (c->ptype) {
    case PQW_BOOLEAN: pq_stats_bool(&c->st, p, n); break;
    case PQW_INT32: pq_stats_i32(&c->st, (const int32_t *)p, n); break;
    case PQW_INT64: pq_stats_i64(&c->st, (const int64_t *)p, n); break;
    case PQW_FLOAT: pq_stats_f32(&c->st, (const float *)p, n); break;
    case PQW_DOUBLE: pq_stats_f64(&c->st, (const double *)p, n); break;
    case PQW_FLBA: pq_stats_dec_be(&c->st, p, c->width, n); break;
    }
}

static int reserve_idx(struct page *pg, size_t n)
{
    if (pg->nidx + n <= pg->idx_cap)
        return 0;
    size_t cap = pg->idx_cap ? pg->idx_cap : 4096;
    while (cap < pg->nidx + n)
        cap *= 2;
    void *p = realloc(pg->idx, cap * sizeof *pg->idx);
    if (!p)
        return INGEST_ENOMEM;
    pg->idx = p;
    pg->idx_cap = cap;
    return 0;
}

static int put_bytes_values(struct column *c, const struct ingest_vector *leaf,
                            const struct pq_levels *lv)
{
    struct page *pg = &c->pg;
    size_t n = lv->nv;
    const uint32_t *ix = lv->contig ? NULL : lv->vidx;
    const uint32_t *off = leaf->offsets;
    const uint8_t *data = leaf->data;
    pq_stats_bytes(&c->st, off, data, ix, lv->base, n);
    size_t total = 0;
    for (size_t j = 0; j < n; j++) {
        size_t k = ix ? ix[j] : lv->base + j;
        total += 4 + (size_t)(off[k + 1] - off[k]);
    }
    if (c->dict_on) {
        if (reserve_idx(pg, n) < 0)
            return INGEST_ENOMEM;
        int rc = pq_dict_add_bytes(&c->dict, off, data, ix, lv->base, n, pg->idx + pg->nidx);
        if (rc < 0)
            return rc;
        pg->nidx += n;
        pg->plain_equiv += total;
        return 0;
    }
    if (ingest_buf_reserve(&pg->vals, total) < 0)
        return INGEST_ENOMEM;
    uint8_t *o = (uint8_t *)pg->vals.data + pg->vals.len;
    for (size_t j = 0; j < n; j++) {
        size_t k = ix ? ix[j] : lv->base + j;
        uint32_t len = off[k + 1] - off[k];
        memcpy(o, &len, 4);     /* little-endian host (x86-64, aarch64) */
        memcpy(o + 4, data + off[k], len);
        o += 4 + len;
    }
    pg->vals.len += total;
    pg->vals.data[pg->vals.len] = '\0';
    return 0;
}

static int put_values(struct column *c, const struct ingest_vector *leaf,
                      const struct pq_levels *lv)
{
    if (lv->nv == 0)
        return 0;
    if (c->ptype == PQW_BYTE_ARRAY)
        return put_bytes_values(c, leaf, lv);
    const uint8_t *p = gather(c, leaf, lv);
    if (!p)
        return INGEST_ENOMEM;
    size_t n = lv->nv;
    fold_stats(c, p, n);
    struct page *pg = &c->pg;
    if (c->dict_on) {
        if (reserve_idx(pg, n) < 0)
            return INGEST_ENOMEM;
        int rc = pq_dict_add_fixed(&c->dict, p, n, pg->idx + pg->nidx);
        if (rc < 0)
            return rc;
        pg->nidx += n;
        pg->plain_equiv += n * c->width;
        return 0;
    }
    if (c->ptype == PQW_BOOLEAN)
        pq_plain_bools(&pg->vals, &pg->bool_bits, p, n);
    else
        ingest_buf_append(&pg->vals, p, n * c->width);
    return pg->vals.oom ? INGEST_ENOMEM : 0;
}

static int col_append(struct ingest_parquet_writer *w, struct column *c,
                      const struct ingest_vector *top, size_t row0, size_t nrows)
{
    struct pq_levels *lv = &w->lv;
    int rc = pq_shred(c->steps, c->nsteps, top, row0, nrows, lv);
    if (rc < 0)
        return rc;
    struct page *pg = &c->pg;
    if (c->max_rep)
        ingest_buf_append(&pg->rep, lv->rep, lv->n);
    if (c->max_def)
        ingest_buf_append(&pg->def, lv->def, lv->n);
    if (pg->rep.oom || pg->def.oom)
        return INGEST_ENOMEM;
    pg->nent += lv->n;
    pg->nvals += lv->nv;
    c->st.null_count += (int64_t)(lv->n - lv->nv);
    rc = put_values(c, pq_leaf_vector(c->steps, c->nsteps, top), lv);
    if (rc < 0)
        return rc;
    /* Mostly distinct values: decide on the dictionary now, not a page later. */
    if (c->dict_on && !c->first_checked && pg->nidx >= 8192 && (size_t)c->dict.n * 4 > pg->nidx * 3)
        return page_flush(w, c);
    if (c->dict_on && c->dict.plain.len > w->dict_max) {
        rc = page_flush(w, c);
        c->dict_on = 0;
        return rc;
    }
    if (page_estimate(c) >= w->page_bytes)
        return page_flush(w, c);
    return 0;
}

/* --- row groups ---------------------------------------------------------------------- */

static size_t row_group_estimate(const struct ingest_parquet_writer *w)
{
    size_t n = 0;
    for (size_t i = 0; i < w->ncols; i++) {
        const struct column *c = &w->cols[i];
        n += (size_t)c->unc + page_estimate(c) + c->dict.plain.len;
    }
    return n;
}

/* Writes one column chunk and serializes its ColumnChunk into w->colmeta. */
static int chunk_flush(struct ingest_parquet_writer *w, struct column *c, int64_t *rg_unc,
                       int64_t *rg_comp)
{
    int rc = page_flush(w, c);
    if (rc < 0)
        return rc;
    int64_t dict_off = -1;
    if (c->used_dict) {
        if (c->dict.plain.oom)
            return INGEST_ENOMEM;
        struct pqw_page_header ph = { .type = PQW_DICTIONARY_PAGE,
                                      .num_values = (int32_t)c->dict.n,
                                      .encoding = PQW_ENC_PLAIN };
        ingest_buf_reset(&w->pbuf);
        rc = emit_page(w, &w->pbuf, &ph, &c->dict.plain, &c->unc, &c->comp);
        if (rc < 0)
            return rc;
        dict_off = (int64_t)w->pos;
        if ((rc = write_all(w, w->pbuf.data, w->pbuf.len)) < 0)
            return rc;
    }
    int64_t data_off = (int64_t)w->pos;
    if ((rc = write_all(w, c->chunk.data, c->chunk.len)) < 0)
        return rc;

    int enc[3];
    size_t nenc = 0;
    if (c->used_plain || c->used_dict)
        enc[nenc++] = PQW_ENC_PLAIN;
    enc[nenc++] = PQW_ENC_RLE;
    if (c->used_dict)
        enc[nenc++] = PQW_ENC_RLE_DICTIONARY;
    uint8_t minb[16], maxb[16];
    struct pqw_statistics st = { .null_count = c->st.null_count };
    if (c->ptype == PQW_FLOAT || c->ptype == PQW_DOUBLE) {
        st.has_nan_count = 1;
        st.nan_count = c->st.nan_count;
    }
    if (pq_stats_has_minmax(&c->st)) {
        pq_stats_plain(&c->st, c->ptype, c->width, minb, maxb, &st.min, &st.min_len, &st.max,
                       &st.max_len);
        st.has_min = st.has_max = 1;
        st.min_exact = c->st.min_exact;
        st.max_exact = c->st.max_exact;
    }
    struct pqw_column_meta cm = {
        .type = c->ptype, .encodings = enc, .nencodings = nenc,
        .path = (const char *const *)c->path, .path_len = c->path_len, .codec = w->codec,
        .num_values = c->num_values, .total_uncompressed = c->unc,
        .total_compressed = c->comp, .data_page_offset = data_off,
        .dictionary_page_offset = dict_off, .stats = &st,
    };
    struct tw t;
    tw_init(&t, &w->colmeta);
    pqw_put_column_chunk(&t, &cm);
    *rg_unc += c->unc;
    *rg_comp += c->comp;

    c->file_values += c->num_values;
    pq_stats_merge(&c->fst, &c->st);
    pq_stats_reset(&c->st);
    ingest_buf_reset(&c->chunk);
    pq_dict_reset(&c->dict);
    c->dict_on = c->dict_ok;
    c->first_checked = c->used_plain = c->used_dict = 0;
    c->num_values = c->unc = c->comp = 0;
    return w->colmeta.oom || c->fst.bmin.oom || c->fst.bmax.oom ? INGEST_ENOMEM : 0;
}

static int row_group_flush(struct ingest_parquet_writer *w)
{
    if (w->rg_rows == 0)
        return 0;
    if (w->nrg >= INT16_MAX)
        return INGEST_ERANGE;
    int64_t start = (int64_t)w->pos, unc = 0, comp = 0;
    ingest_buf_reset(&w->colmeta);
    for (size_t i = 0; i < w->ncols; i++) {
        int rc = chunk_flush(w, &w->cols[i], &unc, &comp);
        if (rc < 0)
            return rc;
    }
    pqw_put_row_group(&w->rgmeta, &w->colmeta, w->ncols, unc, w->rg_rows, start, comp,
                      (int16_t)w->nrg);
    if (w->rgmeta.oom)
        return INGEST_ENOMEM;
    w->nrg++;
    w->rg_rows = 0;
    return 0;
}

/* --- public ---------------------------------------------------------------------------------- */

static void writer_free(struct ingest_parquet_writer *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->ncols; i++) {
        struct column *c = &w->cols[i];
        for (size_t k = 0; c->path && k < c->path_len; k++)
            free(c->path[k]);
        free(c->path);
        ingest_buf_free(&c->pg.def);
        ingest_buf_free(&c->pg.rep);
        ingest_buf_free(&c->pg.vals);
        free(c->pg.idx);
        pq_dict_free(&c->dict);
        ingest_buf_free(&c->chunk);
        pq_stats_free(&c->st);
        pq_stats_free(&c->fst);
        free(c->phys);
    }
    free(w->cols);
    free(w->se);
    for (size_t i = 0; i < w->nkv; i++) {
        free((char *)w->kv[i].key);
        free((char *)w->kv[i].value);
    }
    free(w->kv);
    free(w->created_by);
    pq_levels_free(&w->lv);
    ingest_buf_free(&w->pbuf);
    ingest_buf_free(&w->cbuf);
    ingest_buf_free(&w->hbuf);
    ingest_buf_free(&w->rgmeta);
    ingest_buf_free(&w->colmeta);
    pq_compressor_free(&w->comp);
    if (w->own_fd && w->fd >= 0)
        close(w->fd);
    free(w->path);
    free(w);
}

static struct ingest_parquet_writer *writer_new(int fd, const char *path,
                                                const struct ingest_schema *schema,
                                                const struct ingest_parquet_opts *opts,
                                                char *errbuf, size_t errlen)
{
    static const struct ingest_parquet_opts defaults;
    if (!opts)
        opts = &defaults;
    if (errlen)
        errbuf[0] = '\0';
    struct ingest_parquet_writer *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(errbuf, errlen, "out of memory");
        return NULL;
    }
    w->fd = -1;
    w->schema = schema;
    w->codec = opts->codec;
    w->zstd_level = opts->zstd_level ? opts->zstd_level : 3;
    w->row_group_bytes = opts->row_group_bytes ? opts->row_group_bytes : (size_t)128 << 20;
    w->page_bytes = opts->page_bytes ? opts->page_bytes : (size_t)1 << 20;
    w->dict_max = opts->dict_max_bytes ? opts->dict_max_bytes : (size_t)1 << 20;
    w->dict_off = opts->no_dictionary;
    w->stats_max = opts->stats_max_bytes ? opts->stats_max_bytes : 64;
    if (w->codec != PQ_CODEC_UNCOMPRESSED && w->codec != PQ_CODEC_SNAPPY &&
        w->codec != PQ_CODEC_ZSTD) {
        snprintf(errbuf, errlen, "codec %d is not supported (0 none, 1 snappy, 6 zstd)",
                 opts->codec);
        goto fail;
    }
    pq_compressor_init(&w->comp, (enum pq_codec)w->codec, w->zstd_level);
    w->created_by = strdup(opts->created_by ? opts->created_by
                           : "ingestd version " INGEST_VERSION " (build " INGEST_BUILD ")");
    if (!w->created_by)
        goto oom;
    if (opts->nkv) {
        if (!(w->kv = calloc(opts->nkv, sizeof *w->kv)))
            goto oom;
        for (size_t i = 0; i < opts->nkv; i++, w->nkv++) {
            w->kv[i].key = strdup(opts->kv[i].key);
            w->kv[i].value = opts->kv[i].value ? strdup(opts->kv[i].value) : NULL;
            if (!w->kv[i].key || (opts->kv[i].value && !w->kv[i].value)) {
                w->nkv++;
                goto oom;
            }
        }
    }
    int rc = build_schema(w, errbuf, errlen);
    if (rc == INGEST_ENOMEM)
        goto oom;
    if (rc < 0)
        goto fail;
    if (path) {
        if (!(w->path = strdup(path)))
            goto oom;
        w->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (w->fd < 0) {
            snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
            free(w->path);
            w->path = NULL;
            goto fail;
        }
        w->own_fd = 1;
    } else {
        w->fd = fd;
    }
    if (write_all(w, "PAR1", 4) < 0) {
        snprintf(errbuf, errlen, "%s: write: %s", path ? path : "fd", ingest_strerror(w->err));
        goto fail;
    }
    return w;
oom:
    snprintf(errbuf, errlen, "out of memory");
fail:
    ingest_parquet_writer_abort(w);
    return NULL;
}

struct ingest_parquet_writer *ingest_parquet_writer_open(const char *path,
                                                         const struct ingest_schema *schema,
                                                         const struct ingest_parquet_opts *opts,
                                                         char *errbuf, size_t errlen)
{
    return writer_new(-1, path, schema, opts, errbuf, errlen);
}

struct ingest_parquet_writer *ingest_parquet_writer_open_fd(int fd,
                                                            const struct ingest_schema *schema,
                                                            const struct ingest_parquet_opts *opts,
                                                            char *errbuf, size_t errlen)
{
    return writer_new(fd, NULL, schema, opts, errbuf, errlen);
}

int ingest_parquet_writer_write(struct ingest_parquet_writer *w, const struct ingest_batch *batch)
{
    if (w->err)
        return w->err;
    if (batch->nrows == 0)
        return 0;
    if (!batch->schema || batch->schema->nfields != w->schema->nfields || !batch->columns)
        return INGEST_EINVAL;
    for (size_t i = 0; i < w->schema->nfields; i++)
        if (batch->columns[i].length < batch->nrows)
            return INGEST_EINVAL;
    for (size_t r = 0; r < batch->nrows; r += SLICE_ROWS) {
        size_t n = batch->nrows - r < SLICE_ROWS ? batch->nrows - r : SLICE_ROWS;
        for (size_t i = 0; i < w->ncols; i++) {
            struct column *c = &w->cols[i];
            int rc = col_append(w, c, &batch->columns[c->top], r, n);
            if (rc < 0)
                return w->err = rc;
        }
        w->rg_rows += (int64_t)n;
        w->rows += (int64_t)n;
        if (row_group_estimate(w) >= w->row_group_bytes) {
            int rc = row_group_flush(w);
            if (rc < 0)
                return w->err = rc;
        }
    }
    return 0;
}

static void value_out(const struct column *c, const struct pq_stats *s, int is_min,
                      struct ingest_parquet_value *v, uint8_t **owned)
{
    memset(v, 0, sizeof *v);
    switch (s->kind) {
    case PQS_INT:
    case PQS_BOOL:
        v->i = is_min ? s->imin : s->imax;
        break;
    case PQS_FLOAT:
        v->d = is_min ? (s->dmin == 0 ? -0.0 : s->dmin) : (s->dmax == 0 ? 0.0 : s->dmax);
        break;
    case PQS_DEC: {
        unsigned __int128 u = (unsigned __int128)(is_min ? s->qmin : s->qmax);
        for (int k = 0; k < 16; k++)
            v->dec[k] = (uint8_t)(u >> (8 * k));
        break;
    }
    case PQS_BYTES: {
        const struct ingest_buf *b = is_min ? &s->bmin : &s->bmax;
        *owned = malloc(b->len + 1);
        if (*owned) {
            if (b->len)
                memcpy(*owned, b->data, b->len);
            v->bytes = *owned;
            v->len = b->len;
        }
        break;
    }
    }
    (void)c;
}

static int fill_info(struct ingest_parquet_writer *w, struct ingest_parquet_file_info *info)
{
    memset(info, 0, sizeof *info);
    info->num_rows = w->rows;
    info->file_size = w->pos;
    info->num_row_groups = w->nrg;
    info->columns = calloc(w->ncols ? w->ncols : 1, sizeof *info->columns);
    if (!info->columns)
        return INGEST_ENOMEM;
    info->ncolumns = w->ncols;
    for (size_t i = 0; i < w->ncols; i++) {
        const struct column *c = &w->cols[i];
        struct ingest_parquet_column_info *ci = &info->columns[i];
        ci->field = c->field;
        ci->repeated = c->repeated;
        ci->num_values = c->file_values;
        ci->null_count = c->fst.null_count;
        ci->nan_count = c->fst.nan_count;
        ci->path = calloc(c->path_len, sizeof *ci->path);
        if (!ci->path)
            return INGEST_ENOMEM;
        ci->path_len = c->path_len;
        for (size_t k = 0; k < c->path_len; k++)
            if (!(ci->path[k] = strdup(c->path[k])))
                return INGEST_ENOMEM;
        if (pq_stats_has_minmax(&c->fst)) {
            uint8_t *a = NULL, *b = NULL;
            value_out(c, &c->fst, 1, &ci->min, &a);
            value_out(c, &c->fst, 0, &ci->max, &b);
            if (c->fst.kind == PQS_BYTES && (!a || !b)) {
                free(a);
                free(b);
                return INGEST_ENOMEM;
            }
            ci->has_min_max = 1;
            ci->min_exact = c->fst.min_exact;
            ci->max_exact = c->fst.max_exact;
        }
    }
    return 0;
}

int ingest_parquet_writer_close(struct ingest_parquet_writer *w,
                                struct ingest_parquet_file_info *info)
{
    if (info)
        memset(info, 0, sizeof *info);
    int rc = w->err;
    if (rc == 0)
        rc = row_group_flush(w);
    if (rc == 0) {
        ingest_buf_reset(&w->hbuf);
        pqw_put_file_meta(&w->hbuf, w->se, w->nse, w->rows, &w->rgmeta, w->nrg, w->kv,
                          w->nkv, w->created_by, w->ncols);
        uint32_t n = (uint32_t)w->hbuf.len;
        uint8_t tail[8] = { (uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16),
                            (uint8_t)(n >> 24), 'P', 'A', 'R', '1' };
        ingest_buf_append(&w->hbuf, tail, 8);
        rc = w->hbuf.oom ? INGEST_ENOMEM : write_all(w, w->hbuf.data, w->hbuf.len);
    }
    if (rc == 0 && w->own_fd) {
        int fd = w->fd;
        w->fd = -1;
        if (close(fd) < 0 && errno != EINTR)
            rc = ingest_err_from_errno(errno);
    }
    if (rc == 0 && info) {
        rc = fill_info(w, info);
        if (rc < 0)
            ingest_parquet_file_info_free(info);
    }
    if (rc < 0) {
        ingest_parquet_writer_abort(w);
        return rc;
    }
    writer_free(w);
    return 0;
}

void ingest_parquet_writer_abort(struct ingest_parquet_writer *w)
{
    if (!w)
        return;
    if (w->own_fd && w->path) {
        if (w->fd >= 0)
            close(w->fd);
        w->fd = -1;
        unlink(w->path);
    }
    writer_free(w);
}

size_t ingest_parquet_writer_buffered_bytes(const struct ingest_parquet_writer *w)
{
    size_t n = w->lv.cap * 2 + w->lv.vcap * 4 + w->pbuf.cap + w->cbuf.cap + w->hbuf.cap +
               w->rgmeta.cap + w->colmeta.cap;
    for (size_t i = 0; i < w->ncols; i++) {
        const struct column *c = &w->cols[i];
        n += c->pg.def.cap + c->pg.rep.cap + c->pg.vals.cap + c->pg.idx_cap * 4;
        n += c->dict.plain.cap + (size_t)c->dict.cap * 8 +
             (c->dict.slots ? ((size_t)c->dict.mask + 1) * 4 : 0);
        n += c->chunk.cap + c->phys_cap + c->st.bmin.cap + c->st.bmax.cap;
    }
    return n;
}

void ingest_parquet_file_info_free(struct ingest_parquet_file_info *info)
{
    if (!info || !info->columns)
        return;
    for (size_t i = 0; i < info->ncolumns; i++) {
        struct ingest_parquet_column_info *ci = &info->columns[i];
        for (size_t k = 0; ci->path && k < ci->path_len; k++)
            free(ci->path[k]);
        free(ci->path);
        free((void *)ci->min.bytes);
        free((void *)ci->max.bytes);
    }
    free(info->columns);
    memset(info, 0, sizeof *info);
}

int ingest_parquet_fsync_path(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ingest_err_from_errno(errno);
    int rc = fsync(fd) < 0 ? ingest_err_from_errno(errno) : 0;
    close(fd);
    if (rc < 0)
        return rc;
    char *dir = strdup(path);
    if (!dir)
        return INGEST_ENOMEM;
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        strcpy(dir, ".");
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(dir);
    if (fd < 0)
        return ingest_err_from_errno(errno);
    rc = fsync(fd) < 0 ? ingest_err_from_errno(errno) : 0;
    close(fd);
    return rc;
}
